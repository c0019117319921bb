package observation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/cloudevents/sdk-go/v2/types"
	"go.uber.org/zap"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/util/retry"
	"knative.dev/pkg/logging"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/client/clientset/versioned"
	listers "knobs.dev/knobs/pkg/client/listers/tuning/v1alpha1"
	reporting "knobs.dev/knobs/pkg/observation/report"
)

// MaxBodyBytes is the largest request body the Receiver reads.
const MaxBodyBytes = 1 << 20

const pathPrefix = reporting.PathPrefix

// SinkFor returns the URL a trial in namespace reports to, for a Receiver
// served at base: what the workload gets as K_SINK.
func SinkFor(base, namespace string) string {
	return strings.TrimRight(base, "/") + pathPrefix + namespace
}

// Receiver records the observations trials report. It serves
// POST /namespaces/<namespace>: a CloudEvent of type EventType, in binary or
// structured mode, whose subject is the name of a trial in that namespace
// and which carries the trial's token. It answers 202 Accepted once the
// observation is in the Trial's status; 4xx when the report is wrong, and
// then nothing is written; 503 when the Kubernetes API failed, which is
// worth a retry.
type Receiver struct {
	// Client updates Trials, and reads one again when its update conflicts.
	Client versioned.Interface
	// Trials is the informer's cache of Trials that a report's token is
	// checked against, so that a report whose token does not check out
	// costs no call to the Kubernetes API.
	Trials listers.TrialLister
	// Tokens checks the trials' tokens.
	Tokens *Tokens
	// CacheWait is how long a report for a trial that Trials does not hold
	// yet waits for it (DefaultCacheWait in the controller); 0 refuses it
	// at once.
	CacheWait time.Duration
	// Logger, when set, is used instead of the request context's logger.
	Logger *zap.SugaredLogger

	// recent holds the reports recorded last, by trial and CloudEvent
	// source and id, so that a report sent again (its answer lost) is not
	// counted twice.
	recent recentReports
}

// recentReports remembers the last maxRecent reports recorded.
type recentReports struct {
	mu   sync.Mutex
	seen map[string]bool
	ring []string
	next int
}

const maxRecent = 4096

func (rr *recentReports) has(key string) bool {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return rr.seen[key]
}

func (rr *recentReports) add(key string) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if rr.seen == nil {
		rr.seen = make(map[string]bool, maxRecent)
		rr.ring = make([]string, maxRecent)
	}
	if rr.seen[key] {
		return
	}
	delete(rr.seen, rr.ring[rr.next])
	rr.ring[rr.next] = key
	rr.seen[key] = true
	rr.next = (rr.next + 1) % maxRecent
}

var _ http.Handler = (*Receiver)(nil)

// Accepted is the body of a 202 answer.
type Accepted struct {
	// Trial is the name of the trial.
	Trial string `json:"trial"`
	// Namespace is the trial's namespace.
	Namespace string `json:"namespace"`
	// Observation is the trial's observation with the report in it; for a
	// Duplicate, the observation as the receiver's cache has it, which may
	// not show the report yet.
	Observation *v1alpha1.Observation `json:"observation"`
	// Ignored are some of the reported metrics the experiment does not know:
	// at most MaxNamesShown, each cut to MaxNameShown bytes.
	Ignored []string `json:"ignored,omitempty"`
	// IgnoredCount is the number of reported metrics the experiment does
	// not know, all of them.
	IgnoredCount int `json:"ignoredCount,omitempty"`
	// Duplicate is true when the report (its source and id) was recorded
	// before: it is not counted again.
	Duplicate bool `json:"duplicate,omitempty"`
}

// statusError is an answer other than 202: its code and message.
type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string { return e.msg }

func reject(code int, format string, args ...any) error {
	return &statusError{code: code, msg: fmt.Sprintf(format, args...)}
}

