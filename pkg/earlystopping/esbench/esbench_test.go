package esbench_test

import (
	"context"
	"testing"

	"knobs.dev/knobs/pkg/earlystopping/esbench"
)

func TestRun(t *testing.T) {
	ctx := context.Background()
	p := esbench.Synthetic(10)
	c := esbench.Config{Trials: 12, Parallel: 3, Seed: 1}
	none, err := esbench.Run(ctx, p, esbench.Setup{Search: "random"}, c)
	if err != nil {
		t.Fatal(err)
	}
	if none.Steps != 12*10 || none.Stopped != 0 || len(none.Trace) != none.Steps {
		t.Errorf("without early stopping: %d steps, %d stopped, trace of %d; want 120, 0, 120", none.Steps, none.Stopped, len(none.Trace))
	}
	for _, s := range []esbench.Setup{
		{Search: "random", EarlyStopping: "medianstop", Settings: []string{"min_trials_required", "3", "start_step", "3"}},
		{Search: "random", EarlyStopping: "asha", Settings: []string{"min_resource", "2", "reduction_factor", "3"}},
	} {
		r, err := esbench.Run(ctx, p, s, c)
		if err != nil {
			t.Fatal(err)
		}
		if r.Stopped == 0 || r.Steps >= none.Steps || r.Best < none.Best {
			t.Errorf("%s: %d steps, %d stopped, best %g; want some stopped, fewer than %d steps, and no better than %g (the same trials, cut short)",
				s.Label(), r.Steps, r.Stopped, r.Best, none.Steps, none.Best)
		}
	}
	sum := esbench.Summarize("synthetic", esbench.Setup{Search: "random"}, []*esbench.Result{none, none})
	if sum.Steps != float64(none.Steps) || sum.Median() != none.Best || len(sum.Trace) != none.Steps {
		t.Errorf("summary %+v of two identical runs", sum)
	}
}
