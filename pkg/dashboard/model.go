package dashboard

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"
	"knative.dev/pkg/apis"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/pareto/observed"
	"knobs.dev/knobs/pkg/reconciler/suggestion/resources"
	"knobs.dev/knobs/pkg/searchspace"
)

// experimentRow is an experiment as the list shows it.
type experimentRow struct {
	Namespace, Name string
	Link            string
	Algorithm       string
	State           string // Running, Succeeded or Failed
	Reason, Message string
	Done, Max       int32
	Running, Failed int32
	Percent         float64
	Objective       string
	// MoreObjectives counts the additional objectives; Front is the size of
	// the Pareto front, as the Experiment's status has it.
	MoreObjectives int
	Front          int32
	Best           string
	BestValue      float64
	HasBest        bool
	BestTrial      string
	BestLink       string
	Age            string
	Created        int64
}

func experimentLink(ns, name string) string { return "/experiments/" + ns + "/" + name }

func trialLink(ns, exp, trial string) string { return experimentLink(ns, exp) + "/trials/" + trial }

func age(t time.Time, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	return duration.HumanDuration(now.Sub(t))
}

func rowOf(e *v1alpha1.Experiment, now time.Time) experimentRow {
	st := &e.Status
	r := experimentRow{
		Namespace: e.Namespace, Name: e.Name, Link: experimentLink(e.Namespace, e.Name),
		Algorithm:      e.Spec.Algorithm.AlgorithmName,
		Done:           st.TrialsSucceeded + st.TrialsFailed + st.TrialsEarlyStopped + st.TrialsMetricsUnavailable + st.TrialsKilled,
		Running:        st.TrialsRunning + st.TrialsPending,
		Failed:         st.TrialsFailed + st.TrialsMetricsUnavailable,
		Objective:      fmt.Sprintf("%s %s", e.Spec.Objective.Type, e.Spec.Objective.ObjectiveMetricName),
		Age:            age(e.CreationTimestamp.Time, now),
		Created:        e.CreationTimestamp.Unix(),
		State:          "Running",
		MoreObjectives: len(e.Spec.Objective.AdditionalObjectives),
		Front:          st.ParetoOptimalTrialCount,
	}
	if e.Spec.MaxTrialCount != nil {
		r.Max = *e.Spec.MaxTrialCount
	}
	if r.Max > 0 {
		r.Percent = math.Min(100, 100*float64(r.Done)/float64(r.Max))
	}
	if c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); c != nil {
		r.Reason, r.Message = c.Reason, c.Message
		switch {
		case c.IsTrue():
			r.State = "Succeeded"
		case c.IsFalse():
			r.State = "Failed"
		}
	}
	if b := st.CurrentOptimalTrial; b != nil {
		r.BestTrial = b.BestTrialName
		r.BestLink = trialLink(e.Namespace, e.Name, b.BestTrialName)
		if m := b.Observation.Metric(e.Spec.Objective.ObjectiveMetricName); m != nil {
			r.Best = m.Value
			r.BestValue, r.HasBest = b.Observation.Value(m.Name)
		}
	}
	return r
}

// trialRow is a trial as the table of trials shows it.
type trialRow struct {
	N         int
	Name      string
	Link      string
	Phase     string // the reason of the Succeeded condition
	Status    string // True, False, Unknown
	Message   string
	Params    []string
	Objective string
	Value     float64
	HasValue  bool
	Done      bool // ended with a value that counts (Succeeded, EarlyStopped)
	Running   bool
	Metrics   []string
	// Objectives are the additional objectives' values, Constraints the
	// constraint metrics' values, as reported.
	Objectives  []string
	Constraints []string
	// Feasible is "yes" or "no" for a trial that ended with a value, when
	// the Experiment has constraints; "" otherwise.
	Feasible string
	Pareto   bool // on the Pareto front of the trials that ended
	Best     bool
	Duration string
	trial    *v1alpha1.Trial
}

