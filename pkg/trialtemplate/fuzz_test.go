package trialtemplate_test

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/trialtemplate"
)

// checkRendered checks what Render returned: a workload named after the
// trial, with apiVersion and kind, or an *Error naming a field of the
// template.
func checkRendered(t *testing.T, u *unstructured.Unstructured, err error) {
	t.Helper()
	if err != nil {
		var te *trialtemplate.Error
		if !errors.As(err, &te) {
			t.Fatalf("Render() = %v (%T), want a *trialtemplate.Error", err, err)
		}
		if !strings.HasPrefix(te.Field, "trialTemplate") || te.Message == "" || te.Line < 0 {
			t.Fatalf("Render() = %#v, want a field of the trial template, a line and a message", te)
		}
		return
	}
	if u.GetName() != trialName || u.GetNamespace() != ns {
		t.Fatalf("Render() named the workload %s/%s, want %s/%s", u.GetNamespace(), u.GetName(), ns, trialName)
	}
	if u.GetAPIVersion() == "" || u.GetKind() == "" {
		t.Fatalf("Render() = %v, want an apiVersion and a kind", u.Object)
	}
	if _, err := u.MarshalJSON(); err != nil {
		t.Fatalf("Render() = %v, which does not encode: %v", u.Object, err)
	}
}

func FuzzRenderGoTemplate(f *testing.F) {
	f.Add(katibJob, "0.01")
	f.Add("{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"spec\": {\"args\": [{{range .HyperParameters}}\"{{.Value}}\", {{end}}\"x\"]}}", `"}`)
	f.Add("apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: Pod\n", "")
	f.Add("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{.Trail}}\n", "x")
	f.Add("{{define \"x\"}}{{template \"x\" .}}{{end}}{{template \"x\" .}}", "x")
	f.Add("{{range 10}}{{range $i := 100}}x{{end}}{{end}}", "x")
	f.Add("{{if eq .Trial \"x\" | not}}{{range $i, $p := .HyperParameters}}{{if lt $i 1}}{{$p.Value | ge \"a\"}}{{end}}{{end}}{{end}}", "b")
	f.Add("{{$x := .Trial}}{{range 30}}{{$x = printf \"%s%[1]s%08.3[2]x\" $x 1}}{{end}}{{html $x | urlquery | js}}", "x")
	f.Add("apiVersion: v1\nkind: List\nitems: []\n...\n", "\x00")
	f.Fuzz(func(t *testing.T, raw, value string) {
		tt := goTemplate(raw)
		u, err := trialtemplate.Render(tt, trialName, ns, []v1alpha1.ParameterAssignment{{Name: "--lr", Value: value}})
		checkRendered(t, u, err)
	})
}

func FuzzRenderTrialSpec(f *testing.F) {
	f.Add([]byte(katibSpec), "0.01")
	f.Add([]byte(`{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "${trialSpec.Name}"}}`), `"}, "x": {"`)
	f.Add([]byte(`{"apiVersion": "v1", "kind": "${trialParameters.learningRate}", "spec": ["${trialParameters.optimizer"]}`), "${trialSpec.Name}")
	f.Add([]byte(`[1, "${trialSpec.Namespace}"]`), "")
	f.Add([]byte(`{"apiVersion": 1e400}`), "x")
	f.Fuzz(func(t *testing.T, raw []byte, value string) {
		values := []v1alpha1.ParameterAssignment{{Name: "--lr", Value: value}, {Name: "--optimizer", Value: value}}
		u, err := trialtemplate.Render(trialSpec(string(raw), trialParameters...), trialName, ns, values)
		checkRendered(t, u, err)

		// A value is a string wherever it goes, whatever it holds.
		const spec = `{"apiVersion": "v1", "kind": "Pod", "spec": {"args": ["${trialParameters.learningRate}", "--lr=${trialParameters.learningRate}"]}}`
		u, err = trialtemplate.Render(&v1alpha1.TrialTemplate{TrialSpec: &runtime.RawExtension{Raw: []byte(spec)}, TrialParameters: trialParameters}, trialName, ns, values)
		if err != nil {
			t.Fatalf("Render() = %v", err)
		}
		args, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "args")
		if len(u.Object) != 4 || len(u.Object["spec"].(map[string]any)) != 1 || len(args) != 2 || args[0] != value || args[1] != "--lr="+value {
			t.Fatalf("Render() with %q = %v", value, u.Object)
		}
	})
}
