package v1alpha1

import (
	api "knobs.dev/knobs/pkg/api/v1alpha3"
)

// The API's parameter types and distributions by their names in this
// resource.
var (
	parameterTypes = map[ParameterType]api.ParameterType{
		ParameterTypeDouble:      api.ParameterType_DOUBLE,
		ParameterTypeInt:         api.ParameterType_INT,
		ParameterTypeDiscrete:    api.ParameterType_DISCRETE,
		ParameterTypeCategorical: api.ParameterType_CATEGORICAL,
	}
	distributions = map[Distribution]api.Distribution{
		"":                     api.Distribution_DISTRIBUTION_UNSPECIFIED,
		DistributionUniform:    api.Distribution_UNIFORM,
		DistributionLogUniform: api.Distribution_LOG_UNIFORM,
		DistributionNormal:     api.Distribution_NORMAL,
		DistributionLogNormal:  api.Distribution_LOG_NORMAL,
	}
)

// Proto returns the parameter as the Suggestion API's message.
func (p *ParameterSpec) Proto() *api.ParameterSpec {
	return &api.ParameterSpec{
		Name:          p.Name,
		ParameterType: parameterTypes[p.ParameterType],
		FeasibleSpace: &api.FeasibleSpace{
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
func (es *ExperimentSpec) ProtoParameters() []*api.ParameterSpec {
	out := make([]*api.ParameterSpec, len(es.Parameters))
	for i := range es.Parameters {
		out[i] = es.Parameters[i].Proto()
	}
	return out
}

// ProtoSettings returns algorithm settings as the Suggestion API's messages.
func ProtoSettings(settings []AlgorithmSetting) []*api.AlgorithmSetting {
	out := make([]*api.AlgorithmSetting, len(settings))
	for i, s := range settings {
		out[i] = &api.AlgorithmSetting{Name: s.Name, Value: s.Value}
	}
	return out
}

// ProtoAssignments returns parameter assignments as the Suggestion API's
// messages.
func ProtoAssignments(as []ParameterAssignment) []*api.ParameterAssignment {
	out := make([]*api.ParameterAssignment, len(as))
	for i, a := range as {
		out[i] = &api.ParameterAssignment{Name: a.Name, Value: a.Value}
	}
	return out
}

// ProtoObjective returns the objective as the Suggestion API's message.
func (o *ObjectiveSpec) Proto() *api.ObjectiveSpec {
	out := &api.ObjectiveSpec{ObjectiveMetricName: o.ObjectiveMetricName}
	switch o.Type {
	case ObjectiveTypeMaximize:
		out.Type = api.ObjectiveType_MAXIMIZE
	case ObjectiveTypeMinimize:
		out.Type = api.ObjectiveType_MINIMIZE
	}
	if o.Goal != nil {
		out.Goal = *o.Goal
	}
	return out
}
