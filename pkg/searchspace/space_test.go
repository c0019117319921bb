package searchspace_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Spec builders.

func double(name, min, max string) *pb.ParameterSpec {
	return &pb.ParameterSpec{Name: name, ParameterType: pb.ParameterType_DOUBLE,
		FeasibleSpace: &pb.FeasibleSpace{Min: min, Max: max}}
}

func integer(name, min, max string) *pb.ParameterSpec {
	return &pb.ParameterSpec{Name: name, ParameterType: pb.ParameterType_INT,
		FeasibleSpace: &pb.FeasibleSpace{Min: min, Max: max}}
}

func discrete(name string, list ...string) *pb.ParameterSpec {
	return &pb.ParameterSpec{Name: name, ParameterType: pb.ParameterType_DISCRETE,
		FeasibleSpace: &pb.FeasibleSpace{List: list}}
}

func categorical(name string, list ...string) *pb.ParameterSpec {
	return &pb.ParameterSpec{Name: name, ParameterType: pb.ParameterType_CATEGORICAL,
		FeasibleSpace: &pb.FeasibleSpace{List: list}}
}

func withStep(s *pb.ParameterSpec, step string) *pb.ParameterSpec {
	s.FeasibleSpace.Step = step
	return s
}

func withDist(s *pb.ParameterSpec, d pb.Distribution) *pb.ParameterSpec {
	s.FeasibleSpace.Distribution = d
	return s
}

// katib is the search space of Katib's random search example.
func katib() []*pb.ParameterSpec {
	return []*pb.ParameterSpec{
		double("--lr", "0.01", "0.03"),
		integer("--num-layers", "2", "5"),
		categorical("--optimizer", "sgd", "adam", "ftrl"),
	}
}

