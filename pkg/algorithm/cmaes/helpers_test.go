package cmaes_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/algorithmtest"
	"knobs.dev/knobs/pkg/algorithm/cmaes"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// The shared spec builders, by the names the tests use.
var (
	param       = algorithmtest.Param
	double      = algorithmtest.Double
	integer     = algorithmtest.Integer
	categorical = algorithmtest.Categorical
	discrete    = algorithmtest.Discrete
)

func setting(name, value string) *pb.AlgorithmSetting {
	return &pb.AlgorithmSetting{Name: name, Value: value}
}

func seed(s int) *pb.AlgorithmSetting { return setting(algorithm.RandomState, strconv.Itoa(s)) }

func experiment(settings []*pb.AlgorithmSetting, specs ...*pb.ParameterSpec) *pb.Experiment {
	return algorithmtest.Experiment("cmaes", settings, specs...)
}

func problem(t testing.TB, settings []*pb.AlgorithmSetting, specs ...*pb.ParameterSpec) *algorithm.Problem {
	t.Helper()
	return algorithmtest.Problem(t, cmaes.CMAES{}, experiment(settings, specs...))
}

// overlay puts the state of a reply over the settings, as the controller
// does: a name given twice keeps its last value.
func overlay(settings, state []*pb.AlgorithmSetting) []*pb.AlgorithmSetting {
	return append(slices.Clone(settings), state...)
}

// trial is a trial as a request brings it.
func trial(p *algorithm.Problem, i int, pt searchspace.Point, cond pb.TrialCondition, value float64) *pb.Trial {
	t := &pb.Trial{
		Name:   fmt.Sprintf("t%d", i),
		Spec:   &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: p.Space.Format(pt)}},
		Status: &pb.TrialStatus{Condition: cond},
	}
	if cond == pb.TrialCondition_SUCCEEDED || cond == pb.TrialCondition_EARLY_STOPPED {
		t.Status.Observation = &pb.Observation{Metrics: []*pb.Metric{{Name: "loss", Value: strconv.FormatFloat(value, 'g', -1, 64)}}}
	}
	return t
}

// suggest asks for count points and checks the reply against the contract,
// and that the next call accepts its state.
func suggest(t testing.TB, settings []*pb.AlgorithmSetting, specs []*pb.ParameterSpec, raw []*pb.Trial, count int) *algorithm.Suggestions {
	t.Helper()
	p := problem(t, settings, specs...)
	trials, err := p.ParseTrials(context.Background(), raw)
	if err != nil {
		t.Fatalf("ParseTrials: %v", err)
	}
	out := algorithmtest.Suggest(t, cmaes.CMAES{}, p, trials, count)
	if _, err := algorithm.NewProblem(cmaes.CMAES{}, experiment(overlay(settings, out.State), specs...)); err != nil {
		t.Fatalf("the reply's state is rejected: %v", err)
	}
	return out
}

// instance is a test function over its search space.
type instance struct {
	name  string
	specs []*pb.ParameterSpec
	f     func(searchspace.Point) float64
	// maximize makes the experiment maximise f rather than minimise it.
	maximize bool
}

func cube(names ...string) []*pb.ParameterSpec {
	var out []*pb.ParameterSpec
	for _, n := range names {
		out = append(out, double(n, "-5", "5"))
	}
	return out
}

// sphere is Σ (x_i - 3)² on [-5, 5]^n, minimum 0, off the centre where
// the search starts.
func sphere(n int) instance {
	var names []string
	for i := range n {
		names = append(names, fmt.Sprintf("x%d", i))
	}
	return instance{name: fmt.Sprintf("sphere-%dd", n), specs: cube(names...), f: func(x searchspace.Point) float64 {
		var s float64
		for _, v := range x {
			s += (v - 3) * (v - 3)
		}
		return s
	}}
}

// rosenbrock is Rosenbrock's banana on [-2, 2]^2, minimum 0 at (1, 1).
func rosenbrock() instance {
	return instance{name: "rosenbrock-2d", specs: []*pb.ParameterSpec{double("x", "-2", "2"), double("y", "-2", "2")},
		f: func(x searchspace.Point) float64 {
			return 100*(x[1]-x[0]*x[0])*(x[1]-x[0]*x[0]) + (1-x[0])*(1-x[0])
		}}
}

// branin is the Branin–Hoo function on [-5, 10] × [0, 15], minimum
// 0.397887.
func branin() instance {
	return instance{name: "branin", specs: []*pb.ParameterSpec{double("x1", "-5", "10"), double("x2", "0", "15")},
		f: func(x searchspace.Point) float64 {
			b, c, tt := 5.1/(4*math.Pi*math.Pi), 5/math.Pi, 1/(8*math.Pi)
			return math.Pow(x[1]-b*x[0]*x[0]+c*x[0]-6, 2) + 10*(1-tt)*math.Cos(x[0]) + 10
		}}
}

// run is a controller loop's record.
type run struct {
	best   float64
	trials []*pb.Trial
	states [][]*pb.AlgorithmSetting // the state of each reply
}

// drive runs an algorithm the way the controller does, with parallel
// trials at a time: each call asks for the free slots, with every trial so
// far and the last reply's state overlaid on the settings; then the oldest
// running trial completes with the function's value (fail, when given, says
// which trials fail instead). It stops after n trials have completed or
// failed.
func drive(t testing.TB, alg algorithm.Algorithm, settings []*pb.AlgorithmSetting, in instance, n, parallel int, fail func(i int) bool) run {
	t.Helper()
	var r run
	r.best = math.Inf(1)
	var state []*pb.AlgorithmSetting
	var points []searchspace.Point
	finished := 0
	var p *algorithm.Problem
	for finished < n {
		active := len(r.trials) - finished
		if ask := min(parallel-active, n-len(r.trials)); ask > 0 {
			exp := experiment(overlay(settings, state), in.specs...)
			if in.maximize {
				exp.ExperimentSpec.Objective.Type = pb.ObjectiveType_MAXIMIZE
			}
			p = algorithmtest.Problem(t, alg, exp)
			trials, err := p.ParseTrials(context.Background(), r.trials)
			if err != nil {
				t.Fatalf("ParseTrials: %v", err)
			}
			out := algorithmtest.Suggest(t, alg, p, trials, ask)
			if len(out.Points) != ask {
				t.Fatalf("Suggest(%d) after %d trials gave %d points", ask, len(r.trials), len(out.Points))
			}
			state = out.State
			r.states = append(r.states, out.State)
			for _, pt := range out.Points {
				r.trials = append(r.trials, trial(p, len(r.trials), pt, pb.TrialCondition_RUNNING, 0))
				points = append(points, pt)
			}
		}
		// The oldest running trial finishes.
		i := finished
		if fail != nil && fail(i) {
			r.trials[i] = trial(p, i, points[i], pb.TrialCondition_FAILED, 0)
		} else {
			v := in.f(points[i])
			if in.maximize {
				r.best = min(r.best, -v)
			} else {
				r.best = min(r.best, v)
			}
			r.trials[i] = trial(p, i, points[i], pb.TrialCondition_SUCCEEDED, v)
		}
		finished++
	}
	return r
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}
