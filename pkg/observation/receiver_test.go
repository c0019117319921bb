package observation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	clientgotesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
	logtesting "knative.dev/pkg/logging/testing"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/client/clientset/versioned/fake"
	listers "knobs.dev/knobs/pkg/client/listers/tuning/v1alpha1"
)

var trialsResource = schema.GroupResource{Group: "tuning.knobs.dev", Resource: "trials"}

// TestReceiverCloudEvents sends real CloudEvents with sdk-go's client, in
// binary and in structured mode, over a real socket.
func TestReceiverCloudEvents(t *testing.T) {
	t1 := newTrial("t1")
	good := func() cloudevents.Event { return observationEvent("t1", `{"loss": 0.5, "accuracy": "0.75"}`) }
	withData := func(data string) func() cloudevents.Event {
		return func() cloudevents.Event { return observationEvent("t1", data) }
	}
	goodMetrics := func(step int64) []v1alpha1.Metric {
		return []v1alpha1.Metric{
			{Name: "loss", Value: "0.5", Min: "0.5", Max: "0.5", Latest: "0.5", Curve: []v1alpha1.CurvePoint{{Step: step, Value: "0.5"}}},
			{Name: "accuracy", Value: "0.75", Min: "0.75", Max: "0.75", Latest: "0.75", Curve: []v1alpha1.CurvePoint{{Step: step, Value: "0.75"}}},
		}
	}
	goodObs := &v1alpha1.Observation{Metrics: goodMetrics(1), Reports: 1} // without a step: the report's number

	tests := []struct {
		name   string
		trials []*v1alpha1.Trial
		event  func() cloudevents.Event
		header http.Header // nil: the trial's token as a bearer token
		noAuth bool        // send no Authorization header at all

		wantCode int
		wantMsg  string
		wantObs  *v1alpha1.Observation // t1's observation after a 202
	}{{
		name:     "accepted",
		event:    good,
		wantCode: http.StatusAccepted,
		wantObs:  goodObs,
	}, {
		name: "accepted with step",
		event: func() cloudevents.Event {
			ev := good()
			ev.SetExtension(StepExtension, 7)
			return ev
		},
		wantCode: http.StatusAccepted,
		wantObs:  &v1alpha1.Observation{Metrics: goodMetrics(7), Step: ptr.To[int64](7), Reports: 1},
	}, {
		name: "token as extension attribute, as the cloudevents CLI sends it",
		event: func() cloudevents.Event {
			ev := good()
			ev.SetExtension(TokenExtension, tokenFor(t1))
			return ev
		},
		noAuth:   true,
		wantCode: http.StatusAccepted,
		wantObs:  goodObs,
	}, {
		name:     "unknown metrics beside known ones are ignored",
		event:    withData(`{"loss": 0.5, "accuracy": 0.75, "learning_rate": 0.01}`),
		wantCode: http.StatusAccepted,
		wantObs:  goodObs,
	}, {
		name: "wrong event type",
		event: func() cloudevents.Event {
			ev := good()
			ev.SetType("dev.knobs.suggestion.request")
			return ev
		},
		wantCode: http.StatusBadRequest,
		wantMsg:  `observations must have type "dev.knobs.trial.observation"`,
	}, {
		name: "no subject",
		event: func() cloudevents.Event {
			ev := good()
			ev.SetSubject("")
			return ev
		},
		wantCode: http.StatusBadRequest,
		wantMsg:  "the event has no subject",
	}, {
		name: "subject is not a name",
		event: func() cloudevents.Event {
			ev := good()
			ev.SetSubject("../t1")
			return ev
		},
		wantCode: http.StatusBadRequest,
		wantMsg:  `subject "../t1" is not a trial name`,
	}, {
		name: "no data",
		event: func() cloudevents.Event {
			ev := good()
			ev.DataEncoded = nil
			return ev
		},
		wantCode: http.StatusBadRequest,
		wantMsg:  "no data",
	}, {
		name:     "data is not an object",
		event:    withData(`[0.5]`),
		wantCode: http.StatusBadRequest,
		wantMsg:  "data is a JSON array",
	}, {
		name:     "data is an empty object",
		event:    withData(`{}`),
		wantCode: http.StatusBadRequest,
		wantMsg:  "data is an empty object",
	}, {
		name:     "nested object",
		event:    withData(`{"loss": {"value": 0.5}}`),
		wantCode: http.StatusBadRequest,
		wantMsg:  `metric "loss": is a nested object or array`,
	}, {
		name:     "NaN",
		event:    withData(`{"loss": "NaN"}`),
		wantCode: http.StatusBadRequest,
		wantMsg:  `metric "loss" is NaN`,
	}, {
		name:     "only metrics the experiment does not know",
		event:    withData(`{"val_loss": 0.5}`),
		wantCode: http.StatusBadRequest,
		wantMsg:  `none of the reported metrics ("val_loss") is a metric of the experiment; report one of: "loss", "accuracy"`,
	}, {
		name: "step is not an integer",
		event: func() cloudevents.Event {
			ev := good()
			ev.SetExtension(StepExtension, "seven")
			return ev
		},
		wantCode: http.StatusBadRequest,
		wantMsg:  `extension "step" is "seven"`,
	}, {
		name: "negative step",
		event: func() cloudevents.Event {
			ev := good()
			ev.SetExtension(StepExtension, -1)
			return ev
		},
		wantCode: http.StatusBadRequest,
		wantMsg:  "want a non-negative integer",
	}, {
		name: "trial not found",
		event: func() cloudevents.Event {
			return observationEvent("ghost", `{"loss": 1}`)
		},
		header:   bearer(tokenFor(newTrial("ghost"))),
		wantCode: http.StatusForbidden,
		wantMsg:  "the token is not valid for trial team-a/ghost (or there is no such trial)",
	}, {
		name:     "no token",
		event:    good,
		noAuth:   true,
		wantCode: http.StatusUnauthorized,
		wantMsg:  "no token",
	}, {
		name:     "not a bearer token",
		event:    good,
		header:   http.Header{TokenHeader: {"Basic dXNlcjpwYXNz"}},
		wantCode: http.StatusUnauthorized,
		wantMsg:  `must be "Bearer <token>"`,
	}, {
		name:     "wrong token",
		event:    good,
		header:   bearer("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		wantCode: http.StatusForbidden,
		wantMsg:  "the token is not valid for trial team-a/t1",
	}, {
		name:     "token of another trial",
		trials:   []*v1alpha1.Trial{t1, newTrial("t2")},
		event:    good,
		header:   bearer(tokenFor(newTrial("t2"))),
		wantCode: http.StatusForbidden,
		wantMsg:  "the token is not valid for trial team-a/t1",
	}, {
		name:     "token of a deleted trial of the same name",
		trials:   []*v1alpha1.Trial{newTrial("t1", withUID("new-uid"))},
		event:    good,
		header:   bearer(tokenFor(t1)),
		wantCode: http.StatusForbidden,
		wantMsg:  "the token is not valid for trial team-a/t1",
	}, {
		name:     "wrong token in the extension",
		event:    func() cloudevents.Event { ev := good(); ev.SetExtension(TokenExtension, "nope"); return ev },
		noAuth:   true,
		wantCode: http.StatusForbidden,
	}, {
		name:     "succeeded trial",
		trials:   []*v1alpha1.Trial{newTrial("t1", withSucceeded)},
		event:    good,
		wantCode: http.StatusConflict,
		wantMsg:  "trial team-a/t1 has ended; observations are no longer accepted",
	}, {
		name:     "failed trial",
		trials:   []*v1alpha1.Trial{newTrial("t1", withFailed)},
		event:    good,
		wantCode: http.StatusConflict,
		wantMsg:  "trial team-a/t1 has ended; observations are no longer accepted",
	}, {
		name:     "trial without objective",
		trials:   []*v1alpha1.Trial{newTrial("t1", withoutObjective)},
		event:    good,
		wantCode: http.StatusConflict,
		wantMsg:  "trial team-a/t1 has no spec.objective",
	}}

	for _, tc := range tests {
		for _, structured := range []bool{false, true} {
			mode := "binary"
			if structured {
				mode = "structured"
			}
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				trials := tc.trials
				if trials == nil {
					trials = []*v1alpha1.Trial{t1}
				}
				objs := make([]runtime.Object, len(trials))
				for i, tr := range trials {
					objs[i] = tr.DeepCopy()
				}
				s := newServer(t, fake.NewSimpleClientset(objs...))
				header := tc.header
				if header == nil && !tc.noAuth {
					header = bearer(tokenFor(t1))
				}
				var before *v1alpha1.Trial
				if tc.wantCode != http.StatusAccepted {
					before = s.getTrial(t, "t1")
				}

				code, msg := sendCE(t, s.sink(), tc.event(), structured, header)

				if code != tc.wantCode {
					t.Fatalf("status = %d (%s), want %d", code, msg, tc.wantCode)
				}
				if !strings.Contains(msg, tc.wantMsg) {
					t.Errorf("message = %q, want it to contain %q", msg, tc.wantMsg)
				}
				if tc.wantCode != http.StatusAccepted {
					if n := s.statusUpdates(); n != 0 {
						t.Errorf("%d status updates, want none", n)
					}
					if before != nil {
						if d := cmp.Diff(before, s.getTrial(t, "t1")); d != "" {
							t.Errorf("trial changed (-before, +after):\n%s", d)
						}
					}
					return
				}
				if d := cmp.Diff(tc.wantObs, s.getTrial(t, "t1").Status.Observation); d != "" {
					t.Errorf("observation (-want, +got):\n%s", d)
				}
			})
		}
	}
}

