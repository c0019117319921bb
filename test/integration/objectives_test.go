//go:build integration

package integration

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

// multiObjectiveAlgorithm is the algorithm TestMultiObjectiveExperiment
// runs examples/experiment-nsga2.yaml with (main_test.go builds its
// function): nsga2, as the example says; random, which ignores the
// objectives, checks the controller alone.
var multiObjectiveAlgorithm = "nsga2"

// withAlgorithm gives the example Experiment e another algorithm, keeping
// of its settings only random_state, which every algorithm takes.
func withAlgorithm(e *v1alpha1.Experiment, name string) {
	if e.Spec.Algorithm.AlgorithmName == name {
		return
	}
	e.Spec.Algorithm.AlgorithmName = name
	e.Spec.Algorithm.AlgorithmSettings = slices.DeleteFunc(e.Spec.Algorithm.AlgorithmSettings, func(s v1alpha1.AlgorithmSetting) bool {
		return s.Name != "random_state"
	})
}

// runExample runs an example Experiment, with algorithm and at most
// maxTrials trials, in a namespace of its own, and returns it ended.
func runExample(t *testing.T, file, algorithm string, maxTrials int32, change func(*v1alpha1.Experiment)) (*v1alpha1.Experiment, []v1alpha1.Trial) {
	t.Helper()
	startController(t, "controller-"+t.Name())
	ns := namespace(t)
	fn := startFunction(t, algorithm)
	createService(t, ns, algorithm, algorithm, fn.url)
	startNode(t, ns, nil)
	e := readExperiment(t, file)
	e.Namespace = ns
	withAlgorithm(e, algorithm)
	e.Spec.MaxTrialCount = ptr.To(maxTrials)
	if change != nil {
		change(e)
	}
	create(t, e)
	e = waitEnded(t, ns, e.Name, 4*time.Minute)
	trials := checkExperiment(t, e)
	if c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); !c.IsTrue() {
		t.Fatalf("Succeeded = %s", succeeded(e))
	}
	return e, trials
}

// value returns a metric's value in a trial's observation, and whether the
// trial reported it.
func value(t *testing.T, tr *v1alpha1.Trial, metric string) (float64, bool) {
	t.Helper()
	m := tr.Status.Observation.Metric(metric)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m.Value, 64)
	if err != nil {
		t.Errorf("trial %s: %s: %v", tr.Name, metric, err)
		return 0, false
	}
	return v, true
}

// reported is what a succeeded trial reported of two metrics.
type reported struct {
	name string
	a, b float64
}

// succeededWith returns the two metrics a and b of each succeeded trial,
// in the trials' order; a trial that did not report both is an error.
func succeededWith(t *testing.T, trials []v1alpha1.Trial, a, b string) []reported {
	t.Helper()
	var out []reported
	for i := range trials {
		tr := &trials[i]
		if tr.Status.Phase() != v1alpha1.TrialReasonSucceeded {
			continue
		}
		va, okA := value(t, tr, a)
		vb, okB := value(t, tr, b)
		if !okA || !okB {
			t.Errorf("trial %s reported %v; want %s and %s", tr.Name, tr.Status.Observation, a, b)
			continue
		}
		out = append(out, reported{tr.Name, va, vb})
	}
	return out
}

