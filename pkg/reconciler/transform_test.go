package reconciler

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"unsafe"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"knobs.dev/knobs/pkg/apis/tuning"
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

// BenchmarkTrialCache decodes 10,000 Trials of one Experiment as an
// informer does and reports the heap they hold a Trial, as decoded and
// through the caches' transform.
func BenchmarkTrialCache(b *testing.B) {
	const n = 10_000
	raw := make([][]byte, n)
	for i := range raw {
		tr := &v1alpha1.Trial{
			ObjectMeta: metav1.ObjectMeta{Name: "exp-" + strconv.Itoa(i+1), Namespace: "team-a", UID: types.UID(fmt.Sprintf("uid-%08d", i)),
				ResourceVersion: strconv.Itoa(1000 + i), Labels: map[string]string{tuning.ExperimentLabelKey: "exp"},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "tuning.knobs.dev/v1alpha1", Kind: "Experiment", Name: "exp", UID: "exp-uid"}}},
			Spec: v1alpha1.TrialSpec{ParameterAssignments: []v1alpha1.ParameterAssignment{{Name: "x", Value: strconv.FormatFloat(float64(i)/n, 'g', -1, 64)}, {Name: "y", Value: "0.5"}}},
		}
		tr.Status.MarkSucceeded("done")
		tr.Status.Observation = &v1alpha1.Observation{Metrics: []v1alpha1.Metric{{Name: "Validation-accuracy", Value: "0.9"}}}
		raw[i], _ = json.Marshal(tr)
	}
	for _, bc := range []struct {
		name      string
		transform func(any) (any, error)
	}{{"decoded", func(o any) (any, error) { return o, nil }}, {"transformed", DropManagedFields}} {
		b.Run(bc.name, func(b *testing.B) {
			var held []any
			for b.Loop() {
				before := heapAlloc()
				held = make([]any, n)
				for i := range raw {
					tr := &v1alpha1.Trial{}
					if err := json.Unmarshal(raw[i], tr); err != nil {
						b.Fatal(err)
					}
					held[i], _ = bc.transform(tr)
				}
				b.ReportMetric(float64(int64(heapAlloc())-int64(before))/n, "heap-B/trial")
			}
			runtime.KeepAlive(held)
		})
	}
}

func heapAlloc() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// Two Trials decoded apart share their label and parameter names once
// through the transform, and keep what they said.
func TestShareStrings(t *testing.T) {
	var trials [2]*v1alpha1.Trial
	for i := range trials {
		raw := fmt.Sprintf(`{"metadata":{"name":"exp-%d","namespace":"ns","labels":{%q:"exp"}},"spec":{"parameterAssignments":[{"name":"x","value":"0.%d"}]}}`, i, tuning.ExperimentLabelKey, i)
		trials[i] = &v1alpha1.Trial{}
		if err := json.Unmarshal([]byte(raw), trials[i]); err != nil {
			t.Fatal(err)
		}
		if _, err := DropManagedFields(trials[i]); err != nil {
			t.Fatal(err)
		}
	}
	a, b := trials[0], trials[1]
	if a.Labels[tuning.ExperimentLabelKey] != "exp" || a.Spec.ParameterAssignments[0].Value != "0.0" || b.Spec.ParameterAssignments[0].Value != "0.1" {
		t.Fatalf("the transform changed the Trials: %+v, %+v", a, b)
	}
	same := func(x, y string) bool { return unsafe.StringData(x) == unsafe.StringData(y) }
	if !same(a.Labels[tuning.ExperimentLabelKey], b.Labels[tuning.ExperimentLabelKey]) || !same(a.Spec.ParameterAssignments[0].Name, b.Spec.ParameterAssignments[0].Name) || !same(a.Namespace, b.Namespace) {
		t.Error("the Trials' label value, parameter name or namespace are not shared")
	}
}
