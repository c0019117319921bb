package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"knobs.dev/knobs/pkg/apis/tuning"
)

// collector plays knobs-collector: copy DEST copies it; otherwise it prints
// its flags and runs what follows "--".
const collector = `#!/bin/sh
if [ "$1" = copy ]; then cp "$0" "$2" && chmod +x "$2"; exit; fi
echo "collector $*"
while [ "$1" != "--" ]; do shift; done
shift
exec "$@"
`

// trial is a ConfigMap's script: it writes to the file its first argument
// names and prints what it sees.
const trial = `out="${1#--out=}"
echo "loss=0.25" >> "$out"
echo "out=$out dir=$(pwd) trial=$KNOBS_TRIAL_NAME"
cat "$out"
`

func job(name string, pod corev1.PodSpec) *batchv1.Job {
	pod.RestartPolicy = corev1.RestartPolicyNever
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name), Labels: map[string]string{tuning.TrialLabelKey: name}},
		Spec:       batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: pod}},
	}
}

// collected is the pod the Trial reconciler makes of a trial under a File
// collector: the collector copied in by an init container, the trial's
// command run through it.
func collected(name, program string) *batchv1.Job {
	return job(name, corev1.PodSpec{
		Volumes: []corev1.Volume{
			{Name: "knobs-bin", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			{Name: "trial", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "trial"}}}},
		},
		InitContainers: []corev1.Container{{
			Name: "knobs-collector-init", Image: DefaultCollectorImage, Args: []string{"copy", "/knobs/bin/knobs-collector"},
			VolumeMounts: []corev1.VolumeMount{{Name: "knobs-bin", MountPath: "/knobs/bin"}},
		}},
		Containers: []corev1.Container{{
			Name: "training", Image: "docker.io/library/busybox", Command: []string{"/knobs/bin/knobs-collector"},
			Args: []string{"-kind", "File", "-metric", "loss", "-path", "/var/log/katib/metrics.log", "-path-kind", "File", "--",
				program, "/opt/trial/run.sh", "--out=/var/log/katib/metrics.log"},
			Env: []corev1.EnvVar{{Name: "KNOBS_TRIAL_NAME", Value: name}},
			VolumeMounts: []corev1.VolumeMount{
				{Name: "knobs-bin", MountPath: "/knobs/bin"},
				{Name: "trial", MountPath: "/opt/trial", ReadOnly: true},
			},
		}},
	})
}

func TestNodeRunsPods(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "knobs-collector")
	if err := os.WriteFile(bin, []byte(collector), 0o755); err != nil {
		t.Fatal(err)
	}
	program := filepath.Join(dir, "trial-program")
	if err := os.WriteFile(program, []byte("#!/bin/sh\necho \"program $*\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	logs := filepath.Join(dir, "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "trial", Namespace: "ns"}, Data: map[string]string{"run.sh": trial}}

	argsOnly := job("args-only", corev1.PodSpec{Containers: []corev1.Container{{Name: "trial", Image: "registry.example.com/trial", Args: []string{"--x1=1"}}}})
	missing := job("missing", corev1.PodSpec{Containers: []corev1.Container{{Name: "trial", Image: "python", Command: []string{"no-such-program-here"}}}})
	inImage := job("in-image", corev1.PodSpec{Containers: []corev1.Container{{Name: "trial", Image: "busybox",
		Command: []string{"sh", "-c", "cat /opt/app/run.sh; exit 3"}}}})
	kube := fake.NewSimpleClientset(cm, collected("file-1", "sh"), collected("file-2", "sh"), argsOnly, missing, inImage)

	ctx, cancel := context.WithCancel(context.Background())
	n := Start(ctx, Options{
		Kube: kube, Namespace: "ns", Program: program, Collector: bin, LogDir: logs,
		Files:  map[string]string{"/opt/app/run.sh": filepath.Join(dir, "trial-program")},
		Errorf: t.Errorf,
	})
	ended := map[string]*batchv1.Job{}
	deadline := time.Now().Add(20 * time.Second)
	for len(ended) < 5 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		jobs, err := kube.BatchV1().Jobs("ns").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i, j := range jobs.Items {
			if len(j.Status.Conditions) > 0 {
				ended[j.Name] = &jobs.Items[i]
			}
		}
	}
	cancel()
	n.Wait()

	log := func(name, container string) string {
		data, err := os.ReadFile(filepath.Join(logs, "ns_"+name+"_"+container+".log"))
		if err != nil {
			t.Error(err)
		}
		return string(data)
	}
	for _, name := range []string{"file-1", "file-2", "args-only"} {
		if j := ended[name]; j == nil || j.Status.Succeeded != 1 {
			t.Errorf("job %s: %+v, want it succeeded", name, j)
		}
	}
	outs := map[string]bool{}
	for _, name := range []string{"file-1", "file-2"} {
		got := log(name, "training")
		if !strings.Contains(got, "collector -kind File") || !strings.Contains(got, "trial="+name) {
			t.Errorf("%s printed %q: want the collector's flags and the trial's environment", name, got)
		}
		// The metrics file is the Job's own, and holds one line.
		out := ""
		for _, f := range strings.Fields(got) {
			if v, ok := strings.CutPrefix(f, "out="); ok {
				out = v
			}
		}
		if out == "" || strings.HasPrefix(out, "/var/log/katib") || outs[filepath.Dir(out)] || strings.Count(got, "loss=0.25") != 1 {
			t.Errorf("%s wrote its metrics to %q (%q): want a folder of its own", name, out, got)
		}
		outs[filepath.Dir(out)] = true
		if !strings.Contains(got, "-path "+out) {
			t.Errorf("%s: the collector was not given the trial's metrics file %s: %q", name, out, got)
		}
	}
	if got := log("args-only", "trial"); strings.TrimSpace(got) != "program --x1=1" {
		t.Errorf("a container without a command printed %q, want the trial program run with its args", got)
	}
	if j := ended["missing"]; j == nil || j.Status.Failed != 1 || !strings.Contains(j.Status.Conditions[1].Message, "executable file not found") {
		t.Errorf("a command that is not on this machine: %+v, want the Job failed, saying so", j)
	}
	if j := ended["in-image"]; j == nil || j.Status.Failed != 1 || !strings.Contains(j.Status.Conditions[1].Message, "exit status 3") ||
		!strings.Contains(log("in-image", "trial"), "program $*") {
		t.Errorf("a command reading a file of Options.Files: %+v, log %q", j, log("in-image", "trial"))
	}
}

