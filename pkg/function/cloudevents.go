package function

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// The CloudEvent types of the function contract.
const (
	TypeSuggestionRequest = "dev.knobs.suggestion.request"
	TypeSuggestionReply   = "dev.knobs.suggestion.reply"
	TypeValidateRequest   = "dev.knobs.algorithmsettings.validate"
	TypeValidateReply     = "dev.knobs.algorithmsettings.valid"
	TypeError             = "dev.knobs.error"
)

// The data content types a function reads and writes.
const (
	ContentTypeJSON     = "application/json"
	ContentTypeProtobuf = "application/protobuf"
)

// ErrorData is the data of a dev.knobs.error event.
type ErrorData struct {
	// Code is the gRPC code name of the error, such as InvalidArgument.
	Code string `json:"code"`
	// Message says what went wrong and, for a caller's mistake, what to fix.
	Message string `json:"message"`
}

var unmarshalJSON = protojson.UnmarshalOptions{DiscardUnknown: true}

// eventHandler serves the Suggestion API as CloudEvents over HTTP, in binary
// and structured mode.
type eventHandler struct {
	// svc serves the Suggestion API and stop the EarlyStopping API; a
	// function serves one of them.
	svc      pb.SuggestionServer
	stop     pb.EarlyStoppingServer
	source   string
	maxBytes int64
	// bodyTimeout bounds the time to receive the body.
	bodyTimeout time.Duration
	admit       *admission
	log         *slog.Logger
}

func (h *eventHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ctx := r.Context()
	var in *event.Event
	code := codes.OK
	defer func() {
		if v := recover(); v != nil {
			h.log.Error("panic serving event", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			code = codes.Internal
			h.writeError(ctx, w, in, status.Error(codes.Internal, "internal error: the function failed on this request; it has been logged"))
		}
		attrs := []any{"code", code.String(), "ms", millis(time.Since(start))}
		if in != nil {
			attrs = append(attrs, "type", in.Type(), "id", in.ID(), "subject", in.Subject())
		}
		h.log.Info("event", attrs...)
	}()

	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		code = codes.Unimplemented
		h.writeError(ctx, w, nil, status.Errorf(codes.Unimplemented, "method %s: send CloudEvents with POST", r.Method))
		return
	}
	release, err := h.admit.admitEvent(r, h.maxBytes)
	if err != nil {
		code = status.Code(err)
		h.writeError(ctx, w, nil, err)
		return
	}
	defer release()
	// The body must arrive in time: a client trickling it would hold the
	// connection and its memory.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(h.bodyTimeout))
	r.Body = http.MaxBytesReader(w, r.Body, h.maxBytes)
	out, err := h.handle(ctx, r, &in)
	if err != nil {
		code = status.Code(err)
		h.writeError(ctx, w, in, err)
		return
	}
	if err := cehttp.WriteResponseWriter(ctx, binding.ToMessage(out), http.StatusOK, w); err != nil {
		h.log.Warn("writing reply", "error", err)
	}
}

// handle decodes the event, calls the service and encodes its reply. The
// event read is stored in *in for logs and error replies.
func (h *eventHandler) handle(ctx context.Context, r *http.Request, in **event.Event) (*event.Event, error) {
	ev, err := binding.ToEvent(ctx, cehttp.NewMessageFromHttpRequest(r))
	if err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			return nil, status.Errorf(codes.ResourceExhausted, "request body over %d bytes: send fewer trials, or raise the function's limit with %s (and its memory)", h.maxBytes, MaxRequestBytesEnv)
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil, status.Errorf(codes.InvalidArgument, "request body not received within %s: send it at once", h.bodyTimeout)
		case errors.Is(err, binding.ErrUnknownEncoding):
			return nil, status.Error(codes.InvalidArgument, "not a CloudEvent: send binary mode (ce-specversion, ce-type, ce-source and ce-id headers) or structured mode (Content-Type: application/cloudevents+json)")
		}
		return nil, status.Errorf(codes.InvalidArgument, "not a valid CloudEvent: %v", err)
	}
	*in = ev
	if err := ev.Validate(); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "not a valid CloudEvent: %v", err)
	}
	contentType, err := dataContentType(ev)
	if err != nil {
		return nil, err
	}

	var reply proto.Message
	var replyType string
	if err := h.serves(ev.Type()); err != nil {
		return nil, err
	}
	switch ev.Type() {
	case TypeSuggestionRequest:
		req := &pb.GetSuggestionsRequest{}
		if err := decode(ev, contentType, req); err != nil {
			return nil, err
		}
		if reply, err = h.svc.GetSuggestions(ctx, req); err != nil {
			return nil, err
		}
		replyType = TypeSuggestionReply
	case TypeValidateRequest:
		req := &pb.ValidateAlgorithmSettingsRequest{}
		if err := decode(ev, contentType, req); err != nil {
			return nil, err
		}
		if reply, err = h.svc.ValidateAlgorithmSettings(ctx, req); err != nil {
			return nil, err
		}
		replyType = TypeValidateReply
	case TypeEarlyStoppingRequest:
		req := &pb.GetEarlyStoppingDecisionsRequest{}
		if err := decode(ev, contentType, req); err != nil {
			return nil, err
		}
		if reply, err = h.stop.GetEarlyStoppingDecisions(ctx, req); err != nil {
			return nil, err
		}
		replyType = TypeEarlyStoppingReply
	case TypeEarlyStoppingValidate:
		req := &pb.ValidateEarlyStoppingSettingsRequest{}
		if err := decode(ev, contentType, req); err != nil {
			return nil, err
		}
		if reply, err = h.stop.ValidateEarlyStoppingSettings(ctx, req); err != nil {
			return nil, err
		}
		replyType = TypeEarlyStoppingValid
	}

	out := h.newEvent(ev, replyType)
	data, err := encode(reply, contentType)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "encoding reply: %v", err)
	}
	out.DataEncoded = data
	out.SetDataContentType(contentType)
	return &out, nil
}

