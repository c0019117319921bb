package bayesopt

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// randomData is n points in [0, 1]^dim with a smooth standardised output.
func randomData(n, dim int, seed uint64) (x, y []float64) {
	rng := rand.New(rand.NewPCG(seed, 0))
	x = make([]float64, n*dim)
	for i := range x {
		x[i] = rng.Float64()
	}
	y = make([]float64, n)
	for i := range y {
		for d := range dim {
			y[i] += math.Sin(3*x[i*dim+d] + float64(d))
		}
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return x, standardise(y, idx)
}

// TestGradient compares the analytic gradient of the negative log posterior
// with central differences.
func TestGradient(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		dim   int
		theta []float64
	}{
		{"1-D", 8, 1, []float64{math.Log(0.3), 0.2, math.Log(1e-3)}},
		{"3-D", 20, 3, []float64{math.Log(0.2), math.Log(0.7), math.Log(2), -0.5, math.Log(0.05)}},
		{"long scales, high noise", 15, 2, []float64{math.Log(10), math.Log(20), 1, math.Log(0.5)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, y := randomData(tt.n, tt.dim, 1)
			f := newFitter(x, y, tt.dim)
			grad := make([]float64, len(tt.theta))
			f.negLogPost(tt.theta, grad)
			for i := range tt.theta {
				const h = 1e-5
				up, down := append([]float64(nil), tt.theta...), append([]float64(nil), tt.theta...)
				up[i] += h
				down[i] -= h
				num := (f.negLogPost(up, nil) - f.negLogPost(down, nil)) / (2 * h)
				if math.Abs(num-grad[i]) > 1e-4*math.Max(1, math.Abs(num)) {
					t.Errorf("d/dθ[%d]: analytic %.8g, numeric %.8g", i, grad[i], num)
				}
			}
		})
	}
}

// TestFitFindsTheScale fits data that vary along one feature only: the other
// feature's length scale must come out far longer.
func TestFitFindsTheScale(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 0))
	n := 30
	x := make([]float64, 2*n)
	y := make([]float64, n)
	idx := make([]int, n)
	for i := range n {
		x[2*i], x[2*i+1] = rng.Float64(), rng.Float64()
		y[i] = math.Sin(6 * x[2*i])
		idx[i] = i
	}
	h := fit(x, standardise(y, idx), 2, rng, fitBudget{starts: 3, candidates: 16, iterations: 60})
	if h.ls[1] < 5*h.ls[0] {
		t.Errorf("length scales %.3g, want the second (irrelevant) far longer than the first", h.ls)
	}
	if h.sn2 > 1e-2 {
		t.Errorf("noise %.3g on noise-free data, want it small", h.sn2)
	}
}

// TestCholeskyJitter factors matrices that are singular in floating point:
// jitter must rescue them, and the factor must reproduce the matrix.
func TestCholeskyJitter(t *testing.T) {
	tests := []struct {
		name      string
		a         [][]float64
		wantClean bool
	}{
		{"positive definite", [][]float64{{4, 2}, {2, 3}}, true},
		{"all ones", [][]float64{{1, 1, 1}, {1, 1, 1}, {1, 1, 1}}, false},
		{"slightly indefinite", [][]float64{{1, 1 + 1e-12}, {1 + 1e-12, 1}}, false},
		{"zero", [][]float64{{0, 0}, {0, 0}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(tt.a)
			a := make([]float64, n*n)
			jitter, ok := cholesky(a, n, n, func(a []float64) {
				for i := range n {
					copy(a[i*n:i*n+i+1], tt.a[i][:i+1])
				}
			})
			if !ok {
				t.Fatalf("cholesky failed")
			}
			if (jitter == 0) != tt.wantClean {
				t.Errorf("jitter %g, want jitter only when needed", jitter)
			}
			for i := range n {
				for j := 0; j <= i; j++ {
					sum := 0.0
					for k := 0; k <= j; k++ {
						sum += a[i*n+k] * a[j*n+k]
					}
					want := tt.a[i][j]
					if i == j {
						want += jitter
					}
					if math.Abs(sum-want) > 1e-9 || math.IsNaN(sum) {
						t.Errorf("(L Lᵀ)[%d][%d] = %g, want %g", i, j, sum, want)
					}
				}
			}
		})
	}
}

