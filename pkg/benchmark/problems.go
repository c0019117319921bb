// Package benchmark measures how well search algorithms do their job:
// simple regret on standard test functions over many seeds, and the cost of
// a call as the history grows. It drives an algorithm the way the controller
// does — a request with every trial so far and the state the algorithm
// returned last — through the same Service the functions serve, in process.
package benchmark

import (
	"fmt"
	"math"
	"strconv"

	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Problem is a test function over a search space.
type Problem struct {
	Name string
	// Params is the search space, as an experiment states it.
	Params []*pb.ParameterSpec
	// Eval returns the loss of an assignment (name → value as sent); nil
	// when Measure is set.
	Eval func(values map[string]string) float64
	// Measure, for a problem with several objectives or with constraints,
	// returns the outcome of an assignment.
	Measure func(values map[string]string) Outcome
	// Objectives and Constraints are how many of each Measure returns.
	Objectives, Constraints int
	// Reference is the point the hypervolume of a front of two objectives
	// is measured against.
	Reference []float64
	// Optimum is the smallest loss attainable (with constraints, by a
	// feasible point), for regret. With two objectives it is minus the
	// hypervolume of the true Pareto front, so that the regret of a run is
	// the gap between that and its feasible front's (see Progress).
	Optimum float64
	// Budget names the parameter that carries a trial's budget, for
	// multi-fidelity algorithms; "" when the problem has none.
	Budget string
	// MaxBudget is the largest budget, where Eval is exact.
	MaxBudget float64
}

func double(name, min, max string) *pb.ParameterSpec {
	return &pb.ParameterSpec{Name: name, ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: min, Max: max}}
}

func num(values map[string]string, name string) float64 {
	x, err := strconv.ParseFloat(values[name], 64)
	if err != nil {
		panic(fmt.Sprintf("parameter %s: %q is not a number", name, values[name]))
	}
	return x
}

// BraninAt is the Branin function, whose minimum is 0.397887 at
// (-π, 12.275), (π, 2.275) and (9.42478, 2.475).
func BraninAt(x1, x2 float64) float64 {
	const (
		a = 1.0
		b = 5.1 / (4 * math.Pi * math.Pi)
		c = 5 / math.Pi
		r = 6.0
		s = 10.0
		t = 1 / (8 * math.Pi)
	)
	return a*math.Pow(x2-b*x1*x1+c*x1-r, 2) + s*(1-t)*math.Cos(x1) + s
}

// Branin is the 2-D Branin–Hoo function on [-5, 10] × [0, 15]; its three
// minima are 0.397887.
func Branin() Problem {
	return Problem{
		Name:    "branin-2d",
		Params:  []*pb.ParameterSpec{double("x1", "-5", "10"), double("x2", "0", "15")},
		Eval:    func(v map[string]string) float64 { return BraninAt(num(v, "x1"), num(v, "x2")) },
		Optimum: 0.397887357729739,
	}
}

