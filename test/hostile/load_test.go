package hostile

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"knobs.dev/knobs/pkg/function"
	pb "knobs.dev/knobs/pkg/suggestionpb"
	"knobs.dev/knobs/test/fnproc"
)

// containerLimit is the memory limit of a function's container
// (config/600-function-*.yaml): past it the pod is killed.
const containerLimit = 256 << 20

// bigRequest is a request with n completed trials: about 136 bytes of
// binary protobuf each.
func bigRequest(n int) *pb.GetSuggestionsRequest {
	req := &pb.GetSuggestionsRequest{Experiment: experiment(), RequestNumber: 3}
	for i := range n {
		req.Trials = append(req.Trials, &pb.Trial{
			Name: fmt.Sprintf("load-%06d", i),
			Spec: &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: []*pb.ParameterAssignment{
				{Name: "--lr", Value: strconv.FormatFloat(0.01+0.02*float64(i%9973)/9973, 'f', -1, 64)},
				{Name: "--num-layers", Value: strconv.Itoa(2 + i%4)},
				{Name: "--optimizer", Value: []string{"sgd", "adam", "ftrl"}[i%3]},
			}}},
			Status: &pb.TrialStatus{
				Condition:   pb.TrialCondition_SUCCEEDED,
				Observation: &pb.Observation{Metrics: []*pb.Metric{{Name: "accuracy", Value: strconv.FormatFloat(float64(i%100)/100, 'f', -1, 64)}}},
			},
		})
	}
	return req
}

// Many large requests at once, over both transports, against a function
// with the memory limit of its pod: each is answered (a busy one is sent
// again, as the controller does), and the process's peak resident memory
// stays under the container's limit.
func TestConcurrentBigBodies(t *testing.T) {
	const (
		trials  = 40000 // about 4.5 MB of protobuf a request
		callers = 12    // half CloudEvents, half gRPC
	)
	p := startRandom(t)
	req := bigRequest(trials)
	data, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(p.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(function.DefaultMaxRequestBytes), grpc.ForceCodec(encoded{})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	// call sends the request once, encoded beforehand, and returns the
	// reply's count of assignments, or whether the function was busy.
	call := func(ctx context.Context, overGRPC bool) (int, bool, error) {
		reply := &pb.GetSuggestionsReply{}
		if overGRPC {
			err := conn.Invoke(ctx, methodGet, data, reply)
			if status.Code(err) == codes.ResourceExhausted {
				return 0, true, nil
			}
			return len(reply.GetParameterAssignments()), false, err
		}
		hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(data))
		if err != nil {
			return 0, false, err
		}
		hreq.Header = http.Header{"Ce-Specversion": {"1.0"}, "Ce-Id": {"load"}, "Ce-Source": {"hostile"},
			"Ce-Type": {function.TypeSuggestionRequest}, "Content-Type": {function.ContentTypeProtobuf}}
		resp, err := http.DefaultClient.Do(hreq)
		if err != nil {
			return 0, false, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, false, err
		}
		switch resp.StatusCode {
		case http.StatusTooManyRequests:
			return 0, true, nil
		case http.StatusOK:
			err := proto.Unmarshal(body, reply)
			return len(reply.GetParameterAssignments()), false, err
		}
		return 0, false, fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var (
		mu          sync.Mutex
		busy, tries int
		wg          sync.WaitGroup
	)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			for ctx.Err() == nil {
				n, wasBusy, err := call(ctx, i%2 == 1)
				mu.Lock()
				tries++
				if wasBusy {
					busy++
				}
				mu.Unlock()
				if wasBusy {
					time.Sleep(100 * time.Millisecond)
					continue
				}
				if err == nil && n != 3 {
					err = fmt.Errorf("%d assignments, want 3", n)
				}
				errs[i] = err
				return
			}
			errs[i] = ctx.Err()
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("caller %d: %v", i, err)
		}
	}
	p.Alive(t)
	peak, err := fnproc.PeakRSS(p.Cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d requests of %d bytes from %d callers: %d answered busy; peak RSS %d MiB", tries, protoSize(req), callers, busy, peak>>20)
	if peak > containerLimit {
		t.Errorf("peak RSS %d MiB, over the container's limit of %d MiB", peak>>20, containerLimit>>20)
	}
}

// encoded is gRPC's protobuf codec for a message encoded beforehand, sent
// as its bytes.
type encoded struct{}

func (encoded) Marshal(v any) ([]byte, error) {
	if b, ok := v.([]byte); ok {
		return b, nil
	}
	return proto.Marshal(v.(proto.Message))
}
func (encoded) Unmarshal(b []byte, v any) error { return proto.Unmarshal(b, v.(proto.Message)) }
func (encoded) Name() string                    { return "proto" }

// bodySent reports on sent when its reader has given all of it.
type bodySent struct {
	r    io.Reader
	sent chan struct{}
	once sync.Once
}

func (b *bodySent) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.once.Do(func() { close(b.sent) })
	}
	return n, err
}

// A caller that hangs up once its request is sent, while the function reads
// a long history, stops the work: the function answers it Canceled. The
// processor time the function spent after the caller left is reported.
func TestClientDisconnect(t *testing.T) {
	p := startRandom(t)
	data, err := proto.Marshal(bigRequest(100000))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	body := &bodySent{r: bytes.NewReader(data), sent: make(chan struct{})}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(data))
	req.Header = http.Header{"Ce-Specversion": {"1.0"}, "Ce-Id": {"disconnect-1"}, "Ce-Source": {"hostile"},
		"Ce-Type": {function.TypeSuggestionRequest}, "Content-Type": {function.ContentTypeProtobuf}}
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-body.sent
	// Let the function start on the history before hanging up.
	time.Sleep(200 * time.Millisecond)
	before, err := fnproc.CPUTime(p.Cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the call ended before the caller hung up: the history is too short to test this")
	}
	p.WaitLogged(t, "disconnect-1", "Canceled")
	after, err := fnproc.CPUTime(p.Cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	p.Alive(t)
	t.Logf("a request of %d bytes: %s of processor time after the caller hung up", len(data), after-before)
}

