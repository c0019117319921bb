package v1alpha1

import (
	"context"

	"knative.dev/pkg/apis"
)

// Validate implements apis.Validatable.
func (s *Suggestion) Validate(context.Context) *apis.FieldError {
	errs := s.Spec.Algorithm.Validate().ViaField("algorithm")
	if s.Spec.Requests < 0 {
		errs = errs.Also(apis.ErrOutOfBoundsValue(s.Spec.Requests, 0, int32(1<<31-1), "requests"))
	}
	return errs.ViaField("spec")
}
