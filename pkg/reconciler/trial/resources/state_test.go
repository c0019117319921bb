package resources_test

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"knobs.dev/knobs/pkg/reconciler/trial/resources"
)

// workload decodes a workload from JSON.
func workload(t testing.TB, s string) *unstructured.Unstructured {
	t.Helper()
	var obj map[string]any
	if err := utiljson.Unmarshal([]byte(s), &obj); err != nil {
		t.Fatalf("workload %s: %v", s, err)
	}
	return &unstructured.Unstructured{Object: obj}
}

// job is a batch/v1 Job with these conditions.
func job(conditions string) string {
	return `{"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "mnist-x7k2p"}, "status": {"conditions": ` + conditions + `}}`
}

// taskRun is a Tekton TaskRun, which follows the Knative convention, with
// these conditions.
func taskRun(conditions string) string {
	return `{"apiVersion": "tekton.dev/v1", "kind": "TaskRun", "status": {"conditions": ` + conditions + `}}`
}

func TestReadState(t *testing.T) {
	tests := []struct {
		name             string
		obj              string
		success, failure string
		want             resources.State
		wantMessage      string
	}{{
		name: "a Job running",
		obj:  `{"apiVersion": "batch/v1", "kind": "Job", "status": {"active": 1}}`,
		want: resources.StateRunning,
	}, {
		name: "a Job complete",
		obj:  job(`[{"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}]`),
		want: resources.StateSucceeded,
	}, {
		name:        "a Job failed",
		obj:         job(`[{"type": "FailureTarget", "status": "True"}, {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]`),
		want:        resources.StateFailed,
		wantMessage: "BackoffLimitExceeded: Job has reached the specified backoff limit",
	}, {
		name:        "a Job both failed and complete is failed",
		obj:         job(`[{"type": "Complete", "status": "True"}, {"type": "Failed", "status": "True", "reason": "DeadlineExceeded"}]`),
		want:        resources.StateFailed,
		wantMessage: "DeadlineExceeded",
	}, {
		name: "a Job whose conditions are false",
		obj:  job(`[{"type": "Complete", "status": "False"}, {"type": "Failed", "status": "False"}]`),
		want: resources.StateRunning,
	}, {
		name: "a Job read with the Knative convention",
		obj:  `{"apiVersion": "batch/v1", "kind": "Job", "status": {"conditions": [{"type": "Succeeded", "status": "True"}]}}`,
		want: resources.StateRunning,
	}, {
		name:        "a TaskRun succeeded",
		obj:         taskRun(`[{"type": "Succeeded", "status": "True", "reason": "Succeeded", "message": "All Steps have completed executing"}]`),
		want:        resources.StateSucceeded,
		wantMessage: "Succeeded: All Steps have completed executing",
	}, {
		name:        "a TaskRun failed",
		obj:         taskRun(`[{"type": "Succeeded", "status": "False", "message": "\"step-train\" exited with code 1"}]`),
		want:        resources.StateFailed,
		wantMessage: `"step-train" exited with code 1`,
	}, {
		name: "a TaskRun unknown",
		obj:  taskRun(`[{"type": "Succeeded", "status": "Unknown", "reason": "Running"}]`),
		want: resources.StateRunning,
	}, {
		name: "a workload without status",
		obj:  `{"apiVersion": "v1", "kind": "Pod"}`,
		want: resources.StateRunning,
	}, {
		name:    "a count that is positive",
		obj:     `{"apiVersion": "batch/v1", "kind": "Job", "status": {"succeeded": 1, "failed": 0}}`,
		success: "status.succeeded",
		failure: "status.failed",
		want:    resources.StateSucceeded,
	}, {
		name:    "counts that are zero",
		obj:     `{"apiVersion": "batch/v1", "kind": "Job", "status": {"succeeded": 0, "failed": 0}}`,
		success: "status.succeeded",
		failure: "status.failed",
		want:    resources.StateRunning,
	}, {
		// A query should pick the condition by its status, as the defaults
		// do: a status returned is a non-empty string, even "False".
		name:    "a query returning a status",
		obj:     job(`[{"type": "Complete", "status": "False"}]`),
		success: `status.conditions.#(type=="Complete").status`,
		want:    resources.StateSucceeded,
	}, {
		name:    "a query on a phase",
		obj:     `{"apiVersion": "v1", "kind": "Pod", "status": {"phases": ["Pending", "Failed"]}}`,
		success: `status.phases.#(=="Succeeded")`,
		failure: `status.phases.#(=="Failed")`,
		want:    resources.StateFailed,
	}, {
		name:        "a failure query returning one condition",
		obj:         job(`[{"type": "Failed", "status": "True", "message": "pod evicted"}]`),
		success:     `status.conditions.#(type=="Complete")`,
		failure:     `status.conditions.#(type=="Failed")`,
		want:        resources.StateFailed,
		wantMessage: "pod evicted",
	}, {
		name:    "a failure query returning a string",
		obj:     job(`[{"type": "Failed", "status": "True", "message": "pod evicted"}]`),
		failure: `status.conditions.#(type=="Failed").message`,
		want:    resources.StateFailed,
	}, {
		name:    "results that are empty",
		obj:     `{"apiVersion": "v1", "kind": "Pod", "status": {"a": "", "b": false, "c": [], "d": {}, "e": null}}`,
		success: "status.a",
		failure: "status.b",
		want:    resources.StateRunning,
	}, {
		name:    "more results that are empty",
		obj:     `{"apiVersion": "v1", "kind": "Pod", "status": {"a": "", "b": false, "c": [], "d": {}, "e": null}}`,
		success: "status.c",
		failure: "status.d",
		want:    resources.StateRunning,
	}, {
		name:    "null and missing",
		obj:     `{"apiVersion": "v1", "kind": "Pod", "status": {"a": "", "b": false, "c": [], "d": {}, "e": null}}`,
		success: "status.e",
		failure: "status.f",
		want:    resources.StateRunning,
	}, {
		name:    "true, and a default for the other query",
		obj:     `{"apiVersion": "batch/v1", "kind": "Job", "status": {"done": true, "conditions": [{"type": "Failed", "status": "True"}]}}`,
		success: "status.done",
		want:    resources.StateFailed,
	}, {
		name:    "a custom failure, and the default success",
		obj:     job(`[{"type": "Complete", "status": "True"}]`),
		failure: "status.oops",
		want:    resources.StateSucceeded,
	}, {
		name:    "a query that is not GJSON",
		obj:     job(`[{"type": "Complete", "status": "True"}]`),
		success: `status.conditions.#(type==`,
		failure: `)#|#(`,
		want:    resources.StateRunning,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, msg := resources.ReadState(workload(t, tc.obj), tc.success, tc.failure)
			if got != tc.want || msg != tc.wantMessage {
				t.Errorf("ReadState() = %v, %q, want %v, %q", got, msg, tc.want, tc.wantMessage)
			}
		})
	}
}

func TestReadStateOfNothing(t *testing.T) {
	if got, msg := resources.ReadState(nil, "", ""); got != resources.StateRunning || msg != "" {
		t.Errorf("ReadState(nil) = %v, %q, want Running", got, msg)
	}
	bad := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Pod", "status": map[string]any{"x": func() {}}}}
	if got, msg := resources.ReadState(bad, "", ""); got != resources.StateRunning || msg == "" {
		t.Errorf("ReadState(unencodable) = %v, %q, want Running and why", got, msg)
	}
}

func TestStateString(t *testing.T) {
	for s, want := range map[resources.State]string{
		resources.StateRunning:   "Running",
		resources.StateSucceeded: "Succeeded",
		resources.StateFailed:    "Failed",
		resources.State(7):       "Unknown",
	} {
		if got := s.String(); got != want {
			t.Errorf("State(%d).String() = %q, want %q", int(s), got, want)
		}
	}
}
