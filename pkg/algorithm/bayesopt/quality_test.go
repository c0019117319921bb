package bayesopt_test

import (
	"math"
	"slices"
	"strconv"
	"testing"

	"knobs.dev/knobs/pkg/algorithm/algorithmtest"
	"knobs.dev/knobs/pkg/algorithm/random"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Standard test functions, with their minima.

func branin(_ *searchspace.Space, pt searchspace.Point) float64 {
	x1, x2 := pt[0], pt[1]
	const (
		a = 1.0
		b = 5.1 / (4 * math.Pi * math.Pi)
		c = 5 / math.Pi
		r = 6.0
		s = 10.0
		t = 1 / (8 * math.Pi)
	)
	d := x2 - b*x1*x1 + c*x1 - r
	return a*d*d + s*(1-t)*math.Cos(x1) + s
}

const braninMin = 0.397887357729739

func braninSpace() []*pb.ParameterSpec {
	return []*pb.ParameterSpec{double("x1", "-5", "10"), double("x2", "0", "15")}
}

var (
	hartmannA = [4][3]float64{{3, 10, 30}, {0.1, 10, 35}, {3, 10, 30}, {0.1, 10, 35}}
	hartmannP = [4][3]float64{{0.3689, 0.1170, 0.2673}, {0.4699, 0.4387, 0.7470}, {0.1091, 0.8732, 0.5547}, {0.0381, 0.5743, 0.8828}}
	hartmannC = [4]float64{1, 1.2, 3, 3.2}
)

func hartmann3(_ *searchspace.Space, pt searchspace.Point) float64 {
	sum := 0.0
	for i := range 4 {
		e := 0.0
		for j := range 3 {
			d := pt[j] - hartmannP[i][j]
			e += hartmannA[i][j] * d * d
		}
		sum += hartmannC[i] * math.Exp(-e)
	}
	return -sum
}

const hartmann3Min = -3.86278214782076

func hartmann3Space() []*pb.ParameterSpec {
	return []*pb.ParameterSpec{double("x", "0", "1"), double("y", "0", "1"), double("z", "0", "1")}
}

// bowlSpace is the unit 4-cube, for quadratic.
func bowlSpace() []*pb.ParameterSpec {
	return []*pb.ParameterSpec{double("a", "0", "1"), double("b", "0", "1"), double("c", "0", "1"), double("d", "0", "1")}
}

// conditionalBowlSpace is the 4-D bowl with an optimizer: b only for sgd,
// c and d only for adam.
func conditionalBowlSpace() []*pb.ParameterSpec {
	under := func(s *pb.ParameterSpec, value string) *pb.ParameterSpec {
		s.ParentName, s.ParentValues = "opt", []string{value}
		return s
	}
	return []*pb.ParameterSpec{categorical("opt", "sgd", "adam"), double("a", "0", "1"),
		under(double("b", "0", "1"), "sgd"), under(double("c", "0", "1"), "adam"), under(double("d", "0", "1"), "adam")}
}

// conditionalBowl is a bowl over the active parameters of each branch,
// with its minimum, 0, in both: sgd with a 0.3 and b 0.4, and adam with a
// 0.3, c 0.5 and d 0.6.
func conditionalBowl(_ *searchspace.Space, pt searchspace.Point) float64 {
	sq := func(x, c float64) float64 { return (x - c) * (x - c) }
	if pt[0] == 0 {
		return sq(pt[1], 0.3) + sq(pt[2], 0.4)
	}
	return sq(pt[1], 0.3) + sq(pt[3], 0.5) + sq(pt[4], 0.6)
}

// regrets runs bayesopt and random search for evals evaluations of f on each
// seed and returns their regrets: the best value found less the minimum.
func regrets(t *testing.T, specs []*pb.ParameterSpec, f func(*searchspace.Space, searchspace.Point) float64,
	fmin float64, evals int, seeds []int, settings ...string) (boRegret, randRegret []float64) {
	for _, seed := range seeds {
		s := strconv.Itoa(seed)
		b := bestLoss(optimise(t, bo, specs, append([]string{"random_state", s}, settings...), f, evals, 1))
		r := bestLoss(optimise(t, random.Random{}, specs, []string{"random_state", s}, f, evals, 1))
		boRegret = append(boRegret, b-fmin)
		randRegret = append(randRegret, r-fmin)
	}
	return boRegret, randRegret
}

// TestQuality checks that the model pays: after the same number of
// evaluations on the same seeds, bayesopt's median regret is a small fraction
// of random search's, and its worst seed still beats random search's median.
// Everything is seeded, so the test is deterministic.
func TestQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("optimises test functions for a few seconds")
	}
	tests := []struct {
		name     string
		specs    []*pb.ParameterSpec
		f        func(*searchspace.Space, searchspace.Point) float64
		min      float64
		evals    int
		settings []string
		// bayesopt's median regret must be below ratio × random's.
		ratio float64
	}{
		{"branin gp_hedge", braninSpace(), branin, braninMin, 30, nil, 0.1},
		{"branin ei", braninSpace(), branin, braninMin, 30, []string{"acq_func", "ei"}, 0.1},
		{"hartmann3 gp_hedge", hartmann3Space(), hartmann3, hartmann3Min, 30, nil, 0.25},
		{"4-D bowl gp_hedge", bowlSpace(), quadratic, 0, 30, nil, 0.1},
		{"4-D bowl ucb", bowlSpace(), quadratic, 0, 30, []string{"acq_func", "ucb"}, 0.1},
		{"4-D bowl pi", bowlSpace(), quadratic, 0, 30, []string{"acq_func", "pi"}, 0.1},
		{"conditional bowl gp_hedge", conditionalBowlSpace(), conditionalBowl, 0, 30, nil, 0.25},
	}
	seeds := []int{1, 2, 3, 4, 5}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, r := regrets(t, tt.specs, tt.f, tt.min, tt.evals, seeds, tt.settings...)
			t.Logf("regret after %d evaluations, bayesopt %.4g (median %.4g), random %.4g (median %.4g)", tt.evals, b, algorithmtest.Median(b), r, algorithmtest.Median(r))
			if algorithmtest.Median(b) >= tt.ratio*algorithmtest.Median(r) {
				t.Errorf("bayesopt's median regret %.4g is not below %g × random search's %.4g", algorithmtest.Median(b), tt.ratio, algorithmtest.Median(r))
			}
			if worst := slices.Max(b); worst >= algorithmtest.Median(r) {
				t.Errorf("bayesopt's worst regret %.4g is not below random search's median %.4g", worst, algorithmtest.Median(r))
			}
		})
	}
}
