package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
	"knative.dev/pkg/apis"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	servingfake "knative.dev/serving/pkg/client/clientset/versioned/fake"
	"sigs.k8s.io/yaml"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	knobsfake "knobs.dev/knobs/pkg/client/clientset/versioned/fake"
)

// experiment is an Experiment "tpe" in namespace ns minimising loss over
// x1 and x2, at most max trials.
func experiment(name string, maxTrials int32, opts ...func(*v1alpha1.Experiment)) *v1alpha1.Experiment {
	e := &v1alpha1.Experiment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: "uid-" + "name",
			CreationTimestamp: metav1.NewTime(time.Now().Add(-5 * time.Minute))},
		Spec: v1alpha1.ExperimentSpec{
			Objective:     v1alpha1.ObjectiveSpec{Type: v1alpha1.ObjectiveTypeMinimize, ObjectiveMetricName: "loss"},
			Algorithm:     v1alpha1.AlgorithmSpec{AlgorithmName: "tpe"},
			Parameters:    []v1alpha1.ParameterSpec{{Name: "x1", ParameterType: v1alpha1.ParameterTypeDouble}, {Name: "x2", ParameterType: v1alpha1.ParameterTypeDouble}},
			MaxTrialCount: ptr.To(maxTrials),
		},
	}
	e.Status.InitializeConditions()
	for _, o := range opts {
		o(e)
	}
	return e
}

func running(n, succeeded int32) func(*v1alpha1.Experiment) {
	return func(e *v1alpha1.Experiment) {
		e.Status.Trials, e.Status.TrialsRunning, e.Status.TrialsSucceeded = n+succeeded, n, succeeded
		e.Status.MarkRunning(v1alpha1.ExperimentReasonRunning, "%d of at most %d trials done", succeeded, maxTrials(e))
	}
}

func withBest(trial, loss string, as ...v1alpha1.ParameterAssignment) func(*v1alpha1.Experiment) {
	return func(e *v1alpha1.Experiment) {
		e.Status.CurrentOptimalTrial = &v1alpha1.OptimalTrial{BestTrialName: trial, ParameterAssignments: as,
			Observation: &v1alpha1.Observation{Metrics: []v1alpha1.Metric{{Name: "loss", Value: loss}}}}
	}
}

func endedWith(succeeded bool, reason string) func(*v1alpha1.Experiment) {
	return func(e *v1alpha1.Experiment) {
		if succeeded {
			e.Status.MarkSucceeded(reason, "it ended")
		} else {
			e.Status.MarkFailed(reason, "it ended badly")
		}
	}
}

func pa(name, value string) v1alpha1.ParameterAssignment {
	return v1alpha1.ParameterAssignment{Name: name, Value: value}
}

// trial is a Trial of e, controlled by it, in the given phase with a loss
// ("" for none).
func trial(e *v1alpha1.Experiment, name, phase, loss string, as ...v1alpha1.ParameterAssignment) *v1alpha1.Trial {
	t := &v1alpha1.Trial{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.Namespace, Labels: map[string]string{tuning.ExperimentLabelKey: e.Name},
			OwnerReferences:   []metav1.OwnerReference{*metav1.NewControllerRef(e, v1alpha1.SchemeGroupVersion.WithKind("Experiment"))},
			CreationTimestamp: metav1.NewTime(time.Now().Add(-time.Minute))},
		Spec: v1alpha1.TrialSpec{ParameterAssignments: as},
	}
	if loss != "" {
		t.Status.Observation = &v1alpha1.Observation{Metrics: []v1alpha1.Metric{{Name: "loss", Value: loss}}}
	}
	switch phase {
	case v1alpha1.TrialReasonRunning:
		t.Status.MarkRunning("running")
	case v1alpha1.TrialReasonSucceeded:
		t.Status.MarkSucceeded("done")
	case v1alpha1.TrialReasonFailed:
		t.Status.MarkFailed("boom")
	case v1alpha1.TrialReasonKilled:
		t.Status.MarkKilled("stopped")
	}
	return t
}

type harness struct {
	knobs   *knobsfake.Clientset
	serving *servingfake.Clientset
	opened  []string
}

func newHarness(knobs []runtime.Object, serving ...runtime.Object) *harness {
	return &harness{knobs: knobsfake.NewSimpleClientset(knobs...), serving: servingfake.NewSimpleClientset(serving...)}
}

