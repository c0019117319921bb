package v1alpha1

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"knative.dev/pkg/apis"
)

// collector is a metrics collector spec of a kind, reading fp, with formats.
func collector(kind CollectorKind, fp *FileSystemPath, formats ...string) *MetricsCollectorSpec {
	mc := &MetricsCollectorSpec{Collector: &CollectorSpec{Kind: kind}}
	if fp != nil || formats != nil {
		mc.Source = &SourceSpec{FileSystemPath: fp}
	}
	if formats != nil {
		mc.Source.Filter = &FilterSpec{MetricsFormat: formats}
	}
	return mc
}

func TestMetricsCollectorValidation(t *testing.T) {
	const katibFormat = `([\w|-]+)\s*=\s*((-?\d+)(\.\d+)?)`
	tests := []struct {
		name string
		mc   *MetricsCollectorSpec
		want *apis.FieldError
	}{{
		name: "none given: Push",
	}, {
		name: "no collector: Push",
		mc:   &MetricsCollectorSpec{},
	}, {
		name: "StdOut",
		mc:   collector(StdOutCollector, nil),
	}, {
		name: "StdOut with Katib's format and another",
		mc:   collector(StdOutCollector, nil, katibFormat, `"(\w+)": (\S+)`),
	}, {
		name: "File",
		mc:   collector(FileCollector, &FileSystemPath{Path: "/var/log/katib/metrics.log", Kind: FileKind, Format: TextFormat}),
	}, {
		name: "File in JSON",
		mc:   collector(FileCollector, &FileSystemPath{Path: "/var/log/katib/metrics.json", Format: JsonFormat}),
	}, {
		name: "TensorFlowEvent",
		mc:   collector(TfEventCollector, &FileSystemPath{Path: "/var/log/katib/tfevent/", Kind: DirectoryKind}),
	}, {
		name: "Push",
		mc:   collector(PushCollector, nil),
	}, {
		name: "None",
		mc:   collector(NoneCollector, nil),
	}, {
		name: "a kind Knobs lacks",
		mc:   collector("PrometheusMetric", nil),
		want: apis.ErrInvalidValue("PrometheusMetric", "collector.kind", "use StdOut, File, TensorFlowEvent, Push or None"),
	}, {
		name: "File without a path: Katib's default path",
		mc:   collector(FileCollector, nil),
	}, {
		name: "TensorFlowEvent without a path: Katib's default path",
		mc:   collector(TfEventCollector, nil, katibFormat),
	}, {
		name: "a path for StdOut",
		mc:   collector(StdOutCollector, &FileSystemPath{Path: "/tmp/m.log"}),
		want: &apis.FieldError{Message: "fileSystemPath is for the File and TensorFlowEvent collectors, not StdOut", Paths: []string{"source.fileSystemPath"}},
	}, {
		name: "a path for Push, the default",
		mc:   &MetricsCollectorSpec{Source: &SourceSpec{FileSystemPath: &FileSystemPath{Path: "/tmp/m.log"}}},
		want: &apis.FieldError{Message: "fileSystemPath is for the File and TensorFlowEvent collectors, not Push", Paths: []string{"source.fileSystemPath"}},
	}, {
		name: "File with an empty path",
		mc:   collector(FileCollector, &FileSystemPath{Kind: FileKind}),
		want: apis.ErrMissingField("source.fileSystemPath.path"),
	}, {
		name: "File with a relative path",
		mc:   collector(FileCollector, &FileSystemPath{Path: "metrics.log"}),
		want: apis.ErrInvalidValue("metrics.log", "source.fileSystemPath.path", "the path must be absolute, such as /var/log/katib/metrics.log"),
	}, {
		name: "File at the root",
		mc:   collector(FileCollector, &FileSystemPath{Path: "/metrics.log"}),
		want: apis.ErrInvalidValue("/metrics.log", "source.fileSystemPath.path",
			"the file must be in a directory below /, such as /var/log/katib/metrics.log: the directory gets a volume of its own"),
	}, {
		name: "TensorFlowEvent at the root",
		mc:   collector(TfEventCollector, &FileSystemPath{Path: "/"}),
		want: apis.ErrInvalidValue("/", "source.fileSystemPath.path", "the directory must be below /, such as /var/log/katib/tfevent: it gets a volume of its own"),
	}, {
		name: "File reading the files of a directory",
		mc:   collector(FileCollector, &FileSystemPath{Path: "/var/log/katib", Kind: DirectoryKind}),
	}, {
		name: "TensorFlowEvent reading a file",
		mc:   collector(TfEventCollector, &FileSystemPath{Path: "/var/log/katib/events", Kind: FileKind}),
		want: apis.ErrInvalidValue(FileKind, "source.fileSystemPath.kind", "the TensorFlowEvent collector reads the event files of a Directory"),
	}, {
		name: "an unknown path kind",
		mc:   collector(FileCollector, &FileSystemPath{Path: "/var/log/m.log", Kind: "Socket"}),
		want: apis.ErrInvalidValue("Socket", "source.fileSystemPath.kind", "use File or Directory"),
	}, {
		name: "an unknown format",
		mc:   collector(FileCollector, &FileSystemPath{Path: "/var/log/m.log", Format: "CSV"}),
		want: apis.ErrInvalidValue("CSV", "source.fileSystemPath.format", "use TEXT or JSON"),
	}, {
		name: "JSON for TensorFlowEvent",
		mc:   collector(TfEventCollector, &FileSystemPath{Path: "/var/log/tf", Format: JsonFormat}),
		want: apis.ErrInvalidValue(JsonFormat, "source.fileSystemPath.format", "JSON is for the File collector"),
	}, {
		name: "metricsFormat and JSON both",
		mc:   collector(FileCollector, &FileSystemPath{Path: "/var/log/m.json", Format: JsonFormat}, katibFormat),
		want: &apis.FieldError{Message: "metricsFormat is for TEXT files and output: a JSON file names its metrics itself", Paths: []string{"source.filter.metricsFormat"}},
	}, {
		name: "a format that does not compile",
		mc:   collector(StdOutCollector, nil, katibFormat, `(\w+=(\d+)`),
		want: apis.ErrInvalidValue(`(\w+=(\d+)`, "source.filter.metricsFormat[1]", "error parsing regexp: missing closing ): `(\\w+=(\\d+)`"),
	}, {
		name: "a format with one group",
		mc:   collector(StdOutCollector, nil, `loss=(\d+)`),
		want: apis.ErrInvalidValue(`loss=(\d+)`, "source.filter.metricsFormat[0]", twoGroups),
	}, {
		name: "an empty format",
		mc:   collector(StdOutCollector, nil, ""),
		want: apis.ErrInvalidValue("", "source.filter.metricsFormat[0]", twoGroups),
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkFieldError(t, tc.mc.Validate(), tc.want)
			// Defaulting changes no verdict.
			if tc.mc != nil {
				mc := tc.mc.DeepCopy()
				mc.SetDefaults()
				checkFieldError(t, mc.Validate(), tc.want)
			}
		})
	}
}