func mustParse(t testing.TB, specs ...*pb.ParameterSpec) *searchspace.Space {
	t.Helper()
	s, err := searchspace.Parse(specs)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

func mustParam(t testing.TB, spec *pb.ParameterSpec) *searchspace.Param {
	t.Helper()
	return &mustParse(t, spec).Params[0]
}

func TestParseKatibExample(t *testing.T) {
	s := mustParse(t, katib()...)
	if s.Len() != 3 {
		t.Fatalf("Len = %d, want 3", s.Len())
	}
	lr, layers, opt := &s.Params[0], &s.Params[1], &s.Params[2]

	if lr.Name != "--lr" || lr.Type != searchspace.Double || lr.Distribution != searchspace.Uniform ||
		lr.Min != 0.01 || lr.Max != 0.03 || lr.Step != 0 || lr.Finite() || lr.Len() != 0 {
		t.Errorf("--lr = %+v, want continuous uniform double [0.01, 0.03]", *lr)
	}
	if layers.Name != "--num-layers" || layers.Type != searchspace.Int || layers.Min != 2 || layers.Max != 5 ||
		layers.Step != 1 || !layers.Finite() || layers.Len() != 4 {
		t.Errorf("--num-layers = %+v, want int 2..5 step 1 with 4 values", *layers)
	}
	if opt.Name != "--optimizer" || opt.Type != searchspace.Categorical || opt.Len() != 3 ||
		!slices.Equal(opt.List, []string{"sgd", "adam", "ftrl"}) {
		t.Errorf("--optimizer = %+v, want categorical sgd/adam/ftrl", *opt)
	}
	if s.Finite() {
		t.Error("Finite() = true for a space with a continuous double")
	}
	for name, want := range map[string]int{"--lr": 0, "--num-layers": 1, "--optimizer": 2} {
		if i, ok := s.Lookup(name); !ok || i != want {
			t.Errorf("Lookup(%q) = %d, %v; want %d, true", name, i, ok, want)
		}
	}
	if _, ok := s.Lookup("--momentum"); ok {
		t.Error(`Lookup("--momentum") found a parameter that does not exist`)
	}
}

func TestParseDoesNotAliasTheRequest(t *testing.T) {
	spec := categorical("c", "a", "b")
	s := mustParse(t, spec)
	spec.FeasibleSpace.List[0] = "changed"
	if got := s.Params[0].List[0]; got != "a" {
		t.Errorf("List[0] = %q after the request changed, want %q", got, "a")
	}
}

func TestParseErrors(t *testing.T) {
	tooLong := make([]string, searchspace.MaxListLength+1)
	for i := range tooLong {
		tooLong[i] = strconv.Itoa(i)
	}
	tests := []struct {
		name  string
		specs []*pb.ParameterSpec
		path  string   // the error's Path
		words []string // each appears in Error()
	}{
		{"no parameters", nil, "parameters", []string{"no parameters"}},
		{"nil parameter", []*pb.ParameterSpec{nil}, "parameters[0]", []string{"empty parameter"}},
		{"missing name", []*pb.ParameterSpec{double("a", "0", "1"), double("", "0", "1")},
			"parameters[1].name", []string{"missing name"}},
		{"duplicate name", []*pb.ParameterSpec{double("--lr", "0", "1"), integer("--lr", "0", "1")},
			`parameters[1] ("--lr").name`, []string{"duplicate name", "parameters[0]"}},
		{"unknown parameter type", []*pb.ParameterSpec{{Name: "x", FeasibleSpace: &pb.FeasibleSpace{Min: "0", Max: "1"}}},
			`parameters[0] ("x").parameterType`, []string{"parameter type", "DOUBLE, INT, DISCRETE or CATEGORICAL"}},
		{"out of range parameter type", []*pb.ParameterSpec{{Name: "x", ParameterType: pb.ParameterType(9), FeasibleSpace: &pb.FeasibleSpace{Min: "0", Max: "1"}}},
			`parameters[0] ("x").parameterType`, []string{"unknown parameter type", "9"}},
		{"unknown distribution", []*pb.ParameterSpec{withDist(double("x", "0", "1"), pb.Distribution(99))},
			`parameters[0] ("x").feasibleSpace.distribution`, []string{"unknown distribution", "99", "LOG_UNIFORM"}},
		{"min above max", []*pb.ParameterSpec{double("--lr", "0.05", "0.03")},
			`parameters[0] ("--lr").feasibleSpace`, []string{"min 0.05 is greater than max 0.03"}},
		{"int min above max", []*pb.ParameterSpec{integer("n", "5", "2")},
			`parameters[0] ("n").feasibleSpace`, []string{"greater than max"}},
		{"missing min", []*pb.ParameterSpec{double("--lr", "", "0.03")},
			`parameters[0] ("--lr").feasibleSpace.min`, []string{"missing", "min and max"}},
		{"missing max", []*pb.ParameterSpec{integer("n", "1", "")},
			`parameters[0] ("n").feasibleSpace.max`, []string{"missing"}},
		{"missing feasible space", []*pb.ParameterSpec{{Name: "x", ParameterType: pb.ParameterType_DOUBLE}},
			`parameters[0] ("x").feasibleSpace.min`, []string{"missing"}},
		{"non-numeric min", []*pb.ParameterSpec{double("--lr", "abc", "0.03")},
			`parameters[0] ("--lr").feasibleSpace.min`, []string{`"abc" is not a number`}},
		{"non-numeric max on second parameter", []*pb.ParameterSpec{double("a", "0", "1"), integer("b", "0", "ten")},
			`parameters[1] ("b").feasibleSpace.max`, []string{`"ten" is not a number`}},
		{"NaN min", []*pb.ParameterSpec{double("--lr", "NaN", "0.03")},
			`parameters[0] ("--lr").feasibleSpace.min`, []string{"not a finite number"}},
		{"Inf max", []*pb.ParameterSpec{double("--lr", "0.01", "Inf")},
			`parameters[0] ("--lr").feasibleSpace.max`, []string{"not a finite number"}},
		{"-Inf min", []*pb.ParameterSpec{double("--lr", "-inf", "0.03")},
			`parameters[0] ("--lr").feasibleSpace.min`, []string{"not a finite number"}},
		{"fractional int bound", []*pb.ParameterSpec{integer("--num-layers", "2.5", "5")},
			`parameters[0] ("--num-layers").feasibleSpace.min`, []string{`"2.5" is not an integer`}},
		{"fractional int step", []*pb.ParameterSpec{withStep(integer("n", "0", "5"), "0.5")},
			`parameters[0] ("n").feasibleSpace.step`, []string{`"0.5" is not an integer`}},
		{"empty categorical list", []*pb.ParameterSpec{categorical("--optimizer")},
			`parameters[0] ("--optimizer").feasibleSpace.list`, []string{"empty list", "categorical"}},
		{"empty discrete list", []*pb.ParameterSpec{discrete("d")},
			`parameters[0] ("d").feasibleSpace.list`, []string{"empty list", "discrete"}},
		{"list too long", []*pb.ParameterSpec{discrete("d", tooLong...)},
			`parameters[0] ("d").feasibleSpace.list`, []string{"100001 values", "at most 100000"}},
		{"duplicate categorical value", []*pb.ParameterSpec{categorical("--optimizer", "sgd", "adam", "sgd")},
			`parameters[0] ("--optimizer").feasibleSpace.list[2]`, []string{`"sgd" repeats list[0]`}},
		{"empty categorical value", []*pb.ParameterSpec{categorical("c", "a", "")},
			`parameters[0] ("c").feasibleSpace.list[1]`, []string{"empty value"}},
		{"discrete non-number", []*pb.ParameterSpec{discrete("d", "1", "two")},
			`parameters[0] ("d").feasibleSpace.list[1]`, []string{`"two" is not a number`, "categorical"}},
		{"discrete NaN", []*pb.ParameterSpec{discrete("d", "NaN")},
			`parameters[0] ("d").feasibleSpace.list[0]`, []string{"not a finite number"}},
		{"discrete same number written twice", []*pb.ParameterSpec{discrete("d", "1", "1.0")},
			`parameters[0] ("d").feasibleSpace.list[1]`, []string{`"1.0" is the same number as list[0]`}},
		{"discrete same number out of order", []*pb.ParameterSpec{discrete("d", "5", "1e0", "3", "1")},
			`parameters[0] ("d").feasibleSpace.list[3]`, []string{`"1" is the same number as list[1]`}},
		{"log uniform with zero min", []*pb.ParameterSpec{withDist(double("--lr", "0", "1"), pb.Distribution_LOG_UNIFORM)},
			`parameters[0] ("--lr").feasibleSpace.min`, []string{"above 0", "logUniform"}},
		{"log normal with negative min", []*pb.ParameterSpec{withDist(integer("n", "-1", "10"), pb.Distribution_LOG_NORMAL)},
			`parameters[0] ("n").feasibleSpace.min`, []string{"above 0", "logNormal"}},
		{"zero step", []*pb.ParameterSpec{withStep(double("--lr", "0.01", "0.03"), "0")},
			`parameters[0] ("--lr").feasibleSpace.step`, []string{"must be above 0"}},
		{"negative step", []*pb.ParameterSpec{withStep(integer("n", "0", "10"), "-1")},
			`parameters[0] ("n").feasibleSpace.step`, []string{"must be above 0"}},
		{"non-numeric step", []*pb.ParameterSpec{withStep(double("x", "0", "1"), "small")},
			`parameters[0] ("x").feasibleSpace.step`, []string{`"small" is not a number`}},
		{"more than 2^53 values", []*pb.ParameterSpec{withStep(double("x", "0", "1"), "1e-17")},
			`parameters[0] ("x").feasibleSpace.step`, []string{"2^53", "larger step"}},
		{"list given for a double", []*pb.ParameterSpec{{Name: "--lr", ParameterType: pb.ParameterType_DOUBLE,
			FeasibleSpace: &pb.FeasibleSpace{Min: "0", Max: "1", List: []string{"0.5"}}}},
			`parameters[0] ("--lr").feasibleSpace.list`, []string{"takes min and max, not a list"}},
		{"min given for categorical", []*pb.ParameterSpec{{Name: "--optimizer", ParameterType: pb.ParameterType_CATEGORICAL,
			FeasibleSpace: &pb.FeasibleSpace{Min: "0", List: []string{"sgd"}}}},
			`parameters[0] ("--optimizer").feasibleSpace.min`, []string{"from list, not min"}},
		{"step given for discrete", []*pb.ParameterSpec{withStep(discrete("d", "1", "2"), "1")},
			`parameters[0] ("d").feasibleSpace.step`, []string{"from list, not step"}},
		{"distribution on categorical", []*pb.ParameterSpec{withDist(categorical("--optimizer", "sgd", "adam"), pb.Distribution_LOG_UNIFORM)},
			`parameters[0] ("--optimizer").feasibleSpace.distribution`, []string{"takes no distribution"}},
		{"distribution on discrete", []*pb.ParameterSpec{withDist(discrete("d", "1", "2"), pb.Distribution_NORMAL)},
			`parameters[0] ("d").feasibleSpace.distribution`, []string{"takes no distribution"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := searchspace.Parse(tt.specs)
			if err == nil {
				t.Fatalf("Parse succeeded with %d parameters, want an error at %s", s.Len(), tt.path)
			}
			var se *searchspace.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v is a %T, want *searchspace.Error", err, err)
			}
			if _, direct := err.(*searchspace.Error); !direct {
				t.Errorf("error is %T, want *searchspace.Error itself", err)
			}
			if se.Path != tt.path {
				t.Errorf("Path = %q, want %q (error: %v)", se.Path, tt.path, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.path+": ") {
				t.Errorf("Error() = %q, want it to start with %q", msg, tt.path+": ")
			}
			for _, w := range tt.words {
				if !strings.Contains(msg, w) {
					t.Errorf("Error() = %q, want it to contain %q", msg, w)
				}
			}
			if !se.InvalidArgument() {
				t.Error("InvalidArgument() = false")
			}
		})
	}
}

func TestErrorWithoutPath(t *testing.T) {
	e := &searchspace.Error{Message: "just a message"}
	if got := e.Error(); got != "just a message" {
		t.Errorf("Error() = %q, want the bare message", got)
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		spec *pb.ParameterSpec
		len  uint64 // 0 for continuous
		min  float64
		max  float64
		step float64
	}{
		{"min equals max double: one value", double("x", "0.5", "0.5"), 1, 0.5, 0.5, 1},
		{"min equals max int", integer("n", "7", "7"), 1, 7, 7, 1},
		{"negative int range", integer("n", "-3", "3"), 7, -3, 3, 1},
		{"int with step", withStep(integer("n", "0", "10"), "3"), 4, 0, 10, 3},
		{"step larger than range", withStep(double("x", "0.01", "0.03"), "0.05"), 1, 0.01, 0.03, 0.05},
		{"stepped double", withStep(double("x", "0.01", "0.03"), "0.005"), 5, 0.01, 0.03, 0.005},
		{"decimal step that does not divide exactly", withStep(double("x", "0", "1"), "0.1"), 11, 0, 1, 0.1},
		{"exponent bounds", double("x", "1e-5", "1e-1"), 0, 1e-5, 0.1, 0},
		{"padded numbers", double("x", " 1 ", "2 "), 0, 1, 2, 0},
		{"explicit uniform", withDist(double("x", "-1", "1"), pb.Distribution_UNIFORM), 0, -1, 1, 0},
		{"log uniform", withDist(double("x", "1e-4", "1"), pb.Distribution_LOG_UNIFORM), 0, 1e-4, 1, 0},
		{"normal int", withDist(integer("n", "0", "200"), pb.Distribution_NORMAL), 201, 0, 200, 1},
		{"int from exponent bound", integer("n", "1e3", "2e3"), 1001, 1000, 2000, 1},
		{"2^53 values less one", withStep(integer("n", "0", "9007199254740990"), "1"), 9007199254740991, 0, 9007199254740990, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParam(t, tt.spec)
			if p.Len() != tt.len || p.Finite() != (tt.len > 0) || p.Min != tt.min || p.Max != tt.max || p.Step != tt.step {
				t.Errorf("got Len %d Finite %v Min %g Max %g Step %g; want Len %d Min %g Max %g Step %g",
					p.Len(), p.Finite(), p.Min, p.Max, p.Step, tt.len, tt.min, tt.max, tt.step)
			}
		})
	}
}

