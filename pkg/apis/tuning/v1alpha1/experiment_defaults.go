package v1alpha1

import (
	"context"

	"k8s.io/utils/ptr"
)

// Defaults of an Experiment, as in Katib.
const (
	DefaultParallelTrialCount  = 3
	DefaultMaxTrialCount       = 12
	DefaultMaxFailedTrialCount = 3
)

// SetDefaults implements apis.Defaultable.
func (e *Experiment) SetDefaults(ctx context.Context) {
	e.Spec.SetDefaults(ctx)
}

// SetDefaults fills in the counts and policies the user left out, and the
// defaults of a metrics collector spec.
func (es *ExperimentSpec) SetDefaults(context.Context) {
	if es.ParallelTrialCount == nil {
		es.ParallelTrialCount = ptr.To[int32](DefaultParallelTrialCount)
	}
	if es.MaxTrialCount == nil {
		es.MaxTrialCount = ptr.To[int32](DefaultMaxTrialCount)
	}
	if es.MaxFailedTrialCount == nil {
		es.MaxFailedTrialCount = ptr.To[int32](DefaultMaxFailedTrialCount)
	}
	if es.ResumePolicy == "" {
		es.ResumePolicy = LongRunning
	}
	if es.TrialsOnEnd == "" {
		es.TrialsOnEnd = TrialsOnEndStop
	}
	if es.MetricsCollectorSpec != nil {
		es.MetricsCollectorSpec.SetDefaults()
	}
}
