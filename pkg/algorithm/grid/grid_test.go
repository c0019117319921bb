package grid_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/algorithmtest"
	"knobs.dev/knobs/pkg/algorithm/grid"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Spec builders.

func double(name, min, max, step string) *pb.ParameterSpec {
	return &pb.ParameterSpec{Name: name, ParameterType: pb.ParameterType_DOUBLE,
		FeasibleSpace: &pb.FeasibleSpace{Min: min, Max: max, Step: step}}
}

func integer(name, min, max string) *pb.ParameterSpec {
	return &pb.ParameterSpec{Name: name, ParameterType: pb.ParameterType_INT,
		FeasibleSpace: &pb.FeasibleSpace{Min: min, Max: max}}
}

func categorical(name string, list ...string) *pb.ParameterSpec {
	return &pb.ParameterSpec{Name: name, ParameterType: pb.ParameterType_CATEGORICAL, FeasibleSpace: &pb.FeasibleSpace{List: list}}
}

func discrete(name string, list ...string) *pb.ParameterSpec {
	return &pb.ParameterSpec{Name: name, ParameterType: pb.ParameterType_DISCRETE, FeasibleSpace: &pb.FeasibleSpace{List: list}}
}

// stepped is Katib's example with a step for the learning rate:
// 5 x 4 x 3 = 60 points.
func stepped() []*pb.ParameterSpec {
	return []*pb.ParameterSpec{
		double("--lr", "0.01", "0.03", "0.005"),
		integer("--num-layers", "2", "5"),
		categorical("--optimizer", "sgd", "adam", "ftrl"),
	}
}

// huge has 1000^4 = 10^12 points.
func huge() []*pb.ParameterSpec {
	return []*pb.ParameterSpec{
		integer("a", "1", "1000"), integer("b", "1", "1000"), integer("c", "1", "1000"), integer("d", "1", "1000"),
	}
}

func experiment(specs ...*pb.ParameterSpec) *pb.Experiment {
	return algorithmtest.Experiment("grid", nil, specs...)
}

func problem(t testing.TB, specs ...*pb.ParameterSpec) *algorithm.Problem {
	t.Helper()
	return algorithmtest.Problem(t, grid.Grid{}, experiment(specs...))
}

// trialsOf turns points into trials the way a request brings them: as
// formatted assignments.
func trialsOf(t testing.TB, p *algorithm.Problem, pts []searchspace.Point) []algorithm.Trial {
	t.Helper()
	return algorithmtest.Trials(t, p, algorithmtest.History(pts, 0))
}

// suggest asks for count points given the points handed out so far, and
// checks the reply against the contract.
func suggest(t testing.TB, p *algorithm.Problem, history []searchspace.Point, count int) *algorithm.Suggestions {
	t.Helper()
	return algorithmtest.Suggest(t, grid.Grid{}, p, trialsOf(t, p, history), count)
}

// indices returns the grid positions of points, failing on a point off the
// grid.
func indices(t testing.TB, s *searchspace.Space, pts []searchspace.Point) []uint64 {
	t.Helper()
	out := make([]uint64, len(pts))
	for i, pt := range pts {
		k, ok := s.IndexOf(pt)
		if !ok {
			t.Fatalf("point %v is not on the grid", pt)
		}
		out[i] = k
	}
	return out
}

func points(s *searchspace.Space, idx ...uint64) []searchspace.Point {
	out := make([]searchspace.Point, len(idx))
	for i, k := range idx {
		out[i] = s.PointAt(k)
	}
	return out
}

func span(from, to uint64) []uint64 {
	var out []uint64
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		specs []*pb.ParameterSpec
		path  string // "" when valid
	}{
		{"stepped example", stepped(), ""},
		{"int without step steps by one", []*pb.ParameterSpec{integer("n", "1", "3")}, ""},
		{"discrete and categorical", []*pb.ParameterSpec{discrete("d", "1", "2"), categorical("c", "x")}, ""},
		{"Katib example without step", []*pb.ParameterSpec{double("--lr", "0.01", "0.03", ""), integer("--num-layers", "2", "5")},
			`experiment.experimentSpec.parameterSpecs.parameters[0] ("--lr").feasibleSpace.step`},
		{"second double without step", []*pb.ParameterSpec{double("a", "0", "1", "0.5"), double("b", "0", "9", "")},
			`experiment.experimentSpec.parameterSpecs.parameters[1] ("b").feasibleSpace.step`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := algorithm.NewProblem(grid.Grid{}, experiment(tt.specs...))
			if tt.path == "" {
				if err != nil {
					t.Fatalf("NewProblem = %v, want no error", err)
				}
				if n, exact := p.Space.Size(); n == 0 || !exact {
					t.Errorf("Size = %d, %v", n, exact)
				}
				return
			}
			var ae *algorithm.Error
			if !errors.As(err, &ae) {
				t.Fatalf("NewProblem error = %v (%T), want an *algorithm.Error", err, err)
			}
			if ae.Path != tt.path {
				t.Errorf("Path = %q, want %q", ae.Path, tt.path)
			}
			if !strings.Contains(err.Error(), tt.path) || !strings.Contains(ae.Message, "step") || !strings.Contains(ae.Message, "missing") {
				t.Errorf("Error() = %q, want the path and a word about the missing step", err)
			}
			if !algorithm.IsInvalidArgument(err) {
				t.Error("IsInvalidArgument = false")
			}
		})
	}
}

