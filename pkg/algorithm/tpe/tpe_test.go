package tpe_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/algorithmtest"
	"knobs.dev/knobs/pkg/algorithm/random"
	"knobs.dev/knobs/pkg/algorithm/tpe"
	"knobs.dev/knobs/pkg/function"
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
	done        = algorithmtest.Done
	pending     = algorithmtest.Pending
	rawTrials   = algorithmtest.RawTrials
	twelve      = algorithmtest.Twelve
	twelveLoss  = algorithmtest.TwelveLoss
)

// branin is the Branin-Hoo function's space: its minimum is 0.397887, at
// three points.
func braninSpace() []*pb.ParameterSpec {
	return []*pb.ParameterSpec{double("x1", "-5", "10"), double("x2", "0", "15")}
}

func branin(x1, x2 float64) float64 {
	const (
		a = 1
		r = 6
		s = 10
	)
	b := 5.1 / (4 * math.Pi * math.Pi)
	c := 5 / math.Pi
	t := 1 / (8 * math.Pi)
	return a*math.Pow(x2-b*x1*x1+c*x1-r, 2) + s*(1-t)*math.Cos(x1) + s
}

// experiment is an experiment over specs with the given algorithm settings
// (name, value, name, value...).
func experiment(objective pb.ObjectiveType, metric string, settings []string, specs ...*pb.ParameterSpec) *pb.Experiment {
	exp := algorithmtest.Experiment("tpe", algorithmtest.Settings(settings...), specs...)
	exp.ExperimentSpec.Objective = &pb.ObjectiveSpec{Type: objective, ObjectiveMetricName: metric}
	return exp
}

// problem is a minimising experiment over specs with the given settings.
func problem(t testing.TB, settings []string, specs ...*pb.ParameterSpec) *algorithm.Problem {
	t.Helper()
	return problemFor(t, tpe.TPE{}, pb.ObjectiveType_MINIMIZE, settings, specs...)
}

func problemFor(t testing.TB, alg algorithm.Algorithm, objective pb.ObjectiveType, settings []string, specs ...*pb.ParameterSpec) *algorithm.Problem {
	t.Helper()
	return algorithmtest.Problem(t, alg, experiment(objective, "loss", settings, specs...))
}

func seed(s int) []string { return []string{algorithm.RandomState, strconv.Itoa(s)} }

// record is a trial as the test knows it: a point, a condition, and a value
// for the completed ones.
type record = algorithmtest.Trial

// suggestWith asks alg for count points given the history, and checks the
// reply against the contract.
func suggestWith(t testing.TB, alg algorithm.Algorithm, p *algorithm.Problem, history []record, count int) *algorithm.Suggestions {
	t.Helper()
	return algorithmtest.Suggest(t, alg, p, algorithmtest.Trials(t, p, history), count)
}

func suggest(t testing.TB, p *algorithm.Problem, history []record, count int) *algorithm.Suggestions {
	t.Helper()
	return suggestWith(t, tpe.TPE{}, p, history, count)
}

func keys(s *searchspace.Space, pts []searchspace.Point) []string {
	out := make([]string, len(pts))
	for i, pt := range pts {
		out[i] = strings.ReplaceAll(s.Key(pt), "\x00", ",")
	}
	return out
}

// run simulates the controller: it keeps parallel trials in flight, asks for
// a new point whenever one finishes (the others pending), and records each
// finished trial with value f(point), until evals trials have finished. It
// returns the history in the order the trials were handed out.
func run(t testing.TB, alg algorithm.Algorithm, p *algorithm.Problem, f func(searchspace.Point) float64, evals, parallel int) []record {
	t.Helper()
	var history []record
	var inFlight []int // indices into history, oldest first
	finished := 0
	for finished < evals {
		if want := min(parallel-len(inFlight), evals-finished-len(inFlight)); want > 0 {
			out := suggestWith(t, alg, p, history, want)
			for _, pt := range out.Points {
				inFlight = append(inFlight, len(history))
				history = append(history, pending(pt))
			}
			if len(out.Points) == 0 && len(inFlight) == 0 {
				t.Fatalf("no points and nothing in flight after %d evaluations", finished)
			}
		}
		i := inFlight[0]
		inFlight = inFlight[1:]
		history[i] = done(history[i].Point, f(history[i].Point))
		finished++
	}
	return history
}

