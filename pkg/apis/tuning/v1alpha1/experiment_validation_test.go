package v1alpha1

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"knative.dev/pkg/apis"
)

// katibExperiment is the experiment of Katib's Suggestion design: maximise
// Validation-accuracy with random search over a learning rate, a number of
// layers and an optimizer.
func katibExperiment() *Experiment {
	return &Experiment{
		Spec: ExperimentSpec{
			Objective: ObjectiveSpec{Type: ObjectiveTypeMaximize, Goal: ptr.To(0.99), ObjectiveMetricName: "Validation-accuracy"},
			Algorithm: AlgorithmSpec{AlgorithmName: "random"},
			Parameters: []ParameterSpec{
				{Name: "--lr", ParameterType: ParameterTypeDouble, FeasibleSpace: FeasibleSpace{Min: "0.01", Max: "0.03"}},
				{Name: "--num-layers", ParameterType: ParameterTypeInt, FeasibleSpace: FeasibleSpace{Min: "2", Max: "5"}},
				{Name: "--optimizer", ParameterType: ParameterTypeCategorical, FeasibleSpace: FeasibleSpace{List: []string{"sgd", "adam", "ftrl"}}},
			},
		},
	}
}

// checkFieldError compares errors by their text, which holds every message,
// path and detail.
func checkFieldError(t *testing.T, got, want *apis.FieldError) {
	t.Helper()
	switch {
	case want == nil && got == nil:
	case want == nil:
		t.Errorf("Validate() = %q, want no error", got.Error())
	case got == nil:
		t.Errorf("Validate() = nil, want %q", want.Error())
	default:
		if diff := cmp.Diff(want.Error(), got.Error()); diff != "" {
			t.Errorf("Validate() (-want, +got):\n%s", diff)
		}
	}
}

