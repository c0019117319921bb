// Package random is random search: points drawn independently from each
// parameter's prior.
//
// Where the space is finite, no point is suggested twice: not within a reply,
// nor one already handed out. When every point has been handed out the reply
// says the space is exhausted.
package random

import (
	"context"

	"knobs.dev/knobs/pkg/algorithm"
)

// Random is the random search algorithm.
type Random struct{}

var _ algorithm.Algorithm = Random{}

// Settings implements algorithm.Algorithm.
func (Random) Settings() []algorithm.Setting {
	return []algorithm.Setting{algorithm.SeedSetting()}
}

// Validate implements algorithm.Algorithm.
func (Random) Validate(*algorithm.Problem) error { return nil }

// Suggest implements algorithm.Algorithm.
func (Random) Suggest(ctx context.Context, p *algorithm.Problem, trials []algorithm.Trial, count int) (*algorithm.Suggestions, error) {
	space := p.Space
	rng := p.Rand(len(trials))
	taken := algorithm.NewTaken(space, trials)
	out := &algorithm.Suggestions{}
	if rest, ok := taken.Rest(count); ok {
		// Everything left fits in this reply.
		rng.Shuffle(len(rest), func(a, b int) { rest[a], rest[b] = rest[b], rest[a] })
		out.Points, out.Exhausted = rest, true
		return out, nil
	}

	// Draw from the prior. A continuous parameter makes repeats vanishingly
	// rare, and a space too large to count cannot run out; in a finite
	// space, give up on the prior when repeats dominate, which happens when
	// most of the likely points are taken.
	for tries := 0; len(out.Points) < count; tries++ {
		if tries >= 64*count+1024 {
			if taken.Finite() {
				break
			}
			// A range so narrow that it holds few distinct numbers.
			return nil, algorithm.Invalidf("experiment.experimentSpec.parameterSpecs",
				"the search space holds too few distinct points for %d more suggestions: widen the ranges of the double parameters", count)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if pt := space.Sample(rng); taken.Take(pt) {
			out.Points = append(out.Points, pt)
		}
	}
	// The likely points are taken: draw uniformly among the unseen ones.
	if err := taken.Fill(ctx, rng, out, count); err != nil {
		return nil, err
	}
	return out, nil
}
