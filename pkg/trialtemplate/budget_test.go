package trialtemplate_test

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"text/template"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/trialtemplate"
)

// hostileTemplates build far more than any object holds, each in few steps.
var hostileTemplates = []struct {
	name, raw, message string
}{{
	name:    "doubling a string",
	raw:     `{{$x := "a"}}{{range 40}}{{$x = printf "%s%s" $x $x}}{{end}}{{len $x}}`,
	message: "printf would build a value of up to",
}, {
	name:    "a wide number many times",
	raw:     `{{range 100}}{{range 100}}{{$y := printf "%01000000d" 1}}{{end}}{{end}}`,
	message: "a trial template may build 4194304 bytes of values",
}, {
	name:    "widths through an index and a star",
	raw:     `{{$x := printf "%[1]*[2]d%[1]*[2]d" 1000000 7}}`,
	message: "printf would build a value of up to",
}, {
	name:    "a width padding every leaf of the data",
	raw:     `{{printf "%900000v" .}}`,
	message: "printf would build a value of up to",
}, {
	name:    "doubling with print",
	raw:     `{{$x := "aaaaaaaaaaaaaaaa"}}{{range 40}}{{$x = print $x $x}}{{end}}`,
	message: "print would build a value of up to",
}, {
	name:    "escaping a large value",
	raw:     `{{$x := printf "%0500000d" 1}}{{js $x}}`,
	message: "js would build a value of up to",
}, {
	name:    "many escapes of a mid-sized value",
	raw:     `{{$x := printf "%0100000d" 1}}{{range 1000}}{{$y := urlquery $x}}{{end}}`,
	message: "a trial template may build 4194304 bytes of values",
}, {
	name:    "comparing long strings a million times",
	raw:     `{{$x := printf "%0500000d" 1}}{{$y := printf "%0500000d" 1}}{{range 1000}}{{range 300}}{{if eq $x $y}}{{end}}{{end}}{{end}}`,
	message: "eq would take the strings the template compares past 67108864 bytes",
}, {
	name:    "ordering long strings in a pipeline",
	raw:     `{{$x := printf "%0900000d" 1}}{{range 1000}}{{range 300}}{{if $x | lt $x}}{{end}}{{end}}{{end}}`,
	message: "lt would take the strings the template compares past 67108864 bytes",
}, {
	name:    "lines of a large value",
	raw:     `{{$x := printf "%01000000d" 1}}{{$y := println $x $x}}`,
	message: "println would build a value of up to",
}}

// TestHostileGoTemplate checks that a template that would build more than
// a rendering may is refused, naming the field, with a message, and that
// refusing it allocates a few megabytes at most.
func TestHostileGoTemplate(t *testing.T) {
	params := []v1alpha1.ParameterSpec{{Name: "lr", ParameterType: v1alpha1.ParameterTypeDouble, FeasibleSpace: v1alpha1.FeasibleSpace{Min: "0.01", Max: "0.1"}}}
	for _, tc := range hostileTemplates {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := trialtemplate.Check(goTemplate(tc.raw), params)
			runtime.ReadMemStats(&after)
			var te *trialtemplate.Error
			if !errors.As(err, &te) {
				t.Fatalf("Check() = %v, want a *trialtemplate.Error", err)
			}
			if te.Field != "trialTemplate.goTemplate.rawTemplate" || te.Line != 1 || !strings.Contains(te.Message, tc.message) {
				t.Errorf("Check() = %q (field %s, line %d), want the rawTemplate, line 1, and a message with %q", err, te.Field, te.Line, tc.message)
			}
			// A rendering builds 4 MiB of values and 1 MiB of output at most;
			// the rest is the template, the data and fmt's buffers.
			const limit = 16 << 20
			if allocated := after.TotalAlloc - before.TotalAlloc; allocated > limit {
				t.Errorf("Check() allocated %d bytes, want at most %d", allocated, limit)
			}
		})
	}
}

