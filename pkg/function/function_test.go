package function

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/random"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// seedExperiment is the experiment of the Katib Suggestion design.
func seedExperiment() *pb.Experiment {
	return &pb.Experiment{
		Name: "random-experiment",
		ExperimentSpec: &pb.ExperimentSpec{
			Algorithm: &pb.AlgorithmSpec{AlgorithmName: "random"},
			Objective: &pb.ObjectiveSpec{Type: pb.ObjectiveType_MAXIMIZE, Goal: 0.99, ObjectiveMetricName: "Validation-accuracy"},
			ParameterSpecs: &pb.ParameterSpecs{Parameters: []*pb.ParameterSpec{
				{Name: "--lr", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: "0.01", Max: "0.03"}},
				{Name: "--num-layers", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "2", Max: "5"}},
				{Name: "--optimizer", ParameterType: pb.ParameterType_CATEGORICAL, FeasibleSpace: &pb.FeasibleSpace{List: []string{"sgd", "adam", "ftrl"}}},
			}},
		},
	}
}

func seedRequest(n int32) *pb.GetSuggestionsRequest {
	return &pb.GetSuggestionsRequest{Experiment: seedExperiment(), RequestNumber: n}
}

// server is a function served on a loopback socket for one test.
type server struct {
	url  string
	addr string
	logs *syncBuffer
	stop func() error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func serve(t *testing.T, alg algorithm.Algorithm, opts Options) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	opts.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, NewHandler(&Service{Name: "test", Algorithm: alg}, opts), opts.Logger) }()
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			stopErr = <-done
		})
		return stopErr
	}
	t.Cleanup(func() { _ = stop() })
	return &server{url: "http://" + ln.Addr().String(), addr: ln.Addr().String(), logs: logs, stop: stop}
}

