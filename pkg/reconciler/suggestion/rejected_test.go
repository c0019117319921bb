package suggestion

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"

	"knobs.dev/knobs/pkg/algorithm/grid"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	fakeknobsclientset "knobs.dev/knobs/pkg/client/clientset/versioned/fake"
	"knobs.dev/knobs/pkg/function"
	"knobs.dev/knobs/pkg/reconciler/suggestion/config"
	. "knobs.dev/knobs/pkg/reconciler/testing"
)

// A request the function refused is not sent again until it changes, so a
// bad Experiment costs one call, not one per resync or Trial update.
func TestRefusedRequestIsNotResent(t *testing.T) {
	var calls atomic.Int32
	h := function.NewHandler(&function.Service{Name: "grid", Algorithm: grid.Grid{}},
		function.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()

	bad := NewExperiment(name, ns, WithExperimentAlgorithm("grid", "random_state", "1"))
	good := NewExperiment(name, ns, WithExperimentAlgorithm("grid"))
	reconcile := func(exp *v1alpha1.Experiment, s *v1alpha1.Suggestion, r *Reconciler) error {
		ls := NewListers([]runtime.Object{exp, s})
		r.client = fakeknobsclientset.NewSimpleClientset(s)
		r.experimentLister, r.trialIndexer, r.serviceLister = ls.GetExperimentLister(), ls.IndexerFor(&v1alpha1.Trial{}), ls.GetServiceLister()
		ctx := config.ToContext(context.Background(), &config.Config{Algorithms: &config.Algorithms{
			URLs: map[string]string{"grid": srv.URL}, RequestTimeout: 5 * time.Second}})
		return r.ReconcileKind(ctx, s)
	}

	r := &Reconciler{functions: &function.Client{}}
	s := NewSuggestion(name, ns, WithAlgorithm("grid"), WithRequests(2))
	_ = reconcile(bad, s, r)
	_ = reconcile(bad, s, r)
	if got := calls.Load(); got != 1 {
		t.Fatalf("the refused request was sent %d times, want once", got)
	}
	if c := s.Status.GetCondition(v1alpha1.SuggestionConditionFulfilled); c == nil || c.Reason != v1alpha1.ReasonFunctionRejected {
		t.Fatalf("Fulfilled = %+v, want the refusal kept", c)
	}

	// A fixed Experiment changes the request: it is sent, and answered.
	// (A Normal event comes back as the reconcile's result.)
	if err := reconcile(good, s, r); err != nil && !strings.Contains(err.Error(), "2 new assignments") {
		t.Fatalf("after the fix: %v", err)
	}
	if got := calls.Load(); got != 2 {
		t.Fatalf("%d calls after the fix, want 2", got)
	}
	if s.Status.SuggestionCount != 2 || !s.Status.IsReady() {
		t.Fatalf("after the fix: %d suggestions, ready %v; want 2 and ready", s.Status.SuggestionCount, s.Status.IsReady())
	}
}

// A deleted Suggestion's refusal is forgotten: one created again under its
// name is asked anew.
func TestDeletionForgetsTheRefusal(t *testing.T) {
	r := &Reconciler{}
	key := types.NamespacedName{Namespace: ns, Name: name}
	d := [32]byte{1}
	r.rejected.Set(key, d)
	if got, ok := r.rejected.Get(key); !ok || got != d {
		t.Fatal("the refusal was not remembered")
	}
	if err := r.ObserveDeletion(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.rejected.Get(key); ok {
		t.Error("the refusal outlived the Suggestion")
	}
}

// A function fixed and redeployed behind the same URL (a new revision of its
// Knative Service) is asked again.
func TestNewRevisionIsAskedAgain(t *testing.T) {
	var calls atomic.Int32
	h := function.NewHandler(&function.Service{Name: "grid", Algorithm: grid.Grid{}},
		function.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()

	bad := NewExperiment(name, ns, WithExperimentAlgorithm("grid", "random_state", "1"))
	reconcile := func(revision string, s *v1alpha1.Suggestion, r *Reconciler) {
		svc := NewService("grid", ns, "grid", WithServiceReady(srv.URL), func(svc *servingv1.Service) {
			svc.Status.LatestReadyRevisionName = revision
		})
		ls := NewListers([]runtime.Object{bad, s, svc})
		r.client = fakeknobsclientset.NewSimpleClientset(s)
		r.experimentLister, r.trialIndexer, r.serviceLister = ls.GetExperimentLister(), ls.IndexerFor(&v1alpha1.Trial{}), ls.GetServiceLister()
		ctx := config.ToContext(context.Background(), &config.Config{Algorithms: &config.Algorithms{RequestTimeout: 5 * time.Second}})
		_ = r.ReconcileKind(ctx, s)
	}

	r := &Reconciler{functions: &function.Client{}}
	s := NewSuggestion(name, ns, WithAlgorithm("grid"), WithRequests(2))
	reconcile("grid-00001", s, r)
	reconcile("grid-00001", s, r)
	if got := calls.Load(); got != 1 {
		t.Fatalf("the refused request was sent %d times to one revision, want once", got)
	}
	reconcile("grid-00002", s, r)
	if got := calls.Load(); got != 2 {
		t.Fatalf("%d calls after a new revision, want 2", got)
	}
}
