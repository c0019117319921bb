package conformance_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"knobs.dev/knobs/pkg/algorithm/random"
	"knobs.dev/knobs/pkg/conformance"
	"knobs.dev/knobs/pkg/function"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// liar serves random search, then breaks the contract one way.
type liar struct {
	pb.UnimplementedSuggestionServer
	honest *function.Service
	lie    func(req *pb.GetSuggestionsRequest, reply *pb.GetSuggestionsReply, err error) (*pb.GetSuggestionsReply, error)
}

func (l *liar) GetSuggestions(ctx context.Context, req *pb.GetSuggestionsRequest) (*pb.GetSuggestionsReply, error) {
	reply, err := l.honest.GetSuggestions(ctx, req)
	return l.lie(req, reply, err)
}

func (l *liar) ValidateAlgorithmSettings(ctx context.Context, req *pb.ValidateAlgorithmSettingsRequest) (*pb.ValidateAlgorithmSettingsReply, error) {
	reply, err := l.honest.ValidateAlgorithmSettings(ctx, req)
	if err != nil {
		_, err = l.lie(nil, nil, err)
	}
	return reply, err
}

// lies are ways to break the contract, each with a check that must fail.
var lies = []struct {
	name string
	lie  func(req *pb.GetSuggestionsRequest, reply *pb.GetSuggestionsReply, err error) (*pb.GetSuggestionsReply, error)
	// fails is a check the lie must fail.
	fails string
}{{
	name: "one short",
	lie: func(_ *pb.GetSuggestionsRequest, r *pb.GetSuggestionsReply, err error) (*pb.GetSuggestionsReply, error) {
		if err == nil && len(r.ParameterAssignments) > 0 {
			r.ParameterAssignments = r.ParameterAssignments[1:]
		}
		return r, err
	},
	fails: "binary-protobuf/suggest",
}, {
	name: "one too many",
	lie: func(req *pb.GetSuggestionsRequest, r *pb.GetSuggestionsReply, err error) (*pb.GetSuggestionsReply, error) {
		if err == nil {
			extra := &pb.GetSuggestionsReply_ParameterAssignments{}
			for _, a := range r.ParameterAssignments[0].Assignments {
				extra.Assignments = append(extra.Assignments, &pb.ParameterAssignment{Name: a.Name, Value: a.Value})
			}
			r.ParameterAssignments = append(r.ParameterAssignments, extra)
		}
		return r, err
	},
	fails: "grpc/suggest",
}, {
	name: "out of range",
	lie: func(_ *pb.GetSuggestionsRequest, r *pb.GetSuggestionsReply, err error) (*pb.GetSuggestionsReply, error) {
		if err == nil && len(r.ParameterAssignments) > 0 {
			r.ParameterAssignments[0].Assignments[0].Value = "1e9"
		}
		return r, err
	},
	fails: "structured-json/suggest",
}, {
	name: "a duplicate within the reply",
	lie: func(_ *pb.GetSuggestionsRequest, r *pb.GetSuggestionsReply, err error) (*pb.GetSuggestionsReply, error) {
		if err == nil && len(r.ParameterAssignments) > 1 {
			r.ParameterAssignments[1] = r.ParameterAssignments[0]
		}
		return r, err
	},
	fails: "batches",
}, {
	name: "a repeat of the history",
	lie: func(req *pb.GetSuggestionsRequest, r *pb.GetSuggestionsReply, err error) (*pb.GetSuggestionsReply, error) {
		if err == nil && len(req.Trials) > 0 && len(r.ParameterAssignments) > 0 {
			r.ParameterAssignments[0].Assignments = req.Trials[0].Spec.ParameterAssignments.Assignments
		}
		return r, err
	},
	fails: "history",
}, {
	name: "exhausted too soon",
	lie: func(_ *pb.GetSuggestionsRequest, r *pb.GetSuggestionsReply, err error) (*pb.GetSuggestionsReply, error) {
		if err == nil && len(r.ParameterAssignments) == 4 {
			r.ParameterAssignments, r.SearchSpaceExhausted = r.ParameterAssignments[:2], true
		}
		return r, err
	},
	fails: "exhaustion",
}, {
	name: "a fault for the caller's mistake",
	lie: func(_ *pb.GetSuggestionsRequest, r *pb.GetSuggestionsReply, err error) (*pb.GetSuggestionsReply, error) {
		if status.Code(err) == codes.InvalidArgument {
			return nil, status.Error(codes.Internal, status.Convert(err).Message())
		}
		return r, err
	},
	fails: "bad-search-space",
}, {
	name: "a refusal that does not say what to fix",
	lie: func(_ *pb.GetSuggestionsRequest, r *pb.GetSuggestionsReply, err error) (*pb.GetSuggestionsReply, error) {
		if status.Code(err) == codes.InvalidArgument {
			return nil, status.Error(codes.InvalidArgument, "bad request")
		}
		return r, err
	},
	fails: "binary-json/unknown-setting",
}, {
	name: "not the same reply twice",
	lie: func() func(*pb.GetSuggestionsRequest, *pb.GetSuggestionsReply, error) (*pb.GetSuggestionsReply, error) {
		calls := 0
		return func(_ *pb.GetSuggestionsRequest, r *pb.GetSuggestionsReply, err error) (*pb.GetSuggestionsReply, error) {
			calls++
			if err == nil && calls%2 == 0 && len(r.ParameterAssignments) > 1 {
				r.ParameterAssignments[0], r.ParameterAssignments[1] = r.ParameterAssignments[1], r.ParameterAssignments[0]
			}
			return r, err
		}
	}(),
	fails: "deterministic",
}, {
	name: "a history in columns read as none",
	lie: func(req *pb.GetSuggestionsRequest, r *pb.GetSuggestionsReply, err error) (*pb.GetSuggestionsReply, error) {
		if req.GetHistory() == nil {
			return r, err
		}
		// As a function that knows only trials would: the field unknown,
		// the history empty.
		svc := &function.Service{Name: "random", Algorithm: random.Random{}}
		return svc.GetSuggestions(context.Background(), &pb.GetSuggestionsRequest{Experiment: req.GetExperiment(), RequestNumber: req.GetRequestNumber()})
	},
	fails: "structured-protobuf/history-columns",
}, {
	name: "assigns inactive parameters",
	lie: func(req *pb.GetSuggestionsRequest, r *pb.GetSuggestionsReply, err error) (*pb.GetSuggestionsReply, error) {
		if err != nil {
			return r, err
		}
		// Every parameter gets a value, as if conditions did not exist.
		for _, as := range r.ParameterAssignments {
			have := map[string]bool{}
			for _, a := range as.Assignments {
				have[a.Name] = true
			}
			for _, spec := range req.GetExperiment().GetExperimentSpec().GetParameterSpecs().GetParameters() {
				if have[spec.GetName()] {
					continue
				}
				v := spec.GetFeasibleSpace().GetMin()
				if l := spec.GetFeasibleSpace().GetList(); len(l) > 0 {
					v = l[0]
				}
				as.Assignments = append(as.Assignments, &pb.ParameterAssignment{Name: spec.GetName(), Value: v})
			}
		}
		return r, err
	},
	fails: "conditional",
}, {
	name: "leaves out active conditional parameters",
	lie: func(req *pb.GetSuggestionsRequest, r *pb.GetSuggestionsReply, err error) (*pb.GetSuggestionsReply, error) {
		if err != nil {
			return r, err
		}
		conditional := map[string]bool{}
		for _, spec := range req.GetExperiment().GetExperimentSpec().GetParameterSpecs().GetParameters() {
			conditional[spec.GetName()] = spec.GetParentName() != ""
		}
		for _, as := range r.ParameterAssignments {
			kept := as.Assignments[:0]
			for _, a := range as.Assignments {
				if !conditional[a.Name] {
					kept = append(kept, a)
				}
			}
			as.Assignments = kept
		}
		return r, err
	},
	fails: "conditional",
}}

