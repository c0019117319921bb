package cmaes_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/algorithmtest"
	"knobs.dev/knobs/pkg/algorithm/cmaes"
	"knobs.dev/knobs/pkg/algorithm/random"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

func TestSettings(t *testing.T) {
	var names []string
	for _, s := range (cmaes.CMAES{}).Settings() {
		names = append(names, s.Name)
	}
	want := []string{"sigma", "restart_strategy", "random_state", "cmaes_state", "cmaes_population"}
	if !slices.Equal(names, want) {
		t.Errorf("settings %v, want %v", names, want)
	}
	p := problem(t, nil, branin().specs...)
	if got := p.Settings.Float(cmaes.SettingSigma); math.Abs(got-1.0/6) > 1e-15 {
		t.Errorf("default sigma %g, want 1/6", got)
	}
	if got := p.Settings.String(cmaes.SettingRestart); got != "ipop" {
		t.Errorf("default restart_strategy %q, want ipop", got)
	}

	tests := []struct {
		name    string
		setting *pb.AlgorithmSetting
		want    string // the error, "" for none
	}{
		{"sigma", setting("sigma", "0.1"), ""},
		{"sigma 1", setting("sigma", "1"), ""},
		{"sigma 0", setting("sigma", "0"), `algorithmSettings[0]: sigma: "0" is not a number above 0 and at most 1`},
		{"sigma above 1", setting("sigma", "1.5"), `sigma: "1.5" is not a number above 0 and at most 1`},
		{"sigma not a number", setting("sigma", "wide"), `sigma: "wide" is not a number above 0 and at most 1`},
		{"none", setting("restart_strategy", "none"), ""},
		{"bipop", setting("restart_strategy", "bipop"), ""},
		{"unknown strategy", setting("restart_strategy", "lrpop"), `restart_strategy: "lrpop" is not one of none, ipop, bipop`},
		{"seed", seed(7), ""},
		{"unknown setting", setting("popsize", "10"), `unknown setting "popsize": this algorithm takes random_state, restart_strategy, sigma`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := algorithm.NewProblem(cmaes.CMAES{}, experiment([]*pb.AlgorithmSetting{tt.setting}, branin().specs...))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("NewProblem: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("NewProblem: %v, want %q", err, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	many := func(n int) []*pb.ParameterSpec {
		var out []*pb.ParameterSpec
		for i := range n {
			out = append(out, double(fmt.Sprintf("x%d", i), "0", "1"))
		}
		return out
	}
	twoD := []*pb.ParameterSpec{double("x", "0", "1"), double("y", "0", "1")}
	state := suggest(t, nil, twoD, nil, 3).State
	tests := []struct {
		name     string
		specs    []*pb.ParameterSpec
		settings []*pb.AlgorithmSetting
		noMetric bool
		want     string // the error, "" for none
	}{
		{"two doubles", twoD, nil, false, ""},
		{"int, discrete and a log-uniform double", []*pb.ParameterSpec{integer("n", "1", "8"), discrete("b", "16", "32", "64"),
			param("lr", pb.ParameterType_DOUBLE, "1e-5", "1", "", pb.Distribution_LOG_UNIFORM)}, nil, false, ""},
		{"categorical", []*pb.ParameterSpec{double("x", "0", "1"), double("y", "0", "1"), categorical("opt", "sgd", "adam")}, nil, false, ""},
		{"categorical beside one numeric parameter", []*pb.ParameterSpec{double("x", "0", "1"), categorical("opt", "sgd", "adam")}, nil, false,
			"1 numeric parameters vary: CMA-ES needs at least 2 double, int or discrete parameters"},
		{"one parameter", []*pb.ParameterSpec{double("x", "0", "1")}, nil, false,
			"experiment.experimentSpec.parameterSpecs.parameters: 1 numeric parameters vary: CMA-ES needs at least 2 double, int or discrete parameters with more than one value; use random, grid, sobol or tpe search for fewer"},
		{"second parameter has one value", []*pb.ParameterSpec{double("x", "0", "1"), integer("n", "4", "4"), double("y", "2", "2")}, nil, false,
			"1 numeric parameters vary"},
		{"one-valued parameters beside two", []*pb.ParameterSpec{double("x", "0", "1"), integer("n", "4", "4"), double("y", "0", "2")}, nil, false, ""},
		{"most parameters", many(cmaes.MaxDimensions), nil, false, ""},
		{"too many parameters", many(cmaes.MaxDimensions + 1), nil, false,
			"101 numeric parameters vary: CMA-ES here takes at most 100 (its covariance matrix grows with their square); use random or sobol search"},
		{"no objective metric", twoD, nil, true, "experiment.experimentSpec.objective.objectiveMetricName: missing"},
		{"its own state", twoD, state, false, ""},
		{"state of another space", many(3), state, false,
			"experiment.experimentSpec.algorithm.algorithmSettings: cmaes_state: written for 2 numeric parameters, the experiment has 3: it is the state this algorithm writes in its replies; remove it (and cmaes_population) to start the search afresh"},
		{"garbled state", twoD, []*pb.AlgorithmSetting{setting("cmaes_state", "bm90IGEgc3RhdGU=")}, false,
			"cmaes_state: version 110, this algorithm writes 1"},
		{"garbled population", twoD, []*pb.AlgorithmSetting{state[0], setting("cmaes_population", "%%")}, false,
			"cmaes_population: not base64: it is state this algorithm writes in its replies; remove it to start a new generation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp := experiment(tt.settings, tt.specs...)
			if tt.noMetric {
				exp.ExperimentSpec.Objective.ObjectiveMetricName = ""
			}
			_, err := algorithm.NewProblem(cmaes.CMAES{}, exp)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("NewProblem: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("NewProblem: %v, want %q", err, tt.want)
			case tt.want != "" && !algorithm.IsInvalidArgument(err):
				t.Errorf("NewProblem: %v is not the caller's to fix", err)
			}
		})
	}
}

// TestSameRequestSameReply: a request, state and trials included, gives the
// same reply every time; another seed gives another.
func TestSameRequestSameReply(t *testing.T) {
	in := branin()
	r := drive(t, cmaes.CMAES{}, []*pb.AlgorithmSetting{seed(3)}, in, 20, 3, nil)
	settings := overlay([]*pb.AlgorithmSetting{seed(3)}, r.states[len(r.states)-1])
	a := suggest(t, settings, in.specs, r.trials, 5)
	b := suggest(t, settings, in.specs, r.trials, 5)
	p := problem(t, settings, in.specs...)
	keys := func(out *algorithm.Suggestions) []string {
		var k []string
		for _, pt := range out.Points {
			k = append(k, p.Space.Key(pt))
		}
		return k
	}
	if !slices.Equal(keys(a), keys(b)) || !stateEqual(a.State, b.State) {
		t.Errorf("the same request gave %q then %q", keys(a), keys(b))
	}
	again := drive(t, cmaes.CMAES{}, []*pb.AlgorithmSetting{seed(3)}, in, 20, 3, nil)
	if !slices.EqualFunc(r.trials, again.trials, func(x, y *pb.Trial) bool { return x.String() == y.String() }) {
		t.Errorf("the same seed gave another run")
	}
	other := drive(t, cmaes.CMAES{}, []*pb.AlgorithmSetting{seed(4)}, in, 20, 3, nil)
	if other.trials[0].String() == r.trials[0].String() {
		t.Errorf("random_state 3 and 4 gave the same first point")
	}
}

func stateEqual(a, b []*pb.AlgorithmSetting) bool {
	return slices.EqualFunc(a, b, func(x, y *pb.AlgorithmSetting) bool {
		return x.GetName() == y.GetName() && x.GetValue() == y.GetValue()
	})
}

// TestMaximizeIsMinimizeNegated: maximising -f takes the same path as
// minimising f.
func TestMaximizeIsMinimizeNegated(t *testing.T) {
	in := sphere(3)
	min := drive(t, cmaes.CMAES{}, []*pb.AlgorithmSetting{seed(1)}, in, 40, 2, nil)
	neg := in
	neg.f = func(x searchspace.Point) float64 { return -in.f(x) }
	neg.maximize = true
	max := drive(t, cmaes.CMAES{}, []*pb.AlgorithmSetting{seed(1)}, neg, 40, 2, nil)
	for i := range max.trials {
		a, b := max.trials[i].GetSpec().String(), min.trials[i].GetSpec().String()
		if a != b {
			t.Fatalf("trial %d: maximising -f gave %s, minimising f %s", i, a, b)
		}
	}
	if max.best != min.best {
		t.Errorf("best %g maximising -f, %g minimising f", max.best, min.best)
	}
}

// TestGenerations follows the state through controller loops: every λ
// completed trials make a generation, however many run in parallel, and
// failed trials are replaced rather than stalling the search.
func TestGenerations(t *testing.T) {
	in := sphere(4) // λ = 8
	lambda := cmaes.DefaultLambda(4)
	tests := []struct {
		name     string
		parallel int
		fail     func(int) bool
		minGen   int
		maxGen   int
	}{
		{"one at a time", 1, nil, 79 / lambda, 79 / lambda},
		{"a generation at a time", lambda, nil, 8, 9},
		{"three at a time", 3, nil, 8, 9},
		// Members still running when their generation is told join the
		// next one, so no evaluation is lost to the search; a generation
		// still waits for the trials ahead of its own.
		{"more than λ at a time", 20, nil, 6, 9},
		// 53 of 80 complete: 6 generations of 8.
		{"a third fail", 4, func(i int) bool { return i%3 == 0 }, 5, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := drive(t, cmaes.CMAES{}, []*pb.AlgorithmSetting{seed(2)}, in, 80, tt.parallel, tt.fail)
			seen := make(map[string]bool)
			for _, tr := range r.trials {
				k := tr.GetSpec().String()
				if seen[k] {
					t.Fatalf("%s handed out twice", k)
				}
				seen[k] = true
			}
			prev := 0
			for i, s := range r.states {
				ins, err := cmaes.Inspect(s, 4)
				if err != nil {
					t.Fatalf("reply %d: %v", i, err)
				}
				if ins.Gen < prev || ins.Gen > prev+1 {
					t.Fatalf("reply %d: generation %d after %d", i, ins.Gen, prev)
				}
				if ins.Runs != 0 || ins.Lambda != lambda {
					t.Errorf("reply %d: %d restarts, λ %d; want none, %d", i, ins.Runs, ins.Lambda, lambda)
				}
				prev = ins.Gen
			}
			t.Logf("%d generations after 80 trials", prev)
			if prev < tt.minGen || prev > tt.maxGen {
				t.Errorf("%d generations after 80 trials, want %d to %d", prev, tt.minGen, tt.maxGen)
			}
		})
	}
}