// do sends a raw HTTP request and returns the status, headers and body.
func do(t *testing.T, method, url string, header http.Header, body io.Reader) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// binaryHeader is a binary-mode event's header, as curl would send it.
func binaryHeader(subject string) http.Header {
	return http.Header{
		"Ce-Specversion": {"1.0"},
		"Ce-Id":          {"curl-1"},
		"Ce-Source":      {"curl"},
		"Ce-Type":        {EventType},
		"Ce-Subject":     {subject},
		"Content-Type":   {"application/json"},
		TokenHeader:      {"Bearer " + tokenFor(newTrial(subject))},
	}
}

// hideLen hides a reader's length so the request goes out chunked.
type hideLen struct{ io.Reader }

func TestReceiverHTTP(t *testing.T) {
	big := `{"loss": 0.5, "pad": "` + strings.Repeat("x", MaxBodyBytes) + `"}`
	tests := []struct {
		name     string
		method   string
		path     string
		header   http.Header
		body     io.Reader
		wantCode int
		wantMsg  string
		wantHdr  map[string]string
	}{{
		name:     "curl in binary mode",
		header:   binaryHeader("t1"),
		body:     strings.NewReader(`{"loss": "0.5", "epoch_time": 12}`),
		wantCode: http.StatusAccepted,
		wantMsg:  `"ignored":["epoch_time"]`,
		wantHdr:  map[string]string{"Content-Type": "application/json"},
	}, {
		name:     "trailing slash",
		path:     "/namespaces/" + testNS + "/",
		header:   binaryHeader("t1"),
		body:     strings.NewReader(`{"loss": 0.5}`),
		wantCode: http.StatusAccepted,
	}, {
		name:     "root",
		path:     "/",
		wantCode: http.StatusNotFound,
		wantMsg:  "send observations to /namespaces/<namespace>",
	}, {
		name:     "no namespace",
		path:     "/namespaces/",
		wantCode: http.StatusNotFound,
	}, {
		name:     "deeper path",
		path:     "/namespaces/" + testNS + "/trials/t1",
		wantCode: http.StatusNotFound,
	}, {
		name:     "not a namespace name",
		path:     "/namespaces/Team_A",
		wantCode: http.StatusNotFound,
	}, {
		name:     "GET",
		method:   http.MethodGet,
		wantCode: http.StatusMethodNotAllowed,
		wantMsg:  "method GET is not allowed",
		wantHdr:  map[string]string{"Allow": "POST"},
	}, {
		name:     "PUT",
		method:   http.MethodPut,
		header:   binaryHeader("t1"),
		body:     strings.NewReader(`{"loss": 0.5}`),
		wantCode: http.StatusMethodNotAllowed,
	}, {
		name:     "body too large",
		header:   binaryHeader("t1"),
		body:     strings.NewReader(big),
		wantCode: http.StatusRequestEntityTooLarge,
	}, {
		name:     "body too large, chunked",
		header:   binaryHeader("t1"),
		body:     hideLen{strings.NewReader(big)},
		wantCode: http.StatusRequestEntityTooLarge,
	}, {
		name:     "plain JSON, not a CloudEvent",
		header:   http.Header{"Content-Type": {"application/json"}, TokenHeader: {"Bearer " + tokenFor(newTrial("t1"))}},
		body:     strings.NewReader(`{"loss": 0.5}`),
		wantCode: http.StatusBadRequest,
		wantMsg:  "the request is not a CloudEvent",
	}, {
		name:     "batch",
		header:   http.Header{"Content-Type": {"application/cloudevents-batch+json"}},
		body:     strings.NewReader(`[]`),
		wantCode: http.StatusBadRequest,
		wantMsg:  "batches of events are not accepted",
	}, {
		name:     "structured, not JSON",
		header:   http.Header{"Content-Type": {"application/cloudevents+json"}},
		body:     strings.NewReader(`{"specversion": "1.0", `),
		wantCode: http.StatusBadRequest,
		wantMsg:  "decoding the CloudEvent",
	}, {
		name: "binary, no id",
		header: func() http.Header {
			h := binaryHeader("t1")
			h.Del("Ce-Id")
			return h
		}(),
		body:     strings.NewReader(`{"loss": 0.5}`),
		wantCode: http.StatusBadRequest,
		wantMsg:  "invalid CloudEvent",
	}, {
		name:     "no token",
		header:   func() http.Header { h := binaryHeader("t1"); h.Del(TokenHeader); return h }(),
		body:     strings.NewReader(`{"loss": 0.5}`),
		wantCode: http.StatusUnauthorized,
		wantHdr:  map[string]string{"WWW-Authenticate": "Bearer"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, fake.NewSimpleClientset(newTrial("t1")))
			method, path := tc.method, tc.path
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = "/namespaces/" + testNS
			}
			before := s.getTrial(t, "t1")
			code, hdr, body := do(t, method, s.URL+path, tc.header, tc.body)
			if code != tc.wantCode {
				t.Fatalf("status = %d (%s), want %d", code, body, tc.wantCode)
			}
			if !strings.Contains(body, tc.wantMsg) {
				t.Errorf("body = %q, want it to contain %q", body, tc.wantMsg)
			}
			for k, v := range tc.wantHdr {
				if got := hdr.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if code == http.StatusAccepted {
				var acc Accepted
				if err := json.Unmarshal([]byte(body), &acc); err != nil {
					t.Fatalf("202 body %q: %v", body, err)
				}
				got := s.getTrial(t, "t1").Status.Observation
				if acc.Trial != "t1" || acc.Namespace != testNS || !cmp.Equal(acc.Observation, got) {
					t.Errorf("202 body = %+v, want trial t1 in %s with observation %+v", acc, testNS, got)
				}
				return
			}
			if d := cmp.Diff(before, s.getTrial(t, "t1")); d != "" {
				t.Errorf("trial changed (-before, +after):\n%s", d)
			}
			if n := s.statusUpdates(); n != 0 {
				t.Errorf("%d status updates, want none", n)
			}
		})
	}
}

