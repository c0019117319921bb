package resources

import (
	"google.golang.org/protobuf/proto"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// This file is the one crossing between the resources and the wire API: a
// request is built from v1alpha1 here, and a reply read back into v1alpha1
// here. Package v1alpha1 does not know the wire.

// The API's parameter types and distributions as the wire names them.
var (
	parameterTypes = map[v1alpha1.ParameterType]pb.ParameterType{
		v1alpha1.ParameterTypeDouble:      pb.ParameterType_DOUBLE,
		v1alpha1.ParameterTypeInt:         pb.ParameterType_INT,
		v1alpha1.ParameterTypeDiscrete:    pb.ParameterType_DISCRETE,
		v1alpha1.ParameterTypeCategorical: pb.ParameterType_CATEGORICAL,
	}
	distributions = map[v1alpha1.Distribution]pb.Distribution{
		"":                              pb.Distribution_DISTRIBUTION_UNSPECIFIED,
		v1alpha1.DistributionUniform:    pb.Distribution_UNIFORM,
		v1alpha1.DistributionLogUniform: pb.Distribution_LOG_UNIFORM,
		v1alpha1.DistributionNormal:     pb.Distribution_NORMAL,
		v1alpha1.DistributionLogNormal:  pb.Distribution_LOG_NORMAL,
	}
)

// ProtoParameter returns a parameter as the wire's message.
func ProtoParameter(p *v1alpha1.ParameterSpec) *pb.ParameterSpec {
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
		ParentName:   p.ParentName,
		ParentValues: p.ParentValues,
	}
}

// ProtoParameters returns an experiment's parameters as the wire's messages.
func ProtoParameters(params []v1alpha1.ParameterSpec) []*pb.ParameterSpec {
	out := make([]*pb.ParameterSpec, len(params))
	for i := range params {
		out[i] = ProtoParameter(&params[i])
	}
	return out
}

// ParseSpace returns the Experiment's search space, checked as its function
// will check it.
func ParseSpace(exp *v1alpha1.Experiment) (*searchspace.Space, error) {
	return searchspace.Parse(ProtoParameters(exp.Spec.Parameters))
}

// objectiveTypes maps the API's objective types to the wire's.
var objectiveTypes = map[v1alpha1.ObjectiveType]pb.ObjectiveType{
	v1alpha1.ObjectiveTypeMaximize: pb.ObjectiveType_MAXIMIZE,
	v1alpha1.ObjectiveTypeMinimize: pb.ObjectiveType_MINIMIZE,
}

// ProtoObjective returns the objective as the wire's message, with its
// additional objectives and constraints.
func ProtoObjective(o *v1alpha1.ObjectiveSpec) *pb.ObjectiveSpec {
	out := &pb.ObjectiveSpec{ObjectiveMetricName: o.ObjectiveMetricName, Type: objectiveTypes[o.Type]}
	if o.Goal != nil {
		out.Goal = *o.Goal
	}
	for _, a := range o.AdditionalObjectives {
		out.AdditionalObjectives = append(out.AdditionalObjectives, &pb.AdditionalObjective{MetricName: a.Name, Type: objectiveTypes[a.Type]})
	}
	for _, c := range o.Constraints {
		pc := &pb.MetricConstraint{MetricName: c.Name}
		if c.Min != nil {
			pc.Min = proto.Float64(*c.Min)
		}
		if c.Max != nil {
			pc.Max = proto.Float64(*c.Max)
		}
		out.Constraints = append(out.Constraints, pc)
	}
	return out
}

// ProtoSettings returns algorithm settings as the wire's messages.
func ProtoSettings(settings []v1alpha1.AlgorithmSetting) []*pb.AlgorithmSetting {
	out := make([]*pb.AlgorithmSetting, len(settings))
	for i, s := range settings {
		out[i] = &pb.AlgorithmSetting{Name: s.Name, Value: s.Value}
	}
	return out
}

