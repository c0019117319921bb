// Package experiment reconciles Experiments: it owns the Experiment's
// Suggestion and raises its requests as trial slots open, creates a Trial for
// every assignment handed out, and keeps the counts, the best trial and the
// Succeeded condition in the Experiment's status.
package experiment

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"knative.dev/pkg/kmeta"
	"knative.dev/pkg/logging"
	pkgreconciler "knative.dev/pkg/reconciler"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/client/clientset/versioned"
	experimentreconciler "knobs.dev/knobs/pkg/client/injection/reconciler/tuning/v1alpha1/experiment"
	listers "knobs.dev/knobs/pkg/client/listers/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/reconciler"
	"knobs.dev/knobs/pkg/reconciler/experiment/resources"
	"knobs.dev/knobs/pkg/trialtemplate"
)

// defaultCreatesAtOnce is how many Trials a reconcile creates at once.
const defaultCreatesAtOnce = 8

// Event reasons.
const (
	reasonTrialCreated      = "TrialCreated"
	reasonSuggestionCreated = "SuggestionCreated"
	reasonRequested         = "SuggestionsRequested"
	reasonSucceeded         = "ExperimentSucceeded"
	reasonFailed            = "ExperimentFailed"
	reasonResumed           = "ExperimentResumed"
	reasonTrialsStopped     = "TrialsStopped"
)

// Reconciler implements experimentreconciler.Interface.
type Reconciler struct {
	// pace spaces out the passes of a large Experiment; nil in tests,
	// which call ReconcileKind without an Impl.
	pace             *reconciler.Pace
	client           versioned.Interface
	suggestionLister listers.SuggestionLister
	// trialIndexer is the informer's cache of Trials, indexed by
	// Experiment (reconciler.TrialsOf).
	trialIndexer cache.Indexer
	// checked remembers, per Experiment, the generation whose trial
	// template was last checked and what the check found: a template is
	// rendered once per change of the spec, not on every reconcile.
	checked reconciler.Keyed[check]
	// createsAtOnce is how many Trials a reconcile creates at once; 0 or
	// 1, one after another.
	createsAtOnce int
	// gone remembers, per Experiment, how many trials of handed-out
	// assignments the API server was found not to have: deleted by hand.
	gone reconciler.Keyed[int32]
}

// check is what the last check of an Experiment's trial template found, and
// the generation it checked.
type check struct {
	generation int64
	err        error
}

var (
	_ experimentreconciler.Interface    = (*Reconciler)(nil)
	_ pkgreconciler.OnDeletionInterface = (*Reconciler)(nil)
)

// ObserveDeletion forgets a deleted Experiment's template check.
func (r *Reconciler) ObserveDeletion(_ context.Context, key types.NamespacedName) error {
	r.checked.Forget(key)
	r.gone.Forget(key)
	return nil
}

// ReconcileKind implements experimentreconciler.Interface. The status is
// written by reconciler.ReconcileStatus, with the resource version read: a
// status computed from a stale copy (a trial not yet seen to finish) must not
// overwrite a newer one.
func (r *Reconciler) ReconcileKind(ctx context.Context, e *v1alpha1.Experiment) pkgreconciler.Event {
	if r.pace != nil {
		defer r.pace.Passed(types.NamespacedName{Namespace: e.Namespace, Name: e.Name}, time.Now())
	}
	return reconciler.ReconcileStatus(ctx, e, &e.Status, r.reconcile, r.client.TuningV1alpha1().Experiments(e.Namespace).UpdateStatus)
}

// pass is what one reconcile of an Experiment has found so far, passed from
// step to step.
type pass struct {
	e *v1alpha1.Experiment
	// spec is the Experiment's spec with the counts the user left out,
	// without changing the object written back.
	spec *v1alpha1.ExperimentSpec
	// done says the Experiment had ended when the reconcile began.
	done bool
	// trials are the Trials labelled with the Experiment; owned, those it
	// controls.
	trials, owned []*v1alpha1.Trial
	// found and foundErr are what the lister gave for the Experiment's
	// Suggestion, read before its Trials: an assignment the Suggestion no
	// longer lists then has its Trial among those listed.
	found    *v1alpha1.Suggestion
	foundErr error
	// s is the Experiment's own Suggestion; nil when there is none.
	s *v1alpha1.Suggestion
	// tally is what the counts say besides the status.
	tally tally
	// raise says the Experiment may start more trials: it runs, and neither
	// holds for its goal nor waits for a fix.
	raise bool

	// resumed says the Experiment had ended with MaxTrialsReached and
	// resumes, maxTrialCount being raised.
	resumed bool

	// event is what the reconcile returns.
	event pkgreconciler.Event
	// ended stops the steps after the current one.
	ended bool
}

