package hyperband_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/algorithmtest"
	"knobs.dev/knobs/pkg/algorithm/hyperband"
	"knobs.dev/knobs/pkg/algorithm/hyperband/hbtest"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// experiment is x in [0, 1] and an optimizer, with epochs as the budget.
func experiment(maximize bool, settings ...string) hbtest.Experiment {
	return hbtest.Experiment{
		Name: "hb",
		Specs: []*pb.ParameterSpec{
			hbtest.Double("x", "0", "1"),
			hbtest.Int("epochs", "1", "100"),
			hbtest.Categorical("opt", "sgd", "adam"),
		},
		Maximize: maximize,
		Settings: hbtest.Settings(settings...),
	}
}

// r9 is Hyperband with R = 9 and eta = 3 on epochs.
func r9(extra ...string) []string {
	return append([]string{"r_l", "9", "resource_name", "epochs", "random_state", "1"}, extra...)
}

// byX scores a trial by x, the same at every budget.
func byX(a map[string]string) (float64, bool) { return hbtest.Number(a, "x"), true }

func newController(t testing.TB, exp hbtest.Experiment, obj hbtest.Objective) *hbtest.Controller {
	return hbtest.NewController(t, hyperband.Hyperband{}, "hyperband", exp, obj)
}

func problem(t testing.TB, exp hbtest.Experiment) (*algorithm.Problem, error) {
	t.Helper()
	return algorithm.NewProblem(hyperband.Hyperband{}, exp.Proto("hyperband", nil))
}

