package cmaes

import (
	"math"
	"testing"

	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// TestCell: the cell of a value in the unit interval is where FromUnit
// gives that value, ends included, for every kind of finite parameter.
func TestCell(t *testing.T) {
	specs := []*pb.ParameterSpec{
		{Name: "int", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "1", Max: "5"}},
		{Name: "logint", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "1", Max: "100", Distribution: pb.Distribution_LOG_UNIFORM}},
		{Name: "discrete", ParameterType: pb.ParameterType_DISCRETE, FeasibleSpace: &pb.FeasibleSpace{List: []string{"64", "16", "32"}}},
		{Name: "step", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: "0", Max: "1", Step: "0.25", Distribution: pb.Distribution_NORMAL}},
	}
	space, err := searchspace.Parse(specs)
	if err != nil {
		t.Fatal(err)
	}
	// Uniform ints own equal cells: 3 of 1..5 owns [0.4, 0.6].
	if lo, hi := cell(&space.Params[0], 0.5); math.Abs(lo-0.4) > 1e-12 || math.Abs(hi-0.6) > 1e-12 {
		t.Errorf("int 3: cell [%g, %g], want [0.4, 0.6]", lo, hi)
	}
	if lo, hi := cell(&space.Params[0], 0.05); lo != 0 || math.Abs(hi-0.2) > 1e-12 {
		t.Errorf("int 1: cell [%g, %g], want [0, 0.2]", lo, hi)
	}
	for i := range space.Params {
		p := &space.Params[i]
		for _, u := range []float64{0, 0.01, 0.3, 0.5, 0.77, 0.99, 1} {
			lo, hi := cell(p, u)
			v := p.FromUnit(u)
			if !(lo <= u && u <= hi) {
				t.Errorf("%s at %g: cell [%g, %g] does not hold it", p.Name, u, lo, hi)
			}
			if p.FromUnit(lo) != v || p.FromUnit(hi) != v {
				t.Errorf("%s at %g: the cell's ends [%g, %g] give %g, %g, want %g", p.Name, u, lo, hi, p.FromUnit(lo), p.FromUnit(hi), v)
			}
			if lo > 0 && p.FromUnit(lo-1e-9) == v {
				t.Errorf("%s at %g: below the cell's start %g is still %g", p.Name, u, lo, v)
			}
			if hi < 1 && p.FromUnit(hi+1e-9) == v {
				t.Errorf("%s at %g: above the cell's end %g is still %g", p.Name, u, hi, v)
			}
		}
	}
}

// TestMarginAtAnEnd: a mean in the first or last value's cell, with a
// standard deviation too small to leave it, moves towards the one
// neighbour until a draw leaves with probability alpha; a continuous
// coordinate is left alone.
func TestMarginAtAnEnd(t *testing.T) {
	specs := []*pb.ParameterSpec{
		{Name: "a", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "1", Max: "5"}},
		{Name: "b", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "1", Max: "5"}},
		{Name: "x", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: "0", Max: "1"}},
	}
	space, err := searchspace.Parse(specs)
	if err != nil {
		t.Fatal(err)
	}
	const alpha = 0.05
	d := newDist([]float64{0.05, 0.97, 0.02}, 1e-3)
	d.margin(space, []int{0, 1, 2}, alpha)
	sd := 1e-3
	if got := 1 - normCDF((0.2-d.mean[0])/sd); math.Abs(got-alpha) > 1e-9 {
		t.Errorf("first cell: mean %g leaves it with %g, want %g", d.mean[0], got, alpha)
	}
	if got := normCDF((0.8 - d.mean[1]) / sd); math.Abs(got-alpha) > 1e-9 {
		t.Errorf("last cell: mean %g leaves it with %g, want %g", d.mean[1], got, alpha)
	}
	if d.mean[2] != 0.02 || d.c[8] != 1 {
		t.Errorf("the double moved: mean %g, variance %g", d.mean[2], d.c[8])
	}
	// Already free to leave: nothing changes.
	free := newDist([]float64{0.19, 0.5, 0.5}, 0.2)
	free.margin(space, []int{0, 1, 2}, alpha)
	if free.mean[0] != 0.19 || free.mean[1] != 0.5 || free.c[0] != 1 || free.c[4] != 1 {
		t.Errorf("a wide distribution was corrected: mean %v, C %v", free.mean, free.c)
	}
}
