package config

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/build"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/registry"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	esregistry "knobs.dev/knobs/pkg/earlystopping/registry"
	"knobs.dev/knobs/pkg/reconciler/suggestion/resources"
	pb "knobs.dev/knobs/pkg/suggestionpb"
	"knobs.dev/knobs/pkg/trialtemplate"
)

// The trial program every example Experiment runs.
const (
	trialImport = "knobs.dev/knobs/examples/trial"
	trialImage  = "ko://" + trialImport
	trialDir    = "../../examples/trial"
	// trialContainer is the name of the trial's container in every example.
	trialContainer = "trial"
	// designExample is the Experiment of the Katib Suggestion CRD design,
	// kept as the design states it: README, make run and test/crd show it.
	// Its trials run Katib's MXNet MNIST image, so its first trials run
	// examples/trial-python/mnist_standin.py, which prints what that image
	// prints, in place of the image's program.
	designExample = "experiment-random.yaml"
)

// imageFiles are the files of the example trials' images that live in
// examples/, by their path in the image or in the volume that carries them.
var imageFiles = map[string]string{
	// Katib's katib/mxnet-mnist-example, for the design's example.
	"/mxnet/example/image-classification/train_mnist.py": "../../examples/trial-python/mnist_standin.py",
}

// configMaps are the ConfigMaps the examples mount, as their comments tell
// a user to create them: each from a folder of examples/.
var configMaps = map[string]string{
	"trial-python": "../../examples/trial-python",
}

// katibMetricsFormat is the filter Katib's StdOut and File collectors use
// when metricsFormat is left out: name=value.
var katibMetricsFormat = regexp.MustCompile(`([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)`)

// algorithms are the registered algorithms, by name: those the functions
// serve.
var algorithms = func() map[string]algorithm.Algorithm {
	out := make(map[string]algorithm.Algorithm)
	for _, e := range registry.All() {
		out[e.Name] = e.Algorithm
	}
	return out
}()

// taskMetrics are the metrics the trial program reports for each --task.
var taskMetrics = map[string][]string{
	"branin":    {"loss"},
	"hartmann6": {"loss"},
	"ridge":     {"loss", "r2"},
}

// reportedMetrics returns the metrics the trial program reports when run
// with args, and whether its --task is one of the program's: --task=branin
// reports the objectives --objectives names in place of loss, and the
// constraint metric --constraint names.
func reportedMetrics(args []string) (string, []string, bool) {
	task := "ridge" // the trial program's default
	var objectives, constraint string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--task="); ok {
			task = v
		}
		if v, ok := strings.CutPrefix(a, "--objectives="); ok {
			objectives = v
		}
		if v, ok := strings.CutPrefix(a, "--constraint="); ok {
			constraint = v
		}
	}
	reported, ok := taskMetrics[task]
	if task == "branin" && objectives != "" {
		reported = strings.Split(objectives, ",")
	}
	if constraint != "" {
		reported = append(slices.Clone(reported), constraint)
	}
	return task, reported, ok
}

// exampleFile is one Experiment of examples/.
type exampleFile struct {
	file   string // base name
	header string // the leading comment
	exp    *v1alpha1.Experiment
}

// loadExamples decodes every examples/experiment-*.yaml strictly: one
// Experiment per file, no unknown fields.
func loadExamples(t *testing.T) []exampleFile {
	t.Helper()
	files, err := filepath.Glob("../../examples/experiment-*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples/experiment-*.yaml: %v", err)
	}
	var out []exampleFile
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(f)
		var docs [][]byte
		for _, doc := range yamlDocuments(t, base, data) {
			if len(bytes.TrimSpace(stripComments(doc))) > 0 {
				docs = append(docs, doc)
			}
		}
		if len(docs) != 1 {
			t.Errorf("%s: %d YAML documents, want one Experiment", base, len(docs))
			continue
		}
		e := &v1alpha1.Experiment{}
		if err := yaml.UnmarshalStrict(docs[0], e); err != nil {
			t.Errorf("%s: %v", base, err)
			continue
		}
		if e.APIVersion != v1alpha1.SchemeGroupVersion.String() || e.Kind != "Experiment" {
			t.Errorf("%s: %s %s, want %s Experiment", base, e.APIVersion, e.Kind, v1alpha1.SchemeGroupVersion)
			continue
		}
		var header strings.Builder
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.HasPrefix(line, "#") {
				break
			}
			header.WriteString(strings.TrimSpace(strings.TrimPrefix(line, "#")) + "\n")
		}
		out = append(out, exampleFile{file: base, header: header.String(), exp: e})
	}
	return out
}

