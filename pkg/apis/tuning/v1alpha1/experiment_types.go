package v1alpha1

import (
	"math"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"knative.dev/pkg/apis"
	duckv1 "knative.dev/pkg/apis/duck/v1"
	"knative.dev/pkg/kmeta"

	"knobs.dev/knobs/pkg/pareto"
)

// Experiment is a hyperparameter search: a search space, an objective, an
// algorithm, and the template of the trials that evaluate its suggestions.
//
// +genclient
// +genreconciler
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
type Experiment struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is what the user asks for.
	Spec ExperimentSpec `json:"spec,omitempty"`

	// Status is how far the experiment has come.
	// +optional
	Status ExperimentStatus `json:"status,omitempty"`
}

var (
	_ apis.Validatable   = (*Experiment)(nil)
	_ apis.Defaultable   = (*Experiment)(nil)
	_ kmeta.OwnerRefable = (*Experiment)(nil)
	_ duckv1.KRShaped    = (*Experiment)(nil)
)

// ObjectiveType says whether to minimise or maximise the objective.
type ObjectiveType string

// The objective types.
const (
	ObjectiveTypeMinimize ObjectiveType = "minimize"
	ObjectiveTypeMaximize ObjectiveType = "maximize"
)

// ExperimentSpec describes a hyperparameter search.
type ExperimentSpec struct {
	// Objective is the metric to optimise.
	Objective ObjectiveSpec `json:"objective"`

	// Algorithm is the search algorithm.
	Algorithm AlgorithmSpec `json:"algorithm"`

	// EarlyStopping stops running trials that are losing, judged from their
	// learning curves; without it every trial runs to its end.
	// +optional
	EarlyStopping *EarlyStoppingSpec `json:"earlyStopping,omitempty"`

	// Parameters are the hyperparameters to tune.
	Parameters []ParameterSpec `json:"parameters"`

	// ParallelTrialCount is how many trials may run at once. Default 3.
	// +optional
	ParallelTrialCount *int32 `json:"parallelTrialCount,omitempty"`

	// MaxTrialCount is how many trials to run at most. Default 12.
	// +optional
	MaxTrialCount *int32 `json:"maxTrialCount,omitempty"`

	// MaxFailedTrialCount is how many trials may fail before the experiment
	// fails. Default 3.
	// +optional
	MaxFailedTrialCount *int32 `json:"maxFailedTrialCount,omitempty"`

	// TrialTemplate is the workload each trial runs.
	// +optional
	TrialTemplate *TrialTemplate `json:"trialTemplate,omitempty"`

	// MetricsCollectorSpec says how the trials' metrics are collected:
	// pushed by the program (Push, the default), read from its output
	// (StdOut) or from a file (File, TensorFlowEvent), or not at all (None).
	// +optional
	MetricsCollectorSpec *MetricsCollectorSpec `json:"metricsCollectorSpec,omitempty"`

	// ResumePolicy says whether an Experiment that ended with
	// MaxTrialsReached resumes when maxTrialCount is raised: LongRunning
	// (the default) and FromVolume resume it, from where its algorithm left
	// off; Never makes the end final. Katib's field and values.
	// +optional
	ResumePolicy ResumePolicyType `json:"resumePolicy,omitempty"`

	// TrialsOnEnd says what becomes of the trials still running when the
	// Experiment ends (its goal reached, too many failures, the function
	// refusing it): Stop (the default) stops them, and they end Killed;
	// Finish lets them run to their end.
	// +optional
	TrialsOnEnd TrialsOnEndPolicy `json:"trialsOnEnd,omitempty"`
}

// ResumePolicyType says whether an ended Experiment may resume.
type ResumePolicyType string

// The resume policies, as Katib names them. Knobs keeps an algorithm's
// state in the Suggestion's status, so LongRunning and FromVolume both
// resume from it.
const (
	NeverResume ResumePolicyType = "Never"
	LongRunning ResumePolicyType = "LongRunning"
	FromVolume  ResumePolicyType = "FromVolume"
)

