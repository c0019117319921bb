package function

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/grid"
	"knobs.dev/knobs/pkg/algorithm/random"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// fuzzHandlers serve every algorithm of this package's tests in process.
func fuzzHandlers() []http.Handler {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var hs []http.Handler
	for _, alg := range []algorithm.Algorithm{random.Random{}, grid.Grid{}} {
		hs = append(hs, NewHandler(&Service{Name: "fuzz", Algorithm: alg}, Options{Logger: quiet, MaxRequestBytes: 1 << 20}))
	}
	return hs
}

func fuzzSeeds() []*pb.GetSuggestionsRequest {
	withTrials := seedRequest(2)
	withTrials.Trials = []*pb.Trial{{
		Name: "t1",
		Spec: &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: []*pb.ParameterAssignment{
			{Name: "--lr", Value: "0.02"}, {Name: "--num-layers", Value: "3"}, {Name: "--optimizer", Value: "sgd"}}}},
		Status: &pb.TrialStatus{Condition: pb.TrialCondition_SUCCEEDED, Observation: &pb.Observation{Metrics: []*pb.Metric{{Name: "Validation-accuracy", Value: "0.9"}}}},
	}}
	stepped := seedRequest(5)
	stepped.Experiment.ExperimentSpec.ParameterSpecs.Parameters[0].FeasibleSpace.Step = "0.005"
	stepped.Experiment.ExperimentSpec.ParameterSpecs.Parameters[0].FeasibleSpace.Distribution = pb.Distribution_LOG_UNIFORM
	discrete := seedRequest(1)
	discrete.Experiment.ExperimentSpec.ParameterSpecs.Parameters = append(discrete.Experiment.ExperimentSpec.ParameterSpecs.Parameters,
		&pb.ParameterSpec{Name: "batch", ParameterType: pb.ParameterType_DISCRETE, FeasibleSpace: &pb.FeasibleSpace{List: []string{"16", "32", "64"}}})
	// Histories in columns: one of every case (texts, curves, absences,
	// plain rows) and one of 40 trials.
	columns := seedRequest(2)
	columns.Experiment = historyExperiment()
	columns.History = CompactHistory(columns.Experiment.ExperimentSpec.ParameterSpecs.Parameters, historyTrials())
	long := historyRequest(40)
	long.History = CompactHistory(long.Experiment.ExperimentSpec.ParameterSpecs.Parameters, long.Trials)
	long.Trials = nil
	// Conditions two deep: momentum under sgd, a finite momentum so that
	// grid takes it, and width under some numbers of layers.
	conditional := seedRequest(4)
	conditional.Experiment.ExperimentSpec.ParameterSpecs.Parameters[0].FeasibleSpace.Step = "0.005"
	conditional.Experiment.ExperimentSpec.ParameterSpecs.Parameters = append(conditional.Experiment.ExperimentSpec.ParameterSpecs.Parameters,
		&pb.ParameterSpec{Name: "momentum", ParameterType: pb.ParameterType_DISCRETE, FeasibleSpace: &pb.FeasibleSpace{List: []string{"0.5", "0.9"}},
			ParentName: "--optimizer", ParentValues: []string{"sgd"}},
		&pb.ParameterSpec{Name: "nesterov", ParameterType: pb.ParameterType_CATEGORICAL, FeasibleSpace: &pb.FeasibleSpace{List: []string{"on", "off"}},
			ParentName: "momentum", ParentValues: []string{"0.9"}},
		&pb.ParameterSpec{Name: "width", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "8", Max: "64", Step: "8"},
			ParentName: "--num-layers", ParentValues: []string{"2", "4"}})
	conditional.Trials = []*pb.Trial{{
		Name: "t1",
		Spec: &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: []*pb.ParameterAssignment{
			{Name: "--lr", Value: "0.02"}, {Name: "--num-layers", Value: "3"}, {Name: "--optimizer", Value: "sgd"}, {Name: "momentum", Value: "0.5"}}}},
		Status: &pb.TrialStatus{Condition: pb.TrialCondition_SUCCEEDED, Observation: &pb.Observation{Metrics: []*pb.Metric{{Name: "Validation-accuracy", Value: "0.9"}}}},
	}}
	return []*pb.GetSuggestionsRequest{seedRequest(3), withTrials, stepped, discrete, columns, long, conditional}
}

