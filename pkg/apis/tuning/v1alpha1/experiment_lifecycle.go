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
