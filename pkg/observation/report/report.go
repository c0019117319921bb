// Package report is the sending half of the observation contract: the
// Reporter a trial's workload uses to send its metrics to the controller's
// receiver, and the names both sides agree on. It depends on the standard
// library alone, so that a small program (such as the metrics collector that
// wraps a trial's command) can report without the Kubernetes client.
//
// A report is a CloudEvent in binary mode: the attributes are ce-* headers,
// the metrics a JSON object of name to number in the body.
package report

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// The contract between a trial workload and the controller.
const (
	// EventType is the type of the CloudEvent a trial reports with.
	EventType = "dev.knobs.trial.observation"

	// EnvSink holds the URL a trial sends its reports to (the Knative
	// convention for where a source sends events).
	EnvSink = "K_SINK"
	// EnvTrialName holds the trial's name, the subject of its reports.
	EnvTrialName = "KNOBS_TRIAL_NAME"
	// EnvTrialNamespace holds the trial's namespace.
	EnvTrialNamespace = "KNOBS_TRIAL_NAMESPACE"
	// EnvToken holds the trial's token; a report is accepted only with it.
	EnvToken = "KNOBS_TRIAL_TOKEN"

	// TokenHeader carries the token as "Bearer <token>".
	TokenHeader = "Authorization"
	// TokenExtension carries the token as a CloudEvent extension attribute,
	// for senders that cannot set headers, such as the cloudevents CLI.
	TokenExtension = "knobstoken"
	// StepExtension is the optional extension attribute with the step (such
	// as the epoch) the metrics were measured at: an integer.
	StepExtension = "step"

	// PathPrefix starts the path of a receiver's URL for a namespace:
	// PathPrefix + namespace.
	PathPrefix = "/namespaces/"
)

// Reporter sends a trial's metrics to the controller's Receiver. A trial
// program makes one with NewReporterFromEnv and calls Report, once at the
// end or once per step (such as each epoch).
type Reporter struct {
	// Sink is the Receiver's URL for the trial's namespace (K_SINK).
	Sink string
	// Namespace and Name name the trial.
	Namespace, Name string
	// Token is the trial's token (KNOBS_TRIAL_TOKEN).
	Token string

	// HTTPClient sends the reports; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// Attempts is how often a report is tried when the receiver is
	// unavailable: connection errors and 502, 503 and 504 answers. Zero
	// means 20: with the backoff below, 73 to 146 s in all, so that a report
	// outlives the controller being restarted or rescheduled.
	Attempts int
	// Backoff is the wait after the first failed attempt; it doubles after
	// each further one, up to 10 s. Zero means 250 ms.
	Backoff time.Duration
}

// NewReporterFromEnv returns the Reporter for the trial the program runs
// for, from the environment the controller gives its workload: K_SINK,
// KNOBS_TRIAL_NAME, KNOBS_TRIAL_TOKEN and KNOBS_TRIAL_NAMESPACE (which,
// when unset, is taken from the sink's path).
func NewReporterFromEnv() (*Reporter, error) {
	r := &Reporter{}
	for _, v := range []struct {
		name string
		into *string
	}{{EnvSink, &r.Sink}, {EnvTrialName, &r.Name}, {EnvToken, &r.Token}} {
		*v.into = strings.TrimSpace(os.Getenv(v.name))
		if *v.into == "" {
			return nil, fmt.Errorf("environment variable %s is not set: run the program as a trial's workload, or set it to the trial's value", v.name)
		}
	}
	u, err := url.Parse(r.Sink)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("environment variable %s is %q; want an http or https URL", EnvSink, r.Sink)
	}
	r.Namespace = strings.TrimSpace(os.Getenv(EnvTrialNamespace))
	if r.Namespace == "" {
		if ns, ok := strings.CutPrefix(strings.TrimSuffix(u.Path, "/"), PathPrefix); ok && ns != "" && !strings.Contains(ns, "/") {
			r.Namespace = ns
		} else {
			return nil, fmt.Errorf("environment variable %s is not set and %s=%q does not end in %s<namespace>", EnvTrialNamespace, EnvSink, r.Sink, PathPrefix)
		}
	}
	return r, nil
}