func TestSettings(t *testing.T) {
	want := map[string]string{
		tpe.NStartupTrials:    "10",
		tpe.NEICandidates:     "24",
		tpe.PriorWeight:       "1",
		tpe.Multivariate:      "false",
		algorithm.RandomState: "",
	}
	got := make(map[string]string)
	for _, s := range (tpe.TPE{}).Settings() {
		if s.State {
			t.Errorf("setting %s is marked as state", s.Name)
		}
		got[s.Name] = s.Default
	}
	if len(got) != len(want) {
		t.Errorf("settings %v, want %v", got, want)
	}
	for name, def := range want {
		if d, ok := got[name]; !ok || d != def {
			t.Errorf("setting %s: default %q (present %v), want %q", name, d, ok, def)
		}
	}
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name      string
		objective pb.ObjectiveType
		metric    string
		settings  []string
		want      string // a substring of the error, "" for none
	}{
		{"defaults", pb.ObjectiveType_MAXIMIZE, "accuracy", nil, ""},
		{"all settings", pb.ObjectiveType_MINIMIZE, "loss",
			[]string{"n_startup_trials", "0", "n_ei_candidates", "1000", "prior_weight", "0.01", "random_state", "7", "multivariate", "true"}, ""},
		{"unknown setting", pb.ObjectiveType_MAXIMIZE, "accuracy", []string{"gamma", "0.25"},
			`algorithm.algorithmSettings[0]: unknown setting "gamma": this algorithm takes multivariate, n_ei_candidates, n_startup_trials, prior_weight, random_state`},
		{"multivariate not a boolean", pb.ObjectiveType_MAXIMIZE, "accuracy", []string{"random_state", "1", "multivariate", "yes"},
			`algorithm.algorithmSettings[1]: multivariate: "yes" is not one of false, true`},
		{"negative startup", pb.ObjectiveType_MAXIMIZE, "accuracy", []string{"n_startup_trials", "-1"},
			`n_startup_trials: "-1" is not an integer of at least 0`},
		{"fractional startup", pb.ObjectiveType_MAXIMIZE, "accuracy", []string{"n_startup_trials", "2.5"},
			`n_startup_trials: "2.5" is not an integer of at least 0`},
		{"no candidates", pb.ObjectiveType_MAXIMIZE, "accuracy", []string{"random_state", "1", "n_ei_candidates", "0"},
			`algorithm.algorithmSettings[1]: n_ei_candidates: "0" is not an integer from 1 to 1000`},
		{"too many candidates", pb.ObjectiveType_MAXIMIZE, "accuracy", []string{"n_ei_candidates", "1001"},
			`n_ei_candidates: "1001" is not an integer from 1 to 1000`},
		{"zero prior weight", pb.ObjectiveType_MAXIMIZE, "accuracy", []string{"prior_weight", "0"},
			`prior_weight: "0" is not a number above 0 and at most 1000`},
		{"prior weight not a number", pb.ObjectiveType_MAXIMIZE, "accuracy", []string{"prior_weight", "heavy"},
			`prior_weight: "heavy" is not a number above 0 and at most 1000`},
		{"negative seed", pb.ObjectiveType_MAXIMIZE, "accuracy", []string{"random_state", "-3"},
			`random_state: "-3" is not an integer of at least 0`},
		{"no objective metric", pb.ObjectiveType_MAXIMIZE, "", nil,
			`experiment.experimentSpec.objective.objectiveMetricName: missing: this algorithm learns from the objective metric, so name it`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := algorithm.NewProblem(tpe.TPE{}, experiment(tt.objective, tt.metric, tt.settings, katib()...))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("NewProblem = %v, want no error", err)
			case tt.want != "" && err == nil:
				t.Errorf("NewProblem accepted it, want an error with %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("NewProblem = %q, want it to contain %q", err, tt.want)
			case tt.want != "" && !algorithm.IsInvalidArgument(err):
				t.Errorf("NewProblem = %v, not marked as the caller's mistake", err)
			}
		})
	}
}

