package observation

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/go-cmp/cmp"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	clientgotesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
	logtesting "knative.dev/pkg/logging/testing"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/client/clientset/versioned/fake"
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
		wantCode: http.StatusNotFound,
		wantMsg:  "trial team-a/ghost not found",
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
		wantMsg:  "the token is not trial team-a/t1's",
	}, {
		name:     "token of another trial",
		trials:   []*v1alpha1.Trial{t1, newTrial("t2")},
		event:    good,
		header:   bearer(tokenFor(newTrial("t2"))),
		wantCode: http.StatusForbidden,
		wantMsg:  "the token is not trial team-a/t1's",
	}, {
		name:     "token of a deleted trial of the same name",
		trials:   []*v1alpha1.Trial{newTrial("t1", withUID("new-uid"))},
		event:    good,
		header:   bearer(tokenFor(t1)),
		wantCode: http.StatusForbidden,
		wantMsg:  "the token is not trial team-a/t1's",
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
				if tc.wantCode != http.StatusAccepted && tc.wantCode != http.StatusNotFound {
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
		wantCode    int
		wantMsg     string
		wantReports int32
		wantUpdates int
	}{{
		name: "get fails", verb: "get", failures: -1, err: boom,
		wantCode: http.StatusServiceUnavailable, wantMsg: "retry later",
	}, {
		name: "update forbidden", verb: "update", failures: -1, err: apierrs.NewForbidden(trialsResource, "t1", io.EOF),
		wantCode: http.StatusServiceUnavailable, wantUpdates: 1,
	}, {
		name: "trial deleted before the update", verb: "update", failures: -1, err: apierrs.NewNotFound(trialsResource, "t1"),
		wantCode: http.StatusNotFound, wantMsg: "not found", wantUpdates: 1,
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
	client := fake.NewSimpleClientset()
	client.PrependReactor("get", "trials", func(clientgotesting.Action) (bool, runtime.Object, error) {
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
