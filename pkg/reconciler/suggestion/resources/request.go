// Package resources builds what the Suggestion reconciler sends and checks
// what it receives; every function here is pure. The conversions between
// the resources and the wire API are all in wire.go.
package resources

import (
	"sort"
	"strconv"

	"knative.dev/pkg/kmeta"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/contract"
	"knobs.dev/knobs/pkg/function"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// MakeRequest builds the GetSuggestionsRequest for a Suggestion: the
// Experiment's spec, with its algorithm settings overlaid by the state the
// algorithm returned last; every trial handed out so far (from the Trials
// when they exist, as pending when not); and the number still wanted, at
// most what a function takes in one request (the rest comes next time).
// From function.ColumnsFrom trials on, the history travels in columns.
func MakeRequest(s *v1alpha1.Suggestion, exp *v1alpha1.Experiment, trials []*v1alpha1.Trial) *pb.GetSuggestionsRequest {
	req := &pb.GetSuggestionsRequest{
		Experiment: &pb.Experiment{
			Name: exp.Name,
			ExperimentSpec: &pb.ExperimentSpec{
				Algorithm: &pb.AlgorithmSpec{
					AlgorithmName:     s.Spec.Algorithm.AlgorithmName,
					AlgorithmSettings: algorithm.OverlaySettings(ProtoSettings(exp.Spec.Algorithm.AlgorithmSettings), ProtoSettings(s.Status.AlgorithmSettings)),
				},
				Objective:      ProtoObjective(&exp.Spec.Objective),
				ParameterSpecs: &pb.ParameterSpecs{Parameters: ProtoParameters(exp.Spec.Parameters)},
			},
		},
		Trials:        history(s, trials),
		RequestNumber: min(s.Spec.Requests-s.Status.SuggestionCount, function.DefaultMaxRequestNumber),
	}
	if len(req.Trials) >= function.ColumnsFrom {
		specs := req.Experiment.ExperimentSpec.ParameterSpecs.Parameters
		if h := function.CompactHistory(specs, req.Trials); h != nil {
			req.History, req.Trials = h, nil
		}
	}
	return req
}

// history lists the suggestions handed out, in order, then any other trial of
// the experiment (by name), each with what its Trial says.
func history(s *v1alpha1.Suggestion, trials []*v1alpha1.Trial) []*pb.Trial {
	byName := make(map[string]*v1alpha1.Trial, len(trials))
	for _, t := range trials {
		byName[t.Name] = t
	}
	out := make([]*pb.Trial, 0, len(s.Status.Suggestions)+len(trials))
	listed := make(map[string]bool, len(s.Status.Suggestions))
	for _, a := range s.Status.Suggestions {
		listed[a.Name] = true
		if t, ok := byName[a.Name]; ok {
			out = append(out, protoTrial(t))
			continue
		}
		out = append(out, pendingTrial(a.Name, a.ParameterAssignments))
	}
	var others []*v1alpha1.Trial
	for _, t := range trials {
		if !listed[t.Name] {
			others = append(others, t)
		}
	}
	sort.Slice(others, func(i, j int) bool { return others[i].Name < others[j].Name })
	for _, t := range others {
		out = append(out, protoTrial(t))
	}
	return out
}

// TrialName is the stable name of the n-th assignment (from 1) of a
// Suggestion: the Suggestion's name and n, shortened with a hash when too
// long for a Kubernetes name.
func TrialName(s *v1alpha1.Suggestion, n int) string {
	return kmeta.ChildName(s.Name, "-"+strconv.Itoa(n))
}

// CheckReply holds a function's reply to the reply contract before it is
// trusted, with the assignments handed out so far as the history. It
// returns the new assignments, each with the parameters in the Experiment's
// order and the function's own strings: what the user will see.
func CheckReply(space *searchspace.Space, s *v1alpha1.Suggestion, reply *pb.GetSuggestionsReply, want int32) ([][]v1alpha1.ParameterAssignment, error) {
	handed := make([][]*pb.ParameterAssignment, len(s.Status.Suggestions))
	for i, a := range s.Status.Suggestions {
		handed[i] = ProtoAssignments(a.ParameterAssignments)
	}
	if _, err := contract.CheckReply(space, contract.HistoryOf(space, handed), reply, int(want)); err != nil {
		return nil, err
	}
	return fromProtoAssignments(space, reply), nil
}
