package v1alpha1

import (
	"math"
	"strconv"
)

// AlgorithmSpec names a search algorithm and its settings.
type AlgorithmSpec struct {
	// AlgorithmName is the algorithm to use, such as random, grid, bayesopt,
	// hyperband, tpe, cmaes, sobol, bohb or smac. It is resolved to a
	// function through the config-algorithms ConfigMap or a Knative Service
	// labelled tuning.knobs.dev/algorithm: <algorithmName>.
	AlgorithmName string `json:"algorithmName"`

	// AlgorithmSettings tune the algorithm, such as random_state; each
	// algorithm rejects settings it does not know.
	// +optional
	AlgorithmSettings []AlgorithmSetting `json:"algorithmSettings,omitempty"`
}

// AlgorithmSetting is one named setting of an algorithm.
type AlgorithmSetting struct {
	// Name of the setting.
	Name string `json:"name"`
	// Value of the setting, as a string.
	Value string `json:"value"`
}

// ParameterType is the type of a hyperparameter.
type ParameterType string

// The parameter types.
const (
	ParameterTypeDouble      ParameterType = "double"
	ParameterTypeInt         ParameterType = "int"
	ParameterTypeDiscrete    ParameterType = "discrete"
	ParameterTypeCategorical ParameterType = "categorical"
)

// Distribution is the prior over a numeric parameter's feasible space.
type Distribution string

// The distributions.
const (
	DistributionUniform    Distribution = "uniform"
	DistributionLogUniform Distribution = "logUniform"
	DistributionNormal     Distribution = "normal"
	DistributionLogNormal  Distribution = "logNormal"
)

// ParameterSpec is one hyperparameter to tune.
type ParameterSpec struct {
	// Name of the parameter, as the trial template refers to it.
	Name string `json:"name"`
	// ParameterType is double, int, discrete or categorical.
	ParameterType ParameterType `json:"parameterType"`
	// FeasibleSpace is the set of values the parameter may take.
	FeasibleSpace FeasibleSpace `json:"feasibleSpace"`
	// ParentName makes the parameter conditional: it is active only when
	// the parameter of this name, an int, discrete or categorical one
	// listed before it, is active and takes one of ParentValues. An
	// inactive parameter is absent from a trial's assignments.
	// +optional
	ParentName string `json:"parentName,omitempty"`
	// ParentValues are the parent's values, written as in its feasible
	// space, under which the parameter is active.
	// +optional
	ParentValues []string `json:"parentValues,omitempty"`
}

// FeasibleSpace is the set of values a parameter may take: [min, max] for
// double and int parameters, list for discrete and categorical ones.
type FeasibleSpace struct {
	// Min is the smallest value of a double or int parameter.
	// +optional
	Min string `json:"min,omitempty"`
	// Max is the largest value of a double or int parameter.
	// +optional
	Max string `json:"max,omitempty"`
	// List holds the values of a discrete or categorical parameter.
	// +optional
	List []string `json:"list,omitempty"`
	// Step spaces the values of a double or int parameter; grid search
	// needs it for doubles. Ints step by 1 unless told otherwise.
	// +optional
	Step string `json:"step,omitempty"`
	// Distribution is the prior over [min, max] of a double or int
	// parameter: uniform (the default), logUniform, normal or logNormal.
	// +optional
	Distribution Distribution `json:"distribution,omitempty"`
}

// ParameterAssignment is the value given to one parameter.
type ParameterAssignment struct {
	// Name of the parameter.
	Name string `json:"name"`
	// Value of the parameter, as a string.
	Value string `json:"value"`
}

// Metric is one observed value of a metric.
type Metric struct {
	// Name of the metric.
	Name string `json:"name"`
	// Value of the metric, as a string: the smallest, the largest or the
	// latest value reported, as the objective's metric strategy says.
	Value string `json:"value"`
	// Min is the smallest value reported.
	// +optional
	Min string `json:"min,omitempty"`
	// Max is the largest value reported.
	// +optional
	Max string `json:"max,omitempty"`
	// Latest is the value reported last.
	// +optional
	Latest string `json:"latest,omitempty"`
	// Curve is the metric's learning curve: its values by step, in the
	// order of the steps, at most MaxCurvePoints of them and, across the
	// metrics of an observation, at most MaxObservationCurvePoints. A
	// long curve is downsampled: it keeps the first, the last and the
	// latest step, the smallest and the largest value, and points evenly
	// spread over the steps (see docs/tuning-loop.md).
	// +optional
	Curve []CurvePoint `json:"curve,omitempty"`
}

