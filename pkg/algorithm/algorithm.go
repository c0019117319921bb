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

	"knobs.dev/knobs/pkg/pareto"
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

// Objective says which metric to optimise, and which way; with Additional,
// which further metrics too (a search for the Pareto front); with
// Constraints, which metrics a feasible trial keeps within bounds.
type Objective struct {
	Maximize bool
	Metric   string
	Goal     float64
	// Additional are the further objectives, in the request's order.
	Additional []Direction
	// Constraints bound metrics: a trial that breaks one is infeasible.
	Constraints []Constraint
}

// Direction is one further objective: a metric and which way is better.
type Direction struct {
	Metric   string
	Maximize bool
}

// Constraint bounds a metric: feasible when Min <= value <= Max (nil: no
// bound).
type Constraint struct {
	Metric   string
	Min, Max *float64
}

// MultiObjective reports whether there is more than one objective.
func (o Objective) MultiObjective() bool { return len(o.Additional) > 0 }

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
	// reported it, and every additional objective.
	Value    float64
	HasValue bool
	// Losses are, with additional objectives, every objective's value
	// turned to be minimised, the objective metric first (nil with one
	// objective).
	Losses []float64
	// Violation is how far the trial breaks the constraints: 0 when it
	// keeps them (or there are none), else the sum of its distances from
	// the bounds it breaks, +Inf when it does not report a constraint
	// metric.
	Violation float64
	// Loss is the one number an algorithm of a single objective
	// minimises, set by Problem.Score for every completed trial: the
	// objective metric's value turned to be minimised; with additional
	// objectives, a random scalarisation of them (ParEGO; tpe ranks
	// Losses and Violation itself instead); with constraints, infeasible
	// trials rank after every feasible one, by how far they break them.
	Loss float64
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
	if p.Objective, err = parseObjective(spec.GetObjective()); err != nil {
		return nil, err
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

// parseObjective reads a request's objective.
func parseObjective(obj *pb.ObjectiveSpec) (Objective, error) {
	const path = "experiment.experimentSpec.objective"
	switch obj.GetType() {
	case pb.ObjectiveType_MAXIMIZE, pb.ObjectiveType_MINIMIZE, pb.ObjectiveType_UNKNOWN:
	default:
		return Objective{}, Invalidf(path+".type", "unknown objective type %s: use MINIMIZE or MAXIMIZE", obj.GetType())
	}
	o := Objective{
		Maximize: obj.GetType() == pb.ObjectiveType_MAXIMIZE,
		Metric:   obj.GetObjectiveMetricName(),
		Goal:     obj.GetGoal(),
	}
	seen := map[string]bool{o.Metric: true}
	for i, a := range obj.GetAdditionalObjectives() {
		at := fmt.Sprintf("%s.additionalObjectives[%d]", path, i)
		switch {
		case o.Metric == "":
			return Objective{}, Invalidf(path+".objectiveMetricName", "missing: name the objective metric before additional objectives")
		case a.GetMetricName() == "":
			return Objective{}, Invalidf(at+".metricName", "missing: name the metric of each additional objective")
		case seen[a.GetMetricName()]:
			return Objective{}, Invalidf(at+".metricName", "%q is already an objective: each metric may be one objective", a.GetMetricName())
		}
		seen[a.GetMetricName()] = true
		switch a.GetType() {
		case pb.ObjectiveType_MAXIMIZE, pb.ObjectiveType_MINIMIZE:
		default:
			return Objective{}, Invalidf(at+".type", "%s: use MINIMIZE or MAXIMIZE", a.GetType())
		}
		o.Additional = append(o.Additional, Direction{Metric: a.GetMetricName(), Maximize: a.GetType() == pb.ObjectiveType_MAXIMIZE})
	}
	for i, c := range obj.GetConstraints() {
		at := fmt.Sprintf("%s.constraints[%d]", path, i)
		k := Constraint{Metric: c.GetMetricName()}
		if c.Min != nil {
			k.Min = new(float64)
			*k.Min = c.GetMin()
		}
		if c.Max != nil {
			k.Max = new(float64)
			*k.Max = c.GetMax()
		}
		switch {
		case k.Metric == "":
			return Objective{}, Invalidf(at+".metricName", "missing: name the metric the constraint bounds")
		case k.Min == nil && k.Max == nil:
			return Objective{}, Invalidf(at, "no bound: give min, max or both")
		case k.Min != nil && k.Max != nil && !(*k.Min <= *k.Max):
			return Objective{}, Invalidf(at, "min %g is above max %g: no value is feasible", *k.Min, *k.Max)
		case k.Min != nil && (math.IsNaN(*k.Min) || math.IsInf(*k.Min, 0)), k.Max != nil && (math.IsNaN(*k.Max) || math.IsInf(*k.Max, 0)):
			return Objective{}, Invalidf(at, "bounds must be finite numbers")
		}
		o.Constraints = append(o.Constraints, k)
	}
	return o, nil
}

// RefuseMultiObjective fails when the objective has additional
// objectives, naming the algorithm that refuses them and why (and what to
// use instead) in because: for an algorithm whose search follows one
// objective across calls, from its Validate.
func RefuseMultiObjective(p *Problem, name, because string) error {
	if !p.Objective.MultiObjective() {
		return nil
	}
	return Invalidf("experiment.experimentSpec.objective.additionalObjectives",
		"%s optimises one objective, and this experiment has %d: %s; nsga2 and tpe search for the Pareto front, and bayesopt and smac take several objectives by random scalarisation",
		name, 1+len(p.Objective.Additional), because)
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
	o := p.Observer()
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
		o.Reset()
		for _, m := range t.GetStatus().GetObservation().GetMetrics() {
			slots := o.Slots(m.GetName())
			if len(slots) == 0 {
				continue
			}
			v, err := strconv.ParseFloat(m.GetValue(), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, Invalidf(path+".status.observation", "metric %q: %q is not a finite number", m.GetName(), m.GetValue())
			}
			o.Set(slots, v)
		}
		o.Fill(&tr)
		out[i] = tr
	}
	p.Score(out)
	return out, nil
}

