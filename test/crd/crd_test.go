// Package crd checks the CustomResourceDefinitions of config/ with the code
// the Kubernetes API server runs (k8s.io/apiextensions-apiserver): the CRDs
// must be accepted as the API server would accept them (structural schemas,
// CEL rules within the cost budget), the examples must be admitted, and
// malformed objects must be refused with the path of the field to fix.
package crd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apiextensions-apiserver/pkg/registry/customresource"
	"k8s.io/apiextensions-apiserver/pkg/registry/customresource/tableconvertor"
	"k8s.io/apiextensions-apiserver/pkg/registry/customresourcedefinition"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured/unstructuredscheme"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"knative.dev/pkg/apis"
	"sigs.k8s.io/yaml"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

// repoRoot is where config/ and examples/ live, seen from this package.
const repoRoot = "../.."

// crdFiles maps each kind to its CRD's file.
var crdFiles = map[string]string{
	"Experiment": "config/300-experiment.yaml",
	"Suggestion": "config/300-suggestion.yaml",
	"Trial":      "config/300-trial.yaml",
}

// server holds what the API server builds from one CRD to serve its
// resources: the structural schema, the create/update strategy (OpenAPI
// schema validation, metadata, list types and CEL rules) and the table
// convertor of the printer columns.
type server struct {
	crd        *apiextensionsv1.CustomResourceDefinition
	version    apiextensionsv1.CustomResourceDefinitionVersion
	structural *structuralschema.Structural
	strategy   interface {
		rest.RESTCreateStrategy
		rest.RESTUpdateStrategy
	}
	table rest.TableConvertor
}

// newServer reads a CRD, checks it as the API server does on create, and
// builds what the API server builds to serve it, the way
// pkg/apiserver/customresource_handler.go does.
func newServer(t *testing.T, kind string) *server {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, crdFiles[kind]))
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(data, crd); err != nil {
		t.Fatalf("%s: %v", crdFiles[kind], err)
	}
	apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(crd)

	// The CRD itself, as POST /apis/apiextensions.k8s.io/v1/customresourcedefinitions
	// checks it (the registry strategy runs
	// validation.ValidateCustomResourceDefinition): a non-structural schema,
	// an invalid CEL rule or one over the cost budget fails here.
	internal := &apiextensions.CustomResourceDefinition{}
	if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(crd, internal, nil); err != nil {
		t.Fatalf("%s: converting to the internal version: %v", crdFiles[kind], err)
	}
	crdStrategy := customresourcedefinition.NewStrategy(unstructuredscheme.NewUnstructuredObjectTyper())
	ctx := context.Background()
	crdStrategy.PrepareForCreate(ctx, internal)
	for _, e := range crdStrategy.Validate(ctx, internal) {
		t.Errorf("%s: the API server would refuse the CRD: %v", crdFiles[kind], e)
	}
	for _, w := range crdStrategy.WarningsOnCreate(ctx, internal) {
		t.Errorf("%s: the API server would warn: %s", crdFiles[kind], w)
	}
	if t.Failed() {
		t.FailNow()
	}

	if len(crd.Spec.Versions) != 1 {
		t.Fatalf("%s: want one version, got %d", crdFiles[kind], len(crd.Spec.Versions))
	}
	v := crd.Spec.Versions[0]
	internalValidation := &apiextensions.CustomResourceValidation{}
	if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(v.Schema, internalValidation, nil); err != nil {
		t.Fatal(err)
	}
	s, err := structuralschema.NewStructural(internalValidation.OpenAPIV3Schema)
	if err != nil {
		t.Fatalf("%s: not a structural schema: %v", crdFiles[kind], err)
	}
	if err := structuraldefaulting.PruneDefaults(s); err != nil {
		t.Fatal(err)
	}
	validator, _, err := apiservervalidation.NewSchemaValidator(internalValidation.OpenAPIV3Schema)
	if err != nil {
		t.Fatal(err)
	}
	statusSchema := internalValidation.OpenAPIV3Schema.Properties["status"]
	statusValidator, _, err := apiservervalidation.NewSchemaValidator(&statusSchema)
	if err != nil {
		t.Fatal(err)
	}
	gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind}
	strategy := customresource.NewStrategy(unstructuredscheme.NewUnstructuredObjectTyper(),
		crd.Spec.Scope == apiextensionsv1.NamespaceScoped, gvk, validator, statusValidator, s,
		&apiextensions.CustomResourceSubresourceStatus{}, nil, v.SelectableFields)
	table, err := tableconvertor.New(v.AdditionalPrinterColumns)
	if err != nil {
		t.Fatalf("%s: printer columns: %v", crdFiles[kind], err)
	}
	return &server{crd: crd, version: v, structural: s, strategy: strategy, table: table}
}

// decode reads an object as the API server reads a request body: JSON into
// unstructured (integers stay integers), unknown fields pruned and reported,
// nulls of non-nullable fields dropped, defaults applied.
func (s *server) decode(t *testing.T, obj map[string]any) (*unstructured.Unstructured, []string) {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		t.Fatal(err)
	}
	unknown := structuralpruning.PruneWithOptions(u.Object, s.structural, true,
		structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(u.Object, s.structural)
	structuraldefaulting.Default(u.Object, s.structural)
	return u, unknown
}

// create validates obj as the API server validates a create, except that
// status is kept (and so validated too) rather than dropped.
func (s *server) create(t *testing.T, obj map[string]any) field.ErrorList {
	t.Helper()
	u, unknown := s.decode(t, obj)
	for _, f := range unknown {
		t.Errorf("unknown field %s would be dropped by the API server", f)
	}
	ctx := request.WithNamespace(context.Background(), u.GetNamespace())
	return s.strategy.Validate(ctx, u)
}

// update validates an update of old to obj, as for kubectl apply or edit.
func (s *server) update(t *testing.T, old, obj map[string]any) field.ErrorList {
	t.Helper()
	uOld, _ := s.decode(t, old)
	uNew, _ := s.decode(t, obj)
	ctx := request.WithNamespace(context.Background(), uNew.GetNamespace())
	s.strategy.PrepareForUpdate(ctx, uNew, uOld)
	return s.strategy.ValidateUpdate(ctx, uNew, uOld)
}

var (
	servers = map[string]*server{}
	refused = map[string]bool{}
)

// serverFor returns the server of a kind, built once.
func serverFor(t *testing.T, kind string) *server {
	t.Helper()
	if s, ok := servers[kind]; ok {
		return s
	}
	if refused[kind] {
		t.Fatalf("the API server would refuse the CRD of %s; see the first failure", kind)
	}
	refused[kind] = true
	s := newServer(t, kind)
	servers[kind] = s
	refused[kind] = false
	return s
}

// readYAML reads a YAML file of the repository as a JSON-shaped map.
func readYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, path))
	if err != nil {
		t.Fatal(err)
	}
	return fromYAML(t, string(data))
}

