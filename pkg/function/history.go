package function

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// The history of a GetSuggestionsRequest in columns (pb.TrialColumns): the
// encoder (CompactHistory), the decoder that gives back every trial string
// for string (ExpandHistory), and the one a function uses, which reads the
// columns straight into the trials an algorithm takes (ReadTrials) without
// writing a string per value. docs/function-contract.md describes the
// format.

// ColumnsFrom is the number of trials from which the controller sends a
// history in columns rather than in trials: below it the plain form costs
// little (under 561 KiB and 15 ms of reading at 20 doubles) and every
// function, one written for the original API too, reads it.
const ColumnsFrom = 1000

// CompactHistory writes trials in columns for an experiment whose
// parameters are specs. A trial the columns cannot hold exactly (a
// parameter missing, unknown, twice or out of the specs' order; metrics in
// another order than the columns' or twice; an observation without
// metrics; a run_spec; no status) is kept whole in plain. It returns nil when a spec has a type the columns do not
// know: send the trials in plain then.
func CompactHistory(specs []*pb.ParameterSpec, trials []*pb.Trial) *pb.TrialColumns {
	lists := make([]map[string]uint32, len(specs))
	for j, s := range specs {
		switch s.GetParameterType() {
		case pb.ParameterType_DOUBLE, pb.ParameterType_INT:
		case pb.ParameterType_DISCRETE, pb.ParameterType_CATEGORICAL:
			lists[j] = make(map[string]uint32, len(s.GetFeasibleSpace().GetList()))
			for i, v := range s.GetFeasibleSpace().GetList() {
				if _, dup := lists[j][v]; !dup {
					lists[j][v] = uint32(i)
				}
			}
		default:
			return nil
		}
	}
	// Sized up front for every trial in the columns, the usual case: one
	// allocation a column rather than a series as it grows.
	n := len(trials)
	h := &pb.TrialColumns{Names: &pb.Texts{}, Conditions: make([]pb.TrialCondition, 0, n)}
	values := make([][]string, len(specs)) // each parameter's strings, by column row
	for j := range values {
		values[j] = make([]string, 0, n)
	}
	var metrics []*metricColumn
	byName := map[string]int{}
	names := make([]string, 0, n)
	rows := make([]int, 0, n) // the history row of each column row
	var buf []int             // metricPositions' positions, one trial at a time
	for i, t := range trials {
		at, ok := metricPositions(t, byName, len(metrics), buf[:0])
		buf = at[:0]
		if !ok || !fitsColumns(specs, t) {
			h.PlainRows = append(h.PlainRows, uint32(i))
			h.Plain = append(h.Plain, t)
			continue
		}
		k := len(rows)
		rows, names = append(rows, i), append(names, t.GetName())
		h.Conditions = append(h.Conditions, t.GetStatus().GetCondition())
		for j, a := range t.GetSpec().GetParameterAssignments().GetAssignments() {
			values[j] = append(values[j], a.GetValue())
		}
		for _, m := range t.GetStatus().GetObservation().GetMetrics() {
			if _, ok := byName[m.GetName()]; !ok {
				byName[m.GetName()] = len(metrics)
				metrics = append(metrics, newMetricColumn(m.GetName(), k, n-i))
			}
		}
		ms := t.GetStatus().GetObservation().GetMetrics()
		for c, col := range metrics {
			if len(at) > 0 && at[0] == c {
				col.add(ms[0])
				at, ms = at[1:], ms[1:]
				continue
			}
			col.absent = append(col.absent, uint32(k))
		}
	}
	h.NamePrefix, h.NameFirst = namePattern(names, rows)
	for k, name := range names {
		if !isPatternName(name, h.NamePrefix, h.NameFirst+int64(rows[k])) {
			h.Names.At = append(h.Names.At, uint32(rows[k]))
			h.Names.Values = append(h.Names.Values, name)
		}
	}
	for j, s := range specs {
		h.Parameters = append(h.Parameters, parameterColumn(s.GetParameterType(), lists[j], values[j]))
	}
	for _, col := range metrics {
		h.Metrics = append(h.Metrics, col.column())
	}
	return h
}

// fitsColumns reports whether the columns hold t exactly, but for its
// metrics (metricPositions).
func fitsColumns(specs []*pb.ParameterSpec, t *pb.Trial) bool {
	as := t.GetSpec().GetParameterAssignments()
	if as == nil || t.GetSpec().GetRunSpec() != "" || t.GetStatus() == nil || len(as.GetAssignments()) != len(specs) {
		return false
	}
	for j, a := range as.GetAssignments() {
		if a.GetName() != specs[j].GetName() {
			return false
		}
	}
	return true
}