// end ends the reconcile with event, after counting the trials.
func (p *pass) end(s *v1alpha1.Suggestion, event pkgreconciler.Event) {
	tallyTrials(p.e, s, p.owned)
	p.event, p.ended = event, true
}

// reconcile runs the steps of a reconcile in order, each on what those
// before it found, until one fails or ends the reconcile.
func (r *Reconciler) reconcile(ctx context.Context, e *v1alpha1.Experiment) pkgreconciler.Event {
	e.Status.InitializeConditions()
	p := &pass{e: e, spec: e.Spec.DeepCopy(), done: e.Status.IsDone()}
	p.spec.SetDefaults(ctx)
	for _, step := range []func(context.Context, *pass) error{
		r.findSuggestion,
		r.listTrials,
		r.reconcileSuggestion,
		r.stopIfDone,
		r.checkTemplate,
		r.decide,
		r.reconcileTrials,
		r.reconcileRequests,
	} {
		if err := step(ctx, p); err != nil {
			return err
		}
		if p.ended {
			break
		}
	}
	if err := r.stopTrials(ctx, p); err != nil {
		return err
	}
	if p.event == nil && p.resumed {
		p.event = pkgreconciler.NewEvent(corev1.EventTypeNormal, reasonResumed, "resumed: maxTrialCount raised to %d", *p.spec.MaxTrialCount)
	}
	return p.event
}

// findSuggestion reads the Experiment's Suggestion from the lister, before
// the Trials are listed: the Suggestion drops an assignment once its Trial
// is in the same cache, so the Trials listed after hold every assignment the
// Suggestion read no longer lists.
func (r *Reconciler) findSuggestion(_ context.Context, p *pass) error {
	p.found, p.foundErr = r.suggestionLister.Suggestions(p.e.Namespace).Get(p.e.Name)
	return nil
}

// listTrials finds the Trials labelled with the Experiment, and those of
// them it controls.
func (r *Reconciler) listTrials(_ context.Context, p *pass) error {
	trials, err := reconciler.TrialsOf(r.trialIndexer, p.e.Namespace, p.e.Name)
	if err != nil {
		return err
	}
	p.setTrials(trials)
	return nil
}

func (p *pass) setTrials(trials []*v1alpha1.Trial) {
	p.trials, p.owned = trials, trials[:0:0]
	for _, t := range trials {
		if metav1.IsControlledBy(t, p.e) {
			p.owned = append(p.owned, t)
		}
	}
}

// reconcileSuggestion finds the Experiment's Suggestion, or creates it
// asking for the first assignments, which ends the reconcile. A Suggestion of
// its name that it does not control ends the reconcile too, the condition
// saying so.
func (r *Reconciler) reconcileSuggestion(ctx context.Context, p *pass) error {
	e := p.e
	s, err := p.found, p.foundErr
	switch {
	case apierrs.IsNotFound(err) && p.done:
		return nil // an Experiment that has ended creates nothing
	case apierrs.IsNotFound(err):
		s = resources.MakeSuggestion(e, min(*p.spec.ParallelTrialCount, *p.spec.MaxTrialCount))
		if s, err = r.client.TuningV1alpha1().Suggestions(e.Namespace).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating Suggestion %q: %w", e.Name, err)
		}
		logging.FromContext(ctx).Infow("suggestion created", "requests", s.Spec.Requests)
		e.Status.MarkRunning(v1alpha1.ExperimentReasonRunning, "asked the %s function for %d assignments", e.Spec.Algorithm.AlgorithmName, s.Spec.Requests)
		p.end(s, pkgreconciler.NewEvent(corev1.EventTypeNormal, reasonSuggestionCreated, "created Suggestion %q asking for %d assignments", s.Name, s.Spec.Requests))
		return nil
	case err != nil:
		return err
	case !metav1.IsControlledBy(s, e):
		e.Status.MarkRunning(v1alpha1.ExperimentReasonSuggestionNotOwned,
			"Suggestion %q exists and is not controlled by this Experiment; delete it so that the Experiment can create its own", s.Name)
		p.end(nil, nil)
		return nil
	}
	p.s = s
	return nil
}

