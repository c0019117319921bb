// Package resources builds what the Suggestion reconciler sends and checks
// what it receives; every function here is pure.
package resources

import (
	"sort"
	"strconv"

	"knative.dev/pkg/kmeta"

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
func MakeRequest(s *v1alpha1.Suggestion, exp *v1alpha1.Experiment, trials []*v1alpha1.Trial) *pb.GetSuggestionsRequest {
	return &pb.GetSuggestionsRequest{
		Experiment: &pb.Experiment{
			Name: exp.Name,
			ExperimentSpec: &pb.ExperimentSpec{
				Algorithm: &pb.AlgorithmSpec{
					AlgorithmName:     s.Spec.Algorithm.AlgorithmName,
					AlgorithmSettings: v1alpha1.ProtoSettings(OverlaySettings(exp.Spec.Algorithm.AlgorithmSettings, s.Status.AlgorithmSettings)),
				},
				Objective:      exp.Spec.Objective.Proto(),
				ParameterSpecs: &pb.ParameterSpecs{Parameters: exp.Spec.ProtoParameters()},
			},
		},
		Trials:        history(s, trials),
		RequestNumber: min(s.Spec.Requests-s.Status.SuggestionCount, function.DefaultMaxRequestNumber),
	}
}

// OverlaySettings returns base with each setting of over replacing the one of
// the same name, or added after them.
func OverlaySettings(base, over []v1alpha1.AlgorithmSetting) []v1alpha1.AlgorithmSetting {
	out := make([]v1alpha1.AlgorithmSetting, 0, len(base)+len(over))
	at := make(map[string]int, len(base)+len(over))
	for _, list := range [][]v1alpha1.AlgorithmSetting{base, over} {
		for _, s := range list {
			if i, ok := at[s.Name]; ok {
				out[i] = s
				continue
			}
			at[s.Name] = len(out)
			out = append(out, s)
		}
	}
	return out
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
		out = append(out, &pb.Trial{
			Name:   a.Name,
			Spec:   &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: v1alpha1.ProtoAssignments(a.ParameterAssignments)}},
			Status: &pb.TrialStatus{Condition: pb.TrialCondition_PENDING},
		})
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

// trialConditions maps a Trial's phase to the API's condition.
var trialConditions = map[string]pb.TrialCondition{
	v1alpha1.TrialReasonPending:            pb.TrialCondition_PENDING,
	v1alpha1.TrialReasonRunning:            pb.TrialCondition_RUNNING,
	v1alpha1.TrialReasonSucceeded:          pb.TrialCondition_SUCCEEDED,
	v1alpha1.TrialReasonFailed:             pb.TrialCondition_FAILED,
	v1alpha1.TrialReasonMetricsUnavailable: pb.TrialCondition_METRICS_UNAVAILABLE,
	v1alpha1.TrialReasonEarlyStopped:       pb.TrialCondition_EARLY_STOPPED,
}

func protoTrial(t *v1alpha1.Trial) *pb.Trial {
	cond, ok := trialConditions[t.Status.Phase()]
	if !ok {
		cond = pb.TrialCondition_PENDING
	}
	out := &pb.Trial{
		Name:   t.Name,
		Spec:   &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: v1alpha1.ProtoAssignments(t.Spec.ParameterAssignments)}},
		Status: &pb.TrialStatus{Condition: cond},
	}
	if obs := t.Status.Observation; obs != nil {
		out.Status.Observation = &pb.Observation{}
		for _, m := range obs.Metrics {
			out.Status.Observation.Metrics = append(out.Status.Observation.Metrics, &pb.Metric{Name: m.Name, Value: m.Value})
		}
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
		handed[i] = v1alpha1.ProtoAssignments(a.ParameterAssignments)
	}
	if _, err := contract.CheckReply(space, contract.HistoryOf(space, handed), reply, int(want)); err != nil {
		return nil, err
	}
	out := make([][]v1alpha1.ParameterAssignment, len(reply.GetParameterAssignments()))
	for i, a := range reply.GetParameterAssignments() {
		values := make(map[string]string, len(a.GetAssignments()))
		for _, pa := range a.GetAssignments() {
			values[pa.GetName()] = pa.GetValue()
		}
		row := make([]v1alpha1.ParameterAssignment, len(space.Params))
		for j := range space.Params {
			row[j] = v1alpha1.ParameterAssignment{Name: space.Params[j].Name, Value: values[space.Params[j].Name]}
		}
		out[i] = row
	}
	return out, nil
}

// FromProtoSettings converts the algorithm's returned state.
func FromProtoSettings(settings []*pb.AlgorithmSetting) []v1alpha1.AlgorithmSetting {
	if len(settings) == 0 {
		return nil
	}
	out := make([]v1alpha1.AlgorithmSetting, len(settings))
	for i, s := range settings {
		out[i] = v1alpha1.AlgorithmSetting{Name: s.GetName(), Value: s.GetValue()}
	}
	return out
}
