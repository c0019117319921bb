package hostile

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/client/clientset/versioned/fake"
	"knobs.dev/knobs/pkg/client/informers/externalversions"
	"knobs.dev/knobs/pkg/observation"
)

const receiverNS = "team-a"

// receiver serves the observation receiver over a real socket, with a
// trial t1 in its informer's cache, and returns its URL and t1's token.
func receiver(t *testing.T) (string, string) {
	t.Helper()
	trial := &v1alpha1.Trial{
		ObjectMeta: metav1.ObjectMeta{Namespace: receiverNS, Name: "t1", UID: types.UID("uid-t1")},
		Spec: v1alpha1.TrialSpec{Objective: &v1alpha1.ObjectiveSpec{
			Type: v1alpha1.ObjectiveTypeMinimize, ObjectiveMetricName: "loss", AdditionalMetricNames: []string{"accuracy"},
		}},
	}
	trial.Status.InitializeConditions()
	trial.Status.MarkRunning("")
	client := fake.NewSimpleClientset(trial)
	factory := externalversions.NewSharedInformerFactory(client, 0)
	trials := factory.Tuning().V1alpha1().Trials()
	informer := trials.Informer()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), informer.HasSynced) {
		t.Fatal("the informer's cache did not sync")
	}
	tokens := observation.NewTokens([]byte("0123456789abcdef0123456789abcdef"))
	s := httptest.NewServer(&observation.Receiver{Client: client, Trials: trials.Lister(), Tokens: tokens})
	t.Cleanup(s.Close)
	return s.URL, tokens.For(trial)
}

// receiverCase is a report the receiver must refuse.
type receiverCase struct {
	name   string
	method string      // POST if empty
	path   string      // /namespaces/team-a if empty
	header http.Header // set over a valid report's headers; "" deletes
	body   string      // {"loss": 0.5} if empty; "-" for none
	status int
	want   string
}

