package reconciler

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

func TestDropManagedFields(t *testing.T) {
	tr := &v1alpha1.Trial{ObjectMeta: metav1.ObjectMeta{Name: "exp-1", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "controller"}}}}
	got, err := DropManagedFields(tr)
	if err != nil || got.(*v1alpha1.Trial).ManagedFields != nil || got.(*v1alpha1.Trial).Name != "exp-1" {
		t.Errorf("DropManagedFields() = %+v, %v; want the Trial without managed fields", got, err)
	}
	if got, err := DropManagedFields("not an object"); err != nil || got != "not an object" {
		t.Errorf("DropManagedFields(string) = %v, %v; want it unchanged", got, err)
	}
}
