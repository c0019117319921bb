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
	// ParentName and ParentValues make the parameter conditional (see
	// CheckSpace).
	ParentName   string
	ParentValues []string
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

func (spec ParamSpec) wire(conditions bool) *pb.ParameterSpec {
	out := &pb.ParameterSpec{
		Name:          spec.Name,
		ParameterType: wireTypes[spec.Type],
		FeasibleSpace: &pb.FeasibleSpace{
			Min:          spec.Min,
			Max:          spec.Max,
			Step:         spec.Step,
			List:         spec.List,
			Distribution: wireDistributions[spec.Distribution],
		},
	}
	if conditions {
		out.ParentName, out.ParentValues = spec.ParentName, spec.ParentValues
	}
	return out
}

// CheckParam checks one parameter by the rules of Parse, its condition
// aside (CheckSpace checks that). An error is an *Error whose path starts
// at the parameter, such as "feasibleSpace.min" ("" for the parameter
// itself).
func CheckParam(spec ParamSpec) error {
	_, err := Parse([]*pb.ParameterSpec{spec.wire(false)})
	var se *Error
	if !errors.As(err, &se) {
		return err
	}
	e := *se
	e.Path = strings.TrimPrefix(strings.TrimPrefix(e.Path, fmt.Sprintf("parameters[0] (%q)", spec.Name)), ".")
	return &e
}

// CheckSpace checks parameters together by the rules of Parse: each one,
// then their conditions (a parent that exists, is listed before, is an
// int, discrete or categorical parameter, and has the values named). An
// error is an *Error whose path is that of Parse without the parameter's
// name, such as "parameters[2].parentValues[0]".
func CheckSpace(specs []ParamSpec) error {
	wire := make([]*pb.ParameterSpec, len(specs))
	for i, s := range specs {
		wire[i] = s.wire(true)
	}
	_, err := Parse(wire)
	var se *Error
	if !errors.As(err, &se) {
		return err
	}
	e := *se
	for i, s := range specs {
		at := fmt.Sprintf("parameters[%d]", i)
		if named := fmt.Sprintf("%s (%q)", at, s.Name); strings.HasPrefix(e.Path, named) {
			e.Path = at + strings.TrimPrefix(e.Path, named)
			break
		}
	}
	return &e
}
