// Command local runs Knobs on this machine without a cluster: a real
// kube-apiserver, etcd and garbage collector on loopback, Knobs' CRDs, RBAC and ConfigMaps, the
// controller (as its ServiceAccount) and every function as local processes,
// wired through config-algorithms URLs. It applies an example Experiment
// (examples/experiment-tpe.yaml unless -f says otherwise), runs each of its
// trials' Jobs as local processes (test/node plays the node): a container
// without a command runs the example trial program, a command runs the
// program of that name on this machine (python3 for
// examples/experiment-random-python.yaml), the metrics collector's init
// container and wrapper run knobs-collector, and the design example's MXNet
// script is examples/trial-python/mnist_standin.py. It creates the
// ConfigMap trial-python from examples/trial-python when the Experiment
// mounts it, as its comment tells a user to. It prints the progress until
// the Experiment ends, and serves until Ctrl-C, which stops every process it
// started.
//
// It is what `make run` runs; the binaries come from _output/bin (every
// folder of functions/ is a function) and hack/controlplane/build.sh.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	knobsclientset "knobs.dev/knobs/pkg/client/clientset/versioned"
	"knobs.dev/knobs/test/controlplane"
	"knobs.dev/knobs/test/node"
)

func main() {
	once := flag.Bool("once", false, "stop when the experiment ends instead of serving until Ctrl-C")
	file := flag.String("f", "examples/experiment-tpe.yaml", "the Experiment to run")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *file, *once); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

type procs struct{ list []*exec.Cmd }

