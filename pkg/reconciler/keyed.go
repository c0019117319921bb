package reconciler

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// Keyed holds what a reconciler remembers of each object between passes, by
// the object's key, for all its workers at once. The zero value is empty.
type Keyed[V any] struct {
	mu sync.Mutex
	m  map[types.NamespacedName]V
}

// Get returns the value of key, and whether there is one.
func (k *Keyed[V]) Get(key types.NamespacedName) (V, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[key]
	return v, ok
}

// Set remembers v for key.
func (k *Keyed[V]) Set(key types.NamespacedName, v V) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[types.NamespacedName]V{}
	}
	k.m[key] = v
}

// GetOrSet returns the value of key, or, the first time, remembers and
// returns the one newValue makes.
func (k *Keyed[V]) GetOrSet(key types.NamespacedName, newValue func() V) V {
	k.mu.Lock()
	defer k.mu.Unlock()
	if v, ok := k.m[key]; ok {
		return v
	}
	if k.m == nil {
		k.m = map[types.NamespacedName]V{}
	}
	v := newValue()
	k.m[key] = v
	return v
}

// Forget forgets key.
func (k *Keyed[V]) Forget(key types.NamespacedName) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, key)
}
