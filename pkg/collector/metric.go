package collector

import (
	"math"
	"strconv"
)

// Metric is one value a line, object or event carried.
type Metric struct {
	Name  string
	Value float64
}

// Report is the metrics of one step, in the order they were first seen.
type Report struct {
	Step    int64
	Metrics []Metric
}

// The metrics that give a line its step.
const (
	stepMetric  = "step"
	epochMetric = "epoch"
)

// Filter says which metrics are collected: the named ones, or all when
// it names none. "step" and "epoch" are always seen, to give steps.
type Filter struct {
	names map[string]string // nil: all
}

// NewFilter returns the filter that collects names, or every metric when
// names is empty.
func NewFilter(names []string) Filter {
	if len(names) == 0 {
		return Filter{}
	}
	f := Filter{names: make(map[string]string, len(names)+2)}
	for _, n := range names {
		f.names[n] = n
	}
	return f
}

// lookup returns the name to record for name, and whether it is seen at
// all. It allocates only for names it has not been given.
func (f Filter) lookup(name []byte) (string, bool) {
	if f.names == nil {
		switch string(name) {
		case stepMetric:
			return stepMetric, true
		case epochMetric:
			return epochMetric, true
		}
		return string(name), true
	}
	if n, ok := f.names[string(name)]; ok {
		return n, true
	}
	switch string(name) {
	case stepMetric:
		return stepMetric, true
	case epochMetric:
		return epochMetric, true
	}
	return "", false
}

// collects says whether name is reported (not only seen for its step).
func (f Filter) collects(name string) bool {
	if f.names == nil {
		return name != stepMetric && name != epochMetric
	}
	_, ok := f.names[name]
	return ok
}

// names returns the names the filter collects; nil for all.
func (f Filter) all() bool { return f.names == nil }

// parseNumber parses a metric's value: a finite decimal number.
func parseNumber(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// stepOf returns the step a value of "step" or "epoch" gives: a
// non-negative whole number.
func stepOf(v float64) (int64, bool) {
	if v < 0 || v != math.Trunc(v) || v > math.MaxInt64/2 {
		return 0, false
	}
	return int64(v), true
}
