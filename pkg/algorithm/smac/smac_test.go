package smac_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/algorithmtest"
	"knobs.dev/knobs/pkg/algorithm/random"
	"knobs.dev/knobs/pkg/algorithm/smac"
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
	done        = algorithmtest.Done
	keys        = algorithmtest.Keys
)

func setting(name, value string) *pb.AlgorithmSetting {
	return &pb.AlgorithmSetting{Name: name, Value: value}
}

// experiment minimises "loss" over specs with the given settings.
func experiment(settings []*pb.AlgorithmSetting, specs ...*pb.ParameterSpec) *pb.Experiment {
	return algorithmtest.Experiment("smac", settings, specs...)
}

func newProblem(t testing.TB, exp *pb.Experiment) *algorithm.Problem {
	t.Helper()
	return algorithmtest.Problem(t, smac.SMAC{}, exp)
}

// problem minimises over specs; seed is its random_state, none if "".
func problem(t testing.TB, seed string, specs ...*pb.ParameterSpec) *algorithm.Problem {
	t.Helper()
	var settings []*pb.AlgorithmSetting
	if seed != "" {
		settings = append(settings, setting(algorithm.RandomState, seed))
	}
	return newProblem(t, experiment(settings, specs...))
}

// trial is a point with what is known of it: a condition and, for a
// completed trial, its loss.
type trial = algorithmtest.Trial

// trialsOf turns trials into the form a request brings them in; a
// maximising experiment reports the loss negated.
func trialsOf(t testing.TB, p *algorithm.Problem, history []trial) []algorithm.Trial {
	t.Helper()
	if p.Objective.Maximize {
		history = slices.Clone(history)
		for i := range history {
			history[i].Value = -history[i].Value
		}
	}
	return algorithmtest.Trials(t, p, history)
}

func suggestWith(t testing.TB, alg algorithm.Algorithm, p *algorithm.Problem, history []trial, count int) *algorithm.Suggestions {
	t.Helper()
	return algorithmtest.Suggest(t, alg, p, trialsOf(t, p, history), count)
}

func suggest(t testing.TB, p *algorithm.Problem, history []trial, count int) *algorithm.Suggestions {
	t.Helper()
	return suggestWith(t, smac.SMAC{}, p, history, count)
}

// optimise runs n evaluations of f, batch points per call, and returns the
// history.
func optimise(t testing.TB, alg algorithm.Algorithm, p *algorithm.Problem, f func(searchspace.Point) float64, n, batch int) []trial {
	t.Helper()
	var history []trial
	for len(history) < n {
		out := suggestWith(t, alg, p, history, min(batch, n-len(history)))
		for _, pt := range out.Points {
			history = append(history, done(pt, f(pt)))
		}
		if out.Exhausted {
			break
		}
	}
	return history
}

func best(history []trial) float64 {
	b := math.Inf(1)
	for _, h := range history {
		b = math.Min(b, h.Value)
	}
	return b
}

// Test functions.

// branin has its minimum 0.397887 at (-pi, 12.275), (pi, 2.275) and
// (9.42478, 2.475), over x in [-5, 10], y in [0, 15].
func branin(pt searchspace.Point) float64 {
	x, y := pt[0], pt[1]
	const b, c, r, s, t = 5.1 / (4 * math.Pi * math.Pi), 5 / math.Pi, 6, 10, 1 / (8 * math.Pi)
	return (y-b*x*x+c*x-r)*(y-b*x*x+c*x-r) + s*(1-t)*math.Cos(x) + s
}

func braninSpace() []*pb.ParameterSpec {
	return []*pb.ParameterSpec{double("x", "-5", "10"), double("y", "0", "15")}
}

// mixedSpace has a log-uniform learning rate, an int, a discrete and a
// categorical parameter whose choice matters most.
func mixedSpace() []*pb.ParameterSpec {
	return []*pb.ParameterSpec{
		param("lr", pb.ParameterType_DOUBLE, "1e-5", "1", "", pb.Distribution_LOG_UNIFORM),
		integer("layers", "1", "20"),
		discrete("batch", "16", "32", "64", "128", "256"),
		categorical("optimizer", "sgd", "adam", "rmsprop", "adagrad", "ftrl"),
	}
}

