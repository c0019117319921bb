package v1alpha1

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"knative.dev/pkg/apis"
)

func TestTrialPhaseDefault(t *testing.T) {
	ts := &TrialStatus{}
	if got := ts.Phase(); got != TrialReasonPending {
		t.Errorf("Phase() of an empty status = %q, want %q", got, TrialReasonPending)
	}
	ts.InitializeConditions()
	wantCondition(t, condition(t, trialCondSet, ts, TrialConditionSucceeded), corev1.ConditionUnknown, "", "")
	if got := ts.Phase(); got != TrialReasonPending {
		t.Errorf("Phase() after InitializeConditions = %q, want %q", got, TrialReasonPending)
	}
	if got := len(ts.Conditions); got != 1 {
		t.Errorf("len(Conditions) = %d, want 1", got)
	}
	if (&Trial{}).GetConditionSet().GetTopLevelConditionType() != apis.ConditionSucceeded {
		t.Error("the Trial's top-level condition is not Succeeded")
	}
}

func TestTrialPhase(t *testing.T) {
	tests := []struct {
		name   string
		mark   func(*TrialStatus)
		phase  string
		status corev1.ConditionStatus
	}{{
		name:   "pending",
		mark:   func(ts *TrialStatus) { ts.MarkPending("waiting for %s", "a node") },
		phase:  "Pending",
		status: corev1.ConditionUnknown,
	}, {
		name:   "running",
		mark:   func(ts *TrialStatus) { ts.MarkRunning("waiting for %s", "a node") },
		phase:  "Running",
		status: corev1.ConditionUnknown,
	}, {
		name:   "succeeded",
		mark:   func(ts *TrialStatus) { ts.MarkSucceeded("waiting for %s", "a node") },
		phase:  "Succeeded",
		status: corev1.ConditionTrue,
	}, {
		name:   "early stopped",
		mark:   func(ts *TrialStatus) { ts.MarkEarlyStopped("waiting for %s", "a node") },
		phase:  "EarlyStopped",
		status: corev1.ConditionTrue,
	}, {
		name:   "killed",
		mark:   func(ts *TrialStatus) { ts.MarkKilled("waiting for %s", "a node") },
		phase:  "Killed",
		status: corev1.ConditionFalse,
	}, {
		name:   "metrics unavailable",
		mark:   func(ts *TrialStatus) { ts.MarkMetricsUnavailable("waiting for %s", "a node") },
		phase:  "MetricsUnavailable",
		status: corev1.ConditionFalse,
	}, {
		name:   "failed",
		mark:   func(ts *TrialStatus) { ts.MarkFailed("waiting for %s", "a node") },
		phase:  "Failed",
		status: corev1.ConditionFalse,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, init := range []bool{false, true} {
				ts := &TrialStatus{}
				if init {
					ts.InitializeConditions()
				}
				tc.mark(ts)
				if got := ts.Phase(); got != tc.phase {
					t.Errorf("Phase() (initialised %v) = %q, want %q", init, got, tc.phase)
				}
				wantCondition(t, condition(t, trialCondSet, ts, TrialConditionSucceeded), tc.status, tc.phase, "waiting for a node")
				if got := len(ts.Conditions); got != 1 {
					t.Errorf("len(Conditions) = %d, want 1", got)
				}
			}
		})
	}
}

func TestTrialPhaseMoves(t *testing.T) {
	ts := &TrialStatus{}
	ts.InitializeConditions()
	ts.MarkPending("queued")
	ts.MarkRunning("started")
	if got := ts.Phase(); got != TrialReasonRunning {
		t.Errorf("Phase() = %q, want Running", got)
	}
	ts.MarkSucceeded("done")
	if got := ts.Phase(); got != TrialReasonSucceeded {
		t.Errorf("Phase() = %q, want Succeeded", got)
	}
	if !trialCondSet.Manage(ts).IsHappy() {
		t.Error("a succeeded Trial is not happy")
	}
}

func TestTrialGetStatus(t *testing.T) {
	tr := &Trial{}
	if got := tr.GetStatus(); got != &tr.Status.Status {
		t.Errorf("GetStatus() = %p, want %p", got, &tr.Status.Status)
	}
}

func TestExperimentLifecycle(t *testing.T) {
	es := &ExperimentStatus{}
	es.InitializeConditions()
	wantCondition(t, condition(t, experimentCondSet, es, ExperimentConditionSucceeded), corev1.ConditionUnknown, "", "")

	es.MarkRunning("TrialsRunning", "%d trials running", 3)
	wantCondition(t, condition(t, experimentCondSet, es, ExperimentConditionSucceeded), corev1.ConditionUnknown, "TrialsRunning", "3 trials running")
	if experimentCondSet.Manage(es).IsHappy() {
		t.Error("a running Experiment is happy")
	}

	es.MarkSucceeded("GoalReached", "trial %s reached %v", "mnist-4", 0.99)
	wantCondition(t, condition(t, experimentCondSet, es, ExperimentConditionSucceeded), corev1.ConditionTrue, "GoalReached", "trial mnist-4 reached 0.99")
	if !experimentCondSet.Manage(es).IsHappy() {
		t.Error("a succeeded Experiment is not happy")
	}

	es.MarkFailed("TooManyFailures", "%d trials failed", 4)
	wantCondition(t, condition(t, experimentCondSet, es, ExperimentConditionSucceeded), corev1.ConditionFalse, "TooManyFailures", "4 trials failed")
	if experimentCondSet.Manage(es).IsHappy() {
		t.Error("a failed Experiment is happy")
	}
	if got := len(es.Conditions); got != 1 {
		t.Errorf("len(Conditions) = %d, want 1", got)
	}

	e := &Experiment{}
	if e.GetConditionSet().GetTopLevelConditionType() != apis.ConditionSucceeded {
		t.Error("the Experiment's top-level condition is not Succeeded")
	}
	if got := e.GetStatus(); got != &e.Status.Status {
		t.Errorf("GetStatus() = %p, want %p", got, &e.Status.Status)
	}
}

// Phase and IsDone run for every Trial on every pass of a reconciler: they
// read the condition in place, without allocating.
func TestTrialPhaseAllocates(t *testing.T) {
	ts := &TrialStatus{}
	ts.MarkRunning("running")
	ts.MarkSucceeded("done")
	if n := testing.AllocsPerRun(100, func() {
		if ts.Phase() != TrialReasonSucceeded || !ts.IsDone() {
			t.Fatal("Phase() or IsDone() wrong")
		}
	}); n != 0 {
		t.Errorf("Phase() and IsDone() allocate %v times, want 0", n)
	}
}
