// Package trial reconciles Trials: it creates the trial's workload from its
// runSpec, with K_SINK and the trial's token in the environment, and reads
// the workload's success and failure conditions into the Trial's Succeeded
// condition. The observation itself arrives through the receiver in
// pkg/observation.
package trial

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/utils/ptr"
	"knative.dev/pkg/logging"
	pkgreconciler "knative.dev/pkg/reconciler"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/client/clientset/versioned"
	trialreconciler "knobs.dev/knobs/pkg/client/injection/reconciler/tuning/v1alpha1/trial"
	"knobs.dev/knobs/pkg/observation"
	"knobs.dev/knobs/pkg/reconciler"
	"knobs.dev/knobs/pkg/reconciler/trial/resources"
)

// Event reasons.
const (
	reasonWorkloadCreated  = "WorkloadCreated"
	reasonInvalidWorkload  = "InvalidWorkload"
	reasonUnknownKind      = "UnknownWorkloadKind"
	reasonInvalidCollector = "InvalidMetricsCollector"
	reasonWorkloadStopped  = "WorkloadStopped"
	// reasonWorkloadForbidden: the controller may not handle the workload's kind.
	reasonWorkloadForbidden = "WorkloadForbidden"
	reasonWorkloadDeleted   = "WorkloadDeleted"
)

// Reconciler implements trialreconciler.Interface.
type Reconciler struct {
	client  versioned.Interface
	dynamic dynamic.Interface
	// access tells whether the controller may handle a workload kind.
	access accessChecker
	// mapper finds the resource of a workload's kind.
	mapper meta.RESTMapper
	// watch makes sure changes to workloads of a resource requeue their
	// Trials; nil when nothing needs to watch (tests).
	watch func(schema.GroupVersionResource)
	// tokens sign each trial's token.
	tokens *observation.Tokens
	// sink is the base URL of the observation receiver.
	sink string
	// collectorImage is the image of cmd/knobs-collector, which StdOut,
	// File and TensorFlowEvent metrics collectors run.
	collectorImage string
	// now is the clock.
	now func() time.Time
}

var _ trialreconciler.Interface = (*Reconciler)(nil)

// ReconcileKind implements trialreconciler.Interface.
//
// The status is written by reconciler.ReconcileStatus, with the resource
// version read: the observation is written by the receiver between two
// reconciles, and a status computed from a copy that predates it (a workload
// seen to succeed, its report not yet seen) must conflict rather than
// overwrite it.
func (r *Reconciler) ReconcileKind(ctx context.Context, t *v1alpha1.Trial) pkgreconciler.Event {
	return reconciler.ReconcileStatus(ctx, t, &t.Status, r.reconcile, r.client.TuningV1alpha1().Trials(t.Namespace).UpdateStatus)
}

// pass is what one reconcile of a Trial has found so far, passed from step
// to step.
type pass struct {
	t *v1alpha1.Trial
	// gvk is the kind of the workload of spec.runSpec, and workloads the
	// client of its resource in the trial's namespace.
	gvk       schema.GroupVersionKind
	workloads dynamic.ResourceInterface
	// kindName names the workload in messages: "Job my-trial".
	kindName string
	// w is the workload as the API server has it.
	w *unstructured.Unstructured
	// done says the trial had ended when the reconcile began; only its
	// workload is deleted then, unless retained.
	done bool

	// event is what the reconcile returns.
	event pkgreconciler.Event
	// ended stops the steps after the current one.
	ended bool
}

// reconcile runs the steps of a reconcile in order, each on what those
// before it found, until one fails or ends the reconcile.
func (r *Reconciler) reconcile(ctx context.Context, t *v1alpha1.Trial) pkgreconciler.Event {
	t.Status.InitializeConditions()
	p := &pass{t: t}
	for _, step := range []func(context.Context, *pass) error{
		r.stopIfDone,
		r.awaitObservation,
		r.resolveWorkload,
		r.deleteIfDone,
		r.reconcileWorkload,
		r.readWorkload,
		r.stopWorkload,
	} {
		if err := step(ctx, p); err != nil {
			return err
		}
		if p.ended {
			break
		}
	}
	return p.event
}