// TestPendingAndFailedMembers walks one generation through calls by hand.
func TestPendingAndFailedMembers(t *testing.T) {
	in := sphere(2) // λ = 6
	settings := []*pb.AlgorithmSetting{seed(5)}
	p := problem(t, settings, in.specs...)
	inspect := func(out *algorithm.Suggestions) cmaes.Inspection {
		t.Helper()
		ins, err := cmaes.Inspect(out.State, 2)
		if err != nil {
			t.Fatal(err)
		}
		return ins
	}
	first := suggest(t, settings, in.specs, nil, 4)
	var raw []*pb.Trial
	for _, pt := range first.Points {
		raw = append(raw, trial(p, len(raw), pt, pb.TrialCondition_RUNNING, 0))
	}
	if ins := inspect(first); len(ins.Members) != 4 || ins.Gen != 0 {
		t.Fatalf("after the first call: %d members, generation %d; want 4, 0", len(ins.Members), ins.Gen)
	}

	// Pending members stay members; new points join them.
	second := suggest(t, overlay(settings, first.State), in.specs, raw, 3)
	if ins := inspect(second); len(ins.Members) != 7 || ins.Gen != 0 {
		t.Fatalf("with 4 running: %d members, generation %d; want 7, 0", len(ins.Members), ins.Gen)
	}
	points := append(slices.Clone(first.Points), second.Points...)
	for _, pt := range second.Points {
		raw = append(raw, trial(p, len(raw), pt, pb.TrialCondition_PENDING, 0))
	}

	// Two fail, three succeed, two are pending: failed ones drop out, and
	// five are too few for a generation of six.
	conds := []pb.TrialCondition{pb.TrialCondition_FAILED, pb.TrialCondition_SUCCEEDED, pb.TrialCondition_METRICS_UNAVAILABLE,
		pb.TrialCondition_SUCCEEDED, pb.TrialCondition_EARLY_STOPPED, pb.TrialCondition_RUNNING, pb.TrialCondition_PENDING}
	for i, c := range conds {
		raw[i] = trial(p, i, points[i], c, in.f(points[i]))
	}
	third := suggest(t, overlay(settings, second.State), in.specs, raw, 1)
	if ins := inspect(third); len(ins.Members) != 6 || ins.Gen != 0 {
		t.Fatalf("with 2 failed: %d members, generation %d; want 6, 0", len(ins.Members), ins.Gen)
	}
	raw = append(raw, trial(p, len(raw), third.Points[0], pb.TrialCondition_RUNNING, 0))
	points = append(points, third.Points[0])

	// Everything completes: the first six completed in the order handed out
	// make generation 1, whose members are only the new points.
	for i := range raw {
		if i == 0 || i == 2 {
			continue // failed for good
		}
		raw[i] = trial(p, i, points[i], pb.TrialCondition_SUCCEEDED, in.f(points[i]))
	}
	fourth := suggest(t, overlay(settings, third.State), in.specs, raw, 2)
	ins := inspect(fourth)
	if len(ins.Members) != 2 || ins.Gen != 1 {
		t.Fatalf("after the generation: %d members, generation %d; want 2, 1", len(ins.Members), ins.Gen)
	}
	if slices.Equal(ins.Mean, []float64{0.5, 0.5}) {
		t.Errorf("the mean did not move")
	}
}