func TestParseDistributions(t *testing.T) {
	tests := []struct {
		dist pb.Distribution
		want searchspace.Distribution
		str  string
	}{
		{pb.Distribution_DISTRIBUTION_UNSPECIFIED, searchspace.Uniform, "uniform"},
		{pb.Distribution_UNIFORM, searchspace.Uniform, "uniform"},
		{pb.Distribution_LOG_UNIFORM, searchspace.LogUniform, "logUniform"},
		{pb.Distribution_NORMAL, searchspace.Normal, "normal"},
		{pb.Distribution_LOG_NORMAL, searchspace.LogNormal, "logNormal"},
	}
	for _, tt := range tests {
		t.Run(tt.dist.String(), func(t *testing.T) {
			p := mustParam(t, withDist(double("x", "1", "2"), tt.dist))
			if p.Distribution != tt.want || p.Distribution.String() != tt.str {
				t.Errorf("Distribution = %v (%d), want %v", p.Distribution, p.Distribution, tt.str)
			}
		})
	}
	if got := searchspace.Distribution(0).String(); got != "Distribution(0)" {
		t.Errorf("Distribution(0).String() = %q", got)
	}
}

func TestTypeString(t *testing.T) {
	for typ, want := range map[searchspace.Type]string{
		searchspace.Double: "double", searchspace.Int: "int", searchspace.Discrete: "discrete",
		searchspace.Categorical: "categorical", searchspace.Type(0): "Type(0)",
	} {
		if got := typ.String(); got != want {
			t.Errorf("Type(%d).String() = %q, want %q", int(typ), got, want)
		}
	}
}

func TestFormat(t *testing.T) {
	// Variables, so that the sums round as they do at run time.
	tenth, fifth, lrMin, lrStep := 0.1, 0.2, 0.01, 0.005
	tests := []struct {
		name  string
		spec  *pb.ParameterSpec
		value float64
		want  string
	}{
		{"int", integer("--num-layers", "2", "5"), 4, "4"},
		{"negative int", integer("n", "-5", "5"), -3, "-3"},
		{"int rounds", integer("n", "0", "10"), 3.9999999999, "4"},
		{"int from exponent bounds", integer("n", "1e3", "2e3"), 1500, "1500"},
		{"int at the edge of exact integers", integer("n", "9007199254740991", "9007199254740991"), 1<<53 - 1, "9007199254740991"},
		{"int negative zero", integer("n", "-1", "1"), math.Copysign(0, -1), "0"},
		{"int rounding to zero from below", integer("n", "-1", "1"), -0.2, "0"},
		{"continuous double", double("--lr", "0.01", "0.03"), 0.015, "0.015"},
		{"continuous double shortest round trip", double("--lr", "0.01", "0.03"), tenth + fifth, "0.30000000000000004"},
		{"continuous double no exponent", double("x", "0", "1"), 1e-7, "0.0000001"},
		{"exponent bounds small", double("x", "1e-5", "1e-1"), 1e-5, "1e-05"},
		{"exponent bounds mid", double("x", "1e-5", "1e-1"), 2.5e-5, "2.5e-05"},
		{"exponent bounds plain range", double("x", "1e-5", "1e-1"), 0.05, "0.05"},
		{"exponent bounds upper", double("x", "1e-5", "1e-1"), 0.1, "0.1"},
		{"stepped double", withStep(double("--lr", "0.01", "0.03"), "0.005"), lrMin + lrStep, "0.015"},
		{"stepped double trims trailing zeros", withStep(double("--lr", "0.01", "0.03"), "0.005"), lrMin + 2*lrStep, "0.02"},
		{"stepped double whole number", withStep(double("x", "0", "2"), "0.5"), 2, "2"},
		{"stepped double hides rounding", withStep(double("x", "0", "1"), "0.1"), 3 * tenth, "0.3"},
		{"stepped double exponent", withStep(double("x", "1e-5", "1e-4"), "1e-5"), 1e-5 + 1e-5, "2e-05"},
		{"discrete as written", discrete("d", "0.10", "1e-3", "2"), 0, "0.10"},
		{"discrete exponent as written", discrete("d", "0.10", "1e-3", "2"), 1, "1e-3"},
		{"categorical", categorical("--optimizer", "sgd", "adam", "ftrl"), 1, "adam"},
		{"categorical out of range", categorical("--optimizer", "sgd", "adam", "ftrl"), 3, ""},
		{"categorical negative", categorical("--optimizer", "sgd", "adam", "ftrl"), -1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustParam(t, tt.spec).Format(tt.value); got != tt.want {
				t.Errorf("Format(%v) = %q, want %q", tt.value, got, tt.want)
			}
		})
	}
}