// ServeHTTP implements http.Handler.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	logger := rc.Logger
	if logger == nil {
		logger = logging.FromContext(r.Context())
	}
	namespace, name, acc, err := rc.serve(r)
	logger = logger.With(zap.String("namespace", namespace), zap.String("trial", name))
	if err == nil {
		var reports int32
		if acc.Observation != nil {
			reports = acc.Observation.Reports
		}
		logger.Infow("Recorded observation", zap.Int32("reports", reports),
			zap.Strings("ignored", acc.Ignored), zap.Int("ignoredCount", acc.IgnoredCount))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(acc)
		return
	}
	var se *statusError
	if !errors.As(err, &se) {
		// Anything not classified is the Kubernetes API failing, possibly
		// after retrying conflicts: the sender should try again.
		logger.Errorw("Failed to record observation", zap.Error(err))
		w.Header().Set("Retry-After", "1")
		http.Error(w, fmt.Sprintf("could not record the observation, retry later: %v", err), http.StatusServiceUnavailable)
		return
	}
	logger.Infow("Rejected observation", zap.Int("status", se.code), zap.String("reason", se.msg))
	switch se.code {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", http.MethodPost)
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	http.Error(w, se.msg, se.code)
}

// serve handles one request; it returns the trial's namespace and name as
// far as known, and a *statusError for every answer but 202 and 503.
func (rc *Receiver) serve(r *http.Request) (namespace, name string, _ *Accepted, _ error) {
	namespace, ok := strings.CutPrefix(r.URL.Path, pathPrefix)
	namespace = strings.TrimSuffix(namespace, "/")
	if !ok || len(validation.IsDNS1123Label(namespace)) > 0 {
		return "", "", nil, reject(http.StatusNotFound, "no such path %q: send observations to %s<namespace>", clip(r.URL.Path), pathPrefix)
	}
	if r.Method != http.MethodPost {
		return namespace, "", nil, reject(http.StatusMethodNotAllowed, "method %s is not allowed: POST the observation as a CloudEvent", r.Method)
	}

	ev, err := decode(r)
	if err != nil {
		return namespace, "", nil, err
	}
	name = clip(ev.Subject()) // as logged; a name this long is refused below
	if ev.Type() != EventType {
		return namespace, name, nil, reject(http.StatusBadRequest, "event type is %q; observations must have type %q", clip(ev.Type()), EventType)
	}
	if name == "" {
		return namespace, name, nil, reject(http.StatusBadRequest, "the event has no subject: set it to the trial's name (the workload's %s)", EnvTrialName)
	}
	if errs := validation.IsDNS1123Subdomain(ev.Subject()); len(errs) > 0 {
		return namespace, name, nil, reject(http.StatusBadRequest, "subject %q is not a trial name: %s", name, strings.Join(errs, "; "))
	}
	metrics, err := ParseData(ev.Data())
	if err != nil {
		return namespace, name, nil, reject(http.StatusBadRequest, "%v", err)
	}
	step, err := stepOf(ev)
	if err != nil {
		return namespace, name, nil, err
	}
	token, err := tokenOf(r, ev)
	if err != nil {
		return namespace, name, nil, err
	}

	acc, err := rc.record(r.Context(), namespace, name, token, ev.Source()+"\x00"+ev.ID(), metrics, step)
	return namespace, name, acc, err
}

