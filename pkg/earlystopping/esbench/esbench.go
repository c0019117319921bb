// Package esbench measures what early stopping saves: it runs the same
// asynchronous experiments (a search algorithm handing out one assignment
// whenever a trial slot is free, trials reporting one learning-curve step per
// tick) with and without an early-stopping algorithm, in virtual time, and
// counts the steps the trials ran and the best value they found.
//
// The algorithms are called as the controller calls their functions, with
// the same requests, through the function runtime's services in process.
package esbench

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/registry"
	esregistry "knobs.dev/knobs/pkg/earlystopping/registry"
	"knobs.dev/knobs/pkg/function"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Problem is a family of learning curves: a search space, and the curve of
// the objective (a loss, minimised) that an assignment trains to.
type Problem struct {
	Name       string
	Parameters []*pb.ParameterSpec
	// Curve returns the loss after each of the steps, for an assignment.
	Curve func(ctx context.Context, assignment []*pb.ParameterAssignment) ([]float64, error)
}

// Setup is one contender: a search algorithm and an early-stopping one
// ("" for none), with their settings as name, value pairs.
type Setup struct {
	Search, EarlyStopping string
	Settings              []string
}

// Label names the setup in tables and plots.
func (s Setup) Label() string {
	if s.EarlyStopping == "" {
		return s.Search
	}
	return s.Search + "+" + s.EarlyStopping
}

// Config sizes one experiment.
type Config struct {
	Trials, Parallel int
	Seed             int
}

// Result is what one experiment spent and found.
type Result struct {
	// Steps is the steps every trial ran, in all.
	Steps int
	// Stopped is the number of trials stopped early.
	Stopped int
	// Best is the lowest loss any trial reported.
	Best float64
	// Trace is the best loss so far after each step spent: Trace[i] after
	// i+1 steps.
	Trace []float64
}

// trial is one trial of a simulated experiment.
type trial struct {
	name       string
	assignment []*pb.ParameterAssignment
	curve      []float64
	reported   int
	condition  pb.TrialCondition
}

// Run runs one experiment of problem p with setup s.
func Run(ctx context.Context, p Problem, s Setup, c Config) (*Result, error) {
	search, ok := registry.Lookup(s.Search)
	if !ok {
		return nil, fmt.Errorf("no search algorithm %q", s.Search)
	}
	suggest := &function.Service{Name: s.Search, Algorithm: search.Algorithm}
	var judge *function.EarlyStoppingService
	if s.EarlyStopping != "" {
		e, ok := esregistry.Lookup(s.EarlyStopping)
		if !ok {
			return nil, fmt.Errorf("no early-stopping algorithm %q", s.EarlyStopping)
		}
		judge = &function.EarlyStoppingService{Name: s.EarlyStopping, Algorithm: e.Algorithm}
	}
	seed := []*pb.AlgorithmSetting{{Name: algorithm.RandomState, Value: strconv.Itoa(c.Seed)}}
	exp := &pb.Experiment{Name: p.Name, ExperimentSpec: &pb.ExperimentSpec{
		Algorithm:      &pb.AlgorithmSpec{AlgorithmName: s.Search, AlgorithmSettings: seed},
		Objective:      &pb.ObjectiveSpec{Type: pb.ObjectiveType_MINIMIZE, ObjectiveMetricName: "loss"},
		ParameterSpecs: &pb.ParameterSpecs{Parameters: p.Parameters},
	}}
	es := &pb.EarlyStoppingSpec{AlgorithmName: s.EarlyStopping}
	for i := 0; i+1 < len(s.Settings); i += 2 {
		es.AlgorithmSettings = append(es.AlgorithmSettings, &pb.AlgorithmSetting{Name: s.Settings[i], Value: s.Settings[i+1]})
	}

	r := &Result{Best: math.Inf(1)}
	var trials []*trial
	running := func() int {
		n := 0
		for _, t := range trials {
			if t.condition == pb.TrialCondition_RUNNING {
				n++
			}
		}
		return n
	}
	for len(trials) < c.Trials || running() > 0 {
		// Fill the free slots, one assignment a call, as trials end.
		for len(trials) < c.Trials && running() < c.Parallel {
			reply, err := suggest.GetSuggestions(ctx, &pb.GetSuggestionsRequest{Experiment: exp, Trials: history(trials, false), RequestNumber: 1})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.Search, err)
			}
			// The state the algorithm returned goes back with the next
			// request, over the experiment's settings.
			exp.ExperimentSpec.Algorithm.AlgorithmSettings = algorithm.OverlaySettings(seed, reply.GetAlgorithm().GetAlgorithmSettings())
			a := reply.GetParameterAssignments()[0].GetAssignments()
			curve, err := p.Curve(ctx, a)
			if err != nil {
				return nil, err
			}
			trials = append(trials, &trial{name: fmt.Sprintf("%s-%d", p.Name, len(trials)+1), assignment: a, curve: curve, condition: pb.TrialCondition_RUNNING})
		}
		// One tick: every running trial reports its next step.
		for _, t := range trials {
			if t.condition != pb.TrialCondition_RUNNING {
				continue
			}
			v := t.curve[t.reported]
			t.reported++
			r.Steps++
			r.Best = math.Min(r.Best, v)
			r.Trace = append(r.Trace, r.Best)
			if t.reported == len(t.curve) {
				t.condition = pb.TrialCondition_SUCCEEDED
			}
		}
		if judge == nil {
			continue
		}
		reply, err := judge.GetEarlyStoppingDecisions(ctx, &pb.GetEarlyStoppingDecisionsRequest{Experiment: exp, Trials: history(trials, true), EarlyStopping: es})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.EarlyStopping, err)
		}
		for _, d := range reply.GetDecisions() {
			for _, t := range trials {
				if t.name == d.GetTrialName() && t.condition == pb.TrialCondition_RUNNING {
					t.condition = pb.TrialCondition_EARLY_STOPPED
					r.Stopped++
				}
			}
		}
	}
	return r, nil
}