// metricPositions returns the columns of t's metrics, new ones numbered from
// n on, in at (appended to), or false when they are not in the columns'
// order (a name twice among them) or t has an observation without metrics.
func metricPositions(t *pb.Trial, byName map[string]int, n int, at []int) ([]int, bool) {
	obs := t.GetStatus().GetObservation()
	if obs == nil {
		return nil, true
	}
	ms := obs.GetMetrics()
	if len(ms) == 0 {
		return nil, false
	}
	at = slices.Grow(at[:0], len(ms))[:len(ms)]
	for i, m := range ms {
		c, ok := byName[m.GetName()]
		if !ok {
			c = n
			n++
			for _, earlier := range ms[:i] {
				if earlier.GetName() == m.GetName() {
					return nil, false
				}
			}
		}
		if i > 0 && c <= at[i-1] {
			return nil, false
		}
		at[i] = c
	}
	return at, true
}

func allRows(n int) []uint32 {
	out := make([]uint32, n)
	for k := range out {
		out[k] = uint32(k)
	}
	return out
}

// namePattern finds the prefix and first number of names such as
// "tpe-branin-1", "tpe-branin-2", ...: those of the first name that ends
// in a number, counted back to row 0. rows[k] is the row of names[k].
func namePattern(names []string, rows []int) (string, int64) {
	for k, name := range names {
		i := len(name)
		for i > 0 && name[i-1] >= '0' && name[i-1] <= '9' {
			i--
		}
		digits := name[i:]
		if digits == "" || (digits[0] == '0' && len(digits) > 1) {
			continue
		}
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || n < int64(rows[k]) {
			continue
		}
		first := n - int64(rows[k])
		if last := rows[len(rows)-1]; first > math.MaxInt64-int64(last) {
			continue
		}
		return name[:i], first
	}
	return "", 0
}

func isPatternName(name, prefix string, n int64) bool {
	var buf [20]byte
	return strings.HasPrefix(name, prefix) && name[len(prefix):] == string(strconv.AppendInt(buf[:0], n, 10))
}

// parameterColumn writes one parameter's strings in the field of its type.
func parameterColumn(typ pb.ParameterType, list map[string]uint32, values []string) *pb.ParameterColumn {
	col := &pb.ParameterColumn{Texts: &pb.Texts{}}
	text := func(k int, s string) {
		col.Texts.At = append(col.Texts.At, uint32(k))
		col.Texts.Values = append(col.Texts.Values, s)
	}
	switch typ {
	case pb.ParameterType_DOUBLE:
		col.Doubles, col.Format, col.Texts = numberColumn(values)
	case pb.ParameterType_INT:
		col.Ints = make([]int64, len(values))
		var buf [20]byte
		for k, s := range values {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil || string(strconv.AppendInt(buf[:0], v, 10)) != s {
				text(k, s)
				continue
			}
			col.Ints[k] = v
		}
	default:
		col.Indices = make([]uint32, len(values))
		for k, s := range values {
			i, ok := list[s]
			if !ok {
				text(k, s)
				continue
			}
			col.Indices[k] = i
		}
	}
	return col
}

// numberColumn writes numbers as doubles in the format that reads back
// the more of them exactly; the others are texts.
func numberColumn(values []string) ([]float64, pb.NumberFormat, *pb.Texts) {
	out := make([]float64, len(values))
	exact := make([]uint8, len(values)) // bit f: formatNumber(v, f) == s
	var misses [2]int
	var buf [32]byte
	for k, s := range values {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			misses[0]++
			misses[1]++
			continue
		}
		out[k] = v
		for f := range 2 {
			if string(appendNumber(buf[:0], v, pb.NumberFormat(f))) == s {
				exact[k] |= 1 << f
			} else {
				misses[f]++
			}
		}
	}
	format := pb.NumberFormat_POSITIONAL
	if misses[1] < misses[0] {
		format = pb.NumberFormat_SHORTEST
	}
	texts := &pb.Texts{}
	for k, s := range values {
		if exact[k]&(1<<format) == 0 {
			out[k] = 0
			texts.At = append(texts.At, uint32(k))
			texts.Values = append(texts.Values, s)
		}
	}
	return out, format, texts
}

