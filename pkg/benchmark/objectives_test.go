package benchmark

import (
	"context"
	"math"
	"strconv"
	"strings"
	"testing"

	"knobs.dev/knobs/pkg/algorithm/random"
	"knobs.dev/knobs/pkg/pareto"
)

// point is an assignment of x1 … xd.
func point(x ...float64) map[string]string {
	m := map[string]string{}
	for j, v := range x {
		m["x"+f(float64(j+1))] = f(v)
	}
	return m
}

// Each problem gives its known values at known points, feasible or not.
func TestOutcomes(t *testing.T) {
	s := math.Sqrt(0.5)
	cases := []struct {
		p          Problem
		at         map[string]string
		objectives []float64
		feasible   bool
	}{
		{ZDT1(), point(0.25, 0, 0, 0, 0, 0), []float64{0.25, 0.5}, true},
		{ZDT1(), point(1, 1, 1, 1, 1, 1), []float64{1, 10 - math.Sqrt(10)}, true},
		{ZDT2(), point(0.25, 0, 0, 0, 0, 0), []float64{0.25, 0.9375}, true},
		{DTLZ2(), point(0.5, 0.5, 0.5, 0.5, 0.5, 0.5), []float64{s, s}, true},
		{DTLZ2(), point(0, 0, 0.5, 0.5, 0.5, 0.5), []float64{1.25, 0}, true},
		{SRN(), point(0, 0), []float64{7, -1}, false},          // x1 − 3·x2 + 10 = 10 > 0
		{SRN(), point(-2.5, 5), []float64{38.25, -38.5}, true}, // on the front
		{SRN(), point(-15, 10), []float64{372, -216}, false},   // outside the disc
		{BraninDisc(), values("x1", f(math.Pi), "x2", "2.275"), []float64{Branin().Optimum}, true},
		{BraninDisc(), values("x1", f(-math.Pi), "x2", "12.275"), []float64{Branin().Optimum}, false},
		{Gramacy(), point(0.1952, 0.4047), []float64{0.5999}, true},
		{Gramacy(), point(0.1, 0.1), []float64{0.2}, false},
	}
	for _, c := range cases {
		o := c.p.Measure(c.at)
		if len(o.Objectives) != c.p.objectives() || len(o.Constraints) != c.p.Constraints {
			t.Fatalf("%s: %d objectives and %d constraints, want %d and %d", c.p.Name, len(o.Objectives), len(o.Constraints), c.p.objectives(), c.p.Constraints)
		}
		for k, want := range c.objectives {
			if math.Abs(o.Objectives[k]-want) > 1e-6 {
				t.Errorf("%s at %v: objective %d = %v, want %v", c.p.Name, c.at, k+1, o.Objectives[k], want)
			}
		}
		if got := o.Point().Feasible(); got != c.feasible {
			t.Errorf("%s at %v: feasible %v (constraints %v), want %v", c.p.Name, c.at, got, o.Constraints, c.feasible)
		}
	}
}

// front samples a problem's true Pareto front: the outcomes of n points
// of its Pareto set, x1 from 0 to 1 and the rest at rest.
func front(p Problem, n int, rest float64) []Outcome {
	var out []Outcome
	for i := 0; i <= n; i++ {
		x := []float64{float64(i) / float64(n)}
		for len(x) < len(p.Params) {
			x = append(x, rest)
		}
		out = append(out, p.Measure(point(x...)))
	}
	return out
}

// gap is the hypervolume gap of a run that saw the outcomes.
func gap(p Problem, outs []Outcome) float64 {
	g := NewProgress(p)
	score := math.Inf(1)
	for _, o := range outs {
		score = g.Add(o)
	}
	return score - p.Optimum
}

// The stated true hypervolumes are those of dense samples of the fronts:
// a run that sees the true front has a gap of about 0, and one that sees
// a front off it (x2 … x6 off the Pareto set) a clearly positive one.
func TestTrueFrontGap(t *testing.T) {
	for _, c := range []struct {
		p          Problem
		rest, away float64
	}{{ZDT1(), 0, 0.1}, {ZDT2(), 0, 0.1}, {DTLZ2(), 0.5, 0.7}} {
		if g := gap(c.p, front(c.p, 2000, c.rest)); math.Abs(g) > 1e-3 {
			t.Errorf("%s: the true front's gap is %v, want about 0", c.p.Name, g)
		}
		if g := gap(c.p, front(c.p, 2000, c.away)); !(g > 0.05) {
			t.Errorf("%s: a dominated front's gap is %v, want it clearly positive", c.p.Name, g)
		}
	}
}

