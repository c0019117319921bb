package hyperband

import (
	"fmt"
	"math"
	"strconv"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/searchspace"
)

// Names of the settings Hyperband takes (BOHB takes them too).
const (
	// MaxResource is R, the largest budget a configuration is run with.
	MaxResource = "r_l"
	// Eta is the factor by which successive halving cuts the number of
	// configurations from one rung to the next, and raises their budget.
	Eta = "eta"
	// ResourceName names the parameter that carries a trial's budget.
	ResourceName = "resource_name"
	// State is the bracket state the algorithm writes back for its next call.
	State = "hyperband_state"
)

// MaxBracketSize bounds the number of configurations of the largest bracket,
// eta^s_max. It keeps the state small and the experiment meaningful: a
// bracket of more configurations than this would never finish.
const MaxBracketSize = 10000

const settingsPath = "experiment.experimentSpec.algorithm.algorithmSettings"

// Settings lists the settings of Hyperband: r_l, eta, resource_name,
// random_state, and the state setting.
func Settings() []algorithm.Setting {
	r := algorithm.FloatSetting(MaxResource,
		"R: the largest budget a configuration is run with, a value of the resource parameter (required)",
		0, 0, 1e9, true)
	r.Default = ""
	return []algorithm.Setting{
		r,
		algorithm.IntSetting(Eta,
			"the halving factor: each rung keeps the best 1/eta of its configurations and runs them with eta times the budget",
			3, 2, 100),
		{
			Name:        ResourceName,
			Description: "the int or double parameter that carries a trial's budget, such as the number of epochs (required)",
			Allowed:     "the name of an int or double parameter of the experiment",
		},
		algorithm.SeedSetting(),
		algorithm.StateSetting(State, "the brackets under way and the configurations of their current rungs"),
	}
}

// Schedule is Hyperband's plan, fixed by R, eta and the resource parameter.
//
// The budgets form levels j = 0..SMax: level j is R/eta^(SMax-j), snapped to
// the nearest value of the resource parameter, so level SMax is R. Bracket s
// (from SMax down to 0) starts n(s) = ceil((SMax+1)/(s+1) * eta^s)
// configurations at level SMax-s; rung i of it runs floor(n(s)/eta^i) of
// them at level SMax-s+i, up to rung s at level SMax.
type Schedule struct {
	// Resource is the position of the resource parameter in the space.
	Resource int
	R        float64
	Eta      int
	SMax     int
	// Budgets holds the value of the resource parameter at each level.
	Budgets []float64

	param *searchspace.Param
	keys  []string // Budgets formatted, to find the level of a trial
}