func TestValidateSuggestsAStep(t *testing.T) {
	_, err := algorithm.NewProblem(grid.Grid{}, experiment(double("x", "0", "9", "")))
	if err == nil || !strings.Contains(err.Error(), `"1"`) {
		t.Errorf("error = %v, want it to suggest step \"1\" for ten points from 0 to 9", err)
	}
}

func TestTakesNoSettings(t *testing.T) {
	if s := (grid.Grid{}).Settings(); len(s) != 0 {
		t.Errorf("Settings() = %v, want none", s)
	}
	exp := experiment(stepped()...)
	exp.ExperimentSpec.Algorithm.AlgorithmSettings = []*pb.AlgorithmSetting{{Name: algorithm.RandomState, Value: "1"}}
	_, err := algorithm.NewProblem(grid.Grid{}, exp)
	if err == nil || !strings.Contains(err.Error(), "no settings") {
		t.Errorf("NewProblem with random_state = %v, want an error saying grid takes no settings", err)
	}
}

func TestWalkWholeGrid(t *testing.T) {
	p := problem(t, stepped()...)
	if n, exact := p.Space.Size(); n != 60 || !exact {
		t.Fatalf("Size = %d, %v; want 60, true", n, exact)
	}
	var history []searchspace.Point
	calls := 0
	for {
		out := suggest(t, p, history, 7)
		calls++
		wantLen := min(7, 60-len(history))
		if len(out.Points) != wantLen {
			t.Fatalf("call %d: %d points, want %d", calls, len(out.Points), wantLen)
		}
		wantIdx := span(uint64(len(history)), uint64(len(history)+wantLen))
		if got := indices(t, p.Space, out.Points); !slices.Equal(got, wantIdx) {
			t.Fatalf("call %d: indices %v, want %v", calls, got, wantIdx)
		}
		history = append(history, out.Points...)
		if out.Exhausted {
			break
		}
		if calls > 20 {
			t.Fatal("never exhausted")
		}
	}
	if calls != 9 || len(history) != 60 {
		t.Errorf("%d calls for %d points, want 9 calls for 60 (the last giving 60 mod 7 = 4)", calls, len(history))
	}
	for i, pt := range history {
		if want := p.Space.PointAt(uint64(i)); !slices.Equal(pt, want) {
			t.Errorf("point %d = %v, want %v", i, pt, want)
		}
	}
	after := suggest(t, p, history, 7)
	if len(after.Points) != 0 || !after.Exhausted {
		t.Errorf("after the whole grid: %d points, exhausted %v; want 0, true", len(after.Points), after.Exhausted)
	}
}

func TestOrderIsFixed(t *testing.T) {
	p := problem(t, stepped()...)
	first := p.Space.Format(p.Space.PointAt(0))
	want := [][2]string{{"--lr", "0.01"}, {"--num-layers", "2"}, {"--optimizer", "sgd"}}
	for i, w := range want {
		if first[i].GetName() != w[0] || first[i].GetValue() != w[1] {
			t.Errorf("first point %s=%s, want %s=%s", first[i].GetName(), first[i].GetValue(), w[0], w[1])
		}
	}
	// The last parameter changes fastest.
	second := p.Space.Format(p.Space.PointAt(1))
	if second[2].GetValue() != "adam" || second[1].GetValue() != "2" || second[0].GetValue() != "0.01" {
		t.Errorf("second point = %v, want the optimizer to change first", second)
	}
	thirteenth := p.Space.Format(p.Space.PointAt(12))
	if thirteenth[0].GetValue() != "0.015" || thirteenth[1].GetValue() != "2" || thirteenth[2].GetValue() != "sgd" {
		t.Errorf("point 12 = %v, want --lr=0.015 --num-layers=2 --optimizer=sgd", thirteenth)
	}

	for _, k := range []uint64{0, 1, 2, 13, 30, 59} {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			out := suggest(t, p, points(p.Space, span(0, k)...), 1)
			if len(out.Points) != 1 || !slices.Equal(out.Points[0], p.Space.PointAt(k)) {
				t.Fatalf("after %d points: %v, want point %d %v", k, out.Points, k, p.Space.PointAt(k))
			}
			if want := k == 59; out.Exhausted != want {
				t.Errorf("Exhausted = %v, want %v", out.Exhausted, want)
			}
		})
	}
}

