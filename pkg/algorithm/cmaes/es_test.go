package cmaes

import (
	"encoding/base64"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// TestConvergesOnEllipsoid drives the strategy itself, with no search
// space: on an ellipsoid in the unit cube it must converge linearly, as
// CMA-ES does, to the optimum within a budget Hansen's results put it in.
func TestConvergesOnEllipsoid(t *testing.T) {
	tests := []struct {
		n, gens int
	}{
		{2, 100}, {5, 200}, {10, 300},
	}
	for _, tt := range tests {
		f := func(x []float64) float64 {
			var s float64
			for i, v := range x {
				c := 0.3 + 0.02*float64(i)
				s += float64(i+1) * (v - c) * (v - c)
			}
			return s
		}
		s := newState(tt.n, 0.1)
		p := newParams(tt.n, s.lambda)
		rng := rand.New(rand.NewPCG(1, 2))
		for g := range tt.gens {
			e, err := s.decompose()
			if err != nil {
				t.Fatalf("n=%d, generation %d: %v", tt.n, g, err)
			}
			gen := make([]member, s.lambda)
			for k := range gen {
				x := s.sample(e, rng, 1)
				gen[k] = member{gen: g, x: x, loss: f(x)}
			}
			sortMembers(gen)
			s.tell(p, e, gen, g)
		}
		if v := f(s.mean); !(v < 1e-12) {
			t.Errorf("n=%d: f(mean) = %g after %d generations, want below 1e-12", tt.n, v, tt.gens)
		}
	}
}

func TestParams(t *testing.T) {
	// Hansen's tutorial, n = 10: λ = 10, μ = 5, μ_eff ≈ 3.17.
	p := newParams(10, defaultLambda(10))
	if p.lambda != 10 || p.mu != 5 {
		t.Errorf("λ, μ = %d, %d; want 10, 5", p.lambda, p.mu)
	}
	var sum float64
	for i, w := range p.w {
		sum += w
		if i > 0 && w >= p.w[i-1] {
			t.Errorf("weights %v do not decrease", p.w)
		}
	}
	if math.Abs(sum-1) > 1e-12 || math.Abs(p.muEff-3.1672) > 1e-3 {
		t.Errorf("Σw = %g, μ_eff = %g; want 1, 3.1672", sum, p.muEff)
	}
	if p.c1+p.cmu > 1 || p.cs >= 1 || p.cc > 1 {
		t.Errorf("learning rates c1 %g, cμ %g, cσ %g, cc %g out of range", p.c1, p.cmu, p.cs, p.cc)
	}
}

func TestFold(t *testing.T) {
	for _, tt := range []struct{ in, want float64 }{
		{0.3, 0.3}, {0, 0}, {1, 1}, {-0.25, 0.25}, {1.25, 0.75}, {2.5, 0.5}, {-1.75, 0.25}, {math.Inf(1), 0.5}, {math.NaN(), 0.5},
	} {
		if got := fold(tt.in); math.Abs(got-tt.want) > 1e-15 {
			t.Errorf("fold(%g) = %g, want %g", tt.in, got, tt.want)
		}
	}
}

func TestStateRoundTrip(t *testing.T) {
	s := newState(3, 0.2)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range s.c {
		s.c[i] = 0
	}
	for i := range 3 {
		s.mean[i], s.ps[i], s.pc[i] = rng.Float64(), rng.NormFloat64(), rng.NormFloat64()
		for j := i; j < 3; j++ {
			v := rng.Float64()
			if i == j {
				v += 3
			}
			s.c[i*3+j], s.c[j*3+i] = v, v
		}
	}
	s.lambda, s.gen, s.runs, s.largeRuns, s.large = 14, 7, 2, 1, true
	s.runEvals, s.smallEvals, s.largeEvals = 98, 30, 12
	s.hist = []float64{3, 2.5, math.Inf(1)}
	got, err := decodeState(s.encode(), 3)
	if err != nil {
		t.Fatalf("decodeState: %v", err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("round trip gave %+v, want %+v", got, s)
	}

	pop := []member{{gen: 0, x: []float64{0, 0.5, 1}}, {gen: 7, x: []float64{0.25, 0.125, 0.999}}}
	back, err := decodePopulation(encodePopulation(pop, 3), 3)
	if err != nil || !reflect.DeepEqual(back, pop) {
		t.Errorf("population round trip: %v, %v; want %v", back, err, pop)
	}
	if back, err := decodePopulation(encodePopulation(nil, 3), 3); err != nil || len(back) != 0 {
		t.Errorf("empty population round trip: %v, %v", back, err)
	}
}

// trailing appends a byte to an encoded record.
func trailing(text string) string {
	raw, _ := base64.StdEncoding.DecodeString(text)
	return base64.StdEncoding.EncodeToString(append(raw, 0))
}

func TestDecodeRejects(t *testing.T) {
	good := newState(2, 0.2)
	enc := good.encode()
	mutate := func(f func(*state)) string {
		s := newState(2, 0.2)
		f(s)
		return s.encode()
	}
	tests := []struct {
		name, text, want string
		n                int
	}{
		{"not base64", "@@@", "not base64", 2},
		{"empty", "", "too short", 2},
		{"other dimension", enc, "written for 2 numeric parameters, the experiment has 3", 3},
		{"truncated", enc[:len(enc)-8], "too short", 2},
		{"trailing bytes", trailing(enc), "too long", 2},
		{"population of one", mutate(func(s *state) { s.lambda = 1 }), "population 1 out of range", 2},
		{"zero step size", mutate(func(s *state) { s.sigma = 0 }), "step size 0 out of range", 2},
		{"NaN in C", mutate(func(s *state) { s.c[1] = math.NaN() }), "not a number", 2},
		{"mean outside", mutate(func(s *state) { s.mean[0] = 1.5 }), "mean outside the unit cube", 2},
		{"history too long", mutate(func(s *state) { s.hist = make([]float64, 200) }), "history too long", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeState(tt.text, tt.n)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("decodeState: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("decodeState: %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := decodePopulation(encodePopulation([]member{{x: []float64{0.5, 2}}}, 2), 2); err == nil {
		t.Errorf("a member outside the cube was accepted")
	}
	if _, err := decodePopulation(encodePopulation([]member{{x: []float64{0.5, 0.5}}}, 2)[:8], 2); err == nil {
		t.Errorf("a truncated population was accepted")
	}
}

// TestRestartSchedules checks the population sizes and regimes restarts go
// through.
func TestRestartSchedules(t *testing.T) {
	const n = 4 // λ0 = 8
	type step struct {
		evals  int // evaluations of the run that ends
		lambda int // of the next run; 0 for any in [λ0, max]
		large  bool
		max    int
	}
	tests := []struct {
		strategy string
		steps    []step
	}{
		{RestartIPOP, []step{{80, 16, false, 0}, {160, 32, false, 0}, {320, 64, false, 0}}},
		{RestartBIPOP, []step{
			{80, 16, true, 0},   // first run (small regime, 80) > large (0): large, 2λ0
			{160, 0, false, 8},  // small 80 < large 160: small, λ in [8, 8]
			{50, 0, false, 8},   // small 130 < 160: small again
			{40, 32, true, 0},   // small 170 ≥ 160: large, 4λ0
			{400, 0, false, 16}, // small 170 < 560: small, λ in [8, 16]
		}},
	}
	for _, tt := range tests {
		t.Run(tt.strategy, func(t *testing.T) {
			s := newState(n, 0.25)
			rng := rand.New(rand.NewPCG(5, 6))
			for i, st := range tt.steps {
				s.runEvals = st.evals
				s.restart(tt.strategy, 0.25, rng)
				if s.runs != i+1 || s.gen != 0 || s.runEvals != 0 {
					t.Fatalf("restart %d: runs %d, gen %d, runEvals %d", i+1, s.runs, s.gen, s.runEvals)
				}
				switch {
				case st.lambda != 0 && s.lambda != st.lambda:
					t.Errorf("restart %d: λ = %d, want %d", i+1, s.lambda, st.lambda)
				case st.lambda == 0 && (s.lambda < 8 || s.lambda > st.max):
					t.Errorf("restart %d: λ = %d, want within [8, %d]", i+1, s.lambda, st.max)
				}
				if tt.strategy == RestartBIPOP && s.large != st.large {
					t.Errorf("restart %d: large regime %v, want %v", i+1, s.large, st.large)
				}
				if tt.strategy == RestartBIPOP && !s.large && (s.sigma > 0.25 || s.sigma < 0.0025) {
					t.Errorf("restart %d: small regime σ = %g, want within [0.0025, 0.25]", i+1, s.sigma)
				}
				if s.large && s.sigma != 0.25 || tt.strategy == RestartIPOP && s.sigma != 0.25 {
					t.Errorf("restart %d: σ = %g, want σ0", i+1, s.sigma)
				}
				for _, m := range s.mean {
					if m < 0 || m > 1 {
						t.Errorf("restart %d: mean %v outside the cube", i+1, s.mean)
					}
				}
			}
		})
	}
	// None keeps the mean and the population, and resets the rest.
	s := newState(n, 0.25)
	s.mean[0], s.sigma, s.c[1] = 0.9, 1e-9, 0.5
	s.restart(RestartNone, 0.25, rand.New(rand.NewPCG(1, 1)))
	if s.mean[0] != 0.9 || s.sigma != 0.25 || s.c[1] != 0 || s.lambda != 8 {
		t.Errorf("none: mean %v, σ %g, C %v, λ %d", s.mean, s.sigma, s.c, s.lambda)
	}
}

func TestStopReasons(t *testing.T) {
	const n = 2
	p := newParams(n, defaultLambda(n))
	tests := []struct {
		name  string
		setup func(*state) ([]float64, []float64)
		want  string
	}{
		{"fresh", func(s *state) ([]float64, []float64) { return nil, []float64{1, 2} }, ""},
		{"flat history", func(s *state) ([]float64, []float64) {
			h := make([]float64, histLen(n, s.lambda))
			return h, []float64{0, 0}
		}, "tolfun"},
		{"short flat history", func(s *state) ([]float64, []float64) { return make([]float64, 3), []float64{0, 0} }, ""},
		{"collapsed", func(s *state) ([]float64, []float64) { s.sigma = 1e-12; return nil, []float64{1, 2} }, "tolx"},
		{"diverged", func(s *state) ([]float64, []float64) { s.sigma = 1e4; return nil, []float64{1, 2} }, "tolup"},
		{"ill-conditioned", func(s *state) ([]float64, []float64) {
			s.c[0], s.sigma = 1e15, 1e-9
			return nil, []float64{1, 2}
		}, "conditioncov"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newState(n, 0.25)
			hist, losses := tt.setup(s)
			e, err := s.decompose()
			if err != nil {
				t.Fatal(err)
			}
			if got := s.stopReason(p, e, 5, hist, losses); got != tt.want {
				t.Errorf("stopReason = %q, want %q", got, tt.want)
			}
		})
	}
}
