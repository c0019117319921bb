package reconciler

import "knobs.dev/knobs/pkg/apis/tuning/v1alpha1"

// Waiting returns the assignments of as that no Trial of trials holds, in
// their order, or nil when every one is held. A Trial holds the assignment
// of its name when holds says so, or always when holds is nil. It costs a
// look-up per Trial in a set of the assignments' names (at most the trials
// in flight), not a set of every Trial's name.
func Waiting(as []v1alpha1.TrialAssignment, trials []*v1alpha1.Trial, holds func(*v1alpha1.Trial) bool) []v1alpha1.TrialAssignment {
	if len(as) == 0 {
		return nil
	}
	held := make(map[string]bool, len(as))
	for _, a := range as {
		held[a.Name] = false
	}
	for _, t := range trials {
		if h, ok := held[t.Name]; ok && !h && (holds == nil || holds(t)) {
			held[t.Name] = true
		}
	}
	var out []v1alpha1.TrialAssignment
	for _, a := range as {
		if !held[a.Name] {
			out = append(out, a)
		}
	}
	return out
}
