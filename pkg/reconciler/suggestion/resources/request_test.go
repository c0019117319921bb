package resources_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"knative.dev/pkg/apis"
	duckv1 "knative.dev/pkg/apis/duck/v1"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/function"
	"knobs.dev/knobs/pkg/observation"
	"knobs.dev/knobs/pkg/reconciler/suggestion/resources"
	. "knobs.dev/knobs/pkg/reconciler/testing"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

const ns = "tuning"

// The assignments of the tests, on NewExperiment's space: --lr from 0.01 to
// 0.03 by 0.005, --num-layers from 2 to 5, --optimizer sgd, adam or ftrl.
var (
	a1 = []string{"--lr", "0.01", "--num-layers", "2", "--optimizer", "sgd"}
	a2 = []string{"--lr", "0.015", "--num-layers", "3", "--optimizer", "adam"}
	a3 = []string{"--lr", "0.02", "--num-layers", "4", "--optimizer", "ftrl"}
	a4 = []string{"--lr", "0.025", "--num-layers", "5", "--optimizer", "sgd"}
)

// protoAssignments turns name, value... into the API's assignments.
func protoAssignments(nv ...string) []*pb.ParameterAssignment {
	var out []*pb.ParameterAssignment
	for i := 0; i+1 < len(nv); i += 2 {
		out = append(out, &pb.ParameterAssignment{Name: nv[i], Value: nv[i+1]})
	}
	return out
}

func protoTrial(name string, cond pb.TrialCondition, obs *pb.Observation, nv ...string) *pb.Trial {
	return &pb.Trial{
		Name:   name,
		Spec:   &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: protoAssignments(nv...)}},
		Status: &pb.TrialStatus{Condition: cond, Observation: obs},
	}
}

func withPhase(mark func(*v1alpha1.TrialStatus)) TrialOption {
	return func(t *v1alpha1.Trial) { mark(&t.Status) }
}

func withObservation(nv ...string) TrialOption {
	return func(t *v1alpha1.Trial) {
		t.Status.Observation = &v1alpha1.Observation{}
		for i := 0; i+1 < len(nv); i += 2 {
			t.Status.Observation.Metrics = append(t.Status.Observation.Metrics, v1alpha1.Metric{Name: nv[i], Value: nv[i+1]})
		}
	}
}

func wantExperiment(settings ...string) *pb.Experiment {
	var s []*pb.AlgorithmSetting
	for i := 0; i+1 < len(settings); i += 2 {
		s = append(s, &pb.AlgorithmSetting{Name: settings[i], Value: settings[i+1]})
	}
	return &pb.Experiment{
		Name: "mnist",
		ExperimentSpec: &pb.ExperimentSpec{
			Algorithm: &pb.AlgorithmSpec{AlgorithmName: "random", AlgorithmSettings: s},
			Objective: &pb.ObjectiveSpec{Type: pb.ObjectiveType_MAXIMIZE, Goal: 0.99, ObjectiveMetricName: "Validation-accuracy"},
			ParameterSpecs: &pb.ParameterSpecs{Parameters: []*pb.ParameterSpec{{
				Name:          "--lr",
				ParameterType: pb.ParameterType_DOUBLE,
				FeasibleSpace: &pb.FeasibleSpace{Min: "0.01", Max: "0.03", Step: "0.005"},
			}, {
				Name:          "--num-layers",
				ParameterType: pb.ParameterType_INT,
				FeasibleSpace: &pb.FeasibleSpace{Min: "2", Max: "5"},
			}, {
				Name:          "--optimizer",
				ParameterType: pb.ParameterType_CATEGORICAL,
				FeasibleSpace: &pb.FeasibleSpace{List: []string{"sgd", "adam", "ftrl"}},
			}}},
		},
	}
}

func TestMakeRequest(t *testing.T) {
	exp := NewExperiment("mnist", ns, WithExperimentAlgorithm("random", "random_state", "1", "max_tries", "10"))
	s := NewSuggestion("mnist", ns, WithRequests(6), WithAssignments(a1, a2, a3),
		WithAlgorithmSettings("random_state", "7", "history", "abc"))
	trials := []*v1alpha1.Trial{
		// In no particular order, as a lister returns them; created in
		// the same second, they are sent by name.
		NewTrial("zeta", ns, "mnist", a4, WithTrialFailed),
		NewTrial("mnist-3", ns, "mnist", a3, WithTrialRunning),
		NewTrial("alpha", ns, "mnist", []string{"--lr", "0.03", "--num-layers", "5", "--optimizer", "ftrl"}),
		// The Trial, not the Suggestion, says what mnist-1 ran.
		NewTrial("mnist-1", ns, "mnist", []string{"--lr", "0.010", "--num-layers", "2", "--optimizer", "sgd"},
			WithTrialSucceeded("Validation-accuracy", "0.91", "loss", "0.3")),
	}

	want := &pb.GetSuggestionsRequest{
		Experiment: wantExperiment("random_state", "7", "max_tries", "10", "history", "abc"),
		Trials: []*pb.Trial{
			protoTrial("alpha", pb.TrialCondition_PENDING, nil, "--lr", "0.03", "--num-layers", "5", "--optimizer", "ftrl"),
			protoTrial("mnist-1", pb.TrialCondition_SUCCEEDED, &pb.Observation{Metrics: []*pb.Metric{
				{Name: "Validation-accuracy", Value: "0.91"}, {Name: "loss", Value: "0.3"},
			}}, "--lr", "0.010", "--num-layers", "2", "--optimizer", "sgd"),
			protoTrial("mnist-3", pb.TrialCondition_RUNNING, nil, a3...),
			protoTrial("zeta", pb.TrialCondition_FAILED, nil, a4...),
			// Waiting for its Trial.
			protoTrial("mnist-2", pb.TrialCondition_PENDING, nil, a2...),
		},
		RequestNumber: 3,
	}
	got := resources.MakeRequest(s, exp, trials)
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("MakeRequest (-want, +got):\n%s", diff)
	}
}

