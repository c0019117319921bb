package trialtemplate_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/trialtemplate"
)

const (
	trialName = "mnist-x7k2p"
	ns        = "tuning"
)

// assignments are the values of the tests' trials.
var assignments = []v1alpha1.ParameterAssignment{
	{Name: "--lr", Value: "0.01"},
	{Name: "--optimizer", Value: "adam"},
}

// katibJob is the Job template of Katib's v1alpha3 examples.
const katibJob = `apiVersion: batch/v1
kind: Job
metadata:
  name: {{.Trial}}
  namespace: {{.NameSpace}}
spec:
  backoffLimit: 2
  template:
    spec:
      containers:
      - name: training-container
        image: docker.io/kubeflowkatib/mxnet-mnist
        command:
        - "python3"
        - "/opt/mxnet-mnist/mnist.py"
        - "--batch-size=64"
        {{- with .HyperParameters}}
        {{- range .}}
        - "{{.Name}}={{.Value}}"
        {{- end}}
        {{- end}}
      restartPolicy: Never
`

// job is the Job katibJob renders for the tests' trial.
func job() map[string]any {
	return map[string]any{
		"apiVersion": "batch/v1",
		"kind":       "Job",
		"metadata":   map[string]any{"name": trialName, "namespace": ns},
		"spec": map[string]any{
			"backoffLimit": int64(2),
			"template": map[string]any{
				"spec": map[string]any{
					"containers": []any{map[string]any{
						"name":    "training-container",
						"image":   "docker.io/kubeflowkatib/mxnet-mnist",
						"command": []any{"python3", "/opt/mxnet-mnist/mnist.py", "--batch-size=64", "--lr=0.01", "--optimizer=adam"},
					}},
					"restartPolicy": "Never",
				},
			},
		},
	}
}

func goTemplate(raw string) *v1alpha1.TrialTemplate {
	return &v1alpha1.TrialTemplate{GoTemplate: &v1alpha1.GoTemplate{RawTemplate: raw}}
}

func TestRenderGoTemplate(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want map[string]any
	}{{
		name: "Katib's Job",
		raw:  katibJob,
		want: job(),
	}, {
		name: "JSON indented with tabs",
		raw:  "{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"Pod\",\n\t\"spec\": {\"replicas\": 2, \"ratio\": 0.5, \"args\": [{{range $i, $h := .HyperParameters}}{{if $i}}, {{end}}\"{{$h.Value}}\"{{end}}]}\n}\n",
		want: map[string]any{
			"apiVersion": "v1",
			"kind":       "Pod",
			"metadata":   map[string]any{"name": trialName, "namespace": ns},
			"spec":       map[string]any{"replicas": int64(2), "ratio": 0.5, "args": []any{"0.01", "adam"}},
		},
	}, {
		name: "flow YAML starting with a brace",
		raw:  "{apiVersion: v1, kind: Pod}",
		want: map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": trialName, "namespace": ns}},
	}, {
		name: "name and namespace overridden",
		raw:  "apiVersion: v1\nkind: Pod\nmetadata:\n  name: fixed\n  namespace: elsewhere\n  labels: {app: mnist}\n",
		want: map[string]any{
			"apiVersion": "v1",
			"kind":       "Pod",
			"metadata":   map[string]any{"name": trialName, "namespace": ns, "labels": map[string]any{"app": "mnist"}},
		},
	}, {
		name: "no metadata",
		raw:  "apiVersion: v1\nkind: Pod\n",
		want: map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": trialName, "namespace": ns}},
	}, {
		name: "null metadata",
		raw:  "apiVersion: v1\nkind: Pod\nmetadata:\n",
		want: map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": trialName, "namespace": ns}},
	}, {
		name: "document markers and empty documents around the object",
		raw:  "# a trial\n---\napiVersion: v1\nkind: Pod\n...\n---\n# nothing more\n",
		want: map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": trialName, "namespace": ns}},
	}, {
		name: "a value by index, and a shell variable left alone",
		raw:  "apiVersion: v1\nkind: Pod\nspec:\n  args: [\"{{(index .HyperParameters 1).Value}}\", \"${HOME}\"]\n",
		want: map[string]any{
			"apiVersion": "v1",
			"kind":       "Pod",
			"metadata":   map[string]any{"name": trialName, "namespace": ns},
			"spec":       map[string]any{"args": []any{"adam", "${HOME}"}},
		},
	}, {
		name: "a defined template called twice",
		raw:  "{{define \"arg\"}}- {{.}}{{end}}{{block \"kind\" .}}kind: Pod{{end}}\napiVersion: v1\nspec:\n  args:\n  {{template \"arg\" .Trial}}\n  {{template \"arg\" .NameSpace}}\n",
		want: map[string]any{
			"apiVersion": "v1",
			"kind":       "Pod",
			"metadata":   map[string]any{"name": trialName, "namespace": ns},
			"spec":       map[string]any{"args": []any{trialName, ns}},
		},
	}, {
		name: "a small range over a number",
		raw:  "apiVersion: v1\nkind: Pod\nspec:\n  ports:\n{{- range 3}}\n  - {{.}}\n{{- end}}\n",
		want: map[string]any{
			"apiVersion": "v1",
			"kind":       "Pod",
			"metadata":   map[string]any{"name": trialName, "namespace": ns},
			"spec":       map[string]any{"ports": []any{int64(0), int64(1), int64(2)}},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := trialtemplate.Render(goTemplate(tc.raw), trialName, ns, assignments)
			if err != nil {
				t.Fatalf("Render() = %v", err)
			}
			if diff := cmp.Diff(tc.want, got.Object); diff != "" {
				t.Errorf("Render() (-want, +got):\n%s", diff)
			}
		})
	}
}