func TestSchedule(t *testing.T) {
	tests := []struct {
		name     string
		resource *pb.ParameterSpec
		r, eta   string
		budgets  []float64
		rungs    [][]int // per bracket s = s_max..0, the size of each rung
	}{
		{"R=9 eta=3", hbtest.Int("epochs", "1", "9"), "9", "3", []float64{1, 3, 9},
			[][]int{{9, 3, 1}, {5, 1}, {3}}},
		// The paper's table (Li et al. 2018, Table 1).
		{"R=81 eta=3", hbtest.Int("epochs", "1", "81"), "81", "3", []float64{1, 3, 9, 27, 81},
			[][]int{{81, 27, 9, 3, 1}, {34, 11, 3, 1}, {15, 5, 1}, {8, 2}, {5}}},
		{"R=8 eta=2", hbtest.Int("epochs", "1", "8"), "8", "2", []float64{1, 2, 4, 8},
			[][]int{{8, 4, 2, 1}, {6, 3, 1}, {4, 2}, {4}}},
		// Budgets between powers of eta round to the nearest epoch.
		{"R=10 eta=3 rounds", hbtest.Int("epochs", "1", "10"), "10", "3", []float64{1, 3, 10},
			[][]int{{9, 3, 1}, {5, 1}, {3}}},
		{"R=20 eta=3 rounds", hbtest.Int("epochs", "1", "20"), "20", "3", []float64{2, 7, 20},
			[][]int{{9, 3, 1}, {5, 1}, {3}}},
		{"continuous budget", hbtest.Double("epochs", "0.5", "8.1"), "8.1", "3", []float64{2.7, 8.1},
			[][]int{{3, 1}, {2}}},
		{"stepped budget", &pb.ParameterSpec{Name: "epochs", ParameterType: pb.ParameterType_DOUBLE,
			FeasibleSpace: &pb.FeasibleSpace{Min: "0.5", Max: "16", Step: "0.5"}}, "16", "4", []float64{1, 4, 16},
			[][]int{{16, 4, 1}, {6, 1}, {3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp := hbtest.Experiment{Name: "s", Specs: []*pb.ParameterSpec{hbtest.Double("x", "0", "1"), tt.resource},
				Settings: hbtest.Settings("r_l", tt.r, "eta", tt.eta, "resource_name", "epochs")}
			p, err := problem(t, exp)
			if err != nil {
				t.Fatal(err)
			}
			sc, err := hyperband.NewSchedule(p)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(sc.Budgets, tt.budgets) {
				t.Errorf("budgets %v, want %v", sc.Budgets, tt.budgets)
			}
			if sc.Brackets() != len(tt.rungs) {
				t.Fatalf("%d brackets, want %d", sc.Brackets(), len(tt.rungs))
			}
			for k := range sc.Brackets() {
				s := sc.S(k)
				if want := sc.SMax - k; s != want {
					t.Errorf("bracket %d has s %d, want %d", k, s, want)
				}
				var got []int
				for i := 0; i <= s; i++ {
					got = append(got, sc.RungSize(s, i))
				}
				if !slices.Equal(got, tt.rungs[k]) {
					t.Errorf("bracket s=%d: rungs %v, want %v", s, got, tt.rungs[k])
				}
				if sc.Size(s) != tt.rungs[k][0] {
					t.Errorf("bracket s=%d: Size %d, want %d", s, sc.Size(s), tt.rungs[k][0])
				}
				if last := sc.Level(s, s); last != sc.SMax {
					t.Errorf("bracket s=%d ends at level %d, want %d (R)", s, last, sc.SMax)
				}
			}
			// The next iteration starts over at s_max.
			if s := sc.S(sc.Brackets()); s != sc.SMax {
				t.Errorf("bracket after an iteration has s %d, want %d", s, sc.SMax)
			}
		})
	}
}

func TestSettingsAndValidation(t *testing.T) {
	base := []*pb.ParameterSpec{hbtest.Double("x", "0", "1"), hbtest.Int("epochs", "1", "100"), hbtest.Categorical("opt", "sgd", "adam")}
	with := func(specs ...*pb.ParameterSpec) []*pb.ParameterSpec { return specs }
	tests := []struct {
		name     string
		specs    []*pb.ParameterSpec
		settings []string
		metric   string
		want     string // substring of the error; "" for none
	}{
		{"valid", base, []string{"r_l", "81", "resource_name", "epochs"}, hbtest.Metric, ""},
		{"eta 2", base, []string{"r_l", "64", "eta", "2", "resource_name", "epochs"}, hbtest.Metric, ""},
		{"r_l missing", base, []string{"resource_name", "epochs"}, hbtest.Metric, "r_l is missing"},
		{"resource_name missing", base, []string{"r_l", "9"}, hbtest.Metric, "resource_name is missing"},
		{"resource_name unknown", base, []string{"r_l", "9", "resource_name", "epoch"}, hbtest.Metric, `"epoch" is not a parameter of the experiment: use one of "x", "epochs"`},
		{"categorical resource", base, []string{"r_l", "9", "resource_name", "opt"}, hbtest.Metric, "must be an int or double parameter"},
		{"r_l below eta", base, []string{"r_l", "2", "resource_name", "epochs"}, hbtest.Metric, "r_l 2 with eta 3 makes no rung"},
		{"r_l above max", base, []string{"r_l", "243", "resource_name", "epochs"}, hbtest.Metric, `r_l 243 is above the max 100 of parameter "epochs"`},
		{"r_l not an integer", base, []string{"r_l", "9.5", "resource_name", "epochs"}, hbtest.Metric, `r_l 9.5 is not a value of parameter "epochs": use one such as 10`},
		{"budgets below min", with(hbtest.Double("x", "0", "1"), hbtest.Int("epochs", "2", "100")),
			[]string{"r_l", "9", "resource_name", "epochs"}, hbtest.Metric, `the smallest budget r_l/eta^2 = 1 is below the min 2 of parameter "epochs"`},
		{"budgets collide on a coarse step", with(hbtest.Double("x", "0", "1"), &pb.ParameterSpec{Name: "epochs", ParameterType: pb.ParameterType_INT,
			FeasibleSpace: &pb.FeasibleSpace{Min: "1", Max: "41", Step: "10"}}),
			[]string{"r_l", "41", "eta", "2", "resource_name", "epochs"}, hbtest.Metric, `budgets 1.28125 and 2.5625 both round to 1, a value of parameter "epochs"`},
		{"a budget of 0", with(hbtest.Double("x", "0", "1"), &pb.ParameterSpec{Name: "epochs", ParameterType: pb.ParameterType_INT,
			FeasibleSpace: &pb.FeasibleSpace{Min: "0", Max: "20", Step: "10"}}),
			[]string{"r_l", "20", "resource_name", "epochs"}, hbtest.Metric, `budget r_l/eta^2 = 2.22222222222 rounds to 0`},
		{"only the resource", with(hbtest.Int("epochs", "1", "100")), []string{"r_l", "9", "resource_name", "epochs"}, hbtest.Metric,
			"at least one parameter to tune besides the budget"},
		{"bracket too large", with(hbtest.Double("x", "0", "1"), hbtest.Int("epochs", "1", "100000")),
			[]string{"r_l", "65536", "eta", "2", "resource_name", "epochs"}, hbtest.Metric, "first bracket of 65536 configurations"},
		{"conditional resource", with(hbtest.Categorical("opt", "sgd", "adam"), under(hbtest.Int("epochs", "1", "100"), "opt", "sgd")),
			[]string{"r_l", "9", "resource_name", "epochs"}, hbtest.Metric, `parameters[1] ("epochs").parentName: resource_name "epochs" is a conditional parameter`},
		{"resource as a parent", with(hbtest.Int("epochs", "1", "100"), under(hbtest.Double("x", "0", "1"), "epochs", "9")),
			[]string{"r_l", "9", "resource_name", "epochs"}, hbtest.Metric, `resource_name "epochs" is the parent of a conditional parameter`},
		{"conditional parameters besides the resource", with(hbtest.Categorical("opt", "sgd", "adam"), under(hbtest.Double("x", "0", "1"), "opt", "sgd"), hbtest.Int("epochs", "1", "100")),
			[]string{"r_l", "9", "resource_name", "epochs"}, hbtest.Metric, ""},
		{"eta out of range", base, []string{"r_l", "9", "eta", "1", "resource_name", "epochs"}, hbtest.Metric, `eta: "1" is not an integer from 2 to 100`},
		{"r_l not a number", base, []string{"r_l", "nine", "resource_name", "epochs"}, hbtest.Metric, `r_l: "nine" is not a number above 0`},
		{"unknown setting", base, []string{"r_l", "9", "resource_name", "epochs", "s_max", "2"}, hbtest.Metric,
			`unknown setting "s_max": this algorithm takes eta, r_l, random_state, resource_name`},
		{"no objective metric", base, []string{"r_l", "9", "resource_name", "epochs"}, "", "objectiveMetricName: missing"},
		{"state not JSON", base, []string{"r_l", "9", "resource_name", "epochs", "hyperband_state", "{"}, hbtest.Metric, "hyperband_state: not the state Hyperband writes"},
		{"state with a rung too far", base, []string{"r_l", "9", "resource_name", "epochs", "hyperband_state", `{"next":2,"brackets":[{"k":1,"rung":2}]}`},
			hbtest.Metric, "bracket 1 has no rung 2"},
		{"state with a bracket not started", base, []string{"r_l", "9", "resource_name", "epochs", "hyperband_state", `{"next":1,"brackets":[{"k":1,"rung":0}]}`},
			hbtest.Metric, "bracket 1 is out of order or not started"},
		{"state counting on past the largest int", base, []string{"r_l", "9", "resource_name", "epochs", "hyperband_state", `{"next":9223372036854775807}`},
			hbtest.Metric, "next 9223372036854775807 is outside 0 to 2147483648"},
		{"state with bad configs", base, []string{"r_l", "9", "resource_name", "epochs", "hyperband_state", `{"next":1,"brackets":[{"k":0,"rung":0,"configs":"AAA"}]}`},
			hbtest.Metric, "configs is not a list of identities"},
		{"state written by hyperband", base, []string{"r_l", "9", "resource_name", "epochs", "hyperband_state", `{"next":1,"brackets":[{"k":0,"rung":1,"configs":"AAAAAAAAAAE"}]}`},
			hbtest.Metric, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp := hbtest.Experiment{Name: "v", Specs: tt.specs, Settings: hbtest.Settings(tt.settings...)}.Proto("hyperband", nil)
			exp.ExperimentSpec.Objective.ObjectiveMetricName = tt.metric
			_, err := algorithm.NewProblem(hyperband.Hyperband{}, exp)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("NewProblem: %v", err)
			case tt.want == "":
				return
			case err == nil:
				t.Fatalf("NewProblem accepted it; want an error with %q", tt.want)
			case !strings.Contains(err.Error(), tt.want):
				t.Errorf("error %q\nwant one with %q", err, tt.want)
			case !algorithm.IsInvalidArgument(err):
				t.Errorf("error %q is not the caller's to fix", err)
			case !strings.HasPrefix(err.Error(), "experiment.experimentSpec."):
				t.Errorf("error %q does not name the field to fix", err)
			}
		})
	}
}

