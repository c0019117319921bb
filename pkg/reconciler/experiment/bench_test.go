package experiment

import (
	"fmt"
	"strconv"
	"testing"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	. "knobs.dev/knobs/pkg/reconciler/testing"
)

// BenchmarkTally counts an Experiment's trials and finds the best, as every
// reconcile does, for experiments of 100 and 1000 trials.
func BenchmarkTally(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("trials=%d", n), func(b *testing.B) {
			e := experiment()
			var as [][]string
			trials := make([]*v1alpha1.Trial, n)
			for i := range trials {
				a := []string{"--lr", strconv.FormatFloat(0.01+float64(i)*1e-6, 'g', -1, 64), "--num-layers", "2", "--optimizer", "sgd"}
				as = append(as, a)
				trials[i] = trial(strconv.Itoa(i+1), a, WithTrialSucceeded("Validation-accuracy", strconv.FormatFloat(float64(i%97)/100, 'g', -1, 64)))
			}
			s := suggestion(WithRequests(int32(n)), WithAssignments(as...))
			b.ReportAllocs()
			for b.Loop() {
				tallyTrials(e, s, trials)
			}
		})
	}
}
