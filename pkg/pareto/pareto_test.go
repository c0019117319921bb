package pareto

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// naiveFront is the definition: the points no other point dominates.
func naiveFront(pts []Point) []int {
	var f []int
	for i := range pts {
		ok := true
		for j := range pts {
			if j != i && Dominates(pts[j], pts[i]) {
				ok = false
				break
			}
		}
		if ok {
			f = append(f, i)
		}
	}
	return f
}

func randomPoints(r *rand.Rand, n, m int, infeasible float64) []Point {
	pts := make([]Point, n)
	for i := range pts {
		v := make([]float64, m)
		for k := range v {
			// Few distinct values, so that ties and duplicates occur.
			v[k] = float64(r.IntN(8))
		}
		pts[i].Values = v
		if r.Float64() < infeasible {
			pts[i].Violation = float64(1 + r.IntN(3))
		}
	}
	return pts
}

func TestFrontIsTheDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 400; iter++ {
		m := 1 + iter%4
		infeasible := []float64{0, 0.3, 1}[iter%3]
		pts := randomPoints(r, 1+r.IntN(40), m, infeasible)
		if got, want := Front(pts), naiveFront(pts); !slices.Equal(got, want) {
			t.Fatalf("%d objectives, %v: Front = %v, want %v", m, pts, got, want)
		}
	}
}

func TestSortRanksEveryPointOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pts := randomPoints(r, 60, 3, 0.2)
	fronts := Sort(pts)
	seen := map[int]bool{}
	for k, f := range fronts {
		for _, i := range f {
			if seen[i] {
				t.Fatalf("point %d in two fronts", i)
			}
			seen[i] = true
			// Nothing in a later front dominates a point of this one.
			for _, later := range fronts[k+1:] {
				for _, j := range later {
					if Dominates(pts[j], pts[i]) {
						t.Errorf("point %d of front %d dominates point %d of front %d", j, k+1, i, k)
					}
				}
			}
			// Something in the front before dominates it.
			if k > 0 && !slices.ContainsFunc(fronts[k-1], func(j int) bool { return Dominates(pts[j], pts[i]) }) {
				t.Errorf("point %d of front %d is dominated by nothing of front %d", i, k, k-1)
			}
		}
	}
	if len(seen) != len(pts) {
		t.Errorf("ranked %d of %d points", len(seen), len(pts))
	}
}

func TestSelect(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	pts := randomPoints(r, 80, 2, 0.2)
	fronts := Sort(pts)
	for _, k := range []int{0, 1, 5, 20, 80, 100} {
		chosen, rank, crowding := Select(pts, k)
		if want := min(k, len(pts)); len(chosen) != want || len(rank) != want || len(crowding) != want {
			t.Fatalf("Select(%d) chose %d, want %d", k, len(chosen), want)
		}
		// Whole fronts first: every point of a better front than the
		// last one chosen is chosen.
		last := 0
		if len(rank) > 0 {
			last = rank[len(rank)-1]
		}
		for r, f := range fronts[:min(last, len(fronts))] {
			for _, i := range f {
				if !slices.Contains(chosen, i) {
					t.Errorf("Select(%d) left out point %d of front %d, before the last front chosen (%d)", k, i, r, last)
				}
			}
		}
		for n, i := range chosen {
			if !slices.Contains(fronts[rank[n]], i) {
				t.Errorf("point %d given rank %d, not in that front", i, rank[n])
			}
		}
	}
}