// TestModelWithDuplicates conditions a noise-free model on the same inputs
// again and again: the factorisation needs jitter, and predictions stay
// finite.
func TestModelWithDuplicates(t *testing.T) {
	x := []float64{0.2, 0.2, 0.2, 0.2, 0.7, 0.7, 0.2, 0.2}
	y := []float64{1, -1, 0.5, 1, -1.5, 0}
	h := hyper{ls: []float64{0.3, 0.3}, sf2: 1, sn2: 0}
	m, ok := newModel(h, 2, x[:8], y[:4], x[:4], 2)
	if !ok {
		t.Fatal("newModel failed on duplicated inputs")
	}
	m.add([]float64{0.2, 0.2})
	z := []float64{0.2, 0.2, 0.7, 0.7, 0.5, 0.5}
	mu, sd := make([]float64, 3), make([]float64, 3)
	m.predict(z, mu, sd)
	for i := range mu {
		if math.IsNaN(mu[i]) || math.IsInf(mu[i], 0) || math.IsNaN(sd[i]) || sd[i] <= 0 {
			t.Errorf("prediction %d: mean %g, sd %g", i, mu[i], sd[i])
		}
	}
}

// TestModelAgainstDirect checks the model's mean and variance against the
// textbook formulas computed with dense matrices, and the kriging believer's
// properties: a fantasy leaves the mean where it was, pins the variance at
// its point, and the cached predictions follow.
func TestModelAgainstDirect(t *testing.T) {
	dim, n := 2, 12
	x, y := randomData(n, dim, 5)
	h := hyper{ls: []float64{0.4, 0.6}, sf2: 1.3, sn2: 0.01}
	kern := func(a, b []float64) float64 {
		r := 0.0
		for d := range dim {
			r += (a[d] - b[d]) * (a[d] - b[d]) / (h.ls[d] * h.ls[d])
		}
		k, _ := matern52(math.Sqrt(r))
		return h.sf2 * k
	}
	pts := []float64{0.1, 0.9, 0.5, 0.5, x[0], x[1]}
	direct := func(rows []float64, fantasies []float64) (mu, variance []float64) {
		all := append(append([]float64(nil), rows...), fantasies...)
		nAll := len(all) / dim
		k := mat.NewSymDense(nAll, nil)
		for i := range nAll {
			for j := 0; j <= i; j++ {
				v := kern(all[i*dim:(i+1)*dim], all[j*dim:(j+1)*dim])
				if i == j {
					v += h.sn2
					if i >= n {
						v = h.sf2 * (1 + fantasyNoise)
					}
				}
				k.SetSym(i, j, v)
			}
		}
		var kinv mat.Dense
		if err := kinv.Inverse(k); err != nil {
			t.Fatal(err)
		}
		kobs := mat.NewSymDense(n, nil)
		for i := range n {
			for j := 0; j <= i; j++ {
				kobs.SetSym(i, j, k.At(i, j))
			}
		}
		var alpha mat.VecDense
		if err := alpha.SolveVec(kobs, mat.NewVecDense(n, append([]float64(nil), y...))); err != nil {
			t.Fatal(err)
		}
		for p := 0; p < len(pts)/dim; p++ {
			z := pts[p*dim : (p+1)*dim]
			ks := mat.NewVecDense(nAll, nil)
			for i := range nAll {
				ks.SetVec(i, kern(z, all[i*dim:(i+1)*dim]))
			}
			m := 0.0
			for i := range n {
				m += ks.AtVec(i) * alpha.AtVec(i)
			}
			var tmp mat.VecDense
			tmp.MulVec(&kinv, ks)
			mu = append(mu, m)
			variance = append(variance, h.sf2-mat.Dot(ks, &tmp))
		}
		return mu, variance
	}

	m, ok := newModel(h, dim, x, y, nil, 2)
	if !ok {
		t.Fatal("newModel failed")
	}
	c := m.cache(pts)
	compare := func(stage string, fantasies []float64) {
		t.Helper()
		wantMu, wantVar := direct(x, fantasies)
		mu, sd := make([]float64, len(wantMu)), make([]float64, len(wantMu))
		m.predict(pts, mu, sd)
		m.update(c)
		for i := range wantMu {
			wantSD := math.Sqrt(math.Max(wantVar[i], minVar*h.sf2))
			if math.Abs(mu[i]-wantMu[i]) > 1e-8 || math.Abs(sd[i]-wantSD) > 1e-6 {
				t.Errorf("%s, point %d: mean %.10g sd %.10g, want %.10g, %.10g", stage, i, mu[i], sd[i], wantMu[i], wantSD)
			}
			if math.Abs(c.mu[i]-mu[i]) > 1e-12 || math.Abs(c.sd[i]-sd[i]) > 1e-6 {
				t.Errorf("%s, point %d: cached mean %.10g sd %.10g, predicted %.10g, %.10g", stage, i, c.mu[i], c.sd[i], mu[i], sd[i])
			}
		}
	}
	compare("observations", nil)
	before := make([]float64, 3)
	m.predict(pts, before, make([]float64, 3))
	m.add(pts[2:4])
	compare("one fantasy", pts[2:4])
	m.add(pts[0:2])
	compare("two fantasies", pts[0:4])
	after, sd := make([]float64, 3), make([]float64, 3)
	m.predict(pts, after, sd)
	for i := range before {
		if math.Abs(after[i]-before[i]) > 1e-9 {
			t.Errorf("point %d: a fantasy moved the mean from %g to %g", i, before[i], after[i])
		}
	}
	if sd[1] > 1e-2 {
		t.Errorf("sd %g at a fantasy, want it pinned down", sd[1])
	}

	// Pending trials enter as fantasies from the start, and the best of
	// observations and fantasies is the incumbent.
	pending := []float64{0.5, 0.5, 0.05, 0.05}
	p, ok := newModel(h, dim, x, y, pending, 0)
	if !ok {
		t.Fatal("newModel with pending points failed")
	}
	wantMu, wantVar := direct(x, pending)
	mu := make([]float64, 3)
	p.predict(pts, mu, sd)
	for i := range wantMu {
		if wantSD := math.Sqrt(math.Max(wantVar[i], minVar*h.sf2)); math.Abs(mu[i]-wantMu[i]) > 1e-8 || math.Abs(sd[i]-wantSD) > 1e-6 {
			t.Errorf("with pending points, point %d: mean %.10g sd %.10g, want %.10g, %.10g", i, mu[i], sd[i], wantMu[i], wantSD)
		}
	}
	// A pending point far from the data, where the mean is back at the prior
	// mean 0, below every observation: the incumbent is the fantasy.
	shifted := make([]float64, n)
	for i := range y {
		shifted[i] = y[i] + 10
	}
	far := []float64{5, 5}
	q, ok := newModel(h, dim, x, shifted, far, 0)
	if !ok {
		t.Fatal("newModel with a far pending point failed")
	}
	fmu := make([]float64, 1)
	q.predict(far, fmu, make([]float64, 1))
	if q.best != fmu[0] || q.best >= slices.Min(shifted) {
		t.Errorf("incumbent %g, want the fantasy's mean %g, below the observations' best %g", q.best, fmu[0], slices.Min(shifted))
	}
}

