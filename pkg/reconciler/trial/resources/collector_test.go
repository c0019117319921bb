package resources_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/reconciler/trial/resources"
)

const collectorImage = "registry.example.com/knobs/knobs-collector@sha256:0123"

// jobWith is a batch/v1 Job whose pod spec is podSpec, in YAML.
func jobWith(podSpec string) string {
	spec := map[string]any{}
	if err := yaml.Unmarshal([]byte(podSpec), &spec); err != nil {
		panic(err)
	}
	data, _ := json.Marshal(map[string]any{
		"apiVersion": "batch/v1", "kind": "Job",
		"spec": map[string]any{"template": map[string]any{"spec": spec}},
	})
	return string(data)
}

const trainer = `
restartPolicy: Never
containers:
  - name: training-container
    image: docker.io/kubeflowkatib/pytorch-mnist-cpu
    command: [python3, /opt/pytorch-mnist/mnist.py]
    args: [--epochs=1, --lr=0.01]
`

// collecting is a trial option: the metrics collector of kind reading fp,
// with formats.
func collecting(kind v1alpha1.CollectorKind, fp *v1alpha1.FileSystemPath, formats ...string) func(*v1alpha1.Trial) {
	return func(t *v1alpha1.Trial) {
		mc := &v1alpha1.MetricsCollectorSpec{Collector: &v1alpha1.CollectorSpec{Kind: kind}}
		if fp != nil || formats != nil {
			mc.Source = &v1alpha1.SourceSpec{FileSystemPath: fp}
		}
		if formats != nil {
			mc.Source.Filter = &v1alpha1.FilterSpec{MetricsFormat: formats}
		}
		t.Spec.MetricsCollector = mc
	}
}

func objectiveLoss(t *v1alpha1.Trial) {
	t.Spec.Objective = &v1alpha1.ObjectiveSpec{Type: v1alpha1.ObjectiveTypeMinimize, ObjectiveMetricName: "loss", AdditionalMetricNames: []string{"accuracy"}}
}

func primary(name string) func(*v1alpha1.Trial) {
	return func(t *v1alpha1.Trial) { t.Spec.PrimaryContainerName = name }
}

// initContainer is the init container that copies the collector, in YAML.
const initContainer = `
  - name: knobs-collector-init
    image: ` + collectorImage + `
    args: [copy, /knobs/bin/knobs-collector]
    volumeMounts:
      - {name: knobs-bin, mountPath: /knobs/bin}
`