// A history of 100,000 trials of 20 doubles: in trials it is over a
// function's limit and refused; in columns, as the controller sends it, it
// is half the limit, and the function answers it with its peak resident
// memory under the container's limit.
func TestHundredThousandTrialsInColumns(t *testing.T) {
	const trials, dims = 100000, 20
	exp := experiment()
	var specs []*pb.ParameterSpec
	for j := range dims {
		specs = append(specs, &pb.ParameterSpec{Name: fmt.Sprintf("x%d", j+1), ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: "-5", Max: "10"}})
	}
	exp.ExperimentSpec.ParameterSpecs.Parameters = specs
	rng := rand.New(rand.NewPCG(1, 2))
	h := &pb.TrialColumns{NamePrefix: "big-", NameFirst: 1}
	for range dims {
		col := &pb.ParameterColumn{Format: pb.NumberFormat_SHORTEST, Doubles: make([]float64, trials)}
		for k := range col.Doubles {
			col.Doubles[k] = -5 + 15*rng.Float64()
		}
		h.Parameters = append(h.Parameters, col)
	}
	acc := &pb.MetricColumn{Name: "accuracy", Format: pb.NumberFormat_SHORTEST, Values: make([]float64, trials)}
	for k := range acc.Values {
		acc.Values[k] = rng.Float64()
	}
	h.Metrics = []*pb.MetricColumn{acc}
	h.Conditions = make([]pb.TrialCondition, trials)
	for k := range h.Conditions {
		h.Conditions[k] = pb.TrialCondition_SUCCEEDED
	}
	columns := &pb.GetSuggestionsRequest{Experiment: exp, History: h, RequestNumber: 3}
	plain, err := function.ExpandHistory(specs, h)
	if err != nil {
		t.Fatal(err)
	}

	p := startRandom(t)
	post := func(req *pb.GetSuggestionsRequest) (int, []byte, int) { return postRequest(t, p.URL, req) }
	code, body, n := post(columns)
	reply := &pb.GetSuggestionsReply{}
	if code != http.StatusOK || proto.Unmarshal(body, reply) != nil || len(reply.GetParameterAssignments()) != 3 {
		t.Fatalf("%d bytes in columns: status %d: %s", n, code, body)
	}
	if 2*n > function.DefaultMaxRequestBytes+function.DefaultMaxRequestBytes/50 {
		t.Errorf("%d bytes in columns; want about half the limit of %d at most", n, function.DefaultMaxRequestBytes)
	}
	p.Alive(t)
	peak, err := fnproc.PeakRSS(p.Cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d trials of %d doubles: %d bytes in columns; peak RSS %d MiB", trials, dims, n, peak>>20)
	if peak > containerLimit {
		t.Errorf("peak RSS %d MiB, over the container's limit of %d MiB", peak>>20, containerLimit>>20)
	}
	if code, body, n := post(&pb.GetSuggestionsRequest{Experiment: exp, Trials: plain, RequestNumber: 3}); code != http.StatusRequestEntityTooLarge {
		t.Errorf("%d bytes in trials: status %d, want 413: %s", n, code, body)
	}
}

// postRequest sends req to the function at url as a binary CloudEvent and
// returns the status, the body and the size of the request.
func postRequest(t *testing.T, url string, req *pb.GetSuggestionsRequest) (int, []byte, int) {
	t.Helper()
	data, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	hreq, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	hreq.Header = http.Header{"Ce-Specversion": {"1.0"}, "Ce-Id": {"big"}, "Ce-Source": {"hostile"},
		"Ce-Type": {function.TypeSuggestionRequest}, "Content-Type": {function.ContentTypeProtobuf}}
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body, len(data)
}

// A function's limit on a request is set by KNOBS_MAX_REQUEST_BYTES, both
// ways, and a value it cannot read stops it at once with a message saying
// what to write.
func TestRequestLimitFromEnvironment(t *testing.T) {
	req := bigRequest(10000) // about 1.3 MiB
	t.Setenv(function.MaxRequestBytesEnv, "1Mi")
	small := startRandom(t)
	code, body, n := postRequest(t, small.URL, req)
	if code != http.StatusRequestEntityTooLarge || !bytes.Contains(body, []byte("request body over 1048576 bytes")) || !bytes.Contains(body, []byte(function.MaxRequestBytesEnv)) {
		t.Errorf("%d bytes to a function limited to 1Mi: status %d: %s; want 413 naming the limit and %s", n, code, body, function.MaxRequestBytesEnv)
	}
	small.Alive(t)

	t.Setenv(function.MaxRequestBytesEnv, "2Mi")
	large := startRandom(t)
	code, body, n = postRequest(t, large.URL, req)
	reply := &pb.GetSuggestionsReply{}
	if code != http.StatusOK || proto.Unmarshal(body, reply) != nil || len(reply.GetParameterAssignments()) != 3 {
		t.Errorf("%d bytes to a function limited to 2Mi: status %d: %s; want 3 assignments", n, code, body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "random"))
	cmd.Env = append(os.Environ(), function.MaxRequestBytesEnv+"=64MB", "PORT="+fnproc.FreePort(t))
	out, err := cmd.CombinedOutput()
	if err == nil || !bytes.Contains(out, []byte(`KNOBS_MAX_REQUEST_BYTES=\"64MB\": want a size in bytes`)) {
		t.Errorf("64MB: %v: %s; want the function to stop, saying what to write", err, out)
	}
}
