package collector

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"knobs.dev/knobs/pkg/observation/report"
)

func TestSender(t *testing.T) {
	unavailable := errors.New("connection refused")
	tests := []struct {
		name       string
		answers    map[int64]error // by step; nil: accepted
		want       []int64         // the steps delivered
		wantLogged int
	}{
		{name: "all accepted", want: []int64{1, 2, 3, 4}},
		{name: "a malformed report is dropped", answers: map[int64]error{2: &report.ReportError{StatusCode: 400}}, want: []int64{1, 3, 4}, wantLogged: 1},
		{name: "a trial that ended refuses the rest", answers: map[int64]error{2: &report.ReportError{StatusCode: 409}}, want: []int64{1}, wantLogged: 1},
		{name: "unavailable after close: given up", answers: map[int64]error{3: unavailable}, want: []int64{1, 2}, wantLogged: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []int64
			var logged int
			s := NewSender(func(_ context.Context, m map[string]float64, step *int64) error {
				if err := tc.answers[*step]; err != nil {
					return err
				}
				got = append(got, *step)
				return nil
			}, func(string, ...any) { logged++ })
			for i := int64(1); i <= 4; i++ {
				s.Push(Report{Step: i, Metrics: []Metric{{"loss", float64(i)}}})
			}
			s.Close()
			s.Run(context.Background())
			if d := cmp.Diff(tc.want, got); d != "" || logged != tc.wantLogged {
				t.Errorf("delivered (-want, +got):\n%s\nlogged %d, want %d", d, logged, tc.wantLogged)
			}
			sent, dropped := s.Counts()
			if sent+dropped != 4 {
				t.Errorf("sent %d + dropped %d, want 4", sent, dropped)
			}
		})
	}
}

// While the command runs, a report the receiver is unavailable for is
// tried again.
func TestSenderRetriesWhileRunning(t *testing.T) {
	fails := 3
	var got []int64
	s := NewSender(func(_ context.Context, _ map[string]float64, step *int64) error {
		if fails > 0 {
			fails--
			return fmt.Errorf("attempt failed")
		}
		got = append(got, *step)
		return nil
	}, func(string, ...any) {})
	done := make(chan struct{})
	go func() { s.Run(context.Background()); close(done) }()
	s.Push(Report{Step: 1, Metrics: []Metric{{"loss", 1}}})
	s.Push(Report{Step: 2, Metrics: []Metric{{"loss", 2}}})
	for {
		if sent, _ := s.Counts(); sent == 2 {
			break
		}
	}
	s.Close()
	<-done
	if d := cmp.Diff([]int64{1, 2}, got); d != "" {
		t.Errorf("delivered (-want, +got):\n%s", d)
	}
}