// katibHistory is n trials of the Katib space, the first n-pend completed
// with a made-up loss and the rest pending.
func katibHistory(t testing.TB, n, pend int) []record {
	p := problem(t, seed(99), katib()...)
	out := suggestWith(t, random.Random{}, p, nil, n)
	h := make([]record, n)
	for i, pt := range out.Points {
		if i >= n-pend {
			h[i] = pending(pt)
			continue
		}
		h[i] = done(pt, math.Abs(pt[0]-0.017)*100+math.Abs(pt[1]-4)+float64(int(pt[2])%2))
	}
	return h
}

func TestDeterminism(t *testing.T) {
	tests := []struct {
		name    string
		history []record
		count   int
	}{
		{"startup, empty history", nil, 3},
		{"startup, some history", katibHistory(t, 6, 1), 3},
		{"model", katibHistory(t, 30, 0), 4},
		{"model with pending trials", katibHistory(t, 30, 3), 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := problem(t, seed(42), katib()...)
			first := keys(p.Space, suggest(t, p, tt.history, tt.count).Points)
			again := keys(p.Space, suggest(t, problem(t, seed(42), katib()...), tt.history, tt.count).Points)
			if !slices.Equal(first, again) {
				t.Errorf("the same request gave %v then %v", first, again)
			}
			other := keys(p.Space, suggest(t, problem(t, seed(43), katib()...), tt.history, tt.count).Points)
			if slices.Equal(first, other) {
				t.Errorf("random_state 42 and 43 gave the same points %v", first)
			}
			// Without random_state, the experiment's name seeds: still
			// reproducible.
			a := keys(p.Space, suggest(t, problem(t, nil, katib()...), tt.history, tt.count).Points)
			b := keys(p.Space, suggest(t, problem(t, nil, katib()...), tt.history, tt.count).Points)
			if !slices.Equal(a, b) {
				t.Errorf("the same unseeded request gave %v then %v", a, b)
			}
		})
	}
}

func TestSuccessiveCallsDiffer(t *testing.T) {
	p := problem(t, seed(5), katib()...)
	h := katibHistory(t, 30, 0)
	first := suggest(t, p, h, 1)
	// The first point handed out and still pending: the next call must
	// neither repeat it nor, having a longer history, be the same call.
	h = append(h, pending(first.Points[0]))
	second := suggest(t, p, h, 1)
	if slices.Equal(keys(p.Space, first.Points), keys(p.Space, second.Points)) {
		t.Errorf("the second call repeated the first: %v", keys(p.Space, second.Points))
	}
}

func TestSettingsChangeTheReply(t *testing.T) {
	h := katibHistory(t, 30, 0)
	base := seed(1)
	tests := []struct {
		name     string
		settings []string
	}{
		{"n_startup_trials beyond the history", append(slices.Clone(base), "n_startup_trials", "100")},
		{"one candidate", append(slices.Clone(base), "n_ei_candidates", "1")},
		{"heavy prior", append(slices.Clone(base), "prior_weight", "1000")},
	}
	p := problem(t, base, katib()...)
	want := keys(p.Space, suggest(t, p, h, 5).Points)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := keys(p.Space, suggest(t, problem(t, tt.settings, katib()...), h, 5).Points)
			if slices.Equal(got, want) {
				t.Errorf("%v gave the same points as the defaults: %v", tt.settings, got)
			}
		})
	}
}

// TestStartupIsThePrior checks that before n_startup_trials have completed,
// the points are draws from the prior: on a log-uniform parameter, half of
// them fall below the geometric middle, wherever the good trials are.
func TestStartupIsThePrior(t *testing.T) {
	spec := param("lr", pb.ParameterType_DOUBLE, "1e-6", "1", "", pb.Distribution_LOG_UNIFORM)
	p := problem(t, append(seed(3), "n_startup_trials", "100"), spec)
	// 50 completed trials saying that large values are best.
	var h []record
	for i := range 50 {
		x := math.Pow(10, -6+6*(float64(i)+0.5)/50)
		h = append(h, done(searchspace.Point{x}, -x))
	}
	out := suggest(t, p, h, 1000)
	below := 0
	for _, pt := range out.Points {
		if pt[0] < 1e-3 {
			below++
		}
	}
	if frac := float64(below) / 1000; math.Abs(frac-0.5) > 0.05 {
		t.Errorf("%.3f of the startup points below 1e-3, want about half", frac)
	}
	// With the model on, most fall in the upper part.
	out = suggest(t, problem(t, seed(3), spec), h, 20)
	below = 0
	for _, pt := range out.Points {
		if pt[0] < 1e-3 {
			below++
		}
	}
	if below > 5 {
		t.Errorf("with the model, %d of 20 points below 1e-3, want most above", below)
	}
}

