// Package experiment reconciles Experiments: it owns the Experiment's
// Suggestion and raises its requests as trial slots open, creates a Trial for
// every assignment handed out, and keeps the counts, the best trial and the
// Succeeded condition in the Experiment's status.
package experiment

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"knative.dev/pkg/kmeta"
	"knative.dev/pkg/logging"
	pkgreconciler "knative.dev/pkg/reconciler"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/client/clientset/versioned"
	experimentreconciler "knobs.dev/knobs/pkg/client/injection/reconciler/tuning/v1alpha1/experiment"
	listers "knobs.dev/knobs/pkg/client/listers/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/reconciler/experiment/resources"
	"knobs.dev/knobs/pkg/trialtemplate"
)

// Event reasons.
const (
	reasonTrialCreated      = "TrialCreated"
	reasonSuggestionCreated = "SuggestionCreated"
	reasonRequested         = "SuggestionsRequested"
	reasonSucceeded         = "ExperimentSucceeded"
	reasonFailed            = "ExperimentFailed"
)

// Reconciler implements experimentreconciler.Interface.
type Reconciler struct {
	client           versioned.Interface
	suggestionLister listers.SuggestionLister
	trialLister      listers.TrialLister
}

var _ experimentreconciler.Interface = (*Reconciler)(nil)

// ReconcileKind implements experimentreconciler.Interface.
//
// As for Suggestions, the reconciler writes the status itself, with the
// resource version it read: a status computed from a stale copy (a trial not
// yet seen to finish) must not overwrite a newer one, which the generated
// reconciler does when an update conflicts. A conflict only requeues.
func (r *Reconciler) ReconcileKind(ctx context.Context, e *v1alpha1.Experiment) pkgreconciler.Event {
	before := e.Status.DeepCopy()
	event := r.reconcile(ctx, e)
	e.Status.ObservedGeneration = e.Generation
	if equality.Semantic.DeepEqual(before, &e.Status) {
		return event
	}
	if _, err := r.client.TuningV1alpha1().Experiments(e.Namespace).UpdateStatus(ctx, e, metav1.UpdateOptions{}); err != nil {
		return err
	}
	return event
}

func (r *Reconciler) reconcile(ctx context.Context, e *v1alpha1.Experiment) pkgreconciler.Event {
	logger := logging.FromContext(ctx)
	// The counts the user left out, without changing the object written back.
	spec := e.Spec.DeepCopy()
	spec.SetDefaults(ctx)
	e.Status.InitializeConditions()
	done := e.Status.IsDone()

	trials, err := r.trialLister.Trials(e.Namespace).List(labels.SelectorFromSet(labels.Set{tuning.ExperimentLabelKey: e.Name}))
	if err != nil {
		return err
	}
	owned := trials[:0:0]
	for _, t := range trials {
		if metav1.IsControlledBy(t, e) {
			owned = append(owned, t)
		}
	}

	s, err := r.suggestionLister.Suggestions(e.Namespace).Get(e.Name)
	if apierrs.IsNotFound(err) {
		if done {
			tallyTrials(e, nil, owned)
			return nil
		}
		s = resources.MakeSuggestion(e, min(*spec.ParallelTrialCount, *spec.MaxTrialCount))
		if s, err = r.client.TuningV1alpha1().Suggestions(e.Namespace).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating Suggestion %q: %w", e.Name, err)
		}
		logger.Infow("suggestion created", "requests", s.Spec.Requests)
		e.Status.MarkRunning(v1alpha1.ExperimentReasonRunning, "asked the %s function for %d assignments", e.Spec.Algorithm.AlgorithmName, s.Spec.Requests)
		tallyTrials(e, s, owned)
		return pkgreconciler.NewEvent(corev1.EventTypeNormal, reasonSuggestionCreated, "created Suggestion %q asking for %d assignments", s.Name, s.Spec.Requests)
	} else if err != nil {
		return err
	}
	if !metav1.IsControlledBy(s, e) {
		e.Status.MarkRunning(v1alpha1.ExperimentReasonSuggestionNotOwned,
			"Suggestion %q exists and is not controlled by this Experiment; delete it so that the Experiment can create its own", s.Name)
		tallyTrials(e, nil, owned)
		return nil
	}

	if done {
		tallyTrials(e, s, owned)
		return nil
	}

	// A broken template is reported before any trial is created from it.
	if tt := e.Spec.TrialTemplate; tt != nil {
		if err := trialtemplate.Check(tt, e.Spec.Parameters); err != nil {
			e.Status.MarkFailed(v1alpha1.ExperimentReasonInvalidTrialTemplate, "%v", err)
			tallyTrials(e, s, owned)
			if err := r.request(ctx, e, spec, s, tally{}, false); err != nil {
				return err
			}
			return pkgreconciler.NewEvent(corev1.EventTypeWarning, v1alpha1.ExperimentReasonInvalidTrialTemplate, "%v", err)
		}
	}

	// Decide on the trials as they are before creating any: an experiment
	// that ends now creates nothing more.
	tl := tallyTrials(e, s, owned)
	event, hold := r.decide(e, spec, s, tl)
	raise := !hold && !e.Status.IsDone() && !isStuck(e)
	created := 0
	if raise {
		// A Trial for every assignment handed out. Creating one that exists
		// (a cache that lags) is harmless: the name is the assignment's.
		have := make(map[string]bool, len(trials))
		for _, t := range owned {
			have[t.Name] = true
		}
		others := map[string]bool{}
		for _, t := range trials {
			if !have[t.Name] {
				others[t.Name] = true
			}
		}
		var clashes []string
		for _, a := range s.Status.Suggestions {
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
				return pkgreconciler.NewEvent(corev1.EventTypeWarning, v1alpha1.ExperimentReasonInvalidTrialTemplate, "trial %s: %v", a.Name, err)
			}
			t, err = r.client.TuningV1alpha1().Trials(e.Namespace).Create(ctx, t, metav1.CreateOptions{})
			switch {
			case apierrs.IsAlreadyExists(err):
				continue
			case err != nil:
				return fmt.Errorf("creating Trial %q: %w", a.Name, err)
			}
			owned = append(owned, t)
			created++
		}
		if created > 0 {
			// The new trials are pending: the counts change, the verdict not.
			tl = tallyTrials(e, s, owned)
			event, _ = r.decide(e, spec, s, tl)
		}
		if len(clashes) > 0 {
			e.Status.MarkRunning(v1alpha1.ExperimentReasonTrialNotOwned,
				"Trial %s exists and is not controlled by this Experiment: delete it so that the Experiment can run its assignment", strings.Join(clashes, ", "))
		}
	}
	// The Suggestion follows the Experiment's algorithm even while stuck, so
	// that a fix reaches the function.
	if err := r.request(ctx, e, spec, s, tl, raise); err != nil {
		return err
	}
	if event == nil && created > 0 {
		event = pkgreconciler.NewEvent(corev1.EventTypeNormal, reasonTrialCreated, "created %d trials; %d in all", created, e.Status.Trials)
	}
	return event
}

