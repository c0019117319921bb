package trialtemplate_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/trialtemplate"
)

// trialParameters name the tests' assignments as Katib's v1beta1 examples
// do.
var trialParameters = []v1alpha1.TrialParameterSpec{
	{Name: "learningRate", Description: "Learning rate for the training model", Reference: "--lr"},
	{Name: "optimizer", Reference: "--optimizer"},
}

// katibSpec is a trialSpec as in Katib's v1beta1 examples.
const katibSpec = `{
  "apiVersion": "batch/v1",
  "kind": "Job",
  "spec": {
    "template": {
      "metadata": {"annotations": {"sidecar.istio.io/inject": "false", "example.com/trial": "${trialSpec.Namespace}/${trialSpec.Name}"}},
      "spec": {
        "containers": [{
          "name": "training-container",
          "image": "docker.io/kubeflowkatib/pytorch-mnist:latest",
          "command": ["python3", "/opt/pytorch-mnist/mnist.py", "--lr=${trialParameters.learningRate}", "--optimizer=${trialParameters.optimizer}", "--out=${HOME}/${trialSpec.Name}"],
          "env": [{"name": "LR", "value": "${trialParameters.learningRate}"}],
          "resources": {"limits": {"cpu": 1}}
        }],
        "restartPolicy": "Never"
      }
    }
  }
}`

func trialSpec(raw string, params ...v1alpha1.TrialParameterSpec) *v1alpha1.TrialTemplate {
	return &v1alpha1.TrialTemplate{TrialSpec: &runtime.RawExtension{Raw: []byte(raw)}, TrialParameters: params}
}

func TestRenderTrialSpec(t *testing.T) {
	tests := []struct {
		name        string
		tt          *v1alpha1.TrialTemplate
		assignments []v1alpha1.ParameterAssignment
		want        map[string]any
	}{{
		name:        "Katib's Job",
		tt:          trialSpec(katibSpec, trialParameters...),
		assignments: assignments,
		want: map[string]any{
			"apiVersion": "batch/v1",
			"kind":       "Job",
			"metadata":   map[string]any{"name": trialName, "namespace": ns},
			"spec": map[string]any{
				"template": map[string]any{
					"metadata": map[string]any{"annotations": map[string]any{"sidecar.istio.io/inject": "false", "example.com/trial": ns + "/" + trialName}},
					"spec": map[string]any{
						"containers": []any{map[string]any{
							"name":      "training-container",
							"image":     "docker.io/kubeflowkatib/pytorch-mnist:latest",
							"command":   []any{"python3", "/opt/pytorch-mnist/mnist.py", "--lr=0.01", "--optimizer=adam", "--out=${HOME}/" + trialName},
							"env":       []any{map[string]any{"name": "LR", "value": "0.01"}},
							"resources": map[string]any{"limits": map[string]any{"cpu": int64(1)}},
						}},
						"restartPolicy": "Never",
					},
				},
			},
		},
	}, {
		name: "a value that looks like JSON stays a string",
		tt:   trialSpec(`{"apiVersion": "v1", "kind": "Pod", "spec": {"args": ["${trialParameters.x}", "${trialParameters.x}${trialParameters.x}"]}}`, v1alpha1.TrialParameterSpec{Name: "x", Reference: "x"}),
		assignments: []v1alpha1.ParameterAssignment{
			{Name: "x", Value: `"], "hostNetwork": true, "y": ["`},
		},
		want: map[string]any{
			"apiVersion": "v1",
			"kind":       "Pod",
			"metadata":   map[string]any{"name": trialName, "namespace": ns},
			"spec": map[string]any{"args": []any{
				`"], "hostNetwork": true, "y": ["`,
				`"], "hostNetwork": true, "y": [""], "hostNetwork": true, "y": ["`,
			}},
		},
	}, {
		name:        "a number stays a string",
		tt:          trialSpec(`{"apiVersion": "v1", "kind": "Pod", "spec": {"lr": "${trialParameters.learningRate}"}}`, trialParameters...),
		assignments: assignments,
		want: map[string]any{
			"apiVersion": "v1",
			"kind":       "Pod",
			"metadata":   map[string]any{"name": trialName, "namespace": ns},
			"spec":       map[string]any{"lr": "0.01"},
		},
	}, {
		name:        "a value is not substituted again",
		tt:          trialSpec(`{"apiVersion": "v1", "kind": "Pod", "spec": {"arg": "${trialParameters.x}"}}`, v1alpha1.TrialParameterSpec{Name: "x", Reference: "x"}),
		assignments: []v1alpha1.ParameterAssignment{{Name: "x", Value: "${trialSpec.Name}${trialParameters.y"}},
		want: map[string]any{
			"apiVersion": "v1",
			"kind":       "Pod",
			"metadata":   map[string]any{"name": trialName, "namespace": ns},
			"spec":       map[string]any{"arg": "${trialSpec.Name}${trialParameters.y"},
		},
	}, {
		name: "other dollars, and placeholders in keys, are left alone",
		tt:   trialSpec(`{"apiVersion": "v1", "kind": "Pod", "spec": {"${trialSpec.Name}": "$", "a": "${", "b": "$${x}", "c": "${trialSpecs}"}}`),
		want: map[string]any{
			"apiVersion": "v1",
			"kind":       "Pod",
			"metadata":   map[string]any{"name": trialName, "namespace": ns},
			"spec":       map[string]any{"${trialSpec.Name}": "$", "a": "${", "b": "$${x}", "c": "${trialSpecs}"},
		},
	}, {
		name: "name and namespace overridden",
		tt:   trialSpec(`{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "fixed", "namespace": "elsewhere", "labels": {"trial": "${trialSpec.Name}"}}}`),
		want: map[string]any{
			"apiVersion": "v1",
			"kind":       "Pod",
			"metadata":   map[string]any{"name": trialName, "namespace": ns, "labels": map[string]any{"trial": trialName}},
		},
	}, {
		name: "an object rather than raw JSON",
		tt: &v1alpha1.TrialTemplate{TrialSpec: &runtime.RawExtension{Object: &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Pod", "spec": map[string]any{"arg": "${trialSpec.Name}"},
		}}}},
		want: map[string]any{
			"apiVersion": "v1",
			"kind":       "Pod",
			"metadata":   map[string]any{"name": trialName, "namespace": ns},
			"spec":       map[string]any{"arg": trialName},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := trialtemplate.Render(tc.tt, trialName, ns, tc.assignments)
			if err != nil {
				t.Fatalf("Render() = %v", err)
			}
			if diff := cmp.Diff(tc.want, got.Object); diff != "" {
				t.Errorf("Render() (-want, +got):\n%s", diff)
			}
		})
	}
}

