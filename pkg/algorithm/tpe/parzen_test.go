package tpe

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestGamma(t *testing.T) {
	tests := []struct{ n, want int }{{0, 0}, {1, 1}, {9, 1}, {10, 1}, {11, 2}, {100, 10}, {241, 25}, {1000, 25}}
	for _, tt := range tests {
		if got := gamma(tt.n); got != tt.want {
			t.Errorf("gamma(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
}

func TestObsWeights(t *testing.T) {
	tests := []struct {
		n          int
		first      float64
		rampLength int
	}{
		{0, 0, 0},
		{1, 1, 0},
		{25, 1, 0},
		{26, 1.0 / 26, 1},
		{100, 0.01, 75},
	}
	for _, tt := range tests {
		w := obsWeights(tt.n)
		if len(w) != tt.n {
			t.Fatalf("obsWeights(%d) has %d weights", tt.n, len(w))
		}
		if tt.n == 0 {
			continue
		}
		if math.Abs(w[0]-tt.first) > 1e-12 {
			t.Errorf("obsWeights(%d)[0] = %g, want %g", tt.n, w[0], tt.first)
		}
		for i := 1; i < tt.n; i++ {
			if w[i] < w[i-1] {
				t.Errorf("obsWeights(%d): weight %d (%g) below weight %d (%g): newer must weigh at least as much", tt.n, i, w[i], i-1, w[i-1])
			}
		}
		for i := tt.rampLength; i < tt.n; i++ {
			if w[i] != 1 {
				t.Errorf("obsWeights(%d)[%d] = %g, want 1 for the newest 25", tt.n, i, w[i])
			}
		}
		for i := 2; i < tt.rampLength; i++ {
			if d0, d := w[1]-w[0], w[i]-w[i-1]; math.Abs(d-d0) > 1e-12 {
				t.Errorf("obsWeights(%d): step %d of the ramp is %g, the first %g: want a linear ramp", tt.n, i, d, d0)
			}
		}
	}
}

// integrate returns the integral of exp(logPDF) over [0, 1], by the midpoint
// rule.
func integrate(m *mixture) float64 {
	const steps = 50000
	sum := 0.0
	for i := range steps {
		sum += math.Exp(m.logPDF((float64(i) + 0.5) / steps))
	}
	return sum / steps
}

func TestMixture(t *testing.T) {
	tests := []struct {
		name string
		obs  []float64
		pw   float64
	}{
		{"prior only", nil, 1},
		{"one observation", []float64{0.2}, 1},
		{"unsorted", []float64{0.9, 0.1, 0.5, 0.3, 0.7}, 1},
		{"at the bounds", []float64{0, 1, 1, 0}, 1},
		{"duplicates", []float64{0.3, 0.3, 0.3}, 0.5},
		{"heavy prior", []float64{0.05, 0.06}, 50},
		{"many", func() []float64 {
			r := rand.New(rand.NewPCG(1, 2))
			v := make([]float64, 300)
			for i := range v {
				v[i] = r.Float64() * r.Float64()
			}
			return v
		}(), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := append([]float64(nil), tt.obs...)
			m := newMixture(obs, tt.pw)
			for i := range obs {
				if obs[i] != tt.obs[i] {
					t.Fatalf("newMixture changed its input: %v, was %v", obs, tt.obs)
				}
			}
			k := len(tt.obs) + 1
			if len(m.mu) != k {
				t.Fatalf("%d kernels, want %d (one per observation and the prior)", len(m.mu), k)
			}
			prior := -1
			for i := range m.mu {
				if i > 0 && m.mu[i] < m.mu[i-1] {
					t.Errorf("kernel centres out of order: %v", m.mu)
				}
				if m.mu[i] == 0.5 && m.sigma[i] == 1 && prior < 0 {
					prior = i
				}
				lo := 1 / math.Min(100, 1+float64(k))
				if i != prior && (m.sigma[i] < lo-1e-15 || m.sigma[i] > 1) {
					t.Errorf("bandwidth %d = %g outside [%g, 1]", i, m.sigma[i], lo)
				}
			}
			if prior < 0 {
				t.Errorf("no prior kernel (centre 0.5, bandwidth 1) among %v / %v", m.mu, m.sigma)
			}
			if got := m.cum[len(m.cum)-1]; math.Abs(got-1) > 1e-12 {
				t.Errorf("weights sum to %g, want 1", got)
			}
			if got := integrate(m); math.Abs(got-1) > 1e-3 {
				t.Errorf("the density integrates to %g over [0, 1], want 1", got)
			}
			// Draws follow the density: compare the mass below 0.25 with
			// the integral.
			rng := rand.New(rand.NewPCG(3, 4))
			const draws = 40000
			below := 0
			for range draws {
				x := m.sample(rng)
				if x < 0 || x > 1 {
					t.Fatalf("draw %g outside [0, 1]", x)
				}
				if x < 0.25 {
					below++
				}
			}
			want := 0.0
			for i := range 10000 {
				want += math.Exp(m.logPDF((float64(i)+0.5)/10000*0.25)) * 0.25 / 10000
			}
			if got := float64(below) / draws; math.Abs(got-want) > 0.015 {
				t.Errorf("%.3f of the draws below 0.25, the density puts %.3f there", got, want)
			}
		})
	}
}

func TestMixtureBandwidths(t *testing.T) {
	// Observations 0.1, 0.3, 0.9 and the prior at 0.5: the outer ones look
	// inwards, the inner ones take the larger gap to a neighbour.
	m := newMixture([]float64{0.9, 0.1, 0.3}, 1)
	wantMu := []float64{0.1, 0.3, 0.5, 0.9}
	wantSigma := []float64{0.2, 0.2, 1, 0.4}
	for i := range wantMu {
		if math.Abs(m.mu[i]-wantMu[i]) > 1e-12 || math.Abs(m.sigma[i]-wantSigma[i]) > 1e-12 {
			t.Errorf("kernel %d: centre %g bandwidth %g, want %g and %g", i, m.mu[i], m.sigma[i], wantMu[i], wantSigma[i])
		}
	}
}

func TestCategories(t *testing.T) {
	c := newCategories([]int{2, 2, 0}, 4, 1)
	// The prior gives 1/4 to each category; each observation 1/2 to its
	// own and 1/8 to every category (it spreads 1/(3+1) = 1/4 of itself per
	// category before normalising to 1); over a total weight of 4.
	want := []float64{(0.25 + 3.0/8 + 0.5) / 4, (0.25 + 3.0/8) / 4, (0.25 + 3.0/8 + 1) / 4, (0.25 + 3.0/8) / 4}
	for i, p := range want {
		if got := math.Exp(c.logP[i]); math.Abs(got-p) > 1e-12 {
			t.Errorf("P(%d) = %g, want %g", i, got, p)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	counts := make([]int, 4)
	for range 70000 {
		counts[c.sample(rng)]++
	}
	for i, p := range want {
		if got := float64(counts[i]) / 70000; math.Abs(got-p) > 0.01 {
			t.Errorf("category %d drawn %.3f of the time, want %.3f", i, got, p)
		}
	}
}

func TestPick(t *testing.T) {
	cum := []float64{0.25, 0.5, 0.5, 0.9999999999}
	tests := []struct {
		u    float64
		want int
	}{{0, 0}, {0.2499, 0}, {0.25, 1}, {0.5, 3}, {0.99999999999, 3}}
	for _, tt := range tests {
		if got := pick(cum, tt.u); got != tt.want {
			t.Errorf("pick(%g) = %d, want %d", tt.u, got, tt.want)
		}
	}
}

// The score takes every kernel at the same height. The expected values are
// those Optuna 3.1.0's Parzen estimator gives (log_pdf, prior weight 1,
// magic clip, no endpoints) for the same observations on [0, 1].
func TestMixtureScore(t *testing.T) {
	m := newMixture([]float64{0.1, 0.7, 0.72, 0.3, 0.95, 0.5, 0.2}, 1)
	want := map[float64]float64{0: -1.68173745, 0.05: -1.49913189, 0.3: -1.28109512, 0.5: -1.22036041, 0.71: -1.13345183, 0.99: -1.39087154}
	for x, w := range want {
		if got := m.logScore(x); math.Abs(got-w) > 1e-6 {
			t.Errorf("score at %g = %.8f, want %.8f", x, got, w)
		}
	}
	// With the prior alone (bandwidth 1) score and density agree.
	p := newMixture(nil, 1)
	for _, x := range []float64{0, 0.3, 1} {
		if a, b := p.logScore(x), p.logPDF(x); math.Abs(a-b) > 1e-12 {
			t.Errorf("prior only: score %g and density %g at %g differ", a, b, x)
		}
	}
}
