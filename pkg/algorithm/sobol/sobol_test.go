package sobol_test

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	gsobol "github.com/c-bata/goptuna/sobol"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/algorithmtest"
	"knobs.dev/knobs/pkg/algorithm/random"
	"knobs.dev/knobs/pkg/algorithm/sobol"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// The shared spec builders, by the names the tests use.
var (
	param       = algorithmtest.Param
	double      = algorithmtest.Double
	integer     = algorithmtest.Integer
	categorical = algorithmtest.Categorical
	discrete    = algorithmtest.Discrete
	katib       = algorithmtest.Katib
	keys        = algorithmtest.Keys
	twelve      = algorithmtest.Twelve
)

func experiment(settings []*pb.AlgorithmSetting, specs ...*pb.ParameterSpec) *pb.Experiment {
	return algorithmtest.Experiment("sobol", settings, specs...)
}

func problem(t testing.TB, specs ...*pb.ParameterSpec) *algorithm.Problem {
	t.Helper()
	return algorithmtest.Problem(t, sobol.Sobol{}, experiment(nil, specs...))
}

// plain is a problem over specs walking the plain, unscrambled sequence.
func plain(t testing.TB, specs ...*pb.ParameterSpec) *algorithm.Problem {
	t.Helper()
	return algorithmtest.Problem(t, sobol.Sobol{}, experiment(algorithmtest.Settings(sobol.Scramble, "false"), specs...))
}

// trialsOf turns points into trials the way a request brings them: as
// formatted assignments, each with the given condition.
func trialsOf(t testing.TB, p *algorithm.Problem, pts []searchspace.Point, cond pb.TrialCondition) []algorithm.Trial {
	t.Helper()
	return algorithmtest.Trials(t, p, algorithmtest.History(pts, cond))
}

// suggest asks for count points given the points handed out so far, and
// checks the reply against the contract.
func suggest(t testing.TB, p *algorithm.Problem, history []searchspace.Point, count int) *algorithm.Suggestions {
	t.Helper()
	return suggestTrials(t, p, trialsOf(t, p, history, pb.TrialCondition_RUNNING), count)
}

func suggestTrials(t testing.TB, p *algorithm.Problem, trials []algorithm.Trial, count int) *algorithm.Suggestions {
	t.Helper()
	out := algorithmtest.Suggest(t, sobol.Sobol{}, p, trials, count)
	if len(out.State) != 0 {
		t.Fatalf("Suggest wrote back state %v; the Sobol' walk keeps none", out.State)
	}
	return out
}

func TestSettings(t *testing.T) {
	want := map[string]string{sobol.Scramble: "true", algorithm.RandomState: ""}
	got := map[string]string{}
	for _, s := range (sobol.Sobol{}).Settings() {
		got[s.Name] = s.Default
	}
	if !maps.Equal(got, want) {
		t.Errorf("settings and defaults %v, want %v", got, want)
	}
	tests := []struct {
		settings []string
		want     string // a substring of the error, "" for none
	}{
		{[]string{algorithm.RandomState, "1", sobol.Scramble, "false"}, ""},
		{[]string{algorithm.RandomState, "1", sobol.Scramble, "owen"}, `algorithm.algorithmSettings[1]: scramble: "owen" is not one of true, false`},
		{[]string{algorithm.RandomState, "-1"}, `algorithm.algorithmSettings[0]: random_state: "-1" is not an integer of at least 0`},
		{[]string{"skip", "8"}, `algorithm.algorithmSettings[0]: unknown setting "skip": this algorithm takes random_state, scramble`},
	}
	for _, tt := range tests {
		_, err := algorithm.NewProblem(sobol.Sobol{}, experiment(algorithmtest.Settings(tt.settings...), katib()...))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%v: %v", tt.settings, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !algorithm.IsInvalidArgument(err)):
			t.Errorf("%v: error %v, want the caller's mistake %q", tt.settings, err, tt.want)
		}
	}
}

