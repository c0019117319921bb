package searchspace

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"

	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Conditional parameters
//
// A parameter may name a parent (parentName) and the parent's values under
// which it is active (parentValues). The parent is an int, discrete or
// categorical parameter listed before it, so that conditions nest (a child
// may be a parent in turn) and can never form a cycle. A parameter whose
// parent is inactive is inactive too. In a Point an inactive parameter holds
// NaN (Inactive); it is absent from the assignments.

// Inactive is the value an inactive parameter holds in a Point.
var Inactive = math.NaN()

// IsInactive reports whether a value of a Point stands for an inactive
// parameter.
func IsInactive(v float64) bool { return math.IsNaN(v) }

// tree is the shape of a space with conditional parameters: the parameters
// without a parent, and each parameter's children, in the order listed.
type tree struct {
	roots    []int
	children [][]int
	// For a finite space: sub[j] counts the points of the parameters that
	// hang below j, j included (saturated at MaxUint64 when overflow
	// says so); named[j] lists, ascending, the indices of j's values under
	// which some child is active, and branch[j][i] counts the points below
	// j when it takes named[j][i].
	sub       []uint64
	overflow  []bool
	named     [][]uint64
	branch    [][]uint64
	size      uint64
	sizeExact bool
}

func parseCondition(s *Space, i int, spec *pb.ParameterSpec, specs []*pb.ParameterSpec, path string) error {
	p := &s.Params[i]
	name, values := spec.GetParentName(), spec.GetParentValues()
	if name == "" {
		if len(values) > 0 {
			return errorf(path+".parentName", "missing: parentValues needs the name of the parameter they are values of")
		}
		return nil
	}
	if name == spec.GetName() {
		return errorf(path+".parentName", "%q is this parameter: a parameter cannot depend on itself", name)
	}
	j, ok := s.index[name]
	if !ok {
		for k := i + 1; k < len(specs); k++ {
			if specs[k].GetName() == name {
				return errorf(path+".parentName", "%q is listed after this parameter, as parameters[%d]: list a parent before the parameters that depend on it (this also rules out cycles)", name, k)
			}
		}
		return errorf(path+".parentName", "no parameter is named %q", name)
	}
	parent := &s.Params[j]
	if parent.Type == Double {
		return errorf(path+".parentName", "%q is a double parameter: a parent must be an int, discrete or categorical parameter", name)
	}
	if len(values) == 0 {
		return errorf(path+".parentValues", "empty: list the values of %q under which this parameter is active", name)
	}
	if len(values) > MaxListLength {
		return errorf(path+".parentValues", "%d values: at most %d are allowed", len(values), MaxListLength)
	}
	p.HasParent, p.Parent = true, j
	p.ParentValues = make([]float64, 0, len(values))
	p.activeOn = make(map[float64]int, len(values))
	for k, v := range values {
		x, err := parent.Parse(v)
		if err == nil && !parent.Contains(x) {
			err = fmt.Errorf("%s is outside the feasible space of %q", v, name)
		}
		if err != nil {
			return errorf(fmt.Sprintf("%s.parentValues[%d]", path, k), "not a value of %q: %s", name, err)
		}
		if m, dup := p.activeOn[x]; dup {
			return errorf(fmt.Sprintf("%s.parentValues[%d]", path, k), "%q repeats parentValues[%d]", v, m)
		}
		p.activeOn[x] = k
		p.ParentValues = append(p.ParentValues, x)
	}
	return nil
}

// Conditional reports whether some parameter of the space has a parent.
func (s *Space) Conditional() bool { return s.tree != nil }

// Conditioned returns the first parameter that has a parent, and false when
// none has: for an algorithm that refuses conditional parameters, to name
// one in its message.
func (s *Space) Conditioned() (*Param, bool) {
	for j := range s.Params {
		if s.Params[j].HasParent {
			return &s.Params[j], true
		}
	}
	return nil, false
}

