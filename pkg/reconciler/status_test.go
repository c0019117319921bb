package reconciler_test

import (
	"context"
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	pkgreconciler "knative.dev/pkg/reconciler"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/reconciler"
)

func TestReconcileStatus(t *testing.T) {
	event := pkgreconciler.NewEvent("Normal", "Reason", "message")
	conflict := errors.New("conflict")
	tests := []struct {
		name       string
		reconcile  func(context.Context, *v1alpha1.Trial) pkgreconciler.Event
		updateErr  error
		wantWrites int
		wantErr    error
	}{{
		name:      "unchanged: nothing written",
		reconcile: func(context.Context, *v1alpha1.Trial) pkgreconciler.Event { return event },
		wantErr:   event,
	}, {
		name: "changed: written, with the event",
		reconcile: func(_ context.Context, tr *v1alpha1.Trial) pkgreconciler.Event {
			tr.Status.MarkRunning("running")
			return event
		},
		wantWrites: 1,
		wantErr:    event,
	}, {
		name: "the write fails: its error, not the event",
		reconcile: func(_ context.Context, tr *v1alpha1.Trial) pkgreconciler.Event {
			tr.Status.MarkRunning("running")
			return event
		},
		updateErr:  conflict,
		wantWrites: 1,
		wantErr:    conflict,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := &v1alpha1.Trial{ObjectMeta: metav1.ObjectMeta{Name: "t", Generation: 3}}
			tr.Status.ObservedGeneration = 3
			writes := 0
			update := func(_ context.Context, got *v1alpha1.Trial, _ metav1.UpdateOptions) (*v1alpha1.Trial, error) {
				writes++
				if got.Status.ObservedGeneration != 3 {
					t.Errorf("written with observedGeneration %d, want 3", got.Status.ObservedGeneration)
				}
				return got, tc.updateErr
			}
			err := reconciler.ReconcileStatus(context.Background(), tr, &tr.Status, tc.reconcile, update)
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("ReconcileStatus() = %v, want %v", err, tc.wantErr)
			}
			if writes != tc.wantWrites {
				t.Errorf("%d status writes, want %d", writes, tc.wantWrites)
			}
		})
	}
}

func TestReconcileStatusRecordsTheGeneration(t *testing.T) {
	tr := &v1alpha1.Trial{ObjectMeta: metav1.ObjectMeta{Name: "t", Generation: 4}}
	tr.Status.ObservedGeneration = 3
	writes := 0
	update := func(_ context.Context, got *v1alpha1.Trial, _ metav1.UpdateOptions) (*v1alpha1.Trial, error) {
		writes++
		return got, nil
	}
	noop := func(context.Context, *v1alpha1.Trial) pkgreconciler.Event { return nil }
	if err := reconciler.ReconcileStatus(context.Background(), tr, &tr.Status, noop, update); err != nil {
		t.Fatalf("ReconcileStatus() = %v", err)
	}
	if writes != 1 || tr.Status.ObservedGeneration != 4 {
		t.Errorf("%d writes, observedGeneration %d; want 1 write of generation 4", writes, tr.Status.ObservedGeneration)
	}
}
