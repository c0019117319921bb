package algorithmtest

import (
	"testing"

	"knobs.dev/knobs/pkg/algorithm"
)

// CheckReply checks what every reply to a request for count points given
// trials must satisfy: at most count points, and count unless the space is
// exhausted; each in the space; none twice, none handed out before.
func CheckReply(t testing.TB, p *algorithm.Problem, trials []algorithm.Trial, count int, out *algorithm.Suggestions) {
	t.Helper()
	if len(out.Points) > count {
		t.Fatalf("Suggest(%d) gave %d points", count, len(out.Points))
	}
	if len(out.Points) < count && !out.Exhausted {
		t.Fatalf("Suggest(%d) gave %d points without saying the space is exhausted", count, len(out.Points))
	}
	seen := make(map[string]bool)
	for i := range trials {
		seen[p.Space.Key(trials[i].Point)] = true
	}
	for _, pt := range out.Points {
		if !p.Space.Contains(pt) {
			t.Fatalf("Suggest gave %v, outside the space", pt)
		}
		k := p.Space.Key(pt)
		if seen[k] {
			t.Fatalf("Suggest gave %v twice or again after the history", p.Space.Format(pt))
		}
		seen[k] = true
	}
}
