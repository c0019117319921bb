package conformance

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"time"

	"knobs.dev/knobs/pkg/function"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// EarlyStoppingCaller sends the EarlyStopping API's requests to a function
// one way.
type EarlyStoppingCaller interface {
	Name() string
	GetEarlyStoppingDecisions(ctx context.Context, req *pb.GetEarlyStoppingDecisionsRequest) (*pb.GetEarlyStoppingDecisionsReply, error)
	ValidateEarlyStoppingSettings(ctx context.Context, req *pb.ValidateEarlyStoppingSettingsRequest) error
}

func (c *eventCaller) GetEarlyStoppingDecisions(ctx context.Context, req *pb.GetEarlyStoppingDecisionsRequest) (*pb.GetEarlyStoppingDecisionsReply, error) {
	return c.client.GetEarlyStoppingDecisions(ctx, c.url, req)
}

func (c *eventCaller) ValidateEarlyStoppingSettings(ctx context.Context, req *pb.ValidateEarlyStoppingSettingsRequest) error {
	return c.client.ValidateEarlyStoppingSettings(ctx, c.url, req)
}

func (c *grpcCaller) GetEarlyStoppingDecisions(ctx context.Context, req *pb.GetEarlyStoppingDecisionsRequest) (*pb.GetEarlyStoppingDecisionsReply, error) {
	return c.stopping.GetEarlyStoppingDecisions(ctx, req)
}

func (c *grpcCaller) ValidateEarlyStoppingSettings(ctx context.Context, req *pb.ValidateEarlyStoppingSettingsRequest) error {
	_, err := c.stopping.ValidateEarlyStoppingSettings(ctx, req)
	return err
}

// EarlyStoppingServerCaller calls an EarlyStopping server in the same
// process, a new one for each call.
type EarlyStoppingServerCaller struct {
	New func() pb.EarlyStoppingServer
}

// Name implements EarlyStoppingCaller.
func (c EarlyStoppingServerCaller) Name() string { return "in-process" }

// GetEarlyStoppingDecisions implements EarlyStoppingCaller.
func (c EarlyStoppingServerCaller) GetEarlyStoppingDecisions(ctx context.Context, req *pb.GetEarlyStoppingDecisionsRequest) (*pb.GetEarlyStoppingDecisionsReply, error) {
	return c.New().GetEarlyStoppingDecisions(ctx, req)
}

// ValidateEarlyStoppingSettings implements EarlyStoppingCaller.
func (c EarlyStoppingServerCaller) ValidateEarlyStoppingSettings(ctx context.Context, req *pb.ValidateEarlyStoppingSettingsRequest) error {
	_, err := c.New().ValidateEarlyStoppingSettings(ctx, req)
	return err
}

// EarlyStoppingSuite is the checks for one early-stopping function
// (docs/function-contract.md#early-stopping): every reply names running
// trials of the request, each once; the same request gets the same reply;
// bad curves and a missing objective metric are refused as the caller's
// mistake, over every transport.
type EarlyStoppingSuite struct {
	// Algorithm is the algorithmName the requests carry.
	Algorithm string
	Callers   []EarlyStoppingCaller
	// URL, when set, is the function's http:// address, for the checks of
	// HTTP itself.
	URL     string
	HTTP    *http.Client
	Timeout time.Duration
}

