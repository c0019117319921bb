package resources

import (
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

// What a Suggestion's status may hold, which etcd stores whole (it refuses
// an object over 1.5 MiB). With its conditions and spec, a Suggestion stays
// under 1 MiB whatever the number of trials.
const (
	// WaitingBudget bounds the assignments status.suggestions holds while
	// they wait for their Trials, as their JSON takes it.
	WaitingBudget = 512 << 10
	// StateBudget bounds status.algorithmSettings, the algorithm's state,
	// as its JSON takes it.
	StateBudget = 256 << 10
)

// The JSON around an assignment and around each parameter of it: the
// quotes, keys and punctuation of {"name":"","parameterAssignments":[]} and
// {"name":"","value":""},.
const (
	assignmentOverhead = 40
	parameterOverhead  = 24
	// longestName is the longest name of a Trial.
	longestName = 253
	// longestNumber is the longest number a function is expected to write,
	// such as -1.2345678901234567e-308.
	longestNumber = 32
)

// Room is how many more assignments status.suggestions can take within
// WaitingBudget, each as large as the parameters allow.
func Room(s *v1alpha1.Suggestion, params []v1alpha1.ParameterSpec) int32 {
	used := WaitingSize(s.Status.Suggestions)
	per := assignmentOverhead + longestName
	for _, p := range params {
		longest := longestNumber
		for _, v := range p.FeasibleSpace.List {
			longest = max(longest, len(v))
		}
		per += parameterOverhead + len(p.Name) + longest
	}
	if used >= WaitingBudget {
		return 0
	}
	return int32((WaitingBudget - used) / per)
}

// WaitingSize is the size of assignments as their JSON takes it.
func WaitingSize(as []v1alpha1.TrialAssignment) int {
	n := 0
	for _, a := range as {
		n += assignmentOverhead + len(a.Name)
		for _, pa := range a.ParameterAssignments {
			n += parameterOverhead + len(pa.Name) + len(pa.Value)
		}
	}
	return n
}

// StateSize is the size of an algorithm's state as its JSON takes it.
func StateSize(settings []v1alpha1.AlgorithmSetting) int {
	n := 0
	for _, s := range settings {
		n += parameterOverhead + len(s.Name) + len(s.Value)
	}
	return n
}
