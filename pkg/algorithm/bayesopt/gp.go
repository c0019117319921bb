package bayesopt

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/optimize"
)

const sqrt5 = 2.23606797749979

// matern52 returns the Matérn 5/2 correlation at scaled distance r, and
// c(r) = (5/3)(1 + √5 r) e^(-√5 r), the factor of its derivative with respect
// to a log length scale (d k / d log ℓ = c(r) Δ²/ℓ²).
func matern52(r float64) (k, c float64) {
	e := math.Exp(-sqrt5 * r)
	k = (1 + sqrt5*r + 5*r*r/3) * e
	c = 5.0 / 3 * (1 + sqrt5*r) * e
	return k, c
}

// hyper are the kernel's hyperparameters, for standardised outputs and
// features in the unit cube.
type hyper struct {
	ls  []float64 // length scale of each feature (ARD)
	sf2 float64   // signal variance
	sn2 float64   // noise variance
}

// Bounds and priors of the hyperparameters, on their logarithms. Outputs are
// standardised and inputs live in [0, 1], so the same bounds suit every
// problem. The priors are weak normals on the logs (a MAP fit): they keep a
// handful of points from driving a length scale or the noise to a bound.
var (
	lsBounds    = [2]float64{math.Log(0.01), math.Log(50)}
	sf2Bounds   = [2]float64{math.Log(0.01), math.Log(100)}
	sn2Bounds   = [2]float64{math.Log(1e-6), math.Log(1)}
	sf2Prior    = [2]float64{0, 1.5}            // mean, sd of log sf2
	sn2Prior    = [2]float64{math.Log(1e-3), 3} // of log sn2
	lsPriorSD   = 1.5                           // sd of log ℓ
	lsPriorMean = func(dim int) float64 {       // mean of log ℓ
		return math.Log(0.5) + 0.5*math.Log(float64(max(dim, 1)))
	}
)

// cholesky factors in place the n×n matrix that fill writes into the lower
// triangle of a (row-major, of the given stride). When the matrix is not
// numerically positive definite it refills it and retries with growing
// jitter on the diagonal. It returns the jitter used, and false when even the
// largest failed.
func cholesky(a []float64, n, stride int, fill func(a []float64)) (float64, bool) {
	fill(a)
	scale := 0.0
	for i := range n {
		scale = math.Max(scale, math.Abs(a[i*stride+i]))
	}
	if scale == 0 || math.IsNaN(scale) || math.IsInf(scale, 0) {
		scale = 1
	}
	sym := blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: stride, Data: a}
	if _, ok := lapack64.Potrf(sym); ok {
		return 0, true
	}
	for jitter := 1e-10 * scale; jitter <= 1e-1*scale; jitter *= 10 {
		fill(a)
		for i := range n {
			a[i*stride+i] += jitter
		}
		if _, ok := lapack64.Potrf(sym); ok {
			return jitter, true
		}
	}
	return 0, false
}

// fitter evaluates the negative log posterior of the hyperparameters, with
// its gradient, on m points.
type fitter struct {
	m, dim int
	x      []float64 // m×dim features
	y      []float64 // standardised outputs
	xs     []float64 // scaled features
	k      []float64 // kernel, then its factor, then its inverse
	alpha  []float64
	ls     []float64
	gtheta []float64

	// The last evaluation, as gonum asks for value and gradient separately.
	lastU    []float64
	lastF    float64
	lastGrad []float64
	hasLast  bool
}

func newFitter(x, y []float64, dim int) *fitter {
	m := len(y)
	return &fitter{
		m: m, dim: dim, x: x, y: y,
		xs: make([]float64, m*dim), k: make([]float64, m*m),
		alpha: make([]float64, m), ls: make([]float64, dim), gtheta: make([]float64, dim+2),
		lastU: make([]float64, dim+2), lastGrad: make([]float64, dim+2),
	}
}

// nParams is the length of a hyperparameter vector: the log length scales, log
// sf2 and log sn2.
func (f *fitter) nParams() int { return f.dim + 2 }

// bounds returns the bounds of the i-th log-hyperparameter.
func (f *fitter) bounds(i int) (lo, hi float64) {
	switch {
	case i < f.dim:
		return lsBounds[0], lsBounds[1]
	case i == f.dim:
		return sf2Bounds[0], sf2Bounds[1]
	}
	return sn2Bounds[0], sn2Bounds[1]
}

