package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// execute runs the Job's pod: its init containers one after another, then
// its containers together. It returns the error of the first container that
// failed and the last line it wrote to stderr.
func (n *Node) execute(ctx context.Context, job *batchv1.Job) (string, error) {
	pod := job.Spec.Template.Spec
	if len(pod.Containers) == 0 {
		return "", errors.New("the Job has no container")
	}
	dir, err := os.MkdirTemp("", "knobs-node-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	volumes, err := n.volumes(job.Namespace, pod.Volumes, filepath.Join(dir, "volumes"))
	if err != nil {
		return "", err
	}
	metrics, err := metricsFolders(pod, n.opts.CollectorImage, filepath.Join(dir, "metrics"))
	if err != nil {
		return "", err
	}
	p := &podRun{ctx: ctx, node: n, job: job, dir: dir, volumes: volumes, metrics: metrics}
	for _, c := range pod.InitContainers {
		if msg, err := p.run(c); err != nil {
			return msg, fmt.Errorf("init container %s: %w", c.Name, err)
		}
	}
	var wg sync.WaitGroup
	msgs := make([]string, len(pod.Containers))
	errs := make([]error, len(pod.Containers))
	for i, c := range pod.Containers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msgs[i], errs[i] = p.run(c)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			if len(pod.Containers) > 1 {
				err = fmt.Errorf("container %s: %w", pod.Containers[i].Name, err)
			}
			return msgs[i], err
		}
	}
	return "", nil
}

// podRun is one run of a Job's pod.
type podRun struct {
	ctx     context.Context // done when the Job is suspended or deleted
	node    *Node
	job     *batchv1.Job
	dir     string            // the pod's own folder
	volumes map[string]string // volume name → local folder
	metrics map[string]string // metrics folder in the pod → local folder
}