// IsParent reports whether some parameter depends on the j-th.
func (s *Space) IsParent(j int) bool { return s.tree != nil && len(s.tree.children[j]) > 0 }

// ActiveUnder reports whether the parameter is active when its parent takes
// value v; a parameter without a parent is always active.
func (p *Param) ActiveUnder(v float64) bool {
	if !p.HasParent {
		return true
	}
	if IsInactive(v) {
		return false
	}
	_, ok := p.activeOn[v]
	return ok
}

// Deactivate sets every parameter of pt that its parents leave inactive to
// Inactive, and returns pt. A parameter whose parent is inactive is
// inactive too.
func (s *Space) Deactivate(pt Point) Point {
	if s.tree == nil {
		return pt
	}
	for j := range s.Params {
		if p := &s.Params[j]; p.HasParent && !p.ActiveUnder(pt[p.Parent]) {
			pt[j] = Inactive
		}
	}
	return pt
}

// Activate gives every parameter of pt that its parents make active but
// that holds no value a draw from its prior, sets those they leave inactive
// to Inactive, and returns pt: for a search that changes a parent's value.
func (s *Space) Activate(pt Point, rng *rand.Rand) Point {
	if s.tree == nil {
		return pt
	}
	for j := range s.Params {
		p := &s.Params[j]
		switch {
		case p.HasParent && !p.ActiveUnder(pt[p.Parent]):
			pt[j] = Inactive
		case IsInactive(pt[j]):
			pt[j] = p.FromUnit(rng.Float64())
		}
	}
	return pt
}

// Active reports which parameters of pt are active, its parents' values
// deciding.
func (s *Space) Active(pt Point) []bool {
	active := make([]bool, len(s.Params))
	for j := range s.Params {
		p := &s.Params[j]
		active[j] = !p.HasParent || (active[p.Parent] && p.ActiveUnder(pt[p.Parent]))
	}
	return active
}

// Without returns the space without its j-th parameter, which no other
// parameter may depend on and which may not depend on another (a budget
// parameter, say), with the conditions of the others kept.
func (s *Space) Without(j int) *Space {
	out := &Space{Params: make([]Param, 0, len(s.Params)-1), index: make(map[string]int, len(s.Params)-1)}
	for k := range s.Params {
		if k == j {
			continue
		}
		p := s.Params[k]
		if p.HasParent && p.Parent > j {
			p.Parent--
		}
		out.index[p.Name] = len(out.Params)
		out.Params = append(out.Params, p)
	}
	out.buildTree()
	return out
}

// buildTree records the shape of a conditional space and, when it is
// finite, counts its points.
func (s *Space) buildTree() {
	s.tree = nil
	t := &tree{children: make([][]int, len(s.Params))}
	conditional := false
	for j := range s.Params {
		if p := &s.Params[j]; p.HasParent {
			t.children[p.Parent] = append(t.children[p.Parent], j)
			conditional = true
		} else {
			t.roots = append(t.roots, j)
		}
	}
	if !conditional {
		return
	}
	s.tree = t
	if !s.Finite() {
		return
	}
	n := len(s.Params)
	t.sub, t.overflow = make([]uint64, n), make([]bool, n)
	t.named, t.branch = make([][]uint64, n), make([][]uint64, n)
	// Children come after their parents: counting backwards counts every
	// child before its parent.
	for j := n - 1; j >= 0; j-- {
		p := &s.Params[j]
		var named []uint64
		for _, c := range t.children[j] {
			for _, v := range s.Params[c].ParentValues {
				k, _ := p.IndexOf(v)
				named = append(named, k)
			}
		}
		slices.Sort(named)
		named = slices.Compact(named)
		t.named[j] = named
		t.branch[j] = make([]uint64, len(named))
		total, over := p.Len()-uint64(len(named)), false
		for i, k := range named {
			b, o := t.product(s.activeChildren(j, p.At(k)))
			t.branch[j][i] = b
			var carry uint64
			total, carry = bits.Add64(total, b, 0)
			over = over || o || carry != 0
		}
		if over {
			total = math.MaxUint64
		}
		t.sub[j], t.overflow[j] = total, over
	}
	size, over := t.product(t.roots)
	t.size, t.sizeExact = size, !over
}

