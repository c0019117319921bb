package dashboard

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/dashboard/dashboardtest"
	"knobs.dev/knobs/pkg/pareto"
	"knobs.dev/knobs/pkg/pareto/observed"
)

func get(t testing.TB, d *Dashboard, method, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Code, rec.Body.String()
}

// chart returns the SVG element of the given id in a page.
func chart(t *testing.T, body, id string) string {
	t.Helper()
	start := strings.Index(body, `<svg id="`+id+`"`)
	if start < 0 {
		t.Fatalf("no chart %s in the page", id)
	}
	end := strings.Index(body[start:], "</svg>")
	return body[start : start+end]
}

func TestExperimentsPage(t *testing.T) {
	w := newWorld()
	addBranin(t, w, "default", "tpe-branin", 12, 2)
	addBranin(t, w, "team-a", "sweep", 5, 0)
	mo, _ := dashboardtest.TradeOff("team-a", "trade-off", 5, epoch)
	mo.Status.ParetoOptimalTrialCount = 3
	w.add(t, mo)
	code, body := get(t, New(w.listers()), "GET", "/")
	if code != http.StatusOK {
		t.Fatalf("status %d:\n%s", code, body)
	}
	if n := strings.Count(body, "<tr data-experiment="); n != 3 {
		t.Errorf("%d experiment rows, want 3", n)
	}
	if n := strings.Count(body, "more objective"); n != 1 {
		t.Errorf("%d experiments said to have more objectives, want 1", n)
	}
	for _, want := range []string{"minimize loss and 1 more objective, a Pareto front of 3", `href="/experiments/default/tpe-branin"`, `href="/experiments/team-a/sweep"`, "2 running", "10/22", `data-events="/events"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

func TestExperimentPage(t *testing.T) {
	w := newWorld()
	e, trials := addBranin(t, w, "default", "tpe-branin", 40, 3)
	code, body := get(t, New(w.listers()), "GET", "/experiments/default/tpe-branin")
	if code != http.StatusOK {
		t.Fatalf("status %d:\n%s", code, body)
	}
	best := e.Status.CurrentOptimalTrial.BestTrialName
	// Every trial with a value is a point, the best among them once.
	obj := chart(t, body, "objective")
	if n := strings.Count(obj, `<circle class="trial`); n != 40 {
		t.Errorf("%d points on the objective chart, want 40", n)
	}
	if n := strings.Count(obj, `<circle class="trial running"`); n != 3 {
		t.Errorf("%d running points, want 3", n)
	}
	if n := strings.Count(obj, `<circle class="trial best"`); n != 1 || !strings.Contains(obj, "best "+best) {
		t.Errorf("%d best points, want 1, labelled %s", n, best)
	}
	if !strings.Contains(obj, `class="best-so-far"`) || !strings.Contains(obj, `class="goal"`) {
		t.Error("no best-so-far line or goal line")
	}
	// One line per ended trial across the parameters and the objective.
	par := chart(t, body, "parallel")
	if n := strings.Count(par, `<path class="trial`); n != 37 {
		t.Errorf("%d lines in the parallel coordinates, want 37", n)
	}
	// One bar per parameter; x2 and x1 matter, the optimizer does not.
	imp := chart(t, body, "importance")
	if n := strings.Count(imp, `<rect class="bar"`); n != 3 {
		t.Errorf("%d importance bars, want 3", n)
	}
	if i := strings.Index(imp, ">optimizer<"); i < strings.Index(imp, ">x1<") || i < strings.Index(imp, ">x2<") {
		t.Error("the optimizer, which does not matter, is not last")
	}
	// One learning curve per trial.
	if n := strings.Count(chart(t, body, "curves"), `class="curve`); n != len(trials) {
		t.Errorf("%d learning curves, want %d", n, len(trials))
	}
	if n := strings.Count(body, "<tr data-trial="); n != len(trials) {
		t.Errorf("%d rows in the table of trials, want %d", n, len(trials))
	}
	for _, want := range []string{`<tr data-trial="` + best + `" data-phase="Succeeded" class="best">`, "kind: Experiment", "kind: Suggestion", "random_state", `data-events="/events?experiment=default/tpe-branin"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body, "managedFields") {
		t.Error("the YAML shows managed fields")
	}
	// A single objective without constraints has no front nor feasibility.
	for _, not := range []string{`id="pareto"`, "Pareto", "Feasible", "infeasible"} {
		if strings.Contains(body, not) {
			t.Errorf("a single objective's page has %q", not)
		}
	}
}

// The front the page marks is pkg/pareto's front of the trials that
// ended, by their losses and violations, without the infeasible ones.
func TestFrontIsParetosWithoutTheInfeasible(t *testing.T) {
	e, trials := dashboardtest.TradeOff("default", "trade-off", 30, epoch)
	params := []string{"width", "lr"}
	rows := trialRows(e, trials, params)
	n := markFront(e, rows)
	o := &e.Spec.Objective
	var pts []pareto.Point
	var at []int
	for i, tr := range trials {
		if !rows[i].Done {
			continue
		}
		losses, ok := o.Losses(tr.Status.Observation)
		if !ok {
			t.Fatalf("%s lacks an objective", tr.Name)
		}
		pts = append(pts, pareto.Point{Values: losses, Violation: o.Violation(tr.Status.Observation)})
		at = append(at, i)
	}
	want := map[int]bool{}
	for _, k := range pareto.Front(pts) {
		if pts[k].Feasible() {
			want[at[k]] = true
		}
	}
	if n != len(want) || n < 2 {
		t.Errorf("%d trials on the front, want %d (and more than one)", n, len(want))
	}
	// Without the constraint, an infeasible trial would be on the front: the
	// fixture tests the exclusion.
	unconstrained := *o
	unconstrained.Constraints = nil
	obs := make([]*v1alpha1.Observation, len(trials)-1)
	for i := range obs {
		obs[i] = trials[i].Status.Observation
	}
	excluded := false
	for _, i := range observed.Front(&unconstrained, obs) {
		excluded = excluded || rows[i].Feasible == "no"
	}
	if !excluded {
		t.Error("no infeasible trial would be on the front without the constraint")
	}
	infeasible := 0
	for i, r := range rows {
		if r.Pareto != want[i] {
			t.Errorf("%s: on the front %v, want %v", r.Name, r.Pareto, want[i])
		}
		if r.Feasible == "no" {
			infeasible++
			if r.Pareto {
				t.Errorf("%s is infeasible and on the front", r.Name)
			}
		}
		if r.Running && (r.Pareto || r.Feasible != "") {
			t.Errorf("the running %s is judged: front %v, feasible %q", r.Name, r.Pareto, r.Feasible)
		}
	}
	if want := overMemory(trials); infeasible != want || want == 0 {
		t.Errorf("%d infeasible trials, want %d (and some)", infeasible, want)
	}
}

// overMemory counts the trials of a dashboardtest.TradeOff that ended with
// memory over 512.
func overMemory(trials []*v1alpha1.Trial) int {
	n := 0
	for _, tr := range trials {
		m, err := strconv.ParseFloat(tr.Status.Observation.Metric("memory").Value, 64)
		if err == nil && m > 512 && tr.Status.Phase() == v1alpha1.TrialReasonSucceeded {
			n++
		}
	}
	return n
}

func TestParetoPage(t *testing.T) {
	w := newWorld()
	e, trials := dashboardtest.TradeOff("default", "trade-off", 30, epoch)
	// Recorded as well: they keep the columns they have as an objective and
	// a constraint, and get no other.
	e.Spec.Objective.AdditionalMetricNames = []string{"throughput", "memory"}
	w.add(t, e)
	for _, tr := range trials {
		w.add(t, tr)
	}
	code, body := get(t, New(w.listers()), "GET", "/experiments/default/trade-off")
	if code != http.StatusOK {
		t.Fatalf("status %d:\n%s", code, body)
	}
	rows := trialRows(e, trials, []string{"width", "lr"})
	front := markFront(e, rows)
	infeasible := overMemory(trials)
	// Every trial that ended is a point, the front and the infeasible ones
	// drawn as such, the front joined by a step line.
	par := chart(t, body, "pareto")
	for _, c := range []struct {
		what string
		n    int
	}{
		{`<circle class="trial`, 29},
		{`<circle class="trial pareto"`, front},
		{`<circle class="trial infeasible"`, infeasible},
		{`<path class="front"`, 1},
		{`>loss (minimize)</text>`, 1},
		{`>throughput (maximize)</text>`, 1},
	} {
		if n := strings.Count(par, c.what); n != c.n {
			t.Errorf("%d of %s in the chart of the front, want %d", n, c.what, c.n)
		}
	}
	for _, r := range rows {
		if r.Pareto && !strings.Contains(par, `<a href="`+r.Link+`"><circle class="trial pareto"`) {
			t.Errorf("the point of %s on the front does not link to its page", r.Name)
		}
	}
	// Infeasible trials are not the best so far on the chart of the objective.
	if n := strings.Count(chart(t, body, "objective"), `<circle class="trial infeasible"`); n != infeasible {
		t.Errorf("%d infeasible points on the chart of the objective, want %d", n, infeasible)
	}
	// The table has a column for throughput, the front, memory and
	// feasibility, and a cell in each for every trial.
	for _, want := range []string{
		`<th data-type="num" class="objective-col" data-metric="throughput">maximize throughput</th>`,
		`<th data-type="text" class="pareto-col">Pareto</th>`,
		`<th data-type="num" data-metric="memory">memory <span class="reason">≤ 512</span></th>`,
		`<th data-type="text" class="feasible-col">Feasible</th>`,
		"Best feasible trial by minimize loss",
		"subject to memory ≤ 512",
		`id="front-size"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n := strings.Count(body, `<td class="feasible-col feasible-no">no</td>`); n != infeasible {
		t.Errorf("%d trials marked infeasible in the table, want %d", n, infeasible)
	}
	for _, m := range []string{"throughput", "memory"} {
		if strings.Contains(body, `<th data-type="num">`+m+`</th>`) {
			t.Errorf("%s has a second column", m)
		}
	}
	if n := strings.Count(body, `<span class="tag pareto">`); n != front {
		t.Errorf("%d trials tagged Pareto in the table, want %d", n, front)
	}
	// A trial's page says whether it is on the front, and whether it kept
	// the constraints.
	for _, r := range rows {
		if !r.Done {
			continue
		}
		_, page := get(t, New(w.listers()), "GET", r.Link)
		if got := strings.Contains(page, "Pareto optimal</span>"); got != r.Pareto {
			t.Errorf("the page of %s says Pareto optimal %v, want %v", r.Name, got, r.Pareto)
		}
		if !strings.Contains(page, `feasible: <strong class="feasible-`+r.Feasible+`">`) {
			t.Errorf("the page of %s does not say feasible: %s", r.Name, r.Feasible)
		}
	}
}

// With three objectives, the chart plots two, the first two unless the
// page's query names others, and draws no step line.
func TestParetoPageOfThreeObjectives(t *testing.T) {
	w := newWorld()
	e, trials := dashboardtest.TradeOff("default", "three", 30, epoch)
	e.Spec.Objective.AdditionalObjectives = append(e.Spec.Objective.AdditionalObjectives, v1alpha1.AdditionalObjective{Name: "memory", Type: v1alpha1.ObjectiveTypeMinimize})
	w.add(t, e)
	for _, tr := range trials {
		w.add(t, tr)
	}
	d := New(w.listers())
	for _, c := range []struct {
		query  string
		x, y   string
		inForm string
	}{
		{"", "loss (minimize)", "throughput (maximize)", `<option value="loss" selected>`},
		{"?x=memory&y=throughput", "memory (minimize)", "throughput (maximize)", `<option value="memory" selected>`},
		{"?x=memory&y=memory", "loss (minimize)", "throughput (maximize)", `<option value="loss" selected>`},
		{"?x=nope&y=loss", "loss (minimize)", "throughput (maximize)", `<option value="loss" selected>`},
	} {
		code, body := get(t, d, "GET", "/experiments/default/three"+c.query)
		if code != http.StatusOK {
			t.Fatalf("%s: status %d", c.query, code)
		}
		par := chart(t, body, "pareto")
		if !strings.Contains(par, ">"+c.x+"</text>") || !strings.Contains(par, ">"+c.y+"</text>") {
			t.Errorf("%q: the axes are not %s and %s", c.query, c.x, c.y)
		}
		if strings.Contains(par, `class="front"`) {
			t.Errorf("%q: a step line for three objectives", c.query)
		}
		if n := strings.Count(par, `<circle class="trial`); n != 29 {
			t.Errorf("%q: %d points, want 29", c.query, n)
		}
		if !strings.Contains(body, `<form class="axes" id="front-axes" method="get">`) || !strings.Contains(body, c.inForm) || !strings.Contains(body, "Two of 3 objectives") {
			t.Errorf("%q: no choice of axes, %s chosen, or no note", c.query, c.inForm)
		}
	}
	// Two objectives need no choice.
	w2 := newWorld()
	e2, trials2 := dashboardtest.TradeOff("default", "two", 10, epoch)
	w2.add(t, e2)
	for _, tr := range trials2 {
		w2.add(t, tr)
	}
	if _, body := get(t, New(w2.listers()), "GET", "/experiments/default/two"); strings.Contains(body, `id="front-axes"`) {
		t.Error("a choice of axes for two objectives")
	}
}

