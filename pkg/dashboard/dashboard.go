// Package dashboard serves Knobs' web dashboard: the Experiments of a
// cluster, and for each its trials, pictured. It reads through the API server
// with informers (list and watch, nothing else), renders every page and chart
// on the server (HTML and SVG, no script library), and tells open pages when
// what they show changes, over server-sent events; the page then fetches
// itself again and swaps its content in place.
//
// Pages:
//
//	/                                          the Experiments
//	/experiments/{namespace}/{name}            one Experiment
//	/experiments/{namespace}/{name}/trials/{trial}  one Trial
//	/events?experiment={namespace}/{name}      changes, as server-sent events
package dashboard

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	apierrs "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/yaml"

	"knobs.dev/knobs/pkg/algorithm/smac"
	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	listers "knobs.dev/knobs/pkg/client/listers/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/reconciler"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// EventInterval is the shortest time between two change events sent to one
// page: changes in between are merged, so that a busy experiment does not
// make a browser fetch its page more than twice a second.
const EventInterval = 500 * time.Millisecond

// heartbeat keeps an idle event stream open through proxies.
const heartbeat = 25 * time.Second

// Listers are the informer caches the dashboard reads. Trials is the
// informer's cache itself, indexed by Experiment (reconciler.IndexTrials),
// so that an Experiment's page reads its Trials without scanning its
// namespace.
type Listers struct {
	Experiments listers.ExperimentLister
	Trials      cache.Indexer
	Suggestions listers.SuggestionLister
}

// Dashboard is the dashboard's HTTP handler and the hub of its change events.
type Dashboard struct {
	listers Listers
	hub     *hub
	pages   *template.Template
	mux     *http.ServeMux
	now     func() time.Time

	mu         sync.Mutex
	importance map[string]importanceEntry
}

type importanceEntry struct {
	fingerprint uint64
	shares      []share
}

// New returns a dashboard reading from ls. Call Watch to have it tell open
// pages about changes.
func New(ls Listers) *Dashboard {
	d := &Dashboard{listers: ls, hub: newHub(), now: time.Now, importance: map[string]importanceEntry{}}
	d.pages = template.Must(template.New("").Funcs(template.FuncMap{
		"pct":   func(f float64) string { return fmt.Sprintf("%.0f%%", f) },
		"mulf":  func(f float64) float64 { return 100 * f },
		"short": shortString,
	}).ParseFS(templateFS, "templates/*.html"))
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	d.mux = http.NewServeMux()
	d.mux.HandleFunc("GET /{$}", d.experiments)
	d.mux.HandleFunc("GET /experiments/{namespace}/{name}", d.experiment)
	d.mux.HandleFunc("GET /experiments/{namespace}/{name}/trials/{trial}", d.trial)
	d.mux.HandleFunc("GET /events", d.events)
	d.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	d.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServer(http.FS(static))))
	d.mux.HandleFunc("/", d.notFound)
	return d
}

func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) { d.mux.ServeHTTP(w, r) }

// Watch has the informers tell the dashboard about every change to an
// Experiment, its Suggestion or its Trials.
func (d *Dashboard) Watch(experiments, trials, suggestions cache.SharedIndexInformer) error {
	for _, inf := range []struct {
		informer cache.SharedIndexInformer
		key      func(any) string
	}{
		{experiments, objectKey},
		{suggestions, objectKey}, // a Suggestion has its Experiment's name
		{trials, trialExperimentKey},
	} {
		key := inf.key
		notify := func(obj any) {
			if k := key(obj); k != "" {
				d.hub.notify(k)
			}
		}
		if _, err := inf.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    notify,
			UpdateFunc: func(_, obj any) { notify(obj) },
			DeleteFunc: notify,
		}); err != nil {
			return err
		}
	}
	return nil
}

// Notify tells the pages showing the experiment namespace/name that it
// changed. Watch calls it for every change the informers see.
func (d *Dashboard) Notify(namespace, name string) { d.hub.notify(namespace + "/" + name) }

func objectKey(obj any) string {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return t.Key
	}
	k, err := cache.MetaNamespaceKeyFunc(obj)
	if err != nil {
		return ""
	}
	return k
}

func trialExperimentKey(obj any) string {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	tr, ok := obj.(*v1alpha1.Trial)
	if !ok || tr.Labels[tuning.ExperimentLabelKey] == "" {
		return ""
	}
	return tr.Namespace + "/" + tr.Labels[tuning.ExperimentLabelKey]
}

// page is what every page's layout needs.
type page struct {
	Title  string
	Events string // the URL of the page's change events
	Crumbs []crumb
	Body   any
}

type crumb struct{ Text, Link string }