func TestAddMetricsCollector(t *testing.T) {
	tests := []struct {
		name string
		spec string // the pod spec of the Job
		opts []func(*v1alpha1.Trial)
		want string // the pod spec after, without the containers' env; empty: unchanged
	}{{
		name: "Push, the default: unchanged",
		spec: trainer,
		opts: []func(*v1alpha1.Trial){objectiveLoss},
	}, {
		name: "Push: unchanged",
		spec: trainer,
		opts: []func(*v1alpha1.Trial){objectiveLoss, collecting(v1alpha1.PushCollector, nil)},
	}, {
		name: "None: unchanged",
		spec: trainer,
		opts: []func(*v1alpha1.Trial){objectiveLoss, collecting(v1alpha1.NoneCollector, nil)},
	}, {
		name: "StdOut: the only container is wrapped, with every metric",
		spec: trainer,
		opts: []func(*v1alpha1.Trial){objectiveLoss, collecting(v1alpha1.StdOutCollector, nil)},
		want: `
restartPolicy: Never
initContainers:` + initContainer + `
containers:
  - name: training-container
    image: docker.io/kubeflowkatib/pytorch-mnist-cpu
    command: [/knobs/bin/knobs-collector]
    args: [-kind, StdOut, -metric, loss, -metric, accuracy, --, python3, /opt/pytorch-mnist/mnist.py, --epochs=1, --lr=0.01]
    volumeMounts:
      - {name: knobs-bin, mountPath: /knobs/bin, readOnly: true}
volumes:
  - {name: knobs-bin, emptyDir: {}}
`,
	}, {
		name: "StdOut with formats, a command without args, the collector's init container first",
		spec: `
initContainers:
  - {name: fetch, image: busybox, command: [wget, http://data]}
containers:
  - name: training-container
    image: trainer
    command: [train]
    volumeMounts:
      - {name: data, mountPath: /data}
volumes:
  - {name: data, emptyDir: {}}
`,
		opts: []func(*v1alpha1.Trial){objectiveLoss, collecting(v1alpha1.StdOutCollector, nil, `([\w|-]+)\s*=\s*((-?\d+)(\.\d+)?)`, `(\w+): (\S+)`)},
		want: `
initContainers:` + initContainer + `
  - {name: fetch, image: busybox, command: [wget, http://data]}
containers:
  - name: training-container
    image: trainer
    command: [/knobs/bin/knobs-collector]
    args: [-kind, StdOut, -metric, loss, -metric, accuracy, -format, '([\w|-]+)\s*=\s*((-?\d+)(\.\d+)?)', -format, '(\w+): (\S+)', --, train]
    volumeMounts:
      - {name: data, mountPath: /data}
      - {name: knobs-bin, mountPath: /knobs/bin, readOnly: true}
volumes:
  - {name: data, emptyDir: {}}
  - {name: knobs-bin, emptyDir: {}}
`,
	}, {
		name: "File: the path's directory gets a volume",
		spec: trainer,
		opts: []func(*v1alpha1.Trial){objectiveLoss, collecting(v1alpha1.FileCollector, &v1alpha1.FileSystemPath{Path: "/var/log/katib/metrics.log"})},
		want: `
restartPolicy: Never
initContainers:` + initContainer + `
containers:
  - name: training-container
    image: docker.io/kubeflowkatib/pytorch-mnist-cpu
    command: [/knobs/bin/knobs-collector]
    args: [-kind, File, -metric, loss, -metric, accuracy, -path, /var/log/katib/metrics.log, -path-kind, File, -file-format, TEXT,
      --, python3, /opt/pytorch-mnist/mnist.py, --epochs=1, --lr=0.01]
    volumeMounts:
      - {name: knobs-bin, mountPath: /knobs/bin, readOnly: true}
      - {name: metrics-volume, mountPath: /var/log/katib}
volumes:
  - {name: knobs-bin, emptyDir: {}}
  - {name: metrics-volume, emptyDir: {}}
`,
	}, {
		name: "File in JSON under a volume the container mounts already",
		spec: `
containers:
  - name: training-container
    image: trainer
    command: [train]
    volumeMounts:
      - {name: output, mountPath: /output/}
volumes:
  - {name: output, persistentVolumeClaim: {claimName: runs}}
`,
		opts: []func(*v1alpha1.Trial){collecting(v1alpha1.FileCollector, &v1alpha1.FileSystemPath{Path: "/output/run-1/metrics.json", Format: v1alpha1.JsonFormat})},
		want: `
initContainers:` + initContainer + `
containers:
  - name: training-container
    image: trainer
    command: [/knobs/bin/knobs-collector]
    args: [-kind, File, -path, /output/run-1/metrics.json, -path-kind, File, -file-format, JSON, --, train]
    volumeMounts:
      - {name: output, mountPath: /output/}
      - {name: knobs-bin, mountPath: /knobs/bin, readOnly: true}
volumes:
  - {name: output, persistentVolumeClaim: {claimName: runs}}
  - {name: knobs-bin, emptyDir: {}}
`,
	}, {
		name: "File reading the files of a directory: the directory itself gets a volume",
		spec: trainer,
		opts: []func(*v1alpha1.Trial){collecting(v1alpha1.FileCollector, &v1alpha1.FileSystemPath{Path: "/output", Kind: v1alpha1.DirectoryKind, Format: v1alpha1.JsonFormat})},
		want: `
restartPolicy: Never
initContainers:` + initContainer + `
containers:
  - name: training-container
    image: docker.io/kubeflowkatib/pytorch-mnist-cpu
    command: [/knobs/bin/knobs-collector]
    args: [-kind, File, -path, /output, -path-kind, Directory, -file-format, JSON,
      --, python3, /opt/pytorch-mnist/mnist.py, --epochs=1, --lr=0.01]
    volumeMounts:
      - {name: knobs-bin, mountPath: /knobs/bin, readOnly: true}
      - {name: metrics-volume, mountPath: /output}
volumes:
  - {name: knobs-bin, emptyDir: {}}
  - {name: metrics-volume, emptyDir: {}}
`,
	}, {
		name: "TensorFlowEvent: the directory itself gets a volume",
		spec: `
containers:
  - name: tensorflow
    image: trainer
    command: [python, /opt/mnist.py]
    args: [--log_dir=/var/log/tfevent]
    volumeMounts:
      - {name: cache, mountPath: /var/log/tfevent-cache}
volumes:
  - {name: cache, emptyDir: {}}
`,
		opts: []func(*v1alpha1.Trial){objectiveLoss, collecting(v1alpha1.TfEventCollector, &v1alpha1.FileSystemPath{Path: "/var/log/tfevent/"})},
		want: `
initContainers:` + initContainer + `
containers:
  - name: tensorflow
    image: trainer
    command: [/knobs/bin/knobs-collector]
    args: [-kind, TensorFlowEvent, -metric, loss, -metric, accuracy, -path, /var/log/tfevent/, -path-kind, Directory,
      --, python, /opt/mnist.py, --log_dir=/var/log/tfevent]
    volumeMounts:
      - {name: cache, mountPath: /var/log/tfevent-cache}
      - {name: knobs-bin, mountPath: /knobs/bin, readOnly: true}
      - {name: metrics-volume, mountPath: /var/log/tfevent}
volumes:
  - {name: cache, emptyDir: {}}
  - {name: knobs-bin, emptyDir: {}}
  - {name: metrics-volume, emptyDir: {}}
`,
	}, {
		name: "the primary container by name, the sidecar left alone",
		spec: `
containers:
  - {name: proxy, image: envoy}
  - {name: training-container, image: trainer, command: [train], args: [--lr=0.01]}
`,
		opts: []func(*v1alpha1.Trial){collecting(v1alpha1.StdOutCollector, nil), primary("training-container")},
		want: `
initContainers:` + initContainer + `
containers:
  - {name: proxy, image: envoy}
  - name: training-container
    image: trainer
    command: [/knobs/bin/knobs-collector]
    args: [-kind, StdOut, --, train, --lr=0.01]
    volumeMounts:
      - {name: knobs-bin, mountPath: /knobs/bin, readOnly: true}
volumes:
  - {name: knobs-bin, emptyDir: {}}
`,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTrial(jobWith(tc.spec), tc.opts...)
			before := tr.DeepCopy()
			w, err := resources.MakeWorkload(tr, sink, token)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if want == "" {
				want = tc.spec
			}
			if err := resources.AddMetricsCollector(w, tr, collectorImage); err != nil {
				t.Fatalf("AddMetricsCollector() = %v", err)
			}
			if diff := cmp.Diff(fromYAML(t, want), podSpecWithoutEnv(t, w)); diff != "" {
				t.Errorf("pod spec (-want, +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tr); diff != "" {
				t.Errorf("AddMetricsCollector() changed the trial (-before, +after):\n%s", diff)
			}
		})
	}
}

