package dashboard

import (
	"cmp"
	"fmt"
	"html"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"

	"knobs.dev/knobs/pkg/pareto/observed"
)

// The charts are SVG written on the server: no script draws them, so they
// are the same in every browser, in tests and in screenshots. Colours are
// from the Okabe–Ito palette, which readers with any common colour vision
// deficiency can tell apart; the best trial is always vermillion and drawn
// on top, and everything else is blue or grey.
const (
	colourBest    = "#D55E00" // vermillion
	colourMain    = "#0072B2" // blue
	colourRunning = "#009E73" // bluish green
	colourOther   = "#8c8c8c" // grey
	colourGoal    = "#CC79A7" // reddish purple
	colourAxis    = "#444"
	colourGrid    = "#e4e4e4"
)

// Chart geometry, in SVG user units: the SVG scales to its box.
const (
	chartW = 720
	chartH = 300
	padL   = 64
	padR   = 24
	padT   = 16
	padB   = 40
)

// scale maps [lo, hi] onto [a, b], logarithmically when log is set.
type scale struct {
	lo, hi, a, b float64
	log          bool
}

func newScale(lo, hi, a, b float64, log bool) scale {
	if log && lo > 0 {
		lo, hi = math.Log10(lo), math.Log10(hi)
	} else {
		log = false
	}
	if hi == lo {
		lo, hi = lo-1, hi+1
	}
	return scale{lo: lo, hi: hi, a: a, b: b, log: log}
}

func (s scale) at(v float64) float64 {
	if s.log {
		v = math.Log10(math.Max(v, 1e-300))
	}
	return s.a + (v-s.lo)/(s.hi-s.lo)*(s.b-s.a)
}

// ticks returns round values across the scale's domain, about n of them.
func (s scale) ticks(n int) []float64 {
	if s.log {
		var out []float64
		step := math.Max(1, math.Ceil((s.hi-s.lo)/float64(n)))
		for e := math.Ceil(s.lo); e <= s.hi+1e-9; e += step {
			out = append(out, math.Pow(10, e))
		}
		if len(out) < 2 { // less than a decade: fall back to 1, 2, 5
			return newScale(math.Pow(10, s.lo), math.Pow(10, s.hi), s.a, s.b, false).ticks(n)
		}
		return out
	}
	span := s.hi - s.lo
	raw := span / float64(max(n, 1))
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Ceil(s.lo/step) * step; v <= s.hi+step*1e-9; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	return out
}

// wantLog says whether values are better read on a log scale: all positive
// and spread over more than two decades.
func wantLog(lo, hi float64) bool { return lo > 0 && hi/lo > 100 }

