package reconciler

import (
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

func TestKeyed(t *testing.T) {
	var k Keyed[int]
	a, b := types.NamespacedName{Namespace: "ns", Name: "a"}, types.NamespacedName{Namespace: "ns", Name: "b"}
	if v, ok := k.Get(a); ok || v != 0 {
		t.Errorf("Get() of an empty Keyed = %d, %v; want 0, false", v, ok)
	}
	k.Set(a, 1)
	if v := k.GetOrSet(a, func() int { return 2 }); v != 1 {
		t.Errorf("GetOrSet() of a key set = %d, want 1", v)
	}
	if v := k.GetOrSet(b, func() int { return 2 }); v != 2 {
		t.Errorf("GetOrSet() of a new key = %d, want 2", v)
	}
	k.Forget(a)
	if _, ok := k.Get(a); ok {
		t.Error("Get() after Forget() found the key")
	}
	if v, ok := k.Get(b); !ok || v != 2 {
		t.Errorf("Get(b) = %d, %v; want 2, true", v, ok)
	}
}
