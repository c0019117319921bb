package asha_test

import (
	"slices"
	"testing"

	"knobs.dev/knobs/pkg/earlystopping/asha"
	"knobs.dev/knobs/pkg/earlystopping/earlystoppingtest"
)

var (
	running   = earlystoppingtest.Running
	succeeded = earlystoppingtest.Succeeded
)

func TestDecide(t *testing.T) {
	// With min_resource 1 and reduction_factor 2, rungs lie at steps 1, 2,
	// 4, 8...
	eta2 := []string{asha.ReductionFactor, "2"}
	for _, tc := range []struct {
		name     string
		maximize bool
		trials   []earlystoppingtest.Trial
		settings []string
		want     []string
	}{{
		name:     "alone at a rung goes on",
		trials:   []earlystoppingtest.Trial{running("a", 5)},
		settings: eta2,
	}, {
		name:     "fewer than reduction_factor at a rung: only the best goes on",
		trials:   []earlystoppingtest.Trial{running("a", 5), running("b", 4)},
		settings: eta2,
		want:     []string{"a"},
	}, {
		name: "the best half of four go on",
		trials: []earlystoppingtest.Trial{
			running("a", 1, 1), succeeded("b", 2, 2), running("c", 3, 3), running("d", 4, 4),
		},
		settings: eta2,
		want:     []string{"c", "d"},
	}, {
		name: "judged at the highest rung reached, on the value that reached it",
		trials: []earlystoppingtest.Trial{
			// At rung 1 (step 2): a 9, b 1, c 2; a is worst, though
			// its latest value (step 3) is the best of all.
			running("a", 1, 9, 0.1), succeeded("b", 5, 1, 1), succeeded("c", 5, 2, 2), succeeded("d", 5, 3, 3),
		},
		settings: eta2,
		want:     []string{"a"},
	}, {
		name: "a trial past a rung is not judged there again",
		trials: []earlystoppingtest.Trial{
			// d is worst at step 1, but has reached step 2, where
			// only it and a stand, and it is the better there; at
			// step 1, a and b are the best half.
			running("a", 1, 5), running("b", 2), running("c", 3), running("d", 9, 4),
		},
		settings: eta2,
		want:     []string{"a", "c"},
	}, {
		name:     "min_resource sets the first rung",
		trials:   []earlystoppingtest.Trial{running("a", 1, 1), running("b", 5)},
		settings: []string{asha.ReductionFactor, "2", asha.MinResource, "2"},
	}, {
		name:     "min_early_stopping_rate skips rungs",
		trials:   []earlystoppingtest.Trial{running("a", 1, 1, 1), running("b", 5, 5, 5)},
		settings: []string{asha.ReductionFactor, "2", asha.MinEarlyStoppingRate, "2"},
	}, {
		name:     "maximize: lower is worse",
		maximize: true,
		trials:   []earlystoppingtest.Trial{running("a", 5), running("b", 4)},
		settings: eta2,
		want:     []string{"b"},
	}, {
		name:   "default reduction_factor 4: one of three goes on",
		trials: []earlystoppingtest.Trial{running("a", 1), running("b", 2), running("c", 3)},
		want:   []string{"b", "c"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, msgs := earlystoppingtest.Decide(t, asha.ASHA{}, earlystoppingtest.Request(tc.maximize, tc.trials, tc.settings...))
			if !slices.Equal(got, tc.want) {
				t.Errorf("stopped %v, want %v", got, tc.want)
			}
			for _, n := range got {
				if msgs[n] == "" {
					t.Errorf("%s: no message", n)
				}
			}
		})
	}
}

func TestMessage(t *testing.T) {
	req := earlystoppingtest.Request(false, []earlystoppingtest.Trial{running("a", 1), running("b", 2)}, asha.ReductionFactor, "2")
	_, msgs := earlystoppingtest.Decide(t, asha.ASHA{}, req)
	want := "loss 2 at rung 0 (step 1) is not among the best 1 of the 2 trials that reached it"
	if msgs["b"] != want {
		t.Errorf("message %q, want %q", msgs["b"], want)
	}
}

func TestHugeStepsDoNotOverflow(t *testing.T) {
	req := earlystoppingtest.Request(false, []earlystoppingtest.Trial{running("a", 1)},
		asha.MinResource, "9223372036854775807", asha.ReductionFactor, "1000", asha.MinEarlyStoppingRate, "62")
	if got, _ := earlystoppingtest.Decide(t, asha.ASHA{}, req); len(got) != 0 {
		t.Errorf("stopped %v", got)
	}
	req.Trials[0].Status.Observation.Metrics[0].Curve[0].Step = 9223372036854775807
	if got, _ := earlystoppingtest.Decide(t, asha.ASHA{}, req); len(got) != 0 {
		t.Errorf("stopped %v", got)
	}
}