// TestScrambleSeeded: the scramble comes from random_state, or without it
// from the experiment's name; the same seed gives the same points, another
// seed others, and the plain sequence ignores the seed.
func TestScrambleSeeded(t *testing.T) {
	specs := []*pb.ParameterSpec{double("x", "-5", "10"), double("y", "0", "15"), integer("n", "1", "1000000")}
	points := func(name string, settings ...string) []string {
		exp := experiment(algorithmtest.Settings(settings...), specs...)
		exp.Name = name
		p := algorithmtest.Problem(t, sobol.Sobol{}, exp)
		return keys(p.Space, suggest(t, p, nil, 8).Points)
	}
	a, b := points("e1", algorithm.RandomState, "1"), points("e2", algorithm.RandomState, "1")
	if !slices.Equal(a, b) {
		t.Errorf("random_state 1 gave %q and %q", a, b)
	}
	if c := points("e1", algorithm.RandomState, "2"); slices.Equal(a, c) {
		t.Errorf("random_state 1 and 2 gave the same points %q", a)
	}
	if x, y := points("e1"), points("e2"); slices.Equal(x, y) {
		t.Errorf("experiments e1 and e2 without random_state gave the same points %q", x)
	}
	if x, y := points("e1", sobol.Scramble, "false", algorithm.RandomState, "1"), points("e2", sobol.Scramble, "false", algorithm.RandomState, "2"); !slices.Equal(x, y) {
		t.Errorf("the plain sequence differs between seeds: %q, %q", x, y)
	}
}

func TestValidateDimensions(t *testing.T) {
	specs := func(n int) []*pb.ParameterSpec {
		out := make([]*pb.ParameterSpec, n)
		for i := range out {
			out[i] = double(fmt.Sprintf("x%d", i), "0", "1")
		}
		return out
	}
	tests := []struct {
		name    string
		n       int
		wantErr string
	}{
		{"one parameter", 1, ""},
		{"the most the direction numbers cover", sobol.MaxParameters, ""},
		{"one more", sobol.MaxParameters + 1,
			"experiment.experimentSpec.parameterSpecs.parameters: 21201 parameters: the Sobol' sequence's direction numbers cover at most 21200; use random search for more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := algorithm.NewProblem(sobol.Sobol{}, experiment(nil, specs(tt.n)...))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("NewProblem: %v", err)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Errorf("NewProblem: %v, want %q", err, tt.wantErr)
			case tt.wantErr != "" && !algorithm.IsInvalidArgument(err):
				t.Errorf("NewProblem: %v is not the caller's to fix", err)
			}
		})
	}
}

// TestMaxParametersIsGoptunas checks the limit against the engine itself:
// goptuna's engine covers one dimension fewer than the sequence, and fails
// beyond that.
func TestMaxParametersIsGoptunas(t *testing.T) {
	n := sobol.MaxParameters - 1
	if x := gsobol.NewEngine(uint32(n)).Draw(); len(x) != n {
		t.Fatalf("engine of %d dimensions drew %d", n, len(x))
	}
	defer func() {
		if recover() == nil {
			t.Errorf("NewEngine(%d) did not panic: MaxParameters is below goptuna's limit", n+1)
		}
	}()
	gsobol.NewEngine(uint32(n + 1))
}

// TestPointsAreTheSequence checks that points are the standard Sobol'
// sequence (as scipy's unscrambled Sobol' gives it, less the origin),
// mapped through the priors: the first coordinate and those from the third
// on are goptuna's, the second the one goptuna lacks.
func TestPointsAreTheSequence(t *testing.T) {
	p := plain(t, double("a", "0", "1"), double("b", "0", "1"), double("c", "0", "1"))
	want := []searchspace.Point{
		{0.5, 0.5, 0.5}, {0.75, 0.25, 0.25}, {0.25, 0.75, 0.75}, {0.375, 0.375, 0.625},
		{0.875, 0.875, 0.125}, {0.625, 0.125, 0.875}, {0.125, 0.625, 0.375}, {0.1875, 0.3125, 0.9375},
	}
	if got := suggest(t, p, nil, len(want)).Points; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("first points %v, want %v", got, want)
	}

	specs := []*pb.ParameterSpec{
		double("a", "0", "1"),
		double("b", "0", "1"),
		param("c", pb.ParameterType_DOUBLE, "1e-4", "1", "", pb.Distribution_LOG_UNIFORM),
		param("d", pb.ParameterType_DOUBLE, "-3", "3", "", pb.Distribution_NORMAL),
		integer("e", "1", "5"),
	}
	p = plain(t, specs...)
	out := suggest(t, p, nil, 100)
	eng := gsobol.NewEngine(4)
	for i, pt := range out.Points {
		u := eng.Draw()
		for j, k := range []int{0, 2, 3, 4} {
			if want := p.Space.Params[k].FromUnit(u[j]); pt[k] != want {
				t.Fatalf("point %d, coordinate %d = %v, want goptuna's %v", i, k, pt[k], want)
			}
		}
	}
	// The first point is the centre of the cube: each prior's median.
	for j, want := range []float64{0.5, 0.5, 0.01, 0, 3} {
		if got := out.Points[0][j]; math.Abs(got-want) > 1e-12 {
			t.Errorf("first point, coordinate %d = %v, want the median %v", j, got, want)
		}
	}
}

