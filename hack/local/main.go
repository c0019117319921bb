// Command local runs Knobs on this machine without a cluster: a real
// kube-apiserver and etcd on loopback, Knobs' CRDs, RBAC and ConfigMaps, the
// controller (as its ServiceAccount) and every function as local processes,
// wired through config-algorithms URLs. It applies the examples, shows the
// suggestions arriving as their requests are raised, and serves until
// Ctrl-C, which stops every process it started.
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
	"k8s.io/apimachinery/pkg/types"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	knobsclientset "knobs.dev/knobs/pkg/client/clientset/versioned"
	"knobs.dev/knobs/test/controlplane"
)

func main() {
	once := flag.Bool("once", false, "stop after the demonstration instead of serving until Ctrl-C")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *once); err != nil && !errors.Is(err, context.Canceled) {
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

func run(ctx context.Context, once bool) error {
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

	step("building (or reusing) kube-apiserver, kubectl and etcd")
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
	if err := ps.start(logDir, "controller", []string{
		"KUBECONFIG=" + saConfig, "SYSTEM_NAMESPACE=" + tuning.SystemNamespace, "POD_NAME=knobs-controller-local",
		"CONFIG_LOGGING_NAME=config-logging", "CONFIG_OBSERVABILITY_NAME=config-observability",
		"METRICS_DOMAIN=knobs.dev/tuning", "PROFILING_PORT=" + profilingPort,
	}, filepath.Join(bin, "controller")); err != nil {
		return err
	}

	step("applying examples/experiment-random.yaml and examples/suggestion-random.yaml")
	for _, f := range []string{"examples/experiment-random.yaml", "examples/suggestion-random.yaml"} {
		if _, err := cp.Kubectl(ctx, nil, "apply", "-f", filepath.Join(root, f)); err != nil {
			return err
		}
	}
	knobs, err := knobsclientset.NewForConfig(cp.Config)
	if err != nil {
		return err
	}
	ns, name, err := suggestionOf(ctx, cp, filepath.Join(root, "examples/suggestion-random.yaml"))
	if err != nil {
		return err
	}
	for i, requests := range []int32{3, 6, 12} {
		if i > 0 {
			step(fmt.Sprintf("raising spec.requests to %d", requests))
			p := fmt.Sprintf(`{"spec":{"requests":%d}}`, requests)
			if _, err := knobs.TuningV1alpha1().Suggestions(ns).Patch(ctx, name, types.MergePatchType, []byte(p), metav1.PatchOptions{}); err != nil {
				return err
			}
		}
		s, err := waitFor(ctx, knobs, ns, name, requests)
		if err != nil {
			return fmt.Errorf("%w (controller log: %s)", err, filepath.Join(logDir, "controller.log"))
		}
		printSuggestion(s)
	}
	out2, err := cp.Kubectl(ctx, nil, "get", "suggestions", "-A")
	if err != nil {
		return err
	}
	step("kubectl get suggestions -A")
	fmt.Print(out2)

	kubectl := filepath.Join(strings.TrimSpace(string(cpBin)), "kubectl")
	fmt.Printf("\nThe control plane is yours while this runs (any kubectl will do; this one was built here):\n"+
		"  export KUBECONFIG=%s\n  %s get suggestions -A\n  %s get suggestion %s -n %s -o yaml\nLogs: %s\n",
		cp.Kubeconfig, kubectl, kubectl, name, ns, logDir)
	if once {
		return nil
	}
	fmt.Println("Ctrl-C stops every process started here.")
	<-ctx.Done()
	return nil
}

func step(s string) { fmt.Printf("==> %s\n", s) }

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

// suggestionOf reads the namespace and name of the Suggestion in a file.
func suggestionOf(ctx context.Context, cp *controlplane.ControlPlane, file string) (string, string, error) {
	out, err := cp.Kubectl(ctx, nil, "get", "-f", file, "-o", `jsonpath={.metadata.namespace}/{.metadata.name}`)
	if err != nil {
		return "", "", err
	}
	ns, name, ok := strings.Cut(strings.TrimSpace(out), "/")
	if !ok {
		return "", "", fmt.Errorf("cannot read the Suggestion in %s: %q", file, out)
	}
	return ns, name, nil
}

func waitFor(ctx context.Context, knobs knobsclientset.Interface, ns, name string, n int32) (*v1alpha1.Suggestion, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		s, err := knobs.TuningV1alpha1().Suggestions(ns).Get(ctx, name, metav1.GetOptions{})
		if err == nil && s.Status.SuggestionCount >= n && s.Status.IsReady() {
			return s, nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				return nil, fmt.Errorf("suggestion %s/%s has %d of %d assignments after 2 minutes; conditions: %+v", ns, name, s.Status.SuggestionCount, n, s.Status.Conditions)
			}
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func printSuggestion(s *v1alpha1.Suggestion) {
	fmt.Printf("    %s/%s: %d assignments, Ready\n", s.Namespace, s.Name, s.Status.SuggestionCount)
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	var header []string
	if len(s.Status.Suggestions) > 0 {
		for _, a := range s.Status.Suggestions[0].ParameterAssignments {
			header = append(header, a.Name)
		}
	}
	fmt.Fprintf(tw, "    NAME\t%s\n", strings.Join(header, "\t"))
	for _, a := range s.Status.Suggestions {
		var v []string
		for _, pa := range a.ParameterAssignments {
			v = append(v, pa.Value)
		}
		fmt.Fprintf(tw, "    %s\t%s\n", a.Name, strings.Join(v, "\t"))
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