func TestExperimentValidation(t *testing.T) {
	maxInt32 := int32(math.MaxInt32)
	tests := []struct {
		name   string
		change func(*Experiment)
		want   *apis.FieldError
	}{{
		name:   "katib seed experiment",
		change: func(*Experiment) {},
	}, {
		name:   "katib seed experiment with defaults",
		change: func(e *Experiment) { e.SetDefaults(context.Background()) },
	}, {
		name: "every distribution, step and discrete list",
		change: func(e *Experiment) {
			e.Spec.Parameters = []ParameterSpec{
				{Name: "a", ParameterType: ParameterTypeDouble, FeasibleSpace: FeasibleSpace{Min: "0.001", Max: "0.1", Distribution: DistributionLogUniform}},
				{Name: "b", ParameterType: ParameterTypeDouble, FeasibleSpace: FeasibleSpace{Min: "-1", Max: "1", Distribution: DistributionNormal}},
				{Name: "c", ParameterType: ParameterTypeInt, FeasibleSpace: FeasibleSpace{Min: "1", Max: "1000", Distribution: DistributionLogNormal}},
				{Name: "d", ParameterType: ParameterTypeInt, FeasibleSpace: FeasibleSpace{Min: "0", Max: "10", Step: "2", Distribution: DistributionUniform}},
				{Name: "e", ParameterType: ParameterTypeDiscrete, FeasibleSpace: FeasibleSpace{List: []string{"16", "32", "64"}}},
			}
		},
	}, {
		name:   "maxFailedTrialCount 0 is allowed",
		change: func(e *Experiment) { e.Spec.MaxFailedTrialCount = ptr.To[int32](0) },
	}, {
		name:   "minimize",
		change: func(e *Experiment) { e.Spec.Objective.Type = ObjectiveTypeMinimize },
	}, {
		name: "missing objective type",
		change: func(e *Experiment) {
			e.Spec.Objective.Type = ""
		},
		want: apis.ErrMissingField("spec.objective.type").Also(
			&apis.FieldError{Message: "use minimize or maximize", Paths: []string{"spec.objective.type"}}),
	}, {
		name:   "bad objective type",
		change: func(e *Experiment) { e.Spec.Objective.Type = "best" },
		want:   apis.ErrInvalidValue("best", "spec.objective.type", "use minimize or maximize"),
	}, {
		name:   "every resumePolicy of Katib",
		change: func(e *Experiment) { e.Spec.ResumePolicy = FromVolume },
	}, {
		name:   "unknown resumePolicy",
		change: func(e *Experiment) { e.Spec.ResumePolicy = "Always" },
		want:   apis.ErrInvalidValue("Always", "spec.resumePolicy", "use LongRunning, Never or FromVolume"),
	}, {
		name:   "trialsOnEnd Finish",
		change: func(e *Experiment) { e.Spec.TrialsOnEnd = TrialsOnEndFinish },
	}, {
		name:   "unknown trialsOnEnd",
		change: func(e *Experiment) { e.Spec.TrialsOnEnd = "Kill" },
		want:   apis.ErrInvalidValue("Kill", "spec.trialsOnEnd", "use Stop or Finish"),
	}, {
		name: "medianstop with Katib's settings",
		change: func(e *Experiment) {
			e.Spec.EarlyStopping = &EarlyStoppingSpec{AlgorithmName: "medianstop", AlgorithmSettings: []AlgorithmSetting{
				{Name: "min_trials_required", Value: "3"}, {Name: "start_step", Value: "4"}}}
		},
	}, {
		name: "a team's own early-stopping algorithm: its function checks its settings",
		change: func(e *Experiment) {
			e.Spec.EarlyStopping = &EarlyStoppingSpec{AlgorithmName: "ours", AlgorithmSettings: []AlgorithmSetting{{Name: "x", Value: "y"}}}
		},
	}, {
		name:   "early stopping without an algorithm",
		change: func(e *Experiment) { e.Spec.EarlyStopping = &EarlyStoppingSpec{} },
		want:   apis.ErrMissingField("spec.earlyStopping.algorithmName"),
	}, {
		name: "a medianstop setting out of range",
		change: func(e *Experiment) {
			e.Spec.EarlyStopping = &EarlyStoppingSpec{AlgorithmName: "medianstop", AlgorithmSettings: []AlgorithmSetting{
				{Name: "min_trials_required", Value: "3"}, {Name: "start_step", Value: "0"}}}
		},
		want: &apis.FieldError{Message: `start_step: "0" is not an integer of at least 1`, Paths: []string{"spec.earlyStopping.algorithmSettings[1]"}},
	}, {
		name: "an unknown asha setting",
		change: func(e *Experiment) {
			e.Spec.EarlyStopping = &EarlyStoppingSpec{AlgorithmName: "asha", AlgorithmSettings: []AlgorithmSetting{{Name: "eta", Value: "3"}}}
		},
		want: &apis.FieldError{Message: `unknown setting "eta": this algorithm takes min_early_stopping_rate, min_resource, reduction_factor`, Paths: []string{"spec.earlyStopping.algorithmSettings[0]"}},
	}, {
		name:   "missing objectiveMetricName",
		change: func(e *Experiment) { e.Spec.Objective.ObjectiveMetricName = "" },
		want:   apis.ErrMissingField("spec.objective.objectiveMetricName"),
	}, {
		name:   "missing algorithmName",
		change: func(e *Experiment) { e.Spec.Algorithm.AlgorithmName = "" },
		want:   apis.ErrMissingField("spec.algorithm.algorithmName"),
	}, {
		name: "duplicate setting names",
		change: func(e *Experiment) {
			e.Spec.Algorithm.AlgorithmSettings = []AlgorithmSetting{
				{Name: "random_state", Value: "1"}, {Name: "max_tries", Value: "10"}, {Name: "random_state", Value: "2"},
			}
		},
		want: apis.ErrInvalidValue("random_state", "name", "algorithmSettings[0] has the same name").
			ViaFieldIndex("algorithmSettings", 2).ViaField("algorithm").ViaField("spec"),
	}, {
		name:   "missing setting name",
		change: func(e *Experiment) { e.Spec.Algorithm.AlgorithmSettings = []AlgorithmSetting{{Value: "1"}} },
		want:   apis.ErrMissingField("spec.algorithm.algorithmSettings[0].name"),
	}, {
		name:   "no parameters",
		change: func(e *Experiment) { e.Spec.Parameters = nil },
		want:   apis.ErrMissingField("spec.parameters"),
	}, {
		name:   "empty parameters",
		change: func(e *Experiment) { e.Spec.Parameters = []ParameterSpec{} },
		want:   apis.ErrMissingField("spec.parameters"),
	}, {
		name: "duplicate parameter names",
		change: func(e *Experiment) {
			e.Spec.Parameters[2].Name = "--lr"
		},
		want: apis.ErrInvalidValue("--lr", "name", "parameters[0] has the same name").ViaFieldIndex("parameters", 2).ViaField("spec"),
	}, {
		name:   "missing parameter name",
		change: func(e *Experiment) { e.Spec.Parameters[1].Name = "" },
		want:   apis.ErrMissingField("spec.parameters[1].name"),
	}, {
		name:   "unknown parameterType",
		change: func(e *Experiment) { e.Spec.Parameters[0].ParameterType = "float" },
		want:   apis.ErrInvalidValue("float", "spec.parameters[0].parameterType", "use double, int, discrete or categorical"),
	}, {
		name:   "missing parameterType",
		change: func(e *Experiment) { e.Spec.Parameters[1].ParameterType = "" },
		want:   apis.ErrInvalidValue("", "spec.parameters[1].parameterType", "use double, int, discrete or categorical"),
	}, {
		name:   "unknown distribution",
		change: func(e *Experiment) { e.Spec.Parameters[0].FeasibleSpace.Distribution = "gaussian" },
		want:   apis.ErrInvalidValue("gaussian", "spec.parameters[0].feasibleSpace.distribution", "use uniform, logUniform, normal or logNormal"),
	}, {
		name:   "distribution on a categorical parameter",
		change: func(e *Experiment) { e.Spec.Parameters[2].FeasibleSpace.Distribution = DistributionNormal },
		want: &apis.FieldError{Message: "a categorical parameter takes no distribution: its values are equally likely",
			Paths: []string{"spec.parameters[2].feasibleSpace.distribution"}},
	}, {
		name: "a conditional parameter",
		change: func(e *Experiment) {
			e.Spec.Parameters = append(e.Spec.Parameters, ParameterSpec{Name: "--momentum", ParameterType: ParameterTypeDouble,
				FeasibleSpace: FeasibleSpace{Min: "0.5", Max: "0.99"}, ParentName: "--optimizer", ParentValues: []string{"sgd"}})
		},
		want: nil,
	}, {
		name: "a parent listed after its child",
		change: func(e *Experiment) {
			e.Spec.Parameters[1].ParentName, e.Spec.Parameters[1].ParentValues = "--optimizer", []string{"sgd"}
		},
		want: &apis.FieldError{Message: `"--optimizer" is listed after this parameter, as parameters[2]: list a parent before the parameters that depend on it (this also rules out cycles)`,
			Paths: []string{"spec.parameters[1].parentName"}},
	}, {
		name: "a parent value outside its feasible space",
		change: func(e *Experiment) {
			e.Spec.Parameters = append(e.Spec.Parameters, ParameterSpec{Name: "--momentum", ParameterType: ParameterTypeDouble,
				FeasibleSpace: FeasibleSpace{Min: "0.5", Max: "0.99"}, ParentName: "--optimizer", ParentValues: []string{"sgd", "lbfgs"}})
		},
		want: &apis.FieldError{Message: `not a value of "--optimizer": "lbfgs" is not one of ["sgd", "adam", "ftrl"]`,
			Paths: []string{"spec.parameters[3].parentValues[1]"}},
	}, {
		name: "a double parent",
		change: func(e *Experiment) {
			e.Spec.Parameters[1].ParentName, e.Spec.Parameters[1].ParentValues = "--lr", []string{"0.01"}
		},
		want: &apis.FieldError{Message: `"--lr" is a double parameter: a parent must be an int, discrete or categorical parameter`,
			Paths: []string{"spec.parameters[1].parentName"}},
	}, {
		name: "parent values without a parent",
		change: func(e *Experiment) {
			e.Spec.Parameters[1].ParentValues = []string{"sgd"}
		},
		want: &apis.FieldError{Message: "missing: parentValues needs the name of the parameter they are values of",
			Paths: []string{"spec.parameters[1].parentName"}},
	}, {
		name:   "min greater than max",
		change: func(e *Experiment) { e.Spec.Parameters[0].FeasibleSpace.Min = "0.05" },
		want:   &apis.FieldError{Message: "min 0.05 is greater than max 0.03", Paths: []string{"spec.parameters[0].feasibleSpace"}},
	}, {
		name:   "non-numeric min",
		change: func(e *Experiment) { e.Spec.Parameters[0].FeasibleSpace.Min = "small" },
		want:   &apis.FieldError{Message: `"small" is not a number`, Paths: []string{"spec.parameters[0].feasibleSpace.min"}},
	}, {
		name:   "missing max",
		change: func(e *Experiment) { e.Spec.Parameters[1].FeasibleSpace.Max = "" },
		want:   &apis.FieldError{Message: "missing: a int parameter needs min and max", Paths: []string{"spec.parameters[1].feasibleSpace.max"}},
	}, {
		name:   "non-integer int bound",
		change: func(e *Experiment) { e.Spec.Parameters[1].FeasibleSpace.Min = "2.5" },
		want:   &apis.FieldError{Message: `"2.5" is not an integer`, Paths: []string{"spec.parameters[1].feasibleSpace.min"}},
	}, {
		name:   "empty list",
		change: func(e *Experiment) { e.Spec.Parameters[2].FeasibleSpace.List = nil },
		want:   &apis.FieldError{Message: "empty list: a categorical parameter needs at least one value", Paths: []string{"spec.parameters[2].feasibleSpace.list"}},
	}, {
		name:   "repeated list value",
		change: func(e *Experiment) { e.Spec.Parameters[2].FeasibleSpace.List = []string{"sgd", "adam", "sgd"} },
		want:   &apis.FieldError{Message: `"sgd" repeats list[0]`, Paths: []string{"spec.parameters[2].feasibleSpace.list[2]"}},
	}, {
		name:   "list on a double",
		change: func(e *Experiment) { e.Spec.Parameters[0].FeasibleSpace.List = []string{"0.01", "0.02"} },
		want: &apis.FieldError{Message: "a double parameter takes min and max, not a list (use discrete or categorical for a list)",
			Paths: []string{"spec.parameters[0].feasibleSpace.list"}},
	}, {
		name:   "negative parallelTrialCount",
		change: func(e *Experiment) { e.Spec.ParallelTrialCount = ptr.To[int32](-1) },
		want:   apis.ErrOutOfBoundsValue(int32(-1), int32(1), maxInt32, "spec.parallelTrialCount"),
	}, {
		name:   "maxTrialCount 0",
		change: func(e *Experiment) { e.Spec.MaxTrialCount = ptr.To[int32](0) },
		want:   apis.ErrOutOfBoundsValue(int32(0), int32(1), maxInt32, "spec.maxTrialCount"),
	}, {
		name:   "maxFailedTrialCount -1",
		change: func(e *Experiment) { e.Spec.MaxFailedTrialCount = ptr.To[int32](-1) },
		want:   apis.ErrOutOfBoundsValue(int32(-1), int32(0), maxInt32, "spec.maxFailedTrialCount"),
	}, {
		name: "trialTemplate as a Go template",
		change: func(e *Experiment) {
			e.Spec.TrialTemplate = &TrialTemplate{GoTemplate: &GoTemplate{RawTemplate: "apiVersion: batch/v1\nkind: Job\n"}}
		},
	}, {
		name: "trialTemplate as a trialSpec with trialParameters",
		change: func(e *Experiment) {
			e.Spec.TrialTemplate = &TrialTemplate{
				TrialSpec: &runtime.RawExtension{Raw: []byte(`{"apiVersion":"batch/v1","kind":"Job"}`)},
				TrialParameters: []TrialParameterSpec{
					{Name: "learningRate", Reference: "--lr"},
					{Name: "optimizer", Reference: "--optimizer"},
				},
			}
		},
	}, {
		name: "trialTemplate with both forms",
		change: func(e *Experiment) {
			e.Spec.TrialTemplate = &TrialTemplate{
				GoTemplate: &GoTemplate{RawTemplate: "kind: Job"},
				TrialSpec:  &runtime.RawExtension{Raw: []byte(`{"kind":"Job"}`)},
			}
		},
		want: apis.ErrMultipleOneOf("spec.trialTemplate.goTemplate", "spec.trialTemplate.trialSpec"),
	}, {
		name:   "trialTemplate with neither form",
		change: func(e *Experiment) { e.Spec.TrialTemplate = &TrialTemplate{SuccessCondition: "status.succeeded"} },
		want:   apis.ErrMissingOneOf("spec.trialTemplate.goTemplate", "spec.trialTemplate.trialSpec"),
	}, {
		name: "trialTemplate with a blank Go template",
		change: func(e *Experiment) {
			e.Spec.TrialTemplate = &TrialTemplate{GoTemplate: &GoTemplate{RawTemplate: " \n"}}
		},
		want: apis.ErrMissingField("spec.trialTemplate.goTemplate.rawTemplate"),
	}, {
		name: "trialParameter referencing an unknown parameter",
		change: func(e *Experiment) {
			e.Spec.TrialTemplate = &TrialTemplate{
				TrialSpec: &runtime.RawExtension{Raw: []byte(`{"kind":"Job"}`)},
				TrialParameters: []TrialParameterSpec{
					{Name: "learningRate", Reference: "--lr"},
					{Name: "momentum", Reference: "--momentum"},
				},
			}
		},
		want: apis.ErrInvalidValue("--momentum", "spec.trialTemplate.trialParameters[1].reference", "name one of the experiment's parameters"),
	}, {
		name: "trialParameter without a name",
		change: func(e *Experiment) {
			e.Spec.TrialTemplate = &TrialTemplate{
				TrialSpec:       &runtime.RawExtension{Raw: []byte(`{"kind":"Job"}`)},
				TrialParameters: []TrialParameterSpec{{Reference: "--lr"}},
			}
		},
		want: apis.ErrMissingField("spec.trialTemplate.trialParameters[0].name"),
	}, {
		name: "two objectives and constraints",
		change: func(e *Experiment) {
			e.Spec.Objective.AdditionalObjectives = []AdditionalObjective{{Name: "latency", Type: ObjectiveTypeMinimize}}
			e.Spec.Objective.Constraints = []MetricConstraint{
				{Name: "Validation-accuracy", Min: ptr.To(0.5)}, // the objective metric
				{Name: "latency", Max: ptr.To(2.0)},             // an additional objective
				{Name: "memory", Min: ptr.To(1.0), Max: ptr.To(1.0)},
			}
			e.Spec.Objective.MetricStrategies = []MetricStrategy{{Name: "latency", Value: MetricStrategyLatest}, {Name: "memory", Value: MetricStrategyMax}}
		},
	}, {
		name: "additional objective without name or type",
		change: func(e *Experiment) {
			e.Spec.Objective.AdditionalObjectives = []AdditionalObjective{{}}
		},
		want: apis.ErrMissingField("spec.objective.additionalObjectives[0].name", "spec.objective.additionalObjectives[0].type").
			Also(&apis.FieldError{Message: "use minimize or maximize", Paths: []string{"spec.objective.additionalObjectives[0].type"}}),
	}, {
		name: "additional objective repeating a metric",
		change: func(e *Experiment) {
			e.Spec.Objective.AdditionalObjectives = []AdditionalObjective{
				{Name: "Validation-accuracy", Type: ObjectiveTypeMaximize},
				{Name: "latency", Type: ObjectiveTypeMinimize},
				{Name: "latency", Type: "least"},
			}
		},
		want: apis.ErrInvalidValue("Validation-accuracy", "spec.objective.additionalObjectives[0].name", "it is objectiveMetricName, an objective already: name another metric").
			Also(apis.ErrInvalidValue("latency", "spec.objective.additionalObjectives[2].name", "additionalObjectives[1] has the same name")).
			Also(apis.ErrInvalidValue("least", "spec.objective.additionalObjectives[2].type", "use minimize or maximize")),
	}, {
		name: "too many additional objectives",
		change: func(e *Experiment) {
			for i := range MaxAdditionalObjectives + 1 {
				e.Spec.Objective.AdditionalObjectives = append(e.Spec.Objective.AdditionalObjectives, AdditionalObjective{Name: fmt.Sprint("m", i), Type: ObjectiveTypeMinimize})
			}
		},
		want: &apis.FieldError{Message: "9 additional objectives: give at most 8", Paths: []string{"spec.objective.additionalObjectives"}},
	}, {
		name: "constraints without a bound, twice, or empty",
		change: func(e *Experiment) {
			e.Spec.Objective.Constraints = []MetricConstraint{
				{Name: "cost"},
				{Name: "cost", Max: ptr.To(1.0)},
				{Name: "size", Min: ptr.To(3.0), Max: ptr.To(2.0)},
				{Max: ptr.To(1.0)},
			}
		},
		want: (&apis.FieldError{Message: "a constraint needs min, max or both", Paths: []string{"spec.objective.constraints[0]"}}).
			Also(apis.ErrInvalidValue("cost", "spec.objective.constraints[1].name", "constraints[0] has the same name: give one constraint both bounds")).
			Also(&apis.FieldError{Message: "min 3 is greater than max 2: no value is feasible", Paths: []string{"spec.objective.constraints[2].min"}}).
			Also(apis.ErrMissingField("spec.objective.constraints[3].name")),
	}, {
		name: "too many constraints",
		change: func(e *Experiment) {
			for i := range MaxConstraints + 1 {
				e.Spec.Objective.Constraints = append(e.Spec.Objective.Constraints, MetricConstraint{Name: fmt.Sprint("m", i), Max: ptr.To(1.0)})
			}
		},
		want: &apis.FieldError{Message: "11 constraints: give at most 10", Paths: []string{"spec.objective.constraints"}},
	}, {
		name: "metric strategy for a metric of no objective or constraint",
		change: func(e *Experiment) {
			e.Spec.Objective.Constraints = []MetricConstraint{{Name: "cost", Max: ptr.To(1.0)}}
			e.Spec.Objective.MetricStrategies = []MetricStrategy{{Name: "latency", Value: MetricStrategyMin}}
		},
		want: apis.ErrInvalidValue("latency", "spec.objective.metricStrategies[0].name", "name the objective metric, one of additionalMetricNames, or an additional objective's or a constraint's metric"),
	}, {
		name: "several mistakes at once",
		change: func(e *Experiment) {
			e.Spec.Algorithm.AlgorithmName = ""
			e.Spec.Objective.ObjectiveMetricName = ""
			e.Spec.MaxTrialCount = ptr.To[int32](0)
			e.Spec.Parameters[1].FeasibleSpace.Min = "9"
		},
		want: apis.ErrMissingField("spec.algorithm.algorithmName", "spec.objective.objectiveMetricName").
			Also(apis.ErrOutOfBoundsValue(int32(0), int32(1), maxInt32, "spec.maxTrialCount")).
			Also(&apis.FieldError{Message: "min 9 is greater than max 5", Paths: []string{"spec.parameters[1].feasibleSpace"}}),
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := katibExperiment()
			tc.change(e)
			checkFieldError(t, e.Validate(context.Background()), tc.want)
		})
	}
}