func TestRenderTrialSpecErrors(t *testing.T) {
	pod := func(arg string) string {
		return `{"apiVersion": "v1", "kind": "Pod", "spec": {"template": {"spec": {"containers": [{"command": ["python3", "train.py", "` + arg + `"]}]}}}}`
	}
	tests := []struct {
		name        string
		tt          *v1alpha1.TrialTemplate
		assignments []v1alpha1.ParameterAssignment
		want        string
	}{{
		name:        "an undefined trial parameter",
		tt:          trialSpec(pod("--lr=${trialParameters.lr}"), trialParameters...),
		assignments: assignments,
		want:        `trialTemplate.trialSpec.spec.template.spec.containers[0].command[2]: unknown trial parameter "lr": trialParameters define learningRate, optimizer`,
	}, {
		name: "a trial parameter when none is defined",
		tt:   trialSpec(pod("--lr=${trialParameters.lr}")),
		want: `trialTemplate.trialSpec.spec.template.spec.containers[0].command[2]: unknown trial parameter "lr": trialParameters define none`,
	}, {
		name: "an unknown trialSpec placeholder",
		tt:   trialSpec(pod("--kind=${trialSpec.Kind}")),
		want: `trialTemplate.trialSpec.spec.template.spec.containers[0].command[2]: unknown placeholder "${trialSpec.Kind}": a trialSpec may use ${trialParameters.<name>}, ${trialSpec.Name} and ${trialSpec.Namespace}`,
	}, {
		name:        "an unterminated placeholder",
		tt:          trialSpec(pod("--lr=${trialParameters.learningRate"), trialParameters...),
		assignments: assignments,
		want:        `trialTemplate.trialSpec.spec.template.spec.containers[0].command[2]: unterminated placeholder "${trialParameters.learningRate": end it with }`,
	}, {
		name:        "a placeholder in an annotation",
		tt:          trialSpec(`{"apiVersion": "v1", "kind": "Pod", "metadata": {"annotations": {"example.com/lr": "${trialParameters.lr}"}}}`, trialParameters...),
		assignments: assignments,
		want:        `trialTemplate.trialSpec.metadata.annotations[example.com/lr]: unknown trial parameter "lr": trialParameters define learningRate, optimizer`,
	}, {
		name:        "the first of several errors, in the order of the keys",
		tt:          trialSpec(`{"apiVersion": "v1", "kind": "Pod", "spec": {"b": "${trialParameters.b}", "a": ["${trialParameters.a}"]}}`),
		assignments: assignments,
		want:        `trialTemplate.trialSpec.spec.a[0]: unknown trial parameter "a": trialParameters define none`,
	}, {
		name:        "a parameter without a value",
		tt:          trialSpec(pod("x"), v1alpha1.TrialParameterSpec{Name: "learningRate", Reference: "--lr"}, v1alpha1.TrialParameterSpec{Name: "momentum", Reference: "--momentum"}),
		assignments: assignments,
		want:        `trialTemplate.trialParameters[1].reference: the trial has no value for parameter "--momentum" (it has values for --lr, --optimizer): reference one of the experiment's parameters`,
	}, {
		name: "a parameter without a value, and no values",
		tt:   trialSpec(pod("x"), trialParameters...),
		want: `trialTemplate.trialParameters[0].reference: the trial has no value for parameter "--lr" (it has no values): reference one of the experiment's parameters`,
	}, {
		name:        "a trial parameter without a name",
		tt:          trialSpec(pod("x"), v1alpha1.TrialParameterSpec{Reference: "--lr"}),
		assignments: assignments,
		want:        `trialTemplate.trialParameters[0].name: missing: name the trial parameter, to use it in trialSpec as ${trialParameters.<name>}`,
	}, {
		name:        "a trial parameter defined twice",
		tt:          trialSpec(pod("x"), v1alpha1.TrialParameterSpec{Name: "lr", Reference: "--lr"}, v1alpha1.TrialParameterSpec{Name: "lr", Reference: "--optimizer"}),
		assignments: assignments,
		want:        `trialTemplate.trialParameters[1].name: "lr" is defined twice: give each trial parameter its own name`,
	}, {
		name: "a list",
		tt:   trialSpec(`[{"apiVersion": "v1", "kind": "Pod"}]`),
		want: `trialTemplate.trialSpec: is a list, not an object: give one Kubernetes object, such as a batch/v1 Job`,
	}, {
		name: "a string",
		tt:   trialSpec(`"${trialSpec.Name}"`),
		want: `trialTemplate.trialSpec: is a string, not an object: give one Kubernetes object, such as a batch/v1 Job`,
	}, {
		name: "null",
		tt:   trialSpec(`null`),
		want: `trialTemplate.trialSpec: is null, not an object: give one Kubernetes object, such as a batch/v1 Job`,
	}, {
		name: "empty",
		tt:   trialSpec(" "),
		want: `trialTemplate.trialSpec: missing: give the workload each trial runs, such as a batch/v1 Job`,
	}, {
		name: "not JSON",
		tt:   trialSpec(`{"apiVersion": `),
		want: `trialTemplate.trialSpec: is not JSON: unexpected end of JSON input`,
	}, {
		name: "no apiVersion",
		tt:   trialSpec(`{"kind": "Job"}`),
		want: `trialTemplate.trialSpec.apiVersion: missing: a trial template gives one Kubernetes object with apiVersion and kind, such as apiVersion: batch/v1 and kind: Job`,
	}, {
		name: "a kind that is not a string",
		tt:   trialSpec(`{"apiVersion": "batch/v1", "kind": ["Job"]}`),
		want: `trialTemplate.trialSpec.kind: a list, not a string`,
	}, {
		name: "a kind made empty by a placeholder",
		tt:   trialSpec(`{"apiVersion": "batch/v1", "kind": "${trialParameters.kind}"}`, v1alpha1.TrialParameterSpec{Name: "kind", Reference: "kind"}),
		assignments: []v1alpha1.ParameterAssignment{
			{Name: "kind", Value: ""},
		},
		want: `trialTemplate.trialSpec.kind: missing: a trial template gives one Kubernetes object with apiVersion and kind, such as apiVersion: batch/v1 and kind: Job`,
	}, {
		name: "metadata that is a string",
		tt:   trialSpec(`{"apiVersion": "v1", "kind": "Pod", "metadata": "${trialSpec.Name}"}`),
		want: `trialTemplate.trialSpec.metadata: a string, not an object`,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := trialtemplate.Render(tc.tt, trialName, ns, tc.assignments)
			if _, ok := err.(*trialtemplate.Error); !ok {
				t.Fatalf("Render() = %v (%T), want a *trialtemplate.Error", err, err)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("Render() =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestRenderForms(t *testing.T) {
	tests := []struct {
		name string
		tt   *v1alpha1.TrialTemplate
		want string
	}{{
		name: "no template",
		want: "trialTemplate: missing: the experiment has no trial template to render",
	}, {
		name: "neither form",
		tt:   &v1alpha1.TrialTemplate{SuccessCondition: "status.succeeded"},
		want: "trialTemplate: give goTemplate or trialSpec: the workload each trial runs",
	}, {
		name: "both forms",
		tt:   &v1alpha1.TrialTemplate{GoTemplate: &v1alpha1.GoTemplate{RawTemplate: katibJob}, TrialSpec: &runtime.RawExtension{Raw: []byte(katibSpec)}},
		want: "trialTemplate: give either goTemplate or trialSpec, not both",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := trialtemplate.Render(tc.tt, trialName, ns, assignments)
			if err == nil || err.Error() != tc.want {
				t.Errorf("Render() = %v, want %s", err, tc.want)
			}
		})
	}
}

// TestRenderLeavesTemplate checks that rendering a trialSpec does not change
// the experiment's copy.
func TestRenderLeavesTemplate(t *testing.T) {
	tt := trialSpec(katibSpec, trialParameters...)
	before := tt.DeepCopy()
	for range 2 {
		if _, err := trialtemplate.Render(tt, trialName, ns, assignments); err != nil {
			t.Fatalf("Render() = %v", err)
		}
	}
	if diff := cmp.Diff(before, tt); diff != "" {
		t.Errorf("Render() changed the template (-before, +after):\n%s", diff)
	}
}

// TestRenderInactiveParameters renders a trial whose conditional parameter
// momentum is inactive: the argument that uses it is left out, an
// environment variable's value is empty, and a trial that has it gets it
// everywhere.
func TestRenderInactiveParameters(t *testing.T) {
	tt := trialSpec(`{"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {"containers": [{
	  "name": "train",
	  "args": ["--optimizer=${trialParameters.optimizer}", "--momentum=${trialParameters.momentum}", "--out=${trialSpec.Name}"],
	  "env": [{"name": "MOMENTUM", "value": "${trialParameters.momentum}"}]}]}}}}`,
		v1alpha1.TrialParameterSpec{Name: "optimizer", Reference: "optimizer"},
		v1alpha1.TrialParameterSpec{Name: "momentum", Reference: "momentum"})
	container := func(t *testing.T, as []v1alpha1.ParameterAssignment, inactive ...string) map[string]any {
		t.Helper()
		w, err := trialtemplate.Render(tt, trialName, ns, as, inactive...)
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		cs, _, _ := unstructured.NestedSlice(w.Object, "spec", "template", "spec", "containers")
		return cs[0].(map[string]any)
	}
	adam := container(t, []v1alpha1.ParameterAssignment{{Name: "optimizer", Value: "adam"}}, "momentum")
	if diff := cmp.Diff([]any{"--optimizer=adam", "--out=" + trialName}, adam["args"]); diff != "" {
		t.Errorf("args without momentum (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{map[string]any{"name": "MOMENTUM", "value": ""}}, adam["env"]); diff != "" {
		t.Errorf("env without momentum (-want +got):\n%s", diff)
	}
	sgd := container(t, []v1alpha1.ParameterAssignment{{Name: "optimizer", Value: "sgd"}, {Name: "momentum", Value: "0.9"}})
	if diff := cmp.Diff([]any{"--optimizer=sgd", "--momentum=0.9", "--out=" + trialName}, sgd["args"]); diff != "" {
		t.Errorf("args with momentum (-want +got):\n%s", diff)
	}
	// A parameter that is not conditional, or not named inactive, must
	// still have a value.
	if _, err := trialtemplate.Render(tt, trialName, ns, []v1alpha1.ParameterAssignment{{Name: "optimizer", Value: "adam"}}); err == nil {
		t.Errorf("Render without momentum, not named inactive: no error")
	}
}

// TestCheckConditional checks a template with every conditional parameter
// inactive too: one that uses an inactive value where it cannot be left
// out (the workload's kind) is refused.
func TestCheckConditional(t *testing.T) {
	params := []v1alpha1.ParameterSpec{
		{Name: "optimizer", ParameterType: v1alpha1.ParameterTypeCategorical, FeasibleSpace: v1alpha1.FeasibleSpace{List: []string{"sgd", "adam"}}},
		{Name: "momentum", ParameterType: v1alpha1.ParameterTypeDouble, FeasibleSpace: v1alpha1.FeasibleSpace{Min: "0.5", Max: "0.99"},
			ParentName: "optimizer", ParentValues: []string{"sgd"}},
	}
	tps := []v1alpha1.TrialParameterSpec{{Name: "m", Reference: "momentum"}}
	good := trialSpec(`{"apiVersion": "batch/v1", "kind": "Job", "spec": {"args": ["--momentum=${trialParameters.m}"]}}`, tps...)
	if err := trialtemplate.Check(good, params); err != nil {
		t.Errorf("Check: %v", err)
	}
	// The kind is empty when momentum is inactive.
	bad := trialSpec(`{"apiVersion": "batch/v1", "kind": "${trialParameters.m}"}`, tps...)
	if _, err := trialtemplate.Render(bad, trialName, ns, []v1alpha1.ParameterAssignment{{Name: "optimizer", Value: "sgd"}, {Name: "momentum", Value: "0.9"}}); err != nil {
		t.Fatalf("Render with momentum active: %v", err)
	}
	err := trialtemplate.Check(bad, params)
	if err == nil || !strings.Contains(err.Error(), "kind") {
		t.Errorf("Check of a kind that is empty without momentum: %v, want an error naming the kind", err)
	}
}
