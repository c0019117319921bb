package algorithm_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// fake is an algorithm that suggests nothing and validates with a function.
type fake struct {
	settings []algorithm.Setting
	validate func(*algorithm.Problem) error
	calls    *int
}

func (f fake) Settings() []algorithm.Setting { return f.settings }

func (f fake) Validate(p *algorithm.Problem) error {
	if f.calls != nil {
		*f.calls++
	}
	if f.validate == nil {
		return nil
	}
	return f.validate(p)
}

func (f fake) Suggest(context.Context, *algorithm.Problem, []algorithm.Trial, int) (*algorithm.Suggestions, error) {
	return &algorithm.Suggestions{}, nil
}

// experiment is Katib's random search example.
func experiment(settings ...*pb.AlgorithmSetting) *pb.Experiment {
	return &pb.Experiment{
		Name: "random-example",
		ExperimentSpec: &pb.ExperimentSpec{
			Algorithm: &pb.AlgorithmSpec{AlgorithmName: "random", AlgorithmSettings: settings},
			Objective: &pb.ObjectiveSpec{Type: pb.ObjectiveType_MAXIMIZE, Goal: 0.99, ObjectiveMetricName: "Validation-accuracy"},
			ParameterSpecs: &pb.ParameterSpecs{Parameters: []*pb.ParameterSpec{
				{Name: "--lr", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: "0.01", Max: "0.03"}},
				{Name: "--num-layers", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "2", Max: "5"}},
				{Name: "--optimizer", ParameterType: pb.ParameterType_CATEGORICAL, FeasibleSpace: &pb.FeasibleSpace{List: []string{"sgd", "adam", "ftrl"}}},
			}},
		},
	}
}

func mustProblem(t *testing.T, alg algorithm.Algorithm, exp *pb.Experiment) *algorithm.Problem {
	t.Helper()
	p, err := algorithm.NewProblem(alg, exp)
	if err != nil {
		t.Fatalf("NewProblem: %v", err)
	}
	return p
}

func TestNewProblem(t *testing.T) {
	calls := 0
	var seen *algorithm.Problem
	alg := fake{settings: specs(), calls: &calls, validate: func(p *algorithm.Problem) error { seen = p; return nil }}
	p := mustProblem(t, alg, experiment(&pb.AlgorithmSetting{Name: "n", Value: "3"}))
	if calls != 1 || seen != p {
		t.Errorf("Validate called %d times with %p, want once with the problem %p", calls, seen, p)
	}
	if p.Experiment != "random-example" {
		t.Errorf("Experiment = %q", p.Experiment)
	}
	want := algorithm.Objective{Maximize: true, Metric: "Validation-accuracy", Goal: 0.99}
	if !reflect.DeepEqual(p.Objective, want) {
		t.Errorf("Objective = %+v, want %+v", p.Objective, want)
	}
	if p.Space.Len() != 3 || p.Space.Params[2].Name != "--optimizer" {
		t.Errorf("Space has %d parameters, want the three of the experiment", p.Space.Len())
	}
	if p.Settings.Int("n") != 3 || p.Settings.String("mode") != "fast" {
		t.Errorf("Settings n=%d mode=%q, want 3 and the default fast", p.Settings.Int("n"), p.Settings.String("mode"))
	}
}

func TestNewProblemObjective(t *testing.T) {
	tests := []struct {
		name string
		typ  pb.ObjectiveType
		want bool
	}{
		{"maximize", pb.ObjectiveType_MAXIMIZE, true},
		{"minimize", pb.ObjectiveType_MINIMIZE, false},
		{"unknown is allowed for algorithms that need none", pb.ObjectiveType_UNKNOWN, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp := experiment()
			exp.ExperimentSpec.Objective.Type = tt.typ
			p := mustProblem(t, fake{}, exp)
			if p.Objective.Maximize != tt.want {
				t.Errorf("Maximize = %v, want %v", p.Objective.Maximize, tt.want)
			}
		})
	}
}