// history is the trials as the controller sends them: with their condition
// and, once they have reported, the loss (its lowest value, the objective's
// default strategy) and its curve. For early stopping, only the trials that
// have reported.
func history(trials []*trial, reportedOnly bool) []*pb.Trial {
	var out []*pb.Trial
	for _, t := range trials {
		if reportedOnly && t.reported == 0 {
			continue
		}
		pt := &pb.Trial{Name: t.name, Spec: &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: t.assignment}},
			Status: &pb.TrialStatus{Condition: t.condition}}
		if t.reported > 0 {
			m := &pb.Metric{Name: "loss"}
			best := math.Inf(1)
			for i, v := range t.curve[:t.reported] {
				best = math.Min(best, v)
				m.Curve = append(m.Curve, &pb.MetricPoint{Step: int64(i + 1), Value: strconv.FormatFloat(v, 'g', -1, 64)})
			}
			m.Value = strconv.FormatFloat(best, 'g', -1, 64)
			pt.Status.Observation = &pb.Observation{Metrics: []*pb.Metric{m}}
		}
		out = append(out, pt)
	}
	return out
}

// Summary is a setup's results on a problem over seeds.
type Summary struct {
	Problem string
	Setup   Setup
	// Steps and Stopped are means; Best holds each seed's best, sorted.
	Steps, Stopped float64
	Best           []float64
	// Trace is the median over seeds of the best so far after each step.
	Trace []float64
}

// Summarize gathers one setup's results over seeds.
func Summarize(problem string, s Setup, results []*Result) Summary {
	sum := Summary{Problem: problem, Setup: s}
	longest := 0
	for _, r := range results {
		sum.Steps += float64(r.Steps) / float64(len(results))
		sum.Stopped += float64(r.Stopped) / float64(len(results))
		sum.Best = append(sum.Best, r.Best)
		longest = max(longest, len(r.Trace))
	}
	sort.Float64s(sum.Best)
	for i := range longest {
		var at []float64
		for _, r := range results {
			if len(r.Trace) == 0 {
				continue
			}
			// A run that has ended keeps its best.
			at = append(at, r.Trace[min(i, len(r.Trace)-1)])
		}
		sort.Float64s(at)
		sum.Trace = append(sum.Trace, median(at))
	}
	return sum
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// Median is the median of the seeds' best values.
func (s Summary) Median() float64 { return median(s.Best) }
