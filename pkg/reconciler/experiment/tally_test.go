package experiment

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	. "knobs.dev/knobs/pkg/reconciler/testing"
)

// The tally does not sort the trials: whatever order they are listed in,
// of trials equally good the best is the first to come to be, the last
// failure the last, and the Pareto front the same.
func TestTallyInAnyOrder(t *testing.T) {
	a := func(i int) []string {
		return []string{"--lr", "0.0" + strconv.Itoa(i), "--num-layers", "2", "--optimizer", "sgd"}
	}
	var trials []*v1alpha1.Trial
	for i, acc := range []string{"0.5", "0.9", "0.7", "0.9", "0.9"} {
		trials = append(trials, trial(strconv.Itoa(i+1), a(i+1), WithTrialSucceeded("Validation-accuracy", acc, "latency", strconv.Itoa(9-i), "cost", "0.1")))
	}
	trials = append(trials, trial("6", a(6), WithTrialFailed), trial("10", a(7), WithTrialMetricsUnavailable), trial("9", a(8), WithTrialFailed))
	var want *v1alpha1.ExperimentStatus
	var wantFailure string
	for round := range 20 {
		shuffled := append([]*v1alpha1.Trial(nil), trials...)
		rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		e := experiment(latencyToo, costAtMost(0.9))
		tl := tallyTrials(e, suggestion(), shuffled)
		if b := e.Status.CurrentOptimalTrial; b == nil || b.BestTrialName != name+"-2" {
			t.Fatalf("round %d: best trial %+v, want %s-2, the first of three at 0.9", round, b, name)
		}
		if wantLast := "trial " + name + "-10: "; len(tl.lastFailure) < len(wantLast) || tl.lastFailure[:len(wantLast)] != wantLast {
			t.Fatalf("round %d: last failure %q, want that of %s-10", round, tl.lastFailure, name)
		}
		if want == nil {
			want, wantFailure = &e.Status, tl.lastFailure
			continue
		}
		if diff := cmp.Diff(want, &e.Status); diff != "" || tl.lastFailure != wantFailure {
			t.Fatalf("round %d: the status depends on the order (-first +now): %s", round, diff)
		}
	}
}
