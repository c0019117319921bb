package resources_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/reconciler/trial/resources"
)

const (
	ns         = "tuning"
	experiment = "mnist"
	trialName  = "mnist-x7k2p"
	sink       = "http://knobs-observer.knobs-system.svc.cluster.local/"
	token      = "s3cr3t"
)

// newTrial returns a trial of the experiment that runs runSpec.
func newTrial(runSpec string, opts ...func(*v1alpha1.Trial)) *v1alpha1.Trial {
	t := &v1alpha1.Trial{
		ObjectMeta: metav1.ObjectMeta{
			Name:      trialName,
			Namespace: ns,
			UID:       types.UID("8d6b3c1e-5f0a-4c47-9d55-6a1b2c3d4e5f"),
			Labels:    map[string]string{tuning.ExperimentLabelKey: experiment},
		},
		Spec: v1alpha1.TrialSpec{
			ParameterAssignments: []v1alpha1.ParameterAssignment{{Name: "--lr", Value: "0.01"}},
		},
	}
	if runSpec != "" {
		t.Spec.RunSpec = &runtime.RawExtension{Raw: []byte(runSpec)}
	}
	for _, opt := range opts {
		opt(t)
	}
	return t
}

// env is the environment every container gets, first.
func env() []any {
	return []any{
		map[string]any{"name": "K_SINK", "value": sink},
		map[string]any{"name": "KNOBS_TRIAL_NAME", "value": trialName},
		map[string]any{"name": "KNOBS_TRIAL_NAMESPACE", "value": ns},
		map[string]any{"name": "KNOBS_TRIAL_TOKEN", "value": token},
	}
}

// withEnv is env() followed by more.
func withEnv(more ...any) []any {
	return append(env(), more...)
}

func labels() map[string]any {
	return map[string]any{tuning.ExperimentLabelKey: experiment, tuning.TrialLabelKey: trialName}
}

// metadata is the workload's metadata, with more labels.
func metadata(more map[string]any) map[string]any {
	l := labels()
	for k, v := range more {
		l[k] = v
	}
	return map[string]any{
		"name":      trialName,
		"namespace": ns,
		"labels":    l,
		"ownerReferences": []any{map[string]any{
			"apiVersion":         "tuning.knobs.dev/v1alpha1",
			"kind":               "Trial",
			"name":               trialName,
			"uid":                "8d6b3c1e-5f0a-4c47-9d55-6a1b2c3d4e5f",
			"controller":         true,
			"blockOwnerDeletion": true,
		}},
	}
}

// podTemplate is a pod template with the labels and these containers.
func podTemplate(containers ...any) map[string]any {
	return map[string]any{
		"metadata": map[string]any{"labels": labels()},
		"spec":     map[string]any{"containers": containers, "restartPolicy": "Never"},
	}
}