func fromYAML(t *testing.T, s string) map[string]any {
	t.Helper()
	obj := map[string]any{}
	if err := yaml.Unmarshal([]byte(s), &obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

// trial is a Trial as the Experiment controller would create it for the
// first assignment of the random experiment, with the status it reaches.
const trial = `
apiVersion: tuning.knobs.dev/v1alpha1
kind: Trial
metadata:
  namespace: default
  name: random-experiment-fsa2f
  labels:
    tuning.knobs.dev/experiment: random-experiment
spec:
  parameterAssignments:
    - name: --lr
      value: "0.02"
    - name: --num-layers
      value: "4"
    - name: --optimizer
      value: sgd
  runSpec:
    apiVersion: batch/v1
    kind: Job
    metadata:
      name: random-experiment-fsa2f
      namespace: default
    spec:
      template:
        spec:
          containers:
            - name: random-experiment-fsa2f
              image: katib/mxnet-mnist-example
          restartPolicy: Never
  objective:
    type: maximize
    goal: 0.99
    objectiveMetricName: Validation-accuracy
    additionalMetricNames:
      - accuracy
    metricStrategies:
      - name: accuracy
        value: max
  successCondition: status.conditions.#(type=="Complete")#|#(status=="True")#
  failureCondition: status.conditions.#(type=="Failed")#|#(status=="True")#
status:
  observedGeneration: 1
  conditions:
    - type: Succeeded
      status: "True"
      reason: Succeeded
      message: the objective metric was observed
      lastTransitionTime: "2026-01-02T03:04:05Z"
  observation:
    metrics:
      - name: Validation-accuracy
        value: "0.9731"
        min: "0.9012"
        max: "0.9731"
        latest: "0.9699"
      - name: accuracy
        value: "0.9802"
        min: "0.9105"
        max: "0.9802"
        latest: "0.9802"
    step: 12
    reports: 13
  startTime: "2026-01-02T03:00:00Z"
  completionTime: "2026-01-02T03:04:05Z"
`

// handWrittenTrial is a Trial without workload or objective, whose
// observation is written by hand.
const handWrittenTrial = `
apiVersion: tuning.knobs.dev/v1alpha1
kind: Trial
metadata:
  namespace: default
  name: by-hand
spec:
  parameterAssignments:
    - name: --lr
      value: "0.02"
status:
  observation:
    metrics:
      - name: Validation-accuracy
        value: "0.95"
`

// Metrics collector specs as Katib's documentation gives them.
const (
	stdOutCollector = `
collector:
  kind: StdOut
source:
  filter:
    metricsFormat:
      - "([\\w|-]+)\\s*=\\s*((-?\\d+)(\\.\\d+)?)"
      - "{metricName: ([\\w|-]+), metricValue: ((-?\\d+)(\\.\\d+)?)}"
`
	fileCollector = `
collector:
  kind: File
source:
  fileSystemPath:
    path: /var/log/katib/metrics.log
    kind: File
    format: TEXT
`
	tfEventCollector = `
collector:
  kind: TensorFlowEvent
source:
  fileSystemPath:
    path: /var/log/katib/tfevent/
    kind: Directory
`
)

// withCollector is the Experiment of file (or, file empty, the trial) with
// the metrics collector spec mc and the primary container named.
func withCollector(t *testing.T, file, mc string) object {
	t.Helper()
	if file == "" {
		o := object(fromYAML(t, trial))
		o.m("spec")["metricsCollector"] = fromYAML(t, mc)
		o.m("spec")["primaryContainerName"] = "training-container"
		return o
	}
	o := object(readYAML(t, file))
	o.m("spec")["metricsCollectorSpec"] = fromYAML(t, mc)
	o.m("spec", "trialTemplate")["primaryContainerName"] = "training-container"
	return o
}

// experimentStatus is the status the random experiment reaches after a
// few trials.
const experimentStatus = `
observedGeneration: 1
conditions:
  - type: Succeeded
    status: Unknown
    reason: Running
    lastTransitionTime: "2026-01-02T03:04:05Z"
trials: 9
trialsSucceeded: 4
trialsFailed: 1
trialsRunning: 3
trialsPending: 1
trialsMetricsUnavailable: 1
trialsEarlyStopped: 1
trialsKilled: 0
currentOptimalTrial:
  bestTrialName: random-experiment-fsa2f
  parameterAssignments:
    - {name: --lr, value: "0.02"}
    - {name: --num-layers, value: "4"}
    - {name: --optimizer, value: sgd}
  observation:
    metrics:
      - {name: Validation-accuracy, value: "0.9731", min: "0.9012", max: "0.9731", latest: "0.9699"}
      - {name: accuracy, value: "0.9802", min: "0.9105", max: "0.9802", latest: "0.9802"}
    step: 12
    reports: 13
`

// experimentWithStrategies is the random experiment with a metric strategy
// for each of its metrics and the status it reaches.
func experimentWithStrategies(t *testing.T) object {
	t.Helper()
	o := object(readYAML(t, "examples/experiment-random.yaml"))
	o.m("spec", "objective")["metricStrategies"] = []any{
		map[string]any{"name": "Validation-accuracy", "value": "latest"},
		map[string]any{"name": "accuracy", "value": "min"},
	}
	o["status"] = fromYAML(t, experimentStatus)
	return o
}

// multiObjectiveExperiment is the random experiment with a second
// objective, constraints (one of them on the objective metric), a strategy
// for a constraint's metric and the status it reaches.
func multiObjectiveExperiment(t *testing.T) object {
	t.Helper()
	o := object(readYAML(t, "examples/experiment-random.yaml"))
	obj := o.m("spec", "objective")
	obj["additionalObjectives"] = []any{map[string]any{"name": "latency", "type": "minimize"}}
	obj["constraints"] = []any{
		map[string]any{"name": "Validation-accuracy", "min": 0.5},
		map[string]any{"name": "cost", "min": 0, "max": 2.5},
	}
	obj["metricStrategies"] = []any{map[string]any{"name": "cost", "value": "max"}}
	o["status"] = fromYAML(t, experimentStatus+`
trialsInfeasible: 1
paretoOptimalTrialCount: 2
paretoOptimalTrials:
  - bestTrialName: random-experiment-fsa2f
    parameterAssignments:
      - {name: --lr, value: "0.02"}
    observation:
      metrics:
        - {name: Validation-accuracy, value: "0.9731"}
        - {name: latency, value: "3"}
        - {name: cost, value: "1"}
  - bestTrialName: random-experiment-hoj53
`)
	return o
}

// suggestionStatus is the status the Suggestion of the random experiment
// reaches after its first request, as in the design's walk-through.
const suggestionStatus = `
observedGeneration: 1
conditions:
  - type: Ready
    status: "True"
    lastTransitionTime: "2026-01-02T03:04:05Z"
  - type: FunctionReady
    status: "True"
    reason: KnativeService
    message: Knative Service knobs-system/random
    lastTransitionTime: "2026-01-02T03:04:05Z"
  - type: Fulfilled
    status: "True"
    reason: SuggestionsHandedOut
    message: 3 assignments handed out
    lastTransitionTime: "2026-01-02T03:04:05Z"
suggestionCount: 3
suggestions:
  - name: random-experiment-fsa2f
    parameterAssignments:
      - {name: --lr, value: "0.02"}
      - {name: --num-layers, value: "4"}
      - {name: --optimizer, value: sgd}
  - name: random-experiment-hoj53
    parameterAssignments:
      - {name: --lr, value: "0.021"}
      - {name: --num-layers, value: "3"}
      - {name: --optimizer, value: adam}
  - name: random-experiment-12lkj
    parameterAssignments:
      - {name: --lr, value: "0.03"}
      - {name: --num-layers, value: "5"}
      - {name: --optimizer, value: adam}
algorithmSettings:
  - {name: random_state, value: "7"}
searchSpaceExhausted: false
functionURL: http://random.knobs-system.svc.cluster.local
`

func TestCRDsAreValid(t *testing.T) {
	want := map[string]struct{ plural, short string }{
		"Experiment": {"experiments", "exp"},
		"Suggestion": {"suggestions", "sugg"},
		"Trial":      {"trials", "tr"},
	}
	for kind, w := range want {
		t.Run(kind, func(t *testing.T) {
			s := serverFor(t, kind)
			n := s.crd.Spec.Names
			if n.Plural != w.plural || len(n.ShortNames) != 1 || n.ShortNames[0] != w.short {
				t.Errorf("names = %s %v, want %s [%s]", n.Plural, n.ShortNames, w.plural, w.short)
			}
			if got := strings.Join(n.Categories, ","); got != "all,knobs" {
				t.Errorf("categories = %s, want all,knobs", got)
			}
			if s.crd.Spec.Group != "tuning.knobs.dev" || s.crd.Spec.Scope != apiextensionsv1.NamespaceScoped {
				t.Errorf("group %s, scope %s", s.crd.Spec.Group, s.crd.Spec.Scope)
			}
			v := s.version
			if v.Name != "v1alpha1" || !v.Served || !v.Storage || v.Subresources == nil || v.Subresources.Status == nil {
				t.Errorf("version %s: served %v, storage %v, subresources %+v", v.Name, v.Served, v.Storage, v.Subresources)
			}
		})
	}
}

func TestExamplesAreAccepted(t *testing.T) {
	suggestionWithStatus := readYAML(t, "examples/suggestion-random.yaml")
	suggestionWithStatus["status"] = fromYAML(t, suggestionStatus)
	for _, tc := range []struct {
		name string
		kind string
		obj  map[string]any
		into apis.Validatable
	}{
		{"examples/experiment-random.yaml", "Experiment", readYAML(t, "examples/experiment-random.yaml"), &v1alpha1.Experiment{}},
		{"examples/suggestion-random.yaml", "Suggestion", readYAML(t, "examples/suggestion-random.yaml"), &v1alpha1.Suggestion{}},
		{"suggestion with status", "Suggestion", suggestionWithStatus, &v1alpha1.Suggestion{}},
		{"experiment with metric strategies and status", "Experiment", experimentWithStrategies(t), &v1alpha1.Experiment{}},
		{"experiment with several objectives, constraints and the Pareto front", "Experiment", multiObjectiveExperiment(t), &v1alpha1.Experiment{}},
		{"trial with status", "Trial", fromYAML(t, trial), &v1alpha1.Trial{}},
		{"trial written by hand", "Trial", fromYAML(t, handWrittenTrial), &v1alpha1.Trial{}},
		{"experiment with the StdOut collector", "Experiment", withCollector(t, "examples/experiment-random.yaml", stdOutCollector), &v1alpha1.Experiment{}},
		{"experiment with the File collector", "Experiment", withCollector(t, "examples/experiment-random.yaml", fileCollector), &v1alpha1.Experiment{}},
		{"experiment with the TensorFlowEvent collector", "Experiment", withCollector(t, "examples/experiment-random.yaml", tfEventCollector), &v1alpha1.Experiment{}},
		{"experiment with the File collector reading a directory", "Experiment", withCollector(t, "examples/experiment-random.yaml",
			"collector: {kind: File}\nsource: {fileSystemPath: {path: /output, kind: Directory, format: JSON}}"), &v1alpha1.Experiment{}},
		{"experiment with the File collector and Katib's default path", "Experiment", withCollector(t, "examples/experiment-random.yaml", "collector: {kind: File}"), &v1alpha1.Experiment{}},
		{"experiment with the TensorFlowEvent collector and Katib's default path", "Experiment", withCollector(t, "examples/experiment-random.yaml",
			"collector: {kind: TensorFlowEvent}\nsource: {filter: {metricsFormat: ['(a)=(b)']}}"), &v1alpha1.Experiment{}},
		{"experiment with the None collector", "Experiment", withCollector(t, "examples/experiment-random.yaml", "collector: {kind: None}"), &v1alpha1.Experiment{}},
		{"trial with the File collector", "Trial", withCollector(t, "", fileCollector), &v1alpha1.Trial{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if kind := tc.obj["kind"]; kind != tc.kind {
				t.Fatalf("kind %v, want %s", kind, tc.kind)
			}
			for _, e := range serverFor(t, tc.kind).create(t, tc.obj) {
				t.Errorf("refused: %v", e)
			}
			// The Go types read the same object without unknown fields,
			// and their own validation agrees.
			data, _ := json.Marshal(tc.obj)
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(tc.into); err != nil {
				t.Fatalf("decoding into %T: %v", tc.into, err)
			}
			if d, ok := tc.into.(apis.Defaultable); ok {
				d.SetDefaults(context.Background())
			}
			if err := tc.into.Validate(context.Background()); err != nil {
				t.Errorf("Go validation refused it: %v", err)
			}
		})
	}
}

func TestExperimentDefaults(t *testing.T) {
	s := serverFor(t, "Experiment")
	obj := readYAML(t, "examples/experiment-random.yaml")
	spec := obj["spec"].(map[string]any)
	delete(spec, "parallelTrialCount")
	delete(spec, "maxTrialCount")
	delete(spec, "maxFailedTrialCount")
	u, _ := s.decode(t, obj)
	for field, want := range map[string]int64{
		"parallelTrialCount":  v1alpha1.DefaultParallelTrialCount,
		"maxTrialCount":       v1alpha1.DefaultMaxTrialCount,
		"maxFailedTrialCount": v1alpha1.DefaultMaxFailedTrialCount,
	} {
		got, found, err := unstructured.NestedInt64(u.Object, "spec", field)
		if err != nil || !found || got != want {
			t.Errorf("spec.%s = %d (found %v, %v), want the Go default %d", field, got, found, err, want)
		}
	}
	var defaulted v1alpha1.ExperimentSpec
	defaulted.SetDefaults(context.Background())
	for field, want := range map[string]string{
		"resumePolicy": string(defaulted.ResumePolicy),
		"trialsOnEnd":  string(defaulted.TrialsOnEnd),
	} {
		got, found, err := unstructured.NestedString(u.Object, "spec", field)
		if err != nil || !found || got != want {
			t.Errorf("spec.%s = %q (found %v, %v), want the Go default %q", field, got, found, err, want)
		}
	}
}

// rejection is a malformed object and the error the API server must give.
type rejection struct {
	name   string
	kind   string
	file   string         // example to start from, or
	yaml   string         // an object of its own; neither: experimentWithStrategies
	change func(o object) // what breaks it
	path   string         // the field path of the error
	detail string         // part of the message
	// goAgrees says whether the Go validation of pkg/apis refuses it too;
	// a few checks exist only in the CRD.
	goAgrees bool
}

// object eases editing a JSON-shaped map in place.
type object map[string]any

func (o object) get(path ...any) any {
	var cur any = map[string]any(o)
	for _, p := range path {
		switch k := p.(type) {
		case string:
			cur = cur.(map[string]any)[k]
		case int:
			cur = cur.([]any)[k]
		}
	}
	return cur
}

func (o object) m(path ...any) map[string]any { return o.get(path...).(map[string]any) }

func param(i int) []any { return []any{"spec", "parameters", i} }

// setStrategies sets the objective's metricStrategies from name, value
// pairs.
func setStrategies(o object, nameValues ...string) {
	var ss []any
	for i := 0; i+1 < len(nameValues); i += 2 {
		ss = append(ss, map[string]any{"name": nameValues[i], "value": nameValues[i+1]})
	}
	o.m("spec", "objective")["metricStrategies"] = ss
}

func fs(i int) []any { return append(param(i), "feasibleSpace") }

// curve is a learning curve of n points.
func curve(n int) []any {
	points := make([]any, n)
	for i := range points {
		points[i] = map[string]any{"step": int64(i), "value": "0.5"}
	}
	return points
}

func TestMalformedObjectsAreRefused(t *testing.T) {
	for _, tc := range []rejection{{
		name:     "min greater than max",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m(fs(0)...)["min"] = "0.05" },
		path:     "spec.parameters[0].feasibleSpace",
		detail:   "min 0.05 is greater than max 0.03",
		goAgrees: true,
	}, {
		name:     "min greater than max in exponent notation",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m(fs(0)...)["min"] = "3e-1" },
		path:     "spec.parameters[0].feasibleSpace",
		detail:   "min 3e-1 is greater than max 0.03",
		goAgrees: true,
	}, {
		name:     "int min greater than max",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m(fs(1)...)["max"] = "-5" },
		path:     "spec.parameters[1].feasibleSpace",
		detail:   "min 2 is greater than max -5",
		goAgrees: true,
	}, {
		name:     "empty list",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m(fs(2)...)["list"] = []any{} },
		path:     "spec.parameters[2].feasibleSpace.list",
		detail:   "a categorical parameter needs a non-empty feasibleSpace.list",
		goAgrees: true,
	}, {
		name:     "no list",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { delete(o.m(fs(2)...), "list") },
		path:     "spec.parameters[2].feasibleSpace.list",
		detail:   "a categorical parameter needs a non-empty feasibleSpace.list",
		goAgrees: true,
	}, {
		name:     "unknown parameterType",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m(param(0)...)["parameterType"] = "float" },
		path:     "spec.parameters[0].parameterType",
		detail:   `Unsupported value: "float": supported values: "double", "int", "discrete", "categorical"`,
		goAgrees: true,
	}, {
		name:     "non-numeric min",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m(fs(0)...)["min"] = "small" },
		path:     "spec.parameters[0].feasibleSpace.min",
		detail:   "must be a number",
		goAgrees: true,
	}, {
		name:     "non-numeric max",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m(fs(0)...)["max"] = "0.03.1" },
		path:     "spec.parameters[0].feasibleSpace.max",
		detail:   "must be a number",
		goAgrees: true,
	}, {
		name:     "list on a double",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m(fs(0)...)["list"] = []any{"0.01", "0.02"} },
		path:     "spec.parameters[0].feasibleSpace.list",
		detail:   "a double parameter takes min and max, not a list",
		goAgrees: true,
	}, {
		name:     "double without max",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { delete(o.m(fs(0)...), "max") },
		path:     "spec.parameters[0].feasibleSpace",
		detail:   "a double parameter needs feasibleSpace.min and feasibleSpace.max",
		goAgrees: true,
	}, {
		name:     "min on a categorical",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m(fs(2)...)["min"] = "1" },
		path:     "spec.parameters[2].feasibleSpace",
		detail:   "a categorical parameter takes its values from feasibleSpace.list, not from min, max or step",
		goAgrees: true,
	}, {
		name:     "distribution on a categorical",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m(fs(2)...)["distribution"] = "normal" },
		path:     "spec.parameters[2].feasibleSpace.distribution",
		detail:   "a categorical parameter takes no distribution",
		goAgrees: true,
	}, {
		name:     "unknown distribution",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m(fs(0)...)["distribution"] = "gaussian" },
		path:     "spec.parameters[0].feasibleSpace.distribution",
		detail:   `Unsupported value: "gaussian"`,
		goAgrees: true,
	}, {
		name: "log distribution from 0",
		kind: "Experiment",
		file: "examples/experiment-random.yaml",
		change: func(o object) {
			o.m(fs(0)...)["min"] = "0"
			o.m(fs(0)...)["distribution"] = "logUniform"
		},
		path:     "spec.parameters[0].feasibleSpace.min",
		detail:   "min must be above 0 for the logUniform distribution",
		goAgrees: true,
	}, {
		name:     "fractional int bound",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m(fs(1)...)["max"] = "5.5" },
		path:     "spec.parameters[1].feasibleSpace.max",
		detail:   "an int parameter's max must be a whole number",
		goAgrees: true,
	}, {
		name:     "zero step",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m(fs(0)...)["step"] = "0" },
		path:     "spec.parameters[0].feasibleSpace.step",
		detail:   "must be above 0",
		goAgrees: true,
	}, {
		name:     "repeated list value",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m(fs(2)...)["list"] = []any{"sgd", "adam", "sgd"} },
		path:     "spec.parameters[2].feasibleSpace.list[2]",
		detail:   `Duplicate value: "sgd"`,
		goAgrees: true,
	}, {
		name: "a parent that is not a parameter",
		kind: "Experiment",
		file: "examples/experiment-random.yaml",
		change: func(o object) {
			o.m(param(1)...)["parentName"] = "--optimiser"
			o.m(param(1)...)["parentValues"] = []any{"sgd"}
		},
		path:     "spec.parameters",
		detail:   "a parentName must name another parameter of the Experiment",
		goAgrees: true,
	}, {
		name: "a double parent",
		kind: "Experiment",
		file: "examples/experiment-random.yaml",
		change: func(o object) {
			o.m(param(1)...)["parentName"] = "--lr"
			o.m(param(1)...)["parentValues"] = []any{"0.01"}
		},
		path:     "spec.parameters",
		detail:   "an int, discrete or categorical one",
		goAgrees: true,
	}, {
		name:     "a parent without values",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m(param(1)...)["parentName"] = "--optimizer" },
		path:     "spec.parameters[1].parentValues",
		detail:   "list the values of --optimizer under which this parameter is active",
		goAgrees: true,
	}, {
		name:     "parent values without a parent",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m(param(1)...)["parentValues"] = []any{"sgd"} },
		path:     "spec.parameters[1].parentName",
		detail:   "parentValues needs parentName",
		goAgrees: true,
	}, {
		name: "a parameter its own parent",
		kind: "Experiment",
		file: "examples/experiment-random.yaml",
		change: func(o object) {
			o.m(param(2)...)["parentName"] = "--optimizer"
			o.m(param(2)...)["parentValues"] = []any{"sgd"}
		},
		path:     "spec.parameters[2].parentName",
		detail:   "a parameter cannot depend on itself",
		goAgrees: true,
	}, {
		name:     "duplicate parameter names",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m(param(2)...)["name"] = "--lr" },
		path:     "spec.parameters",
		detail:   "parameter names must be unique",
		goAgrees: true,
	}, {
		name:     "no parameters",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m("spec")["parameters"] = []any{} },
		path:     "spec.parameters",
		detail:   "should have at least 1 items",
		goAgrees: true,
	}, {
		name:     "negative parallelTrialCount",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m("spec")["parallelTrialCount"] = -1 },
		path:     "spec.parallelTrialCount",
		detail:   "should be greater than or equal to 1",
		goAgrees: true,
	}, {
		name:     "zero maxTrialCount",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m("spec")["maxTrialCount"] = 0 },
		path:     "spec.maxTrialCount",
		detail:   "should be greater than or equal to 1",
		goAgrees: true,
	}, {
		name:     "negative maxFailedTrialCount",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m("spec")["maxFailedTrialCount"] = -2 },
		path:     "spec.maxFailedTrialCount",
		detail:   "should be greater than or equal to 0",
		goAgrees: true,
	}, {
		name:     "missing objectiveMetricName",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { delete(o.m("spec", "objective"), "objectiveMetricName") },
		path:     "spec.objective.objectiveMetricName",
		detail:   "Required value",
		goAgrees: true,
	}, {
		name:     "unknown resumePolicy",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m("spec")["resumePolicy"] = "Always" },
		path:     "spec.resumePolicy",
		detail:   `supported values: "LongRunning", "Never", "FromVolume"`,
		goAgrees: true,
	}, {
		name:     "unknown trialsOnEnd",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m("spec")["trialsOnEnd"] = "Kill" },
		path:     "spec.trialsOnEnd",
		detail:   `supported values: "Stop", "Finish"`,
		goAgrees: true,
	}, {
		name:   "retain not a boolean",
		kind:   "Experiment",
		file:   "examples/experiment-random.yaml",
		change: func(o object) { o.m("spec", "trialTemplate")["retain"] = "yes" },
		path:   "spec.trialTemplate.retain",
		detail: "must be of type boolean",
	}, {
		name:     "unknown objective type",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { o.m("spec", "objective")["type"] = "max" },
		path:     "spec.objective.type",
		detail:   `supported values: "minimize", "maximize"`,
		goAgrees: true,
	}, {
		name:   "objective repeated among additional metrics",
		kind:   "Experiment",
		file:   "examples/experiment-random.yaml",
		change: func(o object) { o.m("spec", "objective")["additionalMetricNames"] = []any{"Validation-accuracy"} },
		path:   "spec.objective.additionalMetricNames",
		detail: "additionalMetricNames must not repeat objectiveMetricName",
	}, {
		name:     "unknown metric strategy",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { setStrategies(o, "Validation-accuracy", "best") },
		path:     "spec.objective.metricStrategies[0].value",
		detail:   `Unsupported value: "best": supported values: "min", "max", "latest"`,
		goAgrees: true,
	}, {
		name: "metric strategy without value",
		kind: "Experiment",
		file: "examples/experiment-random.yaml",
		change: func(o object) {
			o.m("spec", "objective")["metricStrategies"] = []any{map[string]any{"name": "accuracy"}}
		},
		path:     "spec.objective.metricStrategies[0].value",
		detail:   "Required value",
		goAgrees: true,
	}, {
		name:     "metric strategy for an unknown metric",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { setStrategies(o, "accuracy", "max", "loss", "min") },
		path:     "spec.objective.metricStrategies",
		detail:   "every metric strategy must name objectiveMetricName, one of additionalMetricNames",
		goAgrees: true,
	}, {
		name: "metric strategy for an unknown metric, without additional metrics",
		kind: "Experiment",
		file: "examples/experiment-random.yaml",
		change: func(o object) {
			delete(o.m("spec", "objective"), "additionalMetricNames")
			setStrategies(o, "accuracy", "max")
		},
		path:     "spec.objective.metricStrategies",
		detail:   "every metric strategy must name objectiveMetricName, one of additionalMetricNames",
		goAgrees: true,
	}, {
		name: "two strategies for a metric",
		kind: "Experiment",
		file: "examples/experiment-random.yaml",
		change: func(o object) {
			setStrategies(o, "accuracy", "max", "Validation-accuracy", "max", "accuracy", "latest")
		},
		path:     "spec.objective.metricStrategies",
		detail:   "each metric may have one strategy",
		goAgrees: true,
	}, {
		name: "additional objective repeating the objective metric",
		kind: "Experiment",
		file: "examples/experiment-random.yaml",
		change: func(o object) {
			o.m("spec", "objective")["additionalObjectives"] = []any{map[string]any{"name": "Validation-accuracy", "type": "minimize"}}
		},
		path:     "spec.objective.additionalObjectives",
		detail:   "an additional objective must not name objectiveMetricName",
		goAgrees: true,
	}, {
		name: "two additional objectives of one metric",
		kind: "Experiment",
		file: "examples/experiment-random.yaml",
		change: func(o object) {
			o.m("spec", "objective")["additionalObjectives"] = []any{
				map[string]any{"name": "latency", "type": "minimize"},
				map[string]any{"name": "latency", "type": "maximize"},
			}
		},
		path:     "spec.objective.additionalObjectives",
		detail:   "two additionalObjectives have the same name",
		goAgrees: true,
	}, {
		name: "additional objective without a type",
		kind: "Experiment",
		file: "examples/experiment-random.yaml",
		change: func(o object) {
			o.m("spec", "objective")["additionalObjectives"] = []any{map[string]any{"name": "latency"}}
		},
		path:     "spec.objective.additionalObjectives[0].type",
		detail:   "Required value",
		goAgrees: true,
	}, {
		name: "additional objective of an unknown type",
		kind: "Experiment",
		file: "examples/experiment-random.yaml",
		change: func(o object) {
			o.m("spec", "objective")["additionalObjectives"] = []any{map[string]any{"name": "latency", "type": "least"}}
		},
		path:     "spec.objective.additionalObjectives[0].type",
		detail:   `Unsupported value: "least"`,
		goAgrees: true,
	}, {
		name: "nine additional objectives",
		kind: "Experiment",
		file: "examples/experiment-random.yaml",
		change: func(o object) {
			var as []any
			for i := range 9 {
				as = append(as, map[string]any{"name": fmt.Sprint("m", i), "type": "minimize"})
			}
			o.m("spec", "objective")["additionalObjectives"] = as
		},
		path:     "spec.objective.additionalObjectives",
		detail:   "Too many",
		goAgrees: true,
	}, {
		name: "constraint without bounds",
		kind: "Experiment",
		file: "examples/experiment-random.yaml",
		change: func(o object) {
			o.m("spec", "objective")["constraints"] = []any{map[string]any{"name": "cost"}}
		},
		path:     "spec.objective.constraints[0]",
		detail:   "a constraint needs min, max or both",
		goAgrees: true,
	}, {
		name: "constraint with min above max",
		kind: "Experiment",
		file: "examples/experiment-random.yaml",
		change: func(o object) {
			o.m("spec", "objective")["constraints"] = []any{map[string]any{"name": "cost", "min": 2, "max": 1.5}}
		},
		path:     "spec.objective.constraints[0].min",
		detail:   "min is greater than max",
		goAgrees: true,
	}, {
		name: "two constraints of one metric",
		kind: "Experiment",
		file: "examples/experiment-random.yaml",
		change: func(o object) {
			o.m("spec", "objective")["constraints"] = []any{
				map[string]any{"name": "cost", "min": 0},
				map[string]any{"name": "cost", "max": 1},
			}
		},
		path:     "spec.objective.constraints",
		detail:   "two constraints have the same name",
		goAgrees: true,
	}, {
		name: "eleven constraints",
		kind: "Experiment",
		file: "examples/experiment-random.yaml",
		change: func(o object) {
			var cs []any
			for i := range 11 {
				cs = append(cs, map[string]any{"name": fmt.Sprint("m", i), "max": 1})
			}
			o.m("spec", "objective")["constraints"] = cs
		},
		path:     "spec.objective.constraints",
		detail:   "Too many",
		goAgrees: true,
	}, {
		name: "metric strategy for a metric of no objective or constraint",
		kind: "Experiment",
		file: "examples/experiment-random.yaml",
		change: func(o object) {
			o.m("spec", "objective")["additionalObjectives"] = []any{map[string]any{"name": "latency", "type": "minimize"}}
			o.m("spec", "objective")["constraints"] = []any{map[string]any{"name": "cost", "max": 1}}
			setStrategies(o, "latency", "latest", "cost", "max", "memory", "max")
		},
		path:     "spec.objective.metricStrategies",
		detail:   "every metric strategy must name objectiveMetricName",
		goAgrees: true,
	}, {
		name:   "trial with a constraint without bounds",
		kind:   "Trial",
		yaml:   trial,
		change: func(o object) { o.m("spec", "objective")["constraints"] = []any{map[string]any{"name": "cost"}} },
		path:   "spec.objective.constraints[0]",
		detail: "a constraint needs min, max or both",
	}, {
		name: "negative trialsInfeasible",
		kind: "Experiment",
		change: func(o object) {
			o.m("status")["trialsInfeasible"] = -1
		},
		path:   "status.trialsInfeasible",
		detail: "should be greater than or equal to 0",
	}, {
		name: "over 100 Pareto-optimal trials listed",
		kind: "Experiment",
		change: func(o object) {
			var ts []any
			for i := range 101 {
				ts = append(ts, map[string]any{"bestTrialName": fmt.Sprint("t", i)})
			}
			o.m("status")["paretoOptimalTrials"] = ts
		},
		path:   "status.paretoOptimalTrials",
		detail: "Too many",
	}, {
		name:   "negative trialsEarlyStopped",
		kind:   "Experiment",
		file:   "examples/experiment-random.yaml",
		change: func(o object) { o["status"] = map[string]any{"trialsEarlyStopped": -1} },
		path:   "status.trialsEarlyStopped",
		detail: "should be greater than or equal to 0",
	}, {
		name:   "negative trialsMetricsUnavailable",
		kind:   "Experiment",
		file:   "examples/experiment-random.yaml",
		change: func(o object) { o["status"] = map[string]any{"trialsMetricsUnavailable": -3} },
		path:   "status.trialsMetricsUnavailable",
		detail: "should be greater than or equal to 0",
	}, {
		name: "best trial without a name",
		kind: "Experiment",
		change: func(o object) {
			delete(o.m("status", "currentOptimalTrial"), "bestTrialName")
		},
		path:   "status.currentOptimalTrial.bestTrialName",
		detail: "Required value",
	}, {
		name: "best trial with a negative report count",
		kind: "Experiment",
		change: func(o object) {
			o.m("status", "currentOptimalTrial", "observation")["reports"] = -1
		},
		path:   "status.currentOptimalTrial.observation.reports",
		detail: "should be greater than or equal to 0",
	}, {
		name:     "missing algorithm name",
		kind:     "Experiment",
		file:     "examples/experiment-random.yaml",
		change:   func(o object) { delete(o.m("spec", "algorithm"), "algorithmName") },
		path:     "spec.algorithm.algorithmName",
		detail:   "Required value",
		goAgrees: true,
	}, {
		name:   "algorithm name that is no label value",
		kind:   "Experiment",
		file:   "examples/experiment-random.yaml",
		change: func(o object) { o.m("spec", "algorithm")["algorithmName"] = "random search" },
		path:   "spec.algorithm.algorithmName",
		detail: "must be a valid label value",
	}, {
		name: "repeated algorithm setting",
		kind: "Experiment",
		file: "examples/experiment-random.yaml",
		change: func(o object) {
			o.m("spec", "algorithm")["algorithmSettings"] = []any{
				map[string]any{"name": "random_state", "value": "1"},
				map[string]any{"name": "random_state", "value": "2"},
			}
		},
		path:     "spec.algorithm.algorithmSettings",
		detail:   "each setting may appear once",
		goAgrees: true,
	}, {
		name: "both trial template forms",
		kind: "Experiment",
		file: "examples/experiment-random.yaml",
		change: func(o object) {
			o.m("spec", "trialTemplate")["trialSpec"] = map[string]any{"apiVersion": "batch/v1", "kind": "Job"}
		},
		path:     "spec.trialTemplate",
		detail:   "give exactly one of goTemplate and trialSpec",
		goAgrees: true,
	}, {
		name: "trial parameter referring to no parameter",
		kind: "Experiment",
		file: "examples/experiment-random.yaml",
		change: func(o object) {
			tt := o.m("spec", "trialTemplate")
			delete(tt, "goTemplate")
			tt["trialSpec"] = map[string]any{"apiVersion": "batch/v1", "kind": "Job"}
			tt["trialParameters"] = []any{map[string]any{"name": "learningRate", "reference": "--learning-rate"}}
		},
		path:     "spec.trialTemplate.trialParameters",
		detail:   "every trial parameter's reference must be the name of one of spec.parameters",
		goAgrees: true,
	}, {
		name:   "name too long for a label value",
		kind:   "Experiment",
		file:   "examples/experiment-random.yaml",
		change: func(o object) { o.m("metadata")["name"] = strings.Repeat("x", 64) },
		path:   "<nil>", // the object itself: a rule cannot point into metadata
		detail: "metadata.name must be at most 63 characters",
	}, {
		name:     "negative requests",
		kind:     "Suggestion",
		file:     "examples/suggestion-random.yaml",
		change:   func(o object) { o.m("spec")["requests"] = -1 },
		path:     "spec.requests",
		detail:   "should be greater than or equal to 0",
		goAgrees: true,
	}, {
		name:     "missing algorithmName",
		kind:     "Suggestion",
		file:     "examples/suggestion-random.yaml",
		change:   func(o object) { delete(o.m("spec", "algorithm"), "algorithmName") },
		path:     "spec.algorithm.algorithmName",
		detail:   "Required value",
		goAgrees: true,
	}, {
		name:     "empty algorithmName",
		kind:     "Suggestion",
		file:     "examples/suggestion-random.yaml",
		change:   func(o object) { o.m("spec", "algorithm")["algorithmName"] = "" },
		path:     "spec.algorithm.algorithmName",
		detail:   "should be at least 1 chars long",
		goAgrees: true,
	}, {
		name: "trial assigning a parameter twice",
		kind: "Trial",
		yaml: trial,
		change: func(o object) {
			o.m("spec", "parameterAssignments", 1)["name"] = "--lr"
		},
		path:     "spec.parameterAssignments",
		detail:   "each parameter may be assigned once",
		goAgrees: true,
	}, {
		// The Experiment's rules hold for its copy in the Trial too.
		name:   "trial with an unknown metric strategy",
		kind:   "Trial",
		yaml:   trial,
		change: func(o object) { setStrategies(o, "accuracy", "mean") },
		path:   "spec.objective.metricStrategies[0].value",
		detail: `Unsupported value: "mean": supported values: "min", "max", "latest"`,
	}, {
		name:   "trial with a metric strategy for an unknown metric",
		kind:   "Trial",
		yaml:   trial,
		change: func(o object) { setStrategies(o, "loss", "min") },
		path:   "spec.objective.metricStrategies",
		detail: "every metric strategy must name objectiveMetricName, one of additionalMetricNames",
	}, {
		name:   "trial with two strategies for a metric",
		kind:   "Trial",
		yaml:   trial,
		change: func(o object) { setStrategies(o, "accuracy", "max", "accuracy", "min") },
		path:   "spec.objective.metricStrategies",
		detail: "each metric may have one strategy",
	}, {
		name:   "trial with an objective without metric",
		kind:   "Trial",
		yaml:   trial,
		change: func(o object) { delete(o.m("spec", "objective"), "objectiveMetricName") },
		path:   "spec.objective.objectiveMetricName",
		detail: "Required value",
	}, {
		name:   "trial with a negative report count",
		kind:   "Trial",
		yaml:   trial,
		change: func(o object) { o.m("status", "observation")["reports"] = -1 },
		path:   "status.observation.reports",
		detail: "should be greater than or equal to 0",
	}, {
		name: "trial with a learning curve over its bound",
		kind: "Trial",
		yaml: trial,
		change: func(o object) {
			o.m("status", "observation", "metrics", 0)["curve"] = curve(v1alpha1.MaxCurvePoints + 1)
		},
		path:   "status.observation.metrics[0].curve",
		detail: "must have at most 100 items",
	}, {
		name: "trial with a curve point without a step",
		kind: "Trial",
		yaml: trial,
		change: func(o object) {
			o.m("status", "observation", "metrics", 0)["curve"] = []any{map[string]any{"value": "0.5"}}
		},
		path:   "status.observation.metrics[0].curve[0].step",
		detail: "Required value",
	}, {
		name:   "trial with an overlong success condition",
		kind:   "Trial",
		yaml:   trial,
		change: func(o object) { o.m("spec")["successCondition"] = strings.Repeat("x", 1025) },
		path:   "spec.successCondition",
		detail: "Too long",
	}, {
		name: "a collector Knobs lacks",
		kind: "Experiment",
		change: func(o object) {
			o.m("spec")["metricsCollectorSpec"] = map[string]any{"collector": map[string]any{"kind": "PrometheusMetric"}}
		},
		path:     "spec.metricsCollectorSpec.collector.kind",
		detail:   `Unsupported value: "PrometheusMetric"`,
		goAgrees: true,
	}, {
		name: "a path for the StdOut collector",
		kind: "Experiment",
		change: func(o object) {
			o.m("spec")["metricsCollectorSpec"] = fromYAML(t, fileCollector)
			o.m("spec", "metricsCollectorSpec", "collector")["kind"] = "StdOut"
		},
		path:     "spec.metricsCollectorSpec.source.fileSystemPath",
		detail:   "fileSystemPath is for the File and TensorFlowEvent collectors",
		goAgrees: true,
	}, {
		name: "a path for Push, the default",
		kind: "Experiment",
		change: func(o object) {
			o.m("spec")["metricsCollectorSpec"] = fromYAML(t, "source: {fileSystemPath: {path: /var/log/m.log}}")
		},
		path:     "spec.metricsCollectorSpec.source.fileSystemPath",
		detail:   "fileSystemPath is for the File and TensorFlowEvent collectors",
		goAgrees: true,
	}, {
		name:     "a relative path",
		kind:     "Experiment",
		change:   func(o object) { withPath(t, o, fileCollector, "path", "metrics.log") },
		path:     "spec.metricsCollectorSpec.source.fileSystemPath.path",
		detail:   "the path must be absolute",
		goAgrees: true,
	}, {
		name:     "a metrics file at the root",
		kind:     "Experiment",
		change:   func(o object) { withPath(t, o, fileCollector, "path", "/metrics.log") },
		path:     "spec.metricsCollectorSpec.source.fileSystemPath.path",
		detail:   "the file must be in a directory below /",
		goAgrees: true,
	}, {
		name:     "a path without its path",
		kind:     "Experiment",
		change:   func(o object) { withPath(t, o, fileCollector, "path", nil) },
		path:     "spec.metricsCollectorSpec.source.fileSystemPath.path",
		detail:   "Required value",
		goAgrees: true,
	}, {
		name:     "the TensorFlowEvent collector reading a file",
		kind:     "Experiment",
		change:   func(o object) { withPath(t, o, tfEventCollector, "kind", "File") },
		path:     "spec.metricsCollectorSpec.source.fileSystemPath.kind",
		detail:   "the TensorFlowEvent collector reads the event files of a Directory",
		goAgrees: true,
	}, {
		name:     "an unknown path kind",
		kind:     "Experiment",
		change:   func(o object) { withPath(t, o, fileCollector, "kind", "Socket") },
		path:     "spec.metricsCollectorSpec.source.fileSystemPath.kind",
		detail:   `Unsupported value: "Socket"`,
		goAgrees: true,
	}, {
		name:     "an unknown file format",
		kind:     "Experiment",
		change:   func(o object) { withPath(t, o, fileCollector, "format", "CSV") },
		path:     "spec.metricsCollectorSpec.source.fileSystemPath.format",
		detail:   `Unsupported value: "CSV"`,
		goAgrees: true,
	}, {
		name:     "JSON for the TensorFlowEvent collector",
		kind:     "Experiment",
		change:   func(o object) { withPath(t, o, tfEventCollector, "format", "JSON") },
		path:     "spec.metricsCollectorSpec.source.fileSystemPath.format",
		detail:   "JSON is for the File collector",
		goAgrees: true,
	}, {
		name: "metricsFormat and a JSON file both",
		kind: "Experiment",
		change: func(o object) {
			withPath(t, o, fileCollector, "format", "JSON")
			o.m("spec", "metricsCollectorSpec", "source")["filter"] = map[string]any{"metricsFormat": []any{"(a)=(b)"}}
		},
		path:     "spec.metricsCollectorSpec.source.filter.metricsFormat",
		detail:   "metricsFormat is for TEXT files and output",
		goAgrees: true,
	}, {
		name:     "a primary container name that is no container's",
		kind:     "Experiment",
		change:   func(o object) { o.m("spec", "trialTemplate")["primaryContainerName"] = "Training_Container" },
		path:     "spec.trialTemplate.primaryContainerName",
		detail:   "must be a container's name",
		goAgrees: true,
	}, {
		name: "trial with a path for Push",
		kind: "Trial",
		yaml: trial,
		change: func(o object) {
			o.m("spec")["metricsCollector"] = fromYAML(t, "collector: {kind: Push}\nsource: {fileSystemPath: {path: /var/log/m.log}}")
		},
		path:     "spec.metricsCollector.source.fileSystemPath",
		detail:   "fileSystemPath is for the File and TensorFlowEvent collectors",
		goAgrees: true,
	}, {
		name:     "early stopping without an algorithm",
		kind:     "Experiment",
		change:   func(o object) { o.m("spec")["earlyStopping"] = map[string]any{"algorithmSettings": []any{}} },
		path:     "spec.earlyStopping.algorithmName",
		detail:   "Required value",
		goAgrees: true,
	}, {
		name: "an early-stopping setting twice",
		kind: "Experiment",
		change: func(o object) {
			o.m("spec")["earlyStopping"] = fromYAML(t, "algorithmName: medianstop\nalgorithmSettings: [{name: start_step, value: '2'}, {name: start_step, value: '3'}]")
		},
		path:     "spec.earlyStopping.algorithmSettings",
		detail:   "each setting may appear once",
		goAgrees: true,
	}, {
		name:     "trial with an unknown stop reason",
		kind:     "Trial",
		yaml:     trial,
		change:   func(o object) { o.m("spec")["stop"] = true; o.m("spec")["stopReason"] = "Tired" },
		path:     "spec.stopReason",
		detail:   `Unsupported value: "Tired"`,
		goAgrees: true,
	}, {
		name:     "trial with a stop reason and no stop",
		kind:     "Trial",
		yaml:     trial,
		change:   func(o object) { o.m("spec")["stopReason"] = "EarlyStopped" },
		path:     "spec.stopReason",
		detail:   "set stop: true with them",
		goAgrees: true,
	}, {
		name:   "trial with an overlong primary container name",
		kind:   "Trial",
		yaml:   trial,
		change: func(o object) { o.m("spec")["primaryContainerName"] = strings.Repeat("x", 64) },
		path:   "spec.primaryContainerName",
		detail: "Too long",
	}} {
		t.Run(tc.kind+"/"+tc.name, func(t *testing.T) {
			var obj object
			switch {
			case tc.file != "":
				obj = readYAML(t, tc.file)
			case tc.yaml != "":
				obj = fromYAML(t, tc.yaml)
			default:
				obj = experimentWithStrategies(t)
			}
			tc.change(obj)
			errs := serverFor(t, tc.kind).create(t, obj)
			found := false
			for _, e := range errs {
				if e.Field == tc.path && strings.Contains(e.Error(), tc.detail) {
					found = true
				}
			}
			if !found {
				t.Errorf("want an error at %s saying %q, got %d:", tc.path, tc.detail, len(errs))
				for _, e := range errs {
					t.Errorf("  %v", e)
				}
			} else {
				for _, e := range errs {
					t.Logf("%v", e)
				}
			}
			if tc.goAgrees {
				if err := goValidate(t, tc.kind, obj); err == nil {
					t.Errorf("the Go validation of pkg/apis accepts what the CRD refuses")
				}
			}
		})
	}
}

