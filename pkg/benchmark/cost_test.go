package benchmark

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"knobs.dev/knobs/pkg/algorithm/cmaes"
	"knobs.dev/knobs/pkg/algorithm/hyperband"
	"knobs.dev/knobs/pkg/algorithm/random"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// The cost table measures every cell it can, with a request that grows with
// the history and the dimensions; a multi-fidelity history is built by the
// algorithm itself, and an algorithm that refuses the problem says why.
func TestMeasureCost(t *testing.T) {
	hb := Contender{Name: "hyperband", Algorithm: hyperband.Hyperband{}, MultiFidelity: true,
		SettingsFor: func(p Problem) []*pb.AlgorithmSetting {
			return []*pb.AlgorithmSetting{{Name: "resource_name", Value: p.Budget}, {Name: "r_l", Value: "27"}}
		}}
	contenders := []Contender{{Name: "random", Algorithm: random.Random{}}, hb, {Name: "cmaes", Algorithm: cmaes.CMAES{}}}
	cells := MeasureCost(context.Background(), contenders, CostOptions{Histories: []int{10, 100}, Dims: []int{1, 3}, Calls: 1})
	if len(cells) != 12 {
		t.Fatalf("%d cells, want 3 contenders × 2 dimensions × 2 histories", len(cells))
	}
	at := map[string]CostCell{}
	for _, c := range cells {
		at[fmt.Sprintf("%s/%d/%d", c.Contender, c.Dims, c.History)] = c
	}
	for _, name := range []string{"random", "hyperband"} {
		for _, d := range []int{1, 3} {
			small, big := at[fmt.Sprintf("%s/%d/10", name, d)], at[fmt.Sprintf("%s/%d/100", name, d)]
			for _, c := range []CostCell{small, big} {
				if c.Err != nil || c.Skipped != "" {
					t.Fatalf("%s, %d dimensions, %d trials: %v %s", name, c.Dims, c.History, c.Err, c.Skipped)
				}
				if c.Duration <= 0 || c.Bytes == 0 {
					t.Errorf("%s, %d dimensions, %d trials: %v and %d bytes, want both measured", name, c.Dims, c.History, c.Duration, c.Bytes)
				}
			}
			if big.RequestBytes < 5*small.RequestBytes {
				t.Errorf("%s, %d dimensions: a request of 100 trials is %d bytes, of 10 trials %d; want it to grow with the history", name, d, big.RequestBytes, small.RequestBytes)
			}
		}
	}
	// CMA-ES needs two numeric parameters: one is refused, three measured.
	if c := at["cmaes/1/10"]; c.Skipped == "" {
		t.Errorf("cmaes on 1 dimension: %+v, want it skipped with the reason", c)
	}
	if c := at["cmaes/3/100"]; c.Err != nil || c.Skipped != "" {
		t.Errorf("cmaes on 3 dimensions: %v %s", c.Err, c.Skipped)
	}

	var b strings.Builder
	if err := WriteCostGrowth(&b, cells); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1 dimensions", "3 dimensions", "100 trials", "hyperband", "-: cmaes, 1 dimensions, 10 trials:"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

// A call past the limit is reported as such, and larger histories are not
// tried.
func TestMeasureCostLimit(t *testing.T) {
	cells := MeasureCost(context.Background(), []Contender{{Name: "random", Algorithm: random.Random{}}},
		CostOptions{Histories: []int{2000, 4000}, Dims: []int{2}, Limit: time.Nanosecond, Calls: 1})
	if len(cells) != 2 || cells[0].Skipped == "" || !strings.Contains(cells[1].Skipped, "not tried") {
		t.Fatalf("cells = %+v, want the first over the limit and the second not tried", cells)
	}
}