func receiverCases() []receiverCase {
	noCE := http.Header{"Ce-Specversion": {""}, "Ce-Id": {""}, "Ce-Source": {""}, "Ce-Type": {""}, "Ce-Subject": {""}}
	structured := http.Header{"Ce-Specversion": {""}, "Ce-Id": {""}, "Ce-Source": {""}, "Ce-Type": {""}, "Ce-Subject": {""}, "Content-Type": {"application/cloudevents+json"}}
	return []receiverCase{
		{name: "unknown path", path: "/reports", status: 404, want: "no such path \"/reports\": send observations to /namespaces/<namespace>"},
		{name: "no namespace", path: "/namespaces/", status: 404, want: "no such path \"/namespaces/\": send observations to /namespaces/<namespace>"},
		{name: "namespace not a DNS label", path: "/namespaces/Team_A", status: 404, want: "no such path \"/namespaces/Team_A\""},
		{name: "path below a namespace", path: "/namespaces/team-a/trials/t1", status: 404, want: "no such path \"/namespaces/team-a/trials/t1\""},
		{name: "GET", method: http.MethodGet, status: 405, want: "method GET is not allowed: POST the observation as a CloudEvent"},
		{name: "PUT", method: http.MethodPut, status: 405, want: "method PUT is not allowed: POST the observation as a CloudEvent"},
		{name: "not a CloudEvent", header: noCE, status: 400, want: "the request is not a CloudEvent: send it in binary mode"},
		{name: "a batch", header: http.Header{"Content-Type": {"application/cloudevents-batch+json"}}, body: `[]`, status: 400, want: "batches of events are not accepted: send one event per request"},
		{name: "no id", header: http.Header{"Ce-Id": {""}}, status: 400, want: "invalid CloudEvent: id: MUST be a non-empty string"},
		{name: "no source", header: http.Header{"Ce-Source": {""}}, status: 400, want: "invalid CloudEvent: source: REQUIRED"},
		{name: "wrong type", header: http.Header{"Ce-Type": {"dev.knobs.suggestion.request"}}, status: 400, want: "event type is \"dev.knobs.suggestion.request\"; observations must have type \"dev.knobs.trial.observation\""},
		{name: "no subject", header: http.Header{"Ce-Subject": {""}}, status: 400, want: "the event has no subject: set it to the trial's name (the workload's KNOBS_TRIAL_NAME)"},
		{name: "subject not a name", header: http.Header{"Ce-Subject": {"T1!"}}, status: 400, want: "subject \"T1!\" is not a trial name: a lowercase RFC 1123 subdomain"},
		{name: "subject of 300 bytes", header: http.Header{"Ce-Subject": {strings.Repeat("t", 300)}}, status: 400, want: "is not a trial name: must be no more than 253 characters"},
		{name: "no data", body: "-", status: 400, want: "no data: want a JSON object of metric name to number"},
		{name: "data a list", body: `[0.5]`, status: 400, want: "data is a JSON array: want a JSON object of metric name to number"},
		{name: "data null", body: `null`, status: 400, want: "data is null: want a JSON object"},
		{name: "data an empty object", body: `{}`, status: 400, want: "data is an empty object: want a JSON object"},
		{name: "data not JSON", body: `loss=0.5`, status: 400, want: "data is not valid JSON (invalid character 'l' looking for beginning of value)"},
		{name: "data with more after it", body: `{"loss": 0.5} {"loss": 0.4}`, status: 400, want: "data has more after the JSON object"},
		{name: "metric an object", body: `{"loss": {"value": 0.5}}`, status: 400, want: "metric \"loss\": is a nested object or array; want a number"},
		{name: "metric null", body: `{"loss": null}`, status: 400, want: "metric \"loss\": is null; want a number"},
		{name: "metric a boolean", body: `{"loss": true}`, status: 400, want: "metric \"loss\": is true; want a number"},
		{name: "metric a word", body: `{"loss": "low"}`, status: 400, want: "metric \"loss\": \"low\" is not a number"},
		{name: "metric NaN", body: `{"loss": "NaN"}`, status: 400, want: "trial team-a/t1: metric \"loss\" is NaN: report finite numbers only"},
		{name: "metric infinite", body: `{"loss": "-Inf"}`, status: 400, want: "trial team-a/t1: metric \"loss\" is -Inf: report finite numbers only"},
		{name: "metric beyond float64", body: `{"loss": 1e999}`, status: 400, want: "metric \"loss\": \"1e999\" is out of the range of a float64"},
		{name: "step not a number", header: http.Header{"Ce-Step": {"one"}}, status: 400, want: "extension \"step\" is \"one\"; want an integer such as the epoch"},
		{name: "step negative", header: http.Header{"Ce-Step": {"-1"}}, status: 400, want: "extension \"step\" is -1; want a non-negative integer"},
		{name: "no token", header: http.Header{"Authorization": {""}}, status: 401, want: "no token: send the workload's KNOBS_TRIAL_TOKEN as header"},
		{name: "token not a bearer", header: http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, status: 401, want: "header Authorization must be \"Bearer <token>\""},
		{name: "wrong token", header: http.Header{"Authorization": {"Bearer AAAA"}}, status: 403, want: "the token is not valid for trial team-a/t1 (or there is no such trial)"},
		{name: "no such trial", header: http.Header{"Ce-Subject": {"t2"}}, status: 403, want: "the token is not valid for trial team-a/t2 (or there is no such trial)"},
		{name: "another namespace's trial", path: "/namespaces/team-b", status: 403, want: "the token is not valid for trial team-b/t1 (or there is no such trial)"},
		{name: "body over 1 MiB", body: `{"loss": 0.5, "x": "` + strings.Repeat("x", 1<<20) + `"}`, status: 413, want: "more than the 1048576 allowed"},
		{name: "structured mode, not JSON", header: structured, body: "{", status: 400, want: "decoding the CloudEvent: unexpected end of JSON input"},
	}
}

// TestBadReports sends reports the observation receiver must refuse; after
// each, a valid report is still recorded.
func TestBadReports(t *testing.T) {
	url, token := receiver(t)
	send := func(t *testing.T, id string, tc receiverCase) (int, string) {
		t.Helper()
		method := tc.method
		if method == "" {
			method = http.MethodPost
		}
		path := tc.path
		if path == "" {
			path = "/namespaces/" + receiverNS
		}
		var body io.Reader = strings.NewReader(`{"loss": 0.5}`)
		switch tc.body {
		case "-":
			body = http.NoBody
		case "":
		default:
			body = bytes.NewReader([]byte(tc.body))
		}
		req, err := http.NewRequest(method, url+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header = http.Header{
			"Ce-Specversion": {"1.0"}, "Ce-Id": {id}, "Ce-Source": {"hostile"}, "Ce-Type": {observation.EventType},
			"Ce-Subject": {"t1"}, "Content-Type": {"application/json"}, "Authorization": {"Bearer " + token},
		}
		for k, vs := range tc.header {
			req.Header.Del(k)
			for _, v := range vs {
				if v != "" {
					req.Header.Add(k, v)
				}
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		msg, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, strings.TrimSpace(string(msg))
	}
	for i, tc := range receiverCases() {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := send(t, fmt.Sprint("bad-", i), tc)
			if code != tc.status || !strings.Contains(msg, tc.want) || tc.want == "" {
				t.Errorf("%d %q, want %d with %q", code, msg, tc.status, tc.want)
			}
			// The receiver still records a valid report.
			if code, msg := send(t, fmt.Sprint("good-", i), receiverCase{}); code != http.StatusAccepted {
				t.Errorf("a valid report after it: %d %s", code, msg)
			}
		})
	}
}