// Observed gathers the metrics of one trial that the objective reads (its
// objectives and its constraints' metrics) and fills a Trial from them:
// one reader for every form a history comes in.
type Observed struct {
	p *Problem
	// slots maps a metric's name to its places in values: objectives
	// first, in order, then constraints.
	slots  map[string][]int
	values []float64
	has    []bool
	// losses holds the Losses of every trial filled, one allocation.
	losses []float64
}

// Observer returns the reader of the trials' metrics.
func (p *Problem) Observer() *Observed {
	o := &Observed{p: p, slots: map[string][]int{}}
	add := func(name string) {
		o.slots[name] = append(o.slots[name], len(o.values))
		o.values = append(o.values, 0)
		o.has = append(o.has, false)
	}
	if p.Objective.Metric != "" {
		add(p.Objective.Metric)
	}
	for _, a := range p.Objective.Additional {
		add(a.Metric)
	}
	for _, c := range p.Objective.Constraints {
		add(c.Metric)
	}
	return o
}

// Slots returns where the named metric goes: none when the objective does
// not read it.
func (o *Observed) Slots(name string) []int { return o.slots[name] }

// Reset forgets the metrics of the trial before.
func (o *Observed) Reset() { clear(o.has) }

// Set records a metric's value in its slots.
func (o *Observed) Set(slots []int, v float64) {
	for _, k := range slots {
		o.values[k], o.has[k] = v, true
	}
}

// Fill sets the trial's Value, HasValue, Losses and Violation from the
// metrics recorded since Reset, and a condition it came without.
func (o *Observed) Fill(t *Trial) {
	obj := &o.p.Objective
	n := 0
	if obj.Metric != "" {
		n = 1 + len(obj.Additional)
	}
	t.HasValue = n > 0
	for k := range n {
		t.HasValue = t.HasValue && o.has[k]
	}
	if n > 0 && o.has[0] {
		t.Value = o.values[0]
	}
	if t.HasValue && n > 1 {
		if len(o.losses) < n {
			o.losses = make([]float64, 1024*n)
		}
		t.Losses, o.losses = o.losses[:n:n], o.losses[n:]
		t.Losses[0] = obj.Loss(o.values[0])
		for k, a := range obj.Additional {
			t.Losses[k+1] = Objective{Maximize: a.Maximize}.Loss(o.values[k+1])
		}
	}
	t.Violation = 0
	for k, c := range obj.Constraints {
		if !o.has[n+k] {
			t.Violation = math.Inf(1)
			break
		}
		t.Violation += pareto.Violation(o.values[n+k], c.Min, c.Max)
	}
	t.Condition = DefaultCondition(t.Condition, t.HasValue)
}

