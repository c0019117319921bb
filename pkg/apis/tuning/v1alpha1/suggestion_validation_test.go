package v1alpha1

import (
	"context"
	"math"
	"testing"

	"knative.dev/pkg/apis"
)

func TestSuggestionValidation(t *testing.T) {
	tests := []struct {
		name string
		spec SuggestionSpec
		want *apis.FieldError
	}{{
		name: "valid",
		spec: SuggestionSpec{Algorithm: AlgorithmSpec{AlgorithmName: "random"}, Requests: 3},
	}, {
		name: "no requests yet",
		spec: SuggestionSpec{Algorithm: AlgorithmSpec{AlgorithmName: "grid"}},
	}, {
		name: "with settings",
		spec: SuggestionSpec{Algorithm: AlgorithmSpec{AlgorithmName: "random", AlgorithmSettings: []AlgorithmSetting{{Name: "random_state", Value: "1"}}}, Requests: 1},
	}, {
		name: "missing algorithmName",
		spec: SuggestionSpec{Requests: 3},
		want: apis.ErrMissingField("spec.algorithm.algorithmName"),
	}, {
		name: "negative requests",
		spec: SuggestionSpec{Algorithm: AlgorithmSpec{AlgorithmName: "random"}, Requests: -1},
		want: apis.ErrOutOfBoundsValue(int32(-1), int32(0), int32(math.MaxInt32), "spec.requests"),
	}, {
		name: "duplicate setting names",
		spec: SuggestionSpec{Algorithm: AlgorithmSpec{AlgorithmName: "random", AlgorithmSettings: []AlgorithmSetting{{Name: "s", Value: "1"}, {Name: "s", Value: "2"}}}},
		want: apis.ErrInvalidValue("s", "spec.algorithm.algorithmSettings[1].name", "algorithmSettings[0] has the same name"),
	}, {
		name: "both mistakes",
		spec: SuggestionSpec{Requests: -5},
		want: apis.ErrMissingField("spec.algorithm.algorithmName").
			Also(apis.ErrOutOfBoundsValue(int32(-5), int32(0), int32(math.MaxInt32), "spec.requests")),
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Suggestion{Spec: tc.spec}
			checkFieldError(t, s.Validate(context.Background()), tc.want)
		})
	}
}

func TestSuggestionValidationText(t *testing.T) {
	s := &Suggestion{Spec: SuggestionSpec{Requests: -1}}
	const want = "expected 0 <= -1 <= 2147483647: spec.requests\nmissing field(s): spec.algorithm.algorithmName"
	err := s.Validate(context.Background())
	if err == nil {
		t.Fatalf("Validate() = nil, want %q", want)
	}
	if got := err.Error(); got != want {
		t.Errorf("Validate() =\n%s\nwant\n%s", got, want)
	}
}
