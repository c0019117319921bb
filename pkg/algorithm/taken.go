package algorithm

import (
	"context"
	"math"
	"math/rand/v2"

	"knobs.dev/knobs/pkg/searchspace"
)

// EnumerateBelow is the size of a finite space under which it is cheaper to
// list its unseen points than to keep drawing when draws keep landing on
// taken ones.
const EnumerateBelow = 1 << 22

// Taken is the set of points no reply may hand out: those the trials hold and
// those the reply has taken so far. It knows them by their keys
// (searchspace.Space.Key) and, in a finite space, by their indices
// (searchspace.Space.IndexOf), so that it can tell how many points are left
// and draw among them.
type Taken struct {
	space  *searchspace.Space
	keys   map[string]struct{}
	finite bool
	size   uint64
	idx    map[uint64]struct{} // in a finite space, the indices taken
	left   []uint64            // unseen indices, listed at the first Draw
	drawn  int                 // left[:drawn] have been drawn
}

// NewTaken returns the points the trials hold, whatever became of them.
func NewTaken(space *searchspace.Space, trials []Trial) *Taken {
	t := &Taken{space: space, keys: make(map[string]struct{}, len(trials))}
	if size, exact := space.Size(); space.Finite() && exact {
		t.finite, t.size = true, size
		t.idx = make(map[uint64]struct{}, len(trials))
	}
	for i := range trials {
		t.Take(trials[i].Point)
	}
	return t
}

// Finite reports whether the space is finite and its size fits in 64 bits;
// only then does Taken count the unseen points.
func (t *Taken) Finite() bool { return t.finite }

// Has reports whether pt is taken.
func (t *Taken) Has(pt searchspace.Point) bool {
	_, ok := t.keys[t.space.Key(pt)]
	return ok
}

// Take marks pt as taken, and reports false when it was already.
func (t *Taken) Take(pt searchspace.Point) bool {
	k := t.space.Key(pt)
	_, dup := t.keys[k]
	if t.finite {
		// A point taken by its key takes its index too, so that Unseen
		// counts what may still be handed out.
		if i, ok := t.space.IndexOf(pt); ok {
			t.idx[i] = struct{}{}
		}
	}
	if dup {
		return false
	}
	t.keys[k] = struct{}{}
	return true
}

// Unseen counts the points of a finite space not taken; it is
// math.MaxUint64 for a space that is not Finite.
func (t *Taken) Unseen() uint64 {
	if !t.finite {
		return math.MaxUint64
	}
	return t.size - uint64(len(t.idx))
}

// Rest takes and returns, in the order of searchspace.Space.PointAt, every
// unseen point of a finite space that has no more than count of them: the
// reply that exhausts it. It reports false, and takes nothing, otherwise.
func (t *Taken) Rest(count int) ([]searchspace.Point, bool) {
	if t.Unseen() > uint64(max(count, 0)) {
		return nil, false
	}
	// The space has at most len(trials)+count points here.
	out := make([]searchspace.Point, 0, t.Unseen())
	for _, i := range searchspace.Free(t.size, t.idx) {
		if pt := t.space.PointAt(i); t.Take(pt) {
			out = append(out, pt)
		}
	}
	return out, true
}

// Enumerable reports whether the space is finite and small enough
// (EnumerateBelow) that Draw lists its unseen points rather than drawing
// among all of them.
func (t *Taken) Enumerable() bool { return t.finite && t.size <= EnumerateBelow }

// Draw takes and returns a point drawn uniformly among the unseen points of a
// finite space, and reports false when there is none (or the space is not
// Finite). In a space that is Enumerable, it lists the unseen points at its
// first call and then picks among them, one rng.IntN a candidate; in a larger
// one, it draws an index at a time (rng.Uint64N) until one is unseen.
func (t *Taken) Draw(rng *rand.Rand) (searchspace.Point, bool) {
	if !t.finite {
		return nil, false
	}
	if !t.Enumerable() {
		for t.Unseen() > 0 {
			if pt := t.space.PointAt(rng.Uint64N(t.size)); t.Take(pt) {
				return pt, true
			}
		}
		return nil, false
	}
	if t.left == nil {
		t.left = searchspace.Free(t.size, t.idx)
	}
	// A Fisher–Yates shuffle, one step a candidate; a candidate taken since
	// the listing is passed over.
	for ; t.drawn < len(t.left); t.drawn++ {
		i := t.drawn
		j := i + rng.IntN(len(t.left)-i)
		t.left[i], t.left[j] = t.left[j], t.left[i]
		if pt := t.space.PointAt(t.left[i]); t.Take(pt) {
			t.drawn++
			return pt, true
		}
	}
	return nil, false
}

// Fill adds points to a reply with Draw until it holds count, and marks the
// reply exhausted when no point is left.
func (t *Taken) Fill(ctx context.Context, rng *rand.Rand, out *Suggestions, count int) error {
	for len(out.Points) < count {
		if err := ctx.Err(); err != nil {
			return err
		}
		pt, ok := t.Draw(rng)
		if !ok {
			out.Exhausted = true
			return nil
		}
		out.Points = append(out.Points, pt)
	}
	return nil
}