// TestLogAcquisitions checks the tails of log Φ and log EI against direct
// formulas where those hold, their continuity where the formulas switch, and
// that they stay finite and ordered far out.
func TestLogAcquisitions(t *testing.T) {
	phi := func(z float64) float64 { return math.Exp(-z*z/2) / math.Sqrt(2*math.Pi) }
	cdf := func(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }
	for _, z := range []float64{-8, -3, -1, 0, 0.5, 2, 6} {
		if got, want := logPhi(z), math.Log(cdf(z)); math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("logPhi(%g) = %.12g, want %.12g", z, got, want)
		}
		if got, want := logEI(z), math.Log(phi(z)+z*cdf(z)); math.Abs(got-want) > 1e-7*math.Max(1, math.Abs(want)) {
			t.Errorf("logEI(%g) = %.12g, want %.12g", z, got, want)
		}
	}
	for _, tt := range []struct {
		name string
		f    func(float64) float64
		at   float64
	}{{"logPhi", logPhi, -30}, {"logEI", logEI, -10}} {
		if a, b := tt.f(tt.at-1e-9), tt.f(tt.at+1e-9); math.Abs(a-b) > 1e-5*math.Abs(a) {
			t.Errorf("%s jumps at %g: %.10g, %.10g", tt.name, tt.at, a, b)
		}
		prev := math.Inf(-1)
		for _, z := range []float64{-1e8, -1e4, -100, -40, -20, -5} {
			v := tt.f(z)
			if math.IsNaN(v) || math.IsInf(v, 0) || v <= prev {
				t.Errorf("%s(%g) = %g after %g: want finite and increasing", tt.name, z, v, prev)
			}
			prev = v
		}
	}
}

