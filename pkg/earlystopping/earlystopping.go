// Package earlystopping is the boundary between an early-stopping algorithm
// and the function runtime that serves it.
//
// An early-stopping algorithm is stateless, as a search algorithm is: each
// call brings the experiment's objective and every trial with the learning
// curve of the objective metric, and the algorithm names the running trials
// to stop now. It keeps nothing between calls, so a decision depends only on
// what the API server holds, and a controller restart changes none.
package earlystopping

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"

	"knobs.dev/knobs/pkg/algorithm"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Algorithm judges the running trials of an experiment.
type Algorithm interface {
	// Settings lists every setting the algorithm accepts; the runtime
	// rejects any other and checks each value against its spec.
	Settings() []algorithm.Setting
	// Decide names the running trials to stop, each at most once. It must
	// return when ctx is done.
	Decide(ctx context.Context, p *Problem, trials []Trial) ([]Decision, error)
}

// Problem is what a request says about the experiment.
type Problem struct {
	// Experiment is the experiment's name.
	Experiment string
	Objective  algorithm.Objective
	Settings   algorithm.Settings
}

// Point is the objective metric's value at one step.
type Point struct {
	Step  int64
	Value float64
}

// Trial is a trial of the experiment with its objective metric.
type Trial struct {
	Name      string
	Condition pb.TrialCondition
	// Value is the objective metric's value as the trial's observation
	// keeps it; HasValue says whether there is one.
	Value    float64
	HasValue bool
	// Curve is the objective metric's learning curve, by increasing step.
	Curve []Point
}

// Running reports whether the trial runs, and so may be stopped.
func (t *Trial) Running() bool { return t.Condition == pb.TrialCondition_RUNNING }

// Latest returns the last point of the curve; ok is false when it is empty.
func (t *Trial) Latest() (p Point, ok bool) {
	if len(t.Curve) == 0 {
		return Point{}, false
	}
	return t.Curve[len(t.Curve)-1], true
}

// At returns the value of the first point at or after step: what the trial
// reported when it reached step. ok is false when it has not reached it.
func (t *Trial) At(step int64) (v float64, ok bool) {
	i := sort.Search(len(t.Curve), func(i int) bool { return t.Curve[i].Step >= step })
	if i == len(t.Curve) {
		return 0, false
	}
	return t.Curve[i].Value, true
}

// Decision says that a running trial is to stop, and why.
type Decision struct {
	Trial string
	// Message says, for people, what the trial was judged on.
	Message string
}

// SettingsField is where a request's early-stopping settings are, for
// errors.
const SettingsField = "earlyStopping.algorithmSettings"

// NewProblem checks a request against an algorithm: the objective (its
// metric is what is judged, so it must be named) and the settings.
func NewProblem(alg Algorithm, req *pb.GetEarlyStoppingDecisionsRequest) (*Problem, error) {
	obj := req.GetExperiment().GetExperimentSpec().GetObjective()
	if obj.GetObjectiveMetricName() == "" {
		return nil, algorithm.Invalidf("experiment.experimentSpec.objective.objectiveMetricName", "missing: early stopping judges the objective metric's learning curve, so name it")
	}
	p := &Problem{Experiment: req.GetExperiment().GetName()}
	switch obj.GetType() {
	case pb.ObjectiveType_MAXIMIZE, pb.ObjectiveType_MINIMIZE:
		p.Objective = algorithm.Objective{Maximize: obj.GetType() == pb.ObjectiveType_MAXIMIZE, Metric: obj.GetObjectiveMetricName(), Goal: obj.GetGoal()}
	default:
		return nil, algorithm.Invalidf("experiment.experimentSpec.objective.type", "%s: use MINIMIZE or MAXIMIZE, so that a worse value can be told from a better one", obj.GetType())
	}
	s, err := ParseSettings(alg, req.GetEarlyStopping())
	if err != nil {
		return nil, err
	}
	p.Settings = s
	return p, nil
}

// ParseSettings checks early-stopping settings against an algorithm's specs.
func ParseSettings(alg Algorithm, spec *pb.EarlyStoppingSpec) (algorithm.Settings, error) {
	return algorithm.ParseSettingsAt(SettingsField, alg.Settings(), spec.GetAlgorithmSettings())
}

// Worse reports whether objective value a is worse than b.
func (p *Problem) Worse(a, b float64) bool {
	return p.Objective.Loss(a) > p.Objective.Loss(b)
}

// Format writes an objective value for a message.
func Format(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// ParseTrials reads the request's trials: the objective metric's value and
// curve of each, until ctx is done. A curve must go by increasing step and
// hold finite numbers.
func (p *Problem) ParseTrials(ctx context.Context, trials []*pb.Trial) ([]Trial, error) {
	out := make([]Trial, 0, len(trials))
	seen := make(map[string]bool, len(trials))
	for i, t := range trials {
		if i%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		path := fmt.Sprintf("trials[%d]", i)
		if t.GetName() == "" {
			return nil, algorithm.Invalidf(path+".name", "missing: a decision names the trial to stop")
		}
		if seen[t.GetName()] {
			return nil, algorithm.Invalidf(path+".name", "%q is given twice", t.GetName())
		}
		seen[t.GetName()] = true
		path = fmt.Sprintf("%s (%q)", path, t.GetName())
		tr := Trial{Name: t.GetName(), Condition: t.GetStatus().GetCondition()}
		for _, m := range t.GetStatus().GetObservation().GetMetrics() {
			if m.GetName() != p.Objective.Metric {
				continue
			}
			if m.GetValue() != "" {
				v, err := finite(m.GetValue())
				if err != nil {
					return nil, algorithm.Invalidf(path+".status.observation", "metric %q: %v", m.GetName(), err)
				}
				tr.Value, tr.HasValue = v, true
			}
			tr.Curve = make([]Point, len(m.GetCurve()))
			for j, pt := range m.GetCurve() {
				v, err := finite(pt.GetValue())
				if err != nil {
					return nil, algorithm.Invalidf(fmt.Sprintf("%s.status.observation (metric %q).curve[%d]", path, m.GetName(), j), "%v", err)
				}
				if j > 0 && pt.GetStep() <= tr.Curve[j-1].Step {
					return nil, algorithm.Invalidf(fmt.Sprintf("%s.status.observation (metric %q).curve[%d]", path, m.GetName(), j), "step %d follows step %d: send the curve by increasing step", pt.GetStep(), tr.Curve[j-1].Step)
				}
				tr.Curve[j] = Point{Step: pt.GetStep(), Value: v}
			}
		}
		out = append(out, tr)
	}
	return out, nil
}

func finite(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a finite number", s)
	}
	return v, nil
}

// Median returns the median of xs, which it sorts; xs must not be empty.
func Median(xs []float64) float64 {
	sort.Float64s(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