// TestQualityBeatsRandom: on standard test functions, with seeds 1 to 15,
// the median of CMA-ES's best after n evaluations beats the median of
// random search's over the same seeds and budget, by a margin: the median
// must be below factor times random's. (A search whose mean never moved
// would still beat random search on a function whose minimum is near the
// centre; the margins are set so that it does not pass.) Everything is
// seeded, so the outcome is fixed.
func TestQualityBeatsRandom(t *testing.T) {
	if testing.Short() {
		t.Skip("runs CMA-ES and random search 15 times on each function")
	}
	tests := []struct {
		in       instance
		n        int
		parallel int
		settings []*pb.AlgorithmSetting
		factor   float64
	}{
		{rosenbrock(), 200, 1, nil, 0.6},
		{rosenbrock(), 200, 4, nil, 0.6},
		{sphere(4), 100, 4, nil, 0.25},
		{branin(), 60, 1, nil, 0.8},
		{rosenbrock(), 200, 4, []*pb.AlgorithmSetting{setting("restart_strategy", "bipop")}, 0.6},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s/%d/parallel=%d", tt.in.name, tt.n, tt.parallel)
		if len(tt.settings) > 0 {
			name += "/" + tt.settings[0].GetValue()
		}
		t.Run(name, func(t *testing.T) {
			var es, rnd []float64
			for s := 1; s <= 15; s++ {
				es = append(es, drive(t, cmaes.CMAES{}, append([]*pb.AlgorithmSetting{seed(s)}, tt.settings...), tt.in, tt.n, tt.parallel, nil).best)
				rnd = append(rnd, drive(t, random.Random{}, []*pb.AlgorithmSetting{seed(s)}, tt.in, tt.n, tt.parallel, nil).best)
			}
			e, r := median(es), median(rnd)
			t.Logf("%s after %d, %d in parallel: median best over 15 seeds: cmaes %.4g, random %.4g", tt.in.name, tt.n, tt.parallel, e, r)
			if e >= tt.factor*r {
				t.Errorf("%s after %d: cmaes's median best %.4g, random's %.4g; want below %g times random's", tt.in.name, tt.n, e, r, tt.factor)
			}
		})
	}
}