// TestEvenCoverage checks the property that makes the sequence worth
// having, and that scrambling keeps: the first 2^k points (of the plain
// sequence, with the origin, which it skips) put exactly one point in each
// of the 2^k equal intervals of every coordinate, and the first two
// coordinates one in each of the 2^k boxes of 2^a × 2^(k-a) cells, for
// every a.
func TestEvenCoverage(t *testing.T) {
	specs := []*pb.ParameterSpec{double("x", "0", "1"), double("y", "0", "1"), double("z", "0", "1"), double("w", "0", "1")}
	const most = 10
	p := plain(t, specs...)
	checkCoverage(t, "plain", append([]searchspace.Point{{0, 0, 0, 0}}, suggest(t, p, nil, 1<<most-1).Points...), most)
	for seed := range 3 {
		p := algorithmtest.Problem(t, sobol.Sobol{}, experiment(algorithmtest.Settings(algorithm.RandomState, strconv.Itoa(seed)), specs...))
		checkCoverage(t, fmt.Sprintf("scrambled, seed %d", seed), suggest(t, p, nil, 1<<most).Points, most)
	}
}

func checkCoverage(t *testing.T, name string, seq []searchspace.Point, most int) {
	t.Helper()
	for k := 1; k <= most; k++ {
		n := 1 << k
		pts := seq[:n]
		for d := range 4 {
			bins := make([]int, n)
			for _, pt := range pts {
				bins[int(pt[d]*float64(n))]++
			}
			for b, c := range bins {
				if c != 1 {
					t.Fatalf("%s: %d points, coordinate %d: %d in [%d/%d, %d/%d), want 1", name, n, d, c, b, n, b+1, n)
				}
			}
		}
		for a := 0; a <= k; a++ {
			rows, cols := 1<<a, 1<<(k-a)
			boxes := make(map[[2]int]int)
			for _, pt := range pts {
				boxes[[2]int{int(pt[0] * float64(rows)), int(pt[1] * float64(cols))}]++
			}
			if len(boxes) != n {
				t.Errorf("%s: %d points in %d x %d boxes: %d boxes hold them, want one each", name, n, rows, cols, len(boxes))
			}
		}
	}
}

// TestCallsContinueTheSequence: however the points are asked for, in one
// call or many, with whatever conditions the earlier trials have, the walk
// hands out the same points in the same order.
func TestCallsContinueTheSequence(t *testing.T) {
	spaces := []struct {
		name  string
		specs []*pb.ParameterSpec
	}{
		{"continuous", []*pb.ParameterSpec{double("x", "-5", "10"), double("y", "0", "15")}},
		{"katib example", katib()},
		{"finite", []*pb.ParameterSpec{integer("n", "1", "20"), discrete("d", "0.1", "1", "10"), categorical("c", "a", "b", "c", "d")}},
	}
	conditions := []pb.TrialCondition{pb.TrialCondition_PENDING, pb.TrialCondition_RUNNING, pb.TrialCondition_SUCCEEDED,
		pb.TrialCondition_FAILED, pb.TrialCondition_METRICS_UNAVAILABLE, pb.TrialCondition_EARLY_STOPPED}
	for _, sp := range spaces {
		t.Run(sp.name, func(t *testing.T) {
			p := problem(t, sp.specs...)
			all := suggest(t, p, nil, 40)
			again := suggest(t, p, nil, 40)
			if !slices.Equal(keys(p.Space, all.Points), keys(p.Space, again.Points)) {
				t.Fatalf("the same request gave different points")
			}
			for _, cond := range conditions {
				var history []searchspace.Point
				for _, n := range []int{1, 2, 3, 4, 5, 25} {
					out := suggestTrials(t, p, trialsOf(t, p, history, cond), n)
					history = append(history, out.Points...)
				}
				if !slices.Equal(keys(p.Space, history), keys(p.Space, all.Points)) {
					t.Errorf("%s history: calls of 1, 2, 3, 4, 5 and 25 gave\n%q\nwant the 40 of one call\n%q", cond, keys(p.Space, history), keys(p.Space, all.Points))
				}
			}
		})
	}
}

