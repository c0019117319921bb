package resources_test

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/reconciler/trial/resources"
	"knobs.dev/knobs/pkg/trialtemplate"
)

func FuzzMakeWorkload(f *testing.F) {
	f.Add(`{"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {"containers": [{"name": "train", "env": [{"name": "K_SINK"}]}]}}}}`, sink)
	f.Add(`{"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": null}, "spec": {"containers": [{"env": null}], "template": {"spec": {"containers": [{}]}}}}`, "")
	f.Add(`{"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "spec": {"a": {"template": {"metadata": 1, "spec": {"containers": [{}]}}}}}`, "x")
	f.Add(`{"containers": [{"env": 1}], "apiVersion": "v1", "kind": "X"}`, "x")
	f.Add(`[]`, "")
	f.Fuzz(func(t *testing.T, runSpec, value string) {
		tr := newTrial(runSpec)
		before := tr.DeepCopy()
		u, err := resources.MakeWorkload(tr, value, value)
		if tr.Spec.RunSpec != nil && string(tr.Spec.RunSpec.Raw) != string(before.Spec.RunSpec.Raw) {
			t.Fatalf("MakeWorkload() changed the trial's runSpec")
		}
		if err != nil {
			if u != nil {
				t.Fatalf("MakeWorkload() = %v and %v", u, err)
			}
			return
		}
		if u.GetName() != trialName || u.GetNamespace() != ns || u.GetLabels()[tuning.TrialLabelKey] != trialName || len(u.GetOwnerReferences()) != 1 {
			t.Fatalf("MakeWorkload() = %v, want the trial's name, labels and owner", u.Object)
		}
		if _, err := u.MarshalJSON(); err != nil {
			t.Fatalf("MakeWorkload() = %v, which does not encode: %v", u.Object, err)
		}
		// Every container has the variables, once.
		n := countContainers(t, u.Object, value)
		if n == 0 {
			t.Fatalf("MakeWorkload() = %v, without containers", u.Object)
		}
	})
}

// countContainers counts the containers in v, checking that each has the
// variables once, with the value.
func countContainers(t *testing.T, v any, value string) int {
	n := 0
	switch v := v.(type) {
	case map[string]any:
		for k, item := range v {
			if list, ok := item.([]any); ok && k == "containers" && allObjects(list) {
				for _, c := range list {
					checkEnv(t, c.(map[string]any), value)
				}
				n += len(list)
				continue
			}
			n += countContainers(t, item, value)
		}
	case []any:
		for _, item := range v {
			n += countContainers(t, item, value)
		}
	}
	return n
}

func allObjects(list []any) bool {
	for _, item := range list {
		if _, ok := item.(map[string]any); !ok {
			return false
		}
	}
	return len(list) > 0
}

func checkEnv(t *testing.T, c map[string]any, value string) {
	t.Helper()
	seen := map[string]int{}
	env, _ := c["env"].([]any)
	for _, e := range env {
		m, _ := e.(map[string]any)
		name, _ := m["name"].(string)
		if strings.HasPrefix(name, "K_SINK") || strings.HasPrefix(name, "KNOBS_TRIAL_") {
			seen[name]++
			if (name == "K_SINK" || name == "KNOBS_TRIAL_TOKEN") && m["value"] != value {
				t.Fatalf("container %v: %s = %v, want %q", c, name, m["value"], value)
			}
		}
	}
	for _, name := range []string{"K_SINK", "KNOBS_TRIAL_NAME", "KNOBS_TRIAL_NAMESPACE", "KNOBS_TRIAL_TOKEN"} {
		if seen[name] != 1 {
			t.Fatalf("container %v has %s %d times, want once", c, name, seen[name])
		}
	}
}

func FuzzReadState(f *testing.F) {
	f.Add(job(`[{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]`), "", "")
	f.Add(taskRun(`[{"type": "Succeeded", "status": "True"}]`), `status.conditions.#(type=="Succeeded")#|#(status=="True")#`, `status.conditions.#(type=="Failed")`)
	f.Add(`{"status": {"succeeded": 1, "a": [[{"message": 1}]]}}`, "status.succeeded", "status.a|@flatten|@flatten")
	f.Add(`{"kind": "Job", "apiVersion": "batch/v1"}`, `..#(*=="*")#`, `@reverse|#.#`)
	f.Fuzz(func(t *testing.T, obj, success, failure string) {
		var m map[string]any
		if err := utiljson.Unmarshal([]byte(obj), &m); err != nil || m == nil {
			return
		}
		u := &unstructured.Unstructured{Object: m}
		state, msg := resources.ReadState(u, success, failure)
		switch state {
		case resources.StateRunning:
			if msg != "" {
				t.Fatalf("ReadState() = Running, %q, want no message", msg)
			}
		case resources.StateSucceeded, resources.StateFailed:
		default:
			t.Fatalf("ReadState() = %v", state)
		}
		// The defaults are the queries they stand for.
		if success == "" && failure == "" {
			s, f := trialtemplate.DefaultConditions(u.GetAPIVersion(), u.GetKind())
			if got, _ := resources.ReadState(u, s, f); got != state {
				t.Fatalf("ReadState() with the default queries = %v, with them given = %v", state, got)
			}
		}
	})
}