// twelve is a finite space of 4 x 3 = 12 points.
func TestFiniteSpaceRunsOut(t *testing.T) {
	// The model takes over after two trials, and keeps wanting n=3, c=a.
	p := problem(t, append(seed(7), "n_startup_trials", "2"), twelve()...)
	var history []record
	wantLens := []int{5, 5, 2, 0}
	wantExhausted := []bool{false, false, true, true}
	for call := range wantLens {
		out := suggest(t, p, history, 5)
		if len(out.Points) != wantLens[call] || out.Exhausted != wantExhausted[call] {
			t.Fatalf("call %d: %d points, exhausted %v; want %d, %v", call, len(out.Points), out.Exhausted, wantLens[call], wantExhausted[call])
		}
		for _, pt := range out.Points {
			history = append(history, done(pt, twelveLoss(pt)))
		}
	}
	if len(history) != 12 {
		t.Errorf("%d points handed out, want all 12", len(history))
	}
}

func TestExhaustion(t *testing.T) {
	algorithmtest.Exhaustion(t, tpe.TPE{}, problem(t, append(seed(7), "n_startup_trials", "0"), twelve()...))
}

// TestPendingTrialsRespected puts the trials in flight where the model most
// wants to go: the batch must avoid them and still be three different
// points.
func TestPendingTrialsRespected(t *testing.T) {
	tests := []struct {
		name  string
		specs []*pb.ParameterSpec
		loss  func(searchspace.Point) float64
		// completed: the points evaluated, nil for twenty chosen by TPE
		completed []searchspace.Point
		// the points the model likes best, put in flight
		inFlight []searchspace.Point
	}{
		{"small int space", []*pb.ParameterSpec{integer("n", "0", "40")},
			func(pt searchspace.Point) float64 { return math.Abs(pt[0] - 20) },
			func() []searchspace.Point {
				var pts []searchspace.Point // the even numbers but 20
				for v := 0; v <= 40; v += 2 {
					if v != 20 {
						pts = append(pts, searchspace.Point{float64(v)})
					}
				}
				return pts
			}(),
			[]searchspace.Point{{20}, {19}, {21}}},
		{"stepped double and categorical", []*pb.ParameterSpec{
			param("x", pb.ParameterType_DOUBLE, "0", "1", "0.01", 0), categorical("c", "good", "bad")},
			func(pt searchspace.Point) float64 { return math.Abs(pt[0]-0.5) + 3*pt[1] },
			func() []searchspace.Point {
				var pts []searchspace.Point // every twentieth x but 0.5, in both categories
				for i := 0; i <= 20; i++ {
					if i != 10 {
						pts = append(pts, searchspace.Point{float64(i) * 0.05, 0}, searchspace.Point{float64(i) * 0.05, 1})
					}
				}
				return pts
			}(),
			[]searchspace.Point{{0.5, 0}, {0.49, 0}, {0.51, 0}}},
		{"continuous", []*pb.ParameterSpec{double("x", "0", "1"), double("y", "0", "1")},
			func(pt searchspace.Point) float64 { return math.Hypot(pt[0]-0.5, pt[1]-0.5) },
			nil,
			[]searchspace.Point{{0.5, 0.5}, {0.5, 0.501}, {0.499, 0.5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := problem(t, seed(11), tt.specs...)
			var h []record
			if tt.completed == nil {
				h = run(t, tpe.TPE{}, p, tt.loss, 20, 1)
			}
			for _, pt := range tt.completed {
				h = append(h, done(pt, tt.loss(pt)))
			}
			inFlight := make(map[string]bool)
			for _, pt := range tt.inFlight {
				if slices.ContainsFunc(h, func(r record) bool { return p.Space.Key(r.Point) == p.Space.Key(pt) }) {
					t.Fatalf("%v was already evaluated: choose another point to put in flight", pt)
				}
				h = append(h, pending(pt))
				inFlight[p.Space.Key(pt)] = true
			}
			out := suggest(t, p, h, 3) // checks: 3 points, none twice, none taken
			if len(out.Points) != 3 {
				t.Fatalf("%d points, want 3", len(out.Points))
			}
			for _, pt := range out.Points {
				if inFlight[p.Space.Key(pt)] {
					t.Errorf("suggested %v, which is in flight", keys(p.Space, []searchspace.Point{pt}))
				}
			}
			t.Logf("in flight %v, suggested %v", keys(p.Space, tt.inFlight), keys(p.Space, out.Points))
		})
	}
}

// TestPendingTrialsSteerTheModel checks the constant liar: with trials in
// flight where the model likes to go, it looks elsewhere rather than next to
// them.
func TestPendingTrialsSteerTheModel(t *testing.T) {
	const lo, hi = 0.49, 0.5075 // the trials in flight
	dist := func(x float64) float64 { return max(lo-x, x-hi, 0) }
	for s := 1; s <= 10; s++ {
		p := problem(t, seed(s), double("x", "0", "1"))
		var h []record
		for i := range 30 {
			x := (float64(i) + 0.5) / 30
			h = append(h, done(searchspace.Point{x}, math.Abs(x-0.5)))
		}
		// Without them, the model goes near the middle.
		nearest := math.Inf(1)
		for _, pt := range suggest(t, p, h, 3).Points {
			nearest = min(nearest, dist(pt[0]))
		}
		if nearest >= 0.03 {
			t.Fatalf("seed %d: without trials in flight the nearest point is %.3f from [%g, %g]; the test needs the model to like it", s, nearest, lo, hi)
		}
		for i := range 8 {
			h = append(h, pending(searchspace.Point{lo + (hi-lo)*float64(i)/7}))
		}
		for _, pt := range suggest(t, p, h, 3).Points {
			if d := dist(pt[0]); d < 0.03 {
				t.Errorf("seed %d: suggested %.4f, %.4f from the eight trials in flight in [%g, %g]; want the model to look elsewhere", s, pt[0], d, lo, hi)
			}
		}
	}
}

// TestFallbackToUnseenPoints takes what the model or the prior favours, so
// that their draws keep hitting taken points and the point must come from
// the few unseen ones.
func TestFallbackToUnseenPoints(t *testing.T) {
	tests := []struct {
		name     string
		settings []string
		spec     *pb.ParameterSpec
		unseen   []float64
	}{
		{"the model's favourites taken", []string{"n_ei_candidates", "1", "random_state", "4"},
			integer("n", "0", "99"), []float64{0, 1, 3, 98, 99}},
		{"the prior's favourites taken", []string{"n_startup_trials", "1000", "random_state", "4"},
			param("n", pb.ParameterType_INT, "0", "200", "", pb.Distribution_NORMAL), []float64{0, 1, 2, 3, 4, 196, 197, 198, 199, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := problem(t, tt.settings, tt.spec)
			var h []record
			for i := range p.Space.Params[0].Len() {
				v := p.Space.Params[0].At(i)
				if !slices.Contains(tt.unseen, v) {
					h = append(h, done(searchspace.Point{v}, math.Abs(v-50)))
				}
			}
			count := len(tt.unseen) - 1
			out := suggest(t, p, h, count) // checks that none is taken
			if len(out.Points) != count || out.Exhausted {
				t.Fatalf("%d points, exhausted %v; want %d, false", len(out.Points), out.Exhausted, count)
			}
			h = append(h, pending(out.Points[0]))
			last := suggest(t, p, h, count)
			if len(last.Points) != count || !last.Exhausted {
				t.Errorf("asking for the last %d: %d points, exhausted %v; want %d, true", count, len(last.Points), last.Exhausted, count)
			}
		})
	}
}

// TestTrialsWithoutValueAreNotModelled moves the trials that failed or
// reported no objective value: the reply must not change, since all that
// counts of them is that their points are taken.
func TestTrialsWithoutValueAreNotModelled(t *testing.T) {
	p := problem(t, seed(2), double("x", "0", "1"), double("y", "0", "1"))
	var completed []record
	for i := range 15 {
		x := (float64(i) + 0.5) / 15
		completed = append(completed, done(searchspace.Point{x, 1 - x}, math.Abs(x-0.7)))
	}
	noValue := func(lo float64) []record {
		var h []record
		conds := []pb.TrialCondition{pb.TrialCondition_FAILED, pb.TrialCondition_METRICS_UNAVAILABLE,
			pb.TrialCondition_SUCCEEDED, pb.TrialCondition_EARLY_STOPPED} // the last two without the metric
		for i := range 32 {
			h = append(h, record{Point: searchspace.Point{lo + float64(i)/100, 0.5}, Condition: conds[i%4]})
		}
		return h
	}
	a := suggest(t, p, slices.Concat(completed, noValue(0.0)), 5)
	b := suggest(t, p, slices.Concat(completed, noValue(0.6)), 5)
	if !slices.Equal(keys(p.Space, a.Points), keys(p.Space, b.Points)) {
		t.Errorf("moving the trials without a value changed the reply from %v to %v", keys(p.Space, a.Points), keys(p.Space, b.Points))
	}
}

// TestParameterTypes runs TPE on each kind of parameter, with a second,
// continuous parameter to keep points apart, and checks that the model
// learns: the mean loss of its points (all but the first ten, which are the
// prior's) is well below that of the prior, estimated from 4000 draws.
func TestParameterTypes(t *testing.T) {
	logDist := func(target float64) func(float64) float64 {
		return func(x float64) float64 { return math.Abs(math.Log10(x) - math.Log10(target)) }
	}
	absDist := func(target float64) func(float64) float64 {
		return func(x float64) float64 { return math.Abs(x - target) }
	}
	tests := []struct {
		name string
		spec *pb.ParameterSpec
		loss func(float64) float64 // of the parameter's number (the index for categories)
	}{
		{"double uniform", double("x", "-5", "5"), absDist(2.5)},
		{"double logUniform", param("x", pb.ParameterType_DOUBLE, "1e-5", "1", "", pb.Distribution_LOG_UNIFORM), logDist(1e-3)},
		{"double normal", param("x", pb.ParameterType_DOUBLE, "0", "10", "", pb.Distribution_NORMAL), absDist(3)},
		{"double logNormal", param("x", pb.ParameterType_DOUBLE, "1e-3", "1e3", "", pb.Distribution_LOG_NORMAL), logDist(10)},
		{"stepped double", param("x", pb.ParameterType_DOUBLE, "0", "1", "0.05", 0), absDist(0.8)},
		{"int", integer("x", "1", "100"), absDist(70)},
		{"int logUniform", param("x", pb.ParameterType_INT, "1", "1024", "", pb.Distribution_LOG_UNIFORM), logDist(300)},
		{"int stepped normal", param("x", pb.ParameterType_INT, "0", "1000", "10", pb.Distribution_NORMAL), absDist(620)},
		{"discrete", discrete("x", "0.5", "-1", "10", "3", "1e-3", "7", "5"), absDist(3)},
		{"categorical", categorical("x", "sgd", "adam", "ftrl", "rmsprop", "adagrad"), func(c float64) float64 {
			if c == 2 {
				return 0
			}
			return 1
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := problem(t, seed(17), tt.spec, double("y", "0", "1"))
			num := func(pt searchspace.Point) float64 { return p.Space.Params[0].Numeric(pt[0]) }
			f := func(pt searchspace.Point) float64 { return tt.loss(num(pt)) + 0.1*math.Abs(pt[1]-0.3) }
			h := run(t, tpe.TPE{}, p, f, 60, 2)
			mean := func(pts []searchspace.Point) float64 {
				s := 0.0
				for _, pt := range pts {
					s += tt.loss(num(pt))
				}
				return s / float64(len(pts))
			}
			var model []searchspace.Point
			for _, r := range h[10:] {
				model = append(model, r.Point)
			}
			prior := mean(suggestWith(t, random.Random{}, p, nil, 4000).Points)
			got := mean(model)
			t.Logf("mean loss of the parameter: prior %.4g, TPE's points %.4g (%.2f of the prior's)", prior, got, got/prior)
			if !(got < 0.6*prior) {
				t.Errorf("mean loss of the parameter: prior %.4g, TPE's points %.4g; want TPE's below 0.6 of the prior's", prior, got)
			}
		})
	}
}

// mixedSpace mixes a continuous, a log-uniform, an int and a categorical
// parameter; mixedLoss is Branin in the first and the int, plus a penalty
// for the learning rate away from 1e-2 and a cost per optimizer.
func mixedSpace() []*pb.ParameterSpec {
	return []*pb.ParameterSpec{
		double("x1", "-5", "10"),
		integer("x2", "0", "15"),
		param("lr", pb.ParameterType_DOUBLE, "1e-5", "1", "", pb.Distribution_LOG_UNIFORM),
		categorical("opt", "sgd", "adam", "ftrl", "rmsprop"),
	}
}

func mixedLoss(pt searchspace.Point) float64 {
	offset := []float64{8, 0, 20, 4}[int(pt[3])]
	return branin(pt[0], pt[1]) + math.Pow(math.Log10(pt[2])+2, 2) + offset
}

// conditionalSpace is the mixed space with conditions: lr only for sgd and
// rmsprop, momentum only for sgd.
func conditionalSpace() []*pb.ParameterSpec {
	lr := param("lr", pb.ParameterType_DOUBLE, "1e-5", "1", "", pb.Distribution_LOG_UNIFORM)
	lr.ParentName, lr.ParentValues = "opt", []string{"sgd", "rmsprop"}
	momentum := double("momentum", "0", "1")
	momentum.ParentName, momentum.ParentValues = "opt", []string{"sgd"}
	return []*pb.ParameterSpec{double("x1", "-5", "10"), integer("x2", "0", "15"), categorical("opt", "sgd", "adam", "ftrl", "rmsprop"), lr, momentum}
}

// conditionalLoss is least for sgd with lr near 0.01 and momentum near 0.9;
// it reads lr and momentum only where they are active.
func conditionalLoss(pt searchspace.Point) float64 {
	f := branin(pt[0], pt[1])
	switch int(pt[2]) {
	case 0:
		return f + math.Pow(math.Log10(pt[3])+2, 2) + 4*math.Pow(pt[4]-0.9, 2)
	case 3:
		return f + 2 + math.Pow(math.Log10(pt[3])+3, 2)
	}
	return f + 3*pt[2]
}

// TestQuality compares TPE with random search on the same seeds and budget:
// TPE's median best must beat random search's, and on most seeds TPE's best
// must beat random search's median best. Everything is seeded, so the
// outcome is fixed.
func TestQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a few hundred suggestions")
	}
	tests := []struct {
		name      string
		specs     []*pb.ParameterSpec
		objective pb.ObjectiveType
		f         func(searchspace.Point) float64 // the loss; negated as the metric when maximising
		evals     int
		parallel  int
		settings  []string // more than the seed
	}{
		{"branin, one at a time", braninSpace(), pb.ObjectiveType_MINIMIZE,
			func(pt searchspace.Point) float64 { return branin(pt[0], pt[1]) }, 100, 1, nil},
		{"branin, three in parallel", braninSpace(), pb.ObjectiveType_MINIMIZE,
			func(pt searchspace.Point) float64 { return branin(pt[0], pt[1]) }, 100, 3, nil},
		{"mixed space, maximising", mixedSpace(), pb.ObjectiveType_MAXIMIZE, mixedLoss, 100, 3, nil},
		{"mixed space, multivariate, three in parallel", mixedSpace(), pb.ObjectiveType_MAXIMIZE, mixedLoss, 100, 3, []string{tpe.Multivariate, "true"}},
		{"conditional space, three in parallel", conditionalSpace(), pb.ObjectiveType_MINIMIZE, conditionalLoss, 100, 3, nil},
		{"conditional space, multivariate, three in parallel", conditionalSpace(), pb.ObjectiveType_MINIMIZE, conditionalLoss, 100, 3, []string{tpe.Multivariate, "true"}},
	}
	const seeds = 10
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			metric := tt.f
			if tt.objective == pb.ObjectiveType_MAXIMIZE {
				metric = func(pt searchspace.Point) float64 { return -tt.f(pt) }
			}
			bests := func(alg algorithm.Algorithm, settings []string) []float64 {
				b := make([]float64, seeds)
				for s := range seeds {
					p := problemFor(t, alg, tt.objective, append(seed(s+1), settings...), tt.specs...)
					h := run(t, alg, p, metric, tt.evals, tt.parallel)
					b[s] = math.Inf(1)
					for _, r := range h {
						b[s] = min(b[s], tt.f(r.Point))
					}
				}
				return b
			}
			tpeBest, randomBest := bests(tpe.TPE{}, tt.settings), bests(random.Random{}, nil)
			t.Logf("best loss after %d evaluations, seeds 1-%d:\n  tpe    %.4f (median %.4f)\n  random %.4f (median %.4f)",
				tt.evals, seeds, tpeBest, algorithmtest.Median(tpeBest), randomBest, algorithmtest.Median(randomBest))
			if algorithmtest.Median(tpeBest) >= algorithmtest.Median(randomBest) {
				t.Errorf("TPE's median best %.4f does not beat random search's %.4f", algorithmtest.Median(tpeBest), algorithmtest.Median(randomBest))
			}
			wins := 0
			for _, b := range tpeBest {
				if b < algorithmtest.Median(randomBest) {
					wins++
				}
			}
			if wins < 8 {
				t.Errorf("TPE beat random search's median best on %d of %d seeds, want at least 8", wins, seeds)
			}
		})
	}
}