// CurvePoint is the value of a metric at one step.
type CurvePoint struct {
	// Step is the step the value was measured at, such as the epoch; the
	// number of the report for reports without a step.
	Step int64 `json:"step"`
	// Value of the metric at that step, as a string.
	Value string `json:"value"`
}

// The bounds on a trial's learning curves, so that a trial that runs for
// millions of steps keeps a Trial (and the request to the algorithm) of a
// size known in advance.
const (
	// MaxCurvePoints is the most points a metric's curve holds.
	MaxCurvePoints = 100
	// MaxObservationCurvePoints is the most points the curves of an
	// observation hold together: a trial with more than five metrics keeps
	// MaxObservationCurvePoints/n points per metric.
	MaxObservationCurvePoints = 500
)

// MaxObservationMetrics is the most metrics an observation holds: the
// objective metric, 64 additional metrics, MaxAdditionalObjectives
// additional objectives and MaxConstraints constraints' metrics.
const MaxObservationMetrics = 1 + 64 + MaxAdditionalObjectives + MaxConstraints

// CurvePointsPerMetric is the most points each curve of an observation of
// n metrics holds: MaxCurvePoints, or less so that the n curves together
// hold at most MaxObservationCurvePoints (for n up to 83, which is
// MaxObservationMetrics), and never less than 6.
func CurvePointsPerMetric(n int) int {
	const least = 6
	if n < 1 {
		return MaxCurvePoints
	}
	return max(least, min(MaxCurvePoints, MaxObservationCurvePoints/n))
}

// Observation is what a trial reported.
type Observation struct {
	// Metrics are the objective metric, then the additional metrics, the
	// additional objectives' and the constraints' metrics
	// (ObjectiveSpec.MetricNames).
	// +optional
	Metrics []Metric `json:"metrics,omitempty"`
	// Step is the step (such as the epoch) of the latest report, when the
	// trial reports intermediate values.
	// +optional
	Step *int64 `json:"step,omitempty"`
	// Reports is the number of reports received.
	// +optional
	Reports int32 `json:"reports,omitempty"`
}

// Metric returns the metric of that name, or nil.
func (o *Observation) Metric(name string) *Metric {
	if o == nil {
		return nil
	}
	for i := range o.Metrics {
		if o.Metrics[i].Name == name {
			return &o.Metrics[i]
		}
	}
	return nil
}

// Value returns the named metric's value, and whether the observation
// reports it as a finite number.
func (o *Observation) Value(name string) (float64, bool) {
	m := o.Metric(name)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m.Value, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// MetricStrategyType says which of a metric's reported values counts.
type MetricStrategyType string

// The metric strategies.
const (
	MetricStrategyMin    MetricStrategyType = "min"
	MetricStrategyMax    MetricStrategyType = "max"
	MetricStrategyLatest MetricStrategyType = "latest"
)

// MetricStrategy says which reported value of a metric is kept as its value.
type MetricStrategy struct {
	// Name of the metric.
	Name string `json:"name"`
	// Value is min, max or latest.
	Value MetricStrategyType `json:"value"`
}

// EarlyStoppingSpec is an early-stopping algorithm and its settings, in
// Katib's shape: it judges the running trials from their learning curves,
// and those it names are stopped, ending EarlyStopped.
type EarlyStoppingSpec struct {
	// AlgorithmName is the early-stopping algorithm, such as medianstop or
	// asha. It is resolved to a function as a search algorithm is: through
	// the config-algorithms ConfigMap or a Knative Service labelled
	// tuning.knobs.dev/algorithm: <algorithmName>.
	AlgorithmName string `json:"algorithmName"`

	// AlgorithmSettings tune the algorithm, such as medianstop's
	// min_trials_required and start_step; each algorithm rejects settings it
	// does not know.
	// +optional
	AlgorithmSettings []AlgorithmSetting `json:"algorithmSettings,omitempty"`
}
