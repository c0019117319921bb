// Package algorithm is the boundary between a search algorithm and the
// function runtime that serves it.
//
// An algorithm is stateless, in the manner of an OSS Vizier policy: each call
// brings the whole problem and every trial handed out so far, and the
// algorithm rebuilds what it needs from them. What it cannot rebuild cheaply
// (a Hyperband bracket, a CMA-ES generation) it returns as state settings,
// which come back with the next call.
package algorithm

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"

	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Algorithm suggests points of a search space.
type Algorithm interface {
	// Settings lists every algorithm setting the algorithm accepts; the
	// runtime rejects any other and checks each value against its spec.
	Settings() []Setting
	// Validate checks what the setting specs cannot: how the settings fit
	// the search space, the objective and each other. Return errors made
	// with Invalidf.
	Validate(p *Problem) error
	// Suggest returns count new points, or fewer with Exhausted set when a
	// finite space has no unseen point left. Points must lie in p.Space; the
	// runtime checks them before they leave the process.
	Suggest(ctx context.Context, p *Problem, trials []Trial, count int) (*Suggestions, error)
}

// Problem is what a request says about the experiment.
type Problem struct {
	// Experiment is the experiment's name.
	Experiment string
	Space      *searchspace.Space
	Objective  Objective
	Settings   Settings
}

// Suggestions are an algorithm's answer.
type Suggestions struct {
	Points []searchspace.Point
	// State is sent back as the reply's algorithm settings, and returns with
	// the next request.
	State []*pb.AlgorithmSetting
	// Exhausted says that a finite space has no unseen point left.
	Exhausted bool
}

// Objective says which metric to optimise, and which way.
type Objective struct {
	Maximize bool
	Metric   string
	Goal     float64
}

// Loss turns an objective value into one to minimise.
func (o Objective) Loss(value float64) float64 {
	if o.Maximize {
		return -value
	}
	return value
}

// Trial is a trial handed out before, with what is known of it.
type Trial struct {
	Name      string
	Point     searchspace.Point
	Condition pb.TrialCondition
	// Value is the objective metric's value; HasValue says whether the trial
	// reported one.
	Value    float64
	HasValue bool
	// Raw is the trial as it came, for algorithms that read more of it; nil
	// for a trial of a history sent in columns (GetSuggestionsRequest's
	// history), which is read without building one.
	Raw *pb.Trial
}

// Completed reports whether the trial ended with an objective value.
func (t *Trial) Completed() bool {
	return t.HasValue && (t.Condition == pb.TrialCondition_SUCCEEDED || t.Condition == pb.TrialCondition_EARLY_STOPPED)
}

// Active reports whether the trial is still waiting or running.
func (t *Trial) Active() bool {
	return t.Condition == pb.TrialCondition_PENDING || t.Condition == pb.TrialCondition_RUNNING
}

// Error is a mistake of the caller: a bad search space, setting or trial,
// with the path of the field to fix. It is the search space's error, so that
// one type serves both packages.
type Error = searchspace.Error

// Invalidf returns an Error for the field at path.
func Invalidf(path, format string, args ...any) *Error {
	return &Error{Path: path, Message: fmt.Sprintf(format, args...)}
}

