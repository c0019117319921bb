// Package asha is asynchronous successive halving (Li et al., "A System for
// Massively Parallel Hyperparameter Tuning", 2020) as an early-stopping
// rule: it needs no brackets of trials started together, so it works with
// any parallelism.
//
// Rungs lie at steps min_resource·reduction_factor^(min_early_stopping_rate+k),
// k = 0, 1, .... A trial's value at a rung is what it reported when it reached
// the rung's step. A running trial is judged at the highest rung it has
// reached, against every trial's value at that rung: it goes on while it is
// among the best 1/reduction_factor of them (the best one while fewer than
// reduction_factor trials have reached the rung), and is stopped otherwise.
//
// Being stateless, the rule judges a trial at a rung against every trial that
// has reached the rung so far, including those that reached it later; a
// trial is judged at a rung until it reaches the next one.
package asha

import (
	"context"
	"fmt"
	"math"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/earlystopping"
)

// The settings, as Optuna's successive-halving pruner names them.
const (
	MinResource          = "min_resource"
	ReductionFactor      = "reduction_factor"
	MinEarlyStoppingRate = "min_early_stopping_rate"
)

// ASHA is asynchronous successive halving.
type ASHA struct{}

var _ earlystopping.Algorithm = ASHA{}

// Settings implements earlystopping.Algorithm.
func (ASHA) Settings() []algorithm.Setting {
	return []algorithm.Setting{
		algorithm.IntSetting(MinResource, "the step of the first rung", 1, 1, math.MaxInt64),
		algorithm.IntSetting(ReductionFactor, "each rung lets on the best 1/reduction_factor of the trials that reach it", 4, 2, 1000),
		algorithm.IntSetting(MinEarlyStoppingRate, "rungs skipped at the start: the first rung is at min_resource·reduction_factor^min_early_stopping_rate", 0, 0, 62),
	}
}

// Decide implements earlystopping.Algorithm.
func (ASHA) Decide(ctx context.Context, p *earlystopping.Problem, trials []earlystopping.Trial) ([]earlystopping.Decision, error) {
	eta := p.Settings.Int(ReductionFactor)
	first := p.Settings.Int(MinResource)
	for range p.Settings.Int(MinEarlyStoppingRate) {
		if first > math.MaxInt64/eta {
			return nil, nil // no step reaches the first rung
		}
		first *= eta
	}
	var out []earlystopping.Decision
	for i := range trials {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t := &trials[i]
		last, ok := t.Latest()
		if !t.Running() || !ok || last.Step < first {
			continue
		}
		rung, step := 0, first
		for step <= last.Step/eta {
			rung, step = rung+1, step*eta
		}
		mine, _ := t.At(step)
		reached, better := 0, 0
		for j := range trials {
			v, ok := trials[j].At(step)
			if !ok {
				continue
			}
			reached++
			if p.Worse(mine, v) {
				better++
			}
		}
		keep := max(reached/int(eta), 1)
		if better < keep {
			continue
		}
		out = append(out, earlystopping.Decision{Trial: t.Name, Message: fmt.Sprintf(
			"%s %s at rung %d (step %d) is not among the best %d of the %d trials that reached it",
			p.Objective.Metric, earlystopping.Format(mine), rung, step, keep, reached)})
	}
	return out, nil
}