func TestNewProblemErrors(t *testing.T) {
	errValidate := algorithm.Invalidf("experiment.experimentSpec.parameterSpecs.parameters[0] (\"--lr\").feasibleSpace.step", "missing")
	tests := []struct {
		name   string
		alg    algorithm.Algorithm
		exp    func() *pb.Experiment
		path   string
		words  []string
		isSame error // when set, the very error NewProblem must return
	}{
		{"no experiment", fake{}, func() *pb.Experiment { return nil },
			"experiment", []string{"missing", "experimentSpec"}, nil},
		{"no spec", fake{}, func() *pb.Experiment { return &pb.Experiment{Name: "x"} },
			"experiment", []string{"missing"}, nil},
		{"no parameters", fake{}, func() *pb.Experiment {
			e := experiment()
			e.ExperimentSpec.ParameterSpecs = nil
			return e
		}, "experiment.experimentSpec.parameterSpecs.parameters", []string{"no parameters"}, nil},
		{"bad bound", fake{}, func() *pb.Experiment {
			e := experiment()
			e.ExperimentSpec.ParameterSpecs.Parameters[0].FeasibleSpace.Min = "abc"
			return e
		}, `experiment.experimentSpec.parameterSpecs.parameters[0] ("--lr").feasibleSpace.min`, []string{`"abc" is not a number`}, nil},
		{"bad category", fake{}, func() *pb.Experiment {
			e := experiment()
			e.ExperimentSpec.ParameterSpecs.Parameters[2].FeasibleSpace.List = []string{"sgd", "sgd"}
			return e
		}, `experiment.experimentSpec.parameterSpecs.parameters[2] ("--optimizer").feasibleSpace.list[1]`, []string{"repeats"}, nil},
		{"unknown objective type", fake{}, func() *pb.Experiment {
			e := experiment()
			e.ExperimentSpec.Objective.Type = pb.ObjectiveType(7)
			return e
		}, "experiment.experimentSpec.objective.type", []string{"unknown objective type", "MINIMIZE or MAXIMIZE"}, nil},
		{"unknown setting", fake{settings: specs()}, func() *pb.Experiment {
			return experiment(&pb.AlgorithmSetting{Name: "n", Value: "2"}, &pb.AlgorithmSetting{Name: "nope", Value: "1"})
		}, "experiment.experimentSpec.algorithm.algorithmSettings[1]", []string{`unknown setting "nope"`, "budget, mode, n"}, nil},
		{"setting out of range", fake{settings: specs()}, func() *pb.Experiment {
			return experiment(&pb.AlgorithmSetting{Name: "n", Value: "20"})
		}, "experiment.experimentSpec.algorithm.algorithmSettings[0]", []string{"an integer from 1 to 10"}, nil},
		{"validate error returned as is", fake{validate: func(*algorithm.Problem) error { return errValidate }}, func() *pb.Experiment { return experiment() },
			errValidate.Path, []string{"missing"}, errValidate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := algorithm.NewProblem(tt.alg, tt.exp())
			if err == nil {
				t.Fatalf("NewProblem = %+v, want an error", p)
			}
			if tt.isSame != nil && err != tt.isSame {
				t.Errorf("error = %v, want the Validate error itself", err)
			}
			var ae *algorithm.Error
			if !errors.As(err, &ae) {
				t.Fatalf("error %v is %T, want *algorithm.Error", err, err)
			}
			if ae.Path != tt.path {
				t.Errorf("Path = %q, want %q", ae.Path, tt.path)
			}
			if !strings.HasPrefix(err.Error(), tt.path+": ") {
				t.Errorf("Error() = %q, want it to start with the path", err)
			}
			for _, w := range tt.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Error() = %q, want it to contain %q", err, w)
				}
			}
			if !algorithm.IsInvalidArgument(err) {
				t.Error("IsInvalidArgument = false")
			}
		})
	}
}

func TestNewProblemPassesOtherErrorsThrough(t *testing.T) {
	boom := errors.New("boom")
	_, err := algorithm.NewProblem(fake{validate: func(*algorithm.Problem) error { return boom }}, experiment())
	if err != boom {
		t.Fatalf("error = %v, want the Validate error", err)
	}
	if algorithm.IsInvalidArgument(err) {
		t.Error("IsInvalidArgument(plain error) = true")
	}
}