// mixed is a loss over mixedSpace: best at lr 1e-3, 7 layers, batch 64 with
// rmsprop; every other optimizer costs at least 1.
func mixed(p *algorithm.Problem) func(searchspace.Point) float64 {
	batch := &p.Space.Params[2]
	penalty := []float64{3, 1, 0, 2, 4}
	return func(pt searchspace.Point) float64 {
		lr := math.Log10(pt[0]) + 3
		layers := (pt[1] - 7) / 5
		b := math.Log2(batch.Numeric(pt[2])) - 6
		return lr*lr + layers*layers + 0.3*b*b + penalty[int(pt[3])]
	}
}

func TestSettings(t *testing.T) {
	want := map[string]string{
		"n_initial_points":    "10",
		"n_trees":             "10",
		"random_fraction":     "0.2",
		algorithm.RandomState: "",
	}
	got := make(map[string]string)
	for _, s := range (smac.SMAC{}).Settings() {
		got[s.Name] = s.Default
		if s.Description == "" || s.Allowed == "" {
			t.Errorf("setting %q lacks a description or what it allows", s.Name)
		}
	}
	if !maps(got, want) {
		t.Errorf("settings and defaults %v, want %v", got, want)
	}
}

func maps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name     string
		settings []*pb.AlgorithmSetting
		noMetric bool
		want     string // part of the error, "" for none
	}{
		{name: "defaults"},
		{name: "every setting", settings: []*pb.AlgorithmSetting{
			setting("n_initial_points", "5"), setting("n_trees", "20"),
			setting("random_fraction", "0"), setting("random_state", "7")}},
		{name: "all random", settings: []*pb.AlgorithmSetting{setting("random_fraction", "1")}},
		{name: "unknown setting", settings: []*pb.AlgorithmSetting{setting("n_trials", "5")},
			want: `experiment.experimentSpec.algorithm.algorithmSettings[0]: unknown setting "n_trials": this algorithm takes n_initial_points, n_trees, random_fraction, random_state`},
		{name: "SMAC3's name for the initial design", settings: []*pb.AlgorithmSetting{setting("n_trees", "3"), setting("n_configs", "5")},
			want: `algorithmSettings[1]: unknown setting "n_configs"`},
		{name: "no initial points", settings: []*pb.AlgorithmSetting{setting("n_initial_points", "0")},
			want: `n_initial_points: "0" is not an integer from 1 to 10000`},
		{name: "no trees", settings: []*pb.AlgorithmSetting{setting("n_trees", "0")},
			want: `n_trees: "0" is not an integer from 1 to 100`},
		{name: "too many trees", settings: []*pb.AlgorithmSetting{setting("n_trees", "1000")},
			want: `n_trees: "1000" is not an integer from 1 to 100`},
		{name: "trees not a number", settings: []*pb.AlgorithmSetting{setting("n_trees", "ten")},
			want: `n_trees: "ten" is not an integer from 1 to 100`},
		{name: "fraction above one", settings: []*pb.AlgorithmSetting{setting("random_fraction", "1.5")},
			want: `random_fraction: "1.5" is not a number from 0 to 1`},
		{name: "negative fraction", settings: []*pb.AlgorithmSetting{setting("random_fraction", "-0.1")},
			want: `random_fraction: "-0.1" is not a number from 0 to 1`},
		{name: "negative seed", settings: []*pb.AlgorithmSetting{setting("random_state", "-1")},
			want: `random_state: "-1" is not an integer of at least 0`},
		{name: "no objective metric", noMetric: true,
			want: "experiment.experimentSpec.objective.objectiveMetricName: missing: this algorithm learns from the objective metric"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp := experiment(tt.settings, braninSpace()...)
			if tt.noMetric {
				exp.ExperimentSpec.Objective.ObjectiveMetricName = ""
			}
			_, err := algorithm.NewProblem(smac.SMAC{}, exp)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("NewProblem = %v, want no error", err)
			case tt.want != "" && err == nil:
				t.Errorf("NewProblem accepted the experiment, want an error with %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("NewProblem = %q, want it to contain %q", err, tt.want)
			case tt.want != "" && !algorithm.IsInvalidArgument(err):
				t.Errorf("NewProblem = %v, not marked as the caller's to fix", err)
			}
		})
	}
}