// theta maps an unconstrained vector u to log-hyperparameters within their
// bounds, through a logistic function; dtheta receives dθ/du.
func (f *fitter) theta(u, theta, dtheta []float64) {
	for i := range u {
		lo, hi := f.bounds(i)
		s := 1 / (1 + math.Exp(-u[i]))
		theta[i] = lo + (hi-lo)*s
		if dtheta != nil {
			dtheta[i] = (hi - lo) * s * (1 - s)
		}
	}
}

// unconstrained is the inverse of theta.
func (f *fitter) unconstrained(theta, u []float64) {
	for i := range theta {
		lo, hi := f.bounds(i)
		s := (theta[i] - lo) / (hi - lo)
		s = math.Min(math.Max(s, 1e-6), 1-1e-6)
		u[i] = math.Log(s / (1 - s))
	}
}

// negLogPost returns minus the log marginal likelihood plus log prior at the
// log-hyperparameters theta, and its gradient in grad unless grad is nil.
func (f *fitter) negLogPost(theta, grad []float64) float64 {
	m, dim := f.m, f.dim
	for d := range dim {
		f.ls[d] = math.Exp(theta[d])
	}
	sf2, sn2 := math.Exp(theta[dim]), math.Exp(theta[dim+1])
	for i := range m {
		for d := range dim {
			f.xs[i*dim+d] = f.x[i*dim+d] / f.ls[d]
		}
	}
	fill := func(a []float64) {
		for i := range m {
			xi := f.xs[i*dim : (i+1)*dim]
			for j := range i {
				k, _ := matern52(dist(xi, f.xs[j*dim:(j+1)*dim]))
				a[i*m+j] = sf2 * k
			}
			a[i*m+i] = sf2 + sn2
		}
	}
	if _, ok := cholesky(f.k, m, m, fill); !ok {
		if grad != nil {
			clear(grad)
		}
		return 1e10
	}
	tri := blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: m, Stride: m, Data: f.k}
	copy(f.alpha, f.y)
	vec := blas64.Vector{N: m, Inc: 1, Data: f.alpha}
	blas64.Trsv(blas.NoTrans, tri, vec)
	fit := 0.0
	for _, a := range f.alpha {
		fit += a * a
	}
	logdet := 0.0
	for i := range m {
		logdet += math.Log(f.k[i*m+i])
	}
	blas64.Trsv(blas.Trans, tri, vec)
	lml := -0.5*fit - logdet - 0.5*float64(m)*math.Log(2*math.Pi)

	// Log prior, and its gradient.
	lp := 0.0
	lsMean := lsPriorMean(dim)
	for d := range dim {
		z := (theta[d] - lsMean) / lsPriorSD
		lp -= 0.5 * z * z
		f.gtheta[d] = -z / lsPriorSD
	}
	z := (theta[dim] - sf2Prior[0]) / sf2Prior[1]
	lp -= 0.5 * z * z
	f.gtheta[dim] = -z / sf2Prior[1]
	z = (theta[dim+1] - sn2Prior[0]) / sn2Prior[1]
	lp -= 0.5 * z * z
	f.gtheta[dim+1] = -z / sn2Prior[1]

	value := -(lml + lp)
	if math.IsNaN(value) || math.IsInf(value, 0) {
		if grad != nil {
			clear(grad)
		}
		return 1e10
	}
	if grad == nil {
		return value
	}

	// d lml / d θ = ½ tr((ααᵀ - K⁻¹) dK/dθ).
	if _, ok := lapack64.Potri(tri); !ok {
		clear(grad)
		return value
	}
	trace := 0.0
	for i := range m {
		trace += f.alpha[i]*f.alpha[i] - f.k[i*m+i]
	}
	gsf2 := 0.5 * trace * sf2
	gsn2 := 0.5 * trace * sn2
	gls := grad[:dim]
	clear(gls)
	for i := range m {
		xi := f.xs[i*dim : (i+1)*dim]
		for j := range i {
			xj := f.xs[j*dim : (j+1)*dim]
			w := f.alpha[i]*f.alpha[j] - f.k[i*m+j]
			k, c := matern52(dist(xi, xj))
			gsf2 += w * sf2 * k // twice for the symmetric pair, halved
			wc := w * sf2 * c
			for d := range dim {
				diff := xi[d] - xj[d]
				gls[d] += wc * diff * diff
			}
		}
	}
	for d := range dim {
		grad[d] = -(gls[d] + f.gtheta[d])
	}
	grad[dim] = -(gsf2 + f.gtheta[dim])
	grad[dim+1] = -(gsn2 + f.gtheta[dim+1])
	for _, g := range grad {
		if math.IsNaN(g) || math.IsInf(g, 0) {
			clear(grad)
			break
		}
	}
	return value
}