// TestIntBeyondInt64 checks that a point of an int parameter whose bounds
// lie beyond int64 formats to a value of the parameter.
func TestIntBeyondExactIntegers(t *testing.T) {
	for _, bounds := range [][2]string{{"1e19", "1e19"}, {"-1e20", "0"}, {"0", "9007199254740992"}} {
		_, err := searchspace.Parse([]*pb.ParameterSpec{integer("n", bounds[0], bounds[1])})
		if err == nil || !strings.Contains(err.Error(), `parameters[0] ("n").feasibleSpace: int bounds must lie within ±9007199254740991`) {
			t.Errorf("int [%s, %s]: %v, want the bounds refused", bounds[0], bounds[1], err)
		}
	}
}

func TestSteppedDouble(t *testing.T) {
	p := mustParam(t, withStep(double("--lr", "0.01", "0.03"), "0.005"))
	if p.Len() != 5 {
		t.Fatalf("Len = %d, want 5", p.Len())
	}
	want := []string{"0.01", "0.015", "0.02", "0.025", "0.03"}
	for i := range p.Len() {
		v := p.At(i)
		if got := p.Format(v); got != want[i] {
			t.Errorf("Format(At(%d)) = %q, want %q", i, got, want[i])
		}
		back, err := p.Parse(p.Format(v))
		if err != nil {
			t.Fatalf("Parse(%q): %v", p.Format(v), err)
		}
		if k, ok := p.IndexOf(back); !ok || k != i {
			t.Errorf("IndexOf(Parse(Format(At(%d)))) = %d, %v", i, k, ok)
		}
		if !p.Contains(back) {
			t.Errorf("Contains(%v) = false", back)
		}
	}
	for _, off := range []float64{0.012, 0.005, 0.035, 0.0301} {
		if p.Contains(off) {
			t.Errorf("Contains(%v) = true for a value off the grid", off)
		}
	}
}

// TestSteppedDoubleNearTheLargestFloat: bounds whose difference overflows
// a float64 still count their values, and each value lies in the space.
func TestSteppedDoubleNearTheLargestFloat(t *testing.T) {
	p := mustParam(t, withStep(double("x", "-1e308", "1e308"), "1e307"))
	if p.Len() != 21 {
		t.Fatalf("Len = %d, want 21 values from -1e308 to 1e308 at step 1e307", p.Len())
	}
	for i := range p.Len() {
		v := p.At(i)
		if math.IsInf(v, 0) || math.IsNaN(v) || !p.Contains(v) {
			t.Errorf("At(%d) = %v: not a value of the parameter", i, v)
		}
		if k, ok := p.IndexOf(v); !ok || k != i {
			t.Errorf("IndexOf(At(%d)) = %d, %v", i, k, ok)
		}
	}
	for _, u := range []float64{0, 0.3, 0.5, 0.99, 1} {
		if v := p.FromUnit(u); !p.Contains(v) {
			t.Errorf("FromUnit(%v) = %v, outside the parameter", u, v)
		}
	}
}

func TestContinuousRoundTrip(t *testing.T) {
	specs := []*pb.ParameterSpec{
		double("plain", "0.01", "0.03"),
		double("exponent", "1e-5", "1e-1"),
		withDist(double("log", "1e-8", "1e8"), pb.Distribution_LOG_UNIFORM),
		withDist(double("normal", "-1000", "1000"), pb.Distribution_NORMAL),
	}
	for _, spec := range specs {
		t.Run(spec.Name, func(t *testing.T) {
			p := mustParam(t, spec)
			rng := rand.New(rand.NewPCG(1, 2))
			for range 2000 {
				v := p.FromUnit(rng.Float64())
				s := p.Format(v)
				back, err := p.Parse(s)
				if err != nil {
					t.Fatalf("Parse(Format(%v) = %q): %v", v, s, err)
				}
				if back != v {
					t.Fatalf("Parse(Format(%v)) = %v via %q", v, back, s)
				}
			}
		})
	}
}

