package observation

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"knative.dev/pkg/logging"
)

// The receiver's port.
const (
	// EnvPort is the variable of the controller's environment that names the
	// receiver's port.
	EnvPort = "OBSERVATION_PORT"
	// DefaultPort is the receiver's port when EnvPort is empty.
	DefaultPort = "8090"
)

// ReadTimeout bounds the time to receive a report, headers and body: a
// report is a few kilobytes, so a client trickling one cannot hold a
// connection for long. IdleTimeout closes connections kept alive unused.
const (
	ReadTimeout = 30 * time.Second
	IdleTimeout = 2 * time.Minute
)

// Serve serves h, the receiver, on addr until ctx is done, and then shuts it
// down. It returns at once; a server that stops for another reason is fatal,
// logged with ctx's logger.
func Serve(ctx context.Context, addr string, h http.Handler) {
	logger := logging.FromContext(ctx)
	srv := newHTTPServer(ctx, addr, h, ReadTimeout)
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Fatalw("observation receiver stopped", "error", err)
		}
	}()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
}

func newHTTPServer(ctx context.Context, addr string, h http.Handler, readTimeout time.Duration) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       readTimeout,
		IdleTimeout:       IdleTimeout,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
}