func appendNumber(buf []byte, v float64, f pb.NumberFormat) []byte {
	if f == pb.NumberFormat_SHORTEST {
		return strconv.AppendFloat(buf, v, 'g', -1, 64)
	}
	return strconv.AppendFloat(buf, v, 'f', -1, 64)
}

func formatNumber(v float64, f pb.NumberFormat) string {
	var buf [32]byte
	return string(appendNumber(buf[:0], v, f))
}

// metricColumn gathers one metric's strings, by column row.
type metricColumn struct {
	name        string
	absent      []uint32
	values      []string
	lengths     []uint32
	curves      bool
	steps       []int64
	curveValues []string
}

// newMetricColumn returns the column of a metric first met at column row
// k, sized for the rest rows still to come.
func newMetricColumn(name string, k, rest int) *metricColumn {
	return &metricColumn{name: name, absent: allRows(k), values: make([]string, 0, rest), lengths: make([]uint32, 0, rest)}
}

func (c *metricColumn) add(m *pb.Metric) {
	c.values = append(c.values, m.GetValue())
	c.lengths = append(c.lengths, uint32(len(m.GetCurve())))
	var step int64
	for _, p := range m.GetCurve() {
		c.curves = true
		c.steps = append(c.steps, p.GetStep()-step) // wraps as the decoder unwraps
		step = p.GetStep()
		c.curveValues = append(c.curveValues, p.GetValue())
	}
}

func (c *metricColumn) column() *pb.MetricColumn {
	// One format for the values and the points: the one that reads back
	// more of them.
	all := append(append(make([]string, 0, len(c.values)+len(c.curveValues)), c.values...), c.curveValues...)
	doubles, format, texts := numberColumn(all)
	col := &pb.MetricColumn{Name: c.name, Absent: c.absent, Format: format, Values: doubles[:len(c.values)], Texts: &pb.Texts{}, CurveTexts: &pb.Texts{}}
	for i, at := range texts.At {
		if int(at) < len(c.values) {
			col.Texts.At = append(col.Texts.At, at)
			col.Texts.Values = append(col.Texts.Values, texts.Values[i])
		} else {
			col.CurveTexts.At = append(col.CurveTexts.At, at-uint32(len(c.values)))
			col.CurveTexts.Values = append(col.CurveTexts.Values, texts.Values[i])
		}
	}
	if c.curves {
		col.CurveLengths, col.CurveSteps, col.CurveValues = c.lengths, c.steps, doubles[len(c.values):]
	}
	return col
}

// checkColumns checks the structure of a history in columns against the
// experiment's parameters: every column as long as the rows it covers,
// every index and position inside what it points into. It returns the
// number of rows.
func checkColumns(specs []*pb.ParameterSpec, h *pb.TrialColumns) (int, error) {
	n := len(h.GetConditions())
	plain := h.GetPlainRows()
	if len(plain) != len(h.GetPlain()) {
		return 0, algorithm.Invalidf("history.plainRows", "%d rows for %d plain trials: give one row for each", len(plain), len(h.GetPlain()))
	}
	total := n + len(plain)
	if err := ascending("history.plainRows", plain, total); err != nil {
		return 0, err
	}
	if total > 0 && h.GetNameFirst() > math.MaxInt64-int64(total-1) {
		return 0, algorithm.Invalidf("history.nameFirst", "%d: the name of row %d would overflow a 64-bit integer", h.GetNameFirst(), total-1)
	}
	if err := checkTexts("history.names", h.GetNames(), total); err != nil {
		return 0, err
	}
	p := 0
	for i, at := range h.GetNames().GetAt() {
		for p < len(plain) && plain[p] < at {
			p++
		}
		if p < len(plain) && plain[p] == at {
			return 0, algorithm.Invalidf(fmt.Sprintf("history.names.at[%d]", i), "row %d is a plain trial, which has its own name", at)
		}
	}
	if len(h.GetParameters()) != len(specs) {
		return 0, algorithm.Invalidf("history.parameters", "%d columns for %d parameters: give one for each parameter, in the order of parameterSpecs", len(h.GetParameters()), len(specs))
	}
	for j, col := range h.GetParameters() {
		if err := checkParameterColumn(fmt.Sprintf("history.parameters[%d]", j), specs[j], col, n); err != nil {
			return 0, err
		}
	}
	for c, col := range h.GetMetrics() {
		if err := checkMetricColumn(fmt.Sprintf("history.metrics[%d]", c), col, n); err != nil {
			return 0, err
		}
	}
	return total, nil
}

