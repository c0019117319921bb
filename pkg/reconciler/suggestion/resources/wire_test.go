package resources_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"k8s.io/utils/ptr"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/reconciler/suggestion/resources"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

func TestProtoParameterTypes(t *testing.T) {
	tests := []struct {
		in   v1alpha1.ParameterType
		want pb.ParameterType
	}{
		{v1alpha1.ParameterTypeDouble, pb.ParameterType_DOUBLE},
		{v1alpha1.ParameterTypeInt, pb.ParameterType_INT},
		{v1alpha1.ParameterTypeDiscrete, pb.ParameterType_DISCRETE},
		{v1alpha1.ParameterTypeCategorical, pb.ParameterType_CATEGORICAL},
		{"float", pb.ParameterType_UNKNOWN_TYPE},
		{"", pb.ParameterType_UNKNOWN_TYPE},
	}
	for _, tc := range tests {
		p := &v1alpha1.ParameterSpec{Name: "x", ParameterType: tc.in}
		if got := resources.ProtoParameter(p).GetParameterType(); got != tc.want {
			t.Errorf("ProtoParameter() of parameterType %q = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestProtoParameterDistributions(t *testing.T) {
	tests := []struct {
		in   v1alpha1.Distribution
		want pb.Distribution
	}{
		{"", pb.Distribution_DISTRIBUTION_UNSPECIFIED},
		{v1alpha1.DistributionUniform, pb.Distribution_UNIFORM},
		{v1alpha1.DistributionLogUniform, pb.Distribution_LOG_UNIFORM},
		{v1alpha1.DistributionNormal, pb.Distribution_NORMAL},
		{v1alpha1.DistributionLogNormal, pb.Distribution_LOG_NORMAL},
	}
	for _, tc := range tests {
		p := &v1alpha1.ParameterSpec{Name: "x", ParameterType: v1alpha1.ParameterTypeDouble, FeasibleSpace: v1alpha1.FeasibleSpace{Min: "1", Max: "2", Distribution: tc.in}}
		if got := resources.ProtoParameter(p).GetFeasibleSpace().GetDistribution(); got != tc.want {
			t.Errorf("ProtoParameter() of distribution %q = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestProtoParameterFields(t *testing.T) {
	p := &v1alpha1.ParameterSpec{
		Name:          "--lr",
		ParameterType: v1alpha1.ParameterTypeDouble,
		FeasibleSpace: v1alpha1.FeasibleSpace{Min: "0.001", Max: "0.1", Step: "0.001", Distribution: v1alpha1.DistributionLogUniform},
	}
	want := &pb.ParameterSpec{
		Name:          "--lr",
		ParameterType: pb.ParameterType_DOUBLE,
		FeasibleSpace: &pb.FeasibleSpace{Min: "0.001", Max: "0.1", Step: "0.001", Distribution: pb.Distribution_LOG_UNIFORM},
	}
	if diff := cmp.Diff(want, resources.ProtoParameter(p), protocmp.Transform()); diff != "" {
		t.Errorf("ProtoParameter() (-want, +got):\n%s", diff)
	}

	es := &v1alpha1.ExperimentSpec{Parameters: []v1alpha1.ParameterSpec{
		*p,
		{Name: "--optimizer", ParameterType: v1alpha1.ParameterTypeCategorical, FeasibleSpace: v1alpha1.FeasibleSpace{List: []string{"sgd", "adam"}}},
	}}
	wantAll := []*pb.ParameterSpec{want, {
		Name:          "--optimizer",
		ParameterType: pb.ParameterType_CATEGORICAL,
		FeasibleSpace: &pb.FeasibleSpace{List: []string{"sgd", "adam"}},
	}}
	if diff := cmp.Diff(wantAll, resources.ProtoParameters(es.Parameters), protocmp.Transform()); diff != "" {
		t.Errorf("ProtoParameters() (-want, +got):\n%s", diff)
	}
}

func TestProtoObjective(t *testing.T) {
	tests := []struct {
		name string
		in   v1alpha1.ObjectiveSpec
		want *pb.ObjectiveSpec
	}{{
		name: "maximize with goal",
		in:   v1alpha1.ObjectiveSpec{Type: v1alpha1.ObjectiveTypeMaximize, Goal: ptr.To(0.99), ObjectiveMetricName: "Validation-accuracy"},
		want: &pb.ObjectiveSpec{Type: pb.ObjectiveType_MAXIMIZE, Goal: 0.99, ObjectiveMetricName: "Validation-accuracy"},
	}, {
		name: "minimize without goal",
		in:   v1alpha1.ObjectiveSpec{Type: v1alpha1.ObjectiveTypeMinimize, ObjectiveMetricName: "loss"},
		want: &pb.ObjectiveSpec{Type: pb.ObjectiveType_MINIMIZE, ObjectiveMetricName: "loss"},
	}, {
		name: "unknown type",
		in:   v1alpha1.ObjectiveSpec{Type: "best", ObjectiveMetricName: "loss"},
		want: &pb.ObjectiveSpec{Type: pb.ObjectiveType_UNKNOWN, ObjectiveMetricName: "loss"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, resources.ProtoObjective(&tc.in), protocmp.Transform()); diff != "" {
				t.Errorf("ProtoObjective() (-want, +got):\n%s", diff)
			}
		})
	}
}

func TestProtoSettingsAndAssignments(t *testing.T) {
	settings := []v1alpha1.AlgorithmSetting{{Name: "random_state", Value: "42"}, {Name: "n", Value: ""}}
	wantSettings := []*pb.AlgorithmSetting{{Name: "random_state", Value: "42"}, {Name: "n", Value: ""}}
	if diff := cmp.Diff(wantSettings, resources.ProtoSettings(settings), protocmp.Transform()); diff != "" {
		t.Errorf("ProtoSettings() (-want, +got):\n%s", diff)
	}
	if got := resources.ProtoSettings(nil); got == nil || len(got) != 0 {
		t.Errorf("ProtoSettings(nil) = %#v, want an empty slice", got)
	}

	as := []v1alpha1.ParameterAssignment{{Name: "--lr", Value: "0.01"}, {Name: "--optimizer", Value: "sgd"}}
	wantAs := []*pb.ParameterAssignment{{Name: "--lr", Value: "0.01"}, {Name: "--optimizer", Value: "sgd"}}
	if diff := cmp.Diff(wantAs, resources.ProtoAssignments(as), protocmp.Transform()); diff != "" {
		t.Errorf("ProtoAssignments() (-want, +got):\n%s", diff)
	}
}