// post sends a binary-mode CloudEvent and returns the reply.
func post(t *testing.T, url, typ, contentType string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", "test-1")
	req.Header.Set("ce-source", "test")
	req.Header.Set("ce-type", typ)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func mustJSON(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := protojson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustProto(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkSeedReply checks n valid assignments for the seed experiment.
func checkSeedReply(t *testing.T, reply *pb.GetSuggestionsReply, n int) {
	t.Helper()
	if got := len(reply.GetParameterAssignments()); got != n {
		t.Fatalf("got %d assignments, want %d: %v", got, n, reply)
	}
	for _, a := range reply.GetParameterAssignments() {
		if len(a.GetAssignments()) != 3 {
			t.Fatalf("assignment has %d parameters, want 3: %v", len(a.GetAssignments()), a)
		}
		for _, pa := range a.GetAssignments() {
			switch pa.GetName() {
			case "--lr":
				if pa.GetValue() < "0.01" || pa.GetValue() > "0.03" || !strings.HasPrefix(pa.GetValue(), "0.0") {
					t.Errorf("--lr = %q, want within [0.01, 0.03]", pa.GetValue())
				}
			case "--num-layers":
				if !strings.Contains("2345", pa.GetValue()) || len(pa.GetValue()) != 1 {
					t.Errorf("--num-layers = %q, want 2..5", pa.GetValue())
				}
			case "--optimizer":
				if pa.GetValue() != "sgd" && pa.GetValue() != "adam" && pa.GetValue() != "ftrl" {
					t.Errorf("--optimizer = %q, want sgd, adam or ftrl", pa.GetValue())
				}
			default:
				t.Errorf("unexpected parameter %q", pa.GetName())
			}
		}
	}
}

func TestCloudEventsEncodings(t *testing.T) {
	s := serve(t, random.Random{}, Options{})
	req := seedRequest(3)

	t.Run("binary mode, JSON data", func(t *testing.T) {
		resp, body := post(t, s.url, TypeSuggestionRequest, "application/json", mustJSON(t, req))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		if got := resp.Header.Get("ce-type"); got != TypeSuggestionReply {
			t.Errorf("ce-type = %q, want %q", got, TypeSuggestionReply)
		}
		if got := resp.Header.Get("Content-Type"); got != ContentTypeJSON {
			t.Errorf("Content-Type = %q, want %q", got, ContentTypeJSON)
		}
		if got := resp.Header.Get("ce-subject"); got != "" {
			t.Errorf("ce-subject = %q for a request without one", got)
		}
		reply := &pb.GetSuggestionsReply{}
		if err := protojson.Unmarshal(body, reply); err != nil {
			t.Fatal(err)
		}
		checkSeedReply(t, reply, 3)
	})

	t.Run("binary mode, protobuf data", func(t *testing.T) {
		resp, body := post(t, s.url, TypeSuggestionRequest, "application/protobuf", mustProto(t, req))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		if got := resp.Header.Get("Content-Type"); got != ContentTypeProtobuf {
			t.Errorf("Content-Type = %q, want %q", got, ContentTypeProtobuf)
		}
		reply := &pb.GetSuggestionsReply{}
		if err := proto.Unmarshal(body, reply); err != nil {
			t.Fatal(err)
		}
		checkSeedReply(t, reply, 3)
	})

	t.Run("structured mode, JSON data", func(t *testing.T) {
		envelope := map[string]any{
			"specversion": "1.0", "id": "s-1", "source": "test", "type": TypeSuggestionRequest,
			"subject": "random-experiment", "datacontenttype": "application/json",
			"data": json.RawMessage(mustJSON(t, req)),
		}
		b, _ := json.Marshal(envelope)
		hreq, _ := http.NewRequest(http.MethodPost, s.url, bytes.NewReader(b))
		hreq.Header.Set("Content-Type", "application/cloudevents+json")
		resp, body := do(t, hreq)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		if got := resp.Header.Get("ce-subject"); got != "random-experiment" {
			t.Errorf("ce-subject = %q, want the request's", got)
		}
		reply := &pb.GetSuggestionsReply{}
		if err := protojson.Unmarshal(body, reply); err != nil {
			t.Fatal(err)
		}
		checkSeedReply(t, reply, 3)
	})

	t.Run("structured mode, protobuf data in data_base64", func(t *testing.T) {
		envelope := map[string]any{
			"specversion": "1.0", "id": "s-2", "source": "test", "type": TypeSuggestionRequest,
			"datacontenttype": "application/protobuf",
			"data_base64":     base64.StdEncoding.EncodeToString(mustProto(t, req)),
		}
		b, _ := json.Marshal(envelope)
		hreq, _ := http.NewRequest(http.MethodPost, s.url, bytes.NewReader(b))
		hreq.Header.Set("Content-Type", "application/cloudevents+json")
		resp, body := do(t, hreq)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		reply := &pb.GetSuggestionsReply{}
		if err := proto.Unmarshal(body, reply); err != nil {
			t.Fatal(err)
		}
		checkSeedReply(t, reply, 3)
	})

	t.Run("validate", func(t *testing.T) {
		resp, body := post(t, s.url, TypeValidateRequest, "application/json",
			mustJSON(t, &pb.ValidateAlgorithmSettingsRequest{Experiment: seedExperiment()}))
		if resp.StatusCode != http.StatusOK || resp.Header.Get("ce-type") != TypeValidateReply {
			t.Fatalf("status %d, type %q: %s", resp.StatusCode, resp.Header.Get("ce-type"), body)
		}
	})

	t.Run("same request, same reply, either encoding", func(t *testing.T) {
		_, a := post(t, s.url, TypeSuggestionRequest, "application/json", mustJSON(t, req))
		_, b := post(t, s.url, TypeSuggestionRequest, "application/protobuf", mustProto(t, req))
		ra, rb := &pb.GetSuggestionsReply{}, &pb.GetSuggestionsReply{}
		if err := protojson.Unmarshal(a, ra); err != nil {
			t.Fatal(err)
		}
		if err := proto.Unmarshal(b, rb); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(ra, rb) {
			t.Errorf("replies differ:\n%v\n%v", ra, rb)
		}
	})

	t.Run("healthz", func(t *testing.T) {
		resp, err := http.Get(s.url + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /healthz: %d", resp.StatusCode)
		}
	})
}

func TestClient(t *testing.T) {
	s := serve(t, random.Random{}, Options{})
	for _, useJSON := range []bool{false, true} {
		c := &Client{JSON: useJSON}
		reply, err := c.GetSuggestions(context.Background(), s.url, seedRequest(3))
		if err != nil {
			t.Fatalf("JSON=%v: %v", useJSON, err)
		}
		checkSeedReply(t, reply, 3)
		if err := c.ValidateAlgorithmSettings(context.Background(), s.url, &pb.ValidateAlgorithmSettingsRequest{Experiment: seedExperiment()}); err != nil {
			t.Fatalf("JSON=%v: validate: %v", useJSON, err)
		}
		bad := seedRequest(3)
		bad.Experiment.ExperimentSpec.ParameterSpecs.Parameters[0].FeasibleSpace.Min = "0.5"
		_, err = c.GetSuggestions(context.Background(), s.url, bad)
		var ce *CallError
		if !errors.As(err, &ce) || !ce.Permanent() || ce.Code != "InvalidArgument" || !strings.Contains(ce.Message, "greater than max") {
			t.Fatalf("JSON=%v: bad request gave %v, want a permanent InvalidArgument CallError", useJSON, err)
		}
	}
}

func grpcClient(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestGRPC(t *testing.T) {
	s := serve(t, random.Random{}, Options{})
	conn := grpcClient(t, s.addr)
	c := pb.NewSuggestionClient(conn)
	ctx := context.Background()

	reply, err := c.GetSuggestions(ctx, seedRequest(3))
	if err != nil {
		t.Fatal(err)
	}
	checkSeedReply(t, reply, 3)
	if _, err := c.ValidateAlgorithmSettings(ctx, &pb.ValidateAlgorithmSettingsRequest{Experiment: seedExperiment()}); err != nil {
		t.Fatal(err)
	}
	hc, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: pb.Suggestion_ServiceDesc.ServiceName})
	if err != nil || hc.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health check: %v, %v", hc, err)
	}

	// The same request over gRPC and CloudEvents gets the same reply.
	_, body := post(t, s.url, TypeSuggestionRequest, "application/protobuf", mustProto(t, seedRequest(3)))
	viaEvents := &pb.GetSuggestionsReply{}
	if err := proto.Unmarshal(body, viaEvents); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(reply, viaEvents) {
		t.Errorf("gRPC and CloudEvents replies differ:\n%v\n%v", reply, viaEvents)
	}
}

// badCase is a request a caller got wrong, and what the function must say.
type badCase struct {
	name string
	// mutate spoils the seed request; nil means body is sent as is.
	mutate func(*pb.GetSuggestionsRequest)
	body   string
	typ    string
	want   string // in the message
}

func badCases() []badCase {
	space := func(r *pb.GetSuggestionsRequest) []*pb.ParameterSpec {
		return r.Experiment.ExperimentSpec.ParameterSpecs.Parameters
	}
	return append([]badCase{
		{name: "min above max", mutate: func(r *pb.GetSuggestionsRequest) { space(r)[0].FeasibleSpace.Min = "0.05" },
			want: `parameters[0] ("--lr").feasibleSpace: min 0.05 is greater than max 0.03`},
		{name: "empty list", mutate: func(r *pb.GetSuggestionsRequest) { space(r)[2].FeasibleSpace.List = nil },
			want: `parameters[2] ("--optimizer").feasibleSpace.list: empty list`},
		{name: "unknown parameter type", mutate: func(r *pb.GetSuggestionsRequest) { space(r)[1].ParameterType = pb.ParameterType_UNKNOWN_TYPE },
			want: `parameters[1] ("--num-layers").parameterType: missing or unknown parameter type: use DOUBLE, INT, DISCRETE or CATEGORICAL`},
		{name: "non-numeric bound", mutate: func(r *pb.GetSuggestionsRequest) { space(r)[0].FeasibleSpace.Max = "high" },
			want: `feasibleSpace.max: "high" is not a number`},
		{name: "request number zero", mutate: func(r *pb.GetSuggestionsRequest) { r.RequestNumber = 0 },
			want: "requestNumber: 0 is out of range"},
		{name: "request number negative", mutate: func(r *pb.GetSuggestionsRequest) { r.RequestNumber = -4 },
			want: "requestNumber: -4 is out of range"},
		{name: "request number absurd", mutate: func(r *pb.GetSuggestionsRequest) { r.RequestNumber = 2000000000 },
			want: "ask for 1 to 10000 suggestions"},
		{name: "unknown setting", mutate: func(r *pb.GetSuggestionsRequest) {
			r.Experiment.ExperimentSpec.Algorithm.AlgorithmSettings = []*pb.AlgorithmSetting{{Name: "randomstate", Value: "1"}}
		}, want: `unknown setting "randomstate": this algorithm takes random_state`},
		{name: "no experiment", mutate: func(r *pb.GetSuggestionsRequest) { r.Experiment = nil },
			want: "experiment: missing"},
		{name: "trial with a value of the wrong type", mutate: func(r *pb.GetSuggestionsRequest) {
			r.Trials = []*pb.Trial{{Name: "t1", Spec: &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: []*pb.ParameterAssignment{
				{Name: "--lr", Value: "0.02"}, {Name: "--num-layers", Value: "three"}, {Name: "--optimizer", Value: "sgd"}}}}}}
		}, want: `trials[0] ("t1").spec.parameterAssignments.assignments[1]: parameter "--num-layers": "three" is not a number`},
		{name: "malformed JSON", body: `{"experiment": {`, want: "data is not a GetSuggestionsRequest"},
		{name: "unknown enum name", body: `{"experiment": {"experimentSpec": {"parameterSpecs": {"parameters": [{"name": "x", "parameterType": "FLOAT"}]}}}, "requestNumber": 1}`,
			want: `parameters[0] ("x").parameterType: missing or unknown parameter type`},
		{name: "empty body", body: "", want: "event has no data"},
		{name: "wrong event type", typ: "com.example.other", body: "{}", want: `event type "com.example.other": send dev.knobs.suggestion.request`},
	}, columnCases()...)
}

