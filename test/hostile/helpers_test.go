package hostile

import (
	"google.golang.org/protobuf/proto"

	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// experiment is the experiment of the Katib Suggestion design.
func experiment() *pb.Experiment {
	return &pb.Experiment{
		Name: "hostile",
		ExperimentSpec: &pb.ExperimentSpec{
			Algorithm: &pb.AlgorithmSpec{AlgorithmName: "random"},
			Objective: &pb.ObjectiveSpec{Type: pb.ObjectiveType_MAXIMIZE, Goal: 0.99, ObjectiveMetricName: "accuracy"},
			ParameterSpecs: &pb.ParameterSpecs{Parameters: []*pb.ParameterSpec{
				{Name: "--lr", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: "0.01", Max: "0.03"}},
				{Name: "--num-layers", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "2", Max: "5"}},
				{Name: "--optimizer", ParameterType: pb.ParameterType_CATEGORICAL, FeasibleSpace: &pb.FeasibleSpace{List: []string{"sgd", "adam", "ftrl"}}},
			}},
		},
	}
}

func protoSize(m proto.Message) int { return proto.Size(m) }
