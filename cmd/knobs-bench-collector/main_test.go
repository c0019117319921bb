package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"

	"knobs.dev/knobs/pkg/observation/report"
)

// The test binary is the child, as the command itself is.
func TestMain(m *testing.M) {
	if n := os.Getenv(envChild); n != "" {
		if err := child(n, os.Getenv(envRusage)); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestRunDeliversEveryReport(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("peak RSS is read from /proc")
	}
	var b strings.Builder
	if err := run(context.Background(), &b, 300, 1); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`with go build -trimpath -ldflags="-s -w"`,
		"| child alone | ",
		"| child in the collector | ",
		"| collector without K_SINK: runs the child only | ",
		"| collector, until the last report is delivered | ",
		"reports delivered: 300 of 300 a run",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
}

func TestSinkCountsOnlyTheTrialsObservations(t *testing.T) {
	s := &sink{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	post := func(typ, subject, auth string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"loss": 1}`))
		req.Header.Set("Ce-Type", typ)
		req.Header.Set("Ce-Subject", subject)
		req.Header.Set(report.TokenHeader, auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		typ, subject, auth string
		want               int
	}{
		{report.EventType, trialName, "Bearer " + token, http.StatusAccepted},
		{report.EventType, trialName, "Bearer " + token, http.StatusAccepted},
		{report.EventType, trialName, "Bearer other", http.StatusBadRequest},
		{report.EventType, "bench-2", "Bearer " + token, http.StatusBadRequest},
		{"dev.knobs.other", trialName, "Bearer " + token, http.StatusBadRequest},
	} {
		if got := post(tc.typ, tc.subject, tc.auth); got != tc.want {
			t.Errorf("%s from %s with %q: %d, want %d", tc.typ, tc.subject, tc.auth, got, tc.want)
		}
	}
	if events, bad, _ := s.take(); events != 2 || bad != 3 {
		t.Errorf("counted %d events and %d refused, want 2 and 3", events, bad)
	}
	if events, bad, _ := s.take(); events != 0 || bad != 0 {
		t.Errorf("after take: %d events and %d refused, want none", events, bad)
	}
}

func TestSpread(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want string
	}{
		{[]float64{2}, "2.0 s"},
		{[]float64{3, 1, 2}, "2.0 [1.0–3.0] s"},
		{[]float64{4, 1, 2, 3}, "2.5 [1.0–4.0] s"},
	} {
		if got := spread(tc.xs, func(x float64) float64 { return x }, "%.1f", " s"); got != tc.want {
			t.Errorf("spread(%v) = %q, want %q", tc.xs, got, tc.want)
		}
	}
}
