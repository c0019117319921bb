package suggestion

import (
	"context"
	"fmt"
	goruntime "runtime"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"knative.dev/pkg/logging"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	fakeknobsclientset "knobs.dev/knobs/pkg/client/clientset/versioned/fake"
	. "knobs.dev/knobs/pkg/reconciler/testing"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// BenchmarkSuggestionPass runs the steps of a Suggestion's reconcile that
// grow with its Experiment's trials, through the listers: drop what the
// Trials hold, build the request of the whole history, and check and record
// a reply of 10 assignments, the function's call left out, after a first
// pass that builds the history the reconciler keeps. The Experiment
// has 1,000, 10,000 or 100,000 Trials, all ended, and 10 assignments wait
// for their Trials.
func BenchmarkSuggestionPass(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("trials=%d", n), func(b *testing.B) {
			r, s := passFixture(b, n)
			reply := &pb.GetSuggestionsReply{}
			for i := range 10 {
				reply.ParameterAssignments = append(reply.ParameterAssignments, &pb.GetSuggestionsReply_ParameterAssignments{Assignments: []*pb.ParameterAssignment{
					{Name: "x", Value: strconv.FormatFloat(0.5+float64(i)*1e-3, 'g', -1, 64)}, {Name: "y", Value: "0.25"}}})
			}
			ctx := logging.WithLogger(context.Background(), zap.NewNop().Sugar())
			onePass := func() {
				p := &pass{s: s.DeepCopy(), key: types.NamespacedName{Namespace: s.Namespace, Name: s.Name}, url: "http://random"}
				for _, step := range []func(context.Context, *pass) error{r.prune, r.findExperiment, r.stopIfFulfilled, r.makeRequest} {
					if err := step(ctx, p); err != nil || p.ended {
						b.Fatalf("step: %v, ended %v", err, p.ended)
					}
				}
				p.reply = reply
				if err := r.record(ctx, p); p.s.Status.SuggestionCount != s.Status.SuggestionCount+10 {
					b.Fatalf("record() = %v, %d handed out", err, p.s.Status.SuggestionCount)
				}
			}
			// The first pass builds the history the others keep.
			onePass()
			b.ReportAllocs()
			for b.Loop() {
				onePass()
			}
			// What the reconciler keeps between passes, a Trial.
			h, _ := r.histories.Get(types.NamespacedName{Namespace: s.Namespace, Name: s.Name})
			kept := heapAlloc()
			*h = history{}
			b.ReportMetric(float64(int64(kept)-int64(heapAlloc()))/float64(n), "kept-B/trial")
		})
	}
}

func heapAlloc() uint64 {
	goruntime.GC()
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// passFixture returns a reconciler over an Experiment of random search on
// two doubles with n Trials ended, and its Suggestion: n+10 assignments
// handed out, 10 of them waiting, 10 more wanted.
func passFixture(b *testing.B, n int) (*Reconciler, *v1alpha1.Suggestion) {
	b.Helper()
	exp := NewExperiment(name, ns, WithParameters(
		v1alpha1.ParameterSpec{Name: "x", ParameterType: v1alpha1.ParameterTypeDouble, FeasibleSpace: v1alpha1.FeasibleSpace{Min: "0", Max: "1"}},
		v1alpha1.ParameterSpec{Name: "y", ParameterType: v1alpha1.ParameterTypeDouble, FeasibleSpace: v1alpha1.FeasibleSpace{Min: "0", Max: "1"}}))
	exp.UID = "exp-uid"
	value := func(i int) string { return strconv.FormatFloat(float64(i)/float64(4*n), 'g', -1, 64) }
	var waiting [][]string
	for i := n; i < n+10; i++ {
		waiting = append(waiting, []string{"x", value(i), "y", "0.5"})
	}
	s := NewSuggestion(name, ns, WithOwner(exp), WithRequests(int32(n+20)), WithTrialsCreated(0))
	s.Status.SuggestionCount = int32(n)
	WithAssignments(waiting...)(s)
	s.ResourceVersion = "1"
	objs := []runtime.Object{exp, s}
	start := time.Unix(1_700_000_000, 0)
	for i := range n {
		t := NewTrial(name+"-"+strconv.Itoa(i+1), ns, name, []string{"x", value(i), "y", "0.5"},
			WithTrialOwner(exp), WithTrialSucceeded("Validation-accuracy", value(i)))
		t.UID = types.UID("trial-" + strconv.Itoa(i+1))
		t.ResourceVersion = strconv.Itoa(i + 2)
		t.CreationTimestamp = metav1.NewTime(start.Add(time.Duration(i/50) * time.Second))
		objs = append(objs, t)
	}
	ls := NewListers(objs)
	return &Reconciler{
		client:           fakeknobsclientset.NewSimpleClientset(s),
		experimentLister: ls.GetExperimentLister(),
		trialIndexer:     ls.IndexerFor(&v1alpha1.Trial{}),
	}, s
}
