// Command knobs-dashboard serves Knobs' web dashboard (pkg/dashboard): the
// Experiments, Trials and Suggestions of the cluster, read through the API
// server with informers, live in the browser.
//
// It listens on --listen, by default :$PORT (8080 without PORT), as a
// Knative Service expects, and reaches the API server in-cluster, or with
// --kubeconfig (or $KUBECONFIG) outside. Once its caches have synced it
// prints "dashboard: <URL>" on its standard output.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"k8s.io/client-go/tools/cache"
	"knative.dev/pkg/injection"
	"knative.dev/pkg/logging"
	"knative.dev/pkg/signals"

	knobsclientset "knobs.dev/knobs/pkg/client/clientset/versioned"
	"knobs.dev/knobs/pkg/client/informers/externalversions"
	"knobs.dev/knobs/pkg/dashboard"
	"knobs.dev/knobs/pkg/reconciler"
)

func main() {
	listen := flag.String("listen", ":"+cmp.Or(os.Getenv("PORT"), "8080"), "address to serve the dashboard on")
	cfg := injection.ParseAndGetRESTConfigOrDie()
	logger, _ := logging.NewLogger("", "info")
	logger = logger.Named("knobs-dashboard")
	defer func() { _ = logger.Sync() }()

	ctx := logging.WithLogger(signals.NewContext(), logger)
	if err := run(ctx, *listen, knobsclientset.NewForConfigOrDie(cfg)); err != nil {
		logger.Fatalw("the dashboard stopped", "error", err)
	}
}

func run(ctx context.Context, listen string, client knobsclientset.Interface) error {
	logger := logging.FromContext(ctx)
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	factory := externalversions.NewSharedInformerFactory(client, 0)
	tuning := factory.Tuning().V1alpha1()
	experiments, trials, suggestions := tuning.Experiments(), tuning.Trials(), tuning.Suggestions()
	if err := reconciler.IndexTrials(trials.Informer()); err != nil {
		return err
	}
	d := dashboard.New(dashboard.Listers{
		Experiments: experiments.Lister(), Trials: trials.Informer().GetIndexer(), Suggestions: suggestions.Lister(),
	})
	if err := d.Watch(experiments.Informer(), trials.Informer(), suggestions.Informer()); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	defer func() {
		stop() // the informers stop with the context; Shutdown waits for them
		factory.Shutdown()
	}()
	syncCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), experiments.Informer().HasSynced, trials.Informer().HasSynced, suggestions.Informer().HasSynced) {
		return errors.New("the caches of Experiments, Trials and Suggestions did not sync within 2 minutes: can the dashboard's ServiceAccount list and watch them?")
	}

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (set --listen or $PORT): %w", listen, err)
	}
	srv := &http.Server{Handler: d, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	fmt.Printf("dashboard: http://%s/\n", net.JoinHostPort(host, port))
	logger.Infow("serving", "address", ln.Addr().String())

	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	// The event streams end with the context; the rest get a few seconds.
	shutdown, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	return srv.Shutdown(shutdown)
}
