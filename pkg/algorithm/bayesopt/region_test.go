package bayesopt

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"knobs.dev/knobs/pkg/algorithm/algorithmtest"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// TestRegionSide follows the trust region's side through a history: it
// ignores the design, doubles after three improvements in a row, halves
// after as many trials without one as there are numeric parameters, and
// starts again when it gets too small.
func TestRegionSide(t *testing.T) {
	design := []float64{5, 4, 6}
	tests := []struct {
		name string
		loss []float64
		want float64
	}{
		{"design only", nil, regionStart},
		{"three improvements", []float64{3, 2, 1}, 2 * regionStart},
		{"capped", []float64{3, 2, 1, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05}, regionMax},
		{"two improvements and a failure", []float64{3, 2, 9, 1}, regionStart},
		{"a tie is a failure", []float64{3, 3, 2, 1}, regionStart},
		{"eleven failures", repeat(9, 11), regionStart},
		{"twelve failures", repeat(9, 12), regionStart / 2},
		{"twenty-four failures", repeat(9, 24), regionStart / 4},
		{"too small", repeat(9, 12*7), regionStart},
	}
	for _, tt := range tests {
		if got := regionSide(append(append([]float64(nil), design...), tt.loss...), len(design), 12); got != tt.want {
			t.Errorf("%s: side %v, want %v", tt.name, got, tt.want)
		}
	}
	// Fewer than four numeric parameters still wait four trials.
	if got := regionSide(append(append([]float64(nil), design...), repeat(9, 3)...), len(design), 2); got != regionStart {
		t.Errorf("three failures of 2 parameters: side %v, want %v", got, regionStart)
	}
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// regionSearch is a search of n numeric parameters on [0, 1] and a
// categorical one, seen as the model would after the trials losses.
func regionSearch(t *testing.T, n int, loss []float64) (*search, observations, training) {
	t.Helper()
	var specs []*pb.ParameterSpec
	for i := range n {
		specs = append(specs, algorithmtest.Double("x"+strconv.Itoa(i), "0", "1"))
	}
	specs = append(specs, algorithmtest.Categorical("c", "a", "b"))
	space, err := searchspace.Parse(specs)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	s := &search{space: space, enc: newEncoder(space), rng: rng, cfg: config{nInitial: 2}}
	obs := observations{loss: loss}
	tr := training{y: loss, h: hyper{ls: make([]float64, s.enc.dim)}}
	for i := range loss {
		obs.pts = append(obs.pts, space.Sample(rng))
		tr.use = append(tr.use, i)
	}
	for d := range tr.h.ls {
		tr.h.ls[d] = 0.1 * float64(1+d%3)
	}
	return s, obs, tr
}

// TestRegion checks the trust region's box and its candidates: around the
// best trial, shaped by the length scales, with a side whose geometric mean
// is the region's; none below regionMinParams numeric parameters.
func TestRegion(t *testing.T) {
	if s, obs, tr := regionSearch(t, regionMinParams-1, []float64{2, 1, 3}); s.region(obs, tr) != nil {
		t.Errorf("a trust region for %d numeric parameters, want none below %d", regionMinParams-1, regionMinParams)
	}
	s, obs, tr := regionSearch(t, 12, []float64{2, 1, 3, 4, 5})
	best := obs.pts[1]
	r := s.region(obs, tr)
	if r == nil {
		t.Fatal("no trust region for 12 numeric parameters")
	}
	side := regionSide(obs.loss, 2, 12)
	logMean := 0.0
	for j := range 12 {
		logMean += math.Log(tr.h.ls[s.enc.offset[j]]) / 12
	}
	for j := range 12 {
		c := best[j]
		want := side * tr.h.ls[s.enc.offset[j]] / math.Exp(logMean) / 2
		if math.Abs(r.lo[j]-max(0, c-want)) > 1e-12 || math.Abs(r.hi[j]-min(1, c+want)) > 1e-12 {
			t.Errorf("parameter %d at %.3f: bounds [%.3f, %.3f], want %.3f either side", j, c, r.lo[j], r.hi[j], want)
		}
	}
	if r.lo[12] != 0 || r.hi[12] != 1 {
		t.Errorf("categorical parameter bounded to [%v, %v], want [0, 1]", r.lo[12], r.hi[12])
	}
	s.box = r
	for range 200 {
		pt := s.inRegion(best)
		moved := 0
		for j := range 12 {
			if pt[j] != best[j] {
				moved++
			}
			if u := s.space.Params[j].ToUnit(pt[j]); u < r.lo[j]-1e-12 || u > r.hi[j]+1e-12 {
				t.Fatalf("candidate %v: parameter %d at %.3f, out of [%.3f, %.3f]", pt, j, u, r.lo[j], r.hi[j])
			}
		}
		if moved == 0 || pt[12] != best[12] {
			t.Fatalf("candidate %v of best %v: %d numbers moved and the category %v, want some moved and the category kept", pt, best, moved, pt[12])
		}
	}
}