// Score sets the Loss of every completed trial (see Trial.Loss). With
// additional objectives the scalarisation is ParEGO's (Knowles, 2006): the
// objectives scaled to [0, 1] over the completed trials, then the largest
// weighted one plus 0.05 times their weighted sum, with weights drawn for
// this call (seeded like Rand) from the simplex. With constraints, an
// infeasible trial's Loss lies above every feasible one's, further the
// more it breaks them; with no feasible trial, Loss is how far each
// breaks them, so that the search heads for feasibility first.
func (p *Problem) Score(trials []Trial) {
	obj := &p.Objective
	if obj.MultiObjective() {
		p.scalarise(trials)
	} else {
		for i := range trials {
			if trials[i].Completed() {
				trials[i].Loss = obj.Loss(trials[i].Value)
			}
		}
	}
	if len(obj.Constraints) == 0 {
		return
	}
	lo, hi, feasible := math.Inf(1), math.Inf(-1), false
	for i := range trials {
		if t := &trials[i]; t.Completed() && t.Violation == 0 {
			lo, hi, feasible = min(lo, t.Loss), max(hi, t.Loss), true
		}
	}
	span := hi - lo
	if !(span > 0) {
		span = 1
	}
	for i := range trials {
		t := &trials[i]
		if !t.Completed() || t.Violation == 0 {
			continue
		}
		// In [0, 1]: 1 for a constraint metric not reported.
		far := 1.0
		if !math.IsInf(t.Violation, 1) {
			far = t.Violation / (1 + t.Violation)
		}
		if feasible {
			t.Loss = hi + span*(1+far)
		} else {
			t.Loss = far
		}
	}
}

// scalarise sets each completed trial's Loss to ParEGO's scalarisation of
// its Losses.
func (p *Problem) scalarise(trials []Trial) {
	m := 1 + len(p.Objective.Additional)
	lo, hi := make([]float64, m), make([]float64, m)
	for k := range m {
		lo[k], hi[k] = math.Inf(1), math.Inf(-1)
	}
	for i := range trials {
		if t := &trials[i]; t.Completed() {
			for k, v := range t.Losses {
				lo[k], hi[k] = min(lo[k], v), max(hi[k], v)
			}
		}
	}
	// Weights uniform on the simplex: normalised exponential draws, from a
	// stream of its own so that the algorithm's draws stay as they were.
	r := rand.New(rand.NewPCG(p.seed(), uint64(len(trials))^0x9e3779b97f4a7c15))
	w, sum := make([]float64, m), 0.0
	for k := range w {
		w[k] = r.ExpFloat64()
		sum += w[k]
	}
	for k := range w {
		w[k] /= sum
	}
	for i := range trials {
		t := &trials[i]
		if !t.Completed() {
			continue
		}
		most, total := math.Inf(-1), 0.0
		for k, v := range t.Losses {
			x := 0.0
			if hi[k] > lo[k] {
				x = (v - lo[k]) / (hi[k] - lo[k])
			}
			most = max(most, w[k]*x)
			total += w[k] * x
		}
		t.Loss = most + 0.05*total
	}
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
	return rand.New(rand.NewPCG(p.seed(), uint64(trials)))
}

// seed is random_state, or without it a hash of the experiment's name.
func (p *Problem) seed() uint64 {
	if p.Settings.IsSet(RandomState) {
		return uint64(p.Settings.Int(RandomState))
	}
	h := fnv.New64a()
	h.Write([]byte(p.Experiment))
	return h.Sum64()
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
