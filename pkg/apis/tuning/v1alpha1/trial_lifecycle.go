package v1alpha1

import "knative.dev/pkg/apis"

// TrialConditionSucceeded is the Trial's one condition, as for a batch
// resource: Unknown while pending or running, then True or False.
const TrialConditionSucceeded = apis.ConditionSucceeded

// Reasons of a Trial's Succeeded condition that tell its phase apart.
const (
	TrialReasonPending            = "Pending"
	TrialReasonRunning            = "Running"
	TrialReasonSucceeded          = "Succeeded"
	TrialReasonFailed             = "Failed"
	TrialReasonMetricsUnavailable = "MetricsUnavailable"
	TrialReasonEarlyStopped       = "EarlyStopped"
	TrialReasonKilled             = "Killed"
)

var trialCondSet = apis.NewBatchConditionSet()

// GetConditionSet returns the Trial's condition set.
func (*Trial) GetConditionSet() apis.ConditionSet { return trialCondSet }

// InitializeConditions sets Succeeded to Unknown.
func (ts *TrialStatus) InitializeConditions() {
	trialCondSet.Manage(ts).InitializeConditions()
}

// MarkPending says the trial waits for its workload to start.
func (ts *TrialStatus) MarkPending(messageFormat string, messageA ...interface{}) {
	trialCondSet.Manage(ts).MarkUnknown(TrialConditionSucceeded, TrialReasonPending, messageFormat, messageA...)
}

// MarkRunning says the trial's workload runs.
func (ts *TrialStatus) MarkRunning(messageFormat string, messageA ...interface{}) {
	trialCondSet.Manage(ts).MarkUnknown(TrialConditionSucceeded, TrialReasonRunning, messageFormat, messageA...)
}

// MarkSucceeded says the trial ended with its objective metric observed.
func (ts *TrialStatus) MarkSucceeded(messageFormat string, messageA ...interface{}) {
	trialCondSet.Manage(ts).MarkTrueWithReason(TrialConditionSucceeded, TrialReasonSucceeded, messageFormat, messageA...)
}

// MarkEarlyStopped says the trial was stopped early, with what it observed
// until then.
func (ts *TrialStatus) MarkEarlyStopped(messageFormat string, messageA ...interface{}) {
	trialCondSet.Manage(ts).MarkTrueWithReason(TrialConditionSucceeded, TrialReasonEarlyStopped, messageFormat, messageA...)
}

// MarkMetricsUnavailable says the workload succeeded without reporting the
// objective metric.
func (ts *TrialStatus) MarkMetricsUnavailable(messageFormat string, messageA ...interface{}) {
	trialCondSet.Manage(ts).MarkFalse(TrialConditionSucceeded, TrialReasonMetricsUnavailable, messageFormat, messageA...)
}

// MarkFailed says the trial's workload failed.
func (ts *TrialStatus) MarkFailed(messageFormat string, messageA ...interface{}) {
	trialCondSet.Manage(ts).MarkFalse(TrialConditionSucceeded, TrialReasonFailed, messageFormat, messageA...)
}

// MarkKilled says the trial was stopped before its workload ended, because
// spec.stop asked for it (its Experiment ended). What it observed until then
// is kept, but it did not succeed.
func (ts *TrialStatus) MarkKilled(messageFormat string, messageA ...interface{}) {
	trialCondSet.Manage(ts).MarkFalse(TrialConditionSucceeded, TrialReasonKilled, messageFormat, messageA...)
}

// Phase returns the trial's phase: one of the TrialReason constants, Pending
// when nothing is known yet. It reads the condition in place: the tallies
// call it for every Trial on every pass.
func (ts *TrialStatus) Phase() string {
	c := ts.succeeded()
	if c == nil || c.Reason == "" {
		return TrialReasonPending
	}
	return c.Reason
}

// IsDone reports whether the trial has ended, well or badly.
func (ts *TrialStatus) IsDone() bool {
	c := ts.succeeded()
	return c != nil && !c.IsUnknown()
}

// succeeded returns the Succeeded condition in place, without the copy
// GetCondition makes, or nil.
func (ts *TrialStatus) succeeded() *apis.Condition {
	for i := range ts.Conditions {
		if ts.Conditions[i].Type == TrialConditionSucceeded {
			return &ts.Conditions[i]
		}
	}
	return nil
}

// GetCondition returns the named condition, or nil.
func (ts *TrialStatus) GetCondition(t apis.ConditionType) *apis.Condition {
	return trialCondSet.Manage(ts).GetCondition(t)
}