func TestIsInvalidArgument(t *testing.T) {
	inv := algorithm.Invalidf("x", "bad %d", 1)
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", errors.New("x"), false},
		{"algorithm error", inv, true},
		{"searchspace error", &searchspace.Error{Path: "p", Message: "m"}, true},
		{"wrapped once", fmt.Errorf("context: %w", inv), true},
		{"wrapped twice", fmt.Errorf("a: %w", fmt.Errorf("b: %w", inv)), true},
		{"wrapped plain", fmt.Errorf("a: %w", errors.New("x")), false},
	}
	for _, tt := range tests {
		if got := algorithm.IsInvalidArgument(tt.err); got != tt.want {
			t.Errorf("%s: IsInvalidArgument = %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := inv.Error(); got != "x: bad 1" {
		t.Errorf("Invalidf(...).Error() = %q, want %q", got, "x: bad 1")
	}
	if got := (&algorithm.Error{Message: "m"}).Error(); got != "m" {
		t.Errorf("Error without path = %q, want %q", got, "m")
	}
}

func TestRequireObjective(t *testing.T) {
	p := mustProblem(t, fake{}, experiment())
	if err := p.RequireObjective(); err != nil {
		t.Errorf("RequireObjective with a metric = %v", err)
	}
	exp := experiment()
	exp.ExperimentSpec.Objective = nil
	p = mustProblem(t, fake{}, exp)
	err := p.RequireObjective()
	var ae *algorithm.Error
	if !errors.As(err, &ae) || ae.Path != "experiment.experimentSpec.objective.objectiveMetricName" || !strings.Contains(err.Error(), "missing") {
		t.Errorf("RequireObjective without a metric = %v, want a missing objectiveMetricName error", err)
	}
}

func TestObjectiveLoss(t *testing.T) {
	if got := (algorithm.Objective{Maximize: true}).Loss(0.9); got != -0.9 {
		t.Errorf("maximize Loss(0.9) = %v, want -0.9", got)
	}
	if got := (algorithm.Objective{}).Loss(0.9); got != 0.9 {
		t.Errorf("minimize Loss(0.9) = %v, want 0.9", got)
	}
}

// trial builds an pb.Trial of the example experiment.
func trial(name string, cond pb.TrialCondition, metrics ...string) *pb.Trial {
	t := &pb.Trial{
		Name: name,
		Spec: &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: []*pb.ParameterAssignment{
			{Name: "--lr", Value: "0.02"}, {Name: "--num-layers", Value: "3"}, {Name: "--optimizer", Value: "adam"},
		}}},
		Status: &pb.TrialStatus{Condition: cond},
	}
	if len(metrics) > 0 {
		t.Status.Observation = &pb.Observation{}
		for i := 0; i < len(metrics); i += 2 {
			t.Status.Observation.Metrics = append(t.Status.Observation.Metrics, &pb.Metric{Name: metrics[i], Value: metrics[i+1]})
		}
	}
	return t
}

