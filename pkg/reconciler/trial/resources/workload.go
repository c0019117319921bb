// Package resources builds the workload a Trial runs and reads its state;
// every function here is pure.
package resources

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"knative.dev/pkg/kmeta"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/observation"
	"knobs.dev/knobs/pkg/trialtemplate"
)

// The fields a workload is read from and written to.
const (
	fieldRunSpec   = "spec.runSpec"
	keyContainers  = "containers"
	keyEnv         = "env"
	keyTemplate    = "template"
	keyMetadata    = "metadata"
	keyLabels      = "labels"
	keyStatus      = "status"
	keyAPIVersion  = "apiVersion"
	keyKind        = "kind"
	keySpec        = "spec"
	keyEnvVarName  = "name"
	keyEnvVarValue = "value"
)

// errNoContainers says why a workload without containers cannot run a trial.
const errNoContainers = "the workload has no containers to give " + observation.EnvSink + " to: " +
	"spec.runSpec must hold a pod template, such as a batch/v1 Job's spec.template.spec.containers"

// serverFields are the metadata the API server sets, which a runSpec copied
// from an existing object may hold and a create refuses.
var serverFields = []string{"resourceVersion", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "managedFields", "selfLink"}

// MakeWorkload returns the trial's workload: its spec.runSpec, named after
// the trial, in its namespace, controlled by it (kmeta.NewControllerRef, in
// place of any owner the runSpec names), labelled tuning.knobs.dev/experiment
// (from the trial's label) and tuning.knobs.dev/trial=<trial name>, with the
// environment variables K_SINK=sink, KNOBS_TRIAL_NAME,
// KNOBS_TRIAL_NAMESPACE and KNOBS_TRIAL_TOKEN=token added to every container
// of every pod template in it. A pod template is any list under a key
// "containers" whose items are objects: a Job's, a Pod's, each replica of a
// Kubeflow PyTorchJob, a Knative Service's. The variables come first in a
// container's env, in place of any of the same name, so that the
// container's own variables can refer to them as $(K_SINK). Pod templates
// (the object under a key "template" whose spec has containers) get the
// labels too, so that a trial's pods can be found. The status and the
// metadata the API server sets are dropped.
func MakeWorkload(t *v1alpha1.Trial, sink, token string) (*unstructured.Unstructured, error) {
	if t.Spec.RunSpec == nil {
		return nil, errors.New(fieldRunSpec + " is missing: the trial has no workload to run")
	}
	raw := t.Spec.RunSpec.Raw
	if len(raw) == 0 && t.Spec.RunSpec.Object != nil {
		var err error
		if raw, err = json.Marshal(t.Spec.RunSpec.Object); err != nil {
			return nil, fmt.Errorf("%s does not encode as JSON: %w", fieldRunSpec, err)
		}
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, errors.New(fieldRunSpec + " is missing: the trial has no workload to run")
	}
	var spec any
	if err := utiljson.Unmarshal(raw, &spec); err != nil {
		return nil, fmt.Errorf("%s is not JSON: %w", fieldRunSpec, err)
	}
	obj, ok := spec.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s is %s, not an object: it must be one Kubernetes object, such as a batch/v1 Job", fieldRunSpec, trialtemplate.JSONType(spec))
	}
	for _, key := range []string{keyAPIVersion, keyKind} {
		switch v := obj[key].(type) {
		case nil:
		case string:
			if v != "" {
				continue
			}
		default:
			return nil, fmt.Errorf("%s.%s is %s, not a string", fieldRunSpec, key, trialtemplate.JSONType(v))
		}
		return nil, fmt.Errorf("%s.%s is missing: it must be one Kubernetes object, such as a batch/v1 Job", fieldRunSpec, key)
	}

	labels := map[string]string{tuning.TrialLabelKey: t.Name}
	if exp := t.Labels[tuning.ExperimentLabelKey]; exp != "" {
		labels[tuning.ExperimentLabelKey] = exp
	}
	meta, err := object(obj, keyMetadata, fieldRunSpec)
	if err != nil {
		return nil, err
	}
	if err := addLabels(meta, labels, fieldRunSpec+"."+keyMetadata); err != nil {
		return nil, err
	}
	for _, f := range serverFields {
		delete(meta, f)
	}
	delete(obj, keyStatus)

	env := []envVar{
		{observation.EnvSink, sink},
		{observation.EnvTrialName, t.Name},
		{observation.EnvTrialNamespace, t.Namespace},
		{observation.EnvToken, token},
	}
	w := &injection{env: env, labels: labels}
	if err := w.walk(obj, fieldRunSpec); err != nil {
		return nil, err
	}
	if w.containers == 0 {
		return nil, errors.New(errNoContainers)
	}

	u := &unstructured.Unstructured{Object: obj}
	u.SetName(t.Name)
	u.SetNamespace(t.Namespace)
	u.SetOwnerReferences([]metav1.OwnerReference{*kmeta.NewControllerRef(t)})
	return u, nil
}