// TrialsOnEndPolicy says what becomes of running trials when their
// Experiment ends.
type TrialsOnEndPolicy string

// The policies for running trials when their Experiment ends.
const (
	// TrialsOnEndStop stops them: their workloads are stopped and they end
	// with reason Killed.
	TrialsOnEndStop TrialsOnEndPolicy = "Stop"
	// TrialsOnEndFinish lets them run to their end.
	TrialsOnEndFinish TrialsOnEndPolicy = "Finish"
)

// ObjectiveSpec is the metric an experiment optimises.
type ObjectiveSpec struct {
	// Type is minimize or maximize.
	Type ObjectiveType `json:"type"`

	// Goal ends the experiment when a trial reaches it.
	// +optional
	Goal *float64 `json:"goal,omitempty"`

	// ObjectiveMetricName is the metric to optimise.
	ObjectiveMetricName string `json:"objectiveMetricName"`

	// AdditionalMetricNames are further metrics to record.
	// +optional
	AdditionalMetricNames []string `json:"additionalMetricNames,omitempty"`

	// MetricStrategies say which reported value of a metric counts: min,
	// max or latest. The objective metric and the additional objectives
	// keep their best (min when minimizing, max when maximizing) and the
	// others their latest, unless said otherwise here.
	// +optional
	MetricStrategies []MetricStrategy `json:"metricStrategies,omitempty"`

	// AdditionalObjectives are further metrics to optimise together with
	// the objective metric, each in its own direction: with any, the
	// search looks for the Pareto front, the trials that no other beats in
	// every objective at once. The goal, if any, is the objective metric's.
	// +optional
	AdditionalObjectives []AdditionalObjective `json:"additionalObjectives,omitempty"`

	// Constraints are metrics a trial must keep within bounds to count as
	// feasible. Only feasible trials can be the best trial, be on the
	// Pareto front or reach the goal; algorithms steer away from the
	// infeasible ones.
	// +optional
	Constraints []MetricConstraint `json:"constraints,omitempty"`
}

// AdditionalObjective is one more metric to optimise.
type AdditionalObjective struct {
	// Name is the metric's name, as the trials report it.
	Name string `json:"name"`
	// Type is minimize or maximize.
	Type ObjectiveType `json:"type"`
}

// MetricConstraint bounds a metric: a trial is feasible when the metric's
// value lies within [min, max] (either bound may be left out).
type MetricConstraint struct {
	// Name is the metric's name, as the trials report it.
	Name string `json:"name"`
	// Min is the smallest feasible value.
	// +optional
	Min *float64 `json:"min,omitempty"`
	// Max is the largest feasible value.
	// +optional
	Max *float64 `json:"max,omitempty"`
}

// MultiObjective reports whether the objective has more than one metric.
func (o *ObjectiveSpec) MultiObjective() bool {
	return len(o.AdditionalObjectives) > 0
}

// Losses returns an observation's objectives, the objective metric first
// and then the additional objectives in order, each turned to be
// minimised (a maximised one negated), and whether it reports every one
// of them as a finite number.
func (o *ObjectiveSpec) Losses(obs *Observation) ([]float64, bool) {
	out := make([]float64, 0, 1+len(o.AdditionalObjectives))
	add := func(name string, t ObjectiveType) bool {
		v, ok := obs.Value(name)
		if !ok {
			return false
		}
		if t == ObjectiveTypeMaximize {
			v = -v
		}
		out = append(out, v)
		return true
	}
	if !add(o.ObjectiveMetricName, o.Type) {
		return nil, false
	}
	for _, a := range o.AdditionalObjectives {
		if !add(a.Name, a.Type) {
			return nil, false
		}
	}
	return out, true
}