// run runs the command line as "kubectl knobs" on the fakes, in namespace
// ns unless it says otherwise, and returns its output.
func (h *harness) run(t *testing.T, terminal bool, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := NewCommand("kubectl knobs", IO{Out: &out, ErrOut: &errOut, Terminal: terminal, Width: 200},
		&Clients{Knobs: h.knobs, Serving: h.serving, Namespace: "ns"},
		func(u string) error { h.opened = append(h.opened, u); return nil })
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func (h *harness) experiment(t *testing.T, name string) *v1alpha1.Experiment {
	t.Helper()
	e, err := h.knobs.TuningV1alpha1().Experiments("ns").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestNameFor(t *testing.T) {
	for argv0, want := range map[string]string{
		"/usr/local/bin/kubectl-knobs": "kubectl knobs",
		"kn-knobs":                     "kn knobs",
		"/x/kubectl_complete-knobs":    "kubectl knobs",
		"_output/bin/something-else":   "something-else",
		"kubectl-":                     "kubectl-",
	} {
		if got := NameFor(argv0); got != want {
			t.Errorf("NameFor(%q) = %q, want %q", argv0, got, want)
		}
	}
}

func TestUsageSpeaksTheNameItWasCalledBy(t *testing.T) {
	for _, name := range []string{"kubectl knobs", "kn knobs"} {
		var out bytes.Buffer
		cmd := NewCommand(name, IO{Out: &out, ErrOut: &out}, &Clients{}, nil)
		cmd.SetArgs([]string{"extend", "--help"})
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), name+" extend NAME --max-trials N") || !strings.Contains(out.String(), name+" extend tpe-branin --max-trials 50") {
			t.Errorf("help as %q:\n%s", name, out.String())
		}
	}
}

func TestGet(t *testing.T) {
	a := experiment("a", 30, running(3, 6), withBest("a-4", "1.25", pa("x1", "0.5"), pa("x2", "2")))
	b := experiment("b", 10, running(0, 10), endedWith(true, v1alpha1.ExperimentReasonMaxTrialsReached))
	b.Status.Trials, b.Status.TrialsSucceeded, b.Status.TrialsFailed = 10, 8, 2
	other := experiment("c", 10)
	other.Namespace = "elsewhere"
	h := newHarness([]runtime.Object{a, b, other})

	out, _, err := h.run(t, false, "get")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"NAME   ALGORITHM   PROGRESS                       RUNNING   FAILED   BEST        STATUS      REASON             AGE",
		"a      tpe         [####................] 6/30    3         0        loss=1.25   Running     Running            5m",
		"b      tpe         [####################] 10/10   0         2        <none>      Succeeded   MaxTrialsReached   5m",
	}
	if got := strings.Split(strings.TrimSpace(out), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("get:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}

	out, _, err = h.run(t, false, "get", "-A", "-o", "wide")
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 4 || !strings.HasPrefix(lines[0], "NAMESPACE   NAME") ||
		!strings.Contains(lines[0], "BEST-TRIAL   ASSIGNMENT") || !strings.Contains(out, "a-4          x1=0.5 x2=2") || !strings.Contains(out, "elsewhere") {
		t.Errorf("get -A -o wide:\n%s", out)
	}

	out, _, err = h.run(t, false, "get", "a", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var got v1alpha1.Experiment
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("get -o json is not an Experiment: %v\n%s", err, out)
	}
	if got.Kind != "Experiment" || got.APIVersion != "tuning.knobs.dev/v1alpha1" || got.Name != "a" || got.Status.CurrentOptimalTrial.BestTrialName != "a-4" {
		t.Errorf("get a -o json: %+v", got)
	}

	out, _, err = h.run(t, false, "get", "-o", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Kind  string
		Items []v1alpha1.Experiment
	}
	if err := yaml.Unmarshal([]byte(out), &list); err != nil || list.Kind != "List" || len(list.Items) != 2 || list.Items[1].Kind != "Experiment" {
		t.Errorf("get -o yaml: %v\n%s", err, out)
	}

	out, _, err = h.run(t, false, "get", "-o", "name")
	if err != nil || out != "experiment.tuning.knobs.dev/a\nexperiment.tuning.knobs.dev/b\n" {
		t.Errorf("get -o name: %v\n%s", err, out)
	}

	_, errOut, err := h.run(t, false, "get", "-n", "empty")
	if err != nil || errOut != "No Experiments found in namespace empty.\n" {
		t.Errorf("get in an empty namespace: %v, %q", err, errOut)
	}

	if _, _, err := h.run(t, false, "get", "-o", "xml"); err == nil || !strings.Contains(err.Error(), `unknown output format "xml": use -o table, wide, json, yaml or name`) {
		t.Errorf("get -o xml: %v", err)
	}
	if _, _, err := h.run(t, false, "get", "nope"); err == nil || !strings.Contains(err.Error(), `"nope" not found`) {
		t.Errorf("get nope: %v", err)
	}
}

func TestBest(t *testing.T) {
	e := experiment("a", 30, running(0, 3), withBest("a-2", "0.5", pa("lr", "0.01"), pa("optimizer", "adam w"), pa("n-layers", "3"), pa("quote", "it's"), pa("--seed", "7")))
	h := newHarness([]runtime.Object{e, experiment("none", 3, running(2, 0))})
	for as, want := range map[string]string{
		"flags": "--lr=0.01 '--optimizer=adam w' --n-layers=3 '--quote=it'\\''s' --seed=7\n",
		"env":   "LR=0.01\nOPTIMIZER='adam w'\nN_LAYERS=3\nQUOTE='it'\\''s'\nSEED=7\n",
		"yaml":  "lr: \"0.01\"\noptimizer: \"adam w\"\nn-layers: \"3\"\nquote: \"it's\"\n\"--seed\": \"7\"\n",
	} {
		out, _, err := h.run(t, false, "best", "a", "--as", as)
		if err != nil || out != want {
			t.Errorf("best --as %s: %v\n%q\nwant\n%q", as, err, out, want)
		}
	}
	if out, _, _ := h.run(t, false, "best", "a"); !strings.HasPrefix(out, "--lr=0.01 ") {
		t.Errorf("best prints flags by default: %q", out)
	}
	out, _, err := h.run(t, false, "best", "a", "--as", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]string
	if err := yaml.Unmarshal([]byte(out), &back); err != nil || back["lr"] != "0.01" || back["quote"] != "it's" {
		t.Errorf("--as yaml does not read back: %v %v", err, back)
	}

	out, _, err = h.run(t, false, "best", "a", "-o", "json")
	var b v1alpha1.OptimalTrial
	if err != nil || json.Unmarshal([]byte(out), &b) != nil || b.BestTrialName != "a-2" || b.Observation.Metrics[0].Value != "0.5" {
		t.Errorf("best -o json: %v\n%s", err, out)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"best", "none"}, "experiment none has no best trial yet: none of its 2 trials has succeeded with its objective metric loss"},
		{[]string{"best", "a", "--as", "toml"}, `unknown form "toml" for --as: use flags, env, yaml`},
		{[]string{"best", "a", "--as", "env", "-o", "json"}, "--as and -o do not go together"},
		{[]string{"best", "a", "-o", "wide"}, `unknown output format "wide" for best`},
		{[]string{"best"}, "accepts 1 arg(s), received 0"},
	} {
		if _, _, err := h.run(t, false, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{"lr": "LR", "learning-rate": "LEARNING_RATE", "2nd": "_2ND", "a.b": "A_B", "": "_"} {
		if got := envName(in); got != want {
			t.Errorf("envName(%q) = %q, want %q", in, got, want)
		}
	}
}

// trialNames are the names in the first column of a table of trials.
func trialNames(out string) string {
	var ns []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		ns = append(ns, strings.Fields(l)[0])
	}
	return strings.Join(ns, " ")
}