// withPath gives the Experiment the metrics collector spec mc with the
// fileSystemPath's field set to value (nil: removed).
func withPath(t *testing.T, o object, mc, field string, value any) {
	t.Helper()
	o.m("spec")["metricsCollectorSpec"] = fromYAML(t, mc)
	fp := o.m("spec", "metricsCollectorSpec", "source", "fileSystemPath")
	if value == nil {
		delete(fp, field)
		return
	}
	fp[field] = value
}

// goValidate runs the Go validation of pkg/apis on obj.
func goValidate(t *testing.T, kind string, obj map[string]any) *apis.FieldError {
	t.Helper()
	var v apis.Validatable
	switch kind {
	case "Experiment":
		v = &v1alpha1.Experiment{}
	case "Suggestion":
		v = &v1alpha1.Suggestion{}
	case "Trial":
		v = &v1alpha1.Trial{}
	}
	data, _ := json.Marshal(obj)
	if err := json.Unmarshal(data, v); err != nil {
		// A value of the wrong JSON type is refused by decoding already.
		return apis.ErrGeneric(err.Error())
	}
	return v.Validate(context.Background())
}

func TestImmutableFields(t *testing.T) {
	for _, tc := range []struct {
		name   string
		kind   string         // Experiment unless said
		before func(o object) // what the object was, if not the example
		change func(o object)
		path   string // empty: the update is allowed
		detail string
	}{{
		name:   "raising maxTrialCount",
		change: func(o object) { o.m("spec")["maxTrialCount"] = 20 },
	}, {
		name:   "changing the trial template",
		change: func(o object) { o.m("spec", "trialTemplate", "goTemplate")["rawTemplate"] = "kind: Job" },
	}, {
		name: "recording progress",
		change: func(o object) {
			o["status"] = fromYAML(t, experimentStatus)
		},
	}, {
		name:   "widening a parameter",
		change: func(o object) { o.m(fs(0)...)["max"] = "0.05" },
		path:   "spec.parameters",
		detail: "parameters cannot change",
	}, {
		name:   "switching the algorithm",
		change: func(o object) { o.m("spec", "algorithm")["algorithmName"] = "grid" },
		path:   "spec.algorithm.algorithmName",
		detail: "algorithmName cannot change",
	}, {
		name:   "minimising instead",
		change: func(o object) { o.m("spec", "objective")["type"] = "minimize" },
		path:   "spec.objective",
		detail: "objective cannot change",
	}, {
		name:   "adding a metric strategy",
		change: func(o object) { setStrategies(o, "accuracy", "max") },
		path:   "spec.objective",
		detail: "objective cannot change",
	}, {
		name: "recording a trial's report",
		kind: "Trial",
		change: func(o object) {
			obs := o.m("status", "observation")
			obs["step"] = 13
			obs["reports"] = 14
			o.m("status", "observation", "metrics", 0)["latest"] = "0.9702"
			o.m("status", "observation", "metrics", 0)["curve"] = curve(v1alpha1.MaxCurvePoints)
		},
	}, {
		name: "raising maxTrialCount and choosing how it ends",
		change: func(o object) {
			o.m("spec")["maxTrialCount"] = 40
			o.m("spec")["resumePolicy"] = "Never"
			o.m("spec")["trialsOnEnd"] = "Finish"
			o.m("spec", "trialTemplate")["retain"] = true
		},
	}, {
		name:   "stopping a trial",
		kind:   "Trial",
		change: func(o object) { o.m("spec")["stop"] = true },
	}, {
		name:   "starting a stopped trial again",
		kind:   "Trial",
		before: func(o object) { o.m("spec")["stop"] = true },
		change: func(o object) { delete(o.m("spec"), "stop") },
		path:   "spec.stop",
		detail: "a stopped trial cannot be started again",
	}, {
		name: "stopping a trial early",
		kind: "Trial",
		change: func(o object) {
			o.m("spec")["stop"] = true
			o.m("spec")["stopReason"] = "EarlyStopped"
			o.m("spec")["stopMessage"] = "stopped early by medianstop"
		},
	}, {
		name: "changing why a trial was stopped",
		kind: "Trial",
		before: func(o object) {
			o.m("spec")["stop"] = true
			o.m("spec")["stopReason"] = "EarlyStopped"
		},
		change: func(o object) { o.m("spec")["stopReason"] = "Killed" },
		path:   "spec.stopReason",
		detail: "why a trial was stopped cannot change",
	}, {
		name:   "adding early stopping to a running Experiment",
		change: func(o object) { o.m("spec")["earlyStopping"] = map[string]any{"algorithmName": "medianstop"} },
	}, {
		name:   "changing a trial's metric strategy",
		kind:   "Trial",
		change: func(o object) { setStrategies(o, "accuracy", "latest") },
		path:   "spec.objective",
		detail: "objective cannot change",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			kind := tc.kind
			if kind == "" {
				kind = "Experiment"
			}
			base := func() object {
				var o object
				if kind == "Trial" {
					o = fromYAML(t, trial)
				} else {
					o = readYAML(t, "examples/experiment-random.yaml")
				}
				o.m("metadata")["resourceVersion"] = "1"
				return o
			}
			old, obj := base(), base()
			if tc.before != nil {
				tc.before(old)
				tc.before(obj)
			}
			tc.change(obj)
			errs := serverFor(t, kind).update(t, old, obj)
			if tc.path == "" {
				for _, e := range errs {
					t.Errorf("refused: %v", e)
				}
				return
			}
			found := false
			for _, e := range errs {
				found = found || e.Field == tc.path && strings.Contains(e.Error(), tc.detail)
			}
			if !found {
				t.Errorf("want an error at %s saying %q, got %v", tc.path, tc.detail, errs)
			}
		})
	}
}