// history is a mixed history over mixedSpace: 12 completed trials, 2 failed,
// 1 without metrics and 3 pending or running.
func history(t testing.TB, p *algorithm.Problem) []trial {
	t.Helper()
	f := mixed(p)
	pts := suggestWith(t, random.Random{}, p, nil, 18).Points
	var h []trial
	for i, pt := range pts {
		switch {
		case i < 12:
			h = append(h, done(pt, f(pt)))
		case i < 14:
			h = append(h, trial{Point: pt, Condition: pb.TrialCondition_FAILED})
		case i < 15:
			h = append(h, trial{Point: pt, Condition: pb.TrialCondition_METRICS_UNAVAILABLE})
		case i < 16:
			h = append(h, trial{Point: pt, Condition: pb.TrialCondition_RUNNING})
		default:
			h = append(h, trial{Point: pt, Condition: pb.TrialCondition_PENDING})
		}
	}
	return h
}

func TestDeterminism(t *testing.T) {
	p := problem(t, "42", mixedSpace()...)
	h := history(t, p)
	tests := []struct {
		name    string
		history []trial
		count   int
	}{
		{"initial design", nil, 4},
		{"model", h, 1},
		{"model batch", h, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := suggest(t, problem(t, "42", mixedSpace()...), tt.history, tt.count)
			b := suggest(t, problem(t, "42", mixedSpace()...), tt.history, tt.count)
			if !slices.Equal(keys(p.Space, a.Points), keys(p.Space, b.Points)) {
				t.Errorf("same request gave %q then %q", keys(p.Space, a.Points), keys(p.Space, b.Points))
			}
			c := suggest(t, problem(t, "43", mixedSpace()...), tt.history, tt.count)
			if slices.Equal(keys(p.Space, a.Points), keys(p.Space, c.Points)) {
				t.Errorf("random_state 42 and 43 gave the same points %q", keys(p.Space, a.Points))
			}
			// Without random_state, the experiment's name seeds.
			d := suggest(t, problem(t, "", mixedSpace()...), tt.history, tt.count)
			e := suggest(t, problem(t, "", mixedSpace()...), tt.history, tt.count)
			if !slices.Equal(keys(p.Space, d.Points), keys(p.Space, e.Points)) {
				t.Errorf("same unseeded request gave %q then %q", keys(p.Space, d.Points), keys(p.Space, e.Points))
			}
			if len(a.State) != 0 {
				t.Errorf("SMAC wrote back state %v", a.State)
			}
		})
	}
}

// TestInitialDesign checks that the first n_initial_points points form one
// Latin hypercube, however the calls split them: one point in each tenth of
// each axis.
func TestInitialDesign(t *testing.T) {
	tests := []struct {
		name  string
		calls []int
	}{
		{"one call", []int{10}},
		{"one at a time", []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{"uneven", []int{3, 5, 2}},
	}
	var first []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := problem(t, "5", double("a", "0", "1"), double("b", "0", "1"), double("c", "0", "1"))
			var h []trial
			for _, n := range tt.calls {
				for _, pt := range suggest(t, p, h, n).Points {
					// Pending trials do not change the design.
					h = append(h, trial{Point: pt, Condition: pb.TrialCondition_PENDING})
				}
			}
			var pts []searchspace.Point
			for _, x := range h {
				pts = append(pts, x.Point)
			}
			for j := range 3 {
				cells := make(map[int]bool)
				for _, pt := range pts {
					cells[int(pt[j]*10)] = true
				}
				if len(cells) != 10 {
					t.Errorf("axis %d: the 10 points fill %d of its 10 slices", j, len(cells))
				}
			}
			ks := keys(p.Space, pts)
			if first == nil {
				first = ks
			} else if !slices.Equal(first, ks) {
				t.Errorf("calls %v gave the design %q, one call gave %q", tt.calls, ks, first)
			}
		})
	}
}

