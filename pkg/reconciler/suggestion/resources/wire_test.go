package resources_test

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"k8s.io/utils/ptr"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/reconciler/suggestion/resources"
	. "knobs.dev/knobs/pkg/reconciler/testing"
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
		name: "additional objectives and constraints",
		in: v1alpha1.ObjectiveSpec{
			Type: v1alpha1.ObjectiveTypeMinimize, ObjectiveMetricName: "loss",
			AdditionalObjectives: []v1alpha1.AdditionalObjective{{Name: "latency", Type: v1alpha1.ObjectiveTypeMinimize}, {Name: "recall", Type: v1alpha1.ObjectiveTypeMaximize}},
			Constraints: []v1alpha1.MetricConstraint{
				{Name: "cost", Max: ptr.To(2.5)},
				{Name: "loss", Min: ptr.To(0.0)},
				{Name: "memory", Min: ptr.To(-1.0), Max: ptr.To(1.0)},
			},
		},
		want: &pb.ObjectiveSpec{
			Type: pb.ObjectiveType_MINIMIZE, ObjectiveMetricName: "loss",
			AdditionalObjectives: []*pb.AdditionalObjective{{MetricName: "latency", Type: pb.ObjectiveType_MINIMIZE}, {MetricName: "recall", Type: pb.ObjectiveType_MAXIMIZE}},
			Constraints: []*pb.MetricConstraint{
				{MetricName: "cost", Max: proto.Float64(2.5)},
				{MetricName: "loss", Min: proto.Float64(0)},
				{MetricName: "memory", Min: proto.Float64(-1), Max: proto.Float64(1)},
			},
		},
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

// withCurves gives the trial's observation a learning curve of n points
// per metric.
func withCurves(n int) TrialOption {
	return func(t *v1alpha1.Trial) {
		for i := range t.Status.Observation.Metrics {
			m := &t.Status.Observation.Metrics[i]
			m.Min, m.Max, m.Latest = "0.1", "0.9", "0.5"
			for s := range n {
				m.Curve = append(m.Curve, v1alpha1.CurvePoint{Step: int64(s) * 16384, Value: strconv.FormatFloat(1/float64(s+7), 'g', -1, 64)})
			}
		}
	}
}

func TestMakeRequestCarriesCurves(t *testing.T) {
	s := NewSuggestion("mnist", ns, WithRequests(3), WithAssignments(a1, a2))
	trials := []*v1alpha1.Trial{
		NewTrial("mnist-1", ns, "mnist", a1, WithTrialSucceeded("Validation-accuracy", "0.95", "loss", "0.2"), withCurves(3)),
		NewTrial("mnist-2", ns, "mnist", a2, WithTrialSucceeded("Validation-accuracy", "0.9")), // written by hand, no curve
	}
	got := resources.MakeRequest(s, NewExperiment("mnist", ns), trials).GetTrials()
	curve := []*pb.MetricPoint{{Step: 0, Value: "0.14285714285714285"}, {Step: 16384, Value: "0.125"}, {Step: 32768, Value: "0.1111111111111111"}}
	want := []*pb.Trial{
		protoTrial("mnist-1", pb.TrialCondition_SUCCEEDED, &pb.Observation{Metrics: []*pb.Metric{
			{Name: "Validation-accuracy", Value: "0.95", Curve: curve},
			{Name: "loss", Value: "0.2", Curve: curve},
		}}, a1...),
		protoTrial("mnist-2", pb.TrialCondition_SUCCEEDED, &pb.Observation{Metrics: []*pb.Metric{{Name: "Validation-accuracy", Value: "0.9"}}}, a2...),
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("trials (-want, +got):\n%s", diff)
	}
	// The request does not share the Trial's curve.
	got[0].Status.Observation.Metrics[0].Curve[0].Value = "changed"
	if v := trials[0].Status.Observation.Metrics[0].Curve[0].Value; v != "0.14285714285714285" {
		t.Errorf("changing the request changed the Trial's curve to %q", v)
	}
}

// TestCurveWireSize measures what full curves add to a request, as
// docs/function-contract.md gives it: the curve is sent as the Trial keeps
// it, so its size is bounded by the Trial's bound.
func TestCurveWireSize(t *testing.T) {
	bare := NewTrial("mnist-1", ns, "mnist", a1, WithTrialSucceeded("Validation-accuracy", "0.95", "loss", "0.2"))
	full := NewTrial("mnist-1", ns, "mnist", a1, WithTrialSucceeded("Validation-accuracy", "0.95", "loss", "0.2"), withCurves(v1alpha1.MaxCurvePoints))
	s := NewSuggestion("mnist", ns, WithRequests(2), WithAssignments(a1))
	size := func(tr *v1alpha1.Trial) (int, int) {
		req := resources.MakeRequest(s, NewExperiment("mnist", ns), []*v1alpha1.Trial{tr})
		b, err := proto.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		j, err := protojson.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		return len(b), len(j)
	}
	b0, j0 := size(bare)
	b1, j1 := size(full)
	perPoint := float64(b1-b0) / float64(2*v1alpha1.MaxCurvePoints)
	t.Logf("two full curves add %d bytes of protobuf (%.1f a point), %d of JSON", b1-b0, perPoint, j1-j0)
	if got := len(resources.MakeRequest(s, NewExperiment("mnist", ns), []*v1alpha1.Trial{full}).GetTrials()[0].GetStatus().GetObservation().GetMetrics()[1].GetCurve()); got != v1alpha1.MaxCurvePoints {
		t.Errorf("the request holds %d points of a curve of %d", got, v1alpha1.MaxCurvePoints)
	}
	if perPoint > 32 {
		t.Errorf("a point takes %.1f bytes of protobuf, more than the 32 the docs allow for", perPoint)
	}
}
