package resources_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/reconciler/suggestion/resources"
	. "knobs.dev/knobs/pkg/reconciler/testing"
)

// TestLargestSuggestion fills a Suggestion as far as the controller lets
// it grow, with the longest names and values the API allows, and checks
// that its JSON stays under 1 MiB, well inside etcd's 1.5 MiB.
func TestLargestSuggestion(t *testing.T) {
	long := func(c byte, n int) string { return strings.Repeat(string(c), n) }
	exp := NewExperiment(long('e', 253), ns)
	exp.Spec.Parameters = nil
	for i := 0; i < 64; i++ {
		exp.Spec.Parameters = append(exp.Spec.Parameters, v1alpha1.ParameterSpec{
			Name: long('p', 250) + strconv.Itoa(i), ParameterType: v1alpha1.ParameterTypeCategorical,
			FeasibleSpace: v1alpha1.FeasibleSpace{List: []string{long('v', 253), "b"}},
		})
	}
	s := NewSuggestion(exp.Name, ns, WithRequests(1<<30), WithInitConditions)
	for n := resources.Room(s, exp.Spec.Parameters); n > 0; n = resources.Room(s, exp.Spec.Parameters) {
		for range n {
			s.Status.SuggestionCount++
			a := v1alpha1.TrialAssignment{Name: long('t', 253)}
			for _, p := range exp.Spec.Parameters {
				a.ParameterAssignments = append(a.ParameterAssignments, v1alpha1.ParameterAssignment{Name: p.Name, Value: p.FeasibleSpace.List[0]})
			}
			s.Status.Suggestions = append(s.Status.Suggestions, a)
		}
	}
	if len(s.Status.Suggestions) == 0 {
		t.Fatal("no room for one assignment of 64 long parameters")
	}
	for resources.StateSize(s.Status.AlgorithmSettings) < resources.StateBudget-1024 {
		s.Status.AlgorithmSettings = append(s.Status.AlgorithmSettings, v1alpha1.AlgorithmSetting{Name: "state", Value: long('s', 1000)})
	}
	s.Spec.Algorithm = exp.Spec.Algorithm
	s.Status.MarkRequestRetrying(v1alpha1.ReasonInvalidReply, "%s", long('m', 32<<10))
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 1<<20 {
		t.Errorf("the largest Suggestion takes %d bytes (%d assignments waiting), more than 1 MiB", len(b), len(s.Status.Suggestions))
	}
	t.Logf("largest Suggestion: %d bytes, %d assignments of 64 parameters waiting", len(b), len(s.Status.Suggestions))
}

func TestRoom(t *testing.T) {
	exp := NewExperiment("mnist", ns)
	s := NewSuggestion("mnist", ns, WithRequests(1<<20))
	room := resources.Room(s, exp.Spec.Parameters)
	if room < 1000 {
		t.Fatalf("Room() = %d for three short parameters, want over 1000", room)
	}
	if got := resources.MakeRequest(s, exp, nil).GetRequestNumber(); got != room {
		t.Errorf("request_number = %d, want the room %d", got, room)
	}
	for resources.Room(s, exp.Spec.Parameters) > 0 {
		WithAssignments(a1)(s)
	}
	if n := resources.WaitingSize(s.Status.Suggestions); n > resources.WaitingBudget {
		t.Errorf("filled up to Room, the assignments take %d bytes, more than %d", n, resources.WaitingBudget)
	}
	if got := resources.MakeRequest(s, exp, nil).GetRequestNumber(); got != 0 {
		t.Errorf("request_number = %d once full, want 0", got)
	}
	WithTrialsCreated(len(s.Status.Suggestions))(s)
	if got := resources.Room(s, exp.Spec.Parameters); got != room {
		t.Errorf("Room() = %d once the Trials exist, want %d again", got, room)
	}
}