// stopIfDone ends the reconcile of an Experiment that has ended: only its
// counts are kept up to date. One that ended with MaxTrialsReached resumes
// instead, unless its resumePolicy is Never, when maxTrialCount has been
// raised past the assignments handed out: its Suggestion keeps the
// algorithm's state and what it handed out, so the algorithm goes on from
// where it left off.
func (r *Reconciler) stopIfDone(_ context.Context, p *pass) error {
	if !p.done {
		return nil
	}
	if c := p.e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); c.IsTrue() && c.Reason == v1alpha1.ExperimentReasonMaxTrialsReached &&
		p.spec.ResumePolicy != v1alpha1.NeverResume && p.s != nil && !p.s.Status.SearchSpaceExhausted &&
		p.s.Status.SuggestionCount < *p.spec.MaxTrialCount {
		p.done, p.resumed = false, true
		p.e.Status.MarkRunning(v1alpha1.ExperimentReasonRunning, "resumed: maxTrialCount raised to %d", *p.spec.MaxTrialCount)
		return nil
	}
	p.end(p.s, nil)
	return nil
}

// checkTemplate fails the Experiment whose trial template does not render,
// before any trial is created from it, and ends the reconcile. The template
// is rendered once per generation of the spec. The
// Suggestion still follows the Experiment's algorithm.
func (r *Reconciler) checkTemplate(ctx context.Context, p *pass) error {
	tt := p.e.Spec.TrialTemplate
	if tt == nil {
		return nil
	}
	key := types.NamespacedName{Namespace: p.e.Namespace, Name: p.e.Name}
	last, ok := r.checked.Get(key)
	err := last.err
	if !ok || last.generation != p.e.Generation {
		err = trialtemplate.Check(tt, p.e.Spec.Parameters)
		r.checked.Set(key, check{generation: p.e.Generation, err: err})
	}
	if err == nil {
		return nil
	}
	p.e.Status.MarkFailed(v1alpha1.ExperimentReasonInvalidTrialTemplate, "%v", err)
	p.end(p.s, pkgreconciler.NewEvent(corev1.EventTypeWarning, v1alpha1.ExperimentReasonInvalidTrialTemplate, "%v", err))
	return r.request(ctx, p.e, p.spec, p.s, tally{}, false)
}

// decide counts the trials as they are and sets the Succeeded condition
// before any trial is created: an Experiment that ends now creates nothing
// more.
func (r *Reconciler) decide(ctx context.Context, p *pass) error {
	p.tally = tallyTrials(p.e, p.s, p.owned)
	if err := r.confirmMissing(ctx, p); err != nil {
		return err
	}
	var hold bool
	p.event, hold = verdict(p.e, p.spec, p.s, p.tally)
	p.raise = !hold && !p.e.Status.IsDone() && !isStuck(p.e)
	return nil
}

// confirmMissing accounts for the trials of handed-out assignments that are
// neither listed in the Suggestion nor among the Trials listed. The
// Suggestion's reconciler drops an assignment only once its Trial exists,
// so such a trial was deleted by hand, or is not yet in this cache (the
// Suggestion's reconciler leading in another replica). Until the API
// server says which, the trial is counted as under way, so that nothing
// ends early and no more trials run at once than allowed. The API server's
// list settles it; the count of trials found deleted is remembered, and a
// deleted trial counts as ended.
func (r *Reconciler) confirmMissing(ctx context.Context, p *pass) error {
	key := types.NamespacedName{Namespace: p.e.Namespace, Name: p.e.Name}
	if gone, _ := r.gone.Get(key); p.tally.missing <= gone {
		p.tally.open -= p.tally.missing
		return nil
	}
	list, err := r.client.TuningV1alpha1().Trials(p.e.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(labels.Set{tuning.ExperimentLabelKey: p.e.Name}).String()})
	if err != nil {
		return fmt.Errorf("listing the Trials of Experiment %q: %w", p.e.Name, err)
	}
	trials := make([]*v1alpha1.Trial, len(list.Items))
	for i := range list.Items {
		trials[i] = &list.Items[i]
	}
	p.setTrials(trials)
	p.tally = tallyTrials(p.e, p.s, p.owned)
	r.gone.Set(key, p.tally.missing)
	p.tally.open -= p.tally.missing
	return nil
}

