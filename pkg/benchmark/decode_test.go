package benchmark

import (
	"context"
	"strings"
	"testing"

	"knobs.dev/knobs/pkg/algorithm/random"
	"knobs.dev/knobs/pkg/function"
)

// Both forms of a history are read, to the same trials; the columns are
// the smaller.
func TestMeasureDecode(t *testing.T) {
	cells := MeasureDecode(context.Background(), CostOptions{Histories: []int{100, 1000}, Dims: []int{3}, Calls: 1})
	if len(cells) != 2 {
		t.Fatalf("%d cells, want 2", len(cells))
	}
	for _, c := range cells {
		if c.Err != nil {
			t.Fatalf("%d trials: %v", c.History, c.Err)
		}
		if c.Plain.Duration <= 0 || c.Columns.Duration <= 0 || c.Plain.Alloc == 0 || c.Columns.Alloc == 0 {
			t.Errorf("%d trials: %+v, want both readings measured", c.History, c)
		}
		if 2*c.Columns.Bytes > c.Plain.Bytes {
			t.Errorf("%d trials: %d bytes in columns, %d in trials; want half at most", c.History, c.Columns.Bytes, c.Plain.Bytes)
		}
	}
	var b strings.Builder
	if err := WriteDecode(&b, cells); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "read in columns") || !strings.Contains(b.String(), "1000") {
		t.Errorf("table:\n%s", b.String())
	}
}

// The cost table sends a history in columns from function.ColumnsFrom
// trials on, as the controller does, and in trials with Plain.
func TestMeasureCostSendsColumns(t *testing.T) {
	c := []Contender{{Name: "random", Algorithm: random.Random{}}}
	n := []int{function.ColumnsFrom - 1, function.ColumnsFrom}
	cells := MeasureCost(context.Background(), c, CostOptions{Histories: n, Dims: []int{2}, Calls: 1})
	plain := MeasureCost(context.Background(), c, CostOptions{Histories: n, Dims: []int{2}, Calls: 1, Plain: true})
	if len(cells) != 2 || len(plain) != 2 || cells[0].Columns || !cells[1].Columns || plain[1].Columns {
		t.Fatalf("cells %+v, plain %+v; want columns only at %d trials without Plain", cells, plain, function.ColumnsFrom)
	}
	if 2*cells[1].RequestBytes > plain[1].RequestBytes {
		t.Errorf("%d bytes in columns, %d in trials", cells[1].RequestBytes, plain[1].RequestBytes)
	}
}