// grid2 is a finite space of 5 × 5 ints, with a quadratic over it.
func grid2() instance {
	return instance{name: "int-grid", specs: []*pb.ParameterSpec{integer("a", "1", "5"), integer("b", "1", "5")},
		f: func(x searchspace.Point) float64 { return (x[0]-2)*(x[0]-2) + (x[1]-4)*(x[1]-4) }}
}

// TestFiniteSpace: in a space of 25 ints the distribution soon yields
// points handed out already; the search restarts (ipop, bipop) or looks
// elsewhere (none), hands out every point once, and says when the space is
// used up.
func TestFiniteSpace(t *testing.T) {
	in := grid2()
	for _, strategy := range []string{"none", "ipop", "bipop"} {
		for _, batch := range []int{1, 4} {
			t.Run(fmt.Sprintf("%s/%d", strategy, batch), func(t *testing.T) {
				settings := []*pb.AlgorithmSetting{seed(9), setting("restart_strategy", strategy)}
				p := problem(t, settings, in.specs...)
				var raw []*pb.Trial
				var state []*pb.AlgorithmSetting
				seen := make(map[string]bool)
				restarts := 0
				for calls := 0; ; calls++ {
					if calls > 100 {
						t.Fatalf("%d trials after 100 calls", len(raw))
					}
					out := suggest(t, overlay(settings, state), in.specs, raw, batch)
					state = out.State
					for _, pt := range out.Points {
						seen[p.Space.Key(pt)] = true
						raw = append(raw, trial(p, len(raw), pt, pb.TrialCondition_SUCCEEDED, in.f(pt)))
					}
					ins, err := cmaes.Inspect(state, 2)
					if err != nil {
						t.Fatal(err)
					}
					restarts = ins.Runs
					if want := len(raw) == 25; out.Exhausted != want {
						t.Fatalf("after %d trials: exhausted %v, want %v", len(raw), out.Exhausted, want)
					}
					if out.Exhausted {
						break
					}
				}
				if len(seen) != 25 {
					t.Errorf("%d distinct points of 25", len(seen))
				}
				if (restarts > 0) != (strategy != "none") {
					t.Errorf("%d restarts with %s", restarts, strategy)
				}
				last := suggest(t, overlay(settings, state), in.specs, raw, batch)
				if len(last.Points) != 0 || !last.Exhausted {
					t.Errorf("after every point: %d points, exhausted %v", len(last.Points), last.Exhausted)
				}
			})
		}
	}
}

