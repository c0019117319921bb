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

	corev1 "k8s.io/api/core/v1"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
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
)

// Reconciler implements trialreconciler.Interface.
type Reconciler struct {
	client  versioned.Interface
	dynamic dynamic.Interface
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
		r.reconcileWorkload,
		r.readWorkload,
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

// stopIfDone leaves a trial that has ended alone.
func (r *Reconciler) stopIfDone(_ context.Context, p *pass) error {
	p.ended = p.t.Status.IsDone()
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
	t.Status.MarkPending("no workload to run: write the observation with kubectl patch trial %s --subresource=status", t.Name)
	return nil
}

// resolveWorkload decodes spec.runSpec and finds the resource of its kind,
// which it watches from then on.
func (r *Reconciler) resolveWorkload(_ context.Context, p *pass) error {
	t := p.t
	spec := &unstructured.Unstructured{}
	if err := json.Unmarshal(t.Spec.RunSpec.Raw, &spec.Object); err != nil {
		r.complete(t)
		t.Status.MarkFailed("spec.runSpec is not a JSON object: %v", err)
		return pkgreconciler.NewEvent(corev1.EventTypeWarning, reasonInvalidWorkload, "spec.runSpec: %v", err)
	}
	gvk := spec.GroupVersionKind()
	mapping, err := r.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		if meta.IsNoMatchError(err) {
			if rm, ok := r.mapper.(meta.ResettableRESTMapper); ok {
				rm.Reset() // perhaps the kind's CRD is new
			}
			t.Status.MarkPending("the API server does not serve %s %s: install it, or change the Experiment's trialTemplate", gvk.Kind, gvk.GroupVersion())
			return fmt.Errorf("%w", pkgreconciler.NewEvent(corev1.EventTypeWarning, reasonUnknownKind, "the API server does not serve %s", gvk))
		}
		return err
	}
	if r.watch != nil {
		r.watch(mapping.Resource)
	}
	p.gvk = gvk
	p.workloads = r.dynamic.Resource(mapping.Resource).Namespace(t.Namespace)
	p.kindName = fmt.Sprintf("%s %s", gvk.Kind, t.Name)
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
