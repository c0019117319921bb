package function

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"knobs.dev/knobs/pkg/algorithm"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Defaults of a function's server.
const (
	DefaultPort            = "8080"
	DefaultMaxRequestBytes = 32 << 20
	DefaultShutdownTimeout = 20 * time.Second
	// DefaultBodyReadTimeout bounds the time to receive a CloudEvent's body:
	// the largest body at half a megabyte a second.
	DefaultBodyReadTimeout = 64 * time.Second
)

// MaxRequestBytesEnv names the environment variable that raises (or
// lowers) a function's MaxRequestBytes: a size in bytes, such as 67108864,
// or with a binary suffix, such as 64Mi. A history of 100,000 trials of 50
// doubles takes 39 MiB in columns; raise the container's memory with it.
const MaxRequestBytesEnv = "KNOBS_MAX_REQUEST_BYTES"

// Options configure a function's server.
type Options struct {
	// MaxRequestBytes bounds a request body or gRPC message.
	MaxRequestBytes int64
	// BodyReadTimeout bounds the time to receive a CloudEvent's body, so a
	// client trickling it cannot hold a connection; DefaultBodyReadTimeout
	// if 0.
	BodyReadTimeout time.Duration
	// Logger receives one line per request and every fault.
	Logger *slog.Logger
	// MemoryBudget bounds the memory reckoned for the requests in flight
	// (admission.go): a request that does not fit within AdmissionWait is
	// answered busy. 0 is two thirds of GOMEMLIMIT, or no bound without
	// GOMEMLIMIT; negative is no bound.
	MemoryBudget int64
	// AdmissionWait is how long a request waits for memory;
	// DefaultAdmissionWait if 0.
	AdmissionWait time.Duration
}

func (o *Options) withDefaults() Options {
	out := *o
	if out.MaxRequestBytes <= 0 {
		out.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if out.BodyReadTimeout <= 0 {
		out.BodyReadTimeout = DefaultBodyReadTimeout
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	return out
}

// NewHandler returns the function's HTTP handler: gRPC for HTTP/2 requests
// of content type application/grpc, GET /healthz, and CloudEvents for the
// rest.
func NewHandler(svc *Service, opts Options) http.Handler {
	return NewServerHandler(svc.Name, svc, opts)
}

// NewServerHandler is NewHandler for any implementation of the Suggestion
// API, under the name of its algorithm: for tests of callers, with servers
// that break the contract on purpose.
func NewServerHandler(name string, svc pb.SuggestionServer, opts Options) http.Handler {
	return newHandler(name, svc, nil, opts)
}

// newHandler serves the Suggestion API (suggest) or the EarlyStopping API
// (stop), whichever is not nil.
func newHandler(name string, suggest pb.SuggestionServer, stop pb.EarlyStoppingServer, opts Options) http.Handler {
	opts = opts.withDefaults()
	log := opts.Logger.With("algorithm", name)

	codec := newRequestCodec()
	gs := grpc.NewServer(
		grpc.MaxRecvMsgSize(int(opts.MaxRequestBytes)),
		grpc.ForceServerCodecV2(codec),
		grpc.ChainUnaryInterceptor(recoverUnary(log), logUnary(log), codec.refuseUndecodable),
	)
	hs := health.NewServer()
	if suggest != nil {
		pb.RegisterSuggestionServer(gs, suggest)
		hs.SetServingStatus(pb.Suggestion_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	}
	if stop != nil {
		pb.RegisterEarlyStoppingServer(gs, stop)
		hs.SetServingStatus(pb.EarlyStopping_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	}
	healthpb.RegisterHealthServer(gs, hs)
	reflection.Register(gs)

	events := &eventHandler{svc: suggest, stop: stop, source: "knobs.dev/functions/" + name, maxBytes: opts.MaxRequestBytes, bodyTimeout: opts.BodyReadTimeout, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("/", events)

	// Both transports take their memory from one budget.
	admit := newAdmission(opts.MemoryBudget, opts.AdmissionWait)
	events.admit = admit

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
			if release, ok := admit.admitGRPC(w, r, opts.MaxRequestBytes, opts.BodyReadTimeout); ok {
				defer release()
				gs.ServeHTTP(w, r)
			}
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// Serve serves h on ln, HTTP/1.1 and h2c (HTTP/2 without TLS, as gRPC
// clients and Knative's h2c ports speak it), until ctx is done; then it
// stops taking connections and waits up to DefaultShutdownTimeout for the
// requests in flight.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{
		Handler:           h,
		Protocols:         &protocols,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", DefaultShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), DefaultShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Main runs an algorithm as a function: it listens on $PORT (default 8080)
// and serves until SIGTERM or SIGINT. It is all a function's main needs.
func Main(name string, alg algorithm.Algorithm) {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(name, alg, log); err != nil {
		log.Error("function stopped", "algorithm", name, "error", err)
		os.Exit(1)
	}
}

func run(name string, alg algorithm.Algorithm, log *slog.Logger) error {
	opts, err := optionsFromEnv(log)
	if err != nil {
		return err
	}
	svc := &Service{Name: name, Algorithm: alg}
	return serveMain(name, NewHandler(svc, opts), log)
}

// optionsFromEnv returns a function's options as its environment sets
// them: the limit of a request from $KNOBS_MAX_REQUEST_BYTES.
func optionsFromEnv(log *slog.Logger) (Options, error) {
	opts := Options{Logger: log}
	if v := os.Getenv(MaxRequestBytesEnv); v != "" {
		n, err := parseBytes(v)
		if err != nil {
			return opts, fmt.Errorf("%s=%q: %w", MaxRequestBytesEnv, v, err)
		}
		opts.MaxRequestBytes = n
	}
	return opts, nil
}

// parseBytes reads a size: a whole number of bytes, optionally with a
// binary suffix (Ki, Mi, Gi), between 1Ki and 2Gi.
func parseBytes(v string) (int64, error) {
	const want = "want a size in bytes, such as 67108864 or 64Mi, from 1Ki to 2Gi"
	digits, unit := v, int64(1)
	for suffix, u := range map[string]int64{"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30} {
		if d, ok := strings.CutSuffix(v, suffix); ok {
			digits, unit = d, u
		}
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 || n > (2<<30)/unit || n*unit < 1<<10 {
		return 0, errors.New(want)
	}
	return n * unit, nil
}

func recoverUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if v := recover(); v != nil {
				log.Error("panic serving gRPC", "method", info.FullMethod, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				err = status.Error(codes.Internal, "internal error: the function failed on this request; it has been logged")
			}
		}()
		return handler(ctx, req)
	}
}

func logUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		if info.FullMethod != healthpb.Health_Check_FullMethodName {
			log.Info("grpc", "method", info.FullMethod, "code", status.Code(err).String(), "ms", millis(time.Since(start)))
		}
		return resp, err
	}
}

// millis is a duration in milliseconds, for logs.
func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
