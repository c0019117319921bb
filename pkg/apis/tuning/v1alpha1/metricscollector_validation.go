package v1alpha1

import (
	"path"
	"regexp"

	"knative.dev/pkg/apis"
)

// twoGroups says what a metrics format lacks.
const twoGroups = `a metrics format needs two capture groups, the metric's name and its value, such as ([\w|-]+)\s*=\s*((-?\d+)(\.\d+)?)`

// Validate checks a metrics collector spec as Katib does; every error names
// the field to fix. An empty collector kind is Push, an empty path kind the
// collector's default (File for File, Directory for TensorFlowEvent). Unlike
// Katib's, the File collector may read every file of a Directory.
func (mc *MetricsCollectorSpec) Validate() *apis.FieldError {
	if mc == nil {
		return nil
	}
	var errs *apis.FieldError
	kind := mc.CollectorKind()
	switch kind {
	case StdOutCollector, FileCollector, TfEventCollector, PushCollector, NoneCollector:
	default:
		errs = errs.Also(apis.ErrInvalidValue(kind, "collector.kind", "use StdOut, File, TensorFlowEvent, Push or None"))
	}

	fp := mc.FileSystemPath()
	switch {
	case fp != nil && kind != FileCollector && kind != TfEventCollector:
		errs = errs.Also(&apis.FieldError{
			Message: "fileSystemPath is for the File and TensorFlowEvent collectors, not " + string(kind),
			Paths:   []string{"source.fileSystemPath"},
		})
	case fp != nil:
		errs = errs.Also(fp.validate(kind).ViaField("source", "fileSystemPath"))
	}

	for i, f := range mc.MetricsFormat() {
		re, err := regexp.Compile(f)
		switch {
		case err != nil:
			errs = errs.Also(apis.ErrInvalidValue(f, apis.CurrentField, err.Error()).
				ViaFieldIndex("metricsFormat", i).ViaField("source", "filter"))
		case re.NumSubexp() < 2:
			errs = errs.Also(apis.ErrInvalidValue(f, apis.CurrentField, twoGroups).
				ViaFieldIndex("metricsFormat", i).ViaField("source", "filter"))
		}
	}
	if fp != nil && fp.Format == JsonFormat && len(mc.MetricsFormat()) > 0 {
		errs = errs.Also(&apis.FieldError{
			Message: "metricsFormat is for TEXT files and output: a JSON file names its metrics itself",
			Paths:   []string{"source.filter.metricsFormat"},
		})
	}
	return errs
}

// validate checks the path a collector of kind reads.
func (fp *FileSystemPath) validate(kind CollectorKind) *apis.FieldError {
	var errs *apis.FieldError
	switch {
	case fp.Path == "":
		errs = errs.Also(apis.ErrMissingField("path"))
	case !path.IsAbs(fp.Path):
		errs = errs.Also(apis.ErrInvalidValue(fp.Path, "path", "the path must be absolute, such as /var/log/katib/metrics.log"))
	case kind == FileCollector && fp.Kind != DirectoryKind && path.Dir(path.Clean(fp.Path)) == "/":
		errs = errs.Also(apis.ErrInvalidValue(fp.Path, "path", "the file must be in a directory below /, such as /var/log/katib/metrics.log: the directory gets a volume of its own"))
	case path.Clean(fp.Path) == "/":
		errs = errs.Also(apis.ErrInvalidValue(fp.Path, "path", "the directory must be below /, such as /var/log/katib/tfevent: it gets a volume of its own"))
	}

	switch {
	case fp.Kind != "" && fp.Kind != FileKind && fp.Kind != DirectoryKind:
		errs = errs.Also(apis.ErrInvalidValue(fp.Kind, "kind", "use File or Directory"))
	case kind == TfEventCollector && fp.Kind == FileKind:
		errs = errs.Also(apis.ErrInvalidValue(fp.Kind, "kind", "the TensorFlowEvent collector reads the event files of a Directory"))
	}

	switch fp.Format {
	case "", TextFormat:
	case JsonFormat:
		if kind != FileCollector {
			errs = errs.Also(apis.ErrInvalidValue(fp.Format, "format", "JSON is for the File collector"))
		}
	default:
		errs = errs.Also(apis.ErrInvalidValue(fp.Format, "format", "use TEXT or JSON"))
	}
	return errs
}
