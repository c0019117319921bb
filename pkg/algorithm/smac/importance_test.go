package smac

import (
	"math"
	"math/rand/v2"
	"testing"

	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

func importanceSpace(t testing.TB, specs ...*pb.ParameterSpec) *searchspace.Space {
	t.Helper()
	s, err := searchspace.Parse(specs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func double(name, lo, hi string) *pb.ParameterSpec {
	return &pb.ParameterSpec{Name: name, ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: lo, Max: hi}}
}

// sample draws n points from the space's priors and scores them with f.
func sample(s *searchspace.Space, n int, f func(searchspace.Point) float64) ([]searchspace.Point, []float64) {
	rng := rand.New(rand.NewPCG(7, 7))
	pts, ys := make([]searchspace.Point, n), make([]float64, n)
	for i := range pts {
		pts[i] = s.Sample(rng)
		ys[i] = f(pts[i])
	}
	return pts, ys
}

func TestImportanceFindsTheParameterThatMatters(t *testing.T) {
	s := importanceSpace(t, double("lr", "0", "1"), double("noise", "0", "1"), double("also-noise", "-5", "5"))
	pts, ys := sample(s, 200, func(pt searchspace.Point) float64 { return math.Pow(pt[0]-0.3, 2) })
	got, err := Importance(s, pts, ys)
	if err != nil {
		t.Fatal(err)
	}
	if got[0] < 0.8 || got[1] > 0.05 || got[2] > 0.05 {
		t.Errorf("shares %.3f, want lr above 0.8 and the others below 0.05", got)
	}
}

func TestImportanceOfAdditiveParametersAddsUp(t *testing.T) {
	// loss = x + 2y, uniform: Var = 1/12 + 4/12, so shares 0.2 and 0.8; the
	// log scaling bends the sum a little.
	s := importanceSpace(t, double("x", "0", "1"), double("y", "0", "1"))
	pts, ys := sample(s, 400, func(pt searchspace.Point) float64 { return 1 + pt[0] + 2*pt[1] })
	got, err := Importance(s, pts, ys)
	if err != nil {
		t.Fatal(err)
	}
	if sum := got[0] + got[1]; sum < 0.8 || sum > 1+1e-9 {
		t.Errorf("shares %.3f add up to %.3f, want most of the variance and at most all", got, sum)
	}
	if got[1] < 2*got[0] {
		t.Errorf("shares %.3f: y weighs twice x and has four times its variance", got)
	}
}

func TestImportanceOfCategories(t *testing.T) {
	s := importanceSpace(t, double("x", "0", "1"),
		&pb.ParameterSpec{Name: "opt", ParameterType: pb.ParameterType_CATEGORICAL, FeasibleSpace: &pb.FeasibleSpace{List: []string{"sgd", "adam", "rmsprop"}}})
	pts, ys := sample(s, 200, func(pt searchspace.Point) float64 { return 1 + 5*pt[1] + 0.01*pt[0] })
	got, err := Importance(s, pts, ys)
	if err != nil {
		t.Fatal(err)
	}
	if got[1] < 0.8 || got[0] > 0.1 {
		t.Errorf("shares %.3f, want the category above 0.8 and x below 0.1", got)
	}
}

func TestImportanceWithoutSignal(t *testing.T) {
	s := importanceSpace(t, double("x", "0", "1"))
	for _, tc := range []struct {
		name string
		n    int
		f    func(searchspace.Point) float64
	}{
		{"no points", 0, func(searchspace.Point) float64 { return 1 }},
		{"one point", 1, func(searchspace.Point) float64 { return 1 }},
		{"constant loss", 20, func(searchspace.Point) float64 { return 3 }},
	} {
		pts, ys := sample(s, tc.n, tc.f)
		got, err := Importance(s, pts, ys)
		if err != nil || len(got) != 1 || got[0] != 0 {
			t.Errorf("%s: got %v, %v; want [0]", tc.name, got, err)
		}
	}
}

func TestImportanceRefusesBadInput(t *testing.T) {
	s := importanceSpace(t, double("x", "0", "1"), double("y", "0", "1"))
	for name, call := range map[string]func() error{
		"fewer losses": func() error { _, err := Importance(s, []searchspace.Point{{0, 0}}, nil); return err },
		"short point":  func() error { _, err := Importance(s, []searchspace.Point{{0}}, []float64{1}); return err },
		"NaN loss": func() error {
			_, err := Importance(s, []searchspace.Point{{0, 0}, {1, 1}}, []float64{1, math.NaN()})
			return err
		},
		"inactive parameter": func() error {
			_, err := Importance(s, []searchspace.Point{{0, 0}, {1, searchspace.Inactive}}, []float64{1, 2})
			return err
		},
	} {
		if err := call(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestImportanceIsDeterministic(t *testing.T) {
	s := importanceSpace(t, double("x", "0", "1"), double("y", "0", "1"))
	pts, ys := sample(s, 100, func(pt searchspace.Point) float64 { return pt[0] * pt[1] })
	a, _ := Importance(s, pts, ys)
	b, _ := Importance(s, pts, ys)
	for j := range a {
		if a[j] != b[j] {
			t.Fatalf("%v then %v", a, b)
		}
	}
}

func BenchmarkImportance(b *testing.B) {
	s := importanceSpace(b, double("a", "0", "1"), double("b", "0", "1"), double("c", "0", "1"), double("d", "0", "1"))
	pts, ys := sample(s, 1000, func(pt searchspace.Point) float64 { return pt[0]*pt[0] + pt[1] + 0.1*pt[2]*pt[3] })
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Importance(s, pts, ys); err != nil {
			b.Fatal(err)
		}
	}
}
