//go:build integration

package integration

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"knative.dev/pkg/apis"
	duckv1 "knative.dev/pkg/apis/duck/v1"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/test/node"
)

// proc is a process the test started.
type proc struct {
	name string
	log  string
	cmd  *exec.Cmd
	done chan error
}

func startProc(t testing.TB, name string, env []string, bin string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(envLogDir(), name+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bin), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{name: name, log: logPath, cmd: cmd, done: make(chan error, 1)}
	go func() {
		p.done <- cmd.Wait()
		logf.Close()
	}()
	t.Cleanup(func() { p.stop(syscall.SIGTERM) })
	return p
}

// stop signals the process and waits for it; SIGKILL is a crash.
func (p *proc) stop(sig syscall.Signal) {
	select {
	case err := <-p.done:
		p.done <- err
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case err := <-p.done:
		p.done <- err
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		p.done <- <-p.done
	}
}

func envLogDir() string { return env.logDir }

// controllerProc is a controller process and the URL of its observation
// receiver.
type controllerProc struct {
	*proc
	port string
	sink string
}

// startController runs the controller as its ServiceAccount.
func startController(t testing.TB, name string) *controllerProc {
	t.Helper()
	return startControllerAt(t, name, freePort(t))
}

// startControllerAt runs the controller with its observation receiver on
// port, so that one started again receives at the same URL.
func startControllerAt(t testing.TB, name, port string, extraEnv ...string) *controllerProc {
	t.Helper()
	sink := "http://127.0.0.1:" + port
	p := startProc(t, name, append([]string{
		"KUBECONFIG=" + env.controller,
		"SYSTEM_NAMESPACE=" + tuning.SystemNamespace,
		"POD_NAME=" + name,
		"CONFIG_LOGGING_NAME=config-logging",
		"CONFIG_OBSERVABILITY_NAME=config-observability",
		"METRICS_DOMAIN=knobs.dev/tuning",
		"PROFILING_PORT=" + freePort(t),
		"OBSERVATION_PORT=" + port,
		"OBSERVATION_SINK_URL=" + sink,
		"KNOBS_COLLECTOR_IMAGE=" + node.DefaultCollectorImage,
	}, extraEnv...), filepath.Join(env.bin, "controller"))
	return &controllerProc{proc: p, port: port, sink: sink}
}

// function is a function process on a fixed port, so that it can be
// stopped and started again at the same URL.
type function struct {
	algorithm string // the binary: random or grid
	port      string
	url       string
	p         *proc
}

func startFunction(t *testing.T, binary string) *function {
	t.Helper()
	f := &function{algorithm: binary, port: freePort(t)}
	f.url = "http://127.0.0.1:" + f.port
	f.start(t)
	return f
}

