// Package hbtest simulates the Knobs controller around a multi-fidelity
// algorithm, for the tests of Hyperband and BOHB: it asks for suggestions
// through the function runtime (which holds replies to the contract), checks
// what the controller checks, keeps the state the algorithm writes back,
// runs the trials with an objective, and reports their results.
package hbtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/function"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Metric is the objective metric of the simulated experiments.
const Metric = "score"

// Experiment builds the experiment of a request.
type Experiment struct {
	Name     string
	Specs    []*pb.ParameterSpec
	Maximize bool
	Settings []*pb.AlgorithmSetting
}

// Proto returns the experiment with state overlaid on its settings, the way
// the controller sends it.
func (e Experiment) Proto(algName string, state []*pb.AlgorithmSetting) *pb.Experiment {
	typ := pb.ObjectiveType_MINIMIZE
	if e.Maximize {
		typ = pb.ObjectiveType_MAXIMIZE
	}
	settings := append(append([]*pb.AlgorithmSetting(nil), e.Settings...), state...)
	return &pb.Experiment{
		Name: e.Name,
		ExperimentSpec: &pb.ExperimentSpec{
			Algorithm:      &pb.AlgorithmSpec{AlgorithmName: algName, AlgorithmSettings: settings},
			Objective:      &pb.ObjectiveSpec{Type: typ, ObjectiveMetricName: Metric},
			ParameterSpecs: &pb.ParameterSpecs{Parameters: e.Specs},
		},
	}
}

