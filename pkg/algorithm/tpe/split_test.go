package tpe

import (
	"math"
	"slices"
	"testing"
)

func TestSplitByLoss(t *testing.T) {
	obs := []observation{{loss: 3}, {loss: 1}, {loss: 2}, {loss: 1}, {loss: 0}}
	below, above := split(obs, 3)
	if want := []int{1, 3, 4}; !slices.Equal(below.idx, want) || below.w != nil {
		t.Errorf("good group %v, weights %v; want %v by age", below.idx, below.w, want)
	}
	if want := []int{0, 2}; !slices.Equal(above.idx, want) || above.w != nil {
		t.Errorf("the rest %v, weights %v; want %v by age", above.idx, above.w, want)
	}
}

func TestSplitByFront(t *testing.T) {
	at := func(v ...float64) observation { return observation{losses: v} }
	obs := []observation{
		at(2, 2),      // dominated by (0.5, 0.5)
		at(0, 1),      // first front
		at(1.5, 1.5),  // dominated by (0.5, 0.5)
		at(0.5, 0.5),  // first front
		{loss: -1},    // pending: never good, whatever its loss
		at(1, 0),      // first front
		at(-1, -1),    // the best values, but infeasible
		at(0.75, 0.9), // dominated by (0.5, 0.5)
	}
	obs[6].violation = 1
	tests := []struct {
		n     int
		below []int
		w     []float64
	}{
		// The first front, exactly: against (1.1, 1.1), (0.5, 0.5)
		// alone adds 0.25 and each end 0.05.
		{3, []int{1, 3, 5}, []float64{0.2, 1, 0.2}},
		// Then the second front, by the hypervolume each adds: (1.5, 1.5)
		// and (2, 2) add nothing beyond (0.75, 0.9), which is dominated in
		// the group and weighs next to nothing; it takes 0.025 of what
		// (0.5, 0.5) adds.
		{4, []int{1, 3, 5, 7}, []float64{0.05 / 0.225, 1, 0.05 / 0.225, minWeight}},
		// The infeasible trial comes after every feasible one, and weighs
		// next to nothing.
		{7, []int{0, 1, 2, 3, 5, 6, 7}, nil},
		// One good trial: the usual weight.
		{1, []int{3}, nil},
	}
	for _, tt := range tests {
		below, above := split(obs, tt.n)
		if !slices.Equal(below.idx, tt.below) {
			t.Errorf("split(%d): good group %v, want %v", tt.n, below.idx, tt.below)
		}
		if tt.w != nil && !slices.EqualFunc(below.w, tt.w, func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }) {
			t.Errorf("split(%d): good weights %v, want %v", tt.n, below.w, tt.w)
		}
		if len(below.idx)+len(above.idx) != len(obs) || above.w != nil || !slices.Contains(above.idx, 4) {
			t.Errorf("split(%d): the rest %v, weights %v; want the other trials, pending among them, by age", tt.n, above.idx, above.w)
		}
	}
	below, _ := split(obs, 7)
	if w := below.w[slices.Index(below.idx, 6)]; w != minWeight {
		t.Errorf("the infeasible good trial weighs %v, want %v", w, minWeight)
	}
	// With no feasible trial in the good group, the usual weights: the
	// search has yet to find the feasible region.
	for i := range obs {
		obs[i].violation = float64(i + 1)
	}
	if below, _ := split(obs, 3); !slices.Equal(below.idx, []int{0, 1, 2}) || below.w != nil {
		t.Errorf("all infeasible: good group %v, weights %v; want the three that break the constraints least, by age", below.idx, below.w)
	}
}
