package experiment

import (
	"fmt"
	"strconv"
	"testing"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	. "knobs.dev/knobs/pkg/reconciler/testing"
)

// BenchmarkTally counts an Experiment's trials and finds the best, as every
// reconcile does, for experiments of 100, 1000 and 100,000 trials; with a second
// objective and a constraint, it lists the Pareto front too.
func BenchmarkTally(b *testing.B) {
	for _, c := range []struct {
		n     int
		multi bool
	}{{100, false}, {1000, false}, {100_000, false}, {100, true}, {1000, true}} {
		name := fmt.Sprintf("trials=%d", c.n)
		var opts []ExperimentOption
		if c.multi {
			name += "/objectives=2/constraints=1"
			opts = append(opts, latencyToo, costAtMost(0.9))
		}
		n := c.n
		b.Run(name, func(b *testing.B) {
			e := experiment(opts...)
			var as [][]string
			trials := make([]*v1alpha1.Trial, n)
			for i := range trials {
				a := []string{"--lr", strconv.FormatFloat(0.01+float64(i)*1e-6, 'g', -1, 64), "--num-layers", "2", "--optimizer", "sgd"}
				as = append(as, a)
				acc := float64(i%97) / 100
				trials[i] = trial(strconv.Itoa(i+1), a, WithTrialSucceeded("Validation-accuracy", strconv.FormatFloat(acc, 'g', -1, 64),
					"latency", strconv.Itoa(i%89), "cost", strconv.FormatFloat(float64(i%10)/10, 'g', -1, 64)))
			}
			s := suggestion(WithRequests(int32(n)), WithAssignments(as...))
			b.ReportAllocs()
			for b.Loop() {
				tallyTrials(e, s, trials)
			}
		})
	}
}
