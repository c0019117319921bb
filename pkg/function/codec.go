package function

import (
	"context"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	protov2 "google.golang.org/protobuf/proto"

	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// requestCodec is gRPC's protobuf codec, except that a Suggestion request
// that does not decode is answered INVALID_ARGUMENT, as the function
// contract says, not INTERNAL. gRPC turns any codec error into INTERNAL
// before a handler or interceptor runs, so the codec keeps the error beside
// the (empty) message instead, and refuseUndecodable answers with it.
type requestCodec struct {
	encoding.CodecV2
	undecodable sync.Map // message pointer → decoding error
}

func newRequestCodec() *requestCodec {
	return &requestCodec{CodecV2: encoding.GetCodecV2(proto.Name)}
}

// Unmarshal implements encoding.CodecV2.
func (c *requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	switch v.(type) {
	case *pb.GetSuggestionsRequest, *pb.ValidateAlgorithmSettingsRequest,
		*pb.GetEarlyStoppingDecisionsRequest, *pb.ValidateEarlyStoppingSettingsRequest:
		c.undecodable.Store(v, err)
		return nil
	}
	return err
}

// refuseUndecodable answers a request the codec could not decode.
func (c *requestCodec) refuseUndecodable(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err, ok := c.undecodable.LoadAndDelete(req); ok {
		name := "message"
		if m, ok := req.(protov2.Message); ok {
			name = string(m.ProtoReflect().Descriptor().Name())
		}
		return nil, status.Errorf(codes.InvalidArgument, "the message is not a %s in binary protobuf: %v", name, err)
	}
	return handler(ctx, req)
}