// stopIfDone leaves a trial that has ended alone, but for deleting its
// workload (deleteIfDone) when it has one and does not retain it. The
// workload is deleted only once the trial's end is written and read back,
// so that a trial whose end was not written never finds its workload gone.
func (r *Reconciler) stopIfDone(_ context.Context, p *pass) error {
	t := p.t
	if !t.Status.IsDone() {
		return nil
	}
	p.done = true
	p.ended = t.Spec.RunSpec == nil || t.Spec.RetainRun
	return nil
}

// awaitObservation judges a trial without a workload (an Experiment without
// a trial template): its observation is written by hand, and it succeeds
// when it has the objective metric.
func (r *Reconciler) awaitObservation(_ context.Context, p *pass) error {
	t := p.t
	if t.Spec.RunSpec != nil {
		return nil
	}
	p.ended = true
	if m := r.objective(t); m != nil {
		r.complete(t)
		t.Status.MarkSucceeded("the observation has %s=%s", m.Name, m.Value)
		return nil
	}
	if t.Spec.Stop {
		r.complete(t)
		markStopped(t, "stopped before its observation was written")
		return nil
	}
	t.Status.MarkPending("no workload to run: write the observation with kubectl patch trial %s --subresource=status", t.Name)
	return nil
}

// resolveWorkload decodes spec.runSpec and finds the resource of its kind,
// which it watches from then on, once it knows the controller may.
func (r *Reconciler) resolveWorkload(ctx context.Context, p *pass) error {
	t := p.t
	spec := &unstructured.Unstructured{}
	if err := json.Unmarshal(t.Spec.RunSpec.Raw, &spec.Object); err != nil {
		if p.done {
			p.ended = true // it never had a workload
			return nil
		}
		r.complete(t)
		t.Status.MarkFailed("spec.runSpec is not a JSON object: %v", err)
		return pkgreconciler.NewEvent(corev1.EventTypeWarning, reasonInvalidWorkload, "spec.runSpec: %v", err)
	}
	gvk := spec.GroupVersionKind()
	mapping, err := r.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		if meta.IsNoMatchError(err) && p.done {
			p.ended = true // the kind is gone, and its workloads with it
			return nil
		}
		if meta.IsNoMatchError(err) {
			if rm, ok := r.mapper.(meta.ResettableRESTMapper); ok {
				rm.Reset() // perhaps the kind's CRD is new
			}
			t.Status.MarkPending("the API server does not serve %s %s: install it, or change the Experiment's trialTemplate", gvk.Kind, gvk.GroupVersion())
			return fmt.Errorf("%w", pkgreconciler.NewEvent(corev1.EventTypeWarning, reasonUnknownKind, "the API server does not serve %s", gvk))
		}
		return err
	}
	// An informer on a kind the controller may not list would retry
	// forever; a workload it may not create would fail at once.
	lacks, err := r.access.missing(ctx, mapping.Resource)
	if err != nil {
		return err
	}
	if len(lacks) > 0 {
		if p.done {
			p.ended = true // nothing to delete that it could see
			return nil
		}
		t.Status.MarkPending("%s", lacking(mapping.Resource, lacks))
		return fmt.Errorf("%w", pkgreconciler.NewEvent(corev1.EventTypeWarning, reasonWorkloadForbidden, "%s", lacking(mapping.Resource, lacks)))
	}
	if r.watch != nil {
		r.watch(mapping.Resource)
	}
	p.gvk = gvk
	p.workloads = r.dynamic.Resource(mapping.Resource).Namespace(t.Namespace)
	p.kindName = fmt.Sprintf("%s %s", gvk.Kind, t.Name)
	return nil
}

// deleteIfDone deletes the workload of a trial that has ended, unless it
// retains it (spec.retainRun), and ends the reconcile: the Trial keeps its
// observation and condition, and a workload gone is never created again.
func (r *Reconciler) deleteIfDone(ctx context.Context, p *pass) error {
	if !p.done {
		return nil
	}
	p.ended = true
	w, err := p.workloads.Get(ctx, p.t.Name, metav1.GetOptions{})
	switch {
	case apierrs.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("reading %s: %w", p.kindName, err)
	case !metav1.IsControlledBy(w, p.t) || w.GetDeletionTimestamp() != nil:
		return nil
	}
	if err := r.deleteWorkload(ctx, p, w); err != nil {
		return err
	}
	p.event = pkgreconciler.NewEvent(corev1.EventTypeNormal, reasonWorkloadDeleted, "deleted %s: the trial has ended and does not retain it", p.kindName)
	return nil
}

