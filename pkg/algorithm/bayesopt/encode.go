package bayesopt

import (
	"math/bits"
	"math/rand/v2"

	"knobs.dev/knobs/pkg/searchspace"
)

// encoder turns points of a search space into the model's features: one
// feature in [0, 1] per numeric or discrete parameter (its position in the
// unit cube, through the prior's distribution function), one per category of
// a categorical parameter (one-hot), and none for a parameter with a single
// value.
type encoder struct {
	space  *searchspace.Space
	offset []int // first feature of each parameter
	width  []int // features of each parameter
	dim    int
	// continuous says whether some parameter takes a continuum of values.
	continuous bool
}

func newEncoder(s *searchspace.Space) *encoder {
	e := &encoder{space: s, offset: make([]int, len(s.Params)), width: make([]int, len(s.Params))}
	for j := range s.Params {
		p := &s.Params[j]
		e.offset[j] = e.dim
		switch {
		case gridLen(p) == 1:
		case p.Type == searchspace.Categorical:
			e.width[j] = len(p.List)
		default:
			e.width[j] = 1
			e.continuous = e.continuous || !p.Finite()
		}
		e.dim += e.width[j]
	}
	return e
}

// encode writes the features of pt, which must lie in the space, to dst.
func (e *encoder) encode(pt searchspace.Point, dst []float64) {
	for j := range e.space.Params {
		w, o := e.width[j], e.offset[j]
		switch {
		case w == 0:
		case searchspace.IsInactive(pt[j]) && e.space.Params[j].Type == searchspace.Categorical:
			// An inactive category is none of them.
			clear(dst[o : o+w])
		case searchspace.IsInactive(pt[j]):
			// An inactive number sits at the middle of the cube, the
			// prior's median (searchspace.Param.ToUnit).
			dst[o] = 0.5
		case e.space.Params[j].Type == searchspace.Categorical:
			clear(dst[o : o+w])
			dst[o+int(pt[j])] = 1
		default:
			dst[o] = e.space.Params[j].ToUnit(pt[j])
		}
	}
}

// gridLen is the number of values of a parameter: its Len when finite, 1 for a
// continuous parameter whose min equals its max, and 0 for a continuum.
func gridLen(p *searchspace.Param) uint64 {
	if p.Finite() {
		return p.Len()
	}
	if p.Min == p.Max {
		return 1
	}
	return 0
}

// gridAt is the i-th value of a parameter with gridLen above 0.
func gridAt(p *searchspace.Param, i uint64) float64 {
	if p.Finite() {
		return p.At(i)
	}
	return p.Min
}

// gridSize is the number of points of a space whose parameters all have
// finitely many values (a continuous one with min == max counting as one);
// false for a space with a continuum or with more than 2^64 points.
func gridSize(s *searchspace.Space) (uint64, bool) {
	n := uint64(1)
	for j := range s.Params {
		k := gridLen(&s.Params[j])
		if k == 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(n, k)
		if hi != 0 {
			return 0, false
		}
		n = lo
	}
	return n, true
}

// gridPoint is the i-th point of a space with a gridSize, in mixed-radix order.
func gridPoint(s *searchspace.Space, i uint64) searchspace.Point {
	pt := make(searchspace.Point, len(s.Params))
	for j := len(s.Params) - 1; j >= 0; j-- {
		n := gridLen(&s.Params[j])
		pt[j] = gridAt(&s.Params[j], i%n)
		i /= n
	}
	return pt
}

// uniformGridPoint draws a point of a space with a gridSize uniformly.
func uniformGridPoint(s *searchspace.Space, rng *rand.Rand) searchspace.Point {
	pt := make(searchspace.Point, len(s.Params))
	for j := range s.Params {
		pt[j] = gridAt(&s.Params[j], rng.Uint64N(gridLen(&s.Params[j])))
	}
	return pt
}

// latinHypercube returns n points whose unit-cube coordinates split every
// axis into n equal strata, each stratum holding one point: a space-filling
// design that, mapped through the priors, covers each parameter's range
// evenly.
func latinHypercube(s *searchspace.Space, rng *rand.Rand, n int) []searchspace.Point {
	dims := len(s.Params)
	u := make([]float64, n*dims)
	for j := range dims {
		for i, k := range rng.Perm(n) {
			u[i*dims+j] = (float64(k) + rng.Float64()) / float64(n)
		}
	}
	pts := make([]searchspace.Point, n)
	for i := range pts {
		pts[i] = s.FromUnit(u[i*dims : (i+1)*dims])
	}
	return pts
}

// centre is the middle of the unit cube mapped to the space: every number
// at its prior's median, every category drawn at random.
func centre(s *searchspace.Space, rng *rand.Rand) searchspace.Point {
	u := make([]float64, len(s.Params))
	for j := range u {
		u[j] = 0.5
		if s.Params[j].Type == searchspace.Categorical {
			u[j] = rng.Float64()
		}
	}
	return s.FromUnit(u)
}

// adjacent returns the value next to v (dir -1 below, +1 above) of a finite
// numeric or discrete parameter, and false at the end of its range.
func adjacent(p *searchspace.Param, v float64, dir int) (float64, bool) {
	switch p.Type {
	case searchspace.Discrete:
		n := float64(len(p.List))
		w := p.FromUnit(p.ToUnit(v) + float64(dir)/n)
		return w, w != v
	case searchspace.Categorical:
		return 0, false
	}
	k, ok := p.IndexOf(v)
	if !ok {
		return 0, false
	}
	next := int64(k) + int64(dir)
	if next < 0 || uint64(next) >= p.Len() {
		return 0, false
	}
	return p.At(uint64(next)), true
}
