package bohb_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/algorithmtest"
	"knobs.dev/knobs/pkg/algorithm/bohb"
	"knobs.dev/knobs/pkg/algorithm/hyperband"
	"knobs.dev/knobs/pkg/algorithm/hyperband/hbtest"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

func newController(t testing.TB, exp hbtest.Experiment, obj hbtest.Objective) *hbtest.Controller {
	return hbtest.NewController(t, bohb.BOHB{}, "bohb", exp, obj)
}

// experiment is x in [0, 1], an optimizer and epochs as the budget.
func experiment(settings ...string) hbtest.Experiment {
	return hbtest.Experiment{
		Name: "bohb",
		Specs: []*pb.ParameterSpec{
			hbtest.Double("x", "0", "1"),
			hbtest.Int("epochs", "1", "100"),
			hbtest.Categorical("opt", "sgd", "adam", "rmsprop"),
		},
		Settings: hbtest.Settings(append([]string{"r_l", "27", "resource_name", "epochs", "random_state", "1"}, settings...)...),
	}
}

// nearOptimum scores x by its distance to 0.8, and an optimizer other than
// adam poorly.
func nearOptimum(a map[string]string) (float64, bool) {
	v := math.Abs(hbtest.Number(a, "x") - 0.8)
	if a["opt"] != "adam" {
		v += 0.5
	}
	return v, true
}

func TestSettingsAndValidation(t *testing.T) {
	tests := []struct {
		name     string
		settings []string
		want     string
	}{
		{"defaults", nil, ""},
		{"all set", []string{"min_points_in_model", "4", "top_n_percent", "20", "num_samples", "32", "random_fraction", "0",
			"bandwidth_factor", "2.5", "min_bandwidth", "0.01"}, ""},
		{"min_points_in_model 0", []string{"min_points_in_model", "0"}, `min_points_in_model: "0" is not an integer from 1 to 100000`},
		{"top_n_percent 100", []string{"top_n_percent", "100"}, `top_n_percent: "100" is not an integer from 1 to 99`},
		{"num_samples 0", []string{"num_samples", "0"}, `num_samples: "0" is not an integer from 1 to 4096`},
		{"random_fraction above 1", []string{"random_fraction", "1.5"}, `random_fraction: "1.5" is not a number from 0 to 1`},
		{"bandwidth_factor 0", []string{"bandwidth_factor", "0"}, `bandwidth_factor: "0" is not a number above 0 and at most 100`},
		{"min_bandwidth 0", []string{"min_bandwidth", "0"}, `min_bandwidth: "0" is not a number above 0 and at most 1`},
		{"unknown", []string{"gamma", "1"}, `unknown setting "gamma": this algorithm takes bandwidth_factor, eta, min_bandwidth, min_points_in_model, num_samples, r_l, random_fraction, random_state, resource_name, top_n_percent`},
		{"hyperband's checks", []string{"r_l", "2"}, "r_l 2 with eta 3 makes no rung"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := algorithm.NewProblem(bohb.BOHB{}, experiment(tt.settings...).Proto("bohb", nil))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("NewProblem: %v", err)
			case tt.want == "":
			case err == nil:
				t.Fatalf("accepted; want an error with %q", tt.want)
			case !strings.Contains(err.Error(), tt.want) || !algorithm.IsInvalidArgument(err):
				t.Errorf("error %q\nwant the caller's, with %q", err, tt.want)
			}
		})
	}
}

// firstRungConfigs returns the values of name in configurations run at a
// budget for the first time, from trial position from on.
func firstRungConfigs(c *hbtest.Controller, from int) []map[string]string {
	seen := map[string]bool{}
	var out []map[string]string
	for i, t := range c.Trials {
		a := hbtest.Assignments(t.GetSpec().GetParameterAssignments().GetAssignments())
		k := a["x"] + "/" + a["opt"]
		if !seen[k] && i >= from {
			out = append(out, a)
		}
		seen[k] = true
	}
	return out
}