// reconcileTrials creates, while the Experiment may start trials, a Trial for
// every assignment handed out that has none. Creating one that exists (a
// cache that lags) is harmless: the name is the assignment's. A Trial of an
// assignment's name that the Experiment does not control is reported in the
// condition.
func (r *Reconciler) reconcileTrials(ctx context.Context, p *pass) error {
	if !p.raise {
		return nil
	}
	e := p.e
	have := make(map[string]bool, len(p.trials))
	for _, t := range p.owned {
		have[t.Name] = true
	}
	others := map[string]bool{}
	for _, t := range p.trials {
		if !have[t.Name] {
			others[t.Name] = true
		}
	}
	var clashes []string
	var todo []*v1alpha1.Trial
	for _, a := range p.s.Status.Suggestions {
		if have[a.Name] {
			continue
		}
		if others[a.Name] {
			clashes = append(clashes, a.Name)
			continue
		}
		t, err := resources.MakeTrial(e, a)
		if err != nil {
			e.Status.MarkFailed(v1alpha1.ExperimentReasonInvalidTrialTemplate, "trial %s: %v", a.Name, err)
			p.event, p.ended = pkgreconciler.NewEvent(corev1.EventTypeWarning, v1alpha1.ExperimentReasonInvalidTrialTemplate, "trial %s: %v", a.Name, err), true
			return nil
		}
		todo = append(todo, t)
	}
	// Created a few at once: each is a round trip to the API server, and
	// a large parallelTrialCount hands out many assignments at a time.
	made := make([]*v1alpha1.Trial, len(todo))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, r.createsAtOnce))
	for i, t := range todo {
		g.Go(func() error {
			got, err := r.client.TuningV1alpha1().Trials(e.Namespace).Create(gctx, t, metav1.CreateOptions{})
			switch {
			case apierrs.IsAlreadyExists(err):
				return nil
			case err != nil:
				return fmt.Errorf("creating Trial %q: %w", t.Name, err)
			}
			made[i] = got
			return nil
		})
	}
	err := g.Wait()
	created := 0
	for _, t := range made {
		if t != nil {
			p.owned = append(p.owned, t)
			created++
		}
	}
	if err != nil {
		return err
	}
	if created > 0 {
		// The new trials are pending: the counts change, the verdict not.
		p.tally = tallyTrials(e, p.s, p.owned)
		p.event, _ = verdict(e, p.spec, p.s, p.tally)
		if p.event == nil {
			p.event = pkgreconciler.NewEvent(corev1.EventTypeNormal, reasonTrialCreated, "created %d trials; %d in all", created, e.Status.Trials)
		}
	}
	if len(clashes) > 0 {
		e.Status.MarkRunning(v1alpha1.ExperimentReasonTrialNotOwned,
			"Trial %s exists and is not controlled by this Experiment: delete it so that the Experiment can run its assignment", strings.Join(clashes, ", "))
	}
	return nil
}

// stopTrials sets spec.stop on every Trial the Experiment controls that has
// not ended, once the Experiment has (its Succeeded condition True or
// False), unless its trialsOnEnd is Finish. The Trial reconciler stops their
// workloads, and they end Killed.
func (r *Reconciler) stopTrials(ctx context.Context, p *pass) error {
	c := p.e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded)
	if c == nil || c.IsUnknown() || p.spec.TrialsOnEnd == v1alpha1.TrialsOnEndFinish {
		return nil
	}
	var running []*v1alpha1.Trial
	for _, t := range p.owned {
		if !t.Status.IsDone() && !t.Spec.Stop {
			running = append(running, t)
		}
	}
	reconciler.SortTrials(running) // stopped in the order they came to be
	stopped := 0
	for _, t := range running {
		t = t.DeepCopy()
		t.Spec.Stop = true
		// The lister's resource version makes a stale decision conflict.
		if _, err := r.client.TuningV1alpha1().Trials(t.Namespace).Update(ctx, t, metav1.UpdateOptions{}); err != nil && !apierrs.IsNotFound(err) {
			return fmt.Errorf("stopping Trial %q: %w", t.Name, err)
		}
		stopped++
	}
	if stopped > 0 {
		logging.FromContext(ctx).Infow("trials stopped", "count", stopped, "reason", c.Reason)
		if p.event == nil {
			p.event = pkgreconciler.NewEvent(corev1.EventTypeNormal, reasonTrialsStopped, "stopped %d trials: the Experiment has ended (%s)", stopped, c.Reason)
		}
	}
	return nil
}

