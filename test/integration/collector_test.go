//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/benchmark"
)

// Each collector kind, an Experiment run to its end: the trials print or
// write their metrics, knobs-collector (copied into the pod by the init
// container the controller adds) reads and reports them, and the
// Experiment picks the best. Push, where the program reports itself, is
// every other test of this suite.
func TestMetricsCollectors(t *testing.T) {
	startController(t, "controller-collectors")
	fn := startFunction(t, "random")
	python := func(t *testing.T) {
		if _, err := exec.LookPath("python3"); err != nil {
			t.Skipf("python3 is not installed: %v", err)
		}
	}
	setup := func(t *testing.T) string {
		ns := namespace(t)
		createService(t, ns, "random", "random", fn.url)
		startNode(t, ns, nil)
		return ns
	}

	// train.py prints "epoch=3 loss=0.2315 accuracy=0.9050" after each of its
	// 10 epochs, and appends the same, as text or JSON, to --metrics-file.
	for _, tc := range []struct {
		name string
		mc   *v1alpha1.MetricsCollectorSpec
		args []string
	}{
		{"StdOut", nil, nil},
		{"File/TEXT", fileCollector("/var/log/katib/metrics.log", v1alpha1.TextFormat), []string{"--metrics-file=/var/log/katib/metrics.log"}},
		{"File/JSON", fileCollector("/var/log/katib/metrics.json", v1alpha1.JsonFormat), []string{"--metrics-file=/var/log/katib/metrics.json", "--metrics-format=json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			python(t)
			t.Parallel()
			ns := setup(t)
			createTrialConfigMap(t, ns)
			e := pythonExperiment(t, ns, 6, tc.mc, tc.args...)
			create(t, e)
			e = waitEnded(t, ns, e.Name, 2*time.Minute)
			trials := checkExperiment(t, e)
			checkAllSucceeded(t, e, trials, 6)
			for _, tr := range trials {
				obs := tr.Status.Observation
				if obs == nil || obs.Step == nil || *obs.Step != 10 || obs.Reports != 10 || obs.Metric("accuracy") == nil {
					t.Errorf("trial %s: observation %+v, want loss and accuracy at step 10 after 10 reports", tr.Name, obs)
					continue
				}
				for _, name := range []string{"loss", "accuracy"} {
					checkCurve(t, tr.Name, obs.Metric(name), 10)
				}
			}
			logBest(t, e, len(trials))
		})
	}

	// A Go program writes TensorFlow event files: loss = branin + 1/step,
	// for 3 steps.
	t.Run("TensorFlowEvent", func(t *testing.T) {
		t.Parallel()
		ns := setup(t)
		e := braninExperiment("tfevents", ns, "random", 2, 4, 0, nil)
		e.Spec.TrialTemplate.GoTemplate.RawTemplate = fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata:
  name: {{.Trial}}
  namespace: {{.NameSpace}}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: trial
          image: registry.example.com/knobs/tfevents
          command:
            - %q
            - --logdir=/var/log/tfevents
{{- range .HyperParameters}}
            - "{{.Name}}={{.Value}}"
{{- end}}
`, filepath.Join(env.bin, "tfevents"))
		e.Spec.MetricsCollectorSpec = &v1alpha1.MetricsCollectorSpec{
			Collector: &v1alpha1.CollectorSpec{Kind: v1alpha1.TfEventCollector},
			Source:    &v1alpha1.SourceSpec{FileSystemPath: &v1alpha1.FileSystemPath{Path: "/var/log/tfevents", Kind: v1alpha1.DirectoryKind}},
		}
		create(t, e)
		e = waitEnded(t, ns, e.Name, 2*time.Minute)
		trials := checkExperiment(t, e)
		checkAllSucceeded(t, e, trials, 4)
		for _, tr := range trials {
			var x [2]float64
			for i, a := range tr.Spec.ParameterAssignments {
				x[i], _ = strconv.ParseFloat(a.Value, 64)
			}
			want := float64(float32(benchmark.BraninAt(x[0], x[1]) + 1.0/3))
			obs := tr.Status.Observation
			m := obs.Metric("loss")
			if m == nil || obs.Step == nil || *obs.Step != 3 || obs.Reports != 3 {
				t.Errorf("trial %s: observation %+v, want loss at step 3 after 3 reports", tr.Name, obs)
				continue
			}
			if v, _ := strconv.ParseFloat(m.Value, 64); math.Abs(v-want) > 1e-4*math.Max(1, want) {
				t.Errorf("trial %s at %v: loss %s, want %v (the last of the event file's, the least)", tr.Name, x, m.Value, want)
			}
			checkCurve(t, tr.Name, m, 3)
		}
		logBest(t, e, len(trials))
	})

	// None: the trial's success awaits no metrics.
	t.Run("None", func(t *testing.T) {
		t.Parallel()
		ns := setup(t)
		e := braninExperiment("none", ns, "random", 2, 4, 0, nil)
		e.Spec.TrialTemplate.GoTemplate.RawTemplate = `apiVersion: batch/v1
kind: Job
metadata:
  name: {{.Trial}}
  namespace: {{.NameSpace}}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: trial
          image: docker.io/library/busybox
          command: ["sh", "-c", "echo trained{{range .HyperParameters}} {{.Name}}={{.Value}}{{end}}"]
`
		e.Spec.MetricsCollectorSpec = &v1alpha1.MetricsCollectorSpec{Collector: &v1alpha1.CollectorSpec{Kind: v1alpha1.NoneCollector}}
		create(t, e)
		e = waitEnded(t, ns, e.Name, 2*time.Minute)
		trials := checkExperiment(t, e)
		checkAllSucceeded(t, e, trials, 4)
		for _, tr := range trials {
			if tr.Status.Observation.Metric("loss") != nil {
				t.Errorf("trial %s: observation %+v from a trial that reports nothing", tr.Name, tr.Status.Observation)
			}
		}
		t.Logf("%s: %d trials, best %+v", succeeded(e), len(trials), e.Status.CurrentOptimalTrial)
	})

	// The design's example as shipped (Katib's MXNet MNIST image, its script
	// played by examples/trial-python/mnist_standin.py), under the StdOut
	// collector it sets.
	t.Run("StdOut/design-example", func(t *testing.T) {
		if _, err := exec.LookPath("python"); err != nil {
			t.Skipf("python is not installed: %v", err)
		}
		t.Parallel()
		ns := setup(t)
		e := readExperiment(t, "examples/experiment-random.yaml")
		e.Namespace = ns
		create(t, e)
		e = waitEnded(t, ns, e.Name, 2*time.Minute)
		trials := checkExperiment(t, e)
		checkAllSucceeded(t, e, trials, 12)
		for _, tr := range trials {
			obs := tr.Status.Observation
			if obs.Metric("Validation-accuracy") == nil || obs.Metric("accuracy") == nil {
				t.Errorf("trial %s: observation %+v, want Validation-accuracy and accuracy", tr.Name, obs)
			}
		}
		logBest(t, e, len(trials))
	})
}

func fileCollector(path string, format v1alpha1.FileFormat) *v1alpha1.MetricsCollectorSpec {
	return &v1alpha1.MetricsCollectorSpec{
		Collector: &v1alpha1.CollectorSpec{Kind: v1alpha1.FileCollector},
		Source:    &v1alpha1.SourceSpec{FileSystemPath: &v1alpha1.FileSystemPath{Path: path, Kind: v1alpha1.FileKind, Format: format}},
	}
}

// createTrialConfigMap creates the ConfigMap the Python example mounts, as
// its comment says.
func createTrialConfigMap(t *testing.T, ns string) {
	t.Helper()
	if _, err := env.cp.Kubectl(context.Background(), nil, "create", "configmap", "trial-python",
		"--from-file="+filepath.Join(env.root, "examples/trial-python/train.py"), "-n", ns); err != nil {
		t.Fatal(err)
	}
}

// pythonExperiment is examples/experiment-random-python.yaml in ns, with
// maxTrials trials, the collector mc (the example's StdOut when nil) and
// args added to train.py's.
func pythonExperiment(t *testing.T, ns string, maxTrials int32, mc *v1alpha1.MetricsCollectorSpec, args ...string) *v1alpha1.Experiment {
	t.Helper()
	e := readExperiment(t, "examples/experiment-random-python.yaml")
	e.Namespace = ns
	e.Spec.MaxTrialCount = ptr.To(maxTrials)
	if mc != nil {
		e.Spec.MetricsCollectorSpec = mc
	}
	if len(args) == 0 {
		return e
	}
	var spec map[string]any
	if err := json.Unmarshal(e.Spec.TrialTemplate.TrialSpec.Raw, &spec); err != nil {
		t.Fatal(err)
	}
	c := spec["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	for _, a := range args {
		c["command"] = append(c["command"].([]any), a)
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	e.Spec.TrialTemplate.TrialSpec = &runtime.RawExtension{Raw: raw}
	return e
}

// checkAllSucceeded checks an Experiment that ran n trials, every one
// succeeded.
func checkAllSucceeded(t *testing.T, e *v1alpha1.Experiment, trials []v1alpha1.Trial, n int) {
	t.Helper()
	c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded)
	if !c.IsTrue() || c.Reason != v1alpha1.ExperimentReasonMaxTrialsReached || len(trials) != n || e.Status.TrialsSucceeded != int32(n) {
		t.Errorf("%s with %d trials, %d succeeded; want MaxTrialsReached with %d of %d", succeeded(e), len(trials), e.Status.TrialsSucceeded, n, n)
		for _, tr := range trials {
			if tr.Status.Phase() != v1alpha1.TrialReasonSucceeded {
				t.Logf("trial %s: %+v", tr.Name, tr.Status.GetCondition(v1alpha1.TrialConditionSucceeded))
			}
		}
	}
}

func logBest(t *testing.T, e *v1alpha1.Experiment, trials int) {
	t.Helper()
	if b := e.Status.CurrentOptimalTrial; b != nil {
		t.Logf("%s after %d trials; best %s %v: %v", succeeded(e), trials, b.BestTrialName, b.ParameterAssignments, b.Observation.Metrics)
	}
}

// checkCurve checks that a metric's learning curve holds one point per
// step, steps 1 to n in order, the last one its latest value.
func checkCurve(t *testing.T, trial string, m *v1alpha1.Metric, n int) {
	t.Helper()
	if len(m.Curve) != n {
		t.Errorf("trial %s: %s has a curve of %d points, want %d: %+v", trial, m.Name, len(m.Curve), n, m.Curve)
		return
	}
	for i, p := range m.Curve {
		if p.Step != int64(i+1) {
			t.Errorf("trial %s: %s curve point %d at step %d, want %d", trial, m.Name, i, p.Step, i+1)
		}
	}
	if last := m.Curve[n-1].Value; last != m.Latest {
		t.Errorf("trial %s: %s curve ends at %s, its latest value is %s", trial, m.Name, last, m.Latest)
	}
}