func TestBadRequestsOverCloudEvents(t *testing.T) {
	s := serve(t, random.Random{}, Options{})
	for _, tc := range badCases() {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.body)
			if tc.mutate != nil {
				req := seedRequest(3)
				tc.mutate(req)
				body = mustJSON(t, req)
			}
			typ := tc.typ
			if typ == "" {
				typ = TypeSuggestionRequest
			}
			resp, rb := post(t, s.url, typ, "application/json", body)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", resp.StatusCode, rb)
			}
			if got := resp.Header.Get("ce-type"); got != TypeError {
				t.Errorf("ce-type = %q, want %q", got, TypeError)
			}
			var ed ErrorData
			if err := json.Unmarshal(rb, &ed); err != nil {
				t.Fatalf("error data %q: %v", rb, err)
			}
			if ed.Code != "InvalidArgument" || !strings.Contains(ed.Message, tc.want) {
				t.Errorf("got %+v, want InvalidArgument with %q", ed, tc.want)
			}
		})
	}
}

func TestBadRequestsOverGRPC(t *testing.T) {
	s := serve(t, random.Random{}, Options{})
	c := pb.NewSuggestionClient(grpcClient(t, s.addr))
	for _, tc := range badCases() {
		if tc.mutate == nil {
			continue // transport-level mistakes of CloudEvents only
		}
		t.Run(tc.name, func(t *testing.T) {
			req := seedRequest(3)
			tc.mutate(req)
			_, err := c.GetSuggestions(context.Background(), req)
			st := status.Convert(err)
			if st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), tc.want) {
				t.Errorf("got %v, want InvalidArgument with %q", err, tc.want)
			}
		})
	}
	_, err := c.ValidateAlgorithmSettings(context.Background(), &pb.ValidateAlgorithmSettingsRequest{})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("validate without experiment: %v, want InvalidArgument", err)
	}
}