func TestTrials(t *testing.T) {
	e := experiment("a", 30, running(1, 3), withBest("a-10", "0.5"))
	objs := []runtime.Object{e,
		trial(e, "a-2", v1alpha1.TrialReasonSucceeded, "3", pa("x1", "1"), pa("x2", "2")),
		trial(e, "a-10", v1alpha1.TrialReasonSucceeded, "0.5", pa("x1", "3"), pa("x2", "4")),
		trial(e, "a-1", v1alpha1.TrialReasonSucceeded, "1.5", pa("x1", "5"), pa("x2", "6")),
		trial(e, "a-3", v1alpha1.TrialReasonRunning, "", pa("x1", "7"), pa("x2", "8")),
	}
	h := newHarness(objs)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"trials", "a"}, "a-1 a-2 a-3 a-10"},
		{[]string{"trials", "a", "--sort"}, "a-10 a-1 a-2 a-3"},
		{[]string{"trials", "a", "--sort=objective"}, "a-10 a-1 a-2 a-3"},
		{[]string{"trials", "a", "--sort=name"}, "a-1 a-10 a-2 a-3"},
	} {
		out, _, err := h.run(t, false, c.args...)
		if err != nil || trialNames(out) != c.want {
			t.Errorf("%v: %v, order %q, want %q\n%s", c.args, err, trialNames(out), c.want, out)
		}
	}
	out, _, err := h.run(t, false, "trials", "a")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "NAME     STATE       LOSS     X1   X2   DURATION   AGE") ||
		!strings.HasPrefix(lines[4], "a-10 *   Succeeded   0.5      3    4    <none>") ||
		!strings.HasPrefix(lines[3], "a-3      Running     <none>   7    8    <none>") {
		t.Errorf("trials a:\n%s", out)
	}

	// Maximising, the largest is best.
	e.Spec.Objective.Type = v1alpha1.ObjectiveTypeMaximize
	if _, err := h.knobs.TuningV1alpha1().Experiments("ns").Update(context.Background(), e, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if out, _, err := h.run(t, false, "trials", "a", "--sort"); err != nil || trialNames(out) != "a-2 a-1 a-10 a-3" {
		t.Errorf("trials --sort, maximising: %v %q", err, trialNames(out))
	}

	out, _, err = h.run(t, false, "trials", "a", "-o", "json")
	var list struct {
		Kind  string
		Items []v1alpha1.Trial
	}
	if err != nil || json.Unmarshal([]byte(out), &list) != nil || list.Kind != "List" || len(list.Items) != 4 || list.Items[0].Kind != "Trial" {
		t.Errorf("trials -o json: %v\n%s", err, out)
	}
	if out, _, err := h.run(t, false, "trials", "a", "--sort=loss"); err != nil || trialNames(out) != "a-2 a-1 a-10 a-3" {
		t.Errorf("trials --sort=loss, the objective metric: %v %q", err, trialNames(out))
	}
	if _, _, err := h.run(t, false, "trials", "a", "--sort=accuracy"); err == nil || !strings.Contains(err.Error(), `unknown order "accuracy" for --sort: use number, objective, name or an objective's metric (loss)`) {
		t.Errorf("--sort=accuracy: %v", err)
	}
	if _, _, err := h.run(t, false, "trials", "nope"); err == nil || !strings.Contains(err.Error(), `"nope" not found`) {
		t.Errorf("trials nope: %v", err)
	}
}

