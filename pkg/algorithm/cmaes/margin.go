package cmaes

import (
	"math"

	"knobs.dev/knobs/pkg/searchspace"
)

// A margin for parameters with finitely many values (ints, stepped doubles,
// discrete lists), after Hamano et al., CMA-ES with Margin (GECCO 2022).
// Such a parameter's value is the cell of the unit interval its coordinate
// falls in; once σ√C_ii is small beside the mean's cell, every draw lands
// in that cell and the search can no longer move the parameter: the mean
// has nowhere to be pulled. After each update the marginal probability of
// a draw leaving the mean's cell is kept at α = 1/(nλ) or more (the
// paper's default): in a cell at an end of the range, by moving the mean
// towards the one neighbouring cell; in a cell between two, by moving the
// mean and widening that coordinate's standard deviation (scaling C's row
// and column, which keeps its correlations) so that each side gets α/2.
// The paper widens a separate diagonal that only the rounding sees; here C
// itself is widened, which the next updates then learn from, as Hansen's
// lower bound on the standard deviation of integer variables does, and
// which keeps the state and the rounding as they were.

// cell returns the bounds in the unit interval of the cell of p's values
// that holds u; lo is 0 in the first cell and hi 1 in the last.
func cell(p *searchspace.Param, u float64) (lo, hi float64) {
	v := p.FromUnit(u)
	// edge bisects from in, which holds v, towards out, which does not, to
	// the farthest point that still holds v.
	edge := func(in, out float64) float64 {
		for range 60 {
			m := in/2 + out/2
			if p.FromUnit(m) == v {
				in = m
			} else {
				out = m
			}
		}
		return in
	}
	lo, hi = 0, 1
	if p.FromUnit(0) != v {
		lo = edge(u, 0)
	}
	if p.FromUnit(1) != v {
		hi = edge(u, 1)
	}
	return lo, hi
}

// normQuantile is the standard normal's quantile function.
func normQuantile(q float64) float64 { return -math.Sqrt2 * math.Erfcinv(2*q) }

// normCDF is the standard normal's distribution function.
func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// margin corrects the distribution after an update, for each coordinate j
// whose parameter has finitely many values, so that a draw leaves the
// mean's cell with probability alpha or more.
func (s *dist) margin(space *searchspace.Space, dims []int, alpha float64) {
	n := len(s.mean)
	for j, i := range dims {
		p := &space.Params[i]
		if !p.Finite() {
			continue
		}
		sd := s.sigma * math.Sqrt(s.c[j*n+j])
		if !(sd > 0) {
			continue
		}
		m := s.mean[j]
		lo, hi := cell(p, m)
		switch {
		case lo == 0 && hi == 1:
			// One cell: nothing to keep.
		case lo == 0 || hi == 1:
			// An end cell: the one way out is to the neighbour.
			z := normQuantile(1 - alpha)
			if lo == 0 && 1-normCDF((hi-m)/sd) < alpha {
				s.mean[j] = hi - z*sd
			}
			if hi == 1 && normCDF((lo-m)/sd) < alpha {
				s.mean[j] = lo + z*sd
			}
		default:
			pLo, pHi := normCDF((lo-m)/sd), 1-normCDF((hi-m)/sd)
			if pLo >= alpha/2 && pHi >= alpha/2 {
				continue
			}
			// Each side gets at least α/2: solve for the mean and the
			// standard deviation that give those tails.
			zLo := normQuantile(1 - math.Max(pLo, alpha/2))
			zHi := normQuantile(1 - math.Max(pHi, alpha/2))
			want := (hi - lo) / (zLo + zHi)
			if want > sd {
				f := want / sd
				for k := range n {
					s.c[j*n+k] *= f
					s.c[k*n+j] *= f
				}
				sd = want
			}
			s.mean[j] = lo + zLo*sd
			if s.mean[j] > hi {
				s.mean[j] = hi
			}
		}
		s.mean[j] = math.Min(1, math.Max(0, s.mean[j]))
	}
}