// objective evaluates at unconstrained u, caching the last evaluation.
func (f *fitter) objective(u []float64) (float64, []float64) {
	if f.hasLast && sameVec(u, f.lastU) {
		return f.lastF, f.lastGrad
	}
	n := f.nParams()
	theta, dtheta := make([]float64, n), make([]float64, n)
	f.theta(u, theta, dtheta)
	gt := make([]float64, n)
	v := f.negLogPost(theta, gt)
	for i := range gt {
		gt[i] *= dtheta[i]
	}
	copy(f.lastU, u)
	f.lastF, f.lastGrad, f.hasLast = v, gt, true
	return v, gt
}

// fitBudget bounds the work of one hyperparameter fit.
type fitBudget struct {
	starts     int // L-BFGS runs
	candidates int // random hyperparameter vectors screened for starts
	iterations int // L-BFGS iterations per run
}

// fit finds the hyperparameters maximising the log posterior on the points x
// (m×dim) with standardised outputs y: it screens the prior's mean and random
// vectors, runs L-BFGS on the log-hyperparameters from the best few, and keeps
// the best result. It falls back on the prior's mean when nothing works.
func fit(x, y []float64, dim int, rng *rand.Rand, b fitBudget) hyper {
	f := newFitter(x, y, dim)
	n := f.nParams()
	type start struct {
		theta []float64
		value float64
	}
	def := make([]float64, n)
	for d := range dim {
		def[d] = lsPriorMean(dim)
	}
	def[dim], def[dim+1] = sf2Prior[0], sn2Prior[0]
	starts := []start{{def, f.negLogPost(def, nil)}}
	for range b.candidates {
		th := make([]float64, n)
		for d := range dim {
			th[d] = math.Log(0.05) + rng.Float64()*(math.Log(5)-math.Log(0.05))
		}
		th[dim] = math.Log(0.3) + rng.Float64()*(math.Log(3)-math.Log(0.3))
		th[dim+1] = math.Log(1e-5) + rng.Float64()*(math.Log(0.1)-math.Log(1e-5))
		starts = append(starts, start{th, f.negLogPost(th, nil)})
	}
	// Keep the prior's mean as a start and the best screened vectors.
	rest := starts[1:]
	for i := range rest {
		for j := i + 1; j < len(rest); j++ {
			if rest[j].value < rest[i].value {
				rest[i], rest[j] = rest[j], rest[i]
			}
		}
	}
	if len(starts) > b.starts {
		starts = starts[:max(b.starts, 1)]
	}

	best, bestValue := def, starts[0].value
	for _, s := range starts {
		if s.value < bestValue {
			best, bestValue = s.theta, s.value
		}
	}
	prob := optimize.Problem{
		Func: func(u []float64) float64 { v, _ := f.objective(u); return v },
		Grad: func(grad, u []float64) { _, g := f.objective(u); copy(grad, g) },
	}
	settings := &optimize.Settings{
		MajorIterations:   b.iterations,
		FuncEvaluations:   3 * b.iterations,
		GradientThreshold: 1e-5,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-6, Relative: 1e-8, Iterations: 5},
	}
	for _, s := range starts {
		u := make([]float64, n)
		f.unconstrained(s.theta, u)
		res, err := optimize.Minimize(prob, u, settings, &optimize.LBFGS{Store: 10})
		if res == nil || (err != nil && res.X == nil) {
			continue
		}
		th := make([]float64, n)
		f.theta(res.X, th, nil)
		if v := f.negLogPost(th, nil); v < bestValue && !math.IsNaN(v) {
			best, bestValue = th, v
		}
	}
	h := hyper{ls: make([]float64, dim), sf2: math.Exp(best[dim]), sn2: math.Exp(best[dim+1])}
	for d := range dim {
		h.ls[d] = math.Exp(best[d])
	}
	return h
}

// model is a Gaussian process fitted to standardised observations, that can
// take in fantasies: points believed to come out at the model's mean (the
// kriging believer). A fantasy leaves the mean where it is and shrinks the
// variance around it, so the mean comes from the observations alone while
// the variance comes from observations and fantasies together. Fantasies are
// all but noise-free (see fantasyNoise).
type model struct {
	dim    int
	h      hyper
	sf2    float64 // prior variance of the latent function
	nObs   int     // observations: the first rows
	n      int     // rows: observations, then fantasies
	stride int     // row capacity
	xs     []float64
	l      []float64 // Cholesky factor of the rows' kernel, stride × stride
	alpha  []float64 // K_obs⁻¹ y
	best   float64   // lowest standardised observation or fantasy

	kc []float64 // scratch: cross-kernel of a batch
}