func TestMakeRequestFresh(t *testing.T) {
	exp := NewExperiment("mnist", ns)
	s := NewSuggestion("mnist", ns, WithRequests(3))
	want := &pb.GetSuggestionsRequest{
		Experiment:    wantExperiment(),
		Trials:        []*pb.Trial{},
		RequestNumber: 3,
	}
	got := resources.MakeRequest(s, exp, nil)
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("MakeRequest (-want, +got):\n%s", diff)
	}
	if n := len(got.GetExperiment().GetExperimentSpec().GetAlgorithm().GetAlgorithmSettings()); n != 0 {
		t.Errorf("got %d settings, want none", n)
	}
}

func TestMakeRequestNumber(t *testing.T) {
	tests := []struct {
		requests int32
		handed   [][]string
		want     int32
	}{
		{requests: 1, want: 1},
		{requests: 5, handed: [][]string{a1, a2}, want: 3},
		{requests: 4, handed: [][]string{a1, a2, a3}, want: 1},
		{requests: 2, handed: [][]string{a1, a2}, want: 0},
	}
	for _, tc := range tests {
		s := NewSuggestion("mnist", ns, WithRequests(tc.requests), WithAssignments(tc.handed...))
		if got := resources.MakeRequest(s, NewExperiment("mnist", ns), nil).GetRequestNumber(); got != tc.want {
			t.Errorf("requests %d with %d handed out: request_number = %d, want %d", tc.requests, len(tc.handed), got, tc.want)
		}
	}
}

func TestMakeRequestObjective(t *testing.T) {
	exp := NewExperiment("mnist", ns)
	exp.Spec.Objective = v1alpha1.ObjectiveSpec{Type: v1alpha1.ObjectiveTypeMinimize, ObjectiveMetricName: "loss"}
	got := resources.MakeRequest(NewSuggestion("mnist", ns, WithRequests(1)), exp, nil).GetExperiment().GetExperimentSpec().GetObjective()
	want := &pb.ObjectiveSpec{Type: pb.ObjectiveType_MINIMIZE, ObjectiveMetricName: "loss"}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("objective (-want, +got):\n%s", diff)
	}
}

func TestMakeRequestSettingsComeFromTheExperiment(t *testing.T) {
	exp := NewExperiment("mnist", ns, WithExperimentAlgorithm("random", "a", "1", "b", "2", "c", "3"))
	s := NewSuggestion("mnist", ns, WithRequests(1), WithAlgorithmSettings("d", "4", "b", "20", "e", "5", "a", "10"))
	// The Suggestion's own spec settings are not sent: they come from the
	// Experiment, overlaid by the returned state.
	s.Spec.Algorithm.AlgorithmSettings = []v1alpha1.AlgorithmSetting{{Name: "ignored", Value: "x"}}

	got := resources.MakeRequest(s, exp, nil).GetExperiment().GetExperimentSpec().GetAlgorithm()
	want := &pb.AlgorithmSpec{AlgorithmName: "random", AlgorithmSettings: []*pb.AlgorithmSetting{
		{Name: "a", Value: "10"}, {Name: "b", Value: "20"}, {Name: "c", Value: "3"}, {Name: "d", Value: "4"}, {Name: "e", Value: "5"},
	}}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("algorithm (-want, +got):\n%s", diff)
	}
	// Neither input is changed.
	if diff := cmp.Diff([]v1alpha1.AlgorithmSetting{{Name: "a", Value: "1"}, {Name: "b", Value: "2"}, {Name: "c", Value: "3"}}, exp.Spec.Algorithm.AlgorithmSettings); diff != "" {
		t.Errorf("experiment settings changed (-want, +got):\n%s", diff)
	}
}