func stripComments(doc []byte) []byte {
	var b bytes.Buffer
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			b.Write(line)
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// TestExamplesAreValid checks each example Experiment as the API server's
// webhook and the algorithm's function would: defaults and validation pass,
// the algorithm has a function and accepts the search space, objective and
// settings, and hands out a first batch of parallelTrialCount points.
func TestExamplesAreValid(t *testing.T) {
	ctx := context.Background()
	names := map[string]string{}
	for _, ex := range loadExamples(t) {
		t.Run(ex.file, func(t *testing.T) {
			e := ex.exp
			if prev, dup := names[e.Namespace+"/"+e.Name]; dup {
				t.Errorf("Experiment %s/%s is in %s too: applied together, one would replace the other", e.Namespace, e.Name, prev)
			}
			names[e.Namespace+"/"+e.Name] = ex.file

			e.SetDefaults(ctx)
			if err := e.Validate(ctx); err != nil {
				t.Fatalf("validation: %v", err)
			}

			name := e.Spec.Algorithm.AlgorithmName
			if ex.file != "experiment-"+name+".yaml" && !strings.HasPrefix(ex.file, "experiment-"+name+"-") {
				t.Errorf("algorithm %s is shown in %s: name the file experiment-%s.yaml or experiment-%s-<what>.yaml", name, ex.file, name, name)
			}
			if fi, err := os.Stat(filepath.Join("../../functions", name)); err != nil || !fi.IsDir() {
				t.Errorf("algorithm %s has no function: functions/%s: %v", name, name, err)
			}
			alg, ok := algorithms[name]
			if !ok {
				t.Fatalf("algorithm %s is not in this test's table of algorithms", name)
			}
			p, err := algorithm.NewProblem(alg, protoExperiment(e))
			if err != nil {
				t.Fatalf("the %s function would refuse it: %v", name, err)
			}
			n := int(*e.Spec.ParallelTrialCount)
			s, err := alg.Suggest(ctx, p, nil, n)
			if err != nil {
				t.Fatalf("first suggestions: %v", err)
			}
			if len(s.Points) != n {
				t.Errorf("first suggestions: %d points, want parallelTrialCount %d", len(s.Points), n)
			}

			if registry.MustLookup(name).Needs.Budget {
				if got := e.Spec.Objective.StrategyFor(e.Spec.Objective.ObjectiveMetricName); got != v1alpha1.MetricStrategyLatest {
					t.Errorf("a multi-fidelity experiment keeps the %s of %s; want latest, the value the trial's budget bought",
						got, e.Spec.Objective.ObjectiveMetricName)
				}
			}

			if ex.file == designExample {
				return
			}
			if !strings.Contains(ex.header, "ko apply -f examples/"+ex.file) && !strings.Contains(ex.header, "kubectl apply -f examples/"+ex.file) {
				t.Errorf("the comment at the top does not say how to run it: %q (or kubectl apply) is missing", "ko apply -f examples/"+ex.file)
			}
			if want := "kubectl get experiments,trials -w"; !strings.Contains(ex.header, want) {
				t.Errorf("the comment at the top does not say how to run it: %q is missing", want)
			}
		})
	}
}

// TestEveryAlgorithmHasAnExample checks that each function of functions/ is
// shown by an example Experiment whose trials run the trial program.
func TestEveryAlgorithmHasAnExample(t *testing.T) {
	shown := map[string]bool{}
	for _, ex := range loadExamples(t) {
		if ex.file != designExample {
			shown[ex.exp.Spec.Algorithm.AlgorithmName] = true
		}
		if es := ex.exp.Spec.EarlyStopping; es != nil {
			shown[es.AlgorithmName] = true
		}
	}
	entries, err := os.ReadDir("../../functions")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range entries {
		if !d.IsDir() {
			continue
		}
		if !shown[d.Name()] {
			t.Errorf("functions/%s has no example: add examples/experiment-%s.yaml, running %s", d.Name(), d.Name(), trialImage)
		}
		_, search := algorithms[d.Name()]
		_, stopping := esregistry.Lookup(d.Name())
		if !search && !stopping {
			t.Errorf("functions/%s serves no registered algorithm: add it to pkg/algorithm/registry or pkg/earlystopping/registry", d.Name())
		}
	}
}

// TestExampleTrialsRun renders the first trials of each example, checks the
// workload (a Job that runs once), and runs its trial container: the
// arguments of one with no command with the trial program built from
// examples/trial, which must print every metric the objective waits for in
// its last line; a command (python3 examples/trial-python/train.py, or the
// stand-in for the design example's image) as a program of this machine,
// where it is installed, whose output a metrics collector reads, so it must
// print every metric the objective waits for in Katib's name=value form.
func TestExampleTrialsRun(t *testing.T) {
	pkg, err := build.ImportDir(trialDir, 0)
	if err != nil || pkg.Name != "main" {
		t.Fatalf("%s is not a command (package main): %v", trialImport, err)
	}
	bin := filepath.Join(t.TempDir(), "trial")
	if out, err := exec.Command("go", "build", "-o", bin, trialImport).CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", trialImport, err, out)
	}
	ctx := context.Background()
	for _, ex := range loadExamples(t) {
		t.Run(ex.file, func(t *testing.T) {
			e := ex.exp
			e.SetDefaults(ctx)
			if e.Spec.TrialTemplate == nil {
				t.Fatal("no trialTemplate")
			}
			alg := algorithms[e.Spec.Algorithm.AlgorithmName]
			if alg == nil {
				t.Fatalf("unknown algorithm %s", e.Spec.Algorithm.AlgorithmName)
			}
			p, err := algorithm.NewProblem(alg, protoExperiment(e))
			if err != nil {
				t.Fatal(err)
			}
			s, err := alg.Suggest(ctx, p, nil, int(*e.Spec.ParallelTrialCount))
			if err != nil {
				t.Fatal(err)
			}
			var runs []*programRun
			for i, pt := range s.Points {
				var as []v1alpha1.ParameterAssignment
				for _, a := range p.Space.Format(pt) {
					as = append(as, v1alpha1.ParameterAssignment{Name: a.GetName(), Value: a.GetValue()})
				}
				trial := fmt.Sprintf("%s-%d", e.Name, i+1)
				job, c := trialJob(t, e, trial, as, ex.file == designExample)
				if c == nil {
					return
				}
				if len(c.Command) > 0 {
					runCommand(t, e, trial, job, c)
					continue
				}
				if !checkTrialProgram(t, e, trial, c) {
					return
				}
				// The trials of an example run at once, as on a cluster: an
				// example whose epochs pause takes the time of one trial.
				r := &programRun{trial: trial, args: c.Args, done: make(chan struct{})}
				go func() {
					defer close(r.done)
					r.out, r.err = exec.Command(bin, r.args...).CombinedOutput()
				}()
				runs = append(runs, r)
			}
			for _, r := range runs {
				<-r.done
				if r.err != nil {
					t.Errorf("%s: trial %q: %v\n%s", r.trial, r.args, r.err, r.out)
					continue
				}
				lines := strings.Split(strings.TrimSpace(string(r.out)), "\n")
				last := map[string]bool{}
				for _, f := range strings.Fields(lines[len(lines)-1]) {
					if k, _, ok := strings.Cut(f, "="); ok {
						last[k] = true
					}
				}
				for _, m := range e.Spec.Objective.MetricNames() {
					if !last[m] {
						t.Errorf("%s: trial %q printed %q: no metric %s", r.trial, r.args, lines[len(lines)-1], m)
					}
				}
			}
		})
	}
}

