package algorithm_test

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"knobs.dev/knobs/pkg/algorithm"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// severalObjectives is the example experiment with the accuracy maximised,
// the latency minimised and the memory bounded.
func severalObjectives() *pb.Experiment {
	e := experiment()
	most := 100.0
	e.ExperimentSpec.Objective.AdditionalObjectives = []*pb.AdditionalObjective{{MetricName: "latency", Type: pb.ObjectiveType_MINIMIZE}}
	e.ExperimentSpec.Objective.Constraints = []*pb.MetricConstraint{{MetricName: "memory", Max: &most}}
	return e
}

func TestNewProblemObjectives(t *testing.T) {
	p := mustProblem(t, fake{}, severalObjectives())
	o := p.Objective
	if !o.MultiObjective() || len(o.Additional) != 1 || o.Additional[0] != (algorithm.Direction{Metric: "latency"}) {
		t.Errorf("Additional = %+v, want latency minimised", o.Additional)
	}
	if len(o.Constraints) != 1 || o.Constraints[0].Metric != "memory" || o.Constraints[0].Min != nil || *o.Constraints[0].Max != 100 {
		t.Errorf("Constraints = %+v, want memory at most 100", o.Constraints)
	}
}

func TestNewProblemObjectivesErrors(t *testing.T) {
	nan, one, two := math.NaN(), 1.0, 2.0
	for _, c := range []struct {
		name  string
		edit  func(*pb.ObjectiveSpec)
		path  string
		words string
	}{
		{"objective twice", func(o *pb.ObjectiveSpec) {
			o.AdditionalObjectives = []*pb.AdditionalObjective{{MetricName: "Validation-accuracy", Type: pb.ObjectiveType_MINIMIZE}}
		}, "experiment.experimentSpec.objective.additionalObjectives[0].metricName", "already an objective"},
		{"no name", func(o *pb.ObjectiveSpec) {
			o.AdditionalObjectives = []*pb.AdditionalObjective{{Type: pb.ObjectiveType_MINIMIZE}}
		}, "experiment.experimentSpec.objective.additionalObjectives[0].metricName", "missing"},
		{"no direction", func(o *pb.ObjectiveSpec) {
			o.AdditionalObjectives = []*pb.AdditionalObjective{{MetricName: "latency"}}
		}, "experiment.experimentSpec.objective.additionalObjectives[0].type", "MINIMIZE or MAXIMIZE"},
		{"no objective metric", func(o *pb.ObjectiveSpec) {
			o.ObjectiveMetricName = ""
			o.AdditionalObjectives = []*pb.AdditionalObjective{{MetricName: "latency", Type: pb.ObjectiveType_MINIMIZE}}
		}, "experiment.experimentSpec.objective.objectiveMetricName", "missing"},
		{"no bound", func(o *pb.ObjectiveSpec) {
			o.Constraints = []*pb.MetricConstraint{{MetricName: "memory"}}
		}, "experiment.experimentSpec.objective.constraints[0]", "give min, max or both"},
		{"empty range", func(o *pb.ObjectiveSpec) {
			o.Constraints = []*pb.MetricConstraint{{MetricName: "memory", Min: &two, Max: &one}}
		}, "experiment.experimentSpec.objective.constraints[0]", "no value is feasible"},
		{"not a number", func(o *pb.ObjectiveSpec) {
			o.Constraints = []*pb.MetricConstraint{{MetricName: "memory", Max: &nan}}
		}, "experiment.experimentSpec.objective.constraints[0]", "finite"},
		{"constraint without metric", func(o *pb.ObjectiveSpec) {
			o.Constraints = []*pb.MetricConstraint{{Max: &one}}
		}, "experiment.experimentSpec.objective.constraints[0].metricName", "missing"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := experiment()
			c.edit(e.ExperimentSpec.Objective)
			_, err := algorithm.NewProblem(fake{}, e)
			if err == nil || !algorithm.IsInvalidArgument(err) {
				t.Fatalf("NewProblem = %v, want an invalid argument", err)
			}
			ae := err.(*algorithm.Error)
			if ae.Path != c.path || !strings.Contains(ae.Message, c.words) {
				t.Errorf("error at %q: %q, want at %q saying %q", ae.Path, ae.Message, c.path, c.words)
			}
		})
	}
}

func TestRefuseMultiObjective(t *testing.T) {
	if err := algorithm.RefuseMultiObjective(mustProblem(t, fake{}, experiment()), "x", "why"); err != nil {
		t.Errorf("one objective refused: %v", err)
	}
	err := algorithm.RefuseMultiObjective(mustProblem(t, fake{}, severalObjectives()), "x", "why")
	if err == nil || !algorithm.IsInvalidArgument(err) || !strings.Contains(err.Error(), "nsga2") {
		t.Errorf("several objectives: %v, want a refusal that names what takes them", err)
	}
}

