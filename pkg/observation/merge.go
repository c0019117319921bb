package observation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

// Apply returns obs with one report of metrics, measured at step when step
// is not nil, folded in; obs itself is left as it was. For each reported
// metric of the objective (its objective metric and additional metrics) it
// updates Min, Max and Latest, sets Value as objective.StrategyFor says,
// and adds the value to the metric's Curve at step, or, for a report
// without a step, at the report's number (Reports once counted). A report
// at a step the curve holds replaces that point. Each curve holds at most
// v1alpha1.CurvePointsPerMetric of the objective's number of metrics, and
// is downsampled as curve.go says.
// Metrics come in the order of objective.MetricNames(), so the objective
// metric is first once reported; metrics the objective does not name that
// obs already holds (written by hand) are kept after them.
//
// Reported names the objective does not know are ignored and returned,
// sorted, so the caller can say so. It is an error, and nothing changes,
// when no metric is reported, when a metric of the objective is NaN or
// infinite, or when none of the reported names is a metric of the
// objective. A step lower than the last one is accepted: the workload may
// have restarted from a checkpoint.
func Apply(obs *v1alpha1.Observation, objective *v1alpha1.ObjectiveSpec, metrics map[string]float64, step *int64) (*v1alpha1.Observation, []string, error) {
	if objective == nil {
		return nil, nil, errors.New("the trial has no objective, so it does not know which metrics to record")
	}
	if len(metrics) == 0 {
		return nil, nil, errors.New(`no metrics reported: send a JSON object of metric name to number, such as {"loss": 0.25}`)
	}
	names := objective.MetricNames()
	known := make(map[string]bool, len(names))
	for _, n := range names {
		known[n] = true
	}
	var ignored, bad []string
	matched := 0
	for n, v := range metrics {
		switch {
		case !known[n]:
			ignored = append(ignored, n)
		case math.IsNaN(v) || math.IsInf(v, 0):
			bad = append(bad, fmt.Sprintf("%q is %v", n, v))
		default:
			matched++
		}
	}
	sort.Strings(ignored)
	sort.Strings(bad)
	if len(bad) > 0 {
		return nil, nil, fmt.Errorf("metric %s: report finite numbers only", strings.Join(bad, ", metric "))
	}
	if matched == 0 {
		return nil, nil, fmt.Errorf("none of the reported metrics (%s) is a metric of the experiment; report one of: %s",
			quoteSome(ignored), quoteAll(names))
	}

	old := map[string]v1alpha1.Metric{}
	var extra []v1alpha1.Metric
	out := &v1alpha1.Observation{}
	if obs != nil {
		for _, m := range obs.Metrics {
			if known[m.Name] {
				old[m.Name] = m
			} else {
				extra = append(extra, m)
			}
		}
		if obs.Step != nil {
			s := *obs.Step
			out.Step = &s
		}
		out.Reports = obs.Reports
	}
	if out.Reports < math.MaxInt32 {
		out.Reports++
	}
	at := int64(out.Reports)
	if step != nil {
		s := *step
		out.Step = &s
		at = s
	}
	capacity := v1alpha1.CurvePointsPerMetric(len(known)) // a name listed twice is one metric
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if seen[n] {
			continue // a name listed twice is recorded once
		}
		seen[n] = true
		m, had := old[n]
		if v, reported := metrics[n]; reported {
			f := fold(n, m, v, objective.StrategyFor(n))
			f.Curve = addPoint(m.Curve, at, f.Latest, capacity)
			out.Metrics = append(out.Metrics, f)
		} else if had {
			out.Metrics = append(out.Metrics, *m.DeepCopy())
		}
	}
	for _, m := range extra {
		out.Metrics = append(out.Metrics, *m.DeepCopy())
	}
	return out, ignored, nil
}

