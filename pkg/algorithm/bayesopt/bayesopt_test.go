package bayesopt_test

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/algorithmtest"
	"knobs.dev/knobs/pkg/algorithm/bayesopt"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// katib is the search space of Katib's Bayesian optimisation example.
func katib() []*pb.ParameterSpec {
	return []*pb.ParameterSpec{
		double("--lr", "0.01", "0.03"),
		integer("--num-layers", "2", "5"),
		categorical("--optimizer", "sgd", "adam", "ftrl"),
	}
}

// mixed has a parameter of every kind.
func mixed() []*pb.ParameterSpec {
	return []*pb.ParameterSpec{
		param("lr", pb.ParameterType_DOUBLE, "1e-5", "1", "", pb.Distribution_LOG_UNIFORM),
		integer("layers", "1", "6"),
		categorical("optimizer", "sgd", "adam", "rmsprop", "ftrl"),
		discrete("batch", "256", "32", "64", "128"),
		param("dropout", pb.ParameterType_DOUBLE, "0", "0.5", "0.05", 0),
		param("width", pb.ParameterType_INT, "8", "1024", "", pb.Distribution_LOG_UNIFORM),
		param("wd", pb.ParameterType_DOUBLE, "1e-6", "1e-2", "", pb.Distribution_LOG_NORMAL),
		param("fixed", pb.ParameterType_DOUBLE, "0.5", "0.5", "", 0),
	}
}

// mixedLoss has its optimum at lr 1e-3, 3 layers, adam, batch 64, dropout
// 0.1, width 128 and wd 1e-4.
func mixedLoss(s *searchspace.Space, pt searchspace.Point) float64 {
	lr, wd := math.Log10(pt[0]), math.Log10(pt[6])
	batch := s.Params[3].Numeric(pt[3])
	opt := []float64{1, 0, 0.3, 0.6}[int(pt[2])]
	return (lr+3)*(lr+3) + 0.2*(pt[1]-3)*(pt[1]-3) + opt + 0.3*math.Abs(math.Log2(batch)-6) +
		4*(pt[4]-0.1)*(pt[4]-0.1) + 0.2*math.Abs(math.Log2(pt[5])-7) + 0.1*(wd+4)*(wd+4)
}

// quadratic is a bowl over the space's unit cube, centred off the middle.
func quadratic(s *searchspace.Space, pt searchspace.Point) float64 {
	u := s.ToUnit(pt)
	sum := 0.0
	for i, x := range u {
		c := 0.3 + 0.1*float64(i%4)
		sum += (x - c) * (x - c)
	}
	return sum
}

// history is n completed trials of f at points drawn by a fresh bayesopt
// experiment's design (Latin hypercube), plus the given pending ones.
func history(t testing.TB, specs []*pb.ParameterSpec, f func(*searchspace.Space, searchspace.Point) float64, n int) []trial {
	t.Helper()
	p := problem(t, bo, specs, "random_state", "99", "n_initial_points", strconv.Itoa(n))
	out := suggest(t, bo, p, nil, n)
	hist := make([]trial, n)
	for i, pt := range out.Points {
		hist[i] = done(pt, f(p.Space, pt))
	}
	return hist
}