func TestReceiverAPIErrors(t *testing.T) {
	boom := apierrs.NewInternalError(io.ErrUnexpectedEOF)
	conflict := apierrs.NewConflict(trialsResource, "t1", io.EOF)
	tests := []struct {
		name        string
		verb        string
		failures    int32 // how many calls fail; -1: all
		err         error
		getErr      error // what reading the trial again after a conflict returns
		wantCode    int
		wantMsg     string
		wantReports int32
		wantUpdates int
	}{{
		name: "reading the trial again after a conflict fails", verb: "update", failures: 1, err: conflict, getErr: boom,
		wantCode: http.StatusServiceUnavailable, wantMsg: "retry later", wantUpdates: 1,
	}, {
		name: "update fails", verb: "update", failures: -1, err: boom,
		wantCode: http.StatusServiceUnavailable, wantMsg: "retry later", wantUpdates: 1,
	}, {
		name: "update forbidden", verb: "update", failures: -1, err: apierrs.NewForbidden(trialsResource, "t1", io.EOF),
		wantCode: http.StatusServiceUnavailable, wantUpdates: 1,
	}, {
		name: "trial deleted before the update", verb: "update", failures: -1, err: apierrs.NewNotFound(trialsResource, "t1"),
		wantCode: http.StatusForbidden, wantMsg: "the token is not valid for trial team-a/t1 (or there is no such trial)", wantUpdates: 1,
	}, {
		name: "the status it makes is invalid", verb: "update", failures: -1,
		err:      apierrs.NewInvalid(schema.GroupKind{Group: "tuning.knobs.dev", Kind: "Trial"}, "t1", field.ErrorList{field.TooMany(field.NewPath("status", "observation", "metrics"), 66, 65)}),
		wantCode: http.StatusUnprocessableEntity, wantMsg: "refused the observation", wantUpdates: 1,
	}, {
		name: "conflict once", verb: "update", failures: 1, err: conflict,
		wantCode: http.StatusAccepted, wantReports: 2, wantUpdates: 2,
	}, {
		name: "conflict every time", verb: "update", failures: -1, err: conflict,
		wantCode: http.StatusServiceUnavailable, wantMsg: "kept conflicting", wantUpdates: 5,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewSimpleClientset(newTrial("t1"))
			var calls atomic.Int32
			client.PrependReactor(tc.verb, "trials", func(a clientgotesting.Action) (bool, runtime.Object, error) {
				if tc.verb == "update" && a.GetSubresource() != "status" {
					return false, nil, nil
				}
				n := calls.Add(1)
				if tc.failures >= 0 && n > tc.failures {
					return false, nil, nil
				}
				if apierrs.IsConflict(tc.err) {
					// Another writer got there first: record its report, so
					// the retry must read the trial again to keep it.
					other := newTrial("t1", withObservation(&v1alpha1.Observation{
						Metrics: []v1alpha1.Metric{{Name: "loss", Value: "0.25", Min: "0.25", Max: "0.25", Latest: "0.25"}},
						Reports: 1,
					}))
					if err := client.Tracker().Update(schema.GroupVersionResource{Group: "tuning.knobs.dev", Version: "v1alpha1", Resource: "trials"}, other, testNS); err != nil {
						t.Errorf("tracker update: %v", err)
					}
				}
				return true, nil, tc.err
			})
			if tc.getErr != nil {
				client.PrependReactor("get", "trials", func(clientgotesting.Action) (bool, runtime.Object, error) {
					return true, nil, tc.getErr
				})
			}
			s := newServer(t, client)

			code, msg := sendCE(t, s.sink(), observationEvent("t1", `{"loss": 0.5}`), false, bearer(tokenFor(newTrial("t1"))))

			if code != tc.wantCode {
				t.Fatalf("status = %d (%s), want %d", code, msg, tc.wantCode)
			}
			if !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("message = %q, want it to contain %q", msg, tc.wantMsg)
			}
			if n := s.statusUpdates(); n != tc.wantUpdates {
				t.Errorf("%d status updates, want %d", n, tc.wantUpdates)
			}
			if tc.wantCode != http.StatusAccepted {
				return
			}
			want := &v1alpha1.Observation{
				Metrics: []v1alpha1.Metric{{Name: "loss", Value: "0.25", Min: "0.25", Max: "0.5", Latest: "0.5",
					Curve: []v1alpha1.CurvePoint{{Step: int64(tc.wantReports), Value: "0.5"}}}},
				Reports: tc.wantReports,
			}
			if d := cmp.Diff(want, s.getTrial(t, "t1").Status.Observation); d != "" {
				t.Errorf("observation (-want, +got):\n%s", d)
			}
		})
	}
}