// reconcileRequests raises the Suggestion's requests as trial slots open,
// while the Experiment may start trials. The Suggestion follows the
// Experiment's algorithm even while the Experiment waits for a fix, so that
// the fix reaches the function.
func (r *Reconciler) reconcileRequests(ctx context.Context, p *pass) error {
	return r.request(ctx, p.e, p.spec, p.s, p.tally, p.raise)
}

// tally counts an Experiment's trials by phase.
type tally struct {
	// finished counts the trials of handed-out assignments that have ended.
	finished int32
	// open counts the handed-out assignments not yet ended: waiting for
	// their Trial, or their Trial under way, or missing (below).
	open int32
	// missing counts the handed-out assignments that neither the
	// Suggestion lists nor any Trial listed holds: deleted by hand, or
	// not yet in the cache. They are among the open ones.
	missing int32
	// lastFailure is the message of the latest failed trial.
	lastFailure string
}

// tallyTrials writes the counts, the best trial and, with additional
// objectives, the Pareto front into the status, and returns what deciding
// needs besides. Only a feasible trial (one that keeps the constraints) can
// be the best or on the front.
//
// The trials are those the Experiment controls, each of a handed-out
// assignment, in any order: of trials equally good, the best is the first
// to come to be, and the last failure the last to. Only the candidates for
// the Pareto front are sorted (reconciler.SortTrials), not every trial.
func tallyTrials(e *v1alpha1.Experiment, s *v1alpha1.Suggestion, trials []*v1alpha1.Trial) tally {
	obj := &e.Spec.Objective
	st := &e.Status
	st.Trials, st.TrialsPending, st.TrialsRunning, st.TrialsSucceeded = int32(len(trials)), 0, 0, 0
	st.TrialsFailed, st.TrialsMetricsUnavailable, st.TrialsEarlyStopped, st.TrialsKilled = 0, 0, 0, 0
	st.TrialsInfeasible = 0
	var tl tally
	var best, lastFailed *v1alpha1.Trial
	var bestValue float64
	var candidates []*v1alpha1.Trial
	for _, t := range trials {
		phase := t.Status.Phase()
		switch phase {
		case v1alpha1.TrialReasonPending:
			st.TrialsPending++
		case v1alpha1.TrialReasonRunning:
			st.TrialsRunning++
		case v1alpha1.TrialReasonSucceeded:
			st.TrialsSucceeded++
		case v1alpha1.TrialReasonEarlyStopped:
			st.TrialsEarlyStopped++
		case v1alpha1.TrialReasonFailed:
			st.TrialsFailed++
		case v1alpha1.TrialReasonMetricsUnavailable:
			st.TrialsMetricsUnavailable++
		case v1alpha1.TrialReasonKilled:
			st.TrialsKilled++
		}
		if t.Status.IsDone() {
			tl.finished++
		} else {
			tl.open++
		}
		if (phase == v1alpha1.TrialReasonFailed || phase == v1alpha1.TrialReasonMetricsUnavailable) && (lastFailed == nil || before(lastFailed, t)) {
			lastFailed = t
		}
		if phase != v1alpha1.TrialReasonSucceeded && phase != v1alpha1.TrialReasonEarlyStopped {
			continue
		}
		obs := t.Status.Observation
		if len(obj.Constraints) > 0 && obj.Violation(obs) > 0 {
			st.TrialsInfeasible++
			continue
		}
		v, ok := obs.Value(obj.ObjectiveMetricName)
		if !ok {
			continue
		}
		// Values are finite (Observation.Value): equal ones tie.
		if best == nil || obj.Better(v, bestValue) || (v == bestValue && before(t, best)) {
			best, bestValue = t, v
		}
		if obj.MultiObjective() {
			candidates = append(candidates, t)
		}
	}
	if lastFailed != nil {
		if c := lastFailed.Status.GetCondition(v1alpha1.TrialConditionSucceeded); c != nil {
			tl.lastFailure = fmt.Sprintf("trial %s: %s", lastFailed.Name, c.Message)
		}
	}
	reconciler.SortTrials(candidates)
	var front paretoCandidates
	for _, t := range candidates {
		front.add(t)
	}
	st.ParetoOptimalTrials, st.ParetoOptimalTrialCount = front.list(obj)
	if s != nil {
		waiting := int32(len(reconciler.Waiting(s.Status.Suggestions, trials, nil)))
		tl.open += waiting
		// Trials of an earlier Suggestion of the same name can make
		// more trials than assignments: none is missing then.
		tl.missing = max(0, s.Status.SuggestionCount-int32(len(trials))-waiting)
		tl.open += tl.missing
	}
	st.CurrentOptimalTrial = nil
	if best != nil {
		st.CurrentOptimalTrial = &v1alpha1.OptimalTrial{
			BestTrialName:        best.Name,
			ParameterAssignments: append([]v1alpha1.ParameterAssignment(nil), best.Spec.ParameterAssignments...),
			Observation:          best.Status.Observation.DeepCopy(),
		}
	}
	return tl
}

