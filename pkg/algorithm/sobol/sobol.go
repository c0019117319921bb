// Package sobol is quasi-random search along a Sobol' sequence.
//
// A Sobol' sequence is a low-discrepancy sequence: its first n points cover
// the unit cube far more evenly than n uniform draws, with no clumps and no
// large holes, so that a small budget explores the whole space. Points come
// from goptuna's engine (github.com/c-bata/goptuna/sobol, Joe and Kuo's
// direction numbers, unscrambled, starting at the cube's centre), are
// scrambled (see Scrambling) and are mapped to the search space through each parameter's prior
// (searchspace.Space.FromUnit): uniform, log-uniform or truncated normal
// for numbers, equal cells for ints, stepped doubles, discrete and
// categorical values. The upper end of an int range is reachable: its cell
// is as wide as every other.
//
// goptuna's engine reads Joe and Kuo's table from its second row on, so that
// it lacks the sequence's second dimension (the one of the polynomial x+1),
// and its second coordinate is the standard third. The package computes that
// dimension itself and puts it back in second place: the points are then
// those of the standard Sobol' sequence (scipy's unscrambled Sobol', less its
// first point, the origin), whose first two coordinates are a (0, m, 2)-net:
// every 2^m points, each box of area 2^-m with dyadic sides holds one.
//
// # State
//
// None is written back. Every trial handed out was one point of the
// sequence, whatever became of it (pending, failed, succeeded), so a call
// skips as many points as the request has trials and walks on from there.
// The skip is direct: the point at any position is computed from the
// sequence's direction numbers (direction.go), in about 20 µs whatever the
// position, where walking to the 10000th point took 4 ms. When a point
// maps onto one already handed out (which
// happens in spaces of ints, steps and lists, never in practice with a
// continuous parameter) the walk moves on to the next point; the positions
// below the number of trials have then all been visited by earlier calls,
// and each was handed out or repeats a point that was, so restarting the walk
// at len(trials) loses nothing and costs only re-visiting a few points.
//
// A finite space (every parameter int, stepped double, discrete or
// categorical) is never suggested a point twice, and the reply says when it
// is used up. When the sequence keeps landing on points already taken (a
// mostly used space, or a narrow normal prior whose tails the sequence
// rarely reaches) the walk stops after a bounded number of points and the
// rest of the reply is picked among the unseen points at random, seeded
// from the experiment's name and the number of trials.
//
// # Scrambling
//
// By default (scramble: "true") the sequence is scrambled: each coordinate's
// 32 binary digits go through a random linear matrix scramble (a random
// lower-triangular binary matrix with a unit diagonal: digit k becomes
// itself XOR a random choice of the digits before it) and a random digital
// shift (an XOR with a random number), Matoušek's scramble, as scipy's
// scrambled Sobol' does. Both are linear over the binary digits, so every
// box of the (t, m, s)-net property that held one point of each 2^m still
// holds one: the points cover the cube as evenly, but no longer start at
// its centre or sit on dyadic fractions, and each seed gives another
// randomised sequence, so that a benchmark over seeds sees the spread a
// real experiment would. The scrambled sequence starts at the scrambled
// origin (the digital shift itself), which completes the first nets; the
// plain sequence leaves the origin, a corner of the space, out.
//
// The scramble is drawn from random_state, or without it from the
// experiment's name, and is the same in every call of an experiment: only
// the position in the sequence moves on.
//
// # Settings
//
// random_state seeds the scramble; scramble: "false" gives the plain
// sequence, the same points in every experiment (goptuna's and Katib's
// Sobol').
//
// The direction numbers cover MaxParameters dimensions; an experiment with
// more parameters is rejected.
package sobol

import (
	"context"
	"fmt"
	"math/bits"
	"math/rand/v2"

	gsobol "github.com/c-bata/goptuna/sobol"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/searchspace"
)

// engineMax is the number of dimensions goptuna's engine covers: the first,
// and one per row of Joe and Kuo's new-joe-kuo-6.21201 table from its
// second row on, less the last; sobol.NewEngine panics beyond it.
const engineMax = 21201 - 2