// multiObjective makes e minimise loss and maximise throughput, with memory
// at most 512.
func multiObjective(e *v1alpha1.Experiment) {
	e.Spec.Objective.AdditionalObjectives = []v1alpha1.AdditionalObjective{{Name: "throughput", Type: v1alpha1.ObjectiveTypeMaximize}}
	e.Spec.Objective.Constraints = []v1alpha1.MetricConstraint{{Name: "memory", Max: ptr.To(512.0)}}
}

// measured is trial with throughput and memory reported besides loss.
func measured(e *v1alpha1.Experiment, name, loss, throughput, memory string, as ...v1alpha1.ParameterAssignment) *v1alpha1.Trial {
	t := trial(e, name, v1alpha1.TrialReasonSucceeded, loss, as...)
	t.Status.Observation.Metrics = append(t.Status.Observation.Metrics, v1alpha1.Metric{Name: "throughput", Value: throughput}, v1alpha1.Metric{Name: "memory", Value: memory})
	return t
}

func optimal(t *v1alpha1.Trial) v1alpha1.OptimalTrial {
	return v1alpha1.OptimalTrial{BestTrialName: t.Name, ParameterAssignments: t.Spec.ParameterAssignments, Observation: t.Status.Observation}
}

func TestMultiObjective(t *testing.T) {
	e := experiment("mo", 30, running(0, 4), multiObjective)
	fast := measured(e, "mo-1", "2", "900", "100", pa("x1", "1"), pa("x2", "2"))
	good := measured(e, "mo-2", "0.5", "300", "400", pa("x1", "3"), pa("x2", "4"))
	beaten := measured(e, "mo-3", "2.5", "800", "100", pa("x1", "5"), pa("x2", "6"))
	broke := measured(e, "mo-4", "0.1", "1000", "900", pa("x1", "7"), pa("x2", "8"))
	e.Status.CurrentOptimalTrial = ptr.To(optimal(good))
	e.Status.ParetoOptimalTrials = []v1alpha1.OptimalTrial{optimal(good), optimal(fast)}
	e.Status.ParetoOptimalTrialCount, e.Status.TrialsInfeasible = 2, 1
	empty := experiment("empty", 30, running(2, 0), multiObjective)
	h := newHarness([]runtime.Object{e, fast, good, beaten, broke, empty})

	out, _, err := h.run(t, false, "best", "mo")
	want := "NAME   LOSS   THROUGHPUT   X1   X2\n" +
		"mo-2   0.5    300          3    4\n" +
		"mo-1   2      900          1    2\n"
	if err != nil || out != want {
		t.Errorf("best mo: %v\n%s\nwant\n%s", err, out, want)
	}
	for _, o := range []string{"json", "yaml"} {
		out, _, err := h.run(t, false, "best", "mo", "-o", o)
		var got struct {
			ParetoOptimalTrialCount int32                   `json:"paretoOptimalTrialCount"`
			ParetoOptimalTrials     []v1alpha1.OptimalTrial `json:"paretoOptimalTrials"`
		}
		if err != nil || yaml.Unmarshal([]byte(out), &got) != nil || got.ParetoOptimalTrialCount != 2 || len(got.ParetoOptimalTrials) != 2 ||
			got.ParetoOptimalTrials[1].BestTrialName != "mo-1" || got.ParetoOptimalTrials[1].Observation.Metric("throughput").Value != "900" {
			t.Errorf("best mo -o %s: %v\n%s", o, err, out)
		}
	}
	if out, _, err := h.run(t, false, "best", "mo", "--as", "env"); err != nil || out != "X1=3\nX2=4\n" {
		t.Errorf("best mo --as env, the best feasible by loss: %v %q", err, out)
	}
	if _, _, err := h.run(t, false, "best", "empty"); err == nil ||
		!strings.Contains(err.Error(), "experiment empty has no Pareto-optimal trial yet: none of its 2 trials has succeeded, kept its constraints and reported every objective (loss, throughput)") {
		t.Errorf("best empty: %v", err)
	}
	// A front longer than the status lists says so.
	e.Status.ParetoOptimalTrialCount = 150
	if _, err := h.knobs.TuningV1alpha1().Experiments("ns").Update(context.Background(), e, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := h.run(t, false, "best", "mo"); err != nil || errOut != "2 of the 150 Pareto-optimal trials, spread along the front; kubectl knobs trials mo lists every trial.\n" {
		t.Errorf("best mo, a long front: %v %q", err, errOut)
	}

	if got, want := strings.Join(render(e), "\n"), "mo  [##..................] 4/30  running 0  failed 0  Running (Running)\n"+
		"best feasible loss=0.5 (mo-2)  x1=3 x2=4\n"+
		"Pareto front 150  infeasible 1"; got != want {
		t.Errorf("watch mo:\n%s\nwant\n%s", got, want)
	}

	out, _, err = h.run(t, false, "get", "-o", "wide")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	front, infeasible := strings.Index(lines[0], "FRONT"), strings.Index(lines[0], "INFEASIBLE")
	if front < 0 || infeasible < 0 || !strings.HasPrefix(lines[2][front:], "150 ") || !strings.HasPrefix(lines[2][infeasible:], "1 ") ||
		!strings.HasPrefix(lines[1][front:], "0 ") {
		t.Errorf("get -o wide:\n%s", out)
	}

	out, _, err = h.run(t, false, "trials", "mo")
	want = "NAME     STATE       LOSS   THROUGHPUT   MEMORY   FEASIBLE   X1   X2\n" +
		"mo-1     Succeeded   2      900          100      yes        1    2\n" +
		"mo-2 *   Succeeded   0.5    300          400      yes        3    4\n" +
		"mo-3     Succeeded   2.5    800          100      yes        5    6\n" +
		"mo-4     Succeeded   0.1    1000         900      no         7    8\n"
	var cut []string
	for _, l := range strings.SplitAfter(out, "\n") {
		if i := strings.Index(l, "   <none>"); i > 0 { // duration and age
			l = strings.TrimRight(l[:i], " ") + "\n"
		} else if i := strings.Index(l, "   DURATION"); i > 0 {
			l = strings.TrimRight(l[:i], " ") + "\n"
		}
		cut = append(cut, l)
	}
	if err != nil || strings.Join(cut, "") != want {
		t.Errorf("trials mo: %v\n%s\nwant\n%s", err, strings.Join(cut, ""), want)
	}
	for by, want := range map[string]string{
		"throughput": "mo-4 mo-1 mo-3 mo-2", // the largest first
		"loss":       "mo-4 mo-2 mo-1 mo-3",
	} {
		if out, _, err := h.run(t, false, "trials", "mo", "--sort="+by); err != nil || trialNames(out) != want {
			t.Errorf("trials --sort=%s: %v %q, want %q", by, err, trialNames(out), want)
		}
	}
	if _, _, err := h.run(t, false, "trials", "mo", "--sort=memory"); err == nil || !strings.Contains(err.Error(), "an objective's metric (loss, throughput)") {
		t.Errorf("--sort=memory: %v", err)
	}
}

func TestExtend(t *testing.T) {
	h := newHarness([]runtime.Object{
		experiment("runs", 10, running(2, 3)),
		experiment("max", 10, endedWith(true, v1alpha1.ExperimentReasonMaxTrialsReached)),
		experiment("goal", 10, endedWith(true, v1alpha1.ExperimentReasonGoalReached)),
		experiment("never", 10, endedWith(true, v1alpha1.ExperimentReasonMaxTrialsReached), func(e *v1alpha1.Experiment) { e.Spec.ResumePolicy = v1alpha1.NeverResume }),
	})
	for _, name := range []string{"runs", "max"} {
		out, _, err := h.run(t, false, "extend", name, "--max-trials", "25")
		if err != nil || out != "experiment "+name+" extended: maxTrialCount 10 -> 25\n" {
			t.Errorf("extend %s: %v %q", name, err, out)
		}
		if got := *h.experiment(t, name).Spec.MaxTrialCount; got != 25 {
			t.Errorf("extend %s: maxTrialCount %d, want 25", name, got)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"extend", "runs", "--max-trials", "25"}, "experiment runs already has maxTrialCount 25: --max-trials must be more than that"},
		{[]string{"extend", "runs", "--max-trials", "3"}, "already has maxTrialCount 25"},
		{[]string{"extend", "runs"}, "say how many trials the Experiment may run in all with --max-trials N"},
		{[]string{"extend", "goal", "--max-trials", "20"}, "experiment goal has ended (GoalReached: it ended) and does not resume"},
		{[]string{"extend", "never", "--max-trials", "20"}, "its resumePolicy is Never"},
		{[]string{"extend", "runs", "--max-trials", "many"}, `invalid argument "many"`},
	} {
		if _, _, err := h.run(t, false, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
	for _, name := range []string{"goal", "never"} {
		if got := *h.experiment(t, name).Spec.MaxTrialCount; got != 10 {
			t.Errorf("refused extend of %s changed maxTrialCount to %d", name, got)
		}
	}
}

func suggestion(name string, handed int32) *v1alpha1.Suggestion {
	s := &v1alpha1.Suggestion{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}}
	s.Status.SuggestionCount = handed
	return s
}

func TestStopWithoutWaiting(t *testing.T) {
	e := experiment("a", 30, running(2, 3))
	finish := experiment("f", 30, running(1, 0), func(e *v1alpha1.Experiment) { e.Spec.TrialsOnEnd = v1alpha1.TrialsOnEndFinish })
	foreign := trial(e, "by-hand", v1alpha1.TrialReasonRunning, "")
	foreign.OwnerReferences = nil
	h := newHarness([]runtime.Object{e, suggestion("a", 6), finish, suggestion("f", 2),
		trial(e, "a-1", v1alpha1.TrialReasonSucceeded, "1"), trial(e, "a-2", v1alpha1.TrialReasonFailed, ""),
		trial(e, "a-3", v1alpha1.TrialReasonRunning, ""), trial(e, "a-4", v1alpha1.TrialReasonRunning, ""),
		trial(e, "a-5", "", ""), foreign,
		trial(finish, "f-1", v1alpha1.TrialReasonRunning, ""),
		experiment("done", 5, endedWith(false, v1alpha1.ExperimentReasonMaxFailedTrialsReached)),
	})
	out, _, err := h.run(t, false, "stop", "a", "--wait=false")
	if err != nil || out != "experiment a: maxTrialCount 30 -> 6, the assignments handed out\nexperiment a stopping: 3 trials stopped\n" {
		t.Errorf("stop a: %v\n%s", err, out)
	}
	if got := *h.experiment(t, "a").Spec.MaxTrialCount; got != 6 {
		t.Errorf("maxTrialCount %d, want 6", got)
	}
	trials, err := h.knobs.TuningV1alpha1().Trials("ns").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var stopped []string
	for _, tr := range trials.Items {
		if tr.Spec.Stop {
			stopped = append(stopped, tr.Name)
		}
	}
	if strings.Join(stopped, " ") != "a-3 a-4 a-5" {
		t.Errorf("stopped %v; want the trials of a under way, not the ended, not the foreign one, not f's", stopped)
	}

	out, _, err = h.run(t, false, "stop", "f", "--wait=false")
	if err != nil || !strings.Contains(out, "maxTrialCount 30 -> 2") || !strings.Contains(out, "0 trials stopped") {
		t.Errorf("stop f (trialsOnEnd Finish): %v\n%s", err, out)
	}
	out, _, err = h.run(t, false, "stop", "done")
	if err != nil || out != "experiment done has already ended (MaxFailedTrialsReached)\n" || *h.experiment(t, "done").Spec.MaxTrialCount != 5 {
		t.Errorf("stop done: %v %q", err, out)
	}
	if _, _, err := h.run(t, false, "stop", "nope"); err == nil || !strings.Contains(err.Error(), `"nope" not found`) {
		t.Errorf("stop nope: %v", err)
	}
}

// controller plays the Experiment reconciler for stop and watch: once the
// command watches the Experiment and every trial under way has been asked
// to stop, it ends the Experiment as given.
func controller(t *testing.T, h *harness, name string, end func(*v1alpha1.Experiment)) {
	ctx := context.Background()
	watching := func() bool {
		for _, a := range h.knobs.Actions() {
			if a.GetVerb() == "watch" && a.GetResource().Resource == "experiments" {
				return true
			}
		}
		return false
	}
	go func() {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if !watching() {
				continue
			}
			trials, err := h.knobs.TuningV1alpha1().Trials("ns").List(ctx, metav1.ListOptions{})
			if err != nil {
				continue
			}
			stopping := false
			for _, tr := range trials.Items {
				stopping = stopping || !tr.Spec.Stop && !tr.Status.IsDone()
			}
			if stopping {
				continue
			}
			e, err := h.knobs.TuningV1alpha1().Experiments("ns").Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				continue
			}
			end(e)
			if !ended(e) {
				continue // not yet, as end says
			}
			if _, err := h.knobs.TuningV1alpha1().Experiments("ns").UpdateStatus(ctx, e, metav1.UpdateOptions{}); err == nil {
				return
			}
		}
	}()
}