func checkParameterColumn(path string, spec *pb.ParameterSpec, col *pb.ParameterColumn, n int) error {
	typ := spec.GetParameterType()
	if _, ok := pb.ParameterType_name[int32(typ)]; !ok || typ == pb.ParameterType_UNKNOWN_TYPE {
		return algorithm.Invalidf(path, "parameter %q has no type: its column cannot be read", spec.GetName())
	}
	fields := []struct {
		name string
		len  int
		want bool
	}{
		{"doubles", len(col.GetDoubles()), typ == pb.ParameterType_DOUBLE},
		{"ints", len(col.GetInts()), typ == pb.ParameterType_INT},
		{"indices", len(col.GetIndices()), typ == pb.ParameterType_DISCRETE || typ == pb.ParameterType_CATEGORICAL},
	}
	for _, f := range fields {
		switch {
		case f.want && f.len != n:
			return algorithm.Invalidf(path+"."+f.name, "%d values for %d rows: give one for each row that is not plain", f.len, n)
		case !f.want && f.len > 0:
			return algorithm.Invalidf(path+"."+f.name, "parameter %q is %s: its values go in the field of its type", spec.GetName(), typ)
		}
	}
	if err := checkFormat(path, col.GetFormat()); err != nil {
		return err
	}
	if list := spec.GetFeasibleSpace().GetList(); len(col.GetIndices()) > 0 {
		for k, i := range col.GetIndices() {
			if int(i) >= len(list) {
				return algorithm.Invalidf(fmt.Sprintf("%s.indices[%d]", path, k), "parameter %q: %d is not an index of its list of %d values", spec.GetName(), i, len(list))
			}
		}
	}
	return checkTexts(path+".texts", col.GetTexts(), n)
}

func checkMetricColumn(path string, col *pb.MetricColumn, n int) error {
	if err := ascending(path+".absent", col.GetAbsent(), n); err != nil {
		return err
	}
	present := n - len(col.GetAbsent())
	if len(col.GetValues()) != present {
		return algorithm.Invalidf(path+".values", "%d values for the %d rows that report metric %q: give one for each", len(col.GetValues()), present, col.GetName())
	}
	if err := checkFormat(path, col.GetFormat()); err != nil {
		return err
	}
	if err := checkTexts(path+".texts", col.GetTexts(), present); err != nil {
		return err
	}
	points := 0
	if lengths := col.GetCurveLengths(); len(lengths) > 0 {
		if len(lengths) != present {
			return algorithm.Invalidf(path+".curveLengths", "%d curves for %d values: give one length for each value, or none", len(lengths), present)
		}
		for _, l := range lengths {
			points += int(l)
		}
	}
	if len(col.GetCurveSteps()) != points || len(col.GetCurveValues()) != points {
		return algorithm.Invalidf(path+".curveSteps", "%d steps and %d values for curves of %d points: give one of each for every point", len(col.GetCurveSteps()), len(col.GetCurveValues()), points)
	}
	return checkTexts(path+".curveTexts", col.GetCurveTexts(), points)
}

func checkFormat(path string, f pb.NumberFormat) error {
	if _, ok := pb.NumberFormat_name[int32(f)]; !ok {
		return algorithm.Invalidf(path+".format", "unknown number format %d: use POSITIONAL or SHORTEST", f)
	}
	return nil
}

// ascending checks positions that must rise, each below n.
func ascending(path string, at []uint32, n int) error {
	for i, a := range at {
		if int64(a) >= int64(n) {
			return algorithm.Invalidf(fmt.Sprintf("%s[%d]", path, i), "%d is past the last of %d rows", a, n)
		}
		if i > 0 && a <= at[i-1] {
			return algorithm.Invalidf(fmt.Sprintf("%s[%d]", path, i), "%d after %d: give each position once, in ascending order", a, at[i-1])
		}
	}
	return nil
}

func checkTexts(path string, t *pb.Texts, n int) error {
	if len(t.GetAt()) != len(t.GetValues()) {
		return algorithm.Invalidf(path, "%d positions for %d values: give one position for each", len(t.GetAt()), len(t.GetValues()))
	}
	return ascending(path+".at", t.GetAt(), n)
}

// texts walks the texts of a column as its entries are read in order.
type texts struct {
	t    *pb.Texts
	next int
}

// at returns the text of the entry at position k, if it has one. Calls
// must come in ascending k.
func (x *texts) at(k int) (string, bool) {
	at := x.t.GetAt()
	if x.next < len(at) && int(at[x.next]) == k {
		x.next++
		return x.t.GetValues()[x.next-1], true
	}
	return "", false
}