func TestParseTrials(t *testing.T) {
	const unset = pb.TrialCondition_TRIAL_CONDITION_UNSPECIFIED
	tests := []struct {
		name      string
		trial     *pb.Trial
		cond      pb.TrialCondition
		value     float64
		hasValue  bool
		completed bool
		active    bool
	}{
		{"value without condition succeeded", trial("a", unset, "Validation-accuracy", "0.93"), pb.TrialCondition_SUCCEEDED, 0.93, true, true, false},
		{"no value without condition pending", trial("a", unset), pb.TrialCondition_PENDING, 0, false, false, true},
		{"other metric only is pending", trial("a", unset, "loss", "0.3"), pb.TrialCondition_PENDING, 0, false, false, true},
		{"objective among others", trial("a", unset, "loss", "0.3", "Validation-accuracy", "0.8", "x", "not read"), pb.TrialCondition_SUCCEEDED, 0.8, true, true, false},
		{"running kept", trial("a", pb.TrialCondition_RUNNING), pb.TrialCondition_RUNNING, 0, false, false, true},
		{"pending kept", trial("a", pb.TrialCondition_PENDING), pb.TrialCondition_PENDING, 0, false, false, true},
		{"succeeded with value", trial("a", pb.TrialCondition_SUCCEEDED, "Validation-accuracy", "1e-2"), pb.TrialCondition_SUCCEEDED, 0.01, true, true, false},
		{"succeeded without value is not completed", trial("a", pb.TrialCondition_SUCCEEDED), pb.TrialCondition_SUCCEEDED, 0, false, false, false},
		{"early stopped with value is completed", trial("a", pb.TrialCondition_EARLY_STOPPED, "Validation-accuracy", "-3"), pb.TrialCondition_EARLY_STOPPED, -3, true, true, false},
		{"failed with value is not completed", trial("a", pb.TrialCondition_FAILED, "Validation-accuracy", "0.5"), pb.TrialCondition_FAILED, 0.5, true, false, false},
		{"metrics unavailable", trial("a", pb.TrialCondition_METRICS_UNAVAILABLE), pb.TrialCondition_METRICS_UNAVAILABLE, 0, false, false, false},
	}
	p := mustProblem(t, fake{}, experiment())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trials, err := p.ParseTrials(context.Background(), []*pb.Trial{tt.trial})
			if err != nil {
				t.Fatalf("ParseTrials: %v", err)
			}
			if len(trials) != 1 {
				t.Fatalf("got %d trials, want 1", len(trials))
			}
			tr := trials[0]
			if tr.Name != "a" || tr.Raw != tt.trial {
				t.Errorf("Name = %q, Raw = %p; want %q and the request's trial", tr.Name, tr.Raw, "a")
			}
			if len(tr.Point) != 3 || tr.Point[0] != 0.02 || tr.Point[1] != 3 || tr.Point[2] != 1 {
				t.Errorf("Point = %v, want [0.02 3 1]", tr.Point)
			}
			if tr.Condition != tt.cond || tr.Value != tt.value || tr.HasValue != tt.hasValue {
				t.Errorf("got %v value %v (has %v); want %v value %v (has %v)", tr.Condition, tr.Value, tr.HasValue, tt.cond, tt.value, tt.hasValue)
			}
			if tr.Completed() != tt.completed || tr.Active() != tt.active {
				t.Errorf("Completed %v Active %v; want %v %v", tr.Completed(), tr.Active(), tt.completed, tt.active)
			}
		})
	}
}

