package v1alpha1

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"
)

func TestExperimentDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   ExperimentSpec
		want ExperimentSpec
	}{{
		name: "all left out",
		in:   ExperimentSpec{},
		want: ExperimentSpec{ParallelTrialCount: ptr.To[int32](3), MaxTrialCount: ptr.To[int32](12), MaxFailedTrialCount: ptr.To[int32](3), ResumePolicy: LongRunning, TrialsOnEnd: TrialsOnEndStop},
	}, {
		name: "all set are kept",
		in:   ExperimentSpec{ParallelTrialCount: ptr.To[int32](1), MaxTrialCount: ptr.To[int32](50), MaxFailedTrialCount: ptr.To[int32](7)},
		want: ExperimentSpec{ParallelTrialCount: ptr.To[int32](1), MaxTrialCount: ptr.To[int32](50), MaxFailedTrialCount: ptr.To[int32](7), ResumePolicy: LongRunning, TrialsOnEnd: TrialsOnEndStop},
	}, {
		name: "zero is a value, not a gap",
		in:   ExperimentSpec{MaxFailedTrialCount: ptr.To[int32](0)},
		want: ExperimentSpec{ParallelTrialCount: ptr.To[int32](3), MaxTrialCount: ptr.To[int32](12), MaxFailedTrialCount: ptr.To[int32](0), ResumePolicy: LongRunning, TrialsOnEnd: TrialsOnEndStop},
	}, {
		name: "some set",
		in:   ExperimentSpec{MaxTrialCount: ptr.To[int32](100)},
		want: ExperimentSpec{ParallelTrialCount: ptr.To[int32](3), MaxTrialCount: ptr.To[int32](100), MaxFailedTrialCount: ptr.To[int32](3), ResumePolicy: LongRunning, TrialsOnEnd: TrialsOnEndStop},
	}, {
		name: "the rest of the spec is untouched",
		in: ExperimentSpec{
			Objective:  ObjectiveSpec{Type: ObjectiveTypeMinimize, ObjectiveMetricName: "loss"},
			Algorithm:  AlgorithmSpec{AlgorithmName: "grid"},
			Parameters: []ParameterSpec{{Name: "n", ParameterType: ParameterTypeInt, FeasibleSpace: FeasibleSpace{Min: "1", Max: "3"}}},
		},
		want: ExperimentSpec{
			Objective:           ObjectiveSpec{Type: ObjectiveTypeMinimize, ObjectiveMetricName: "loss"},
			Algorithm:           AlgorithmSpec{AlgorithmName: "grid"},
			Parameters:          []ParameterSpec{{Name: "n", ParameterType: ParameterTypeInt, FeasibleSpace: FeasibleSpace{Min: "1", Max: "3"}}},
			ParallelTrialCount:  ptr.To[int32](3),
			MaxTrialCount:       ptr.To[int32](12),
			MaxFailedTrialCount: ptr.To[int32](3),
			ResumePolicy:        LongRunning,
			TrialsOnEnd:         TrialsOnEndStop,
		},
	}, {
		name: "policies set are kept",
		in:   ExperimentSpec{ResumePolicy: NeverResume, TrialsOnEnd: TrialsOnEndFinish},
		want: ExperimentSpec{ParallelTrialCount: ptr.To[int32](3), MaxTrialCount: ptr.To[int32](12), MaxFailedTrialCount: ptr.To[int32](3), ResumePolicy: NeverResume, TrialsOnEnd: TrialsOnEndFinish},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &Experiment{Spec: tc.in}
			e.SetDefaults(context.Background())
			if diff := cmp.Diff(tc.want, e.Spec); diff != "" {
				t.Errorf("SetDefaults (-want, +got):\n%s", diff)
			}
			// Defaulting twice changes nothing.
			e.SetDefaults(context.Background())
			if diff := cmp.Diff(tc.want, e.Spec); diff != "" {
				t.Errorf("SetDefaults twice (-want, +got):\n%s", diff)
			}
		})
	}
}

func TestExperimentDefaultConstants(t *testing.T) {
	if DefaultParallelTrialCount != 3 || DefaultMaxTrialCount != 12 || DefaultMaxFailedTrialCount != 3 {
		t.Errorf("defaults = %d/%d/%d, want 3/12/3", DefaultParallelTrialCount, DefaultMaxTrialCount, DefaultMaxFailedTrialCount)
	}
}

func TestSuggestionAndTrialDefaultsChangeNothing(t *testing.T) {
	s := &Suggestion{Spec: SuggestionSpec{Algorithm: AlgorithmSpec{AlgorithmName: "random"}}}
	s.SetDefaults(context.Background())
	if diff := cmp.Diff(SuggestionSpec{Algorithm: AlgorithmSpec{AlgorithmName: "random"}}, s.Spec); diff != "" {
		t.Errorf("Suggestion.SetDefaults (-want, +got):\n%s", diff)
	}
	tr := &Trial{Spec: TrialSpec{ParameterAssignments: []ParameterAssignment{{Name: "n", Value: "1"}}}}
	tr.SetDefaults(context.Background())
	if diff := cmp.Diff(TrialSpec{ParameterAssignments: []ParameterAssignment{{Name: "n", Value: "1"}}}, tr.Spec); diff != "" {
		t.Errorf("Trial.SetDefaults (-want, +got):\n%s", diff)
	}
}