// short formats a number for a label.
func short(v float64) string {
	if v == 0 {
		return "0"
	}
	a := math.Abs(v)
	if a >= 1e5 || a < 1e-3 {
		return strconv.FormatFloat(v, 'e', 1, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// shortString shortens a number written as a string, for a table cell; any
// other text is left as it is.
func shortString(s string) string {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || len(s) <= 8 {
		return s
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

type svg struct{ strings.Builder }

func (w *svg) f(format string, a ...any) { fmt.Fprintf(w, format, a...) }

func esc(s string) string { return html.EscapeString(s) }

func (w *svg) open(id, label string, height int) {
	w.f(`<svg id="%s" class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, esc(id), chartW, height, esc(label))
	w.f(`<title>%s</title>`, esc(label))
}

func (w *svg) html() template.HTML {
	w.WriteString(`</svg>`)
	return template.HTML(w.String()) //nolint:gosec // every text written is escaped
}

// yAxis draws horizontal grid lines and labels for the scale.
func (w *svg) yAxis(y scale, label string) {
	for _, t := range y.ticks(5) {
		py := y.at(t)
		w.f(`<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s"/>`, padL, chartW-padR, py, py, colourGrid)
		w.f(`<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle" class="tick">%s</text>`, padL-6, py, esc(short(t)))
	}
	w.f(`<text transform="translate(14 %d) rotate(-90)" text-anchor="middle" class="axis-label">%s</text>`, (padT+chartH-padB)/2, esc(label))
}

// xAxis draws the bottom axis with labels.
func (w *svg) xAxis(x scale, label string, height int) {
	base := height - padB
	w.f(`<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s"/>`, padL, chartW-padR, base, base, colourAxis)
	for _, t := range x.ticks(8) {
		px := x.at(t)
		w.f(`<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="%s"/>`, px, px, base, base+4, colourAxis)
		w.f(`<text x="%.1f" y="%d" text-anchor="middle" class="tick">%s</text>`, px, base+16, esc(short(t)))
	}
	w.f(`<text x="%d" y="%d" text-anchor="middle" class="axis-label">%s</text>`, (padL+chartW-padR)/2, height-4, esc(label))
}

// objectivePoint is one trial on the chart of the objective.
type objectivePoint struct {
	N     int // the trial's number, in the order trials were handed out
	Value float64
	Name  string
	Link  string
	Done  bool // ended with its value; otherwise its latest value so far
	Best  bool
	// Infeasible ended breaking a constraint: it cannot be the best.
	Infeasible bool
}

// objectiveChart plots every trial's objective against its number, and the
// best value so far as a step line; the goal, when there is one, as a
// dashed line.
func objectiveChart(points []objectivePoint, metric string, better func(a, b float64) bool, goal *float64) template.HTML {
	var w svg
	w.open("objective", fmt.Sprintf("%s of every trial, and the best so far", metric), chartH)
	if len(points) == 0 {
		w.f(`<text x="%d" y="%d" text-anchor="middle" class="empty">no trial has reported %s yet</text>`, chartW/2, chartH/2, esc(metric))
		return w.html()
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	maxN := 1
	for _, p := range points {
		lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
		maxN = max(maxN, p.N)
	}
	if goal != nil {
		lo, hi = math.Min(lo, *goal), math.Max(hi, *goal)
	}
	log := wantLog(lo, hi)
	if !log {
		pad := (hi - lo) * 0.05
		lo, hi = lo-pad, hi+pad
	}
	y := newScale(lo, hi, chartH-padB, padT, log)
	x := newScale(0, float64(maxN)+1, padL, chartW-padR, false)
	w.yAxis(y, metric)
	w.xAxis(x, "trial", chartH)
	if goal != nil {
		gy := y.at(*goal)
		w.f(`<line class="goal" x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="6 4" stroke-width="1.5"/>`, padL, chartW-padR, gy, gy, colourGoal)
		w.f(`<text x="%d" y="%.1f" text-anchor="end" class="note" fill="%s">goal %s</text>`, chartW-padR-4, gy-4, colourGoal, esc(short(*goal)))
	}
	// The best so far, over the trials that ended, in order.
	var path strings.Builder
	best, have := 0.0, false
	for _, p := range points {
		if !p.Done || p.Infeasible {
			continue
		}
		if !have || better(p.Value, best) {
			if have {
				fmt.Fprintf(&path, " H%.1f V%.1f", x.at(float64(p.N)), y.at(p.Value))
			} else {
				fmt.Fprintf(&path, "M%.1f %.1f", x.at(float64(p.N)), y.at(p.Value))
			}
			best, have = p.Value, true
		}
	}
	if have {
		fmt.Fprintf(&path, " H%.1f", x.at(float64(maxN)+1))
		w.f(`<path class="best-so-far" d="%s" fill="none" stroke="%s" stroke-width="2"/>`, path.String(), colourBest)
	}
	var top *objectivePoint
	for i := range points {
		p := &points[i]
		if p.Best {
			top = p
			continue
		}
		fill, stroke := colourMain, colourMain
		cls := "trial"
		switch {
		case !p.Done:
			fill, cls = "none", "trial running"
			stroke = colourRunning
		case p.Infeasible:
			fill, cls = "none", "trial infeasible"
			stroke = colourOther
		}
		w.f(`<a href="%s"><circle class="%s" cx="%.1f" cy="%.1f" r="4" fill="%s" fill-opacity="0.7" stroke="%s"><title>%s: %s</title></circle></a>`,
			esc(p.Link), cls, x.at(float64(p.N)), y.at(p.Value), fill, stroke, esc(p.Name), esc(strconv.FormatFloat(p.Value, 'g', -1, 64)))
	}
	if top != nil {
		cx, cy := x.at(float64(top.N)), y.at(top.Value)
		w.f(`<a href="%s"><circle class="trial best" cx="%.1f" cy="%.1f" r="7" fill="%s" stroke="#fff" stroke-width="2"><title>best: %s: %s</title></circle></a>`,
			esc(top.Link), cx, cy, colourBest, esc(top.Name), esc(strconv.FormatFloat(top.Value, 'g', -1, 64)))
		anchor, dx := "start", 10.0
		if cx > chartW*0.7 {
			anchor, dx = "end", -10
		}
		w.f(`<text class="best-label" x="%.1f" y="%.1f" text-anchor="%s" fill="%s">best %s = %s</text>`, cx+dx, cy-10, anchor, colourBest, esc(top.Name), esc(short(top.Value)))
	}
	return w.html()
}

// axis is one vertical axis of the parallel coordinates.
type axis struct {
	Name   string
	Labels []axisLabel // at positions in [0, 1], 0 at the bottom
}

type axisLabel struct {
	At   float64
	Text string
}

// line is one trial across the axes, each value placed in [0, 1].
type line struct {
	Name string
	Link string
	At   []float64
	Rank float64 // 1 for the best trial, 0 for the worst
	Best bool
}

// parallelChart draws parameters against the objective: one vertical axis
// per parameter and the objective last, one line per trial, darker the
// better, the best in vermillion on top.
func parallelChart(axes []axis, lines []line) template.HTML {
	var w svg
	const h = chartH + 20
	w.open("parallel", "parallel coordinates: each trial's parameters and objective", h)
	if len(lines) == 0 || len(axes) < 2 {
		w.f(`<text x="%d" y="%d" text-anchor="middle" class="empty">no trial has ended with a value yet</text>`, chartW/2, h/2)
		return w.html()
	}
	const left, right, top, bottom = 90, chartW - 90, padT + 14, h - 28
	xs := make([]float64, len(axes))
	for i := range axes {
		xs[i] = left + float64(i)*float64(right-left)/float64(len(axes)-1)
	}
	yAt := func(u float64) float64 { return bottom - u*(bottom-top) }
	for i, a := range axes {
		w.f(`<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="%s"/>`, xs[i], xs[i], top, bottom, colourAxis)
		w.f(`<text x="%.1f" y="%d" text-anchor="middle" class="axis-label">%s</text>`, xs[i], h-8, esc(a.Name))
		for _, l := range a.Labels {
			w.f(`<text x="%.1f" y="%.1f" text-anchor="end" dominant-baseline="middle" class="tick">%s</text>`, xs[i]-5, yAt(l.At), esc(l.Text))
		}
	}
	var best *line
	for i := range lines {
		l := &lines[i]
		if l.Best {
			best = l
			continue
		}
		w.f(`<path class="trial" d="%s" fill="none" stroke="%s" stroke-opacity="0.65" stroke-width="1.2"><title>%s</title></path>`, polyline(xs, l.At, yAt), ramp(l.Rank), esc(l.Name))
	}
	if best != nil {
		w.f(`<a href="%s"><path class="trial best" d="%s" fill="none" stroke="%s" stroke-width="3.5"><title>best: %s</title></path></a>`, esc(best.Link), polyline(xs, best.At, yAt), colourBest, esc(best.Name))
	}
	return w.html()
}

func polyline(xs, at []float64, yAt func(float64) float64) string {
	var b strings.Builder
	for i, u := range at {
		if i == 0 {
			fmt.Fprintf(&b, "M%.1f %.1f", xs[i], yAt(u))
		} else {
			fmt.Fprintf(&b, " L%.1f %.1f", xs[i], yAt(u))
		}
	}
	return b.String()
}

// ramp colours by rank, from a pale grey-blue for the worst trials to a
// dark blue for the best: one hue, so it reads without colour vision, and
// the pale end stays visible on white.
func ramp(t float64) string {
	t = math.Min(math.Max(t, 0), 1)
	from := [3]float64{0xc6, 0xd4, 0xe1}
	to := [3]float64{0x08, 0x30, 0x6b}
	var c [3]int
	for i := range c {
		c[i] = int(math.Round(from[i] + t*(to[i]-from[i])))
	}
	return fmt.Sprintf("#%02x%02x%02x", c[0], c[1], c[2])
}

// share is one parameter's importance.
type share struct {
	Name  string
	Share float64
}

// importanceChart draws the parameters' shares of the objective's variance
// as bars, most important first.
func importanceChart(shares []share) template.HTML {
	var w svg
	const row = 28
	h := padT + row*max(len(shares), 1) + 8
	w.open("importance", "parameter importance: each parameter's share of the objective's variance", h)
	if len(shares) == 0 {
		w.f(`<text x="%d" y="%d" text-anchor="middle" class="empty">two trials with different values are needed</text>`, chartW/2, h/2)
		return w.html()
	}
	const left, right = 180, chartW - 80
	for i, s := range shares {
		y := padT + i*row
		bw := s.Share * (right - left)
		colour := colourMain
		if i == 0 && s.Share > 0 {
			colour = colourBest
		}
		w.f(`<text x="%d" y="%d" text-anchor="end" dominant-baseline="middle" class="bar-label">%s</text>`, left-8, y+row/2-2, esc(s.Name))
		w.f(`<rect x="%d" y="%d" width="%d" height="%d" fill="#f0f0f0"/>`, left, y+4, right-left, row-12)
		w.f(`<rect class="bar" x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %.1f%%</title></rect>`, left, y+4, bw, row-12, colour, esc(s.Name), 100*s.Share)
		w.f(`<text x="%.1f" y="%d" dominant-baseline="middle" class="bar-value">%.0f%%</text>`, float64(left)+bw+6, y+row/2-2, 100*s.Share)
	}
	return w.html()
}

// curve is one trial's learning curve of a metric.
type curve struct {
	Name    string
	Link    string
	Steps   []float64
	Values  []float64
	Running bool
	Best    bool
}

// curvesChart draws learning curves: the metric against the step reported,
// one line per trial; running trials in green, the best in vermillion.
func curvesChart(id string, curves []curve, metric string) template.HTML {
	var w svg
	w.open(id, fmt.Sprintf("learning curves of %s", metric), chartH)
	lo, hi := math.Inf(1), math.Inf(-1)
	sLo, sHi := math.Inf(1), math.Inf(-1)
	for _, c := range curves {
		for i, v := range c.Values {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
			sLo, sHi = math.Min(sLo, c.Steps[i]), math.Max(sHi, c.Steps[i])
		}
	}
	if math.IsInf(lo, 1) {
		w.f(`<text x="%d" y="%d" text-anchor="middle" class="empty">no trial has reported %s at two steps yet</text>`, chartW/2, chartH/2, esc(metric))
		return w.html()
	}
	log := wantLog(lo, hi)
	y := newScale(lo, hi, chartH-padB, padT, log)
	x := newScale(sLo, sHi, padL, chartW-padR, false)
	w.yAxis(y, metric)
	w.xAxis(x, "step", chartH)
	draw := func(c *curve, colour, cls string, width, opacity float64) {
		var b strings.Builder
		for i := range c.Values {
			if i == 0 {
				fmt.Fprintf(&b, "M%.1f %.1f", x.at(c.Steps[i]), y.at(c.Values[i]))
			} else {
				fmt.Fprintf(&b, " L%.1f %.1f", x.at(c.Steps[i]), y.at(c.Values[i]))
			}
		}
		if len(c.Values) == 1 {
			w.f(`<circle class="%s" cx="%.1f" cy="%.1f" r="3" fill="%s" fill-opacity="%.2f"><title>%s</title></circle>`, cls, x.at(c.Steps[0]), y.at(c.Values[0]), colour, opacity, esc(c.Name))
			return
		}
		w.f(`<path class="%s" d="%s" fill="none" stroke="%s" stroke-width="%.1f" stroke-opacity="%.2f"><title>%s</title></path>`, cls, b.String(), colour, width, opacity, esc(c.Name))
	}
	var best *curve
	for i := range curves {
		c := &curves[i]
		switch {
		case c.Best:
			best = c
		case !c.Running:
			draw(c, colourOther, "curve", 1.2, 0.5)
		}
	}
	for i := range curves {
		if c := &curves[i]; c.Running && !c.Best {
			draw(c, colourRunning, "curve running", 2, 0.9)
		}
	}
	if best != nil {
		draw(best, colourBest, "curve best", 3, 1)
	}
	return w.html()
}

// frontAxis is an objective as an axis of the chart of the Pareto front.
type frontAxis struct{ observed.Objective }

func (a frontAxis) label() string {
	if a.Maximize {
		return a.Name + " (maximize)"
	}
	return a.Name + " (minimize)"
}

// frontPoint is one trial on the chart of the Pareto front: its values of
// the two objectives drawn, and the same turned to be minimised.
type frontPoint struct {
	X, Y       float64
	LX, LY     float64
	Name, Link string
	Pareto     bool
	Infeasible bool
}

// frontChart plots the trials that ended by two objectives: the Pareto
// optimal ones in vermillion, joined by the step line that bounds what they
// beat (when step is set: with more objectives, the front is not a
// staircase in two of them), the infeasible ones hollow and grey, every
// other in blue. Each point links to its trial.
func frontChart(points []frontPoint, ax, ay frontAxis, step bool) template.HTML {
	var w svg
	w.open("pareto", fmt.Sprintf("%s against %s of every trial that ended, the Pareto front highlighted", ay.Name, ax.Name), chartH)
	if len(points) == 0 {
		w.f(`<text x="%d" y="%d" text-anchor="middle" class="empty">no trial has ended with %s and %s yet</text>`, chartW/2, chartH/2, esc(ax.Name), esc(ay.Name))
		return w.html()
	}
	xLo, xHi, yLo, yHi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, p := range points {
		xLo, xHi = math.Min(xLo, p.X), math.Max(xHi, p.X)
		yLo, yHi = math.Min(yLo, p.Y), math.Max(yHi, p.Y)
	}
	padded := func(lo, hi float64) (float64, float64, bool) {
		if wantLog(lo, hi) {
			return lo, hi, true
		}
		pad := (hi - lo) * 0.05
		return lo - pad, hi + pad, false
	}
	xLo, xHi, xLog := padded(xLo, xHi)
	yLo, yHi, yLog := padded(yLo, yHi)
	x := newScale(xLo, xHi, padL, chartW-padR, xLog)
	y := newScale(yLo, yHi, chartH-padB, padT, yLog)
	w.yAxis(y, ay.label())
	w.xAxis(x, ax.label(), chartH)
	var front []frontPoint
	for _, p := range points {
		if p.Pareto {
			front = append(front, p)
		}
	}
	if step && len(front) > 1 {
		// Along the first objective from its best end: across to the next
		// point, then down (or up) to it.
		slices.SortFunc(front, func(a, b frontPoint) int {
			if c := cmp.Compare(a.LX, b.LX); c != 0 {
				return c
			}
			return cmp.Compare(a.LY, b.LY)
		})
		var path strings.Builder
		fmt.Fprintf(&path, "M%.1f %.1f", x.at(front[0].X), y.at(front[0].Y))
		for _, p := range front[1:] {
			fmt.Fprintf(&path, " H%.1f V%.1f", x.at(p.X), y.at(p.Y))
		}
		w.f(`<path class="front" d="%s" fill="none" stroke="%s" stroke-width="2"/>`, path.String(), colourBest)
	}
	dot := func(p frontPoint) {
		cls, r, fill, stroke, title := "trial", 4, colourMain, colourMain, p.Name
		switch {
		case p.Pareto:
			cls, r, fill, stroke, title = "trial pareto", 6, colourBest, "#fff", "Pareto optimal: "+p.Name
		case p.Infeasible:
			cls, fill, stroke, title = "trial infeasible", "none", colourOther, "infeasible: "+p.Name
		}
		w.f(`<a href="%s"><circle class="%s" cx="%.1f" cy="%.1f" r="%d" fill="%s" fill-opacity="0.8" stroke="%s"><title>%s: %s %s, %s %s</title></circle></a>`,
			esc(p.Link), cls, x.at(p.X), y.at(p.Y), r, fill, stroke, esc(title),
			esc(ax.Name), esc(strconv.FormatFloat(p.X, 'g', -1, 64)), esc(ay.Name), esc(strconv.FormatFloat(p.Y, 'g', -1, 64)))
	}
	// The front last, on top.
	for _, pass := range []func(frontPoint) bool{
		func(p frontPoint) bool { return p.Infeasible && !p.Pareto },
		func(p frontPoint) bool { return !p.Infeasible && !p.Pareto },
		func(p frontPoint) bool { return p.Pareto },
	} {
		for _, p := range points {
			if pass(p) {
				dot(p)
			}
		}
	}
	return w.html()
}
