package algorithmtest

import (
	"testing"

	"knobs.dev/knobs/pkg/algorithm"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Settings returns algorithm settings from name, value pairs.
func Settings(kv ...string) []*pb.AlgorithmSetting {
	var out []*pb.AlgorithmSetting
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, &pb.AlgorithmSetting{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

// Experiment returns an experiment named after the algorithm ("random"
// makes "random-test", which seeds calls without random_state) that
// minimises "loss" over specs with the given settings.
func Experiment(algorithmName string, settings []*pb.AlgorithmSetting, specs ...*pb.ParameterSpec) *pb.Experiment {
	return &pb.Experiment{
		Name: algorithmName + "-test",
		ExperimentSpec: &pb.ExperimentSpec{
			Algorithm:      &pb.AlgorithmSpec{AlgorithmName: algorithmName, AlgorithmSettings: settings},
			Objective:      &pb.ObjectiveSpec{Type: pb.ObjectiveType_MINIMIZE, ObjectiveMetricName: "loss"},
			ParameterSpecs: &pb.ParameterSpecs{Parameters: specs},
		},
	}
}

// Problem checks an experiment against an algorithm, and fails the test
// when it does not pass.
func Problem(t testing.TB, alg algorithm.Algorithm, exp *pb.Experiment) *algorithm.Problem {
	t.Helper()
	p, err := algorithm.NewProblem(alg, exp)
	if err != nil {
		t.Fatalf("NewProblem: %v", err)
	}
	return p
}