// deleteWorkload deletes the workload w, and with it, in the background,
// what it owns (a Job's pods).
func (r *Reconciler) deleteWorkload(ctx context.Context, p *pass, w *unstructured.Unstructured) error {
	uid := w.GetUID()
	err := p.workloads.Delete(ctx, w.GetName(), metav1.DeleteOptions{
		PropagationPolicy: ptr.To(metav1.DeletePropagationBackground),
		Preconditions:     &metav1.Preconditions{UID: &uid},
	})
	if err != nil && !apierrs.IsNotFound(err) {
		return fmt.Errorf("deleting %s: %w", p.kindName, err)
	}
	logging.FromContext(ctx).Infow("workload deleted", "kind", p.gvk.Kind)
	return nil
}

// reconcileWorkload finds the trial's workload, or creates it with the
// observation's sink and the trial's token in its environment, and its
// primary container run by the metrics collector, if the trial has one. A workload of
// the trial's name that the trial does not control ends the reconcile, the
// condition saying so.
func (r *Reconciler) reconcileWorkload(ctx context.Context, p *pass) error {
	t, kindName := p.t, p.kindName
	w, err := p.workloads.Get(ctx, t.Name, metav1.GetOptions{})
	if apierrs.IsNotFound(err) && t.Spec.Stop {
		r.complete(t)
		markStopped(t, "stopped before %s was created", kindName)
		p.ended = true
		return nil
	}
	if apierrs.IsNotFound(err) {
		desired, err := resources.MakeWorkload(t, observation.SinkFor(r.sink, t.Namespace), r.tokens.For(t))
		if err != nil {
			r.complete(t)
			t.Status.MarkFailed("%v", err)
			return pkgreconciler.NewEvent(corev1.EventTypeWarning, reasonInvalidWorkload, "%v", err)
		}
		if err := resources.AddMetricsCollector(desired, t, r.collectorImage); err != nil {
			r.complete(t)
			t.Status.MarkFailed("%v", err)
			return pkgreconciler.NewEvent(corev1.EventTypeWarning, reasonInvalidCollector, "%v", err)
		}
		w, err = p.workloads.Create(ctx, desired, metav1.CreateOptions{})
		switch {
		case apierrs.IsAlreadyExists(err):
			if w, err = p.workloads.Get(ctx, t.Name, metav1.GetOptions{}); err != nil {
				return err
			}
		case apierrs.IsInvalid(err) || apierrs.IsBadRequest(err):
			// The rendered workload is the Experiment's to fix.
			r.complete(t)
			t.Status.MarkFailed("the API server refused %s: %v", kindName, err)
			return pkgreconciler.NewEvent(corev1.EventTypeWarning, reasonInvalidWorkload, "the API server refused %s: %v", kindName, err)
		case err != nil:
			// Retried with backoff; the condition says why the trial waits
			// (such as no permission to create the kind).
			t.Status.MarkPending("creating %s: %v", kindName, err)
			return fmt.Errorf("creating %s: %w", kindName, err)
		default:
			logging.FromContext(ctx).Infow("workload created", "kind", p.gvk.Kind)
			p.event = pkgreconciler.NewEvent(corev1.EventTypeNormal, reasonWorkloadCreated, "created %s", kindName)
		}
	} else if err != nil {
		if t.Status.StartTime == nil {
			t.Status.MarkPending("reading %s: %v", kindName, err)
		}
		return fmt.Errorf("reading %s: %w", kindName, err)
	}
	if !metav1.IsControlledBy(w, t) {
		t.Status.MarkPending("%s exists and is not controlled by this trial: delete it, and the trial creates its own", kindName)
		p.event, p.ended = nil, true
		return nil
	}
	p.w = w
	return nil
}

