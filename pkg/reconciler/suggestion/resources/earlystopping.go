package resources

import (
	"sort"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// MaxStopMessage bounds the stopMessage a Trial is given, as its schema does.
const MaxStopMessage = 1024

// MakeEarlyStoppingRequest builds the GetEarlyStoppingDecisionsRequest for a
// Suggestion: the Experiment's objective, its early-stopping algorithm and
// settings, and every Trial of the Experiment (by name) with its condition,
// observation and learning curves.
func MakeEarlyStoppingRequest(s *v1alpha1.Suggestion, exp *v1alpha1.Experiment, trials []*v1alpha1.Trial) *pb.GetEarlyStoppingDecisionsRequest {
	sorted := append([]*v1alpha1.Trial(nil), trials...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	req := &pb.GetEarlyStoppingDecisionsRequest{
		Experiment: &pb.Experiment{
			Name:           exp.Name,
			ExperimentSpec: &pb.ExperimentSpec{Objective: ProtoObjective(&exp.Spec.Objective)},
		},
		EarlyStopping: &pb.EarlyStoppingSpec{
			AlgorithmName:     s.Spec.EarlyStopping.AlgorithmName,
			AlgorithmSettings: ProtoSettings(s.Spec.EarlyStopping.AlgorithmSettings),
		},
		Trials: make([]*pb.Trial, len(sorted)),
	}
	for i, t := range sorted {
		req.Trials[i] = ProtoTrial(t)
	}
	return req
}

// StopMessage is what a trial stopped early is told: the algorithm's name
// and its reason, within MaxStopMessage bytes.
func StopMessage(algorithm, why string) string {
	msg := "stopped early by " + algorithm
	if why != "" {
		msg += ": " + why
	}
	if len(msg) > MaxStopMessage {
		cut := MaxStopMessage - len("…")
		for cut > 0 && !isRuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