func TestHandsOutTheFirstFreePoints(t *testing.T) {
	p := problem(t, stepped()...)
	tests := []struct {
		name      string
		history   []uint64
		count     int
		want      []uint64
		exhausted bool
	}{
		{"fresh", nil, 3, []uint64{0, 1, 2}, false},
		{"gaps are filled first", []uint64{0, 2, 3, 5}, 4, []uint64{1, 4, 6, 7}, false},
		{"history in any order", []uint64{5, 3, 0, 2}, 4, []uint64{1, 4, 6, 7}, false},
		{"repeated history", []uint64{0, 0, 1, 1, 1}, 2, []uint64{2, 3}, false},
		{"exactly the rest", span(0, 53), 7, span(53, 60), true},
		{"one short of the rest", span(0, 53), 6, span(53, 59), false},
		{"more than the rest", span(0, 53), 10, span(53, 60), true},
		{"the tail taken first", span(50, 60), 50, span(0, 50), true},
		{"the tail taken first, one short", span(50, 60), 49, span(0, 49), false},
		{"only holes left", append(span(0, 10), span(11, 59)...), 5, []uint64{10, 59}, true},
		{"ask for the whole grid", nil, 60, span(0, 60), true},
		{"ask for more than the whole grid", nil, 100, span(0, 60), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := suggest(t, p, points(p.Space, tt.history...), tt.count)
			if got := indices(t, p.Space, out.Points); !slices.Equal(got, tt.want) {
				t.Errorf("indices %v, want %v", got, tt.want)
			}
			if out.Exhausted != tt.exhausted {
				t.Errorf("Exhausted = %v, want %v", out.Exhausted, tt.exhausted)
			}
		})
	}
}

func TestRandomHistories(t *testing.T) {
	p := problem(t, stepped()...)
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var history []uint64
		taken := make(map[uint64]bool)
		for range rng.IntN(70) {
			k := rng.Uint64N(60)
			history = append(history, k)
			taken[k] = true
		}
		count := 1 + rng.IntN(20)
		var want []uint64
		for k := uint64(0); k < 60 && len(want) < count; k++ {
			if !taken[k] {
				want = append(want, k)
			}
		}
		exhausted := len(want) == 60-len(taken)
		out := suggest(t, p, points(p.Space, history...), count)
		if got := indices(t, p.Space, out.Points); !slices.Equal(got, want) || out.Exhausted != exhausted {
			t.Fatalf("round %d, history %v, count %d: got %v exhausted %v; want %v exhausted %v",
				round, history, count, got, out.Exhausted, want, exhausted)
		}
	}
}

func TestHistoryOffTheGridIsIgnored(t *testing.T) {
	p := problem(t, stepped()...)
	off := []searchspace.Point{
		{0.012, 2, 0}, // between steps
		{0.035, 2, 0}, // past max
		{0.01, 9, 0},  // int out of range
		{0.01, 1, 1},  // int below range
	}
	out := suggest(t, p, off, 3)
	if got := indices(t, p.Space, out.Points); !slices.Equal(got, []uint64{0, 1, 2}) || out.Exhausted {
		t.Errorf("indices %v exhausted %v; want [0 1 2] false", got, out.Exhausted)
	}
	out = suggest(t, p, append(points(p.Space, 1), off...), 3)
	if got := indices(t, p.Space, out.Points); !slices.Equal(got, []uint64{0, 2, 3}) || out.Exhausted {
		t.Errorf("indices %v exhausted %v; want [0 2 3] false", got, out.Exhausted)
	}
	// Off-grid history does not make the grid run out early.
	history := append(points(p.Space, span(0, 58)...), off...)
	out = suggest(t, p, history, 1)
	if got := indices(t, p.Space, out.Points); !slices.Equal(got, []uint64{58}) || out.Exhausted {
		t.Errorf("indices %v exhausted %v; want [58] false", got, out.Exhausted)
	}
}

