package collector

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// textTailer tails root with Katib's default format, and returns what
// each Poll gives as "name=value@step" strings.
func textTailer(root string, dir bool) (*Tailer, func(final bool) []string) {
	p, _ := NewLineParser(nil, Filter{})
	tl := NewTailer(root, dir, nil, func(_ string, emit func(Sample)) fileReader {
		return newTextReader(p.Parse, Filter{}, emit)
	})
	return tl, func(final bool) []string {
		var got []string
		tl.Poll(final, func(s Sample) {
			for _, m := range s.Metrics {
				got = append(got, m.Name+"@"+formatStep(s))
			}
		})
		return got
	}
}

func formatStep(s Sample) string {
	if !s.HasStep {
		return "-"
	}
	return string(rune('0' + s.Step))
}

func TestTailerFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "metrics.log")
	appendFile(t, path, "epoch=1 old=1\nepoch=2 old=2\n")
	_, poll := textTailer(path, false)

	if got := poll(false); len(got) != 0 {
		t.Errorf("before the run wrote: %v; want nothing of what was there", got)
	}
	appendFile(t, path, "epoch=3 a=1\nepoch=4 b")
	if d := cmp.Diff([]string{"a@3"}, poll(false)); d != "" {
		t.Errorf("appended (-want, +got):\n%s", d)
	}
	appendFile(t, path, "=2\n")
	if d := cmp.Diff([]string{"b@4"}, poll(false)); d != "" {
		t.Errorf("a line completed (-want, +got):\n%s", d)
	}
	// Truncated and written again: read from the start.
	if err := os.WriteFile(path, []byte("epoch=1 c=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"c@1"}, poll(false)); d != "" {
		t.Errorf("truncated (-want, +got):\n%s", d)
	}
	// Replaced by another file, longer than what was read.
	tmp := filepath.Join(dir, "new")
	if err := os.WriteFile(tmp, []byte("epoch=5 d=1\nepoch=6 e=1\nepoch=7 f=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, "epoch=8 g=1")
	if d := cmp.Diff([]string{"d@5", "e@6", "f@7"}, poll(false)); d != "" {
		t.Errorf("replaced (-want, +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"g@8"}, poll(true)); d != "" {
		t.Errorf("final, the last line has no newline (-want, +got):\n%s", d)
	}
}

// A file that was there is rewritten from its start, at least as long
// as before, between two polls: its first bytes changed, so it is read
// from the start.
func TestTailerFileRewritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.log")
	appendFile(t, path, "epoch=1 old=1\n")
	_, poll := textTailer(path, false)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("epoch=1 new=1\nepoch=2 new=2\n")
	f.Close()
	if d := cmp.Diff([]string{"new@1", "new@2"}, poll(true)); d != "" {
		t.Errorf("(-want, +got):\n%s", d)
	}
}

func TestTailerDirectory(t *testing.T) {
	root := t.TempDir()
	train, val := filepath.Join(root, "train", "log"), filepath.Join(root, "validation", "log")
	os.MkdirAll(filepath.Dir(train), 0o755)
	appendFile(t, train, "epoch=1 old=1\n")
	_, poll := textTailer(root, true)
	os.MkdirAll(filepath.Dir(val), 0o755)
	appendFile(t, train, "epoch=1 loss=1\nepoch=2 loss=2\n")
	appendFile(t, val, "epoch=1 val=1\nepoch=2 val=2\n")
	// Two files with steps: ordered by step, so each step batches.
	want := []string{"loss@1", "val@1", "loss@2", "val@2"}
	if d := cmp.Diff(want, poll(true)); d != "" {
		t.Errorf("(-want, +got):\n%s", d)
	}
}

func TestTailerTFEvents(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "train", "events.out.tfevents.1.host")
	os.MkdirAll(filepath.Dir(path), 0o755)
	appendFile(t, path, string(record(event(1, simpleValue("accuracy", 0.1)))))
	c := &Config{Kind: KindTensorFlowEvent, Path: root, PathKind: PathKindDirectory, Metrics: []string{"train/accuracy"}}
	tl := newFileTailer(c, nil, NewFilter(c.Metrics))
	next := record(event(2, simpleValue("accuracy", 0.5)))
	appendFile(t, path, string(next[:10]))
	appendFile(t, filepath.Join(root, "train", "notes.txt"), "accuracy=1\n")
	var got []Sample
	tl.Poll(false, func(s Sample) { got = append(got, s) })
	if len(got) != 0 {
		t.Errorf("got %v before the record was written", got)
	}
	appendFile(t, path, string(next[10:]))
	tl.Poll(true, func(s Sample) { got = append(got, s) })
	want := []Sample{{Step: 2, HasStep: true, Metrics: []Metric{{"train/accuracy", 0.5}}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want, +got):\n%s", d)
	}
}