func TestStopWaitsForTheEnd(t *testing.T) {
	e := experiment("a", 30, running(1, 1), withBest("a-1", "2"))
	h := newHarness([]runtime.Object{e, suggestion("a", 2),
		trial(e, "a-1", v1alpha1.TrialReasonSucceeded, "2"), trial(e, "a-2", v1alpha1.TrialReasonRunning, "")})
	controller(t, h, "a", func(e *v1alpha1.Experiment) {
		e.Status.TrialsRunning, e.Status.TrialsKilled = 0, 1
		e.Status.MarkSucceeded(v1alpha1.ExperimentReasonMaxTrialsReached, "2 trials ran, maxTrialCount being 2")
	})
	out, _, err := h.run(t, false, "stop", "a", "--timeout", "20s")
	if err != nil || !strings.HasSuffix(out, "experiment a stopped: MaxTrialsReached, 1 trials stopped, best loss=2\n") {
		t.Errorf("stop a: %v\n%s", err, out)
	}
}

func TestWatch(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		h := newHarness([]runtime.Object{experiment("a", 4, running(2, 1))})
		controller(t, h, "a", func(e *v1alpha1.Experiment) {
			withBest("a-3", "0.25", pa("x1", "1"))(e)
			running(0, 4)(e)
			e.Status.MarkSucceeded(v1alpha1.ExperimentReasonMaxTrialsReached, "4 trials ran, maxTrialCount being 4")
		})
		out, _, err := h.run(t, false, "watch", "a")
		want := "a  [#####...............] 1/4  running 2  failed 0  Running (Running); best: no trial has succeeded yet\n" +
			"a  [####################] 4/4  running 0  failed 0  Succeeded (MaxTrialsReached); best loss=0.25 (a-3)  x1=1\n" +
			"experiment a succeeded: MaxTrialsReached: 4 trials ran, maxTrialCount being 4\n"
		if err != nil || out != want {
			t.Errorf("watch a: %v\n%s\nwant\n%s", err, out, want)
		}
	})
	t.Run("terminal", func(t *testing.T) {
		h := newHarness([]runtime.Object{experiment("a", 4, running(2, 1))})
		controller(t, h, "a", endedWith(false, v1alpha1.ExperimentReasonMaxFailedTrialsReached))
		out, _, err := h.run(t, true, "watch", "a")
		if err == nil || err.Error() != "experiment a failed: MaxFailedTrialsReached: it ended badly" {
			t.Errorf("watch of a failing Experiment: %v", err)
		}
		want := "\r\x1b[2Ka  [#####...............] 1/4  running 2  failed 0  Running (Running)\n\r\x1b[2Kbest: no trial has succeeded yet" +
			"\x1b[1A\r\x1b[2Ka  [#####...............] 1/4  running 2  failed 0  Failed (MaxFailedTrialsReached)\n\r\x1b[2Kbest: no trial has succeeded yet\n"
		if out != want {
			t.Errorf("watch on a terminal drew\n%q\nwant\n%q", out, want)
		}
	})
	t.Run("missing", func(t *testing.T) {
		h := newHarness(nil)
		if _, _, err := h.run(t, false, "watch", "nope"); err == nil || !strings.Contains(err.Error(), `experiments.tuning.knobs.dev "nope" not found`) {
			t.Errorf("watch nope: %v", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		h := newHarness([]runtime.Object{experiment("a", 4, running(2, 1))})
		if _, _, err := h.run(t, false, "watch", "a", "--timeout", "100ms"); err == nil || err.Error() != "experiment a has not ended within 100ms" {
			t.Errorf("watch --timeout: %v", err)
		}
	})
}

func TestDrawerCutsLinesToTheTerminal(t *testing.T) {
	var b bytes.Buffer
	d := &drawer{w: &b, terminal: true, width: 10}
	d.draw([]string{"0123456789abc", "short"})
	d.draw([]string{"0123456789abc", "short"}) // unchanged: nothing drawn
	if b.String() != "\r\x1b[2K012345678\n\r\x1b[2Kshort" {
		t.Errorf("drew %q", b.String())
	}
}

func TestOpen(t *testing.T) {
	ksvc := func(url string) *servingv1.Service {
		s := &servingv1.Service{ObjectMeta: metav1.ObjectMeta{Name: Dashboard, Namespace: tuning.SystemNamespace}}
		if url != "" {
			s.Status.URL, _ = apis.ParseURL(url)
		}
		return s
	}
	h := newHarness(nil, ksvc("http://knobs-dashboard.knobs-system.example.com"))
	out, _, err := h.run(t, false, "open", "tpe-branin")
	if err != nil || out != "http://knobs-dashboard.knobs-system.example.com/experiments/ns/tpe-branin\n" || len(h.opened) != 0 {
		t.Errorf("open: %v %q, opened %v", err, out, h.opened)
	}
	out, _, err = h.run(t, false, "open", "x", "-n", "team", "--url", "http://localhost:8090/", "--browser")
	if err != nil || out != "http://localhost:8090/experiments/team/x\n" || strings.Join(h.opened, " ") != "http://localhost:8090/experiments/team/x" {
		t.Errorf("open --url --browser: %v %q, opened %v", err, out, h.opened)
	}
	for _, c := range []struct {
		h    *harness
		args []string
		want string
	}{
		{newHarness(nil), []string{"open", "x"}, "the dashboard is not installed: there is no Knative Service knobs-dashboard in namespace knobs-system; install it, or give its address with --url"},
		{newHarness(nil, ksvc("")), []string{"open", "x"}, "has no URL yet"},
		{h, []string{"open", "x", "--url", "localhost"}, `the dashboard's address "localhost" is not a URL`},
	} {
		if _, _, err := c.h.run(t, false, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}

func TestCompletion(t *testing.T) {
	h := newHarness([]runtime.Object{experiment("tpe-branin", 3), experiment("tpe-other", 3), experiment("random", 3), experiment("mo", 3, multiObjective)})
	out, _, err := h.run(t, false, "__complete", "watch", "tpe")
	if err != nil || !strings.HasPrefix(out, "tpe-branin\ntpe-other\n:4\n") {
		t.Errorf("completing watch tpe: %v\n%s", err, out)
	}
	out, _, err = h.run(t, false, "__complete", "trials", "x", "--sort=")
	if err != nil || !strings.Contains(out, "number\nobjective\nname\n") {
		t.Errorf("completing --sort: %v\n%s", err, out)
	}
	out, _, err = h.run(t, false, "__complete", "trials", "mo", "--sort=")
	if err != nil || !strings.Contains(out, "number\nobjective\nname\nloss\nthroughput\n") {
		t.Errorf("completing --sort for a multi-objective Experiment: %v\n%s", err, out)
	}
	out, _, err = h.run(t, false, "completion", "bash")
	if err != nil || !strings.Contains(out, "bash completion") {
		t.Errorf("completion bash: %v\n%.200s", err, out)
	}
}

// A cluster without Knobs' CRDs (or without Knative Serving, for open)
// answers 404 with no Status: the error says what is missing.
func TestClusterWithoutTheResources(t *testing.T) {
	h := newHarness(nil)
	unserved := func(gr schema.GroupResource) k8stesting.ReactionFunc {
		return func(a k8stesting.Action) (bool, runtime.Object, error) {
			name := ""
			if g, ok := a.(k8stesting.GetAction); ok {
				name = g.GetName()
			}
			return true, nil, apierrs.NewGenericServerResponse(http.StatusNotFound, a.GetVerb(), gr, name, "404 page not found", 0, true)
		}
	}
	h.knobs.PrependReactor("*", "*", unserved(v1alpha1.Resource("experiments")))
	h.serving.PrependReactor("*", "*", unserved(servingv1.Resource("services")))
	for _, args := range [][]string{{"get"}, {"get", "cli"}, {"best", "cli"}, {"watch", "cli"}} {
		if _, _, err := h.run(t, false, args...); err == nil || !strings.HasPrefix(err.Error(), "this cluster serves no experiments.tuning.knobs.dev: Knobs is not installed") {
			t.Errorf("%v: %v", args, err)
		}
	}
	if _, _, err := h.run(t, false, "open", "cli"); err == nil || !strings.HasPrefix(err.Error(), "the dashboard is not installed: this cluster serves no Knative Services") {
		t.Errorf("open: %v", err)
	}
}

// A trial created after stop lowered maxTrialCount (its assignment was on
// its way) is stopped too, when the Experiment's status counts it.
func TestStopStopsTrialsThatComeLate(t *testing.T) {
	e := experiment("a", 30, running(1, 0))
	h := newHarness([]runtime.Object{e, suggestion("a", 2), trial(e, "a-1", v1alpha1.TrialReasonRunning, "")})
	ctx := context.Background()
	late := make(chan error, 1)
	go func() {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			t1, err := h.knobs.TuningV1alpha1().Trials("ns").Get(ctx, "a-1", metav1.GetOptions{})
			if err != nil || !t1.Spec.Stop {
				continue
			}
			// The Experiment creates the Trial of the second assignment
			// and counts it.
			if _, err := h.knobs.TuningV1alpha1().Trials("ns").Create(ctx, trial(e, "a-2", v1alpha1.TrialReasonRunning, ""), metav1.CreateOptions{}); err != nil {
				late <- err
				return
			}
			cur, err := h.knobs.TuningV1alpha1().Experiments("ns").Get(ctx, "a", metav1.GetOptions{})
			if err != nil {
				late <- err
				return
			}
			running(2, 0)(cur)
			_, err = h.knobs.TuningV1alpha1().Experiments("ns").UpdateStatus(ctx, cur, metav1.UpdateOptions{})
			late <- err
			return
		}
		late <- errors.New("a-1 was never stopped")
	}()
	controller(t, h, "a", func(e *v1alpha1.Experiment) {
		if e.Status.Trials == 2 {
			e.Status.MarkSucceeded(v1alpha1.ExperimentReasonMaxTrialsReached, "2 trials ran, maxTrialCount being 2")
		}
	})
	out, _, err := h.run(t, false, "stop", "a", "--timeout", "20s")
	if err := <-late; err != nil {
		t.Fatal(err)
	}
	if err != nil || !strings.HasSuffix(out, "experiment a stopped: MaxTrialsReached, 2 trials stopped, best <none>\n") {
		t.Errorf("stop a: %v\n%s", err, out)
	}
	if t2, err := h.knobs.TuningV1alpha1().Trials("ns").Get(ctx, "a-2", metav1.GetOptions{}); err != nil || !t2.Spec.Stop {
		t.Errorf("the late trial a-2 is not stopped: %v", err)
	}
}
