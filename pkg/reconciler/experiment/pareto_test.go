package experiment

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgotesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
	rtesting "knative.dev/pkg/reconciler/testing"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	. "knobs.dev/knobs/pkg/reconciler/testing"
)

// costAtMost bounds the metric cost from above.
func costAtMost(limit float64) ExperimentOption {
	return func(e *v1alpha1.Experiment) {
		e.Spec.Objective.Constraints = []v1alpha1.MetricConstraint{{Name: "cost", Max: ptr.To(limit)}}
	}
}

// latencyToo adds the objective of minimising latency.
func latencyToo(e *v1alpha1.Experiment) {
	e.Spec.Objective.AdditionalObjectives = []v1alpha1.AdditionalObjective{{Name: "latency", Type: v1alpha1.ObjectiveTypeMinimize}}
}

// noGoal removes the goal.
func noGoal(e *v1alpha1.Experiment) { e.Spec.Objective.Goal = nil }

// infeasible sets the count of trials that broke a constraint.
func infeasible(n int32) func(*v1alpha1.ExperimentStatus) {
	return func(st *v1alpha1.ExperimentStatus) { st.TrialsInfeasible = n }
}

// front sets the Pareto front's count and the trials listed, each given as
// its number, its assignment and its metrics (name, value...).
func front(count int32, trials ...listed) func(*v1alpha1.ExperimentStatus) {
	return func(st *v1alpha1.ExperimentStatus) {
		st.ParetoOptimalTrialCount = count
		for _, l := range trials {
			obs := &v1alpha1.Observation{}
			for i := 0; i+1 < len(l.metrics); i += 2 {
				obs.Metrics = append(obs.Metrics, v1alpha1.Metric{Name: l.metrics[i], Value: l.metrics[i+1]})
			}
			st.ParetoOptimalTrials = append(st.ParetoOptimalTrials, v1alpha1.OptimalTrial{BestTrialName: name + "-" + l.n, ParameterAssignments: Assignments(l.a...), Observation: obs})
		}
	}
}

// listed is a trial expected in status.paretoOptimalTrials.
type listed struct {
	n       string
	a       []string
	metrics []string
}

func TestReconcileObjectivesAndConstraints(t *testing.T) {
	goal := "trial mnist-2 reached Validation-accuracy=0.992, the goal being >= 0.99"
	table := rtesting.TableTest{{
		Name: "a trial that breaks a constraint, or does not report its metric, is infeasible: counted, and never the best",
		Key:  key,
		Objects: []runtime.Object{experiment(costAtMost(1), noGoal), suggestion(WithRequests(3), WithAssignments(a1, a2, a3), WithFulfilled),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.97", "cost", "2")),
			trial("2", a2, WithTrialSucceeded("Validation-accuracy", "0.95", "cost", "0.5")),
			trial("3", a3, WithTrialSucceeded("Validation-accuracy", "0.96"))},
		WantUpdates: []clientgotesting.UpdateActionImpl{{Object: suggestion(WithRequests(6), WithAssignments(a1, a2, a3), WithFulfilled)}},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(costAtMost(1), noGoal, status(all(
			counts(3, 0, 0, 3, 0, 0), infeasible(2), best("2", a2, "Validation-accuracy", "0.95", "cost", "0.5"),
			running("3 of at most 6 trials done, 0 active"))))}},
	}, {
		Name: "the goal is reached by a feasible trial only",
		Key:  key,
		Objects: []runtime.Object{experiment(costAtMost(1)), suggestion(WithRequests(4), WithAssignments(a1, a2, a3, a4)),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.999", "cost", "1.5")),
			trial("2", a2, WithTrialSucceeded("Validation-accuracy", "0.992", "cost", "1")),
			trial("3", a3, WithTrialRunning)},
		WantUpdates: []clientgotesting.UpdateActionImpl{{Object: trial("3", a3, WithTrialRunning, stopped)}},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(costAtMost(1), status(all(
			counts(3, 0, 1, 2, 0, 0), infeasible(1), best("2", a2, "Validation-accuracy", "0.992", "cost", "1"),
			func(st *v1alpha1.ExperimentStatus) {
				st.MarkSucceeded(v1alpha1.ExperimentReasonGoalReached, "%s", goal)
			})))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "ExperimentSucceeded", "%s", goal)},
	}, {
		Name: "an infeasible trial past the goal does not reach it",
		Key:  key,
		Objects: []runtime.Object{experiment(costAtMost(1)), suggestion(WithRequests(3), WithAssignments(a1, a2, a3), WithFulfilled),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.999", "cost", "1.5")),
			trial("2", a2, WithTrialRunning), trial("3", a3, WithTrialRunning)},
		WantUpdates: []clientgotesting.UpdateActionImpl{{Object: suggestion(WithRequests(4), WithAssignments(a1, a2, a3), WithFulfilled)}},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(costAtMost(1), status(all(
			counts(3, 0, 2, 1, 0, 0), infeasible(1), running("1 of at most 6 trials done, 2 active"))))}},
	}, {
		Name: "with a second objective, the Pareto front of the feasible trials is listed, the best objective metric first",
		Key:  key,
		Objects: []runtime.Object{experiment(latencyToo, costAtMost(1), noGoal, WithCounts(3, 5, 1)),
			suggestion(WithRequests(5), WithAssignments(a1, a2, a3, a4, a1)),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.9", "latency", "1", "cost", "0")),
			trial("2", a2, WithTrialSucceeded("Validation-accuracy", "0.95", "latency", "3", "cost", "0")),
			trial("3", a3, WithTrialSucceeded("Validation-accuracy", "0.93", "latency", "2", "cost", "1")),
			// Beaten by 3 in both objectives.
			trial("4", a4, WithTrialSucceeded("Validation-accuracy", "0.92", "latency", "5", "cost", "0")),
			// Would beat every other, but costs too much.
			trial("5", a1, WithTrialSucceeded("Validation-accuracy", "0.99", "latency", "0.5", "cost", "2"))},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(latencyToo, costAtMost(1), noGoal, WithCounts(3, 5, 1), status(all(
			counts(5, 0, 0, 5, 0, 0), infeasible(1),
			best("2", a2, "Validation-accuracy", "0.95", "latency", "3", "cost", "0"),
			front(3,
				listed{"2", a2, []string{"Validation-accuracy", "0.95", "latency", "3", "cost", "0"}},
				listed{"3", a3, []string{"Validation-accuracy", "0.93", "latency", "2", "cost", "1"}},
				listed{"1", a1, []string{"Validation-accuracy", "0.9", "latency", "1", "cost", "0"}}),
			func(st *v1alpha1.ExperimentStatus) {
				st.MarkSucceeded(v1alpha1.ExperimentReasonMaxTrialsReached, "5 trials ran, maxTrialCount being 5")
			})))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "ExperimentSucceeded", "5 trials ran, maxTrialCount being 5")},
	}, largeFront(t, 150)}
	table.Test(t, factory())
}

