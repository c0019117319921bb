package v1alpha1

// MetricsCollectorSpec says how a trial's metrics reach Knobs: Katib's
// metricsCollectorSpec. Push, the default, leaves reporting to the trial's
// program (a CloudEvent to $K_SINK); StdOut, File and TensorFlowEvent run
// the program through a collector that reads its metrics from its output or
// from a file and reports them; None awaits no metrics at all.
type MetricsCollectorSpec struct {
	// Source is where the collector reads the metrics.
	// +optional
	Source *SourceSpec `json:"source,omitempty"`

	// Collector is the kind of collector.
	// +optional
	Collector *CollectorSpec `json:"collector,omitempty"`
}

// SourceSpec is where a collector reads a trial's metrics.
type SourceSpec struct {
	// FileSystemPath is the file (File) or directory (TensorFlowEvent) the
	// program writes its metrics to.
	// +optional
	FileSystemPath *FileSystemPath `json:"fileSystemPath,omitempty"`

	// Filter says how metrics are found in text output.
	// +optional
	Filter *FilterSpec `json:"filter,omitempty"`
}

// FilterSpec says how metrics are found in text output.
type FilterSpec struct {
	// MetricsFormat are regular expressions (Go's RE2 syntax) with two
	// capture groups, the metric's name and its value, such as
	// ([\w|-]+)\s*=\s*((-?\d+)(\.\d+)?). Without them the collector uses
	// Katib's default, which reads name=value.
	// +optional
	MetricsFormat []string `json:"metricsFormat,omitempty"`
}

// FileSystemKind says whether a path is a file or a directory.
type FileSystemKind string

// The kinds of path.
const (
	DirectoryKind FileSystemKind = "Directory"
	FileKind      FileSystemKind = "File"
)

// FileFormat is the format of a metrics file.
type FileFormat string

// The formats of a metrics file: lines of text matched by metricsFormat, or
// one JSON object per line.
const (
	TextFormat FileFormat = "TEXT"
	JsonFormat FileFormat = "JSON"
)

// FileSystemPath is a file or directory the program writes its metrics to.
type FileSystemPath struct {
	// Path is absolute.
	// +optional
	Path string `json:"path,omitempty"`

	// Kind is File or Directory.
	// +optional
	Kind FileSystemKind `json:"kind,omitempty"`

	// Format is TEXT or JSON, for the File collector.
	// +optional
	Format FileFormat `json:"format,omitempty"`
}

// CollectorKind is the kind of a metrics collector.
type CollectorKind string

// The kinds of collector.
const (
	// StdOutCollector reads the metrics from the program's output.
	StdOutCollector CollectorKind = "StdOut"
	// FileCollector reads them from a file the program writes.
	FileCollector CollectorKind = "File"
	// TfEventCollector reads them from the TensorFlow event files the
	// program writes to a directory.
	TfEventCollector CollectorKind = "TensorFlowEvent"
	// PushCollector collects nothing: the program reports its metrics to
	// $K_SINK itself.
	PushCollector CollectorKind = "Push"
	// NoneCollector collects nothing, and a trial's success awaits no
	// metrics.
	NoneCollector CollectorKind = "None"
)

// CollectorSpec is the kind of a metrics collector.
type CollectorSpec struct {
	// Kind is StdOut, File, TensorFlowEvent, Push (the default) or None.
	Kind CollectorKind `json:"kind"`
}

// CollectorKind returns the kind of collector: Push when none is given.
func (mc *MetricsCollectorSpec) CollectorKind() CollectorKind {
	if mc == nil || mc.Collector == nil || mc.Collector.Kind == "" {
		return PushCollector
	}
	return mc.Collector.Kind
}

// Wraps reports whether the collector runs the trial's program: StdOut, File
// and TensorFlowEvent do, Push and None do not.
func (k CollectorKind) Wraps() bool {
	switch k {
	case StdOutCollector, FileCollector, TfEventCollector:
		return true
	}
	return false
}

// FileSystemPath returns the path the collector reads, or nil.
func (mc *MetricsCollectorSpec) FileSystemPath() *FileSystemPath {
	if mc == nil || mc.Source == nil {
		return nil
	}
	return mc.Source.FileSystemPath
}

// MetricsFormat returns the regular expressions of the filter, if any.
func (mc *MetricsCollectorSpec) MetricsFormat() []string {
	if mc == nil || mc.Source == nil || mc.Source.Filter == nil {
		return nil
	}
	return mc.Source.Filter.MetricsFormat
}
