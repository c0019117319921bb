package function

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// A request that does not fit beside those in flight waits, then is
// answered busy over both transports, as a caller's retry; once memory is
// freed the same request passes.
func TestAdmissionByMemory(t *testing.T) {
	body := mustProto(t, seedRequest(3))
	started, release := make(chan struct{}), make(chan struct{})
	// Room for one request of this size at a time.
	s := serve(t, faulty{mode: "held", started: started, release: release},
		Options{MemoryBudget: requestMemory(int64(len(body))) + 1, AdmissionWait: 50 * time.Millisecond})

	first := make(chan error, 1)
	go func() {
		_, err := (&Client{}).GetSuggestions(context.Background(), s.url, seedRequest(3))
		first <- err
	}()
	<-started

	resp, reply := post(t, s.url, TypeSuggestionRequest, ContentTypeProtobuf, body)
	var d ErrorData
	if err := json.Unmarshal(reply, &d); err != nil {
		t.Fatalf("busy reply %s: %v", reply, err)
	}
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" ||
		d.Code != codes.ResourceExhausted.String() || !strings.HasPrefix(d.Message, "the function is busy: this request needs about 1 MiB") {
		t.Errorf("CloudEvents while busy: %d (Retry-After %q) %+v, want 429 ResourceExhausted, the function is busy", resp.StatusCode, resp.Header.Get("Retry-After"), d)
	}
	_, err := (&Client{}).GetSuggestions(context.Background(), s.url, seedRequest(3))
	if ce := (*CallError)(nil); !errors.As(err, &ce) || ce.Permanent() {
		t.Errorf("Client while busy: %v, want a CallError that is not permanent", err)
	}
	_, err = pb.NewSuggestionClient(grpcClient(t, s.addr)).GetSuggestions(context.Background(), seedRequest(3))
	if st := status.Convert(err); st.Code() != codes.ResourceExhausted || !strings.HasPrefix(st.Message(), "the function is busy: ") {
		t.Errorf("gRPC while busy: %v, want ResourceExhausted, the function is busy", err)
	}
	// Health checks are not held back.
	if resp, _ := do(t, mustRequest(t, http.MethodGet, s.url+"/healthz")); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz while busy: %d", resp.StatusCode)
	}

	close(release)
	if err := <-first; err != nil {
		t.Fatalf("the request in flight: %v", err)
	}
	if resp, reply := post(t, s.url, TypeSuggestionRequest, ContentTypeProtobuf, body); resp.StatusCode != http.StatusOK {
		t.Errorf("CloudEvents once free: %d %s", resp.StatusCode, reply)
	}
	if _, err := pb.NewSuggestionClient(grpcClient(t, s.addr)).GetSuggestions(context.Background(), seedRequest(3)); err != nil {
		t.Errorf("gRPC once free: %v", err)
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The budget is taken and given back exactly; a request larger than the
// budget is taken alone; a caller that leaves stops waiting.
func TestAdmissionBudget(t *testing.T) {
	a := newAdmission(100, 20*time.Millisecond)
	ctx := context.Background()
	r1, err := a.admit(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.admit(ctx, 50); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("admit(50) beside 60 of 100 = %v, want ResourceExhausted", err)
	}
	r2, err := a.admit(ctx, 40)
	if err != nil {
		t.Fatalf("admit(40) beside 60 of 100 = %v", err)
	}
	r1()
	r1() // twice gives back once
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := a.admit(cctx, 1000); status.Code(err) != codes.Canceled {
		t.Fatalf("admit(1000) of a caller gone = %v, want Canceled", err)
	}
	a.wait = time.Minute // only r2 frees the memory
	waited := make(chan error, 1)
	go func() {
		r, err := a.admit(ctx, 1000)
		if err == nil {
			r()
		}
		waited <- err
	}()
	r2()
	if err := <-waited; err != nil {
		t.Fatalf("admit(1000) once all was free = %v", err)
	}
	if a.inUse != 0 {
		t.Errorf("in use %d after every release, want 0", a.inUse)
	}
	if none := newAdmission(-1, 0); none.budget != 0 {
		t.Errorf("newAdmission(-1) has a budget of %d, want none", none.budget)
	}
}