// programRun is one run of the trial program.
type programRun struct {
	trial string
	args  []string
	done  chan struct{}
	out   []byte
	err   error
}

// trialJob renders the trial's workload and returns it and its trial
// container, after checking that the workload is a batch/v1 Job run once
// (the design's example as Katib wrote it, without a backoffLimit), whose
// trial container is its only one or the one primaryContainerName names. It
// returns a nil container after reporting an error.
func trialJob(t *testing.T, e *v1alpha1.Experiment, trial string, as []v1alpha1.ParameterAssignment, design bool) (*batchv1.Job, *corev1.Container) {
	t.Helper()
	u, err := trialtemplate.Render(e.Spec.TrialTemplate, trial, e.Namespace, as, trialtemplate.Inactive(e.Spec.Parameters, as)...)
	if err != nil {
		t.Errorf("rendering %s: %v", trial, err)
		return nil, nil
	}
	if u.GetAPIVersion() != "batch/v1" || u.GetKind() != "Job" {
		t.Errorf("%s: the workload is a %s %s, want a batch/v1 Job", trial, u.GetAPIVersion(), u.GetKind())
		return nil, nil
	}
	raw, err := json.Marshal(u.Object)
	if err != nil {
		t.Fatal(err)
	}
	var job batchv1.Job
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&job); err != nil {
		t.Errorf("%s: the Job does not decode: %v", trial, err)
		return nil, nil
	}
	if !design && (job.Spec.BackoffLimit == nil || *job.Spec.BackoffLimit != 0) {
		t.Errorf("%s: backoffLimit %v, want 0: a trial runs once", trial, job.Spec.BackoffLimit)
	}
	pod := job.Spec.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("%s: restartPolicy %q, want Never", trial, pod.RestartPolicy)
	}
	primary := e.Spec.TrialTemplate.PrimaryContainerName
	switch {
	case primary != "":
		for i := range pod.Containers {
			if pod.Containers[i].Name == primary {
				return &job, &pod.Containers[i]
			}
		}
		t.Errorf("%s: no container named %s, the primaryContainerName", trial, primary)
	case len(pod.Containers) != 1:
		t.Errorf("%s: containers %v, want one, or primaryContainerName to say which is the trial", trial, pod.Containers)
	case design:
		return &job, &pod.Containers[0]
	case pod.Containers[0].Name != trialContainer:
		t.Errorf("%s: container %s, want it named %s", trial, pod.Containers[0].Name, trialContainer)
	default:
		return &job, &pod.Containers[0]
	}
	return nil, nil
}

