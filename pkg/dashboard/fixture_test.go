package dashboard

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/benchmark"
	listers "knobs.dev/knobs/pkg/client/listers/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/reconciler"
)

// world holds the objects a dashboard under test reads, in real informer
// indexers.
type world struct {
	experiments, trials, suggestions cache.Indexer
}

func newWorld() *world {
	idx := func() cache.Indexer {
		return cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	}
	w := &world{experiments: idx(), trials: idx(), suggestions: idx()}
	if err := w.trials.AddIndexers(reconciler.TrialIndexers); err != nil {
		panic(err) // a fresh indexer has no index of that name
	}
	return w
}

func (w *world) listers() Listers {
	return Listers{
		Experiments: listers.NewExperimentLister(w.experiments),
		Trials:      w.trials,
		Suggestions: listers.NewSuggestionLister(w.suggestions),
	}
}

func (w *world) add(t testing.TB, objs ...any) {
	t.Helper()
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *v1alpha1.Experiment:
			err = w.experiments.Add(o)
		case *v1alpha1.Trial:
			err = w.trials.Add(o)
		case *v1alpha1.Suggestion:
			err = w.suggestions.Add(o)
		default:
			err = fmt.Errorf("%T is not ours", o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

var epoch = time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)

// branin is an Experiment minimising Branin over x1, x2, with a third
// parameter that does not matter, and n trials of which running are still
// running: every ended one has a learning curve of five steps.
func branin(ns, name string, n, running int) (*v1alpha1.Experiment, []*v1alpha1.Trial, *v1alpha1.Suggestion) {
	e := &v1alpha1.Experiment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: "uid-" + "name", CreationTimestamp: metav1.NewTime(epoch)},
		Spec: v1alpha1.ExperimentSpec{
			Objective: v1alpha1.ObjectiveSpec{Type: v1alpha1.ObjectiveTypeMinimize, ObjectiveMetricName: "loss", Goal: ptr.To(0.5), AdditionalMetricNames: []string{"accuracy"}},
			Algorithm: v1alpha1.AlgorithmSpec{AlgorithmName: "tpe"},
			Parameters: []v1alpha1.ParameterSpec{
				{Name: "x1", ParameterType: v1alpha1.ParameterTypeDouble, FeasibleSpace: v1alpha1.FeasibleSpace{Min: "-5", Max: "10"}},
				{Name: "x2", ParameterType: v1alpha1.ParameterTypeDouble, FeasibleSpace: v1alpha1.FeasibleSpace{Min: "0", Max: "15"}},
				{Name: "optimizer", ParameterType: v1alpha1.ParameterTypeCategorical, FeasibleSpace: v1alpha1.FeasibleSpace{List: []string{"sgd", "adam", "rmsprop"}}},
			},
			MaxTrialCount:      ptr.To(int32(n + 10)),
			ParallelTrialCount: ptr.To(int32(3)),
		},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var trials []*v1alpha1.Trial
	bestName, best := "", math.Inf(1)
	for i := 1; i <= n; i++ {
		x1, x2 := -5+15*rng.Float64(), 15*rng.Float64()
		opt := []string{"sgd", "adam", "rmsprop"}[rng.IntN(3)]
		loss := benchmark.BraninAt(x1, x2)
		tname := name + "-" + strconv.Itoa(i)
		tr := &v1alpha1.Trial{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: tname, Labels: map[string]string{tuning.ExperimentLabelKey: name},
				CreationTimestamp: metav1.NewTime(epoch.Add(time.Duration(i) * time.Second))},
			Spec: v1alpha1.TrialSpec{ParameterAssignments: []v1alpha1.ParameterAssignment{
				{Name: "x1", Value: strconv.FormatFloat(x1, 'g', -1, 64)},
				{Name: "x2", Value: strconv.FormatFloat(x2, 'g', -1, 64)},
				{Name: "optimizer", Value: opt},
			}},
		}
		tr.Status.InitializeConditions()
		tr.Status.StartTime = ptr.To(metav1.NewTime(epoch.Add(time.Duration(i) * time.Second)))
		steps := 5
		if i > n-running {
			steps = 2
			tr.Status.MarkRunning("the workload runs")
		} else {
			tr.Status.MarkSucceeded("the workload succeeded")
			tr.Status.CompletionTime = ptr.To(metav1.NewTime(epoch.Add(time.Duration(i+20) * time.Second)))
			if loss < best {
				bestName, best = tname, loss
			}
		}
		m := v1alpha1.Metric{Name: "loss", Value: strconv.FormatFloat(loss, 'g', -1, 64)}
		for s := 1; s <= steps; s++ {
			m.Curve = append(m.Curve, v1alpha1.CurvePoint{Step: int64(s), Value: strconv.FormatFloat(loss*(1+2/float64(s)), 'g', -1, 64)})
		}
		tr.Status.Observation = &v1alpha1.Observation{Metrics: []v1alpha1.Metric{m, {Name: "accuracy", Value: strconv.FormatFloat(1/(1+loss), 'f', 3, 64)}}}
		trials = append(trials, tr)
	}
	e.Status.InitializeConditions()
	e.Status.MarkRunning(v1alpha1.ExperimentReasonRunning, "%d trials running", running)
	e.Status.Trials = int32(n)
	e.Status.TrialsSucceeded = int32(n - running)
	e.Status.TrialsRunning = int32(running)
	for _, tr := range trials {
		if tr.Name == bestName {
			e.Status.CurrentOptimalTrial = &v1alpha1.OptimalTrial{BestTrialName: bestName, ParameterAssignments: tr.Spec.ParameterAssignments, Observation: tr.Status.Observation}
		}
	}
	s := &v1alpha1.Suggestion{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1alpha1.SuggestionSpec{Algorithm: e.Spec.Algorithm, Requests: int32(n)},
	}
	s.Status.SuggestionCount = int32(n)
	s.Status.FunctionURL = "http://tpe.knobs-system.svc.cluster.local"
	s.Status.AlgorithmSettings = []v1alpha1.AlgorithmSetting{{Name: "random_state", Value: "7"}}
	return e, trials, s
}

func addBranin(t testing.TB, w *world, ns, name string, n, running int) (*v1alpha1.Experiment, []*v1alpha1.Trial) {
	t.Helper()
	e, trials, s := branin(ns, name, n, running)
	w.add(t, e, s)
	for _, tr := range trials {
		w.add(t, tr)
	}
	return e, trials
}
