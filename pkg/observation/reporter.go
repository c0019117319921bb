package observation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/google/uuid"
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
		if ns, ok := strings.CutPrefix(strings.TrimSuffix(u.Path, "/"), pathPrefix); ok && ns != "" && !strings.Contains(ns, "/") {
			r.Namespace = ns
		} else {
			return nil, fmt.Errorf("environment variable %s is not set and %s=%q does not end in %s<namespace>", EnvTrialNamespace, EnvSink, r.Sink, pathPrefix)
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
	ev := cloudevents.NewEvent()
	ev.SetID(uuid.NewString())
	ev.SetSource("knobs.dev/trial/" + r.Namespace + "/" + r.Name)
	ev.SetType(EventType)
	ev.SetSubject(r.Name)
	ev.SetTime(time.Now())
	if err := ev.SetData(cloudevents.ApplicationJSON, metrics); err != nil {
		return fmt.Errorf("encoding metrics: %w", err)
	}
	if step != nil {
		// A string: binary mode sends every attribute as a header anyway,
		// and it holds steps beyond int32.
		ev.SetExtension(StepExtension, strconv.FormatInt(*step, 10))
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
			d := wait/2 + rand.N(wait/2+1)
			select {
			case <-ctx.Done():
				return fmt.Errorf("reporting to %s: %w (last attempt: %v)", r.Sink, ctx.Err(), last)
			case <-time.After(d):
			}
			wait = min(2*wait, 10*time.Second)
		}
		retry, err := r.send(ctx, ev)
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

// send makes one attempt; it says whether a failure is worth a retry.
func (r *Reporter) send(ctx context.Context, ev cloudevents.Event) (retry bool, _ error) {
	req, err := cehttp.NewHTTPRequestFromEvent(cloudevents.WithEncodingBinary(ctx), r.Sink, ev)
	if err != nil {
		return false, fmt.Errorf("making the request: %w", err)
	}
	req.Header.Set(TokenHeader, "Bearer "+r.Token)
	client := r.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
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