// TestConvergedRunRestarts hands the search a run whose step size has
// collapsed: the generation's tell ends it; ipop restarts elsewhere with
// twice the population, none samples on around the mean.
func TestConvergedRunRestarts(t *testing.T) {
	in := sphere(2)
	p := problem(t, nil, in.specs...)
	mean := []float64{0.6, 0.6}
	lambda := cmaes.DefaultLambda(2)
	var members [][]float64
	var raw []*pb.Trial
	for i := range lambda {
		x := []float64{0.6 + float64(i)*1e-13, 0.6 - float64(i)*1e-13}
		members = append(members, x)
		pt := p.Space.FromUnit(x)
		raw = append(raw, trial(p, i, pt, pb.TrialCondition_SUCCEEDED, in.f(pt)))
	}
	state := cmaes.Converged(mean, members)
	tests := []struct {
		strategy string
		runs     int
		lambda   int
	}{
		{"none", 0, lambda},
		{"ipop", 1, 2 * lambda},
		{"bipop", 1, 2 * lambda},
	}
	for _, tt := range tests {
		t.Run(tt.strategy, func(t *testing.T) {
			settings := overlay([]*pb.AlgorithmSetting{seed(1), setting("restart_strategy", tt.strategy)}, state)
			out := suggest(t, settings, in.specs, raw, 3)
			ins, err := cmaes.Inspect(out.State, 2)
			if err != nil {
				t.Fatal(err)
			}
			if ins.Runs != tt.runs || ins.Lambda != tt.lambda {
				t.Errorf("%d restarts, λ %d; want %d, %d", ins.Runs, ins.Lambda, tt.runs, tt.lambda)
			}
			far := 0
			for _, pt := range out.Points {
				u := p.Space.ToUnit(pt)
				if math.Abs(u[0]-0.6) > 1e-6 || math.Abs(u[1]-0.6) > 1e-6 {
					far++
				}
			}
			if restarted := tt.runs > 0; (far == len(out.Points)) != restarted {
				t.Errorf("%d of %d points away from the converged mean; restarted %v", far, len(out.Points), restarted)
			}
		})
	}
}

