package conformance_test

import (
	"context"
	"testing"

	"knobs.dev/knobs/pkg/algorithm/registry"
	"knobs.dev/knobs/pkg/conformance"
	esregistry "knobs.dev/knobs/pkg/earlystopping/registry"
	"knobs.dev/knobs/pkg/function"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// TestRegisteredAlgorithms runs the whole suite against every registered
// algorithm, served by the function runtime in this process: a new server
// for every call, as if the function restarted between calls.
func TestRegisteredAlgorithms(t *testing.T) {
	for _, e := range registry.All() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			suite := conformance.Suite{
				Profile: conformance.ProfileFor(e.Name),
				Callers: []conformance.Caller{conformance.ServerCaller{New: func() pb.SuggestionServer {
					return &function.Service{Name: e.Name, Algorithm: e.Algorithm}
				}}},
			}
			for _, r := range suite.Run(context.Background()) {
				if r.Err != nil {
					t.Error(r)
				} else {
					t.Log(r)
				}
			}
		})
	}
}

// TestEarlyStoppingAlgorithms runs the early-stopping suite against every
// registered early-stopping algorithm, in this process.
func TestEarlyStoppingAlgorithms(t *testing.T) {
	for _, e := range esregistry.All() {
		t.Run(e.Name, func(t *testing.T) {
			suite := conformance.EarlyStoppingSuite{
				Algorithm: e.Name,
				Callers: []conformance.EarlyStoppingCaller{conformance.EarlyStoppingServerCaller{New: func() pb.EarlyStoppingServer {
					return &function.EarlyStoppingService{Name: e.Name, Algorithm: e.Algorithm}
				}}},
			}
			for _, r := range suite.Run(context.Background()) {
				if r.Err != nil {
					t.Error(r)
				} else {
					t.Log(r)
				}
			}
		})
	}
}

// TestEarlyStoppingLiars checks that the suite catches functions that break
// the contract.
func TestEarlyStoppingLiars(t *testing.T) {
	for _, tc := range []struct {
		name  string
		liar  pb.EarlyStoppingServer
		check string
	}{
		{"stops a trial that has ended", stopsAll{}, "in-process/decide"},
		{"stops a trial twice", stopsTwice{}, "in-process/decide"},
		{"remembers between calls", &flipFlop{}, "in-process/decide"},
		{"takes a NaN in a curve", stopsAll{}, "in-process/bad-curve-value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			suite := conformance.EarlyStoppingSuite{Algorithm: "liar", Callers: []conformance.EarlyStoppingCaller{
				conformance.EarlyStoppingServerCaller{New: func() pb.EarlyStoppingServer { return tc.liar }},
			}}
			for _, r := range suite.Run(context.Background()) {
				if r.Name == tc.check && r.Err == nil {
					t.Errorf("%s passed", r.Name)
				}
			}
		})
	}
}

// stopsAll names every trial of the request, running or not, and refuses
// nothing.
type stopsAll struct {
	pb.UnimplementedEarlyStoppingServer
}

func (stopsAll) GetEarlyStoppingDecisions(_ context.Context, req *pb.GetEarlyStoppingDecisionsRequest) (*pb.GetEarlyStoppingDecisionsReply, error) {
	out := &pb.GetEarlyStoppingDecisionsReply{}
	for _, t := range req.GetTrials() {
		out.Decisions = append(out.Decisions, &pb.EarlyStoppingDecision{TrialName: t.GetName()})
	}
	return out, nil
}

// stopsTwice names the first running trial twice.
type stopsTwice struct {
	pb.UnimplementedEarlyStoppingServer
}

func (stopsTwice) GetEarlyStoppingDecisions(_ context.Context, req *pb.GetEarlyStoppingDecisionsRequest) (*pb.GetEarlyStoppingDecisionsReply, error) {
	for _, t := range req.GetTrials() {
		if t.GetStatus().GetCondition() == pb.TrialCondition_RUNNING {
			d := &pb.EarlyStoppingDecision{TrialName: t.GetName()}
			return &pb.GetEarlyStoppingDecisionsReply{Decisions: []*pb.EarlyStoppingDecision{d, d}}, nil
		}
	}
	return &pb.GetEarlyStoppingDecisionsReply{}, nil
}

// flipFlop stops the first running trial every other call.
type flipFlop struct {
	pb.UnimplementedEarlyStoppingServer
	calls int
}

func (f *flipFlop) GetEarlyStoppingDecisions(_ context.Context, req *pb.GetEarlyStoppingDecisionsRequest) (*pb.GetEarlyStoppingDecisionsReply, error) {
	f.calls++
	if f.calls%2 == 0 {
		return &pb.GetEarlyStoppingDecisionsReply{}, nil
	}
	for _, t := range req.GetTrials() {
		if t.GetStatus().GetCondition() == pb.TrialCondition_RUNNING {
			return &pb.GetEarlyStoppingDecisionsReply{Decisions: []*pb.EarlyStoppingDecision{{TrialName: t.GetName()}}}, nil
		}
	}
	return &pb.GetEarlyStoppingDecisionsReply{}, nil
}