func TestSelectHypervolume(t *testing.T) {
	pts := []Point{
		{Values: []float64{0, 1}},
		{Values: []float64{1, 0}},
		{Values: []float64{0.5, 0.5}},
		{Values: []float64{2, 2}},
		{Values: []float64{0, 0}, Violation: 1},
	}
	// Against the front's reference (1.1, 1.1), (0.5, 0.5) covers 0.36
	// alone and each end 0.11; after it each end adds 0.05, the tie going
	// to the lower index. The dominated point, then the infeasible one,
	// come only after the whole front.
	for k, want := range [][]int{nil, {2}, {0, 2}, {0, 1, 2}, {0, 1, 2, 3}, {0, 1, 2, 3, 4}, {0, 1, 2, 3, 4}} {
		if got := SelectHypervolume(pts, k); !slices.Equal(got, want) {
			t.Errorf("SelectHypervolume(%d) = %v, want %v", k, got, want)
		}
	}

	r := rand.New(rand.NewPCG(11, 12))
	for iter := range 100 {
		pts := randomPoints(r, 1+r.IntN(60), 2+iter%2, []float64{0, 0.3}[iter%2])
		fronts := Sort(pts)
		// The first front, exactly, when the size is its size.
		if got := SelectHypervolume(pts, len(fronts[0])); !slices.Equal(got, fronts[0]) {
			t.Fatalf("%v: SelectHypervolume(%d) = %v, want the first front %v", pts, len(fronts[0]), got, fronts[0])
		}
		// Whole fronts in rank order, then part of the next.
		k := r.IntN(len(pts) + 1)
		got := SelectHypervolume(pts, k)
		if len(got) != k || !slices.IsSorted(got) {
			t.Fatalf("SelectHypervolume(%d) = %v: want %d ascending indices", k, got, k)
		}
		left := k
		for _, f := range fronts {
			in := 0
			for _, i := range f {
				if slices.Contains(got, i) {
					in++
				}
			}
			if in != min(left, len(f)) {
				t.Fatalf("%v: SelectHypervolume(%d) = %v takes %d of front %v, want %d", pts, k, got, in, f, min(left, len(f)))
			}
			left -= in
		}
	}
}

func TestContributions(t *testing.T) {
	// Against (4, 4), each point of the front alone covers the box
	// between it and its neighbours; (3, 3) is dominated and the
	// duplicate (2, 1.5)s share theirs.
	pts := [][]float64{{1, 3}, {2, 1.5}, {3, 1}, {3, 3}}
	if got, want := Contributions(pts, []float64{4, 4}), []float64{1, 1.5, 0.5, 0}; !slices.Equal(got, want) {
		t.Errorf("Contributions = %v, want %v", got, want)
	}
	pts = append(pts, []float64{2, 1.5})
	if got, want := Contributions(pts, []float64{4, 4}), []float64{1, 0, 0.5, 0, 0}; !slices.Equal(got, want) {
		t.Errorf("with a duplicate, Contributions = %v, want %v", got, want)
	}
	// In three dimensions, of depth 2: twice the areas.
	var three [][]float64
	for _, p := range pts[:4] {
		three = append(three, []float64{p[0], p[1], 0})
	}
	if got, want := Contributions(three, []float64{4, 4, 2}), []float64{2, 3, 1, 0}; !slices.Equal(got, want) {
		t.Errorf("3-D Contributions = %v, want %v", got, want)
	}
}

func TestReference(t *testing.T) {
	got := Reference([][]float64{{1, 5, -3}, {3, 5, -1}, {2, 5, -2}})
	if want := []float64{3.2, 6, -0.8}; !slices.EqualFunc(got, want, func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }) {
		t.Errorf("Reference = %v, want %v", got, want)
	}
}

