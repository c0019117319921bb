// Package tuning holds the names shared by every version of the
// tuning.knobs.dev API group.
package tuning

const (
	// GroupName is the API group of Knobs' resources.
	GroupName = "tuning.knobs.dev"

	// AlgorithmLabelKey labels a function's Knative Service with the name of
	// the algorithm it serves.
	AlgorithmLabelKey = GroupName + "/algorithm"

	// ExperimentLabelKey labels a Trial with the name of its Experiment.
	ExperimentLabelKey = GroupName + "/experiment"

	// TrialLabelKey labels a trial's workload, and its pods, with the name of
	// the Trial.
	TrialLabelKey = GroupName + "/trial"

	// SystemNamespace is where Knobs runs, and where functions shared by
	// every namespace live.
	SystemNamespace = "knobs-system"
)
