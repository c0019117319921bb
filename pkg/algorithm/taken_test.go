package algorithm_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// space parses parameter specs, failing the test on an error.
func space(t *testing.T, specs ...*pb.ParameterSpec) *searchspace.Space {
	t.Helper()
	s, err := searchspace.Parse(specs)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

func intParam(name, min, max string) *pb.ParameterSpec {
	return &pb.ParameterSpec{Name: name, ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: min, Max: max}}
}

func trialsAt(pts ...searchspace.Point) []algorithm.Trial {
	out := make([]algorithm.Trial, len(pts))
	for i, pt := range pts {
		out[i] = algorithm.Trial{Point: pt}
	}
	return out
}

// twelve is a space of 4 × 3 = 12 points.
func twelve(t *testing.T) *searchspace.Space {
	return space(t, intParam("a", "1", "4"), intParam("b", "0", "2"))
}

func TestTakenCountsTheTrials(t *testing.T) {
	s := twelve(t)
	tests := []struct {
		name   string
		trials []algorithm.Trial
		unseen uint64
	}{
		{"none", nil, 12},
		{"three", trialsAt(s.PointAt(0), s.PointAt(5), s.PointAt(11)), 9},
		{"a repeat counts once", trialsAt(s.PointAt(0), s.PointAt(0), s.PointAt(5)), 10},
		{"off the grid does not count", trialsAt(s.PointAt(0), searchspace.Point{9, 0}, searchspace.Point{0, 1}), 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			taken := algorithm.NewTaken(s, tt.trials)
			if !taken.Finite() || !taken.Enumerable() {
				t.Fatalf("Finite, Enumerable = %v, %v; want true, true", taken.Finite(), taken.Enumerable())
			}
			if got := taken.Unseen(); got != tt.unseen {
				t.Errorf("Unseen = %d, want %d", got, tt.unseen)
			}
			for _, tr := range tt.trials {
				if !taken.Has(tr.Point) {
					t.Errorf("Has(%v) = false for a trial's point", tr.Point)
				}
			}
		})
	}
}

func TestTakenTake(t *testing.T) {
	s := twelve(t)
	taken := algorithm.NewTaken(s, trialsAt(s.PointAt(3)))
	if taken.Take(s.PointAt(3)) {
		t.Error("Take of a trial's point = true")
	}
	if taken.Has(s.PointAt(4)) {
		t.Error("Has of an unseen point = true")
	}
	if !taken.Take(s.PointAt(4)) {
		t.Error("Take of an unseen point = false")
	}
	if taken.Take(s.PointAt(4)) {
		t.Error("Take of a point taken twice = true")
	}
	if !taken.Has(s.PointAt(4)) {
		t.Error("Has after Take = false")
	}
	if got := taken.Unseen(); got != 10 {
		t.Errorf("Unseen = %d, want 10", got)
	}
}

func TestTakenRest(t *testing.T) {
	s := twelve(t)
	var history []searchspace.Point
	for i := range uint64(8) {
		history = append(history, s.PointAt(i))
	}
	taken := algorithm.NewTaken(s, trialsAt(history...))
	if rest, ok := taken.Rest(3); ok || rest != nil {
		t.Fatalf("Rest(3) with 4 unseen = %v, %v; want nil, false", rest, ok)
	}
	if got := taken.Unseen(); got != 4 {
		t.Fatalf("Rest that declined took points: Unseen = %d, want 4", got)
	}
	rest, ok := taken.Rest(4)
	if !ok {
		t.Fatal("Rest(4) with 4 unseen = false")
	}
	want := []searchspace.Point{s.PointAt(8), s.PointAt(9), s.PointAt(10), s.PointAt(11)}
	if !slices.EqualFunc(rest, want, slices.Equal) {
		t.Errorf("Rest(4) = %v, want %v in order", rest, want)
	}
	if got := taken.Unseen(); got != 0 {
		t.Errorf("after Rest: Unseen = %d, want 0", got)
	}
	if rest, ok := taken.Rest(5); !ok || len(rest) != 0 {
		t.Errorf("Rest of a used-up space = %v, %v; want none, true", rest, ok)
	}
}

func TestTakenDrawEnumerates(t *testing.T) {
	s := twelve(t)
	draw := func(seed uint64) []string {
		taken := algorithm.NewTaken(s, trialsAt(s.PointAt(0), s.PointAt(7)))
		rng := rand.New(rand.NewPCG(seed, 1))
		var keys []string
		for {
			pt, ok := taken.Draw(rng)
			if !ok {
				break
			}
			if slices.Equal(pt, s.PointAt(0)) || slices.Equal(pt, s.PointAt(7)) {
				t.Fatalf("Draw gave a trial's point %v", pt)
			}
			keys = append(keys, s.Key(pt))
			if len(keys) == 3 {
				// A point taken between draws is passed over.
				for i := range uint64(12) {
					if !taken.Has(s.PointAt(i)) {
						taken.Take(s.PointAt(i))
						break
					}
				}
			}
		}
		if got := taken.Unseen(); got != 0 {
			t.Errorf("Draw gave up with %d unseen", got)
		}
		return keys
	}
	a := draw(1)
	if len(a) != 9 {
		t.Errorf("Draw gave %d points of the 10 unseen, one taken between; want 9", len(a))
	}
	if sorted := slices.Sorted(slices.Values(a)); len(slices.Compact(sorted)) != len(a) {
		t.Errorf("Draw repeated a point: %q", a)
	}
	if b := draw(1); !slices.Equal(a, b) {
		t.Errorf("the same generator drew %q then %q", a, b)
	}
	if c := draw(2); slices.Equal(a, c) {
		t.Errorf("generators 1 and 2 drew the same order %q", a)
	}
}