// before reports whether a came to be before b (reconciler.SortTrials).
func before(a, b *v1alpha1.Trial) bool {
	ka, kb := reconciler.OrderOf(a), reconciler.OrderOf(b)
	return ka.Compare(&kb) < 0
}

// isStuck reports whether the experiment waits for a fix of its spec.
func isStuck(e *v1alpha1.Experiment) bool {
	c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded)
	return c != nil && c.IsFalse()
}

// verdict sets the Succeeded condition from the counts, the best trial and
// the Suggestion. It reports whether to hold: start nothing more, the goal
// being reached.
func verdict(e *v1alpha1.Experiment, spec *v1alpha1.ExperimentSpec, s *v1alpha1.Suggestion, tl tally) (pkgreconciler.Event, bool) {
	st := &e.Status
	// The goal reached, nothing more is started. The experiment ends at
	// once, and its trials under way are stopped; with trialsOnEnd Finish,
	// it ends when they have, so that its counts are final.
	if b := st.CurrentOptimalTrial; b != nil && spec.Objective.Goal != nil {
		m := b.Observation.Metric(spec.Objective.ObjectiveMetricName)
		if v, err := strconv.ParseFloat(m.Value, 64); err == nil && spec.Objective.Reached(v) {
			goal := fmt.Sprintf("trial %s reached %s=%s, the goal being %s %v", b.BestTrialName, m.Name, m.Value, goalWord(spec.Objective.Type), *spec.Objective.Goal)
			if active := st.TrialsPending + st.TrialsRunning; active > 0 && spec.TrialsOnEnd == v1alpha1.TrialsOnEndFinish {
				st.MarkRunning(v1alpha1.ExperimentReasonFinishing, "%s; waiting for %d trials under way to finish", goal, active)
				return nil, true
			}
			st.MarkSucceeded(v1alpha1.ExperimentReasonGoalReached, "%s", goal)
			return pkgreconciler.NewEvent(corev1.EventTypeNormal, reasonSucceeded, "%s", goal), true
		}
	}
	failures := st.TrialsFailed + st.TrialsMetricsUnavailable
	if failures > *spec.MaxFailedTrialCount {
		st.MarkFailed(v1alpha1.ExperimentReasonMaxFailedTrialsReached,
			"%d trials failed, more than maxFailedTrialCount %d; the last: %s", failures, *spec.MaxFailedTrialCount, tl.lastFailure)
		return pkgreconciler.NewEvent(corev1.EventTypeWarning, reasonFailed, "%s", st.GetCondition(v1alpha1.ExperimentConditionSucceeded).Message), false
	}

	if c := s.Status.GetCondition(v1alpha1.SuggestionConditionFulfilled); c != nil && c.IsFalse() &&
		(c.Reason == v1alpha1.ReasonFunctionRejected || c.Reason == v1alpha1.ReasonInvalidExperiment) {
		st.MarkFailed(v1alpha1.ExperimentReasonSuggestionFailed, "%s: %s", c.Reason, c.Message)
		return pkgreconciler.NewEvent(corev1.EventTypeWarning, reasonFailed, "%s", st.GetCondition(v1alpha1.ExperimentConditionSucceeded).Message), false
	}

	handed := s.Status.SuggestionCount
	active := st.TrialsPending + st.TrialsRunning
	allRun := tl.open == 0
	switch {
	case s.Status.SearchSpaceExhausted && allRun:
		st.MarkSucceeded(v1alpha1.ExperimentReasonSearchSpaceExhausted, "the search space has no unseen point left; %d trials ran", handed)
		return pkgreconciler.NewEvent(corev1.EventTypeNormal, reasonSucceeded, "%s", st.GetCondition(v1alpha1.ExperimentConditionSucceeded).Message), false
	case s.Status.SearchSpaceExhausted:
		st.MarkRunning(v1alpha1.ExperimentReasonFinishing, "the search space has no unseen point left; waiting for %d trials to finish", tl.open)
	case handed >= *spec.MaxTrialCount && allRun:
		st.MarkSucceeded(v1alpha1.ExperimentReasonMaxTrialsReached, "%d trials ran, maxTrialCount being %d", handed, *spec.MaxTrialCount)
		return pkgreconciler.NewEvent(corev1.EventTypeNormal, reasonSucceeded, "%s", st.GetCondition(v1alpha1.ExperimentConditionSucceeded).Message), false
	case handed >= *spec.MaxTrialCount:
		st.MarkRunning(v1alpha1.ExperimentReasonFinishing, "all %d trials created; waiting for %d to finish", handed, tl.open)
	default:
		if c := s.Status.GetCondition(v1alpha1.SuggestionConditionFunctionReady); c != nil && c.IsFalse() {
			st.MarkRunning(v1alpha1.ExperimentReasonWaitingForFunction, "%s", c.Message)
			return nil, false
		}
		msg := fmt.Sprintf("%d of at most %d trials done, %d active", tl.finished, *spec.MaxTrialCount, active)
		if c := s.Status.GetCondition(v1alpha1.SuggestionConditionFulfilled); c != nil && c.IsUnknown() && c.Reason != "" && c.Reason != v1alpha1.ReasonSuggestionsHandedOut {
			msg += "; suggestions: " + c.Message
		}
		// Early stopping that cannot judge leaves trials running to their
		// end: say why where the user looks.
		if c := s.Status.GetCondition(v1alpha1.SuggestionConditionEarlyStopping); c != nil && c.IsFalse() {
			msg += "; early stopping: " + c.Message
		}
		st.MarkRunning(v1alpha1.ExperimentReasonRunning, "%s", msg)
	}
	return nil, false
}

