package v1alpha1

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation"
	"knative.dev/pkg/apis"

	"knobs.dev/knobs/pkg/algorithm"
	esregistry "knobs.dev/knobs/pkg/earlystopping/registry"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// The API's parameter types and distributions as the search space names
// them.
var (
	parameterTypes = map[ParameterType]searchspace.Type{
		ParameterTypeDouble:      searchspace.Double,
		ParameterTypeInt:         searchspace.Int,
		ParameterTypeDiscrete:    searchspace.Discrete,
		ParameterTypeCategorical: searchspace.Categorical,
	}
	distributions = map[Distribution]searchspace.Distribution{
		"":                     0,
		DistributionUniform:    searchspace.Uniform,
		DistributionLogUniform: searchspace.LogUniform,
		DistributionNormal:     searchspace.Normal,
		DistributionLogNormal:  searchspace.LogNormal,
	}
)

// Validate implements apis.Validatable.
func (e *Experiment) Validate(ctx context.Context) *apis.FieldError {
	errs := e.Spec.Validate(ctx).ViaField("spec")
	if apis.IsInUpdate(ctx) {
		if old, ok := apis.GetBaseline(ctx).(*Experiment); ok && old != nil {
			errs = errs.Also(e.Spec.checkImmutable(&old.Spec).ViaField("spec"))
		}
	}
	return errs
}

// checkImmutable refuses changes to what the trials so far were drawn from.
func (es *ExperimentSpec) checkImmutable(old *ExperimentSpec) *apis.FieldError {
	var errs *apis.FieldError
	if !equality.Semantic.DeepEqual(es.Parameters, old.Parameters) {
		errs = errs.Also(&apis.FieldError{Message: "Immutable field changed: the trials so far were drawn from the old search space; create a new Experiment", Paths: []string{"parameters"}})
	}
	if es.Algorithm.AlgorithmName != old.Algorithm.AlgorithmName {
		errs = errs.Also(&apis.FieldError{Message: "Immutable field changed: create a new Experiment to change the algorithm", Paths: []string{"algorithm.algorithmName"}})
	}
	if !equality.Semantic.DeepEqual(es.Objective, old.Objective) {
		errs = errs.Also(&apis.FieldError{Message: "Immutable field changed: the trials so far were judged by the old objective; create a new Experiment", Paths: []string{"objective"}})
	}
	return errs
}

// Validate checks an experiment's spec; every error names the field to fix.
func (es *ExperimentSpec) Validate(ctx context.Context) *apis.FieldError {
	errs := es.Objective.Validate().ViaField("objective")
	errs = errs.Also(es.Algorithm.Validate().ViaField("algorithm"))
	if es.EarlyStopping != nil {
		errs = errs.Also(es.EarlyStopping.Validate().ViaField("earlyStopping"))
	}
	errs = errs.Also(ValidateParameters(es.Parameters))
	errs = errs.Also(positive(es.ParallelTrialCount, 1, "parallelTrialCount"))
	errs = errs.Also(positive(es.MaxTrialCount, 1, "maxTrialCount"))
	errs = errs.Also(positive(es.MaxFailedTrialCount, 0, "maxFailedTrialCount"))
	if es.TrialTemplate != nil {
		errs = errs.Also(es.TrialTemplate.Validate(es.Parameters).ViaField("trialTemplate"))
	}
	errs = errs.Also(es.MetricsCollectorSpec.Validate().ViaField("metricsCollectorSpec"))
	switch es.ResumePolicy {
	case "", LongRunning, NeverResume, FromVolume:
	default:
		errs = errs.Also(apis.ErrInvalidValue(es.ResumePolicy, "resumePolicy", "use LongRunning, Never or FromVolume"))
	}
	switch es.TrialsOnEnd {
	case "", TrialsOnEndStop, TrialsOnEndFinish:
	default:
		errs = errs.Also(apis.ErrInvalidValue(es.TrialsOnEnd, "trialsOnEnd", "use Stop or Finish"))
	}
	return errs
}

