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
	seen := make(map[string]struct{}, len(trials)+count)
	for i := range trials {
		seen[space.Key(trials[i].Point)] = struct{}{}
	}
	out := &algorithm.Suggestions{}
	take := func(pt searchspace.Point) bool {
		k := space.Key(pt)
		if _, dup := seen[k]; dup {
			return false
		}
		seen[k] = struct{}{}
		out.Points = append(out.Points, pt)
		return true
	}

	size, exact := space.Size()
	if !space.Finite() {
		// A continuous parameter makes repeats vanishingly rare; draw until
		// the reply is full.
		for len(out.Points) < count {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			take(space.Sample(rng))
		}
		return out, nil
	}

	unseen := size
	if exact {
		unseen = size - countInSpace(space, trials)
		if unseen <= uint64(count) {
			// Everything left fits in this reply.
			for _, i := range unseenIndices(space, size, seen) {
				take(space.PointAt(i))
			}
			rng.Shuffle(len(out.Points), func(a, b int) { out.Points[a], out.Points[b] = out.Points[b], out.Points[a] })
			out.Exhausted = true
			return out, nil
		}
	}

	// Draw from the prior; give up on it when repeats dominate, which happens
	// when most of the likely points are taken.
	for tries := 0; len(out.Points) < count && tries < 64*count+1024; tries++ {
		take(space.Sample(rng))
	}
	if len(out.Points) < count && exact && size <= enumerateBelow {
		left := unseenIndices(space, size, seen)
		for i := 0; len(out.Points) < count; i++ {
			j := i + rng.IntN(len(left)-i)
			left[i], left[j] = left[j], left[i]
			take(space.PointAt(left[i]))
		}
	}
	for len(out.Points) < count {
		// A huge space with a concentrated prior: draw uniformly instead.
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		take(space.PointAt(uniformIndex(rng, size)))
	}
	return out, nil
}

// countInSpace counts the distinct points of the trials that lie on the grid
// of a finite space.
func countInSpace(space *searchspace.Space, trials []algorithm.Trial) uint64 {
	idx := make(map[uint64]struct{}, len(trials))
	for i := range trials {
		if k, ok := space.IndexOf(trials[i].Point); ok {
			idx[k] = struct{}{}
		}
	}
	return uint64(len(idx))
}

func unseenIndices(space *searchspace.Space, size uint64, seen map[string]struct{}) []uint64 {
	var left []uint64
	for i := uint64(0); i < size; i++ {
		if _, dup := seen[space.Key(space.PointAt(i))]; !dup {
			left = append(left, i)
		}
	}
	return left
}

func uniformIndex(rng *rand.Rand, size uint64) uint64 {
	if size == 0 {
		return rng.Uint64()
	}
	return rng.Uint64N(size)
}