// decode reads the request's CloudEvent, in binary or structured mode.
func decode(r *http.Request) (*event.Event, error) {
	if r.ContentLength > MaxBodyBytes {
		return nil, reject(http.StatusRequestEntityTooLarge, "the request body has %d bytes, more than the %d allowed", r.ContentLength, MaxBodyBytes)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, reject(http.StatusBadRequest, "reading the request body: %v", err)
	}
	if len(body) > MaxBodyBytes {
		return nil, reject(http.StatusRequestEntityTooLarge, "the request body has more than the %d bytes allowed", MaxBodyBytes)
	}
	msg := cehttp.NewMessage(r.Header, io.NopCloser(bytes.NewReader(body)))
	defer func() { _ = msg.Finish(nil) }()
	switch msg.ReadEncoding() {
	case binding.EncodingBatch:
		return nil, reject(http.StatusBadRequest, "batches of events are not accepted: send one event per request")
	case binding.EncodingUnknown:
		return nil, reject(http.StatusBadRequest, "the request is not a CloudEvent: send it in binary mode "+
			"(headers ce-specversion: 1.0, ce-id, ce-source, ce-type: %s and ce-subject, the metrics as a JSON body) "+
			"or in structured mode (Content-Type: application/cloudevents+json)", EventType)
	}
	ev, err := binding.ToEvent(r.Context(), msg)
	if err != nil {
		return nil, reject(http.StatusBadRequest, "decoding the CloudEvent: %v", err)
	}
	if err := ev.Validate(); err != nil {
		return nil, reject(http.StatusBadRequest, "invalid CloudEvent: %v", err)
	}
	return ev, nil
}

// stepOf returns the event's step extension, if any.
func stepOf(ev *event.Event) (*int64, error) {
	v, ok := ev.Extensions()[StepExtension]
	if !ok {
		return nil, nil
	}
	var step int64
	switch x := v.(type) {
	case int32:
		step = int64(x)
	case string:
		s, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return nil, reject(http.StatusBadRequest, "extension %q is %q; want an integer such as the epoch", StepExtension, x)
		}
		step = s
	default:
		return nil, reject(http.StatusBadRequest, "extension %q is %v; want an integer such as the epoch", StepExtension, v)
	}
	if step < 0 {
		return nil, reject(http.StatusBadRequest, "extension %q is %d; want a non-negative integer", StepExtension, step)
	}
	return &step, nil
}

// tokenOf returns the token from the Authorization header or, failing
// that, from the event's token extension.
func tokenOf(r *http.Request, ev *event.Event) (string, error) {
	if h := r.Header.Get(TokenHeader); h != "" {
		scheme, token, _ := strings.Cut(strings.TrimSpace(h), " ")
		token = strings.TrimSpace(token)
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			return "", reject(http.StatusUnauthorized, "header %s must be \"Bearer <token>\" with the workload's %s", TokenHeader, EnvToken)
		}
		return token, nil
	}
	if v, ok := ev.Extensions()[TokenExtension]; ok {
		if s, err := types.ToString(v); err == nil && strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s), nil
		}
	}
	return "", reject(http.StatusUnauthorized, "no token: send the workload's %s as header \"%s: Bearer <token>\" or as extension attribute %q",
		EnvToken, TokenHeader, TokenExtension)
}

// deny is the answer to a report for a trial that does not exist and to one
// whose token is not the trial's: one answer for both, so that reports
// cannot tell which trials exist.
func deny(namespace, name string) error {
	return reject(http.StatusForbidden, "the token is not valid for trial %s/%s (or there is no such trial): send the %s given to its workload",
		namespace, name, EnvToken)
}

// DefaultCacheWait is how long the controller's receiver lets a report for a
// trial its cache does not hold wait for it (Receiver.CacheWait): a trial's
// workload starts after the trial is created, but this replica's cache may
// see the trial a moment after the workload sends. The wait costs no API
// call, and a refusal (403) is final for a reporter.
const DefaultCacheWait = 2 * time.Second

