package dashboard

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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
	code, body := get(t, New(w.listers()), "GET", "/")
	if code != http.StatusOK {
		t.Fatalf("status %d:\n%s", code, body)
	}
	if n := strings.Count(body, "<tr data-experiment="); n != 2 {
		t.Errorf("%d experiment rows, want 2", n)
	}
	for _, want := range []string{`href="/experiments/default/tpe-branin"`, `href="/experiments/team-a/sweep"`, "2 running", "10/22", `data-events="/events"`} {
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
