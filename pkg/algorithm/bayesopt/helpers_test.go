package bayesopt_test

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"testing"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/algorithmtest"
	"knobs.dev/knobs/pkg/algorithm/bayesopt"
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

// experiment is an experiment minimising "loss" over specs with the given
// algorithm settings, as name, value pairs.
func experiment(specs []*pb.ParameterSpec, settings ...string) *pb.Experiment {
	exp := &pb.Experiment{
		Name: "bayesopt-test",
		ExperimentSpec: &pb.ExperimentSpec{
			Algorithm:      &pb.AlgorithmSpec{AlgorithmName: "bayesopt"},
			Objective:      &pb.ObjectiveSpec{Type: pb.ObjectiveType_MINIMIZE, ObjectiveMetricName: "loss"},
			ParameterSpecs: &pb.ParameterSpecs{Parameters: specs},
		},
	}
	for i := 0; i+1 < len(settings); i += 2 {
		exp.ExperimentSpec.Algorithm.AlgorithmSettings = append(exp.ExperimentSpec.Algorithm.AlgorithmSettings,
			&pb.AlgorithmSetting{Name: settings[i], Value: settings[i+1]})
	}
	return exp
}

func problem(t testing.TB, alg algorithm.Algorithm, specs []*pb.ParameterSpec, settings ...string) *algorithm.Problem {
	t.Helper()
	p, err := algorithm.NewProblem(alg, experiment(specs, settings...))
	if err != nil {
		t.Fatalf("NewProblem: %v", err)
	}
	return p
}

// trial is a trial of the history: its point, condition and, when it has
// one, its loss.
type trial struct {
	pt   searchspace.Point
	cond pb.TrialCondition
	loss float64
}

func done(pt searchspace.Point, loss float64) trial {
	return trial{pt: pt, cond: pb.TrialCondition_SUCCEEDED, loss: loss}
}

func pending(pt searchspace.Point) trial {
	return trial{pt: pt, cond: pb.TrialCondition_PENDING}
}

// trialsOf turns the history into trials the way a request brings them: as
// formatted assignments and metric values.
func trialsOf(t testing.TB, p *algorithm.Problem, hist []trial) []algorithm.Trial {
	t.Helper()
	raw := make([]*pb.Trial, len(hist))
	for i, h := range hist {
		raw[i] = &pb.Trial{
			Name:   fmt.Sprintf("trial-%d", i),
			Spec:   &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: p.Space.Format(h.pt)}},
			Status: &pb.TrialStatus{Condition: h.cond},
		}
		if h.cond == pb.TrialCondition_SUCCEEDED || h.cond == pb.TrialCondition_EARLY_STOPPED {
			raw[i].Status.Observation = &pb.Observation{Metrics: []*pb.Metric{{Name: "loss", Value: strconv.FormatFloat(h.loss, 'g', -1, 64)}}}
		}
	}
	trials, err := p.ParseTrials(raw)
	if err != nil {
		t.Fatalf("ParseTrials: %v", err)
	}
	return trials
}

// suggest asks alg for count points given the history, and checks what every
// reply must satisfy: at most count points, each in the space, none twice,
// none already handed out, and a full reply unless the space is exhausted.
func suggest(t testing.TB, alg algorithm.Algorithm, p *algorithm.Problem, hist []trial, count int) *algorithm.Suggestions {
	t.Helper()
	out, err := alg.Suggest(context.Background(), p, trialsOf(t, p, hist), count)
	if err != nil {
		t.Fatalf("Suggest: %v", err)
	}
	if len(out.Points) > count {
		t.Fatalf("Suggest(%d) gave %d points", count, len(out.Points))
	}
	if len(out.Points) < count && !out.Exhausted {
		t.Fatalf("Suggest(%d) gave %d points without saying the space is exhausted", count, len(out.Points))
	}
	seen := make(map[string]bool)
	for _, h := range hist {
		seen[p.Space.Key(h.pt)] = true
	}
	for _, pt := range out.Points {
		for _, v := range pt {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("Suggest gave %v", pt)
			}
		}
		if !p.Space.Contains(pt) {
			t.Fatalf("Suggest gave %v, outside the space", pt)
		}
		k := p.Space.Key(pt)
		if seen[k] {
			t.Fatalf("Suggest gave %v twice or again after the history", p.Space.Format(pt))
		}
		seen[k] = true
	}
	return out
}

func keys(s *searchspace.Space, pts []searchspace.Point) []string {
	out := make([]string, len(pts))
	for i, pt := range pts {
		out[i] = s.Key(pt)
	}
	return out
}

// withState returns settings followed by the state the last reply wrote
// back, as the controller overlays them.
func withState(settings []string, state []*pb.AlgorithmSetting) []string {
	out := append([]string(nil), settings...)
	for _, s := range state {
		out = append(out, s.GetName(), s.GetValue())
	}
	return out
}

// optimise runs alg for evals evaluations of f, asking for count points a
// call and completing every point before the next call, as a controller with
// parallelTrialCount = count would. It returns the history.
func optimise(t testing.TB, alg algorithm.Algorithm, specs []*pb.ParameterSpec, settings []string,
	f func(*searchspace.Space, searchspace.Point) float64, evals, count int) []trial {
	t.Helper()
	var hist []trial
	var state []*pb.AlgorithmSetting
	for len(hist) < evals {
		p := problem(t, alg, specs, withState(settings, state)...)
		out := suggest(t, alg, p, hist, min(count, evals-len(hist)))
		if len(out.Points) == 0 {
			break
		}
		state = out.State
		for _, pt := range out.Points {
			hist = append(hist, done(pt, f(p.Space, pt)))
		}
	}
	return hist
}

func bestLoss(hist []trial) float64 {
	best := math.Inf(1)
	for _, h := range hist {
		best = math.Min(best, h.loss)
	}
	return best
}

var bo = bayesopt.BayesOpt{}