// The NSGA-II example's two objectives, branin and currin, both minimised,
// with currin bounded too: the status lists exactly the feasible trials no
// other feasible trial beats in both objectives, and the best trial is
// feasible.
func TestMultiObjectiveExperiment(t *testing.T) {
	const currinMax = 10.0
	e, trials := runExample(t, "examples/experiment-nsga2.yaml", multiObjectiveAlgorithm, 24, func(e *v1alpha1.Experiment) {
		e.Spec.Objective.Constraints = []v1alpha1.MetricConstraint{{Name: "currin", Max: ptr.To(currinMax)}}
	})
	// The front, worked out here: of the feasible succeeded trials, those
	// that no other is at least as good as in both objectives and better in
	// one.
	var feasible []reported // a is branin, b currin
	infeasible := 0
	for _, r := range succeededWith(t, trials, "branin", "currin") {
		if r.b > currinMax {
			infeasible++
			continue
		}
		feasible = append(feasible, r)
	}
	var want []string
	for _, p := range feasible {
		dominated := false
		for _, q := range feasible {
			if q.a <= p.a && q.b <= p.b && (q.a < p.a || q.b < p.b) {
				dominated = true
				break
			}
		}
		if !dominated {
			want = append(want, p.name)
		}
	}
	slices.Sort(want)
	var got []string
	prev := -1.0
	for i, ot := range e.Status.ParetoOptimalTrials {
		got = append(got, ot.BestTrialName)
		tr := trials[slices.IndexFunc(trials, func(tr v1alpha1.Trial) bool { return tr.Name == ot.BestTrialName })]
		for _, m := range []string{"branin", "currin"} {
			if ot.Observation.Metric(m) == nil || ot.Observation.Metric(m).Value != tr.Status.Observation.Metric(m).Value {
				t.Errorf("paretoOptimalTrials[%d] (%s): %s %v, the trial reported %v", i, ot.BestTrialName, m, ot.Observation.Metric(m), tr.Status.Observation.Metric(m))
			}
		}
		b, _ := value(t, &tr, "branin")
		if i > 0 && b < prev {
			t.Errorf("paretoOptimalTrials[%d] (%s) has branin %v, better than the one before (%v): want the best first", i, ot.BestTrialName, b, prev)
		}
		prev = b
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("paretoOptimalTrials %v, want the non-dominated feasible trials %v", got, want)
	}
	if int(e.Status.ParetoOptimalTrialCount) != len(want) {
		t.Errorf("paretoOptimalTrialCount %d, want %d", e.Status.ParetoOptimalTrialCount, len(want))
	}
	if int(e.Status.TrialsInfeasible) != infeasible {
		t.Errorf("trialsInfeasible %d, want %d (currin above %v)", e.Status.TrialsInfeasible, infeasible, currinMax)
	}
	best := e.Status.CurrentOptimalTrial
	if best == nil {
		t.Fatal("no currentOptimalTrial")
	}
	if c, err := strconv.ParseFloat(best.Observation.Metric("currin").Value, 64); err != nil || c > currinMax {
		t.Errorf("the best trial %s is infeasible: currin %v (%v)", best.BestTrialName, c, err)
	}
	if !slices.Contains(want, best.BestTrialName) {
		t.Errorf("the best trial %s, best at branin of the feasible trials, is not on the front %v", best.BestTrialName, want)
	}
	t.Logf("%s: %d trials, %d infeasible, %d on the front: %v", multiObjectiveAlgorithm, len(trials), infeasible, len(want), want)
}

// The constrained Branin example: some trials fall outside the disc. The
// best trial is the best of those inside it, and trialsInfeasible counts
// the others.
func TestConstrainedExperiment(t *testing.T) {
	e, trials := runExample(t, "examples/experiment-bayesopt-constraints.yaml", "random", 20, nil)
	var best string
	bestLoss := 0.0
	infeasible := 0
	for _, r := range succeededWith(t, trials, "loss", "disc") {
		if r.b > 0 {
			infeasible++
			continue
		}
		if best == "" || r.a < bestLoss {
			best, bestLoss = r.name, r.a
		}
	}
	if infeasible == 0 || best == "" {
		t.Fatalf("%d of %d trials infeasible; want some of each", infeasible, len(trials))
	}
	if int(e.Status.TrialsInfeasible) != infeasible {
		t.Errorf("trialsInfeasible %d, want %d", e.Status.TrialsInfeasible, infeasible)
	}
	got := e.Status.CurrentOptimalTrial
	if got == nil || got.BestTrialName != best {
		t.Fatalf("currentOptimalTrial %+v, want %s (loss %v), the best inside the disc", got, best, bestLoss)
	}
	if d, err := strconv.ParseFloat(got.Observation.Metric("disc").Value, 64); err != nil || d > 0 {
		t.Errorf("the best trial's disc is %v (%v): infeasible", d, err)
	}
	if len(e.Status.ParetoOptimalTrials) != 0 || e.Status.ParetoOptimalTrialCount != 0 {
		t.Errorf("one objective, yet %d Pareto-optimal trials listed (%d counted)", len(e.Status.ParetoOptimalTrials), e.Status.ParetoOptimalTrialCount)
	}
	t.Logf("%d trials, %d infeasible; best %s, loss %v", len(trials), infeasible, best, bestLoss)
}