func TestReceiverRetryAfter(t *testing.T) {
	client := fake.NewSimpleClientset(newTrial("t1"))
	client.PrependReactor("update", "trials", func(clientgotesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrs.NewServiceUnavailable("etcd is down")
	})
	s := newServer(t, client)
	code, hdr, _ := do(t, http.MethodPost, s.sink(), binaryHeader("t1"), bytes.NewReader([]byte(`{"loss": 1}`)))
	if code != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
		t.Errorf("status = %d, Retry-After = %q; want 503 with Retry-After", code, hdr.Get("Retry-After"))
	}
}

func TestReceiverNotConfigured(t *testing.T) {
	rc := &Receiver{Logger: logtesting.TestLogger(t)}
	s := httptestServer(t, rc)
	code, _, body := do(t, http.MethodPost, SinkFor(s, testNS), binaryHeader("t1"), strings.NewReader(`{"loss": 1}`))
	if code != http.StatusServiceUnavailable {
		t.Errorf("status = %d (%s), want 503", code, body)
	}
}

func TestSinkFor(t *testing.T) {
	for _, base := range []string{"http://knobs-observations.knobs-system.svc", "http://knobs-observations.knobs-system.svc/", "http://knobs-observations.knobs-system.svc//"} {
		if got, want := SinkFor(base, "team-a"), "http://knobs-observations.knobs-system.svc/namespaces/team-a"; got != want {
			t.Errorf("SinkFor(%q) = %q, want %q", base, got, want)
		}
	}
}

