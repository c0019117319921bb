package testing

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ktesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	fakekubeclient "knative.dev/pkg/client/injection/kube/client/fake"
	"knative.dev/pkg/configmap"
	"knative.dev/pkg/controller"
	fakedynamicclient "knative.dev/pkg/injection/clients/dynamicclient/fake"
	"knative.dev/pkg/logging"
	logtesting "knative.dev/pkg/logging/testing"
	"knative.dev/pkg/reconciler"
	rtesting "knative.dev/pkg/reconciler/testing"
	fakeservingclient "knative.dev/serving/pkg/client/injection/client/fake"

	fakeknobsclient "knobs.dev/knobs/pkg/client/injection/client/fake"
)

// maxEventBufferSize bounds the events one reconcile may record.
const maxEventBufferSize = 10

// Ctor builds the reconciler under test from the row's listers.
type Ctor func(context.Context, *Listers, configmap.Watcher) controller.Reconciler

// MakeFactory returns a TableTest factory: the row's objects go into
// injection fakes and listers, writes are validated like an API server with
// Knobs' webhook would, and events are recorded.
func MakeFactory(ctor Ctor) rtesting.Factory {
	return func(t *testing.T, r *rtesting.TableRow) (controller.Reconciler, rtesting.ActionRecorderList, rtesting.EventList) {
		ls := NewListers(r.Objects)

		ctx := r.Ctx
		if ctx == nil {
			ctx = context.Background()
		}
		ctx = logging.WithLogger(ctx, logtesting.TestLogger(t))
		ctx, kubeClient := fakekubeclient.With(ctx, ls.GetKubeObjects()...)
		ctx, servingClient := fakeservingclient.With(ctx, ls.GetServingObjects()...)
		ctx, client := fakeknobsclient.With(ctx, ls.GetKnobsObjects()...)
		// Trials' workloads, of any kind, go through the dynamic client.
		ctx, dynamicClient := fakedynamicclient.With(ctx, NewScheme(), ls.GetKubeObjects()...)

		eventRecorder := record.NewFakeRecorder(maxEventBufferSize)
		ctx = controller.WithEventRecorder(ctx, eventRecorder)

		c := ctor(ctx, &ls, configmap.NewStaticWatcher())
		r.Ctx = ctx

		// The reconciler does nothing until it leads.
		if la, ok := c.(reconciler.LeaderAware); ok {
			_ = la.Promote(reconciler.UniversalBucket(), func(reconciler.Bucket, types.NamespacedName) {})
		}

		for _, reactor := range r.WithReactors {
			kubeClient.PrependReactor("*", "*", reactor)
			servingClient.PrependReactor("*", "*", reactor)
			client.PrependReactor("*", "*", reactor)
			dynamicClient.PrependReactor("*", "*", reactor)
		}
		client.PrependReactor("create", "*", func(action ktesting.Action) (bool, runtime.Object, error) {
			return rtesting.ValidateCreates(ctx, action)
		})
		client.PrependReactor("update", "*", func(action ktesting.Action) (bool, runtime.Object, error) {
			return rtesting.ValidateUpdates(ctx, action)
		})

		return c, rtesting.ActionRecorderList{client, servingClient, kubeClient, dynamicClient}, rtesting.EventList{Recorder: eventRecorder}
	}
}