func TestParseTrialsSeveralObjectives(t *testing.T) {
	p := mustProblem(t, fake{}, severalObjectives())
	trials, err := p.ParseTrials(context.Background(), []*pb.Trial{
		trial("a", pb.TrialCondition_SUCCEEDED, "Validation-accuracy", "0.9", "latency", "30", "memory", "50"),
		trial("b", pb.TrialCondition_SUCCEEDED, "Validation-accuracy", "0.8", "latency", "10", "memory", "120"),
		trial("c", pb.TrialCondition_SUCCEEDED, "Validation-accuracy", "0.95", "latency", "20"),
		trial("d", pb.TrialCondition_SUCCEEDED, "Validation-accuracy", "0.99", "memory", "1"),
		trial("e", pb.TrialCondition_SUCCEEDED, "Validation-accuracy", "0.7", "latency", "40", "memory", "100"),
		trial("f", pb.TrialCondition_RUNNING),
	})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c, d, e := trials[0], trials[1], trials[2], trials[3], trials[4]
	if len(a.Losses) != 2 || a.Losses[0] != -0.9 || a.Losses[1] != 30 || a.Violation != 0 {
		t.Errorf("a: Losses %v, Violation %v; want [-0.9 30], 0", a.Losses, a.Violation)
	}
	if b.Violation != 20 || !math.IsInf(c.Violation, 1) || e.Violation != 0 {
		t.Errorf("Violation: b %v (20 over), c %v (memory missing: +Inf), e %v (at the bound: 0)", b.Violation, c.Violation, e.Violation)
	}
	if d.HasValue || d.Completed() {
		t.Errorf("d reports no latency, yet counts as completed: %+v", d)
	}
	// Feasible trials (a, e) first, by their scalarised loss; then the
	// infeasible ones, the farther the worse.
	for _, inf := range []algorithm.Trial{b, c} {
		if !(inf.Loss > a.Loss && inf.Loss > e.Loss) {
			t.Errorf("infeasible %s has Loss %v, not above the feasible a %v and e %v", inf.Name, inf.Loss, a.Loss, e.Loss)
		}
	}
	if !(c.Loss > b.Loss) {
		t.Errorf("c (memory missing) Loss %v should be above b's %v (20 over)", c.Loss, b.Loss)
	}
	// a beats e in both objectives: it is better whatever the weights.
	if !(a.Loss < e.Loss) {
		t.Errorf("a dominates e, yet Loss %v against %v", a.Loss, e.Loss)
	}
}

func TestScoreWithoutFeasibleTrials(t *testing.T) {
	e := experiment()
	most := 1.0
	e.ExperimentSpec.Objective.Constraints = []*pb.MetricConstraint{{MetricName: "memory", Max: &most}}
	p := mustProblem(t, fake{}, e)
	trials, err := p.ParseTrials(context.Background(), []*pb.Trial{
		trial("a", pb.TrialCondition_SUCCEEDED, "Validation-accuracy", "0.9", "memory", "5"),
		trial("b", pb.TrialCondition_SUCCEEDED, "Validation-accuracy", "0.1", "memory", "2"),
	})
	if err != nil {
		t.Fatal(err)
	}
	// No trial is feasible: the nearer to feasible is the better, whatever
	// the objective says.
	if !(trials[1].Loss < trials[0].Loss) {
		t.Errorf("Loss of b (1 over) %v, of a (4 over) %v: b should be lower", trials[1].Loss, trials[0].Loss)
	}
}

func TestScalarisationChangesWithTheCall(t *testing.T) {
	p := mustProblem(t, fake{}, severalObjectives())
	raw := []*pb.Trial{
		trial("a", pb.TrialCondition_SUCCEEDED, "Validation-accuracy", "0.9", "latency", "30", "memory", "1"),
		trial("b", pb.TrialCondition_SUCCEEDED, "Validation-accuracy", "0.8", "latency", "10", "memory", "1"),
	}
	// a is better in accuracy, b in latency: which wins depends on the
	// weights, drawn anew as the history grows.
	trials, err := p.ParseTrials(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	aWins, bWins := 0, 0
	for n := range 40 {
		full := append(slices.Clone(trials), make([]algorithm.Trial, n)...)
		p.Score(full)
		if full[0].Loss < full[1].Loss {
			aWins++
		} else {
			bWins++
		}
	}
	if aWins == 0 || bWins == 0 {
		t.Errorf("over 40 calls a won %d times, b %d: the weights should vary", aWins, bWins)
	}
}
