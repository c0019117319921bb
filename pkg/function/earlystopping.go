package function

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"knobs.dev/knobs/pkg/earlystopping"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// The CloudEvent types of the early-stopping contract.
const (
	TypeEarlyStoppingRequest  = "dev.knobs.earlystopping.request"
	TypeEarlyStoppingReply    = "dev.knobs.earlystopping.reply"
	TypeEarlyStoppingValidate = "dev.knobs.earlystoppingsettings.validate"
	TypeEarlyStoppingValid    = "dev.knobs.earlystoppingsettings.valid"
)

// EarlyStoppingService answers the EarlyStopping API with one algorithm.
type EarlyStoppingService struct {
	pb.UnimplementedEarlyStoppingServer

	// Name is the algorithm's name, used in logs.
	Name      string
	Algorithm earlystopping.Algorithm
	// MaxDuration bounds the work on one request; DefaultMaxDuration if 0.
	MaxDuration time.Duration
}

var _ pb.EarlyStoppingServer = (*EarlyStoppingService)(nil)

// GetEarlyStoppingDecisions implements pb.EarlyStoppingServer.
func (s *EarlyStoppingService) GetEarlyStoppingDecisions(ctx context.Context, req *pb.GetEarlyStoppingDecisionsRequest) (*pb.GetEarlyStoppingDecisionsReply, error) {
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(s.MaxDuration, DefaultMaxDuration))
	defer cancel()
	p, err := earlystopping.NewProblem(s.Algorithm, req)
	if err != nil {
		return nil, toStatus(err)
	}
	trials, err := p.ParseTrials(ctx, req.GetTrials())
	if err != nil {
		return nil, toStatus(err)
	}
	decisions, err := s.Algorithm.Decide(ctx, p, trials)
	if err != nil {
		return nil, toStatus(err)
	}
	if err := CheckDecisions(trials, decisions); err != nil {
		return nil, status.Errorf(codes.Internal, "early-stopping algorithm %s broke the reply contract: %v", s.Name, err)
	}
	reply := &pb.GetEarlyStoppingDecisionsReply{Decisions: make([]*pb.EarlyStoppingDecision, len(decisions))}
	for i, d := range decisions {
		reply.Decisions[i] = &pb.EarlyStoppingDecision{TrialName: d.Trial, Message: d.Message}
	}
	return reply, nil
}

// ValidateEarlyStoppingSettings implements pb.EarlyStoppingServer.
func (s *EarlyStoppingService) ValidateEarlyStoppingSettings(_ context.Context, req *pb.ValidateEarlyStoppingSettingsRequest) (*pb.ValidateEarlyStoppingSettingsReply, error) {
	if _, err := earlystopping.ParseSettings(s.Algorithm, req.GetEarlyStopping()); err != nil {
		return nil, toStatus(err)
	}
	return &pb.ValidateEarlyStoppingSettingsReply{}, nil
}

// CheckDecisions holds decisions to the early-stopping contract: each names
// a running trial of the request, once.
func CheckDecisions(trials []earlystopping.Trial, decisions []earlystopping.Decision) error {
	running := make(map[string]bool, len(trials))
	for i := range trials {
		running[trials[i].Name] = trials[i].Running()
	}
	named := make(map[string]bool, len(decisions))
	for i, d := range decisions {
		r, known := running[d.Trial]
		switch {
		case !known:
			return fmt.Errorf("decisions[%d] names %q, which is not a trial of the request", i, d.Trial)
		case !r:
			return fmt.Errorf("decisions[%d] names %q, which is not running", i, d.Trial)
		case named[d.Trial]:
			return fmt.Errorf("decisions[%d] names %q again", i, d.Trial)
		}
		named[d.Trial] = true
	}
	return nil
}

// NewEarlyStoppingHandler returns an early-stopping function's HTTP handler:
// gRPC for HTTP/2 requests of content type application/grpc, GET /healthz,
// and CloudEvents for the rest.
func NewEarlyStoppingHandler(svc *EarlyStoppingService, opts Options) http.Handler {
	return newHandler(svc.Name, nil, svc, opts)
}

// MainEarlyStopping runs an early-stopping algorithm as a function, as Main
// runs a search algorithm.
func MainEarlyStopping(name string, alg earlystopping.Algorithm) {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	opts, err := optionsFromEnv(log)
	if err == nil {
		err = serveMain(name, NewEarlyStoppingHandler(&EarlyStoppingService{Name: name, Algorithm: alg}, opts), log)
	}
	if err != nil {
		log.Error("function stopped", "algorithm", name, "error", err)
		os.Exit(1)
	}
}

// GetEarlyStoppingDecisions sends a dev.knobs.earlystopping.request event to
// the function at url and returns its reply.
func (c *Client) GetEarlyStoppingDecisions(ctx context.Context, url string, req *pb.GetEarlyStoppingDecisionsRequest) (*pb.GetEarlyStoppingDecisionsReply, error) {
	reply := &pb.GetEarlyStoppingDecisionsReply{}
	if err := c.call(ctx, url, TypeEarlyStoppingRequest, req.GetExperiment().GetName(), req, TypeEarlyStoppingReply, reply); err != nil {
		return nil, err
	}
	return reply, nil
}

// ValidateEarlyStoppingSettings sends a
// dev.knobs.earlystoppingsettings.validate event to the function at url;
// nil means the settings are valid.
func (c *Client) ValidateEarlyStoppingSettings(ctx context.Context, url string, req *pb.ValidateEarlyStoppingSettingsRequest) error {
	return c.call(ctx, url, TypeEarlyStoppingValidate, req.GetEarlyStopping().GetAlgorithmName(), req, TypeEarlyStoppingValid, &pb.ValidateEarlyStoppingSettingsReply{})
}

// serveMain listens on $PORT (default 8080) and serves h until SIGTERM or
// SIGINT.
func serveMain(name string, h http.Handler, log *slog.Logger) error {
	port := os.Getenv("PORT")
	if port == "" {
		port = DefaultPort
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		return fmt.Errorf("listening on port %s (set $PORT to change it): %w", port, err)
	}
	log.Info("serving", "algorithm", name, "address", ln.Addr().String())
	return Serve(ctx, ln, h, log)
}
