// Package resources builds what the Suggestion reconciler sends and checks
// what it receives; every function here is pure. The conversions between
// the resources and the wire API are all in wire.go.
package resources

import (
	"strconv"

	"knative.dev/pkg/kmeta"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/contract"
	"knobs.dev/knobs/pkg/function"
	"knobs.dev/knobs/pkg/reconciler"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// MakeRequest builds the GetSuggestionsRequest for a Suggestion: the
// Experiment's spec, with its algorithm settings overlaid by the state the
// algorithm returned last; every trial handed out so far (from the Trials
// when they exist, as pending when not); and the number still wanted, at
// most what a function takes in one request and what status.suggestions
// has room for (Room; the rest comes next time). From function.ColumnsFrom
// trials on, the history travels in columns.
func MakeRequest(s *v1alpha1.Suggestion, exp *v1alpha1.Experiment, trials []*v1alpha1.Trial) *pb.GetSuggestionsRequest {
	sorted := append([]*v1alpha1.Trial(nil), trials...)
	reconciler.SortTrials(sorted)
	done := make([]*pb.Trial, len(sorted))
	for i, t := range sorted {
		done[i] = ProtoTrial(t)
	}
	return MakeRequestOf(s, exp, done, waiting(s, trials))
}

// MakeRequestOf builds the request as MakeRequest does, from the
// Experiment's Trials already as the wire's messages and in the order they
// came to be (reconciler.SortTrials), and the assignments handed out that
// have no Trial yet, sent as pending after them. The messages of the Trials
// are read, not changed, so they can be kept from one request to the next.
func MakeRequestOf(s *v1alpha1.Suggestion, exp *v1alpha1.Experiment, trials []*pb.Trial, waiting []v1alpha1.TrialAssignment) *pb.GetSuggestionsRequest {
	history := make([]*pb.Trial, len(trials), len(trials)+len(waiting))
	copy(history, trials)
	for _, a := range waiting {
		history = append(history, pendingTrial(a.Name, a.ParameterAssignments))
	}
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
		Trials:        history,
		RequestNumber: max(0, min(s.Spec.Requests-s.Status.SuggestionCount, function.DefaultMaxRequestNumber, Room(s, exp.Spec.Parameters))),
	}
	if len(req.Trials) >= function.ColumnsFrom {
		specs := req.Experiment.ExperimentSpec.ParameterSpecs.Parameters
		if h := function.CompactHistory(specs, req.Trials); h != nil {
			req.History, req.Trials = h, nil
		}
	}
	return req
}

// waiting returns the assignments handed out that have no Trial of their
// name yet.
func waiting(s *v1alpha1.Suggestion, trials []*v1alpha1.Trial) []v1alpha1.TrialAssignment {
	return reconciler.Waiting(s.Status.Suggestions, trials, nil)
}

// TrialName is the stable name of the n-th assignment (from 1) of a
// Suggestion: the Suggestion's name and n, shortened with a hash when too
// long for a Kubernetes name.
func TrialName(s *v1alpha1.Suggestion, n int) string {
	return kmeta.ChildName(s.Name, "-"+strconv.Itoa(n))
}

// CheckReply holds a function's reply to the reply contract before it is
// trusted, with the history the function was sent: the experiment's trials
// and the assignments handed out that have no Trial yet. It returns the new
// assignments, each with the parameters in the Experiment's order and the
// function's own strings: what the user will see.
func CheckReply(space *searchspace.Space, s *v1alpha1.Suggestion, trials []*v1alpha1.Trial, reply *pb.GetSuggestionsReply, want int32) ([][]v1alpha1.ParameterAssignment, error) {
	handed := contract.NewHistory(space)
	for _, t := range trials {
		if pt, ok := TrialPoint(space, ProtoAssignments(t.Spec.ParameterAssignments)); ok {
			handed.Add(pt)
		}
	}
	return CheckReplyWith(space, handed, waiting(s, trials), reply, want)
}

// CheckReplyWith checks a reply as CheckReply does, given the history of
// the experiment's Trials (one kept from request to request) and the
// assignments handed out that have no Trial yet. These are added to handed
// for the check and taken back after: handed is left as it was.
func CheckReplyWith(space *searchspace.Space, handed *contract.History, waiting []v1alpha1.TrialAssignment, reply *pb.GetSuggestionsReply, want int32) ([][]v1alpha1.ParameterAssignment, error) {
	var added []searchspace.Point
	for _, a := range waiting {
		if pt, ok := TrialPoint(space, ProtoAssignments(a.ParameterAssignments)); ok {
			handed.Add(pt)
			added = append(added, pt)
		}
	}
	defer func() {
		for _, pt := range added {
			handed.Remove(pt)
		}
	}()
	if _, err := contract.CheckReply(space, handed, reply, int(want)); err != nil {
		return nil, err
	}
	return fromProtoAssignments(space, reply), nil
}

// TrialPoint returns a trial's assignments as a point of space, or false
// when they no longer parse there (the space changed since): such a point
// cannot be repeated by a reply, and is left out of the history.
func TrialPoint(space *searchspace.Space, as []*pb.ParameterAssignment) (searchspace.Point, bool) {
	pt, err := space.ParseAssignments(as)
	return pt, err == nil
}