var hartmann3A = [][]float64{{3, 10, 30}, {0.1, 10, 35}, {3, 10, 30}, {0.1, 10, 35}}
var hartmann3P = [][]float64{
	{0.3689, 0.1170, 0.2673}, {0.4699, 0.4387, 0.7470}, {0.1091, 0.8732, 0.5547}, {0.0381, 0.5743, 0.8828},
}
var hartmann6A = [][]float64{
	{10, 3, 17, 3.5, 1.7, 8}, {0.05, 10, 17, 0.1, 8, 14}, {3, 3.5, 1.7, 10, 17, 8}, {17, 8, 0.05, 10, 0.1, 14},
}
var hartmann6P = [][]float64{
	{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886}, {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
	{0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650}, {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381},
}
var hartmannAlpha = [4]float64{1.0, 1.2, 3.0, 3.2}

// hartmann builds the Hartmann function of len(p[0]) dimensions on [0, 1]^d
// from its matrices.
func hartmann(name string, a, p [][]float64, optimum float64) Problem {
	var names []string
	var params []*pb.ParameterSpec
	for j := range p[0] {
		names = append(names, fmt.Sprintf("x%d", j+1))
		params = append(params, double(names[j], "0", "1"))
	}
	return Problem{
		Name:   name,
		Params: params,
		Eval: func(v map[string]string) float64 {
			var sum float64
			for i := range a {
				var e float64
				for j, n := range names {
					d := num(v, n) - p[i][j]
					e += a[i][j] * d * d
				}
				sum += hartmannAlpha[i] * math.Exp(-e)
			}
			return -sum
		},
		Optimum: optimum,
	}
}

// Hartmann3 is the 3-D Hartmann function on [0, 1]^3; its minimum is
// -3.86278.
func Hartmann3() Problem {
	return hartmann("hartmann-3d", hartmann3A, hartmann3P, -3.86278214782076)
}

// Hartmann6 is the 6-D Hartmann function on [0, 1]^6; its minimum is
// -3.32237.
func Hartmann6() Problem {
	return hartmann("hartmann-6d", hartmann6A, hartmann6P, -3.32236801141551)
}

// Rosenbrock4 is the 4-D Rosenbrock function on [-2, 2]^4; its minimum is 0.
func Rosenbrock4() Problem {
	names := []string{"x1", "x2", "x3", "x4"}
	var params []*pb.ParameterSpec
	for _, n := range names {
		params = append(params, double(n, "-2", "2"))
	}
	return Problem{
		Name:   "rosenbrock-4d",
		Params: params,
		Eval: func(v map[string]string) float64 {
			var sum float64
			for i := 0; i+1 < len(names); i++ {
				a, b := num(v, names[i]), num(v, names[i+1])
				sum += 100*(b-a*a)*(b-a*a) + (1-a)*(1-a)
			}
			return sum
		},
	}
}

// MixedNet is a small mixed space shaped like a training run: a log-scaled
// learning rate, an int layer count, a categorical optimiser and a discrete
// batch size, with an interaction between them. Its minimum is 0.
func MixedNet() Problem {
	return Problem{
		Name: "mixed-net",
		Params: []*pb.ParameterSpec{
			{Name: "lr", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: "0.00001", Max: "1", Distribution: pb.Distribution_LOG_UNIFORM}},
			{Name: "layers", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "1", Max: "8"}},
			{Name: "optimizer", ParameterType: pb.ParameterType_CATEGORICAL, FeasibleSpace: &pb.FeasibleSpace{List: []string{"sgd", "adam", "rmsprop"}}},
			{Name: "batch", ParameterType: pb.ParameterType_DISCRETE, FeasibleSpace: &pb.FeasibleSpace{List: []string{"16", "32", "64", "128", "256"}}},
		},
		Eval: func(v map[string]string) float64 {
			best := map[string]float64{"sgd": -1.5, "adam": -3, "rmsprop": -2.5}
			penalty := map[string]float64{"sgd": 0.3, "adam": 0, "rmsprop": 0.1}
			lr := math.Log10(num(v, "lr"))
			layers := num(v, "layers")
			batch := math.Log2(num(v, "batch"))
			return (lr-best[v["optimizer"]])*(lr-best[v["optimizer"]]) +
				0.05*(layers-4)*(layers-4) + 0.1*(batch-6)*(batch-6) + penalty[v["optimizer"]]
		},
	}
}

// BraninFidelity is Branin with a budget parameter "epochs" in [1, 27]: a
// trial run on a smaller budget sees the function with an error that shrinks
// as the budget grows, as a training run stopped early does, and is exact at
// 27.
func BraninFidelity() Problem {
	p := Branin()
	p.Name = "branin-fidelity"
	p.Params = append(p.Params, &pb.ParameterSpec{Name: "epochs", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "1", Max: "27"}})
	p.Budget, p.MaxBudget = "epochs", 27
	exact := p.Eval
	p.Eval = func(v map[string]string) float64 {
		x1, x2 := num(v, "x1"), num(v, "x2")
		r := num(v, "epochs")
		// A bias that depends on the point, so that early ranks can be
		// wrong, and vanishes at the largest budget.
		bias := 20 * math.Sin(x1*1.7+x2*0.3) * (1/r - 1/27.0)
		return exact(v) + bias
	}
	return p
}