func TestTransportMistakes(t *testing.T) {
	s := serve(t, random.Random{}, Options{MaxRequestBytes: 4096})
	cases := []struct {
		name   string
		req    func() *http.Request
		status int
		want   string
	}{
		{"not a CloudEvent", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, s.url, strings.NewReader(`{"requestNumber": 3}`))
			r.Header.Set("Content-Type", "application/json")
			return r
		}, 400, "not a CloudEvent"},
		{"GET", func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, s.url, nil)
			return r
		}, 405, "send CloudEvents with POST"},
		{"structured mode, broken envelope", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, s.url, strings.NewReader(`{"specversion": "1.0", "id":`))
			r.Header.Set("Content-Type", "application/cloudevents+json")
			return r
		}, 400, "not a valid CloudEvent"},
		{"missing ce-source", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, s.url, strings.NewReader(`{}`))
			r.Header.Set("ce-specversion", "1.0")
			r.Header.Set("ce-id", "1")
			r.Header.Set("ce-type", TypeSuggestionRequest)
			return r
		}, 400, "source"},
		{"unsupported data content type", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, s.url, strings.NewReader(`a: b`))
			r.Header.Set("ce-specversion", "1.0")
			r.Header.Set("ce-id", "1")
			r.Header.Set("ce-source", "test")
			r.Header.Set("ce-type", TypeSuggestionRequest)
			r.Header.Set("Content-Type", "application/yaml")
			return r
		}, 400, `datacontenttype "application/yaml": send application/json`},
		{"body over the limit", func() *http.Request {
			big := bytes.Repeat([]byte(" "), 8192)
			r, _ := http.NewRequest(http.MethodPost, s.url, bytes.NewReader(big))
			r.Header.Set("ce-specversion", "1.0")
			r.Header.Set("ce-id", "1")
			r.Header.Set("ce-source", "test")
			r.Header.Set("ce-type", TypeSuggestionRequest)
			r.Header.Set("Content-Type", "application/json")
			return r
		}, 413, "request body over 4096 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, tc.req())
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			var ed ErrorData
			if err := json.Unmarshal(body, &ed); err != nil {
				t.Fatalf("error data %q: %v", body, err)
			}
			if !strings.Contains(ed.Message, tc.want) {
				t.Errorf("body %s, want it to say %q", body, tc.want)
			}
		})
	}
}

