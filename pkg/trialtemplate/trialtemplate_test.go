package trialtemplate_test

import (
	"testing"

	"github.com/tidwall/gjson"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/trialtemplate"
)

// params are the experiment parameters of the tests, named as in Katib's
// examples.
var params = []v1alpha1.ParameterSpec{{
	Name:          "--lr",
	ParameterType: v1alpha1.ParameterTypeDouble,
	FeasibleSpace: v1alpha1.FeasibleSpace{Min: "0.01", Max: "0.03"},
}, {
	Name:          "--num-layers",
	ParameterType: v1alpha1.ParameterTypeInt,
	FeasibleSpace: v1alpha1.FeasibleSpace{Min: "2", Max: "5"},
}, {
	Name:          "--optimizer",
	ParameterType: v1alpha1.ParameterTypeCategorical,
	FeasibleSpace: v1alpha1.FeasibleSpace{List: []string{"sgd", "adam", "ftrl"}},
}}

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		tt     *v1alpha1.TrialTemplate
		params []v1alpha1.ParameterSpec
		want   string
	}{{
		name:   "no template",
		params: params,
	}, {
		name:   "Katib's Go template",
		tt:     goTemplate(katibJob),
		params: params,
	}, {
		name:   "Katib's trialSpec",
		tt:     trialSpec(katibSpec, trialParameters...),
		params: params,
	}, {
		// The YAML error quotes the rendered line, which shows the sample.
		name:   "the sample is each parameter's first value",
		tt:     goTemplate("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{.Trial}} in {{.NameSpace}}: {{range .HyperParameters}}{{.Name}}={{.Value}} {{end}}\n"),
		params: params,
		want: `trialTemplate.goTemplate.rawTemplate: line 4: the rendered output is not YAML (the line is the output's, not the template's: ` +
			`"  name: sample-trial in default: --lr=0.01 --num-layers=2 --optimizer=sgd "): mapping values are not allowed in this context`,
	}, {
		name: "a trial parameter referencing an unknown parameter",
		tt: trialSpec(katibSpec,
			v1alpha1.TrialParameterSpec{Name: "learningRate", Reference: "--lr"},
			v1alpha1.TrialParameterSpec{Name: "optimizer", Reference: "--optimiser"}),
		params: params,
		want:   `trialTemplate.trialParameters[1].reference: unknown parameter "--optimiser": the experiment's parameters are --lr, --num-layers, --optimizer`,
	}, {
		name: "a trial parameter and no parameters",
		tt:   trialSpec(katibSpec, trialParameters...),
		want: `trialTemplate.trialParameters[0].reference: unknown parameter "--lr": the experiment has no parameters`,
	}, {
		name:   "a trialSpec using an undefined trial parameter",
		tt:     trialSpec(katibSpec, trialParameters[0]),
		params: params,
		want:   `trialTemplate.trialSpec.spec.template.spec.containers[0].command[3]: unknown trial parameter "optimizer": trialParameters define learningRate`,
	}, {
		name:   "a Go template that does not parse",
		tt:     goTemplate("apiVersion: v1\nkind: Pod\n{{range .HyperParameters}}\n"),
		params: params,
		want:   `trialTemplate.goTemplate.rawTemplate: line 4: the template does not parse: unexpected EOF`,
	}, {
		name:   "a Go template without a kind",
		tt:     goTemplate("apiVersion: v1\n"),
		params: params,
		want:   `trialTemplate.goTemplate.rawTemplate: the rendered object's kind is missing: a trial template gives one Kubernetes object with apiVersion and kind, such as apiVersion: batch/v1 and kind: Job`,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := trialtemplate.Check(tc.tt, tc.params)
			if tc.want == "" {
				if err != nil {
					t.Errorf("Check() = %v", err)
				}
				return
			}
			if _, ok := err.(*trialtemplate.Error); !ok {
				t.Fatalf("Check() = %v (%T), want a *trialtemplate.Error", err, err)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("Check() =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestDefaultConditions(t *testing.T) {
	const (
		jobComplete    = `{"status": {"conditions": [{"type": "Complete", "status": "True"}]}}`
		jobFailed      = `{"status": {"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}}`
		jobSuspended   = `{"status": {"conditions": [{"type": "Suspended", "status": "True"}, {"type": "Complete", "status": "False"}]}}`
		knativeSuccess = `{"status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "Succeeded", "status": "True"}]}}`
		knativeFailure = `{"status": {"conditions": [{"type": "Succeeded", "status": "False"}]}}`
		knativeUnknown = `{"status": {"conditions": [{"type": "Succeeded", "status": "Unknown"}]}}`
	)
	tests := []struct {
		apiVersion, kind string
		status           string
		succeeded        bool
		failed           bool
	}{
		{apiVersion: "batch/v1", kind: "Job", status: jobComplete, succeeded: true},
		{apiVersion: "batch/v1", kind: "Job", status: jobFailed, failed: true},
		{apiVersion: "batch/v1", kind: "Job", status: jobSuspended},
		{apiVersion: "batch/v1", kind: "Job", status: knativeSuccess},
		{apiVersion: "batch/v1", kind: "Job", status: `{}`},
		{apiVersion: "tekton.dev/v1", kind: "TaskRun", status: knativeSuccess, succeeded: true},
		{apiVersion: "tekton.dev/v1", kind: "TaskRun", status: knativeFailure, failed: true},
		{apiVersion: "tekton.dev/v1", kind: "TaskRun", status: knativeUnknown},
		{apiVersion: "tekton.dev/v1", kind: "TaskRun", status: jobComplete},
		{apiVersion: "batch/v1", kind: "CronJob", status: jobComplete},
		{apiVersion: "kubeflow.org/v1", kind: "Job", status: knativeSuccess, succeeded: true},
	}
	for _, tc := range tests {
		success, failure := trialtemplate.DefaultConditions(tc.apiVersion, tc.kind)
		if got := len(gjson.Get(tc.status, success).Array()) > 0; got != tc.succeeded {
			t.Errorf("DefaultConditions(%s, %s) success %s on %s = %v, want %v", tc.apiVersion, tc.kind, success, tc.status, got, tc.succeeded)
		}
		if got := len(gjson.Get(tc.status, failure).Array()) > 0; got != tc.failed {
			t.Errorf("DefaultConditions(%s, %s) failure %s on %s = %v, want %v", tc.apiVersion, tc.kind, failure, tc.status, got, tc.failed)
		}
	}
	if s, f := trialtemplate.DefaultConditions("batch/v1", "Job"); s != `status.conditions.#(type=="Complete")#|#(status=="True")#` || f != `status.conditions.#(type=="Failed")#|#(status=="True")#` {
		t.Errorf("DefaultConditions(batch/v1, Job) = %s, %s, want Katib's", s, f)
	}
}