// TestMarginKeepsIntegersMoving hands the search a run whose step size
// has collapsed onto one point of two ints and a double, and lets it sample
// on (restart_strategy none): after the next update the ints keep a
// standard deviation that leaves their value's cell with probability
// 1/(nλ) or more, each side of it, so that they can still move (CMA-ES
// with Margin), while the double stays where it converged.
func TestMarginKeepsIntegersMoving(t *testing.T) {
	specs := []*pb.ParameterSpec{integer("a", "1", "5"), integer("b", "1", "5"), double("x", "0", "1")}
	in := instance{name: "ints", specs: specs, f: func(x searchspace.Point) float64 {
		return (x[0]-3)*(x[0]-3) + (x[1]-2)*(x[1]-2) + (x[2]-0.6)*(x[2]-0.6)
	}}
	p := problem(t, nil, specs...)
	mean := []float64{0.5, 0.3, 0.6} // a = 3, b = 2: cells [0.4, 0.6], [0.2, 0.4]
	lambda := cmaes.DefaultLambda(3)
	var members [][]float64
	var raw []*pb.Trial
	for i := range lambda {
		x := []float64{0.5 + float64(i)*1e-13, 0.3 - float64(i)*1e-13, 0.6 + float64(i)*1e-13}
		members = append(members, x)
		pt := p.Space.FromUnit(x)
		raw = append(raw, trial(p, i, pt, pb.TrialCondition_SUCCEEDED, in.f(pt)))
	}
	settings := overlay([]*pb.AlgorithmSetting{seed(1), setting("restart_strategy", "none")}, cmaes.Converged(mean, members))
	out := suggest(t, settings, specs, raw, 2)
	ins, err := cmaes.Inspect(out.State, 3)
	if err != nil {
		t.Fatal(err)
	}
	if ins.Gen != 41 {
		t.Fatalf("generation %d, want 41: the members were told", ins.Gen)
	}
	alpha := 1 / float64(3*lambda)
	for j, cell := range [][2]float64{{0.4, 0.6}, {0.2, 0.4}} {
		m, sd := ins.Mean[j], ins.StdDevs[j]
		below := 0.5 * math.Erfc((m-cell[0])/sd/math.Sqrt2)
		above := 0.5 * math.Erfc((cell[1]-m)/sd/math.Sqrt2)
		if below < alpha/2*0.999 || above < alpha/2*0.999 {
			t.Errorf("int %d: mean %g, standard deviation %g: leaves its cell %v below with %.3g, above with %.3g; want %.3g or more each",
				j, m, sd, cell, below, above, alpha/2)
		}
	}
	if sd := ins.StdDevs[2]; sd > 1e-9 {
		t.Errorf("the double's standard deviation %g; want it left converged", sd)
	}
}

