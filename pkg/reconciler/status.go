// Package reconciler holds what Knobs' reconcilers share.
package reconciler

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	duckv1 "knative.dev/pkg/apis/duck/v1"
	pkgreconciler "knative.dev/pkg/reconciler"
)

// Object is a resource whose reconciler writes its status itself.
type Object interface {
	metav1.Object
	GetStatus() *duckv1.Status
}

// Status is the status of an Object, with its generated deep copy.
type Status[S any] interface {
	*S
	DeepCopy() *S
}

// UpdateStatus writes an object's status, such as the UpdateStatus of the
// object's typed client in its namespace.
type UpdateStatus[T Object] func(context.Context, T, metav1.UpdateOptions) (T, error)

// ReconcileStatus runs reconcile on obj, whose status is status, and then
// writes the status with update when the reconcile changed it, recording the
// generation it saw.
//
// The reconcilers run with SkipStatusUpdates and write the status here, with
// the resource version they read, because the generated reconciler, when an
// update conflicts, reads the latest copy and writes over it the status
// computed from the stale one. That would lose what was written between the
// two: a Suggestion's record of what it handed out, a Trial's observation
// written by the receiver, an Experiment's counts of trials not yet seen to
// end. Here a conflict is returned, which requeues: the next reconcile reads
// the latest copy and decides again.
func ReconcileStatus[T Object, S any, PS Status[S]](ctx context.Context, obj T, status PS, reconcile func(context.Context, T) pkgreconciler.Event, update UpdateStatus[T]) pkgreconciler.Event {
	before := status.DeepCopy()
	event := reconcile(ctx, obj)
	obj.GetStatus().ObservedGeneration = obj.GetGeneration()
	if equality.Semantic.DeepEqual(before, (*S)(status)) {
		return event
	}
	if _, err := update(ctx, obj, metav1.UpdateOptions{}); err != nil {
		return err
	}
	return event
}