func TestSettingsAndValidate(t *testing.T) {
	tests := []struct {
		name     string
		specs    []*pb.ParameterSpec
		settings []string
		noMetric bool
		// wantErr is a substring of the error; "" for none.
		wantErr string
	}{
		{"defaults", katib(), nil, false, ""},
		{"every setting", katib(), []string{"acq_func", "gp_hedge", "kappa", "2.5", "xi", "0.1", "n_initial_points", "3",
			"base_estimator", "GP", "acq_optimizer", "sampling", "random_state", "4"}, false, ""},
		{"ei", katib(), []string{"acq_func", "ei", "xi", "0"}, false, ""},
		{"pi", katib(), []string{"acq_func", "pi"}, false, ""},
		{"ucb", katib(), []string{"acq_func", "ucb", "kappa", "0"}, false, ""},
		{"scikit-optimize names", katib(), []string{"acq_func", "LCB", "kappa", "3"}, false, ""},
		{"no initial design", katib(), []string{"n_initial_points", "0"}, false, ""},
		{"unknown acq_func", katib(), []string{"acq_func", "thompson"}, false, `"thompson" is not one of gp_hedge, ei, pi, ucb`},
		{"n_initial_points below 0", katib(), []string{"n_initial_points", "-1"}, false, `"-1" is not an integer from 0 to 10000`},
		{"n_initial_points not a number", katib(), []string{"n_initial_points", "ten"}, false, "n_initial_points"},
		{"kappa below 0", katib(), []string{"kappa", "-1"}, false, `"-1" is not a number from 0 to 1000`},
		{"xi not a number", katib(), []string{"xi", "x"}, false, `"x" is not a number`},
		{"unknown setting", katib(), []string{"n_calls", "10"}, false, `unknown setting "n_calls"`},
		{"other estimator", katib(), []string{"base_estimator", "RF"}, false, `"RF" is not one of GP`},
		{"kappa without ucb", katib(), []string{"acq_func", "ei", "kappa", "3"}, false, "remove kappa, or set acq_func to ucb or gp_hedge"},
		{"xi with ucb", katib(), []string{"acq_func", "ucb", "xi", "0.1"}, false, "remove xi, or set acq_func to ei, pi or gp_hedge"},
		{"no objective metric", katib(), nil, true, "objectiveMetricName: missing"},
		{"too many categories", []*pb.ParameterSpec{categorical("c", manyCategories(65)...)}, nil, false, "65 categories"},
		{"64 categories", []*pb.ParameterSpec{categorical("c", manyCategories(64)...)}, nil, false, ""},
		{"too many dimensions", []*pb.ParameterSpec{categorical("a", manyCategories(64)...), categorical("b", manyCategories(64)...),
			categorical("c", manyCategories(64)...), categorical("d", manyCategories(64)...), double("x", "0", "1")}, nil, false, "257 model dimensions"},
		{"hedge state", katib(), []string{"hedge_state", "gains=0,-1,2"}, false, ""},
		{"hedge state with proposals", []*pb.ParameterSpec{double("x", "0", "1")}, []string{"hedge_state", "gains=0,-1,2;ei=0.5;pi=0.25;ucb=1"}, false, ""},
		{"hedge state of the wrong size", []*pb.ParameterSpec{double("x", "0", "1")}, []string{"hedge_state", "gains=0,-1,2;ei=0.5,1;pi=0.25;ucb=1"},
			false, "hedge_state: ei: 2 numbers, want 1"},
		{"hedge state garbled", katib(), []string{"hedge_state", "gains=a,b,c"}, false, "remove it to start the hedge afresh"},
		{"hedge state unused without gp_hedge", katib(), []string{"acq_func", "ei", "hedge_state", "garbled"}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp := experiment(tt.specs, tt.settings...)
			if tt.noMetric {
				exp.ExperimentSpec.Objective.ObjectiveMetricName = ""
			}
			_, err := algorithm.NewProblem(bo, exp)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("NewProblem = %v, want no error", err)
			case tt.wantErr != "" && err == nil:
				t.Errorf("NewProblem succeeded, want an error containing %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("NewProblem = %v, want an error containing %q", err, tt.wantErr)
			case err != nil && !algorithm.IsInvalidArgument(err):
				t.Errorf("NewProblem = %v, which is not marked the caller's to fix", err)
			}
		})
	}
}

func manyCategories(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "c" + strconv.Itoa(i)
	}
	return out
}

// TestDeterminism checks that a request reproduces, in the initial design and
// once the model takes over, for every acquisition, and that the seed and the
// history change the answer.
func TestDeterminism(t *testing.T) {
	specs := mixed()
	hist := history(t, specs, mixedLoss, 12)
	for _, acq := range []string{"gp_hedge", "ei", "pi", "ucb"} {
		t.Run(acq, func(t *testing.T) {
			for _, h := range [][]trial{nil, hist[:5], hist} {
				p := problem(t, bo, specs, "random_state", "5", "acq_func", acq)
				a := suggest(t, bo, p, h, 3)
				b := suggest(t, bo, problem(t, bo, specs, "random_state", "5", "acq_func", acq), h, 3)
				if !slices.Equal(keys(p.Space, a.Points), keys(p.Space, b.Points)) {
					t.Errorf("%d trials: the same request gave %q then %q", len(h), keys(p.Space, a.Points), keys(p.Space, b.Points))
				}
				if !slices.EqualFunc(a.State, b.State, func(x, y *pb.AlgorithmSetting) bool {
					return x.GetName() == y.GetName() && x.GetValue() == y.GetValue()
				}) {
					t.Errorf("%d trials: the same request wrote back %v then %v", len(h), a.State, b.State)
				}
				c := suggest(t, bo, problem(t, bo, specs, "random_state", "6", "acq_func", acq), h, 3)
				if slices.Equal(keys(p.Space, a.Points), keys(p.Space, c.Points)) {
					t.Errorf("%d trials: random_state 5 and 6 gave the same points %q", len(h), keys(p.Space, a.Points))
				}
			}
		})
	}
	// Without random_state, the experiment's name seeds.
	a := suggest(t, bo, problem(t, bo, specs), hist, 2)
	b := suggest(t, bo, problem(t, bo, specs), hist, 2)
	s := problem(t, bo, specs).Space
	if !slices.Equal(keys(s, a.Points), keys(s, b.Points)) {
		t.Errorf("the same unseeded request gave %q then %q", keys(s, a.Points), keys(s, b.Points))
	}
}