func under(s *pb.ParameterSpec, parent string, values ...string) *pb.ParameterSpec {
	s.ParentName, s.ParentValues = parent, values
	return s
}

// budgetsOf lists the epochs of the trials from position from on.
func budgetsOf(c *hbtest.Controller, from int) []string {
	var out []string
	for _, t := range c.Trials[from:] {
		out = append(out, hbtest.Assignments(t.GetSpec().GetParameterAssignments().GetAssignments())["epochs"])
	}
	return out
}

func repeat(v string, n int) []string { return slices.Repeat([]string{v}, n) }

// TestSequentialRun runs one trial at a time, as with parallelTrialCount 1:
// the brackets run one after the other, exactly one iteration, and the last
// reply says the experiment is done.
func TestSequentialRun(t *testing.T) {
	c := newController(t, experiment(false, r9()...), byX)
	c.Run(1, 1000, 0)
	want := slices.Concat(
		repeat("1", 9), repeat("3", 3), repeat("9", 1), // bracket s=2
		repeat("3", 5), repeat("9", 1), // bracket s=1
		repeat("9", 3), // bracket s=0
	)
	if got := budgetsOf(c, 0); !slices.Equal(got, want) {
		t.Errorf("budgets in order\n%v\nwant\n%v", got, want)
	}
	if !c.Exhausted {
		t.Fatal("the last reply did not say the experiment is done")
	}
	for i, n := range c.Replies {
		if n != 1 {
			t.Errorf("reply %d has %d points, want 1", i, n)
		}
	}
	// Asked again after the end: nothing, and still done.
	more := c.Ask(3)
	if len(more) != 0 || !c.Exhausted {
		t.Errorf("after the end: %d points, exhausted %v; want 0, true", len(more), c.Exhausted)
	}
}

