package experiment

import (
	"context"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgotesting "k8s.io/client-go/testing"
	"knative.dev/pkg/configmap"
	"knative.dev/pkg/controller"
	"knative.dev/pkg/logging"
	logtesting "knative.dev/pkg/logging/testing"
	rtesting "knative.dev/pkg/reconciler/testing"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	fakeknobs "knobs.dev/knobs/pkg/client/clientset/versioned/fake"
	fakeknobsclient "knobs.dev/knobs/pkg/client/injection/client/fake"
	experimentreconciler "knobs.dev/knobs/pkg/client/injection/reconciler/tuning/v1alpha1/experiment"
	"knobs.dev/knobs/pkg/reconciler/experiment/resources"
	. "knobs.dev/knobs/pkg/reconciler/testing"
	"knobs.dev/knobs/pkg/trialtemplate"
)

const (
	ns   = "tuning"
	name = "mnist"
	key  = ns + "/" + name
)

var (
	a1 = []string{"--lr", "0.01", "--num-layers", "2", "--optimizer", "sgd"}
	a2 = []string{"--lr", "0.015", "--num-layers", "3", "--optimizer", "adam"}
	a3 = []string{"--lr", "0.02", "--num-layers", "4", "--optimizer", "ftrl"}
	a4 = []string{"--lr", "0.025", "--num-layers", "5", "--optimizer", "sgd"}
)

// experiment is the Experiment under test: parallel 3, at most 6 trials, at
// most 1 failure, goal accuracy 0.99; opts change it.
func experiment(opts ...ExperimentOption) *v1alpha1.Experiment {
	return NewExperiment(name, ns, append([]ExperimentOption{WithCounts(3, 6, 1)}, opts...)...)
}

// status builds an expected status: conditions initialized, then f.
func status(f func(*v1alpha1.ExperimentStatus)) ExperimentOption {
	return WithExperimentStatus(func(st *v1alpha1.ExperimentStatus) {
		st.InitializeConditions()
		f(st)
	})
}

func suggestion(opts ...SuggestionOption) *v1alpha1.Suggestion {
	return NewSuggestion(name, ns, append([]SuggestionOption{WithOwner(experiment())}, opts...)...)
}

func trial(n string, a []string, opts ...TrialOption) *v1alpha1.Trial {
	return NewTrial(name+"-"+n, ns, name, a, append([]TrialOption{WithTrialOwner(experiment())}, opts...)...)
}