func TestAddMetricsCollectorErrors(t *testing.T) {
	tests := []struct {
		name  string
		spec  string
		opts  []func(*v1alpha1.Trial)
		image string
		want  string
	}{{
		name: "several containers and no primary container name",
		spec: `
containers:
  - {name: proxy, image: envoy}
  - {name: training-container, image: trainer, command: [train]}
`,
		opts: []func(*v1alpha1.Trial){collecting(v1alpha1.StdOutCollector, nil)},
		want: "spec.runSpec.spec.template.spec.containers has 2 containers (proxy, training-container) and the trial no primaryContainerName: " +
			"set the Experiment's trialTemplate.primaryContainerName to the one that runs the training program, for the StdOut metrics collector to wrap",
	}, {
		name: "no container of the primary container's name",
		spec: trainer,
		opts: []func(*v1alpha1.Trial){collecting(v1alpha1.StdOutCollector, nil), primary("pytorch")},
		want: `spec.runSpec has no container named "pytorch", the primaryContainerName: name the container that runs the training program, one of training-container`,
	}, {
		name: "the primary container without command",
		spec: `
containers:
  - {name: training-container, image: trainer, args: [--lr=0.01]}
`,
		opts: []func(*v1alpha1.Trial){collecting(v1alpha1.FileCollector, &v1alpha1.FileSystemPath{Path: "/var/log/m.log"})},
		want: "spec.runSpec.spec.template.spec.containers[0].command is missing: the File metrics collector runs the program of container training-container as " +
			"/knobs/bin/knobs-collector [flags] -- <command> <args>, and cannot know the entrypoint of its image; give the container its command (and args) in the trial template",
	}, {
		name: "a command that is not a list of strings",
		spec: `
containers:
  - {name: training-container, image: trainer, command: [train, 3]}
`,
		opts: []func(*v1alpha1.Trial){collecting(v1alpha1.StdOutCollector, nil)},
		want: "spec.runSpec.spec.template.spec.containers[0].command[1] is a number, not a string",
	}, {
		name: "a format without two groups",
		spec: trainer,
		opts: []func(*v1alpha1.Trial){collecting(v1alpha1.StdOutCollector, nil, `loss=(\d+)`)},
		want: "the trial's metrics collector is invalid: invalid value: loss=(\\d+): spec.metricsCollector.source.filter.metricsFormat[0]",
	}, {
		name:  "no collector image",
		spec:  trainer,
		opts:  []func(*v1alpha1.Trial){collecting(v1alpha1.StdOutCollector, nil)},
		image: "-",
		want:  "the controller has no image of the StdOut metrics collector: set KNOBS_COLLECTOR_IMAGE in its environment",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTrial(jobWith(tc.spec), tc.opts...)
			w, err := resources.MakeWorkload(tr, sink, token)
			if err != nil {
				t.Fatal(err)
			}
			image := collectorImage
			if tc.image == "-" {
				image = ""
			}
			err = resources.AddMetricsCollector(w, tr, image)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("AddMetricsCollector() =\n%v\nwant\n%s", err, tc.want)
			}
		})
	}
}

