package searchspace

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"strings"

	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// maxExactInt is 2^53: every integer of smaller magnitude is a float64.
const maxExactInt = 1 << 53

// MaxListLength bounds a discrete or categorical list.
const MaxListLength = 100000

// Error is a mistake of the caller (in a search space, a value, an algorithm
// setting or a trial) with the path of the field to fix, such as
// `parameters[0] ("--lr").feasibleSpace.min`. Package algorithm names it
// algorithm.Error.
type Error struct {
	Path    string
	Message string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// InvalidArgument marks the error as the caller's to fix.
func (e *Error) InvalidArgument() bool { return true }

func errorf(path, format string, args ...any) *Error {
	return &Error{Path: path, Message: fmt.Sprintf(format, args...)}
}

// Point holds one value per parameter of a space, in the space's order.
type Point []float64

// Space is a checked search space.
type Space struct {
	Params []Param
	index  map[string]int
	tree   *tree // nil unless some parameter is conditional
}

// Parse checks the parameter specs of an experiment and returns the space
// they describe. Each error names the field to fix.
func Parse(specs []*pb.ParameterSpec) (*Space, error) {
	if len(specs) == 0 {
		return nil, errorf("parameters", "no parameters: give at least one, each with a name, a parameterType and a feasibleSpace")
	}
	s := &Space{Params: make([]Param, len(specs)), index: make(map[string]int, len(specs))}
	for i, spec := range specs {
		path := fmt.Sprintf("parameters[%d]", i)
		if spec == nil {
			return nil, errorf(path, "empty parameter: give a name, a parameterType and a feasibleSpace")
		}
		if spec.GetName() == "" {
			return nil, errorf(path+".name", "missing name")
		}
		path = fmt.Sprintf("%s (%q)", path, spec.GetName())
		if j, dup := s.index[spec.GetName()]; dup {
			return nil, errorf(path+".name", "duplicate name: parameters[%d] has the same name", j)
		}
		if err := parseParam(&s.Params[i], spec, path); err != nil {
			return nil, err
		}
		if err := parseCondition(s, i, spec, specs, path); err != nil {
			return nil, err
		}
		s.index[spec.GetName()] = i
	}
	s.buildTree()
	return s, nil
}

func parseParam(p *Param, spec *pb.ParameterSpec, path string) error {
	fs := spec.GetFeasibleSpace()
	p.Name = spec.GetName()
	fsPath := path + ".feasibleSpace"
	switch spec.GetParameterType() {
	case pb.ParameterType_DOUBLE:
		p.Type = Double
	case pb.ParameterType_INT:
		p.Type = Int
	case pb.ParameterType_DISCRETE:
		p.Type = Discrete
	case pb.ParameterType_CATEGORICAL:
		p.Type = Categorical
	case pb.ParameterType_UNKNOWN_TYPE:
		return errorf(path+".parameterType", "missing or unknown parameter type: use DOUBLE, INT, DISCRETE or CATEGORICAL")
	default:
		return errorf(path+".parameterType", "unknown parameter type %d: use DOUBLE, INT, DISCRETE or CATEGORICAL", spec.GetParameterType())
	}
	switch fs.GetDistribution() {
	case pb.Distribution_DISTRIBUTION_UNSPECIFIED, pb.Distribution_UNIFORM:
		p.Distribution = Uniform
	case pb.Distribution_LOG_UNIFORM:
		p.Distribution = LogUniform
	case pb.Distribution_NORMAL:
		p.Distribution = Normal
	case pb.Distribution_LOG_NORMAL:
		p.Distribution = LogNormal
	default:
		return errorf(fsPath+".distribution", "unknown distribution %d: use UNIFORM, LOG_UNIFORM, NORMAL or LOG_NORMAL", fs.GetDistribution())
	}
	if p.Type == Discrete || p.Type == Categorical {
		return parseList(p, fs, fsPath)
	}
	return parseRange(p, fs, fsPath)
}

func parseList(p *Param, fs *pb.FeasibleSpace, path string) error {
	if p.Distribution != Uniform {
		return errorf(path+".distribution", "a %s parameter takes no distribution: its values are equally likely", p.Type)
	}
	for _, f := range []struct{ name, value string }{{"min", fs.GetMin()}, {"max", fs.GetMax()}, {"step", fs.GetStep()}} {
		if f.value != "" {
			return errorf(path+"."+f.name, "a %s parameter takes its values from list, not %s", p.Type, f.name)
		}
	}
	list := fs.GetList()
	if len(list) == 0 {
		return errorf(path+".list", "empty list: a %s parameter needs at least one value", p.Type)
	}
	if len(list) > MaxListLength {
		return errorf(path+".list", "%d values: at most %d are allowed", len(list), MaxListLength)
	}
	seen := make(map[string]int, len(list))
	for i, v := range list {
		if p.Type == Categorical && v == "" {
			return errorf(fmt.Sprintf("%s.list[%d]", path, i), "empty value")
		}
		if j, dup := seen[v]; dup {
			return errorf(fmt.Sprintf("%s.list[%d]", path, i), "%q repeats list[%d]", v, j)
		}
		seen[v] = i
	}
	p.List = append([]string(nil), list...)
	p.n = uint64(len(list))
	if p.Type == Categorical {
		p.byName = seen
		return nil
	}
	p.Values = make([]float64, len(list))
	for i, v := range list {
		x, err := parseNumber(v)
		if err != nil {
			return errorf(fmt.Sprintf("%s.list[%d]", path, i), "%s: a discrete parameter lists numbers (use categorical for strings)", err)
		}
		p.Values[i] = x
	}
	p.rank, p.rankOf = sortedRanks(p.Values)
	for r := 1; r < len(p.rank); r++ {
		a, b := p.rank[r-1], p.rank[r]
		if closeTo(p.Values[a], p.Values[b], 0) {
			return errorf(fmt.Sprintf("%s.list[%d]", path, max(a, b)), "%q is the same number as list[%d]", list[max(a, b)], min(a, b))
		}
	}
	return nil
}

func parseRange(p *Param, fs *pb.FeasibleSpace, path string) error {
	if len(fs.GetList()) > 0 {
		return errorf(path+".list", "a %s parameter takes min and max, not a list (use discrete or categorical for a list)", p.Type)
	}
	bound := func(name, s string) (float64, error) {
		if s == "" {
			return 0, errorf(path+"."+name, "missing: a %s parameter needs min and max", p.Type)
		}
		x, err := p.Parse(s)
		if err != nil {
			return 0, errorf(path+"."+name, "%s", err)
		}
		return x, nil
	}
	var err error
	if p.Min, err = bound("min", fs.GetMin()); err != nil {
		return err
	}
	if p.Max, err = bound("max", fs.GetMax()); err != nil {
		return err
	}
	if p.Type == Int && (math.Abs(p.Min) >= maxExactInt || math.Abs(p.Max) >= maxExactInt) {
		return errorf(path, "int bounds must lie within ±%d, where every integer has an exact value", int64(maxExactInt-1))
	}
	if p.Min > p.Max {
		return errorf(path, "min %s is greater than max %s", fs.GetMin(), fs.GetMax())
	}
	if p.Distribution.log() && p.Min <= 0 {
		return errorf(path+".min", "%s must be above 0 for the %s distribution", fs.GetMin(), p.Distribution)
	}
	p.exponent = strings.ContainsAny(fs.GetMin()+fs.GetMax()+fs.GetStep(), "eE")
	if fs.GetStep() != "" {
		if p.Step, err = p.Parse(fs.GetStep()); err != nil {
			return errorf(path+".step", "%s", err)
		}
		if p.Step <= 0 {
			return errorf(path+".step", "%s must be above 0", fs.GetStep())
		}
	} else if p.Type == Int || p.Min == p.Max {
		// A double with min = max has one value: count it, so that it is
		// finite like any stepped parameter rather than a continuum of one
		// point.
		p.Step = 1
	}
	if p.Step > 0 {
		width := p.Max - p.Min
		cells := math.Floor(width/p.Step + 1e-9)
		if math.IsInf(width, 0) {
			// Bounds near ±MaxFloat64: their difference overflows, their
			// quotients by the step do not.
			cells = math.Floor(p.Max/p.Step - p.Min/p.Step + 1e-9)
		}
		if cells >= 1<<53 {
			return errorf(path+".step", "more than 2^53 values between min and max at step %s: use a larger step", strconv.FormatFloat(p.Step, 'g', -1, 64))
		}
		p.n = uint64(cells) + 1
		p.decimals = max(decimals(fs.GetMin()), decimals(fs.GetStep()))
	}
	switch {
	case p.n == 0:
		p.tlo, p.thi = p.transform(p.Min), p.transform(p.Max)
	case p.n == 1:
		p.tlo, p.thi = p.transform(p.Min), p.transform(p.Min)
	default:
		first, second := p.transform(p.At(0)), p.transform(p.At(1))
		last, before := p.transform(p.At(p.n-1)), p.transform(p.At(p.n-2))
		p.tlo, p.thi = first-(second-first)/2, last+(last-before)/2
	}
	return nil
}

// Len is the number of parameters.
func (s *Space) Len() int { return len(s.Params) }

// Lookup returns the position of the parameter with the given name.
func (s *Space) Lookup(name string) (int, bool) {
	i, ok := s.index[name]
	return i, ok
}

// Finite reports whether every parameter has finitely many values.
func (s *Space) Finite() bool {
	for i := range s.Params {
		if !s.Params[i].Finite() {
			return false
		}
	}
	return true
}

// Size returns the number of points of a finite space. It saturates at
// math.MaxUint64 and then reports exact false; a space with a continuous
// parameter has size 0. In a conditional space, the points are the valid
// combinations: an inactive parameter adds no choice.
func (s *Space) Size() (n uint64, exact bool) {
	if s.tree != nil {
		if !s.Finite() {
			return 0, true
		}
		return s.tree.size, s.tree.sizeExact
	}
	n = 1
	for i := range s.Params {
		hi, lo := bits.Mul64(n, s.Params[i].Len())
		if hi != 0 {
			return math.MaxUint64, false
		}
		n = lo
	}
	return n, true
}

// PointAt returns the i-th point of a finite space in mixed-radix order: the
// last parameter changes fastest, as in nested loops over the parameters in
// the order they are listed. The point depends on i alone. In a conditional
// space the loop over a parent's values runs, for each value, over the
// combinations of the children it activates; the other children are
// inactive.
func (s *Space) PointAt(i uint64) Point {
	pt := make(Point, len(s.Params))
	if s.tree != nil {
		for j := range pt {
			pt[j] = Inactive
		}
		s.pointAt(s.tree.roots, i, pt)
		return pt
	}
	for j := len(s.Params) - 1; j >= 0; j-- {
		n := s.Params[j].Len()
		pt[j] = s.Params[j].At(i % n)
		i /= n
	}
	return pt
}

// IndexOf returns the position of a point of a finite space in the order of
// PointAt, and false when the point is not on the space's grid or the
// position does not fit in 64 bits.
func (s *Space) IndexOf(pt Point) (uint64, bool) {
	if len(pt) != len(s.Params) {
		return 0, false
	}
	if s.tree != nil {
		if !s.Contains(pt) {
			return 0, false
		}
		return s.indexOf(s.tree.roots, pt)
	}
	var i uint64
	for j := range s.Params {
		k, ok := s.Params[j].IndexOf(pt[j])
		if !ok {
			return 0, false
		}
		if i, ok = mulAdd(i, s.Params[j].Len(), k); !ok {
			return 0, false
		}
	}
	return i, true
}

// mulAdd returns i·radix + digit, one step of a mixed-radix number, and
// false when it does not fit in 64 bits.
func mulAdd(i, radix, digit uint64) (uint64, bool) {
	hi, lo := bits.Mul64(i, radix)
	if hi != 0 {
		return 0, false
	}
	sum, carry := bits.Add64(lo, digit, 0)
	return sum, carry == 0
}

// Free lists, in order, the indices below size (a finite space's Size) that
// taken does not hold: the points of the space not handed out yet.
func Free(size uint64, taken map[uint64]struct{}) []uint64 {
	left := make([]uint64, 0, size-uint64(min(uint64(len(taken)), size)))
	for i := uint64(0); i < size; i++ {
		if _, ok := taken[i]; !ok {
			left = append(left, i)
		}
	}
	return left
}

// Sample draws a point from the prior.
func (s *Space) Sample(rng *rand.Rand) Point {
	pt := make(Point, len(s.Params))
	for j := range s.Params {
		pt[j] = s.Params[j].FromUnit(rng.Float64())
	}
	return s.Deactivate(pt)
}

// FromUnit maps a point of the unit cube to the space, every coordinate
// mapped and then the parameters its parents leave inactive dropped.
func (s *Space) FromUnit(u []float64) Point {
	pt := make(Point, len(s.Params))
	for j := range s.Params {
		pt[j] = s.Params[j].FromUnit(u[j])
	}
	return s.Deactivate(pt)
}

// ToUnit maps a point of the space to the unit cube; an inactive parameter
// maps to 0.5.
func (s *Space) ToUnit(pt Point) []float64 {
	u := make([]float64, len(s.Params))
	for j := range s.Params {
		u[j] = s.Params[j].ToUnit(pt[j])
	}
	return u
}

// Contains reports whether every value of the point belongs to its
// parameter, and whether exactly the active parameters have values.
func (s *Space) Contains(pt Point) bool {
	if len(pt) != len(s.Params) {
		return false
	}
	if s.tree != nil {
		for j, on := range s.Active(pt) {
			if on != !IsInactive(pt[j]) || (on && !s.Params[j].Contains(pt[j])) {
				return false
			}
		}
		return true
	}
	for j := range s.Params {
		if !s.Params[j].Contains(pt[j]) {
			return false
		}
	}
	return true
}

// Key identifies a point: two points have the same key exactly when they
// format to the same assignments.
func (s *Space) Key(pt Point) string {
	var b strings.Builder
	for j := range s.Params {
		if j > 0 {
			b.WriteByte(0)
		}
		b.WriteString(s.Params[j].Format(pt[j]))
	}
	return b.String()
}

// Format writes a point as parameter assignments, in the space's order;
// inactive parameters are left out.
func (s *Space) Format(pt Point) []*pb.ParameterAssignment {
	out := make([]*pb.ParameterAssignment, 0, len(s.Params))
	for j := range s.Params {
		if IsInactive(pt[j]) {
			continue
		}
		out = append(out, &pb.ParameterAssignment{Name: s.Params[j].Name, Value: s.Params[j].Format(pt[j])})
	}
	return out
}

// ParseAssignments reads a trial's assignments into a point. Every active
// parameter must be assigned once, and nothing else: an inactive parameter
// (its parent inactive or at a value that does not activate it) must be
// absent. Values outside a parameter's range parse (see Contains), values of
// the wrong type do not.
func (s *Space) ParseAssignments(as []*pb.ParameterAssignment) (Point, error) {
	pt := make(Point, len(s.Params))
	set := make([]bool, len(s.Params))
	at := make([]int, len(s.Params))
	for i, a := range as {
		path := fmt.Sprintf("assignments[%d]", i)
		j, ok := s.index[a.GetName()]
		if !ok {
			return nil, errorf(path, "unknown parameter %q", a.GetName())
		}
		if set[j] {
			return nil, errorf(path, "parameter %q is assigned twice", a.GetName())
		}
		v, err := s.Params[j].Parse(a.GetValue())
		if err != nil {
			return nil, errorf(path, "parameter %q: %s", a.GetName(), err)
		}
		pt[j], set[j] = v, true
		at[j] = i
	}
	for j := range s.Params {
		p := &s.Params[j]
		if p.HasParent && !p.ActiveUnder(pt[p.Parent]) {
			if set[j] {
				return nil, errorf(fmt.Sprintf("assignments[%d]", at[j]), "parameter %q is inactive and must not be assigned: %s", p.Name, s.why(pt, j))
			}
			pt[j] = Inactive
			continue
		}
		if !set[j] {
			if p.HasParent {
				return nil, errorf("assignments", "parameter %q is not assigned, and it is active: %s", p.Name, s.why(pt, j))
			}
			return nil, errorf("assignments", "parameter %q is not assigned", p.Name)
		}
	}
	return pt, nil
}
