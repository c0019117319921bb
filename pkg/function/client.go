package function

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Client calls functions with CloudEvents over HTTP.
type Client struct {
	// HTTP sends the requests; http.DefaultClient if nil.
	HTTP *http.Client
	// Source is the source attribute of the events sent.
	Source string
	// JSON sends protobuf JSON instead of binary protobuf.
	JSON bool
	// Structured sends events in structured mode (the whole event as JSON,
	// binary data as data_base64) instead of binary mode (ce-* headers).
	Structured bool
}

// CallError is a function's refusal or failure.
type CallError struct {
	// StatusCode is the HTTP status of the reply.
	StatusCode int
	// Code and Message come from the function's dev.knobs.error event.
	Code    string
	Message string
}

func (e *CallError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("function replied %d: %s", e.StatusCode, e.Message)
	}
	return fmt.Sprintf("function replied %d %s: %s", e.StatusCode, e.Code, e.Message)
}

// Permanent reports whether the function itself refused the request as the
// caller's mistake (a dev.knobs.error of code InvalidArgument or
// ResourceExhausted), so that sending it again cannot help. Any other
// failure, a 4xx from a gateway or proxy on the way included, may pass, and
// so may a 429: the function was busy.
func (e *CallError) Permanent() bool {
	return e.StatusCode >= 400 && e.StatusCode < 500 && e.StatusCode != http.StatusTooManyRequests &&
		(e.Code == codes.InvalidArgument.String() || e.Code == codes.ResourceExhausted.String())
}

// GetSuggestions sends a dev.knobs.suggestion.request event to the function
// at url and returns its reply.
func (c *Client) GetSuggestions(ctx context.Context, url string, req *pb.GetSuggestionsRequest) (*pb.GetSuggestionsReply, error) {
	reply := &pb.GetSuggestionsReply{}
	if err := c.call(ctx, url, TypeSuggestionRequest, req.GetExperiment().GetName(), req, TypeSuggestionReply, reply); err != nil {
		return nil, err
	}
	return reply, nil
}

// ValidateAlgorithmSettings sends a dev.knobs.algorithmsettings.validate event
// to the function at url; nil means the settings are valid.
func (c *Client) ValidateAlgorithmSettings(ctx context.Context, url string, req *pb.ValidateAlgorithmSettingsRequest) error {
	return c.call(ctx, url, TypeValidateRequest, req.GetExperiment().GetName(), req, TypeValidateReply, &pb.ValidateAlgorithmSettingsReply{})
}

func (c *Client) call(ctx context.Context, url, typ, subject string, in proto.Message, wantType string, out proto.Message) error {
	ev := event.New(event.CloudEventsVersionV1)
	ev.SetID(uuid.NewString())
	ev.SetType(typ)
	ev.SetSource(c.source())
	ev.SetTime(time.Now())
	if subject != "" {
		ev.SetSubject(subject)
	}
	contentType := ContentTypeProtobuf
	if c.JSON {
		contentType = ContentTypeJSON
	}
	data, err := encode(in, contentType)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", typ, err)
	}
	ev.DataEncoded = data
	ev.SetDataContentType(contentType)
	// In structured mode binary data travels as data_base64, as the
	// CloudEvents JSON format requires; binary mode sends the bytes as they are.
	ev.DataBase64 = contentType == ContentTypeProtobuf

	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return fmt.Errorf("function URL %q: %w", url, err)
	}
	wctx := ctx
	if c.Structured {
		wctx = binding.WithForceStructured(ctx)
	}
	if err := cehttp.WriteRequest(wctx, binding.ToMessage(&ev), hreq); err != nil {
		return fmt.Errorf("encoding %s: %w", typ, err)
	}
	resp, err := c.httpClient().Do(hreq)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, DefaultMaxRequestBytes+1))
	if err != nil {
		return fmt.Errorf("reading reply: %w", err)
	}
	if len(body) > DefaultMaxRequestBytes {
		return fmt.Errorf("reply over %d bytes", DefaultMaxRequestBytes)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	rev, evErr := binding.ToEvent(ctx, cehttp.NewMessageFromHttpResponse(resp))

	if resp.StatusCode != http.StatusOK {
		ce := &CallError{StatusCode: resp.StatusCode, Message: string(bytes.TrimSpace(body))}
		if evErr == nil && rev.Type() == TypeError {
			if d, err := errorData(rev); err == nil {
				ce.Code, ce.Message = d.Code, d.Message
			}
		}
		if len(ce.Message) > 1024 {
			ce.Message = ce.Message[:1024] + "..."
		}
		return ce
	}
	if evErr != nil {
		return fmt.Errorf("reply is not a CloudEvent: %w", evErr)
	}
	if rev.Type() != wantType {
		return fmt.Errorf("reply has type %q, want %q", rev.Type(), wantType)
	}
	replyType, err := dataContentType(rev)
	if err != nil {
		return fmt.Errorf("reply: %w", err)
	}
	if err := decode(rev, replyType, out); err != nil {
		return fmt.Errorf("reply: %w", err)
	}
	return nil
}

func (c *Client) source() string {
	if c.Source != "" {
		return c.Source
	}
	return "knobs.dev/client"
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}