// A report sent again (the same source and id, its answer lost) is not
// counted twice; another report is.
func TestReceiverDuplicateReport(t *testing.T) {
	client := fake.NewSimpleClientset(newTrial("t1"))
	s := newServer(t, client)
	ev := observationEvent("t1", `{"loss": 0.5}`)
	for i := 1; i <= 2; i++ {
		if code, body := sendCE(t, s.sink(), ev, false, bearer(tokenFor(newTrial("t1")))); code != http.StatusAccepted {
			t.Fatalf("send %d: %d %s; want 202", i, code, body)
		}
	}
	if got := s.getTrial(t, "t1").Status.Observation.Reports; got != 1 {
		t.Fatalf("%d reports after the same report twice, want 1", got)
	}
	again := ev.Clone()
	again.SetID(ev.ID() + "-next")
	if code, body := sendCE(t, s.sink(), again, false, bearer(tokenFor(newTrial("t1")))); code != http.StatusAccepted {
		t.Fatalf("another report: %d %s", code, body)
	}
	if got := s.getTrial(t, "t1").Status.Observation.Reports; got != 2 {
		t.Fatalf("%d reports after two reports, want 2", got)
	}
}

// Reports whose token does not check out cost no call to the Kubernetes
// API, however many there are; an accepted one costs its status update.
func TestReceiverBogusReportsCostNoAPICalls(t *testing.T) {
	const n = 100
	client := fake.NewSimpleClientset(newTrial("t1"))
	s := newServer(t, client)
	bogus := []struct {
		name, path, subject, token string
	}{
		{"wrong token", s.sink(), "t1", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"token of a deleted trial of the same name", s.sink(), "t1", tokenFor(newTrial("t1", withUID("old")))},
		{"no such trial", s.sink(), "ghost", tokenFor(newTrial("ghost"))},
		{"another namespace", SinkFor(s.URL, "team-b"), "t1", tokenFor(newTrial("t1"))},
	}
	for _, b := range bogus {
		for i := range n {
			h := binaryHeader(b.subject)
			h.Set("Ce-Id", fmt.Sprintf("bogus-%d", i))
			h.Set(TokenHeader, "Bearer "+b.token)
			if code, _, body := do(t, http.MethodPost, b.path, h, strings.NewReader(`{"loss": 1}`)); code != http.StatusForbidden {
				t.Fatalf("%s: status = %d (%s), want 403", b.name, code, body)
			}
		}
		if got := len(client.Actions()); got != 0 {
			t.Fatalf("%s: %d reports made %d API calls, want none: %v", b.name, n, got, client.Actions())
		}
	}

	if code, _, body := do(t, http.MethodPost, s.sink(), binaryHeader("t1"), strings.NewReader(`{"loss": 1}`)); code != http.StatusAccepted {
		t.Fatalf("good report: status = %d (%s), want 202", code, body)
	}
	if got := client.Actions(); len(got) != 1 || got[0].GetVerb() != "update" || got[0].GetSubresource() != "status" {
		t.Errorf("a good report made API calls %v, want one status update", got)
	}
}

