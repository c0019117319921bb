package registry_test

import (
	"math"
	"strconv"
	"testing"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/algorithmtest"
	"knobs.dev/knobs/pkg/algorithm/registry"
	"knobs.dev/knobs/pkg/pareto"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Every model-based algorithm that takes several objectives (tpe by Pareto
// rank, the others by random scalarisation) finds a better front than
// random search with the same small budget, at the median over seeds: on
// ZDT1 in three dimensions, 40 trials four at a time, bayesopt 11.69,
// multivariate-tpe 11.30, smac 11.26, tpe 11.25, random search 10.42. NSGA-II, a genetic algorithm,
// needs more generations than 40 trials make: its own tests run it
// longer.
func TestSeveralObjectivesBeatRandom(t *testing.T) {
	hv := func(name string, seed int) float64 {
		e := algorithmtest.Experiment(name, algorithmtest.Settings(algorithm.RandomState, strconv.Itoa(seed)),
			algorithmtest.Double("a", "0", "1"), algorithmtest.Double("b", "0", "1"), algorithmtest.Double("c", "0", "1"))
		o := e.ExperimentSpec.Objective
		o.ObjectiveMetricName = "f1"
		o.AdditionalObjectives = []*pb.AdditionalObjective{{MetricName: "f2", Type: pb.ObjectiveType_MINIMIZE}}
		entry, _ := registry.Lookup(name)
		var pts [][]float64
		for _, h := range algorithmtest.Run(t, entry.Algorithm, e, algorithmtest.ZDT1, 40, 4) {
			pts = append(pts, []float64{h.Value, h.Metrics["f2"]})
		}
		return pareto.Hypervolume(pts, []float64{1.1, 11})
	}
	median := func(name string) float64 {
		var v []float64
		for seed := 1; seed <= 5; seed++ {
			v = append(v, hv(name, seed))
		}
		return algorithmtest.Median(v)
	}
	base := median("random")
	for _, e := range registry.All() {
		if !e.Needs.Objective || e.Name == "nsga2" {
			continue
		}
		p := algorithmtest.Experiment(e.Name, nil, algorithmtest.Double("a", "0", "1"), algorithmtest.Double("b", "0", "1"))
		p.ExperimentSpec.Objective.AdditionalObjectives = []*pb.AdditionalObjective{{MetricName: "f2", Type: pb.ObjectiveType_MINIMIZE}}
		if _, err := algorithm.NewProblem(e.Algorithm, p); err != nil {
			t.Logf("%s refuses several objectives", e.Name)
			continue
		}
		t.Run(e.Name, func(t *testing.T) {
			m := median(e.Name)
			t.Logf("median hypervolume after 40 trials: %s %.3f, random %.3f", e.Name, m, base)
			if !(m > base) {
				t.Errorf("median hypervolume %v, random search's %v: a search that learns from both objectives should do better", m, base)
			}
		})
	}
}

// Every algorithm that learns from the objective keeps more of its later
// trials feasible than random search does, and finds a better feasible
// point, at the median over seeds: the sphere on [-5, 5]^2 where only
// x + y >= 2 is feasible (the best feasible point is (1, 1), at 2).
func TestConstraintsSteerEveryAlgorithm(t *testing.T) {
	least := 2.0
	run := func(name string, seed int) (share, best float64) {
		e := algorithmtest.Experiment(name, algorithmtest.Settings(algorithm.RandomState, strconv.Itoa(seed)),
			algorithmtest.Double("x", "-5", "5"), algorithmtest.Double("y", "-5", "5"))
		e.ExperimentSpec.Objective.Constraints = []*pb.MetricConstraint{{MetricName: "sum", Min: &least}}
		entry, _ := registry.Lookup(name)
		hist := algorithmtest.Run(t, entry.Algorithm, e, func(pt searchspace.Point) map[string]float64 {
			return map[string]float64{"loss": pt[0]*pt[0] + pt[1]*pt[1], "sum": pt[0] + pt[1]}
		}, 40, 4)
		best, ok := math.Inf(1), 0
		for i, h := range hist {
			if h.Metrics["sum"] < least {
				continue
			}
			best = min(best, h.Value)
			if i >= 20 {
				ok++
			}
		}
		return float64(ok) / 20, best
	}
	median := func(name string) (share, best float64) {
		var s, b []float64
		for seed := 1; seed <= 5; seed++ {
			x, y := run(name, seed)
			s, b = append(s, x), append(b, y)
		}
		return algorithmtest.Median(s), algorithmtest.Median(b)
	}
	baseShare, baseBest := median("random")
	for _, e := range registry.All() {
		if !e.Needs.Objective || e.Needs.Budget || e.Name == "nsga2" {
			continue
		}
		t.Run(e.Name, func(t *testing.T) {
			share, best := median(e.Name)
			t.Logf("%s: feasible among trials 21-40 %.2f, best feasible %.3g; random %.2f, %.3g", e.Name, share, best, baseShare, baseBest)
			if !(share > baseShare && best < baseBest) {
				t.Errorf("feasible share %v and best feasible %v, random search's %v and %v: the search should keep to the feasible region and do better in it", share, best, baseShare, baseBest)
			}
		})
	}
}
