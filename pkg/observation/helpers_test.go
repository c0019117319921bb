package observation

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	logtesting "knative.dev/pkg/logging/testing"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/client/clientset/versioned/fake"
)

const testNS = "team-a"

var testKey = []byte("0123456789abcdef0123456789abcdef")

type trialOption func(*v1alpha1.Trial)

// newTrial returns a running trial that minimizes loss and records
// accuracy too.
func newTrial(name string, opts ...trialOption) *v1alpha1.Trial {
	t := &v1alpha1.Trial{
		ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: name, UID: types.UID("uid-" + name), ResourceVersion: "1"},
		Spec: v1alpha1.TrialSpec{
			Objective: &v1alpha1.ObjectiveSpec{
				Type:                  v1alpha1.ObjectiveTypeMinimize,
				ObjectiveMetricName:   "loss",
				AdditionalMetricNames: []string{"accuracy"},
			},
		},
	}
	t.Status.InitializeConditions()
	t.Status.MarkRunning("")
	for _, o := range opts {
		o(t)
	}
	return t
}

func withoutObjective(t *v1alpha1.Trial) { t.Spec.Objective = nil }

func withSucceeded(t *v1alpha1.Trial) { t.Status.MarkSucceeded("done") }

func withFailed(t *v1alpha1.Trial) { t.Status.MarkFailed("the job failed") }

func withUID(uid string) trialOption {
	return func(t *v1alpha1.Trial) { t.UID = types.UID(uid) }
}

func withObservation(obs *v1alpha1.Observation) trialOption {
	return func(t *v1alpha1.Trial) { t.Status.Observation = obs }
}

// tokenFor is the token the controller gives the trial's workload.
func tokenFor(t *v1alpha1.Trial) string { return NewTokens(testKey).For(t) }

// server serves a Receiver over a real socket.
type server struct {
	*httptest.Server
	client *fake.Clientset
}

func newServer(t *testing.T, client *fake.Clientset) *server {
	t.Helper()
	rc := &Receiver{Client: client, Tokens: NewTokens(testKey), Logger: logtesting.TestLogger(t)}
	s := httptest.NewServer(rc)
	t.Cleanup(s.Close)
	return &server{Server: s, client: client}
}

func (s *server) sink() string { return SinkFor(s.URL, testNS) }

// getTrial reads the trial straight from the fake's tracker.
func (s *server) getTrial(t *testing.T, name string) *v1alpha1.Trial {
	t.Helper()
	tr, err := s.client.TuningV1alpha1().Trials(testNS).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("Get trial %s: %v", name, err)
	}
	return tr
}

// statusUpdates counts the fake client's status updates so far.
func (s *server) statusUpdates() int {
	n := 0
	for _, a := range s.client.Actions() {
		if a.GetVerb() == "update" && a.GetSubresource() == "status" {
			n++
		}
	}
	return n
}

// observationEvent is a valid report for the named trial.
func observationEvent(name, data string) cloudevents.Event {
	ev := cloudevents.NewEvent()
	ev.SetID("id-1")
	ev.SetSource("knobs.dev/trial/" + testNS + "/" + name)
	ev.SetType(EventType)
	ev.SetSubject(name)
	if err := ev.SetData(cloudevents.ApplicationJSON, []byte(data)); err != nil {
		panic(err)
	}
	return ev
}

// sendCE sends ev with sdk-go's HTTP client, in structured mode when asked,
// with header, and returns the status code and the error text (which holds
// the receiver's message).
func sendCE(t *testing.T, target string, ev cloudevents.Event, structured bool, header http.Header) (int, string) {
	t.Helper()
	c, err := cloudevents.NewClientHTTP()
	if err != nil {
		t.Fatal(err)
	}
	ctx := cloudevents.ContextWithTarget(context.Background(), target)
	if structured {
		ctx = cloudevents.WithEncodingStructured(ctx)
	} else {
		ctx = cloudevents.WithEncodingBinary(ctx)
	}
	if header != nil {
		ctx = cehttp.WithCustomHeader(ctx, header)
	}
	res := c.Send(ctx, ev)
	var hr *cehttp.Result
	if !cloudevents.ResultAs(res, &hr) {
		t.Fatalf("Send: no HTTP result: %v", res)
	}
	msg := ""
	if !cloudevents.IsACK(res) {
		msg = res.Error()
	}
	return hr.StatusCode, msg
}

func bearer(token string) http.Header {
	return http.Header{TokenHeader: {"Bearer " + token}}
}

// httptestServer serves h over a real socket and returns its URL.
func httptestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}
