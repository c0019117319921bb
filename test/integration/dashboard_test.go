//go:build integration

package integration

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"k8s.io/client-go/tools/cache"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	listers "knobs.dev/knobs/pkg/client/listers/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/dashboard"
	"knobs.dev/knobs/pkg/dashboard/dashboardtest"
	"knobs.dev/knobs/pkg/pareto/observed"
	"knobs.dev/knobs/pkg/reconciler"
)

// dashboardSetup builds knobs-dashboard and applies its ServiceAccount and
// RBAC (config/700-dashboard.yaml), once.
var dashboardSetup struct {
	once       sync.Once
	kubeconfig string
	err        error
}

// startDashboard runs knobs-dashboard as its ServiceAccount and returns its
// URL, without the trailing slash.
func startDashboard(t *testing.T) string {
	t.Helper()
	ds := &dashboardSetup
	ds.once.Do(func() {
		if _, ds.err = run(env.root, "go", "build", "-o", env.bin+"/", "./cmd/knobs-dashboard"); ds.err != nil {
			return
		}
		ctx := context.Background()
		if _, ds.err = env.cp.Kubectl(ctx, nil, "apply", "-f", filepath.Join(env.root, "config/700-dashboard.yaml")); ds.err != nil {
			return
		}
		ds.kubeconfig = filepath.Join(env.bin, "dashboard.kubeconfig")
		ds.err = env.cp.ServiceAccountKubeconfig(ctx, tuning.SystemNamespace, "knobs-dashboard", ds.kubeconfig)
	})
	if ds.err != nil {
		t.Fatal(ds.err)
	}
	port := freePort(t)
	startProc(t, "dashboard-"+port, nil, filepath.Join(env.bin, "knobs-dashboard"), "--listen=127.0.0.1:"+port, "--kubeconfig="+ds.kubeconfig)
	url := "http://127.0.0.1:" + port
	waitFor(t, 30*time.Second, func() (bool, string) {
		resp, err := http.Get(url + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	return url
}

// browser is a headless Chromium tab, and the errors its pages logged.
type browser struct {
	ctx    context.Context
	mu     sync.Mutex
	errors []string
}

func newBrowser(t *testing.T, width, height int) *browser {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Fatal("no Chromium on PATH: install it with hack/install-tools.sh --chromium (Debian's chromium package)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(width, height))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &browser{}
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithListener(b.listen))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b.ctx = ctx
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatal(err)
	}
	return b
}

// listen keeps what a page reports as an error: a console.error, an
// exception not caught, a failed request.
func (b *browser) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError {
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, string(a.Value))
			}
			msg = "console.error: " + strings.Join(parts, " ")
		}
	case *runtime.EventExceptionThrown:
		msg = "exception: " + ev.ExceptionDetails.Text
		if ex := ev.ExceptionDetails.Exception; ex != nil {
			msg += " " + ex.Description
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			msg = fmt.Sprintf("log: %s %s", ev.Entry.Text, ev.Entry.URL)
		}
	}
	if msg != "" {
		b.mu.Lock()
		b.errors = append(b.errors, msg)
		b.mu.Unlock()
	}
}

func (b *browser) checkNoErrors(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errors {
		t.Errorf("the page logged an error: %s", e)
	}
	b.errors = nil
}

func (b *browser) open(t *testing.T, url string) {
	t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}

func eval[T any](t *testing.T, b *browser, js string) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// waitPage waits until the page's js is true, without reloading it.
func (b *browser) waitPage(t *testing.T, timeout time.Duration, js, what string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](js)); err == nil && ok {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("not within %s: %s (%s)", timeout, what, js)
}

func count(t *testing.T, b *browser, selector string) int {
	t.Helper()
	return eval[int](t, b, fmt.Sprintf("document.querySelectorAll(%q).length", selector))
}

