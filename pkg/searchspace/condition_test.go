package searchspace_test

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

func under(s *pb.ParameterSpec, parent string, values ...string) *pb.ParameterSpec {
	s.ParentName, s.ParentValues = parent, values
	return s
}

// nested is a space with conditions two deep: momentum under sgd, nesterov
// under some momenta, beta under adam, and a free batch size.
func nested() []*pb.ParameterSpec {
	return []*pb.ParameterSpec{
		categorical("optimizer", "sgd", "adam", "rmsprop"),
		under(discrete("momentum", "0", "0.3", "0.6", "0.9"), "optimizer", "sgd"),
		under(categorical("nesterov", "on", "off"), "momentum", "0.6", "0.9"),
		under(discrete("beta", "0.9", "0.99"), "optimizer", "adam", "rmsprop"),
		integer("batch", "1", "2"),
	}
}

func TestConditionErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		specs []*pb.ParameterSpec
		want  string
	}{
		{"values without a parent", []*pb.ParameterSpec{categorical("o", "a"), under(integer("x", "1", "2"), "", "a")},
			`parameters[1] ("x").parentName: missing`},
		{"parent without values", []*pb.ParameterSpec{categorical("o", "a"), under(integer("x", "1", "2"), "o")},
			`parameters[1] ("x").parentValues: empty`},
		{"unknown parent", []*pb.ParameterSpec{categorical("o", "a"), under(integer("x", "1", "2"), "p", "a")},
			`parameters[1] ("x").parentName: no parameter is named "p"`},
		{"itself", []*pb.ParameterSpec{under(integer("x", "1", "2"), "x", "1")},
			`parameters[0] ("x").parentName: "x" is this parameter`},
		{"parent listed after", []*pb.ParameterSpec{under(integer("x", "1", "2"), "o", "a"), categorical("o", "a")},
			`parameters[0] ("x").parentName: "o" is listed after this parameter, as parameters[1]`},
		{"cycle", []*pb.ParameterSpec{under(categorical("a", "1"), "b", "1"), under(categorical("b", "1"), "a", "1")},
			`parameters[0] ("a").parentName: "b" is listed after this parameter`},
		{"double parent", []*pb.ParameterSpec{double("d", "0", "1"), under(integer("x", "1", "2"), "d", "0.5")},
			`parameters[1] ("x").parentName: "d" is a double parameter`},
		{"value not in list", []*pb.ParameterSpec{categorical("o", "a", "b"), under(integer("x", "1", "2"), "o", "a", "c")},
			`parameters[1] ("x").parentValues[1]: not a value of "o": "c" is not one of ["a", "b"]`},
		{"int value out of range", []*pb.ParameterSpec{integer("n", "1", "4"), under(integer("x", "1", "2"), "n", "5")},
			`parameters[1] ("x").parentValues[0]: not a value of "n": 5 is outside the feasible space of "n"`},
		{"int value off step", []*pb.ParameterSpec{withStep(integer("n", "0", "8"), "2"), under(integer("x", "1", "2"), "n", "3")},
			`parameters[1] ("x").parentValues[0]: not a value of "n": 3 is outside`},
		{"repeated value", []*pb.ParameterSpec{categorical("o", "a", "b"), under(integer("x", "1", "2"), "o", "a", "a")},
			`parameters[1] ("x").parentValues[1]: "a" repeats parentValues[0]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := searchspace.Parse(tc.specs)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("Parse: got %v, want an error starting %q", err, tc.want)
			}
		})
	}
}

// TestConditionalGrid checks the enumeration of a conditional space against
// a brute force over every combination with the inactive ones dropped.
func TestConditionalGrid(t *testing.T) {
	for _, tc := range []struct {
		name  string
		specs []*pb.ParameterSpec
		size  uint64
	}{
		// sgd: 4 momenta, two of them with 2 nesterovs: 6; adam, rmsprop:
		// 2 betas each; times 2 batches.
		{"nested", nested(), (6 + 2 + 2) * 2},
		{"int parent", []*pb.ParameterSpec{
			integer("layers", "1", "3"),
			under(integer("width2", "1", "2"), "layers", "2", "3"),
			under(categorical("act3", "relu", "tanh", "gelu"), "layers", "3"),
		}, 1 + 2 + 2*3},
		{"parent last in list", []*pb.ParameterSpec{
			discrete("d", "8", "2", "4"),
			under(categorical("c", "x", "y"), "d", "4"),
		}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, tc.specs...)
			if !s.Conditional() || !s.Finite() {
				t.Fatalf("Conditional %v, Finite %v: want both", s.Conditional(), s.Finite())
			}
			if size := checkEnumeration(t, s, tc.specs); size != tc.size {
				t.Fatalf("Size = %d, want %d", size, tc.size)
			}
		})
	}
}

// checkEnumeration checks the points of a finite conditional space against
// a brute force: every combination of the space without its conditions,
// deactivated, gives the valid points. PointAt must list each once, IndexOf
// invert it, and each must read back from its assignments. It returns the
// size.
func checkEnumeration(t *testing.T, s *searchspace.Space, specs []*pb.ParameterSpec) uint64 {
	t.Helper()
	plain := make([]*pb.ParameterSpec, len(specs))
	for i, sp := range specs {
		c := proto.Clone(sp).(*pb.ParameterSpec)
		c.ParentName, c.ParentValues = "", nil
		plain[i] = c
	}
	all := mustParse(t, plain...)
	n, _ := all.Size()
	want := map[string]bool{}
	for i := range n {
		want[s.Key(s.Deactivate(all.PointAt(i)))] = true
	}
	size, exact := s.Size()
	if !exact || size != uint64(len(want)) {
		t.Fatalf("Size = %d, %v; brute force %d", size, exact, len(want))
	}
	seen := map[string]bool{}
	for i := range size {
		pt := s.PointAt(i)
		k := s.Key(pt)
		if !want[k] || seen[k] || !s.Contains(pt) {
			t.Fatalf("PointAt(%d) = %v: valid %v, repeated %v, Contains %v", i, pt, want[k], seen[k], s.Contains(pt))
		}
		seen[k] = true
		if j, ok := s.IndexOf(pt); !ok || j != i {
			t.Fatalf("IndexOf(PointAt(%d)) = %d, %v", i, j, ok)
		}
		back, err := s.ParseAssignments(s.Format(pt))
		if err != nil || s.Key(back) != k {
			t.Fatalf("ParseAssignments(Format(PointAt(%d))) = %v, %v", i, back, err)
		}
	}
	return size
}

func TestConditionalAssignments(t *testing.T) {
	s := mustParse(t, nested()...)
	as := assign
	for _, tc := range []struct {
		name string
		in   []*pb.ParameterAssignment
		want string // an error's start, or "" for none
	}{
		{"sgd with momentum and nesterov", as("optimizer", "sgd", "momentum", "0.6", "nesterov", "on", "batch", "1"), ""},
		{"sgd without nesterov at a low momentum", as("optimizer", "sgd", "momentum", "0.3", "batch", "1"), ""},
		{"adam with beta", as("optimizer", "adam", "beta", "0.99", "batch", "2"), ""},
		{"momentum under adam", as("optimizer", "adam", "beta", "0.99", "momentum", "0.3", "batch", "2"),
			`assignments[2]: parameter "momentum" is inactive and must not be assigned: its parent "optimizer" is adam, which is not one of ["sgd"]`},
		{"nesterov under an inactive momentum", as("optimizer", "adam", "beta", "0.9", "nesterov", "on", "batch", "2"),
			`assignments[2]: parameter "nesterov" is inactive and must not be assigned: its parent "momentum" is inactive`},
		{"sgd without momentum", as("optimizer", "sgd", "batch", "1"),
			`assignments: parameter "momentum" is not assigned, and it is active: its parent "optimizer" is sgd, which is one of ["sgd"]`},
		{"missing nesterov", as("optimizer", "sgd", "momentum", "0.9", "batch", "1"),
			`assignments: parameter "nesterov" is not assigned, and it is active`},
		{"missing free parameter", as("optimizer", "adam", "beta", "0.9"), `assignments: parameter "batch" is not assigned`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pt, err := s.ParseAssignments(tc.in)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("ParseAssignments: %v", err)
				}
				if !s.Contains(pt) || len(s.Format(pt)) != len(tc.in) {
					t.Fatalf("point %v: Contains %v, Format %v", pt, s.Contains(pt), s.Format(pt))
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("ParseAssignments: got %v, want an error starting %q", err, tc.want)
			}
		})
	}
	// A point with an inactive parameter set, or an active one unset, is
	// not in the space.
	pt, err := s.ParseAssignments(as("optimizer", "adam", "beta", "0.9", "batch", "1"))
	if err != nil {
		t.Fatal(err)
	}
	bad := append(searchspace.Point(nil), pt...)
	bad[1] = 1 // 0.3, a value of momentum
	if s.Contains(bad) {
		t.Errorf("Contains(%v) with momentum set under adam: want false", bad)
	}
	bad = append(searchspace.Point(nil), pt...)
	bad[3] = searchspace.Inactive
	if s.Contains(bad) {
		t.Errorf("Contains(%v) with beta unset under adam: want false", bad)
	}
}

func TestConditionalSample(t *testing.T) {
	s := mustParse(t, nested()...)
	rng := rand.New(rand.NewPCG(1, 2))
	counts := map[int]int{}
	for range 3000 {
		pt := s.Sample(rng)
		if !s.Contains(pt) {
			t.Fatalf("Sample = %v, not in the space", pt)
		}
		counts[len(s.Format(pt))]++
		u := make([]float64, s.Len())
		for j := range u {
			u[j] = rng.Float64()
		}
		if pt := s.FromUnit(u); !s.Contains(pt) {
			t.Fatalf("FromUnit(%v) = %v, not in the space", u, pt)
		}
	}
	// adam and rmsprop give 3 assignments, sgd 3 or 4.
	if counts[3] == 0 || counts[4] == 0 || counts[3]+counts[4] != 3000 {
		t.Errorf("assignments per point: %v", counts)
	}
}

func TestWithout(t *testing.T) {
	specs := append([]*pb.ParameterSpec{integer("epochs", "1", "9")}, nested()...)
	s := mustParse(t, specs...)
	sub := s.Without(0)
	if sub.Len() != 5 || !sub.Conditional() {
		t.Fatalf("Without(0): %d parameters, conditional %v", sub.Len(), sub.Conditional())
	}
	if n, _ := sub.Size(); n != 20 {
		t.Errorf("Without(0).Size() = %d, want 20", n)
	}
	if p := &sub.Params[2]; !p.HasParent || sub.Params[p.Parent].Name != "momentum" {
		t.Errorf("nesterov's parent in the smaller space: %+v", p)
	}
}

// TestRandomConditionalSpaces checks the enumeration of many random
// conditional spaces (up to six finite parameters, each with a random
// earlier parent and random activating values, or none) against the brute
// force over every combination with the inactive parameters dropped.
func TestRandomConditionalSpaces(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for round := range 300 {
		n := 1 + rng.IntN(6)
		specs := make([]*pb.ParameterSpec, n)
		for i := range specs {
			name := string(rune('a' + i))
			k := 1 + rng.IntN(3)
			switch rng.IntN(3) {
			case 0:
				specs[i] = integer(name, "1", strconv.Itoa(k))
			case 1:
				list := make([]string, k)
				for v := range list {
					list[v] = strconv.Itoa(10 * (k - v)) // descending, so list order differs from rank order
				}
				specs[i] = discrete(name, list...)
			default:
				list := make([]string, k)
				for v := range list {
					list[v] = "c" + strconv.Itoa(v)
				}
				specs[i] = categorical(name, list...)
			}
			if i > 0 && rng.IntN(3) > 0 {
				parent := specs[rng.IntN(i)]
				values := parent.GetFeasibleSpace().GetList()
				if parent.GetParameterType() == pb.ParameterType_INT {
					hi, _ := strconv.Atoi(parent.GetFeasibleSpace().GetMax())
					values = nil
					for v := 1; v <= hi; v++ {
						values = append(values, strconv.Itoa(v))
					}
				}
				var chosen []string
				for _, v := range values {
					if rng.IntN(2) == 0 {
						chosen = append(chosen, v)
					}
				}
				if len(chosen) == 0 {
					chosen = values[:1]
				}
				specs[i].ParentName, specs[i].ParentValues = parent.GetName(), chosen
			}
		}
		t.Run(strconv.Itoa(round), func(t *testing.T) {
			checkEnumeration(t, mustParse(t, specs...), specs)
		})
	}
}

// TestActivate changes a parent's value in a point, as a local search
// does: the children it activates get values, those it deactivates lose
// theirs, and the point is in the space again.
func TestActivate(t *testing.T) {
	s := mustParse(t, nested()...)
	rng := rand.New(rand.NewPCG(3, 4))
	pt, err := s.ParseAssignments(assign("optimizer", "adam", "beta", "0.9", "batch", "1"))
	if err != nil {
		t.Fatal(err)
	}
	pt[0] = 0 // sgd
	if s.Contains(pt) {
		t.Fatalf("%v with sgd and beta set is in the space", pt)
	}
	s.Activate(pt, rng)
	if !s.Contains(pt) || searchspace.IsInactive(pt[1]) || !searchspace.IsInactive(pt[3]) {
		t.Fatalf("Activate after switching to sgd: %v (%v); want momentum set, beta dropped", pt, s.Format(pt))
	}
	pt[0] = 1 // adam again
	s.Activate(pt, rng)
	if !s.Contains(pt) || !searchspace.IsInactive(pt[1]) || !searchspace.IsInactive(pt[2]) || searchspace.IsInactive(pt[3]) {
		t.Fatalf("Activate after switching back to adam: %v (%v); want momentum and nesterov dropped, beta set", pt, s.Format(pt))
	}
}