// TestPromotions checks that each rung promotes its best configurations by
// the objective at that rung's budget, whichever way the objective points.
func TestPromotions(t *testing.T) {
	for _, maximize := range []bool{false, true} {
		t.Run(fmt.Sprintf("maximize=%v", maximize), func(t *testing.T) {
			// At 1 epoch the score is x; at 3 it is 1-x, so the second
			// promotion must follow the second rung's results, not the first.
			obj := func(a map[string]string) (float64, bool) {
				x := hbtest.Number(a, "x")
				if a["epochs"] == "3" {
					return 1 - x, true
				}
				return x, true
			}
			c := newController(t, experiment(maximize, r9()...), obj)
			first := c.Ask(9)
			xs := make([]float64, len(first))
			for i, a := range first {
				if a["epochs"] != "1" {
					t.Fatalf("first rung at %s epochs, want 1", a["epochs"])
				}
				xs[i] = hbtest.Number(a, "x")
			}
			for _, i := range c.Active() {
				c.Complete(i)
			}
			sort.Float64s(xs)
			wantX := xs[:3] // least x: the least loss when minimizing
			if maximize {
				wantX = xs[6:]
			}
			second := c.Ask(3)
			gotX := xOf(t, second, "3", first)
			if !slices.Equal(gotX, wantX) {
				t.Errorf("promoted x %v, want the best three %v", gotX, wantX)
			}
			for _, i := range c.Active() {
				c.Complete(i)
			}
			// The score at 3 epochs is 1-x.
			best := wantX[2]
			if maximize {
				best = wantX[0]
			}
			third := c.Ask(1)
			if got := xOf(t, third, "9", second); len(got) != 1 || got[0] != best {
				t.Errorf("promoted to 9 epochs: x %v, want %v", got, best)
			}
		})
	}
}