// ExpandHistory returns the trials a history in columns holds, string for
// string as they were written, for an experiment whose parameters are
// specs; a history that is malformed is an error naming the field to fix.
func ExpandHistory(specs []*pb.ParameterSpec, h *pb.TrialColumns) ([]*pb.Trial, error) {
	total, err := checkColumns(specs, h)
	if err != nil {
		return nil, err
	}
	out := make([]*pb.Trial, total)
	names := texts{t: h.GetNames()}
	params := make([]texts, len(specs))
	for j, col := range h.GetParameters() {
		params[j].t = col.GetTexts()
	}
	metrics := make([]metricReader, len(h.GetMetrics()))
	for c, col := range h.GetMetrics() {
		metrics[c] = metricReader{col: col, texts: texts{t: col.GetTexts()}, curveTexts: texts{t: col.GetCurveTexts()}}
	}
	plain, k := h.GetPlainRows(), 0
	for i := range out {
		if len(plain) > 0 && int(plain[0]) == i {
			out[i] = h.GetPlain()[len(h.GetPlain())-len(plain)]
			plain = plain[1:]
			continue
		}
		name, ok := names.at(i)
		if !ok {
			name = h.GetNamePrefix() + strconv.FormatInt(h.GetNameFirst()+int64(i), 10)
		}
		as := make([]*pb.ParameterAssignment, len(specs))
		for j, col := range h.GetParameters() {
			v, ok := params[j].at(k)
			if !ok {
				switch {
				case col.GetDoubles() != nil:
					v = formatNumber(col.GetDoubles()[k], col.GetFormat())
				case col.GetInts() != nil:
					v = strconv.FormatInt(col.GetInts()[k], 10)
				default:
					v = specs[j].GetFeasibleSpace().GetList()[col.GetIndices()[k]]
				}
			}
			as[j] = &pb.ParameterAssignment{Name: specs[j].GetName(), Value: v}
		}
		t := &pb.Trial{
			Name:   name,
			Spec:   &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: as}},
			Status: &pb.TrialStatus{Condition: h.GetConditions()[k]},
		}
		for c := range metrics {
			if m := metrics[c].metric(k); m != nil {
				if t.Status.Observation == nil {
					t.Status.Observation = &pb.Observation{}
				}
				t.Status.Observation.Metrics = append(t.Status.Observation.Metrics, m)
			}
		}
		out[i] = t
		k++
	}
	return out, nil
}

// metricReader reads a checked metric column row by row.
type metricReader struct {
	col               *pb.MetricColumn
	absent, pos, next int // the next absence, value and curve point
	texts, curveTexts texts
}

// present returns the position of row k's value, or false when row k does
// not report the metric. Calls must come in ascending k.
func (r *metricReader) present(k int) (int, bool) {
	if absent := r.col.GetAbsent(); r.absent < len(absent) && int(absent[r.absent]) == k {
		r.absent++
		return 0, false
	}
	r.pos++
	return r.pos - 1, true
}

// value returns the string of the value at pos.
func (r *metricReader) value(pos int) string {
	if s, ok := r.texts.at(pos); ok {
		return s
	}
	return formatNumber(r.col.GetValues()[pos], r.col.GetFormat())
}

func (r *metricReader) metric(k int) *pb.Metric {
	pos, ok := r.present(k)
	if !ok {
		return nil
	}
	m := &pb.Metric{Name: r.col.GetName(), Value: r.value(pos)}
	if lengths := r.col.GetCurveLengths(); len(lengths) > 0 && lengths[pos] > 0 {
		m.Curve = make([]*pb.MetricPoint, lengths[pos])
		var step int64
		for i := range m.Curve {
			step += r.col.GetCurveSteps()[r.next]
			v, ok := r.curveTexts.at(r.next)
			if !ok {
				v = formatNumber(r.col.GetCurveValues()[r.next], r.col.GetFormat())
			}
			m.Curve[i] = &pb.MetricPoint{Step: step, Value: v}
			r.next++
		}
	}
	return m
}

