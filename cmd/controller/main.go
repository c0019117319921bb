// Command controller runs Knobs' three reconcilers, of Experiments,
// Suggestions and Trials, under knative.dev/pkg's sharedmain, with leader
// election, logging and observability configured from ConfigMaps in the
// system namespace ($SYSTEM_NAMESPACE); and beside them the receiver of the
// trials' observations.
package main

import (
	"cmp"
	"context"
	"log"
	"net"
	"os"
	"strconv"

	"k8s.io/client-go/tools/cache"
	kubeclient "knative.dev/pkg/client/injection/kube/client"
	"knative.dev/pkg/configmap"
	"knative.dev/pkg/controller"
	"knative.dev/pkg/injection"
	"knative.dev/pkg/injection/sharedmain"
	"knative.dev/pkg/logging"
	"knative.dev/pkg/system"

	knobsclient "knobs.dev/knobs/pkg/client/injection/client"
	experimentinformer "knobs.dev/knobs/pkg/client/injection/informers/tuning/v1alpha1/experiment"
	suggestioninformer "knobs.dev/knobs/pkg/client/injection/informers/tuning/v1alpha1/suggestion"
	trialinformer "knobs.dev/knobs/pkg/client/injection/informers/tuning/v1alpha1/trial"
	"knobs.dev/knobs/pkg/observation"
	"knobs.dev/knobs/pkg/reconciler"
	"knobs.dev/knobs/pkg/reconciler/experiment"
	"knobs.dev/knobs/pkg/reconciler/suggestion"
	"knobs.dev/knobs/pkg/reconciler/trial"
)

// envThreads names the number of workers each reconciler runs at once
// (knative.dev/pkg's DefaultThreadsPerController, 2 unless set).
const envThreads = "KNOBS_THREADS_PER_CONTROLLER"

func main() {
	if v := os.Getenv(envThreads); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 256 {
			log.Fatalf("%s=%q: want a number of workers from 1 to 256", envThreads, v)
		}
		controller.DefaultThreadsPerController = n
	}
	sharedmain.Main("knobs-controller",
		withCaches(experiment.NewController),
		suggestion.NewController,
		withReceiver(trial.NewController),
	)
}

// withCaches sets up the informers' caches before sharedmain starts them:
// it drops managedFields from the Experiments, Suggestions and Trials they
// cache (the cache of many Trials is most of the controller's memory), and
// indexes the Trials by Experiment, so that the reconcilers read an
// Experiment's Trials without scanning its namespace (reconciler.TrialsOf).
func withCaches(ctor injection.ControllerConstructor) injection.ControllerConstructor {
	return func(ctx context.Context, cmw configmap.Watcher) *controller.Impl {
		trials := trialinformer.Get(ctx).Informer()
		if err := reconciler.TrimCaches(experimentinformer.Get(ctx).Informer(), suggestioninformer.Get(ctx).Informer(), trials); err != nil {
			logging.FromContext(ctx).Fatalw("cannot trim the informers' caches", "error", err)
		}
		if err := reconciler.IndexTrials(trials); err != nil {
			logging.FromContext(ctx).Fatalw("cannot index the Trials' cache", "error", err)
		}
		return ctor(ctx, cmw)
	}
}

// withReceiver starts the receiver of the trials' observations
// (pkg/observation) as sharedmain builds the Trial controller: sharedmain
// hands its context, with the injected clients and the logger, to controller
// constructors only. The receiver serves on every replica, leader or not, on
// port $OBSERVATION_PORT (default 8090): it writes through the API server,
// and needs no leadership. It checks tokens against the Trial informer's
// cache, which sharedmain starts on every replica, and serves once that
// cache has synced.
func withReceiver(ctor injection.ControllerConstructor) injection.ControllerConstructor {
	return func(ctx context.Context, cmw configmap.Watcher) *controller.Impl {
		logger := logging.FromContext(ctx)
		tokens, err := observation.LoadTokens(ctx, kubeclient.Get(ctx), system.Namespace())
		if err != nil {
			logger.Fatalw("cannot load the key of trial tokens", "error", err)
		}
		port := cmp.Or(os.Getenv(observation.EnvPort), observation.DefaultPort)
		trials := trialinformer.Get(ctx)
		rc := &observation.Receiver{Client: knobsclient.Get(ctx), Trials: trials.Lister(), Tokens: tokens, CacheWait: observation.DefaultCacheWait}
		go func() {
			if !cache.WaitForCacheSync(ctx.Done(), trials.Informer().HasSynced) {
				return // stopped before the cache synced
			}
			observation.Serve(ctx, net.JoinHostPort("", port), rc)
			logger.Infow("observation receiver", "port", port)
		}()
		return ctor(ctx, cmw)
	}
}