func (p *procs) start(logDir, name string, env []string, bin string, args ...string) error {
	logf, err := os.Create(filepath.Join(logDir, name+".log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	p.list = append(p.list, cmd)
	return nil
}

func (p *procs) stop() {
	for i := len(p.list) - 1; i >= 0; i-- {
		_ = p.list[i].Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func(c *exec.Cmd) { _ = c.Wait(); close(done) }(p.list[i])
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = p.list[i].Process.Kill()
		}
	}
}

func run(ctx context.Context, experimentFile string, once bool) error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	out := filepath.Join(root, "_output")
	bin := filepath.Join(out, "bin")
	dir := filepath.Join(out, "local")
	logDir := filepath.Join(dir, "logs")
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}

	step("building (or reusing) kube-apiserver, kube-controller-manager, kubectl and etcd")
	build := exec.CommandContext(ctx, filepath.Join(root, "hack/controlplane/build.sh"))
	build.Stderr = os.Stderr
	cpBin, err := build.Output()
	if err != nil {
		return fmt.Errorf("hack/controlplane/build.sh: %w", err)
	}

	step("starting etcd and kube-apiserver on loopback")
	cpLog, err := os.Create(filepath.Join(logDir, "controlplane.log"))
	if err != nil {
		return err
	}
	defer cpLog.Close()
	start := time.Now()
	cp, err := controlplane.Start(ctx, controlplane.Options{BinDir: strings.TrimSpace(string(cpBin)), Dir: filepath.Join(dir, "cp"), Log: cpLog})
	if err != nil {
		return err
	}
	defer func() {
		step("stopping everything")
		_ = cp.Stop()
	}()
	fmt.Printf("    API server %s ready in %s\n", cp.URL, time.Since(start).Round(time.Millisecond))

	step("installing Knobs' CRDs, RBAC and ConfigMaps, and Knative Serving's CRDs")
	if err := cp.InstallKnobs(ctx, root); err != nil {
		return err
	}

	var ps procs
	defer ps.stop()
	step("starting the functions, wired through config-algorithms")
	urls := map[string]string{}
	fns, err := functionNames(root)
	if err != nil {
		return err
	}
	for _, fn := range fns {
		port, err := freePort()
		if err != nil {
			return err
		}
		if err := ps.start(logDir, fn, []string{"PORT=" + port}, filepath.Join(bin, fn)); err != nil {
			return err
		}
		urls[fn] = "http://127.0.0.1:" + port
		if err := waitHealthy(ctx, urls[fn]); err != nil {
			return fmt.Errorf("function %s: %w (log: %s)", fn, err, filepath.Join(logDir, fn+".log"))
		}
		fmt.Printf("    %-10s %s\n", fn, urls[fn])
	}
	data, err := json.Marshal(map[string]map[string]string{"data": urls})
	if err != nil {
		return err
	}
	if _, err := cp.Kubectl(ctx, nil, "patch", "configmap", "config-algorithms", "-n", tuning.SystemNamespace, "--type=merge", "-p", string(data)); err != nil {
		return err
	}

	step("starting the controller as ServiceAccount knobs-system/knobs-controller")
	saConfig := filepath.Join(dir, "controller.kubeconfig")
	if err := cp.ServiceAccountKubeconfig(ctx, tuning.SystemNamespace, "knobs-controller", saConfig); err != nil {
		return err
	}
	profilingPort, err := freePort()
	if err != nil {
		return err
	}
	observationPort, err := freePort()
	if err != nil {
		return err
	}
	sink := "http://127.0.0.1:" + observationPort
	if err := ps.start(logDir, "controller", []string{
		"KUBECONFIG=" + saConfig, "SYSTEM_NAMESPACE=" + tuning.SystemNamespace, "POD_NAME=knobs-controller-local",
		"CONFIG_LOGGING_NAME=config-logging", "CONFIG_OBSERVABILITY_NAME=config-observability",
		"METRICS_DOMAIN=knobs.dev/tuning", "PROFILING_PORT=" + profilingPort,
		"OBSERVATION_PORT=" + observationPort, "OBSERVATION_SINK_URL=" + sink,
		"KNOBS_COLLECTOR_IMAGE=" + node.DefaultCollectorImage,
	}, filepath.Join(bin, "controller")); err != nil {
		return err
	}
	fmt.Printf("    trials report to %s/namespaces/<namespace>\n", sink)

	dashboard, err := startDashboard(ctx, cp, &ps, root, dir, logDir, bin)
	if err != nil {
		return err
	}

	step("running each trial's Job as local processes: " + filepath.Join("_output/bin", "trial") + ", programs of this machine, " +
		filepath.Join("_output/bin", "knobs-collector"))
	kube, err := kubernetes.NewForConfig(cp.Config)
	if err != nil {
		return err
	}
	trialLogs := filepath.Join(logDir, "trials")
	if err := os.MkdirAll(trialLogs, 0o755); err != nil {
		return err
	}
	collector := filepath.Join(bin, "knobs-collector")
	if _, err := os.Stat(collector); err != nil {
		collector = ""
		fmt.Println("    no knobs-collector in _output/bin: an Experiment with a metrics collector fails its trials")
	}
	nodeCtx, stopNode := context.WithCancel(ctx)
	n := node.Start(nodeCtx, node.Options{Kube: kube, Program: filepath.Join(bin, "trial"), Collector: collector,
		Files:  imageFiles(root),
		LogDir: trialLogs,
		Errorf: func(format string, args ...any) { fmt.Fprintf(os.Stderr, "    node: "+format+"\n", args...) }})
	defer func() {
		stopNode()
		n.Wait()
	}()

	ns, name, err := objectOf(inRoot(root, experimentFile))
	if err != nil {
		return err
	}
	if err := createConfigMaps(ctx, cp, root, experimentFile, ns); err != nil {
		return err
	}
	step("kubectl apply -f " + experimentFile)
	if _, err := cp.Kubectl(ctx, nil, "apply", "-f", inRoot(root, experimentFile)); err != nil {
		return err
	}
	knobs, err := knobsclientset.NewForConfig(cp.Config)
	if err != nil {
		return err
	}
	e, err := watchExperiment(ctx, knobs, ns, name)
	if err != nil {
		return fmt.Errorf("%w (controller log: %s)", err, filepath.Join(logDir, "controller.log"))
	}
	printBest(e)
	out2, err := cp.Kubectl(ctx, nil, "get", "experiments,suggestions", "-A")
	if err != nil {
		return err
	}
	step("kubectl get experiments,suggestions -A")
	fmt.Print(out2)
	if c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); c == nil || !c.IsTrue() {
		return fmt.Errorf("experiment %s/%s did not succeed: %s: %s", ns, name, c.Reason, c.Message)
	}

	kubectl := filepath.Join(strings.TrimSpace(string(cpBin)), "kubectl")
	fmt.Printf("\nThe control plane is yours while this runs (any kubectl will do; this one was built here):\n"+
		"  export KUBECONFIG=%s\n  %s get experiments,trials -A\n  %s get experiment %s -n %s -o yaml\nLogs: %s (trials' output: %s)\n",
		cp.Kubeconfig, kubectl, kubectl, name, ns, logDir, trialLogs)
	fmt.Printf("dashboard: %s\n", dashboard)
	if once {
		return nil
	}
	fmt.Println("Ctrl-C stops every process started here.")
	<-ctx.Done()
	return nil
}

func step(s string) { fmt.Printf("==> %s\n", s) }

// inRoot is a path given on the command line: as it is when absolute,
// else under the repository's root.
func inRoot(root, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(root, path)
}

