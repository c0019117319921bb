// Package dashboardtest holds Experiments, with their trials as they
// reported, for tests of the dashboard and of what reads the same
// resources.
package dashboardtest

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

// TradeOff is an Experiment, created at start, minimising loss and
// maximising throughput, the one at the other's cost, with memory at most
// 512, and n trials, a minute apart, that have reported all three: every
// fourth asks for more memory, and may break the constraint; the last runs
// still. Its best trial is the feasible one of least loss. The same
// arguments make the same Experiment.
func TradeOff(ns, name string, n int, start time.Time) (*v1alpha1.Experiment, []*v1alpha1.Trial) {
	e := &v1alpha1.Experiment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: "uid-trade-off", CreationTimestamp: metav1.NewTime(start)},
		Spec: v1alpha1.ExperimentSpec{
			Objective: v1alpha1.ObjectiveSpec{
				Type: v1alpha1.ObjectiveTypeMinimize, ObjectiveMetricName: "loss",
				AdditionalObjectives: []v1alpha1.AdditionalObjective{{Name: "throughput", Type: v1alpha1.ObjectiveTypeMaximize}},
				Constraints:          []v1alpha1.MetricConstraint{{Name: "memory", Max: ptr.To(512.0)}},
			},
			Algorithm: v1alpha1.AlgorithmSpec{AlgorithmName: "nsga2"},
			Parameters: []v1alpha1.ParameterSpec{
				{Name: "width", ParameterType: v1alpha1.ParameterTypeInt, FeasibleSpace: v1alpha1.FeasibleSpace{Min: "16", Max: "1024"}},
				{Name: "lr", ParameterType: v1alpha1.ParameterTypeDouble, FeasibleSpace: v1alpha1.FeasibleSpace{Min: "0.0001", Max: "0.1", Distribution: v1alpha1.DistributionLogUniform}},
			},
			MaxTrialCount: ptr.To(int32(n + 10)),
		},
	}
	e.Status.InitializeConditions()
	e.Status.MarkRunning(v1alpha1.ExperimentReasonRunning, "1 trial running")
	rng := rand.New(rand.NewPCG(5, 6))
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	var trials []*v1alpha1.Trial
	best := math.Inf(1)
	for i := 1; i <= n; i++ {
		u, lr := rng.Float64(), math.Pow(10, -4+3*rng.Float64())
		width := 16 + int(1008*u)
		// A wider model learns better and runs slower; a learning rate far
		// from 0.01 costs loss.
		loss := 0.1 + 0.5*(1-u) + 0.1*math.Abs(math.Log10(lr)+2) + 0.05*rng.Float64()
		throughput := 2000*(1-0.8*u) + 100*rng.Float64()
		memory := 64 + 400*u
		if i%4 == 0 {
			memory += 200
		}
		tr := &v1alpha1.Trial{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-" + strconv.Itoa(i), Labels: map[string]string{tuning.ExperimentLabelKey: name},
				CreationTimestamp: metav1.NewTime(start.Add(time.Duration(i) * time.Minute))},
			Spec: v1alpha1.TrialSpec{ParameterAssignments: []v1alpha1.ParameterAssignment{{Name: "width", Value: strconv.Itoa(width)}, {Name: "lr", Value: f(lr)}}},
		}
		tr.Status.InitializeConditions()
		tr.Status.StartTime = ptr.To(metav1.NewTime(start.Add(time.Duration(i) * time.Minute)))
		tr.Status.Observation = &v1alpha1.Observation{Metrics: []v1alpha1.Metric{{Name: "loss", Value: f(loss)}, {Name: "throughput", Value: f(throughput)}, {Name: "memory", Value: f(memory)}}}
		if i == n {
			tr.Status.MarkRunning("the workload runs")
		} else {
			tr.Status.MarkSucceeded("the workload succeeded")
			tr.Status.CompletionTime = ptr.To(metav1.NewTime(start.Add(time.Duration(i)*time.Minute + 50*time.Second)))
			if memory <= 512 && loss < best {
				best = loss
				e.Status.CurrentOptimalTrial = &v1alpha1.OptimalTrial{BestTrialName: tr.Name, ParameterAssignments: tr.Spec.ParameterAssignments, Observation: tr.Status.Observation}
			}
		}
		trials = append(trials, tr)
	}
	e.Status.Trials, e.Status.TrialsSucceeded, e.Status.TrialsRunning = int32(n), int32(n-1), 1
	return e, trials
}