// TestDashboardInABrowser runs the example ridge regression with TPE, with
// the dashboard's page of it open in headless Chromium, the dashboard reading
// as its ServiceAccount: the trials appear and end on the page as they do in
// the API, without a reload; then the charts hold a point, a line and a
// curve for each trial, and the pages log no error. With KNOBS_SCREENSHOTS
// set to a folder, it saves screenshots of the main pages there (make
// screenshots).
func TestDashboardInABrowser(t *testing.T) {
	shots := os.Getenv("KNOBS_SCREENSHOTS")
	maxTrials := int32(12)
	if shots != "" {
		maxTrials = 40
	}
	startController(t, "controller-dashboard")
	ns := namespace(t)
	fn := startFunction(t, "tpe")
	createService(t, ns, "tpe", "tpe", fn.url)
	startNode(t, ns, nil)
	url := startDashboard(t)
	b := newBrowser(t, 1400, 1000)

	// The list, before and after the experiment is created: live.
	b.open(t, url+"/")
	eval[int](t, b, "window.knobsMarker = 1")
	// The example ridge regression, which reports r2 and loss every epoch,
	// with TPE, to its last trial.
	exp := readExperiment(t, "examples/experiment-random-ridge.yaml")
	exp.Namespace, exp.Name = ns, "ridge"
	exp.Spec.Algorithm.AlgorithmName = "tpe"
	exp.Spec.MaxTrialCount = &maxTrials
	exp.Spec.Objective.Goal = nil
	create(t, exp)
	if shots != "" {
		create(t, braninExperiment("branin", ns, "tpe", 3, 20, 0, nil))
	}
	b.waitPage(t, 30*time.Second, fmt.Sprintf("document.querySelector('tr[data-experiment=%q]') !== null", ns+"/ridge"), "the new experiment listed")
	if eval[int](t, b, "window.knobsMarker") != 1 {
		t.Fatal("the list reloaded instead of updating in place")
	}

	// The experiment's page, open from its first trial to its end.
	b.open(t, url+"/experiments/"+ns+"/ridge")
	eval[int](t, b, "window.knobsMarker = 2")
	b.waitPage(t, 3*time.Minute, fmt.Sprintf("document.querySelectorAll('#trials tr[data-phase=Succeeded]').length === %d", maxTrials),
		fmt.Sprintf("%d trials shown as Succeeded", maxTrials))
	if eval[int](t, b, "window.knobsMarker") != 2 {
		t.Fatal("the page reloaded instead of updating in place")
	}
	if n := eval[int](t, b, "Number(document.body.dataset.refreshed || 0)"); n < 2 {
		t.Errorf("the page updated %d times while %d trials ran", n, maxTrials)
	}
	e := waitEnded(t, ns, "ridge", time.Minute)
	trials := checkExperiment(t, e)
	best := e.Status.CurrentOptimalTrial.BestTrialName
	withCurve := 0
	for _, tr := range trials {
		if m := tr.Status.Observation.Metric("r2"); m != nil && len(m.Curve) > 1 {
			withCurve++
		}
	}
	// The end of the experiment reaches the page too.
	b.waitPage(t, 30*time.Second, "document.querySelector('.summary .state-Succeeded') !== null", "the experiment shown Succeeded")
	if got := count(t, b, "#objective circle.trial"); got != len(trials) {
		t.Errorf("%d points on the objective chart, want one per trial, %d", got, len(trials))
	}
	if got := count(t, b, "#objective circle.trial.best"); got != 1 {
		t.Errorf("%d best points, want 1", got)
	}
	if got := count(t, b, "#parallel path.trial"); got != len(trials) {
		t.Errorf("%d lines in the parallel coordinates, want %d", got, len(trials))
	}
	if got := count(t, b, "#importance rect.bar"); got != len(exp.Spec.Parameters) {
		t.Errorf("%d importance bars, want one per parameter, %d", got, len(exp.Spec.Parameters))
	}
	if withCurve == 0 {
		t.Error("no trial reported r2 at two epochs or more")
	}
	if got := count(t, b, "#curves .curve"); got != withCurve {
		t.Errorf("%d learning curves, want %d", got, withCurve)
	}
	if got := eval[string](t, b, "document.querySelector('#best .big a').textContent"); got != best {
		t.Errorf("the page's best trial is %q, the Experiment's %q", got, best)
	}
	if got := eval[string](t, b, "document.querySelector('#trials tr.best').dataset.trial"); got != best {
		t.Errorf("the table marks %q best, want %q", got, best)
	}
	// Sorting by the objective puts the best first; filtering keeps one row.
	clicks := 1 // ascending
	if exp.Spec.Objective.Type == v1alpha1.ObjectiveTypeMaximize {
		clicks = 2
	}
	for range clicks {
		eval[bool](t, b, "document.querySelector('#trials th.objective-col').click(), true")
	}
	if got := eval[string](t, b, "document.querySelector('#trials tbody tr').dataset.trial"); got != best {
		t.Errorf("sorted by loss, the first trial is %q, want %q", got, best)
	}
	eval[bool](t, b, fmt.Sprintf("(() => { const i = document.getElementById('filter-trials'); i.value = %q; i.dispatchEvent(new Event('input')); return true })()", best))
	if got := count(t, b, "#trials tbody tr:not([hidden])"); got != 1 {
		t.Errorf("filtered by %q, %d rows show, want 1", best, got)
	}
	b.checkNoErrors(t)
	if shots != "" {
		screenshot(t, b, filepath.Join(shots, "experiment.png"), url+"/experiments/"+ns+"/ridge")
	}

	b.open(t, url+"/experiments/"+ns+"/ridge/trials/"+best)
	if got := eval[string](t, b, "document.querySelector('h1').firstChild.textContent.trim()"); got != best {
		t.Errorf("the trial page's title is %q, want %q", got, best)
	}
	b.checkNoErrors(t)
	if shots != "" {
		screenshot(t, b, filepath.Join(shots, "trial.png"), url+"/experiments/"+ns+"/ridge/trials/"+best)
		screenshot(t, b, filepath.Join(shots, "experiments.png"), url+"/")
	}
	b.open(t, url+"/")
	if got := count(t, b, "tr[data-experiment]"); got < 1 {
		t.Errorf("%d experiments listed", got)
	}
	b.checkNoErrors(t)
}