func TestOtherParameterTypes(t *testing.T) {
	p := problem(t, discrete("d", "10", "0.5", "3"), double("x", "1e-5", "3e-5", "1e-5"), integer("n", "-1", "0"))
	if n, _ := p.Space.Size(); n != 18 {
		t.Fatalf("Size = %d, want 18", n)
	}
	out := suggest(t, p, nil, 18)
	if !out.Exhausted || len(out.Points) != 18 {
		t.Fatalf("%d points, exhausted %v; want 18, true", len(out.Points), out.Exhausted)
	}
	var got []string
	for _, pt := range out.Points[:4] {
		var vals []string
		for _, a := range p.Space.Format(pt) {
			vals = append(vals, a.GetValue())
		}
		got = append(got, strings.Join(vals, " "))
	}
	want := []string{"10 1e-05 -1", "10 1e-05 0", "10 2e-05 -1", "10 2e-05 0"}
	if !slices.Equal(got, want) {
		t.Errorf("first points %q, want %q", got, want)
	}
}

func TestLazyOnHugeGrid(t *testing.T) {
	p := problem(t, huge()...)
	if n, exact := p.Space.Size(); n != 1_000_000_000_000 || !exact {
		t.Fatalf("Size = %d, %v; want 10^12, true", n, exact)
	}
	out := suggest(t, p, nil, 5)
	if got := indices(t, p.Space, out.Points); !slices.Equal(got, span(0, 5)) || out.Exhausted {
		t.Fatalf("indices %v exhausted %v; want [0 1 2 3 4] false", got, out.Exhausted)
	}
	for i, pt := range out.Points {
		if want := (searchspace.Point{1, 1, 1, float64(i + 1)}); !slices.Equal(pt, want) {
			t.Errorf("point %d = %v, want %v", i, pt, want)
		}
	}
	next := suggest(t, p, out.Points, 5)
	if got := indices(t, p.Space, next.Points); !slices.Equal(got, span(5, 10)) {
		t.Errorf("next indices %v, want [5 6 7 8 9]", got)
	}
	// The last point, handed out early, is skipped but does not end the grid.
	last := p.Space.PointAt(1_000_000_000_000 - 1)
	if !slices.Equal(last, searchspace.Point{1000, 1000, 1000, 1000}) {
		t.Errorf("last point = %v", last)
	}
	out = suggest(t, p, []searchspace.Point{last}, 2)
	if got := indices(t, p.Space, out.Points); !slices.Equal(got, span(0, 2)) || out.Exhausted {
		t.Errorf("indices %v exhausted %v; want [0 1] false", got, out.Exhausted)
	}
}

func TestGridBeyond64Bits(t *testing.T) {
	var specs []*pb.ParameterSpec
	for i := range 5 {
		specs = append(specs, integer(fmt.Sprintf("p%d", i), "0", "1000000"))
	}
	p := problem(t, specs...)
	if _, exact := p.Space.Size(); exact {
		t.Fatal("Size is exact for 1000001^5 points")
	}
	out := suggest(t, p, points(p.Space, 0), 3)
	if len(out.Points) != 3 || out.Exhausted {
		t.Fatalf("%d points, exhausted %v; want 3, false", len(out.Points), out.Exhausted)
	}
	for i, pt := range out.Points {
		if want := (searchspace.Point{0, 0, 0, 0, float64(i + 1)}); !slices.Equal(pt, want) {
			t.Errorf("point %d = %v, want %v", i, pt, want)
		}
	}
}

func TestCancelledContext(t *testing.T) {
	p := problem(t, stepped()...)
	algorithmtest.Cancelled(t, grid.Grid{}, p, nil, 5)
	algorithmtest.CancelledMidway(t, grid.Grid{}, p, nil, 20)
}

func BenchmarkGrid10e12(b *testing.B) {
	p := problem(b, huge()...)
	trials := trialsOf(b, p, points(p.Space, span(0, 100)...))
	ctx := context.Background()
	for b.Loop() {
		out, err := grid.Grid{}.Suggest(ctx, p, trials, 5)
		if err != nil || len(out.Points) != 5 {
			b.Fatalf("Suggest = %v, %v", out, err)
		}
	}
}

func TestExhaustion(t *testing.T) {
	algorithmtest.Exhaustion(t, grid.Grid{}, problem(t, algorithmtest.Twelve()...))
}
