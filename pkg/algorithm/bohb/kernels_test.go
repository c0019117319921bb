package bohb

import "testing"

// Each density keeps at most maxKernels kernels, spread by rank from the
// best to the worst, however long the history.
func TestKernelsBounded(t *testing.T) {
	obs := make([]observation, 10000)
	for i := range obs {
		obs[i] = observation{unit: []float64{float64(i) / 10000}, loss: float64(i)}
	}
	got := spread(obs, maxKernels)
	if len(got) != maxKernels || got[0].loss != 0 || got[len(got)-1].loss != 9999 {
		t.Fatalf("spread of 10000: %d kept, from %v to %v; want %d from the best to the worst", len(got), got[0].loss, got[len(got)-1].loss, maxKernels)
	}
	for i := 1; i < len(got); i++ {
		if gap := got[i].loss - got[i-1].loss; gap < 38 || gap > 40 {
			t.Fatalf("ranks %v and %v: not evenly spaced", got[i-1].loss, got[i].loss)
		}
	}
	if few := spread(obs[:100], maxKernels); len(few) != 100 {
		t.Errorf("spread of 100: %d kept, want all", len(few))
	}
}