// largeFront is a row of n trials all on the Pareto front, accuracy and
// latency rising together, each with a curve the list leaves out: the
// status lists 100 of them, evenly spaced from the most accurate to the
// least, and counts n.
func largeFront(t *testing.T, n int) rtesting.TableRow {
	t.Helper()
	var objects []runtime.Object
	var as [][]string
	for range n {
		as = append(as, a1)
	}
	objects = append(objects, experiment(latencyToo, noGoal, WithCounts(3, int32(n), 1)), suggestion(WithRequests(int32(n)), WithAssignments(as...)))
	metrics := func(i int) []string {
		return []string{"Validation-accuracy", strconv.FormatFloat(0.5+float64(i)/1000, 'g', -1, 64), "latency", strconv.Itoa(i)}
	}
	withCurve := func(i int) TrialOption {
		return WithTrialStatus(func(st *v1alpha1.TrialStatus) {
			st.Observation.Metrics[1].Curve = []v1alpha1.CurvePoint{{Step: 1, Value: "9"}, {Step: 2, Value: strconv.Itoa(i)}}
		})
	}
	for i := range n {
		objects = append(objects, trial(strconv.Itoa(i+1), a1, WithTrialSucceeded(metrics(i)...), withCurve(i)))
	}
	// The best trial keeps its whole observation, curves and all.
	bestTrial := trial(strconv.Itoa(n), a1, WithTrialSucceeded(metrics(n-1)...), withCurve(n-1))
	var want []listed
	for j := range 100 {
		// The j-th of 100 evenly spaced positions along the front, best
		// (the last trial, most accurate) first.
		pos := int(math.Round(float64(j) * float64(n-1) / 99))
		i := n - 1 - pos
		want = append(want, listed{strconv.Itoa(i + 1), a1, metrics(i)})
	}
	done := fmt.Sprintf("%d trials ran, maxTrialCount being %d", n, n)
	return rtesting.TableRow{
		Name:    fmt.Sprintf("a front of %d trials: 100 listed, spread along it from the best objective metric", n),
		Key:     key,
		Objects: objects,
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(latencyToo, noGoal, WithCounts(3, int32(n), 1), status(all(
			counts(int32(n), 0, 0, int32(n), 0, 0), func(st *v1alpha1.ExperimentStatus) {
				st.CurrentOptimalTrial = &v1alpha1.OptimalTrial{BestTrialName: bestTrial.Name, ParameterAssignments: Assignments(a1...), Observation: bestTrial.Status.Observation}
			},
			front(int32(n), want...),
			func(st *v1alpha1.ExperimentStatus) {
				st.MarkSucceeded(v1alpha1.ExperimentReasonMaxTrialsReached, "%s", done)
			})))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "ExperimentSucceeded", "%s", done)},
	}
}

// TestParetoListKeepsToItsBudget checks that trials of long assignments
// are listed fewer, still spread from one end of the front to the other.
func TestParetoListKeepsToItsBudget(t *testing.T) {
	e := experiment(latencyToo)
	long := strings.Repeat("x", 250)
	var a []string
	for i := range 100 {
		a = append(a, fmt.Sprintf("%s%d", long, i), long)
	}
	var c paretoCandidates
	for i := range 120 {
		c.add(trial(strconv.Itoa(i+1), a, WithTrialSucceeded("Validation-accuracy", strconv.Itoa(i), "latency", strconv.Itoa(i))))
	}
	got, count := c.list(&e.Spec.Objective)
	if count != 120 {
		t.Errorf("count %d, want 120", count)
	}
	size := 0
	for i := range got {
		b, err := json.Marshal(&got[i])
		if err != nil {
			t.Fatal(err)
		}
		size += len(b)
	}
	if len(got) >= 100 || len(got) < 2 || size > paretoBudget {
		t.Fatalf("%d trials listed in %d bytes; want fewer than 100 and at least 2, within %d bytes", len(got), size, paretoBudget)
	}
	if first, last := got[0].BestTrialName, got[len(got)-1].BestTrialName; first != name+"-120" || last != name+"-1" {
		t.Errorf("listed from %s to %s; want from %s-120 (the most accurate) to %s-1", first, last, name, name)
	}
}