// checkTrialProgram checks a container that runs the trial program: its
// image, and a task whose metrics are the objective's.
func checkTrialProgram(t *testing.T, e *v1alpha1.Experiment, trial string, c *corev1.Container) bool {
	t.Helper()
	if c.Image != trialImage {
		t.Errorf("%s: image %q, want %s", trial, c.Image, trialImage)
	}
	task, reported, ok := reportedMetrics(c.Args)
	if !ok {
		t.Errorf("%s: --task=%s is not a task of the trial program", trial, task)
		return false
	}
	for _, m := range e.Spec.Objective.MetricNames() {
		if !slices.Contains(reported, m) {
			t.Errorf("%s: the objective waits for metric %s, which --task=%s does not report (it reports %v)", trial, m, task, reported)
		}
	}
	return true
}

// runCommand runs a trial container's command on this machine, its files
// taken from examples/ (imageFiles, and the ConfigMaps it mounts), and
// checks that it prints every metric of the objective for a metrics
// collector to read. A program that is not installed here skips the run.
func runCommand(t *testing.T, e *v1alpha1.Experiment, trial string, job *batchv1.Job, c *corev1.Container) {
	t.Helper()
	kind := e.Spec.MetricsCollectorSpec.CollectorKind()
	if kind != v1alpha1.StdOutCollector && kind != v1alpha1.FileCollector {
		t.Errorf("%s: a program that prints its metrics needs a collector that reads them (StdOut or File), not %s", trial, kind)
	}
	files := map[string]string{}
	for from, to := range imageFiles {
		files[from] = to
	}
	for _, m := range c.VolumeMounts {
		for _, v := range job.Spec.Template.Spec.Volumes {
			if v.Name != m.Name {
				continue
			}
			if v.ConfigMap == nil || configMaps[v.ConfigMap.Name] == "" {
				t.Errorf("%s: volume %s is not a ConfigMap of examples/ (%v)", trial, v.Name, slices.Collect(maps.Keys(configMaps)))
				return
			}
			files[m.MountPath] = configMaps[v.ConfigMap.Name]
		}
	}
	argv := append(slices.Clone(c.Command), c.Args...)
	for i, a := range argv {
		for from, to := range files {
			if a == from || strings.HasPrefix(a, from+"/") {
				abs, err := filepath.Abs(to + strings.TrimPrefix(a, from))
				if err != nil {
					t.Fatal(err)
				}
				argv[i] = abs
			}
		}
		if strings.HasPrefix(argv[i], "/") {
			if _, err := os.Stat(argv[i]); err != nil && i > 0 {
				t.Errorf("%s: %s is neither on this machine nor in examples/ (%v)", trial, a, err)
				return
			}
		}
	}
	if _, err := exec.LookPath(argv[0]); err != nil {
		t.Logf("%s: not run: %v", trial, err)
		return
	}
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Errorf("%s: %q: %v\n%s", trial, argv, err, out)
		return
	}
	printed := map[string]bool{}
	if kind != v1alpha1.FileCollector {
		for _, m := range katibMetricsFormat.FindAllStringSubmatch(string(out), -1) {
			printed[m[1]] = true
		}
	}
	for _, m := range e.Spec.Objective.MetricNames() {
		if !printed[m] {
			t.Errorf("%s: %q printed no %s=<value>:\n%s", trial, argv, m, out)
		}
	}
}

// protoExperiment is the experiment as a Suggestion request carries it.
func protoExperiment(e *v1alpha1.Experiment) *pb.Experiment {
	return &pb.Experiment{
		Name: e.Name,
		ExperimentSpec: &pb.ExperimentSpec{
			Algorithm: &pb.AlgorithmSpec{
				AlgorithmName:     e.Spec.Algorithm.AlgorithmName,
				AlgorithmSettings: resources.ProtoSettings(e.Spec.Algorithm.AlgorithmSettings),
			},
			Objective:      resources.ProtoObjective(&e.Spec.Objective),
			ParameterSpecs: &pb.ParameterSpecs{Parameters: resources.ProtoParameters(e.Spec.Parameters)},
		},
	}
}