// SRN's true hypervolume is that of its front found on the three curves
// that bound it, and a grid over the whole box finds no better front.
func TestSRNHypervolume(t *testing.T) {
	p := SRN()
	var pts []pareto.Point
	add := func(x1, x2 float64) { pts = append(pts, p.Measure(point(x1, x2)).Point()) }
	const n = 100000
	for i := 0; i <= n; i++ {
		u := float64(i) / n
		a := 2 * math.Pi * u
		add(15*math.Cos(a), 15*math.Sin(a)) // the disc's edge
		x2 := -20 + 40*u
		add(3*x2-10, x2) // the line x1 − 3·x2 + 10 = 0
		add(-2.5, x2)    // where f2 falls fastest for f1
	}
	curves := FeasibleHypervolume(pts, p.Reference)
	if curves > -p.Optimum || curves < -p.Optimum-1 {
		t.Errorf("hypervolume on the curves %v, want a little under the stated %v", curves, -p.Optimum)
	}
	pts = pts[:0]
	for i := 0; i <= 400; i++ {
		for j := 0; j <= 400; j++ {
			add(-20+0.1*float64(i), -20+0.1*float64(j))
		}
	}
	grid := FeasibleHypervolume(pts, p.Reference)
	if grid > -p.Optimum || grid < -p.Optimum*0.995 {
		t.Errorf("hypervolume on a grid %v, want a little under the stated %v", grid, -p.Optimum)
	}
}

// The stated feasible minima are at least as good as a grid's, and close.
func TestConstrainedOptima(t *testing.T) {
	for _, p := range []Problem{BraninDisc(), Gramacy()} {
		var lo, hi []float64
		for _, ps := range p.Params {
			l, err1 := strconv.ParseFloat(ps.GetFeasibleSpace().GetMin(), 64)
			h, err2 := strconv.ParseFloat(ps.GetFeasibleSpace().GetMax(), 64)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			lo, hi = append(lo, l), append(hi, h)
		}
		best := math.Inf(1)
		const n = 600
		for i := 0; i <= n; i++ {
			for j := 0; j <= n; j++ {
				x1 := lo[0] + (hi[0]-lo[0])*float64(i)/n
				x2 := lo[1] + (hi[1]-lo[1])*float64(j)/n
				if o := p.Measure(values("x1", f(x1), "x2", f(x2))); o.Point().Feasible() {
					best = math.Min(best, o.Objectives[0])
				}
			}
		}
		if best < p.Optimum-1e-9 || best > p.Optimum+0.01 {
			t.Errorf("%s: a grid's feasible minimum %v, stated %v", p.Name, best, p.Optimum)
		}
	}
}

// Only feasible trials count: with one objective the regret is infinite
// until one is feasible; with two, an infeasible point adds no
// hypervolume however good its objectives.
func TestProgressFeasibleOnly(t *testing.T) {
	g := NewProgress(Gramacy())
	if s := g.Add(Outcome{Objectives: []float64{0.1}, Constraints: []float64{1, -1}}); !math.IsInf(s, 1) {
		t.Errorf("after an infeasible trial the score is %v, want +Inf", s)
	}
	if s := g.Add(Outcome{Objectives: []float64{0.9}, Constraints: []float64{0, -1}}); s != 0.9 {
		t.Errorf("after a feasible trial of 0.9 the score is %v", s)
	}
	if s := g.Add(Outcome{Objectives: []float64{0.7}, Constraints: []float64{-1, 0.1}}); s != 0.9 {
		t.Errorf("an infeasible 0.7 moved the score to %v", s)
	}
	m := NewProgress(SRN())
	if s := m.Add(Outcome{Objectives: []float64{10, -300}, Constraints: []float64{1, -1}}); s != 0 {
		t.Errorf("an infeasible point covers %v, want 0", -s)
	}
	if s := m.Add(Outcome{Objectives: []float64{200, 100}, Constraints: []float64{-1, -1}}); math.Abs(s+100*50) > 1e-9 {
		t.Errorf("one feasible point at (200, 100) covers %v, want 100·50 up to (300, 150)", -s)
	}
}

// A Knobs algorithm runs on a problem of two objectives and two
// constraints as on any other: one score an evaluation, never worse, and
// a report of hypervolume gaps.
func TestRunSeveralObjectives(t *testing.T) {
	c := Contender{Name: "random", Algorithm: random.Random{}}
	run, err := RunOne(context.Background(), c, SRN(), 1, Options{Evaluations: 20, Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	checkRun(t, "random on srn-2d", run, 20)
	sums := Compare(context.Background(), []Contender{c}, []Problem{SRN(), Gramacy()}, 2, []int{1, 20}, Options{Evaluations: 20, Batch: 1})
	// Two seeds without a feasible trial by the first checkpoint.
	sums = append(sums, Summary{Contender: "c", Problem: "p", Measure: "regret", Constrained: true, Checkpoints: []int{5},
		Regret: [][]float64{{math.Inf(1), 0.5, math.Inf(1)}}})
	var out strings.Builder
	if err := WriteRegret(&out, sums, 2); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"hv-gap@20", "regret@20", "(2 none)", "hypervolume of the true Pareto front"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report without %q:\n%s", want, out.String())
		}
	}
}