// A trial that does not exist and a trial the token is not for get the
// same answer, so a report cannot tell whether a trial exists.
func TestReceiverSameAnswerForMissingAndForeignTrial(t *testing.T) {
	send := func(s *server) (int, string) {
		h := binaryHeader("t1")
		h.Set(TokenHeader, "Bearer "+tokenFor(newTrial("t1", withUID("guessed"))))
		code, _, body := do(t, http.MethodPost, s.sink(), h, strings.NewReader(`{"loss": 1}`))
		return code, body
	}
	foreignCode, foreign := send(newServer(t, fake.NewSimpleClientset(newTrial("t1"))))
	missingCode, missing := send(newServer(t, fake.NewSimpleClientset()))
	if foreignCode != http.StatusForbidden || missingCode != foreignCode || missing != foreign {
		t.Errorf("another trial's: %d %q; no trial: %d %q; want the same 403", foreignCode, foreign, missingCode, missing)
	}
	if want := "the token is not valid for trial team-a/t1"; !strings.Contains(foreign, want) {
		t.Errorf("body = %q, want it to contain %q", foreign, want)
	}
}

// A report sent again with the same source and id is validated like any
// other: invalid data is refused, not answered as a duplicate.
func TestReceiverReplayIsValidated(t *testing.T) {
	s := newServer(t, fake.NewSimpleClientset(newTrial("t1")))
	token := bearer(tokenFor(newTrial("t1")))
	if code, msg := sendCE(t, s.sink(), observationEvent("t1", `{"loss": 0.5}`), false, token); code != http.StatusAccepted {
		t.Fatalf("first report: %d %s, want 202", code, msg)
	}
	for _, data := range []string{`{"val_loss": 0.5}`, `{"loss": "NaN"}`, `{"loss": "Inf", "accuracy": 1}`} {
		if code, msg := sendCE(t, s.sink(), observationEvent("t1", data), false, token); code != http.StatusBadRequest {
			t.Errorf("the same id with %s: %d %s, want 400", data, code, msg)
		}
	}
	if code, msg := sendCE(t, s.sink(), observationEvent("t1", `{"loss": 0.5}`), false, token); code != http.StatusAccepted {
		t.Errorf("the same report again: %d %s, want 202", code, msg)
	}
	if got := s.getTrial(t, "t1").Status.Observation.Reports; got != 1 {
		t.Errorf("%d reports, want 1", got)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Unknown metric names are named in the answer and the log only a few at a
// time, each cut short, with their count: a report of many long names
// does not come back, or go to the log, whole.
func TestReceiverBoundsUnknownNames(t *testing.T) {
	const unknown = 60000
	var data strings.Builder
	data.WriteString("{")
	for i := range unknown {
		if i < 3 {
			fmt.Fprintf(&data, "%q: 1, ", "a"+strings.Repeat("x", 1000)+strconv.Itoa(i))
			continue
		}
		fmt.Fprintf(&data, `"m%05d": 1, `, i)
	}
	onlyUnknown := data.String()[:data.Len()-2] + "}"
	withLoss := data.String() + `"loss": 0.5}`

	for _, tc := range []struct {
		name, data string
		wantCode   int
	}{
		{"beside a known metric", withLoss, http.StatusAccepted},
		{"alone", onlyUnknown, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logged syncBuffer
			rc := newReceiver(t, fake.NewSimpleClientset(newTrial("t1")))
			rc.Logger = zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(&logged), zap.InfoLevel)).Sugar()
			s := serveReceiver(t, rc)
			code, _, body := do(t, http.MethodPost, s.sink(), binaryHeader("t1"), strings.NewReader(tc.data))
			if code != tc.wantCode {
				t.Fatalf("status = %d (%.500s), want %d", code, body, tc.wantCode)
			}
			if len(body) > 4096 {
				t.Errorf("the answer has %d bytes, want at most 4096: %.500s", len(body), body)
			}
			if n := len(logged.String()); n > 8192 {
				t.Errorf("the log has %d bytes, want at most 8192: %.500s", n, logged.String())
			}
			if !strings.Contains(body, "60000") {
				t.Errorf("the answer %q does not count the %d unknown names", body, unknown)
			}
			if tc.wantCode != http.StatusAccepted {
				return
			}
			var acc struct {
				Ignored      []string `json:"ignored"`
				IgnoredCount int      `json:"ignoredCount"`
			}
			if err := json.Unmarshal([]byte(body), &acc); err != nil {
				t.Fatalf("202 body %q: %v", body, err)
			}
			if len(acc.Ignored) == 0 || len(acc.Ignored) > 5 || acc.IgnoredCount != unknown {
				t.Errorf("ignored %d names, counted %d; want 1 to 5 names and a count of %d", len(acc.Ignored), acc.IgnoredCount, unknown)
			}
			for _, n := range acc.Ignored {
				if len(n) > 64 {
					t.Errorf("ignored name of %d bytes, want at most 64", len(n))
				}
			}
		})
	}
}

