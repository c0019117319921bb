package algorithm_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"knobs.dev/knobs/pkg/algorithm"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// specs is a set of settings of every kind.
func specs() []algorithm.Setting {
	return []algorithm.Setting{
		algorithm.SeedSetting(),
		algorithm.IntSetting("n", "how many", 5, 1, 10),
		algorithm.IntSetting("budget", "at least one", 100, 1, math.MaxInt64),
		algorithm.FloatSetting("rate", "a rate", 0.5, 0, 1, true),
		algorithm.FloatSetting("weight", "a weight", 0, 0, 2, false),
		algorithm.EnumSetting("mode", "which way", "fast", "fast", "slow"),
		algorithm.StateSetting("bracket", "the bracket in progress"),
	}
}

func given(kv ...string) []*pb.AlgorithmSetting {
	var out []*pb.AlgorithmSetting
	for i := 0; i < len(kv); i += 2 {
		out = append(out, &pb.AlgorithmSetting{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

func TestSettingAllowed(t *testing.T) {
	tests := []struct {
		name    string
		setting algorithm.Setting
		allowed string
		def     string
		state   bool
	}{
		{"int range", algorithm.IntSetting("n", "", 5, 1, 10), "an integer from 1 to 10", "5", false},
		{"int unbounded above", algorithm.IntSetting("n", "", 1, 1, math.MaxInt64), "an integer of at least 1", "1", false},
		{"seed", algorithm.SeedSetting(), "an integer of at least 0", "", false},
		{"float closed", algorithm.FloatSetting("w", "", 0.25, 0, 2, false), "a number from 0 to 2", "0.25", false},
		{"float open below", algorithm.FloatSetting("r", "", 0.5, 0, 1, true), "a number above 0 and at most 1", "0.5", false},
		{"enum", algorithm.EnumSetting("m", "", "fast", "fast", "slow"), "one of fast, slow", "fast", false},
		{"state", algorithm.StateSetting("s", ""), "written by the algorithm", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.setting
			if s.Allowed != tt.allowed || s.Default != tt.def || s.State != tt.state {
				t.Errorf("got Allowed %q Default %q State %v; want %q %q %v", s.Allowed, s.Default, s.State, tt.allowed, tt.def, tt.state)
			}
		})
	}
	if got := algorithm.SeedSetting().Name; got != "random_state" || algorithm.RandomState != "random_state" {
		t.Errorf("SeedSetting().Name = %q, want random_state", got)
	}
}

func TestSettingCheck(t *testing.T) {
	byName := map[string]algorithm.Setting{}
	for _, s := range specs() {
		byName[s.Name] = s
	}
	tests := []struct {
		setting string
		value   string
		ok      bool
	}{
		{"n", "1", true},
		{"n", "10", true},
		{"n", " 7 ", true},
		{"n", "0", false},
		{"n", "11", false},
		{"n", "5.0", false},
		{"n", "five", false},
		{"n", "", false},
		{"budget", "9223372036854775807", true},
		{"budget", "9223372036854775808", false},
		{"random_state", "0", true},
		{"random_state", "-1", false},
		{"rate", "1", true},
		{"rate", "1e-9", true},
		{"rate", "0", false},
		{"rate", "1.5", false},
		{"rate", "-0.1", false},
		{"rate", "NaN", false},
		{"rate", "Inf", false},
		{"rate", "half", false},
		{"weight", "0", true},
		{"weight", "2", true},
		{"weight", "2.0001", false},
		{"mode", "fast", true},
		{"mode", "slow", true},
		{"mode", "Fast", false},
		{"mode", "", false},
		{"bracket", "anything at all", true},
	}
	for _, tt := range tests {
		err := byName[tt.setting].Check(tt.value)
		if (err == nil) != tt.ok {
			t.Errorf("%s.Check(%q) = %v, want ok %v", tt.setting, tt.value, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), byName[tt.setting].Allowed) {
			t.Errorf("%s.Check(%q) = %q, want it to say %q", tt.setting, tt.value, err, byName[tt.setting].Allowed)
		}
	}
}

func TestParseSettingsErrors(t *testing.T) {
	tests := []struct {
		name  string
		specs []algorithm.Setting
		given []*pb.AlgorithmSetting
		path  string
		words []string
	}{
		{"unknown name lists known ones sorted without state", specs(), given("n", "3", "num_samples", "3"),
			"algorithm.algorithmSettings[1]", []string{`unknown setting "num_samples"`, "this algorithm takes budget, mode, n, random_state, rate, weight"}},
		{"unknown name with no settings", nil, given("n", "3"),
			"algorithm.algorithmSettings[0]", []string{`unknown setting "n"`, "takes no settings"}},
		{"int above range", specs(), given("n", "11"),
			"algorithm.algorithmSettings[0]", []string{`n: "11" is not an integer from 1 to 10`}},
		{"int below range", specs(), given("n", "0"),
			"algorithm.algorithmSettings[0]", []string{`n: "0" is not an integer from 1 to 10`}},
		{"int not a number", specs(), given("mode", "slow", "n", "lots"),
			"algorithm.algorithmSettings[1]", []string{`n: "lots" is not an integer from 1 to 10`}},
		{"negative seed", specs(), given("random_state", "-3"),
			"algorithm.algorithmSettings[0]", []string{`random_state: "-3" is not an integer of at least 0`}},
		{"float at open bound", specs(), given("rate", "0"),
			"algorithm.algorithmSettings[0]", []string{`rate: "0" is not a number above 0 and at most 1`}},
		{"float above range", specs(), given("weight", "3"),
			"algorithm.algorithmSettings[0]", []string{`weight: "3" is not a number from 0 to 2`}},
		{"enum not listed", specs(), given("mode", "medium"),
			"algorithm.algorithmSettings[0]", []string{`mode: "medium" is not one of fast, slow`}},
		{"bad earlier value is not hidden by a later good one", specs(), given("n", "99", "n", "3"),
			"algorithm.algorithmSettings[0]", []string{"n: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := algorithm.ParseSettings(tt.specs, tt.given)
			var ae *algorithm.Error
			if !errors.As(err, &ae) {
				t.Fatalf("ParseSettings error = %v (%T), want an *algorithm.Error", err, err)
			}
			if ae.Path != tt.path {
				t.Errorf("Path = %q, want %q (%v)", ae.Path, tt.path, err)
			}
			for _, w := range tt.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Error() = %q, want it to contain %q", err, w)
				}
			}
			if !algorithm.IsInvalidArgument(err) {
				t.Error("IsInvalidArgument = false")
			}
		})
	}
}

func TestParseSettingsValues(t *testing.T) {
	tests := []struct {
		name    string
		given   []*pb.AlgorithmSetting
		setting string
		str     string
		set     bool // IsSet
		found   bool // Lookup's second result
		i       int64
		f       float64
	}{
		{"int default", nil, "n", "5", false, true, 5, 5},
		{"int given", given("n", "7"), "n", "7", true, true, 7, 7},
		{"int given padded", given("n", " 8"), "n", " 8", true, true, 8, 8},
		{"later duplicate overrides earlier", given("n", "3", "mode", "slow", "n", "4"), "n", "4", true, true, 4, 4},
		{"float default", nil, "rate", "0.5", false, true, 0, 0.5},
		{"float given", given("rate", "0.25"), "rate", "0.25", true, true, 0, 0.25},
		{"float zero default is set", nil, "weight", "0", false, true, 0, 0},
		{"enum default", nil, "mode", "fast", false, true, 0, 0},
		{"enum given", given("mode", "slow"), "mode", "slow", true, true, 0, 0},
		{"seed absent has no default", nil, "random_state", "", false, false, 0, 0},
		{"seed given", given("random_state", "42"), "random_state", "42", true, true, 42, 42},
		{"state written back overrides", given("bracket", "1", "bracket", "2"), "bracket", "2", true, true, 2, 2},
		{"state absent", nil, "bracket", "", false, false, 0, 0},
		{"unknown name", nil, "nope", "", false, false, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := algorithm.ParseSettings(specs(), tt.given)
			if err != nil {
				t.Fatalf("ParseSettings: %v", err)
			}
			v, found := s.Lookup(tt.setting)
			if v != tt.str || found != tt.found {
				t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.setting, v, found, tt.str, tt.found)
			}
			if got := s.String(tt.setting); got != tt.str {
				t.Errorf("String(%q) = %q, want %q", tt.setting, got, tt.str)
			}
			if got := s.IsSet(tt.setting); got != tt.set {
				t.Errorf("IsSet(%q) = %v, want %v", tt.setting, got, tt.set)
			}
			if got := s.Int(tt.setting); got != tt.i {
				t.Errorf("Int(%q) = %d, want %d", tt.setting, got, tt.i)
			}
			if got := s.Float(tt.setting); got != tt.f {
				t.Errorf("Float(%q) = %v, want %v", tt.setting, got, tt.f)
			}
		})
	}
}

func TestZeroSettings(t *testing.T) {
	var s algorithm.Settings
	if v, ok := s.Lookup("n"); v != "" || ok {
		t.Errorf("zero Settings Lookup = %q, %v", v, ok)
	}
	if s.IsSet("n") || s.Int("n") != 0 || s.Float("n") != 0 {
		t.Error("zero Settings report a value")
	}
}

func TestOverlaySettings(t *testing.T) {
	set := func(nv ...string) []*pb.AlgorithmSetting {
		var out []*pb.AlgorithmSetting
		for i := 0; i+1 < len(nv); i += 2 {
			out = append(out, &pb.AlgorithmSetting{Name: nv[i], Value: nv[i+1]})
		}
		return out
	}
	got := algorithm.OverlaySettings(set("eta", "3", "bracket", "0", "random_state", "1"), set("bracket", "2", "state", "x"))
	var parts []string
	for _, s := range got {
		parts = append(parts, s.GetName()+"="+s.GetValue())
	}
	if want := "eta=3 bracket=2 random_state=1 state=x"; strings.Join(parts, " ") != want {
		t.Errorf("got %q, want %q", strings.Join(parts, " "), want)
	}
}