// Run runs every check and returns their results.
func (s *EarlyStoppingSuite) Run(ctx context.Context) []Result {
	web := &Suite{URL: s.URL, HTTP: s.HTTP, Timeout: s.Timeout}
	var checks []check
	if s.URL != "" {
		ce := func(typ, contentType, body string) func(ctx context.Context) (string, error) {
			return func(ctx context.Context) (string, error) {
				h := http.Header{}
				h.Set("Ce-Specversion", "1.0")
				h.Set("Ce-Type", typ)
				h.Set("Ce-Source", "knobs.dev/conformance")
				h.Set("Ce-Id", "conformance-1")
				h.Set("Content-Type", contentType)
				return web.wantClientError(ctx, h, body)
			}
		}
		checks = append(checks,
			check{"http/healthz", web.checkHealthz},
			check{"http/undecodable-json", ce(function.TypeEarlyStoppingRequest, function.ContentTypeJSON, `{"trials": [`)},
			check{"http/undecodable-protobuf", ce(function.TypeEarlyStoppingRequest, function.ContentTypeProtobuf, "\xff\xff\xff\xff")},
			check{"http/unknown-event-type", ce("dev.knobs.no.such.request", function.ContentTypeJSON, `{}`)},
		)
	}
	for _, c := range s.Callers {
		c := c
		checks = append(checks,
			check{c.Name() + "/decide", func(ctx context.Context) (string, error) { return s.checkDecide(ctx, c) }},
			check{c.Name() + "/validate", func(ctx context.Context) (string, error) {
				return "", c.ValidateEarlyStoppingSettings(ctx, &pb.ValidateEarlyStoppingSettingsRequest{EarlyStopping: &pb.EarlyStoppingSpec{AlgorithmName: s.Algorithm}})
			}},
			check{c.Name() + "/bad-curve-value", func(ctx context.Context) (string, error) {
				req := s.request(rand.New(rand.NewPCG(1, 2)))
				curveOf(req, 0)[1].Value = "NaN"
				return s.refused(ctx, c, req, "curve")
			}},
			check{c.Name() + "/curve-out-of-order", func(ctx context.Context) (string, error) {
				req := s.request(rand.New(rand.NewPCG(1, 2)))
				curveOf(req, 0)[2].Step = 1
				return s.refused(ctx, c, req, "curve")
			}},
			check{c.Name() + "/no-objective-metric", func(ctx context.Context) (string, error) {
				req := s.request(rand.New(rand.NewPCG(1, 2)))
				req.Experiment.ExperimentSpec.Objective.ObjectiveMetricName = ""
				return s.refused(ctx, c, req, "objectiveMetricName")
			}},
		)
		if raw, ok := c.(rawSender); ok {
			checks = append(checks, check{c.Name() + "/undecodable", func(ctx context.Context) (string, error) {
				err := raw.sendRaw(ctx, pb.EarlyStopping_GetEarlyStoppingDecisions_FullMethodName, []byte("\xff\xff\xff\xff"))
				if err == nil {
					return "", fmt.Errorf("an undecodable message was answered; want INVALID_ARGUMENT")
				}
				return checkRefusal(err, "")
			}})
		}
	}
	var out []Result
	for _, ch := range checks {
		timeout := s.Timeout
		if timeout <= 0 {
			timeout = 30 * time.Second
		}
		cctx, cancel := context.WithTimeout(ctx, 4*timeout)
		note, err := ch.run(cctx)
		cancel()
		out = append(out, Result{Name: ch.name, Note: note, Err: err})
	}
	return out
}

// request is an experiment of 12 trials of a minimised loss, some
// succeeded after 10 steps, some running at 1 to 9, one pending, with
// curves drawn from r: good trials fall lower than bad ones.
func (s *EarlyStoppingSuite) request(r *rand.Rand) *pb.GetEarlyStoppingDecisionsRequest {
	req := &pb.GetEarlyStoppingDecisionsRequest{
		Experiment: &pb.Experiment{Name: "conformance", ExperimentSpec: &pb.ExperimentSpec{
			Objective: &pb.ObjectiveSpec{Type: pb.ObjectiveType_MINIMIZE, ObjectiveMetricName: "loss"},
		}},
		EarlyStopping: &pb.EarlyStoppingSpec{AlgorithmName: s.Algorithm},
	}
	for i := range 12 {
		cond, steps := pb.TrialCondition_SUCCEEDED, 10
		switch {
		case i == 11:
			cond, steps = pb.TrialCondition_PENDING, 0
		case i >= 5:
			cond, steps = pb.TrialCondition_RUNNING, 1+r.IntN(9)
		}
		final := r.Float64()
		m := &pb.Metric{Name: "loss"}
		for step := 1; step <= steps; step++ {
			v := final + (1-final)*float64(10-step)/10 + 0.01*r.NormFloat64()
			m.Curve = append(m.Curve, &pb.MetricPoint{Step: int64(step), Value: strconv.FormatFloat(v, 'g', -1, 64)})
			m.Value = m.Curve[len(m.Curve)-1].Value
		}
		t := &pb.Trial{Name: fmt.Sprintf("conformance-%d", i+1), Status: &pb.TrialStatus{Condition: cond}}
		if steps > 0 {
			t.Status.Observation = &pb.Observation{Metrics: []*pb.Metric{m}}
		}
		req.Trials = append(req.Trials, t)
	}
	return req
}