// TestThroughTheRuntime serves TPE with the function runtime, which holds
// every reply to the contract before it leaves the process.
func TestThroughTheRuntime(t *testing.T) {
	svc := &function.Service{Name: "tpe", Algorithm: tpe.TPE{}}
	exp := experiment(pb.ObjectiveType_MINIMIZE, "loss", seed(8), katib()...)
	p := problem(t, seed(8), katib()...)
	req := &pb.GetSuggestionsRequest{Experiment: exp, Trials: rawTrials(p, katibHistory(t, 25, 2)), RequestNumber: 3}
	first, err := svc.GetSuggestions(context.Background(), req)
	if err != nil {
		t.Fatalf("GetSuggestions: %v", err)
	}
	if n := len(first.GetParameterAssignments()); n != 3 || first.GetSearchSpaceExhausted() {
		t.Errorf("%d assignments, exhausted %v; want 3, false", n, first.GetSearchSpaceExhausted())
	}
	again, err := svc.GetSuggestions(context.Background(), req)
	if err != nil {
		t.Fatalf("GetSuggestions: %v", err)
	}
	if !proto.Equal(first, again) {
		t.Errorf("the same request gave\n%v\nthen\n%v", first, again)
	}
	bad := experiment(pb.ObjectiveType_MINIMIZE, "loss", []string{"n_ei_candidates", "many"}, katib()...)
	_, err = svc.ValidateAlgorithmSettings(context.Background(), &pb.ValidateAlgorithmSettingsRequest{Experiment: bad})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), `n_ei_candidates: "many" is not an integer from 1 to 1000`) {
		t.Errorf("ValidateAlgorithmSettings(n_ei_candidates=many) = %v, want InvalidArgument naming the setting", err)
	}
}