// TestBatch asks for five points with three trials pending: all five must be
// new and distinct (suggest checks), and the batch must spread rather than
// crowd around one optimum of the acquisition.
func TestBatch(t *testing.T) {
	tests := []struct {
		name  string
		specs []*pb.ParameterSpec
		f     func(*searchspace.Space, searchspace.Point) float64
		// No two points of the batch, nor a batch point and a pending one,
		// may lie closer than this in the unit cube. (With noisy fantasies,
		// they were 1e-16 apart.) Katib's space has one continuous parameter,
		// along which a confident model packs the batch around the optimum.
		apart float64
	}{
		{"branin", braninSpace(), branin, 1e-3},
		{"mixed", mixed(), mixedLoss, 1e-3},
		{"katib", katib(), quadratic, 1e-4},
	}
	for _, tt := range tests {
		for _, acq := range []string{"gp_hedge", "ei", "pi", "ucb"} {
			t.Run(tt.name+"/"+acq, func(t *testing.T) {
				hist := history(t, tt.specs, tt.f, 15)
				p := problem(t, bo, tt.specs, "random_state", "3", "acq_func", acq, "n_initial_points", "5")
				// Three pending trials: the model's own picks, where the
				// batch would go again were they not taken into account.
				near := suggest(t, bo, p, hist, 3)
				for _, pt := range near.Points {
					hist = append(hist, pending(pt))
				}
				out := suggest(t, bo, p, hist, 5)
				if len(out.Points) != 5 {
					t.Fatalf("%d points, want 5", len(out.Points))
				}
				all := append(slices.Clone(out.Points), near.Points...)
				closest := math.Inf(1)
				defer func() { t.Logf("closest pair %.3g apart", closest) }()
				for i := range all {
					for j := range i {
						d := unitDist(p.Space, all[i], all[j])
						closest = math.Min(closest, d)
						if d < tt.apart {
							t.Errorf("%v and %v are %.2g apart in the unit cube", p.Space.Format(all[i]), p.Space.Format(all[j]), d)
						}
					}
				}
			})
		}
	}
}

func unitDist(s *searchspace.Space, a, b searchspace.Point) float64 {
	ua, ub := s.ToUnit(a), s.ToUnit(b)
	sum := 0.0
	for i := range ua {
		if s.Params[i].Type == searchspace.Categorical && a[i] != b[i] {
			sum++
			continue
		}
		sum += (ua[i] - ub[i]) * (ua[i] - ub[i])
	}
	return math.Sqrt(sum)
}

// TestMixedSpace runs a sequential experiment over a parameter of every kind:
// every point stays in the space (suggest checks), ints are integers, and the
// model gets close to the optimum.
func TestMixedSpace(t *testing.T) {
	hist := optimise(t, bo, mixed(), []string{"random_state", "2"}, mixedLoss, 40, 2)
	if len(hist) != 40 {
		t.Fatalf("%d trials, want 40", len(hist))
	}
	for _, h := range hist {
		if h.Point[1] != math.Round(h.Point[1]) || h.Point[5] != math.Round(h.Point[5]) {
			t.Errorf("int parameters at %v", h.Point)
		}
		if h.Point[7] != 0.5 {
			t.Errorf("the fixed parameter is %v, want 0.5", h.Point[7])
		}
	}
	design, rest := bestLoss(hist[:10]), bestLoss(hist[10:])
	if rest >= design || rest > 1 {
		t.Errorf("best loss %.3g in the design and %.3g after: want the model to improve on the design, to below 1", design, rest)
	}
}

