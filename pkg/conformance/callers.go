package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"

	"knobs.dev/knobs/pkg/function"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Caller sends the Suggestion API's requests to a function one way.
type Caller interface {
	// Name names the way, such as "cloudevents binary protobuf".
	Name() string
	GetSuggestions(ctx context.Context, req *pb.GetSuggestionsRequest) (*pb.GetSuggestionsReply, error)
	ValidateAlgorithmSettings(ctx context.Context, req *pb.ValidateAlgorithmSettingsRequest) error
}

// The transports a function may be checked over, by their names on the
// command line.
const (
	CloudEventsBinaryProtobuf     = "binary-protobuf"
	CloudEventsBinaryJSON         = "binary-json"
	CloudEventsStructuredJSON     = "structured-json"
	CloudEventsStructuredProtobuf = "structured-protobuf"
	GRPC                          = "grpc"
)

// Transports lists every transport, the controller's own first.
var Transports = []string{CloudEventsBinaryProtobuf, CloudEventsBinaryJSON, CloudEventsStructuredJSON, CloudEventsStructuredProtobuf, GRPC}

// NewCaller returns the caller of one transport for the function at base, an
// http:// URL. Close the returned closer when done.
func NewCaller(transport, base string, hc *http.Client) (Caller, func() error, error) {
	return newTransport(transport, base, hc)
}

// NewEarlyStoppingCaller returns the caller of one transport for the
// early-stopping function at base, as NewCaller does.
func NewEarlyStoppingCaller(transport, base string, hc *http.Client) (EarlyStoppingCaller, func() error, error) {
	return newTransport(transport, base, hc)
}

// transportCaller speaks both APIs over one transport.
type transportCaller interface {
	Caller
	EarlyStoppingCaller
}

func newTransport(transport, base string, hc *http.Client) (transportCaller, func() error, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, nil, fmt.Errorf("function URL %q: give an http:// URL such as http://localhost:8080", base)
	}
	noop := func() error { return nil }
	ce := func(json, structured bool) *eventCaller {
		return &eventCaller{url: base, client: &function.Client{HTTP: hc, Source: "knobs.dev/conformance", JSON: json, Structured: structured}, name: transport}
	}
	switch transport {
	case CloudEventsBinaryProtobuf:
		return ce(false, false), noop, nil
	case CloudEventsBinaryJSON:
		return ce(true, false), noop, nil
	case CloudEventsStructuredJSON:
		return ce(true, true), noop, nil
	case CloudEventsStructuredProtobuf:
		return ce(false, true), noop, nil
	case GRPC:
		host := u.Host
		if u.Port() == "" {
			host += ":80"
		}
		conn, err := grpc.NewClient(host, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, nil, fmt.Errorf("gRPC to %s: %w", host, err)
		}
		return &grpcCaller{conn: conn, client: pb.NewSuggestionClient(conn), stopping: pb.NewEarlyStoppingClient(conn)}, conn.Close, nil
	}
	return nil, nil, fmt.Errorf("transport %q: use one of %s", transport, strings.Join(Transports, ", "))
}

type eventCaller struct {
	url    string
	client *function.Client
	name   string
}

func (c *eventCaller) Name() string { return c.name }

func (c *eventCaller) GetSuggestions(ctx context.Context, req *pb.GetSuggestionsRequest) (*pb.GetSuggestionsReply, error) {
	return c.client.GetSuggestions(ctx, c.url, req)
}

func (c *eventCaller) ValidateAlgorithmSettings(ctx context.Context, req *pb.ValidateAlgorithmSettingsRequest) error {
	return c.client.ValidateAlgorithmSettings(ctx, c.url, req)
}

type grpcCaller struct {
	conn     *grpc.ClientConn
	client   pb.SuggestionClient
	stopping pb.EarlyStoppingClient
}

// rawSender sends bytes as they are, as the message of a method: for the
// check that an undecodable message is refused.
type rawSender interface {
	sendRaw(ctx context.Context, method string, data []byte) error
}

func (c *grpcCaller) sendRaw(ctx context.Context, method string, data []byte) error {
	var out []byte
	return c.conn.Invoke(ctx, method, data, &out, grpc.ForceCodecV2(rawCodec{}))
}

// rawCodec passes bytes through.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(v.([]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*(v.(*[]byte)) = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }

func (c *grpcCaller) Name() string { return GRPC }

func (c *grpcCaller) GetSuggestions(ctx context.Context, req *pb.GetSuggestionsRequest) (*pb.GetSuggestionsReply, error) {
	return c.client.GetSuggestions(ctx, req)
}

func (c *grpcCaller) ValidateAlgorithmSettings(ctx context.Context, req *pb.ValidateAlgorithmSettingsRequest) error {
	_, err := c.client.ValidateAlgorithmSettings(ctx, req)
	return err
}

// ServerCaller calls a Suggestion server in the same process, as a function
// would be called with no network between.
type ServerCaller struct {
	// New returns the server for one call: a new one each time shows that
	// nothing is kept between calls, as across a restart of the process.
	New func() pb.SuggestionServer
}

// Name implements Caller.
func (c ServerCaller) Name() string { return "in-process" }

// GetSuggestions implements Caller.
func (c ServerCaller) GetSuggestions(ctx context.Context, req *pb.GetSuggestionsRequest) (*pb.GetSuggestionsReply, error) {
	return c.New().GetSuggestions(ctx, req)
}

// ValidateAlgorithmSettings implements Caller.
func (c ServerCaller) ValidateAlgorithmSettings(ctx context.Context, req *pb.ValidateAlgorithmSettingsRequest) error {
	_, err := c.New().ValidateAlgorithmSettings(ctx, req)
	return err
}

// refusal says how a function answered a request: refused as the caller's
// mistake (4xx with code InvalidArgument, or gRPC INVALID_ARGUMENT), failed
// (5xx, or a gRPC code worth a retry), or something else, with its message.
type refusal struct {
	invalid bool
	fault   bool
	message string
	what    string
}

func classify(err error) refusal {
	var ce *function.CallError
	if errors.As(err, &ce) {
		return refusal{
			invalid: ce.StatusCode >= 400 && ce.StatusCode < 500 && ce.Code == codes.InvalidArgument.String(),
			fault:   ce.StatusCode >= 500,
			message: ce.Message,
			what:    fmt.Sprintf("HTTP %d %s", ce.StatusCode, ce.Code),
		}
	}
	if st, ok := status.FromError(err); ok {
		switch st.Code() {
		case codes.InvalidArgument:
			return refusal{invalid: true, message: st.Message(), what: "gRPC INVALID_ARGUMENT"}
		case codes.Internal, codes.Unknown, codes.Unavailable, codes.DataLoss:
			return refusal{fault: true, message: st.Message(), what: "gRPC " + st.Code().String()}
		}
		return refusal{message: st.Message(), what: "gRPC " + st.Code().String()}
	}
	return refusal{message: err.Error(), what: "error"}
}