func TestMixedParameterTypes(t *testing.T) {
	specs := []*pb.ParameterSpec{
		param("lr", pb.ParameterType_DOUBLE, "1e-5", "1", "", pb.Distribution_LOG_UNIFORM),
		integer("layers", "1", "8"),
		discrete("batch", "256", "16", "64", "32", "128"),
		param("dropout", pb.ParameterType_DOUBLE, "0", "0.5", "0.05", pb.Distribution_NORMAL),
		integer("fixed", "3", "3"),
	}
	in := instance{name: "mixed", specs: specs, f: func(x searchspace.Point) float64 {
		return math.Pow(math.Log10(x[0])+3, 2) + 0.1*math.Pow(x[1]-4, 2) + 0.2*x[2] + x[3]
	}}
	r := drive(t, cmaes.CMAES{}, []*pb.AlgorithmSetting{seed(1)}, in, 60, 4, nil)
	seen := make(map[string]bool)
	for _, tr := range r.trials {
		k := tr.GetSpec().String()
		if seen[k] {
			t.Fatalf("%s handed out twice", k)
		}
		seen[k] = true
		if v := tr.GetSpec().GetParameterAssignments().GetAssignments()[4].GetValue(); v != "3" {
			t.Errorf("fixed = %q, want its only value 3", v)
		}
	}
	if ins, err := cmaes.Inspect(r.states[len(r.states)-1], 4); err != nil || ins.Gen == 0 {
		t.Errorf("state: generation %d, %v; want a search in 4 dimensions that has moved", ins.Gen, err)
	}
}

// TestCategorical: a categorical parameter is drawn beside the numeric
// search, every category at first; then mostly the category of the best
// trials, while the numeric search goes on in its generations.
func TestCategorical(t *testing.T) {
	specs := []*pb.ParameterSpec{double("x", "-5", "5"), double("y", "-5", "5"), categorical("opt", "sgd", "adam", "rmsprop")}
	penalty := []float64{4, 0, 2} // adam is best
	in := instance{name: "categorical", specs: specs, f: func(x searchspace.Point) float64 {
		return (x[0]-1)*(x[0]-1) + (x[1]+2)*(x[1]+2) + penalty[int(x[2])]
	}}
	r := drive(t, cmaes.CMAES{}, []*pb.AlgorithmSetting{seed(4)}, in, 80, 2, nil)
	count := func(trials []*pb.Trial) map[string]int {
		out := make(map[string]int)
		for _, tr := range trials {
			out[tr.GetSpec().GetParameterAssignments().GetAssignments()[2].GetValue()]++
		}
		return out
	}
	first, last := count(r.trials[:12]), count(r.trials[40:])
	for _, c := range []string{"sgd", "adam", "rmsprop"} {
		if first[c] == 0 {
			t.Errorf("first 12 trials: %v; want every category drawn", first)
		}
	}
	if last["adam"] <= 20 {
		t.Errorf("last 40 trials: %v; want mostly adam, the best", last)
	}
	ins, err := cmaes.Inspect(r.states[len(r.states)-1], 2)
	if err != nil || ins.Gen < 5 {
		t.Errorf("state: generation %d, %v; want the numeric search to have moved on", ins.Gen, err)
	}
	if r.best > 0.5 {
		t.Errorf("best %g after 80 trials, want below 0.5", r.best)
	}
}