// TestIntUpperBoundReachable: each value of an int range owns an equal
// cell, so the first points reach both ends (goptuna's own sampler, which
// floors p·(max-min)+min, never reaches max).
func TestIntUpperBoundReachable(t *testing.T) {
	tests := []struct {
		name  string
		spec  *pb.ParameterSpec
		count int
		want  []float64 // values that must appear among the first count
	}{
		{"two values", integer("n", "0", "1"), 2, []float64{0, 1}},
		{"four values", integer("n", "1", "4"), 4, []float64{1, 2, 3, 4}},
		{"stepped", param("n", pb.ParameterType_INT, "0", "100", "25", 0), 5, []float64{0, 25, 50, 75, 100}},
		{"log-uniform", param("n", pb.ParameterType_INT, "1", "8", "", pb.Distribution_LOG_UNIFORM), 32, []float64{1, 8}},
		{"stepped double", param("x", pb.ParameterType_DOUBLE, "0.1", "0.5", "0.1", 0), 5, []float64{0.1, 0.2, 0.3, 0.4, 0.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := problem(t, tt.spec)
			out := suggest(t, p, nil, tt.count)
			got := make(map[string]bool)
			for _, pt := range out.Points {
				got[p.Space.Key(pt)] = true
			}
			for _, v := range tt.want {
				if k := p.Space.Key(searchspace.Point{v}); !got[k] {
					t.Errorf("%s not among the first %d points %q", k, tt.count, keys(p.Space, out.Points))
				}
			}
		})
	}
}

// twelve is a finite space of 4 x 3 = 12 points.
func TestFiniteSpaceRunsOut(t *testing.T) {
	for _, batch := range []int{1, 5, 7} {
		t.Run(strconv.Itoa(batch), func(t *testing.T) {
			p := problem(t, twelve()...)
			var history []searchspace.Point
			for len(history) < 12 {
				out := suggest(t, p, history, batch)
				history = append(history, out.Points...)
				if want := len(history) == 12; out.Exhausted != want {
					t.Fatalf("after %d points handed out, exhausted %v; want %v", len(history), out.Exhausted, want)
				}
				if len(history) > 12 {
					t.Fatalf("%d points handed out in a space of 12", len(history))
				}
			}
			last := suggest(t, p, history, batch)
			if len(last.Points) != 0 || !last.Exhausted {
				t.Errorf("after every point: %d points, exhausted %v; want 0, true", len(last.Points), last.Exhausted)
			}
		})
	}
}

func TestExhaustion(t *testing.T) {
	algorithmtest.Exhaustion(t, sobol.Sobol{}, problem(t, twelve()...))
}

