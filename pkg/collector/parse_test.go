package collector

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseJSONLine(t *testing.T) {
	tests := []struct {
		line    string
		metrics []string
		want    []Metric
	}{
		{line: `{"epoch": 3, "loss": 0.2}`, want: []Metric{{"epoch", 3}, {"loss", 0.2}}},
		{line: `  {"loss": "0.25", "acc": " 1e-2 ", "name": "resnet", "ok": true, "nested": {"a": 1}, "n": null}`, want: []Metric{{"acc", 0.01}, {"loss", 0.25}}},
		{line: `{"loss": 0.2, "accuracy": 0.9, "step": 7}`, metrics: []string{"accuracy"}, want: []Metric{{"accuracy", 0.9}, {"step", 7}}},
		{line: `{"loss": "NaN", "x": "Inf", "y": 1e400}`},
		{line: `not json loss=1`},
		{line: `[1, 2]`},
		{line: `{"loss": 0.2`},
	}
	for _, tc := range tests {
		got := ParseJSONLine([]byte(tc.line), NewFilter(tc.metrics), nil)
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("ParseJSONLine(%s) (-want, +got):\n%s", tc.line, d)
		}
	}
}

func TestBatcher(t *testing.T) {
	var got []Report
	b := NewBatcher(func(r Report) { got = append(got, r) })
	p, _ := NewLineParser(nil, NewFilter([]string{"loss", "accuracy"}))
	for _, l := range []string{
		"starting",
		"loss=0.9",                  // no step: the first line with metrics
		"accuracy=0.1",              // the second
		"epoch=3 loss=0.5",          // step 3
		"epoch=3 accuracy=0.6",      // step 3 again: batched
		"epoch=3 loss=0.4",          // the later value wins
		"epoch=4 step=40 loss=0.3",  // step before epoch
		"epoch=5",                   // no metric: no report, but step 5 from now on
		"epoch=1.5 accuracy=0.7",    // not a whole epoch: the step under way
		"step=41 lr=0.1 accuracy=1", // lr is not collected
	} {
		b.Add(sampleOf(p.Parse([]byte(l), nil), NewFilter([]string{"loss", "accuracy"})))
	}
	b.Flush()
	want := []Report{
		{Step: 1, Metrics: []Metric{{"loss", 0.9}}},
		{Step: 2, Metrics: []Metric{{"accuracy", 0.1}}},
		{Step: 3, Metrics: []Metric{{"loss", 0.4}, {"accuracy", 0.6}}},
		{Step: 40, Metrics: []Metric{{"loss", 0.3}}},
		{Step: 5, Metrics: []Metric{{"accuracy", 0.7}}},
		{Step: 41, Metrics: []Metric{{"accuracy", 1}}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("reports (-want, +got):\n%s", d)
	}
}

// TestBatcherStepOnItsOwnLine: a program that prints its epoch on one line
// and its metrics on the next ones has them reported at that epoch.
func TestBatcherStepOnItsOwnLine(t *testing.T) {
	var got []Report
	b := NewBatcher(func(r Report) { got = append(got, r) })
	f := NewFilter([]string{"loss", "accuracy"})
	p, _ := NewLineParser(nil, f)
	for _, l := range []string{"loss=2", "epoch=1", "loss=0.9", "accuracy=0.5", "epoch=2", "loss=0.7", "accuracy=0.6"} {
		b.Add(sampleOf(p.Parse([]byte(l), nil), f))
	}
	b.Flush()
	want := []Report{
		{Step: 1, Metrics: []Metric{{"loss", 2}}}, // before any step: the count of lines with metrics
		{Step: 1, Metrics: []Metric{{"loss", 0.9}, {"accuracy", 0.5}}},
		{Step: 2, Metrics: []Metric{{"loss", 0.7}, {"accuracy", 0.6}}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("reports (-want, +got):\n%s", d)
	}
}

func TestBatcherCollectsStepWhenAsked(t *testing.T) {
	var got []Report
	b := NewBatcher(func(r Report) { got = append(got, r) })
	all := Filter{}
	asked := NewFilter([]string{"epoch", "loss"})
	b.Add(sampleOf([]Metric{{"epoch", 1}, {"loss", 1}}, all))
	b.Add(sampleOf([]Metric{{"epoch", 2}, {"loss", 2}}, asked))
	b.Flush()
	want := []Report{{Step: 1, Metrics: []Metric{{"loss", 1}}}, {Step: 2, Metrics: []Metric{{"epoch", 2}, {"loss", 2}}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("reports (-want, +got):\n%s", d)
	}
}

// The writing half of TensorFlow's event files, for the tests.

func pbKey(num, wt int) []byte { return binary.AppendUvarint(nil, uint64(num<<3|wt)) }

func pbBytes(num int, b []byte) []byte {
	out := append(pbKey(num, wireBytes), binary.AppendUvarint(nil, uint64(len(b)))...)
	return append(out, b...)
}

func pbVarint(num int, v uint64) []byte {
	return append(pbKey(num, wireVarint), binary.AppendUvarint(nil, v)...)
}

func pbFloat(num int, f float32) []byte {
	return binary.LittleEndian.AppendUint32(pbKey(num, wireFixed32), math.Float32bits(f))
}

func pbDouble(num int, f float64) []byte {
	return binary.LittleEndian.AppendUint64(pbKey(num, wireFixed64), math.Float64bits(f))
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// simpleValue is a Summary.Value with simple_value, as TF1, Keras and
// PyTorch write it.
func simpleValue(tag string, v float32) []byte {
	return cat(pbBytes(1, []byte(tag)), pbFloat(2, v))
}

// tensorValue is a Summary.Value with a scalar tensor of packed floats, as
// TF2's tf.summary.scalar writes it.
func tensorValue(tag string, v float32) []byte {
	packed := binary.LittleEndian.AppendUint32(nil, math.Float32bits(v))
	tensor := cat(pbVarint(1, dtFloat), pbBytes(2, nil), pbBytes(5, packed))
	meta := pbBytes(1, pbBytes(1, []byte("scalars")))
	return cat(pbBytes(1, []byte(tag)), pbBytes(9, meta), pbBytes(8, tensor))
}

func event(step int64, values ...[]byte) []byte {
	var summary []byte
	for _, v := range values {
		summary = append(summary, pbBytes(1, v)...)
	}
	return cat(pbDouble(1, 1.7e9), pbVarint(2, uint64(step)), pbBytes(5, summary))
}

// record frames data as a TFRecord.
func record(data []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(data)))
	out = binary.LittleEndian.AppendUint32(out, maskedCRC(out[:8]))
	out = append(out, data...)
	return binary.LittleEndian.AppendUint32(out, maskedCRC(data))
}

func TestMaskedCRC(t *testing.T) {
	// Every TensorFlow event file starts with a record of 24 bytes (the
	// file_version event), framed as 18 00 00 00 00 00 00 00 a3 7f 4b 22.
	if got := maskedCRC([]byte{24, 0, 0, 0, 0, 0, 0, 0}); got != 0x224b7fa3 {
		t.Errorf("maskedCRC(length 24) = %#x, want 0x224b7fa3", got)
	}
}

func TestParseTFEvent(t *testing.T) {
	tensorDouble := cat(pbBytes(1, []byte("d")), pbBytes(8, cat(pbVarint(1, dtDouble), pbDouble(6, 0.125))))
	tensorContent := cat(pbBytes(1, []byte("c")), pbBytes(8, cat(pbVarint(1, dtFloat), pbBytes(4, binary.LittleEndian.AppendUint32(nil, math.Float32bits(2.5))))))
	image := cat(pbBytes(1, []byte("img")), pbBytes(4, []byte("png...")))
	twoFloats := cat(pbBytes(1, []byte("hist")), pbBytes(8, pbBytes(5, make([]byte, 8))))
	step, got, err := ParseTFEvent(event(12, simpleValue("loss", 0.5), tensorValue("accuracy", 0.75), tensorDouble, tensorContent, image, twoFloats), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []TFScalar{{"loss", 0.5}, {"accuracy", 0.75}, {"d", 0.125}, {"c", 2.5}}
	if step != 12 || !cmp.Equal(want, got) {
		t.Errorf("ParseTFEvent = %d, %v; want 12, %v", step, got, want)
	}
	// The first event of a file: no summary.
	if step, got, err := ParseTFEvent(cat(pbDouble(1, 1.7e9), pbBytes(3, []byte("brain.Event:2"))), nil); err != nil || step != 0 || len(got) != 0 {
		t.Errorf("ParseTFEvent(file version) = %d, %v, %v", step, got, err)
	}
	for _, bad := range [][]byte{{0xff}, pbBytes(5, []byte{0x0a, 0x10}), {0x0b}, pbKey(1, wireFixed64)} {
		if _, _, err := ParseTFEvent(bad, nil); err == nil {
			t.Errorf("ParseTFEvent(%x) = nil error, want one", bad)
		}
	}
}

// readTF feeds data to a tfReader in pieces of n bytes.
func readTF(data []byte, n int, filter Filter) (samples []Sample, bad int) {
	r := &tfReader{filter: filter, emit: func(s Sample) { samples = append(samples, s) }}
	for len(data) > 0 {
		k := min(n, len(data))
		r.Write(data[:k])
		data = data[k:]
	}
	bad = r.records.Bad
	r.End()
	return samples, bad
}

func TestTFRecords(t *testing.T) {
	first := record(cat(pbDouble(1, 1.7e9), pbBytes(3, []byte("brain.Event:2"))))
	one := record(event(1, simpleValue("loss", 0.5)))
	two := record(event(2, simpleValue("loss", 0.25), simpleValue("accuracy", 0.5)))
	corrupt := record(event(3, simpleValue("loss", 9)))
	corrupt[len(corrupt)-6] ^= 1 // in the data: its checksum fails
	badHeader := record(event(4, simpleValue("loss", 9)))
	badHeader[9] ^= 1
	three := record(event(5, simpleValue("loss", 0.125)))
	truncated := record(event(6, simpleValue("loss", 9)))
	truncated = truncated[:len(truncated)-3]

	file := cat(first, one, []byte("garbage bytes between records"), two, corrupt, badHeader, three, truncated)
	want := []Sample{
		{Step: 1, HasStep: true, Metrics: []Metric{{"loss", 0.5}}},
		{Step: 2, HasStep: true, Metrics: []Metric{{"loss", 0.25}, {"accuracy", 0.5}}},
		{Step: 5, HasStep: true, Metrics: []Metric{{"loss", 0.125}}},
	}
	for _, n := range []int{1, 7, 4096} {
		got, bad := readTF(file, n, Filter{})
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("pieces of %d (-want, +got):\n%s", n, d)
		}
		if bad == 0 {
			t.Errorf("pieces of %d: no bad records counted", n)
		}
	}
	// Only the metrics asked for; the step of a file under "train" as
	// Katib names it.
	got, _ := readTF(two, 100, NewFilter([]string{"accuracy"}))
	if d := cmp.Diff([]Sample{{Step: 2, HasStep: true, Metrics: []Metric{{"accuracy", 0.5}}}}, got); d != "" {
		t.Errorf("filtered (-want, +got):\n%s", d)
	}
	var samples []Sample
	r := &tfReader{dir: "train", filter: NewFilter([]string{"train/accuracy"}), emit: func(s Sample) { samples = append(samples, s) }}
	r.Write(two)
	if d := cmp.Diff([]Sample{{Step: 2, HasStep: true, Metrics: []Metric{{"train/accuracy", 0.5}}}}, samples); d != "" {
		t.Errorf("train/accuracy (-want, +got):\n%s", d)
	}
	// Garbage alone.
	if got, bad := readTF([]byte("this is not a TFRecord file at all, not even close"), 5, Filter{}); len(got) != 0 || bad == 0 {
		t.Errorf("garbage: %v, %d bad", got, bad)
	}
}

// A record still being written is waited for.
func TestTFRecordsWaitsForTheRest(t *testing.T) {
	rec := record(event(7, simpleValue("loss", 1)))
	var recs tfRecords
	recs.Write(rec[:len(rec)-1])
	if _, ok := recs.Next(); ok || recs.Bad != 0 {
		t.Fatalf("a record cut short was read, or counted bad (%d)", recs.Bad)
	}
	recs.Write(rec[len(rec)-1:])
	if _, ok := recs.Next(); !ok {
		t.Fatal("the completed record was not read")
	}
}