// TestConditional runs CMA-ES with a conditional parameter beside its two
// numbers: momentum, only for sgd, drawn from its prior. The numeric search
// goes on through the generations (its members found again by their
// numbers, whatever was drawn beside them), every reply keeps the contract
// (drive checks), and the search finds the bowl's floor.
func TestConditional(t *testing.T) {
	momentum := double("momentum", "0", "1")
	momentum.ParentName, momentum.ParentValues = "opt", []string{"sgd"}
	specs := []*pb.ParameterSpec{double("x", "-5", "5"), double("y", "-5", "5"), categorical("opt", "sgd", "adam"), momentum}
	in := instance{name: "conditional", specs: specs, f: func(x searchspace.Point) float64 {
		f := (x[0]-1)*(x[0]-1) + (x[1]+2)*(x[1]+2)
		if x[2] == 0 {
			f += math.Abs(x[3] - 0.9)
		}
		return f
	}}
	r := drive(t, cmaes.CMAES{}, []*pb.AlgorithmSetting{seed(4)}, in, 80, 2, nil)
	with := 0
	for _, tr := range r.trials {
		for _, a := range tr.GetSpec().GetParameterAssignments().GetAssignments() {
			if a.GetName() == "momentum" {
				with++
			}
		}
	}
	if with == 0 || with == len(r.trials) {
		t.Errorf("momentum in %d of %d trials; want it in the sgd trials only", with, len(r.trials))
	}
	ins, err := cmaes.Inspect(r.states[len(r.states)-1], 2)
	if err != nil || ins.Gen < 5 {
		t.Errorf("state: generation %d, %v; want the numeric search to have moved on", ins.Gen, err)
	}
	if r.best > 0.5 {
		t.Errorf("best %g after 80 trials, want below 0.5", r.best)
	}
}

// TestWarmStart: a search without state over a history of completed
// trials starts its mean at the best of them, and draws around it; with
// only pending trials it starts at the centre.
func TestWarmStart(t *testing.T) {
	in := sphere(3)
	p := problem(t, nil, in.specs...)
	points := []searchspace.Point{{-4, -4, -4}, {2.5, 3.5, 2}, {0, 0, 0}, {4, 4, 4.5}}
	var raw []*pb.Trial
	for i, pt := range points {
		raw = append(raw, trial(p, i, pt, pb.TrialCondition_SUCCEEDED, in.f(pt)))
	}
	raw = append(raw, trial(p, len(raw), searchspace.Point{3, 3, 3}, pb.TrialCondition_RUNNING, 0))
	out := suggest(t, []*pb.AlgorithmSetting{seed(1)}, in.specs, raw, 6)
	ins, err := cmaes.Inspect(out.State, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := p.Space.ToUnit(points[1]) // loss 1.25, the best completed
	for j := range want {
		if math.Abs(ins.Mean[j]-want[j]) > 1e-12 {
			t.Fatalf("mean %v, want the best trial's %v", ins.Mean, want)
		}
	}
	var near int
	for _, pt := range out.Points {
		if in.f(pt) < in.f(points[2]) {
			near++
		}
	}
	if near < 4 {
		t.Errorf("%d of 6 points better than the centre's loss; want most, drawn around the best trial", near)
	}

	pending := []*pb.Trial{trial(p, 0, points[1], pb.TrialCondition_RUNNING, 0)}
	ins, err = cmaes.Inspect(suggest(t, []*pb.AlgorithmSetting{seed(1)}, in.specs, pending, 2).State, 3)
	if err != nil || !slices.Equal(ins.Mean, []float64{0.5, 0.5, 0.5}) {
		t.Errorf("with no completed trial: mean %v, %v; want the centre", ins.Mean, err)
	}
}

func TestCancelledContext(t *testing.T) {
	p := problem(t, nil, branin().specs...)
	algorithmtest.Cancelled(t, cmaes.CMAES{}, p, nil, 5)
	algorithmtest.CancelledMidway(t, cmaes.CMAES{}, p, nil, 20)
}

func BenchmarkCMAESSuggest(b *testing.B) {
	for _, dims := range []int{4, 10} {
		for _, n := range []int{100, 500} {
			b.Run(fmt.Sprintf("dims=%d/trials=%d", dims, n), func(b *testing.B) {
				in := sphere(dims)
				settings := []*pb.AlgorithmSetting{seed(1)}
				r := drive(b, cmaes.CMAES{}, settings, in, n, 5, nil)
				p := problem(b, overlay(settings, r.states[len(r.states)-1]), in.specs...)
				trials, err := p.ParseTrials(context.Background(), r.trials)
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				for b.Loop() {
					out, err := cmaes.CMAES{}.Suggest(ctx, p, trials, 5)
					if err != nil || len(out.Points) != 5 {
						b.Fatalf("Suggest = %v, %v", out, err)
					}
				}
			})
		}
	}
}