func TestParamParse(t *testing.T) {
	tests := []struct {
		name    string
		spec    *pb.ParameterSpec
		in      string
		want    float64
		wantErr string
	}{
		{"double", double("x", "0", "1"), "0.25", 0.25, ""},
		{"double out of range still parses", double("x", "0", "1"), "7", 7, ""},
		{"double exponent", double("x", "0", "1"), "2.5e-3", 0.0025, ""},
		{"double garbage", double("x", "0", "1"), "abc", 0, "not a number"},
		{"double NaN", double("x", "0", "1"), "NaN", 0, "not a finite number"},
		{"int", integer("n", "0", "10"), "3", 3, ""},
		{"int written as float", integer("n", "0", "10"), "3.0", 3, ""},
		{"int fraction", integer("n", "0", "10"), "3.5", 0, "not an integer"},
		{"discrete gives index", discrete("d", "0.10", "1e-3", "2"), "0.001", 1, ""},
		{"discrete other spelling", discrete("d", "0.10", "1e-3", "2"), "0.1", 0, ""},
		{"discrete not in list", discrete("d", "0.10", "1e-3", "2"), "3", 0, "not one of"},
		{"discrete garbage", discrete("d", "1"), "x", 0, "not a number"},
		{"categorical gives index", categorical("c", "sgd", "adam", "ftrl"), "ftrl", 2, ""},
		{"categorical is exact", categorical("c", "sgd", "adam", "ftrl"), "Adam", 0, `"Adam" is not one of ["sgd", "adam", "ftrl"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mustParam(t, tt.spec).Parse(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) = %v, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestLongCategoricalErrorIsShortened(t *testing.T) {
	list := make([]string, 15)
	for i := range list {
		list[i] = fmt.Sprintf("v%d", i)
	}
	_, err := mustParam(t, categorical("c", list...)).Parse("nope")
	if err == nil || !strings.Contains(err.Error(), "... (5 more)") || strings.Contains(err.Error(), "v10") {
		t.Errorf("Parse error = %v, want the first 10 values and (5 more)", err)
	}
}

func TestContains(t *testing.T) {
	tests := []struct {
		name string
		spec *pb.ParameterSpec
		in   []float64
		out  []float64
	}{
		{"continuous double", double("x", "0.01", "0.03"), []float64{0.01, 0.02, 0.03},
			[]float64{0.0099, 0.0301, math.NaN(), math.Inf(1)}},
		{"int", integer("n", "2", "5"), []float64{2, 3, 4, 5}, []float64{1, 6, 2.5, math.NaN()}},
		{"int with step", withStep(integer("n", "0", "10"), "3"), []float64{0, 3, 6, 9}, []float64{1, 10, 12}},
		{"discrete", discrete("d", "1", "5", "2"), []float64{0, 1, 2}, []float64{-1, 3, 0.5}},
		{"categorical", categorical("c", "a", "b"), []float64{0, 1}, []float64{2, -1, 0.5, math.Inf(-1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParam(t, tt.spec)
			for _, v := range tt.in {
				if !p.Contains(v) {
					t.Errorf("Contains(%v) = false, want true", v)
				}
			}
			for _, v := range tt.out {
				if p.Contains(v) {
					t.Errorf("Contains(%v) = true, want false", v)
				}
			}
		})
	}
}

func TestNumeric(t *testing.T) {
	d := mustParam(t, discrete("d", "0.10", "1e-3", "2"))
	for i, want := range []float64{0.1, 0.001, 2} {
		if got := d.Numeric(float64(i)); got != want {
			t.Errorf("discrete Numeric(%d) = %v, want %v", i, got, want)
		}
	}
	c := mustParam(t, categorical("c", "a", "b"))
	if got := c.Numeric(1); got != 1 {
		t.Errorf("categorical Numeric(1) = %v, want the index 1", got)
	}
	x := mustParam(t, double("x", "0", "1"))
	if got := x.Numeric(0.25); got != 0.25 {
		t.Errorf("double Numeric(0.25) = %v", got)
	}
}

// unitCases covers every parameter type with every distribution it takes.
func unitCases() []*pb.ParameterSpec {
	return []*pb.ParameterSpec{
		double("double uniform", "-1", "3"),
		withDist(double("double logUniform", "1e-4", "1"), pb.Distribution_LOG_UNIFORM),
		withDist(double("double normal", "-2", "2"), pb.Distribution_NORMAL),
		withDist(double("double logNormal", "1e-3", "10"), pb.Distribution_LOG_NORMAL),
		// Bounds whose logarithms do not come back exactly through exp.
		withDist(double("double logUniform inexact bounds", "0.03", "0.07"), pb.Distribution_LOG_UNIFORM),
		withDist(double("double logNormal inexact bounds", "0.3", "0.7"), pb.Distribution_LOG_NORMAL),
		double("double single value", "1.5", "1.5"),
		withDist(double("double single value normal", "1.5", "1.5"), pb.Distribution_NORMAL),
		withStep(double("stepped uniform", "0.01", "0.03"), "0.005"),
		withDist(withStep(double("stepped logUniform", "0.1", "1"), "0.1"), pb.Distribution_LOG_UNIFORM),
		withDist(withStep(double("stepped normal", "0", "1"), "0.1"), pb.Distribution_NORMAL),
		withDist(withStep(double("stepped logNormal", "1", "10"), "0.5"), pb.Distribution_LOG_NORMAL),
		withStep(double("stepped single value", "0.01", "0.03"), "0.05"),
		integer("int uniform", "2", "5"),
		withDist(integer("int logUniform", "1", "1000"), pb.Distribution_LOG_UNIFORM),
		withDist(integer("int normal", "0", "200"), pb.Distribution_NORMAL),
		withDist(withStep(integer("int logNormal stepped", "1", "100"), "3"), pb.Distribution_LOG_NORMAL),
		integer("int single value", "7", "7"),
		withDist(integer("int two values normal", "0", "1"), pb.Distribution_NORMAL),
		discrete("discrete", "0.5", "-1", "10", "3"),
		discrete("discrete single", "42"),
		categorical("categorical", "sgd", "adam", "ftrl"),
		categorical("categorical single", "only"),
	}
}

func TestUnitRoundTripFinite(t *testing.T) {
	for _, spec := range unitCases() {
		p := mustParam(t, spec)
		if !p.Finite() {
			continue
		}
		t.Run(spec.Name, func(t *testing.T) {
			for i := range p.Len() {
				v := p.At(i)
				u := p.ToUnit(v)
				if u < 0 || u > 1 {
					t.Errorf("ToUnit(%v) = %v, outside [0, 1]", v, u)
				}
				if got := p.FromUnit(u); got != v {
					t.Errorf("FromUnit(ToUnit(%v) = %v) = %v", v, u, got)
				}
			}
		})
	}
}

func TestUnitRoundTripContinuous(t *testing.T) {
	for _, spec := range unitCases() {
		p := mustParam(t, spec)
		if p.Finite() {
			continue
		}
		t.Run(spec.Name, func(t *testing.T) {
			scale := math.Max(p.Max-p.Min, math.Max(math.Abs(p.Min), math.Abs(p.Max)))
			for k := 0; k <= 1000; k++ {
				v := p.FromUnit(float64(k) / 1000)
				u := p.ToUnit(v)
				if u < 0 || u > 1 {
					t.Errorf("ToUnit(%v) = %v, outside [0, 1]", v, u)
				}
				got := p.FromUnit(u)
				tol := 1e-9 * math.Max(math.Abs(v), 1e-6*scale)
				if math.Abs(got-v) > tol {
					t.Errorf("FromUnit(ToUnit(%v)) = %v, off by %g", v, got, got-v)
				}
			}
		})
	}
}

func TestFromUnitInRangeAndMonotone(t *testing.T) {
	for _, spec := range unitCases() {
		t.Run(spec.Name, func(t *testing.T) {
			p := mustParam(t, spec)
			prev := math.Inf(-1)
			for k := 0; k <= 10000; k++ {
				u := float64(k) / 10000
				v := p.FromUnit(u)
				if !p.Contains(v) {
					t.Fatalf("FromUnit(%v) = %v, not a value of the parameter", u, v)
				}
				if p.Type == searchspace.Categorical {
					continue
				}
				x := p.Numeric(v)
				if x < prev {
					t.Fatalf("FromUnit(%v) = %v below FromUnit of a smaller u (%v)", u, x, prev)
				}
				prev = x
			}
			// u outside [0, 1] is clamped.
			if a, b := p.FromUnit(-0.5), p.FromUnit(0); a != b {
				t.Errorf("FromUnit(-0.5) = %v, FromUnit(0) = %v", a, b)
			}
			if a, b := p.FromUnit(1.5), p.FromUnit(1); a != b {
				t.Errorf("FromUnit(1.5) = %v, FromUnit(1) = %v", a, b)
			}
		})
	}
}

func TestFromUnitEnds(t *testing.T) {
	tests := []struct {
		name   string
		spec   *pb.ParameterSpec
		lo, hi float64
	}{
		{"double uniform", double("x", "-1", "3"), -1, 3},
		{"double logUniform", withDist(double("x", "1e-4", "1"), pb.Distribution_LOG_UNIFORM), 1e-4, 1},
		{"double normal", withDist(double("x", "-2", "2"), pb.Distribution_NORMAL), -2, 2},
		{"int uniform", integer("n", "2", "5"), 2, 5},
		{"int normal", withDist(integer("n", "0", "200"), pb.Distribution_NORMAL), 0, 200},
		{"stepped double", withStep(double("x", "0.01", "0.03"), "0.005"), 0.01, 0.01 + 4*0.005},
		{"discrete gives smallest and largest", discrete("d", "0.5", "-1", "10", "3"), 1, 2}, // indices of -1 and 10
		{"categorical gives first and last", categorical("c", "sgd", "adam", "ftrl"), 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParam(t, tt.spec)
			if got := p.FromUnit(0); math.Abs(got-tt.lo) > 1e-12*math.Abs(tt.lo) {
				t.Errorf("FromUnit(0) = %v, want %v", got, tt.lo)
			}
			if got := p.FromUnit(1); math.Abs(got-tt.hi) > 1e-12*math.Abs(tt.hi) {
				t.Errorf("FromUnit(1) = %v, want %v", got, tt.hi)
			}
		})
	}
}

func TestFromUnitMedian(t *testing.T) {
	tests := []struct {
		name string
		spec *pb.ParameterSpec
		want float64
	}{
		{"double uniform", double("x", "-1", "3"), 1},
		{"double logUniform", withDist(double("x", "1e-4", "1"), pb.Distribution_LOG_UNIFORM), 1e-2},
		{"double normal", withDist(double("x", "-2", "2"), pb.Distribution_NORMAL), 0},
		{"double normal off centre", withDist(double("x", "10", "20"), pb.Distribution_NORMAL), 15},
		{"double logNormal", withDist(double("x", "1e-3", "10"), pb.Distribution_LOG_NORMAL), 0.1},
		{"int normal", withDist(integer("n", "0", "200"), pb.Distribution_NORMAL), 100},
		{"stepped normal", withDist(withStep(double("x", "0", "1"), "0.1"), pb.Distribution_NORMAL), 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustParam(t, tt.spec).FromUnit(0.5)
			if math.Abs(got-tt.want) > 1e-9*math.Max(1e-3, math.Abs(tt.want)) {
				t.Errorf("FromUnit(0.5) = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNormalConcentratesInTheMiddle(t *testing.T) {
	// Within one standard deviation (a sixth of the width) of the middle lie
	// about 68% of the draws.
	p := mustParam(t, withDist(double("x", "0", "6"), pb.Distribution_NORMAL))
	rng := rand.New(rand.NewPCG(3, 4))
	const draws = 10000
	inside := 0
	for range draws {
		if v := p.FromUnit(rng.Float64()); v >= 2 && v <= 4 {
			inside++
		}
	}
	if frac := float64(inside) / draws; math.Abs(frac-0.6827) > 0.03 {
		t.Errorf("%.3f of normal draws within one sd, want about 0.683", frac)
	}
}

func TestUniformDrawsAreBalanced(t *testing.T) {
	tests := []struct {
		name string
		spec *pb.ParameterSpec
	}{
		{"int 2..5", integer("--num-layers", "2", "5")},
		{"stepped double", withStep(double("--lr", "0.01", "0.03"), "0.005")},
		{"discrete", discrete("d", "0.5", "-1", "10", "3")},
		{"categorical", categorical("--optimizer", "sgd", "adam", "ftrl")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParam(t, tt.spec)
			rng := rand.New(rand.NewPCG(1, 2))
			const draws = 10000
			counts := make(map[float64]int)
			for range draws {
				counts[p.FromUnit(rng.Float64())]++
			}
			if uint64(len(counts)) != p.Len() {
				t.Fatalf("drew %d distinct values, want all %d", len(counts), p.Len())
			}
			want := 1 / float64(p.Len())
			for v, c := range counts {
				if frac := float64(c) / draws; math.Abs(frac-want) > 0.03 {
					t.Errorf("value %s drawn %.3f of the time, want %.3f", p.Format(v), frac, want)
				}
			}
		})
	}
}

func TestSpaceSampleAndUnit(t *testing.T) {
	s := mustParse(t, katib()...)
	rng := rand.New(rand.NewPCG(5, 6))
	for range 1000 {
		pt := s.Sample(rng)
		if !s.Contains(pt) {
			t.Fatalf("Sample gave %v, outside the space", pt)
		}
		u := s.ToUnit(pt)
		if len(u) != 3 {
			t.Fatalf("ToUnit gave %d coordinates", len(u))
		}
		back := s.FromUnit(u)
		if back[1] != pt[1] || back[2] != pt[2] || math.Abs(back[0]-pt[0]) > 1e-15 {
			t.Fatalf("FromUnit(ToUnit(%v)) = %v", pt, back)
		}
	}
	if got := s.FromUnit([]float64{0, 0, 0}); !slices.Equal(got, searchspace.Point{0.01, 2, 0}) {
		t.Errorf("FromUnit(0, 0, 0) = %v, want [0.01 2 0]", got)
	}
	if got := s.FromUnit([]float64{1, 1, 1}); !slices.Equal(got, searchspace.Point{0.03, 5, 2}) {
		t.Errorf("FromUnit(1, 1, 1) = %v, want [0.03 5 2]", got)
	}
}

func TestSpaceContains(t *testing.T) {
	s := mustParse(t, katib()...)
	tests := []struct {
		name string
		pt   searchspace.Point
		want bool
	}{
		{"inside", searchspace.Point{0.02, 3, 1}, true},
		{"lr too big", searchspace.Point{0.04, 3, 1}, false},
		{"layers fractional", searchspace.Point{0.02, 3.5, 1}, false},
		{"optimizer out of list", searchspace.Point{0.02, 3, 3}, false},
		{"too short", searchspace.Point{0.02, 3}, false},
		{"too long", searchspace.Point{0.02, 3, 1, 0}, false},
	}
	for _, tt := range tests {
		if got := s.Contains(tt.pt); got != tt.want {
			t.Errorf("%s: Contains(%v) = %v, want %v", tt.name, tt.pt, got, tt.want)
		}
	}
}

// small is a finite space of 2 x 3 x 3 = 18 points.
func small(t testing.TB) *searchspace.Space {
	return mustParse(t,
		integer("a", "0", "1"),
		categorical("b", "x", "y", "z"),
		withStep(double("c", "0", "1"), "0.5"),
	)
}

func TestPointAtMixedRadix(t *testing.T) {
	s := small(t)
	if n, exact := s.Size(); n != 18 || !exact {
		t.Fatalf("Size() = %d, %v; want 18, true", n, exact)
	}
	if !s.Finite() {
		t.Fatal("Finite() = false")
	}
	tests := []struct {
		i    uint64
		want searchspace.Point
	}{
		{0, searchspace.Point{0, 0, 0}},
		{1, searchspace.Point{0, 0, 0.5}},
		{2, searchspace.Point{0, 0, 1}},
		{3, searchspace.Point{0, 1, 0}},
		{8, searchspace.Point{0, 2, 1}},
		{9, searchspace.Point{1, 0, 0}},
		{13, searchspace.Point{1, 1, 0.5}},
		{17, searchspace.Point{1, 2, 1}},
	}
	for _, tt := range tests {
		if got := s.PointAt(tt.i); !slices.Equal(got, tt.want) {
			t.Errorf("PointAt(%d) = %v, want %v", tt.i, got, tt.want)
		}
	}
}

func TestIndexOfRoundTrip(t *testing.T) {
	s := small(t)
	n, _ := s.Size()
	keys := make(map[string]bool)
	for i := range n {
		pt := s.PointAt(i)
		if !s.Contains(pt) {
			t.Errorf("PointAt(%d) = %v is not in the space", i, pt)
		}
		if k, ok := s.IndexOf(pt); !ok || k != i {
			t.Errorf("IndexOf(PointAt(%d)) = %d, %v", i, k, ok)
		}
		if got := s.PointAt(i); !slices.Equal(got, pt) {
			t.Errorf("PointAt(%d) changed between calls: %v then %v", i, pt, got)
		}
		keys[s.Key(pt)] = true
	}
	if len(keys) != int(n) {
		t.Errorf("%d distinct keys for %d points", len(keys), n)
	}
	// Parsing formatted points gives the same index back.
	for i := range n {
		pt, err := s.ParseAssignments(s.Format(s.PointAt(i)))
		if err != nil {
			t.Fatalf("ParseAssignments(Format(PointAt(%d))): %v", i, err)
		}
		if k, ok := s.IndexOf(pt); !ok || k != i {
			t.Errorf("IndexOf(parsed point %d) = %d, %v", i, k, ok)
		}
	}
}

func TestIndexOfRejects(t *testing.T) {
	s := small(t)
	tests := []struct {
		name string
		pt   searchspace.Point
	}{
		{"off the step", searchspace.Point{0, 0, 0.25}},
		{"int out of range", searchspace.Point{2, 0, 0}},
		{"category out of range", searchspace.Point{0, 3, 0}},
		{"short point", searchspace.Point{0, 0}},
		{"long point", searchspace.Point{0, 0, 0, 0}},
		{"NaN", searchspace.Point{math.NaN(), 0, 0}},
	}
	for _, tt := range tests {
		if k, ok := s.IndexOf(tt.pt); ok {
			t.Errorf("%s: IndexOf(%v) = %d, true; want false", tt.name, tt.pt, k)
		}
	}
}

func TestSizeOfContinuousSpace(t *testing.T) {
	s := mustParse(t, katib()...)
	if n, exact := s.Size(); n != 0 || !exact {
		t.Errorf("Size() = %d, %v; want 0, true for a continuous space", n, exact)
	}
}

func TestSizeSaturates(t *testing.T) {
	million := func(name string) *pb.ParameterSpec { return integer(name, "0", "1000000") }
	tests := []struct {
		name   string
		params int
		size   uint64
		exact  bool
	}{
		{"one", 1, 1000001, true},
		{"three fit in 64 bits", 3, 1000001 * 1000001 * 1000001, true},
		{"four overflow", 4, math.MaxUint64, false},
		{"five overflow", 5, math.MaxUint64, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var specs []*pb.ParameterSpec
			for i := range tt.params {
				specs = append(specs, million(fmt.Sprintf("p%d", i)))
			}
			s := mustParse(t, specs...)
			if n, exact := s.Size(); n != tt.size || exact != tt.exact {
				t.Errorf("Size() = %d, %v; want %d, %v", n, exact, tt.size, tt.exact)
			}
			// PointAt still works at the start, and IndexOf of the last
			// point is exact or refused.
			first := s.PointAt(1)
			if first[len(first)-1] != 1 || (tt.params > 1 && first[0] != 0) {
				t.Errorf("PointAt(1) = %v", first)
			}
			last := make(searchspace.Point, tt.params)
			for i := range last {
				last[i] = 1000000
			}
			k, ok := s.IndexOf(last)
			if tt.exact && (!ok || k != tt.size-1) {
				t.Errorf("IndexOf(last) = %d, %v; want %d, true", k, ok, tt.size-1)
			}
			if !tt.exact && ok {
				t.Errorf("IndexOf(last) = %d, true for a position beyond 64 bits", k)
			}
		})
	}
}

func TestFormatSpaceAndKey(t *testing.T) {
	s := mustParse(t, katib()...)
	pt := searchspace.Point{0.015, 4, 1}
	as := s.Format(pt)
	want := [][2]string{{"--lr", "0.015"}, {"--num-layers", "4"}, {"--optimizer", "adam"}}
	if len(as) != len(want) {
		t.Fatalf("Format gave %d assignments, want %d", len(as), len(want))
	}
	for i, w := range want {
		if as[i].GetName() != w[0] || as[i].GetValue() != w[1] {
			t.Errorf("assignment %d = %s=%s, want %s=%s", i, as[i].GetName(), as[i].GetValue(), w[0], w[1])
		}
	}
	if a, b := s.Key(pt), s.Key(searchspace.Point{0.015, 4.0000000001, 1}); a != b {
		t.Errorf("Key differs for points that format the same: %q, %q", a, b)
	}
	if a, b := s.Key(pt), s.Key(searchspace.Point{0.015, 4, 2}); a == b {
		t.Errorf("Key(%v) = Key of a different point: %q", pt, a)
	}
}

// assign returns assignments from name, value pairs.
func assign(kv ...string) []*pb.ParameterAssignment {
	var out []*pb.ParameterAssignment
	for i := 0; i < len(kv); i += 2 {
		out = append(out, &pb.ParameterAssignment{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

func TestParseAssignments(t *testing.T) {
	s := mustParse(t, katib()...)
	as := assign
	tests := []struct {
		name    string
		in      []*pb.ParameterAssignment
		want    searchspace.Point
		path    string
		errWord []string
	}{
		{"in order", as("--lr", "0.02", "--num-layers", "3", "--optimizer", "adam"), searchspace.Point{0.02, 3, 1}, "", nil},
		{"any order", as("--optimizer", "ftrl", "--lr", "0.01", "--num-layers", "5"), searchspace.Point{0.01, 5, 2}, "", nil},
		{"out of range parses", as("--lr", "0.5", "--num-layers", "9", "--optimizer", "sgd"), searchspace.Point{0.5, 9, 0}, "", nil},
		{"unknown parameter", as("--lr", "0.02", "--num-layers", "3", "--optimizer", "adam", "--momentum", "0.9"), nil,
			"assignments[3]", []string{`unknown parameter "--momentum"`}},
		{"missing parameter", as("--lr", "0.02", "--num-layers", "3"), nil,
			"assignments", []string{`"--optimizer" is not assigned`}},
		{"no assignments", nil, nil, "assignments", []string{`"--lr" is not assigned`}},
		{"duplicate assignment", as("--lr", "0.02", "--lr", "0.03", "--num-layers", "3", "--optimizer", "adam"), nil,
			"assignments[1]", []string{`"--lr" is assigned twice`}},
		{"word for int", as("--lr", "0.02", "--num-layers", "abc", "--optimizer", "adam"), nil,
			"assignments[1]", []string{`"--num-layers"`, `"abc" is not a number`}},
		{"fraction for int", as("--lr", "0.02", "--num-layers", "2.5", "--optimizer", "adam"), nil,
			"assignments[1]", []string{`"--num-layers"`, "not an integer"}},
		{"unknown category", as("--lr", "0.02", "--num-layers", "3", "--optimizer", "rmsprop"), nil,
			"assignments[2]", []string{`"--optimizer"`, `"rmsprop" is not one of`}},
		{"NaN for double", as("--lr", "NaN", "--num-layers", "3", "--optimizer", "adam"), nil,
			"assignments[0]", []string{`"--lr"`, "not a finite number"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ParseAssignments(tt.in)
			if tt.path == "" {
				if err != nil || !slices.Equal(got, tt.want) {
					t.Errorf("ParseAssignments = %v, %v; want %v", got, err, tt.want)
				}
				return
			}
			var se *searchspace.Error
			if !errors.As(err, &se) {
				t.Fatalf("ParseAssignments = %v, %v; want a *searchspace.Error", got, err)
			}
			if se.Path != tt.path {
				t.Errorf("Path = %q, want %q (%v)", se.Path, tt.path, err)
			}
			for _, w := range tt.errWord {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Error() = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

// A double with min = max is one value: finite, with one point, so that
// algorithms count it rather than draw it forever.
func TestDoubleWithOneValue(t *testing.T) {
	s := mustParse(t, double("x", "0.5", "0.5"))
	if !s.Finite() {
		t.Fatal("a double with min = max is not finite")
	}
	if n, exact := s.Size(); n != 1 || !exact {
		t.Fatalf("size %d (exact %v), want 1", n, exact)
	}
	pt := s.FromUnit([]float64{0.7})
	if got := s.Format(pt)[0].GetValue(); got != "0.5" {
		t.Errorf("value %q, want 0.5", got)
	}
	if i, ok := s.IndexOf(pt); !ok || i != 0 {
		t.Errorf("IndexOf = %d, %v; want 0, true", i, ok)
	}
}

// A bound written with a huge negative exponent does not make formatting
// write a billion decimals.
func TestDecimalsAreBounded(t *testing.T) {
	s := mustParse(t, withStep(double("x", "0e-999999999", "1"), "0.5"))
	pt := s.FromUnit([]float64{0.99})
	if got := s.Format(pt)[0].GetValue(); got != "1" {
		t.Errorf("value %q, want 1", got)
	}
}

// A range as wide as float64 allows maps the unit interval onto it without
// overflowing to infinity.
func TestWidestRange(t *testing.T) {
	s := mustParse(t, double("x", "-1e308", "1e308"))
	lo, mid, hi := s.FromUnit([]float64{0.1})[0], s.FromUnit([]float64{0.5})[0], s.FromUnit([]float64{0.9})[0]
	if !(lo < mid && mid < hi) || math.IsInf(hi, 0) || hi >= 1e308 {
		t.Errorf("FromUnit(0.1, 0.5, 0.9) = %v, %v, %v; want increasing values inside the range", lo, mid, hi)
	}
}

// BenchmarkParseLongList reads a value of a categorical and of a discrete
// parameter of searchspace.MaxListLength values each.
func BenchmarkParseLongList(b *testing.B) {
	cats := make([]string, searchspace.MaxListLength)
	nums := make([]string, searchspace.MaxListLength)
	for i := range cats {
		cats[i] = fmt.Sprintf("c%d", i)
		nums[i] = fmt.Sprint(i * 3)
	}
	sp, err := searchspace.Parse([]*pb.ParameterSpec{
		{Name: "c", ParameterType: pb.ParameterType_CATEGORICAL, FeasibleSpace: &pb.FeasibleSpace{List: cats}},
		{Name: "d", ParameterType: pb.ParameterType_DISCRETE, FeasibleSpace: &pb.FeasibleSpace{List: nums}},
	})
	if err != nil {
		b.Fatal(err)
	}
	as := []*pb.ParameterAssignment{{Name: "c", Value: cats[len(cats)-7]}, {Name: "d", Value: nums[len(nums)-7]}}
	b.ResetTimer()
	for range b.N {
		if _, err := sp.ParseAssignments(as); err != nil {
			b.Fatal(err)
		}
	}
}