// envVar is one environment variable given to every container.
type envVar struct{ name, value string }

// injection adds the environment variables to every container of a
// workload, and the labels to every pod template.
type injection struct {
	env    []envVar
	labels map[string]string
	// containers counts the containers given the variables.
	containers int
}

// walk visits v, whose field is path. Keys are visited in order, so that of
// several errors the same is reported each time.
func (w *injection) walk(v any, path string) error {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			p := path + "." + k
			if k == keyContainers {
				if list, ok := containers(v[k]); ok {
					for i, c := range list {
						if err := w.setEnv(c, fmt.Sprintf("%s[%d]", p, i)); err != nil {
							return err
						}
					}
					continue
				}
			}
			if k == keyTemplate && isPodTemplate(v[k]) {
				tmpl := v[k].(map[string]any)
				meta, err := object(tmpl, keyMetadata, p)
				if err != nil {
					return err
				}
				if err := addLabels(meta, w.labels, p+"."+keyMetadata); err != nil {
					return err
				}
			}
			if err := w.walk(v[k], p); err != nil {
				return err
			}
		}
	case []any:
		for i, item := range v {
			if err := w.walk(item, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// setEnv puts the variables first in a container's env, in place of any of
// the same name.
func (w *injection) setEnv(c map[string]any, path string) error {
	var list []any
	switch env := c[keyEnv].(type) {
	case nil:
	case []any:
		list = env
	default:
		return fmt.Errorf("%s.%s is %s, not a list", path, keyEnv, trialtemplate.JSONType(env))
	}
	ours := make(map[string]bool, len(w.env))
	out := make([]any, 0, len(w.env)+len(list))
	for _, e := range w.env {
		ours[e.name] = true
		out = append(out, map[string]any{keyEnvVarName: e.name, keyEnvVarValue: e.value})
	}
	for _, item := range list {
		if m, ok := item.(map[string]any); ok {
			if name, _ := m[keyEnvVarName].(string); ours[name] {
				continue
			}
		}
		out = append(out, item)
	}
	c[keyEnv] = out
	w.containers++
	return nil
}

// containers returns v as a list of containers: a non-empty list of
// objects.
func containers(v any) ([]map[string]any, bool) {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, false
	}
	out := make([]map[string]any, len(list))
	for i, item := range list {
		if out[i], ok = item.(map[string]any); !ok {
			return nil, false
		}
	}
	return out, true
}

// isPodTemplate reports whether v is a pod template: an object whose spec
// has containers.
func isPodTemplate(v any) bool {
	tmpl, ok := v.(map[string]any)
	if !ok {
		return false
	}
	spec, ok := tmpl[keySpec].(map[string]any)
	if !ok {
		return false
	}
	_, ok = containers(spec[keyContainers])
	return ok
}

// object returns the object under key in parent, which is at path, adding
// an empty one when there is none.
func object(parent map[string]any, key, path string) (map[string]any, error) {
	switch v := parent[key].(type) {
	case nil:
		m := map[string]any{}
		parent[key] = m
		return m, nil
	case map[string]any:
		return v, nil
	default:
		return nil, fmt.Errorf("%s.%s is %s, not an object", path, key, trialtemplate.JSONType(v))
	}
}

// addLabels sets labels in the labels of meta, which is at path.
func addLabels(meta map[string]any, labels map[string]string, path string) error {
	l, err := object(meta, keyLabels, path)
	if err != nil {
		return err
	}
	for k, v := range labels {
		l[k] = v
	}
	return nil
}
