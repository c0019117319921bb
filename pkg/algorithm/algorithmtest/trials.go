package algorithmtest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"

	"google.golang.org/protobuf/proto"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Trial is a trial of a test's history: a point, a condition and, when
// Valued, the value of the objective metric it reported.
type Trial struct {
	Point     searchspace.Point
	Condition pb.TrialCondition
	Value     float64
	Valued    bool
	// Metrics are further metrics the trial reported, such as additional
	// objectives and constraint metrics.
	Metrics map[string]float64
}

// Done returns a trial that succeeded with the given value.
func Done(pt searchspace.Point, value float64) Trial {
	return Trial{Point: pt, Condition: pb.TrialCondition_SUCCEEDED, Value: value, Valued: true}
}

// Pending returns a trial waiting to run.
func Pending(pt searchspace.Point) Trial {
	return Trial{Point: pt, Condition: pb.TrialCondition_PENDING}
}

// History returns a trial of each point, with the given condition and no
// value. A trial without a condition counts as pending.
func History(pts []searchspace.Point, cond pb.TrialCondition) []Trial {
	out := make([]Trial, len(pts))
	for i, pt := range pts {
		out[i] = Trial{Point: pt, Condition: cond}
	}
	return out
}

// RawTrials returns the trials the way a request brings them: named
// trial-0, trial-1..., with formatted assignments, a condition and, for a
// valued trial, the objective metric.
func RawTrials(p *algorithm.Problem, hist []Trial) []*pb.Trial {
	raw := make([]*pb.Trial, len(hist))
	for i, h := range hist {
		raw[i] = &pb.Trial{
			Name:   fmt.Sprintf("trial-%d", i),
			Spec:   &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: p.Space.Format(h.Point)}},
			Status: &pb.TrialStatus{Condition: h.Condition},
		}
		if h.Valued || len(h.Metrics) > 0 {
			raw[i].Status.Observation = &pb.Observation{}
		}
		if h.Valued {
			raw[i].Status.Observation.Metrics = []*pb.Metric{
				{Name: p.Objective.Metric, Value: strconv.FormatFloat(h.Value, 'g', -1, 64)}}
		}
		for _, name := range slices.Sorted(maps.Keys(h.Metrics)) {
			raw[i].Status.Observation.Metrics = append(raw[i].Status.Observation.Metrics,
				&pb.Metric{Name: name, Value: strconv.FormatFloat(h.Metrics[name], 'g', -1, 64)})
		}
	}
	return raw
}

// Run is a search of exp by n trials, batch asked at a time and all
// completed before the next call, the state of each reply sent with the
// next: f gives each point's metrics by name (the objective metric among
// them). It returns the history.
func Run(t testing.TB, alg algorithm.Algorithm, exp *pb.Experiment, f func(searchspace.Point) map[string]float64, n, batch int) []Trial {
	t.Helper()
	var hist []Trial
	exp = proto.Clone(exp).(*pb.Experiment)
	settings := exp.GetExperimentSpec().GetAlgorithm().GetAlgorithmSettings()
	for len(hist) < n {
		p := Problem(t, alg, exp)
		out := Suggest(t, alg, p, Trials(t, p, hist), min(batch, n-len(hist)))
		if len(out.Points) == 0 {
			break
		}
		exp.ExperimentSpec.Algorithm.AlgorithmSettings = append(slices.Clip(settings), out.State...)
		for _, pt := range out.Points {
			m := f(pt)
			tr := Trial{Point: pt, Condition: pb.TrialCondition_SUCCEEDED, Metrics: map[string]float64{}}
			for name, v := range m {
				if name == p.Objective.Metric {
					tr.Value, tr.Valued = v, true
				} else {
					tr.Metrics[name] = v
				}
			}
			hist = append(hist, tr)
		}
	}
	return hist
}

// Trials returns the trials as the algorithm sees them: RawTrials, parsed.
func Trials(t testing.TB, p *algorithm.Problem, hist []Trial) []algorithm.Trial {
	t.Helper()
	trials, err := p.ParseTrials(context.Background(), RawTrials(p, hist))
	if err != nil {
		t.Fatalf("ParseTrials: %v", err)
	}
	return trials
}

// Suggest asks alg for count points given the trials, and fails the test
// when the call fails or its reply breaks the contract (CheckReply).
func Suggest(t testing.TB, alg algorithm.Algorithm, p *algorithm.Problem, trials []algorithm.Trial, count int) *algorithm.Suggestions {
	t.Helper()
	out, err := alg.Suggest(context.Background(), p, trials, count)
	if err != nil {
		t.Fatalf("Suggest: %v", err)
	}
	CheckReply(t, p, trials, count, out)
	return out
}

// Keys returns the key (searchspace.Space.Key) of each point.
func Keys(s *searchspace.Space, pts []searchspace.Point) []string {
	out := make([]string, len(pts))
	for i, pt := range pts {
		out[i] = s.Key(pt)
	}
	return out
}

// Cancelled fails the test unless a call with a cancelled context returns
// the context's error.
func Cancelled(t testing.TB, alg algorithm.Algorithm, p *algorithm.Problem, trials []algorithm.Trial, count int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if out, err := alg.Suggest(ctx, p, trials, count); !errors.Is(err, context.Canceled) {
		t.Errorf("Suggest with a cancelled context = %v, %v; want context.Canceled", out, err)
	}
}