// xOf returns the sorted x of promoted suggestions, checking their budget
// and that each keeps the values of an earlier configuration.
func xOf(t *testing.T, as []map[string]string, epochs string, from []map[string]string) []float64 {
	t.Helper()
	var out []float64
	for _, a := range as {
		if a["epochs"] != epochs {
			t.Errorf("promotion at %s epochs, want %s", a["epochs"], epochs)
		}
		if !slices.ContainsFunc(from, func(b map[string]string) bool { return b["x"] == a["x"] && b["opt"] == a["opt"] }) {
			t.Errorf("promotion %v is not a configuration of the rung below", a)
		}
		out = append(out, hbtest.Number(a, "x"))
	}
	sort.Float64s(out)
	return out
}

// TestFailedTrialsAreNotPromoted fails the seven best of nine: only the two
// that succeeded go on, and the third slot starts the next bracket.
func TestFailedTrialsAreNotPromoted(t *testing.T) {
	for _, cond := range []pb.TrialCondition{pb.TrialCondition_FAILED, pb.TrialCondition_METRICS_UNAVAILABLE} {
		t.Run(cond.String(), func(t *testing.T) {
			c := newController(t, experiment(false, r9()...), byX)
			first := c.Ask(9)
			order := make([]int, 9)
			for i := range order {
				order[i] = i
			}
			sort.Slice(order, func(a, b int) bool { return hbtest.Number(first[order[a]], "x") < hbtest.Number(first[order[b]], "x") })
			for rank, i := range order {
				if rank < 7 {
					c.Trials[i].Status = &pb.TrialStatus{Condition: cond}
				} else {
					c.Complete(i)
				}
			}
			next := c.Ask(3)
			wantX := []string{first[order[7]]["x"], first[order[8]]["x"]}
			gotX := []string{next[0]["x"], next[1]["x"]}
			sort.Strings(wantX)
			sort.Strings(gotX)
			if !slices.Equal(gotX, wantX) || next[0]["epochs"] != "3" || next[1]["epochs"] != "3" {
				t.Errorf("promoted %v, %v; want the two that succeeded, %v, at 3 epochs", next[0], next[1], wantX)
			}
			if next[2]["epochs"] != "3" || slices.ContainsFunc(first, func(a map[string]string) bool { return a["x"] == next[2]["x"] }) {
				t.Errorf("third point %v: want a new configuration at 3 epochs (bracket s=1)", next[2])
			}
		})
	}
}