// TestBatchAvoidsPending asks for a batch while trials are pending: every
// point must be new (suggest checks it), and the batch must keep its distance
// from the pending points and from itself rather than crowd the model's
// optimum. Over 20 seeds on the mixed space, the median distance in the unit
// cube from a new point to the nearest pending or earlier point of the batch
// is 0.11 with the pending points lying with the model's prediction, and
// 0.05 when the model ignores them.
func TestBatchAvoidsPending(t *testing.T) {
	var nearest []float64
	for seed := range 20 {
		p := newProblem(t, experiment([]*pb.AlgorithmSetting{setting("random_state", fmt.Sprint(seed)), setting("random_fraction", "0")}, mixedSpace()...))
		h := optimise(t, smac.SMAC{}, p, mixed(p), 20, 5)
		// The next 5 are pending.
		var others []searchspace.Point
		for _, pt := range suggest(t, p, h, 5).Points {
			h = append(h, trial{Point: pt, Condition: pb.TrialCondition_PENDING})
			others = append(others, pt)
		}
		for _, pt := range suggest(t, p, h, 8).Points {
			d := math.Inf(1)
			for _, o := range others {
				d = math.Min(d, dist(p.Space, pt, o))
			}
			nearest = append(nearest, d)
			others = append(others, pt)
		}
	}
	m := algorithmtest.Median(nearest)
	t.Logf("median distance to the nearest pending or earlier batch point: %.3f", m)
	if m < 0.08 {
		t.Errorf("median distance from a batch point to the nearest pending or earlier one %.3f, want at least 0.08", m)
	}
}

func dist(s *searchspace.Space, a, b searchspace.Point) float64 {
	ua, ub := s.ToUnit(a), s.ToUnit(b)
	var d float64
	for j := range ua {
		d += (ua[j] - ub[j]) * (ua[j] - ub[j])
	}
	return math.Sqrt(d)
}

func TestMixedSpacesStayInRange(t *testing.T) {
	tests := []struct {
		name  string
		specs []*pb.ParameterSpec
	}{
		{"mixed", mixedSpace()},
		{"log double", []*pb.ParameterSpec{param("x", pb.ParameterType_DOUBLE, "1e-6", "1", "", pb.Distribution_LOG_UNIFORM)}},
		{"normal and log normal", []*pb.ParameterSpec{
			param("x", pb.ParameterType_DOUBLE, "-5", "5", "", pb.Distribution_NORMAL),
			param("y", pb.ParameterType_DOUBLE, "1e-3", "1e3", "", pb.Distribution_LOG_NORMAL)}},
		{"stepped double and log int", []*pb.ParameterSpec{
			param("x", pb.ParameterType_DOUBLE, "0.01", "0.5", "0.01", 0),
			param("n", pb.ParameterType_INT, "1", "1000", "", pb.Distribution_LOG_UNIFORM)}},
		{"ints", []*pb.ParameterSpec{integer("a", "-50", "50"), integer("b", "0", "3")}},
		{"categorical only", []*pb.ParameterSpec{
			categorical("a", "sgd", "adam", "ftrl", "rmsprop", "adagrad", "nadam", "lamb"),
			categorical("b", "relu", "tanh", "gelu", "elu", "selu", "silu", "mish")}},
		{"many categories", []*pb.ParameterSpec{categorical("c", manyCategories(200)...), double("x", "0", "1")}},
		{"conditional", conditionalSpace()},
		{"discrete and a single value", []*pb.ParameterSpec{
			discrete("d", "0.5", "-1", "10", "3", "1e-3"), integer("one", "4", "4"), double("x", "0", "1")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := problem(t, "3", tt.specs...)
			// A loss of the unit-cube position, which every space has.
			f := func(pt searchspace.Point) float64 {
				var s float64
				for j, u := range p.Space.ToUnit(pt) {
					s += float64(j+1) * (u - 0.3) * (u - 0.3)
				}
				return s
			}
			// optimise checks every reply; batches exercise the liars.
			h := optimise(t, smac.SMAC{}, p, f, 40, 4)
			if len(h) != 40 {
				t.Errorf("%d evaluations, want 40", len(h))
			}
		})
	}
}