// NewSchedule reads Hyperband's settings and checks them against the search
// space. Errors say what to fix.
func NewSchedule(p *algorithm.Problem) (*Schedule, error) {
	name, ok := p.Settings.Lookup(ResourceName)
	if !ok || name == "" {
		return nil, algorithm.Invalidf(settingsPath,
			"%s is missing: name the int or double parameter that carries a trial's budget, such as the number of epochs", ResourceName)
	}
	res, ok := p.Space.Lookup(name)
	if !ok {
		return nil, algorithm.Invalidf(settingsPath, "%s %q is not a parameter of the experiment: use one of %s",
			ResourceName, name, numericParams(p.Space))
	}
	param := &p.Space.Params[res]
	path := fmt.Sprintf("experiment.experimentSpec.parameterSpecs.parameters[%d] (%q)", res, name)
	if param.Type != searchspace.Int && param.Type != searchspace.Double {
		return nil, algorithm.Invalidf(path+".parameterType",
			"%s %q is a %s parameter: the budget must be an int or double parameter", ResourceName, name, param.Type)
	}
	if param.HasParent {
		return nil, algorithm.Invalidf(path+".parentName",
			"%s %q is a conditional parameter: every trial needs a budget, so the resource parameter must always be active", ResourceName, name)
	}
	if p.Space.IsParent(res) {
		return nil, algorithm.Invalidf(path,
			"%s %q is the parent of a conditional parameter: a budget changes within a bracket, so no parameter may depend on it", ResourceName, name)
	}
	if p.Space.Len() < 2 {
		return nil, algorithm.Invalidf("experiment.experimentSpec.parameterSpecs.parameters",
			"only the resource parameter %q: Hyperband needs at least one parameter to tune besides the budget", name)
	}
	if !p.Settings.IsSet(MaxResource) {
		return nil, algorithm.Invalidf(settingsPath,
			"%s is missing: set it to the largest budget, a value of parameter %q such as its max %s",
			MaxResource, name, param.Format(param.Max))
	}
	sc := &Schedule{Resource: res, R: p.Settings.Float(MaxResource), Eta: int(p.Settings.Int(Eta)), param: param}
	eta := float64(sc.Eta)

	// SMax is the largest s with eta^s <= R, counted exactly rather than
	// through logarithms.
	for pow := eta; pow <= sc.R*(1+1e-12); pow *= eta {
		sc.SMax++
	}
	if sc.SMax < 1 {
		return nil, algorithm.Invalidf(settingsPath,
			"%s %s with %s %d makes no rung to halve: r_l must be at least eta (the budgets are r_l, r_l/eta, r_l/eta^2, ..., none below 1)",
			MaxResource, strconv.FormatFloat(sc.R, 'g', -1, 64), Eta, sc.Eta)
	}
	if first := math.Pow(eta, float64(sc.SMax)); first > MaxBracketSize {
		return nil, algorithm.Invalidf(settingsPath,
			"%s %s with %s %d makes a first bracket of %.0f configurations, more than %d: raise eta or lower r_l",
			MaxResource, strconv.FormatFloat(sc.R, 'g', -1, 64), Eta, sc.Eta, first, MaxBracketSize)
	}

	top, ok := snap(param, sc.R)
	if !ok || !closeTo(top, sc.R) {
		switch {
		case sc.R > param.Max:
			return nil, algorithm.Invalidf(settingsPath, "%s %s is above the max %s of parameter %q: raise its max or lower r_l",
				MaxResource, strconv.FormatFloat(sc.R, 'g', -1, 64), param.Format(param.Max), name)
		case sc.R < param.Min:
			return nil, algorithm.Invalidf(settingsPath, "%s %s is below the min %s of parameter %q",
				MaxResource, strconv.FormatFloat(sc.R, 'g', -1, 64), param.Format(param.Min), name)
		}
		return nil, algorithm.Invalidf(settingsPath, "%s %s is not a value of parameter %q: use one such as %s",
			MaxResource, strconv.FormatFloat(sc.R, 'g', -1, 64), name, param.Format(top))
	}

	sc.Budgets = make([]float64, sc.SMax+1)
	sc.keys = make([]string, sc.SMax+1)
	for j := range sc.Budgets {
		want := sc.R / math.Pow(eta, float64(sc.SMax-j))
		b, ok := snap(param, want)
		if !ok {
			return nil, algorithm.Invalidf(settingsPath,
				"the smallest budget r_l/eta^%d = %s is below the min %s of parameter %q: Hyperband's budgets go from r_l down by factors of eta to between 1 and eta; lower the min or raise eta",
				sc.SMax-j, strconv.FormatFloat(roundSig(want), 'g', -1, 64), param.Format(param.Min), name)
		}
		if b <= 0 {
			return nil, algorithm.Invalidf(settingsPath,
				"budget r_l/eta^%d = %s rounds to %s, a value of parameter %q: budgets must be above 0; raise its min or use a finer step",
				sc.SMax-j, strconv.FormatFloat(roundSig(want), 'g', -1, 64), param.Format(b), name)
		}
		if j > 0 && b <= sc.Budgets[j-1] {
			return nil, algorithm.Invalidf(settingsPath,
				"budgets %s and %s both round to %s, a value of parameter %q: use a finer step, or a larger r_l or eta",
				strconv.FormatFloat(roundSig(sc.R/math.Pow(eta, float64(sc.SMax-j+1))), 'g', -1, 64),
				strconv.FormatFloat(roundSig(want), 'g', -1, 64), param.Format(b), name)
		}
		sc.Budgets[j] = b
		sc.keys[j] = param.Format(b)
	}
	return sc, nil
}

// Brackets is the number of brackets of one Hyperband iteration.
func (sc *Schedule) Brackets() int { return sc.SMax + 1 }

// S returns s of the k-th bracket started (from 0): brackets go from SMax down
// to 0, then start over.
func (sc *Schedule) S(k int) int { return sc.SMax - k%(sc.SMax+1) }

// Size is n(s), the number of configurations bracket s starts with.
func (sc *Schedule) Size(s int) int {
	pow := 1
	for range s {
		pow *= sc.Eta
	}
	return ((sc.SMax+1)*pow + s) / (s + 1)
}

// RungSize is the number of configurations of rung i of bracket s.
func (sc *Schedule) RungSize(s, i int) int {
	n := sc.Size(s)
	for range i {
		n /= sc.Eta
	}
	return n
}

// Level is the budget level of rung i of bracket s.
func (sc *Schedule) Level(s, i int) int { return sc.SMax - s + i }

// LevelOf returns the level of a trial's resource value, and false when it
// is none of the budgets.
func (sc *Schedule) LevelOf(pt searchspace.Point) (int, bool) {
	k := sc.param.Format(pt[sc.Resource])
	for j, b := range sc.keys {
		if b == k {
			return j, true
		}
	}
	return 0, false
}

// snap returns the value of the parameter nearest x, and false when x lies
// outside its range by more than half a step.
func snap(p *searchspace.Param, x float64) (float64, bool) {
	if p.Step == 0 {
		x = roundSig(x)
		switch {
		case x < p.Min && closeTo(x, p.Min):
			x = p.Min
		case x > p.Max && closeTo(x, p.Max):
			x = p.Max
		}
		return x, p.Contains(x)
	}
	k := math.Round((x - p.Min) / p.Step)
	if k < 0 || k >= float64(p.Len()) {
		return x, false
	}
	return p.At(uint64(k)), true
}

// roundSig rounds to 12 significant digits, so that 8.1/3 is 2.7.
func roundSig(x float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 12, 64), 64)
	return r
}

func closeTo(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func numericParams(s *searchspace.Space) string {
	var names []string
	for i := range s.Params {
		if t := s.Params[i].Type; t == searchspace.Int || t == searchspace.Double {
			names = append(names, strconv.Quote(s.Params[i].Name))
		}
	}
	if len(names) == 0 {
		return "an int or double parameter (the experiment has none)"
	}
	out := names[0]
	for _, n := range names[1:] {
		out += ", " + n
	}
	return out
}