func TestMakeRequestTrialConditions(t *testing.T) {
	tests := []struct {
		name string
		opts []TrialOption
		want pb.TrialCondition
		obs  *pb.Observation
	}{{
		name: "never reconciled",
		want: pb.TrialCondition_PENDING,
	}, {
		name: "initialised",
		opts: []TrialOption{withPhase(func(ts *v1alpha1.TrialStatus) { ts.InitializeConditions() })},
		want: pb.TrialCondition_PENDING,
	}, {
		name: "pending",
		opts: []TrialOption{withPhase(func(ts *v1alpha1.TrialStatus) { ts.MarkPending("waiting") })},
		want: pb.TrialCondition_PENDING,
	}, {
		name: "running",
		opts: []TrialOption{WithTrialRunning},
		want: pb.TrialCondition_RUNNING,
	}, {
		name: "succeeded",
		opts: []TrialOption{WithTrialSucceeded("Validation-accuracy", "0.95")},
		want: pb.TrialCondition_SUCCEEDED,
		obs:  &pb.Observation{Metrics: []*pb.Metric{{Name: "Validation-accuracy", Value: "0.95"}}},
	}, {
		name: "failed",
		opts: []TrialOption{WithTrialFailed},
		want: pb.TrialCondition_FAILED,
	}, {
		name: "metrics unavailable",
		opts: []TrialOption{withPhase(func(ts *v1alpha1.TrialStatus) { ts.MarkMetricsUnavailable("no metric") })},
		want: pb.TrialCondition_METRICS_UNAVAILABLE,
	}, {
		name: "early stopped with what it saw",
		opts: []TrialOption{
			withPhase(func(ts *v1alpha1.TrialStatus) { ts.MarkEarlyStopped("stopped") }),
			withObservation("Validation-accuracy", "0.5", "loss", "1.2"),
		},
		want: pb.TrialCondition_EARLY_STOPPED,
		obs:  &pb.Observation{Metrics: []*pb.Metric{{Name: "Validation-accuracy", Value: "0.5"}, {Name: "loss", Value: "1.2"}}},
	}, {
		name: "killed when its experiment ended: failed, with what it saw",
		opts: []TrialOption{
			withPhase(func(ts *v1alpha1.TrialStatus) { ts.MarkKilled("the experiment ended") }),
			withObservation("Validation-accuracy", "0.5"),
		},
		want: pb.TrialCondition_FAILED,
		obs:  &pb.Observation{Metrics: []*pb.Metric{{Name: "Validation-accuracy", Value: "0.5"}}},
	}, {
		name: "running with an empty observation",
		opts: []TrialOption{WithTrialRunning, withObservation()},
		want: pb.TrialCondition_RUNNING,
		obs:  &pb.Observation{},
	}, {
		name: "unknown reason",
		opts: []TrialOption{withPhase(func(ts *v1alpha1.TrialStatus) {
			ts.Conditions = duckv1.Conditions{{Type: apis.ConditionSucceeded, Status: corev1.ConditionUnknown, Reason: "Evicted"}}
		})},
		want: pb.TrialCondition_PENDING,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSuggestion("mnist", ns, WithRequests(2), WithAssignments(a1))
			trials := []*v1alpha1.Trial{NewTrial("mnist-1", ns, "mnist", a1, tc.opts...)}
			got := resources.MakeRequest(s, NewExperiment("mnist", ns), trials).GetTrials()
			want := []*pb.Trial{protoTrial("mnist-1", tc.want, tc.obs, a1...)}
			if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
				t.Errorf("trials (-want, +got):\n%s", diff)
			}
		})
	}
}

func TestMakeRequestHistoryOrderByCreation(t *testing.T) {
	s := NewSuggestion("mnist", ns, WithRequests(4), WithAssignments(a1, a2, a3, a4), WithTrialsCreated(3))
	at := func(sec int64) TrialOption {
		return func(t *v1alpha1.Trial) { t.CreationTimestamp = metav1.Unix(sec, 0) }
	}
	trials := []*v1alpha1.Trial{
		NewTrial("mnist-3", ns, "mnist", a3, at(20)),
		NewTrial("mnist-10", ns, "mnist", a4, at(5)),
		NewTrial("mnist-1", ns, "mnist", a1, at(10)),
		NewTrial("mnist-2", ns, "mnist", a2, at(10)),
	}
	var got []string
	for _, tr := range resources.MakeRequest(s, NewExperiment("mnist", ns), trials).GetTrials() {
		got = append(got, tr.GetName())
	}
	want := []string{"mnist-10", "mnist-1", "mnist-2", "mnist-3", "mnist-4"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("history (-want, +got):\n%s", diff)
	}
}

func TestMakeRequestHistoryOrder(t *testing.T) {
	s := NewSuggestion("mnist", ns, WithRequests(4), WithAssignments(a1, a2, a3))
	trials := []*v1alpha1.Trial{
		NewTrial("mnist-b", ns, "mnist", a4),
		NewTrial("mnist-2", ns, "mnist", a2, WithTrialRunning),
		NewTrial("mnist-a", ns, "mnist", a4),
		NewTrial("mnist-10", ns, "mnist", a4),
	}
	var got []string
	for _, tr := range resources.MakeRequest(s, NewExperiment("mnist", ns), trials).GetTrials() {
		got = append(got, tr.GetName()+"="+tr.GetStatus().GetCondition().String())
	}
	// The Trials in the order they came to be, created in the same second
	// here (the number at a name's end read as a number), then the
	// assignments still waiting for their Trials.
	want := []string{"mnist-2=RUNNING", "mnist-10=PENDING", "mnist-a=PENDING", "mnist-b=PENDING", "mnist-1=PENDING", "mnist-3=PENDING"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("history (-want, +got):\n%s", diff)
	}
}

