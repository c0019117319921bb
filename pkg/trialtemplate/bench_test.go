package trialtemplate

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

var benchAssignments = []v1alpha1.ParameterAssignment{{Name: "lr", Value: "0.01"}, {Name: "optimizer", Value: "adam"}, {Name: "epochs", Value: "9"}}

// BenchmarkRender renders one trial's Job in each form.
func BenchmarkRender(b *testing.B) {
	forms := map[string]*v1alpha1.TrialTemplate{
		"goTemplate": {GoTemplate: &v1alpha1.GoTemplate{RawTemplate: `apiVersion: batch/v1
kind: Job
metadata:
  name: {{.Trial}}
  namespace: {{.NameSpace}}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: trial
          image: trial
          args:
{{- range .HyperParameters}}
            - "--{{.Name}}={{.Value}}"
{{- end}}
`}},
		"trialSpec": {
			TrialSpec:       &runtime.RawExtension{Raw: []byte(`{"apiVersion":"batch/v1","kind":"Job","spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"trial","image":"trial","args":["--lr=${trialParameters.lr}","--optimizer=${trialParameters.optimizer}","--epochs=${trialParameters.epochs}"]}]}}}}`)},
			TrialParameters: []v1alpha1.TrialParameterSpec{{Name: "lr", Reference: "lr"}, {Name: "optimizer", Reference: "optimizer"}, {Name: "epochs", Reference: "epochs"}},
		},
	}
	for name, tt := range forms {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Render(tt, "exp-1", "default", benchAssignments); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHostileGoTemplate checks templates that would build gigabytes:
// B/op is what refusing one costs.
func BenchmarkHostileGoTemplate(b *testing.B) {
	for name, raw := range map[string]string{
		"doubling": `{{$x := "a"}}{{range 40}}{{$x = printf "%s%s" $x $x}}{{end}}{{len $x}}`,
		"wide":     `{{range 100}}{{range 100}}{{$y := printf "%01000000d" 1}}{{end}}{{end}}`,
		"compare":  `{{$x := printf "%0500000d" 1}}{{$y := printf "%0500000d" 1}}{{range 1000}}{{range 300}}{{if eq $x $y}}{{end}}{{end}}{{end}}`,
	} {
		tt := &v1alpha1.TrialTemplate{GoTemplate: &v1alpha1.GoTemplate{RawTemplate: raw}}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Render(tt, "exp-1", "default", benchAssignments); err == nil {
					b.Fatal("Render() = nil, want an error")
				}
			}
		})
	}
}
