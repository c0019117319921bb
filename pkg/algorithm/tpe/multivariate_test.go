package tpe

import (
	"math"
	"math/rand/v2"
	"testing"

	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// The multivariate density: one kernel per observation and the prior, the
// bandwidth of Scott's rule within the magic clip, category rows that are
// distributions, and draws inside the space.
func TestJoint(t *testing.T) {
	space, err := searchspace.Parse([]*pb.ParameterSpec{
		{Name: "x", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: "0", Max: "1"}},
		{Name: "c", ParameterType: pb.ParameterType_CATEGORICAL, FeasibleSpace: &pb.FeasibleSpace{List: []string{"a", "b", "c"}}},
		{Name: "n", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "1", Max: "4"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	obs := []observation{{x: []float64{0.1, 0, 0.125}}, {x: []float64{0.9, 2, 0.875}}, {x: []float64{0.5, 2, 0.375}}}
	m := newJoint(space, obs, []int{0, 2}, 1)
	if len(m.cum) != 3 {
		t.Fatalf("%d kernels, want 3: two observations and the prior", len(m.cum))
	}
	// Scott's rule gives 0.2·2^(-1/7) = 0.18, below the clip of 1/(1+3).
	if m.sigma[0] != 0.25 || m.sigma[1] != 0.25 || m.sigma[2] != 1 {
		t.Errorf("bandwidths %v, want 1/4 (the clip) for the observations and 1 for the prior", m.sigma)
	}
	if m.mu[1][0] != 0.5 || m.mu[0][0] != 0.1 {
		t.Errorf("centres %v: want the observations in order, then the prior's 0.5", m.mu)
	}
	for k := range m.catRow {
		sum := 0.0
		for _, lp := range m.catRow[k][1] {
			sum += math.Exp(lp)
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("kernel %d's categories sum to %g", k, sum)
		}
	}
	// Observation 0 is in category a: its row favours a.
	if r := m.catRow[0][1]; !(r[0] > r[1] && r[1] == r[2]) {
		t.Errorf("kernel 0's categories %v, want a above b = c", r)
	}
	// Many observations: Scott's rule, above the clip of 1/100.
	many := make([]observation, 500)
	idx := make([]int, 500)
	for i := range many {
		many[i] = observation{x: []float64{float64(i) / 500, 1, 0.5}}
		idx[i] = i
	}
	if got, want := newJoint(space, many, idx, 1).sigma[0], sigma0Magnitude*math.Pow(500, -1.0/7); math.Abs(got-want) > 1e-12 {
		t.Errorf("bandwidth with 500 observations %g, want %g", got, want)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 3)
	counts := make([]int, 3)
	for range 3000 {
		m.sample(rng, x)
		if x[0] < 0 || x[0] > 1 || x[2] < 0 || x[2] > 1 || x[1] != math.Trunc(x[1]) || x[1] < 0 || x[1] > 2 {
			t.Fatalf("draw %v outside the model's space", x)
		}
		counts[int(x[1])]++
		if s := m.logScore(x); math.IsNaN(s) || math.IsInf(s, 0) {
			t.Fatalf("score %g at %v", s, x)
		}
	}
	// Kernels 0 (a), 1 (c) and the prior: a and c each drawn more than b.
	if !(counts[0] > counts[1] && counts[2] > counts[1]) {
		t.Errorf("categories drawn %v, want a and c more often than b", counts)
	}
}

// Katib's multivariate-tpe is TPE whose multivariate setting defaults to
// true; it can still be turned off.
func TestMultivariateByDefault(t *testing.T) {
	for _, tc := range []struct {
		alg  TPE
		want string
	}{{TPE{}, "false"}, {TPE{Multivariate: true}, "true"}} {
		for _, s := range tc.alg.Settings() {
			if s.Name == Multivariate && s.Default != tc.want {
				t.Errorf("%+v: multivariate defaults to %q, want %q", tc.alg, s.Default, tc.want)
			}
		}
	}
}