// curveOf returns the loss curve of the i-th trial that has one.
func curveOf(req *pb.GetEarlyStoppingDecisionsRequest, i int) []*pb.MetricPoint {
	for _, t := range req.Trials {
		if c := t.GetStatus().GetObservation().GetMetrics(); len(c) > 0 && len(c[0].Curve) >= 3 {
			if i == 0 {
				return c[0].Curve
			}
			i--
		}
	}
	return nil
}

// checkDecide sends requests of several seeds, each twice, and holds the
// replies to the contract.
func (s *EarlyStoppingSuite) checkDecide(ctx context.Context, c EarlyStoppingCaller) (string, error) {
	stopped := 0
	for seed := uint64(1); seed <= 8; seed++ {
		req := s.request(rand.New(rand.NewPCG(seed, 7)))
		first, err := c.GetEarlyStoppingDecisions(ctx, req)
		if err != nil {
			return "", fmt.Errorf("seed %d: a valid request failed: %w", seed, err)
		}
		running := map[string]bool{}
		for _, t := range req.Trials {
			running[t.Name] = t.GetStatus().GetCondition() == pb.TrialCondition_RUNNING
		}
		var names []string
		for i, d := range first.GetDecisions() {
			switch r, known := running[d.GetTrialName()]; {
			case !known:
				return "", fmt.Errorf("seed %d: decisions[%d] names %q, which is not a trial of the request", seed, i, d.GetTrialName())
			case !r:
				return "", fmt.Errorf("seed %d: decisions[%d] names %q, which is not running", seed, i, d.GetTrialName())
			case slices.Contains(names, d.GetTrialName()):
				return "", fmt.Errorf("seed %d: decisions[%d] names %q again", seed, i, d.GetTrialName())
			}
			names = append(names, d.GetTrialName())
		}
		stopped += len(names)
		again, err := c.GetEarlyStoppingDecisions(ctx, req)
		if err != nil {
			return "", fmt.Errorf("seed %d, asked again: %w", seed, err)
		}
		var second []string
		for _, d := range again.GetDecisions() {
			second = append(second, d.GetTrialName())
		}
		slices.Sort(names)
		slices.Sort(second)
		if !slices.Equal(names, second) {
			return "", fmt.Errorf("seed %d: the same request stopped %v, then %v: a function keeps nothing between calls", seed, names, second)
		}
	}
	return fmt.Sprintf("%d trials stopped over 8 requests", stopped), nil
}

// refused sends a bad request and wants it refused as the caller's mistake,
// with a message that mentions the thing to fix.
func (s *EarlyStoppingSuite) refused(ctx context.Context, c EarlyStoppingCaller, req *pb.GetEarlyStoppingDecisionsRequest, mentions string) (string, error) {
	_, err := c.GetEarlyStoppingDecisions(ctx, req)
	if err == nil {
		return "", fmt.Errorf("answered; want HTTP 400 or gRPC INVALID_ARGUMENT naming %s", mentions)
	}
	return checkRefusal(err, mentions)
}