// serves refuses an event type this function does not answer, saying which
// it does.
func (h *eventHandler) serves(typ string) error {
	var want []string
	if h.svc != nil {
		want = append(want, TypeSuggestionRequest, TypeValidateRequest)
	}
	if h.stop != nil {
		want = append(want, TypeEarlyStoppingRequest, TypeEarlyStoppingValidate)
	}
	for _, w := range want {
		if typ == w {
			return nil
		}
	}
	return status.Errorf(codes.InvalidArgument, "event type %q: send %s", typ, strings.Join(want, " or "))
}

// newEvent starts a reply to in (which may be nil when the request was not a
// CloudEvent).
func (h *eventHandler) newEvent(in *event.Event, typ string) event.Event {
	out := event.New(event.CloudEventsVersionV1)
	out.SetID(uuid.NewString())
	out.SetType(typ)
	out.SetSource(h.source)
	out.SetTime(time.Now())
	if in != nil {
		out.SetSubject(in.Subject())
		// Tie the reply to its request for tracing.
		out.SetExtension("knobsrequestid", in.ID())
	}
	return out
}

// writeError replies with a dev.knobs.error event and the HTTP status that
// matches the error's code.
func (h *eventHandler) writeError(ctx context.Context, w http.ResponseWriter, in *event.Event, err error) {
	st := status.Convert(err)
	out := h.newEvent(in, TypeError)
	_ = out.SetData(ContentTypeJSON, ErrorData{Code: st.Code().String(), Message: st.Message()})
	code := httpStatus(st.Code())
	if busy(err) {
		// Not the caller's mistake: the same request may pass in a moment.
		code = http.StatusTooManyRequests
		w.Header().Set("Retry-After", "1")
	}
	if werr := cehttp.WriteResponseWriter(ctx, binding.ToMessage(&out), code, w); werr != nil {
		h.log.Warn("writing error reply", "error", werr)
	}
}

// dataContentType returns the media type of the event's data: protobuf JSON
// when it says nothing, as the CloudEvents spec implies JSON.
func dataContentType(ev *event.Event) (string, error) {
	ct := ev.DataContentType()
	if ct == "" {
		return ContentTypeJSON, nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", status.Errorf(codes.InvalidArgument, "datacontenttype %q: %v", ct, err)
	}
	switch mt = strings.ToLower(mt); mt {
	case ContentTypeJSON, "text/json":
		return ContentTypeJSON, nil
	case ContentTypeProtobuf, "application/x-protobuf", "application/vnd.google.protobuf":
		return ContentTypeProtobuf, nil
	}
	return "", status.Errorf(codes.InvalidArgument, "datacontenttype %q: send %s (protobuf JSON) or %s (binary protobuf)", ct, ContentTypeJSON, ContentTypeProtobuf)
}

func decode(ev *event.Event, contentType string, m proto.Message) error {
	data := ev.Data()
	if len(data) == 0 && contentType == ContentTypeProtobuf {
		return nil // an empty message encodes to no bytes
	}
	if len(data) == 0 {
		return status.Errorf(codes.InvalidArgument, "event has no data: send a %s as %s", m.ProtoReflect().Descriptor().Name(), contentType)
	}
	var err error
	if contentType == ContentTypeProtobuf {
		err = proto.Unmarshal(data, m)
	} else {
		err = unmarshalJSON.Unmarshal(data, m)
	}
	// The message holds what the body said: the body (up to the limit,
	// 32 MiB) need not stay in memory while the algorithm works.
	ev.DataEncoded = nil
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "data is not a %s in %s: %v", m.ProtoReflect().Descriptor().Name(), contentType, err)
	}
	return nil
}

func encode(m proto.Message, contentType string) ([]byte, error) {
	if contentType == ContentTypeProtobuf {
		return proto.Marshal(m)
	}
	return protojson.Marshal(m)
}

// httpStatus maps a gRPC code to the HTTP status a CloudEvents caller sees:
// 4xx for the caller's mistakes, 5xx only for faults worth a retry.
func httpStatus(c codes.Code) int {
	switch c {
	case codes.OK:
		return http.StatusOK
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange:
		return http.StatusBadRequest
	case codes.NotFound:
		return http.StatusNotFound
	case codes.Unimplemented:
		return http.StatusMethodNotAllowed
	case codes.ResourceExhausted:
		return http.StatusRequestEntityTooLarge
	case codes.Canceled:
		return 499
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// errorData reads the data of a dev.knobs.error event.
func errorData(ev *event.Event) (ErrorData, error) {
	var d ErrorData
	err := json.Unmarshal(ev.Data(), &d)
	return d, err
}
