package algorithmtest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"knobs.dev/knobs/pkg/algorithm"
)

// checkCounter is a context that counts the checks of its Err and is
// cancelled at check number at (from 1), or never when at is 0.
type checkCounter struct {
	context.Context
	at     int64
	checks atomic.Int64
	once   sync.Once
	done   chan struct{}
}

func newCheckCounter(at int64) *checkCounter {
	return &checkCounter{Context: context.Background(), at: at, done: make(chan struct{})}
}

func (c *checkCounter) Err() error {
	if n := c.checks.Add(1); c.at > 0 && n >= c.at {
		c.once.Do(func() { close(c.done) })
		return context.Canceled
	}
	return nil
}

func (c *checkCounter) Done() <-chan struct{} { return c.done }

// CancelledMidway fails the test unless a call honours its context while it
// works, not only at its start: a call for count points checks its context
// at least count times, and a context cancelled at any of the checks (the
// first, one in the middle, the last) ends the call with context.Canceled.
func CancelledMidway(t testing.TB, alg algorithm.Algorithm, p *algorithm.Problem, trials []algorithm.Trial, count int) {
	t.Helper()
	full := newCheckCounter(0)
	if _, err := alg.Suggest(full, p, trials, count); err != nil {
		t.Fatalf("Suggest: %v", err)
	}
	checks := full.checks.Load()
	if checks < int64(count) {
		t.Errorf("Suggest for %d points checked its context %d times, want at least once a point", count, checks)
	}
	for _, at := range []int64{1, max(checks/2, 1), max(checks, 1)} {
		ctx := newCheckCounter(at)
		if out, err := alg.Suggest(ctx, p, trials, count); !errors.Is(err, context.Canceled) {
			t.Errorf("Suggest with its context cancelled at check %d of %d = %v, %v; want context.Canceled", at, checks, out, err)
		}
	}
}