// TestWalkLandsOnTakenPoints: history the walk did not hand out (another
// algorithm's, or a user's) takes points the walk would reach; it moves on
// past them, and when the taken points are the likely ones of a narrow
// prior, it picks among the few left.
func TestWalkLandsOnTakenPoints(t *testing.T) {
	t.Run("foreign history", func(t *testing.T) {
		p := problem(t, integer("a", "1", "10"), integer("b", "1", "10"))
		fresh := suggest(t, p, nil, 30)
		// The first 30 points of the walk are taken, but by 30 trials that
		// the walk would skip over anyway and 30 of its own.
		history := append(slices.Clone(fresh.Points), fresh.Points...)
		out := suggest(t, p, history, 30)
		if len(out.Points) != 30 || out.Exhausted {
			t.Errorf("%d points, exhausted %v; want 30, false", len(out.Points), out.Exhausted)
		}
	})
	t.Run("narrow prior mostly taken", func(t *testing.T) {
		p := problem(t, param("n", pb.ParameterType_INT, "0", "200", "", pb.Distribution_NORMAL))
		var middle []searchspace.Point
		for v := 5; v <= 194; v++ {
			middle = append(middle, searchspace.Point{float64(v)})
		}
		out := suggest(t, p, middle, 10)
		if len(out.Points) != 10 || out.Exhausted {
			t.Fatalf("%d points, exhausted %v; want 10 of the 11 left, false", len(out.Points), out.Exhausted)
		}
		last := suggest(t, p, append(middle, out.Points...), 10)
		if len(last.Points) != 1 || !last.Exhausted {
			t.Errorf("%d points, exhausted %v; want the last 1, true", len(last.Points), last.Exhausted)
		}
	})
	t.Run("large space", func(t *testing.T) {
		// 10^6 points: too many to list, so the fallback draws.
		p := problem(t, param("a", pb.ParameterType_INT, "0", "999", "", pb.Distribution_NORMAL),
			param("b", pb.ParameterType_INT, "0", "999", "", pb.Distribution_NORMAL))
		var history []searchspace.Point
		for a := 400; a < 600; a++ {
			for b := 400; b < 600; b++ {
				history = append(history, searchspace.Point{float64(a), float64(b)})
			}
		}
		suggest(t, p, history, 100)
	})
}

func TestManyPointsStayInRangeAndDistinct(t *testing.T) {
	tests := []struct {
		name  string
		specs []*pb.ParameterSpec
		count int
	}{
		{"katib example", katib(), 500},
		{"log-normal double", []*pb.ParameterSpec{param("x", pb.ParameterType_DOUBLE, "1e-3", "1e3", "", pb.Distribution_LOG_NORMAL)}, 500},
		{"ints", []*pb.ParameterSpec{integer("a", "0", "99"), integer("b", "-50", "50")}, 2000},
		{"discrete and categorical", []*pb.ParameterSpec{discrete("d", "0.5", "-1", "10", "3", "1e-3"), categorical("c", "x", "y")}, 9},
		{"one-valued parameters", []*pb.ParameterSpec{integer("a", "3", "3"), double("x", "0", "1"), categorical("c", "only")}, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := problem(t, tt.specs...)
			out := suggest(t, p, nil, tt.count)
			if len(out.Points) != tt.count || out.Exhausted {
				t.Errorf("%d points, exhausted %v; want %d, false", len(out.Points), out.Exhausted, tt.count)
			}
			suggest(t, p, out.Points, tt.count)
		})
	}
}

func TestCancelledContext(t *testing.T) {
	p := problem(t, double("x", "0", "1"))
	algorithmtest.Cancelled(t, sobol.Sobol{}, p, trialsOf(t, p, []searchspace.Point{{0.5}}, pb.TrialCondition_SUCCEEDED), 5)
	algorithmtest.CancelledMidway(t, sobol.Sobol{}, p, trialsOf(t, p, []searchspace.Point{{0.5}}, pb.TrialCondition_SUCCEEDED), 20)
}

// instance is one test function over its search space.
type instance struct {
	specs []*pb.ParameterSpec
	f     func(searchspace.Point) float64
}

// sphere is the squared distance to a centre drawn from the seed in
// [0, 1]^3.
func sphere(seed int) instance {
	r := rand.New(rand.NewPCG(uint64(seed), 2))
	c := []float64{r.Float64(), r.Float64(), r.Float64()}
	return instance{
		specs: []*pb.ParameterSpec{double("a", "0", "1"), double("b", "0", "1"), double("c", "0", "1")},
		f: func(x searchspace.Point) float64 {
			var s float64
			for i := range c {
				s += (x[i] - c[i]) * (x[i] - c[i])
			}
			return s
		},
	}
}

