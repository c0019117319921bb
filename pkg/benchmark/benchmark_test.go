package benchmark

import (
	"context"
	"math"
	"strconv"
	"strings"
	"testing"

	"knobs.dev/knobs/pkg/algorithm/grid"
	"knobs.dev/knobs/pkg/algorithm/random"
)

func values(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// zeros is the origin of a d-dimensional box problem.
func zeros(d int) map[string]string {
	m := map[string]string{}
	for j := 1; j <= d; j++ {
		m["x"+strconv.Itoa(j)] = "0"
	}
	return m
}

func f(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// Each problem reaches its stated optimum at its known minimiser.
func TestOptima(t *testing.T) {
	cases := []struct {
		p   Problem
		at  map[string]string
		tol float64
	}{
		{Branin(), values("x1", f(math.Pi), "x2", "2.275"), 1e-6},
		{Branin(), values("x1", f(-math.Pi), "x2", "12.275"), 1e-6},
		{Hartmann3(), values("x1", "0.114614", "x2", "0.555649", "x3", "0.852547"), 1e-5},
		{Hartmann6(), values("x1", "0.20169", "x2", "0.150011", "x3", "0.476874", "x4", "0.275332", "x5", "0.311652", "x6", "0.6573"), 1e-5},
		{Rosenbrock4(), values("x1", "1", "x2", "1", "x3", "1", "x4", "1"), 0},
		{MixedNet(), values("lr", "0.001", "layers", "4", "optimizer", "adam", "batch", "64"), 1e-12},
		{Ackley5(), values("x1", "0", "x2", "0", "x3", "0", "x4", "0", "x5", "0"), 1e-12},
		{StyblinskiTang5(), values("x1", "-2.903534", "x2", "-2.903534", "x3", "-2.903534", "x4", "-2.903534", "x5", "-2.903534"), 1e-6},
		{Levy4(), values("x1", "1", "x2", "1", "x3", "1", "x4", "1"), 1e-12},
		{Rastrigin5(), values("x1", "0", "x2", "0", "x3", "0", "x4", "0", "x5", "0"), 1e-12},
		{Ackley20(), zeros(20), 1e-12},
	}
	for _, c := range cases {
		if got := c.p.Eval(c.at); math.Abs(got-c.p.Optimum) > c.tol {
			t.Errorf("%s at %v = %v, want the optimum %v", c.p.Name, c.at, got, c.p.Optimum)
		}
	}
	bf := BraninFidelity()
	at := values("x1", f(math.Pi), "x2", "2.275", "epochs", "27")
	exact := Branin().Eval(at)
	if got := bf.Eval(at); math.Abs(got-exact) > 1e-12 {
		t.Errorf("at the largest budget the error is %v, want none", got-exact)
	}
	at["epochs"] = "1"
	if got := bf.Eval(at); got == exact {
		t.Errorf("at budget 1 the function is exact; want an error that shrinks with the budget")
	}
}

// A run carries the history like the controller and records a best that
// never gets worse.
func TestRunOne(t *testing.T) {
	run, err := RunOne(context.Background(), Contender{Name: "random", Algorithm: random.Random{}}, Branin(), 7, Options{Evaluations: 20, Batch: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Best) != 21 { // 7 calls of 3
		t.Fatalf("%d evaluations, want 21 (7 calls of 3)", len(run.Best))
	}
	if len(run.Calls) != 7 || run.Calls[6].History != 18 {
		t.Fatalf("calls %+v: want 7, the last carrying 18 trials", run.Calls)
	}
	for i := 1; i < len(run.Best); i++ {
		if run.Best[i] > run.Best[i-1] {
			t.Fatalf("best got worse at %d: %v", i, run.Best)
		}
	}
	again, _ := RunOne(context.Background(), Contender{Name: "random", Algorithm: random.Random{}}, Branin(), 7, Options{Evaluations: 20, Batch: 3})
	if again.Best[20] != run.Best[20] {
		t.Errorf("the same seed gave %v then %v", run.Best[20], again.Best[20])
	}
}

// A finite space ends a run when it is used up, and the tables print.
func TestCompareAndReport(t *testing.T) {
	full := MixedNet()
	p := Problem{
		Name:   "mixed-net",
		Params: full.Params[1:3], // layers × optimizer: 24 points
		Eval: func(v map[string]string) float64 {
			v["lr"], v["batch"] = "0.001", "64"
			return full.Eval(v)
		},
	}
	sums := Compare(context.Background(), []Contender{{Name: "grid", Algorithm: grid.Grid{}}, {Name: "random", Algorithm: random.Random{}}},
		[]Problem{p}, 2, []int{10, 50}, Options{Evaluations: 50, Batch: 5})
	if len(sums) != 2 {
		t.Fatalf("%d summaries, want 2", len(sums))
	}
	for _, s := range sums {
		if s.Err != nil {
			t.Fatal(s.Err)
		}
		if got := len(s.Curves[0]); got != 24 {
			t.Errorf("%s evaluated %d points of a 24-point space, want all 24 and then stop", s.Contender, got)
		}
	}
	var b strings.Builder
	if err := WriteRegret(&b, sums, 2); err != nil {
		t.Fatal(err)
	}
	if err := WriteCost(&b, sums, "in process"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"mixed-net", "regret@10", "grid", "random", "trials 0-9"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	var svg strings.Builder
	if err := RegretPlot("mixed-net", map[string][]float64{"grid": sums[0].MedianCurve(), "random": sums[1].MedianCurve()}).WriteSVG(&svg); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(svg.String(), "<svg") || strings.Count(svg.String(), "<polyline") != 2 {
		t.Errorf("SVG without two curves:\n%s", svg.String())
	}
}