// TestWaitingRungStartsTheNextBracket asks while a rung runs: the next
// bracket starts, and promotions go out first once the rung has finished.
func TestWaitingRungStartsTheNextBracket(t *testing.T) {
	c := newController(t, experiment(false, r9()...), byX)
	first := c.Ask(9)
	if got := budgetsOf(c, 0); !slices.Equal(got, repeat("1", 9)) {
		t.Fatalf("first reply at %v epochs", got)
	}
	// Eight of nine finished: the rung still waits.
	for _, i := range c.Active()[1:] {
		c.Complete(i)
	}
	c.Ask(2)
	if got := budgetsOf(c, 9); !slices.Equal(got, repeat("3", 2)) {
		t.Fatalf("while the first rung waits: epochs %v, want 3 3 (bracket s=1)", got)
	}
	for _, a := range c.Trials[9:] {
		if slices.ContainsFunc(first, func(b map[string]string) bool {
			return b["x"] == hbtest.Assignments(a.GetSpec().GetParameterAssignments().GetAssignments())["x"]
		}) {
			t.Errorf("bracket s=1 started with a configuration of bracket s=2")
		}
	}
	c.Complete(0)
	// Bracket s=2 promotes its three, then bracket s=1 gets its third.
	got := c.Ask(4)
	xOf(t, got[:3], "3", first)
	if got[3]["epochs"] != "3" || slices.ContainsFunc(first, func(b map[string]string) bool { return b["x"] == got[3]["x"] }) {
		t.Errorf("fourth point %v: want a new configuration of bracket s=1", got[3])
	}
}

// TestNextIterationWhenEveryBracketWaits asks for more than one iteration's
// first rungs hold: the next iteration starts rather than a short reply, and
// the run ends after it.
func TestNextIterationWhenEveryBracketWaits(t *testing.T) {
	c := newController(t, experiment(false, r9()...), byX)
	c.Ask(19)
	want := slices.Concat(repeat("1", 9), repeat("3", 5), repeat("9", 3), repeat("1", 2))
	if got := budgetsOf(c, 0); !slices.Equal(got, want) {
		t.Errorf("epochs %v\nwant %v", got, want)
	}
	if c.Exhausted {
		t.Error("exhausted with brackets under way")
	}
	var st struct {
		Next     int
		Brackets []struct{ K, Rung int }
	}
	if err := json.Unmarshal([]byte(c.State[0].GetValue()), &st); err != nil {
		t.Fatal(err)
	}
	if st.Next != 4 || len(st.Brackets) != 3 {
		t.Errorf("state %s: want 4 brackets started, 3 under way (s=0 is all out)", c.State[0].GetValue())
	}
	c.Run(1, 1000, 0)
	if !c.Exhausted || len(c.Trials) != 44 {
		t.Errorf("%d trials, exhausted %v; want two iterations of 22, true", len(c.Trials), c.Exhausted)
	}
}

// TestParallelRuns keeps many trials going, finishing them in random order,
// with failures: every reply is full and new (hbtest checks), and promotions
// happen at every budget.
func TestParallelRuns(t *testing.T) {
	for _, parallel := range []int{2, 9, 30} {
		t.Run(fmt.Sprint(parallel), func(t *testing.T) {
			obj := func(a map[string]string) (float64, bool) {
				x := hbtest.Number(a, "x")
				return x, math.Mod(x*1000, 7) >= 1 // about one in seven fails
			}
			c := newController(t, experiment(true, r9("eta", "3")...), obj)
			c.Run(parallel, 200, uint64(parallel))
			if len(c.Trials) != 200 && !c.Exhausted {
				t.Errorf("stopped after %d trials, not exhausted", len(c.Trials))
			}
			counts := map[string]int{}
			for _, b := range budgetsOf(c, 0) {
				counts[b]++
			}
			if counts["1"] == 0 || counts["3"] == 0 || counts["9"] == 0 {
				t.Errorf("budgets handed out %v: want each of 1, 3, 9", counts)
			}
		})
	}
}