func TestParseTrialsKeepsOrder(t *testing.T) {
	p := mustProblem(t, fake{}, experiment())
	raw := []*pb.Trial{trial("first", pb.TrialCondition_RUNNING), trial("second", 0, "Validation-accuracy", "0.5")}
	raw[1].Spec.ParameterAssignments.Assignments[2].Value = "ftrl"
	trials, err := p.ParseTrials(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != 2 || trials[0].Name != "first" || trials[1].Name != "second" || trials[1].Point[2] != 2 {
		t.Errorf("ParseTrials = %+v", trials)
	}
	if got, err := p.ParseTrials(context.Background(), nil); err != nil || len(got) != 0 {
		t.Errorf("ParseTrials(nil) = %v, %v; want no trials", got, err)
	}
}

func TestParseTrialsWithoutObjectiveIgnoresMetrics(t *testing.T) {
	exp := experiment()
	exp.ExperimentSpec.Objective = nil
	p := mustProblem(t, fake{}, exp)
	trials, err := p.ParseTrials(context.Background(), []*pb.Trial{trial("a", 0, "", "not a number", "Validation-accuracy", "0.9")})
	if err != nil {
		t.Fatalf("ParseTrials: %v", err)
	}
	if trials[0].HasValue || trials[0].Condition != pb.TrialCondition_PENDING {
		t.Errorf("trial = %+v, want no value and PENDING when the experiment names no metric", trials[0])
	}
}

func TestParseTrialsErrors(t *testing.T) {
	tests := []struct {
		name  string
		trial *pb.Trial
		path  string
		words []string
	}{
		{"non-numeric metric", trial("t1", 0, "Validation-accuracy", "high"),
			`trials[1] ("t1").status.observation`, []string{`metric "Validation-accuracy"`, `"high" is not a finite number`}},
		{"NaN metric", trial("t1", pb.TrialCondition_SUCCEEDED, "Validation-accuracy", "NaN"),
			`trials[1] ("t1").status.observation`, []string{`"NaN" is not a finite number`}},
		{"infinite metric", trial("t1", pb.TrialCondition_SUCCEEDED, "Validation-accuracy", "+Inf"),
			`trials[1] ("t1").status.observation`, []string{`"+Inf" is not a finite number`}},
		{"negative infinite metric", trial("t1", pb.TrialCondition_SUCCEEDED, "Validation-accuracy", "-inf"),
			`trials[1] ("t1").status.observation`, []string{`"-inf" is not a finite number`}},
		{"empty metric", trial("t1", pb.TrialCondition_SUCCEEDED, "Validation-accuracy", ""),
			`trials[1] ("t1").status.observation`, []string{`"" is not a finite number`}},
		{"unknown parameter", func() *pb.Trial {
			tr := trial("t1", 0)
			tr.Spec.ParameterAssignments.Assignments[0].Name = "--momentum"
			return tr
		}(), `trials[1] ("t1").spec.parameterAssignments.assignments[0]`, []string{`unknown parameter "--momentum"`}},
		{"wrong type", func() *pb.Trial {
			tr := trial("t1", 0)
			tr.Spec.ParameterAssignments.Assignments[2].Value = "rmsprop"
			return tr
		}(), `trials[1] ("t1").spec.parameterAssignments.assignments[2]`, []string{`"--optimizer"`, "rmsprop"}},
		{"missing assignment without name", func() *pb.Trial {
			tr := trial("", 0)
			tr.Spec.ParameterAssignments.Assignments = tr.Spec.ParameterAssignments.Assignments[:2]
			return tr
		}(), `trials[1].spec.parameterAssignments.assignments`, []string{`"--optimizer" is not assigned`}},
		{"no spec", &pb.Trial{Name: "t1"}, `trials[1] ("t1").spec.parameterAssignments.assignments`, []string{"is not assigned"}},
	}
	p := mustProblem(t, fake{}, experiment())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trials, err := p.ParseTrials(context.Background(), []*pb.Trial{trial("ok", 0), tt.trial})
			var ae *algorithm.Error
			if !errors.As(err, &ae) {
				t.Fatalf("ParseTrials = %v, %v; want an *algorithm.Error", trials, err)
			}
			if ae.Path != tt.path {
				t.Errorf("Path = %q, want %q (%v)", ae.Path, tt.path, err)
			}
			for _, w := range tt.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Error() = %q, want it to contain %q", err, w)
				}
			}
			if !algorithm.IsInvalidArgument(err) {
				t.Error("IsInvalidArgument = false")
			}
		})
	}
}

func TestTrialCompletedActive(t *testing.T) {
	tests := []struct {
		cond      pb.TrialCondition
		hasValue  bool
		completed bool
		active    bool
	}{
		{pb.TrialCondition_TRIAL_CONDITION_UNSPECIFIED, true, false, false},
		{pb.TrialCondition_PENDING, false, false, true},
		{pb.TrialCondition_RUNNING, false, false, true},
		{pb.TrialCondition_RUNNING, true, false, true},
		{pb.TrialCondition_SUCCEEDED, true, true, false},
		{pb.TrialCondition_SUCCEEDED, false, false, false},
		{pb.TrialCondition_EARLY_STOPPED, true, true, false},
		{pb.TrialCondition_FAILED, true, false, false},
		{pb.TrialCondition_METRICS_UNAVAILABLE, false, false, false},
	}
	for _, tt := range tests {
		tr := algorithm.Trial{Condition: tt.cond, HasValue: tt.hasValue}
		if tr.Completed() != tt.completed || tr.Active() != tt.active {
			t.Errorf("%v (value %v): Completed %v Active %v; want %v %v", tt.cond, tt.hasValue, tr.Completed(), tr.Active(), tt.completed, tt.active)
		}
	}
}