func TestHedgeStateRoundTrip(t *testing.T) {
	h := &hedgeState{gains: [numAcq]float64{0.5, -1.25, 1e-17}, proposals: []float64{0, 1, 0.1, 0.2, 1.0 / 3, 0.999}}
	got, err := parseHedgeState(h.format(2), 2)
	if err != nil {
		t.Fatal(err)
	}
	if got.gains != h.gains || len(got.proposals) != len(h.proposals) {
		t.Fatalf("round trip gave %+v, want %+v", got, h)
	}
	for i := range h.proposals {
		if got.proposals[i] != h.proposals[i] {
			t.Errorf("proposal %d: %g, want %g", i, got.proposals[i], h.proposals[i])
		}
	}
	p := (&hedgeState{gains: [numAcq]float64{0, math.Log(2), math.Log(5)}}).probabilities()
	if math.Abs(p[0]-0.125) > 1e-12 || math.Abs(p[1]-0.25) > 1e-12 || math.Abs(p[2]-0.625) > 1e-12 {
		t.Errorf("probabilities %v, want 1/8, 1/4, 5/8", p)
	}
	for _, bad := range []string{"", "gains=1,2", "gains=1,2,3;ei=0,0", "gains=1,2,3;ei=0,0;pi=0,0", "gains=1,2,NaN", "gains=1,2,3;ei=0,0;pi=0,0;ucb=0,x", "odds=1,2,3"} {
		if _, err := parseHedgeState(bad, 2); err == nil {
			t.Errorf("parseHedgeState(%q) succeeded", bad)
		}
	}
}

// The model's subset of a long history holds the best quarter and the
// latest quarter of the rest, in the history's order, and stays whole when
// the history is short enough.
func TestSubset(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	loss := make([]float64, 1000)
	for i := range loss {
		loss[i] = float64((i * 7919) % 1000) // every value in 0..999, shuffled
	}
	got := subset(loss, 100, 25, rng)
	if len(got) != 100 || !slices.IsSorted(got) {
		t.Fatalf("subset = %v, want 100 indices in order", got)
	}
	in := map[int]bool{}
	for _, i := range got {
		in[i] = true
	}
	for i, v := range loss {
		if v < 25 && !in[i] {
			t.Errorf("observation %d, among the best 25 (loss %v), left out", i, v)
		}
	}
	latest := 0
	for i := len(loss) - 1; i >= 0 && latest < 25; i-- {
		if loss[i] >= 25 {
			if !in[i] {
				t.Errorf("observation %d, among the latest 25 of the rest, left out", i)
			}
			latest++
		}
	}
	if short := subset(loss[:80], 100, 25, rng); len(short) != 80 {
		t.Errorf("subset of 80 = %d indices, want all 80", len(short))
	}
}
