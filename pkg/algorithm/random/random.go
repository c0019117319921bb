// Package random is random search: points drawn independently from each
// parameter's prior.
//
// Where the space is finite, no point is suggested twice: not within a reply,
// nor one already handed out. When every point has been handed out the reply
// says the space is exhausted.
package random

import (
	"context"
	"math/rand/v2"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/searchspace"
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

// enumerateBelow is the size of a finite space under which it is cheaper to
// list its unseen points than to keep drawing when draws keep repeating.
const enumerateBelow = 1 << 22

// Suggest implements algorithm.Algorithm.
func (Random) Suggest(ctx context.Context, p *algorithm.Problem, trials []algorithm.Trial, count int) (*algorithm.Suggestions, error) {
	space := p.Space
	rng := p.Rand(len(trials))
	if size, exact := space.Size(); space.Finite() && exact {
		return finite(ctx, space, rng, trials, count, size)
	}

	// A continuous parameter makes repeats vanishingly rare, and a space too
	// large to count cannot run out: draw until the reply is full.
	seen := make(map[string]struct{}, len(trials)+count)
	for i := range trials {
		seen[space.Key(trials[i].Point)] = struct{}{}
	}
	out := &algorithm.Suggestions{}
	for tries := 0; len(out.Points) < count; tries++ {
		if tries > 64*count+1024 {
			// A range so narrow that it holds few distinct numbers.
			return nil, algorithm.Invalidf("experiment.experimentSpec.parameterSpecs",
				"the search space holds too few distinct points for %d more suggestions: widen the ranges of the double parameters", count)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pt := space.Sample(rng)
		if k := space.Key(pt); !has(seen, k) {
			seen[k] = struct{}{}
			out.Points = append(out.Points, pt)
		}
	}
	return out, nil
}

// finite suggests from a space of size points, identified by their index.
func finite(ctx context.Context, space *searchspace.Space, rng *rand.Rand, trials []algorithm.Trial, count int, size uint64) (*algorithm.Suggestions, error) {
	taken := make(map[uint64]struct{}, len(trials)+count)
	for i := range trials {
		if k, ok := space.IndexOf(trials[i].Point); ok {
			taken[k] = struct{}{}
		}
	}
	out := &algorithm.Suggestions{}
	take := func(i uint64) {
		if !has(taken, i) {
			taken[i] = struct{}{}
			out.Points = append(out.Points, space.PointAt(i))
		}
	}
	if unseen := size - uint64(len(taken)); unseen <= uint64(count) {
		// Everything left fits in this reply; size is at most
		// len(trials)+count here.
		for _, i := range searchspace.Free(size, taken) {
			take(i)
		}
		rng.Shuffle(len(out.Points), func(a, b int) { out.Points[a], out.Points[b] = out.Points[b], out.Points[a] })
		out.Exhausted = true
		return out, nil
	}

	// Draw from the prior; give up on it when repeats dominate, which happens
	// when most of the likely points are taken.
	for tries := 0; len(out.Points) < count && tries < 64*count+1024; tries++ {
		i, _ := space.IndexOf(space.Sample(rng))
		take(i)
	}
	if len(out.Points) < count && size <= enumerateBelow {
		left := searchspace.Free(size, taken)
		for i := 0; len(out.Points) < count; i++ {
			j := i + rng.IntN(len(left)-i)
			left[i], left[j] = left[j], left[i]
			take(left[i])
		}
	}
	for tries := 0; len(out.Points) < count; tries++ {
		// A large space whose likely points are taken: draw uniformly.
		if tries%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		take(rng.Uint64N(size))
	}
	return out, nil
}

func has[K comparable](m map[K]struct{}, k K) bool {
	_, ok := m[k]
	return ok
}