// orderTrials sorts trials in the order they were handed out: by creation,
// then by the number the Suggestion gave their names.
func orderTrials(trials []*v1alpha1.Trial) {
	num := func(t *v1alpha1.Trial) int {
		i := strings.LastIndexByte(t.Name, '-')
		n, err := strconv.Atoi(t.Name[i+1:])
		if err != nil {
			return math.MaxInt
		}
		return n
	}
	slices.SortStableFunc(trials, func(a, b *v1alpha1.Trial) int {
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		if c := cmp.Compare(num(a), num(b)); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
}

func trialRows(e *v1alpha1.Experiment, trials []*v1alpha1.Trial, params []string) []trialRow {
	o := &e.Spec.Objective
	obj := o.ObjectiveMetricName
	extra := recordedMetrics(o)
	best := ""
	if b := e.Status.CurrentOptimalTrial; b != nil {
		best = b.BestTrialName
	}
	rows := make([]trialRow, len(trials))
	for i, t := range trials {
		r := trialRow{N: i + 1, Name: t.Name, Link: trialLink(e.Namespace, e.Name, t.Name), Phase: t.Status.Phase(), Status: "Unknown", Best: t.Name == best, trial: t}
		if c := t.Status.GetCondition(v1alpha1.TrialConditionSucceeded); c != nil {
			r.Status, r.Message = string(c.Status), c.Message
		}
		r.Done = r.Phase == v1alpha1.TrialReasonSucceeded || r.Phase == v1alpha1.TrialReasonEarlyStopped
		r.Running = !t.Status.IsDone()
		values := map[string]string{}
		for _, a := range t.Spec.ParameterAssignments {
			values[a.Name] = a.Value
		}
		r.Params = make([]string, len(params))
		for j, p := range params {
			r.Params[j] = values[p]
		}
		ob := t.Status.Observation
		if m := ob.Metric(obj); m != nil {
			r.Objective = m.Value
			r.Value, r.HasValue = ob.Value(obj)
		}
		reported := func(name string) string {
			if m := ob.Metric(name); m != nil {
				return m.Value
			}
			return ""
		}
		for _, name := range extra {
			r.Metrics = append(r.Metrics, reported(name))
		}
		for _, a := range o.AdditionalObjectives {
			r.Objectives = append(r.Objectives, reported(a.Name))
		}
		for _, c := range o.Constraints {
			r.Constraints = append(r.Constraints, reported(c.Name))
		}
		if len(o.Constraints) > 0 && r.Done && r.HasValue {
			r.Feasible = "no"
			if observed.Feasible(o, ob) {
				r.Feasible = "yes"
			}
		}
		if s := t.Status.StartTime; s != nil {
			end := time.Now()
			if c := t.Status.CompletionTime; c != nil {
				end = c.Time
			}
			r.Duration = duration.HumanDuration(end.Sub(s.Time))
		}
		rows[i] = r
	}
	return rows
}

// recordedMetrics are the additional metrics the table shows in columns of
// their own: those that are not an additional objective or a constraint,
// which have theirs.
func recordedMetrics(o *v1alpha1.ObjectiveSpec) []string {
	var out []string
	for _, name := range o.AdditionalMetricNames {
		if !slices.ContainsFunc(o.AdditionalObjectives, func(a v1alpha1.AdditionalObjective) bool { return a.Name == name }) &&
			!slices.ContainsFunc(o.Constraints, func(c v1alpha1.MetricConstraint) bool { return c.Name == name }) {
			out = append(out, name)
		}
	}
	return out
}

// markFront marks the rows of the trials on the Pareto front: of the trials
// that ended with a value, those that keep the constraints and that no
// other such trial beats in every objective at once. It returns how many
// there are.
func markFront(e *v1alpha1.Experiment, rows []trialRow) int {
	obs := make([]*v1alpha1.Observation, len(rows))
	for i, r := range rows {
		if r.Done && r.HasValue {
			obs[i] = r.trial.Status.Observation
		}
	}
	front := observed.Front(&e.Spec.Objective, obs)
	for _, i := range front {
		rows[i].Pareto = true
	}
	return len(front)
}

// frontAxes are the Experiment's objectives as axes, the objective metric
// first.
func frontAxes(o *v1alpha1.ObjectiveSpec) []frontAxis {
	var axes []frontAxis
	for _, a := range observed.Objectives(o) {
		axes = append(axes, frontAxis{a})
	}
	return axes
}

// frontPoints are the trials that ended with a value of every objective,
// by objectives ix and iy (0 the objective metric, 1 the first additional
// objective, and so on); markFront has marked the front.
func frontPoints(e *v1alpha1.Experiment, rows []trialRow, ix, iy int) []frontPoint {
	o := &e.Spec.Objective
	axes := observed.Objectives(o)
	var pts []frontPoint
	for _, r := range rows {
		if !r.Done || !r.HasValue {
			continue
		}
		ob := r.trial.Status.Observation
		losses, ok := o.Losses(ob)
		if !ok {
			continue
		}
		// Values, where Losses found them.
		x, _ := ob.Value(axes[ix].Name)
		y, _ := ob.Value(axes[iy].Name)
		pts = append(pts, frontPoint{X: x, Y: y, LX: losses[ix], LY: losses[iy], Name: r.Name, Link: r.Link, Pareto: r.Pareto, Infeasible: r.Feasible == "no"})
	}
	return pts
}

func objectivePoints(rows []trialRow) []objectivePoint {
	var pts []objectivePoint
	for _, r := range rows {
		if !r.HasValue || (!r.Done && !r.Running) {
			continue
		}
		pts = append(pts, objectivePoint{N: r.N, Value: r.Value, Name: r.Name, Link: r.Link, Done: r.Done, Best: r.Best, Infeasible: r.Feasible == "no"})
	}
	return pts
}

// placer places a parameter's values on its axis, in [0, 1].
type placer struct {
	axis  axis
	place func(string) (float64, bool)
}

func placerOf(p *v1alpha1.ParameterSpec) placer {
	fs := p.FeasibleSpace
	a := axis{Name: p.Name}
	switch p.ParameterType {
	case v1alpha1.ParameterTypeCategorical, v1alpha1.ParameterTypeDiscrete:
		n := len(fs.List)
		at := func(i int) float64 {
			if n == 1 {
				return 0.5
			}
			return float64(i) / float64(n-1)
		}
		every := max(1, n/8)
		for i, v := range fs.List {
			if i%every == 0 {
				a.Labels = append(a.Labels, axisLabel{At: at(i), Text: v})
			}
		}
		return placer{axis: a, place: func(s string) (float64, bool) {
			i := slices.Index(fs.List, s)
			return at(i), i >= 0
		}}
	}
	lo, err1 := strconv.ParseFloat(fs.Min, 64)
	hi, err2 := strconv.ParseFloat(fs.Max, 64)
	if err1 != nil || err2 != nil {
		return placer{axis: a, place: func(string) (float64, bool) { return 0, false }}
	}
	log := fs.Distribution == v1alpha1.DistributionLogUniform || fs.Distribution == v1alpha1.DistributionLogNormal
	s := newScale(lo, hi, 0, 1, log && lo > 0)
	for _, t := range s.ticks(4) {
		a.Labels = append(a.Labels, axisLabel{At: s.at(t), Text: short(t)})
	}
	return placer{axis: a, place: func(v string) (float64, bool) {
		f, err := strconv.ParseFloat(v, 64)
		return math.Min(math.Max(s.at(f), 0), 1), err == nil
	}}
}

// parallel builds the parallel coordinates of the trials that ended with a
// value: the parameters, then the objective, its best end on top.
func parallel(e *v1alpha1.Experiment, rows []trialRow) ([]axis, []line) {
	params := e.Spec.Parameters
	placers := make([]placer, len(params))
	axes := make([]axis, 0, len(params)+1)
	for i := range params {
		placers[i] = placerOf(&params[i])
		axes = append(axes, placers[i].axis)
	}
	var done []trialRow
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rows {
		if r.Done && r.HasValue {
			done = append(done, r)
			lo, hi = math.Min(lo, r.Value), math.Max(hi, r.Value)
		}
	}
	minimize := e.Spec.Objective.Type != v1alpha1.ObjectiveTypeMaximize
	obj := newScale(lo, hi, 0, 1, wantLog(lo, hi))
	up := func(v float64) float64 { // best at the top
		u := obj.at(v)
		if minimize {
			u = 1 - u
		}
		return u
	}
	objAxis := axis{Name: e.Spec.Objective.ObjectiveMetricName}
	if len(done) > 0 {
		for _, t := range obj.ticks(4) {
			if t >= obj.lo-1e-9 || obj.log {
				objAxis.Labels = append(objAxis.Labels, axisLabel{At: up(t), Text: short(t)})
			}
		}
	}
	axes = append(axes, objAxis)
	// Rank for colour: the worst 0, the best 1.
	order := make([]int, len(done))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(up(done[a].Value), up(done[b].Value)) })
	lines := make([]line, 0, len(done))
	for rank, i := range order {
		r := done[i]
		l := line{Name: r.Name, Link: r.Link, At: make([]float64, len(axes)), Best: r.Best}
		if len(done) > 1 {
			l.Rank = float64(rank) / float64(len(done)-1)
		} else {
			l.Rank = 1
		}
		ok := true
		for j := range params {
			var placed bool
			l.At[j], placed = placers[j].place(r.Params[j])
			ok = ok && placed
		}
		l.At[len(params)] = up(r.Value)
		if ok {
			lines = append(lines, l)
		}
	}
	objAxis.Labels = clampLabels(objAxis.Labels)
	axes[len(axes)-1] = objAxis
	return axes, lines
}