func (d *Dashboard) render(w http.ResponseWriter, status int, name string, p page) {
	var buf bytes.Buffer
	if err := d.pages.ExecuteTemplate(&buf, name, p); err != nil {
		http.Error(w, "rendering the page failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (d *Dashboard) fail(w http.ResponseWriter, status int, title, message string) {
	d.render(w, status, "error.html", page{Title: title, Crumbs: []crumb{{"Experiments", "/"}}, Body: message})
}

func (d *Dashboard) notFound(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "the dashboard is read-only: use GET", http.StatusMethodNotAllowed)
		return
	}
	d.fail(w, http.StatusNotFound, "No such page",
		fmt.Sprintf("There is no page at %s. The dashboard has / (the Experiments), /experiments/{namespace}/{name} and /experiments/{namespace}/{name}/trials/{trial}.", r.URL.Path))
}

// experimentsBody is the body of the list of Experiments.
type experimentsBody struct {
	Rows       []experimentRow
	Namespaces int
}

func (d *Dashboard) experiments(w http.ResponseWriter, _ *http.Request) {
	es, err := d.listers.Experiments.List(labels.Everything())
	if err != nil {
		d.fail(w, http.StatusInternalServerError, "Cannot list Experiments", err.Error())
		return
	}
	now := d.now()
	rows := make([]experimentRow, len(es))
	nss := map[string]bool{}
	for i, e := range es {
		rows[i] = rowOf(e, now)
		nss[e.Namespace] = true
	}
	// The newest first: what a person just started is on top.
	slices.SortFunc(rows, func(a, b experimentRow) int {
		if c := cmp.Compare(b.Created, a.Created); c != 0 {
			return c
		}
		return cmp.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	d.render(w, http.StatusOK, "experiments.html", page{Title: "Experiments", Events: "/events", Body: experimentsBody{Rows: rows, Namespaces: len(nss)}})
}

// experimentBody is the body of an Experiment's page.
type experimentBody struct {
	Row       experimentRow
	Goal      string
	Params    []string
	Columns   []column
	Metrics   []string
	Trials    []trialRow
	BestRow   *trialRow
	Objective template.HTML
	// With additional objectives: their axes (the objective metric's
	// first), the chart of the front, how many trials are on it and a note
	// when the chart shows two of more than two.
	Objectives []frontAxis
	// PlotX and PlotY are the indices in Objectives of the two plotted.
	PlotX, PlotY int
	Pareto       template.HTML
	FrontSize    int
	FrontNote    string
	// With constraints: a column per constraint, and how many trials that
	// ended broke one.
	Constraints []constraintColumn
	Infeasible  int
	Parallel    template.HTML
	Importance  template.HTML
	Shares      []share
	Rest        float64
	ImpNote     string
	Curves      template.HTML
	Suggestion  *suggestionBody
	Conditions  []conditionRow
	YAML        string
}

// column is a parameter's column in the table of trials.
type column struct {
	Name    string
	Numeric bool
}

// constraintColumn is a constraint metric's column in the table of trials:
// its name and its bounds, as "≤ 512" or "in [1, 2]".
type constraintColumn struct {
	Name, Bounds string
}

func constraintColumns(cs []v1alpha1.MetricConstraint) []constraintColumn {
	out := make([]constraintColumn, len(cs))
	for i, c := range cs {
		b := ""
		switch {
		case c.Min != nil && c.Max != nil:
			b = fmt.Sprintf("in [%s, %s]", short(*c.Min), short(*c.Max))
		case c.Min != nil:
			b = "≥ " + short(*c.Min)
		case c.Max != nil:
			b = "≤ " + short(*c.Max)
		}
		out[i] = constraintColumn{Name: c.Name, Bounds: b}
	}
	return out
}

type suggestionBody struct {
	Requests, Count int32
	Exhausted       bool
	FunctionURL     string
	Settings        []v1alpha1.AlgorithmSetting
	State           []v1alpha1.AlgorithmSetting
	Conditions      []conditionRow
	YAML            string
}

func (d *Dashboard) experiment(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("namespace"), r.PathValue("name")
	e, err := d.listers.Experiments.Experiments(ns).Get(name)
	if apierrs.IsNotFound(err) {
		d.fail(w, http.StatusNotFound, "No such Experiment",
			fmt.Sprintf("There is no Experiment %s in namespace %s (or it has been deleted). The list of Experiments is at /.", name, ns))
		return
	}
	if err != nil {
		d.fail(w, http.StatusInternalServerError, "Cannot read the Experiment", err.Error())
		return
	}
	body, err := d.experimentBody(e, r.URL.Query())
	if err != nil {
		d.fail(w, http.StatusInternalServerError, "Cannot read the Experiment's trials", err.Error())
		return
	}
	d.render(w, http.StatusOK, "experiment.html", page{
		Title: e.Name, Events: "/events?experiment=" + ns + "/" + name,
		Crumbs: []crumb{{"Experiments", "/"}, {ns + "/" + name, ""}}, Body: body,
	})
}

// experimentBody builds an Experiment's page. With more than two
// objectives, the chart of the front plots the two that q names as x and
// y, by metric, or else the first two.
func (d *Dashboard) experimentBody(e *v1alpha1.Experiment, q url.Values) (*experimentBody, error) {
	now := d.now()
	trials, err := reconciler.TrialsOf(d.listers.Trials, e.Namespace, e.Name)
	if err != nil {
		return nil, err
	}
	orderTrials(trials)
	params := make([]string, len(e.Spec.Parameters))
	for i, p := range e.Spec.Parameters {
		params[i] = p.Name
	}
	rows := trialRows(e, trials, params)
	cols := make([]column, len(e.Spec.Parameters))
	for i, p := range e.Spec.Parameters {
		cols[i] = column{Name: p.Name, Numeric: p.ParameterType != v1alpha1.ParameterTypeCategorical}
	}
	b := &experimentBody{
		Row: rowOf(e, now), Params: params, Columns: cols, Metrics: recordedMetrics(&e.Spec.Objective), Trials: rows,
		Constraints: constraintColumns(e.Spec.Objective.Constraints),
		Conditions:  conditionRows(e.Status.Conditions, now),
	}
	for _, r := range rows {
		if r.Feasible == "no" {
			b.Infeasible++
		}
	}
	if g := e.Spec.Objective.Goal; g != nil {
		b.Goal = short(*g)
	}
	for i := range rows {
		if rows[i].Best {
			b.BestRow = &rows[i]
		}
	}
	obj := e.Spec.Objective
	if obj.MultiObjective() {
		b.FrontSize = markFront(e, rows)
		b.Objectives = frontAxes(&obj)
		b.PlotX, b.PlotY = 0, 1
		if n := len(b.Objectives); n > 2 {
			x := slices.IndexFunc(b.Objectives, func(a frontAxis) bool { return a.Name == q.Get("x") })
			y := slices.IndexFunc(b.Objectives, func(a frontAxis) bool { return a.Name == q.Get("y") })
			if x >= 0 && y >= 0 && x != y {
				b.PlotX, b.PlotY = x, y
			}
			b.FrontNote = fmt.Sprintf("Two of %d objectives. The front is over all %d: a trial on it may look beaten here, by one that is worse in another objective.", n, n)
		}
		ax, ay := b.Objectives[b.PlotX], b.Objectives[b.PlotY]
		b.Pareto = frontChart(frontPoints(e, rows, b.PlotX, b.PlotY), ax, ay, len(b.Objectives) == 2)
	}
	b.Objective = objectiveChart(objectivePoints(rows), obj.ObjectiveMetricName, obj.Better, obj.Goal)
	b.Parallel = parallelChart(parallel(e, rows))
	b.Shares, b.ImpNote = d.shares(e, rows)
	b.Rest = 1
	for _, s := range b.Shares {
		b.Rest -= s.Share
	}
	b.Importance = importanceChart(b.Shares)
	b.Curves = curvesChart("curves", curvesOf(rows, obj.ObjectiveMetricName), obj.ObjectiveMetricName)
	if s, err := d.listers.Suggestions.Suggestions(e.Namespace).Get(e.Name); err == nil {
		b.Suggestion = &suggestionBody{
			Requests: s.Spec.Requests, Count: s.Status.SuggestionCount, Exhausted: s.Status.SearchSpaceExhausted,
			FunctionURL: s.Status.FunctionURL, Settings: s.Spec.Algorithm.AlgorithmSettings, State: s.Status.AlgorithmSettings,
			Conditions: conditionRows(s.Status.Conditions, now), YAML: toYAML(s, "Suggestion"),
		}
	}
	b.YAML = toYAML(e, "Experiment")
	return b, nil
}

// shares returns the parameters' importance, most important first, or why
// there is none. It is computed again only when a trial ends.
func (d *Dashboard) shares(e *v1alpha1.Experiment, rows []trialRow) ([]share, string) {
	space, err := spaceOf(e)
	if err != nil {
		return nil, "The search space does not parse: " + err.Error()
	}
	pts, losses, fp := importanceInput(e, space, rows)
	if len(pts) < 2 {
		return nil, "Importance needs two trials that ended with a value."
	}
	key := e.Namespace + "/" + e.Name + "/" + string(e.UID)
	d.mu.Lock()
	c, ok := d.importance[key]
	d.mu.Unlock()
	if ok && c.fingerprint == fp {
		return c.shares, ""
	}
	values, err := smac.Importance(space, pts, losses)
	if err != nil {
		return nil, err.Error()
	}
	out := make([]share, len(values))
	for j, v := range values {
		out[j] = share{Name: space.Params[j].Name, Share: v}
	}
	slices.SortStableFunc(out, func(a, b share) int { return cmp.Compare(b.Share, a.Share) })
	d.mu.Lock()
	d.importance[key] = importanceEntry{fingerprint: fp, shares: out}
	d.mu.Unlock()
	return out, ""
}

// trialBody is the body of a Trial's page.
type trialBody struct {
	Experiment experimentRow
	Row        trialRow
	Params     []v1alpha1.ParameterAssignment
	Metrics    []v1alpha1.Metric
	Curves     []template.HTML
	Conditions []conditionRow
	YAML       string
}

func (d *Dashboard) trial(w http.ResponseWriter, r *http.Request) {
	ns, name, tname := r.PathValue("namespace"), r.PathValue("name"), r.PathValue("trial")
	e, err := d.listers.Experiments.Experiments(ns).Get(name)
	if err != nil {
		d.fail(w, http.StatusNotFound, "No such Experiment",
			fmt.Sprintf("There is no Experiment %s in namespace %s (or it has been deleted). The list of Experiments is at /.", name, ns))
		return
	}
	t, err := listers.NewTrialLister(d.listers.Trials).Trials(ns).Get(tname)
	if err != nil || t.Labels[tuning.ExperimentLabelKey] != name {
		d.fail(w, http.StatusNotFound, "No such Trial",
			fmt.Sprintf("Experiment %s/%s has no Trial %s. Its trials are listed at %s.", ns, name, tname, experimentLink(ns, name)))
		return
	}
	params := make([]string, len(e.Spec.Parameters))
	for i, p := range e.Spec.Parameters {
		params[i] = p.Name
	}
	rows := trialRows(e, []*v1alpha1.Trial{t}, params)
	if e.Spec.Objective.MultiObjective() {
		// Whether it is on the front depends on every trial.
		all, err := reconciler.TrialsOf(d.listers.Trials, ns, name)
		if err != nil {
			d.fail(w, http.StatusInternalServerError, "Cannot read the Experiment's trials", err.Error())
			return
		}
		others := trialRows(e, all, params)
		markFront(e, others)
		rows[0].Pareto = slices.ContainsFunc(others, func(o trialRow) bool { return o.Pareto && o.Name == t.Name })
	}
	b := trialBody{Experiment: rowOf(e, d.now()), Row: rows[0], Params: t.Spec.ParameterAssignments, Conditions: conditionRows(t.Status.Conditions, d.now()), YAML: toYAML(t, "Trial")}
	if t.Status.Observation != nil {
		b.Metrics = t.Status.Observation.Metrics
		for i, m := range t.Status.Observation.Metrics {
			if cs := curvesOf(rows, m.Name); len(cs) > 0 {
				b.Curves = append(b.Curves, curvesChart(fmt.Sprintf("curve-%d", i), cs, m.Name))
			}
		}
	}
	d.render(w, http.StatusOK, "trial.html", page{
		Title: t.Name, Events: "/events?experiment=" + ns + "/" + name,
		Crumbs: []crumb{{"Experiments", "/"}, {ns + "/" + name, experimentLink(ns, name)}, {t.Name, ""}}, Body: b,
	})
}

// toYAML writes an object as kubectl get -o yaml would, without the
// managed fields.
func toYAML(obj runtime.Object, kind string) string {
	o := obj.DeepCopyObject()
	if m, err := meta.Accessor(o); err == nil {
		m.SetManagedFields(nil)
	}
	o.GetObjectKind().SetGroupVersionKind(v1alpha1.SchemeGroupVersion.WithKind(kind))
	b, err := yaml.Marshal(o)
	if err != nil {
		return "# cannot write it as YAML: " + err.Error()
	}
	return string(b)
}

func (d *Dashboard) events(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("experiment")
	if key != "" {
		ns, name, ok := strings.Cut(key, "/")
		if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
			http.Error(w, fmt.Sprintf("experiment=%q: give it as namespace/name, or leave it out for every Experiment", key), http.StatusBadRequest)
			return
		}
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "this connection cannot stream events", http.StatusInternalServerError)
		return
	}
	ch, cancel := d.hub.subscribe(key)
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// The retry tells the browser how soon to reconnect when the stream
	// ends, as it does when a request timeout cuts it.
	_, _ = fmt.Fprint(w, "retry: 1000\n: watching\n\n")
	flusher.Flush()
	ctx := r.Context()
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	n := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": still here\n\n"); err != nil {
				return
			}
			flusher.Flush()
		case <-ch:
			n++
			if _, err := fmt.Fprintf(w, "event: change\ndata: %d\n\n", n); err != nil {
				return
			}
			flusher.Flush()
			if !sleep(ctx, EventInterval) {
				return
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
