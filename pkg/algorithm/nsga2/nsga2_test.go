package nsga2_test

import (
	"math"
	"slices"
	"testing"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/algorithmtest"
	"knobs.dev/knobs/pkg/algorithm/nsga2"
	"knobs.dev/knobs/pkg/algorithm/random"
	"knobs.dev/knobs/pkg/pareto"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// biObjective is an experiment minimising f1 and f2 over [0, 1]^n.
func biObjective(name string, n int, settings ...string) *pb.Experiment {
	var specs []*pb.ParameterSpec
	for i := range n {
		specs = append(specs, algorithmtest.Double(string(rune('a'+i)), "0", "1"))
	}
	e := algorithmtest.Experiment(name, algorithmtest.Settings(settings...), specs...)
	e.ExperimentSpec.Objective.ObjectiveMetricName = "f1"
	e.ExperimentSpec.Objective.AdditionalObjectives = []*pb.AdditionalObjective{{MetricName: "f2", Type: pb.ObjectiveType_MINIMIZE}}
	return e
}

// hypervolume is the hypervolume of the history's front against (1.1, 11).
func hypervolume(hist []algorithmtest.Trial) float64 {
	var pts [][]float64
	for _, h := range hist {
		pts = append(pts, []float64{h.Value, h.Metrics["f2"]})
	}
	return pareto.Hypervolume(pts, []float64{1.1, 11})
}

// NSGA-II finds a better front than random search with the same budget,
// at the median over seeds.
func TestBeatsRandomOnZDT1(t *testing.T) {
	var ours, theirs []float64
	for seed := range 5 {
		s := []string{algorithm.RandomState, string(rune('1' + seed)), nsga2.PopulationSize, "20"}
		ours = append(ours, hypervolume(algorithmtest.Run(t, nsga2.NSGA2{}, biObjective("nsga2", 6, s...), algorithmtest.ZDT1, 300, 10)))
		theirs = append(theirs, hypervolume(algorithmtest.Run(t, random.Random{}, biObjective("random", 6, s[:2]...), algorithmtest.ZDT1, 300, 10)))
	}
	m, r := algorithmtest.Median(ours), algorithmtest.Median(theirs)
	t.Logf("median hypervolume after 300 trials: nsga2 %.3f, random %.3f (the true front's: %.3f)", m, r, 1.1*11-1.0/3)
	if !(m > r) {
		t.Errorf("median hypervolume %v, random search's %v: NSGA-II should do better", m, r)
	}
}

// With a constraint that only part of the space keeps, the later
// generations are mostly feasible, and more so than random search's draws.
func TestConstraintSteersAway(t *testing.T) {
	feasibleShare := func(alg algorithm.Algorithm, name string, settings ...string) float64 {
		e := biObjective(name, 4, append([]string{algorithm.RandomState, "3"}, settings...)...)
		most := 0.3
		e.ExperimentSpec.Objective.Constraints = []*pb.MetricConstraint{{MetricName: "c", Max: &most}}
		f := func(pt searchspace.Point) map[string]float64 {
			m := algorithmtest.ZDT1(pt)
			// Feasible where the first two parameters sum to 0.3 or less.
			m["c"] = pt[0] + pt[1]
			return m
		}
		hist := algorithmtest.Run(t, alg, e, f, 200, 10)
		ok := 0
		for _, h := range hist[100:] {
			if h.Metrics["c"] <= most {
				ok++
			}
		}
		return float64(ok) / 100
	}
	ours, theirs := feasibleShare(nsga2.NSGA2{}, "nsga2", nsga2.PopulationSize, "20"), feasibleShare(random.Random{}, "random")
	t.Logf("feasible among trials 101-200: nsga2 %.2f, random %.2f", ours, theirs)
	if !(ours > 0.5 && ours > theirs) {
		t.Errorf("feasible share %v (random %v): NSGA-II should keep mostly to the feasible region", ours, theirs)
	}
}

// One objective works too: a genetic algorithm.
func TestOneObjective(t *testing.T) {
	e := algorithmtest.Experiment("nsga2", algorithmtest.Settings(algorithm.RandomState, "1", nsga2.PopulationSize, "10"),
		algorithmtest.Double("x", "-5", "5"), algorithmtest.Double("y", "-5", "5"))
	sphere := func(pt searchspace.Point) map[string]float64 {
		return map[string]float64{"loss": pt[0]*pt[0] + pt[1]*pt[1]}
	}
	hist := algorithmtest.Run(t, nsga2.NSGA2{}, e, sphere, 150, 5)
	best := math.Inf(1)
	for _, h := range hist {
		best = min(best, h.Value)
	}
	first := math.Inf(1)
	for _, h := range hist[:10] {
		first = min(first, h.Value)
	}
	if !(best < first/4) {
		t.Errorf("best of 150 trials %v, best of the first generation %v: the search should improve on its start", best, first)
	}
}

func TestSeedReproduces(t *testing.T) {
	for _, crossover := range []string{"uniform", "sbx"} {
		run := func(seed string) []string {
			e := biObjective("nsga2", 3, algorithm.RandomState, seed, nsga2.PopulationSize, "4", nsga2.Crossover, crossover)
			p := algorithmtest.Problem(t, nsga2.NSGA2{}, e)
			hist := algorithmtest.Run(t, nsga2.NSGA2{}, e, algorithmtest.ZDT1, 20, 3)
			var pts []searchspace.Point
			for _, h := range hist {
				pts = append(pts, h.Point)
			}
			return algorithmtest.Keys(p.Space, pts)
		}
		if a, b := run("7"), run("7"); !slices.Equal(a, b) {
			t.Errorf("%s: the same seed gave different searches", crossover)
		}
		if a, b := run("7"), run("8"); slices.Equal(a, b) {
			t.Errorf("%s: seeds 7 and 8 gave the same search", crossover)
		}
	}
}

func TestExhaustion(t *testing.T) {
	algorithmtest.Exhaustion(t, nsga2.NSGA2{}, algorithmtest.Problem(t, nsga2.NSGA2{},
		algorithmtest.Experiment("nsga2", algorithmtest.Settings(algorithm.RandomState, "3", nsga2.PopulationSize, "4"), algorithmtest.Twelve()...)))
}

// Every kind of parameter, conditional ones included, bred into valid
// points (algorithmtest.Suggest checks each reply).
func TestMixedAndConditionalSpace(t *testing.T) {
	specs := append(algorithmtest.Katib(),
		algorithmtest.Discrete("batch", "16", "32", "64"),
		&pb.ParameterSpec{Name: "momentum", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: "0", Max: "1"},
			ParentName: "--optimizer", ParentValues: []string{"sgd"}})
	for _, crossover := range []string{"uniform", "sbx"} {
		e := algorithmtest.Experiment("nsga2",
			algorithmtest.Settings(algorithm.RandomState, "5", nsga2.PopulationSize, "6", nsga2.Crossover, crossover, nsga2.MutationProb, "0.3"), specs...)
		hist := algorithmtest.Run(t, nsga2.NSGA2{}, e, func(pt searchspace.Point) map[string]float64 {
			return map[string]float64{"loss": pt[0] + pt[1]}
		}, 40, 4)
		if len(hist) != 40 {
			t.Errorf("%s: %d trials, want 40", crossover, len(hist))
		}
	}
}

func TestCancelled(t *testing.T) {
	e := biObjective("nsga2", 3, nsga2.PopulationSize, "4")
	p := algorithmtest.Problem(t, nsga2.NSGA2{}, e)
	hist := algorithmtest.Run(t, nsga2.NSGA2{}, e, algorithmtest.ZDT1, 12, 4)
	algorithmtest.CancelledMidway(t, nsga2.NSGA2{}, p, algorithmtest.Trials(t, p, hist), 50)
}