// tally counts an Experiment's trials by phase.
type tally struct {
	// finished counts the trials of handed-out assignments that have ended.
	finished int32
	// lastFailure is the message of the latest failed trial.
	lastFailure string
}

// tallyTrials writes the counts and the best trial into the status and
// returns what deciding needs besides.
func tallyTrials(e *v1alpha1.Experiment, s *v1alpha1.Suggestion, trials []*v1alpha1.Trial) tally {
	order := map[string]int{}
	if s != nil {
		for i, a := range s.Status.Suggestions {
			order[a.Name] = i
		}
	}
	sort.SliceStable(trials, func(i, j int) bool {
		oi, iok := order[trials[i].Name]
		oj, jok := order[trials[j].Name]
		switch {
		case iok && jok:
			return oi < oj
		case iok != jok:
			return iok
		}
		return trials[i].Name < trials[j].Name
	})

	st := &e.Status
	st.Trials, st.TrialsPending, st.TrialsRunning, st.TrialsSucceeded = int32(len(trials)), 0, 0, 0
	st.TrialsFailed, st.TrialsMetricsUnavailable, st.TrialsEarlyStopped = 0, 0, 0
	var tl tally
	var best *v1alpha1.Trial
	var bestValue float64
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
		}
		if _, handed := order[t.Name]; handed && t.Status.IsDone() {
			tl.finished++
		}
		if phase == v1alpha1.TrialReasonFailed || phase == v1alpha1.TrialReasonMetricsUnavailable {
			if c := t.Status.GetCondition(v1alpha1.TrialConditionSucceeded); c != nil {
				tl.lastFailure = fmt.Sprintf("trial %s: %s", t.Name, c.Message)
			}
		}
		if phase != v1alpha1.TrialReasonSucceeded && phase != v1alpha1.TrialReasonEarlyStopped {
			continue
		}
		m := t.Status.Observation.Metric(e.Spec.Objective.ObjectiveMetricName)
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m.Value, 64)
		if err != nil {
			continue
		}
		if best == nil || e.Spec.Objective.Better(v, bestValue) {
			best, bestValue = t, v
		}
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

// isStuck reports whether the experiment waits for a fix of its spec.
func isStuck(e *v1alpha1.Experiment) bool {
	c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded)
	return c != nil && c.IsFalse()
}