func TestPrinterColumns(t *testing.T) {
	suggestion := readYAML(t, "examples/suggestion-random.yaml")
	suggestion["status"] = fromYAML(t, suggestionStatus)
	experiment := readYAML(t, "examples/experiment-random.yaml")
	experiment["status"] = fromYAML(t, `
conditions:
  - type: Succeeded
    status: Unknown
    reason: Running
trials: 3
trialsRunning: 3
`)
	for _, tc := range []struct {
		name string
		kind string
		obj  map[string]any
		// shown is the columns kubectl get shows without -o wide, in order.
		shown []string
		want  map[string]any
	}{{
		name:  "Suggestion",
		kind:  "Suggestion",
		obj:   suggestion,
		shown: []string{"Name", "Algorithm", "Requests", "Suggestions", "Ready", "Reason", "Age"},
		want:  map[string]any{"Algorithm": "random", "Requests": int64(3), "Suggestions": int64(3), "Ready": "True", "Function": "http://random.knobs-system.svc.cluster.local", "Exhausted": false},
	}, {
		name:  "Experiment starting",
		kind:  "Experiment",
		obj:   experiment,
		shown: []string{"Name", "Algorithm", "Trials", "Running", "Succeeded", "Failed", "Best", "Status", "Reason", "Age"},
		want: map[string]any{"Algorithm": "random", "Objective": "Validation-accuracy", "Trials": int64(3), "Running": int64(3),
			"Succeeded": nil, "Best": nil, "BestTrial": nil, "Status": "Unknown", "Reason": "Running"},
	}, {
		name: "Experiment with a best trial",
		kind: "Experiment",
		obj:  experimentWithStrategies(t),
		want: map[string]any{"Trials": int64(9), "Pending": int64(1), "Running": int64(3), "Succeeded": int64(4), "Failed": int64(1), "EarlyStopped": int64(1),
			"Best": "0.9731", "BestTrial": "random-experiment-fsa2f", "Status": "Unknown", "Reason": "Running"},
	}, {
		name: "Experiment with several objectives and constraints",
		kind: "Experiment",
		obj:  multiObjectiveExperiment(t),
		want: map[string]any{"Trials": int64(9), "Infeasible": int64(1), "Front": int64(2), "Best": "0.9731"},
	}, {
		name:  "Trial",
		kind:  "Trial",
		obj:   fromYAML(t, trial),
		shown: []string{"Name", "Experiment", "Value", "Succeeded", "Reason", "Age"},
		want:  map[string]any{"Experiment": "random-experiment", "Value": "0.9731", "Step": int64(12), "Succeeded": "True", "Reason": "Succeeded"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			s := serverFor(t, tc.kind)
			u, _ := s.decode(t, tc.obj)
			table, err := s.table.ConvertToTable(context.Background(), u, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]any{}
			var shown []string
			for i, c := range table.ColumnDefinitions {
				got[c.Name] = table.Rows[0].Cells[i]
				if c.Priority == 0 {
					shown = append(shown, c.Name)
				}
			}
			if tc.shown != nil && !reflect.DeepEqual(shown, tc.shown) {
				t.Errorf("kubectl get shows %v, want %v", shown, tc.shown)
			}
			for name, want := range tc.want {
				if _, ok := got[name]; !ok {
					t.Errorf("no column %s", name)
				} else if !reflect.DeepEqual(got[name], want) {
					t.Errorf("column %s = %#v, want %#v", name, got[name], want)
				}
			}
		})
	}
}