// IsInvalidArgument reports whether err is the caller's to fix.
func IsInvalidArgument(err error) bool {
	for err != nil {
		if ia, ok := err.(interface{ InvalidArgument() bool }); ok && ia.InvalidArgument() {
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// NewProblem checks an experiment against an algorithm: its search space, its
// objective and its algorithm settings.
func NewProblem(alg Algorithm, exp *pb.Experiment) (*Problem, error) {
	if exp == nil || exp.GetExperimentSpec() == nil {
		return nil, Invalidf("experiment", "missing: the request needs the experiment with its experimentSpec")
	}
	spec := exp.GetExperimentSpec()
	space, err := searchspace.Parse(spec.GetParameterSpecs().GetParameters())
	if err != nil {
		return nil, wrapPath("experiment.experimentSpec.parameterSpecs.", err)
	}
	p := &Problem{Experiment: exp.GetName(), Space: space}
	switch obj := spec.GetObjective(); obj.GetType() {
	case pb.ObjectiveType_MAXIMIZE, pb.ObjectiveType_MINIMIZE, pb.ObjectiveType_UNKNOWN:
		p.Objective = Objective{
			Maximize: obj.GetType() == pb.ObjectiveType_MAXIMIZE,
			Metric:   obj.GetObjectiveMetricName(),
			Goal:     obj.GetGoal(),
		}
	default:
		return nil, Invalidf("experiment.experimentSpec.objective.type", "unknown objective type %s: use MINIMIZE or MAXIMIZE", obj.GetType())
	}
	p.Settings, err = ParseSettings(alg.Settings(), spec.GetAlgorithm().GetAlgorithmSettings())
	if err != nil {
		return nil, wrapPath("experiment.experimentSpec.", err)
	}
	if err := alg.Validate(p); err != nil {
		return nil, err
	}
	return p, nil
}

// RequireObjective fails when the experiment names no objective metric or
// direction; model-based algorithms need both.
func (p *Problem) RequireObjective() error {
	if p.Objective.Metric == "" {
		return Invalidf("experiment.experimentSpec.objective.objectiveMetricName", "missing: this algorithm learns from the objective metric, so name it")
	}
	return nil
}

// ParseTrials reads the trials of a request, until ctx is done. A trial
// without a condition is taken as succeeded when it reports the objective
// metric and as pending when not, as in the original API, which sent
// completed trials only.
func (p *Problem) ParseTrials(ctx context.Context, trials []*pb.Trial) ([]Trial, error) {
	out := make([]Trial, len(trials))
	for i, t := range trials {
		// A long history is read in bounded slices of time: a caller who
		// has gone stops the work.
		if i%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		path := fmt.Sprintf("trials[%d]", i)
		if t.GetName() != "" {
			path = fmt.Sprintf("%s (%q)", path, t.GetName())
		}
		pt, err := p.Space.ParseAssignments(t.GetSpec().GetParameterAssignments().GetAssignments())
		if err != nil {
			return nil, wrapPath(path+".spec.parameterAssignments.", err)
		}
		tr := Trial{Name: t.GetName(), Point: pt, Condition: t.GetStatus().GetCondition(), Raw: t}
		for _, m := range t.GetStatus().GetObservation().GetMetrics() {
			if p.Objective.Metric == "" || m.GetName() != p.Objective.Metric {
				continue
			}
			v, err := strconv.ParseFloat(m.GetValue(), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, Invalidf(path+".status.observation", "metric %q: %q is not a finite number", m.GetName(), m.GetValue())
			}
			tr.Value, tr.HasValue = v, true
		}
		tr.Condition = DefaultCondition(tr.Condition, tr.HasValue)
		out[i] = tr
	}
	return out, nil
}

// DefaultCondition is the condition of a trial that came with cond: a
// trial without one counts as succeeded when it reports the objective
// metric (hasValue) and as pending when not, as in the original API, which
// sent completed trials only.
func DefaultCondition(cond pb.TrialCondition, hasValue bool) pb.TrialCondition {
	switch {
	case cond != pb.TrialCondition_TRIAL_CONDITION_UNSPECIFIED:
		return cond
	case hasValue:
		return pb.TrialCondition_SUCCEEDED
	}
	return pb.TrialCondition_PENDING
}

// Rand returns the random number generator for one call: seeded from
// random_state (or, without it, the experiment's name) and the number of
// trials so far, so that a call reproduces and successive calls differ.
func (p *Problem) Rand(trials int) *rand.Rand {
	var seed uint64
	if p.Settings.IsSet(RandomState) {
		seed = uint64(p.Settings.Int(RandomState))
	} else {
		h := fnv.New64a()
		h.Write([]byte(p.Experiment))
		seed = h.Sum64()
	}
	return rand.New(rand.NewPCG(seed, uint64(trials)))
}

func wrapPath(prefix string, err error) error {
	if e, ok := err.(*Error); ok {
		return &Error{Path: prefix + e.Path, Message: e.Message}
	}
	return err
}

// RefuseConditional fails when the search space has a conditional
// parameter, naming the first one and the algorithm that refuses it, with
// why (and what to use instead) in because: for an algorithm that does not
// honour conditional parameters, from its Validate. Every algorithm Knobs
// registers honours them.
func RefuseConditional(p *Problem, name, because string) error {
	c, ok := p.Space.Conditioned()
	if !ok {
		return nil
	}
	j, _ := p.Space.Lookup(c.Name)
	return Invalidf(fmt.Sprintf("experiment.experimentSpec.parameterSpecs.parameters[%d] (%q).parentName", j, c.Name),
		"%s does not take conditional parameters, and %q is active only under some values of %q: %s; Knobs' own algorithms take them",
		name, c.Name, p.Space.Params[c.Parent].Name, because)
}
