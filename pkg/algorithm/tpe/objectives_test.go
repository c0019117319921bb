package tpe_test

import (
	"fmt"
	"math"
	"strconv"
	"testing"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/algorithmtest"
	"knobs.dev/knobs/pkg/algorithm/random"
	"knobs.dev/knobs/pkg/algorithm/tpe"
	"knobs.dev/knobs/pkg/pareto"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// frontProblem is a test problem of two objectives, f1 and f2 (both
// minimised), maybe with constraints, and the reference point its
// hypervolume is measured against.
type frontProblem struct {
	name        string
	specs       []*pb.ParameterSpec
	f           func(searchspace.Point) map[string]float64
	constraints []*pb.MetricConstraint
	ref         []float64
}

func unitCube(d int) []*pb.ParameterSpec {
	specs := make([]*pb.ParameterSpec, d)
	for i := range specs {
		specs[i] = double(fmt.Sprintf("x%d", i), "0", "1")
	}
	return specs
}

// dtlz2 is Deb, Thiele, Laumanns and Zitzler's DTLZ2 with two objectives
// on [0, 1]^n: its front is the quarter circle f1² + f2² = 1, at
// pt[1:] = 0.5.
func dtlz2(pt searchspace.Point) map[string]float64 {
	g := 0.0
	for _, x := range pt[1:] {
		g += (x - 0.5) * (x - 0.5)
	}
	a := pt[0] * math.Pi / 2
	return map[string]float64{"f1": (1 + g) * math.Cos(a), "f2": (1 + g) * math.Sin(a)}
}

// srn is Srinivas and Deb's constrained problem on [-20, 20]²: c1 =
// x² + y² at most 225 and c2 = x - 3y at most -10.
func srn(pt searchspace.Point) map[string]float64 {
	x, y := pt[0], pt[1]
	return map[string]float64{
		"f1": 2 + (x-2)*(x-2) + (y-1)*(y-1),
		"f2": 9*x - (y-1)*(y-1),
		"c1": x*x + y*y,
		"c2": x - 3*y,
	}
}

func frontProblems() []frontProblem {
	c1, c2 := 225.0, -10.0
	return []frontProblem{
		{"ZDT1 6-D", unitCube(6), algorithmtest.ZDT1, nil, []float64{1.1, 11}},
		{"DTLZ2 6-D", unitCube(6), dtlz2, nil, []float64{2.2, 2.2}},
		{"SRN", []*pb.ParameterSpec{double("x", "-20", "20"), double("y", "-20", "20")}, srn,
			[]*pb.MetricConstraint{{MetricName: "c1", Max: &c1}, {MetricName: "c2", Max: &c2}}, []float64{300, 50}},
	}
}

// frontHypervolume runs alg on the problem for n trials, one at a time,
// and returns the hypervolume of the feasible trials' objectives.
func frontHypervolume(t testing.TB, alg algorithm.Algorithm, fp frontProblem, settings []string, seed, n int) float64 {
	t.Helper()
	e := algorithmtest.Experiment("tpe", algorithmtest.Settings(append([]string{algorithm.RandomState, strconv.Itoa(seed)}, settings...)...), fp.specs...)
	o := e.ExperimentSpec.Objective
	o.ObjectiveMetricName = "f1"
	o.AdditionalObjectives = []*pb.AdditionalObjective{{MetricName: "f2", Type: pb.ObjectiveType_MINIMIZE}}
	o.Constraints = fp.constraints
	var pts [][]float64
	for _, h := range algorithmtest.Run(t, alg, e, fp.f, n, 1) {
		feasible := true
		for _, c := range fp.constraints {
			feasible = feasible && pareto.Violation(h.Metrics[c.MetricName], c.Min, c.Max) == 0
		}
		if feasible {
			pts = append(pts, []float64{h.Value, h.Metrics["f2"]})
		}
	}
	return pareto.Hypervolume(pts, fp.ref)
}

// TestFrontsBeatRandom measures the hypervolume of the front tpe finds on
// ZDT1, DTLZ2 and SRN in 100 trials, one at a time, over ten seeds: both
// tpe and multivariate-tpe beat random search at the median on each, and
// on ZDT1 tpe beats random search's median on at least 8 seeds and by 0.5
// at the median, which TPE on ParEGO's scalarisation did not (9.91
// against 9.77; 10.74 with the good group by Pareto rank and hypervolume,
// 11.12 multivariate; docs/algorithms.md has the rest).
func TestFrontsBeatRandom(t *testing.T) {
	if testing.Short() {
		t.Skip("runs thousands of suggestions")
	}
	const seeds, trials = 10, 100
	algs := []struct {
		name     string
		alg      algorithm.Algorithm
		settings []string
	}{
		{"random", random.Random{}, nil},
		{"tpe", tpe.TPE{}, nil},
		{"multivariate-tpe", tpe.TPE{}, []string{tpe.Multivariate, "true"}},
	}
	for _, fp := range frontProblems() {
		t.Run(fp.name, func(t *testing.T) {
			var base []float64
			for _, a := range algs {
				hv := make([]float64, seeds)
				for s := range hv {
					hv[s] = frontHypervolume(t, a.alg, fp, a.settings, s+1, trials)
				}
				m := algorithmtest.Median(hv)
				t.Logf("%-17s median %.4g  %.4g", a.name, m, hv)
				if base == nil {
					base = hv
					continue
				}
				if mb := algorithmtest.Median(base); !(m > mb) {
					t.Errorf("%s: median hypervolume %.4g, random search's %.4g", a.name, m, mb)
				}
				if a.name != "tpe" || fp.name != "ZDT1 6-D" {
					continue
				}
				wins := 0
				for _, v := range hv {
					if v > algorithmtest.Median(base) {
						wins++
					}
				}
				if mb := algorithmtest.Median(base); wins < 8 || m < mb+0.5 {
					t.Errorf("tpe beat random search's median %.4g on %d of %d seeds, at the median by %.3g; want 8 and 0.5", mb, wins, seeds, m-mb)
				}
			}
		})
	}
}