func positive(v *int32, lo int32, field string) *apis.FieldError {
	if v != nil && *v < lo {
		return apis.ErrOutOfBoundsValue(*v, lo, int32(1<<31-1), field)
	}
	return nil
}

// Validate checks an objective.
func (o *ObjectiveSpec) Validate() *apis.FieldError {
	var errs *apis.FieldError
	switch o.Type {
	case ObjectiveTypeMinimize, ObjectiveTypeMaximize:
	case "":
		errs = errs.Also(apis.ErrMissingField("type").Also(&apis.FieldError{Message: "use minimize or maximize", Paths: []string{"type"}}))
	default:
		errs = errs.Also(apis.ErrInvalidValue(o.Type, "type", "use minimize or maximize"))
	}
	if o.ObjectiveMetricName == "" {
		errs = errs.Also(apis.ErrMissingField("objectiveMetricName"))
	}
	errs = errs.Also(o.validateAdditionalObjectives())
	errs = errs.Also(o.validateConstraints())
	names := map[string]bool{}
	for _, n := range o.MetricNames() {
		names[n] = true
	}
	seen := map[string]int{}
	for i, ms := range o.MetricStrategies {
		switch {
		case !names[ms.Name]:
			errs = errs.Also(apis.ErrInvalidValue(ms.Name, "name", "name the objective metric, one of additionalMetricNames, or an additional objective's or a constraint's metric").ViaFieldIndex("metricStrategies", i))
		case seen[ms.Name] > 0:
			errs = errs.Also(apis.ErrInvalidValue(ms.Name, "name", fmt.Sprintf("metricStrategies[%d] has the same name", seen[ms.Name]-1)).ViaFieldIndex("metricStrategies", i))
		}
		seen[ms.Name] = i + 1
		switch ms.Value {
		case MetricStrategyMin, MetricStrategyMax, MetricStrategyLatest:
		default:
			errs = errs.Also(apis.ErrInvalidValue(ms.Value, "value", "use min, max or latest").ViaFieldIndex("metricStrategies", i))
		}
	}
	return errs
}

// The most additional objectives and constraints an objective may have:
// with the objective metric and at most 64 additional metrics, a trial
// records at most MaxObservationMetrics metrics.
const (
	MaxAdditionalObjectives = 8
	MaxConstraints          = 10
)

// validateAdditionalObjectives checks the additional objectives: each
// names a metric of its own, other than the objective metric, and a
// direction.
func (o *ObjectiveSpec) validateAdditionalObjectives() *apis.FieldError {
	names := make([]string, len(o.AdditionalObjectives))
	for i, a := range o.AdditionalObjectives {
		names[i] = a.Name
	}
	errs := checkNames("additionalObjectives", "additional objectives", names, MaxAdditionalObjectives, "")
	for i, a := range o.AdditionalObjectives {
		if a.Name != "" && a.Name == o.ObjectiveMetricName {
			errs = errs.Also(apis.ErrInvalidValue(a.Name, "name", "it is objectiveMetricName, an objective already: name another metric").ViaFieldIndex("additionalObjectives", i))
		}
		switch a.Type {
		case ObjectiveTypeMinimize, ObjectiveTypeMaximize:
		case "":
			errs = errs.Also(apis.ErrMissingField("type").ViaFieldIndex("additionalObjectives", i).Also(
				(&apis.FieldError{Message: "use minimize or maximize", Paths: []string{"type"}}).ViaFieldIndex("additionalObjectives", i)))
		default:
			errs = errs.Also(apis.ErrInvalidValue(a.Type, "type", "use minimize or maximize").ViaFieldIndex("additionalObjectives", i))
		}
	}
	return errs
}

