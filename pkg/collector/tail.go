package collector

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// fileReader parses one file's bytes as they come.
type fileReader interface {
	// Write parses p, which follows what came before.
	Write(p []byte)
	// End parses what is left at the end of the file.
	End()
}

// Tailer reads what a run appends to a file, or to the files under a
// directory, in rounds: Poll reads what is new since the last round.
// What a file held when the Tailer was made is skipped, unless the file
// is then truncated, rewritten from its start, or replaced: then it is
// read from its start.
type Tailer struct {
	root string
	dir  bool
	// match says whether a file under a directory is read.
	match func(path string) bool
	// open returns the reader of a file's bytes, which hands its samples
	// to emit.
	open func(path string, emit func(Sample)) fileReader
	// at holds the files as they were when the Tailer was made.
	at    map[string]startState
	files map[string]*tailed
	buf   []byte
	// round collects a round's samples, to order them by step.
	round []Sample
}

// startState is a file as it was at the start: what it is, how much of it
// there was, and its first bytes, to see it rewritten.
type startState struct {
	info os.FileInfo
	head []byte
}

const headBytes = 4 << 10

type tailed struct {
	info os.FileInfo
	off  int64
	// head is the file's first bytes at the start, while it is read from
	// where it then ended.
	head []byte
	r    fileReader
}

// NewTailer returns a Tailer of root, a file or (when dir) a directory
// whose files, at any depth, are read when match says so. It notes what
// they hold now, which is not read.
func NewTailer(root string, dir bool, match func(path string) bool, open func(path string, emit func(Sample)) fileReader) *Tailer {
	t := &Tailer{root: root, dir: dir, match: match, open: open, at: map[string]startState{}, files: map[string]*tailed{}}
	for _, p := range t.list() {
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		st := startState{info: fi}
		if f, err := os.Open(p); err == nil {
			st.head = make([]byte, min(fi.Size(), headBytes))
			n, _ := io.ReadFull(f, st.head)
			st.head = st.head[:n]
			f.Close()
		}
		t.at[p] = st
	}
	return t
}

// list returns the files to read.
func (t *Tailer) list() []string {
	if !t.dir {
		return []string{t.root}
	}
	var paths []string
	_ = filepath.WalkDir(t.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a directory that went away, or not there yet
		}
		if d.Type().IsRegular() && (t.match == nil || t.match(p)) {
			paths = append(paths, p)
		}
		return nil
	})
	sort.Strings(paths)
	return paths
}

// Poll reads what was added since the last round and hands the samples
// to add: ordered by step when several files gave samples that all have
// one (so that files written side by side, such as training and
// validation summaries, batch by step). With final, it also parses what
// is left at the ends of the files: the last line without a newline.
func (t *Tailer) Poll(final bool, add func(Sample)) {
	t.round = t.round[:0]
	emit := func(s Sample) { t.round = append(t.round, s) }
	sources := 0
	for _, p := range t.list() {
		before := len(t.round)
		t.read(p, emit, final)
		if len(t.round) > before {
			sources++
		}
	}
	if sources > 1 {
		stepped := true
		for _, s := range t.round {
			stepped = stepped && s.HasStep
		}
		if stepped {
			sort.SliceStable(t.round, func(i, j int) bool { return t.round[i].Step < t.round[j].Step })
		}
	}
	for i, s := range t.round {
		add(s)
		t.round[i] = Sample{}
	}
}

// read reads one file from where it was left.
func (t *Tailer) read(p string, emit func(Sample), final bool) {
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return
	}
	f, err := os.Open(p)
	if err != nil {
		return
	}
	defer f.Close()

	tf := t.files[p]
	switch {
	case tf == nil:
		tf = &tailed{info: fi}
		if st, ok := t.at[p]; ok && os.SameFile(st.info, fi) && fi.Size() >= st.info.Size() && sameHead(f, st.head) {
			tf.off, tf.head = st.info.Size(), st.head
		}
		tf.r = t.open(p, emit)
		t.files[p] = tf
	case !os.SameFile(tf.info, fi) || fi.Size() < tf.off || (tf.head != nil && !sameHead(f, tf.head)):
		// Replaced, truncated, or rewritten from its start.
		*tf = tailed{info: fi, r: t.open(p, emit)}
	}
	tf.info = fi
	if fi.Size() > tf.off {
		if _, err := f.Seek(tf.off, io.SeekStart); err != nil {
			return
		}
		if t.buf == nil {
			t.buf = make([]byte, 256<<10)
		}
		for {
			n, err := f.Read(t.buf)
			if n > 0 {
				tf.off += int64(n)
				tf.r.Write(t.buf[:n])
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					return
				}
				break
			}
		}
	}
	if final {
		tf.r.End()
	}
}

// sameHead says whether f starts with head.
func sameHead(f *os.File, head []byte) bool {
	if len(head) == 0 {
		return true
	}
	b := make([]byte, len(head))
	n, _ := f.ReadAt(b, 0)
	return bytes.Equal(b[:n], head)
}

// textReader parses a file's lines, each a sample.
type textReader struct {
	lineSplitter
}

func newTextReader(parse func(line []byte, dst []Metric) []Metric, filter Filter, emit func(Sample)) *textReader {
	var buf []Metric
	r := &textReader{}
	r.fn = func(line []byte) {
		buf = parse(line, buf[:0])
		if len(buf) > 0 {
			emit(sampleOf(buf, filter))
		}
	}
	return r
}

// tfReader parses a TensorFlow event file's records, each event with
// scalars a sample named by tag, or by "<directory>/<tag>" as well for a
// file under a directory (Katib's "train/accuracy").
type tfReader struct {
	records tfRecords
	dir     string // the name of the file's directory below the root; "" at the root
	filter  Filter
	emit    func(Sample)
	buf     []TFScalar
}

func (r *tfReader) Write(p []byte) {
	r.records.Write(p)
	for {
		data, ok := r.records.Next()
		if !ok {
			return
		}
		step, scalars, err := ParseTFEvent(data, r.buf[:0])
		r.buf = scalars
		if err != nil || len(scalars) == 0 || step < 0 {
			continue
		}
		var ms []Metric
		for _, s := range scalars {
			if name, ok := r.name(s.Tag); ok {
				ms = merge(ms, []Metric{{Name: name, Value: s.Value}})
			}
		}
		if len(ms) > 0 {
			r.emit(Sample{Step: step, HasStep: true, Metrics: ms})
		}
	}
}

// End drops a record cut short.
func (r *tfReader) End() { r.records = tfRecords{} }

// name returns the metric a tag is reported as.
func (r *tfReader) name(tag string) (string, bool) {
	if r.filter.all() {
		if r.dir != "" {
			return r.dir + "/" + tag, true
		}
		return tag, true
	}
	if r.filter.collects(tag) {
		return tag, true
	}
	if r.dir != "" && r.filter.collects(r.dir+"/"+tag) {
		return r.dir + "/" + tag, true
	}
	return "", false
}