// TestInitialDesign checks that the first n_initial_points trials form one
// design, however the calls split them: the centre of the unit cube, then a
// Latin hypercube, each ninth of every axis holding one of nine points.
func TestInitialDesign(t *testing.T) {
	specs := []*pb.ParameterSpec{double("a", "0", "1"), param("b", pb.ParameterType_DOUBLE, "1e-4", "1", "", pb.Distribution_LOG_UNIFORM)}
	p := problem(t, bo, specs, "random_state", "8")
	whole := suggest(t, bo, p, nil, 10).Points
	var split []searchspace.Point
	for _, n := range []int{3, 3, 4} {
		var hist []trial
		for _, pt := range split {
			hist = append(hist, pending(pt))
		}
		split = append(split, suggest(t, bo, p, hist, n).Points...)
	}
	if !slices.Equal(keys(p.Space, whole), keys(p.Space, split)) {
		t.Errorf("asked at once, the design is %q; asked 3, 3 and 4 at a time, %q", keys(p.Space, whole), keys(p.Space, split))
	}
	if u := p.Space.ToUnit(whole[0]); math.Abs(u[0]-0.5) > 1e-9 || math.Abs(u[1]-0.5) > 1e-9 {
		t.Errorf("first design point at %v in the unit cube, want the centre", u)
	}
	checkStrata(t, p.Space, whole[1:])
}

// checkStrata checks that pts are a Latin hypercube: each of len(pts) equal
// parts of every axis of the unit cube holds one of them.
func checkStrata(t *testing.T, space *searchspace.Space, pts []searchspace.Point) {
	t.Helper()
	n := len(pts)
	for axis := range space.Params {
		strata := make([]int, n)
		for _, pt := range pts {
			strata[min(int(space.ToUnit(pt)[axis]*float64(n)), n-1)]++
		}
		for _, c := range strata {
			if c != 1 {
				t.Errorf("axis %d: points per %d-th %v, want one in each", axis, n, strata)
				break
			}
		}
	}
}

// TestInitialDesignConstrained checks that with constraints the design is
// a Latin hypercube alone: an infeasible centre would stand above every
// feasible trial in the middle of the model.
func TestInitialDesignConstrained(t *testing.T) {
	specs := []*pb.ParameterSpec{double("a", "0", "1"), double("b", "0", "1")}
	e := experiment(specs, "random_state", "8")
	least := 1.0
	e.ExperimentSpec.Objective.Constraints = []*pb.MetricConstraint{{MetricName: "sum", Min: &least}}
	p, err := algorithm.NewProblem(bo, e)
	if err != nil {
		t.Fatal(err)
	}
	checkStrata(t, p.Space, suggest(t, bo, p, nil, 10).Points)
}

// TestHedgeState follows gp_hedge's state through calls: none during the
// design, then the gains and proposals, which the next call updates.
func TestHedgeState(t *testing.T) {
	specs := braninSpace()
	p := problem(t, bo, specs, "random_state", "1", "n_initial_points", "4")
	first := suggest(t, bo, p, nil, 4)
	if len(first.State) != 0 {
		t.Errorf("the design wrote back %v, want nothing", first.State)
	}
	var hist []trial
	for _, pt := range first.Points {
		hist = append(hist, done(pt, branin(p.Space, pt)))
	}
	second := suggest(t, bo, p, hist, 1)
	if len(second.State) != 1 || second.State[0].GetName() != bayesopt.HedgeState {
		t.Fatalf("the model's reply wrote back %v, want hedge_state", second.State)
	}
	if got := second.State[0].GetValue(); !strings.HasPrefix(got, "gains=0,0,0;ei=") || strings.Count(got, ";") != 3 {
		t.Errorf("first hedge_state %q, want zero gains and three proposals", got)
	}
	hist = append(hist, done(second.Points[0], branin(p.Space, second.Points[0])))
	p3 := problem(t, bo, specs, withState([]string{"random_state", "1", "n_initial_points", "4"}, second.State)...)
	third := suggest(t, bo, p3, hist, 1)
	if len(third.State) != 1 || strings.HasPrefix(third.State[0].GetValue(), "gains=0,0,0;") {
		t.Errorf("second hedge_state %v, want the gains updated", third.State)
	}
	// The state steers the choice: a hedge all but certain of one function
	// suggests what that function alone suggests.
	for _, acq := range []string{"ei", "pi", "ucb"} {
		gains := map[string]string{"ei": "0,-100,-100", "pi": "-100,0,-100", "ucb": "-100,-100,0"}[acq]
		hedged := suggest(t, bo, problem(t, bo, specs, "random_state", "1", "hedge_state", "gains="+gains), hist, 1)
		alone := suggest(t, bo, problem(t, bo, specs, "random_state", "1", "acq_func", acq), hist, 1)
		if p.Space.Key(hedged.Points[0]) != p.Space.Key(alone.Points[0]) {
			t.Errorf("a hedge sure of %s suggested %q; %s alone %q", acq, p.Space.Key(hedged.Points[0]), acq, p.Space.Key(alone.Points[0]))
		}
	}
	// Only gp_hedge writes state.
	if out := suggest(t, bo, problem(t, bo, specs, "acq_func", "ei"), hist, 1); len(out.State) != 0 {
		t.Errorf("ei wrote back %v", out.State)
	}
}

