//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	. "knobs.dev/knobs/pkg/reconciler/testing"
)

const settle = 60 * time.Second

// createExperiment creates a Suggestion driven by the test, then its
// Experiment. The Experiment does not control a Suggestion it did not create,
// so the test sets the requests and the Experiment only reports that.
func createExperiment(t *testing.T, ns, name, algorithm string, requests int32, opts ...ExperimentOption) {
	t.Helper()
	ctx := context.Background()
	s := NewSuggestion(name, ns, WithAlgorithm(algorithm), WithRequests(requests))
	if _, err := env.knobs.TuningV1alpha1().Suggestions(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	exp := NewExperiment(name, ns, append([]ExperimentOption{WithExperimentAlgorithm(algorithm)}, opts...)...)
	if _, err := env.knobs.TuningV1alpha1().Experiments(ns).Create(ctx, exp, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func setRequests(t *testing.T, ns, name string, n int32) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"requests":%d}}`, n)
	if _, err := env.knobs.TuningV1alpha1().Suggestions(ns).Patch(context.Background(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

func condition(s *v1alpha1.Suggestion, typ string) string {
	for _, c := range s.Status.Conditions {
		if string(c.Type) == typ {
			return fmt.Sprintf("%s/%s: %s", c.Status, c.Reason, c.Message)
		}
	}
	return "none"
}

// The whole path: a labelled Knative Service in knobs-system, requests raised
// 3 → 6 → 12, exactly 12 assignments with stable names, none twice.
func TestSuggestionsThroughKnativeService(t *testing.T) {
	startController(t, "controller-ksvc")
	fn := startFunction(t, "random")
	createService(t, tuning.SystemNamespace, "random", "random", fn.url)

	ns := namespace(t)
	createExperiment(t, ns, "mnist", "random", 3)
	s := waitSuggestions(t, ns, "mnist", 3, settle)
	if got := condition(s, "FunctionReady"); !strings.Contains(got, "KnativeService") || !strings.Contains(got, "knobs-system/random") {
		t.Errorf("FunctionReady = %s, want the Knative Service knobs-system/random", got)
	}
	first := handedOut(t, s)

	setRequests(t, ns, "mnist", 6)
	waitSuggestions(t, ns, "mnist", 6, settle)
	setRequests(t, ns, "mnist", 12)
	s = waitSuggestions(t, ns, "mnist", 12, settle)
	now := handedOut(t, s)
	for i, a := range first {
		if fmt.Sprint(now[i]) != fmt.Sprint(a) {
			t.Errorf("suggestion %d changed from %v to %v", i, a, now[i])
		}
	}
}

// An algorithm mapped to a URL in config-algorithms is called there.
func TestSuggestionsThroughConfigMapURL(t *testing.T) {
	startController(t, "controller-cm")
	fn := startFunction(t, "grid")
	patch := fmt.Sprintf(`{"data":{"grid":%q}}`, fn.url)
	if _, err := env.cp.Kubectl(context.Background(), nil, "patch", "configmap", "config-algorithms", "-n", tuning.SystemNamespace, "--type=merge", "-p", patch); err != nil {
		t.Fatal(err)
	}
	ns := namespace(t)
	createExperiment(t, ns, "grid", "grid", 4)
	s := waitSuggestions(t, ns, "grid", 4, settle)
	if got := condition(s, "FunctionReady"); !strings.Contains(got, "ConfigMapURL") || !strings.Contains(got, fn.url) {
		t.Errorf("FunctionReady = %s, want the config-algorithms URL %s", got, fn.url)
	}
	// Grid's first points, in its order.
	want := []string{"0.01 2 sgd", "0.01 2 adam", "0.01 2 ftrl", "0.01 3 sgd"}
	for i, a := range handedOut(t, s) {
		var v []string
		for _, pa := range a.ParameterAssignments {
			v = append(v, pa.Value)
		}
		if got := strings.Join(v, " "); got != want[i] {
			t.Errorf("suggestion %d = %s, want %s", i, got, want[i])
		}
	}
}

// The function goes away: the Suggestion says so; it comes back: the
// Suggestion recovers.
func TestFunctionGoesAwayAndComesBack(t *testing.T) {
	startController(t, "controller-flaky")
	ns := namespace(t)
	fn := startFunction(t, "random")
	createService(t, ns, "flaky", "flaky", fn.url)
	createExperiment(t, ns, "flaky", "flaky", 2)
	waitSuggestions(t, ns, "flaky", 2, settle)

	fn.stop()
	standIn.down(t, ns, "flaky")
	setRequests(t, ns, "flaky", 4)
	waitFor(t, settle, func() (bool, string) {
		s := getSuggestion(t, ns, "flaky")
		c := condition(s, "FunctionReady")
		return strings.Contains(c, "False/FunctionNotReady") && strings.Contains(c, "the function's revision has no running instance"), c
	})

	fn.start(t)
	standIn.serve(t, ns, "flaky", fn.url)
	waitSuggestions(t, ns, "flaky", 4, settle)
}

// The controller is killed in the middle of a run and started again: nothing
// is lost, nothing is handed out twice.
func TestControllerKilledMidRun(t *testing.T) {
	ns := namespace(t)
	fn := startFunction(t, "random")
	createService(t, ns, "random", "random", fn.url)
	names := []string{"a", "b", "c", "d"}
	for _, n := range names {
		createExperiment(t, ns, n, "random", 2)
	}
	c := startController(t, "controller-killed-1")
	for _, n := range names {
		waitSuggestions(t, ns, n, 2, settle)
	}
	for round, target := range []int32{5, 9, 14} {
		for _, n := range names {
			setRequests(t, ns, n, target)
		}
		time.Sleep(time.Duration(50*(round+1)) * time.Millisecond)
		c.stop(syscall.SIGKILL)
		c = startController(t, fmt.Sprintf("controller-killed-%d", round+2))
	}
	for _, n := range names {
		waitSuggestions(t, ns, n, 14, 3*settle)
	}
}

// Two replicas: one leads and acts; when it dies the other takes over.
func TestLeaderElection(t *testing.T) {
	ns := namespace(t)
	fn := startFunction(t, "random")
	createService(t, ns, "random", "random", fn.url)
	a := startController(t, "replica-a")
	b := startController(t, "replica-b")
	createExperiment(t, ns, "first", "random", 2)
	waitSuggestions(t, ns, "first", 2, settle)

	idA, idB := electionID(t, a.proc), electionID(t, b.proc)
	var survivor string
	switch leader := leaseHolder(t); leader {
	case idA:
		a.stop(syscall.SIGKILL)
		survivor = idB
	case idB:
		b.stop(syscall.SIGKILL)
		survivor = idA
	default:
		t.Fatalf("lease held by %q, want replica-a (%s) or replica-b (%s)", leader, idA, idB)
	}
	createExperiment(t, ns, "second", "random", 3)
	waitSuggestions(t, ns, "second", 3, 3*settle)
	if now := leaseHolder(t); now != survivor {
		t.Errorf("lease held by %q after the leader died, want the survivor %s", now, survivor)
	}
}

// electionID reads the identity a replica's Suggestion reconciler campaigns
// with from its log.
func electionID(t *testing.T, p *proc) string {
	t.Helper()
	var id string
	waitFor(t, settle, func() (bool, string) {
		b, err := os.ReadFile(p.log)
		if err != nil {
			return false, err.Error()
		}
		// Each reconciler campaigns with an id of its own: the Suggestion
		// reconciler's bucket is the one the test watches.
		m := regexp.MustCompile(`suggestion[^ "]* will run in leader-elected mode with id \\"([^"\\]+)\\"`).FindSubmatch(b)
		if m == nil {
			return false, "no leader-election id in " + p.log
		}
		id = string(m[1])
		return true, ""
	})
	return id
}

// leaseHolder returns the holder of the Suggestion reconciler's lease.
func leaseHolder(t *testing.T) string {
	t.Helper()
	out, err := env.cp.Kubectl(context.Background(), nil, "get", "leases", "-n", tuning.SystemNamespace,
		"-o", `jsonpath={range .items[*]}{.metadata.name}={.spec.holderIdentity}{"\n"}{end}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "suggestion") {
			return line[strings.Index(line, "=")+1:]
		}
	}
	t.Fatalf("no lease of the Suggestion reconciler in:\n%s", out)
	return ""
}

// A Suggestion without its Experiment says so.
func TestSuggestionWithoutExperiment(t *testing.T) {
	startController(t, "controller-orphan")
	ns := namespace(t)
	fn := startFunction(t, "random")
	createService(t, ns, "random", "random", fn.url)
	s := NewSuggestion("orphan", ns, WithRequests(2))
	if _, err := env.knobs.TuningV1alpha1().Suggestions(ns).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, settle, func() (bool, string) {
		c := condition(getSuggestion(t, ns, "orphan"), "Fulfilled")
		return strings.Contains(c, "False/ExperimentNotFound") && strings.Contains(c, `no Experiment "orphan"`), c
	})
}

// The API server itself refuses a malformed Experiment, naming the field.
func TestInvalidExperimentIsRefused(t *testing.T) {
	ns := namespace(t)
	yaml := fmt.Sprintf(`apiVersion: tuning.knobs.dev/v1alpha1
kind: Experiment
metadata:
  name: bad
  namespace: %s
spec:
  objective: {type: maximize, objectiveMetricName: accuracy}
  algorithm: {algorithmName: random}
  parameters:
  - name: --lr
    parameterType: double
    feasibleSpace: {min: "0.5", max: "0.1"}
`, ns)
	out, err := env.cp.Kubectl(context.Background(), strings.NewReader(yaml), "apply", "-f", "-")
	if err == nil {
		t.Fatalf("a min above max was accepted: %s", out)
	}
	if !strings.Contains(out, "spec.parameters[0].feasibleSpace") {
		t.Errorf("refusal does not name the field spec.parameters[0].feasibleSpace: %s", out)
	}
}