// Violation is how far an observation breaks the constraints: 0 when it
// keeps them all, else the sum of the distances from each broken bound,
// +Inf when it does not report a constraint metric as a finite number.
func (o *ObjectiveSpec) Violation(obs *Observation) float64 {
	sum := 0.0
	for _, c := range o.Constraints {
		v, ok := obs.Value(c.Name)
		if !ok {
			return math.Inf(1)
		}
		sum += pareto.Violation(v, c.Min, c.Max)
	}
	return sum
}

// MetricNames returns the names of the metrics a trial records, each once:
// the objective metric's, then the additional metrics', the additional
// objectives' and the constraints' in order.
func (o *ObjectiveSpec) MetricNames() []string {
	out := make([]string, 0, 1+len(o.AdditionalMetricNames)+len(o.AdditionalObjectives)+len(o.Constraints))
	seen := make(map[string]bool, cap(out))
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	add(o.ObjectiveMetricName)
	for _, n := range o.AdditionalMetricNames {
		add(n)
	}
	for _, a := range o.AdditionalObjectives {
		add(a.Name)
	}
	for _, c := range o.Constraints {
		add(c.Name)
	}
	return out
}

// StrategyFor returns the strategy of the named metric: the one
// metricStrategies give it, else the best value for the objective metric
// and the additional objectives (min when minimised, max when maximised),
// else the latest.
func (o *ObjectiveSpec) StrategyFor(name string) MetricStrategyType {
	for _, s := range o.MetricStrategies {
		if s.Name == name {
			return s.Value
		}
	}
	if name == o.ObjectiveMetricName {
		return bestOf(o.Type)
	}
	for _, a := range o.AdditionalObjectives {
		if a.Name == name {
			return bestOf(a.Type)
		}
	}
	return MetricStrategyLatest
}

// bestOf returns the strategy that keeps an objective's best value.
func bestOf(t ObjectiveType) MetricStrategyType {
	if t == ObjectiveTypeMaximize {
		return MetricStrategyMax
	}
	return MetricStrategyMin
}

// Better reports whether objective value a is better than b.
func (o *ObjectiveSpec) Better(a, b float64) bool {
	if o.Type == ObjectiveTypeMaximize {
		return a > b
	}
	return a < b
}

// Reached reports whether objective value v meets the goal.
func (o *ObjectiveSpec) Reached(v float64) bool {
	if o.Goal == nil {
		return false
	}
	if o.Type == ObjectiveTypeMaximize {
		return v >= *o.Goal
	}
	return v <= *o.Goal
}

// TrialTemplate is the workload a trial runs, in one of two forms: a Go
// template (the Katib v1alpha3 form) or a trialSpec with trialParameters (the
// Katib v1beta1 form).
type TrialTemplate struct {
	// GoTemplate renders the workload from a Go template with .Trial,
	// .NameSpace and .HyperParameters (a list of .Name and .Value).
	// +optional
	GoTemplate *GoTemplate `json:"goTemplate,omitempty"`

	// TrialSpec is the workload, in which ${trialParameters.<name>} is
	// replaced by the value of the trial parameter of that name.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	TrialSpec *runtime.RawExtension `json:"trialSpec,omitempty"`

	// TrialParameters map the names used in trialSpec to parameters.
	// +optional
	TrialParameters []TrialParameterSpec `json:"trialParameters,omitempty"`

	// SuccessCondition says when the workload succeeded, such as
	// status.conditions.#(type=="Complete")#|#(status=="True")#.
	// +optional
	SuccessCondition string `json:"successCondition,omitempty"`

	// FailureCondition says when the workload failed.
	// +optional
	FailureCondition string `json:"failureCondition,omitempty"`

	// PrimaryContainerName names the container of the workload's pod
	// template that runs the training program, which a metrics collector
	// wraps. It may be left out when the pod template has one container.
	// +optional
	PrimaryContainerName string `json:"primaryContainerName,omitempty"`

	// Retain keeps each trial's workload once the trial has ended. By
	// default (false) a trial's workload is deleted when the trial ends;
	// the Trial keeps its observation and condition.
	// +optional
	Retain bool `json:"retain,omitempty"`
}

