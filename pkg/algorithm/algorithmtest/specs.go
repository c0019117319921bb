// Package algorithmtest holds what the algorithms' tests share: search
// spaces, experiments and histories to build requests from, and the check of
// every reply against the contract.
package algorithmtest

import pb "knobs.dev/knobs/pkg/suggestionpb"

// Param returns a numeric parameter.
func Param(name string, typ pb.ParameterType, min, max, step string, dist pb.Distribution) *pb.ParameterSpec {
	return &pb.ParameterSpec{Name: name, ParameterType: typ,
		FeasibleSpace: &pb.FeasibleSpace{Min: min, Max: max, Step: step, Distribution: dist}}
}

// Double returns a double parameter in [min, max], uniform.
func Double(name, min, max string) *pb.ParameterSpec {
	return Param(name, pb.ParameterType_DOUBLE, min, max, "", 0)
}

// Integer returns an int parameter in [min, max], uniform.
func Integer(name, min, max string) *pb.ParameterSpec {
	return Param(name, pb.ParameterType_INT, min, max, "", 0)
}

// Categorical returns a categorical parameter of the listed values.
func Categorical(name string, list ...string) *pb.ParameterSpec {
	return &pb.ParameterSpec{Name: name, ParameterType: pb.ParameterType_CATEGORICAL, FeasibleSpace: &pb.FeasibleSpace{List: list}}
}

// Discrete returns a discrete parameter of the listed numbers.
func Discrete(name string, list ...string) *pb.ParameterSpec {
	return &pb.ParameterSpec{Name: name, ParameterType: pb.ParameterType_DISCRETE, FeasibleSpace: &pb.FeasibleSpace{List: list}}
}

// Katib is the search space of Katib's random search example.
func Katib() []*pb.ParameterSpec {
	return []*pb.ParameterSpec{
		Double("--lr", "0.01", "0.03"),
		Integer("--num-layers", "2", "5"),
		Categorical("--optimizer", "sgd", "adam", "ftrl"),
	}
}

// Twelve is a finite space of 4 × 3 = 12 points: an int n from 1 to 4 and a
// categorical c of a, b and c.
func Twelve() []*pb.ParameterSpec {
	return []*pb.ParameterSpec{Integer("n", "1", "4"), Categorical("c", "a", "b", "c")}
}
