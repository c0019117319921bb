package v1alpha1

import (
	"context"
	"fmt"

	"knative.dev/pkg/apis"
)

// Validate implements apis.Validatable.
func (t *Trial) Validate(ctx context.Context) *apis.FieldError {
	var errs *apis.FieldError
	seen := map[string]int{}
	for i, a := range t.Spec.ParameterAssignments {
		if a.Name == "" {
			errs = errs.Also(apis.ErrMissingField("name").ViaFieldIndex("parameterAssignments", i))
			continue
		}
		if j, dup := seen[a.Name]; dup {
			errs = errs.Also(apis.ErrInvalidValue(a.Name, "name", fmt.Sprintf("parameterAssignments[%d] assigns it already", j)).ViaFieldIndex("parameterAssignments", i))
		}
		seen[a.Name] = i
	}
	errs = errs.Also(t.Spec.MetricsCollector.Validate().ViaField("metricsCollector"))
	switch t.Spec.StopReason {
	case "", TrialReasonKilled, TrialReasonEarlyStopped:
	default:
		errs = errs.Also(apis.ErrInvalidValue(t.Spec.StopReason, "stopReason", "use Killed or EarlyStopped"))
	}
	if !t.Spec.Stop && (t.Spec.StopReason != "" || t.Spec.StopMessage != "") {
		errs = errs.Also(&apis.FieldError{Message: "stopReason and stopMessage say why a trial is stopped: set stop: true with them, or leave them out", Paths: []string{"stopReason", "stopMessage"}})
	}
	if apis.IsInUpdate(ctx) {
		if old, ok := apis.GetBaseline(ctx).(*Trial); ok && old != nil && old.Spec.Stop {
			if !t.Spec.Stop {
				errs = errs.Also(&apis.FieldError{Message: "a stopped trial cannot be started again: create a new Trial", Paths: []string{"stop"}})
			}
			if t.Spec.StopReason != old.Spec.StopReason || t.Spec.StopMessage != old.Spec.StopMessage {
				errs = errs.Also(&apis.FieldError{Message: "why a trial was stopped cannot change once it is stopped", Paths: []string{"stopReason", "stopMessage"}})
			}
		}
	}
	return errs.ViaField("spec")
}