// created is the Trial the reconciler creates for an assignment.
func created(t *testing.T, e *v1alpha1.Experiment, n string, a []string) runtime.Object {
	t.Helper()
	tr, err := resources.MakeTrial(e, v1alpha1.TrialAssignment{Name: name + "-" + n, ParameterAssignments: Assignments(a...)})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func best(n string, a []string, metrics ...string) func(*v1alpha1.ExperimentStatus) {
	return func(st *v1alpha1.ExperimentStatus) {
		obs := &v1alpha1.Observation{}
		for i := 0; i+1 < len(metrics); i += 2 {
			obs.Metrics = append(obs.Metrics, v1alpha1.Metric{Name: metrics[i], Value: metrics[i+1]})
		}
		st.CurrentOptimalTrial = &v1alpha1.OptimalTrial{BestTrialName: name + "-" + n, ParameterAssignments: Assignments(a...), Observation: obs}
	}
}

func all(fs ...func(*v1alpha1.ExperimentStatus)) func(*v1alpha1.ExperimentStatus) {
	return func(st *v1alpha1.ExperimentStatus) {
		for _, f := range fs {
			f(st)
		}
	}
}

func counts(trials, pending, running, succeeded, failed, mu int32) func(*v1alpha1.ExperimentStatus) {
	return func(st *v1alpha1.ExperimentStatus) {
		st.Trials, st.TrialsPending, st.TrialsRunning, st.TrialsSucceeded, st.TrialsFailed, st.TrialsMetricsUnavailable = trials, pending, running, succeeded, failed, mu
	}
}

func running(format string, args ...interface{}) func(*v1alpha1.ExperimentStatus) {
	return func(st *v1alpha1.ExperimentStatus) { st.MarkRunning(v1alpha1.ExperimentReasonRunning, format, args...) }
}

// finish lets the trials under way run to their end when the Experiment
// ends.
func finish(e *v1alpha1.Experiment) { e.Spec.TrialsOnEnd = v1alpha1.TrialsOnEndFinish }

// neverResume makes the Experiment's end final.
func neverResume(e *v1alpha1.Experiment) { e.Spec.ResumePolicy = v1alpha1.NeverResume }

// stopped is a Trial the Experiment asked to stop.
func stopped(tr *v1alpha1.Trial) { tr.Spec.Stop = true }

// killed is a Trial stopped before its workload ended, with an observation.
func killed(metrics ...string) TrialOption {
	return func(tr *v1alpha1.Trial) {
		WithTrialSucceeded(metrics...)(tr)
		tr.Spec.Stop = true
		tr.Status.MarkKilled("Job %s was deleted: the trial was stopped", tr.Name)
	}
}

// earlyStopped is a Trial its early-stopping algorithm stopped, with an
// observation.
func earlyStopped(metrics ...string) TrialOption {
	return func(tr *v1alpha1.Trial) {
		WithTrialSucceeded(metrics...)(tr)
		tr.Spec.Stop, tr.Spec.StopReason = true, v1alpha1.TrialReasonEarlyStopped
		tr.Status.MarkEarlyStopped("stopped early by medianstop (Job %s was deleted: the trial was stopped)", tr.Name)
	}
}

func killedCount(n int32) func(*v1alpha1.ExperimentStatus) {
	return func(st *v1alpha1.ExperimentStatus) { st.TrialsKilled = n }
}

func TestReconcile(t *testing.T) {
	jobTemplate := &v1alpha1.TrialTemplate{GoTemplate: &v1alpha1.GoTemplate{RawTemplate: `apiVersion: batch/v1
kind: Job
metadata:
  name: {{.Trial}}
  namespace: {{.NameSpace}}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: trial
          image: trial
          args:
{{- range .HyperParameters}}
            - "{{.Name}}={{.Value}}"
{{- end}}
`}}
	brokenTemplate := &v1alpha1.TrialTemplate{GoTemplate: &v1alpha1.GoTemplate{RawTemplate: "apiVersion: batch/v1\nkind: Job\nspec:\n  args: {{range .HyperParameters}}\n"}}
	templated := experiment(WithTrialTemplate(jobTemplate))

	table := rtesting.TableTest{{
		Name: "bad workqueue key",
		Key:  "too/many/parts",
	}, {
		Name: "key not found",
		Key:  "foo/not-found",
	}, {
		Name:    "a new Experiment gets its Suggestion, asking for parallelTrialCount assignments",
		Key:     key,
		Objects: []runtime.Object{experiment()},
		WantCreates: []runtime.Object{
			resources.MakeSuggestion(experiment(), 3),
		},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(status(func(st *v1alpha1.ExperimentStatus) {
			st.MarkRunning(v1alpha1.ExperimentReasonRunning, "asked the random function for 3 assignments")
		}))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "SuggestionCreated", `created Suggestion "mnist" asking for 3 assignments`)},
	}, {
		Name:    "never more than maxTrialCount asked for, even at first",
		Key:     key,
		Objects: []runtime.Object{experiment(WithCounts(5, 2, 0))},
		WantCreates: []runtime.Object{
			resources.MakeSuggestion(experiment(), 2),
		},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(WithCounts(5, 2, 0), status(func(st *v1alpha1.ExperimentStatus) {
			st.MarkRunning(v1alpha1.ExperimentReasonRunning, "asked the random function for 2 assignments")
		}))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "SuggestionCreated", `created Suggestion "mnist" asking for 2 assignments`)},
	}, {
		Name:    "a Trial for each assignment handed out, with the rendered workload",
		Key:     key,
		Objects: []runtime.Object{templated, suggestion(WithRequests(3), WithAssignments(a1, a2, a3), WithFulfilled), trial("1", a1, WithTrialRunning)},
		WantCreates: []runtime.Object{
			created(t, templated, "2", a2),
			created(t, templated, "3", a3),
		},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(WithTrialTemplate(jobTemplate), status(all(
			counts(3, 2, 1, 0, 0, 0), running("0 of at most 6 trials done, 3 active"))))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "TrialCreated", "created 2 trials; 3 in all")},
	}, {
		Name: "finished trials open slots: requests rise, and the best trial is recorded",
		Key:  key,
		Objects: []runtime.Object{experiment(), suggestion(WithRequests(3), WithAssignments(a1, a2, a3), WithFulfilled),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.91")),
			trial("2", a2, WithTrialSucceeded("Validation-accuracy", "0.95")),
			trial("3", a3, WithTrialRunning)},
		WantUpdates: []clientgotesting.UpdateActionImpl{{Object: suggestion(WithRequests(5), WithAssignments(a1, a2, a3), WithFulfilled)}},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(status(all(
			counts(3, 0, 1, 2, 0, 0), best("2", a2, "Validation-accuracy", "0.95"), running("2 of at most 6 trials done, 1 active"))))}},
	}, {
		Name: "a trial stopped early counts as done, never as failed, and may be the best; early stopping reaches the Suggestion",
		Key:  key,
		Objects: []runtime.Object{experiment(WithEarlyStopping("medianstop", "start_step", "2")), suggestion(WithRequests(3), WithAssignments(a1, a2, a3), WithFulfilled),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.91")),
			trial("2", a2, earlyStopped("Validation-accuracy", "0.95")),
			trial("3", a3, WithTrialRunning)},
		WantUpdates: []clientgotesting.UpdateActionImpl{{Object: suggestion(WithRequests(5), WithAssignments(a1, a2, a3), WithFulfilled,
			WithSuggestionEarlyStopping("medianstop", "start_step", "2"))}},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(WithEarlyStopping("medianstop", "start_step", "2"), status(all(
			counts(3, 0, 1, 1, 0, 0), func(st *v1alpha1.ExperimentStatus) { st.TrialsEarlyStopped = 1 },
			best("2", a2, "Validation-accuracy", "0.95"), running("2 of at most 6 trials done, 1 active"))))}},
	}, {
		Name: "early stopping that cannot judge says so in the Experiment's condition",
		Key:  key,
		Objects: []runtime.Object{experiment(WithEarlyStopping("medianstop")),
			suggestion(WithRequests(3), WithAssignments(a1, a2, a3), WithFulfilled, WithSuggestionEarlyStopping("medianstop"), func(s *v1alpha1.Suggestion) {
				s.Status.MarkEarlyStoppingFailed(v1alpha1.ReasonFunctionNotFound, "no function for algorithm \"medianstop\"")
			}),
			trial("1", a1, WithTrialRunning), trial("2", a2, WithTrialRunning), trial("3", a3, WithTrialRunning)},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(WithEarlyStopping("medianstop"), status(all(
			counts(3, 0, 3, 0, 0, 0), running("0 of at most 6 trials done, 3 active; early stopping: no function for algorithm \"medianstop\""))))}},
	}, {
		Name: "requests asked for and not yet handed out count as in flight",
		Key:  key,
		Objects: []runtime.Object{experiment(), suggestion(WithRequests(4), WithAssignments(a1, a2, a3)),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.91")),
			trial("2", a2, WithTrialRunning),
			trial("3", a3, WithTrialRunning)},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(status(all(
			counts(3, 0, 2, 1, 0, 0), best("1", a1, "Validation-accuracy", "0.91"), running("1 of at most 6 trials done, 2 active"))))}},
	}, {
		Name: "a minimising objective keeps the smallest value",
		Key:  key,
		Objects: []runtime.Object{
			experiment(func(e *v1alpha1.Experiment) {
				e.Spec.Objective.Type = v1alpha1.ObjectiveTypeMinimize
				e.Spec.Objective.Goal = nil
			}),
			suggestion(WithRequests(3), WithAssignments(a1, a2, a3)),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.91")),
			trial("2", a2, WithTrialSucceeded("Validation-accuracy", "0.95")),
			trial("3", a3, WithTrialSucceeded("Validation-accuracy", "not a number"))},
		WantUpdates: []clientgotesting.UpdateActionImpl{{Object: suggestion(WithRequests(6), WithAssignments(a1, a2, a3))}},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(
			func(e *v1alpha1.Experiment) {
				e.Spec.Objective.Type = v1alpha1.ObjectiveTypeMinimize
				e.Spec.Objective.Goal = nil
			},
			status(all(counts(3, 0, 0, 3, 0, 0), best("1", a1, "Validation-accuracy", "0.91"), running("3 of at most 6 trials done, 0 active"))))}},
	}, {
		Name: "the goal reached: it ends at once, and the trials under way are stopped",
		Key:  key,
		Objects: []runtime.Object{experiment(), suggestion(WithRequests(4), WithAssignments(a1, a2, a3, a4)),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.995")),
			trial("2", a2, WithTrialRunning),
			trial("3", a3, WithTrialPending)},
		WantUpdates: []clientgotesting.UpdateActionImpl{
			{Object: trial("2", a2, WithTrialRunning, stopped)},
			{Object: trial("3", a3, WithTrialPending, stopped)},
		},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(status(all(
			counts(3, 1, 1, 1, 0, 0), best("1", a1, "Validation-accuracy", "0.995"),
			func(st *v1alpha1.ExperimentStatus) {
				st.MarkSucceeded(v1alpha1.ExperimentReasonGoalReached, "trial mnist-1 reached Validation-accuracy=0.995, the goal being >= 0.99")
			})))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "ExperimentSucceeded", "trial mnist-1 reached Validation-accuracy=0.995, the goal being >= 0.99")},
	}, {
		Name: "an ended experiment stops the trials still under way, and counts the stopped ones as killed, never the best",
		Key:  key,
		Objects: []runtime.Object{
			experiment(status(func(st *v1alpha1.ExperimentStatus) { st.MarkSucceeded(v1alpha1.ExperimentReasonGoalReached, "done") })),
			suggestion(WithRequests(3), WithAssignments(a1, a2, a3)),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.995")),
			trial("2", a2, killed("Validation-accuracy", "0.999")),
			trial("3", a3, WithTrialRunning)},
		WantUpdates: []clientgotesting.UpdateActionImpl{{Object: trial("3", a3, WithTrialRunning, stopped)}},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(status(all(
			func(st *v1alpha1.ExperimentStatus) { st.MarkSucceeded(v1alpha1.ExperimentReasonGoalReached, "done") },
			counts(3, 0, 1, 1, 0, 0), killedCount(1), best("1", a1, "Validation-accuracy", "0.995"))))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "TrialsStopped", "stopped 1 trials: the Experiment has ended (GoalReached)")},
	}, {
		Name: "a trial asked to stop is not asked again",
		Key:  key,
		Objects: []runtime.Object{
			experiment(status(func(st *v1alpha1.ExperimentStatus) { st.MarkSucceeded(v1alpha1.ExperimentReasonGoalReached, "done") })),
			suggestion(WithRequests(2), WithAssignments(a1, a2)),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.995")),
			trial("2", a2, WithTrialRunning, stopped)},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(status(all(
			func(st *v1alpha1.ExperimentStatus) { st.MarkSucceeded(v1alpha1.ExperimentReasonGoalReached, "done") },
			counts(2, 0, 1, 1, 0, 0), best("1", a1, "Validation-accuracy", "0.995"))))}},
	}, {
		Name: "an ended experiment with trialsOnEnd Finish lets its trials run on",
		Key:  key,
		Objects: []runtime.Object{
			experiment(finish, status(func(st *v1alpha1.ExperimentStatus) {
				st.MarkFailed(v1alpha1.ExperimentReasonMaxFailedTrialsReached, "done")
			})),
			suggestion(WithRequests(3), WithAssignments(a1, a2, a3)),
			trial("1", a1, WithTrialFailed),
			trial("2", a2, WithTrialFailed),
			trial("3", a3, WithTrialRunning)},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(finish, status(all(
			func(st *v1alpha1.ExperimentStatus) {
				st.MarkFailed(v1alpha1.ExperimentReasonMaxFailedTrialsReached, "done")
			},
			counts(3, 0, 1, 0, 2, 0))))}},
	}, {
		Name: "the goal reached with trialsOnEnd Finish: nothing more is started, and the trials under way finish",
		Key:  key,
		Objects: []runtime.Object{experiment(finish), suggestion(WithRequests(4), WithAssignments(a1, a2, a3, a4)),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.995")),
			trial("2", a2, WithTrialRunning),
			trial("3", a3, WithTrialRunning)},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(finish, status(all(
			counts(3, 0, 2, 1, 0, 0), best("1", a1, "Validation-accuracy", "0.995"),
			func(st *v1alpha1.ExperimentStatus) {
				st.MarkRunning(v1alpha1.ExperimentReasonFinishing, "trial mnist-1 reached Validation-accuracy=0.995, the goal being >= 0.99; waiting for 2 trials under way to finish")
			})))}},
	}, {
		Name: "maxTrialCount raised after MaxTrialsReached: it resumes, asking for more from where the algorithm left off",
		Key:  key,
		Objects: []runtime.Object{
			experiment(WithCounts(3, 5, 1), status(func(st *v1alpha1.ExperimentStatus) {
				st.MarkSucceeded(v1alpha1.ExperimentReasonMaxTrialsReached, "3 trials ran, maxTrialCount being 3")
			})),
			suggestion(WithRequests(3), WithAssignments(a1, a2, a3), WithAlgorithmSettings("state", "after-3")),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.5")),
			trial("2", a2, WithTrialSucceeded("Validation-accuracy", "0.6")),
			trial("3", a3, WithTrialSucceeded("Validation-accuracy", "0.7"))},
		WantUpdates: []clientgotesting.UpdateActionImpl{{Object: suggestion(WithRequests(5), WithAssignments(a1, a2, a3), WithAlgorithmSettings("state", "after-3"))}},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(WithCounts(3, 5, 1), status(all(
			counts(3, 0, 0, 3, 0, 0), best("3", a3, "Validation-accuracy", "0.7"),
			running("3 of at most 5 trials done, 0 active"))))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "ExperimentResumed", "resumed: maxTrialCount raised to 5")},
	}, {
		Name: "maxTrialCount raised after MaxTrialsReached with resumePolicy Never: it stays ended",
		Key:  key,
		Objects: []runtime.Object{
			experiment(WithCounts(3, 5, 1), neverResume, status(func(st *v1alpha1.ExperimentStatus) {
				st.MarkSucceeded(v1alpha1.ExperimentReasonMaxTrialsReached, "3 trials ran, maxTrialCount being 3")
			})),
			suggestion(WithRequests(3), WithAssignments(a1, a2, a3)),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.5")),
			trial("2", a2, WithTrialSucceeded("Validation-accuracy", "0.6")),
			trial("3", a3, WithTrialSucceeded("Validation-accuracy", "0.7"))},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(WithCounts(3, 5, 1), neverResume, status(all(
			func(st *v1alpha1.ExperimentStatus) {
				st.MarkSucceeded(v1alpha1.ExperimentReasonMaxTrialsReached, "3 trials ran, maxTrialCount being 3")
			},
			counts(3, 0, 0, 3, 0, 0), best("3", a3, "Validation-accuracy", "0.7"))))}},
	}, {
		Name: "an experiment that reached its goal does not resume when maxTrialCount is raised",
		Key:  key,
		Objects: []runtime.Object{
			experiment(WithCounts(3, 9, 1), status(func(st *v1alpha1.ExperimentStatus) { st.MarkSucceeded(v1alpha1.ExperimentReasonGoalReached, "done") })),
			suggestion(WithRequests(1), WithAssignments(a1)),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.995"))},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(WithCounts(3, 9, 1), status(all(
			func(st *v1alpha1.ExperimentStatus) { st.MarkSucceeded(v1alpha1.ExperimentReasonGoalReached, "done") },
			counts(1, 0, 0, 1, 0, 0), best("1", a1, "Validation-accuracy", "0.995"))))}},
	}, {
		Name: "the goal reached and every trial under way ended: succeeded, even past maxFailedTrialCount after it",
		Key:  key,
		Objects: []runtime.Object{experiment(), suggestion(WithRequests(4), WithAssignments(a1, a2, a3, a4)),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.995")),
			trial("2", a2, WithTrialFailed),
			trial("3", a3, WithTrialFailed)},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(status(all(
			counts(3, 0, 0, 1, 2, 0), best("1", a1, "Validation-accuracy", "0.995"),
			func(st *v1alpha1.ExperimentStatus) {
				st.MarkSucceeded(v1alpha1.ExperimentReasonGoalReached, "trial mnist-1 reached Validation-accuracy=0.995, the goal being >= 0.99")
			})))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "ExperimentSucceeded", "trial mnist-1 reached Validation-accuracy=0.995, the goal being >= 0.99")},
	}, {
		Name: "an ended experiment creates no trials and asks for nothing, but keeps counting",
		Key:  key,
		Objects: []runtime.Object{
			experiment(status(func(st *v1alpha1.ExperimentStatus) { st.MarkSucceeded(v1alpha1.ExperimentReasonGoalReached, "done") })),
			suggestion(WithRequests(3), WithAssignments(a1, a2, a3)),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.995")),
			trial("2", a2, WithTrialSucceeded("Validation-accuracy", "0.5"))},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(status(all(
			func(st *v1alpha1.ExperimentStatus) { st.MarkSucceeded(v1alpha1.ExperimentReasonGoalReached, "done") },
			counts(2, 0, 0, 2, 0, 0), best("1", a1, "Validation-accuracy", "0.995"))))}},
	}, {
		Name: "maxTrialCount handed out: waits for the running trials",
		Key:  key,
		Objects: []runtime.Object{experiment(WithCounts(3, 3, 1), WithGoal(nil)), suggestion(WithRequests(3), WithAssignments(a1, a2, a3)),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.5")),
			trial("2", a2, WithTrialSucceeded("Validation-accuracy", "0.6")),
			trial("3", a3, WithTrialRunning)},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(WithCounts(3, 3, 1), WithGoal(nil), status(all(
			counts(3, 0, 1, 2, 0, 0), best("2", a2, "Validation-accuracy", "0.6"),
			func(st *v1alpha1.ExperimentStatus) {
				st.MarkRunning(v1alpha1.ExperimentReasonFinishing, "all 3 trials created; waiting for 1 to finish")
			})))}},
	}, {
		Name: "maxTrialCount run: succeeded",
		Key:  key,
		Objects: []runtime.Object{experiment(WithCounts(3, 3, 1)), suggestion(WithRequests(3), WithAssignments(a1, a2, a3)),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.5")),
			trial("2", a2, WithTrialFailed),
			trial("3", a3, WithTrialSucceeded("Validation-accuracy", "0.7"))},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(WithCounts(3, 3, 1), status(all(
			counts(3, 0, 0, 2, 1, 0), best("3", a3, "Validation-accuracy", "0.7"),
			func(st *v1alpha1.ExperimentStatus) {
				st.MarkSucceeded(v1alpha1.ExperimentReasonMaxTrialsReached, "3 trials ran, maxTrialCount being 3")
			})))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "ExperimentSucceeded", "3 trials ran, maxTrialCount being 3")},
	}, {
		Name: "maxTrialCount run, the Suggestion listing none of the assignments its Trials hold: succeeded",
		Key:  key,
		Objects: []runtime.Object{experiment(WithCounts(3, 3, 1)), suggestion(WithRequests(3), WithAssignments(a1, a2, a3), WithTrialsCreated(3)),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.5")),
			trial("2", a2, WithTrialFailed),
			trial("3", a3, WithTrialSucceeded("Validation-accuracy", "0.7"))},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(WithCounts(3, 3, 1), status(all(
			counts(3, 0, 0, 2, 1, 0), best("3", a3, "Validation-accuracy", "0.7"),
			func(st *v1alpha1.ExperimentStatus) {
				st.MarkSucceeded(v1alpha1.ExperimentReasonMaxTrialsReached, "3 trials ran, maxTrialCount being 3")
			})))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "ExperimentSucceeded", "3 trials ran, maxTrialCount being 3")},
	}, {
		Name: "a Trial deleted by hand, which the API server confirms, counts as ended",
		Key:  key,
		Objects: []runtime.Object{experiment(WithCounts(3, 3, 1)), suggestion(WithRequests(3), WithAssignments(a1, a2, a3), WithTrialsCreated(3)),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.5")),
			trial("3", a3, WithTrialSucceeded("Validation-accuracy", "0.7"))},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(WithCounts(3, 3, 1), status(all(
			counts(2, 0, 0, 2, 0, 0), best("3", a3, "Validation-accuracy", "0.7"),
			func(st *v1alpha1.ExperimentStatus) {
				st.MarkSucceeded(v1alpha1.ExperimentReasonMaxTrialsReached, "3 trials ran, maxTrialCount being 3")
			})))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "ExperimentSucceeded", "3 trials ran, maxTrialCount being 3")},
	}, {
		Name: "a Trial not yet in the cache, which the API server has, is waited for",
		Key:  key,
		Objects: []runtime.Object{experiment(WithCounts(3, 3, 1)), suggestion(WithRequests(3), WithAssignments(a1, a2, a3), WithTrialsCreated(3)),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.5")),
			trial("3", a3, WithTrialSucceeded("Validation-accuracy", "0.7"))},
		WithReactors: []clientgotesting.ReactionFunc{func(action clientgotesting.Action) (bool, runtime.Object, error) {
			if action.GetVerb() != "list" || action.GetResource().Resource != "trials" {
				return false, nil, nil
			}
			return true, &v1alpha1.TrialList{Items: []v1alpha1.Trial{
				*trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.5")),
				*trial("2", a2, WithTrialRunning),
				*trial("3", a3, WithTrialSucceeded("Validation-accuracy", "0.7")),
			}}, nil
		}},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(WithCounts(3, 3, 1), status(all(
			counts(3, 0, 1, 2, 0, 0), best("3", a3, "Validation-accuracy", "0.7"),
			func(st *v1alpha1.ExperimentStatus) {
				st.MarkRunning(v1alpha1.ExperimentReasonFinishing, "all 3 trials created; waiting for 1 to finish")
			})))}},
	}, {
		Name: "failures up to maxFailedTrialCount: the experiment goes on",
		Key:  key,
		Objects: []runtime.Object{experiment(), suggestion(WithRequests(3), WithAssignments(a1, a2, a3)),
			trial("1", a1, WithTrialFailed),
			trial("2", a2, WithTrialRunning),
			trial("3", a3, WithTrialRunning)},
		WantUpdates: []clientgotesting.UpdateActionImpl{{Object: suggestion(WithRequests(4), WithAssignments(a1, a2, a3))}},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(status(all(
			counts(3, 0, 2, 0, 1, 0), running("1 of at most 6 trials done, 2 active"))))}},
	}, {
		Name: "failures past maxFailedTrialCount, metrics unavailable counting as failures: failed",
		Key:  key,
		Objects: []runtime.Object{experiment(), suggestion(WithRequests(3), WithAssignments(a1, a2, a3)),
			trial("1", a1, WithTrialFailed),
			trial("2", a2, WithTrialMetricsUnavailable),
			trial("3", a3, WithTrialRunning)},
		WantUpdates: []clientgotesting.UpdateActionImpl{{Object: trial("3", a3, WithTrialRunning, stopped)}},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(status(all(
			counts(3, 0, 1, 0, 1, 1),
			func(st *v1alpha1.ExperimentStatus) {
				st.MarkFailed(v1alpha1.ExperimentReasonMaxFailedTrialsReached, "2 trials failed, more than maxFailedTrialCount 1; the last: trial mnist-2: no objective metric")
			})))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeWarning, "ExperimentFailed", "2 trials failed, more than maxFailedTrialCount 1; the last: trial mnist-2: no objective metric")},
	}, {
		Name: "an experiment that ends now creates no trial for an assignment handed out",
		Key:  key,
		Objects: []runtime.Object{experiment(), suggestion(WithRequests(4), WithAssignments(a1, a2, a3, a4)),
			trial("1", a1, WithTrialFailed),
			trial("2", a2, WithTrialFailed),
			trial("3", a3, WithTrialRunning)},
		WantUpdates: []clientgotesting.UpdateActionImpl{{Object: trial("3", a3, WithTrialRunning, stopped)}},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(status(all(
			counts(3, 0, 1, 0, 2, 0),
			func(st *v1alpha1.ExperimentStatus) {
				st.MarkFailed(v1alpha1.ExperimentReasonMaxFailedTrialsReached, "2 trials failed, more than maxFailedTrialCount 1; the last: trial mnist-2: exit code 1")
			})))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeWarning, "ExperimentFailed", "2 trials failed, more than maxFailedTrialCount 1; the last: trial mnist-2: exit code 1")},
	}, {
		Name: "a Trial of an assignment's name that the Experiment does not control is reported, not counted",
		Key:  key,
		Objects: []runtime.Object{experiment(), suggestion(WithRequests(2), WithAssignments(a1, a2)),
			trial("1", a1, WithTrialRunning),
			NewTrial(name+"-2", ns, name, a2, WithTrialSucceeded("Validation-accuracy", "0.5"))},
		WantUpdates: []clientgotesting.UpdateActionImpl{{Object: suggestion(WithRequests(3), WithAssignments(a1, a2))}},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(status(all(
			counts(1, 0, 1, 0, 0, 0),
			func(st *v1alpha1.ExperimentStatus) {
				st.MarkRunning(v1alpha1.ExperimentReasonTrialNotOwned, "Trial mnist-2 exists and is not controlled by this Experiment: delete it so that the Experiment can run its assignment")
			})))}},
	}, {
		Name: "search space exhausted, trials running: finishing",
		Key:  key,
		Objects: []runtime.Object{experiment(), suggestion(WithRequests(3), WithAssignments(a1, a2), WithExhausted),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.5")),
			trial("2", a2, WithTrialRunning)},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(status(all(
			counts(2, 0, 1, 1, 0, 0), best("1", a1, "Validation-accuracy", "0.5"),
			func(st *v1alpha1.ExperimentStatus) {
				st.MarkRunning(v1alpha1.ExperimentReasonFinishing, "the search space has no unseen point left; waiting for 1 trials to finish")
			})))}},
	}, {
		Name: "search space exhausted, every trial run: succeeded",
		Key:  key,
		Objects: []runtime.Object{experiment(), suggestion(WithRequests(3), WithAssignments(a1, a2), WithExhausted),
			trial("1", a1, WithTrialSucceeded("Validation-accuracy", "0.5")),
			trial("2", a2, WithTrialSucceeded("Validation-accuracy", "0.4"))},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(status(all(
			counts(2, 0, 0, 2, 0, 0), best("1", a1, "Validation-accuracy", "0.5"),
			func(st *v1alpha1.ExperimentStatus) {
				st.MarkSucceeded(v1alpha1.ExperimentReasonSearchSpaceExhausted, "the search space has no unseen point left; 2 trials ran")
			})))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "ExperimentSucceeded", "the search space has no unseen point left; 2 trials ran")},
	}, {
		Name: "the function refuses the request: failed, with its message",
		Key:  key,
		Objects: []runtime.Object{experiment(),
			suggestion(WithRequests(3), WithInitConditions, WithRequestFailed(v1alpha1.ReasonFunctionRejected, `unknown setting "foo"`))},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(status(func(st *v1alpha1.ExperimentStatus) {
			st.MarkFailed(v1alpha1.ExperimentReasonSuggestionFailed, `FunctionRejected: unknown setting "foo"`)
		}))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeWarning, "ExperimentFailed", `FunctionRejected: unknown setting "foo"`)},
	}, {
		Name: "while the function refuses, the Suggestion still follows the Experiment's algorithm, so a fix reaches it",
		Key:  key,
		Objects: []runtime.Object{experiment(WithExperimentAlgorithm("random", "random_state", "7")),
			suggestion(WithRequests(3), WithInitConditions, WithRequestFailed(v1alpha1.ReasonFunctionRejected, `unknown setting "seed"`))},
		WantUpdates: []clientgotesting.UpdateActionImpl{{Object: suggestion(WithRequests(3), WithInitConditions,
			WithRequestFailed(v1alpha1.ReasonFunctionRejected, `unknown setting "seed"`), func(s *v1alpha1.Suggestion) {
				s.Spec.Algorithm.AlgorithmSettings = []v1alpha1.AlgorithmSetting{{Name: "random_state", Value: "7"}}
			})}},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(WithExperimentAlgorithm("random", "random_state", "7"), status(func(st *v1alpha1.ExperimentStatus) {
			st.MarkFailed(v1alpha1.ExperimentReasonSuggestionFailed, `FunctionRejected: unknown setting "seed"`)
		}))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeWarning, "ExperimentFailed", `FunctionRejected: unknown setting "seed"`)},
	}, {
		Name: "fixed: a refused request that succeeds again resumes the experiment",
		Key:  key,
		Objects: []runtime.Object{
			experiment(status(func(st *v1alpha1.ExperimentStatus) {
				st.MarkFailed(v1alpha1.ExperimentReasonSuggestionFailed, "FunctionRejected: old")
			})),
			suggestion(WithRequests(3), WithAssignments(a1), WithInitConditions, WithRequestRetrying(v1alpha1.ReasonSuggestionsHandedOut, "1 of 3"))},
		WantCreates: []runtime.Object{created(t, experiment(), "1", a1)},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(status(all(
			counts(1, 1, 0, 0, 0, 0), running("0 of at most 6 trials done, 1 active"))))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "TrialCreated", "created 1 trials; 1 in all")},
	}, {
		Name: "no function for the algorithm: waiting",
		Key:  key,
		Objects: []runtime.Object{experiment(),
			suggestion(WithRequests(3), WithInitConditions, WithFunctionNotReady(v1alpha1.ReasonFunctionNotFound, "no function for algorithm \"random\""))},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(status(func(st *v1alpha1.ExperimentStatus) {
			st.MarkRunning(v1alpha1.ExperimentReasonWaitingForFunction, "no function for algorithm \"random\"")
		}))}},
	}, {
		Name:    "a Suggestion of the same name not controlled by the Experiment is left alone",
		Key:     key,
		Objects: []runtime.Object{experiment(), NewSuggestion(name, ns, WithRequests(7), WithAssignments(a1))},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(status(func(st *v1alpha1.ExperimentStatus) {
			st.MarkRunning(v1alpha1.ExperimentReasonSuggestionNotOwned, `Suggestion "mnist" exists and is not controlled by this Experiment; delete it so that the Experiment can create its own`)
		}))}},
	}, {
		Name:    "a broken trial template is reported with its line, and no trial is created",
		Key:     key,
		Objects: []runtime.Object{experiment(WithTrialTemplate(brokenTemplate)), suggestion(WithRequests(3), WithAssignments(a1))},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(WithTrialTemplate(brokenTemplate), status(func(st *v1alpha1.ExperimentStatus) {
			st.MarkFailed(v1alpha1.ExperimentReasonInvalidTrialTemplate, "%v", checkError(brokenTemplate))
		}))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeWarning, "InvalidTrialTemplate", "%v", checkError(brokenTemplate))},
	}, {
		Name:    "a Trial that exists already (a lagging cache) is not an error",
		Key:     key,
		Objects: []runtime.Object{experiment(), suggestion(WithRequests(1), WithAssignments(a1))},
		WithReactors: []clientgotesting.ReactionFunc{func(action clientgotesting.Action) (bool, runtime.Object, error) {
			if action.GetVerb() == "create" && action.GetResource().Resource == "trials" {
				return true, nil, apierrs.NewAlreadyExists(schema.GroupResource{Group: "tuning.knobs.dev", Resource: "trials"}, name+"-1")
			}
			return false, nil, nil
		}},
		WantCreates: []runtime.Object{created(t, experiment(), "1", a1)},
		WantUpdates: []clientgotesting.UpdateActionImpl{{Object: suggestion(WithRequests(3), WithAssignments(a1))}},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(status(all(
			running("0 of at most 6 trials done, 0 active"))))}},
	}, {
		Name:    "a status update that conflicts is not forced",
		Key:     key,
		Objects: []runtime.Object{experiment(), suggestion(WithRequests(3), WithFulfilled)},
		WithReactors: []clientgotesting.ReactionFunc{func(action clientgotesting.Action) (bool, runtime.Object, error) {
			if action.GetVerb() == "update" && action.GetSubresource() == "status" {
				return true, nil, apierrs.NewConflict(schema.GroupResource{Group: "tuning.knobs.dev", Resource: "experiments"}, name, nil)
			}
			return false, nil, nil
		}},
		WantErr: true,
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: experiment(status(all(
			running("0 of at most 6 trials done, 0 active"))))}},
	}}
	table.Test(t, MakeFactory(func(ctx context.Context, listers *Listers, _ configmap.Watcher) controller.Reconciler {
		r := &Reconciler{
			client:           fakeknobsclient.Get(ctx),
			suggestionLister: listers.GetSuggestionLister(),
			trialIndexer:     listers.IndexerFor(&v1alpha1.Trial{}),
		}
		return experimentreconciler.NewReconciler(ctx, logging.FromContext(ctx), fakeknobsclient.Get(ctx),
			listers.GetExperimentLister(), controller.GetEventRecorder(ctx), r, options)
	}))
}