func TestLargeBatch(t *testing.T) {
	// A batch far beyond any model's use still comes back whole and
	// distinct.
	p := problem(t, seed(1), katib()...)
	out := suggest(t, p, katibHistory(t, 40, 5), 2000)
	if len(out.Points) != 2000 {
		t.Errorf("%d points, want 2000", len(out.Points))
	}
}

func TestCancelledContext(t *testing.T) {
	p := problem(t, seed(1), double("x", "0", "1"))
	algorithmtest.Cancelled(t, tpe.TPE{}, p, nil, 5)
	// From the prior, then from the model, univariate and multivariate.
	algorithmtest.CancelledMidway(t, tpe.TPE{}, p, nil, 20)
	for _, mv := range []string{"false", "true"} {
		p := problem(t, append(seed(1), tpe.Multivariate, mv), katib()...)
		algorithmtest.CancelledMidway(t, tpe.TPE{}, p, algorithmtest.Trials(t, p, katibHistory(t, 30, 3)), 5)
	}
}

func BenchmarkTPESuggest(b *testing.B) {
	for _, mv := range []string{"false", "true"} {
		for _, n := range []int{100, 500} {
			for _, count := range []int{1, 3} {
				b.Run(fmt.Sprintf("multivariate=%s/trials=%d/count=%d", mv, n, count), func(b *testing.B) {
					p := problem(b, append(seed(42), tpe.Multivariate, mv), katib()...)
					trials := algorithmtest.Trials(b, p, katibHistory(b, n, 3))
					ctx := context.Background()
					for b.Loop() {
						out, err := tpe.TPE{}.Suggest(ctx, p, trials, count)
						if err != nil || len(out.Points) != count {
							b.Fatalf("Suggest = %v, %v", out, err)
						}
					}
				})
			}
		}
	}
}
