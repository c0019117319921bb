package trial

import (
	"context"
	"os"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/cache"
	kubeclient "knative.dev/pkg/client/injection/kube/client"
	"knative.dev/pkg/configmap"
	"knative.dev/pkg/controller"
	"knative.dev/pkg/injection/clients/dynamicclient"
	"knative.dev/pkg/logging"
	"knative.dev/pkg/system"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	knobsclient "knobs.dev/knobs/pkg/client/injection/client"
	trialinformer "knobs.dev/knobs/pkg/client/injection/informers/tuning/v1alpha1/trial"
	trialreconciler "knobs.dev/knobs/pkg/client/injection/reconciler/tuning/v1alpha1/trial"
	"knobs.dev/knobs/pkg/observation"
)

// EnvObservationSinkURL is the variable of the controller's environment with
// the receiver's URL as trial workloads reach it; default the
// knobs-observations Service in the system namespace.
const EnvObservationSinkURL = "OBSERVATION_SINK_URL"

// EnvCollectorImage is the variable of the controller's environment with
// the image of cmd/knobs-collector, which the StdOut, File and
// TensorFlowEvent metrics collectors run in a trial's pods.
const EnvCollectorImage = "KNOBS_COLLECTOR_IMAGE"

// options of the generated reconciler: the reconciler writes status itself
// (see ReconcileKind), so the generated one must not.
var options = controller.Options{SkipStatusUpdates: true}

// NewController returns the Trial controller. The receiver the trials
// report to is started beside it, by cmd/controller.
func NewController(ctx context.Context, _ configmap.Watcher) *controller.Impl {
	logger := logging.FromContext(ctx)
	trialInformer := trialinformer.Get(ctx)
	kube := kubeclient.Get(ctx)

	tokens, err := observation.LoadTokens(ctx, kube, system.Namespace())
	if err != nil {
		logger.Fatalw("cannot load the key of trial tokens", "error", err)
	}
	sink := os.Getenv(EnvObservationSinkURL)
	if sink == "" {
		sink = "http://knobs-observations." + system.Namespace() + ".svc.cluster.local"
	}

	r := &Reconciler{
		client:  knobsclient.Get(ctx),
		dynamic: dynamicclient.Get(ctx),
		access:  newSelfReview(kube),
		mapper:  restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(kube.Discovery())),
		tokens:  tokens,
		sink:    sink,
		now:     time.Now,

		collectorImage: os.Getenv(EnvCollectorImage),
	}
	impl := trialreconciler.NewImpl(ctx, r, func(*controller.Impl) controller.Options { return options })
	r.watch = newWorkloadWatcher(ctx, r.dynamic, impl).watch

	trialInformer.Informer().AddEventHandler(controller.HandleAll(impl.Enqueue))
	logger.Infow("observation sink", "sink", sink, "collectorImage", r.collectorImage)
	return impl
}

// workloadWatcher starts, once per resource, an informer on the workloads
// Trials created (those labelled tuning.knobs.dev/trial) that requeues the
// controlling Trial when one changes. Workloads may be of any kind, known
// only when a Trial names it.
type workloadWatcher struct {
	ctx     context.Context
	factory dynamicinformer.DynamicSharedInformerFactory
	impl    *controller.Impl

	mu      sync.Mutex
	watched map[schema.GroupVersionResource]bool
}

func newWorkloadWatcher(ctx context.Context, client dynamic.Interface, impl *controller.Impl) *workloadWatcher {
	return &workloadWatcher{
		ctx: ctx,
		factory: dynamicinformer.NewFilteredDynamicSharedInformerFactory(client, 0, metav1.NamespaceAll, func(o *metav1.ListOptions) {
			o.LabelSelector = tuning.TrialLabelKey
		}),
		impl:    impl,
		watched: map[schema.GroupVersionResource]bool{},
	}
}

func (w *workloadWatcher) watch(gvr schema.GroupVersionResource) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.watched[gvr] {
		return
	}
	w.watched[gvr] = true
	informer := w.factory.ForResource(gvr).Informer()
	_, _ = informer.AddEventHandler(cache.FilteringResourceEventHandler{
		FilterFunc: controller.FilterController(&v1alpha1.Trial{}),
		Handler:    controller.HandleAll(w.impl.EnqueueControllerOf),
	})
	w.factory.Start(w.ctx.Done())
	logging.FromContext(w.ctx).Infow("watching trial workloads", "resource", gvr.String())
}
