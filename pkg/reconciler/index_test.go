package reconciler

import (
	"fmt"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

func trialOf(namespace, experiment, name string) *v1alpha1.Trial {
	t := &v1alpha1.Trial{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	if experiment != "" {
		t.Labels = map[string]string{tuning.ExperimentLabelKey: experiment}
	}
	return t
}

// trialCache returns a cache of Trials as an informer's, with the index of
// TrialsOf when indexed is true.
func trialCache(indexed bool) cache.Indexer {
	indexers := cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}
	if indexed {
		indexers[ExperimentIndex] = TrialIndexers[ExperimentIndex]
	}
	return cache.NewIndexer(cache.MetaNamespaceKeyFunc, indexers)
}

func names(t *testing.T, trials cache.Indexer, namespace, experiment string) []string {
	t.Helper()
	got, err := TrialsOf(trials, namespace, experiment)
	if err != nil {
		t.Fatalf("TrialsOf(%s/%s) = %v", namespace, experiment, err)
	}
	var ns []string
	for _, tr := range got {
		ns = append(ns, tr.Namespace+"/"+tr.Name)
	}
	slices.Sort(ns)
	return ns
}

// TrialsOf returns the Trials of one Experiment in one namespace, through the
// index or, without it, by label; the index follows a Trial's label as it
// changes and the Trial as it goes.
func TestTrialsOf(t *testing.T) {
	for _, indexed := range []bool{true, false} {
		t.Run(fmt.Sprintf("indexed=%v", indexed), func(t *testing.T) {
			trials := trialCache(indexed)
			for _, tr := range []*v1alpha1.Trial{
				trialOf("ns1", "a", "a-1"), trialOf("ns1", "a", "a-2"), trialOf("ns1", "b", "b-1"),
				trialOf("ns2", "a", "a-1"), trialOf("ns2", "b", "b-1"), trialOf("ns1", "", "loose"),
			} {
				if err := trials.Add(tr); err != nil {
					t.Fatal(err)
				}
			}
			check := func(namespace, experiment string, want ...string) {
				t.Helper()
				if got := names(t, trials, namespace, experiment); !slices.Equal(got, want) {
					t.Errorf("TrialsOf(%s/%s) = %v, want %v", namespace, experiment, got, want)
				}
			}
			check("ns1", "a", "ns1/a-1", "ns1/a-2")
			check("ns1", "b", "ns1/b-1")
			check("ns2", "a", "ns2/a-1")
			check("ns2", "c")

			// The label changed, the Trial is b's and no longer a's.
			if err := trials.Update(trialOf("ns1", "b", "a-2")); err != nil {
				t.Fatal(err)
			}
			check("ns1", "a", "ns1/a-1")
			check("ns1", "b", "ns1/a-2", "ns1/b-1")
			// The label gone, the Trial is nobody's.
			if err := trials.Update(trialOf("ns1", "", "b-1")); err != nil {
				t.Fatal(err)
			}
			check("ns1", "b", "ns1/a-2")
			if err := trials.Delete(trialOf("ns1", "a", "a-1")); err != nil {
				t.Fatal(err)
			}
			check("ns1", "a")
			check("ns2", "a", "ns2/a-1")
		})
	}
}

// IndexTrials adds the index to an informer not yet started, once.
func TestIndexTrials(t *testing.T) {
	inf := cache.NewSharedIndexInformer(&cache.ListWatch{}, &v1alpha1.Trial{}, 0, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for range 2 {
		if err := IndexTrials(inf); err != nil {
			t.Fatalf("IndexTrials() = %v", err)
		}
	}
	if _, ok := inf.GetIndexer().GetIndexers()[ExperimentIndex]; !ok {
		t.Errorf("the informer's indexers are %v, want %q among them", inf.GetIndexer().GetIndexers(), ExperimentIndex)
	}
}

// BenchmarkTrialsOf lists the 20 Trials of a small Experiment beside the
// 100,000 of a large one in the same namespace: through the index, and by
// scanning the namespace and filtering by label, as a lister does.
func BenchmarkTrialsOf(b *testing.B) {
	const big, small = 100_000, 20
	for _, bc := range []struct {
		name    string
		indexed bool
	}{{"index", true}, {"label scan", false}} {
		trials := trialCache(bc.indexed)
		for i := range big {
			_ = trials.Add(trialOf("ns", "big", fmt.Sprintf("big-%d", i+1)))
		}
		for i := range small {
			_ = trials.Add(trialOf("ns", "small", fmt.Sprintf("small-%d", i+1)))
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				got, err := TrialsOf(trials, "ns", "small")
				if err != nil || len(got) != small {
					b.Fatalf("TrialsOf() = %d trials, %v; want %d", len(got), err, small)
				}
			}
		})
	}
}