func TestMetricsCollectorInExperimentAndTrial(t *testing.T) {
	e := katibExperiment()
	e.Spec.MetricsCollectorSpec = collector(FileCollector, &FileSystemPath{Path: "metrics.log"})
	e.Spec.TrialTemplate = &TrialTemplate{GoTemplate: &GoTemplate{RawTemplate: "kind: Job"}, PrimaryContainerName: "Training_Container"}
	want := apis.ErrInvalidValue("Training_Container", "spec.trialTemplate.primaryContainerName",
		"a container's name: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')").
		Also(apis.ErrInvalidValue("metrics.log", "spec.metricsCollectorSpec.source.fileSystemPath.path", "the path must be absolute, such as /var/log/katib/metrics.log"))
	checkFieldError(t, e.Validate(context.Background()), want)

	tr := &Trial{Spec: TrialSpec{MetricsCollector: collector("Custom", nil)}}
	checkFieldError(t, tr.Validate(context.Background()),
		apis.ErrInvalidValue("Custom", "spec.metricsCollector.collector.kind", "use StdOut, File, TensorFlowEvent, Push or None"))
}

func TestMetricsCollectorDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   *MetricsCollectorSpec
		want *MetricsCollectorSpec
	}{{
		name: "empty: Push",
		in:   &MetricsCollectorSpec{},
		want: collector(PushCollector, nil),
	}, {
		name: "File: a file in TEXT",
		in:   collector(FileCollector, &FileSystemPath{Path: "/var/log/m.log"}),
		want: collector(FileCollector, &FileSystemPath{Path: "/var/log/m.log", Kind: FileKind, Format: TextFormat}),
	}, {
		name: "File in JSON stays JSON",
		in:   collector(FileCollector, &FileSystemPath{Path: "/var/log/m.json", Format: JsonFormat}),
		want: collector(FileCollector, &FileSystemPath{Path: "/var/log/m.json", Kind: FileKind, Format: JsonFormat}),
	}, {
		name: "TensorFlowEvent: a directory, no format",
		in:   collector(TfEventCollector, &FileSystemPath{Path: "/var/log/tf"}),
		want: collector(TfEventCollector, &FileSystemPath{Path: "/var/log/tf", Kind: DirectoryKind}),
	}, {
		name: "StdOut: nothing to add",
		in:   collector(StdOutCollector, nil, "(a)=(b)"),
		want: collector(StdOutCollector, nil, "(a)=(b)"),
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &Experiment{Spec: ExperimentSpec{MetricsCollectorSpec: tc.in.DeepCopy()}}
			e.SetDefaults(context.Background())
			if diff := cmp.Diff(tc.want, e.Spec.MetricsCollectorSpec); diff != "" {
				t.Errorf("Experiment.SetDefaults (-want, +got):\n%s", diff)
			}
			tr := &Trial{Spec: TrialSpec{MetricsCollector: tc.in.DeepCopy()}}
			tr.SetDefaults(context.Background())
			tr.SetDefaults(context.Background())
			if diff := cmp.Diff(tc.want, tr.Spec.MetricsCollector); diff != "" {
				t.Errorf("Trial.SetDefaults twice (-want, +got):\n%s", diff)
			}
		})
	}
}