// validateConstraints checks the constraints: each names a metric of its
// own (the objective metric, an additional one or any other) and bounds
// it from below, above or both.
func (o *ObjectiveSpec) validateConstraints() *apis.FieldError {
	names := make([]string, len(o.Constraints))
	for i, c := range o.Constraints {
		names[i] = c.Name
	}
	errs := checkNames("constraints", "constraints", names, MaxConstraints, ": give one constraint both bounds")
	for i, c := range o.Constraints {
		switch {
		case c.Min == nil && c.Max == nil:
			errs = errs.Also((&apis.FieldError{Message: "a constraint needs min, max or both", Paths: []string{apis.CurrentField}}).ViaFieldIndex("constraints", i))
		case c.Min != nil && c.Max != nil && *c.Min > *c.Max:
			errs = errs.Also((&apis.FieldError{Message: fmt.Sprintf("min %v is greater than max %v: no value is feasible", *c.Min, *c.Max), Paths: []string{"min"}}).ViaFieldIndex("constraints", i))
		}
	}
	return errs
}

// Validate checks an algorithm spec.
func (a *AlgorithmSpec) Validate() *apis.FieldError {
	var errs *apis.FieldError
	if a.AlgorithmName == "" {
		errs = errs.Also(apis.ErrMissingField("algorithmName"))
	}
	names := make([]string, len(a.AlgorithmSettings))
	for i, s := range a.AlgorithmSettings {
		names[i] = s.Name
	}
	return errs.Also(checkNames("algorithmSettings", "", names, 0, ""))
}

// checkNames checks the list field, of items named names: at most most
// items (what they are, in the error), unless most is 0, each named, and
// no name twice (the error names the first, and ends with hint).
func checkNames(field, what string, names []string, most int, hint string) *apis.FieldError {
	var errs *apis.FieldError
	if most > 0 && len(names) > most {
		errs = &apis.FieldError{Message: fmt.Sprintf("%d %s: give at most %d", len(names), what, most), Paths: []string{field}}
	}
	first := map[string]int{}
	for i, n := range names {
		if n == "" {
			errs = errs.Also(apis.ErrMissingField("name").ViaFieldIndex(field, i))
			continue
		}
		if j, dup := first[n]; dup {
			errs = errs.Also(apis.ErrInvalidValue(n, "name", fmt.Sprintf("%s[%d] has the same name%s", field, j, hint)).ViaFieldIndex(field, i))
			continue
		}
		first[n] = i
	}
	return errs
}

// Validate checks an early-stopping spec: its name and settings, and the
// settings' values for an algorithm Knobs ships (a team's own algorithm
// checks its settings when it is asked).
func (es *EarlyStoppingSpec) Validate() *apis.FieldError {
	errs := (&AlgorithmSpec{AlgorithmName: es.AlgorithmName, AlgorithmSettings: es.AlgorithmSettings}).Validate()
	if errs != nil {
		return errs
	}
	e, ok := esregistry.Lookup(es.AlgorithmName)
	if !ok {
		return nil
	}
	given := make([]*pb.AlgorithmSetting, len(es.AlgorithmSettings))
	for i, s := range es.AlgorithmSettings {
		given[i] = &pb.AlgorithmSetting{Name: s.Name, Value: s.Value}
	}
	if _, err := algorithm.ParseSettingsAt("algorithmSettings", e.Algorithm.Settings(), given); err != nil {
		var ae *algorithm.Error
		if errors.As(err, &ae) {
			return &apis.FieldError{Message: ae.Message, Paths: []string{ae.Path}}
		}
		return &apis.FieldError{Message: err.Error(), Paths: []string{"algorithmSettings"}}
	}
	return nil
}

