package suggestion

import (
	"strconv"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/reconciler"
	"knobs.dev/knobs/pkg/reconciler/suggestion/resources"
	. "knobs.dev/knobs/pkg/reconciler/testing"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// A kept history gives, pass after pass, what one built afresh gives: the
// Trials in the order they came to be, each as it is now, and the points of
// those listed only.
func TestHistoryKept(t *testing.T) {
	exp := NewExperiment(name, ns)
	exp.UID, exp.Generation = "exp-uid", 1
	space, err := resources.ParseSpace(exp)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1_700_000_000, 0)
	trial := func(n, second int, rv string, opts ...TrialOption) *v1alpha1.Trial {
		tr := NewTrial(name+"-"+strconv.Itoa(n), ns, name, []string{"--lr", "0.0" + strconv.Itoa(n%9+1), "--num-layers", "2", "--optimizer", "sgd"}, opts...)
		tr.UID, tr.ResourceVersion = types.UID("uid-"+strconv.Itoa(n)), rv
		tr.CreationTimestamp = metav1.NewTime(start.Add(time.Duration(second) * time.Second))
		return tr
	}
	renamed := trial(3, 9, "1")
	renamed.UID = "another"
	h := &history{}
	for i, trials := range [][]*v1alpha1.Trial{
		{trial(2, 0, "1"), trial(1, 0, "1"), trial(10, 0, "1")},
		// the same, listed in another order
		{trial(10, 0, "1"), trial(2, 0, "1"), trial(1, 0, "1")},
		// one changed, two new, one of them earlier than the last
		{trial(1, 0, "1"), trial(2, 0, "2", WithTrialSucceeded("Validation-accuracy", "0.9")), trial(10, 0, "1"), trial(11, 1, "1"), trial(3, 0, "1")},
		// one gone
		{trial(1, 0, "1"), trial(3, 0, "1"), trial(10, 0, "1"), trial(11, 1, "1")},
		// one deleted and created again under its name, later
		{trial(1, 0, "1"), renamed, trial(10, 0, "1"), trial(11, 1, "1")},
		// no resource version: converted again
		{trial(1, 0, ""), trial(10, 0, "2", WithTrialRunning)},
	} {
		got := h.update(exp, space, trials)
		sorted := append([]*v1alpha1.Trial(nil), trials...)
		reconciler.SortTrials(sorted)
		if len(got) != len(sorted) {
			t.Fatalf("pass %d: %d trials, want %d", i, len(got), len(sorted))
		}
		for j, tr := range sorted {
			if want := resources.ProtoTrial(tr); !proto.Equal(got[j], want) {
				t.Errorf("pass %d, trial %d: %v, want %v", i, j, got[j], want)
			}
		}
		for n := 1; n <= 11; n++ {
			listed := false
			for _, tr := range trials {
				listed = listed || tr.Name == name+"-"+strconv.Itoa(n)
			}
			tr := trial(n, 0, "")
			pt, ok := resources.TrialPoint(space, resources.ProtoAssignments(tr.Spec.ParameterAssignments))
			if ok && listed && !h.handed.Has(pt) {
				t.Errorf("pass %d: the point of %s is not in the history", i, tr.Name)
			}
		}
	}
	// Points shared by no Trial listed are gone: 0.03, 0.05 are held by
	// trials 2 (gone in the fourth pass) and 4 (never).
	for _, v := range []string{"0.03", "0.05"} {
		pt, ok := resources.TrialPoint(space, []*pb.ParameterAssignment{{Name: "--lr", Value: v}, {Name: "--num-layers", Value: "2"}, {Name: "--optimizer", Value: "sgd"}})
		if ok && h.handed.Has(pt) {
			t.Errorf("the point of --lr %s is in the history, no Trial listed holds it", v)
		}
	}
	// Another generation of the spec starts afresh.
	exp.Generation++
	if got := h.update(exp, space, []*v1alpha1.Trial{trial(1, 0, "1")}); len(got) != 1 || len(h.byName) != 1 {
		t.Errorf("after a new generation: %d trials, %d kept; want 1 and 1", len(got), len(h.byName))
	}
}