// A cache behind the API server costs a conflict and a read, not a report:
// the update made from the cached trial conflicts, and the report is
// checked again and recorded on the trial as it is.
func TestReceiverStaleCache(t *testing.T) {
	cached := newTrial("t1")
	latest := newTrial("t1", withObservation(&v1alpha1.Observation{
		Metrics: []v1alpha1.Metric{{Name: "loss", Value: "0.25", Min: "0.25", Max: "0.25", Latest: "0.25"}},
		Reports: 1,
	}))
	latest.ResourceVersion = "2"
	client := fake.NewSimpleClientset(latest)
	client.PrependReactor("update", "trials", checkResourceVersion(client))
	rc := newReceiver(t, client)
	rc.Trials = staleLister(t, cached)
	s := serveReceiver(t, rc)

	if code, msg := sendCE(t, s.sink(), observationEvent("t1", `{"loss": 0.5}`), false, bearer(tokenFor(cached))); code != http.StatusAccepted {
		t.Fatalf("status = %d (%s), want 202", code, msg)
	}
	var verbs []string
	for _, a := range client.Actions() {
		verbs = append(verbs, a.GetVerb())
	}
	if d := cmp.Diff([]string{"update", "get", "update"}, verbs); d != "" {
		t.Errorf("API calls (-want, +got):\n%s", d)
	}
	if got := s.getTrial(t, "t1").Status.Observation; got.Reports != 2 || got.Metric("loss").Min != "0.25" {
		t.Errorf("observation %+v, want the cached report kept and this one added", got)
	}

	// Created again under its name since the cache saw it: the report's
	// token is the old trial's, and nothing is written.
	client.ClearActions()
	recreated := newTrial("t1", withUID("recreated"))
	recreated.ResourceVersion = "7"
	if err := client.Tracker().Update(trialsGVR, recreated, testNS); err != nil {
		t.Fatal(err)
	}
	ev := observationEvent("t1", `{"loss": 0.5}`)
	ev.SetID("id-2")
	if code, msg := sendCE(t, s.sink(), ev, false, bearer(tokenFor(cached))); code != http.StatusForbidden {
		t.Errorf("after the trial was created again: status = %d (%s), want 403", code, msg)
	}
	if n := s.statusUpdates(); n != 1 {
		t.Errorf("%d status updates, want the one refused as a conflict", n)
	}
}

