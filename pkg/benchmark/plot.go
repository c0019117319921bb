package benchmark

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// Plot is curves drawn against a count (evaluations, steps spent), one
// point a count from 1, as an SVG of 640 by 400 with a legend.
type Plot struct {
	Title string
	// XLabel is the label under the x axis, a format given the number of
	// points: "evaluations (1 to %d)".
	XLabel string
	// LogY draws the y axis on a log scale, from the decade below the
	// smallest positive value to the one above the largest, with a line a
	// decade; values not above 0 are drawn at the bottom. Otherwise the
	// axis is linear from the smallest value to the largest (or YMax), with
	// five lines.
	LogY bool
	// YMax, on a linear axis and when not 0, is the top of the axis: the
	// values above it are drawn at it.
	YMax   float64
	Curves []Curve
}

// Curve is one line of a Plot. Values that are infinite or NaN are left
// out.
type Curve struct {
	Name   string
	Values []float64
	// Color is the stroke's colour; "" takes the next of the palette, and
	// past the palette's end dashes tell the curves apart.
	Color string
	// Dash is the stroke's dasharray ("8 4"); "" draws a solid line.
	Dash string
}

// palette is matplotlib's tab10, the colours of curves that name none.
var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}

// RegretPlot is each contender's median simple regret against the number
// of evaluations, on a log scale, for one problem: curves maps a
// contender to its curve.
func RegretPlot(problem string, curves map[string][]float64) Plot {
	p := Plot{Title: problem + ": median simple regret", XLabel: "evaluations (1 to %d)", LogY: true}
	var names []string
	for name := range curves {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p.Curves = append(p.Curves, Curve{Name: name, Values: curves[name]})
	}
	return p
}

// WriteSVG draws the plot.
func (p Plot) WriteSVG(w io.Writer) error {
	const width, height, margin = 640, 400, 50
	finite := func(v float64) bool { return !math.IsInf(v, 0) && !math.IsNaN(v) }
	lo, hi, n := math.Inf(1), math.Inf(-1), 0
	for _, c := range p.Curves {
		for _, v := range c.Values {
			if finite(v) && (!p.LogY || v > 0) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		n = max(n, len(c.Values))
	}
	if !p.LogY && p.YMax != 0 {
		hi = p.YMax
	}
	if n < 2 || math.IsInf(lo, 0) || !p.LogY && !(hi > lo) {
		return fmt.Errorf("nothing to draw for %s", p.Title)
	}
	// ticks are the axis' lines, bottom to top, and their labels; y places
	// a value.
	var ticks []float64
	var labels []string
	var y func(v float64) float64
	if p.LogY {
		llo, lhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
		if lhi == llo {
			lhi++
		}
		for e := llo; e <= lhi; e++ {
			ticks, labels = append(ticks, math.Pow(10, e)), append(labels, fmt.Sprintf("1e%d", int(e)))
		}
		y = func(v float64) float64 {
			v = math.Max(v, math.Pow(10, llo))
			return height - margin - (math.Log10(v)-llo)/(lhi-llo)*(height-2*margin)
		}
	} else {
		for i := 0; i <= 4; i++ {
			v := lo + float64(i)*(hi-lo)/4
			ticks, labels = append(ticks, v), append(labels, fmt.Sprintf("%.3g", v))
		}
		y = func(v float64) float64 {
			v = math.Min(math.Max(v, lo), hi)
			return height - margin - (v-lo)/(hi-lo)*(height-2*margin)
		}
	}
	x := func(i int) float64 { return margin + float64(i)*(width-2*margin)/float64(n-1) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="%d" y="20" font-size="14">%s</text>`+"\n", margin, p.Title)
	for i, v := range ticks {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="5" y="%.1f">%s</text>`+"\n", margin, width-margin, y(v), y(v), y(v)+4, labels[i])
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", width/2-60, height-10, fmt.Sprintf(p.XLabel, n))
	for i, c := range p.Curves {
		var pts []string
		for j, v := range c.Values {
			if finite(v) {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(j), y(v)))
			}
		}
		color, dash := c.Color, ""
		if color == "" {
			color = palette[i%len(palette)]
			if i >= len(palette) {
				dash = "6,3"
			}
		}
		if c.Dash != "" {
			dash = c.Dash
		}
		if dash != "" {
			dash = ` stroke-dasharray="` + dash + `"`
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`+"\n", color, dash, strings.Join(pts, " "))
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`, width-margin-175, width-margin-155, margin+16*i-4, margin+16*i-4, color, dash)
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s">%s</text>`+"\n", width-margin-150, margin+16*i, color, c.Name)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
