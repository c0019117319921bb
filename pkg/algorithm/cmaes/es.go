package cmaes

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// params are the strategy parameters of a (μ/μ_w, λ)-CMA-ES in n dimensions
// with population λ: Hansen's defaults (The CMA Evolution Strategy: A
// Tutorial, 2016, table 1), with positive recombination weights only.
type params struct {
	n, lambda, mu int
	w             []float64 // recombination weights, summing to 1
	muEff         float64   // variance effective selection mass
	cs, ds        float64   // step-size cumulation and damping
	cc            float64   // cumulation for the rank-one update
	c1, cmu       float64   // learning rates of the rank-one and rank-μ updates
	chiN          float64   // E||N(0, I)||
}

// defaultLambda is the default population size, 4 + ⌊3 ln n⌋.
func defaultLambda(n int) int { return 4 + int(math.Floor(3*math.Log(float64(n)))) }

func newParams(n, lambda int) params {
	p := params{n: n, lambda: lambda, mu: lambda / 2}
	p.w = make([]float64, p.mu)
	var sum float64
	for i := range p.w {
		p.w[i] = math.Log(float64(lambda+1)/2) - math.Log(float64(i+1))
		sum += p.w[i]
	}
	var sq float64
	for i := range p.w {
		p.w[i] /= sum
		sq += p.w[i] * p.w[i]
	}
	p.muEff = 1 / sq
	nf := float64(n)
	p.cs = (p.muEff + 2) / (nf + p.muEff + 5)
	p.ds = 1 + 2*math.Max(0, math.Sqrt((p.muEff-1)/(nf+1))-1) + p.cs
	p.cc = (4 + p.muEff/nf) / (nf + 4 + 2*p.muEff/nf)
	p.c1 = 2 / ((nf+1.3)*(nf+1.3) + p.muEff)
	p.cmu = math.Min(1-p.c1, 2*(p.muEff-2+1/p.muEff)/((nf+2)*(nf+2)+p.muEff))
	p.chiN = math.Sqrt(nf) * (1 - 1/(4*nf) + 1/(21*nf*nf))
	return p
}

// dist is the search distribution N(mean, σ² C) in the unit cube and the
// evolution paths that adapt it.
type dist struct {
	mean  []float64
	sigma float64
	c     []float64 // n×n, row-major, symmetric
	ps    []float64 // conjugate evolution path, for σ
	pc    []float64 // evolution path, for C
}

func newDist(mean []float64, sigma float64) dist {
	n := len(mean)
	d := dist{mean: slices.Clone(mean), sigma: sigma, c: make([]float64, n*n), ps: make([]float64, n), pc: make([]float64, n)}
	for i := range n {
		d.c[i*n+i] = 1
	}
	return d
}

// eigen is C = B diag(d)² Bᵀ: the columns of b are C's eigenvectors and d
// holds the square roots of its eigenvalues.
type eigen struct {
	b []float64 // n×n, row-major
	d []float64
}

var errNotPositive = errors.New("covariance matrix not positive definite")

// decompose diagonalises C.
func (s *dist) decompose() (eigen, error) {
	n := len(s.mean)
	for _, v := range s.c {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return eigen{}, errNotPositive
		}
	}
	sym := mat.NewSymDense(n, slices.Clone(s.c))
	var es mat.EigenSym
	if !es.Factorize(sym, true) {
		return eigen{}, errNotPositive
	}
	e := eigen{b: make([]float64, n*n), d: es.Values(nil)}
	for i, v := range e.d {
		if !(v > 0) {
			return eigen{}, errNotPositive
		}
		e.d[i] = math.Sqrt(v)
	}
	var vecs mat.Dense
	es.VectorsTo(&vecs)
	for i := range n {
		for j := range n {
			e.b[i*n+j] = vecs.At(i, j)
		}
	}
	return e, nil
}

// sample returns mean + σ B (d ∘ z) for z ~ N(0, I), scaled by widen, and
// folded into the unit cube by reflection at its faces.
func (s *dist) sample(e eigen, rng *rand.Rand, widen float64) []float64 {
	n := len(s.mean)
	z := make([]float64, n)
	for i := range z {
		z[i] = e.d[i] * rng.NormFloat64()
	}
	x := make([]float64, n)
	for i := range n {
		v := 0.0
		for j := range n {
			v += e.b[i*n+j] * z[j]
		}
		x[i] = fold(s.mean[i] + widen*s.sigma*v)
	}
	return x
}

// fold folds v into [0, 1] by mirroring at 0 and 1: no point piles up on
// a face, as clipping would make it, and the density stays smooth.
func fold(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0.5
	}
	t := math.Mod(math.Abs(v), 2)
	if t > 1 {
		t = 2 - t
	}
	return t
}

// invSqrtMul returns C^(-1/2) y = B diag(1/d) Bᵀ y.
func (e eigen) invSqrtMul(y []float64) []float64 {
	n := len(y)
	t := make([]float64, n)
	for j := range n {
		var v float64
		for i := range n {
			v += e.b[i*n+j] * y[i]
		}
		t[j] = v / e.d[j]
	}
	out := make([]float64, n)
	for i := range n {
		var v float64
		for j := range n {
			v += e.b[i*n+j] * t[j]
		}
		out[i] = v
	}
	return out
}