// TestFiniteSpace runs Hyperband on 4 configurations: rungs take what there
// is, nothing repeats, and the run ends exhausted.
func TestFiniteSpace(t *testing.T) {
	exp := hbtest.Experiment{
		Name: "finite",
		Specs: []*pb.ParameterSpec{
			hbtest.Int("n", "1", "2"), hbtest.Int("epochs", "1", "9"), hbtest.Categorical("opt", "sgd", "adam"),
		},
		Settings: hbtest.Settings(r9()...),
	}
	obj := func(a map[string]string) (float64, bool) { return hbtest.Number(a, "n"), true }
	t.Run("sequential", func(t *testing.T) {
		c := newController(t, exp, obj)
		c.Run(1, 1000, 0)
		want := slices.Concat(repeat("1", 4), repeat("3", 1), repeat("9", 1), repeat("3", 3), repeat("9", 1), repeat("9", 2))
		if got := budgetsOf(c, 0); !slices.Equal(got, want) || !c.Exhausted {
			t.Errorf("epochs %v, exhausted %v\nwant %v, true", got, c.Exhausted, want)
		}
	})
	t.Run("all at once", func(t *testing.T) {
		c := newController(t, exp, obj)
		got := c.Ask(50)
		// Every configuration at every budget, and nothing more.
		if len(got) != 12 || !c.Exhausted {
			t.Errorf("%d points, exhausted %v; want all 12, true", len(got), c.Exhausted)
		}
	})
	t.Run("parallel", func(t *testing.T) {
		c := newController(t, exp, obj)
		c.Run(3, 1000, 5)
		if !c.Exhausted || len(c.Trials) > 12 {
			t.Errorf("%d trials, exhausted %v; want at most 12, true", len(c.Trials), c.Exhausted)
		}
	})
}

// TestFiniteConditionalSpace asks for every configuration of a space of
// three valid ones (n 1 alone, n 2 with opt sgd or adam, where the
// conditions off would make four) at each of the budgets 1, 3 and 9.
func TestFiniteConditionalSpace(t *testing.T) {
	exp := hbtest.Experiment{
		Name: "finite-conditional",
		Specs: []*pb.ParameterSpec{
			hbtest.Int("n", "1", "2"), hbtest.Int("epochs", "1", "9"), under(hbtest.Categorical("opt", "sgd", "adam"), "n", "2"),
		},
		Settings: hbtest.Settings(r9()...),
	}
	c := newController(t, exp, func(a map[string]string) (float64, bool) { return hbtest.Number(a, "n"), true })
	got := c.Ask(50)
	if len(got) != 9 || !c.Exhausted {
		t.Errorf("%d points, exhausted %v; want all 9, true", len(got), c.Exhausted)
	}
	for _, a := range got {
		if _, has := a["opt"]; has != (a["n"] == "2") {
			t.Errorf("assignment %v: opt present %v with n %s", a, has, a["n"])
		}
	}
}

// TestDeterminism sends the same request twice, at the start and mid-run,
// and the same request with another seed.
func TestDeterminism(t *testing.T) {
	c := newController(t, experiment(false, r9()...), byX)
	c.Ask(9)
	for _, i := range c.Active()[:9] {
		c.Complete(i)
	}
	c.Ask(2)
	for _, n := range []int{1, 5, 12} {
		req := c.Request(n)
		a := reply(t, req)
		b := reply(t, proto.Clone(req).(*pb.GetSuggestionsRequest))
		if !proto.Equal(a, b) {
			t.Errorf("the same request gave\n%v\nthen\n%v", a, b)
		}
		if n == 1 {
			continue // the last promotion of a rung: no draw involved
		}
		other := proto.Clone(req).(*pb.GetSuggestionsRequest)
		for _, s := range other.Experiment.ExperimentSpec.Algorithm.AlgorithmSettings {
			if s.Name == "random_state" {
				s.Value = "2"
			}
		}
		if proto.Equal(a.ParameterAssignments[len(a.ParameterAssignments)-1], reply(t, other).ParameterAssignments[len(a.ParameterAssignments)-1]) {
			t.Errorf("random_state 1 and 2 gave the same new configuration")
		}
	}
}

