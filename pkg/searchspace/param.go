// Package searchspace parses and checks an experiment's feasible spaces and
// encodes parameter values for the search algorithms.
//
// A point holds one float64 per parameter: the number itself for double and
// int parameters, the index into the user's list for discrete and
// categorical ones, and NaN (Inactive) for a conditional parameter its
// parent leaves inactive (condition.go). Every parameter maps to and from the unit interval
// through the quantile function of its prior (see docs/search-space.md), so a
// uniform draw from the unit cube is a draw from the prior.
package searchspace

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Type is the type of a parameter.
type Type int

// The parameter types of the API.
const (
	Double Type = iota + 1
	Int
	Discrete
	Categorical
)

func (t Type) String() string {
	switch t {
	case Double:
		return "double"
	case Int:
		return "int"
	case Discrete:
		return "discrete"
	case Categorical:
		return "categorical"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Distribution is the prior over a numeric parameter's [min, max].
type Distribution int

// The distributions of the API. The normal ones are truncated to [min, max],
// centred on its middle with a standard deviation of a sixth of its width (in
// log space for LogNormal).
const (
	Uniform Distribution = iota + 1
	LogUniform
	Normal
	LogNormal
)

func (d Distribution) String() string {
	switch d {
	case Uniform:
		return "uniform"
	case LogUniform:
		return "logUniform"
	case Normal:
		return "normal"
	case LogNormal:
		return "logNormal"
	}
	return fmt.Sprintf("Distribution(%d)", int(d))
}

func (d Distribution) log() bool { return d == LogUniform || d == LogNormal }

// Param is one parameter of a search space, parsed and checked.
type Param struct {
	Name         string
	Type         Type
	Distribution Distribution

	// Min and Max bound a double or int parameter.
	Min, Max float64
	// Step is the spacing of a double or int parameter's values; zero for a
	// continuous double.
	Step float64
	// List holds a discrete or categorical parameter's values as written.
	List []string
	// Values holds a discrete parameter's values as numbers, in List order.
	Values []float64

	// HasParent says that the parameter is conditional: active only when
	// the parameter at position Parent (listed before it) is active and
	// takes one of ParentValues (values as a Point holds them).
	HasParent    bool
	Parent       int
	ParentValues []float64
	activeOn     map[float64]int // ParentValues, each to its position

	n        uint64         // number of values of a finite parameter, 0 when continuous
	rank     []int          // discrete: List index of each value in ascending order
	rankOf   []int          // discrete: ascending rank of each List index
	byName   map[string]int // categorical: List index of each value
	tlo, thi float64
	decimals int  // digits after the point for stepped doubles
	exponent bool // the user wrote a bound in exponent notation
}

// Finite reports whether the parameter has finitely many values.
func (p *Param) Finite() bool { return p.n > 0 }

// Len is the number of values of a finite parameter, 0 for a continuous one.
func (p *Param) Len() uint64 { return p.n }

// At returns the i-th value of a finite parameter, in ascending order for
// numbers and list order for categories. i must be below Len.
func (p *Param) At(i uint64) float64 {
	switch p.Type {
	case Discrete, Categorical:
		return float64(i)
	}
	if x := float64(i) * p.Step; !math.IsInf(x, 0) {
		return p.Min + x
	}
	// Near ±MaxFloat64 the product alone overflows; the fused sum does not.
	return math.FMA(float64(i), p.Step, p.Min)
}

// steps returns (v − Min) / Step, the position of v among the stepped
// values, without overflowing when v − Min does.
func (p *Param) steps(v float64) float64 {
	if d := v - p.Min; !math.IsInf(d, 0) {
		return d / p.Step
	}
	return v/p.Step - p.Min/p.Step
}

// IndexOf returns the position of value v among a finite parameter's values,
// and false when v is not one of them.
func (p *Param) IndexOf(v float64) (uint64, bool) {
	switch p.Type {
	case Discrete, Categorical:
		i := int(v)
		if float64(i) != v || i < 0 || i >= len(p.List) {
			return 0, false
		}
		return uint64(i), true
	}
	if p.n == 0 {
		return 0, false
	}
	k := math.Round(p.steps(v))
	if k < 0 || k >= float64(p.n) || !closeTo(p.At(uint64(k)), v, p.Step) {
		return 0, false
	}
	return uint64(k), true
}

// Numeric returns the number a value stands for: the value itself for double
// and int parameters, the list entry for discrete ones, and the index for
// categorical ones.
func (p *Param) Numeric(v float64) float64 {
	if p.Type == Discrete {
		return p.Values[int(v)]
	}
	return v
}

// Contains reports whether v is a value of the parameter.
func (p *Param) Contains(v float64) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return false
	}
	if p.Finite() {
		_, ok := p.IndexOf(v)
		return ok
	}
	return v >= p.Min && v <= p.Max
}