// MaxParameters is the number of dimensions the sequence covers: goptuna's
// and the one this package adds.
const MaxParameters = engineMax + 1

// maxPosition bounds the sequence: goptuna's engine has 30 bits of direction
// numbers in its first dimension and fails at the 2^29-th point.
const maxPosition = 1<<29 - 1

// Sobol is the Sobol' sequence algorithm.
type Sobol struct{}

var _ algorithm.Algorithm = Sobol{}

// Scramble names the setting that turns scrambling off.
const Scramble = "scramble"

// Settings implements algorithm.Algorithm.
func (Sobol) Settings() []algorithm.Setting {
	return []algorithm.Setting{
		algorithm.EnumSetting(Scramble,
			"scramble the sequence (true), seeded by random_state, or walk the plain sequence, the same in every experiment (false)", "true", "true", "false"),
		algorithm.SeedSetting(),
	}
}

// Validate implements algorithm.Algorithm.
func (Sobol) Validate(p *algorithm.Problem) error {
	if n := p.Space.Len(); n > MaxParameters {
		return algorithm.Invalidf("experiment.experimentSpec.parameterSpecs.parameters",
			"%d parameters: the Sobol' sequence's direction numbers cover at most %d; use random search for more", n, MaxParameters)
	}
	return nil
}

// walkBudget is how many points of the sequence a call looks at beyond the
// ones it hands out before it picks among the unseen points instead.
func walkBudget(count int) int { return 64*count + 1024 }

// Suggest implements algorithm.Algorithm.
func (Sobol) Suggest(ctx context.Context, p *algorithm.Problem, trials []algorithm.Trial, count int) (*algorithm.Suggestions, error) {
	space := p.Space
	taken := algorithm.NewTaken(space, trials)
	if rest, ok := taken.Rest(count); ok {
		// Everything left fits in this reply.
		return &algorithm.Suggestions{Points: rest, Exhausted: true}, nil
	}
	out := &algorithm.Suggestions{Points: make([]searchspace.Point, 0, count)}
	take := func(pt searchspace.Point) {
		if taken.Take(pt) {
			out.Points = append(out.Points, pt)
		}
	}

	// Skip the points the trials hold, then walk on.
	start := len(trials)
	budget := walkBudget(count)
	if start > maxPosition-budget {
		return nil, fmt.Errorf("%d trials: the Sobol' sequence has %d points", start, maxPosition)
	}
	seq := newSequence(space.Len(), start)
	if v, _ := p.Settings.Lookup(Scramble); v != "false" {
		// The same scramble in every call: the generator of position 0.
		seq.scramble(p.Rand(0))
	}
	if err := seq.skip(ctx, start); err != nil {
		return nil, err
	}
	for tries := 0; len(out.Points) < count && tries < budget; tries++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		take(space.FromUnit(seq.next()))
	}
	if len(out.Points) == count {
		return out, nil
	}

	// The walk keeps landing on taken points: pick among the unseen ones,
	// in a space too large to list drawing from the prior first.
	rng := p.Rand(len(trials))
	if !taken.Enumerable() {
		if err := fromPrior(ctx, space, rng, out, take, count, taken.Finite()); err != nil || !taken.Finite() || len(out.Points) == count {
			return out, err
		}
	}
	if err := taken.Fill(ctx, rng, out, count); err != nil {
		return nil, err
	}
	return out, nil
}

// fromPrior adds draws from the prior to a reply, for a bounded number of
// draws in a finite space. A space that is not finite but whose points all
// repeat (a continuous parameter with min equal to max, the others used up)
// ends as exhausted after a long search.
func fromPrior(ctx context.Context, space *searchspace.Space, rng *rand.Rand, out *algorithm.Suggestions,
	take func(searchspace.Point), count int, finite bool) error {
	const giveUp = 1 << 20
	for tries := 0; len(out.Points) < count; tries++ {
		if tries%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		switch {
		case finite && tries >= 64*count+1024:
			return nil
		case !finite && tries >= giveUp:
			out.Exhausted = true
			return nil
		}
		take(space.Sample(rng))
	}
	return nil
}

