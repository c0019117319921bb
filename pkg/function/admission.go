package function

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Admission by memory: a function takes a request only when the memory it
// is reckoned to need fits beside the requests in flight, so that a burst
// of large requests is answered "busy" (HTTP 429, gRPC RESOURCE_EXHAUSTED),
// which a caller retries, rather than the process being killed for its
// memory.
const (
	// DefaultAdmissionWait is how long a request that does not fit waits for
	// others to finish before it is answered busy.
	DefaultAdmissionWait = 2 * time.Second
	// memoryPerRequestByte is the memory a request holds at once per byte
	// of its body: the body, the decoded messages, the parsed trials and the
	// algorithm's work. Random search at 60,000 trials (8 MB of binary
	// protobuf) peaks at 170 MiB of resident memory alone, twice what is live
	// at once under Go's default GC pacing (test/hostile).
	memoryPerRequestByte = 12
	// memoryPerRequest is the memory of a request whatever its body.
	memoryPerRequest = 256 << 10
)

// requestMemory reckons the memory a request with a body of n bytes takes.
func requestMemory(n int64) int64 { return n*memoryPerRequestByte + memoryPerRequest }

// defaultMemoryBudget is two thirds of GOMEMLIMIT, the rest left to the
// runtime, the server and the garbage not yet collected: as what is live
// nears the limit, the collector runs ever more often and past it the
// container is killed. 0, no bound, when no limit is set.
func defaultMemoryBudget() int64 {
	limit := debug.SetMemoryLimit(-1)
	if limit <= 0 || limit == math.MaxInt64 {
		return 0
	}
	return limit / 3 * 2
}

// admission holds the memory reckoned for the requests in flight within a
// budget.
type admission struct {
	budget int64 // 0: no bound
	wait   time.Duration

	mu    sync.Mutex
	inUse int64
	freed chan struct{} // closed, and replaced, when memory is released
}

func newAdmission(budget int64, wait time.Duration) *admission {
	switch {
	case budget == 0:
		budget = defaultMemoryBudget()
	case budget < 0:
		budget = 0
	}
	if wait <= 0 {
		wait = DefaultAdmissionWait
	}
	return &admission{budget: budget, wait: wait, freed: make(chan struct{})}
}

// admit takes memory for a request, waiting up to a.wait for it; the
// returned func gives it back. A request that needs more than the whole
// budget is taken alone. It fails with RESOURCE_EXHAUSTED when the memory
// is not freed in time, or with ctx's error when the caller leaves.
func (a *admission) admit(ctx context.Context, memory int64) (func(), error) {
	if a.budget == 0 {
		return func() {}, nil
	}
	memory = min(memory, a.budget)
	timer := time.NewTimer(a.wait)
	defer timer.Stop()
	for {
		a.mu.Lock()
		if a.inUse+memory <= a.budget {
			a.inUse += memory
			a.mu.Unlock()
			var once sync.Once
			return func() { once.Do(func() { a.release(memory) }) }, nil
		}
		freed, inUse := a.freed, a.inUse
		a.mu.Unlock()
		select {
		case <-freed:
		case <-timer.C:
			return nil, &busyError{need: memory, inUse: inUse, budget: a.budget}
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
}

func (a *admission) release(memory int64) {
	a.mu.Lock()
	a.inUse -= memory
	close(a.freed)
	a.freed = make(chan struct{})
	a.mu.Unlock()
}

func mib(n int64) int64 { return (n + 1<<20 - 1) >> 20 }

// busyError is admission's refusal: RESOURCE_EXHAUSTED over gRPC, 429 over
// HTTP, which a caller retries.
type busyError struct{ need, inUse, budget int64 }

func (e *busyError) Error() string {
	return fmt.Sprintf("the function is busy: this request needs about %d MiB and requests in flight hold %d of its %d MiB; send it again in a moment",
		mib(e.need), mib(e.inUse), mib(e.budget))
}

// GRPCStatus makes the error a gRPC status.
func (e *busyError) GRPCStatus() *status.Status {
	return status.New(codes.ResourceExhausted, e.Error())
}

// busy reports whether err is admission's refusal.
func busy(err error) bool {
	var be *busyError
	return errors.As(err, &be)
}

// admitEvent admits a CloudEvent by its declared length; one of unknown
// length may be as long as the limit.
func (a *admission) admitEvent(r *http.Request, maxBytes int64) (func(), error) {
	n := r.ContentLength
	if n < 0 || n > maxBytes {
		n = maxBytes
	}
	return a.admit(r.Context(), requestMemory(n))
}

// admitGRPC admits a call of a function's API by the length its message
// declares in its 5-byte prefix, and reads the message before gRPC does, so
// that a body that ends early is answered INVALID_ARGUMENT, the caller's
// mistake (gRPC itself answers INTERNAL). A message over maxBytes, or
// compressed, is reckoned at maxBytes and left to gRPC, which bounds it. A
// call refused is answered here, with a status and no message.
func (a *admission) admitGRPC(w http.ResponseWriter, r *http.Request, maxBytes int64, bodyTimeout time.Duration) (func(), bool) {
	// The APIs of Knobs' functions, not gRPC's health and reflection.
	if !strings.HasPrefix(r.URL.Path, "/api.v1.alpha3.") {
		return func() {}, true
	}
	refuse := func(format string, args ...any) (func(), bool) {
		writeGRPCStatus(w, status.Newf(codes.InvalidArgument, format, args...))
		return nil, false
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(bodyTimeout))
	var prefix [5]byte
	if read, err := io.ReadFull(r.Body, prefix[:]); err != nil {
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			return refuse("request message not received within %s: send it at once", bodyTimeout)
		case read == 0:
			return refuse("the call has no request message: send one %s", r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:])
		}
		return refuse("the request body ends after %d bytes, within the 5-byte prefix of a gRPC message", read)
	}
	n := int64(binary.BigEndian.Uint32(prefix[1:]))
	compressed := prefix[0] != 0
	if enc := r.Header.Get("Grpc-Encoding"); compressed && (enc == "" || enc == "identity") {
		return refuse("the message is marked compressed, but header grpc-encoding names no compressor")
	}
	whole := !compressed && n <= maxBytes
	if !whole {
		n = maxBytes
	}
	release, err := a.admit(r.Context(), requestMemory(n))
	if err != nil {
		writeGRPCStatus(w, status.Convert(err))
		return nil, false
	}
	if !whole {
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(prefix[:]), r.Body), r.Body}
		return release, true
	}
	msg := make([]byte, 5+n)
	copy(msg, prefix[:])
	if read, err := io.ReadFull(r.Body, msg[5:]); err != nil {
		release()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return refuse("request message not received within %s: send it at once", bodyTimeout)
		}
		return refuse("the request body ends after %d of the %d bytes its message's prefix declares", read, n)
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(msg), r.Body), r.Body}
	return release, true
}

// writeGRPCStatus answers a gRPC call with a status alone (gRPC's
// Trailers-Only response).
func writeGRPCStatus(w http.ResponseWriter, st *status.Status) {
	h := w.Header()
	h.Set("Content-Type", "application/grpc")
	h.Set("Grpc-Status", strconv.Itoa(int(st.Code())))
	h.Set("Grpc-Message", grpcMessage(st.Message()))
	w.WriteHeader(http.StatusOK)
}

// grpcMessage percent-encodes a status message as gRPC's Grpc-Message
// header carries it: printable ASCII but %, and %XX for every other byte.
func grpcMessage(msg string) string {
	var b strings.Builder
	for i := range len(msg) {
		c := msg[i]
		if c >= 0x20 && c <= 0x7e && c != '%' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