// The API server refuses an objective whose additional objective repeats
// the objective metric, or whose constraint has min above max, or none of
// the two, naming each field.
func TestInvalidObjectivesAreRefused(t *testing.T) {
	ns := namespace(t)
	yaml := fmt.Sprintf(`apiVersion: tuning.knobs.dev/v1alpha1
kind: Experiment
metadata:
  name: bad-objectives
  namespace: %s
spec:
  objective:
    type: maximize
    objectiveMetricName: accuracy
    additionalObjectives:
    - {name: accuracy, type: minimize}
    constraints:
    - {name: cost, min: 2, max: 1}
    - {name: memory}
  algorithm: {algorithmName: random}
  parameters:
  - name: --lr
    parameterType: double
    feasibleSpace: {min: "0.1", max: "0.5"}
`, ns)
	out, err := env.cp.Kubectl(context.Background(), strings.NewReader(yaml), "apply", "-f", "-")
	if err == nil {
		t.Fatalf("the objective was accepted: %s", out)
	}
	for _, want := range []string{
		"spec.objective.additionalObjectives: Invalid value",
		"spec.objective.constraints[0].min: Invalid value",
		"spec.objective.constraints[1]: Invalid value",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the refusal does not say %q: %s", want, out)
		}
	}
}

// The conditional example, run by TPE: momentum is assigned exactly to the
// trials whose optimizer is momentum, and the argument that names it is
// left out of the other trials' Jobs (the trial program refuses it with
// another optimizer, so every trial succeeding says so too).
func TestConditionalExperiment(t *testing.T) {
	e, trials := runExample(t, "examples/experiment-tpe-conditional.yaml", "tpe", 9, func(e *v1alpha1.Experiment) {
		e.Spec.TrialTemplate.Retain = true
		e.Spec.Objective.Goal = nil
	})
	kube := kubernetes.NewForConfigOrDie(env.cp.Config)
	optimizers := map[string]int{}
	for i := range trials {
		tr := &trials[i]
		if tr.Status.Phase() != v1alpha1.TrialReasonSucceeded {
			t.Errorf("trial %s: %s, want succeeded", tr.Name, tr.Status.Phase())
		}
		got := map[string]string{}
		for _, a := range tr.Spec.ParameterAssignments {
			got[a.Name] = a.Value
		}
		optimizer := got["optimizer"]
		optimizers[optimizer]++
		if _, has := got["momentum"]; has != (optimizer == "momentum") {
			t.Errorf("trial %s: optimizer %q, momentum assigned %v", tr.Name, optimizer, has)
		}
		job, err := kube.BatchV1().Jobs(e.Namespace).Get(context.Background(), tr.Name, metav1.GetOptions{})
		if err != nil {
			t.Errorf("trial %s: %v", tr.Name, err)
			continue
		}
		args := strings.Join(job.Spec.Template.Spec.Containers[0].Args, " ")
		if strings.Contains(args, "--momentum") != (optimizer == "momentum") {
			t.Errorf("trial %s: optimizer %q, args %q", tr.Name, optimizer, args)
		}
	}
	if optimizers["momentum"] == 0 || len(optimizers) < 2 {
		t.Fatalf("optimizers %v: want trials with momentum and without", optimizers)
	}
	t.Logf("%d trials, optimizers %v", len(trials), optimizers)
}