// sequence is the standard Sobol' sequence, scrambled or not: computed
// from its direction numbers, which lets it skip ahead, or, in spaces of
// more parameters than those cover, walked with goptuna's engine and the
// second dimension it lacks put back.
type sequence struct {
	dim int
	v   [][]uint32     // direction numbers, when derived
	eng *gsobol.Engine // otherwise the engine
	n   uint32         // points drawn
	x   []uint32       // the digits of the last point drawn

	// origin is set while the scrambled sequence's first point, the
	// origin, is still to come.
	origin bool
	// cols[j][b] is what bit b of coordinate j turns into under the
	// linear matrix scramble: bit b itself and random lower bits.
	cols [][32]uint32
	// shift[j] is coordinate j's digital shift.
	shift []uint32
}

// newSequence returns the sequence of dim dimensions for a walk that first
// skips start points: derived, when that is cheaper than walking the
// engine to start. Both give the same points.
func newSequence(dim, start int) *sequence {
	s := &sequence{dim: dim, x: make([]uint32, dim)}
	if polys, draws, ok := derivable(dim); ok && (draws < start || dim <= 2) {
		s.v = directions(dim, polys, draws)
	} else {
		s.eng = gsobol.NewEngine(uint32(max(dim-1, 1)))
	}
	return s
}

// scramble makes the sequence a scrambled one, drawn from rng.
func (s *sequence) scramble(rng *rand.Rand) {
	s.origin = true
	s.cols = make([][32]uint32, s.dim)
	s.shift = make([]uint32, s.dim)
	for j := range s.cols {
		for b := range 32 {
			low := uint32(1)<<b - 1
			s.cols[j][b] = 1<<b | rng.Uint32()&low
		}
		s.shift[j] = rng.Uint32()
	}
}

// skip moves past the next n points: at once with the direction numbers,
// point by point with the engine.
func (s *sequence) skip(ctx context.Context, n int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if n > 0 && s.origin {
		s.origin = false
		n--
	}
	if s.v != nil {
		s.n += uint32(n)
		at(s.v, s.n, s.x)
		return nil
	}
	for i := range n {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		s.step()
	}
	return nil
}

// next returns the next point.
func (s *sequence) next() []float64 {
	if s.origin {
		s.origin = false
		return s.point(make([]uint32, s.dim))
	}
	s.step()
	return s.point(s.x)
}

// point maps digits to the unit cube, through the scramble if there is one.
func (s *sequence) point(x []uint32) []float64 {
	u := make([]float64, s.dim)
	for j, d := range x {
		if s.cols != nil {
			d = s.scrambled(j, d)
		}
		u[j] = float64(d) / (1 << 32)
	}
	return u
}

// scrambled maps coordinate j's digits x through the scramble.
func (s *sequence) scrambled(j int, x uint32) uint32 {
	y := s.shift[j]
	for x != 0 {
		b := bits.TrailingZeros32(x)
		y ^= s.cols[j][b]
		x &= x - 1
	}
	return y
}

// second holds the direction numbers v_1..v_32 of the second dimension,
// that of the primitive polynomial x+1 with m_1 = 1: m_i = 2·m_(i-1) XOR
// m_(i-1), so that v_i = v_(i-1) XOR v_(i-1)/2.
var second = func() (v [33]uint32) {
	v[1] = 1 << 31
	for i := 2; i < len(v); i++ {
		v[i] = v[i-1] ^ v[i-1]>>1
	}
	return v
}()

// step moves the digits on to the next point in Gray code order: the n-th
// point flips, in every coordinate, the direction number of the lowest zero
// bit of n-1.
func (s *sequence) step() {
	c := bits.TrailingZeros32(^s.n) + 1
	s.n++
	if s.v != nil {
		for j := range s.x {
			s.x[j] ^= s.v[j][c]
		}
		return
	}
	// The engine's points are multiples of 2^-32: their digits convert
	// exactly.
	u := s.eng.Draw()
	s.x[0] = uint32(u[0] * (1 << 32))
	if s.dim == 1 {
		return
	}
	s.x[1] ^= second[c]
	for j := 2; j < s.dim; j++ {
		s.x[j] = uint32(u[j-1] * (1 << 32))
	}
}
