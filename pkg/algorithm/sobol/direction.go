package sobol

import (
	"math/bits"

	gsobol "github.com/c-bata/goptuna/sobol"
)

// This file gives the sequence its skip-ahead: the n-th point computed
// directly, as the XOR of the direction numbers that the bits of n's Gray
// code select, instead of walking the n-1 points before it.
//
// goptuna's engine keeps its direction numbers to itself, so they are
// rebuilt here. Joe and Kuo's table lists, dimension by dimension, every
// primitive polynomial over GF(2) by degree and then by its middle
// coefficients read as a binary number (all 21200 of degree 1 to 18), each
// with its first direction numbers m_1..m_s. The polynomials are found by
// search (primitives); the first direction numbers of a dimension whose
// polynomial has degree s show as the differences of the engine's points
// 2^(i-1)-1 and 2^(i-1), i <= s, so 2^(s-1) draws of the engine reveal them
// (directions); the rest follow from the polynomial's recurrence. A call
// derives them when that takes fewer draws than walking to its start;
// otherwise, and in spaces of more parameters than polynomials of degree up
// to maxDerivedDegree cover, it walks the engine.

// bitsUsed is how many binary digits of direction numbers the engine has.
const bitsUsed = 30

// maxDerivedDegree bounds the degree of the polynomials whose first
// direction numbers are read from the engine: 2^(10-1) = 512 draws, which
// covers spaces of up to 161 parameters.
const maxDerivedDegree = 10

// derivable returns the polynomials of a space of dim parameters and the
// draws of the engine that deriving its direction numbers takes, or false
// when they are of too high a degree.
func derivable(dim int) ([]poly, int, bool) {
	polys := primitives(dim-1, maxDerivedDegree)
	if len(polys) < dim-1 {
		return nil, 0, false
	}
	top := 1
	for _, p := range polys {
		top = max(top, p.s)
	}
	return polys, 1 << (top - 1), true
}

// poly is a primitive polynomial x^s + a_1 x^(s-1) + ... + a_(s-1) x + 1,
// its middle coefficients a_1..a_(s-1) as the bits of a, a_1 the highest.
type poly struct {
	s int
	a uint32
}

// primitives returns the first n primitive polynomials in Joe and Kuo's
// order, or fewer when those of degree up to maxDegree run out.
func primitives(n, maxDegree int) []poly {
	var out []poly
	for s := 1; s <= maxDegree && len(out) < n; s++ {
		for a := uint32(0); a < 1<<(s-1) && len(out) < n; a++ {
			if isPrimitive(uint64(1)<<s|uint64(a)<<1|1, s) {
				out = append(out, poly{s: s, a: a})
			}
		}
	}
	return out
}

// isPrimitive reports whether p, of degree s (bit i the coefficient of
// x^i), is primitive: x has order exactly 2^s-1 modulo p.
func isPrimitive(p uint64, s int) bool {
	order := uint64(1)<<s - 1
	if powX(order, p, s) != 1 {
		return false
	}
	for _, q := range primeFactors(order) {
		if powX(order/q, p, s) == 1 {
			return false
		}
	}
	return true
}

// powX returns x^e modulo p, of degree s.
func powX(e, p uint64, s int) uint64 {
	result, base := uint64(1), uint64(2) // x
	if s == 1 {
		base = 1 // x is 1 modulo x+1
	}
	for ; e > 0; e >>= 1 {
		if e&1 == 1 {
			result = mulMod(result, base, p, s)
		}
		base = mulMod(base, base, p, s)
	}
	return result
}

// mulMod multiplies two polynomials of degree below s modulo p, of degree s.
func mulMod(a, b, p uint64, s int) uint64 {
	var r uint64
	for ; b > 0; b >>= 1 {
		if b&1 == 1 {
			r ^= a
		}
		a <<= 1
		if a>>s&1 == 1 {
			a ^= p
		}
	}
	return r
}

func primeFactors(n uint64) []uint64 {
	var out []uint64
	for q := uint64(2); q*q <= n; q++ {
		if n%q == 0 {
			out = append(out, q)
			for n%q == 0 {
				n /= q
			}
		}
	}
	if n > 1 {
		out = append(out, n)
	}
	return out
}

// directions returns the direction numbers v[j][i], i = 1..bitsUsed, of the
// standard sequence's first dim dimensions, given their polynomials (those
// of dimensions 2 on) and the draws of the engine that reveal them.
func directions(dim int, polys []poly, draws int) [][]uint32 {
	v := make([][]uint32, dim)
	for j := range v {
		v[j] = make([]uint32, bitsUsed+1)
	}
	// The first dimension: every m_i is 1.
	for i := 1; i <= bitsUsed; i++ {
		v[0][i] = 1 << (32 - i)
	}
	if dim == 1 {
		return v
	}
	// The second dimension, x+1, has m_1 = 1; goptuna's engine lacks it.
	// Every later one is the engine's dimension j-1.
	v[1][1] = 1 << 31
	if dim > 2 {
		eng := gsobol.NewEngine(uint32(dim - 1))
		prev := make([]uint32, dim-1)
		for n := 1; n <= draws; n++ {
			pt := eng.Draw()
			if n&(n-1) == 0 { // n = 2^(i-1): the first use of v_i
				i := bits.TrailingZeros(uint(n)) + 1
				for j := 2; j < dim; j++ {
					if i <= polys[j-1].s {
						v[j][i] = uint32(pt[j-1]*(1<<32)) ^ prev[j-1]
					}
				}
			}
			for k := range prev {
				prev[k] = uint32(pt[k] * (1 << 32))
			}
		}
	}
	for j := 1; j < dim; j++ {
		s, a := polys[j-1].s, polys[j-1].a
		for i := s + 1; i <= bitsUsed; i++ {
			x := v[j][i-s] ^ v[j][i-s]>>s
			for k := 1; k < s; k++ {
				if a>>(s-1-k)&1 == 1 {
					x ^= v[j][i-k]
				}
			}
			v[j][i] = x
		}
	}
	return v
}

// at returns the digits of every coordinate of the n-th point (n >= 1, the
// engine's n-th draw) into x: the XOR of the direction numbers that the
// bits of n's Gray code select.
func at(v [][]uint32, n uint32, x []uint32) {
	g := n ^ n>>1
	for j := range x {
		var d uint32
		for b := g; b != 0; b &= b - 1 {
			d ^= v[j][bits.TrailingZeros32(b)+1]
		}
		x[j] = d
	}
}