func reply(t *testing.T, req *pb.GetSuggestionsRequest) *pb.GetSuggestionsReply {
	t.Helper()
	p, err := algorithm.NewProblem(hyperband.Hyperband{}, req.GetExperiment())
	if err != nil {
		t.Fatal(err)
	}
	trials, err := p.ParseTrials(context.Background(), req.GetTrials())
	if err != nil {
		t.Fatal(err)
	}
	out, err := hyperband.Hyperband{}.Suggest(context.Background(), p, trials, int(req.GetRequestNumber()))
	if err != nil {
		t.Fatal(err)
	}
	r := &pb.GetSuggestionsReply{Algorithm: &pb.AlgorithmSpec{AlgorithmSettings: out.State}, SearchSpaceExhausted: out.Exhausted}
	for _, pt := range out.Points {
		r.ParameterAssignments = append(r.ParameterAssignments, &pb.GetSuggestionsReply_ParameterAssignments{Assignments: p.Space.Format(pt)})
	}
	return r
}

// TestStateIsCompactAndNeeded checks the state of a full first bracket of 81
// configurations is small, and that the run depends on it: without it,
// Hyperband starts over rather than promoting.
func TestStateIsCompactAndNeeded(t *testing.T) {
	exp := experiment(false, "r_l", "81", "resource_name", "epochs", "random_state", "3")
	c := newController(t, exp, byX)
	c.Ask(81)
	if len(c.State) != 1 || c.State[0].GetName() != hyperband.State {
		t.Fatalf("state %v, want one setting %s", c.State, hyperband.State)
	}
	if n := len(c.State[0].GetValue()); n > 1000 {
		t.Errorf("state of 81 configurations is %d bytes, want under 1000", n)
	}
	for _, i := range c.Active() {
		c.Complete(i)
	}
	saved := c.State
	c.State = nil // a controller that lost the state
	lost := c.Ask(1)
	if lost[0]["epochs"] != "1" {
		t.Errorf("without state: %v, want a new bracket at 1 epoch", lost[0])
	}
	c.State = saved
	kept := c.Ask(1)
	if kept[0]["epochs"] != "3" {
		t.Errorf("with state: %v, want a promotion to 3 epochs", kept[0])
	}
}

func TestCancelledContext(t *testing.T) {
	c := newController(t, experiment(false, r9()...), byX)
	req := c.Request(5)
	p, err := algorithm.NewProblem(hyperband.Hyperband{}, req.GetExperiment())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (hyperband.Hyperband{}).Suggest(ctx, p, nil, 5); err == nil {
		t.Error("Suggest with a cancelled context succeeded")
	}

	// Midway, with a history: a few trials into an iteration.
	c.Run(3, 6, 1)
	req = c.Request(5)
	p, err = algorithm.NewProblem(hyperband.Hyperband{}, req.GetExperiment())
	if err != nil {
		t.Fatal(err)
	}
	trials, err := p.ParseTrials(context.Background(), req.GetTrials())
	if err != nil {
		t.Fatal(err)
	}
	algorithmtest.CancelledMidway(t, hyperband.Hyperband{}, p, trials, 5)
}

// BenchmarkHyperbandSuggest asks for 10 points, R = 81 and eta = 3, with a
// history of 100 and of 1000 trials run 30 at a time.
func BenchmarkHyperbandSuggest(b *testing.B) {
	for _, history := range []int{100, 1000} {
		b.Run(fmt.Sprintf("history=%d", history), func(b *testing.B) {
			exp := experiment(false, "r_l", "81", "resource_name", "epochs", "random_state", "3")
			c := newController(b, exp, byX)
			c.Run(30, history, 7)
			benchmarkSuggest(b, hyperband.Hyperband{}, c.Request(10))
		})
	}
}

func benchmarkSuggest(b *testing.B, alg algorithm.Algorithm, req *pb.GetSuggestionsRequest) {
	p, err := algorithm.NewProblem(alg, req.GetExperiment())
	if err != nil {
		b.Fatal(err)
	}
	trials, err := p.ParseTrials(context.Background(), req.GetTrials())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		out, err := alg.Suggest(ctx, p, trials, int(req.GetRequestNumber()))
		if err != nil || len(out.Points) != int(req.GetRequestNumber()) {
			b.Fatalf("Suggest = %v, %v", out, err)
		}
	}
}
