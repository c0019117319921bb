package dashboard

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/client/clientset/versioned/fake"
	"knobs.dev/knobs/pkg/client/informers/externalversions"
)

// A change to an Experiment, its Suggestion or one of its Trials reaches the
// pages of that Experiment and the list, through the informers; a Trial of
// another Experiment does not reach its page.
func TestWatchTellsThePagesThatShowTheChange(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := fake.NewSimpleClientset()
	factory := externalversions.NewSharedInformerFactory(client, 0)
	inf := factory.Tuning().V1alpha1()
	d := New(Listers{Experiments: inf.Experiments().Lister(), Trials: inf.Trials().Informer().GetIndexer(), Suggestions: inf.Suggestions().Lister()})
	if err := d.Watch(inf.Experiments().Informer(), inf.Trials().Informer(), inf.Suggestions().Informer()); err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	defer func() {
		cancel() // the informers stop with the context; Shutdown waits for them
		factory.Shutdown()
	}()
	if !cache.WaitForCacheSync(ctx.Done(), inf.Experiments().Informer().HasSynced, inf.Trials().Informer().HasSynced, inf.Suggestions().Informer().HasSynced) {
		t.Fatal("caches did not sync")
	}
	page, stopPage := d.hub.subscribe("ns/exp")
	defer stopPage()
	list, stopList := d.hub.subscribe("")
	defer stopList()
	wait := func(ch <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("no change for %s", what)
		}
	}
	tc := client.TuningV1alpha1()
	meta := func(name string, labels map[string]string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: labels}
	}

	if _, err := tc.Experiments("ns").Create(ctx, &v1alpha1.Experiment{ObjectMeta: meta("exp", nil)}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	wait(page, "the Experiment created")
	wait(list, "the Experiment created, on the list")

	if _, err := tc.Trials("ns").Create(ctx, &v1alpha1.Trial{ObjectMeta: meta("other-1", map[string]string{tuning.ExperimentLabelKey: "other"})}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	wait(list, "another Experiment's Trial, on the list")
	select {
	case <-page:
		t.Error("another Experiment's Trial reached this Experiment's page")
	default:
	}

	if _, err := tc.Trials("ns").Create(ctx, &v1alpha1.Trial{ObjectMeta: meta("exp-1", map[string]string{tuning.ExperimentLabelKey: "exp"})}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	wait(page, "its Trial created")
	if _, err := tc.Suggestions("ns").Create(ctx, &v1alpha1.Suggestion{ObjectMeta: meta("exp", nil)}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	wait(page, "its Suggestion created")
	if err := tc.Trials("ns").Delete(ctx, "exp-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	wait(page, "its Trial deleted")
}