// TestDashboardParetoInABrowser opens, in headless Chromium, the page of an
// Experiment that minimises loss and maximises throughput with memory at
// most 512: the chart of the front holds a point per trial that ended, the
// front highlighted and joined, the infeasible trials apart; the table has
// the objectives' and the constraint's columns and sorts by them. The
// dashboard reads the Experiment and its trials from informer caches filled
// here, with observations written in their status, as the controller would.
// With KNOBS_SCREENSHOTS set, it saves a screenshot of the page there.
func TestDashboardParetoInABrowser(t *testing.T) {
	shots := os.Getenv("KNOBS_SCREENSHOTS")
	e, trials := dashboardtest.TradeOff("default", "nsga2-mlp", 40, time.Now().Add(-time.Hour))
	idx := func() cache.Indexer {
		return cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	}
	experiments, trialIdx, suggestions := idx(), idx(), idx()
	if err := trialIdx.AddIndexers(reconciler.TrialIndexers); err != nil {
		t.Fatal(err)
	}
	if err := experiments.Add(e); err != nil {
		t.Fatal(err)
	}
	obs := make([]*v1alpha1.Observation, len(trials))
	ended, infeasible, best := 0, 0, ""
	bestThroughput := math.Inf(-1)
	for i, tr := range trials {
		if err := trialIdx.Add(tr); err != nil {
			t.Fatal(err)
		}
		if v, _ := tr.Status.Observation.Value("throughput"); v > bestThroughput {
			best, bestThroughput = tr.Name, v
		}
		if tr.Status.Phase() != v1alpha1.TrialReasonSucceeded {
			continue
		}
		ended++
		obs[i] = tr.Status.Observation
		if !observed.Feasible(&e.Spec.Objective, tr.Status.Observation) {
			infeasible++
		}
	}
	front := len(observed.Front(&e.Spec.Objective, obs))
	srv := httptest.NewServer(dashboard.New(dashboard.Listers{
		Experiments: listers.NewExperimentLister(experiments),
		Trials:      trialIdx,
		Suggestions: listers.NewSuggestionLister(suggestions),
	}))
	t.Cleanup(srv.Close)
	page := srv.URL + "/experiments/default/nsga2-mlp"
	b := newBrowser(t, 1400, 1000)
	b.open(t, page)
	for _, c := range []struct {
		selector string
		want     int
	}{
		{"#pareto circle.trial", ended},
		{"#pareto circle.trial.pareto", front},
		{"#pareto circle.trial.infeasible", infeasible},
		{"#pareto a > circle.trial", ended},
		{"#pareto path.front", 1},
		{"#trials th[data-metric=throughput]", 1},
		{"#trials th[data-metric=memory]", 1},
		{"#trials td.feasible-no", infeasible},
		{"#trials .tag.pareto", front},
		{"#front-size", 1},
	} {
		if got := count(t, b, c.selector); got != c.want {
			t.Errorf("%d of %s, want %d", got, c.selector, c.want)
		}
	}
	if front < 2 || infeasible == 0 {
		t.Fatalf("the fixture has %d trials on the front and %d infeasible: it tests too little", front, infeasible)
	}
	// Drawn: the step line and the points take room on the screen.
	if w := eval[float64](t, b, "document.querySelector('#pareto path.front').getBBox().width"); w <= 0 {
		t.Errorf("the front's line is %v wide", w)
	}
	if got := eval[string](t, b, "document.querySelector('#pareto .axis-label').textContent"); got != "throughput (maximize)" {
		t.Errorf("the y axis is labelled %q", got)
	}
	// Sorting by throughput, twice for descending, puts the largest first.
	for range 2 {
		eval[bool](t, b, "document.querySelector('#trials th[data-metric=throughput]').click(), true")
	}
	if got := eval[string](t, b, "document.querySelector('#trials tbody tr').dataset.trial"); got != best {
		t.Errorf("sorted by throughput, the first trial is %q, want %q", got, best)
	}
	// Sorting by feasibility puts the infeasible ("no") before the
	// feasible, after the running trial, which has none yet.
	eval[bool](t, b, "document.querySelector('#trials th.feasible-col').click(), true")
	want := strings.Repeat("no ", infeasible) + strings.Repeat("yes ", ended-infeasible)
	if got := eval[string](t, b, "Array.from(document.querySelectorAll('#trials tbody td.feasible-col')).map(td => td.textContent).join(' ')"); got != " "+strings.TrimSpace(want) {
		t.Errorf("sorted by feasibility: %q, want %q", got, " "+strings.TrimSpace(want))
	}
	if got := eval[string](t, b, "document.querySelector('#best .label').textContent"); !strings.Contains(got, "Best feasible trial") {
		t.Errorf("the best trial's box says %q", got)
	}
	// A point links to its trial's page.
	href := eval[string](t, b, "document.querySelector('#pareto a').getAttribute('href')")
	b.open(t, srv.URL+href)
	if got := eval[string](t, b, "document.querySelector('h1').firstChild.textContent.trim()"); !strings.HasPrefix(href, "/experiments/default/nsga2-mlp/trials/") || !strings.HasSuffix(href, "/"+got) {
		t.Errorf("the point links to %q, whose page is of %q", href, got)
	}
	b.checkNoErrors(t)
	if shots != "" {
		screenshot(t, b, filepath.Join(shots, "experiment-pareto.png"), page)
	}
}

// screenshot saves a PNG of the whole page at url.
func screenshot(t *testing.T, b *browser, path, url string) {
	t.Helper()
	b.open(t, url)
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}