// draws returns the first n numbers of a generator.
func draws(p *algorithm.Problem, trials, n int) []uint64 {
	rng := p.Rand(trials)
	out := make([]uint64, n)
	for i := range out {
		out[i] = rng.Uint64()
	}
	return out
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestProblemRand(t *testing.T) {
	seeded := func(seed string) *algorithm.Problem {
		return mustProblem(t, fake{settings: specs()}, experiment(&pb.AlgorithmSetting{Name: algorithm.RandomState, Value: seed}))
	}
	named := func(name string) *algorithm.Problem {
		exp := experiment()
		exp.Name = name
		return mustProblem(t, fake{settings: specs()}, exp)
	}
	tests := []struct {
		name     string
		a, b     *algorithm.Problem
		ta, tb   int
		wantSame bool
	}{
		{"same seed and trial count", seeded("42"), seeded("42"), 3, 3, true},
		{"same seed, other trial count", seeded("42"), seeded("42"), 3, 4, false},
		{"other seed", seeded("42"), seeded("43"), 3, 3, false},
		{"seed zero is a seed", seeded("0"), named("random-example"), 0, 0, false},
		{"same name without seed", named("exp-a"), named("exp-a"), 5, 5, true},
		{"other name without seed", named("exp-a"), named("exp-b"), 5, 5, false},
		{"seed wins over name", func() *algorithm.Problem {
			exp := experiment(&pb.AlgorithmSetting{Name: algorithm.RandomState, Value: "7"})
			exp.Name = "other"
			return mustProblem(t, fake{settings: specs()}, exp)
		}(), seeded("7"), 2, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := draws(tt.a, tt.ta, 8), draws(tt.b, tt.tb, 8)
			if equal(a, b) != tt.wantSame {
				t.Errorf("sequences %v and %v: same = %v, want %v", a, b, !tt.wantSame, tt.wantSame)
			}
		})
	}
}

// TestParseTrialsStopsWhenTheCallerHasGone: a long history is not read for
// a caller who has gone.
func TestParseTrialsStopsWhenTheCallerHasGone(t *testing.T) {
	p := mustProblem(t, fake{}, experiment())
	raw := make([]*pb.Trial, 5000)
	for i := range raw {
		raw[i] = trial(fmt.Sprint("t", i), pb.TrialCondition_SUCCEEDED, "Validation-accuracy", "0.5")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.ParseTrials(ctx, raw); !errors.Is(err, context.Canceled) {
		t.Errorf("ParseTrials after the caller left = %v, want context.Canceled", err)
	}
	if got, err := p.ParseTrials(context.Background(), raw); err != nil || len(got) != len(raw) {
		t.Errorf("ParseTrials = %d trials, %v; want %d", len(got), err, len(raw))
	}
}

// TestRefuseConditional: an algorithm that refuses conditional parameters
// takes a space without them, and refuses one with them as the caller's
// mistake, naming the first conditional parameter, its parent and the
// algorithm, at the parameter's parentName.
func TestRefuseConditional(t *testing.T) {
	alg := fake{validate: func(p *algorithm.Problem) error {
		return algorithm.RefuseConditional(p, "fake", "it models whole points")
	}}
	if _, err := algorithm.NewProblem(alg, experiment()); err != nil {
		t.Fatalf("NewProblem without conditions: %v", err)
	}
	exp := experiment()
	exp.ExperimentSpec.ParameterSpecs.Parameters = append(exp.ExperimentSpec.ParameterSpecs.Parameters,
		&pb.ParameterSpec{Name: "--momentum", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: "0.5", Max: "0.99"},
			ParentName: "--optimizer", ParentValues: []string{"sgd"}})
	_, err := algorithm.NewProblem(alg, exp)
	want := `experiment.experimentSpec.parameterSpecs.parameters[3] ("--momentum").parentName: fake does not take conditional parameters, and "--momentum" is active only under some values of "--optimizer": it models whole points`
	if err == nil || !strings.HasPrefix(err.Error(), want) || !algorithm.IsInvalidArgument(err) {
		t.Errorf("NewProblem with a conditional parameter: %v\nwant an invalid argument starting %q", err, want)
	}
}
