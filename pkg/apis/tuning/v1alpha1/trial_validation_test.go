package v1alpha1

import (
	"context"
	"testing"

	"knative.dev/pkg/apis"
)

func TestTrialValidation(t *testing.T) {
	tests := []struct {
		name        string
		assignments []ParameterAssignment
		want        *apis.FieldError
	}{{
		name: "valid",
		assignments: []ParameterAssignment{
			{Name: "--lr", Value: "0.01"}, {Name: "--num-layers", Value: "3"}, {Name: "--optimizer", Value: "adam"},
		},
	}, {
		name: "no assignments",
	}, {
		name:        "empty value is allowed",
		assignments: []ParameterAssignment{{Name: "--optimizer", Value: ""}},
	}, {
		name: "duplicate assignment names",
		assignments: []ParameterAssignment{
			{Name: "--lr", Value: "0.01"}, {Name: "--num-layers", Value: "3"}, {Name: "--lr", Value: "0.02"},
		},
		want: apis.ErrInvalidValue("--lr", "spec.parameterAssignments[2].name", "parameterAssignments[0] assigns it already"),
	}, {
		name:        "empty assignment name",
		assignments: []ParameterAssignment{{Name: "--lr", Value: "0.01"}, {Value: "3"}},
		want:        apis.ErrMissingField("spec.parameterAssignments[1].name"),
	}, {
		name: "both mistakes",
		assignments: []ParameterAssignment{
			{Value: "1"}, {Name: "n", Value: "1"}, {Value: "2"}, {Name: "n", Value: "2"},
		},
		want: apis.ErrMissingField("spec.parameterAssignments[0].name", "spec.parameterAssignments[2].name").
			Also(apis.ErrInvalidValue("n", "spec.parameterAssignments[3].name", "parameterAssignments[1] assigns it already")),
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := &Trial{Spec: TrialSpec{ParameterAssignments: tc.assignments}}
			checkFieldError(t, tr.Validate(context.Background()), tc.want)
		})
	}
}

func TestTrialValidationText(t *testing.T) {
	tr := &Trial{Spec: TrialSpec{ParameterAssignments: []ParameterAssignment{{Name: "x", Value: "1"}, {Name: "x", Value: "2"}, {Value: "3"}}}}
	const want = "invalid value: x: spec.parameterAssignments[1].name\nparameterAssignments[0] assigns it already\n" +
		"missing field(s): spec.parameterAssignments[2].name"
	err := tr.Validate(context.Background())
	if err == nil {
		t.Fatalf("Validate() = nil, want %q", want)
	}
	if got := err.Error(); got != want {
		t.Errorf("Validate() =\n%s\nwant\n%s", got, want)
	}
}

func TestTrialStopStaysSet(t *testing.T) {
	old := &Trial{Spec: TrialSpec{Stop: true}}
	ctx := apis.WithinUpdate(context.Background(), old)
	checkFieldError(t, (&Trial{}).Validate(ctx), &apis.FieldError{Message: "a stopped trial cannot be started again: create a new Trial", Paths: []string{"spec.stop"}})
	checkFieldError(t, (&Trial{Spec: TrialSpec{Stop: true}}).Validate(ctx), nil)
	checkFieldError(t, (&Trial{Spec: TrialSpec{Stop: true}}).Validate(apis.WithinUpdate(context.Background(), &Trial{})), nil)
}

func TestTrialStopReason(t *testing.T) {
	early := TrialSpec{Stop: true, StopReason: TrialReasonEarlyStopped, StopMessage: "losing"}
	checkFieldError(t, (&Trial{Spec: early}).Validate(context.Background()), nil)
	checkFieldError(t, (&Trial{Spec: TrialSpec{Stop: true, StopReason: "Tired"}}).Validate(context.Background()),
		apis.ErrInvalidValue("Tired", "spec.stopReason", "use Killed or EarlyStopped"))
	checkFieldError(t, (&Trial{Spec: TrialSpec{StopReason: TrialReasonKilled}}).Validate(context.Background()),
		&apis.FieldError{Message: "stopReason and stopMessage say why a trial is stopped: set stop: true with them, or leave them out", Paths: []string{"spec.stopReason", "spec.stopMessage"}})
	ctx := apis.WithinUpdate(context.Background(), &Trial{Spec: early})
	checkFieldError(t, (&Trial{Spec: TrialSpec{Stop: true, StopReason: TrialReasonKilled, StopMessage: "losing"}}).Validate(ctx),
		&apis.FieldError{Message: "why a trial was stopped cannot change once it is stopped", Paths: []string{"spec.stopReason", "spec.stopMessage"}})
	checkFieldError(t, (&Trial{Spec: early}).Validate(ctx), nil)
}