// TestAddMetricsCollectorEveryPodTemplate wraps the primary container of
// each replica of a Kubeflow PyTorchJob.
func TestAddMetricsCollectorEveryPodTemplate(t *testing.T) {
	replica := map[string]any{"replicas": 1, "template": map[string]any{"spec": map[string]any{
		"containers": []any{map[string]any{"name": "pytorch", "image": "trainer", "command": []any{"torchrun", "train.py"}}},
	}}}
	data, _ := json.Marshal(map[string]any{"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "spec": map[string]any{
		"pytorchReplicaSpecs": map[string]any{"Master": replica, "Worker": replica},
	}})
	tr := newTrial(string(data), collecting(v1alpha1.StdOutCollector, nil), objectiveLoss, primary("pytorch"))
	w, err := resources.MakeWorkload(tr, sink, token)
	if err != nil {
		t.Fatal(err)
	}
	if err := resources.AddMetricsCollector(w, tr, collectorImage); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"Master", "Worker"} {
		args, _, _ := unstructured.NestedSlice(w.Object, "spec", "pytorchReplicaSpecs", r, "template", "spec", "containers")
		got := args[0].(map[string]any)["args"]
		want := []any{"-kind", "StdOut", "-metric", "loss", "-metric", "accuracy", "--", "torchrun", "train.py"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s args (-want, +got):\n%s", r, diff)
		}
	}
}

func fromYAML(t *testing.T, s string) map[string]any {
	t.Helper()
	m := map[string]any{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// podSpecWithoutEnv returns the pod spec of a Job as JSON would decode it,
// without the containers' env, which MakeWorkload's tests check.
func podSpecWithoutEnv(t *testing.T, w *unstructured.Unstructured) map[string]any {
	t.Helper()
	spec, _, err := unstructured.NestedMap(w.Object, "spec", "template", "spec")
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	for _, c := range out["containers"].([]any) {
		delete(c.(map[string]any), "env")
	}
	return out
}
