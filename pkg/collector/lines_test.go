package collector

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLineParser(t *testing.T) {
	tests := []struct {
		name    string
		formats []string
		metrics []string
		line    string
		want    []Metric
	}{{
		name: "Katib's default",
		line: "epoch 3: loss=0.25 accuracy = 0.91",
		want: []Metric{{"loss", 0.25}, {"accuracy", 0.91}},
	}, {
		name: "signs and exponents",
		line: "loss=-1.5e-3 lr=+2E2 n=7 x=.5",
		want: []Metric{{"loss", -1.5e-3}, {"lr", 200}, {"n", 7}, {"x", 0.5}},
	}, {
		name: "names with dashes and underscores",
		line: "val-loss=0.3 val_acc=0.8",
		want: []Metric{{"val-loss", 0.3}, {"val_acc", 0.8}},
	}, {
		name: "no value is no metric",
		line: "loss= accuracy=abc note=",
		want: nil,
	}, {
		name:    "only the metrics asked for, and epoch",
		metrics: []string{"loss"},
		line:    "epoch=2 loss=0.5 accuracy=0.9",
		want:    []Metric{{"epoch", 2}, {"loss", 0.5}},
	}, {
		name:    "a line without the metrics asked for",
		metrics: []string{"loss"},
		line:    "lr=0.1 accuracy=0.9",
		want:    nil,
	}, {
		name:    "a line with only a step: read for the lines after it",
		metrics: []string{"loss"},
		line:    "epoch=2 accuracy=0.9",
		want:    []Metric{{"epoch", 2}},
	}, {
		name:    "a custom format",
		formats: []string{`"([a-z_]+)":\s*([0-9.]+)`},
		line:    `{"loss": 0.125, "acc": 0.5}`,
		want:    []Metric{{"loss", 0.125}, {"acc", 0.5}},
	}, {
		name:    "every format, every match",
		formats: []string{`([a-z]+)=([0-9.]+)`, `([A-Z]+): ([0-9.]+)`},
		line:    "loss=1 LOSS: 2 acc=3",
		want:    []Metric{{"loss", 1}, {"acc", 3}, {"LOSS", 2}},
	}, {
		name:    "Katib's example: name and value around a colon",
		formats: []string{`([\w|-]+)\s*:\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)`},
		line:    "Validation-accuracy: 0.76 Train-accuracy: 0.8",
		want:    []Metric{{"Validation-accuracy", 0.76}, {"Train-accuracy", 0.8}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewLineParser(tc.formats, NewFilter(tc.metrics))
			if err != nil {
				t.Fatal(err)
			}
			got := p.Parse([]byte(tc.line), nil)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Parse(%q) (-want, +got):\n%s", tc.line, d)
			}
		})
	}
}

func TestLineParserRefusesFormats(t *testing.T) {
	for f, want := range map[string]string{
		`([a-z]+`:         "missing closing )",
		`[a-z]+=([0-9]+)`: "has 1 capture groups; want two",
	} {
		if _, err := NewLineParser([]string{f}, Filter{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NewLineParser(%q) = %v, want an error containing %q", f, err, want)
		}
	}
}

// split feeds s to a lineSplitter in pieces of n bytes.
func split(s string, n int) []string {
	var lines []string
	ls := &lineSplitter{fn: func(l []byte) { lines = append(lines, string(l)) }}
	for len(s) > 0 {
		k := min(n, len(s))
		ls.Write([]byte(s[:k]))
		s = s[k:]
	}
	ls.End()
	return lines
}

func TestLineSplitter(t *testing.T) {
	in := "a=1\r\nb=2\n\nc=3"
	want := []string{"a=1", "b=2", "", "c=3"}
	for _, n := range []int{1, 2, 3, 100} {
		if d := cmp.Diff(want, split(in, n)); d != "" {
			t.Errorf("pieces of %d (-want, +got):\n%s", n, d)
		}
	}
}

func TestLineSplitterLongLines(t *testing.T) {
	exact := strings.Repeat("x", MaxLine-6) + "loss=1"
	over := strings.Repeat("y", MaxLine) + " loss=2"
	in := "a=1\n" + exact + "\n" + over + "\n" + over + "\r\nb=2\n" + over
	for _, n := range []int{4096, 64 << 10, 3 << 20} {
		got := split(in, n)
		if len(got) != 3 || got[0] != "a=1" || got[1] != exact || got[2] != "b=2" {
			short := make([]string, len(got))
			for i, l := range got {
				short[i] = fmt.Sprintf("%.20q (%d bytes)", l, len(l))
			}
			t.Errorf("pieces of %d: lines %v; want a=1, the line of exactly 1 MiB, b=2", n, short)
		}
	}
	// A long line does not keep its memory.
	ls := &lineSplitter{fn: func([]byte) {}}
	ls.Write([]byte(over))
	ls.Write([]byte(over))
	if len(ls.partial) > MaxLine+1 {
		t.Errorf("holding %d bytes of a line that is too long", len(ls.partial))
	}
	p, _ := NewLineParser(nil, Filter{})
	if got := p.Parse([]byte(exact), nil); len(got) != 1 || got[0].Value != 1 {
		t.Errorf("Parse(1 MiB line) = %v, want loss=1", got)
	}
	if got := p.Parse([]byte(over), nil); len(got) != 0 {
		t.Errorf("Parse(line over 1 MiB) = %v, want nothing", got)
	}
}

// metricLines returns n lines as a training loop prints them.
func metricLines(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "epoch=%d loss=%.6f accuracy=%.4f lr=0.001\n", i, 1/float64(i+1), 1-1/float64(i+2))
	}
	return b.Bytes()
}

// TestMillionLines parses 10^6 lines through the splitter and batcher as
// the collector does, and checks every step arrives once, in order.
func TestMillionLines(t *testing.T) {
	if testing.Short() {
		t.Skip("10^6 lines")
	}
	const n = 1_000_000
	in := metricLines(n)
	filter := NewFilter([]string{"loss", "accuracy"})
	p, _ := NewLineParser(nil, filter)
	var reports, bad int
	b := NewBatcher(func(r Report) {
		if r.Step != int64(reports) || len(r.Metrics) != 2 {
			bad++
		}
		reports++
	})
	r := newTextReader(p.Parse, filter, b.Add)
	for len(in) > 0 {
		k := min(64<<10, len(in))
		r.Write(in[:k])
		in = in[k:]
	}
	r.End()
	b.Flush()
	if reports != n || bad != 0 {
		t.Errorf("%d reports, %d out of order or incomplete; want %d in order", reports, bad, n)
	}
}

// BenchmarkParseLines parses 10^5 metric lines, as the collector does a
// command's output: split into lines, matched with Katib's default
// format, batched by epoch.
func BenchmarkParseLines(b *testing.B) {
	in := metricLines(100_000)
	filter := NewFilter([]string{"loss", "accuracy"})
	p, _ := NewLineParser(nil, filter)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		bt := NewBatcher(func(Report) {})
		r := newTextReader(p.Parse, filter, bt.Add)
		for s := in; len(s) > 0; {
			k := min(64<<10, len(s))
			r.Write(s[:k])
			s = s[k:]
		}
		r.End()
		bt.Flush()
	}
}

// BenchmarkParseLinesAll is BenchmarkParseLines collecting every metric.
func BenchmarkParseLinesAll(b *testing.B) {
	in := metricLines(100_000)
	p, _ := NewLineParser(nil, Filter{})
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		bt := NewBatcher(func(Report) {})
		r := newTextReader(p.Parse, Filter{}, bt.Add)
		r.Write(in)
		r.End()
		bt.Flush()
	}
}