func TestPathsReplace(t *testing.T) {
	ps := paths{{"/opt/trial", "/tmp/v/trial"}, {"/var/log/katib", "/tmp/m/0"}, {"/opt/trial/train.py", "/src/train.py"}}
	for in, want := range map[string]string{
		"/opt/trial/train.py":                   "/tmp/v/trial/train.py",
		"--metrics-file=/var/log/katib/m.log":   "--metrics-file=/tmp/m/0/m.log",
		"/opt/trialx/train.py":                  "/opt/trialx/train.py",
		"python3 /opt/trial/a.py /opt/trial":    "python3 /tmp/v/trial/a.py /tmp/v/trial",
		"http://127.0.0.1:8090/namespaces/ns":   "http://127.0.0.1:8090/namespaces/ns",
		"relative/opt/trial":                    "relative/opt/trial",
		"--files=/opt/trial/a,/var/log/katib/b": "--files=/tmp/v/trial/a,/tmp/m/0/b",
	} {
		if got := ps.replace(in); got != want {
			t.Errorf("replace(%q) = %q, want %q", in, got, want)
		}
	}
}

// A Job suspended or deleted while it runs has its processes killed, as a
// kubelet kills the pods the Job controller deletes, and no end recorded.
func TestNodeKillsSuspendedAndDeletedJobs(t *testing.T) {
	dir := t.TempDir()
	sleeper := func(name string) *batchv1.Job {
		pidFile := filepath.Join(dir, name+".pid")
		return job(name, corev1.PodSpec{Containers: []corev1.Container{{Name: "trial", Image: "busybox",
			Command: []string{"sh", "-c", "sleep 60 & echo $! > " + pidFile + "; wait"}}}})
	}
	kube := fake.NewSimpleClientset(sleeper("suspended"), sleeper("deleted"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := Start(ctx, Options{Kube: kube, Namespace: "ns", Errorf: t.Errorf})
	pids := map[string]int{}
	deadline := time.Now().Add(10 * time.Second)
	for len(pids) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		for _, name := range []string{"suspended", "deleted"} {
			if data, err := os.ReadFile(filepath.Join(dir, name+".pid")); err == nil && strings.HasSuffix(string(data), "\n") {
				var pid int
				if _, err := fmt.Sscan(string(data), &pid); err == nil {
					pids[name] = pid
				}
			}
		}
	}
	if len(pids) < 2 {
		t.Fatalf("the Jobs did not start: %v", pids)
	}
	j, err := kube.BatchV1().Jobs("ns").Get(ctx, "suspended", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	j.Spec.Suspend = ptr.To(true)
	if _, err := kube.BatchV1().Jobs("ns").Update(ctx, j, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := kube.BatchV1().Jobs("ns").Delete(ctx, "deleted", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for name, pid := range pids {
		for time.Now().Before(deadline) && syscall.Kill(pid, 0) == nil {
			time.Sleep(50 * time.Millisecond)
		}
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("job %s: its process %d still runs", name, pid)
		}
	}
	cancel()
	n.Wait()
	if j, err := kube.BatchV1().Jobs("ns").Get(context.Background(), "suspended", metav1.GetOptions{}); err != nil || len(j.Status.Conditions) > 0 {
		t.Errorf("suspended job: %+v (%v), want no end recorded", j.Status, err)
	}
}
