package v1alpha1

import (
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// The API's parameter types and distributions by their names in this
// resource.
var (
	parameterTypes = map[ParameterType]pb.ParameterType{
		ParameterTypeDouble:      pb.ParameterType_DOUBLE,
		ParameterTypeInt:         pb.ParameterType_INT,
		ParameterTypeDiscrete:    pb.ParameterType_DISCRETE,
		ParameterTypeCategorical: pb.ParameterType_CATEGORICAL,
	}
	distributions = map[Distribution]pb.Distribution{
		"":                     pb.Distribution_DISTRIBUTION_UNSPECIFIED,
		DistributionUniform:    pb.Distribution_UNIFORM,
		DistributionLogUniform: pb.Distribution_LOG_UNIFORM,
		DistributionNormal:     pb.Distribution_NORMAL,
		DistributionLogNormal:  pb.Distribution_LOG_NORMAL,
	}
)

// Proto returns the parameter as the Suggestion API's message.
func (p *ParameterSpec) Proto() *pb.ParameterSpec {
	return &pb.ParameterSpec{
		Name:          p.Name,
		ParameterType: parameterTypes[p.ParameterType],
		FeasibleSpace: &pb.FeasibleSpace{
			Min:          p.FeasibleSpace.Min,
			Max:          p.FeasibleSpace.Max,
			List:         p.FeasibleSpace.List,
			Step:         p.FeasibleSpace.Step,
			Distribution: distributions[p.FeasibleSpace.Distribution],
		},
	}
}

// ProtoParameters returns the experiment's parameters as the Suggestion API's
// messages.
func (es *ExperimentSpec) ProtoParameters() []*pb.ParameterSpec {
	out := make([]*pb.ParameterSpec, len(es.Parameters))
	for i := range es.Parameters {
		out[i] = es.Parameters[i].Proto()
	}
	return out
}

// ProtoSettings returns algorithm settings as the Suggestion API's messages.
func ProtoSettings(settings []AlgorithmSetting) []*pb.AlgorithmSetting {
	out := make([]*pb.AlgorithmSetting, len(settings))
	for i, s := range settings {
		out[i] = &pb.AlgorithmSetting{Name: s.Name, Value: s.Value}
	}
	return out
}

// ProtoAssignments returns parameter assignments as the Suggestion API's
// messages.
func ProtoAssignments(as []ParameterAssignment) []*pb.ParameterAssignment {
	out := make([]*pb.ParameterAssignment, len(as))
	for i, a := range as {
		out[i] = &pb.ParameterAssignment{Name: a.Name, Value: a.Value}
	}
	return out
}

// ProtoObjective returns the objective as the Suggestion API's message.
func (o *ObjectiveSpec) Proto() *pb.ObjectiveSpec {
	out := &pb.ObjectiveSpec{ObjectiveMetricName: o.ObjectiveMetricName}
	switch o.Type {
	case ObjectiveTypeMaximize:
		out.Type = pb.ObjectiveType_MAXIMIZE
	case ObjectiveTypeMinimize:
		out.Type = pb.ObjectiveType_MINIMIZE
	}
	if o.Goal != nil {
		out.Goal = *o.Goal
	}
	return out
}
