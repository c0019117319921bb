package dashboard

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"knobs.dev/knobs/pkg/pareto/observed"
)

func TestScaleTicks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		lo, hi float64
		log    bool
		want   []float64
	}{
		{"round steps", 0, 10, false, []float64{0, 2, 4, 6, 8, 10}},
		{"small numbers", 0.01, 0.03, false, []float64{0.01, 0.015, 0.02, 0.025, 0.03}},
		{"decades", 0.5, 300, true, []float64{1, 10, 100}},
		{"less than a decade on a log scale", 2, 9, true, []float64{2, 4, 6, 8}},
	} {
		s := newScale(tc.lo, tc.hi, 0, 100, tc.log)
		got := s.ticks(5)
		if len(got) != len(tc.want) {
			t.Errorf("%s: ticks %v, want %v", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-9 {
				t.Errorf("%s: ticks %v, want %v", tc.name, got, tc.want)
				break
			}
		}
	}
	// Ends map to ends, on either scale; a flat domain does not divide by 0.
	for _, log := range []bool{false, true} {
		s := newScale(1, 1000, 300, 20, log)
		if a, b := s.at(1), s.at(1000); math.Abs(a-300) > 1e-9 || math.Abs(b-20) > 1e-9 {
			t.Errorf("log %v: ends at %v, %v", log, a, b)
		}
	}
	if v := newScale(5, 5, 0, 1, false).at(5); math.IsNaN(v) || v != 0.5 {
		t.Errorf("a flat domain puts its value at %v, want the middle", v)
	}
}

func TestShortNumbers(t *testing.T) {
	for in, want := range map[string]string{
		"0.8591861524519822": "0.859186",
		"12":                 "12",
		"adam":               "adam",
		"":                   "",
		"123456789.25":       "1.23457e+08",
	} {
		if got := shortString(in); got != want {
			t.Errorf("shortString(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRampDarkensWithRank(t *testing.T) {
	var last string
	for _, r := range []float64{0, 0.5, 1} {
		c := ramp(r)
		if last != "" && c >= last { // darker is a smaller hex here: every channel falls
			t.Errorf("ramp(%v) = %s, not darker than %s", r, c, last)
		}
		last = c
	}
	if ramp(-1) != ramp(0) || ramp(2) != ramp(1) {
		t.Error("ranks outside [0, 1] are not clamped")
	}
}

func TestChartsEscapeNames(t *testing.T) {
	name := `<script>alert("x")</script>`
	out := string(objectiveChart([]objectivePoint{{N: 1, Value: 1, Name: name, Done: true, Best: true}}, name, func(a, b float64) bool { return a < b }, nil))
	out += string(importanceChart([]share{{Name: name, Share: 0.5}}))
	out += string(parallelChart([]axis{{Name: name}, {Name: "y"}}, []line{{Name: name, At: []float64{0, 1}}}))
	out += string(frontChart([]frontPoint{{X: 1, Y: 2, Name: name, Pareto: true}}, frontAxis{observed.Objective{Name: name}}, frontAxis{observed.Objective{Name: "y"}}, true))
	if strings.Contains(out, "<script>") {
		t.Error("a name reached the SVG unescaped")
	}
	if !strings.Contains(out, "&lt;script&gt;") {
		t.Error("the name is not shown")
	}
}

func TestFrontChart(t *testing.T) {
	ax, ay := frontAxis{observed.Objective{Name: "loss"}}, frontAxis{observed.Objective{Name: "throughput", Maximize: true}}
	pts := []frontPoint{
		{X: 3, Y: 30, LX: 3, LY: -30, Name: "c", Link: "/c", Pareto: true},
		{X: 1, Y: 10, LX: 1, LY: -10, Name: "a", Link: "/a", Pareto: true},
		{X: 2, Y: 20, LX: 2, LY: -20, Name: "b", Link: "/b", Pareto: true},
		{X: 3, Y: 5, LX: 3, LY: -5, Name: "beaten", Link: "/beaten"},
		{X: 0, Y: 40, LX: 0, LY: -40, Name: "broke", Link: "/broke", Infeasible: true},
	}
	out := string(frontChart(pts, ax, ay, true))
	for _, c := range []struct {
		what string
		n    int
	}{
		{`<circle class="trial`, 5},
		{`<circle class="trial pareto"`, 3},
		{`<circle class="trial infeasible" `, 1},
		{`<a href="/beaten"><circle class="trial" `, 1},
		{`<path class="front"`, 1},
		{`>loss (minimize)<`, 1},
		{`>throughput (maximize)<`, 1},
	} {
		if n := strings.Count(out, c.what); n != c.n {
			t.Errorf("%d of %s, want %d", n, c.what, c.n)
		}
	}
	// The step line runs from the least loss, a, across and up to b, then c.
	d := out[strings.Index(out, `<path class="front" d="`)+len(`<path class="front" d="`):]
	d = d[:strings.IndexByte(d, '"')]
	if got := strings.Count(d, "H"); got != 2 || !strings.HasPrefix(d, "M") || strings.Count(d, "V") != 2 {
		t.Errorf("step line %q: want M, then H and V to each of two points", d)
	}
	var x0, y0, x1, y1, x2, y2 float64
	if _, err := fmt.Sscanf(d, "M%f %f H%f V%f H%f V%f", &x0, &y0, &x1, &y1, &x2, &y2); err != nil || !(x0 < x1 && x1 < x2) || !(y0 > y1 && y1 > y2) {
		t.Errorf("step line %q does not go a, b, c: right and up (%v)", d, err)
	}
	// The front is drawn last, on top of the others.
	if strings.LastIndex(out, `class="trial pareto"`) < strings.LastIndex(out, `class="trial infeasible"`) ||
		strings.Index(out, `class="trial pareto"`) < strings.Index(out, `href="/beaten"`) {
		t.Error("the front is not drawn on top")
	}
	// With more objectives, no step line; with no point, a note.
	if out := string(frontChart(pts, ax, ay, false)); strings.Contains(out, `class="front"`) {
		t.Error("a step line drawn for a front of more than two objectives")
	}
	if out := string(frontChart(nil, ax, ay, true)); !strings.Contains(out, "no trial has ended with loss and throughput yet") {
		t.Errorf("an empty chart says nothing: %s", out)
	}
}
