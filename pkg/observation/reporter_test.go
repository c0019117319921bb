package observation

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/client/clientset/versioned/fake"
)

func TestNewReporterFromEnv(t *testing.T) {
	full := map[string]string{
		EnvSink:           "http://knobs-observations.knobs-system.svc/namespaces/team-a",
		EnvTrialName:      "t1",
		EnvToken:          "secret",
		EnvTrialNamespace: "team-a",
	}
	tests := []struct {
		name    string
		unset   string
		set     map[string]string
		want    *Reporter
		wantErr string
	}{{
		name: "all set",
		want: &Reporter{Sink: full[EnvSink], Name: "t1", Token: "secret", Namespace: "team-a"},
	}, {
		name:  "namespace from the sink",
		unset: EnvTrialNamespace,
		want:  &Reporter{Sink: full[EnvSink], Name: "t1", Token: "secret", Namespace: "team-a"},
	}, {
		name:    "no namespace anywhere",
		unset:   EnvTrialNamespace,
		set:     map[string]string{EnvSink: "http://example.com/observations"},
		wantErr: EnvTrialNamespace + " is not set",
	}, {
		name: "sink not a URL", set: map[string]string{EnvSink: "knobs-observations:8080"},
		wantErr: `environment variable K_SINK is "knobs-observations:8080"; want an http or https URL`,
	}, {
		name: "no sink", unset: EnvSink, wantErr: "environment variable K_SINK is not set",
	}, {
		name: "no name", unset: EnvTrialName, wantErr: "environment variable KNOBS_TRIAL_NAME is not set",
	}, {
		name: "no token", unset: EnvToken, wantErr: "environment variable KNOBS_TRIAL_TOKEN is not set",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range full {
				if k == tc.unset {
					v = ""
				}
				if s, ok := tc.set[k]; ok {
					v = s
				}
				t.Setenv(k, v)
			}
			got, err := NewReporterFromEnv()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("NewReporterFromEnv() = %+v, %v; want error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Reporter (-want, +got):\n%s", d)
			}
		})
	}
}

// TestReporterEndToEnd reports with a Reporter to a Receiver over a real
// socket, as a trial's workload does.
func TestReporterEndToEnd(t *testing.T) {
	s := newServer(t, fake.NewSimpleClientset(newTrial("t1")))
	t.Setenv(EnvSink, s.sink())
	t.Setenv(EnvTrialName, "t1")
	t.Setenv(EnvToken, tokenFor(newTrial("t1")))
	t.Setenv(EnvTrialNamespace, testNS)
	r, err := NewReporterFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for epoch, loss := range []float64{0.9, 0.4, 0.6} {
		if err := r.Report(ctx, map[string]float64{"loss": loss, "accuracy": 1 - loss, "lr": 0.01}, ptr.To(int64(epoch))); err != nil {
			t.Fatalf("Report(epoch %d) = %v", epoch, err)
		}
	}
	want := &v1alpha1.Observation{
		Metrics: []v1alpha1.Metric{
			{Name: "loss", Value: "0.4", Min: "0.4", Max: "0.9", Latest: "0.6",
				Curve: []v1alpha1.CurvePoint{{Step: 0, Value: "0.9"}, {Step: 1, Value: "0.4"}, {Step: 2, Value: "0.6"}}},
			{Name: "accuracy", Value: "0.4", Min: "0.09999999999999998", Max: "0.6", Latest: "0.4",
				Curve: []v1alpha1.CurvePoint{{Step: 0, Value: "0.09999999999999998"}, {Step: 1, Value: "0.6"}, {Step: 2, Value: "0.4"}}},
		},
		Step:    ptr.To[int64](2),
		Reports: 3,
	}
	if d := cmp.Diff(want, s.getTrial(t, "t1").Status.Observation); d != "" {
		t.Errorf("observation (-want, +got):\n%s", d)
	}

	// The receiver's refusals come back with their status and message.
	wrong := *r
	wrong.Token = "not-the-token"
	err = wrong.Report(ctx, map[string]float64{"loss": 0.1}, nil)
	var re *ReportError
	if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden || !strings.Contains(err.Error(), "the token is not valid for trial team-a/t1") {
		t.Errorf("Report with a wrong token = %v; want a 403 ReportError with the receiver's message", err)
	}
	err = r.Report(ctx, map[string]float64{"val_loss": 0.1}, nil)
	if !errors.As(err, &re) || re.StatusCode != http.StatusBadRequest || !strings.Contains(err.Error(), `report one of: "loss", "accuracy"`) {
		t.Errorf("Report of unknown metrics = %v; want a 400 ReportError naming the known metrics", err)
	}
	if got := s.getTrial(t, "t1").Status.Observation.Reports; got != 3 {
		t.Errorf("Reports = %d after refused reports, want 3", got)
	}
}

// recorder answers with the given codes in turn (then 202) and records
// what it received.
type recorder struct {
	mu      sync.Mutex
	codes   []int
	headers []http.Header
	bodies  []string
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := len(rec.headers)
	rec.headers = append(rec.headers, r.Header.Clone())
	rec.bodies = append(rec.bodies, string(b))
	if n < len(rec.codes) {
		http.Error(w, "answer "+http.StatusText(rec.codes[n]), rec.codes[n])
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (rec *recorder) requests() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.headers)
}