// faulty is an algorithm that misbehaves in the way its name says.
type faulty struct {
	mode    string
	started chan struct{} // "slow" and "held" close it when a request arrives
	release chan struct{} // "held" answers once it is closed
}

func (faulty) Settings() []algorithm.Setting     { return nil }
func (faulty) Validate(*algorithm.Problem) error { return nil }
func (f faulty) Suggest(ctx context.Context, p *algorithm.Problem, trials []algorithm.Trial, count int) (*algorithm.Suggestions, error) {
	switch f.mode {
	case "repeat":
		pts := sample(p, count)
		pts[count-1] = append(searchspace.Point(nil), trials[len(trials)/2].Point...)
		return &algorithm.Suggestions{Points: pts}, nil
	case "panic":
		var m map[string]int
		m["boom"]++ // a nil map write: a real runtime panic
	case "short":
		return &algorithm.Suggestions{Points: sample(p, count-1)}, nil
	case "outside":
		pts := sample(p, count)
		pts[0][0] = 99
		return &algorithm.Suggestions{Points: pts}, nil
	case "stuck":
		<-ctx.Done()
		return nil, ctx.Err()
	case "held":
		select {
		case <-f.started: // a request after the first
		default:
			close(f.started)
		}
		<-f.release
		return &algorithm.Suggestions{Points: sample(p, count)}, nil
	case "slow":
		close(f.started)
		select {
		case <-time.After(300 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return &algorithm.Suggestions{Points: sample(p, count)}, nil
	}
	return nil, errors.New("unknown mode")
}

func sample(p *algorithm.Problem, n int) []searchspace.Point {
	rng := p.Rand(0)
	pts := make([]searchspace.Point, n)
	for i := range pts {
		pts[i] = p.Space.Sample(rng)
	}
	return pts
}

// A point of the history handed out again is the algorithm's fault, with
// the history in trials or in columns.
func TestRepeatOfTheHistoryIsAFault(t *testing.T) {
	svc := &Service{Name: "repeat", Algorithm: faulty{mode: "repeat"}}
	req := historyRequest(2000)
	specs := req.GetExperiment().GetExperimentSpec().GetParameterSpecs().GetParameters()
	columns := &pb.GetSuggestionsRequest{Experiment: req.GetExperiment(), RequestNumber: 3, History: CompactHistory(specs, req.GetTrials())}
	for _, r := range []*pb.GetSuggestionsRequest{req, columns} {
		_, err := svc.GetSuggestions(context.Background(), r)
		if status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "broke the reply contract") {
			t.Errorf("history in columns %v: %v, want Internal", r.GetHistory() != nil, err)
		}
	}
}

func TestFaultsAreContained(t *testing.T) {
	for _, mode := range []string{"panic", "short", "outside"} {
		t.Run(mode, func(t *testing.T) {
			s := serve(t, faulty{mode: mode}, Options{})
			resp, body := post(t, s.url, TypeSuggestionRequest, "application/json", mustJSON(t, seedRequest(3)))
			if resp.StatusCode != http.StatusInternalServerError {
				t.Errorf("CloudEvents: status %d, want 500: %s", resp.StatusCode, body)
			}
			_, err := pb.NewSuggestionClient(grpcClient(t, s.addr)).GetSuggestions(context.Background(), seedRequest(3))
			if status.Code(err) != codes.Internal {
				t.Errorf("gRPC: %v, want Internal", err)
			}
			// The process goes on serving.
			resp, body = post(t, s.url, TypeValidateRequest, "application/json",
				mustJSON(t, &pb.ValidateAlgorithmSettingsRequest{Experiment: seedExperiment()}))
			if resp.StatusCode != http.StatusOK {
				t.Errorf("after the fault: status %d: %s", resp.StatusCode, body)
			}
			if mode == "panic" && !strings.Contains(s.logs.String(), "assignment to entry in nil map") {
				t.Errorf("the panic was not logged: %s", s.logs.String())
			}
		})
	}
}

func TestGracefulShutdown(t *testing.T) {
	started := make(chan struct{})
	s := serve(t, faulty{mode: "slow", started: started}, Options{})
	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, s.url, bytes.NewReader(mustJSON(t, seedRequest(2))))
		req.Header.Set("ce-specversion", "1.0")
		req.Header.Set("ce-id", "slow")
		req.Header.Set("ce-source", "test")
		req.Header.Set("ce-type", TypeSuggestionRequest)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		resp.Body.Close()
		done <- result{status: resp.StatusCode}
	}()
	// Stop the server while the request is in the algorithm.
	<-started
	if err := s.stop(); err != nil {
		t.Fatalf("Serve returned %v after shutdown", err)
	}
	r := <-done
	if r.err != nil || r.status != http.StatusOK {
		t.Fatalf("request in flight during shutdown: status %d, error %v; want it to finish with 200", r.status, r.err)
	}
	if _, err := http.Get(s.url + "/healthz"); err == nil {
		t.Error("server still accepts connections after shutdown")
	}
}

