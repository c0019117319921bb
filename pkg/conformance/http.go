package conformance

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"knobs.dev/knobs/pkg/function"
)

// httpChecks are the checks of HTTP itself: the health check, and events a
// function must refuse as the caller's mistake (4xx), never as its own
// fault (5xx).
func (s *Suite) httpChecks() []check {
	ce := func(typ, contentType, body string) func(ctx context.Context) (string, error) {
		return func(ctx context.Context) (string, error) {
			h := http.Header{}
			if typ != "" {
				h.Set("Ce-Specversion", "1.0")
				h.Set("Ce-Type", typ)
				h.Set("Ce-Source", "knobs.dev/conformance")
				h.Set("Ce-Id", "conformance-1")
			}
			h.Set("Content-Type", contentType)
			return s.wantClientError(ctx, h, body)
		}
	}
	return []check{
		{"healthz", s.checkHealthz},
		{"not-a-cloudevent", ce("", "application/json", `{"requestNumber": 1}`)},
		{"unknown-event-type", ce("dev.knobs.no.such.request", function.ContentTypeJSON, `{"requestNumber": 1}`)},
		{"undecodable-json", ce(function.TypeSuggestionRequest, function.ContentTypeJSON, `{"requestNumber": `)},
		{"undecodable-protobuf", ce(function.TypeSuggestionRequest, function.ContentTypeProtobuf, "\xff\xff\xff\xff")},
		{"unknown-data-content-type", ce(function.TypeSuggestionRequest, "application/x-no-such-type", `{}`)},
	}
}

func (s *Suite) client() *http.Client {
	if s.HTTP != nil {
		return s.HTTP
	}
	return http.DefaultClient
}

func (s *Suite) checkHealthz(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(s.URL, "/")+"/healthz", nil)
	if err != nil {
		return "", err
	}
	resp, err := s.client().Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET /healthz answered %d; want 200", resp.StatusCode)
	}
	return "", nil
}

// wantClientError posts body with the headers and wants a 4xx.
func (s *Suite) wantClientError(ctx context.Context, h http.Header, body string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header = h
	resp, err := s.client().Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		return "", fmt.Errorf("answered %d; want a 4xx that says what is wrong: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return fmt.Sprintf("%d", resp.StatusCode), nil
}