// cachedTrial returns the trial from the informer's cache, waiting up to
// rc.CacheWait for one it does not hold yet.
func (rc *Receiver) cachedTrial(ctx context.Context, namespace, name string) (*v1alpha1.Trial, error) {
	deadline := time.Now().Add(rc.CacheWait)
	for {
		t, err := rc.Trials.Trials(namespace).Get(name)
		if !apierrs.IsNotFound(err) || time.Now().After(deadline) {
			return t, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// record folds the report into the trial's status. The token is checked
// against the trial in the informer's cache, and a report whose token does
// not check out is refused without a call to the Kubernetes API, whether
// the trial exists or not. The status update starts from the cached trial;
// when it conflicts, every further attempt reads the trial afresh and
// checks it again, so nothing is written for a report that is refused.
func (rc *Receiver) record(ctx context.Context, namespace, name, token, report string, metrics map[string]float64, step *int64) (*Accepted, error) {
	if rc.Client == nil || rc.Tokens == nil || rc.Trials == nil {
		return nil, errors.New("the receiver has no Kubernetes client, no token key or no cache of trials")
	}
	denied := deny(namespace, name)
	cached, err := rc.cachedTrial(ctx, namespace, name)
	if apierrs.IsNotFound(err) {
		return nil, denied
	}
	if err != nil {
		return nil, fmt.Errorf("reading trial %s/%s from the cache: %w", namespace, name, err)
	}
	if !rc.Tokens.Valid(cached, token) {
		return nil, denied
	}

	trials := rc.Client.TuningV1alpha1().Trials(namespace)
	t := cached.DeepCopy()
	var acc *Accepted
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if t == nil {
			// An update conflicted: read the trial as it is now.
			live, err := trials.Get(ctx, name, metav1.GetOptions{})
			if apierrs.IsNotFound(err) {
				return denied
			}
			if err != nil {
				return fmt.Errorf("reading trial %s/%s: %w", namespace, name, err)
			}
			t = live
		}
		current := t
		t = nil // read again on the next attempt
		if !rc.Tokens.Valid(current, token) {
			return denied // created again under its name
		}
		var err error
		acc, err = rc.apply(ctx, current, report, metrics, step)
		return err
	})
	if err != nil {
		var se *statusError
		if !errors.As(err, &se) && apierrs.IsConflict(err) {
			err = fmt.Errorf("updating trial %s/%s kept conflicting: %w", namespace, name, err)
		}
		return nil, err
	}
	return acc, nil
}

// apply folds the report into trial t, whose token the report carries, and
// updates its status, unless the report was recorded before. The report is
// checked in full first, a report sent again as well.
func (rc *Receiver) apply(ctx context.Context, t *v1alpha1.Trial, report string, metrics map[string]float64, step *int64) (*Accepted, error) {
	namespace, name := t.Namespace, t.Name
	if t.Status.IsDone() {
		return nil, reject(http.StatusConflict, "trial %s/%s has ended; observations are no longer accepted", namespace, name)
	}
	if t.Spec.Objective == nil {
		return nil, reject(http.StatusConflict, "trial %s/%s has no spec.objective, so it does not know which metrics to record; "+
			"trials created by an Experiment have one, add it to a trial made by hand", namespace, name)
	}
	obs, ignored, err := Apply(t.Status.Observation, t.Spec.Objective, metrics, step)
	if err != nil {
		return nil, reject(http.StatusBadRequest, "trial %s/%s: %v", namespace, name, err)
	}
	key := string(t.UID) + "\x00" + report
	if rc.recent.has(key) {
		return &Accepted{Trial: name, Namespace: namespace, Observation: t.Status.Observation, Duplicate: true}, nil
	}
	t.Status.Observation = obs
	updated, err := rc.Client.TuningV1alpha1().Trials(namespace).UpdateStatus(ctx, t, metav1.UpdateOptions{})
	if apierrs.IsNotFound(err) {
		return nil, deny(namespace, name)
	}
	if apierrs.IsInvalid(err) {
		// The report is well formed, but the status it makes is not
		// (such as more metrics than a Trial holds, written by hand).
		return nil, reject(http.StatusUnprocessableEntity, "trial %s/%s: the API server refused the observation: %v", namespace, name, err)
	}
	if err != nil {
		return nil, err // a conflict is retried
	}
	rc.recent.add(key)
	acc := &Accepted{Trial: name, Namespace: namespace, Observation: obs, Ignored: sampleNames(ignored), IgnoredCount: len(ignored)}
	if updated != nil && updated.Status.Observation != nil {
		acc.Observation = updated.Status.Observation
	}
	return acc, nil
}