// product multiplies the counts of the parameters listed, saturating.
func (t *tree) product(list []int) (uint64, bool) {
	n := uint64(1)
	for _, c := range list {
		if t.overflow[c] {
			return math.MaxUint64, true
		}
		hi, lo := bits.Mul64(n, t.sub[c])
		if hi != 0 {
			return math.MaxUint64, true
		}
		n = lo
	}
	return n, false
}

// activeChildren lists the children of j active when j takes value v.
func (s *Space) activeChildren(j int, v float64) []int {
	var out []int
	for _, c := range s.tree.children[j] {
		if s.Params[c].ActiveUnder(v) {
			out = append(out, c)
		}
	}
	return out
}

// pointAt places the i-th combination of the parameters listed (and those
// below them) into pt, in mixed-radix order with the last listed changing
// fastest.
func (s *Space) pointAt(list []int, i uint64, pt Point) {
	t := s.tree
	for x := len(list) - 1; x >= 0; x-- {
		j := list[x]
		r := t.sub[j]
		s.valueAt(j, i%r, pt)
		i /= r
	}
}

// valueAt places the i-th combination below parameter j: j's values in
// order, each followed by the combinations of the children it activates.
func (s *Space) valueAt(j int, i uint64, pt Point) {
	t, p := s.tree, &s.Params[j]
	next := uint64(0)
	for x, k := range t.named[j] {
		gap := k - next
		if i < gap {
			pt[j] = p.At(next + i)
			return
		}
		i -= gap
		b := t.branch[j][x]
		if i < b {
			pt[j] = p.At(k)
			s.pointAt(s.activeChildren(j, pt[j]), i, pt)
			return
		}
		i -= b
		next = k + 1
	}
	pt[j] = p.At(next + i)
}

// indexOf is the inverse of pointAt.
func (s *Space) indexOf(list []int, pt Point) (uint64, bool) {
	var i uint64
	for _, j := range list {
		x, ok := s.indexOfValue(j, pt)
		if !ok {
			return 0, false
		}
		if i, ok = mulAdd(i, s.tree.sub[j], x); !ok {
			return 0, false
		}
	}
	return i, true
}

func (s *Space) indexOfValue(j int, pt Point) (uint64, bool) {
	t, p := s.tree, &s.Params[j]
	k, ok := p.IndexOf(pt[j])
	if !ok {
		return 0, false
	}
	// Every value below k counts 1, except the named ones, which count
	// their branches.
	off := k
	for x, n := range t.named[j] {
		if n > k {
			break
		}
		if n == k {
			below, ok := s.indexOf(s.activeChildren(j, pt[j]), pt)
			if !ok {
				return 0, false
			}
			sum, carry := bits.Add64(off, below, 0)
			return sum, carry == 0
		}
		var carry uint64
		off, carry = bits.Add64(off-1, t.branch[j][x], 0)
		if carry != 0 {
			return 0, false
		}
	}
	return off, true
}

// why says what makes the j-th parameter of pt, whose parent's value pt
// holds, active or inactive.
func (s *Space) why(pt Point, j int) string {
	p := &s.Params[j]
	parent := &s.Params[p.Parent]
	if IsInactive(pt[p.Parent]) {
		return fmt.Sprintf("its parent %q is inactive", parent.Name)
	}
	want := make([]string, len(p.ParentValues))
	for k, v := range p.ParentValues {
		want[k] = parent.Format(v)
	}
	verb := "is not one of"
	if p.ActiveUnder(pt[p.Parent]) {
		verb = "is one of"
	}
	return fmt.Sprintf("its parent %q is %s, which %s %s", parent.Name, parent.Format(pt[p.Parent]), verb, quoteList(want))
}
