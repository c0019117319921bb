package reconciler

import (
	"unique"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"knative.dev/pkg/apis"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

// DropManagedFields is an informer transform that drops an object's
// managedFields before the informer caches it: the reconcilers never read
// them, and they are the larger part of a small Trial. An update sent
// without them leaves the API server's unchanged. A Trial's strings that
// repeat from Trial to Trial are shared besides (ShareStrings).
func DropManagedFields(obj any) (any, error) {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
	}
	if t, ok := obj.(*v1alpha1.Trial); ok {
		ShareStrings(t)
	}
	return obj, nil
}

// ShareStrings replaces the strings of a Trial that are the same in every
// Trial of an Experiment (its namespace, labels, owner, parameter and
// metric names, its condition's type and reason) with one copy shared by
// all: decoded, each Trial has its own, and a cache of 100,000 Trials holds
// them 100,000 times.
func ShareStrings(t *v1alpha1.Trial) {
	t.Namespace = share(t.Namespace)
	if len(t.Labels) > 0 {
		labels := make(map[string]string, len(t.Labels))
		for k, v := range t.Labels {
			labels[share(k)] = share(v)
		}
		t.Labels = labels
	}
	for i := range t.OwnerReferences {
		o := &t.OwnerReferences[i]
		o.APIVersion, o.Kind, o.Name = share(o.APIVersion), share(o.Kind), share(o.Name)
		o.UID = types.UID(share(string(o.UID)))
	}
	for i := range t.Spec.ParameterAssignments {
		t.Spec.ParameterAssignments[i].Name = share(t.Spec.ParameterAssignments[i].Name)
	}
	if obs := t.Status.Observation; obs != nil {
		for i := range obs.Metrics {
			obs.Metrics[i].Name = share(obs.Metrics[i].Name)
		}
	}
	for i := range t.Status.Conditions {
		c := &t.Status.Conditions[i]
		c.Type = apis.ConditionType(share(string(c.Type)))
		c.Reason = share(c.Reason)
	}
}

// share returns the one copy of s that every caller shares.
func share(s string) string { return unique.Make(s).Value() }

// TrimCaches sets DropManagedFields on informers not yet started.
func TrimCaches(informers ...cache.SharedIndexInformer) error {
	for _, inf := range informers {
		if err := inf.SetTransform(DropManagedFields); err != nil {
			return err
		}
	}
	return nil
}