func TestCollectorKind(t *testing.T) {
	for _, tc := range []struct {
		mc    *MetricsCollectorSpec
		want  CollectorKind
		wraps bool
	}{
		{nil, PushCollector, false},
		{&MetricsCollectorSpec{}, PushCollector, false},
		{collector("", nil), PushCollector, false},
		{collector(NoneCollector, nil), NoneCollector, false},
		{collector(StdOutCollector, nil), StdOutCollector, true},
		{collector(FileCollector, nil), FileCollector, true},
		{collector(TfEventCollector, nil), TfEventCollector, true},
	} {
		if got := tc.mc.CollectorKind(); got != tc.want || got.Wraps() != tc.wraps {
			t.Errorf("CollectorKind() = %s (wraps %v), want %s (wraps %v)", got, got.Wraps(), tc.want, tc.wraps)
		}
	}
}

func TestMetricsCollectorDefaultPaths(t *testing.T) {
	for _, tc := range []struct {
		kind CollectorKind
		want *FileSystemPath
	}{
		{FileCollector, &FileSystemPath{Path: DefaultMetricsFile, Kind: FileKind, Format: TextFormat}},
		{TfEventCollector, &FileSystemPath{Path: DefaultTfEventDirPath, Kind: DirectoryKind}},
		{StdOutCollector, nil},
	} {
		mc := collector(tc.kind, nil)
		mc.SetDefaults()
		if got := mc.FileSystemPath(); !cmp.Equal(got, tc.want) {
			t.Errorf("%s: defaulted path %+v, want %+v", tc.kind, got, tc.want)
		}
		if err := mc.Validate(); err != nil {
			t.Errorf("%s: the defaulted spec is invalid: %v", tc.kind, err)
		}
	}
}
