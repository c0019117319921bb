package collector

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"knobs.dev/knobs/pkg/observation/report"
)

// ReportFunc sends one report, as report.Reporter's Report does: it
// retries while the receiver is unavailable and returns a
// *report.ReportError when the receiver refuses the report.
type ReportFunc func(ctx context.Context, metrics map[string]float64, step *int64) error

// Sender delivers reports in order, one at a time, from a queue that
// never blocks the collector. A report the receiver refuses as malformed
// is dropped; when it refuses the trial itself (unknown, ended, or a
// wrong token) the rest are dropped too. While the receiver is
// unavailable the report is tried again until Close; after Close, the
// first report whose retries run out ends the delivery.
type Sender struct {
	report ReportFunc
	logf   func(format string, args ...any)

	mu      sync.Mutex
	wake    chan struct{}
	queue   []Report
	closed  bool
	refused bool
	// Sent, Dropped count the reports delivered and given up.
	sent, dropped int
}

// NewSender returns a sender that sends with report and logs what it gives
// up with logf.
func NewSender(report ReportFunc, logf func(format string, args ...any)) *Sender {
	return &Sender{report: report, logf: logf, wake: make(chan struct{}, 1)}
}

// Push queues r.
func (s *Sender) Push(r Report) {
	s.mu.Lock()
	if s.refused {
		s.dropped++
	} else {
		s.queue = append(s.queue, r)
	}
	s.mu.Unlock()
	s.signal()
}

// Close says no more reports come; Run returns once the queue is
// delivered or given up.
func (s *Sender) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.signal()
}

func (s *Sender) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Counts returns how many reports were delivered and how many given up.
func (s *Sender) Counts() (sent, dropped int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent, s.dropped
}

// Run delivers the queue until Close and the queue is empty, or ctx ends.
func (s *Sender) Run(ctx context.Context) {
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			closed := s.closed
			s.queue = nil // let a long queue's array go
			s.mu.Unlock()
			if closed {
				return
			}
			select {
			case <-s.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		r := s.queue[0]
		s.mu.Unlock()

		err := s.report(ctx, toMap(r.Metrics), &r.Step)

		s.mu.Lock()
		var re *report.ReportError
		switch {
		case err == nil:
			s.sent++
			s.pop()
		case errors.As(err, &re) && refusesTrial(re.StatusCode):
			s.dropped += len(s.queue)
			s.queue, s.refused = nil, true
			s.logf("the receiver refused step %d, so no further metrics are reported: %v", r.Step, err)
		case errors.As(err, &re) && !retried(re.StatusCode):
			s.dropped++
			s.pop()
			s.logf("the receiver refused the metrics of step %d: %v", r.Step, err)
		case ctx.Err() != nil:
			s.dropped += len(s.queue)
			s.queue = nil
			s.mu.Unlock()
			return
		case s.closed:
			s.logf("giving up on the metrics of %d steps from step %d on: %v", len(s.queue), r.Step, err)
			s.dropped += len(s.queue)
			s.queue = nil
			s.mu.Unlock()
			return
		default:
			s.logf("the metrics of step %d are not delivered yet, trying again: %v", r.Step, err)
		}
		s.mu.Unlock()
	}
}

func (s *Sender) pop() {
	s.queue[0] = Report{}
	s.queue = s.queue[1:]
}

// refusesTrial is true for the answers that refuse any report of the
// trial: no token, a wrong one, no such trial, or a trial that has ended.
func refusesTrial(code int) bool {
	switch code {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusConflict:
		return true
	}
	return false
}

// retried is true for the answers the Reporter retries.
func retried(code int) bool {
	switch code {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

func toMap(ms []Metric) map[string]float64 {
	m := make(map[string]float64, len(ms))
	for _, x := range ms {
		m[x.Name] = x.Value
	}
	return m
}
