package hostile

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

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
	conn, err := grpc.NewClient(p.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(function.DefaultMaxRequestBytes)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	gc := pb.NewSuggestionClient(conn)
	ce := &function.Client{HTTP: &http.Client{}}

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
				var err error
				var reply *pb.GetSuggestionsReply
				if i%2 == 0 {
					reply, err = ce.GetSuggestions(ctx, p.URL, req)
				} else {
					reply, err = gc.GetSuggestions(ctx, req)
				}
				mu.Lock()
				tries++
				mu.Unlock()
				var callErr *function.CallError
				if (errors.As(err, &callErr) && callErr.StatusCode == http.StatusTooManyRequests) || status.Code(err) == codes.ResourceExhausted {
					mu.Lock()
					busy++
					mu.Unlock()
					time.Sleep(100 * time.Millisecond)
					continue
				}
				if err == nil && len(reply.GetParameterAssignments()) != 3 {
					err = fmt.Errorf("%d assignments, want 3", len(reply.GetParameterAssignments()))
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