// TestLiarsFail serves each lie over a real socket, as a function would, and
// runs the suite over every transport: the check the lie breaks must fail.
func TestLiarsFail(t *testing.T) {
	for _, tc := range lies {
		t.Run(tc.name, func(t *testing.T) {
			url := serve(t, &liar{honest: &function.Service{Name: "random", Algorithm: random.Random{}}, lie: tc.lie})
			results := runOver(t, url)
			var failed []string
			for _, r := range results {
				if r.Err != nil {
					failed = append(failed, r.Name)
				}
				if r.Name == tc.fails && r.Err == nil {
					t.Errorf("check %s passed a function that lies: %s", tc.fails, tc.name)
				}
			}
			if !conformance.Failed(results) {
				t.Fatalf("the suite passed a function that lies: %s", tc.name)
			}
			t.Logf("failed: %s", strings.Join(failed, ", "))
		})
	}
}

// TestHonestPasses is the control: the same server without a lie passes.
func TestHonestPasses(t *testing.T) {
	url := serve(t, &function.Service{Name: "random", Algorithm: random.Random{}})
	for _, r := range runOver(t, url) {
		if r.Err != nil {
			t.Error(r)
		}
	}
}

func runOver(t *testing.T, url string) []conformance.Result {
	t.Helper()
	suite := conformance.Suite{Profile: conformance.ProfileFor("random"), URL: url}
	for _, tr := range conformance.Transports {
		c, closer, err := conformance.NewCaller(tr, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closer() })
		suite.Callers = append(suite.Callers, c)
	}
	return suite.Run(context.Background())
}

// serve serves srv on a loopback port, CloudEvents and gRPC as a function
// does, until the test ends, and returns its URL.
func serve(t *testing.T, srv pb.SuggestionServer) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = function.Serve(ctx, ln, function.NewServerHandler("random", srv, function.Options{Logger: log}), log)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}