// TestOverlaySettings checks the settings a request carries: the
// Experiment's, overlaid by the state the algorithm returned last.
func TestOverlaySettings(t *testing.T) {
	set := func(nv ...string) []v1alpha1.AlgorithmSetting {
		var out []v1alpha1.AlgorithmSetting
		for i := 0; i+1 < len(nv); i += 2 {
			out = append(out, v1alpha1.AlgorithmSetting{Name: nv[i], Value: nv[i+1]})
		}
		return out
	}
	tests := []struct {
		name       string
		base, over []v1alpha1.AlgorithmSetting
		want       []v1alpha1.AlgorithmSetting
	}{{
		name: "both empty",
		want: []v1alpha1.AlgorithmSetting{},
	}, {
		name: "base only",
		base: set("a", "1", "b", "2"),
		want: set("a", "1", "b", "2"),
	}, {
		name: "over only",
		over: set("b", "2", "a", "1"),
		want: set("b", "2", "a", "1"),
	}, {
		name: "same name replaced in place",
		base: set("a", "1", "b", "2", "c", "3"),
		over: set("b", "20"),
		want: set("a", "1", "b", "20", "c", "3"),
	}, {
		name: "new names appended in order",
		base: set("a", "1"),
		over: set("z", "26", "m", "13"),
		want: set("a", "1", "z", "26", "m", "13"),
	}, {
		name: "replaced and appended",
		base: set("a", "1", "b", "2"),
		over: set("c", "3", "a", "10"),
		want: set("a", "10", "b", "2", "c", "3"),
	}, {
		name: "the last of repeated names wins, at the first one's place",
		base: set("a", "1", "b", "2", "a", "3"),
		over: set("c", "4", "c", "5", "b", "6"),
		want: set("a", "3", "b", "6", "c", "5"),
	}, {
		name: "empty value replaces",
		base: set("a", "1"),
		over: set("a", ""),
		want: set("a", ""),
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			baseCopy := append([]v1alpha1.AlgorithmSetting(nil), tc.base...)
			overCopy := append([]v1alpha1.AlgorithmSetting(nil), tc.over...)
			exp := NewExperiment("mnist", ns)
			exp.Spec.Algorithm.AlgorithmSettings = tc.base
			s := NewSuggestion("mnist", ns, WithRequests(1))
			s.Status.AlgorithmSettings = tc.over
			got := resources.MakeRequest(s, exp, nil).GetExperiment().GetExperimentSpec().GetAlgorithm().GetAlgorithmSettings()
			if diff := cmp.Diff(resources.ProtoSettings(tc.want), got, protocmp.Transform()); diff != "" {
				t.Errorf("OverlaySettings (-want, +got):\n%s", diff)
			}
			if got == nil {
				t.Error("OverlaySettings = nil, want a slice")
			}
			if diff := cmp.Diff(baseCopy, exp.Spec.Algorithm.AlgorithmSettings); diff != "" {
				t.Errorf("base changed (-want, +got):\n%s", diff)
			}
			if diff := cmp.Diff(overCopy, s.Status.AlgorithmSettings); diff != "" {
				t.Errorf("over changed (-want, +got):\n%s", diff)
			}
		})
	}
}

func TestTrialName(t *testing.T) {
	short := NewSuggestion("mnist", ns)
	for n, want := range map[int]string{1: "mnist-1", 2: "mnist-2", 12: "mnist-12", 1000: "mnist-1000"} {
		if got := resources.TrialName(short, n); got != want {
			t.Errorf("TrialName(mnist, %d) = %q, want %q", n, got, want)
		}
	}

	// A name that fits exactly is kept.
	fits := NewSuggestion(strings.Repeat("a", 61), ns)
	if got, want := resources.TrialName(fits, 1), strings.Repeat("a", 61)+"-1"; got != want {
		t.Errorf("TrialName(61 characters, 1) = %q, want %q", got, want)
	}

	for _, length := range []int{62, 63, 100, 253} {
		long := NewSuggestion(strings.Repeat("x", length-10)+"-123456789", ns)
		seen := map[string]int{}
		for _, n := range []int{1, 2, 3, 10, 11, 99, 100, 12345} {
			got := resources.TrialName(long, n)
			if len(got) > 63 {
				t.Errorf("TrialName(%d characters, %d) = %q has %d characters, want at most 63", length, n, got, len(got))
			}
			if want := "-" + strconv.Itoa(n); !strings.HasSuffix(got, want) {
				t.Errorf("TrialName(%d characters, %d) = %q, want it to end with %q", length, n, got, want)
			}
			if m, dup := seen[got]; dup {
				t.Errorf("TrialName(%d characters, %d) = TrialName(..., %d) = %q", length, n, m, got)
			}
			seen[got] = n
			if again := resources.TrialName(long, n); again != got {
				t.Errorf("TrialName is not stable: %q then %q", got, again)
			}
		}
	}

	// Two long names with the same start give different trial names.
	x := NewSuggestion(strings.Repeat("p", 70)+"-x", ns)
	y := NewSuggestion(strings.Repeat("p", 70)+"-y", ns)
	if resources.TrialName(x, 1) == resources.TrialName(y, 1) {
		t.Errorf("TrialName of two long names sharing a prefix = %q for both", resources.TrialName(x, 1))
	}
}