func manyCategories(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("c%03d", i)
	}
	return out
}

// TestFiniteSpaceRunsOut walks a space of 24 points to its end: the model
// must never repeat a point, and the last reply says the space is used up.
func TestFiniteSpaceRunsOut(t *testing.T) {
	p := problem(t, "9", integer("n", "1", "6"), categorical("c", "a", "b", "c", "d"))
	f := func(pt searchspace.Point) float64 { return math.Abs(pt[0]-4) + pt[1] }
	var h []trial
	wantLens := []int{5, 5, 5, 5, 4, 0}
	for call, want := range wantLens {
		out := suggest(t, p, h, 5)
		if len(out.Points) != want || out.Exhausted != (call >= 4) {
			t.Fatalf("call %d: %d points, exhausted %v; want %d, %v", call, len(out.Points), out.Exhausted, want, call >= 4)
		}
		for _, pt := range out.Points {
			h = append(h, done(pt, f(pt)))
		}
	}
	if got := len(h); got != 24 {
		t.Errorf("%d points handed out, want all 24", got)
	}
}

// TestFailedTrialsSteerAway fails every trial with x above 0.5, where the
// loss, falling towards larger x, would lead. The model takes a failure as
// the worst loss and learns to stay below 0.5; a model blind to failures
// keeps walking into them (13 of the last 20 trials failed when it was).
func TestFailedTrialsSteerAway(t *testing.T) {
	p := newProblem(t, experiment([]*pb.AlgorithmSetting{setting("random_state", "4"), setting("random_fraction", "0")},
		double("x", "0", "1"), double("y", "0", "1")))
	var h []trial
	for len(h) < 40 {
		for _, pt := range suggest(t, p, h, 1).Points {
			if pt[0] > 0.5 {
				h = append(h, trial{Point: pt, Condition: pb.TrialCondition_FAILED})
			} else {
				h = append(h, done(pt, 1-pt[0]+math.Abs(pt[1]-0.5)))
			}
		}
	}
	failed := 0
	for _, x := range h[20:] {
		if x.Condition == pb.TrialCondition_FAILED {
			failed++
		}
	}
	t.Logf("%d of the last 20 trials failed", failed)
	if failed > 5 {
		t.Errorf("%d of the last 20 trials failed, want the model to avoid the failing half (at most 5)", failed)
	}
}

func TestMaximize(t *testing.T) {
	// The same problem maximising the negated loss finds the same optimum.
	exp := experiment([]*pb.AlgorithmSetting{setting("random_state", "2")}, braninSpace()...)
	exp.ExperimentSpec.Objective.Type = pb.ObjectiveType_MAXIMIZE
	p := newProblem(t, exp)
	h := optimise(t, smac.SMAC{}, p, branin, 40, 1) // trialsOf negates the loss
	if b := best(h); b > 1.5 {
		t.Errorf("maximising -branin reached %.3f after 40 evaluations, want below 1.5", b)
	}
}

// TestQuality compares SMAC with random search over the same seeds, 40
// sequential evaluations each: SMAC's median best must beat random search's,
// and SMAC must beat random search's median on most seeds.
// conditionalSpace is the mixed space with two conditional parameters:
// momentum only for sgd, and beta, a category, only for adam and rmsprop.
func conditionalSpace() []*pb.ParameterSpec {
	momentum := double("momentum", "0", "1")
	momentum.ParentName, momentum.ParentValues = "optimizer", []string{"sgd"}
	beta := categorical("beta", "0.9", "0.99", "0.999")
	beta.ParentName, beta.ParentValues = "optimizer", []string{"adam", "rmsprop"}
	return append(mixedSpace(), momentum, beta)
}