// startDashboard applies the dashboard's ServiceAccount and RBAC from
// config/700-dashboard.yaml and runs knobs-dashboard as that ServiceAccount,
// as it runs in a cluster. It returns the dashboard's URL.
func startDashboard(ctx context.Context, cp *controlplane.ControlPlane, ps *procs, root, dir, logDir, bin string) (string, error) {
	step("starting the dashboard as ServiceAccount knobs-system/knobs-dashboard")
	if _, err := cp.Kubectl(ctx, nil, "apply", "-f", filepath.Join(root, "config/700-dashboard.yaml")); err != nil {
		return "", err
	}
	saConfig := filepath.Join(dir, "dashboard.kubeconfig")
	if err := cp.ServiceAccountKubeconfig(ctx, tuning.SystemNamespace, "knobs-dashboard", saConfig); err != nil {
		return "", err
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	if err := ps.start(logDir, "dashboard", nil, filepath.Join(bin, "knobs-dashboard"), "--listen=127.0.0.1:"+port, "--kubeconfig="+saConfig); err != nil {
		return "", err
	}
	url := "http://127.0.0.1:" + port
	if err := waitHealthy(ctx, url); err != nil {
		return "", fmt.Errorf("dashboard: %w (log: %s)", err, filepath.Join(logDir, "dashboard.log"))
	}
	fmt.Printf("dashboard: %s/\n", url)
	return url + "/", nil
}

// imageFiles are the files of the examples' trial images that this
// repository holds: the program of Katib's MXNet MNIST image, which the
// design example runs, is played by a stand-in.
func imageFiles(root string) map[string]string {
	return map[string]string{
		"/mxnet/example/image-classification/train_mnist.py": filepath.Join(root, "examples/trial-python/mnist_standin.py"),
	}
}

// configMaps are the ConfigMaps the examples mount, each made from a file of
// examples/ as the examples' comments say.
var configMaps = map[string]string{
	"trial-python": "examples/trial-python/train.py",
}

// createConfigMaps creates, in the Experiment's namespace, the ConfigMaps of
// configMaps that its file names.
func createConfigMaps(ctx context.Context, cp *controlplane.ControlPlane, root, file, ns string) error {
	data, err := os.ReadFile(inRoot(root, file))
	if err != nil {
		return err
	}
	for name, from := range configMaps {
		if !strings.Contains(string(data), "name: "+name+"\n") {
			continue
		}
		step(fmt.Sprintf("kubectl create configmap %s --from-file=%s -n %s", name, from, ns))
		if _, err := cp.Kubectl(ctx, nil, "create", "configmap", name, "--from-file="+filepath.Join(root, from), "-n", ns); err != nil {
			return err
		}
	}
	return nil
}

// functionNames lists the functions of the repository: one folder each under
// functions/.
func functionNames(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// objectOf reads the namespace ("default" when it names none) and name of
// the object in a file.
func objectOf(file string) (string, string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", "", err
	}
	var o metav1.PartialObjectMetadata
	if err := yaml.Unmarshal(data, &o); err != nil {
		return "", "", fmt.Errorf("cannot read the object in %s: %w", file, err)
	}
	if o.Name == "" {
		return "", "", fmt.Errorf("the object in %s has no name", file)
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	return o.Namespace, o.Name, nil
}

// watchExperiment prints the experiment's progress as it changes, until it
// ends.
func watchExperiment(ctx context.Context, knobs knobsclientset.Interface, ns, name string) (*v1alpha1.Experiment, error) {
	const limit = 10 * time.Minute
	deadline := time.Now().Add(limit)
	last := ""
	for {
		e, err := knobs.TuningV1alpha1().Experiments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		line := progress(e)
		if line != last {
			fmt.Println("    " + line)
			last = line
		}
		if c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); c != nil && !c.IsUnknown() && e.Status.ObservedGeneration == e.Generation {
			return e, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("experiment %s/%s has not ended after %s: %s", ns, name, limit, last)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// progress is one line: trials done and failed, and the best so far.
func progress(e *v1alpha1.Experiment) string {
	st := e.Status
	done := st.TrialsSucceeded + st.TrialsFailed + st.TrialsMetricsUnavailable + st.TrialsEarlyStopped
	maxTrials := int32(v1alpha1.DefaultMaxTrialCount)
	if e.Spec.MaxTrialCount != nil {
		maxTrials = *e.Spec.MaxTrialCount
	}
	line := fmt.Sprintf("trials %2d/%d done, %d failed", done, maxTrials, st.TrialsFailed+st.TrialsMetricsUnavailable)
	if b := st.CurrentOptimalTrial; b != nil {
		if m := b.Observation.Metric(e.Spec.Objective.ObjectiveMetricName); m != nil {
			line += fmt.Sprintf("; best %s=%s (%s)", m.Name, m.Value, b.BestTrialName)
		}
	}
	if c := st.GetCondition(v1alpha1.ExperimentConditionSucceeded); c != nil && !c.IsUnknown() {
		line += fmt.Sprintf("; Succeeded=%s %s: %s", c.Status, c.Reason, c.Message)
	}
	return line
}

func printBest(e *v1alpha1.Experiment) {
	b := e.Status.CurrentOptimalTrial
	if b == nil {
		return
	}
	fmt.Printf("    best trial %s:", b.BestTrialName)
	for _, a := range b.ParameterAssignments {
		fmt.Printf(" %s=%s", a.Name, a.Value)
	}
	fmt.Println()
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	for _, m := range b.Observation.Metrics {
		fmt.Fprintf(tw, "      %s\t%s\n", m.Name, m.Value)
	}
	_ = tw.Flush()
}

func waitHealthy(ctx context.Context, url string) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New("no answer on /healthz within 10s")
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}