// fantasyNoise is the noise variance of a fantasy, relative to the signal's.
// Fantasies are all but noise-free: with the model's own noise, a fantasy
// would shrink the variance at its point only so far, and a batch could pile
// up there; pinned down, it pushes the next points away.
const fantasyNoise = 1e-6

// predictChunk is the batch size of predict: it bounds the scratch memory.
const predictChunk = 128

// newModel conditions the GP with hyperparameters h on the observations (x,
// y), then on fantasies at pending; room says how many more fantasies add may
// take in.
func newModel(h hyper, dim int, x, y, pending []float64, room int) (*model, bool) {
	nObs := len(y)
	nPend := 0
	if dim > 0 {
		nPend = len(pending) / dim
	}
	n := nObs + nPend
	m := &model{
		dim: dim, h: h, sf2: h.sf2, nObs: nObs, n: n, stride: n + room,
		alpha: make([]float64, nObs), kc: make([]float64, predictChunk*(n+room)),
	}
	m.xs = make([]float64, m.stride*dim)
	for i := range n {
		src := x
		row := i
		if i >= nObs {
			src, row = pending, i-nObs
		}
		for d := range dim {
			m.xs[i*dim+d] = src[row*dim+d] / h.ls[d]
		}
	}
	m.l = make([]float64, m.stride*m.stride)
	fill := func(a []float64) {
		for i := range n {
			xi := m.xs[i*dim : (i+1)*dim]
			for j := range i {
				k, _ := matern52(dist(xi, m.xs[j*dim:(j+1)*dim]))
				a[i*m.stride+j] = h.sf2 * k
			}
			a[i*m.stride+i] = h.sf2 + h.sn2
			if i >= nObs {
				a[i*m.stride+i] = h.sf2 * (1 + fantasyNoise)
			}
		}
	}
	if _, ok := cholesky(m.l, n, m.stride, fill); !ok {
		return nil, false
	}
	// The leading block of the factor is the factor of the observations.
	copy(m.alpha, y)
	obs := blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: nObs, Stride: m.stride, Data: m.l}
	vec := blas64.Vector{N: nObs, Inc: 1, Data: m.alpha}
	blas64.Trsv(blas.NoTrans, obs, vec)
	blas64.Trsv(blas.Trans, obs, vec)
	m.best = math.Inf(1)
	for _, v := range y {
		m.best = math.Min(m.best, v)
	}
	for _, a := range m.alpha {
		if math.IsNaN(a) || math.IsInf(a, 0) {
			return nil, false
		}
	}
	// Believed to come out at the mean, the fantasies may hold the best.
	if nPend > 0 {
		mu, sd := make([]float64, nPend), make([]float64, nPend)
		m.predict(pending, mu, sd)
		for _, v := range mu {
			m.best = math.Min(m.best, v)
		}
	}
	return m, true
}

// minVar is the floor of the predictive variance, relative to the prior's: it
// keeps the acquisitions finite at points the model has seen.
const minVar = 1e-12

// predict writes the standardised mean and standard deviation of the latent
// function at each of the points whose features fill z (rows of dim).
func (m *model) predict(z []float64, mu, sd []float64) {
	for start := 0; start < len(mu); start += predictChunk {
		b := min(predictChunk, len(mu)-start)
		m.predictRows(z[start*m.dim:(start+b)*m.dim], mu[start:start+b], sd[start:start+b], m.kc[:b*m.n], m.n)
	}
}

// predictRows is predict for len(mu) rows, leaving in v (rows of stride) the
// solved cross-kernel L⁻¹ k(x, row), whose squares the variance subtracts.
func (m *model) predictRows(z []float64, mu, sd []float64, v []float64, stride int) {
	dim, rows := m.dim, len(mu)
	scaled := make([]float64, dim)
	for r := range rows {
		zr := z[r*dim : (r+1)*dim]
		for d := range dim {
			scaled[d] = zr[d] / m.h.ls[d]
		}
		row := v[r*stride : r*stride+m.n]
		mean := 0.0
		for i := range m.n {
			k, _ := matern52(dist(scaled, m.xs[i*dim:(i+1)*dim]))
			row[i] = m.sf2 * k
			if i < m.nObs {
				mean += row[i] * m.alpha[i]
			}
		}
		mu[r] = mean
	}
	if m.n > 0 && rows > 0 {
		tri := blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: m.n, Stride: m.stride, Data: m.l}
		blas64.Trsm(blas.Right, blas.Trans, 1, tri, blas64.General{Rows: rows, Cols: m.n, Stride: stride, Data: v})
	}
	for r := range rows {
		variance := m.sf2
		for _, x := range v[r*stride : r*stride+m.n] {
			variance -= x * x
		}
		m.finish(&mu[r], &sd[r], variance)
	}
}

