package algorithmtest

import (
	"math"
	"slices"
	"testing"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
	"knobs.dev/knobs/pkg/testfunctions"
)

// TwelveLoss is a loss over Twelve, least at n=3, c=a.
func TwelveLoss(pt searchspace.Point) float64 { return math.Abs(pt[0]-3) + pt[1] }

// Exhaustion holds an algorithm to the rules of a finite space that runs
// out, on p, a problem over Twelve: a reply takes every unseen point when it
// can and then says the space is exhausted, and not before; every trial
// (pending, failed or completed, once however often it repeats) takes its
// point, and a trial off the grid takes none.
func Exhaustion(t *testing.T, alg algorithm.Algorithm, p *algorithm.Problem) {
	t.Helper()
	all := make([]Trial, 12)
	for i := range all {
		pt := p.Space.PointAt(uint64(i))
		all[i] = Done(pt, TwelveLoss(pt))
	}
	cat := func(parts ...[]Trial) []Trial { return slices.Concat(parts...) }
	offGrid := []Trial{Done(searchspace.Point{9, 0}, 1), Done(searchspace.Point{0, 1}, 1), Done(searchspace.Point{-3, 2}, 1)}
	tests := []struct {
		name      string
		history   []Trial
		count     int
		want      int
		exhausted bool
	}{
		{"fresh, fewer than all", nil, 11, 11, false},
		{"fresh, exactly all", nil, 12, 12, true},
		{"fresh, more than all", nil, 20, 12, true},
		{"exactly the remaining count", all[:7], 5, 5, true},
		{"one fewer than remaining", all[:7], 4, 4, false},
		{"one left", all[1:], 1, 1, true},
		{"pending trials count as taken", cat(all[:5], []Trial{Pending(all[5].Point), Pending(all[6].Point)}), 4, 4, false},
		{"failed trials count as taken", cat(all[:5], []Trial{{Point: all[5].Point, Condition: pb.TrialCondition_FAILED},
			{Point: all[6].Point, Condition: pb.TrialCondition_METRICS_UNAVAILABLE}}), 5, 5, true},
		{"repeated history counts once", cat(all[:7], all[:7]), 5, 5, true},
		{"history off the grid does not count", cat(all[:7], offGrid), 5, 5, true},
		{"history off the grid does not count, fewer", cat(all[:7], offGrid), 4, 4, false},
		{"nothing left", all, 3, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Suggest(t, alg, p, Trials(t, p, tt.history), tt.count)
			if len(out.Points) != tt.want || out.Exhausted != tt.exhausted {
				t.Errorf("%d points, exhausted %v; want %d, %v", len(out.Points), out.Exhausted, tt.want, tt.exhausted)
			}
		})
	}
}

// ZDT1 is Zitzler, Deb and Thiele's first bi-objective problem on [0, 1]^n
// (testfunctions.ZDT1), its objectives named f1 and f2: the Pareto front is
// f2 = 1 - sqrt(f1), at pt[1:] = 0.
func ZDT1(pt searchspace.Point) map[string]float64 {
	f1, f2 := testfunctions.ZDT1(pt)
	return map[string]float64{"f1": f1, "f2": f2}
}