// tell updates the distribution from λ members, sorted best first; g is
// the run's generation before this update. A member drawn from an earlier
// generation's distribution is injected as Hansen recommends (Injecting
// External Solutions Into CMA-ES, 2011): its step is shortened to a
// Mahalanobis length of at most √n + 2n/(n+2), so that it cannot throw σ
// and C off.
func (s *dist) tell(p params, e eigen, sorted []member, g int) {
	n := p.n
	limit := math.Sqrt(float64(n)) + 2*float64(n)/float64(n+2)
	y := make([][]float64, p.mu)
	yw := make([]float64, n)
	for k := range p.mu {
		y[k] = make([]float64, n)
		for i := range n {
			y[k][i] = (sorted[k].x[i] - s.mean[i]) / s.sigma
		}
		if sorted[k].gen != g {
			var norm float64
			for _, v := range e.invSqrtMul(y[k]) {
				norm += v * v
			}
			if norm = math.Sqrt(norm); norm > limit {
				for i := range y[k] {
					y[k][i] *= limit / norm
				}
			}
		}
		for i := range n {
			yw[i] += p.w[k] * y[k][i]
		}
	}
	for i := range n {
		s.mean[i] = math.Min(1, math.Max(0, s.mean[i]+s.sigma*yw[i]))
	}

	// Step size: cumulate the path in the isotropic frame, and grow σ when
	// it is longer than a random walk's, shrink it when shorter.
	cy := e.invSqrtMul(yw)
	a := math.Sqrt(p.cs * (2 - p.cs) * p.muEff)
	var norm float64
	for i := range n {
		s.ps[i] = (1-p.cs)*s.ps[i] + a*cy[i]
		norm += s.ps[i] * s.ps[i]
	}
	norm = math.Sqrt(norm)
	hs := 0.0
	if norm/math.Sqrt(1-math.Pow(1-p.cs, float64(2*(g+1)))) < (1.4+2/float64(n+1))*p.chiN {
		hs = 1
	}
	s.sigma *= math.Exp(p.cs / p.ds * (norm/p.chiN - 1))

	// Covariance: rank-one update from the evolution path, rank-μ update
	// from the selected steps.
	b := hs * math.Sqrt(p.cc*(2-p.cc)*p.muEff)
	for i := range n {
		s.pc[i] = (1-p.cc)*s.pc[i] + b*yw[i]
	}
	delta := (1 - hs) * p.cc * (2 - p.cc)
	keep := 1 + p.c1*delta - p.c1 - p.cmu
	for i := range n {
		for j := i; j < n; j++ {
			v := keep*s.c[i*n+j] + p.c1*s.pc[i]*s.pc[j]
			for k := range p.mu {
				v += p.cmu * p.w[k] * y[k][i] * y[k][j]
			}
			s.c[i*n+j], s.c[j*n+i] = v, v
		}
	}
}

// Termination tolerances, in the unit cube.
const (
	tolX      = 1e-10 // every coordinate's standard deviation below this
	tolFun    = 1e-12 // the best values of recent generations within this
	tolUp     = 1e3   // a standard deviation above this: diverging
	tolCond   = 1e14  // the covariance matrix's condition number
	maxLambda = 10000
)

// stopReason says why a run should end, or "" while it goes on. e is the
// new distribution's decomposition; hist holds the best loss of each of the
// run's last generations, losses the latest generation's.
func (s *dist) stopReason(p params, e eigen, g int, hist, losses []float64) string {
	n := p.n
	histLen := 10 + int(math.Ceil(30*float64(n)/float64(p.lambda)))
	if len(hist) >= histLen {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range append(slices.Clone(hist[len(hist)-histLen:]), losses...) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		if hi-lo < tolFun {
			return "tolfun"
		}
	}
	small := true
	for i := range n {
		if s.sigma*math.Sqrt(s.c[i*n+i]) >= tolX || s.sigma*math.Abs(s.pc[i]) >= tolX {
			small = false
			break
		}
	}
	if small {
		return "tolx"
	}
	dmax, dmin := slices.Max(e.d), slices.Min(e.d)
	if s.sigma*dmax > tolUp {
		return "tolup"
	}
	if (dmax/dmin)*(dmax/dmin) > tolCond {
		return "conditioncov"
	}
	// No effect along a principal axis (one per generation, in turn), or
	// along a coordinate.
	k := g % n
	axis := true
	for i := range n {
		if s.mean[i]+0.1*s.sigma*e.d[k]*e.b[i*n+k] != s.mean[i] {
			axis = false
			break
		}
	}
	if axis {
		return "noeffectaxis"
	}
	for i := range n {
		if s.mean[i]+0.2*s.sigma*math.Sqrt(s.c[i*n+i]) == s.mean[i] {
			return "noeffectcoord"
		}
	}
	return ""
}

// member is a point handed out to the search: its coordinates in the cube
// (unrounded), the run's generation whose distribution drew it, and, once
// known, its loss.
type member struct {
	gen  int
	x    []float64
	loss float64
}

func sortMembers(m []member) {
	sort.SliceStable(m, func(a, b int) bool { return m[a].loss < m[b].loss })
}