// decide sets the Succeeded condition from the counts, the best trial and
// the Suggestion. It reports whether to hold: start nothing more, the goal
// being reached.
func (r *Reconciler) decide(e *v1alpha1.Experiment, spec *v1alpha1.ExperimentSpec, s *v1alpha1.Suggestion, tl tally) (pkgreconciler.Event, bool) {
	st := &e.Status
	// The goal reached, nothing more is started; the experiment ends when
	// the trials under way have, so that its counts are final.
	if b := st.CurrentOptimalTrial; b != nil && spec.Objective.Goal != nil {
		m := b.Observation.Metric(spec.Objective.ObjectiveMetricName)
		if v, err := strconv.ParseFloat(m.Value, 64); err == nil && spec.Objective.Reached(v) {
			goal := fmt.Sprintf("trial %s reached %s=%s, the goal being %s %v", b.BestTrialName, m.Name, m.Value, goalWord(spec.Objective.Type), *spec.Objective.Goal)
			if active := st.TrialsPending + st.TrialsRunning; active > 0 {
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
		(c.Reason == v1alpha1.ReasonFunctionRejected || c.Reason == reasonInvalidExperiment) {
		st.MarkFailed(v1alpha1.ExperimentReasonSuggestionFailed, "%s: %s", c.Reason, c.Message)
		return pkgreconciler.NewEvent(corev1.EventTypeWarning, reasonFailed, "%s", st.GetCondition(v1alpha1.ExperimentConditionSucceeded).Message), false
	}

	handed := s.Status.SuggestionCount
	active := st.TrialsPending + st.TrialsRunning
	allRun := tl.finished == handed && int32(len(s.Status.Suggestions)) == handed
	switch {
	case s.Status.SearchSpaceExhausted && allRun:
		st.MarkSucceeded(v1alpha1.ExperimentReasonSearchSpaceExhausted, "the search space has no unseen point left; %d trials ran", handed)
		return pkgreconciler.NewEvent(corev1.EventTypeNormal, reasonSucceeded, "%s", st.GetCondition(v1alpha1.ExperimentConditionSucceeded).Message), false
	case s.Status.SearchSpaceExhausted:
		st.MarkRunning(v1alpha1.ExperimentReasonFinishing, "the search space has no unseen point left; waiting for %d trials to finish", handed-tl.finished)
	case handed >= *spec.MaxTrialCount && allRun:
		st.MarkSucceeded(v1alpha1.ExperimentReasonMaxTrialsReached, "%d trials ran, maxTrialCount being %d", handed, *spec.MaxTrialCount)
		return pkgreconciler.NewEvent(corev1.EventTypeNormal, reasonSucceeded, "%s", st.GetCondition(v1alpha1.ExperimentConditionSucceeded).Message), false
	case handed >= *spec.MaxTrialCount:
		st.MarkRunning(v1alpha1.ExperimentReasonFinishing, "all %d trials created; waiting for %d to finish", handed, handed-tl.finished)
	default:
		if c := s.Status.GetCondition(v1alpha1.SuggestionConditionFunctionReady); c != nil && c.IsFalse() {
			st.MarkRunning(v1alpha1.ExperimentReasonWaitingForFunction, "%s", c.Message)
			return nil, false
		}
		msg := fmt.Sprintf("%d of at most %d trials done, %d active", tl.finished, *spec.MaxTrialCount, active)
		if c := s.Status.GetCondition(v1alpha1.SuggestionConditionFulfilled); c != nil && c.IsUnknown() && c.Reason != "" && c.Reason != v1alpha1.ReasonSuggestionsHandedOut {
			msg += "; suggestions: " + c.Message
		}
		st.MarkRunning(v1alpha1.ExperimentReasonRunning, "%s", msg)
	}
	return nil, false
}

// reasonInvalidExperiment is the Suggestion's reason for a search space its
// function cannot parse.
const reasonInvalidExperiment = "InvalidExperiment"

func goalWord(t v1alpha1.ObjectiveType) string {
	if t == v1alpha1.ObjectiveTypeMaximize {
		return ">="
	}
	return "<="
}

// request raises the Suggestion's requests as trial slots open, when raise
// is true: never more assignments in flight (asked for or handed out, and not
// yet finished) than parallelTrialCount, never more in all than
// maxTrialCount. It also keeps the Suggestion's algorithm that of the
// Experiment.
func (r *Reconciler) request(ctx context.Context, e *v1alpha1.Experiment, spec *v1alpha1.ExperimentSpec, s *v1alpha1.Suggestion, tl tally, raise bool) error {
	want := s.Spec.Requests
	if raise && !s.Status.SearchSpaceExhausted {
		outstanding := max(s.Spec.Requests, s.Status.SuggestionCount)
		open := *spec.ParallelTrialCount - (outstanding - tl.finished)
		if add := min(open, *spec.MaxTrialCount-outstanding); add > 0 {
			want = outstanding + add
		}
	}
	if want == s.Spec.Requests && equality.Semantic.DeepEqual(s.Spec.Algorithm, e.Spec.Algorithm) {
		return nil
	}
	s = s.DeepCopy()
	s.Spec.Requests = want
	s.Spec.Algorithm = *e.Spec.Algorithm.DeepCopy()
	// The lister's resource version makes a stale decision conflict.
	if _, err := r.client.TuningV1alpha1().Suggestions(e.Namespace).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("raising the requests of Suggestion %q to %d: %w", s.Name, want, err)
	}
	logging.FromContext(ctx).Infow("suggestions requested", "requests", want)
	return nil
}

// The Experiment is the controller of what it creates.
var _ kmeta.OwnerRefable = (*v1alpha1.Experiment)(nil)