// ValidateParameters checks a search space as the functions will, so that a
// mistake is refused when the Experiment is applied rather than when the
// first suggestion is asked for.
func ValidateParameters(params []ParameterSpec) *apis.FieldError {
	if len(params) == 0 {
		return apis.ErrMissingField("parameters")
	}
	var errs *apis.FieldError
	seen := map[string]int{}
	for i := range params {
		p := &params[i]
		if p.Name != "" {
			if j, dup := seen[p.Name]; dup {
				errs = errs.Also(apis.ErrInvalidValue(p.Name, "name", fmt.Sprintf("parameters[%d] has the same name", j)).ViaFieldIndex("parameters", i))
				continue
			}
			seen[p.Name] = i
		}
		errs = errs.Also(p.Validate().ViaFieldIndex("parameters", i))
	}
	if errs != nil {
		return errs
	}
	// The parameters one by one are sound: check their conditions, which
	// relate them.
	specs := make([]searchspace.ParamSpec, len(params))
	for i := range params {
		specs[i] = params[i].paramSpec()
	}
	var se *searchspace.Error
	if err := searchspace.CheckSpace(specs); errors.As(err, &se) {
		return &apis.FieldError{Message: se.Message, Paths: []string{se.Path}}
	}
	return nil
}

func (p *ParameterSpec) paramSpec() searchspace.ParamSpec {
	return searchspace.ParamSpec{
		Name:         p.Name,
		Type:         parameterTypes[p.ParameterType],
		Distribution: distributions[p.FeasibleSpace.Distribution],
		Min:          p.FeasibleSpace.Min,
		Max:          p.FeasibleSpace.Max,
		Step:         p.FeasibleSpace.Step,
		List:         p.FeasibleSpace.List,
		ParentName:   p.ParentName,
		ParentValues: p.ParentValues,
	}
}

// Validate checks one parameter.
func (p *ParameterSpec) Validate() *apis.FieldError {
	if p.Name == "" {
		return apis.ErrMissingField("name")
	}
	if _, ok := parameterTypes[p.ParameterType]; !ok {
		return apis.ErrInvalidValue(p.ParameterType, "parameterType", "use double, int, discrete or categorical")
	}
	if _, ok := distributions[p.FeasibleSpace.Distribution]; !ok {
		return apis.ErrInvalidValue(p.FeasibleSpace.Distribution, "feasibleSpace.distribution", "use uniform, logUniform, normal or logNormal")
	}
	err := searchspace.CheckParam(p.paramSpec())
	var se *searchspace.Error
	if !errors.As(err, &se) {
		return nil
	}
	return &apis.FieldError{Message: se.Message, Paths: []string{se.Path}}
}

// Validate checks a trial template against the experiment's parameters.
func (tt *TrialTemplate) Validate(params []ParameterSpec) *apis.FieldError {
	var errs *apis.FieldError
	switch {
	case tt.GoTemplate != nil && tt.TrialSpec != nil:
		errs = errs.Also(apis.ErrMultipleOneOf("goTemplate", "trialSpec"))
	case tt.GoTemplate == nil && tt.TrialSpec == nil:
		errs = errs.Also(apis.ErrMissingOneOf("goTemplate", "trialSpec"))
	case tt.GoTemplate != nil && strings.TrimSpace(tt.GoTemplate.RawTemplate) == "":
		errs = errs.Also(apis.ErrMissingField("goTemplate.rawTemplate"))
	}
	if tt.PrimaryContainerName != "" {
		for _, msg := range validation.IsDNS1123Label(tt.PrimaryContainerName) {
			errs = errs.Also(apis.ErrInvalidValue(tt.PrimaryContainerName, "primaryContainerName", "a container's name: "+msg))
		}
	}
	names := map[string]bool{}
	for _, p := range params {
		names[p.Name] = true
	}
	for i, tp := range tt.TrialParameters {
		if tp.Name == "" {
			errs = errs.Also(apis.ErrMissingField("name").ViaFieldIndex("trialParameters", i))
		}
		if !names[tp.Reference] {
			errs = errs.Also(apis.ErrInvalidValue(tp.Reference, "reference", "name one of the experiment's parameters").ViaFieldIndex("trialParameters", i))
		}
	}
	return errs
}
