package collector

import (
	"bytes"
	"fmt"
	"regexp"
)

// DefaultFormat is Katib's default metricsFormat: "name=value", the value
// a decimal number.
const DefaultFormat = `([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)`

// MaxLine is the longest line, without its newline, that is parsed; longer
// lines are skipped.
const MaxLine = 1 << 20

// LineParser finds metrics in lines of text with Katib's metricsFormat
// regexes. It is safe for concurrent use.
type LineParser struct {
	formats []*regexp.Regexp
	filter  Filter
	// fast is true for DefaultFormat alone, matched without the regexp.
	fast bool
	// needles, when not nil, are the strings a line must contain one of
	// to carry a collected metric: the names asked for.
	needles [][]byte
}

// NewLineParser returns a parser for the formats (DefaultFormat when
// none) that keeps the metrics filter lets through.
func NewLineParser(formats []string, filter Filter) (*LineParser, error) {
	if len(formats) == 0 {
		formats = []string{DefaultFormat}
	}
	p := &LineParser{filter: filter}
	for _, f := range formats {
		re, err := regexp.Compile(f)
		if err != nil {
			return nil, fmt.Errorf("metrics format %q: %w", f, err)
		}
		if re.NumSubexp() < 2 {
			return nil, fmt.Errorf("metrics format %q has %d capture groups; want two, the metric's name and its value, such as %s", f, re.NumSubexp(), DefaultFormat)
		}
		p.formats = append(p.formats, re)
	}
	p.fast = len(formats) == 1 && formats[0] == DefaultFormat
	if !filter.all() {
		// A line is read when it may name a collected metric, or a step
		// that holds for the lines after it.
		p.needles = [][]byte{[]byte(stepMetric), []byte(epochMetric)}
		for n := range filter.names {
			p.needles = append(p.needles, []byte(n))
		}
	}
	return p, nil
}

// Parse appends the metrics line carries to dst, in the order of the
// formats and, for each, of the matches.
func (p *LineParser) Parse(line []byte, dst []Metric) []Metric {
	if len(line) > MaxLine {
		return dst
	}
	if p.needles != nil && !containsAny(line, p.needles) {
		return dst
	}
	if p.fast {
		defaultMatches(line, func(name, value []byte) {
			dst = p.add(dst, name, value)
		})
		return dst
	}
	for _, re := range p.formats {
		for _, m := range re.FindAllSubmatchIndex(line, -1) {
			if m[2] < 0 || m[4] < 0 {
				continue
			}
			dst = p.add(dst, line[m[2]:m[3]], line[m[4]:m[5]])
		}
	}
	return dst
}

// add appends the metric name=value to dst if it is collected and value
// is a number.
func (p *LineParser) add(dst []Metric, name, value []byte) []Metric {
	n, ok := p.filter.lookup(bytes.TrimSpace(name))
	if !ok {
		return dst
	}
	v, ok := parseNumber(string(bytes.TrimSpace(value)))
	if !ok {
		return dst
	}
	return append(dst, Metric{Name: n, Value: v})
}

func containsAny(line []byte, needles [][]byte) bool {
	for _, n := range needles {
		if bytes.Contains(line, n) {
			return true
		}
	}
	return false
}

// lineSplitter cuts a stream into lines and hands each line of at most
// MaxLine bytes, without its "\n" or "\r\n", to fn. A longer line is
// dropped, so memory stays bounded by MaxLine.
type lineSplitter struct {
	fn      func(line []byte)
	partial []byte
	// skipping is true inside a line that grew past MaxLine.
	skipping bool
}

// Write hands the complete lines in p to fn and keeps the rest.
func (s *lineSplitter) Write(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if !s.skipping {
				if len(s.partial)+len(p) > MaxLine+1 { // +1: a "\r" may follow
					s.partial, s.skipping = s.partial[:0], true
				} else {
					s.partial = append(s.partial, p...)
				}
			}
			return
		}
		switch {
		case s.skipping:
			s.skipping = false
		case len(s.partial) == 0:
			s.line(p[:i])
		case len(s.partial)+i <= MaxLine+1:
			s.partial = append(s.partial, p[:i]...)
			s.line(s.partial)
			s.partial = s.partial[:0]
		default:
			s.partial = s.partial[:0]
		}
		p = p[i+1:]
	}
	if cap(s.partial) > 64<<10 && len(s.partial) == 0 {
		s.partial = nil // do not hold a long line's buffer
	}
}

// End hands a last line without a newline to fn.
func (s *lineSplitter) End() {
	if !s.skipping && len(s.partial) > 0 {
		s.line(s.partial)
	}
	s.partial, s.skipping = nil, false
}

func (s *lineSplitter) line(l []byte) {
	if n := len(l); n > 0 && l[n-1] == '\r' {
		l = l[:n-1]
	}
	if len(l) <= MaxLine {
		s.fn(l)
	}
}