// TestDuplicatedPoints gives the model the same point many times, with
// different values and with none: the factorisation must survive it.
func TestDuplicatedPoints(t *testing.T) {
	tests := []struct {
		name  string
		specs []*pb.ParameterSpec
		loss  func(i int) float64
	}{
		{"equal values", braninSpace(), func(int) float64 { return 1 }},
		{"noisy values", braninSpace(), func(i int) float64 { return float64(i % 3) }},
		{"huge values", braninSpace(), func(i int) float64 { return 1e300 * float64(i%2) }},
		{"tiny differences", braninSpace(), func(i int) float64 { return 1 + 1e-15*float64(i) }},
		{"finite space", []*pb.ParameterSpec{integer("n", "0", "9"), categorical("c", "a", "b")}, func(i int) float64 { return float64(i % 4) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, acq := range []string{"gp_hedge", "ei", "pi", "ucb"} {
				p := problem(t, bo, tt.specs, "random_state", "1", "acq_func", acq, "n_initial_points", "0")
				var hist []trial
				pts := history(t, tt.specs, quadratic, 3)
				for i := range 30 {
					hist = append(hist, done(pts[i%3].Point, tt.loss(i)))
				}
				// Trials repeat points the controller would not repeat;
				// suggest checks only that the reply avoids them all.
				out := suggest(t, bo, p, hist, 4)
				if len(out.Points) != 4 {
					t.Errorf("%s: %d points, want 4", acq, len(out.Points))
				}
			}
		})
	}
}

// TestUnusualHistories covers trials the model must do without: failed,
// pending only, out of the space, infinite values, maximisation.
func TestUnusualHistories(t *testing.T) {
	specs := braninSpace()
	p := problem(t, bo, specs, "random_state", "1", "n_initial_points", "2")
	pts := history(t, specs, branin, 6)
	failed := func(pt searchspace.Point) trial { return trial{Point: pt, Condition: pb.TrialCondition_FAILED} }
	tests := []struct {
		name string
		hist []trial
	}{
		{"all pending", []trial{pending(pts[0].Point), pending(pts[1].Point), pending(pts[2].Point)}},
		{"all failed", []trial{failed(pts[0].Point), failed(pts[1].Point), failed(pts[2].Point)}},
		{"one completed", []trial{failed(pts[0].Point), pts[1], pending(pts[2].Point)}},
		{"out of the space", []trial{done(searchspace.Point{-50, 3}, 1), done(searchspace.Point{0, 99}, 2), pts[0], pts[1]}},
		{"early stopped", []trial{{Point: pts[0].Point, Condition: pb.TrialCondition_EARLY_STOPPED, Value: 3, Valued: true}, pts[1], pts[2]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if out := suggest(t, bo, p, tt.hist, 3); len(out.Points) != 3 {
				t.Errorf("%d points, want 3", len(out.Points))
			}
		})
	}

	// Maximising a function is minimising its negation: the same trials
	// with negated values give the same suggestions.
	maxExp := experiment(specs, "random_state", "1", "n_initial_points", "2")
	maxExp.ExperimentSpec.Objective.Type = pb.ObjectiveType_MAXIMIZE
	pMax, err := algorithm.NewProblem(bo, maxExp)
	if err != nil {
		t.Fatal(err)
	}
	var neg []trial
	for _, h := range pts {
		neg = append(neg, done(h.Point, -h.Value))
	}
	a := suggest(t, bo, problem(t, bo, specs, "random_state", "1", "n_initial_points", "2"), pts, 2)
	b := suggest(t, bo, pMax, neg, 2)
	if !slices.Equal(keys(p.Space, a.Points), keys(p.Space, b.Points)) {
		t.Errorf("minimising gave %q, maximising the negation %q", keys(p.Space, a.Points), keys(p.Space, b.Points))
	}
}