// TestModelGuidesNewConfigurations runs one iteration of BOHB and of
// Hyperband: once the model has data, BOHB's new configurations crowd the
// optimum and pick its optimizer; Hyperband's stay spread over the prior.
func TestModelGuidesNewConfigurations(t *testing.T) {
	share := func(alg algorithm.Algorithm, name string, settings ...string) (near, adam float64) {
		exp := experiment(settings...)
		c := hbtest.NewController(t, alg, name, exp, nearOptimum)
		c.Run(1, 1000, 0)
		if !c.Exhausted {
			t.Fatalf("%s did not finish its iteration", name)
		}
		late := firstRungConfigs(c, 15) // the model has had 14 results
		for _, a := range late {
			if math.Abs(hbtest.Number(a, "x")-0.8) < 0.1 {
				near++
			}
			if a["opt"] == "adam" {
				adam++
			}
		}
		return near / float64(len(late)), adam / float64(len(late))
	}
	hbNear, hbAdam := share(hyperband.Hyperband{}, "hyperband")
	bNear, bAdam := share(bohb.BOHB{}, "bohb", "random_fraction", "0")
	t.Logf("new configurations within 0.1 of the optimum: hyperband %.2f, bohb %.2f; with adam: %.2f, %.2f", hbNear, bNear, hbAdam, bAdam)
	if bNear < 0.45 || bNear < 2*hbNear {
		t.Errorf("%.2f of BOHB's new configurations near the optimum (Hyperband %.2f); want most", bNear, hbNear)
	}
	if bAdam < 0.7 || bAdam < hbAdam+0.3 {
		t.Errorf("%.2f of BOHB's new configurations use adam (Hyperband %.2f); want most", bAdam, hbAdam)
	}
}

// TestRandomFraction checks that random_fraction 1 leaves every new
// configuration to the prior: spread like Hyperband's.
func TestRandomFraction(t *testing.T) {
	c := newController(t, experiment("random_fraction", "1"), nearOptimum)
	c.Run(1, 1000, 0)
	var near int
	late := firstRungConfigs(c, 15)
	for _, a := range late {
		if math.Abs(hbtest.Number(a, "x")-0.8) < 0.1 {
			near++
		}
	}
	if frac := float64(near) / float64(len(late)); frac > 0.4 {
		t.Errorf("with random_fraction 1, %.2f of new configurations near the optimum; want about 0.2, as the prior", frac)
	}
}

