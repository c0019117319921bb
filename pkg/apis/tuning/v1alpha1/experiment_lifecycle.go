package v1alpha1

import "knative.dev/pkg/apis"

// ExperimentConditionSucceeded is the Experiment's one condition, as for a
// batch resource: Unknown while it runs, then True or False.
const ExperimentConditionSucceeded = apis.ConditionSucceeded

var experimentCondSet = apis.NewBatchConditionSet()

// GetConditionSet returns the Experiment's condition set.
func (*Experiment) GetConditionSet() apis.ConditionSet { return experimentCondSet }

// InitializeConditions sets Succeeded to Unknown.
func (es *ExperimentStatus) InitializeConditions() {
	experimentCondSet.Manage(es).InitializeConditions()
}

// MarkSucceeded ends the experiment successfully.
func (es *ExperimentStatus) MarkSucceeded(reason, messageFormat string, messageA ...interface{}) {
	experimentCondSet.Manage(es).MarkTrueWithReason(ExperimentConditionSucceeded, reason, messageFormat, messageA...)
}

// MarkFailed ends the experiment in failure.
func (es *ExperimentStatus) MarkFailed(reason, messageFormat string, messageA ...interface{}) {
	experimentCondSet.Manage(es).MarkFalse(ExperimentConditionSucceeded, reason, messageFormat, messageA...)
}

// MarkRunning says the experiment is under way.
func (es *ExperimentStatus) MarkRunning(reason, messageFormat string, messageA ...interface{}) {
	experimentCondSet.Manage(es).MarkUnknown(ExperimentConditionSucceeded, reason, messageFormat, messageA...)
}

// Reasons of an Experiment's Succeeded condition.
const (
	// Unknown: the experiment runs, or waits.
	ExperimentReasonRunning            = "Running"
	ExperimentReasonWaitingForFunction = "WaitingForFunction"
	ExperimentReasonSuggestionNotOwned = "SuggestionNotOwned"
	ExperimentReasonTrialNotOwned      = "TrialNotOwned"
	ExperimentReasonFinishing          = "Finishing"
	// True: the experiment ended well.
	ExperimentReasonGoalReached          = "GoalReached"
	ExperimentReasonMaxTrialsReached     = "MaxTrialsReached"
	ExperimentReasonSearchSpaceExhausted = "SearchSpaceExhausted"
	// False: the experiment ended badly, or cannot start.
	ExperimentReasonMaxFailedTrialsReached = "MaxFailedTrialsReached"
	ExperimentReasonSuggestionFailed       = "SuggestionFailed"
	ExperimentReasonInvalidTrialTemplate   = "InvalidTrialTemplate"
)

// IsDone reports whether the experiment has ended for good: Succeeded is
// True, or False for a reason that fixing the spec cannot undo. An invalid
// trial template or a search space or settings the function refuses can be
// fixed, and the experiment then resumes.
func (es *ExperimentStatus) IsDone() bool {
	c := experimentCondSet.Manage(es).GetCondition(ExperimentConditionSucceeded)
	if c == nil || c.IsUnknown() {
		return false
	}
	return c.Reason != ExperimentReasonInvalidTrialTemplate && c.Reason != ExperimentReasonSuggestionFailed
}

// GetCondition returns the named condition, or nil.
func (es *ExperimentStatus) GetCondition(t apis.ConditionType) *apis.Condition {
	return experimentCondSet.Manage(es).GetCondition(t)
}
