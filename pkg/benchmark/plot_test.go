package benchmark

import (
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// svgOf draws p and returns the SVG, its axis labels and each polyline's
// points.
func svgOf(t *testing.T, p Plot) (svg string, ticks []string, lines []string) {
	t.Helper()
	var b strings.Builder
	if err := p.WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	svg = b.String()
	for _, m := range regexp.MustCompile(`<text x="5" y="[^"]+">([^<]+)</text>`).FindAllStringSubmatch(svg, -1) {
		ticks = append(ticks, m[1])
	}
	for _, m := range regexp.MustCompile(`points="([^"]*)"`).FindAllStringSubmatch(svg, -1) {
		lines = append(lines, m[1])
	}
	return svg, ticks, lines
}

func TestPlotLinear(t *testing.T) {
	svg, ticks, lines := svgOf(t, Plot{Title: "ridge", XLabel: "steps (1 to %d)", YMax: 3, Curves: []Curve{
		{Name: "a", Values: []float64{9, 3, 1}, Color: "#0072b2", Dash: "8 4"},
		{Name: "b", Values: []float64{2, 1, math.Inf(1)}},
	}})
	if want := []string{"1", "1.5", "2", "2.5", "3"}; !slices.Equal(ticks, want) {
		t.Errorf("ticks %v, want %v", ticks, want)
	}
	// x from 50 to 590, y from 350 (1) up to 50 (3); 9 is drawn at the
	// top, the infinite value not at all.
	if want := []string{"50.0,50.0 320.0,50.0 590.0,350.0", "50.0,200.0 320.0,350.0"}; !slices.Equal(lines, want) {
		t.Errorf("lines %q, want %q", lines, want)
	}
	for _, want := range []string{`>steps (1 to 3)</text>`, `stroke="#0072b2" stroke-width="2" stroke-dasharray="8 4" points=`,
		`stroke="#ff7f0e" stroke-width="2" points=`, `fill="#0072b2">a</text>`, `font-size="14">ridge</text>`} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %s:\n%s", want, svg)
		}
	}
}

func TestPlotLog(t *testing.T) {
	_, ticks, lines := svgOf(t, RegretPlot("branin", map[string][]float64{
		"tpe":    {0.5, 0.05, 0},
		"random": {0.2, math.NaN(), 0.02},
	}))
	if want := []string{"1e-2", "1e-1", "1e0"}; !slices.Equal(ticks, want) {
		t.Errorf("ticks %v, want %v", ticks, want)
	}
	// Sorted by name; a decade is 150 pixels; 0 is drawn at the bottom,
	// NaN not at all.
	if want := []string{"50.0,154.8 590.0,304.8", "50.0,95.2 320.0,245.2 590.0,350.0"}; !slices.Equal(lines, want) {
		t.Errorf("lines %q, want %q", lines, want)
	}
}

func TestPlotNothingToDraw(t *testing.T) {
	for name, p := range map[string]Plot{
		"one point":        {Curves: []Curve{{Values: []float64{1}}}},
		"flat linear":      {Curves: []Curve{{Values: []float64{1, 1}}}},
		"nothing positive": {LogY: true, Curves: []Curve{{Values: []float64{0, -1}}}},
		"only infinite":    {Curves: []Curve{{Values: []float64{math.Inf(1), math.NaN()}}}},
		"no curves":        {},
	} {
		if err := p.WriteSVG(&strings.Builder{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
