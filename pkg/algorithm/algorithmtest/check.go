package algorithmtest

import (
	"testing"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/contract"
)

// CheckReply fails the test when an algorithm's answer to a request for
// count points, given trials, breaks the reply contract (pkg/contract).
func CheckReply(t testing.TB, p *algorithm.Problem, trials []algorithm.Trial, count int, out *algorithm.Suggestions) {
	t.Helper()
	history := contract.NewHistory(p.Space)
	for i := range trials {
		history.Add(trials[i].Point)
	}
	if err := contract.CheckPoints(p.Space, history, out.Points, out.Exhausted, count); err != nil {
		t.Fatalf("Suggest(%d) with %d trials: %v", count, len(trials), err)
	}
}
