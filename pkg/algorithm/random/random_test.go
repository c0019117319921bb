package random_test

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/algorithmtest"
	"knobs.dev/knobs/pkg/algorithm/random"
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

// problem is an experiment over specs; seed is its random_state, none if "".
func problem(t testing.TB, seed string, specs ...*pb.ParameterSpec) *algorithm.Problem {
	t.Helper()
	var settings []*pb.AlgorithmSetting
	if seed != "" {
		settings = algorithmtest.Settings(algorithm.RandomState, seed)
	}
	return algorithmtest.Problem(t, random.Random{}, algorithmtest.Experiment("random", settings, specs...))
}

// suggest asks for count points given the points handed out so far, and
// checks the reply against the contract.
func suggest(t testing.TB, p *algorithm.Problem, history []searchspace.Point, count int) *algorithm.Suggestions {
	t.Helper()
	return algorithmtest.Suggest(t, random.Random{}, p, algorithmtest.Trials(t, p, algorithmtest.History(history, 0)), count)
}

func TestSeedExample(t *testing.T) {
	p := problem(t, "42", katib()...)
	first := suggest(t, p, nil, 3)
	if len(first.Points) != 3 || first.Exhausted {
		t.Fatalf("got %d points, exhausted %v; want 3, false", len(first.Points), first.Exhausted)
	}
	again := suggest(t, problem(t, "42", katib()...), nil, 3)
	if !slices.Equal(keys(p.Space, first.Points), keys(p.Space, again.Points)) {
		t.Errorf("same request gave %v then %v", keys(p.Space, first.Points), keys(p.Space, again.Points))
	}
	other := suggest(t, problem(t, "43", katib()...), nil, 3)
	if slices.Equal(keys(p.Space, first.Points), keys(p.Space, other.Points)) {
		t.Errorf("random_state 42 and 43 gave the same points %v", keys(p.Space, first.Points))
	}
	// The next call, with the first reply as history, differs from the first.
	next := suggest(t, p, first.Points, 3)
	if slices.Equal(keys(p.Space, first.Points), keys(p.Space, next.Points)) {
		t.Errorf("the second call repeated the first: %v", keys(p.Space, next.Points))
	}
	if len(first.State) != 0 {
		t.Errorf("random search wrote back state %v", first.State)
	}
}

func TestWithoutSeedTheExperimentNameSeeds(t *testing.T) {
	a := suggest(t, problem(t, "", katib()...), nil, 4)
	b := suggest(t, problem(t, "", katib()...), nil, 4)
	s := problem(t, "", katib()...).Space
	if !slices.Equal(keys(s, a.Points), keys(s, b.Points)) {
		t.Errorf("the same unseeded request gave %v then %v", keys(s, a.Points), keys(s, b.Points))
	}
}

func TestSettingsAndValidate(t *testing.T) {
	settings := random.Random{}.Settings()
	if len(settings) != 1 || settings[0].Name != algorithm.RandomState {
		t.Errorf("Settings() = %+v, want random_state only", settings)
	}
	if err := (random.Random{}).Validate(problem(t, "", katib()...)); err != nil {
		t.Errorf("Validate = %v", err)
	}
}

// twelve is a finite space of 4 x 3 = 12 points.
func TestFiniteSpaceRunsOut(t *testing.T) {
	p := problem(t, "7", twelve()...)
	var history []searchspace.Point
	wantLens := []int{5, 5, 2}
	wantExhausted := []bool{false, false, true}
	for call := range 3 {
		out := suggest(t, p, history, 5)
		if len(out.Points) != wantLens[call] || out.Exhausted != wantExhausted[call] {
			t.Fatalf("call %d: %d points, exhausted %v; want %d, %v", call, len(out.Points), out.Exhausted, wantLens[call], wantExhausted[call])
		}
		history = append(history, out.Points...)
	}
	if got := len(keys(p.Space, history)); got != 12 {
		t.Fatalf("%d points handed out, want 12", got)
	}
	distinct := make(map[string]bool)
	for _, k := range keys(p.Space, history) {
		distinct[k] = true
	}
	if len(distinct) != 12 {
		t.Errorf("%d distinct points in 12, want every point once", len(distinct))
	}
	last := suggest(t, p, history, 5)
	if len(last.Points) != 0 || !last.Exhausted {
		t.Errorf("after every point: %d points, exhausted %v; want 0, true", len(last.Points), last.Exhausted)
	}
}

