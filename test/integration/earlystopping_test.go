//go:build integration

package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	. "knobs.dev/knobs/pkg/reconciler/testing"
)

// ridge trains the ridge task of the trial program for 8 epochs, pausing
// after each as a larger model would take, and reports its loss each epoch.
const ridge = `apiVersion: batch/v1
kind: Job
metadata:
  name: {{.Trial}}
  namespace: {{.NameSpace}}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: trial
          image: registry.example.com/knobs/trial
          args:
            - --task=ridge
            - --epochs=8
            - --epoch-delay=300ms
{{- range .HyperParameters}}
            - "{{.Name}}={{.Value}}"
{{- end}}
`

const ridgeEpochs = 8

// ridgeExperiment tunes the ridge task's learning rate and optimizer by
// random search with a fixed seed: the same assignments with early stopping
// or without. Small learning rates with sgd learn slowly, and lose.
func ridgeExperiment(name, ns string, es *v1alpha1.EarlyStoppingSpec) *v1alpha1.Experiment {
	return NewExperiment(name, ns, WithExperimentAlgorithm("random", "random_state", "3"), WithCounts(3, 9, 0), func(e *v1alpha1.Experiment) {
		e.Spec.Objective = v1alpha1.ObjectiveSpec{Type: v1alpha1.ObjectiveTypeMinimize, ObjectiveMetricName: "loss"}
		e.Spec.Parameters = []v1alpha1.ParameterSpec{
			{Name: "--lr", ParameterType: v1alpha1.ParameterTypeDouble, FeasibleSpace: v1alpha1.FeasibleSpace{Min: "0.0001", Max: "0.05", Distribution: v1alpha1.DistributionLogUniform}},
			{Name: "--optimizer", ParameterType: v1alpha1.ParameterTypeCategorical, FeasibleSpace: v1alpha1.FeasibleSpace{List: []string{"sgd", "adam"}}},
		}
		e.Spec.TrialTemplate = &v1alpha1.TrialTemplate{GoTemplate: &v1alpha1.GoTemplate{RawTemplate: ridge}}
		e.Spec.EarlyStopping = es
	})
}

// steps is the epochs the trials ran: the last step of each one's loss curve.
func steps(trials []v1alpha1.Trial) int64 {
	var n int64
	for _, tr := range trials {
		if m := tr.Status.Observation.Metric("loss"); m != nil && len(m.Curve) > 0 {
			n += m.Curve[len(m.Curve)-1].Step
		}
	}
	return n
}

// An Experiment with medianstop stops its losing trials: their Jobs are
// deleted and they end EarlyStopped, keeping what they reported; the
// Experiment counts them as done, never as failed, and ends with every
// trial run, having spent fewer epochs than the same Experiment without
// early stopping.
func TestEarlyStoppingStopsLosingTrials(t *testing.T) {
	startController(t, "controller-earlystopping")
	random := startFunction(t, "random")
	medianstop := startFunction(t, "medianstop")
	kube := kubernetes.NewForConfigOrDie(env.cp.Config)

	run := func(t *testing.T, es *v1alpha1.EarlyStoppingSpec) (*v1alpha1.Experiment, []v1alpha1.Trial) {
		ns := namespace(t)
		createService(t, ns, "random", "random", random.url)
		createService(t, ns, "medianstop", "medianstop", medianstop.url)
		startNode(t, ns, nil)
		create(t, ridgeExperiment("ridge", ns, es))
		e := waitEnded(t, ns, "ridge", 3*time.Minute)
		trials := checkExperiment(t, e)
		e = getExperiment(t, ns, "ridge")
		if c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); !c.IsTrue() || c.Reason != v1alpha1.ExperimentReasonMaxTrialsReached || len(trials) != 9 {
			t.Fatalf("%s with %d trials; want MaxTrialsReached with 9", succeeded(e), len(trials))
		}
		return e, trials
	}

	var with, without int64
	t.Run("with medianstop", func(t *testing.T) {
		t.Parallel()
		e, trials := run(t, &v1alpha1.EarlyStoppingSpec{AlgorithmName: "medianstop", AlgorithmSettings: []v1alpha1.AlgorithmSetting{
			{Name: "min_trials_required", Value: "2"}, {Name: "start_step", Value: "2"}}})
		with = steps(trials)
		if e.Status.TrialsEarlyStopped == 0 || e.Status.TrialsFailed != 0 || e.Status.TrialsSucceeded+e.Status.TrialsEarlyStopped != 9 {
			t.Errorf("%d succeeded, %d stopped early, %d failed; want some stopped early, none failed, 9 in all",
				e.Status.TrialsSucceeded, e.Status.TrialsEarlyStopped, e.Status.TrialsFailed)
		}
		cut := 0
		for _, tr := range trials {
			if tr.Status.Phase() != v1alpha1.TrialReasonEarlyStopped {
				continue
			}
			c := tr.Status.GetCondition(v1alpha1.TrialConditionSucceeded)
			m := tr.Status.Observation.Metric("loss")
			if !tr.Spec.Stop || tr.Spec.StopReason != v1alpha1.TrialReasonEarlyStopped || !c.IsTrue() ||
				!strings.Contains(c.Message, "stopped early by medianstop: loss") || m == nil || len(m.Curve) < 2 {
				t.Errorf("trial %s: spec %+v, condition %+v, loss %+v; want it stopped early, its curve kept", tr.Name, tr.Spec, c, m)
			}
			// A trial judged at its last report may end before its
			// workload is stopped; the others are cut short.
			if last := m.Curve[len(m.Curve)-1].Step; last < ridgeEpochs {
				cut++
			}
			if _, err := kube.BatchV1().Jobs(tr.Namespace).Get(context.Background(), tr.Name, metav1.GetOptions{}); err == nil {
				t.Errorf("trial %s stopped early kept its Job", tr.Name)
			}
		}
		if cut == 0 {
			t.Errorf("no trial stopped early was cut short of its %d epochs", ridgeEpochs)
		}
		s := getSuggestion(t, e.Namespace, e.Name)
		if c := s.Status.GetCondition(v1alpha1.SuggestionConditionEarlyStopping); c == nil || !c.IsTrue() {
			t.Errorf("Suggestion's EarlyStopping condition %+v, want True", c)
		}
		t.Logf("%d trials stopped early; %d epochs in all", e.Status.TrialsEarlyStopped, with)
	})
	t.Run("without", func(t *testing.T) {
		t.Parallel()
		e, trials := run(t, nil)
		without = steps(trials)
		if e.Status.TrialsSucceeded != 9 || without != 9*ridgeEpochs {
			t.Errorf("%d succeeded after %d epochs; want 9 after %d", e.Status.TrialsSucceeded, without, 9*ridgeEpochs)
		}
	})
	t.Cleanup(func() {
		if with > 0 && with >= without {
			t.Errorf("%d epochs with early stopping, %d without; want fewer with it", with, without)
		}
		t.Logf("early stopping: %d epochs with medianstop, %d without", with, without)
	})
}