// TestSchemasCoverGoTypes walks each kind's Go type beside its schema: every
// JSON field of the Go type has a property with a description, every
// property has a field, and the types agree. It keeps the CRDs from drifting
// from pkg/apis.
func TestSchemasCoverGoTypes(t *testing.T) {
	for kind, typ := range map[string]reflect.Type{
		"Experiment": reflect.TypeFor[v1alpha1.Experiment](),
		"Suggestion": reflect.TypeFor[v1alpha1.Suggestion](),
		"Trial":      reflect.TypeFor[v1alpha1.Trial](),
	} {
		t.Run(kind, func(t *testing.T) {
			s := serverFor(t, kind)
			compareSchema(t, "", typ, s.structural)
		})
	}
}

var (
	timeTypes = map[reflect.Type]bool{
		reflect.TypeFor[metav1.Time]():       true,
		reflect.TypeFor[apis.VolatileTime](): true,
	}
	rawExtension = reflect.TypeFor[runtime.RawExtension]()
	objectMeta   = reflect.TypeFor[metav1.ObjectMeta]()
)

func compareSchema(t *testing.T, path string, typ reflect.Type, s *structuralschema.Structural) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch {
	case typ == objectMeta:
		if s.Type != "object" {
			t.Errorf("%s: type %q, want object", path, s.Type)
		}
		return
	case typ == rawExtension:
		if s.Type != "object" || !s.XPreserveUnknownFields {
			t.Errorf("%s: want an object with x-kubernetes-preserve-unknown-fields", path)
		}
		return
	case timeTypes[typ]:
		if s.Type != "string" {
			t.Errorf("%s: type %q, want string", path, s.Type)
		}
		return
	}
	want := map[reflect.Kind]string{
		reflect.String: "string", reflect.Bool: "boolean",
		reflect.Int32: "integer", reflect.Int64: "integer", reflect.Float64: "number",
		reflect.Struct: "object", reflect.Map: "object", reflect.Slice: "array",
	}[typ.Kind()]
	if want == "" {
		t.Errorf("%s: Go type %s has no JSON schema type here", path, typ)
		return
	}
	if s.Type != want {
		t.Errorf("%s: type %q, want %q for Go type %s", path, s.Type, want, typ)
		return
	}
	switch typ.Kind() {
	case reflect.Slice:
		if s.Items == nil {
			t.Errorf("%s: array without items", path)
			return
		}
		compareSchema(t, path+"[]", typ.Elem(), s.Items)
	case reflect.Map:
		if s.AdditionalProperties == nil || s.AdditionalProperties.Structural == nil {
			t.Errorf("%s: map without additionalProperties", path)
			return
		}
		compareSchema(t, path+"{}", typ.Elem(), s.AdditionalProperties.Structural)
	case reflect.Struct:
		fields := map[string]reflect.Type{}
		jsonFields(typ, fields)
		var names []string
		for name := range fields {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			p, ok := s.Properties[name]
			if !ok {
				t.Errorf("%s.%s: field of Go type %s missing from the schema", path, name, typ)
				continue
			}
			if p.Description == "" && name != "metadata" {
				t.Errorf("%s.%s: no description", path, name)
			}
			compareSchema(t, path+"."+name, fields[name], &p)
		}
		for name := range s.Properties {
			if _, ok := fields[name]; !ok {
				t.Errorf("%s.%s: property of the schema missing from Go type %s", path, name, typ)
			}
		}
	}
}

// jsonFields collects the JSON fields of a struct, inlined ones included.
func jsonFields(typ reflect.Type, into map[string]reflect.Type) {
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if f.Anonymous && (name == "" || strings.Contains(opts, "inline")) {
			jsonFields(f.Type, into)
			continue
		}
		if name == "" {
			name = f.Name
		}
		into[name] = f.Type
	}
}