func TestMakeWorkload(t *testing.T) {
	tests := []struct {
		name  string
		trial *v1alpha1.Trial
		want  map[string]any
	}{{
		name: "a Job",
		trial: newTrial(`{
			"apiVersion": "batch/v1", "kind": "Job",
			"metadata": {"name": "mnist-x7k2p", "namespace": "tuning", "labels": {"app": "mnist"}},
			"spec": {"backoffLimit": 2, "template": {"spec": {"containers": [{
				"name": "train", "image": "mnist", "command": ["python3", "mnist.py", "--lr=0.01"],
				"env": [{"name": "EPOCHS", "value": "3"}, {"name": "K_SINK", "value": "http://elsewhere"},
				        {"name": "KNOBS_TRIAL_TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}, {"name": "ARGS", "value": "--sink=$(K_SINK)"}]
			}], "restartPolicy": "Never"}}}
		}`),
		want: map[string]any{
			"apiVersion": "batch/v1",
			"kind":       "Job",
			"metadata":   metadata(map[string]any{"app": "mnist"}),
			"spec": map[string]any{
				"backoffLimit": int64(2),
				"template": podTemplate(map[string]any{
					"name":    "train",
					"image":   "mnist",
					"command": []any{"python3", "mnist.py", "--lr=0.01"},
					"env": withEnv(
						map[string]any{"name": "EPOCHS", "value": "3"},
						map[string]any{"name": "ARGS", "value": "--sink=$(K_SINK)"},
					),
				}),
			},
		},
	}, {
		name:  "a Pod, with init containers left alone",
		trial: newTrial(`{"apiVersion": "v1", "kind": "Pod", "spec": {"initContainers": [{"name": "fetch"}], "containers": [{"name": "train"}, {"name": "sidecar", "env": null}]}}`),
		want: map[string]any{
			"apiVersion": "v1",
			"kind":       "Pod",
			"metadata":   metadata(nil),
			"spec": map[string]any{
				"initContainers": []any{map[string]any{"name": "fetch"}},
				"containers": []any{
					map[string]any{"name": "train", "env": env()},
					map[string]any{"name": "sidecar", "env": env()},
				},
			},
		},
	}, {
		name: "a PyTorchJob",
		trial: newTrial(`{"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "spec": {"pytorchReplicaSpecs": {
			"Master": {"replicas": 1, "template": {"spec": {"containers": [{"name": "pytorch"}], "restartPolicy": "Never"}}},
			"Worker": {"replicas": 2, "template": {"metadata": {"labels": {"role": "worker"}}, "spec": {"containers": [{"name": "pytorch"}], "restartPolicy": "Never"}}}
		}}}`),
		want: map[string]any{
			"apiVersion": "kubeflow.org/v1",
			"kind":       "PyTorchJob",
			"metadata":   metadata(nil),
			"spec": map[string]any{"pytorchReplicaSpecs": map[string]any{
				"Master": map[string]any{"replicas": int64(1), "template": podTemplate(map[string]any{"name": "pytorch", "env": env()})},
				"Worker": map[string]any{"replicas": int64(2), "template": map[string]any{
					"metadata": map[string]any{"labels": map[string]any{"role": "worker", tuning.ExperimentLabelKey: experiment, tuning.TrialLabelKey: trialName}},
					"spec":     map[string]any{"containers": []any{map[string]any{"name": "pytorch", "env": env()}}, "restartPolicy": "Never"},
				}},
			}},
		},
	}, {
		name:  "a Knative Service",
		trial: newTrial(`{"apiVersion": "serving.knative.dev/v1", "kind": "Service", "spec": {"template": {"spec": {"containers": [{"image": "train"}]}}}}`),
		want: map[string]any{
			"apiVersion": "serving.knative.dev/v1",
			"kind":       "Service",
			"metadata":   metadata(nil),
			"spec": map[string]any{"template": map[string]any{
				"metadata": map[string]any{"labels": labels()},
				"spec":     map[string]any{"containers": []any{map[string]any{"image": "train", "env": env()}}},
			}},
		},
	}, {
		name: "a trial without an experiment",
		trial: newTrial(`{"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"name": "train"}]}}`, func(t *v1alpha1.Trial) {
			t.Labels = nil
		}),
		want: map[string]any{
			"apiVersion": "v1",
			"kind":       "Pod",
			"metadata": func() map[string]any {
				m := metadata(nil)
				m["labels"] = map[string]any{tuning.TrialLabelKey: trialName}
				return m
			}(),
			"spec": map[string]any{"containers": []any{map[string]any{"name": "train", "env": env()}}},
		},
	}, {
		name: "a copy of a created object",
		trial: newTrial(`{"apiVersion": "v1", "kind": "Pod",
			"metadata": {"name": "old", "namespace": "other", "uid": "1", "resourceVersion": "42", "generation": 3, "creationTimestamp": "2024-01-01T00:00:00Z",
			             "managedFields": [], "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "x", "uid": "2", "controller": true}]},
			"spec": {"containers": [{"name": "train"}]},
			"status": {"phase": "Succeeded"}}`),
		want: map[string]any{
			"apiVersion": "v1",
			"kind":       "Pod",
			"metadata":   metadata(nil),
			"spec":       map[string]any{"containers": []any{map[string]any{"name": "train", "env": env()}}},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.trial.DeepCopy()
			got, err := resources.MakeWorkload(tc.trial, sink, token)
			if err != nil {
				t.Fatalf("MakeWorkload() = %v", err)
			}
			// Compare through JSON, as the API server will see it.
			b, err := got.MarshalJSON()
			if err != nil {
				t.Fatalf("MarshalJSON() = %v", err)
			}
			var gotJSON, wantJSON any
			w, _ := json.Marshal(tc.want)
			if err := json.Unmarshal(b, &gotJSON); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(w, &wantJSON); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantJSON, gotJSON); diff != "" {
				t.Errorf("MakeWorkload() (-want, +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got.Object); diff != "" {
				t.Errorf("MakeWorkload() objects (-want, +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tc.trial); diff != "" {
				t.Errorf("MakeWorkload() changed the trial (-before, +after):\n%s", diff)
			}
			refs := got.GetOwnerReferences()
			if len(refs) != 1 || !ptr.Deref(refs[0].Controller, false) || refs[0].UID != tc.trial.UID {
				t.Errorf("MakeWorkload() owners = %v, want the trial as controller", refs)
			}
		})
	}
}

const noContainers = "the workload has no containers to give K_SINK to: spec.runSpec must hold a pod template, such as a batch/v1 Job's spec.template.spec.containers"

func TestMakeWorkloadErrors(t *testing.T) {
	tests := []struct {
		name  string
		trial *v1alpha1.Trial
		want  string
	}{{
		name:  "no runSpec",
		trial: newTrial(""),
		want:  "spec.runSpec is missing: the trial has no workload to run",
	}, {
		name:  "an empty runSpec",
		trial: newTrial(" "),
		want:  "spec.runSpec is missing: the trial has no workload to run",
	}, {
		name:  "a runSpec that is not JSON",
		trial: newTrial(`{"apiVersion": `),
		want:  "spec.runSpec is not JSON: unexpected end of JSON input",
	}, {
		name:  "a list",
		trial: newTrial(`[{"apiVersion": "v1", "kind": "Pod"}]`),
		want:  "spec.runSpec is a list, not an object: it must be one Kubernetes object, such as a batch/v1 Job",
	}, {
		name:  "null",
		trial: newTrial(`null`),
		want:  "spec.runSpec is null, not an object: it must be one Kubernetes object, such as a batch/v1 Job",
	}, {
		name:  "no apiVersion",
		trial: newTrial(`{"kind": "Pod", "spec": {"containers": [{"name": "train"}]}}`),
		want:  "spec.runSpec.apiVersion is missing: it must be one Kubernetes object, such as a batch/v1 Job",
	}, {
		name:  "a kind that is not a string",
		trial: newTrial(`{"apiVersion": "v1", "kind": 1, "spec": {"containers": [{"name": "train"}]}}`),
		want:  "spec.runSpec.kind is a number, not a string",
	}, {
		name: "a runSpec as an object, without containers",
		trial: newTrial("", func(t *v1alpha1.Trial) {
			t.Spec.RunSpec = &runtime.RawExtension{Object: &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}}}
		}),
		want: noContainers,
	}, {
		name:  "no containers",
		trial: newTrial(`{"apiVersion": "v1", "kind": "ConfigMap", "data": {"containers": "2"}}`),
		want:  noContainers,
	}, {
		name:  "an empty list of containers",
		trial: newTrial(`{"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {"containers": []}}}}`),
		want:  noContainers,
	}, {
		name:  "containers that are not objects",
		trial: newTrial(`{"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {"containers": ["train"]}}}}`),
		want:  noContainers,
	}, {
		name:  "an env that is not a list",
		trial: newTrial(`{"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "b", "env": {"A": "1"}}]}}}}`),
		want:  "spec.runSpec.spec.template.spec.containers[1].env is an object, not a list",
	}, {
		name:  "metadata that is not an object",
		trial: newTrial(`{"apiVersion": "v1", "kind": "Pod", "metadata": "x", "spec": {"containers": [{"name": "train"}]}}`),
		want:  "spec.runSpec.metadata is a string, not an object",
	}, {
		name:  "labels that are not an object",
		trial: newTrial(`{"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": ["a"]}, "spec": {"containers": [{"name": "train"}]}}`),
		want:  "spec.runSpec.metadata.labels is a list, not an object",
	}, {
		name:  "pod template metadata that is not an object",
		trial: newTrial(`{"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"metadata": [], "spec": {"containers": [{"name": "train"}]}}}}`),
		want:  "spec.runSpec.spec.template.metadata is a list, not an object",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resources.MakeWorkload(tc.trial, sink, token)
			if err == nil {
				t.Fatalf("MakeWorkload() = %v, want error %s", got, tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("MakeWorkload() =\n%v\nwant\n%s", err, tc.want)
			}
		})
	}
}