func goalWord(t v1alpha1.ObjectiveType) string {
	if t == v1alpha1.ObjectiveTypeMaximize {
		return ">="
	}
	return "<="
}

// request raises the Suggestion's requests as trial slots open, when raise
// is true: never more assignments in flight (asked for or handed out, and not
// yet finished) than parallelTrialCount, never more in all than
// maxTrialCount. It also keeps the Suggestion's algorithm and early
// stopping those of the Experiment.
func (r *Reconciler) request(ctx context.Context, e *v1alpha1.Experiment, spec *v1alpha1.ExperimentSpec, s *v1alpha1.Suggestion, tl tally, raise bool) error {
	want := s.Spec.Requests
	if raise && !s.Status.SearchSpaceExhausted {
		// In flight: asked for and not yet handed out, or handed out
		// and not yet ended.
		outstanding := max(s.Spec.Requests, s.Status.SuggestionCount)
		open := *spec.ParallelTrialCount - (outstanding - s.Status.SuggestionCount + tl.open)
		if add := min(open, *spec.MaxTrialCount-outstanding); add > 0 {
			want = outstanding + add
		}
	}
	if want == s.Spec.Requests && equality.Semantic.DeepEqual(s.Spec.Algorithm, e.Spec.Algorithm) &&
		equality.Semantic.DeepEqual(s.Spec.EarlyStopping, e.Spec.EarlyStopping) {
		return nil
	}
	s = s.DeepCopy()
	s.Spec.Requests = want
	s.Spec.Algorithm = *e.Spec.Algorithm.DeepCopy()
	s.Spec.EarlyStopping = e.Spec.EarlyStopping.DeepCopy()
	// The lister's resource version makes a stale decision conflict.
	if _, err := r.client.TuningV1alpha1().Suggestions(e.Namespace).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("raising the requests of Suggestion %q to %d: %w", s.Name, want, err)
	}
	logging.FromContext(ctx).Infow("suggestions requested", "requests", want)
	return nil
}

// The Experiment is the controller of what it creates.
var _ kmeta.OwnerRefable = (*v1alpha1.Experiment)(nil)