func (f *function) start(t *testing.T) {
	t.Helper()
	f.p = startProc(t, f.algorithm+"-"+f.port, []string{"PORT=" + f.port}, filepath.Join(env.bin, f.algorithm))
	waitFor(t, 10*time.Second, func() (bool, string) {
		resp, err := http.Get(f.url + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}

func (f *function) stop() { f.p.stop(syscall.SIGTERM) }

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// serving plays Knative Serving for the functions: a Knative Service
// labelled with an algorithm is marked Ready at the URL of the function
// process registered for it, or not Ready when there is none.
type serving struct {
	mu   sync.Mutex
	urls map[string]string // namespace/name → URL; "" when the function is down
}

var standIn = &serving{urls: map[string]string{}}

// serve registers the function of a Knative Service and marks it.
func (s *serving) serve(t *testing.T, ns, name, url string) {
	t.Helper()
	s.mu.Lock()
	s.urls[ns+"/"+name] = url
	s.mu.Unlock()
	s.mark(t, ns, name)
}

// mark updates the Service's status as Serving would.
func (s *serving) mark(t *testing.T, ns, name string) {
	t.Helper()
	s.mu.Lock()
	url := s.urls[ns+"/"+name]
	s.mu.Unlock()
	ctx := context.Background()
	waitFor(t, 10*time.Second, func() (bool, string) {
		svc, err := env.serving.ServingV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		svc.Status.ObservedGeneration = svc.Generation
		if url == "" {
			svc.Status.Address = nil
			svc.Status.SetConditions(apis.Conditions{{Type: apis.ConditionReady, Status: corev1.ConditionFalse,
				Reason: "RevisionMissing", Message: "the function's revision has no running instance", LastTransitionTime: apis.VolatileTime{Inner: metav1.Now()}}})
		} else {
			u, _ := apis.ParseURL(url)
			svc.Status.Address = &duckv1.Addressable{URL: u}
			svc.Status.URL = u
			svc.Status.SetConditions(apis.Conditions{{Type: apis.ConditionReady, Status: corev1.ConditionTrue, LastTransitionTime: apis.VolatileTime{Inner: metav1.Now()}}})
		}
		if _, err := env.serving.ServingV1().Services(ns).UpdateStatus(ctx, svc, metav1.UpdateOptions{}); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
}

// down marks a Service's function as gone.
func (s *serving) down(t *testing.T, ns, name string) { s.serve(t, ns, name, "") }

// createService creates a labelled Knative Service as a user applying
// config/ would, and lets the stand-in mark it.
func createService(t *testing.T, ns, name, algorithm, url string) {
	t.Helper()
	svc := &servingv1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{
			tuning.AlgorithmLabelKey:            algorithm,
			"networking.knative.dev/visibility": "cluster-local",
		}},
		Spec: servingv1.ServiceSpec{ConfigurationSpec: servingv1.ConfigurationSpec{Template: servingv1.RevisionTemplateSpec{
			Spec: servingv1.RevisionSpec{PodSpec: corev1.PodSpec{Containers: []corev1.Container{{Image: "registry.example.com/knobs/" + algorithm}}}},
		}}},
	}
	if _, err := env.serving.ServingV1().Services(ns).Create(context.Background(), svc, metav1.CreateOptions{}); err != nil && !apierrs.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	standIn.serve(t, ns, name, url)
}

// namespace creates a namespace for one test.
func namespace(t testing.TB) string {
	t.Helper()
	kube := kubernetes.NewForConfigOrDie(env.cp.Config)
	ns, err := kube.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "it-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	waitForEvery(t, timeout, 100*time.Millisecond, cond)
}

// waitForEvery is waitFor, asking every so often: for a condition that
// costs a list of many objects.
func waitForEvery(t testing.TB, timeout, every time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		var ok bool
		if ok, last = cond(); ok {
			return
		}
		time.Sleep(every)
	}
	t.Fatalf("not within %s: %s", timeout, last)
}

func getSuggestion(t *testing.T, ns, name string) *v1alpha1.Suggestion {
	t.Helper()
	s, err := env.knobs.TuningV1alpha1().Suggestions(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitSuggestions waits until a Suggestion holds n assignments and is Ready.
func waitSuggestions(t *testing.T, ns, name string, n int32, timeout time.Duration) *v1alpha1.Suggestion {
	t.Helper()
	var s *v1alpha1.Suggestion
	waitFor(t, timeout, func() (bool, string) {
		s = getSuggestion(t, ns, name)
		return s.Status.SuggestionCount == n && s.Status.IsReady() && s.Status.ObservedGeneration == s.Generation,
			fmt.Sprintf("%d of %d suggestions, conditions %+v", s.Status.SuggestionCount, n, s.Status.Conditions)
	})
	checkSuggestions(t, s)
	return s
}

// checkSuggestions checks what a Suggestion has handed out (handedOut).
func checkSuggestions(t *testing.T, s *v1alpha1.Suggestion) {
	t.Helper()
	handedOut(t, s)
}

// handedOut returns every assignment a Suggestion has handed out, in order:
// from its Trial where the Experiment has created one, else from the
// Suggestion's status, which keeps only the assignments still waiting for
// their Trials. It checks stable names (<name>-1 to <name>-N, N being
// suggestionCount, each once: as a Trial or as an assignment waiting for
// one) and no assignment twice.
func handedOut(t *testing.T, s *v1alpha1.Suggestion) []v1alpha1.TrialAssignment {
	t.Helper()
	trials, err := env.knobs.TuningV1alpha1().Trials(s.Namespace).List(context.Background(), metav1.ListOptions{
		LabelSelector: tuning.ExperimentLabelKey + "=" + s.Name})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]v1alpha1.TrialAssignment{}
	for _, tr := range trials.Items {
		if c := metav1.GetControllerOf(&tr); c != nil && c.Kind == "Experiment" && c.Name == s.Name {
			byName[tr.Name] = v1alpha1.TrialAssignment{Name: tr.Name, ParameterAssignments: tr.Spec.ParameterAssignments}
		}
	}
	for _, a := range s.Status.Suggestions {
		if _, ok := byName[a.Name]; ok {
			t.Errorf("%s is both a Trial and an assignment waiting for one", a.Name)
		}
		byName[a.Name] = a
	}
	if len(byName) != int(s.Status.SuggestionCount) {
		t.Errorf("suggestionCount %d but %d assignments handed out (Trials and waiting)", s.Status.SuggestionCount, len(byName))
	}
	out := make([]v1alpha1.TrialAssignment, 0, len(byName))
	seen := map[string]string{}
	for i := 1; i <= int(s.Status.SuggestionCount); i++ {
		name := fmt.Sprintf("%s-%d", s.Name, i)
		a, ok := byName[name]
		if !ok {
			t.Errorf("no Trial and no assignment waiting named %s", name)
			continue
		}
		k := fmt.Sprint(a.ParameterAssignments)
		if prev, dup := seen[k]; dup {
			t.Errorf("%s and %s have the same assignment %s", prev, a.Name, k)
		}
		seen[k] = a.Name
		out = append(out, a)
	}
	return out
}