// conditional is mixed, with sgd, its worst optimizer, made as good as
// rmsprop by a momentum of 0.9, and adam and rmsprop costing more with a
// larger beta; it reads momentum and beta only where they are active.
func conditional(p *algorithm.Problem) func(searchspace.Point) float64 {
	base := mixed(p)
	return func(pt searchspace.Point) float64 {
		f := base(pt)
		switch int(pt[3]) {
		case 0:
			f += -3 + 8*math.Abs(pt[4]-0.9)
		case 1, 2:
			f += 0.5 * pt[5]
		}
		return f
	}
}

func TestQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 40 evaluations on 10 seeds")
	}
	tests := []struct {
		name  string
		specs []*pb.ParameterSpec
		f     func(*algorithm.Problem) func(searchspace.Point) float64
	}{
		{"branin", braninSpace(), func(*algorithm.Problem) func(searchspace.Point) float64 { return branin }},
		{"mixed", mixedSpace(), mixed},
		{"conditional", conditionalSpace(), conditional},
	}
	const seeds, evals = 10, 40
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var smacBest, randomBest []float64
			for seed := range seeds {
				p := problem(t, fmt.Sprint(seed), tt.specs...)
				f := tt.f(p)
				smacBest = append(smacBest, best(optimise(t, smac.SMAC{}, p, f, evals, 1)))
				randomBest = append(randomBest, best(optimise(t, random.Random{}, p, f, evals, 1)))
			}
			sm, rm := algorithmtest.Median(smacBest), algorithmtest.Median(randomBest)
			wins := 0
			for _, b := range smacBest {
				if b < rm {
					wins++
				}
			}
			t.Logf("median best after %d: smac %.4f, random %.4f; smac beats random's median on %d of %d seeds", evals, sm, rm, wins, seeds)
			if sm >= rm {
				t.Errorf("SMAC's median best %.4f does not beat random search's %.4f", sm, rm)
			}
			if wins < 8 {
				t.Errorf("SMAC beat random search's median %.4f on %d of %d seeds, want at least 8 (SMAC: %.4f)", rm, wins, seeds, smacBest)
			}
		})
	}
}

func TestCancelledContext(t *testing.T) {
	p := problem(t, "1", mixedSpace()...)
	trials := trialsOf(t, p, history(t, p))
	algorithmtest.Cancelled(t, smac.SMAC{}, p, trials, 5)
	algorithmtest.CancelledMidway(t, smac.SMAC{}, p, trials, 5)
}

func BenchmarkSMACSuggest(b *testing.B) {
	for _, n := range []int{100, 500} {
		for _, count := range []int{1, 10} {
			b.Run(fmt.Sprintf("trials=%d/count=%d", n, count), func(b *testing.B) {
				// Every point from the model: none drawn at random.
				p := newProblem(b, experiment([]*pb.AlgorithmSetting{setting("random_state", "1"), setting("random_fraction", "0")}, mixedSpace()...))
				f := mixed(p)
				var h []trial
				for _, pt := range suggestWith(b, random.Random{}, p, nil, n).Points {
					h = append(h, done(pt, f(pt)))
				}
				trials := trialsOf(b, p, h)
				ctx := context.Background()
				for b.Loop() {
					out, err := smac.SMAC{}.Suggest(ctx, p, trials, count)
					if err != nil || len(out.Points) != count {
						b.Fatalf("Suggest = %v, %v", out, err)
					}
				}
			})
		}
	}
}

func TestExhaustion(t *testing.T) {
	algorithmtest.Exhaustion(t, smac.SMAC{}, problem(t, "7", algorithmtest.Twelve()...))
}
