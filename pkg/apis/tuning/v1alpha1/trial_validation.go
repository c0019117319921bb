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
	if apis.IsInUpdate(ctx) {
		if old, ok := apis.GetBaseline(ctx).(*Trial); ok && old != nil && old.Spec.Stop && !t.Spec.Stop {
			errs = errs.Also(&apis.FieldError{Message: "a stopped trial cannot be started again: create a new Trial", Paths: []string{"stop"}})
		}
	}
	return errs.ViaField("spec")
}