// readWorkload reads the workload's success and failure conditions into the
// trial's Succeeded condition.
func (r *Reconciler) readWorkload(_ context.Context, p *pass) error {
	t, kindName := p.t, p.kindName
	if t.Status.StartTime == nil {
		now := metav1.NewTime(r.now())
		t.Status.StartTime = &now
	}
	switch state, msg := resources.ReadState(p.w, t.Spec.SuccessCondition, t.Spec.FailureCondition); state {
	case resources.StateFailed:
		r.complete(t)
		if msg == "" {
			msg = "its failure condition holds"
		}
		t.Status.MarkFailed("%s failed: %s", kindName, msg)
	case resources.StateSucceeded:
		r.complete(t)
		switch m := r.objective(t); {
		case m != nil:
			t.Status.MarkSucceeded("%s succeeded; %s=%s", kindName, m.Name, m.Value)
		case t.Spec.Objective == nil:
			t.Status.MarkSucceeded("%s succeeded", kindName)
		case t.Spec.MetricsCollector.CollectorKind() == v1alpha1.NoneCollector:
			t.Status.MarkSucceeded("%s succeeded; its metrics collector is None, so no metric is awaited", kindName)
		default:
			t.Status.MarkMetricsUnavailable("%s succeeded without %s", kindName, unreported(t))
		}
	default:
		t.Status.MarkRunning("%s is running", kindName)
	}
	return nil
}

// stopWorkload stops the workload of a trial asked to stop (spec.stop)
// that has not ended, and ends the trial Killed. A Job the trial retains is
// suspended: it stays, with its conditions, and its pods are deleted. Any
// other workload is deleted, as there is no general way to stop it.
func (r *Reconciler) stopWorkload(ctx context.Context, p *pass) error {
	t := p.t
	if !t.Spec.Stop || t.Status.IsDone() {
		return nil
	}
	how := "deleted"
	if t.Spec.RetainRun && p.gvk.Group == batchv1.GroupName && p.gvk.Kind == "Job" {
		how = "suspended"
		if suspended, _, _ := unstructured.NestedBool(p.w.Object, "spec", "suspend"); !suspended {
			patch := []byte(`{"spec":{"suspend":true}}`)
			if _, err := p.workloads.Patch(ctx, t.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil && !apierrs.IsNotFound(err) {
				return fmt.Errorf("suspending %s: %w", p.kindName, err)
			}
		}
	} else if err := r.deleteWorkload(ctx, p, p.w); err != nil {
		return err
	}
	r.complete(t)
	markStopped(t, "%s was %s: the trial was stopped", p.kindName, how)
	p.event = pkgreconciler.NewEvent(corev1.EventTypeNormal, reasonWorkloadStopped, "%s %s: the trial was stopped", how, p.kindName)
	return nil
}

// markStopped ends a trial that spec.stop stopped, as spec.stopReason says:
// EarlyStopped (it succeeds with what it observed, the message first saying
// why) or Killed.
func markStopped(t *v1alpha1.Trial, format string, args ...any) {
	if t.Spec.StopReason != v1alpha1.TrialReasonEarlyStopped {
		t.Status.MarkKilled(format, args...)
		return
	}
	why := t.Spec.StopMessage
	if why == "" {
		why = "stopped early"
	}
	t.Status.MarkEarlyStopped("%s (%s)", why, fmt.Sprintf(format, args...))
}

// unreported says how the trial's objective metric failed to arrive.
func unreported(t *v1alpha1.Trial) string {
	name := t.Spec.Objective.ObjectiveMetricName
	mc := t.Spec.MetricsCollector
	switch kind := mc.CollectorKind(); kind {
	case v1alpha1.StdOutCollector:
		return fmt.Sprintf("printing the objective metric %q in a form the StdOut metrics collector reads (source.filter.metricsFormat)", name)
	case v1alpha1.FileCollector, v1alpha1.TfEventCollector:
		where := ""
		if fp := mc.FileSystemPath(); fp != nil {
			where = " " + fp.Path
		}
		return fmt.Sprintf("writing the objective metric %q to%s in a form the %s metrics collector reads", name, where, kind)
	}
	return fmt.Sprintf("reporting the objective metric %q to $%s", name, observation.EnvSink)
}

// objective returns the trial's observed objective metric, or nil.
func (r *Reconciler) objective(t *v1alpha1.Trial) *v1alpha1.Metric {
	if t.Spec.Objective == nil {
		return nil
	}
	return t.Status.Observation.Metric(t.Spec.Objective.ObjectiveMetricName)
}

// complete records when the trial ended.
func (r *Reconciler) complete(t *v1alpha1.Trial) {
	now := metav1.NewTime(r.now())
	t.Status.CompletionTime = &now
}