func clampLabels(ls []axisLabel) []axisLabel {
	out := ls[:0]
	for _, l := range ls {
		if l.At >= -1e-9 && l.At <= 1+1e-9 {
			out = append(out, l)
		}
	}
	return out
}

func curvesOf(rows []trialRow, metric string) []curve {
	var out []curve
	for _, r := range rows {
		m := r.trial.Status.Observation.Metric(metric)
		if m == nil || len(m.Curve) == 0 {
			continue
		}
		c := curve{Name: r.Name, Link: r.Link, Running: r.Running, Best: r.Best}
		for _, p := range m.Curve {
			v, err := strconv.ParseFloat(p.Value, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			c.Steps = append(c.Steps, float64(p.Step))
			c.Values = append(c.Values, v)
		}
		if len(c.Values) > 1 { // one report is a point, not a curve
			out = append(out, c)
		}
	}
	return out
}

// importanceInput returns the points and losses of the trials that ended
// with a value, and a fingerprint of them.
func importanceInput(e *v1alpha1.Experiment, space *searchspace.Space, rows []trialRow) ([]searchspace.Point, []float64, uint64) {
	h := fnv.New64a()
	var pts []searchspace.Point
	var losses []float64
	names := make([]string, space.Len())
	for j := range space.Params {
		names[j] = space.Params[j].Name
	}
	for _, r := range rows {
		if !r.Done || !r.HasValue {
			continue
		}
		pt := make(searchspace.Point, space.Len())
		ok := true
		for _, a := range r.trial.Spec.ParameterAssignments {
			j, found := space.Lookup(a.Name)
			if !found {
				ok = false
				break
			}
			v, err := space.Params[j].Parse(a.Value)
			if err != nil {
				ok = false
				break
			}
			pt[j] = v
		}
		if !ok || len(r.trial.Spec.ParameterAssignments) != space.Len() {
			continue
		}
		loss := r.Value
		if e.Spec.Objective.Type == v1alpha1.ObjectiveTypeMaximize {
			loss = -loss
		}
		pts = append(pts, pt)
		losses = append(losses, loss)
		fmt.Fprintf(h, "%s=%s;", r.Name, r.Objective)
	}
	return pts, losses, h.Sum64()
}

// spaceOf parses the Experiment's search space as its function does.
func spaceOf(e *v1alpha1.Experiment) (*searchspace.Space, error) { return resources.ParseSpace(e) }

// conditionRow is a condition as a table shows it.
type conditionRow struct {
	Type, Status, Reason, Message, Age string
}

func conditionRows(cs []apis.Condition, now time.Time) []conditionRow {
	out := make([]conditionRow, 0, len(cs))
	for _, c := range cs {
		out = append(out, conditionRow{Type: string(c.Type), Status: string(c.Status), Reason: c.Reason, Message: c.Message, Age: age(c.LastTransitionTime.Inner.Time, now)})
	}
	return out
}
