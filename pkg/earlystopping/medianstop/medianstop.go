// Package medianstop is the median stopping rule with Katib's settings and
// semantics: once min_trials_required trials have succeeded, a running trial
// whose latest value of the objective metric, at step start_step or later,
// is worse than the median of the succeeded trials' mean values is stopped.
//
// A succeeded trial's mean is that of its learning curve (of its observed
// value when it has no curve). Trials stopped early do not count towards the
// median, as in Katib.
package medianstop

import (
	"context"
	"fmt"
	"math"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/earlystopping"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// The settings, as Katib names them.
const (
	MinTrialsRequired = "min_trials_required"
	StartStep         = "start_step"
)

// MedianStop is the median stopping rule.
type MedianStop struct{}

var _ earlystopping.Algorithm = MedianStop{}

// Settings implements earlystopping.Algorithm.
func (MedianStop) Settings() []algorithm.Setting {
	return []algorithm.Setting{
		algorithm.IntSetting(MinTrialsRequired, "succeeded trials needed before any trial is stopped", 3, 1, math.MaxInt32),
		algorithm.IntSetting(StartStep, "the step a running trial must reach before it is judged", 4, 1, math.MaxInt64),
	}
}

// Decide implements earlystopping.Algorithm.
func (MedianStop) Decide(ctx context.Context, p *earlystopping.Problem, trials []earlystopping.Trial) ([]earlystopping.Decision, error) {
	need, start := int(p.Settings.Int(MinTrialsRequired)), p.Settings.Int(StartStep)
	var means []float64
	for i := range trials {
		t := &trials[i]
		if t.Condition != pb.TrialCondition_SUCCEEDED {
			continue
		}
		if m, ok := mean(t); ok {
			means = append(means, m)
		}
	}
	if len(means) < need {
		return nil, nil
	}
	n := len(means)
	median := earlystopping.Median(means)
	var out []earlystopping.Decision
	for i := range trials {
		if i%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		t := &trials[i]
		last, ok := t.Latest()
		if !t.Running() || !ok || last.Step < start || !p.Worse(last.Value, median) {
			continue
		}
		out = append(out, earlystopping.Decision{Trial: t.Name, Message: fmt.Sprintf(
			"%s %s at step %d is worse than %s, the median of the mean %s of %d succeeded trials",
			p.Objective.Metric, earlystopping.Format(last.Value), last.Step, earlystopping.Format(median), p.Objective.Metric, n)})
	}
	return out, nil
}

// mean is the mean of a trial's curve, or its value without one.
func mean(t *earlystopping.Trial) (float64, bool) {
	if len(t.Curve) == 0 {
		return t.Value, t.HasValue
	}
	sum := 0.0
	for _, pt := range t.Curve {
		sum += pt.Value
	}
	return sum / float64(len(t.Curve)), true
}