// TestGoTemplateBuilders checks that the functions that build strings give
// what text/template's own give.
func TestGoTemplateBuilders(t *testing.T) {
	data := map[string]any{"Trial": trialName, "NameSpace": ns, "HyperParameters": []map[string]string{
		{"Name": assignments[0].Name, "Value": assignments[0].Value},
		{"Name": assignments[1].Name, "Value": assignments[1].Value},
	}}
	for _, pipeline := range []string{
		`printf "%s=%v" (index .HyperParameters 0).Name (index .HyperParameters 0).Value`,
		`printf "%05d|%-4s|%x|% x|%q|%.2f|%*d|%[2]s" 42 "ab" 7`,
		`printf "%d%%|%[3]d|%!|%" 5`,
		`printf "%d" 1 2`,
		`printf "%#v|%+q|% #x|%8.3e|%U|%c|%t|%T" . "é\x00" "hi" 3.14159 0x1F600 65 true .HyperParameters`,
		`printf "%v" .HyperParameters`,
		`.Trial | printf "%s-job"`,
		`print "a" 1 2 "b" nil`,
		`println "a" 1`,
		`html "<a href=\"x\">" 3`,
		`js "<'x'>\n"`,
		`urlquery "a b&c" "d"`,
	} {
		raw := "{{" + pipeline + "}}"
		var want strings.Builder
		if err := template.Must(template.New("reference").Parse(raw)).Execute(&want, data); err != nil {
			t.Fatalf("%s: text/template: %v", raw, err)
		}
		u, err := trialtemplate.Render(goTemplate("apiVersion: v1\nkind: ConfigMap\ndata:\n  x: {{printf \"%q\" ("+pipeline+")}}\n"), trialName, ns, assignments)
		if err != nil {
			t.Errorf("%s: Render() = %v", raw, err)
			continue
		}
		if got := u.Object["data"].(map[string]any)["x"]; got != want.String() {
			t.Errorf("%s = %q, want %q", raw, got, want.String())
		}
	}
}

// TestGoTemplateComparisons checks that comparisons, whose arguments are
// counted, give what text/template's own give, errors included.
func TestGoTemplateComparisons(t *testing.T) {
	data := map[string]any{"Trial": trialName, "NameSpace": ns, "HyperParameters": []map[string]string{
		{"Name": assignments[0].Name, "Value": assignments[0].Value},
	}}
	for _, pipeline := range []string{
		`eq .Trial "` + trialName + `"`,
		`eq "a" "b" "c" "a"`,
		`ne (index .HyperParameters 0).Value "0.01"`,
		`lt 1 2`,
		`le 2.5 2.5`,
		`gt "b" "a"`,
		`ge 3 (len .HyperParameters)`,
		`.Trial | eq "x"`,
		`eq true (eq 1 1 | and 1)`,
		`eq 2 (len (printf "%s" "ab"))`,
		`and (eq .NameSpace "` + ns + `") (lt 0 1)`,
		`eq (index .HyperParameters 0) 1`,
		`eq (index .HyperParameters 0).Value 0.01`,
		`lt true false`,
		`eq .HyperParameters .HyperParameters`,
	} {
		raw := "{{" + pipeline + "}}"
		var want strings.Builder
		wantErr := template.Must(template.New("reference").Parse(raw)).Execute(&want, data)
		u, err := trialtemplate.Render(goTemplate("apiVersion: v1\nkind: ConfigMap\ndata:\n  x: {{printf \"%q\" (print ("+pipeline+"))}}\n"), trialName, ns, assignments)
		switch {
		case wantErr != nil:
			var te *trialtemplate.Error
			if !errors.As(err, &te) || strings.Contains(te.Message, "knobs") {
				t.Errorf("%s: Render() = %v, want an error as text/template's, %v, without the counting", raw, err, wantErr)
			} else {
				t.Logf("%s: %v", raw, err)
			}
		case err != nil:
			t.Errorf("%s: Render() = %v", raw, err)
		default:
			if got := u.Object["data"].(map[string]any)["x"]; got != want.String() {
				t.Errorf("%s = %q, want %q", raw, got, want.String())
			}
		}
	}
}
