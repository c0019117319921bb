package observation

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	clientgotesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	logtesting "knative.dev/pkg/logging/testing"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/client/clientset/versioned/fake"
	listers "knobs.dev/knobs/pkg/client/listers/tuning/v1alpha1"
)

var trialsGVR = schema.GroupVersionResource{Group: "tuning.knobs.dev", Version: "v1alpha1", Resource: "trials"}

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
	return serveReceiver(t, newReceiver(t, client))
}

// newReceiver returns a Receiver of the fake's trials, whose cache is
// always in step with the fake, as an informer's is once it has caught up.
func newReceiver(t testing.TB, client *fake.Clientset) *Receiver {
	t.Helper()
	return &Receiver{Client: client, Trials: trackerLister{client}, Tokens: NewTokens(testKey), Logger: logtesting.TestLogger(t)}
}

// trackerLister lists the trials in a fake's tracker, as an informer's
// cache would, without the calls to the API the fake counts.
type trackerLister struct{ client *fake.Clientset }

var _ listers.TrialLister = trackerLister{}

func (l trackerLister) List(selector labels.Selector) ([]*v1alpha1.Trial, error) {
	return l.Trials(metav1.NamespaceAll).List(selector)
}

func (l trackerLister) Trials(namespace string) listers.TrialNamespaceLister {
	return trackerNamespaceLister{client: l.client, namespace: namespace}
}

type trackerNamespaceLister struct {
	client    *fake.Clientset
	namespace string
}

func (l trackerNamespaceLister) List(selector labels.Selector) ([]*v1alpha1.Trial, error) {
	obj, err := l.client.Tracker().List(trialsGVR, v1alpha1.SchemeGroupVersion.WithKind("Trial"), l.namespace)
	if err != nil {
		return nil, err
	}
	var out []*v1alpha1.Trial
	for i, tr := range obj.(*v1alpha1.TrialList).Items {
		if selector.Matches(labels.Set(tr.Labels)) {
			out = append(out, &obj.(*v1alpha1.TrialList).Items[i])
		}
	}
	return out, nil
}

func (l trackerNamespaceLister) Get(name string) (*v1alpha1.Trial, error) {
	obj, err := l.client.Tracker().Get(trialsGVR, l.namespace, name)
	if err != nil {
		return nil, err
	}
	return obj.(*v1alpha1.Trial), nil
}

// checkResourceVersion refuses, as the API server does, an update of a
// trial whose resourceVersion is not the stored one, and gives each update
// a new resourceVersion.
func checkResourceVersion(client *fake.Clientset) clientgotesting.ReactionFunc {
	return func(a clientgotesting.Action) (bool, runtime.Object, error) {
		u, ok := a.(clientgotesting.UpdateAction)
		if !ok {
			return false, nil, nil
		}
		tr, ok := u.GetObject().(*v1alpha1.Trial)
		if !ok {
			return false, nil, nil
		}
		stored, err := client.Tracker().Get(trialsGVR, tr.Namespace, tr.Name)
		if err != nil {
			return false, nil, nil // the tracker answers not found
		}
		rv := stored.(*v1alpha1.Trial).ResourceVersion
		if tr.ResourceVersion != rv {
			return true, nil, apierrs.NewConflict(schema.GroupResource{Group: trialsGVR.Group, Resource: trialsGVR.Resource}, tr.Name,
				fmt.Errorf("resourceVersion %s is not the latest, %s", tr.ResourceVersion, rv))
		}
		n, _ := strconv.Atoi(rv)
		tr.ResourceVersion = strconv.Itoa(n + 1)
		return false, nil, nil
	}
}

// staleLister is a cache of trials as they were when it was made.
func staleLister(t testing.TB, trials ...*v1alpha1.Trial) listers.TrialLister {
	t.Helper()
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, tr := range trials {
		if err := indexer.Add(tr.DeepCopy()); err != nil {
			t.Fatal(err)
		}
	}
	return listers.NewTrialLister(indexer)
}

// serveReceiver serves rc, whose Client is a fake, over a real socket.
func serveReceiver(t *testing.T, rc *Receiver) *server {
	t.Helper()
	client := rc.Client.(*fake.Clientset)
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