// branin is the Branin function, least 0.397887 at three points.
func branin(x1, x2 float64) float64 {
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

// multiFidelityBranin is Branin seen through a budget: at r of 27 epochs it
// is off by up to 40 (1/r - 1/27), by pseudo-random noise that depends on x
// and r, so that cheap trials rank configurations roughly and full ones
// exactly.
func multiFidelityBranin(a map[string]string) (float64, bool) {
	x1, x2, r := hbtest.Number(a, "x1"), hbtest.Number(a, "x2"), hbtest.Number(a, "epochs")
	h := fnv.New64a()
	h.Write([]byte(a["x1"] + "/" + a["x2"] + "/" + a["epochs"]))
	u := float64(h.Sum64()%1000003) / 1000003 // in [0, 1)
	return branin(x1, x2) + 20*(1/r-1.0/27)*(1+u), true
}

func braninExperiment(seed int) hbtest.Experiment {
	return hbtest.Experiment{
		Name: "branin",
		Specs: []*pb.ParameterSpec{
			hbtest.Double("x1", "-5", "10"),
			hbtest.Int("epochs", "1", "27"),
			hbtest.Double("x2", "0", "15"),
		},
		Settings: hbtest.Settings("r_l", "27", "resource_name", "epochs", "random_state", fmt.Sprint(seed)),
	}
}

// bestAtFullBudget runs an experiment on the multi-fidelity Branin with
// parallel trials (finishing in an order drawn from the seed) up to
// maxTrials, or one iteration when run one at a time, and returns the least
// value at 27 epochs.
func bestAtFullBudget(t testing.TB, alg algorithm.Algorithm, name string, seed, parallel, maxTrials int) float64 {
	c := hbtest.NewController(t, alg, name, braninExperiment(seed), multiFidelityBranin)
	c.Run(parallel, maxTrials, uint64(seed))
	return slices.Min(c.Values(func(a map[string]string) bool { return a["epochs"] == "27" }))
}

// compare runs Hyperband and BOHB over seeds 1 to seeds and returns their
// results and the number of seeds on which BOHB did better.
func compare(t testing.TB, seeds, parallel, maxTrials int) (hb, bo []float64, wins int) {
	for seed := 1; seed <= seeds; seed++ {
		hb = append(hb, bestAtFullBudget(t, hyperband.Hyperband{}, "hyperband", seed, parallel, maxTrials))
		bo = append(bo, bestAtFullBudget(t, bohb.BOHB{}, "bohb", seed, parallel, maxTrials))
		if bo[seed-1] < hb[seed-1] {
			wins++
		}
	}
	return hb, bo, wins
}

// TestQualityOnMultiFidelityBranin compares BOHB with Hyperband over the
// same 40 seeds, one iteration each (4 brackets, 69 trials, run one at a
// time): BOHB's median best at full budget beats Hyperband's, and BOHB does
// better on most seeds. Branin's least value is 0.397887.
func TestQualityOnMultiFidelityBranin(t *testing.T) {
	const seeds = 40
	hb, bo, wins := compare(t, seeds, 1, 1000)
	t.Logf("best at 27 epochs over %d seeds (least possible 0.398): hyperband median %.3f, bohb median %.3f; bohb better on %d",
		seeds, algorithmtest.Median(hb), algorithmtest.Median(bo), wins)
	if algorithmtest.Median(bo) >= algorithmtest.Median(hb) {
		t.Errorf("BOHB median %.3f, Hyperband median %.3f: want BOHB lower", algorithmtest.Median(bo), algorithmtest.Median(hb))
	}
	if wins < seeds*3/5 {
		t.Errorf("BOHB better on %d of %d seeds, want at least 60%%", wins, seeds)
	}
}

// BenchmarkQuality reports the median best value at full budget of
// Hyperband and BOHB on the multi-fidelity Branin over 60 seeds: run one at
// a time for one iteration, and 4 at a time for 300 trials.
func BenchmarkQuality(b *testing.B) {
	for _, run := range []struct {
		name                string
		parallel, maxTrials int
	}{{"sequential", 1, 1000}, {"parallel4-300trials", 4, 300}} {
		b.Run(run.name, func(b *testing.B) {
			var hb, bo []float64
			var wins int
			for b.Loop() {
				hb, bo, wins = compare(b, 60, run.parallel, run.maxTrials)
			}
			b.ReportMetric(algorithmtest.Median(hb), "hyperband-median")
			b.ReportMetric(algorithmtest.Median(bo), "bohb-median")
			b.ReportMetric(float64(wins)/60, "bohb-win-rate")
		})
	}
}

// TestDeterminism sends the same request twice, mid-run with a model, and
// with another seed.
func TestDeterminism(t *testing.T) {
	c := newController(t, experiment(), nearOptimum)
	c.Run(1, 40, 0) // the first bracket, 27+9+3+1: the next points are new
	req := c.Request(6)
	a, b := reply(t, req), reply(t, proto.Clone(req).(*pb.GetSuggestionsRequest))
	if !proto.Equal(a, b) {
		t.Errorf("the same request gave\n%v\nthen\n%v", a, b)
	}
	other := proto.Clone(req).(*pb.GetSuggestionsRequest)
	for _, s := range other.Experiment.ExperimentSpec.Algorithm.AlgorithmSettings {
		if s.Name == "random_state" {
			s.Value = "2"
		}
	}
	if proto.Equal(a, reply(t, other)) {
		t.Error("random_state 1 and 2 gave the same reply")
	}
}

func reply(t *testing.T, req *pb.GetSuggestionsRequest) *pb.GetSuggestionsReply {
	t.Helper()
	p, err := algorithm.NewProblem(bohb.BOHB{}, req.GetExperiment())
	if err != nil {
		t.Fatal(err)
	}
	trials, err := p.ParseTrials(context.Background(), req.GetTrials())
	if err != nil {
		t.Fatal(err)
	}
	out, err := bohb.BOHB{}.Suggest(context.Background(), p, trials, int(req.GetRequestNumber()))
	if err != nil {
		t.Fatal(err)
	}
	r := &pb.GetSuggestionsReply{Algorithm: &pb.AlgorithmSpec{AlgorithmSettings: out.State}, SearchSpaceExhausted: out.Exhausted}
	for _, pt := range out.Points {
		r.ParameterAssignments = append(r.ParameterAssignments, &pb.GetSuggestionsReply_ParameterAssignments{Assignments: p.Space.Format(pt)})
	}
	return r
}

// TestSpaces runs BOHB in parallel over spaces of every kind, with failures:
// every reply is full, in the space and new (hbtest checks), and finite
// spaces end exhausted.
func TestSpaces(t *testing.T) {
	stepped := &pb.ParameterSpec{Name: "lr", ParameterType: pb.ParameterType_DOUBLE,
		FeasibleSpace: &pb.FeasibleSpace{Min: "0.001", Max: "0.1", Step: "0.001", Distribution: pb.Distribution_LOG_UNIFORM}}
	discrete := &pb.ParameterSpec{Name: "batch", ParameterType: pb.ParameterType_DISCRETE, FeasibleSpace: &pb.FeasibleSpace{List: []string{"64", "16", "32"}}}
	tests := []struct {
		name   string
		specs  []*pb.ParameterSpec
		finite bool
	}{
		{"mixed", []*pb.ParameterSpec{stepped, hbtest.Int("epochs", "1", "27"), discrete, hbtest.Categorical("opt", "sgd", "adam"), hbtest.Double("x", "-1", "1")}, false},
		{"small finite", []*pb.ParameterSpec{discrete, hbtest.Int("epochs", "1", "27"), hbtest.Categorical("opt", "sgd", "adam")}, true},
		{"one category", []*pb.ParameterSpec{hbtest.Categorical("opt", "adam"), hbtest.Int("epochs", "1", "27"), hbtest.Int("n", "1", "40")}, true},
		{"conditional", conditionalSpace(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp := hbtest.Experiment{Name: "spaces", Specs: tt.specs,
				Settings: hbtest.Settings("r_l", "27", "resource_name", "epochs", "random_state", "4", "random_fraction", "0.1")}
			obj := func(a map[string]string) (float64, bool) {
				h := 0.0
				for _, v := range a {
					for _, ch := range v {
						h = math.Mod(h*31+float64(ch), 1009)
					}
				}
				return h, math.Mod(h, 9) >= 1
			}
			c := newController(t, exp, obj)
			c.Run(5, 300, 11)
			if tt.finite && !c.Exhausted {
				t.Errorf("finite space: %d trials and not exhausted", len(c.Trials))
			}
			if !tt.finite && len(c.Trials) != 300 {
				t.Errorf("%d trials, want 300", len(c.Trials))
			}
		})
	}
}

// conditionalSpace has momentum only for sgd, and under it nesterov only
// for a momentum of 0.9.
func conditionalSpace() []*pb.ParameterSpec {
	momentum := &pb.ParameterSpec{Name: "momentum", ParameterType: pb.ParameterType_DISCRETE, FeasibleSpace: &pb.FeasibleSpace{List: []string{"0.5", "0.9"}},
		ParentName: "opt", ParentValues: []string{"sgd"}}
	nesterov := hbtest.Categorical("nesterov", "on", "off")
	nesterov.ParentName, nesterov.ParentValues = "momentum", []string{"0.9"}
	return []*pb.ParameterSpec{hbtest.Categorical("opt", "sgd", "adam"), hbtest.Int("epochs", "1", "27"), momentum, nesterov, hbtest.Double("x", "0", "1")}
}

// TestModelWithConditionalParameters runs BOHB and Hyperband on a
// conditional space where sgd with momentum 0.9 and nesterov on, near x =
// 0.8, is best: once BOHB's model has data, its new configurations take
// that branch far more often than Hyperband's, which the prior puts there
// one time in eight.
func TestModelWithConditionalParameters(t *testing.T) {
	obj := func(a map[string]string) (float64, bool) {
		v := math.Abs(hbtest.Number(a, "x") - 0.8)
		if a["opt"] != "sgd" || a["momentum"] != "0.9" || a["nesterov"] != "on" {
			v += 1
		}
		return v, true
	}
	share := func(alg algorithm.Algorithm, name string, settings ...string) float64 {
		exp := hbtest.Experiment{Name: "conditional", Specs: conditionalSpace(),
			Settings: hbtest.Settings(append([]string{"r_l", "27", "resource_name", "epochs", "random_state", "2"}, settings...)...)}
		c := hbtest.NewController(t, alg, name, exp, obj)
		c.Run(1, 1000, 0)
		late := firstRungConfigs(c, 15)
		branch := 0
		for _, a := range late {
			if a["opt"] == "sgd" && a["momentum"] == "0.9" && a["nesterov"] == "on" {
				branch++
			}
		}
		if len(late) == 0 {
			t.Fatalf("%s: no new configurations after the first 15 trials", name)
		}
		return float64(branch) / float64(len(late))
	}
	hb, b := share(hyperband.Hyperband{}, "hyperband"), share(bohb.BOHB{}, "bohb", "random_fraction", "0")
	t.Logf("new configurations taking the best branch: hyperband %.2f, bohb %.2f", hb, b)
	if b < 0.4 || b < 2*hb {
		t.Errorf("%.2f of BOHB's new configurations take the best branch (Hyperband %.2f); want at least 0.4 and twice Hyperband's", b, hb)
	}
}

// BenchmarkBOHBSuggest asks for 10 points, R = 81 and eta = 3, with a history
// of 100 and of 1000 trials run 30 at a time: the model is fitted on every
// call, and every new point is chosen by it.
func BenchmarkBOHBSuggest(b *testing.B) {
	for _, history := range []int{100, 1000} {
		b.Run(fmt.Sprintf("history=%d", history), func(b *testing.B) {
			exp := hbtest.Experiment{
				Name: "bench",
				Specs: []*pb.ParameterSpec{
					hbtest.Double("x1", "-5", "10"), hbtest.Int("epochs", "1", "81"), hbtest.Double("x2", "0", "15"),
					hbtest.Categorical("opt", "sgd", "adam", "rmsprop"),
				},
				Settings: hbtest.Settings("r_l", "81", "resource_name", "epochs", "random_state", "3", "random_fraction", "0"),
			}
			c := newController(b, exp, multiFidelityBranin)
			c.Run(30, history, 7)
			req := c.Request(10)
			p, err := algorithm.NewProblem(bohb.BOHB{}, req.GetExperiment())
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
				out, err := bohb.BOHB{}.Suggest(ctx, p, trials, 10)
				if err != nil || len(out.Points) != 10 {
					b.Fatalf("Suggest = %v, %v", out, err)
				}
			}
		})
	}
}

// A call honours its context while the model is fitted and sampled, not
// only at its start.
func TestCancelledContext(t *testing.T) {
	c := newController(t, experiment("random_fraction", "0"), nearOptimum)
	c.Run(3, 30, 1)
	req := c.Request(5)
	p, err := algorithm.NewProblem(bohb.BOHB{}, req.GetExperiment())
	if err != nil {
		t.Fatal(err)
	}
	trials, err := p.ParseTrials(context.Background(), req.GetTrials())
	if err != nil {
		t.Fatal(err)
	}
	algorithmtest.Cancelled(t, bohb.BOHB{}, p, trials, 5)
	algorithmtest.CancelledMidway(t, bohb.BOHB{}, p, trials, 5)
}
