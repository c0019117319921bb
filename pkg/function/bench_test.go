package function

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"knobs.dev/knobs/pkg/algorithm/random"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// historyRequest is the design's experiment with n completed trials.
func historyRequest(n int) *pb.GetSuggestionsRequest {
	req := seedRequest(3)
	for i := 0; i < n; i++ {
		req.Trials = append(req.Trials, &pb.Trial{
			Name: fmt.Sprintf("random-experiment-%05d", i),
			Spec: &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: []*pb.ParameterAssignment{
				{Name: "--lr", Value: strconv.FormatFloat(0.01+0.02*float64(i%997)/997, 'f', -1, 64)},
				{Name: "--num-layers", Value: strconv.Itoa(2 + i%4)},
				{Name: "--optimizer", Value: []string{"sgd", "adam", "ftrl"}[i%3]},
			}}},
			Status: &pb.TrialStatus{
				Condition:   pb.TrialCondition_SUCCEEDED,
				Observation: &pb.Observation{Metrics: []*pb.Metric{{Name: "Validation-accuracy", Value: strconv.FormatFloat(float64(i%100)/100, 'f', -1, 64)}}},
			},
		})
	}
	return req
}

// BenchmarkCloudEvent measures one CloudEvents call of random search, from
// HTTP request to HTTP reply in process, as the history grows, for both
// encodings, and in binary protobuf with the history in columns. The
// request size is reported as bytes/request.
func BenchmarkCloudEvent(b *testing.B) {
	h := NewHandler(&Service{Name: "random", Algorithm: random.Random{}}, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, n := range []int{0, 100, 1000, 10000} {
		req := historyRequest(n)
		columns := &pb.GetSuggestionsRequest{Experiment: req.GetExperiment(), RequestNumber: req.GetRequestNumber(),
			History: CompactHistory(req.GetExperiment().GetExperimentSpec().GetParameterSpecs().GetParameters(), req.GetTrials())}
		for _, enc := range []struct {
			name, contentType string
			marshal           func(proto.Message) ([]byte, error)
			req               *pb.GetSuggestionsRequest
		}{
			{"protobuf", ContentTypeProtobuf, proto.Marshal, req},
			{"json", ContentTypeJSON, protojson.Marshal, req},
			{"protobuf-columns", ContentTypeProtobuf, proto.Marshal, columns},
		} {
			data, err := enc.marshal(enc.req)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("trials=%d/%s", n, enc.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(data))
					r.Header.Set("ce-specversion", "1.0")
					r.Header.Set("ce-id", "bench")
					r.Header.Set("ce-source", "bench")
					r.Header.Set("ce-type", TypeSuggestionRequest)
					r.Header.Set("Content-Type", enc.contentType)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d: %s", w.Code, w.Body.String())
					}
				}
				b.ReportMetric(float64(len(data)), "request-bytes")
			})
		}
	}
}