// Settings makes algorithm settings from name, value pairs.
func Settings(kv ...string) []*pb.AlgorithmSetting {
	out := make([]*pb.AlgorithmSetting, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, &pb.AlgorithmSetting{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

// Objective scores a trial's assignments; ok false makes the trial fail.
type Objective func(a map[string]string) (value float64, ok bool)

// Controller plays the Suggestion, Experiment and Trial reconcilers.
type Controller struct {
	T         testing.TB
	Alg       algorithm.Algorithm
	Name      string // the algorithm's name
	Exp       Experiment
	Objective Objective

	State     []*pb.AlgorithmSetting
	Trials    []*pb.Trial
	Exhausted bool
	// Replies counts the suggestions of each reply, in order.
	Replies []int

	space *searchspace.Space
	seen  map[string]bool
	svc   *function.Service
}

// NewController starts a simulated experiment.
func NewController(t testing.TB, alg algorithm.Algorithm, name string, exp Experiment, obj Objective) *Controller {
	t.Helper()
	space, err := searchspace.Parse(exp.Specs)
	if err != nil {
		t.Fatalf("search space: %v", err)
	}
	return &Controller{
		T: t, Alg: alg, Name: name, Exp: exp, Objective: obj,
		space: space, seen: make(map[string]bool),
		svc: &function.Service{Name: name, Algorithm: alg},
	}
}

// Request is the request the controller would send for n suggestions.
func (c *Controller) Request(n int) *pb.GetSuggestionsRequest {
	return &pb.GetSuggestionsRequest{
		Experiment:    c.Exp.Proto(c.Name, c.State),
		Trials:        c.Trials,
		RequestNumber: int32(n),
	}
}

// Ask requests n suggestions and records them as pending trials. It fails
// the test on an error or on a reply the controller would refuse.
func (c *Controller) Ask(n int) []map[string]string {
	c.T.Helper()
	reply, err := c.TryAsk(n)
	if err != nil {
		c.T.Fatalf("after %d trials: GetSuggestions(%d): %v", len(c.Trials), n, err)
	}
	return reply
}

// TryAsk is Ask returning the function's error.
func (c *Controller) TryAsk(n int) ([]map[string]string, error) {
	c.T.Helper()
	reply, err := c.svc.GetSuggestions(context.Background(), c.Request(n))
	if err != nil {
		return nil, err
	}
	got := reply.GetParameterAssignments()
	if len(got) != n && !reply.GetSearchSpaceExhausted() {
		c.T.Fatalf("after %d trials: %d suggestions for %d asked, not exhausted", len(c.Trials), len(got), n)
	}
	var out []map[string]string
	for _, a := range got {
		pt, err := c.space.ParseAssignments(a.GetAssignments())
		if err != nil {
			c.T.Fatalf("suggestion %v: %v", a.GetAssignments(), err)
		}
		if !c.space.Contains(pt) {
			c.T.Fatalf("suggestion %v is outside the search space", a.GetAssignments())
		}
		k := c.space.Key(pt)
		if c.seen[k] {
			c.T.Fatalf("after %d trials: suggestion %v was handed out before", len(c.Trials), a.GetAssignments())
		}
		c.seen[k] = true
		c.Trials = append(c.Trials, &pb.Trial{
			Name:   fmt.Sprintf("%s-%d", c.Exp.Name, len(c.Trials)+1),
			Spec:   &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: a.GetAssignments()}},
			Status: &pb.TrialStatus{Condition: pb.TrialCondition_PENDING},
		})
		out = append(out, Assignments(a.GetAssignments()))
	}
	c.State = reply.GetAlgorithm().GetAlgorithmSettings()
	c.Exhausted = reply.GetSearchSpaceExhausted()
	c.Replies = append(c.Replies, len(got))
	return out, nil
}

// Assignments turns assignments into a map by name.
func Assignments(as []*pb.ParameterAssignment) map[string]string {
	m := make(map[string]string, len(as))
	for _, a := range as {
		m[a.GetName()] = a.GetValue()
	}
	return m
}

// Active lists the positions of the trials still pending.
func (c *Controller) Active() []int {
	var out []int
	for i, t := range c.Trials {
		if t.GetStatus().GetCondition() == pb.TrialCondition_PENDING || t.GetStatus().GetCondition() == pb.TrialCondition_RUNNING {
			out = append(out, i)
		}
	}
	return out
}

// Complete runs trial i through the objective and records its result.
func (c *Controller) Complete(i int) {
	t := c.Trials[i]
	v, ok := c.Objective(Assignments(t.GetSpec().GetParameterAssignments().GetAssignments()))
	c.Finish(i, v, ok)
}

// Finish records a result for trial i: the value, or a failure.
func (c *Controller) Finish(i int, v float64, ok bool) {
	t := c.Trials[i]
	if !ok {
		t.Status = &pb.TrialStatus{Condition: pb.TrialCondition_FAILED}
		return
	}
	t.Status = &pb.TrialStatus{
		Condition: pb.TrialCondition_SUCCEEDED,
		Observation: &pb.Observation{Metrics: []*pb.Metric{
			{Name: Metric, Value: strconv.FormatFloat(v, 'g', -1, 64)},
		}},
	}
}

// Run keeps parallel trials going until the function says it is done or
// maxTrials have been handed out. Trials finish in an order drawn from seed
// (oldest first when seed is 0).
func (c *Controller) Run(parallel, maxTrials int, seed uint64) {
	c.T.Helper()
	var rng *rand.Rand
	if seed != 0 {
		rng = rand.New(rand.NewPCG(seed, 99))
	}
	for !c.Exhausted && len(c.Trials) < maxTrials {
		active := c.Active()
		if n := min(parallel-len(active), maxTrials-len(c.Trials)); n > 0 {
			c.Ask(n)
			active = c.Active()
		}
		if len(active) == 0 {
			break
		}
		i := active[0]
		if rng != nil {
			i = active[rng.IntN(len(active))]
		}
		c.Complete(i)
	}
	for _, i := range c.Active() {
		c.Complete(i)
	}
}

// Values returns the objective values of the succeeded trials whose
// assignments pass keep.
func (c *Controller) Values(keep func(a map[string]string) bool) []float64 {
	var out []float64
	for _, t := range c.Trials {
		if t.GetStatus().GetCondition() != pb.TrialCondition_SUCCEEDED {
			continue
		}
		if !keep(Assignments(t.GetSpec().GetParameterAssignments().GetAssignments())) {
			continue
		}
		v, _ := strconv.ParseFloat(t.GetStatus().GetObservation().GetMetrics()[0].GetValue(), 64)
		out = append(out, v)
	}
	return out
}

// Double, Int, Categorical build parameter specs.
func Double(name, min, max string) *pb.ParameterSpec {
	return &pb.ParameterSpec{Name: name, ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: min, Max: max}}
}

// Int builds an int parameter spec.
func Int(name, min, max string) *pb.ParameterSpec {
	return &pb.ParameterSpec{Name: name, ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: min, Max: max}}
}

// Categorical builds a categorical parameter spec.
func Categorical(name string, list ...string) *pb.ParameterSpec {
	return &pb.ParameterSpec{Name: name, ParameterType: pb.ParameterType_CATEGORICAL, FeasibleSpace: &pb.FeasibleSpace{List: list}}
}

// Number reads a numeric assignment.
func Number(a map[string]string, name string) float64 {
	v, err := strconv.ParseFloat(a[name], 64)
	if err != nil {
		panic(fmt.Sprintf("assignment %s=%q: %v", name, a[name], err))
	}
	return v
}