func TestDominatesUnderConstraints(t *testing.T) {
	good := Point{Values: []float64{1, 1}}
	worse := Point{Values: []float64{1, 2}}
	infeasible := Point{Values: []float64{0, 0}, Violation: 0.5}
	farther := Point{Values: []float64{0, 0}, Violation: math.Inf(1)}
	for _, c := range []struct {
		a, b Point
		want bool
	}{
		{good, worse, true}, {worse, good, false}, {good, good, false},
		{worse, infeasible, true}, {infeasible, worse, false},
		{infeasible, farther, true}, {farther, infeasible, false},
	} {
		if got := Dominates(c.a, c.b); got != c.want {
			t.Errorf("Dominates(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestCrowding(t *testing.T) {
	pts := []Point{{Values: []float64{0, 4}}, {Values: []float64{1, 2}}, {Values: []float64{3, 1}}, {Values: []float64{4, 0}}}
	d := Crowding(pts, []int{0, 1, 2, 3})
	if !math.IsInf(d[0], 1) || !math.IsInf(d[3], 1) {
		t.Errorf("the ends should be infinitely far: %v", d)
	}
	// Point 1: neighbours 0 and 2: (3-0)/4 + (4-1)/4 = 1.5; point 2: (4-1)/4 + (2-0)/4 = 1.25.
	if math.Abs(d[1]-1.5) > 1e-12 || math.Abs(d[2]-1.25) > 1e-12 {
		t.Errorf("Crowding = %v, want [+Inf 1.5 1.25 +Inf]", d)
	}
}

func TestHypervolume(t *testing.T) {
	two := [][]float64{{1, 3}, {2, 2}, {3, 1}, {3, 3}, {5, 0}}
	// With ref (4, 4): (4-1)(4-3) + (4-2)(3-2) + (4-3)(2-1) = 3 + 2 + 1; (5, 0) is beyond ref.
	if got := Hypervolume(two, []float64{4, 4}); got != 6 {
		t.Errorf("2-D hypervolume = %v, want 6", got)
	}
	// The same points in a third dimension of depth 2 (all at 0, ref 2): twice the area.
	var three [][]float64
	for _, p := range two {
		three = append(three, []float64{p[0], p[1], 0})
	}
	if got := Hypervolume(three, []float64{4, 4, 2}); got != 12 {
		t.Errorf("3-D hypervolume = %v, want 12", got)
	}
	// Against a Monte Carlo estimate in three dimensions.
	r := rand.New(rand.NewPCG(5, 6))
	var pts [][]float64
	for range 12 {
		pts = append(pts, []float64{r.Float64(), r.Float64(), r.Float64()})
	}
	ref := []float64{1, 1, 1}
	hits, n := 0, 200000
	for range n {
		x := []float64{r.Float64(), r.Float64(), r.Float64()}
		for _, p := range pts {
			if p[0] <= x[0] && p[1] <= x[1] && p[2] <= x[2] {
				hits++
				break
			}
		}
	}
	if got, est := Hypervolume(pts, ref), float64(hits)/float64(n); math.Abs(got-est) > 0.01 {
		t.Errorf("3-D hypervolume = %v, Monte Carlo %v", got, est)
	}
}

func TestViolation(t *testing.T) {
	lo, hi := 1.0, 2.0
	for _, c := range []struct {
		v    float64
		lo   *float64
		hi   *float64
		want float64
	}{{1.5, &lo, &hi, 0}, {0.5, &lo, &hi, 0.5}, {3, &lo, &hi, 1}, {3, &lo, nil, 0}, {-3, nil, &hi, 0}} {
		if got := Violation(c.v, c.lo, c.hi); got != c.want {
			t.Errorf("Violation(%v) = %v, want %v", c.v, got, c.want)
		}
	}
}

func BenchmarkFront(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, m := range []int{2, 3} {
		pts := make([]Point, 100000)
		for i := range pts {
			v := make([]float64, m)
			for k := range v {
				v[k] = r.Float64()
			}
			pts[i].Values = v
		}
		b.Run(map[int]string{2: "100k-2obj", 3: "100k-3obj"}[m], func(b *testing.B) {
			for b.Loop() {
				Front(pts)
			}
		})
	}
}

// What TPE's good group costs with many objectives, where fronts are
// long: a few milliseconds for five objectives and 1000 points.
func BenchmarkSelectHypervolume(b *testing.B) {
	for _, m := range []int{2, 3, 4, 5} {
		for _, n := range []int{250, 1000} {
			b.Run(fmt.Sprintf("%d objectives, %d points", m, n), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				pts := make([]Point, n)
				for i := range pts {
					v := make([]float64, m)
					for k := range v {
						v[k] = r.Float64()
					}
					pts[i].Values = v
				}
				for b.Loop() {
					SelectHypervolume(pts, 25)
				}
			})
		}
	}
}

func BenchmarkContributions(b *testing.B) {
	for _, m := range []int{2, 3, 4, 5} {
		b.Run(fmt.Sprintf("%d objectives", m), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			pts := make([][]float64, 25)
			for i := range pts {
				v := make([]float64, m)
				for k := range v {
					v[k] = r.Float64()
				}
				pts[i] = v
			}
			ref := Reference(pts)
			for b.Loop() {
				Contributions(pts, ref)
			}
		})
	}
}