func TestTakenDrawIsUniform(t *testing.T) {
	s := twelve(t)
	rng := rand.New(rand.NewPCG(3, 1))
	counts := make(map[string]int)
	const rounds = 6000
	for range rounds {
		taken := algorithm.NewTaken(s, trialsAt(s.PointAt(0), s.PointAt(1)))
		pt, ok := taken.Draw(rng)
		if !ok {
			t.Fatal("Draw with 10 unseen = false")
		}
		counts[s.Key(pt)]++
	}
	if len(counts) != 10 {
		t.Fatalf("first draws fell on %d points, want the 10 unseen", len(counts))
	}
	for k, n := range counts {
		// 600 expected; 5 standard deviations is about ±116.
		if math.Abs(float64(n)-rounds/10) > 120 {
			t.Errorf("point %q drawn first %d times of %d, want about %d", k, n, rounds, rounds/10)
		}
	}
}

func TestTakenLargeSpace(t *testing.T) {
	// 3000² = 9·10⁶ points: more than EnumerateBelow, drawn uniformly.
	s := space(t, intParam("a", "1", "3000"), intParam("b", "1", "3000"))
	taken := algorithm.NewTaken(s, trialsAt(s.PointAt(0)))
	if !taken.Finite() || taken.Enumerable() {
		t.Fatalf("Finite, Enumerable = %v, %v; want true, false", taken.Finite(), taken.Enumerable())
	}
	if rest, ok := taken.Rest(10); ok {
		t.Fatalf("Rest(10) of millions = %d points", len(rest))
	}
	rng := rand.New(rand.NewPCG(1, 1))
	seen := make(map[string]bool)
	for range 100 {
		pt, ok := taken.Draw(rng)
		if !ok || !s.Contains(pt) || seen[s.Key(pt)] || slices.Equal(pt, s.PointAt(0)) {
			t.Fatalf("Draw = %v, %v: want a new point of the space", pt, ok)
		}
		seen[s.Key(pt)] = true
	}
	if got, want := taken.Unseen(), uint64(3000*3000-101); got != want {
		t.Errorf("Unseen = %d, want %d", got, want)
	}
}

func TestTakenContinuousSpace(t *testing.T) {
	s := space(t, &pb.ParameterSpec{Name: "x", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: "0", Max: "1"}})
	taken := algorithm.NewTaken(s, trialsAt(searchspace.Point{0.5}))
	if taken.Finite() || taken.Enumerable() {
		t.Error("a continuous space is Finite or Enumerable")
	}
	if got := taken.Unseen(); got != math.MaxUint64 {
		t.Errorf("Unseen = %d, want math.MaxUint64", got)
	}
	if _, ok := taken.Rest(1 << 30); ok {
		t.Error("Rest of a continuous space = true")
	}
	if pt, ok := taken.Draw(rand.New(rand.NewPCG(1, 1))); ok {
		t.Errorf("Draw in a continuous space = %v", pt)
	}
	if taken.Take(searchspace.Point{0.5}) || !taken.Take(searchspace.Point{0.25}) {
		t.Error("Take does not know the trial's point, or refuses a new one")
	}
}

func TestTakenFill(t *testing.T) {
	s := twelve(t)
	taken := algorithm.NewTaken(s, trialsAt(s.PointAt(0), s.PointAt(1), s.PointAt(2)))
	rng := rand.New(rand.NewPCG(1, 1))
	out := &algorithm.Suggestions{}
	if err := taken.Fill(context.Background(), rng, out, 4); err != nil || len(out.Points) != 4 || out.Exhausted {
		t.Fatalf("Fill(4) = %v: %d points, exhausted %v; want 4, false", err, len(out.Points), out.Exhausted)
	}
	if err := taken.Fill(context.Background(), rng, out, 20); err != nil || len(out.Points) != 9 || !out.Exhausted {
		t.Errorf("Fill(20) = %v: %d points, exhausted %v; want the 9 there are, true", err, len(out.Points), out.Exhausted)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := algorithm.NewTaken(s, nil).Fill(ctx, rng, &algorithm.Suggestions{}, 1); err == nil {
		t.Error("Fill with a cancelled context = nil, want its error")
	}
}
