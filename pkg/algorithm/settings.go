package algorithm

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Setting describes one algorithm setting an algorithm accepts: its name as
// users write it, what it means, its default, and the values it allows.
type Setting struct {
	Name        string
	Description string
	// Default is the value used when the setting is absent ("" for none).
	Default string
	// Allowed says which values are allowed, for error messages and docs.
	Allowed string
	// State marks a setting the algorithm writes back in its reply for the
	// next call; users do not set it.
	State bool

	check func(string) error
}

// Check returns an error saying what is allowed when value is not.
func (s Setting) Check(value string) error {
	if s.check == nil {
		return nil
	}
	return s.check(value)
}

// IntSetting is an integer setting within [lo, hi].
func IntSetting(name, description string, def, lo, hi int64) Setting {
	allowed := fmt.Sprintf("an integer from %d to %d", lo, hi)
	if hi == math.MaxInt64 {
		allowed = fmt.Sprintf("an integer of at least %d", lo)
	}
	return Setting{
		Name: name, Description: description, Default: strconv.FormatInt(def, 10), Allowed: allowed,
		check: func(v string) error {
			x, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || x < lo || x > hi {
				return fmt.Errorf("%q is not %s", v, allowed)
			}
			return nil
		},
	}
}

// SeedSetting is random_state: the seed that makes replies reproducible.
func SeedSetting() Setting {
	s := IntSetting(RandomState, "seed of the random number generator: the same request and seed give the same reply", 0, 0, math.MaxInt64)
	s.Default = ""
	return s
}

// FloatSetting is a number within [lo, hi]; openLo excludes lo itself.
func FloatSetting(name, description string, def, lo, hi float64, openLo bool) Setting {
	allowed := fmt.Sprintf("a number from %g to %g", lo, hi)
	if openLo {
		allowed = fmt.Sprintf("a number above %g and at most %g", lo, hi)
	}
	return Setting{
		Name: name, Description: description, Default: strconv.FormatFloat(def, 'g', -1, 64), Allowed: allowed,
		check: func(v string) error {
			x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || math.IsNaN(x) || x < lo || x > hi || (openLo && x == lo) {
				return fmt.Errorf("%q is not %s", v, allowed)
			}
			return nil
		},
	}
}

// EnumSetting is one of the given words.
func EnumSetting(name, description, def string, values ...string) Setting {
	allowed := "one of " + strings.Join(values, ", ")
	return Setting{
		Name: name, Description: description, Default: def, Allowed: allowed,
		check: func(v string) error {
			for _, w := range values {
				if v == w {
					return nil
				}
			}
			return fmt.Errorf("%q is not %s", v, allowed)
		},
	}
}

// StateSetting is state the algorithm writes back for its next call.
func StateSetting(name, description string) Setting {
	return Setting{Name: name, Description: description, Allowed: "written by the algorithm", State: true}
}

// RandomState is the name of the seed setting every algorithm takes.
const RandomState = "random_state"

// Settings are an experiment's algorithm settings, checked against the
// algorithm's specs. Getters return the default of an absent setting.
type Settings struct {
	values map[string]string
	specs  map[string]Setting
}

// ParseSettings checks settings against specs: every name must be known and
// every value allowed. A name given twice keeps its last value, which is how
// state written back by the algorithm overrides the experiment's own.
func ParseSettings(specs []Setting, given []*pb.AlgorithmSetting) (Settings, error) {
	return ParseSettingsAt("algorithm.algorithmSettings", specs, given)
}

// ParseSettingsAt is ParseSettings for settings found at field (such as
// earlyStopping.algorithmSettings), which errors name.
func ParseSettingsAt(field string, specs []Setting, given []*pb.AlgorithmSetting) (Settings, error) {
	s := Settings{values: make(map[string]string, len(given)), specs: make(map[string]Setting, len(specs))}
	for _, spec := range specs {
		s.specs[spec.Name] = spec
	}
	for i, g := range given {
		path := fmt.Sprintf("%s[%d]", field, i)
		spec, ok := s.specs[g.GetName()]
		if !ok {
			return Settings{}, &Error{Path: path, Message: fmt.Sprintf("unknown setting %q: this algorithm takes %s", g.GetName(), names(specs))}
		}
		if err := spec.Check(g.GetValue()); err != nil {
			return Settings{}, &Error{Path: path, Message: fmt.Sprintf("%s: %s", g.GetName(), err)}
		}
		s.values[g.GetName()] = g.GetValue()
	}
	return s, nil
}

func names(specs []Setting) string {
	var n []string
	for _, s := range specs {
		if !s.State {
			n = append(n, s.Name)
		}
	}
	if len(n) == 0 {
		return "no settings"
	}
	sort.Strings(n)
	return strings.Join(n, ", ")
}

// Lookup returns a setting's value, or its default, and whether either is set.
func (s Settings) Lookup(name string) (string, bool) {
	if v, ok := s.values[name]; ok {
		return v, true
	}
	d := s.specs[name].Default
	return d, d != ""
}

// IsSet reports whether the request gave the setting.
func (s Settings) IsSet(name string) bool {
	_, ok := s.values[name]
	return ok
}

// Int returns an integer setting; its spec has checked the value.
func (s Settings) Int(name string) int64 {
	v, _ := s.Lookup(name)
	x, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return x
}

// Float returns a number setting; its spec has checked the value.
func (s Settings) Float(name string) float64 {
	v, _ := s.Lookup(name)
	x, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
	return x
}

// String returns a setting as written.
func (s Settings) String(name string) string {
	v, _ := s.Lookup(name)
	return v
}

// OverlaySettings returns base with each setting of over replacing the one of
// the same name in place, or appended in order: how a caller sends back the
// state an algorithm returned, over the experiment's own settings.
func OverlaySettings(base, over []*pb.AlgorithmSetting) []*pb.AlgorithmSetting {
	out := make([]*pb.AlgorithmSetting, 0, len(base)+len(over))
	at := make(map[string]int, len(base)+len(over))
	for _, list := range [][]*pb.AlgorithmSetting{base, over} {
		for _, s := range list {
			if i, ok := at[s.GetName()]; ok {
				out[i] = s
				continue
			}
			at[s.GetName()] = len(out)
			out = append(out, s)
		}
	}
	return out
}