func checkError(tt *v1alpha1.TrialTemplate) error {
	return trialtemplate.Check(tt, experiment().Spec.Parameters)
}

// TestTrialsCreatedAtOnce checks that a reconcile creating the Trials of
// many assignments a few at once (the fake client runs them one after
// another; the race detector watches the goroutines) creates each once and
// counts them all.
func TestTrialsCreatedAtOnce(t *testing.T) {
	var as [][]string
	for i := range 40 {
		as = append(as, []string{"--lr", "0.01", "--num-layers", strconv.Itoa(2 + i%4), "--optimizer", []string{"sgd", "adam", "ftrl"}[i%3], "--i", strconv.Itoa(i)})
	}
	e := experiment(WithCounts(40, 40, 1))
	objs := []runtime.Object{e, suggestion(WithRequests(40), WithAssignments(as...), WithFulfilled)}
	client := fakeknobs.NewSimpleClientset(objs...)
	client.PrependReactor("create", "trials", func(action clientgotesting.Action) (bool, runtime.Object, error) {
		if action.(clientgotesting.CreateAction).GetObject().(*v1alpha1.Trial).Name == name+"-7" {
			return true, nil, apierrs.NewAlreadyExists(v1alpha1.Resource("trials"), name+"-7")
		}
		return false, nil, nil
	})
	listers := NewListers(objs)
	r := &Reconciler{client: client, suggestionLister: listers.GetSuggestionLister(), trialIndexer: listers.IndexerFor(&v1alpha1.Trial{}), createsAtOnce: 8}
	ctx := logging.WithLogger(context.Background(), logtesting.TestLogger(t))
	event := r.ReconcileKind(ctx, e.DeepCopy())
	trials, err := client.TuningV1alpha1().Trials(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, tr := range trials.Items {
		names[tr.Name] = true
	}
	if len(trials.Items) != 39 || len(names) != 39 || names[name+"-7"] {
		t.Errorf("%d Trials created (%d names), want the 39 that did not exist", len(trials.Items), len(names))
	}
	if want := "created 39 trials; 39 in all"; event == nil || !strings.Contains(event.Error(), want) {
		t.Errorf("event %v, want %q", event, want)
	}
}