func TestTrialPage(t *testing.T) {
	w := newWorld()
	addBranin(t, w, "default", "tpe-branin", 4, 1)
	code, body := get(t, New(w.listers()), "GET", "/experiments/default/tpe-branin/trials/tpe-branin-2")
	if code != http.StatusOK {
		t.Fatalf("status %d:\n%s", code, body)
	}
	if n := strings.Count(chart(t, body, "curve-0"), `class="curve`); n != 1 {
		t.Errorf("%d curves of the trial's loss, want 1", n)
	}
	for _, want := range []string{"kind: Trial", "optimizer", "accuracy"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

func TestMistakesAreNamed(t *testing.T) {
	w := newWorld()
	addBranin(t, w, "default", "tpe-branin", 3, 0)
	addBranin(t, w, "default", "other", 3, 0)
	d := New(w.listers())
	for _, tc := range []struct {
		method, path string
		code         int
		want         string
	}{
		{"GET", "/experiments/default/nope", 404, "no Experiment nope in namespace default"},
		{"GET", "/experiments/default/tpe-branin/trials/nope", 404, "has no Trial nope"},
		{"GET", "/experiments/default/tpe-branin/trials/other-1", 404, "has no Trial other-1"},
		{"GET", "/experiments/default", 404, "/experiments/{namespace}/{name}"},
		{"GET", "/events?experiment=default", 400, "give it as namespace/name"},
		{"POST", "/experiments/default/tpe-branin", 405, "read-only"},
	} {
		code, body := get(t, d, tc.method, tc.path)
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s: %d %q, want %d with %q", tc.method, tc.path, code, body, tc.code, tc.want)
		}
	}
}

func TestEmptyExperiment(t *testing.T) {
	w := newWorld()
	e, _, _ := branin("default", "new", 0, 0)
	w.add(t, e)
	code, body := get(t, New(w.listers()), "GET", "/experiments/default/new")
	if code != http.StatusOK || !strings.Contains(body, "No trials yet") || !strings.Contains(body, "no trial has reported loss yet") {
		t.Errorf("status %d, body:\n%s", code, body)
	}
}

func TestHubMergesAndSeparates(t *testing.T) {
	h := newHub()
	one, stop1 := h.subscribe("ns/one")
	all, stopAll := h.subscribe("")
	h.notify("ns/two")
	select {
	case <-one:
		t.Error("a change to ns/two reached the watcher of ns/one")
	default:
	}
	h.notify("ns/one")
	h.notify("ns/one")
	<-one
	select {
	case <-one:
		t.Error("two changes while one was pending were not merged")
	default:
	}
	<-all
	stop1()
	stopAll()
	if n := h.watchers(); n != 0 {
		t.Errorf("%d watchers left", n)
	}
}

func TestEventsStream(t *testing.T) {
	w := newWorld()
	addBranin(t, w, "default", "tpe-branin", 3, 1)
	d := New(w.listers())
	srv := httptest.NewServer(d)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/events?experiment=default/tpe-branin")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	lines := make(chan string)
	go func() {
		s := bufio.NewScanner(resp.Body)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	// The stream is open once its first comment arrives; then a change is
	// sent as an event.
	for l := range lines {
		if strings.HasPrefix(l, ": watching") {
			break
		}
	}
	d.Notify("default", "tpe-branin")
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended")
			}
			if l == "event: change" {
				return
			}
		case <-timeout:
			t.Fatal("no change event within 10s")
		}
	}
}