// ReadTrials returns the trials of a request as an algorithm takes them,
// from trials or from history: the same trials, whichever way they came,
// each checked; a request with both is refused. A history in columns is
// read without writing its values as strings; its trials have no Raw.
func ReadTrials(ctx context.Context, p *algorithm.Problem, req *pb.GetSuggestionsRequest) ([]algorithm.Trial, error) {
	h := req.GetHistory()
	if h == nil {
		return p.ParseTrials(ctx, req.GetTrials())
	}
	if n := len(req.GetTrials()); n > 0 {
		return nil, algorithm.Invalidf("history", "the request also has %d trials: send the history in trials or in history, not both", n)
	}
	specs := req.GetExperiment().GetExperimentSpec().GetParameterSpecs().GetParameters()
	total, err := checkColumns(specs, h)
	if err != nil {
		return nil, err
	}
	plain, err := p.ParseTrials(ctx, h.GetPlain())
	if err != nil {
		if e, ok := err.(*algorithm.Error); ok && strings.HasPrefix(e.Path, "trials") {
			err = &algorithm.Error{Path: "history.plain" + strings.TrimPrefix(e.Path, "trials"), Message: e.Message}
		}
		return nil, err
	}
	d := p.Space.Len()
	rows := len(h.GetConditions())
	points := make([]float64, rows*d) // one allocation for every point
	params := make([]texts, d)
	for j, col := range h.GetParameters() {
		params[j].t = col.GetTexts()
	}
	// The columns of the metrics the objective reads, each with its
	// column's index and its slots.
	obs := p.Observer()
	var read []metricReader
	var at []int
	var slots [][]int
	for c, col := range h.GetMetrics() {
		if sl := obs.Slots(col.GetName()); len(sl) > 0 {
			read = append(read, metricReader{col: col, texts: texts{t: col.GetTexts()}})
			at, slots = append(at, c), append(slots, sl)
		}
	}
	names := texts{t: h.GetNames()}
	out := make([]algorithm.Trial, total)
	plainRows, k := h.GetPlainRows(), 0
	for i := range out {
		// A long history is read in bounded slices of time: a caller who
		// has gone stops the work.
		if i%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if len(plainRows) > 0 && int(plainRows[0]) == i {
			out[i] = plain[len(plain)-len(plainRows)]
			plainRows = plainRows[1:]
			continue
		}
		pt := points[k*d : (k+1)*d : (k+1)*d]
		for j, col := range h.GetParameters() {
			v, err := columnValue(&p.Space.Params[j], j, col, &params[j], k)
			if err != nil {
				return nil, err
			}
			pt[j] = v
		}
		t := algorithm.Trial{Point: pt, Condition: h.GetConditions()[k]}
		obs.Reset()
		for x := range read {
			r, c := &read[x], at[x]
			pos, ok := r.present(k)
			if !ok {
				continue
			}
			path := fmt.Sprintf("history.metrics[%d].values[%d]", c, pos)
			s, text := r.texts.at(pos)
			v := r.col.GetValues()[pos]
			if text {
				var err error
				if v, err = strconv.ParseFloat(s, 64); err != nil {
					v = math.NaN()
				}
				path = fmt.Sprintf("history.metrics[%d].texts.values[%d]", c, r.texts.next-1)
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				if !text {
					s = formatNumber(v, r.col.GetFormat())
				}
				return nil, algorithm.Invalidf(path, "metric %q: %q is not a finite number", r.col.GetName(), s)
			}
			obs.Set(slots[x], v)
		}
		obs.Fill(&t)
		if name, ok := names.at(i); ok {
			t.Name = name
		} else {
			t.Name = h.GetNamePrefix() + strconv.FormatInt(h.GetNameFirst()+int64(i), 10)
		}
		out[i] = t
		k++
	}
	p.Score(out)
	return out, nil
}

// columnValue reads the value of column row k of a parameter's column as a
// point holds it, as Param.Parse reads its string.
func columnValue(prm *searchspace.Param, j int, col *pb.ParameterColumn, x *texts, k int) (float64, error) {
	if s, ok := x.at(k); ok {
		v, err := prm.Parse(s)
		if err != nil {
			return 0, algorithm.Invalidf(fmt.Sprintf("history.parameters[%d].texts.values[%d]", j, x.next-1), "parameter %q: %s", prm.Name, err)
		}
		return v, nil
	}
	switch {
	case col.GetDoubles() != nil:
		v := col.GetDoubles()[k]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			_, err := prm.Parse(formatNumber(v, col.GetFormat()))
			return 0, algorithm.Invalidf(fmt.Sprintf("history.parameters[%d].doubles[%d]", j, k), "parameter %q: %s", prm.Name, err)
		}
		return v, nil
	case col.GetInts() != nil:
		return float64(col.GetInts()[k]), nil
	}
	return float64(col.GetIndices()[k]), nil
}