func TestExhaustion(t *testing.T) {
	algorithmtest.Exhaustion(t, random.Random{}, problem(t, "7", twelve()...))
}

func TestDistributionsStayInRange(t *testing.T) {
	tests := []struct {
		name  string
		specs []*pb.ParameterSpec
		count int
	}{
		{"double uniform", []*pb.ParameterSpec{double("x", "-1", "3")}, 300},
		{"double logUniform", []*pb.ParameterSpec{param("x", pb.ParameterType_DOUBLE, "1e-6", "1", "", pb.Distribution_LOG_UNIFORM)}, 300},
		{"double normal", []*pb.ParameterSpec{param("x", pb.ParameterType_DOUBLE, "-5", "5", "", pb.Distribution_NORMAL)}, 300},
		{"double logNormal", []*pb.ParameterSpec{param("x", pb.ParameterType_DOUBLE, "1e-3", "1e3", "", pb.Distribution_LOG_NORMAL)}, 300},
		{"stepped double", []*pb.ParameterSpec{param("x", pb.ParameterType_DOUBLE, "0.01", "0.03", "0.005", 0)}, 4},
		{"stepped double logUniform", []*pb.ParameterSpec{param("x", pb.ParameterType_DOUBLE, "0.1", "10", "0.1", pb.Distribution_LOG_UNIFORM)}, 60},
		{"int uniform", []*pb.ParameterSpec{integer("n", "-50", "50")}, 60},
		{"int logUniform", []*pb.ParameterSpec{param("n", pb.ParameterType_INT, "1", "1000", "", pb.Distribution_LOG_UNIFORM)}, 300},
		{"int normal", []*pb.ParameterSpec{param("n", pb.ParameterType_INT, "0", "200", "", pb.Distribution_NORMAL)}, 150},
		{"int logNormal stepped", []*pb.ParameterSpec{param("n", pb.ParameterType_INT, "1", "1000", "7", pb.Distribution_LOG_NORMAL)}, 100},
		{"discrete", []*pb.ParameterSpec{discrete("d", "0.5", "-1", "10", "3", "1e-3")}, 4},
		{"categorical", []*pb.ParameterSpec{categorical("c", "sgd", "adam", "ftrl", "rmsprop")}, 3},
		{"katib example", katib(), 300},
		{"large finite space", []*pb.ParameterSpec{integer("a", "0", "999"), integer("b", "0", "999"), integer("c", "0", "999")}, 300},
		{"space beyond 64 bits", []*pb.ParameterSpec{integer("a", "0", "1000000"), integer("b", "0", "1000000"),
			integer("c", "0", "1000000"), integer("d", "0", "1000000"), integer("e", "0", "1000000")}, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := problem(t, "1", tt.specs...)
			out := suggest(t, p, nil, tt.count) // checks range and distinctness
			if len(out.Points) != tt.count || out.Exhausted {
				t.Errorf("%d points, exhausted %v; want %d, false", len(out.Points), out.Exhausted, tt.count)
			}
			// Another call with that history stays in range and fresh too.
			suggest(t, p, out.Points, tt.count)
		})
	}
}

func TestSamplesFollowThePrior(t *testing.T) {
	tests := []struct {
		name  string
		spec  *pb.ParameterSpec
		below float64 // the prior's median
	}{
		{"uniform", double("x", "0", "1"), 0.5},
		{"logUniform", param("x", pb.ParameterType_DOUBLE, "1e-4", "1", "", pb.Distribution_LOG_UNIFORM), 1e-2},
		{"logNormal", param("x", pb.ParameterType_DOUBLE, "1e-3", "10", "", pb.Distribution_LOG_NORMAL), 0.1},
		// A finite space where no value is likely enough for not repeating
		// points to change the distribution much. (From 1, the values 1, 2,
		// 3... would each be drawn often; skipping their repeats would shift
		// the fresh points up.)
		{"int logUniform", param("n", pb.ParameterType_INT, "1000", "1000000", "", pb.Distribution_LOG_UNIFORM), 31623},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := suggest(t, problem(t, "3", tt.spec), nil, 2000)
			n := 0
			for _, pt := range out.Points {
				if pt[0] < tt.below {
					n++
				}
			}
			if frac := float64(n) / 2000; math.Abs(frac-0.5) > 0.05 {
				t.Errorf("%.3f of the points below the median %g, want about 0.5", frac, tt.below)
			}
		})
	}
	// The normal prior puts about 68% within a sixth of the width of the
	// middle.
	normals := []struct {
		name   string
		spec   *pb.ParameterSpec
		lo, hi float64
	}{
		{"double normal", param("x", pb.ParameterType_DOUBLE, "0", "6", "", pb.Distribution_NORMAL), 2, 4},
		{"int normal", param("n", pb.ParameterType_INT, "0", "60000", "", pb.Distribution_NORMAL), 20000, 40000},
	}
	for _, tt := range normals {
		t.Run(tt.name, func(t *testing.T) {
			out := suggest(t, problem(t, "3", tt.spec), nil, 2000)
			n := 0
			for _, pt := range out.Points {
				if pt[0] >= tt.lo && pt[0] <= tt.hi {
					n++
				}
			}
			if frac := float64(n) / 2000; math.Abs(frac-0.68) > 0.05 {
				t.Errorf("%.3f within one sd, want about 0.68", frac)
			}
		})
	}
}