// box builds a d-dimensional problem on [lo, hi]^d from f.
func box(name string, d int, lo, hi string, optimum float64, f func(x []float64) float64) Problem {
	params, at := coordinates(d, lo, hi)
	return Problem{
		Name:    name,
		Params:  params,
		Eval:    func(v map[string]string) float64 { return f(at(v)) },
		Optimum: optimum,
	}
}

// coordinates are the parameters x1 … xd of the box [lo, hi]^d, and the
// reader of a point of it from an assignment.
func coordinates(d int, lo, hi string) ([]*pb.ParameterSpec, func(map[string]string) []float64) {
	var names []string
	var params []*pb.ParameterSpec
	for j := 0; j < d; j++ {
		names = append(names, fmt.Sprintf("x%d", j+1))
		params = append(params, double(names[j], lo, hi))
	}
	return params, func(v map[string]string) []float64 {
		x := make([]float64, d)
		for j, n := range names {
			x[j] = num(v, n)
		}
		return x
	}
}

// Ackley5 is the 5-D Ackley function on [-15, 30]^5; its minimum is 0, at 0.
// The usual box, [-32.768, 32.768]^5, centres the optimum, which a sequence
// that starts at the centre (unscrambled Sobol') would find first by
// construction; this box moves the centre off it.
func Ackley5() Problem {
	return box("ackley-5d", 5, "-15", "30", 0, ackley)
}

// StyblinskiTang5 is the 5-D Styblinski–Tang function on [-5, 5]^5; its
// minimum is -39.16617 per dimension, at -2.903534 in each.
func StyblinskiTang5() Problem {
	return box("styblinski-tang-5d", 5, "-5", "5", -39.16616570377142*5, func(x []float64) float64 {
		var s float64
		for _, xi := range x {
			s += xi*xi*xi*xi - 16*xi*xi + 5*xi
		}
		return s / 2
	})
}

// Levy4 is the 4-D Levy function on [-10, 10]^4; its minimum is 0, at 1.
func Levy4() Problem {
	return box("levy-4d", 4, "-10", "10", 0, func(x []float64) float64 {
		w := make([]float64, len(x))
		for i, xi := range x {
			w[i] = 1 + (xi-1)/4
		}
		d := len(w) - 1
		s := math.Pow(math.Sin(math.Pi*w[0]), 2)
		for i := 0; i < d; i++ {
			s += (w[i] - 1) * (w[i] - 1) * (1 + 10*math.Pow(math.Sin(math.Pi*w[i]+1), 2))
		}
		return s + (w[d]-1)*(w[d]-1)*(1+math.Pow(math.Sin(2*math.Pi*w[d]), 2))
	})
}

// Rastrigin5 is the 5-D Rastrigin function on [-4, 6]^5: a bowl covered in
// local minima, one at every integer point; the global minimum is 0, at 0.
// The box is shifted so that its centre, 1, is only a local minimum.
func Rastrigin5() Problem {
	return box("rastrigin-5d", 5, "-4", "6", 0, func(x []float64) float64 {
		s := 10 * float64(len(x))
		for _, xi := range x {
			s += xi*xi - 10*math.Cos(2*math.Pi*xi)
		}
		return s
	})
}

// ackley is the Ackley function in any number of dimensions.
func ackley(x []float64) float64 {
	var sq, cs float64
	for _, xi := range x {
		sq += xi * xi
		cs += math.Cos(2 * math.Pi * xi)
	}
	n := float64(len(x))
	return -20*math.Exp(-0.2*math.Sqrt(sq/n)) - math.Exp(cs/n) + 20 + math.E
}

// Ackley20 is the 20-D Ackley function on [-5, 10]^20, the box of
// high-dimensional benchmarks such as TuRBO's; its minimum is 0, at 0.
func Ackley20() Problem {
	return box("ackley-20d", 20, "-5", "10", 0, ackley)
}

// Problems lists the standard problems, in the order tables show them.
func Problems() []Problem {
	return []Problem{Branin(), Hartmann6(), Rosenbrock4(), Ackley5(), StyblinskiTang5(), Levy4(), Rastrigin5(), Ackley20(), MixedNet()}
}