// TestFiniteSpaceRunsOut walks a 12-point space with the model on: every
// point once, then the reply says the space is used up.
func TestFiniteSpaceRunsOut(t *testing.T) {
	specs := []*pb.ParameterSpec{integer("n", "1", "4"), categorical("c", "a", "b", "c")}
	for _, count := range []int{1, 5} {
		p := problem(t, bo, specs, "random_state", "7", "n_initial_points", "3")
		var hist []trial
		exhausted := false
		for calls := 0; !exhausted; calls++ {
			if calls > 12 {
				t.Fatalf("count %d: not exhausted after %d calls", count, calls)
			}
			out := suggest(t, bo, p, hist, count)
			exhausted = out.Exhausted
			if !exhausted && len(out.Points) != count {
				t.Fatalf("count %d: %d points", count, len(out.Points))
			}
			for _, pt := range out.Points {
				hist = append(hist, done(pt, quadratic(p.Space, pt)))
			}
		}
		if len(hist) != 12 {
			t.Errorf("count %d: %d points handed out, want each of the 12 once", count, len(hist))
		}
		if out := suggest(t, bo, p, hist, count); len(out.Points) != 0 || !out.Exhausted {
			t.Errorf("count %d: after every point, %d points and exhausted %v; want 0, true", count, len(out.Points), out.Exhausted)
		}
	}
	// A continuous parameter fixed by min = max leaves a finite space too.
	fixed := []*pb.ParameterSpec{double("x", "0.5", "0.5"), categorical("c", "a", "b")}
	p := problem(t, bo, fixed, "random_state", "7")
	out := suggest(t, bo, p, nil, 5)
	if len(out.Points) != 2 || !out.Exhausted {
		t.Errorf("a 2-point space asked for 5: %d points, exhausted %v; want 2, true", len(out.Points), out.Exhausted)
	}
}

// TestAcquisitionOptimiser compares the two acq_optimizer settings: local
// refinement of the candidates finds points the model rates at least as
// well, so on a smooth bowl it ends closer to the optimum.
func TestAcquisitionOptimiser(t *testing.T) {
	specs := bowlSpace()
	var auto, sampling []float64
	for seed := range 3 {
		s := strconv.Itoa(seed)
		auto = append(auto, bestLoss(optimise(t, bo, specs, []string{"random_state", s, "acq_func", "ei"}, quadratic, 30, 1)))
		sampling = append(sampling, bestLoss(optimise(t, bo, specs, []string{"random_state", s, "acq_func", "ei", "acq_optimizer", "sampling"}, quadratic, 30, 1)))
	}
	t.Logf("best loss on a 4-D bowl after 30 evaluations: auto %.3g, sampling %.3g", auto, sampling)
	if algorithmtest.Median(auto) >= algorithmtest.Median(sampling) {
		t.Errorf("with local refinement the median best loss is %.3g, without %.3g: want refinement to help", algorithmtest.Median(auto), algorithmtest.Median(sampling))
	}
	if algorithmtest.Median(auto) > 1e-3 {
		t.Errorf("median best loss %.3g on a 4-D bowl after 30 evaluations, want below 1e-3", algorithmtest.Median(auto))
	}
}

// TestLargeBatch asks for more points than the model places in one reply,
// with many trials pending: the rest come from the prior, all new.
func TestLargeBatch(t *testing.T) {
	specs := mixed()
	hist := history(t, specs, mixedLoss, 20)
	p := problem(t, bo, specs, "random_state", "4", "n_initial_points", "5")
	for _, pt := range suggest(t, bo, p, hist, 250).Points {
		hist = append(hist, pending(pt))
	}
	if out := suggest(t, bo, p, hist, 300); len(out.Points) != 300 {
		t.Errorf("%d points, want 300", len(out.Points))
	}
}

func TestCancelledContext(t *testing.T) {
	specs := braninSpace()
	p := problem(t, bo, specs, "random_state", "1")
	trials := trialsOf(t, p, history(t, specs, branin, 12))
	algorithmtest.Cancelled(t, bo, p, trials, 3)
	algorithmtest.CancelledMidway(t, bo, p, trials, 3)
}

func TestExhaustion(t *testing.T) {
	algorithmtest.Exhaustion(t, bo, problem(t, bo, algorithmtest.Twelve(), "random_state", "7", "n_initial_points", "3"))
}