// ReportError is the Receiver's refusal of a report: its HTTP status and
// message.
type ReportError struct {
	StatusCode int
	Message    string
}

func (e *ReportError) Error() string {
	msg := strings.TrimSpace(e.Message)
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	return fmt.Sprintf("receiver answered %d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), msg)
}

// Report sends metrics, measured at step when step is not nil, as one
// binary-mode CloudEvent. It retries while the receiver is unavailable,
// and returns a *ReportError when the receiver refuses the report.
func (r *Reporter) Report(ctx context.Context, metrics map[string]float64, step *int64) error {
	if len(metrics) == 0 {
		return errors.New("no metrics to report")
	}
	for n, v := range metrics {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("metric %q is %v: report finite numbers only", n, v)
		}
	}
	body, err := json.Marshal(metrics)
	if err != nil {
		return fmt.Errorf("encoding metrics: %w", err)
	}
	ev := event{
		id:      newID(),
		source:  "knobs.dev/trial/" + r.Namespace + "/" + r.Name,
		subject: r.Name,
		time:    time.Now().UTC().Format(time.RFC3339Nano),
		data:    body,
	}
	if step != nil {
		// A string: binary mode sends every attribute as a header anyway,
		// and it holds steps beyond int32.
		ev.step = strconv.FormatInt(*step, 10)
	}

	attempts, wait := r.Attempts, r.Backoff
	if attempts <= 0 {
		attempts = 20
	}
	if wait <= 0 {
		wait = 250 * time.Millisecond
	}
	var last error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			// Full jitter around the doubling wait keeps trials that failed
			// together from retrying together.
			d := wait/2 + mrand.N(wait/2+1)
			select {
			case <-ctx.Done():
				return fmt.Errorf("reporting to %s: %w (last attempt: %v)", r.Sink, ctx.Err(), last)
			case <-time.After(d):
			}
			wait = min(2*wait, 10*time.Second)
		}
		retry, err := r.send(ctx, &ev)
		if err == nil {
			return nil
		}
		last = err
		if !retry || ctx.Err() != nil {
			break
		}
	}
	return fmt.Errorf("reporting to %s: %w", r.Sink, last)
}

// event is the one CloudEvent a Reporter sends.
type event struct {
	id, source, subject, time, step string
	data                            []byte
}

// newID returns a random UUID (version 4), the event's id.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// request returns the event as a binary-mode CloudEvents HTTP request.
func (r *Reporter) request(ctx context.Context, ev *event) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.Sink, bytes.NewReader(ev.data))
	if err != nil {
		return nil, err
	}
	h := req.Header
	h.Set("Ce-Specversion", "1.0")
	h.Set("Ce-Id", ev.id)
	h.Set("Ce-Source", headerValue(ev.source))
	h.Set("Ce-Type", EventType)
	h.Set("Ce-Subject", headerValue(ev.subject))
	h.Set("Ce-Time", ev.time)
	if ev.step != "" {
		h.Set("Ce-"+StepExtension, ev.step)
	}
	h.Set("Content-Type", "application/json")
	h.Set(TokenHeader, "Bearer "+r.Token)
	return req, nil
}

// headerValue percent-encodes what the CloudEvents HTTP binding asks to be
// encoded in a header: '"', '%', and bytes outside printable ASCII.
func headerValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '%' {
			if b.Len() == 0 {
				b.WriteString(s[:i])
			}
			fmt.Fprintf(&b, "%%%02X", c)
		} else if b.Len() > 0 {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		return s
	}
	return b.String()
}

// send makes one attempt; it says whether a failure is worth a retry.
func (r *Reporter) send(ctx context.Context, ev *event) (retry bool, _ error) {
	req, err := r.request(ctx, ev)
	if err != nil {
		return false, fmt.Errorf("making the request: %w", err)
	}
	client := r.HTTPClient
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return true, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return false, nil
	}
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		retry = true
	}
	return retry, &ReportError{StatusCode: resp.StatusCode, Message: string(body)}
}

var defaultClient = &http.Client{Timeout: 30 * time.Second}