// fold adds value v to metric m (zero when new), all but its curve. Min and
// Max that do not parse, such as ones written by hand, start over from v.
func fold(name string, m v1alpha1.Metric, v float64, strategy v1alpha1.MetricStrategyType) v1alpha1.Metric {
	lo, hi := v, v
	if x, err := strconv.ParseFloat(m.Min, 64); err == nil && x < lo {
		lo = x
	}
	if x, err := strconv.ParseFloat(m.Max, 64); err == nil && x > hi {
		hi = x
	}
	out := v1alpha1.Metric{Name: name, Min: formatValue(lo), Max: formatValue(hi), Latest: formatValue(v)}
	switch strategy {
	case v1alpha1.MetricStrategyMin:
		out.Value = out.Min
	case v1alpha1.MetricStrategyMax:
		out.Value = out.Max
	default:
		out.Value = out.Latest
	}
	return out
}

func formatValue(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// A report may name any number of metrics, of any length: answers and logs
// name at most MaxNamesShown of them, each cut to MaxNameShown bytes.
const (
	MaxNamesShown = 5
	MaxNameShown  = 64
)

// clip returns s cut to MaxNameShown bytes, the cut marked with "...".
func clip(s string) string {
	if len(s) <= MaxNameShown {
		return s
	}
	const more = "..."
	return strings.ToValidUTF8(s[:MaxNameShown-len(more)], "") + more
}

// sampleNames returns the first MaxNamesShown of names, each clipped; nil
// for none.
func sampleNames(names []string) []string {
	if len(names) == 0 {
		return nil
	}
	out := make([]string, 0, min(len(names), MaxNamesShown))
	for _, n := range names[:min(len(names), MaxNamesShown)] {
		out = append(out, clip(n))
	}
	return out
}

// quoteSome quotes the names sampleNames returns, and counts the others.
func quoteSome(names []string) string {
	q := quoteAll(sampleNames(names))
	if len(names) > MaxNamesShown {
		q += fmt.Sprintf(" and %d more, %d in all", len(names)-MaxNamesShown, len(names))
	}
	return q
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// ParseData parses the data of an observation event: a JSON object of
// metric name to number, where a number is a JSON number or a string
// holding one, such as {"loss": 0.25, "accuracy": "0.91"}.
func ParseData(data []byte) (map[string]float64, error) {
	const want = `want a JSON object of metric name to number, such as {"loss": 0.25}`
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("no data: %s", want)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "" {
			return nil, fmt.Errorf("data is a JSON %s: %s", te.Value, want)
		}
		return nil, fmt.Errorf("data is not valid JSON (%v): %s", err, want)
	}
	if len(bytes.TrimSpace(data[dec.InputOffset():])) > 0 {
		return nil, fmt.Errorf("data has more after the JSON object: %s", want)
	}
	if raw == nil {
		return nil, fmt.Errorf("data is null: %s", want)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("data is an empty object: %s", want)
	}
	out := make(map[string]float64, len(raw))
	for name, r := range raw {
		v, err := parseNumber(r)
		if err != nil {
			return nil, fmt.Errorf("metric %q: %w", clip(name), err)
		}
		out[name] = v
	}
	return out, nil
}

func parseNumber(r json.RawMessage) (float64, error) {
	r = bytes.TrimSpace(r)
	if len(r) == 0 {
		return 0, errors.New("no value")
	}
	text := string(r)
	switch r[0] {
	case '{', '[':
		return 0, errors.New("is a nested object or array; want a number")
	case 'n':
		return 0, errors.New("is null; want a number")
	case 't', 'f':
		return 0, fmt.Errorf("is %s; want a number", text)
	case '"':
		if err := json.Unmarshal(r, &text); err != nil {
			return 0, fmt.Errorf("is not a valid JSON string: %w", err)
		}
		text = strings.TrimSpace(text)
	}
	v, err := strconv.ParseFloat(text, 64)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%q is out of the range of a float64", clip(text))
	}
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", clip(text))
	}
	return v, nil
}