// run runs one container to its end.
func (p *podRun) run(c corev1.Container) (string, error) {
	opts := p.node.opts
	paths := p.paths(c)
	var argv []string
	switch {
	case len(c.Command) > 0:
		argv = append(argv, c.Command...)
	case c.Image == opts.CollectorImage:
		if opts.Collector == "" {
			return "", fmt.Errorf("image %s: no knobs-collector binary was given to the node", c.Image)
		}
		argv = append(argv, opts.Collector)
	default:
		if opts.Program == "" {
			return "", fmt.Errorf("image %s: no trial program was given to the node", c.Image)
		}
		argv = append(argv, opts.Program)
	}
	argv = append(argv, c.Args...)
	for i := range argv {
		argv[i] = paths.replace(argv[i])
	}
	cmd := exec.CommandContext(p.ctx, argv[0], argv[1:]...)
	// Killed as a pod is: the container's process and all it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	// What an image sets for every process: a PATH to find programs by and a
	// HOME; the container's own environment comes after, and wins.
	for _, k := range []string{"PATH", "HOME"} {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	for _, e := range c.Env {
		cmd.Env = append(cmd.Env, e.Name+"="+paths.replace(e.Value))
	}
	cmd.Dir = p.dir
	if wd := paths.replace(c.WorkingDir); wd != "" {
		if fi, err := os.Stat(wd); err == nil && fi.IsDir() {
			cmd.Dir = wd
		}
	}
	tail := &tailWriter{}
	cmd.Stdout, cmd.Stderr = io.Discard, tail
	if opts.LogDir != "" {
		logf, err := os.Create(filepath.Join(opts.LogDir, p.job.Namespace+"_"+p.job.Name+"_"+c.Name+".log"))
		if err != nil {
			return "", err
		}
		defer logf.Close()
		cmd.Stdout, cmd.Stderr = logf, io.MultiWriter(logf, tail)
	}
	err := cmd.Run()
	return tail.last(), err
}

// paths are the in-image paths a container sees and the local ones that
// stand for them.
type paths []pathMap

type pathMap struct{ from, to string }

// paths gives, for one container, its volume mounts, the metrics folders and
// the files of the images; where one path is under another, the mount
// shadows what the image holds, as in a container.
func (p *podRun) paths(c corev1.Container) paths {
	var mounts, images paths
	for _, m := range c.VolumeMounts {
		if local, ok := p.volumes[m.Name]; ok {
			mounts = append(mounts, pathMap{filepath.Clean(m.MountPath), filepath.Join(local, m.SubPath)})
		}
	}
	for from, to := range p.metrics {
		mounts = append(mounts, pathMap{from, to})
	}
	for from, to := range p.node.opts.Files {
		images = append(images, pathMap{filepath.Clean(from), to})
	}
	longestFirst := func(ps paths) {
		sort.Slice(ps, func(i, j int) bool { return len(ps[i].from) > len(ps[j].from) })
	}
	longestFirst(mounts)
	longestFirst(images)
	return append(mounts, images...)
}

// pathToken is an absolute path in a string: at its start or after a space,
// =, a comma, a colon or a quote.
var pathToken = regexp.MustCompile(`(?:^|[\s=,;:"'(\[])(/[^\s=,;:"'()\[\]]*)`)

// replace puts the local path in place of every in-image path in s.
func (ps paths) replace(s string) string {
	if len(ps) == 0 || !strings.Contains(s, "/") {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range pathToken.FindAllStringSubmatchIndex(s, -1) {
		start, end := m[2], m[3]
		b.WriteString(s[last:start])
		b.WriteString(ps.resolve(s[start:end]))
		last = end
	}
	b.WriteString(s[last:])
	return b.String()
}

func (ps paths) resolve(path string) string {
	for _, p := range ps {
		if path == p.from {
			return p.to
		}
		if rest, ok := strings.CutPrefix(path, p.from+"/"); ok {
			return filepath.Join(p.to, rest)
		}
		if p.from == "/" {
			return filepath.Join(p.to, path)
		}
	}
	return path
}

// volumes makes a local folder for each volume of the pod: empty for an
// emptyDir, holding a ConfigMap's keys as files for a configMap volume.
func (n *Node) volumes(ns string, vs []corev1.Volume, dir string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range vs {
		local := filepath.Join(dir, v.Name)
		if err := os.MkdirAll(local, 0o755); err != nil {
			return nil, err
		}
		switch {
		case v.EmptyDir != nil:
		case v.ConfigMap != nil:
			if err := n.configMap(ns, v.ConfigMap, local); err != nil {
				return nil, fmt.Errorf("MountVolume.SetUp failed for volume %q: %w", v.Name, err)
			}
		default:
			return nil, fmt.Errorf("volume %q: only emptyDir and configMap volumes are played here", v.Name)
		}
		out[v.Name] = local
	}
	return out, nil
}

// configMap writes a ConfigMap's keys (or the items it names) into dir,
// waiting a few seconds for a ConfigMap that is not there yet, as a kubelet
// retries a mount.
func (n *Node) configMap(ns string, src *corev1.ConfigMapVolumeSource, dir string) error {
	var cm *corev1.ConfigMap
	var err error
	for attempt := 0; attempt < 50; attempt++ {
		if attempt > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		cm, err = n.opts.Kube.CoreV1().ConfigMaps(ns).Get(context.Background(), src.Name, metav1.GetOptions{})
		if err == nil || !apierrs.IsNotFound(err) {
			break
		}
	}
	if apierrs.IsNotFound(err) && src.Optional != nil && *src.Optional {
		return nil
	}
	if err != nil {
		return err
	}
	files := map[string][]byte{}
	for k, v := range cm.Data {
		files[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		files[k] = v
	}
	if len(src.Items) > 0 {
		picked := map[string][]byte{}
		for _, it := range src.Items {
			data, ok := files[it.Key]
			if !ok {
				return fmt.Errorf("configmap %q has no key %q", src.Name, it.Key)
			}
			picked[it.Path] = data
		}
		files = picked
	}
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// metricsFolders finds the metrics path of each knobs-collector in the pod
// (its -path flag) and gives its folder (the path itself with -path-kind
// Directory, the default of -kind TensorFlowEvent) a local folder of the pod's own, unless a volume is mounted
// there already.
func metricsFolders(pod corev1.PodSpec, collectorImage, dir string) (map[string]string, error) {
	out := map[string]string{}
	for _, c := range append(append([]corev1.Container{}, pod.InitContainers...), pod.Containers...) {
		argv := append(append([]string{}, c.Command...), c.Args...)
		collector := c.Image == collectorImage && len(c.Command) == 0
		if len(argv) > 0 && filepath.Base(argv[0]) == "knobs-collector" {
			collector, argv = true, argv[1:]
		}
		if !collector {
			continue
		}
		flags := collectorFlags(argv)
		path := flags["path"]
		if !filepath.IsAbs(path) {
			continue
		}
		folder := filepath.Dir(path)
		kind := flags["path-kind"]
		if kind == "" && flags["kind"] == "TensorFlowEvent" {
			kind = "Directory" // the collector's default for event files
		}
		if strings.EqualFold(kind, "Directory") {
			folder = filepath.Clean(path)
		}
		if folder == "/" || mounted(c, folder) {
			continue
		}
		local := filepath.Join(dir, fmt.Sprint(len(out)))
		if err := os.MkdirAll(local, 0o755); err != nil {
			return nil, err
		}
		out[folder] = local
	}
	return out, nil
}

// collectorFlags reads -name value and -name=value (with one dash or two)
// up to "--".
func collectorFlags(args []string) map[string]string {
	out := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name := strings.TrimLeft(a, "-")
		if k, v, ok := strings.Cut(name, "="); ok {
			out[k] = v
		} else if i+1 < len(args) && args[i+1] != "--" {
			out[name] = args[i+1]
			i++
		}
	}
	return out
}

func mounted(c corev1.Container, folder string) bool {
	for _, m := range c.VolumeMounts {
		mp := filepath.Clean(m.MountPath)
		if folder == mp || strings.HasPrefix(folder, mp+"/") {
			return true
		}
	}
	return false
}

// tailWriter keeps the last 4 KiB written to it.
type tailWriter struct {
	mu  sync.Mutex
	buf []byte
}

func (w *tailWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	if len(w.buf) > 4096 {
		w.buf = w.buf[len(w.buf)-4096:]
	}
	return len(b), nil
}

func (w *tailWriter) last() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return lastLine(string(w.buf))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