// TestSlowBodyIsCut: a client that trickles a CloudEvent's body is answered
// 400 once the body read timeout passes, and the server goes on serving.
func TestSlowBodyIsCut(t *testing.T) {
	s := serve(t, random.Random{}, Options{BodyReadTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := mustJSON(t, seedRequest(1))
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nCe-Specversion: 1.0\r\nCe-Type: %s\r\nCe-Source: test\r\nCe-Id: slow\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", TypeSuggestionRequest, len(body))
	// One byte at a time, slower than the timeout allows for the whole body;
	// stop as soon as the server has answered.
	answered := make(chan string, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			answered <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		answered <- fmt.Sprintf("%d %s", resp.StatusCode, b)
	}()
	var got string
trickle:
	for i := 0; i < len(body); i++ {
		select {
		case got = <-answered:
			break trickle
		case <-time.After(100 * time.Millisecond):
			if _, err := conn.Write(body[i : i+1]); err != nil {
				got = <-answered
				break trickle
			}
		}
	}
	if got == "" {
		t.Fatalf("the whole body of %d bytes went through at one byte per 100ms; want it cut off after 300ms", len(body))
	}
	if !strings.HasPrefix(got, "400 ") || !strings.Contains(got, "not received within 300ms") {
		t.Errorf("answer %q, want 400 saying the body did not arrive in time", got)
	}
	// The server serves on.
	resp, _ := post(t, s.url, TypeSuggestionRequest, ContentTypeJSON, body)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after the slow client, a request answered %d", resp.StatusCode)
	}
}

// TestWorkIsBounded: a request whose caller gives no deadline, and never
// hangs up, still ends: the function cuts the work at its MaxDuration.
func TestWorkIsBounded(t *testing.T) {
	svc := &Service{Name: "stuck", Algorithm: faulty{mode: "stuck"}, MaxDuration: 100 * time.Millisecond}
	done := make(chan error, 1)
	go func() {
		_, err := svc.GetSuggestions(context.Background(), seedRequest(1))
		done <- err
	}()
	select {
	case err := <-done:
		if status.Code(err) != codes.DeadlineExceeded {
			t.Errorf("GetSuggestions() = %v, want DEADLINE_EXCEEDED", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the work on a request without a deadline was not cut")
	}
}
