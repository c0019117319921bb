package hostile

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"knobs.dev/knobs/pkg/function"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// rawCodec sends bytes as they are, as a caller that does not speak
// protobuf (or means harm) would.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return v.([]byte), nil }
func (rawCodec) Unmarshal([]byte, any) error   { return nil }
func (rawCodec) Name() string                  { return "proto" }

const (
	methodGet      = "/api.v1.alpha3.Suggestion/GetSuggestions"
	methodValidate = "/api.v1.alpha3.Suggestion/ValidateAlgorithmSettings"
)

// grpcCase is a gRPC call that breaks the API: bytes that do not decode,
// a method that does not exist, a message over the limit, or a validation
// request that is wrong.
type grpcCase struct {
	name   string
	method string
	body   []byte
	code   codes.Code
	want   string
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func grpcCases(t *testing.T) []grpcCase {
	valid := mustMarshal(t, request())
	validate := func(mutate func(*pb.GetSuggestionsRequest)) []byte {
		r := request()
		mutate(r)
		return mustMarshal(t, &pb.ValidateAlgorithmSettingsRequest{Experiment: r.Experiment})
	}
	// Field 1 (experiment), field 1 (name) of it: a string that is not UTF-8.
	badUTF8 := []byte{0x0a, 0x04, 0x0a, 0x02, 0xff, 0xfe}
	return []grpcCase{
		{"undecodable GetSuggestions", methodGet, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, codes.InvalidArgument, "the message is not a GetSuggestionsRequest in binary protobuf"},
		{"truncated GetSuggestions", methodGet, valid[:len(valid)-3], codes.InvalidArgument, "the message is not a GetSuggestionsRequest in binary protobuf"},
		{"JSON sent as protobuf", methodGet, []byte(`{"requestNumber": 3}`), codes.InvalidArgument, "the message is not a GetSuggestionsRequest in binary protobuf"},
		{"string not UTF-8", methodGet, badUTF8, codes.InvalidArgument, "the message is not a GetSuggestionsRequest in binary protobuf"},
		{"undecodable ValidateAlgorithmSettings", methodValidate, []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}, codes.InvalidArgument, "the message is not a ValidateAlgorithmSettingsRequest in binary protobuf"},
		{"unknown method", "/api.v1.alpha3.Suggestion/GetEverything", valid, codes.Unimplemented, "unknown method GetEverything"},
		{"unknown service", "/api.v1.alpha3.Other/GetSuggestions", valid, codes.Unimplemented, "unknown service api.v1.alpha3.Other"},
		{"message over 32 MiB", methodGet, make([]byte, function.DefaultMaxRequestBytes+1), codes.ResourceExhausted, "larger than max"},
		{"validate an empty request", methodValidate, nil, codes.InvalidArgument, "experiment: missing"},
		{"validate an unknown setting", methodValidate, validate(settings("seed", "1")), codes.InvalidArgument, `algorithmSettings[0]: unknown setting "seed": this algorithm takes random_state`},
		{"validate a bad seed", methodValidate, validate(settings("random_state", "-1")), codes.InvalidArgument, `random_state: "-1" is not an integer of at least 0`},
		{"validate a bad space", methodValidate, validate(func(r *pb.GetSuggestionsRequest) { params(r)[1].FeasibleSpace.Max = "1" }), codes.InvalidArgument,
			`parameters[1] ("--num-layers").feasibleSpace: min 2 is greater than max 1`},
	}
}

// TestBadCalls sends calls that break the gRPC API.
func TestBadCalls(t *testing.T) {
	p := startRandom(t)
	conn := grpcConn(t, p)
	for _, tc := range grpcCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			var out []byte
			err := conn.Invoke(context.Background(), tc.method, tc.body, &out, grpc.ForceCodec(rawCodec{}))
			if st := status.Convert(err); st.Code() != tc.code || !strings.Contains(st.Message(), tc.want) {
				t.Errorf("%v, want %s with %q", err, tc.code, tc.want)
			}
			p.Alive(t)
		})
	}
}

// frameCase is a gRPC call whose body is not one whole message: what a
// gRPC library would not send, but a caller over plain HTTP/2 can.
type frameCase struct {
	name     string
	body     []byte
	encoding string // grpc-encoding
	code     codes.Code
	want     string
}

func frameCases() []frameCase {
	return []frameCase{
		{"no message", nil, "", codes.InvalidArgument, "the call has no request message: send one GetSuggestions"},
		{"a body shorter than a prefix", []byte{0, 0, 0}, "", codes.InvalidArgument, "the request body ends after 3 bytes, within the 5-byte prefix of a gRPC message"},
		{"a message shorter than its prefix says", []byte{0, 0, 0, 0, 100, 0x18, 3}, "", codes.InvalidArgument, "the request body ends after 2 of the 100 bytes its message's prefix declares"},
		{"compressed without a compressor", []byte{1, 0, 0, 0, 2, 0x18, 3}, "", codes.InvalidArgument, "the message is marked compressed, but header grpc-encoding names no compressor"},
		{"compressed with identity", []byte{1, 0, 0, 0, 2, 0x18, 3}, "identity", codes.InvalidArgument, "the message is marked compressed, but header grpc-encoding names no compressor"},
		{"an unknown compressor", []byte{1, 0, 0, 0, 2, 0x18, 3}, "lzma", codes.Unimplemented, "grpc: Decompressor is not installed for grpc-encoding \"lzma\""},
	}
}

// TestBadFrames sends gRPC calls over plain HTTP/2 whose body is not one
// whole message.
func TestBadFrames(t *testing.T) {
	p := startRandom(t)
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	client := &http.Client{Transport: &http.Transport{Protocols: &protocols}}
	for _, tc := range frameCases() {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, p.URL+methodGet, bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header = http.Header{"Content-Type": {"application/grpc"}, "Te": {"trailers"}}
			if tc.encoding != "" {
				req.Header.Set("Grpc-Encoding", tc.encoding)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			code, msg := resp.Header.Get("Grpc-Status"), resp.Header.Get("Grpc-Message")
			if code == "" {
				code, msg = resp.Trailer.Get("Grpc-Status"), resp.Trailer.Get("Grpc-Message")
			}
			if msg, err := url.PathUnescape(msg); err != nil || code != strconv.Itoa(int(tc.code)) || !strings.Contains(msg, tc.want) {
				t.Errorf("grpc-status %s %q, want %d (%s) with %q", code, msg, tc.code, tc.code, tc.want)
			}
			p.Alive(t)
		})
	}
}