// ProtoAssignments returns parameter assignments as the wire's messages.
func ProtoAssignments(as []v1alpha1.ParameterAssignment) []*pb.ParameterAssignment {
	out := make([]*pb.ParameterAssignment, len(as))
	for i, a := range as {
		out[i] = &pb.ParameterAssignment{Name: a.Name, Value: a.Value}
	}
	return out
}

// trialConditions maps a Trial's phase to the wire's condition.
var trialConditions = map[string]pb.TrialCondition{
	v1alpha1.TrialReasonPending:            pb.TrialCondition_PENDING,
	v1alpha1.TrialReasonRunning:            pb.TrialCondition_RUNNING,
	v1alpha1.TrialReasonSucceeded:          pb.TrialCondition_SUCCEEDED,
	v1alpha1.TrialReasonFailed:             pb.TrialCondition_FAILED,
	v1alpha1.TrialReasonMetricsUnavailable: pb.TrialCondition_METRICS_UNAVAILABLE,
	v1alpha1.TrialReasonEarlyStopped:       pb.TrialCondition_EARLY_STOPPED,
	// A trial killed when its Experiment ended has no final value; if the
	// Experiment resumes, the algorithm counts it as failed, never as one
	// still to come.
	v1alpha1.TrialReasonKilled: pb.TrialCondition_FAILED,
}

// ProtoTrial returns a Trial as the wire's message: its assignment, the
// condition of its phase and its observation.
func ProtoTrial(t *v1alpha1.Trial) *pb.Trial {
	cond, ok := trialConditions[t.Status.Phase()]
	if !ok {
		cond = pb.TrialCondition_PENDING
	}
	out := pendingTrial(t.Name, t.Spec.ParameterAssignments)
	out.Status.Condition = cond
	if obs := t.Status.Observation; obs != nil {
		out.Status.Observation = &pb.Observation{}
		for i := range obs.Metrics {
			out.Status.Observation.Metrics = append(out.Status.Observation.Metrics, protoMetric(&obs.Metrics[i]))
		}
	}
	return out
}

// protoMetric returns a metric as the wire's message: its name, the value
// that counts and its learning curve as the Trial keeps it (bounded there).
func protoMetric(m *v1alpha1.Metric) *pb.Metric {
	out := &pb.Metric{Name: m.Name, Value: m.Value}
	if len(m.Curve) > 0 {
		points := make([]pb.MetricPoint, len(m.Curve)) // one allocation for the points
		out.Curve = make([]*pb.MetricPoint, len(m.Curve))
		for i, p := range m.Curve {
			points[i].Step, points[i].Value = p.Step, p.Value
			out.Curve[i] = &points[i]
		}
	}
	return out
}

// pendingTrial returns an assignment handed out that has no Trial yet as the
// wire's pending trial.
func pendingTrial(name string, as []v1alpha1.ParameterAssignment) *pb.Trial {
	return &pb.Trial{
		Name:   name,
		Spec:   &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: ProtoAssignments(as)}},
		Status: &pb.TrialStatus{Condition: pb.TrialCondition_PENDING},
	}
}

// FromProtoSettings returns the state an algorithm returned as the
// resource's settings; nil for none.
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

// fromProtoAssignments returns a reply's assignments as the resource's, each
// with the parameters in the space's order (the Experiment's) and the
// function's own strings: what the user will see. A parameter the reply
// leaves out (a conditional one its parent leaves inactive; the reply was
// checked against the space) is left out here too.
func fromProtoAssignments(space *searchspace.Space, reply *pb.GetSuggestionsReply) [][]v1alpha1.ParameterAssignment {
	out := make([][]v1alpha1.ParameterAssignment, len(reply.GetParameterAssignments()))
	for i, a := range reply.GetParameterAssignments() {
		values := make(map[string]string, len(a.GetAssignments()))
		for _, pa := range a.GetAssignments() {
			values[pa.GetName()] = pa.GetValue()
		}
		row := make([]v1alpha1.ParameterAssignment, 0, len(values))
		for j := range space.Params {
			if v, ok := values[space.Params[j].Name]; ok {
				row = append(row, v1alpha1.ParameterAssignment{Name: space.Params[j].Name, Value: v})
			}
		}
		out[i] = row
	}
	return out
}