func TestRenderGoTemplateErrors(t *testing.T) {
	const field = "trialTemplate.goTemplate.rawTemplate"
	tests := []struct {
		name string
		raw  string
		want trialtemplate.Error
	}{{
		name: "a parse error",
		raw:  "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{if}}\n",
		want: trialtemplate.Error{Field: field, Line: 4, Message: "the template does not parse: missing value for if"},
	}, {
		name: "an unclosed action",
		raw:  "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Trial \n\n",
		want: trialtemplate.Error{Field: field, Line: 6, Message: "the template does not parse: unclosed action started at line 4"},
	}, {
		name: "a misspelt name",
		raw:  "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{.Trail}}\n",
		want: trialtemplate.Error{Field: field, Line: 4, Message: `the template does not run: at <.Trail>: map has no entry for key "Trail": ` +
			"a trial template has .Trial, .NameSpace and .HyperParameters (a list of .Name and .Value)"},
	}, {
		name: "a misspelt name in a range",
		raw:  "apiVersion: v1\nkind: Pod\nspec:\n  args:\n  {{- range .HyperParameters}}\n  - {{.Nmae}}\n  {{- end}}\n",
		want: trialtemplate.Error{Field: field, Line: 6, Message: `the template does not run: at <.Nmae>: map has no entry for key "Nmae": ` +
			"a trial template has .Trial, .NameSpace and .HyperParameters (a list of .Name and .Value)"},
	}, {
		name: "an index out of range",
		raw:  "apiVersion: v1\nkind: Pod\nspec:\n  args: [{{index .HyperParameters 5}}]\n",
		want: trialtemplate.Error{Field: field, Line: 4, Message: "the template does not run: at <index .HyperParameters 5>: error calling index: index out of range: 5"},
	}, {
		// The range makes the output two lines longer than the template:
		// the error is on line 7 of the output, line 5 of the template.
		name: "rendered output that is not YAML",
		raw:  "apiVersion: v1\nkind: Pod\nspec:\n  args:{{range .HyperParameters}}\n  - {{.Value}}{{end}}\n  image: {{.Trial}}: latest\n",
		want: trialtemplate.Error{Field: field, Line: 7, Message: `the rendered output is not YAML (the line is the output's, not the template's: "  image: mnist-x7k2p: latest"): ` +
			"mapping values are not allowed in this context"},
	}, {
		name: "not YAML in a second document",
		raw:  "# the trial\n---\napiVersion: v1\nkind: Pod\nmetadata:\n\tname: x\n",
		want: trialtemplate.Error{Field: field, Line: 6, Message: `the rendered output is not YAML (the line is the output's, not the template's: "\tname: x"): ` +
			"found character that cannot start any token"},
	}, {
		name: "a key given twice",
		raw:  "apiVersion: v1\nkind: Pod\nspec:\n  image: a\n  image: b\n",
		want: trialtemplate.Error{Field: field, Line: 5, Message: `the rendered output is not YAML (the line is the output's, not the template's: "  image: b"): ` +
			`key "image" already set in map`},
	}, {
		name: "no apiVersion",
		raw:  "kind: Job\nmetadata:\n  name: {{.Trial}}\n",
		want: trialtemplate.Error{Field: field, Message: "the rendered object's apiVersion is missing: a trial template gives one Kubernetes object with apiVersion and kind, such as apiVersion: batch/v1 and kind: Job"},
	}, {
		name: "no kind",
		raw:  "apiVersion: batch/v1\nmetadata:\n  name: {{.Trial}}\n",
		want: trialtemplate.Error{Field: field, Message: "the rendered object's kind is missing: a trial template gives one Kubernetes object with apiVersion and kind, such as apiVersion: batch/v1 and kind: Job"},
	}, {
		name: "an apiVersion that is a number",
		raw:  "apiVersion: 1\nkind: Job\n",
		want: trialtemplate.Error{Field: field, Message: "the rendered object's apiVersion is a number, not a string"},
	}, {
		name: "metadata that is a list",
		raw:  "apiVersion: v1\nkind: Pod\nmetadata: [a]\n",
		want: trialtemplate.Error{Field: field, Message: "the rendered object's metadata is a list, not an object"},
	}, {
		name: "an empty document",
		raw:  "{{/* nothing yet */}}\n  \n",
		want: trialtemplate.Error{Field: field, Message: "the template renders an empty document: it must render one Kubernetes object, such as a batch/v1 Job"},
	}, {
		name: "only comments",
		raw:  "# apiVersion: v1\n---\n# kind: Pod\n",
		want: trialtemplate.Error{Field: field, Message: "the template renders an empty document: it must render one Kubernetes object, such as a batch/v1 Job"},
	}, {
		name: "a list",
		raw:  "- apiVersion: v1\n  kind: Pod\n- apiVersion: v1\n  kind: Pod\n",
		want: trialtemplate.Error{Field: field, Message: "the template renders a list of 2 items: it must render one Kubernetes object, such as a batch/v1 Job"},
	}, {
		name: "a JSON list",
		raw:  `[{"apiVersion": "v1", "kind": "Pod"}]`,
		want: trialtemplate.Error{Field: field, Message: "the template renders a list of 1 items: it must render one Kubernetes object, such as a batch/v1 Job"},
	}, {
		name: "a Kubernetes List",
		raw:  "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n",
		want: trialtemplate.Error{Field: field, Message: "the template gives a List, a list of objects: a trial runs exactly one object, such as a batch/v1 Job"},
	}, {
		name: "a string",
		raw:  "{{.Trial}}",
		want: trialtemplate.Error{Field: field, Message: "the template renders a string: it must render one Kubernetes object, such as a batch/v1 Job"},
	}, {
		name: "several documents",
		raw:  "apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: Service\n--- # and another\napiVersion: v1\nkind: ConfigMap\n",
		want: trialtemplate.Error{Field: field, Message: "the template renders 3 YAML documents (starting at lines 1, 3, 6 of the rendered output): it must render exactly one Kubernetes object"},
	}, {
		name: "two documents after an end marker",
		raw:  "apiVersion: v1\nkind: Pod\n...\napiVersion: v1\nkind: Service\n",
		want: trialtemplate.Error{Field: field, Message: "the template renders 2 YAML documents (starting at lines 1, 4 of the rendered output): it must render exactly one Kubernetes object"},
	}, {
		name: "a range over a large number",
		raw:  "apiVersion: v1\nkind: Pod\n{{range $i := (1000000000)}}{{end}}\n",
		want: trialtemplate.Error{Field: field, Line: 3, Message: "range over 1000000000: a trial template may range over a number up to 1000; range over .HyperParameters to list the trial's values"},
	}, {
		name: "a range over a large number in a defined template",
		raw:  "{{define \"loop\"}}\n{{if .}}{{range 1e9}}{{end}}{{end}}{{end}}apiVersion: v1\nkind: Pod\n",
		want: trialtemplate.Error{Field: field, Line: 2, Message: "range over 1e9: a trial template may range over a number up to 1000; range over .HyperParameters to list the trial's values"},
	}, {
		name: "ranges nested past a million iterations, printing nothing",
		raw:  "apiVersion: v1\nkind: Pod\n{{range 1000}}{{range 1000}}{{range 2}}{{end}}{{end}}{{end}}\n",
		want: trialtemplate.Error{Field: field, Message: "the template would run more than 1000000 steps (range iterations, nested ones multiplied, commands and template calls): a trial template may run 1000000"},
	}, {
		name: "a range over a variable holding a large number",
		raw:  "apiVersion: v1\nkind: Pod\n{{$n := 300000000}}{{range $n}}{{end}}\n",
		want: trialtemplate.Error{Field: field, Line: 3, Message: "range over $n: a trial template may range over .HyperParameters (or a with or range of it), or over a number up to 1000"},
	}, {
		name: "a range over a computed length",
		raw:  "apiVersion: v1\nkind: Pod\n{{range (len (printf \"%0999999d\" 0))}}{{end}}\n",
		want: trialtemplate.Error{Field: field, Line: 3, Message: `range over (len (printf "%0999999d" 0)): a trial template may range over .HyperParameters (or a with or range of it), or over a number up to 1000`},
	}, {
		name: "a range over a number passed to a defined template",
		raw:  "{{define \"x\"}}{{range .}}{{end}}{{end}}apiVersion: v1\nkind: Pod\n{{template \"x\" 1000000000}}\n",
		want: trialtemplate.Error{Field: field, Line: 1, Message: "range over .: a trial template may range over .HyperParameters (or a with or range of it), or over a number up to 1000"},
	}, {
		name: "a command in ranges nested to a million iterations",
		raw:  "apiVersion: v1\nkind: Pod\n{{range 1000}}{{range 1000}}{{if eq 1 1}}{{end}}{{end}}{{end}}\n",
		want: trialtemplate.Error{Field: field, Message: "the template would run more than 1000000 steps (range iterations, nested ones multiplied, commands and template calls): a trial template may run 1000000"},
	}, {
		name: "template calls doubling at each level",
		raw:  doublingTemplates(30),
		want: trialtemplate.Error{Field: field, Message: "the template would run more than 1000000 steps (range iterations, nested ones multiplied, commands and template calls): a trial template may run 1000000"},
	}, {
		name: "a template that calls itself",
		raw:  "{{define \"args\"}}\n- x\n{{template \"args\" .}}{{end}}apiVersion: v1\nkind: Pod\nspec:\n  args:\n{{template \"args\" .}}\n",
		want: trialtemplate.Error{Field: field, Line: 3, Message: `template "args" calls itself, directly or through other templates: a trial template may not recurse`},
	}, {
		name: "templates that call each other",
		raw:  "{{define \"a\"}}{{if .}}{{template \"b\" .}}{{end}}{{end}}\n{{define \"b\"}}{{with .}}{{range .HyperParameters}}{{template \"a\"}}{{end}}{{end}}{{end}}\napiVersion: v1\n",
		want: trialtemplate.Error{Field: field, Line: 2, Message: `template "a" calls itself, directly or through other templates: a trial template may not recurse`},
	}, {
		name: "an output too large",
		raw:  "apiVersion: v1\nkind: Pod\n{{range 1000}}# " + strings.Repeat("x", 2000) + "\n{{end}}",
		want: trialtemplate.Error{Field: field, Message: "the template renders more than 1048576 bytes, more than any Kubernetes object holds"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := trialtemplate.Render(goTemplate(tc.raw), trialName, ns, assignments)
			got, ok := err.(*trialtemplate.Error)
			if !ok {
				t.Fatalf("Render() = %v (%T), want a *trialtemplate.Error", err, err)
			}
			if diff := cmp.Diff(tc.want, *got); diff != "" {
				t.Errorf("Render() error (-want, +got):\n%s", diff)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  trialtemplate.Error
		want string
	}{{
		err:  trialtemplate.Error{Field: "trialTemplate.goTemplate.rawTemplate", Line: 7, Message: "the template does not parse: missing value for if"},
		want: "trialTemplate.goTemplate.rawTemplate: line 7: the template does not parse: missing value for if",
	}, {
		err:  trialtemplate.Error{Field: "trialTemplate.trialSpec.kind", Message: "missing"},
		want: "trialTemplate.trialSpec.kind: missing",
	}}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

// doublingTemplates defines n templates, each calling the one below twice,
// and calls the top one: 2^n calls that print nothing.
func doublingTemplates(n int) string {
	var b strings.Builder
	b.WriteString("{{define \"t0\"}}{{end}}")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "{{define \"t%d\"}}{{template \"t%d\"}}{{template \"t%d\"}}{{end}}", i, i-1, i-1)
	}
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Pod\n{{template \"t%d\"}}\n", n)
	return b.String()
}