// lateLister is a cache that sees every trial only after missing it a few
// times, as a replica's cache may lag the API server.
type lateLister struct {
	trackerLister
	misses *atomic.Int32
}

func (l lateLister) Trials(namespace string) listers.TrialNamespaceLister {
	return lateNamespaceLister{l.trackerLister.Trials(namespace), l.misses}
}

type lateNamespaceLister struct {
	listers.TrialNamespaceLister
	misses *atomic.Int32
}

func (l lateNamespaceLister) Get(name string) (*v1alpha1.Trial, error) {
	if l.misses.Add(-1) >= 0 {
		return nil, apierrs.NewNotFound(v1alpha1.Resource("trials"), name)
	}
	return l.TrialNamespaceLister.Get(name)
}

// TestReceiverWaitsForItsCache: a report for a trial this replica's cache
// has not seen yet waits for it, without an API call, rather than being
// refused for good; with no wait it is refused.
func TestReceiverWaitsForItsCache(t *testing.T) {
	for _, tc := range []struct {
		wait time.Duration
		want int
	}{{time.Minute, http.StatusAccepted}, {0, http.StatusForbidden}} {
		client := fake.NewSimpleClientset(newTrial("t1"))
		rc := newReceiver(t, client)
		misses := &atomic.Int32{}
		misses.Store(3)
		rc.Trials, rc.CacheWait = lateLister{trackerLister{client}, misses}, tc.wait
		srv := httptest.NewServer(rc)
		t.Cleanup(srv.Close)
		code, msg := sendCE(t, SinkFor(srv.URL, testNS), observationEvent("t1", `{"loss": 0.5}`), false, bearer(tokenFor(newTrial("t1"))))
		if code != tc.want {
			t.Errorf("cache wait %s: %d %s, want %d", tc.wait, code, msg, tc.want)
		}
	}
}