// reply builds a function's reply of assignments given as name, value...
func reply(exhausted bool, rows ...[]string) *pb.GetSuggestionsReply {
	r := &pb.GetSuggestionsReply{SearchSpaceExhausted: exhausted}
	for _, row := range rows {
		r.ParameterAssignments = append(r.ParameterAssignments, &pb.GetSuggestionsReply_ParameterAssignments{Assignments: protoAssignments(row...)})
	}
	return r
}

func space(t *testing.T) *searchspace.Space {
	t.Helper()
	sp, err := resources.ParseSpace(NewExperiment("mnist", ns))
	if err != nil {
		t.Fatalf("ParseSpace() = %v", err)
	}
	return sp
}

func TestCheckReplyAccepts(t *testing.T) {
	tests := []struct {
		name    string
		handed  [][]string
		reply   *pb.GetSuggestionsReply
		wantNum int32
		want    [][]v1alpha1.ParameterAssignment
	}{{
		name:    "exactly what was asked",
		reply:   reply(false, a1, a2),
		wantNum: 2,
		want:    [][]v1alpha1.ParameterAssignment{Assignments(a1...), Assignments(a2...)},
	}, {
		name:    "fewer with the space exhausted",
		reply:   reply(true, a3),
		wantNum: 3,
		want:    [][]v1alpha1.ParameterAssignment{Assignments(a3...)},
	}, {
		name:    "none with the space exhausted",
		reply:   reply(true),
		wantNum: 2,
		want:    [][]v1alpha1.ParameterAssignment{},
	}, {
		name:    "exactly what was asked, exhausted too",
		reply:   reply(true, a4),
		wantNum: 1,
		want:    [][]v1alpha1.ParameterAssignment{Assignments(a4...)},
	}, {
		name:    "new ones after those handed out",
		handed:  [][]string{a1, a2},
		reply:   reply(false, a3, a4),
		wantNum: 2,
		want:    [][]v1alpha1.ParameterAssignment{Assignments(a3...), Assignments(a4...)},
	}, {
		name:    "rows in the experiment's order with the function's strings",
		reply:   reply(false, []string{"--optimizer", "adam", "--num-layers", "3", "--lr", "0.0150"}, []string{"--num-layers", "5.0", "--lr", "3e-2", "--optimizer", "ftrl"}),
		wantNum: 2,
		want: [][]v1alpha1.ParameterAssignment{
			Assignments("--lr", "0.0150", "--num-layers", "3", "--optimizer", "adam"),
			Assignments("--lr", "3e-2", "--num-layers", "5.0", "--optimizer", "ftrl"),
		},
	}, {
		name:    "bounds are inside",
		reply:   reply(false, []string{"--lr", "0.03", "--num-layers", "5", "--optimizer", "ftrl"}, []string{"--lr", "0.01", "--num-layers", "2", "--optimizer", "sgd"}),
		wantNum: 2,
		want: [][]v1alpha1.ParameterAssignment{
			Assignments("--lr", "0.03", "--num-layers", "5", "--optimizer", "ftrl"),
			Assignments("--lr", "0.01", "--num-layers", "2", "--optimizer", "sgd"),
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSuggestion("mnist", ns, WithRequests(int32(len(tc.handed))+tc.wantNum), WithAssignments(tc.handed...))
			got, err := resources.CheckReply(space(t), s, nil, tc.reply, tc.wantNum)
			if err != nil {
				t.Fatalf("CheckReply() = %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("CheckReply (-want, +got):\n%s", diff)
			}
		})
	}
}

func TestCheckReplyRejects(t *testing.T) {
	tests := []struct {
		name    string
		handed  [][]string
		reply   *pb.GetSuggestionsReply
		wantNum int32
		want    string
	}{{
		name:    "more than asked",
		reply:   reply(false, a1, a2, a3),
		wantNum: 2,
		want:    "the reply has 3 assignments for 2 asked",
	}, {
		name:    "more than asked, even when exhausted",
		reply:   reply(true, a1, a2),
		wantNum: 1,
		want:    "the reply has 2 assignments for 1 asked",
	}, {
		name:    "fewer without exhausted",
		reply:   reply(false, a1),
		wantNum: 2,
		want:    "the reply has 1 assignments for 2 asked, without saying the search space is exhausted",
	}, {
		name:    "none without exhausted",
		reply:   reply(false),
		wantNum: 3,
		want:    "the reply has 0 assignments for 3 asked, without saying the search space is exhausted",
	}, {
		name:    "unknown parameter",
		reply:   reply(false, append(append([]string{}, a1...), "--momentum", "0.9")),
		wantNum: 1,
		want:    `assignment 0 of the reply: assignments[3]: unknown parameter "--momentum"`,
	}, {
		name:    "missing parameter",
		reply:   reply(false, a1, []string{"--lr", "0.02", "--num-layers", "4"}),
		wantNum: 2,
		want:    `assignment 1 of the reply: assignments: parameter "--optimizer" is not assigned`,
	}, {
		name:    "duplicate parameter",
		reply:   reply(false, []string{"--lr", "0.02", "--lr", "0.025", "--num-layers", "4", "--optimizer", "sgd"}),
		wantNum: 1,
		want:    `assignment 0 of the reply: assignments[1]: parameter "--lr" is assigned twice`,
	}, {
		name:    "non-integer int",
		reply:   reply(false, []string{"--lr", "0.02", "--num-layers", "2.5", "--optimizer", "sgd"}),
		wantNum: 1,
		want:    `assignment 0 of the reply: assignments[1]: parameter "--num-layers": "2.5" is not an integer`,
	}, {
		name:    "non-numeric double",
		reply:   reply(false, []string{"--lr", "fast", "--num-layers", "2", "--optimizer", "sgd"}),
		wantNum: 1,
		want:    `assignment 0 of the reply: assignments[0]: parameter "--lr": "fast" is not a number`,
	}, {
		name:    "unknown category",
		reply:   reply(false, []string{"--lr", "0.02", "--num-layers", "2", "--optimizer", "rmsprop"}),
		wantNum: 1,
		want:    `assignment 0 of the reply: assignments[2]: parameter "--optimizer": "rmsprop" is not one of ["sgd", "adam", "ftrl"]`,
	}, {
		name:    "int above max",
		reply:   reply(false, []string{"--lr", "0.02", "--num-layers", "7", "--optimizer", "sgd"}),
		wantNum: 1,
		want:    `assignment 0 of the reply: parameter "--num-layers": 7 is outside its feasible space`,
	}, {
		name:    "double below min",
		reply:   reply(false, a1, []string{"--lr", "0.005", "--num-layers", "3", "--optimizer", "sgd"}),
		wantNum: 2,
		want:    `assignment 1 of the reply: parameter "--lr": 0.005 is outside its feasible space`,
	}, {
		name:    "double off the step grid",
		reply:   reply(false, []string{"--lr", "0.012", "--num-layers", "3", "--optimizer", "sgd"}),
		wantNum: 1,
		want:    `assignment 0 of the reply: parameter "--lr": 0.012 is outside its feasible space`,
	}, {
		name:    "duplicate within the reply",
		reply:   reply(false, a1, a2, a1),
		wantNum: 3,
		want:    "assignment 2 of the reply: repeats assignment 0 of the reply: --lr=0.01 --num-layers=2 --optimizer=sgd",
	}, {
		name:    "duplicate within the reply, written differently",
		reply:   reply(false, a2, []string{"--optimizer", "adam", "--lr", "0.0150", "--num-layers", "3"}),
		wantNum: 2,
		want:    "assignment 1 of the reply: repeats assignment 0 of the reply: --lr=0.015 --num-layers=3 --optimizer=adam",
	}, {
		name:    "repeat of status.suggestions",
		handed:  [][]string{a1, a2},
		reply:   reply(false, a3, a2),
		wantNum: 2,
		want:    "assignment 1 of the reply: repeats one handed out before: --lr=0.015 --num-layers=3 --optimizer=adam",
	}, {
		name:    "repeat of status.suggestions, even when exhausted",
		handed:  [][]string{a1},
		reply:   reply(true, a1),
		wantNum: 3,
		want:    "assignment 0 of the reply: repeats one handed out before: --lr=0.01 --num-layers=2 --optimizer=sgd",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSuggestion("mnist", ns, WithRequests(int32(len(tc.handed))+tc.wantNum), WithAssignments(tc.handed...))
			got, err := resources.CheckReply(space(t), s, nil, tc.reply, tc.wantNum)
			if err == nil {
				t.Fatalf("CheckReply() = %v, want error %q", got, tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("CheckReply() error =\n%s\nwant\n%s", err, tc.want)
			}
			if got != nil {
				t.Errorf("CheckReply() = %v with an error, want nil", got)
			}
		})
	}
}

func TestCheckReplyWrapsSearchSpaceErrors(t *testing.T) {
	_, err := resources.CheckReply(space(t), NewSuggestion("mnist", ns, WithRequests(1)), nil,
		reply(false, []string{"--lr", "0.02", "--num-layers", "2", "--optimizer", "rmsprop"}), 1)
	var se *searchspace.Error
	if !errors.As(err, &se) {
		t.Fatalf("CheckReply() = %v, want a *searchspace.Error inside", err)
	}
	if se.Path != "assignments[2]" {
		t.Errorf("Path = %q, want assignments[2]", se.Path)
	}
}

func TestFromProtoSettings(t *testing.T) {
	if got := resources.FromProtoSettings(nil); got != nil {
		t.Errorf("FromProtoSettings(nil) = %#v, want nil", got)
	}
	if got := resources.FromProtoSettings([]*pb.AlgorithmSetting{}); got != nil {
		t.Errorf("FromProtoSettings(empty) = %#v, want nil", got)
	}
	got := resources.FromProtoSettings([]*pb.AlgorithmSetting{{Name: "random_state", Value: "42"}, {Name: "history", Value: ""}, nil})
	want := []v1alpha1.AlgorithmSetting{{Name: "random_state", Value: "42"}, {Name: "history", Value: ""}, {}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FromProtoSettings (-want, +got):\n%s", diff)
	}
}

// TestMakeRequestHistoryInColumns checks that from function.ColumnsFrom
// trials on the history travels in columns, and that the columns hold the
// trials the plain form would, string for string.
func TestMakeRequestHistoryInColumns(t *testing.T) {
	request := func(n int) *pb.GetSuggestionsRequest {
		var as [][]string
		var trials []*v1alpha1.Trial
		for i := range n {
			a := [][]string{a1, a2, a3, a4}[i%4]
			as = append(as, a)
			name := "mnist-" + strconv.Itoa(i+1)
			switch i % 3 {
			case 0:
				trials = append(trials, NewTrial(name, ns, "mnist", a, WithTrialSucceeded("Validation-accuracy", "0.9"+strconv.Itoa(i)), WithTrialCurve("loss", "0.5", "0.25", strconv.Itoa(i))))
			case 1:
				trials = append(trials, NewTrial(name, ns, "mnist", a, WithTrialRunning))
			default:
				trials = append(trials, NewTrial(name, ns, "mnist", a))
			}
		}
		s := NewSuggestion("mnist", ns, WithRequests(int32(n+2)), WithAssignments(as...), WithTrialsCreated(n))
		return resources.MakeRequest(s, NewExperiment("mnist", ns), trials)
	}
	below, at := request(function.ColumnsFrom-1), request(function.ColumnsFrom)
	if below.GetHistory() != nil || len(below.GetTrials()) != function.ColumnsFrom-1 {
		t.Fatalf("below %d trials: history %v, %d trials; want them in plain", function.ColumnsFrom, below.GetHistory() != nil, len(below.GetTrials()))
	}
	if at.GetHistory() == nil || len(at.GetTrials()) != 0 {
		t.Fatalf("at %d trials: history %v, %d trials; want them in columns", function.ColumnsFrom, at.GetHistory() != nil, len(at.GetTrials()))
	}
	got, err := function.ExpandHistory(at.GetExperiment().GetExperimentSpec().GetParameterSpecs().GetParameters(), at.GetHistory())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(below.GetTrials(), got[:len(got)-1], protocmp.Transform()); diff != "" {
		t.Errorf("trials in columns (-plain, +columns):\n%s", diff)
	}
	if len(at.GetHistory().GetPlain()) != 0 || len(at.GetHistory().GetNames().GetAt()) != 0 {
		t.Errorf("%d plain trials and %d names written out; want none", len(at.GetHistory().GetPlain()), len(at.GetHistory().GetNames().GetAt()))
	}
	if p, c := proto.Size(below), proto.Size(at); c*2 > p {
		t.Errorf("%d bytes in columns against %d in plain; want half at most", c, p)
	}
}

// TestConditionalParameterOnTheWire carries a parameter's condition to the
// wire, and the space the controller checks replies against holds a reply
// to it: an inactive parameter assigned is a violation.
func TestConditionalParameterOnTheWire(t *testing.T) {
	exp := &v1alpha1.Experiment{Spec: v1alpha1.ExperimentSpec{Parameters: []v1alpha1.ParameterSpec{
		{Name: "optimizer", ParameterType: v1alpha1.ParameterTypeCategorical, FeasibleSpace: v1alpha1.FeasibleSpace{List: []string{"sgd", "adam"}}},
		{Name: "momentum", ParameterType: v1alpha1.ParameterTypeDouble, FeasibleSpace: v1alpha1.FeasibleSpace{Min: "0.5", Max: "0.99"},
			ParentName: "optimizer", ParentValues: []string{"sgd"}},
	}}}
	got := resources.ProtoParameter(&exp.Spec.Parameters[1])
	if got.GetParentName() != "optimizer" || !cmp.Equal(got.GetParentValues(), []string{"sgd"}) {
		t.Errorf("ProtoParameter: parentName %q, parentValues %v; want optimizer, [sgd]", got.GetParentName(), got.GetParentValues())
	}
	space, err := resources.ParseSpace(exp)
	if err != nil {
		t.Fatalf("ParseSpace: %v", err)
	}
	if !space.Conditional() {
		t.Fatal("ParseSpace: the space has no conditional parameter")
	}
	as := []*pb.ParameterAssignment{{Name: "optimizer", Value: "adam"}, {Name: "momentum", Value: "0.9"}}
	if _, err := space.ParseAssignments(as); err == nil || !strings.Contains(err.Error(), `"momentum" is inactive`) {
		t.Errorf("ParseAssignments(%v) = %v; want momentum refused as inactive", as, err)
	}
}

// TestMakeRequestCarriesObjectivesAndConstraints checks that a request with
// additional objectives and constraints names them, and that the trials'
// observations, recorded as the Trial reconciler records them, carry their
// metrics to the function both in plain and in columns.
func TestMakeRequestCarriesObjectivesAndConstraints(t *testing.T) {
	exp := NewExperiment("mnist", ns)
	exp.Spec.Objective.AdditionalObjectives = []v1alpha1.AdditionalObjective{{Name: "latency", Type: v1alpha1.ObjectiveTypeMinimize}}
	exp.Spec.Objective.Constraints = []v1alpha1.MetricConstraint{{Name: "cost", Max: ptr.To(1.0)}}
	request := func(n int) *pb.GetSuggestionsRequest {
		var as [][]string
		var trials []*v1alpha1.Trial
		for i := range n {
			a := [][]string{a1, a2, a3, a4}[i%4]
			as = append(as, a)
			obs, _, err := observation.Apply(nil, &exp.Spec.Objective, map[string]float64{
				"Validation-accuracy": 0.5, "latency": float64(i), "cost": float64(i % 3), "ignored": 1,
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			trials = append(trials, NewTrial("mnist-"+strconv.Itoa(i+1), ns, "mnist", a, WithTrialSucceeded(), WithTrialStatus(func(s *v1alpha1.TrialStatus) {
				s.Observation = obs
			})))
		}
		s := NewSuggestion("mnist", ns, WithRequests(int32(n+1)), WithAssignments(as...), WithTrialsCreated(n))
		return resources.MakeRequest(s, exp, trials)
	}
	wantObjective := &pb.ObjectiveSpec{
		Type: pb.ObjectiveType_MAXIMIZE, Goal: 0.99, ObjectiveMetricName: "Validation-accuracy",
		AdditionalObjectives: []*pb.AdditionalObjective{{MetricName: "latency", Type: pb.ObjectiveType_MINIMIZE}},
		Constraints:          []*pb.MetricConstraint{{MetricName: "cost", Max: proto.Float64(1)}},
	}
	check := func(form string, req *pb.GetSuggestionsRequest, trials []*pb.Trial) {
		t.Helper()
		if diff := cmp.Diff(wantObjective, req.GetExperiment().GetExperimentSpec().GetObjective(), protocmp.Transform()); diff != "" {
			t.Errorf("%s: objective (-want, +got):\n%s", form, diff)
		}
		for i, tr := range trials {
			var names []string
			values := map[string]string{}
			for _, m := range tr.GetStatus().GetObservation().GetMetrics() {
				names = append(names, m.GetName())
				values[m.GetName()] = m.GetValue()
			}
			if diff := cmp.Diff([]string{"Validation-accuracy", "latency", "cost"}, names); diff != "" {
				t.Fatalf("%s: trial %d's metrics (-want, +got):\n%s", form, i, diff)
			}
			if want := strconv.Itoa(i); values["latency"] != want {
				t.Errorf("%s: trial %d's latency %s, want %s", form, i, values["latency"], want)
			}
			if want := strconv.Itoa(i % 3); values["cost"] != want {
				t.Errorf("%s: trial %d's cost %s, want %s", form, i, values["cost"], want)
			}
		}
	}
	plain := request(3)
	check("plain", plain, plain.GetTrials())
	columns := request(function.ColumnsFrom)
	if columns.GetHistory() == nil {
		t.Fatalf("%d trials sent in plain; want them in columns", function.ColumnsFrom)
	}
	got, err := function.ExpandHistory(columns.GetExperiment().GetExperimentSpec().GetParameterSpecs().GetParameters(), columns.GetHistory())
	if err != nil {
		t.Fatal(err)
	}
	check("columns", columns, got)
}

// A conditional parameter its parent leaves inactive is absent from the
// reply, and stays absent from the assignments handed out: an empty value
// would reach the trial's template and the next request.
func TestCheckReplyLeavesInactiveOut(t *testing.T) {
	e := NewExperiment("mnist", ns)
	e.Spec.Parameters = append(e.Spec.Parameters, v1alpha1.ParameterSpec{
		Name:          "--momentum",
		ParameterType: v1alpha1.ParameterTypeDouble,
		FeasibleSpace: v1alpha1.FeasibleSpace{Min: "0.5", Max: "0.99"},
		ParentName:    "--optimizer",
		ParentValues:  []string{"sgd"},
	})
	sp, err := resources.ParseSpace(e)
	if err != nil {
		t.Fatalf("ParseSpace() = %v", err)
	}
	s := NewSuggestion("mnist", ns, WithRequests(2))
	got, err := resources.CheckReply(sp, s, nil, reply(false,
		[]string{"--lr", "0.02", "--num-layers", "3", "--optimizer", "adam"},
		[]string{"--lr", "0.01", "--num-layers", "2", "--optimizer", "sgd", "--momentum", "0.9"}), 2)
	if err != nil {
		t.Fatalf("CheckReply() = %v", err)
	}
	want := [][]v1alpha1.ParameterAssignment{
		Assignments("--lr", "0.02", "--num-layers", "3", "--optimizer", "adam"),
		Assignments("--lr", "0.01", "--num-layers", "2", "--optimizer", "sgd", "--momentum", "0.9"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CheckReply (-want, +got):\n%s", diff)
	}
}