// TestExperimentValidationText pins the rendered text of a few errors, as a
// user sees it from kubectl.
func TestExperimentValidationText(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Experiment)
		want   string
	}{{
		name:   "missing objective type",
		change: func(e *Experiment) { e.Spec.Objective.Type = "" },
		want:   "missing field(s): spec.objective.type\nuse minimize or maximize: spec.objective.type",
	}, {
		name:   "bad objective type",
		change: func(e *Experiment) { e.Spec.Objective.Type = "best" },
		want:   "invalid value: best: spec.objective.type\nuse minimize or maximize",
	}, {
		name:   "duplicate parameter names",
		change: func(e *Experiment) { e.Spec.Parameters[1].Name = "--lr" },
		want:   "invalid value: --lr: spec.parameters[1].name\nparameters[0] has the same name",
	}, {
		name:   "min greater than max",
		change: func(e *Experiment) { e.Spec.Parameters[1].FeasibleSpace = FeasibleSpace{Min: "5", Max: "2"} },
		want:   "min 5 is greater than max 2: spec.parameters[1].feasibleSpace",
	}, {
		name:   "non-numeric min",
		change: func(e *Experiment) { e.Spec.Parameters[0].FeasibleSpace.Min = "1e" },
		want:   `"1e" is not a number: spec.parameters[0].feasibleSpace.min`,
	}, {
		name:   "negative parallelTrialCount",
		change: func(e *Experiment) { e.Spec.ParallelTrialCount = ptr.To[int32](-1) },
		want:   "expected 1 <= -1 <= 2147483647: spec.parallelTrialCount",
	}, {
		name:   "maxFailedTrialCount -1",
		change: func(e *Experiment) { e.Spec.MaxFailedTrialCount = ptr.To[int32](-1) },
		want:   "expected 0 <= -1 <= 2147483647: spec.maxFailedTrialCount",
	}, {
		name:   "trialTemplate with neither form",
		change: func(e *Experiment) { e.Spec.TrialTemplate = &TrialTemplate{} },
		want:   "expected exactly one, got neither: spec.trialTemplate.goTemplate, spec.trialTemplate.trialSpec",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := katibExperiment()
			tc.change(e)
			err := e.Validate(context.Background())
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("Validate() =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestExperimentImmutability(t *testing.T) {
	const (
		msgParameters = "Immutable field changed: the trials so far were drawn from the old search space; create a new Experiment"
		msgAlgorithm  = "Immutable field changed: create a new Experiment to change the algorithm"
		msgObjective  = "Immutable field changed: the trials so far were judged by the old objective; create a new Experiment"
	)
	tests := []struct {
		name   string
		change func(*Experiment)
		want   *apis.FieldError
	}{{
		name:   "no change",
		change: func(*Experiment) {},
	}, {
		name:   "maxTrialCount may change",
		change: func(e *Experiment) { e.Spec.MaxTrialCount = ptr.To[int32](40) },
	}, {
		name: "parallel and failed counts may change",
		change: func(e *Experiment) {
			e.Spec.ParallelTrialCount = ptr.To[int32](1)
			e.Spec.MaxFailedTrialCount = ptr.To[int32](0)
		},
	}, {
		name: "algorithm settings may change",
		change: func(e *Experiment) {
			e.Spec.Algorithm.AlgorithmSettings = []AlgorithmSetting{{Name: "random_state", Value: "7"}}
		},
	}, {
		name:   "changing a parameter's range is refused",
		change: func(e *Experiment) { e.Spec.Parameters[1].FeasibleSpace.Max = "6" },
		want:   &apis.FieldError{Message: msgParameters, Paths: []string{"spec.parameters"}},
	}, {
		name: "adding a parameter is refused",
		change: func(e *Experiment) {
			e.Spec.Parameters = append(e.Spec.Parameters, ParameterSpec{Name: "--batch", ParameterType: ParameterTypeDiscrete, FeasibleSpace: FeasibleSpace{List: []string{"32", "64"}}})
		},
		want: &apis.FieldError{Message: msgParameters, Paths: []string{"spec.parameters"}},
	}, {
		name:   "changing algorithmName is refused",
		change: func(e *Experiment) { e.Spec.Algorithm.AlgorithmName = "grid" },
		want:   &apis.FieldError{Message: msgAlgorithm, Paths: []string{"spec.algorithm.algorithmName"}},
	}, {
		name:   "changing the objective type is refused",
		change: func(e *Experiment) { e.Spec.Objective.Type = ObjectiveTypeMinimize },
		want:   &apis.FieldError{Message: msgObjective, Paths: []string{"spec.objective"}},
	}, {
		name:   "changing the objective goal is refused",
		change: func(e *Experiment) { e.Spec.Objective.Goal = ptr.To(0.95) },
		want:   &apis.FieldError{Message: msgObjective, Paths: []string{"spec.objective"}},
	}, {
		name:   "changing the objective metric is refused",
		change: func(e *Experiment) { e.Spec.Objective.ObjectiveMetricName = "accuracy" },
		want:   &apis.FieldError{Message: msgObjective, Paths: []string{"spec.objective"}},
	}, {
		name: "every immutable field at once",
		change: func(e *Experiment) {
			e.Spec.Parameters = e.Spec.Parameters[:2]
			e.Spec.Algorithm.AlgorithmName = "grid"
			e.Spec.Objective.Type = ObjectiveTypeMinimize
			e.Spec.MaxTrialCount = ptr.To[int32](40)
		},
		want: (&apis.FieldError{Message: msgParameters, Paths: []string{"spec.parameters"}}).
			Also(&apis.FieldError{Message: msgAlgorithm, Paths: []string{"spec.algorithm.algorithmName"}}).
			Also(&apis.FieldError{Message: msgObjective, Paths: []string{"spec.objective"}}),
	}, {
		name: "an invalid change reports both",
		change: func(e *Experiment) {
			e.Spec.Algorithm.AlgorithmName = ""
		},
		want: apis.ErrMissingField("spec.algorithm.algorithmName").
			Also(&apis.FieldError{Message: msgAlgorithm, Paths: []string{"spec.algorithm.algorithmName"}}),
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := katibExperiment()
			old.SetDefaults(context.Background())
			e := katibExperiment()
			e.SetDefaults(context.Background())
			tc.change(e)

			ctx := apis.WithinUpdate(context.Background(), old)
			checkFieldError(t, e.Validate(ctx), tc.want)

			// Outside an update only the spec itself is checked.
			if tc.want != nil && tc.name != "an invalid change reports both" {
				if err := e.Validate(context.Background()); err != nil {
					t.Errorf("Validate() outside an update = %q, want nil", err.Error())
				}
			}
		})
	}
}

func TestExperimentImmutabilityIgnoresOtherBaselines(t *testing.T) {
	e := katibExperiment()
	e.Spec.Algorithm.AlgorithmName = "grid"
	// A baseline of another type is no Experiment to compare with.
	ctx := apis.WithinUpdate(context.Background(), &Suggestion{})
	if err := e.Validate(ctx); err != nil {
		t.Errorf("Validate() = %q, want nil", err.Error())
	}
}

func TestObjectiveMetricNamesAndStrategies(t *testing.T) {
	o := &ObjectiveSpec{
		Type:                  ObjectiveTypeMaximize,
		ObjectiveMetricName:   "accuracy",
		AdditionalMetricNames: []string{"loss", "latency"},
		AdditionalObjectives:  []AdditionalObjective{{Name: "latency", Type: ObjectiveTypeMinimize}, {Name: "recall", Type: ObjectiveTypeMaximize}},
		Constraints:           []MetricConstraint{{Name: "accuracy", Min: ptr.To(0.5)}, {Name: "cost", Max: ptr.To(1.0)}, {Name: "recall", Min: ptr.To(0.1)}},
		MetricStrategies:      []MetricStrategy{{Name: "recall", Value: MetricStrategyLatest}},
	}
	if diff := cmp.Diff([]string{"accuracy", "loss", "latency", "recall", "cost"}, o.MetricNames()); diff != "" {
		t.Errorf("MetricNames() (-want, +got):\n%s", diff)
	}
	for name, want := range map[string]MetricStrategyType{
		"accuracy": MetricStrategyMax,    // the objective metric, maximised
		"loss":     MetricStrategyLatest, // recorded only
		"latency":  MetricStrategyMin,    // an additional objective, minimised
		"recall":   MetricStrategyLatest, // as metricStrategies say
		"cost":     MetricStrategyLatest, // a constraint's metric
	} {
		if got := o.StrategyFor(name); got != want {
			t.Errorf("StrategyFor(%q) = %s, want %s", name, got, want)
		}
	}
}