// GoTemplate is a trial workload as a Go template.
type GoTemplate struct {
	// RawTemplate is the template's text.
	RawTemplate string `json:"rawTemplate"`
}

// TrialParameterSpec names a value substituted into a trialSpec.
type TrialParameterSpec struct {
	// Name used in the trialSpec as ${trialParameters.<name>}.
	Name string `json:"name"`
	// Description of the parameter, for people.
	// +optional
	Description string `json:"description,omitempty"`
	// Reference is the experiment parameter whose value is substituted.
	Reference string `json:"reference"`
}

// ExperimentStatus is how far an experiment has come.
type ExperimentStatus struct {
	duckv1.Status `json:",inline"`

	// Trials is the number of trials created.
	// +optional
	Trials int32 `json:"trials"`
	// TrialsSucceeded is the number of trials that succeeded.
	// +optional
	TrialsSucceeded int32 `json:"trialsSucceeded"`
	// TrialsFailed is the number of trials that failed.
	// +optional
	TrialsFailed int32 `json:"trialsFailed"`
	// TrialsRunning is the number of trials running.
	// +optional
	TrialsRunning int32 `json:"trialsRunning"`
	// TrialsPending is the number of trials waiting to run.
	// +optional
	TrialsPending int32 `json:"trialsPending"`
	// TrialsMetricsUnavailable is the number of trials whose workload
	// succeeded without reporting the objective metric.
	// +optional
	TrialsMetricsUnavailable int32 `json:"trialsMetricsUnavailable"`
	// TrialsEarlyStopped is the number of trials stopped early.
	// +optional
	TrialsEarlyStopped int32 `json:"trialsEarlyStopped"`
	// TrialsKilled is the number of trials stopped because the Experiment
	// ended (reason Killed).
	// +optional
	TrialsKilled int32 `json:"trialsKilled"`

	// CurrentOptimalTrial is the best trial so far: of the feasible trials,
	// the one with the best value of the objective metric.
	// +optional
	CurrentOptimalTrial *OptimalTrial `json:"currentOptimalTrial,omitempty"`

	// ParetoOptimalTrials are, with additionalObjectives, the feasible
	// trials that no other feasible trial beats in every objective: at
	// most 100, spread along the front when it holds more (ordered by the
	// objective metric, best first).
	// +optional
	ParetoOptimalTrials []OptimalTrial `json:"paretoOptimalTrials,omitempty"`

	// ParetoOptimalTrialCount is how many trials are on the Pareto front,
	// listed in paretoOptimalTrials or not.
	// +optional
	ParetoOptimalTrialCount int32 `json:"paretoOptimalTrialCount,omitempty"`

	// TrialsInfeasible is the number of completed trials that broke a
	// constraint.
	// +optional
	TrialsInfeasible int32 `json:"trialsInfeasible,omitempty"`
}

// OptimalTrial is the best trial of an Experiment so far.
type OptimalTrial struct {
	// BestTrialName is the name of the trial.
	BestTrialName string `json:"bestTrialName"`
	// ParameterAssignments are the trial's values.
	// +optional
	ParameterAssignments []ParameterAssignment `json:"parameterAssignments,omitempty"`
	// Observation is what the trial reported.
	// +optional
	Observation *Observation `json:"observation,omitempty"`
}

// ExperimentList is a list of Experiments.
//
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
type ExperimentList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	Items []Experiment `json:"items"`
}

// GetGroupVersionKind implements kmeta.OwnerRefable.
func (*Experiment) GetGroupVersionKind() schema.GroupVersionKind {
	return SchemeGroupVersion.WithKind("Experiment")
}

// GetStatus implements duckv1.KRShaped.
func (e *Experiment) GetStatus() *duckv1.Status {
	return &e.Status.Status
}
