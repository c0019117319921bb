package bayesopt_test

import (
	"math"
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
	done        = algorithmtest.Done
	pending     = algorithmtest.Pending
	keys        = algorithmtest.Keys
)

// experiment is an experiment minimising "loss" over specs with the given
// algorithm settings, as name, value pairs.
func experiment(specs []*pb.ParameterSpec, settings ...string) *pb.Experiment {
	return algorithmtest.Experiment("bayesopt", algorithmtest.Settings(settings...), specs...)
}

func problem(t testing.TB, alg algorithm.Algorithm, specs []*pb.ParameterSpec, settings ...string) *algorithm.Problem {
	t.Helper()
	return algorithmtest.Problem(t, alg, experiment(specs, settings...))
}

// trial is a trial of the history: its point, condition and, when it has
// one, its loss.
type trial = algorithmtest.Trial

// trialsOf turns the history into trials the way a request brings them: as
// formatted assignments and metric values.
func trialsOf(t testing.TB, p *algorithm.Problem, hist []trial) []algorithm.Trial {
	t.Helper()
	return algorithmtest.Trials(t, p, hist)
}

// suggest asks alg for count points given the history, and checks the reply
// against the contract.
func suggest(t testing.TB, alg algorithm.Algorithm, p *algorithm.Problem, hist []trial, count int) *algorithm.Suggestions {
	t.Helper()
	return algorithmtest.Suggest(t, alg, p, trialsOf(t, p, hist), count)
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
		best = math.Min(best, h.Value)
	}
	return best
}

var bo = bayesopt.BayesOpt{}