// Format writes a value the way the user wrote the parameter's bounds or list.
func (p *Param) Format(v float64) string {
	if IsInactive(v) {
		return ""
	}
	switch p.Type {
	case Discrete, Categorical:
		i := int(v)
		if i < 0 || i >= len(p.List) {
			return ""
		}
		return p.List[i]
	case Int:
		// Not FormatInt: a bound such as "1e19" lies beyond int64. The +0
		// writes -0 as "0".
		return strconv.FormatFloat(math.Round(v)+0, 'f', 0, 64)
	}
	if p.Step > 0 {
		s := strconv.FormatFloat(v, 'f', p.decimals, 64)
		if strings.IndexByte(s, '.') >= 0 {
			s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		}
		if p.exponent {
			r, _ := strconv.ParseFloat(s, 64)
			return strconv.FormatFloat(r, 'g', -1, 64)
		}
		return s
	}
	if p.exponent {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// Parse reads a value written as a string, as in a trial's assignments. It
// fails when the string is not a value of the parameter's type; a number
// outside [min, max] parses, and Contains then reports false.
func (p *Param) Parse(s string) (float64, error) {
	switch p.Type {
	case Categorical:
		if i, ok := p.byName[s]; ok {
			return float64(i), nil
		}
		return 0, fmt.Errorf("%q is not one of %s", s, quoteList(p.List))
	case Discrete:
		x, err := parseNumber(s)
		if err != nil {
			return 0, err
		}
		// The values in ascending order: the one x may be is the first not
		// below it, or the one before, within closeTo's tolerance.
		r := sort.Search(len(p.rank), func(r int) bool { return p.Values[p.rank[r]] >= x })
		for _, r := range []int{r, r - 1} {
			if r >= 0 && r < len(p.rank) && closeTo(p.Values[p.rank[r]], x, 0) {
				return float64(p.rank[r]), nil
			}
		}
		return 0, fmt.Errorf("%q is not one of %s", s, quoteList(p.List))
	case Int:
		x, err := parseNumber(s)
		if err != nil {
			return 0, err
		}
		if x != math.Trunc(x) {
			return 0, fmt.Errorf("%q is not an integer", s)
		}
		return x, nil
	}
	return parseNumber(s)
}

// FromUnit maps u in [0, 1] to a value through the prior's quantile function.
func (p *Param) FromUnit(u float64) float64 {
	u = clamp(u, 0, 1)
	switch p.Type {
	case Discrete, Categorical:
		r := int(u * float64(len(p.List)))
		if r >= len(p.List) {
			r = len(p.List) - 1
		}
		if p.Type == Discrete {
			return float64(p.rank[r])
		}
		return float64(r)
	}
	t := p.quantile(u)
	if p.n == 0 {
		x := t
		if p.Distribution.log() {
			x = math.Exp(t)
		}
		return clamp(x, p.Min, p.Max)
	}
	return p.At(p.nearest(t))
}

// ToUnit maps a value to [0, 1] through the prior's distribution function;
// FromUnit(ToUnit(v)) == v for every value of the parameter.
func (p *Param) ToUnit(v float64) float64 {
	if IsInactive(v) {
		// An inactive parameter sits at the middle of the prior: an
		// imputation for the algorithms that model every dimension.
		return 0.5
	}
	switch p.Type {
	case Discrete:
		return (float64(p.rankOf[int(v)]) + 0.5) / float64(len(p.List))
	case Categorical:
		return (v + 0.5) / float64(len(p.List))
	}
	if p.n == 1 {
		return 0.5
	}
	return p.cdf(p.transform(clamp(v, p.Min, p.Max)))
}

func (p *Param) transform(x float64) float64 {
	if p.Distribution.log() {
		return math.Log(x)
	}
	return x
}

// The prior lives on [tlo, thi] in transformed space (log space for the log
// distributions). For stepped parameters the interval reaches half a step past
// the outer values, so each value owns the mass of its cell.
const normalHalfWidth = 3.0 // [tlo, thi] spans ±3 standard deviations

func (p *Param) cdf(t float64) float64 {
	if p.thi <= p.tlo {
		return 0.5
	}
	switch p.Distribution {
	case Normal, LogNormal:
		return clamp((phi(p.z(t))-phi(-normalHalfWidth))/(phi(normalHalfWidth)-phi(-normalHalfWidth)), 0, 1)
	}
	// Halved, which is exact, so that the width of [-1e308, 1e308] does not
	// overflow to infinity.
	return clamp((t/2-p.tlo/2)/(p.thi/2-p.tlo/2), 0, 1)
}

func (p *Param) quantile(u float64) float64 {
	switch p.Distribution {
	case Normal, LogNormal:
		lo, hi := phi(-normalHalfWidth), phi(normalHalfWidth)
		z := phiInv(lo + u*(hi-lo))
		mid, sd := p.spread()
		return clamp(mid+z*sd, p.tlo, p.thi)
	}
	// Weighted, not tlo + u·(thi−tlo): the width of [-1e308, 1e308]
	// overflows to infinity.
	return p.tlo*(1-u) + p.thi*u
}

func (p *Param) z(t float64) float64 {
	mid, sd := p.spread()
	return (t/2 - mid/2) / (sd / 2)
}

// spread returns the middle of [tlo, thi] and the prior's standard
// deviation. Halving first is exact and keeps the sum and the width of
// [-1e308, 1e308] from overflowing.
func (p *Param) spread() (mid, sd float64) {
	return p.tlo/2 + p.thi/2, (p.thi/2 - p.tlo/2) / normalHalfWidth
}

// nearest returns the index of the stepped value closest to t in transformed
// space.
func (p *Param) nearest(t float64) uint64 {
	if p.n == 1 {
		return 0
	}
	x := t
	if p.Distribution.log() {
		x = math.Exp(t)
	}
	k := math.Floor(p.steps(x))
	if k < 0 {
		return 0
	}
	if k >= float64(p.n-1) {
		return p.n - 1
	}
	i := uint64(k)
	if math.Abs(t-p.transform(p.At(i+1))) < math.Abs(t-p.transform(p.At(i))) {
		i++
	}
	return i
}

func phi(z float64) float64    { return 0.5 * math.Erfc(-z/math.Sqrt2) }
func phiInv(q float64) float64 { return -math.Sqrt2 * math.Erfcinv(2*q) }

func clamp(x, lo, hi float64) float64 {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}

// closeTo compares two numbers with a tolerance that forgives the rounding of
// decimal steps (0.1 + 0.2) but nothing a user could mean.
func closeTo(a, b, scale float64) bool {
	tol := 1e-9 * math.Max(math.Max(math.Abs(a), math.Abs(b)), math.Abs(scale))
	if tol == 0 {
		return a == b
	}
	return math.Abs(a-b) <= tol
}

func parseNumber(s string) (float64, error) {
	x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("%q is not a finite number", s)
	}
	return x, nil
}

// decimals counts the digits a number written as s has after the point,
// exponent included: "0.01" has 2, "2.5e-4" has 5.
func decimals(s string) int {
	s = strings.ToLower(strings.TrimSpace(s))
	exp := 0
	if i := strings.IndexByte(s, 'e'); i >= 0 {
		exp, _ = strconv.Atoi(s[i+1:])
		s = s[:i]
	}
	d := 0
	if i := strings.IndexByte(s, '.'); i >= 0 {
		d = len(s) - i - 1
	}
	d -= exp
	// A float64 holds 17 significant digits: more decimals only cost (a
	// bound written as 0e-999999999 would ask for a billion).
	return min(max(d, 0), maxDecimals)
}

const maxDecimals = 30

func quoteList(list []string) string {
	const show = 10
	q := make([]string, 0, show+1)
	for i, s := range list {
		if i == show {
			q = append(q, fmt.Sprintf("... (%d more)", len(list)-show))
			break
		}
		q = append(q, strconv.Quote(s))
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func sortedRanks(values []float64) (rank, rankOf []int) {
	rank = make([]int, len(values))
	for i := range rank {
		rank[i] = i
	}
	sort.SliceStable(rank, func(a, b int) bool { return values[rank[a]] < values[rank[b]] })
	rankOf = make([]int, len(values))
	for r, i := range rank {
		rankOf[i] = r
	}
	return rank, rankOf
}
