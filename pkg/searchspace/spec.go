package searchspace

import (
	"errors"
	"fmt"
	"strings"

	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// ParamSpec is one parameter as an experiment writes it, before it is
// checked: for callers that hold the API's resource types rather than the
// wire's, such as the validation of an Experiment.
type ParamSpec struct {
	Name string
	Type Type
	// Distribution is zero when the experiment names none.
	Distribution   Distribution
	Min, Max, Step string
	List           []string
}

// The wire's parameter types and distributions of the package's.
var (
	wireTypes = map[Type]pb.ParameterType{
		Double:      pb.ParameterType_DOUBLE,
		Int:         pb.ParameterType_INT,
		Discrete:    pb.ParameterType_DISCRETE,
		Categorical: pb.ParameterType_CATEGORICAL,
	}
	wireDistributions = map[Distribution]pb.Distribution{
		Uniform:    pb.Distribution_UNIFORM,
		LogUniform: pb.Distribution_LOG_UNIFORM,
		Normal:     pb.Distribution_NORMAL,
		LogNormal:  pb.Distribution_LOG_NORMAL,
	}
)

// CheckParam checks one parameter by the rules of Parse. An error is an
// *Error whose path starts at the parameter, such as "feasibleSpace.min"
// ("" for the parameter itself).
func CheckParam(spec ParamSpec) error {
	_, err := Parse([]*pb.ParameterSpec{{
		Name:          spec.Name,
		ParameterType: wireTypes[spec.Type],
		FeasibleSpace: &pb.FeasibleSpace{
			Min:          spec.Min,
			Max:          spec.Max,
			Step:         spec.Step,
			List:         spec.List,
			Distribution: wireDistributions[spec.Distribution],
		},
	}})
	var se *Error
	if !errors.As(err, &se) {
		return err
	}
	e := *se
	e.Path = strings.TrimPrefix(strings.TrimPrefix(e.Path, fmt.Sprintf("parameters[0] (%q)", spec.Name)), ".")
	return &e
}
