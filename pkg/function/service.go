// Package function serves one search algorithm as a Knobs function: the
// Suggestion API over gRPC and as CloudEvents over HTTP, on one port.
//
// The transports share one Service, so a request gets the same answer and the
// same errors whichever way it comes.
package function

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/contract"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// DefaultMaxRequestNumber bounds the suggestions one request may ask for.
const DefaultMaxRequestNumber = 10000

// DefaultMaxDuration bounds the work on one request, whatever deadline its
// caller gives (a gRPC deadline that is sooner applies; a CloudEvents caller
// that hangs up ends the work too): the controller gives up after 30 s by
// default, and no caller should hold a function longer than this.
const DefaultMaxDuration = 2 * time.Minute

// Service answers the Suggestion API with one algorithm.
type Service struct {
	pb.UnimplementedSuggestionServer

	// Name is the algorithm's name, used in replies and logs.
	Name      string
	Algorithm algorithm.Algorithm
	// MaxRequestNumber bounds request_number; DefaultMaxRequestNumber if 0.
	MaxRequestNumber int32
	// MaxDuration bounds the work on one request; DefaultMaxDuration if 0.
	MaxDuration time.Duration
}

var _ pb.SuggestionServer = (*Service)(nil)

// GetSuggestions implements pb.SuggestionServer.
func (s *Service) GetSuggestions(ctx context.Context, req *pb.GetSuggestionsRequest) (*pb.GetSuggestionsReply, error) {
	limit := s.MaxRequestNumber
	if limit <= 0 {
		limit = DefaultMaxRequestNumber
	}
	if n := req.GetRequestNumber(); n <= 0 || n > limit {
		return nil, status.Errorf(codes.InvalidArgument, "requestNumber: %d is out of range: ask for 1 to %d suggestions", n, limit)
	}
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(s.MaxDuration, DefaultMaxDuration))
	defer cancel()
	p, err := algorithm.NewProblem(s.Algorithm, req.GetExperiment())
	if err != nil {
		return nil, toStatus(err)
	}
	trials, err := ReadTrials(ctx, p, req)
	if err != nil {
		return nil, toStatus(err)
	}
	count := int(req.GetRequestNumber())
	out, err := s.Algorithm.Suggest(ctx, p, trials, count)
	if err != nil {
		return nil, toStatus(err)
	}
	if err := s.check(p, trials, out, count); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	reply := &pb.GetSuggestionsReply{
		ParameterAssignments: make([]*pb.GetSuggestionsReply_ParameterAssignments, len(out.Points)),
		Algorithm: &pb.AlgorithmSpec{
			AlgorithmName:     s.algorithmName(req.GetExperiment()),
			AlgorithmSettings: out.State,
		},
		SearchSpaceExhausted: out.Exhausted,
	}
	for i, pt := range out.Points {
		reply.ParameterAssignments[i] = &pb.GetSuggestionsReply_ParameterAssignments{Assignments: p.Space.Format(pt)}
	}
	return reply, nil
}

// ValidateAlgorithmSettings implements pb.SuggestionServer.
func (s *Service) ValidateAlgorithmSettings(_ context.Context, req *pb.ValidateAlgorithmSettingsRequest) (*pb.ValidateAlgorithmSettingsReply, error) {
	if _, err := algorithm.NewProblem(s.Algorithm, req.GetExperiment()); err != nil {
		return nil, toStatus(err)
	}
	return &pb.ValidateAlgorithmSettingsReply{}, nil
}

// check holds an algorithm to the reply contract before its answer leaves
// the process: a fault here is ours, not the caller's.
func (s *Service) check(p *algorithm.Problem, trials []algorithm.Trial, out *algorithm.Suggestions, count int) error {
	// Only a trial whose first value writes as a point's can repeat it:
	// the history holds those alone, not a key of every trial.
	first := make(map[string]bool, len(out.Points))
	for _, pt := range out.Points {
		if len(pt) > 0 {
			first[p.Space.Params[0].Format(pt[0])] = true
		}
	}
	history := contract.NewHistory(p.Space)
	for i := range trials {
		if pt := trials[i].Point; len(pt) > 0 && first[p.Space.Params[0].Format(pt[0])] {
			history.Add(pt)
		}
	}
	if err := contract.CheckPoints(p.Space, history, out.Points, out.Exhausted, count); err != nil {
		return fmt.Errorf("algorithm %s broke the reply contract: %w", s.Name, err)
	}
	return nil
}

func (s *Service) algorithmName(exp *pb.Experiment) string {
	if n := exp.GetExperimentSpec().GetAlgorithm().GetAlgorithmName(); n != "" {
		return n
	}
	return s.Name
}

// toStatus turns an error into a gRPC status: the caller's mistakes are
// InvalidArgument, everything else is worth a retry.
func toStatus(err error) error {
	switch {
	case algorithm.IsInvalidArgument(err):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(codes.Internal, err.Error())
}
