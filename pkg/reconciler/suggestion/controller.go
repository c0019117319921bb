package suggestion

import (
	"context"
	"net/http"

	"k8s.io/client-go/tools/cache"
	"knative.dev/pkg/configmap"
	"knative.dev/pkg/controller"
	"knative.dev/pkg/logging"
	pkgreconciler "knative.dev/pkg/reconciler"
	serviceinformer "knative.dev/serving/pkg/client/injection/informers/serving/v1/service"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	knobsclient "knobs.dev/knobs/pkg/client/injection/client"
	experimentinformer "knobs.dev/knobs/pkg/client/injection/informers/tuning/v1alpha1/experiment"
	suggestioninformer "knobs.dev/knobs/pkg/client/injection/informers/tuning/v1alpha1/suggestion"
	trialinformer "knobs.dev/knobs/pkg/client/injection/informers/tuning/v1alpha1/trial"
	suggestionreconciler "knobs.dev/knobs/pkg/client/injection/reconciler/tuning/v1alpha1/suggestion"
	"knobs.dev/knobs/pkg/function"
	"knobs.dev/knobs/pkg/reconciler"
	"knobs.dev/knobs/pkg/reconciler/suggestion/config"
)

// NewController returns the Suggestion controller.
func NewController(ctx context.Context, cmw configmap.Watcher) *controller.Impl {
	logger := logging.FromContext(ctx)
	suggestionInformer := suggestioninformer.Get(ctx)
	experimentInformer := experimentinformer.Get(ctx)
	trialInformer := trialinformer.Get(ctx)
	serviceInformer := serviceinformer.Get(ctx)

	r := &Reconciler{
		client:           knobsclient.Get(ctx),
		experimentLister: experimentInformer.Lister(),
		trialIndexer:     trialInformer.Informer().GetIndexer(),
		serviceLister:    serviceInformer.Lister(),
		functions:        &function.Client{HTTP: &http.Client{}, Source: "knobs.dev/controller"},
	}
	impl := suggestionreconciler.NewImpl(ctx, r, func(impl *controller.Impl) controller.Options {
		store := config.NewStore(logger.Named("config-store"), func(string, interface{}) {
			impl.GlobalResync(suggestionInformer.Informer())
		})
		store.WatchConfigs(cmw)
		// The reconciler writes status itself; see ReconcileKind.
		return controller.Options{ConfigStore: store, SkipStatusUpdates: true}
	})

	// Passes of a large Experiment's Suggestion are spaced out
	// (reconciler.Pace).
	r.pace = reconciler.NewPace(impl)
	suggestionInformer.Informer().AddEventHandler(controller.HandleAll(r.pace.Enqueue))
	// An Experiment's Suggestion has its name.
	experimentInformer.Informer().AddEventHandler(controller.HandleAll(r.pace.Enqueue))
	// A Trial's Suggestion is named by its experiment label.
	trialInformer.Informer().AddEventHandler(cache.FilteringResourceEventHandler{
		FilterFunc: pkgreconciler.LabelExistsFilterFunc(tuning.ExperimentLabelKey),
		Handler:    controller.HandleAll(r.pace.EnqueueLabel(tuning.ExperimentLabelKey)),
	})
	// A function's Knative Service changing may unblock the Suggestions of
	// its algorithm, in any namespace.
	serviceInformer.Informer().AddEventHandler(cache.FilteringResourceEventHandler{
		FilterFunc: pkgreconciler.LabelExistsFilterFunc(tuning.AlgorithmLabelKey),
		Handler: controller.HandleAll(func(obj interface{}) {
			algorithm := ""
			if m, ok := obj.(interface{ GetLabels() map[string]string }); ok {
				algorithm = m.GetLabels()[tuning.AlgorithmLabelKey]
			}
			impl.FilteredGlobalResync(func(o interface{}) bool {
				s, ok := o.(*v1alpha1.Suggestion)
				return ok && (algorithm == "" || s.Spec.Algorithm.AlgorithmName == algorithm ||
					(s.Spec.EarlyStopping != nil && s.Spec.EarlyStopping.AlgorithmName == algorithm))
			}, suggestionInformer.Informer())
		}),
	})
	return impl
}