// bestAfter runs an algorithm the way the controller does, batch points a
// call, every call with all trials so far, completed with their values,
// and the state of the last reply overlaid on the settings; it returns the
// best value after n evaluations.
func bestAfter(t testing.TB, alg algorithm.Algorithm, settings []*pb.AlgorithmSetting, in instance, n, batch int) float64 {
	t.Helper()
	var hist []algorithmtest.Trial
	var state []*pb.AlgorithmSetting
	best := math.Inf(1)
	for len(hist) < n {
		p := algorithmtest.Problem(t, alg, experiment(append(slices.Clone(settings), state...), in.specs...))
		out := algorithmtest.Suggest(t, alg, p, algorithmtest.Trials(t, p, hist), min(batch, n-len(hist)))
		state = out.State
		for _, pt := range out.Points {
			v := in.f(pt)
			best = min(best, v)
			hist = append(hist, algorithmtest.Done(pt, v))
		}
	}
	return best
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

// TestQualityBeatsRandom: over 31 instances of a test function (seeds 1 to
// 31 move its minimum), the median of the sequence's best after n
// evaluations beats the median of random search's best, random search run
// on the same instances with random_state set to the seed. The sequence's
// advantage is in how evenly it covers the space, so it shows over many
// placements of the minimum, not on one. (On Branin, whose minima lie in
// thin curved valleys, it is no better than random search: over 401
// shifted instances the medians after 64 evaluations are 1.16 and 1.08,
// the means 1.40 and 1.42.) Everything is seeded, so the outcome is fixed.
func TestQualityBeatsRandom(t *testing.T) {
	tests := []struct {
		name     string
		instance func(seed int) instance
		n        int
	}{
		{"sphere-3d", sphere, 16},
		{"sphere-3d", sphere, 32},
		{"sphere-3d", sphere, 64},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.name, tt.n), func(t *testing.T) {
			var sob, rnd []float64
			for seed := 1; seed <= 31; seed++ {
				in := tt.instance(seed)
				sob = append(sob, bestAfter(t, sobol.Sobol{}, nil, in, tt.n, 4))
				rnd = append(rnd, bestAfter(t, random.Random{}, []*pb.AlgorithmSetting{{Name: algorithm.RandomState, Value: strconv.Itoa(seed)}}, in, tt.n, 4))
			}
			s, r := median(sob), median(rnd)
			t.Logf("%s after %d evaluations, median best over 31 seeds: sobol %.4g, random %.4g", tt.name, tt.n, s, r)
			if s >= r {
				t.Errorf("%s after %d evaluations: sobol's median best %.4g, random's %.4g", tt.name, tt.n, s, r)
			}
		})
	}
}

func benchmarkSuggest(b *testing.B, specs []*pb.ParameterSpec, history int) {
	p := problem(b, specs...)
	trials := trialsOf(b, p, suggest(b, p, nil, history).Points, pb.TrialCondition_SUCCEEDED)
	ctx := context.Background()
	for b.Loop() {
		out, err := sobol.Sobol{}.Suggest(ctx, p, trials, 5)
		if err != nil || len(out.Points) != 5 {
			b.Fatalf("Suggest = %v, %v", out, err)
		}
	}
}

func BenchmarkSobolSuggest(b *testing.B) {
	spaces := []struct {
		name  string
		specs []*pb.ParameterSpec
	}{
		{"katib", katib()},
		{"10d", func() []*pb.ParameterSpec {
			var s []*pb.ParameterSpec
			for i := range 10 {
				s = append(s, double(fmt.Sprintf("x%d", i), "0", "1"))
			}
			return s
		}()},
	}
	for _, sp := range spaces {
		for _, n := range []int{100, 500} {
			b.Run(fmt.Sprintf("%s/trials=%d", sp.name, n), func(b *testing.B) { benchmarkSuggest(b, sp.specs, n) })
		}
	}
}

// TestScrambledSpaceRunsOutExactly: whatever the scramble, a finite space
// is handed out whole, each point once, and then reported used up.
func TestScrambledSpaceRunsOutExactly(t *testing.T) {
	specs := []*pb.ParameterSpec{integer("n", "1", "6"), categorical("c", "a", "b", "c", "d"), discrete("d", "1", "10")}
	for seed := range 5 {
		p := algorithmtest.Problem(t, sobol.Sobol{}, experiment(algorithmtest.Settings(algorithm.RandomState, strconv.Itoa(seed)), specs...))
		var history []searchspace.Point
		for range 100 {
			out := suggest(t, p, history, 5)
			history = append(history, out.Points...)
			if out.Exhausted {
				break
			}
		}
		if got := len(slices.Compact(slices.Sorted(slices.Values(keys(p.Space, history))))); got != 48 || len(history) != 48 {
			t.Errorf("seed %d: %d points handed out, %d distinct, want all 48 once", seed, len(history), got)
		}
	}
}