// finish floors the variance into a standard deviation and keeps NaN out.
func (m *model) finish(mu, sd *float64, variance float64) {
	*sd = math.Sqrt(math.Max(variance, minVar*m.sf2))
	if math.IsNaN(*mu) || math.IsInf(*mu, 0) || math.IsNaN(*sd) {
		*mu, *sd = 0, math.Sqrt(m.sf2)
	}
}

// add takes in a fantasy at the point with features z, believed to come out
// at the model's mean there: one more row of the Cholesky factor.
func (m *model) add(z []float64) {
	if m.n >= m.stride {
		return
	}
	dim := m.dim
	mu, sd := make([]float64, 1), make([]float64, 1)
	m.predict(z, mu, sd)
	m.best = math.Min(m.best, mu[0])
	row := m.l[m.n*m.stride : m.n*m.stride+m.n+1]
	xn := m.xs[m.n*dim : (m.n+1)*dim]
	for d := range dim {
		xn[d] = z[d] / m.h.ls[d]
	}
	for i := range m.n {
		k, _ := matern52(dist(xn, m.xs[i*dim:(i+1)*dim]))
		row[i] = m.sf2 * k
	}
	if m.n > 0 {
		tri := blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: m.n, Stride: m.stride, Data: m.l}
		blas64.Trsv(blas.NoTrans, tri, blas64.Vector{N: m.n, Inc: 1, Data: row[:m.n]})
	}
	d2 := m.sf2 * (1 + fantasyNoise)
	for _, v := range row[:m.n] {
		d2 -= v * v
	}
	row[m.n] = math.Sqrt(math.Max(d2, 1e-10*m.sf2))
	m.n++
}

// cached holds predictions at fixed points (the candidate pool) with their
// solved cross-kernel rows, so that a fantasy updates them in O(n) a point
// rather than the O(n²) of predicting afresh.
type cached struct {
	z        []float64
	mu, sd   []float64
	variance []float64
	v        []float64 // rows of the model's stride
	n        int       // model rows the cache accounts for
}

// cache predicts at the points whose features fill z.
func (m *model) cache(z []float64) *cached {
	rows := len(z) / max(m.dim, 1)
	c := &cached{z: z, mu: make([]float64, rows), sd: make([]float64, rows), variance: make([]float64, rows),
		v: make([]float64, rows*m.stride), n: m.n}
	m.predictRows(z, c.mu, c.sd, c.v, m.stride)
	for r := range rows {
		c.variance[r] = m.sf2
		for _, x := range c.v[r*m.stride : r*m.stride+m.n] {
			c.variance[r] -= x * x
		}
	}
	return c
}

// update brings the cache up to the fantasies added since: each adds one
// column to the solved rows, v_new = (k(x, x_new) - v·l) / d, where (l, d) is
// the factor's new row, and takes v_new² off the variance.
func (m *model) update(c *cached) {
	dim := m.dim
	scaled := make([]float64, dim)
	for ; c.n < m.n; c.n++ {
		row := m.l[c.n*m.stride : c.n*m.stride+c.n+1]
		xn := m.xs[c.n*dim : (c.n+1)*dim]
		for r := range c.mu {
			zr := c.z[r*dim : (r+1)*dim]
			for d := range dim {
				scaled[d] = zr[d] / m.h.ls[d]
			}
			k, _ := matern52(dist(scaled, xn))
			vr := c.v[r*m.stride : r*m.stride+c.n+1]
			dot := 0.0
			for i, x := range vr[:c.n] {
				dot += x * row[i]
			}
			vr[c.n] = (m.sf2*k - dot) / row[c.n]
			c.variance[r] -= vr[c.n] * vr[c.n]
			m.finish(&c.mu[r], &c.sd[r], c.variance[r])
		}
	}
}

func dist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return math.Sqrt(s)
}

func sameVec(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
