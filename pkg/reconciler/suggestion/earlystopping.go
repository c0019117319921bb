package suggestion

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"knative.dev/pkg/controller"
	"knative.dev/pkg/logging"
	pkgreconciler "knative.dev/pkg/reconciler"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/function"
	"knobs.dev/knobs/pkg/reconciler/suggestion/resources"
)

// reasonTrialEarlyStopped is the reason of the event that reports a trial
// stopped early.
const reasonTrialEarlyStopped = "TrialEarlyStopped"

// earlyStop asks the Experiment's early-stopping function which running
// trials to stop, when there is one, the Experiment runs and one of its
// trials has reported the objective metric, and sets spec.stop, with
// stopReason EarlyStopped and the function's message, on the trials it
// names. The Trial reconciler stops their workloads.
//
// It decides from the Trials alone, as the API server holds them: after a
// restart the same Trials bring the same request and the same decisions. An
// unchanged request, answered or refused, is not sent again.
func (r *Reconciler) earlyStop(ctx context.Context, p *pass) error {
	s := p.s
	es := s.Spec.EarlyStopping
	if es == nil {
		s.Status.ClearEarlyStopping()
		return nil
	}
	exp, err := r.experimentLister.Experiments(s.Namespace).Get(s.Name)
	if apierrs.IsNotFound(err) {
		return nil // the Fulfilled condition says so
	}
	if err != nil {
		return err
	}
	if c := exp.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); c != nil && !c.IsUnknown() {
		return nil // ended: its running trials are stopped, or let finish, as trialsOnEnd says
	}
	all := p.trials // listed by prune
	// Only trials that have reported the objective metric tell anything,
	// and only running ones not yet stopped can be stopped.
	metric := exp.Spec.Objective.ObjectiveMetricName
	var judged []*v1alpha1.Trial
	running := map[string]*v1alpha1.Trial{}
	for _, t := range all {
		if t.Status.Observation.Metric(metric) == nil {
			continue
		}
		judged = append(judged, t)
		if t.Status.Phase() == v1alpha1.TrialReasonRunning && !t.Spec.Stop {
			running[t.Name] = t
		}
	}
	if len(running) == 0 {
		return nil
	}

	f, err := r.lookupFunction(s.Namespace, es.AlgorithmName, p.cfg.Algorithms)
	if err != nil {
		return err
	}
	if !f.ok {
		// A change to the function's Knative Service requeues.
		s.Status.MarkEarlyStoppingFailed(f.reason, "%s", f.message)
		return nil
	}
	req := resources.MakeEarlyStoppingRequest(s, exp, judged)
	d := digest(req, f.url, f.revision)
	if last, ok := r.judged.Get(p.key); ok && last == d {
		return nil
	}
	callCtx, cancel := context.WithTimeout(ctx, p.cfg.Algorithms.RequestTimeout)
	defer cancel()
	reply, err := r.functions.GetEarlyStoppingDecisions(callCtx, f.url, req)
	if err != nil {
		var ce *function.CallError
		if errors.As(err, &ce) && ce.Permanent() {
			r.judged.Set(p.key, d)
			s.Status.MarkEarlyStoppingFailed(v1alpha1.ReasonFunctionRejected, "the early-stopping function for %q refused the request: %s", es.AlgorithmName, ce.Message)
			controller.GetEventRecorder(ctx).Eventf(s, corev1.EventTypeWarning, v1alpha1.ReasonFunctionRejected,
				"the early-stopping function for %q refused the request: %s", es.AlgorithmName, ce.Message)
			return nil
		}
		s.Status.MarkEarlyStoppingRetrying(v1alpha1.ReasonFunctionUnavailable, "calling %s: %v", f.url, err)
		return fmt.Errorf("%w", pkgreconciler.NewEvent(corev1.EventTypeWarning, v1alpha1.ReasonFunctionUnavailable, "early stopping: calling %s: %v", f.url, err))
	}
	for _, dec := range reply.GetDecisions() {
		t, ok := running[dec.GetTrialName()]
		if !ok {
			continue // not one of the running trials sent, or named twice
		}
		delete(running, t.Name)
		t = t.DeepCopy()
		t.Spec.Stop = true
		t.Spec.StopReason = v1alpha1.TrialReasonEarlyStopped
		t.Spec.StopMessage = resources.StopMessage(es.AlgorithmName, dec.GetMessage())
		// The lister's resource version makes a stale decision conflict;
		// the request is then not remembered, and asked again.
		if _, err := r.client.TuningV1alpha1().Trials(t.Namespace).Update(ctx, t, metav1.UpdateOptions{}); err != nil {
			if apierrs.IsNotFound(err) {
				continue
			}
			return fmt.Errorf("stopping Trial %q early: %w", t.Name, err)
		}
		logging.FromContext(ctx).Infow("trial stopped early", "trial", t.Name, "algorithm", es.AlgorithmName, "why", dec.GetMessage())
		controller.GetEventRecorder(ctx).Eventf(s, corev1.EventTypeNormal, reasonTrialEarlyStopped, "trial %s: %s", t.Name, t.Spec.StopMessage)
	}
	r.judged.Set(p.key, d)
	s.Status.MarkEarlyStoppingJudged("the running trials are judged by %s at %s", es.AlgorithmName, f.url)
	return nil
}