func testReporter(sink string) *Reporter {
	return &Reporter{Sink: sink, Namespace: testNS, Name: "t1", Token: "tok", Backoff: time.Millisecond}
}

func TestReporterSendsBinaryCloudEvents(t *testing.T) {
	rec := &recorder{}
	r := testReporter(httptestServer(t, rec) + "/namespaces/" + testNS)
	for range 2 {
		if err := r.Report(context.Background(), map[string]float64{"loss": 0.5}, ptr.To[int64](1<<40)); err != nil {
			t.Fatal(err)
		}
	}
	h := rec.headers[0]
	for k, want := range map[string]string{
		"Ce-Specversion": "1.0",
		"Ce-Type":        EventType,
		"Ce-Source":      "knobs.dev/trial/team-a/t1",
		"Ce-Subject":     "t1",
		"Ce-Step":        "1099511627776",
		"Content-Type":   "application/json",
		TokenHeader:      "Bearer tok",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if h.Get("Ce-Id") == "" || h.Get("Ce-Id") == rec.headers[1].Get("Ce-Id") {
		t.Errorf("ids %q and %q: want unique ids", h.Get("Ce-Id"), rec.headers[1].Get("Ce-Id"))
	}
	if h.Get("Ce-Time") == "" {
		t.Error("no ce-time")
	}
	if got, err := ParseData([]byte(rec.bodies[0])); err != nil || got["loss"] != 0.5 {
		t.Errorf("body %q parses to %v, %v", rec.bodies[0], got, err)
	}
}

func TestReporterRetries(t *testing.T) {
	tests := []struct {
		name         string
		codes        []int
		attempts     int
		wantRequests int
		wantStatus   int // of the ReportError; 0: success
	}{
		{name: "503 then accepted", codes: []int{503, 503}, wantRequests: 3},
		{name: "502 and 504 are retried", codes: []int{502, 504}, wantRequests: 3},
		{name: "503 until attempts run out", codes: []int{503, 503, 503, 503}, attempts: 3, wantRequests: 3, wantStatus: 503},
		{name: "400 is not retried", codes: []int{400}, wantRequests: 1, wantStatus: 400},
		{name: "401 is not retried", codes: []int{401}, wantRequests: 1, wantStatus: 401},
		{name: "403 is not retried", codes: []int{403}, wantRequests: 1, wantStatus: 403},
		{name: "409 is not retried", codes: []int{409}, wantRequests: 1, wantStatus: 409},
		{name: "500 is not retried", codes: []int{500}, wantRequests: 1, wantStatus: 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{codes: tc.codes}
			r := testReporter(httptestServer(t, rec) + "/namespaces/" + testNS)
			r.Attempts = tc.attempts
			err := r.Report(context.Background(), map[string]float64{"loss": 0.5}, nil)
			if n := rec.requests(); n != tc.wantRequests {
				t.Errorf("%d requests, want %d", n, tc.wantRequests)
			}
			if tc.wantStatus == 0 {
				if err != nil {
					t.Errorf("Report() = %v", err)
				}
				return
			}
			var re *ReportError
			if !errors.As(err, &re) || re.StatusCode != tc.wantStatus || !strings.Contains(err.Error(), "answer "+http.StatusText(tc.wantStatus)) {
				t.Errorf("Report() = %v; want a ReportError with status %d and the receiver's message", err, tc.wantStatus)
			}
		})
	}
}

func TestReporterConnectionErrors(t *testing.T) {
	s := httptest.NewServer(http.NotFoundHandler())
	url := s.URL
	s.Close() // nothing listens there any more

	var dials atomic.Int32
	r := testReporter(url + "/namespaces/" + testNS)
	r.Attempts = 4
	r.HTTPClient = &http.Client{Transport: countingTransport{&dials}}
	err := r.Report(context.Background(), map[string]float64{"loss": 0.5}, nil)
	if err == nil || !strings.Contains(err.Error(), "reporting to "+url) {
		t.Errorf("Report() = %v, want an error naming the sink", err)
	}
	if n := dials.Load(); n != 4 {
		t.Errorf("%d attempts, want 4", n)
	}

	// A cancelled context ends the retries.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r.Backoff = time.Hour
	dials.Store(0)
	if err := r.Report(ctx, map[string]float64{"loss": 0.5}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Report(cancelled) = %v, want context.Canceled", err)
	}
	if n := dials.Load(); n > 1 {
		t.Errorf("%d attempts with a cancelled context, want at most 1", n)
	}
}

type countingTransport struct{ n *atomic.Int32 }

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func TestReporterRejectsBadMetrics(t *testing.T) {
	rec := &recorder{}
	r := testReporter(httptestServer(t, rec))
	for _, m := range []map[string]float64{nil, {"loss": math.NaN()}, {"loss": math.Inf(1)}} {
		if err := r.Report(context.Background(), m, nil); err == nil {
			t.Errorf("Report(%v) = nil, want an error", m)
		}
	}
	if n := rec.requests(); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}
