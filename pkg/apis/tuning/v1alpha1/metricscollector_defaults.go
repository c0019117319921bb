package v1alpha1

// Katib's default paths, for a File or TensorFlowEvent collector that names
// none.
const (
	DefaultMetricsFile    = "/var/log/katib/metrics.log"
	DefaultTfEventDirPath = "/var/log/katib/tfevent/"
)

// SetDefaults fills in Katib's defaults: collector kind Push; for the File
// collector, the path /var/log/katib/metrics.log of kind File in format
// TEXT; for TensorFlowEvent, the Directory /var/log/katib/tfevent/.
func (mc *MetricsCollectorSpec) SetDefaults() {
	if mc.Collector == nil {
		mc.Collector = &CollectorSpec{}
	}
	if mc.Collector.Kind == "" {
		mc.Collector.Kind = PushCollector
	}
	fp := mc.FileSystemPath()
	if fp == nil {
		switch mc.Collector.Kind {
		case FileCollector:
			fp = &FileSystemPath{Path: DefaultMetricsFile}
		case TfEventCollector:
			fp = &FileSystemPath{Path: DefaultTfEventDirPath}
		default:
			return
		}
		if mc.Source == nil {
			mc.Source = &SourceSpec{}
		}
		mc.Source.FileSystemPath = fp
	}
	switch mc.Collector.Kind {
	case FileCollector:
		if fp.Kind == "" {
			fp.Kind = FileKind
		}
		if fp.Format == "" {
			fp.Format = TextFormat
		}
	case TfEventCollector:
		if fp.Kind == "" {
			fp.Kind = DirectoryKind
		}
	}
}
