package experiment

import (
	"context"

	"k8s.io/client-go/tools/cache"
	"knative.dev/pkg/configmap"
	"knative.dev/pkg/controller"
	pkgreconciler "knative.dev/pkg/reconciler"

	"knobs.dev/knobs/pkg/apis/tuning"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	knobsclient "knobs.dev/knobs/pkg/client/injection/client"
	experimentinformer "knobs.dev/knobs/pkg/client/injection/informers/tuning/v1alpha1/experiment"
	suggestioninformer "knobs.dev/knobs/pkg/client/injection/informers/tuning/v1alpha1/suggestion"
	trialinformer "knobs.dev/knobs/pkg/client/injection/informers/tuning/v1alpha1/trial"
	experimentreconciler "knobs.dev/knobs/pkg/client/injection/reconciler/tuning/v1alpha1/experiment"
	"knobs.dev/knobs/pkg/reconciler"
)

// options of the generated reconciler: the reconciler writes status itself
// (see ReconcileKind), so the generated one must not.
var options = controller.Options{SkipStatusUpdates: true}

// NewController returns the Experiment controller.
func NewController(ctx context.Context, _ configmap.Watcher) *controller.Impl {
	experimentInformer := experimentinformer.Get(ctx)
	suggestionInformer := suggestioninformer.Get(ctx)
	trialInformer := trialinformer.Get(ctx)

	r := &Reconciler{
		client:           knobsclient.Get(ctx),
		suggestionLister: suggestionInformer.Lister(),
		trialIndexer:     trialInformer.Informer().GetIndexer(),
		createsAtOnce:    defaultCreatesAtOnce,
	}
	impl := experimentreconciler.NewImpl(ctx, r, func(*controller.Impl) controller.Options { return options })

	// Passes of a large Experiment are spaced out (reconciler.Pace).
	r.pace = reconciler.NewPace(impl)
	experimentInformer.Informer().AddEventHandler(controller.HandleAll(r.pace.Enqueue))
	// What an Experiment owns changing moves it on.
	owned := cache.FilteringResourceEventHandler{
		FilterFunc: controller.FilterController(&v1alpha1.Experiment{}),
		Handler:    controller.HandleAll(r.pace.EnqueueControllerOf),
	}
	suggestionInformer.Informer().AddEventHandler(owned)
	// A Trial is its Experiment's by label: those it controls, and one in
	// the way of an assignment (TrialNotOwned), whose deletion must move the
	// Experiment on.
	trialInformer.Informer().AddEventHandler(cache.FilteringResourceEventHandler{
		FilterFunc: pkgreconciler.LabelExistsFilterFunc(tuning.ExperimentLabelKey),
		Handler:    controller.HandleAll(r.pace.EnqueueLabel(tuning.ExperimentLabelKey)),
	})
	return impl
}
