package observation

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/zap"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/client/clientset/versioned/fake"
)

// BenchmarkApply folds one report of two metrics into an observation.
func BenchmarkApply(b *testing.B) {
	obj := newTrial("t").Spec.Objective
	obs := &v1alpha1.Observation{}
	metrics := map[string]float64{"loss": 0.5, "accuracy": 0.9}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		step := int64(i)
		next, _, err := Apply(obs, obj, metrics, &step)
		if err != nil {
			b.Fatal(err)
		}
		obs = next
	}
}

// BenchmarkReceiver handles one binary-mode report end to end: decode, token
// checked against the cached Trial, and status update of the Trial (a fake clientset in place of the API
// server).
func BenchmarkReceiver(b *testing.B) {
	trial := newTrial("t")
	rc := newReceiver(b, fake.NewSimpleClientset(trial))
	rc.Logger = zap.NewNop().Sugar()
	token := NewTokens(testKey).For(trial)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		req := httptest.NewRequest(http.MethodPost, "/namespaces/"+testNS, strings.NewReader(`{"loss": 0.25, "accuracy": 0.9}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Ce-Specversion", "1.0")
		req.Header.Set("Ce-Id", strconv.Itoa(i))
		req.Header.Set("Ce-Source", "bench")
		req.Header.Set("Ce-Type", EventType)
		req.Header.Set("Ce-Subject", "t")
		req.Header.Set("Ce-Step", strconv.Itoa(i))
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		rc.ServeHTTP(w, req)
		if w.Code != http.StatusAccepted {
			b.Fatalf("%d: %s", w.Code, w.Body.String())
		}
	}
}
