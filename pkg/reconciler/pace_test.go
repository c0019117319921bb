package reconciler

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

func TestPaceDelay(t *testing.T) {
	p := NewPace(nil)
	big, small := types.NamespacedName{Namespace: "ns", Name: "big"}, types.NamespacedName{Namespace: "ns", Name: "small"}
	if d := p.Delay(big); d != 0 {
		t.Errorf("before any pass: %s, want 0", d)
	}
	p.Passed(big, time.Now().Add(-100*time.Millisecond))
	p.Passed(small, time.Now())
	if d := p.Delay(big); d < PaceFactor*100*time.Millisecond || d > MaxPaceDelay {
		t.Errorf("after a pass of 100ms: %s, want %d times that", d, PaceFactor)
	}
	if d := p.Delay(small); d != 0 {
		t.Errorf("after a pass under a millisecond: %s, want 0", d)
	}
	p.Passed(big, time.Now().Add(-time.Hour))
	if d := p.Delay(big); d != MaxPaceDelay {
		t.Errorf("after a pass of an hour: %s, want at most %s", d, MaxPaceDelay)
	}
	p.Passed(big, time.Now())
	if d := p.Delay(big); d != 0 {
		t.Errorf("after a quick pass again: %s, want 0 (forgotten)", d)
	}
}