// fuzzEvent sends data as a binary-mode CloudEvent to every handler and fails
// on a 5xx, a reply that does not decode, or more suggestions than asked for.
func fuzzEvent(t *testing.T, handlers []http.Handler, contentType string, data []byte) {
	for _, h := range handlers {
		rec := postEvent(h, contentType, data)
		if rec.Code >= 500 {
			t.Fatalf("status %d for a caller's input: %s", rec.Code, rec.Body.String())
		}
		if rec.Code != http.StatusOK {
			samePlainRefusal(t, h, contentType, data)
			continue
		}
		in, out := &pb.GetSuggestionsRequest{}, &pb.GetSuggestionsReply{}
		var inErr, outErr error
		if contentType == ContentTypeProtobuf {
			inErr, outErr = proto.Unmarshal(data, in), proto.Unmarshal(rec.Body.Bytes(), out)
		} else {
			inErr, outErr = unmarshalJSON.Unmarshal(data, in), protojson.Unmarshal(rec.Body.Bytes(), out)
		}
		if inErr != nil || outErr != nil {
			t.Fatalf("accepted input or reply does not decode: %v, %v", inErr, outErr)
		}
		if n := len(out.GetParameterAssignments()); n > int(in.GetRequestNumber()) || (n < int(in.GetRequestNumber()) && !out.GetSearchSpaceExhausted()) {
			t.Fatalf("%d suggestions for %d asked (exhausted %v)", n, in.GetRequestNumber(), out.GetSearchSpaceExhausted())
		}
		if in.GetHistory() != nil {
			samePlainReply(t, h, in, out)
		}
	}
}

// samePlainRefusal fails when a history in columns that h refused, written
// out in plain, is accepted.
func samePlainRefusal(t *testing.T, h http.Handler, contentType string, data []byte) {
	in := &pb.GetSuggestionsRequest{}
	if contentType != ContentTypeProtobuf || proto.Unmarshal(data, in) != nil || in.GetHistory() == nil || len(in.GetTrials()) > 0 {
		return
	}
	trials, err := ExpandHistory(in.GetExperiment().GetExperimentSpec().GetParameterSpecs().GetParameters(), in.GetHistory())
	if err != nil {
		return
	}
	in.History, in.Trials = nil, trials
	if rec := postProtobuf(h, in); rec.Code == http.StatusOK {
		t.Fatalf("history refused in columns, accepted in plain: %s", rec.Body.String())
	}
}

func postProtobuf(h http.Handler, m proto.Message) *httptest.ResponseRecorder {
	data, _ := proto.Marshal(m)
	return postEvent(h, ContentTypeProtobuf, data)
}

// postEvent sends data to h as a binary-mode suggestion request.
func postEvent(h http.Handler, contentType string, data []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(data))
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", "fuzz")
	req.Header.Set("ce-source", "fuzz")
	req.Header.Set("ce-type", TypeSuggestionRequest)
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// samePlainReply fails unless the history in columns that h accepted,
// written out in plain, gets the same reply.
func samePlainReply(t *testing.T, h http.Handler, in *pb.GetSuggestionsRequest, out *pb.GetSuggestionsReply) {
	trials, err := ExpandHistory(in.GetExperiment().GetExperimentSpec().GetParameterSpecs().GetParameters(), in.GetHistory())
	if err != nil {
		t.Fatalf("history in columns accepted, but not expanded: %v", err)
	}
	plain := proto.Clone(in).(*pb.GetSuggestionsRequest)
	plain.History, plain.Trials = nil, trials
	rec := postProtobuf(h, plain)
	got := &pb.GetSuggestionsReply{}
	if rec.Code != http.StatusOK || proto.Unmarshal(rec.Body.Bytes(), got) != nil || !proto.Equal(got, out) {
		t.Fatalf("in columns: %v; in plain: status %d, %s", out, rec.Code, rec.Body.String())
	}
}

func FuzzSuggestionRequestJSON(f *testing.F) {
	for _, r := range fuzzSeeds() {
		b, _ := protojson.Marshal(r)
		f.Add(b)
	}
	f.Add([]byte(`{"experiment": {`))
	f.Add([]byte(`{"requestNumber": 3, "experiment": {"experimentSpec": {"parameterSpecs": {"parameters": [{"name": "a", "parameterType": "INT", "feasibleSpace": {"min": "1", "max": "3"}}]}}}}`))
	handlers := fuzzHandlers()
	f.Fuzz(func(t *testing.T, data []byte) { fuzzEvent(t, handlers, ContentTypeJSON, data) })
}

func FuzzSuggestionRequestProtobuf(f *testing.F) {
	for _, r := range fuzzSeeds() {
		b, _ := proto.Marshal(r)
		f.Add(b)
	}
	handlers := fuzzHandlers()
	f.Fuzz(func(t *testing.T, data []byte) { fuzzEvent(t, handlers, ContentTypeProtobuf, data) })
}
