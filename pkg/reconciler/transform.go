package reconciler

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/cache"
)

// DropManagedFields is an informer transform that drops an object's
// managedFields before the informer caches it: the reconcilers never read
// them, and they are the larger part of a small Trial. An update sent
// without them leaves the API server's unchanged.
func DropManagedFields(obj any) (any, error) {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// TrimCaches sets DropManagedFields on informers not yet started.
func TrimCaches(informers ...cache.SharedIndexInformer) error {
	for _, inf := range informers {
		if err := inf.SetTransform(DropManagedFields); err != nil {
			return err
		}
	}
	return nil
}