// TestConcentratedPriorMostlyTaken takes the likely middle of a normal int
// parameter, so that draws from the prior keep repeating and the algorithm
// must find the few points left in the tails.
func TestConcentratedPriorMostlyTaken(t *testing.T) {
	p := problem(t, "5", param("n", pb.ParameterType_INT, "0", "200", "", pb.Distribution_NORMAL))
	var middle []searchspace.Point
	for v := 5; v <= 194; v++ { // 190 of the 201 values
		middle = append(middle, searchspace.Point{float64(v)})
	}
	left := map[float64]bool{0: true, 1: true, 2: true, 3: true, 4: true, 195: true, 196: true, 197: true, 198: true, 199: true, 200: true}

	out := suggest(t, p, middle, 10)
	if len(out.Points) != 10 || out.Exhausted {
		t.Fatalf("%d points, exhausted %v; want 10 of the 11 left, false", len(out.Points), out.Exhausted)
	}
	for _, pt := range out.Points {
		if !left[pt[0]] {
			t.Errorf("suggested %v, which is taken", pt[0])
		}
	}
	history := append(append([]searchspace.Point{}, middle...), out.Points...)
	last := suggest(t, p, history, 10)
	if len(last.Points) != 1 || !last.Exhausted {
		t.Fatalf("%d points, exhausted %v; want the last 1, true", len(last.Points), last.Exhausted)
	}
	if !left[last.Points[0][0]] {
		t.Errorf("last point %v is taken", last.Points[0][0])
	}

	all := suggest(t, p, middle, 11)
	if len(all.Points) != 11 || !all.Exhausted {
		t.Errorf("asking for all 11 left: %d points, exhausted %v; want 11, true", len(all.Points), all.Exhausted)
	}
}

func TestContinuousSpaceNeverExhausts(t *testing.T) {
	p := problem(t, "11", double("x", "0", "1"))
	var history []searchspace.Point
	for range 5 {
		out := suggest(t, p, history, 100)
		if len(out.Points) != 100 || out.Exhausted {
			t.Fatalf("%d points, exhausted %v; want 100, false", len(out.Points), out.Exhausted)
		}
		history = append(history, out.Points...)
	}
}

func TestCancelledContext(t *testing.T) {
	p := problem(t, "1", double("x", "0", "1"))
	algorithmtest.Cancelled(t, random.Random{}, p, nil, 5)
	algorithmtest.CancelledMidway(t, random.Random{}, p, nil, 50)
}

func BenchmarkRandomSeedExample(b *testing.B) {
	p := problem(b, "42", katib()...)
	ctx := context.Background()
	for b.Loop() {
		out, err := random.Random{}.Suggest(ctx, p, nil, 3)
		if err != nil || len(out.Points) != 3 {
			b.Fatalf("Suggest = %v, %v", out, err)
		}
	}
}

// A double range too narrow to hold the distinct numbers asked for is the
// caller's mistake, said at once, not an endless search.
func TestTooFewDistinctNumbers(t *testing.T) {
	p := problem(t, "1", double("x", "1", "1.0000000000000002"))
	_, err := random.Random{}.Suggest(context.Background(), p, nil, 3)
	if !algorithm.IsInvalidArgument(err) || !strings.Contains(err.Error(), "too few distinct points") {
		t.Fatalf("got %v, want an InvalidArgument saying the space holds too few distinct points", err)
	}
	wide := problem(t, "1", double("x", "-1e308", "1e308"))
	out, err := random.Random{}.Suggest(context.Background(), wide, nil, 3)
	if err != nil || len(out.Points) != 3 {
		t.Fatalf("widest range: %v, %v; want 3 points", out, err)
	}
}
