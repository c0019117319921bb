package observation

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.uber.org/zap"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/client/clientset/versioned/fake"
)

func FuzzParseData(f *testing.F) {
	for _, s := range []string{
		`{"loss": 0.25}`, `{"loss": "0.25", "accuracy": 1e-3}`, `{}`, `[]`, `null`, `{"a": {"b": 1}}`,
		`{"loss": "NaN"}`, `{"loss": 1e400}`, `{"loss": 0.5} x`, `"{}"`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseData(data)
		if err != nil {
			if got != nil {
				t.Errorf("ParseData(%q) = %v with error %v", data, got, err)
			}
			return
		}
		if len(got) == 0 {
			t.Fatalf("ParseData(%q) = empty map without error", data)
		}
		// Whatever parses is a JSON object that parses as a plain one too,
		// apart from the values given as strings.
		var plain map[string]any
		if err := json.Unmarshal(data, &plain); err != nil {
			t.Fatalf("ParseData(%q) accepted what encoding/json rejects: %v", data, err)
		}
		// Finite values survive a round trip.
		finite := map[string]float64{}
		for k, v := range got {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				finite[k] = v
			}
		}
		if len(finite) == 0 {
			return
		}
		b, err := json.Marshal(finite)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseData(b)
		if err != nil {
			t.Fatalf("ParseData(%s) of re-encoded %q: %v", b, data, err)
		}
		for k, v := range finite {
			if again[k] != v {
				t.Errorf("round trip of %q: %v became %v", k, v, again[k])
			}
		}
	})
}

// FuzzReceiver throws arbitrary requests at the Receiver with a working
// (fake) Kubernetes client: it must not panic, and must not answer 5xx,
// which would tell the sender to retry its own mistake.
func FuzzReceiver(f *testing.F) {
	tok := tokenFor(newTrial("t1"))
	f.Add("POST", "/namespaces/team-a", "application/json", "1.0", EventType, "t1", "", "Bearer "+tok, []byte(`{"loss": 0.5}`))
	f.Add("POST", "/namespaces/team-a", "application/json", "1.0", EventType, "t1", "3", "Bearer "+tok, []byte(`{"loss": "0.5", "x": 1}`))
	f.Add("POST", "/namespaces/team-a", "application/json", "1.0", EventType, "t1", "-1", "", []byte(`{"loss": NaN}`))
	f.Add("POST", "/namespaces/team-a", "application/cloudevents+json", "", "", "", "", "Bearer "+tok,
		[]byte(`{"specversion":"1.0","id":"1","source":"s","type":"`+EventType+`","subject":"t1","step":2,"knobstoken":"`+tok+`","data":{"loss":0.5}}`))
	f.Add("POST", "/namespaces/team-a", "application/cloudevents+json", "", "", "", "", "",
		[]byte(`{"specversion":"1.0","id":"1","source":"s","type":"`+EventType+`","subject":"t1","data_base64":"eyJsb3NzIjowLjV9","knobstoken":"`+tok+`"}`))
	f.Add("POST", "/namespaces/team-a", "application/cloudevents-batch+json", "", "", "", "", "", []byte(`[{}]`))
	f.Add("GET", "/namespaces/team-a", "", "", "", "", "", "", []byte(nil))
	f.Add("POST", "/namespaces/../x", "text/plain", "0.3", "x", "../t1", "x", "Bearer", []byte("\x00\xff"))

	f.Fuzz(func(t *testing.T, method, path, contentType, specversion, typ, subject, step, auth string, body []byte) {
		if !validMethod(method) || len(path) == 0 || path[0] != '/' {
			return // not something an HTTP server hands a handler
		}
		client := fake.NewSimpleClientset(newTrial("t1"), newTrial("done", withSucceeded), newTrial("bare", withoutObjective),
			newTrial("seen", withObservation(&v1alpha1.Observation{Metrics: []v1alpha1.Metric{{Name: "loss", Value: "x", Min: "y"}}})))
		rc := newReceiver(t, client)
		rc.Logger = zap.NewNop().Sugar()
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Method = method
		req.URL.Path = path
		for k, v := range map[string]string{
			"Content-Type": contentType, "Ce-Specversion": specversion, "Ce-Id": "fuzz", "Ce-Source": "fuzz",
			"Ce-Type": typ, "Ce-Subject": subject, "Ce-Step": step, TokenHeader: auth,
		} {
			if v != "" {
				req.Header.Set(k, v)
			}
		}
		w := httptest.NewRecorder()
		rc.ServeHTTP(w, req)
		if w.Code >= 500 || w.Code < 200 {
			t.Fatalf("%s %s answered %d: %s", method, path, w.Code, w.Body)
		}
	})
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}
