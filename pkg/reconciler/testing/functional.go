package testing

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"knative.dev/pkg/apis"
	duckv1 "knative.dev/pkg/apis/duck/v1"
	"knative.dev/pkg/kmeta"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

// SuggestionOption changes a Suggestion under construction.
type SuggestionOption func(*v1alpha1.Suggestion)

// NewSuggestion returns a Suggestion of the random algorithm, changed by opts.
func NewSuggestion(name, namespace string, opts ...SuggestionOption) *v1alpha1.Suggestion {
	s := &v1alpha1.Suggestion{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec:       v1alpha1.SuggestionSpec{Algorithm: v1alpha1.AlgorithmSpec{AlgorithmName: "random"}},
	}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// WithAlgorithm sets the algorithm.
func WithAlgorithm(name string) SuggestionOption {
	return func(s *v1alpha1.Suggestion) { s.Spec.Algorithm.AlgorithmName = name }
}

// WithRequests sets spec.requests.
func WithRequests(n int32) SuggestionOption {
	return func(s *v1alpha1.Suggestion) { s.Spec.Requests = n }
}

// WithInitConditions sets every condition to Unknown.
func WithInitConditions(s *v1alpha1.Suggestion) { s.Status.InitializeConditions() }

// WithAssignments appends handed-out assignments, each given as name=value
// pairs in order, and counts them.
func WithAssignments(assignments ...[]string) SuggestionOption {
	return func(s *v1alpha1.Suggestion) {
		for _, a := range assignments {
			s.Status.SuggestionCount++
			s.Status.Suggestions = append(s.Status.Suggestions, v1alpha1.TrialAssignment{
				Name:                 s.Name + "-" + strconv.Itoa(int(s.Status.SuggestionCount)),
				ParameterAssignments: Assignments(a...),
			})
		}
	}
}

// WithTrialsCreated drops the first n assignments listed, as the
// Suggestion's reconciler does once their Trials exist; they stay counted.
func WithTrialsCreated(n int) SuggestionOption {
	return func(s *v1alpha1.Suggestion) {
		s.Status.Suggestions = s.Status.Suggestions[n:]
		if len(s.Status.Suggestions) == 0 {
			s.Status.Suggestions = nil
		}
	}
}

// Assignments turns name, value, name, value... into assignments.
func Assignments(nv ...string) []v1alpha1.ParameterAssignment {
	out := make([]v1alpha1.ParameterAssignment, 0, len(nv)/2)
	for i := 0; i+1 < len(nv); i += 2 {
		out = append(out, v1alpha1.ParameterAssignment{Name: nv[i], Value: nv[i+1]})
	}
	return out
}

// WithAlgorithmSettings sets the state returned by the algorithm.
func WithAlgorithmSettings(nv ...string) SuggestionOption {
	return func(s *v1alpha1.Suggestion) {
		s.Status.AlgorithmSettings = nil
		for i := 0; i+1 < len(nv); i += 2 {
			s.Status.AlgorithmSettings = append(s.Status.AlgorithmSettings, v1alpha1.AlgorithmSetting{Name: nv[i], Value: nv[i+1]})
		}
	}
}

// WithFunctionReady marks the function found.
func WithFunctionReady(reason, url, message string) SuggestionOption {
	return func(s *v1alpha1.Suggestion) { s.Status.MarkFunctionReady(reason, url, "%s", message) }
}

// WithFunctionNotReady marks the function missing or not Ready.
func WithFunctionNotReady(reason, message string) SuggestionOption {
	return func(s *v1alpha1.Suggestion) { s.Status.MarkFunctionNotReady(reason, "%s", message) }
}

// WithFulfilled marks every requested assignment handed out.
func WithFulfilled(s *v1alpha1.Suggestion) { s.Status.MarkFulfilled() }

// WithExhausted marks the search space used up.
func WithExhausted(s *v1alpha1.Suggestion) { s.Status.MarkExhausted() }

// WithRequestFailed marks the request failed for good.
func WithRequestFailed(reason, message string) SuggestionOption {
	return func(s *v1alpha1.Suggestion) { s.Status.MarkRequestFailed(reason, "%s", message) }
}

// WithRequestRetrying marks the request failed for now.
func WithRequestRetrying(reason, message string) SuggestionOption {
	return func(s *v1alpha1.Suggestion) { s.Status.MarkRequestRetrying(reason, "%s", message) }
}

// ExperimentOption changes an Experiment under construction.
type ExperimentOption func(*v1alpha1.Experiment)

// NewExperiment returns the experiment of the Katib Suggestion design, with
// a step on --lr so that grid search takes it too, changed by opts.
func NewExperiment(name, namespace string, opts ...ExperimentOption) *v1alpha1.Experiment {
	goal := 0.99
	e := &v1alpha1.Experiment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: v1alpha1.ExperimentSpec{
			Objective: v1alpha1.ObjectiveSpec{Type: v1alpha1.ObjectiveTypeMaximize, Goal: &goal, ObjectiveMetricName: "Validation-accuracy"},
			Algorithm: v1alpha1.AlgorithmSpec{AlgorithmName: "random"},
			Parameters: []v1alpha1.ParameterSpec{
				{Name: "--lr", ParameterType: v1alpha1.ParameterTypeDouble, FeasibleSpace: v1alpha1.FeasibleSpace{Min: "0.01", Max: "0.03", Step: "0.005"}},
				{Name: "--num-layers", ParameterType: v1alpha1.ParameterTypeInt, FeasibleSpace: v1alpha1.FeasibleSpace{Min: "2", Max: "5"}},
				{Name: "--optimizer", ParameterType: v1alpha1.ParameterTypeCategorical, FeasibleSpace: v1alpha1.FeasibleSpace{List: []string{"sgd", "adam", "ftrl"}}},
			},
		},
	}
	for _, opt := range opts {
		opt(e)
	}
	return e
}

// WithExperimentAlgorithm sets the algorithm and its settings (name, value...).
func WithExperimentAlgorithm(name string, settings ...string) ExperimentOption {
	return func(e *v1alpha1.Experiment) {
		e.Spec.Algorithm = v1alpha1.AlgorithmSpec{AlgorithmName: name}
		for i := 0; i+1 < len(settings); i += 2 {
			e.Spec.Algorithm.AlgorithmSettings = append(e.Spec.Algorithm.AlgorithmSettings, v1alpha1.AlgorithmSetting{Name: settings[i], Value: settings[i+1]})
		}
	}
}

// WithParameters replaces the search space.
func WithParameters(params ...v1alpha1.ParameterSpec) ExperimentOption {
	return func(e *v1alpha1.Experiment) { e.Spec.Parameters = params }
}

// TrialOption changes a Trial under construction.
type TrialOption func(*v1alpha1.Trial)

// NewTrial returns a Trial of an experiment with the given assignments
// (name, value...).
func NewTrial(name, namespace, experiment string, assignments []string, opts ...TrialOption) *v1alpha1.Trial {
	t := &v1alpha1.Trial{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{tuning.ExperimentLabelKey: experiment}},
		Spec:       v1alpha1.TrialSpec{ParameterAssignments: Assignments(assignments...)},
	}
	for _, opt := range opts {
		opt(t)
	}
	return t
}

// WithTrialRunning marks the trial running.
func WithTrialRunning(t *v1alpha1.Trial) { t.Status.MarkRunning("running") }

// WithTrialSucceeded marks the trial succeeded with observed metrics
// (name, value...).
func WithTrialSucceeded(metrics ...string) TrialOption {
	return func(t *v1alpha1.Trial) {
		t.Status.MarkSucceeded("done")
		t.Status.Observation = &v1alpha1.Observation{}
		for i := 0; i+1 < len(metrics); i += 2 {
			t.Status.Observation.Metrics = append(t.Status.Observation.Metrics, v1alpha1.Metric{Name: metrics[i], Value: metrics[i+1]})
		}
	}
}

// WithTrialFailed marks the trial failed.
func WithTrialFailed(t *v1alpha1.Trial) { t.Status.MarkFailed("exit code 1") }

// ServiceOption changes a Knative Service under construction.
type ServiceOption func(*servingv1.Service)

// NewService returns a Knative Service labelled as the function of an
// algorithm.
func NewService(name, namespace, algorithm string, opts ...ServiceOption) *servingv1.Service {
	svc := &servingv1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Generation: 1, Labels: map[string]string{tuning.AlgorithmLabelKey: algorithm}},
	}
	for _, opt := range opts {
		opt(svc)
	}
	return svc
}

// WithServiceReady marks the Service Ready at a cluster-local address.
func WithServiceReady(url string) ServiceOption {
	return func(svc *servingv1.Service) {
		u, err := apis.ParseURL(url)
		if err != nil {
			panic(err)
		}
		svc.Status.ObservedGeneration = svc.Generation
		svc.Status.Address = &duckv1.Addressable{URL: u}
		svc.Status.SetConditions(apis.Conditions{{Type: apis.ConditionReady, Status: corev1.ConditionTrue}})
	}
}

// WithServiceNotReady marks the Service not Ready, with why.
func WithServiceNotReady(reason, message string) ServiceOption {
	return func(svc *servingv1.Service) {
		svc.Status.ObservedGeneration = svc.Generation
		svc.Status.SetConditions(apis.Conditions{{Type: apis.ConditionReady, Status: corev1.ConditionFalse, Reason: reason, Message: message}})
	}
}

// WithCounts sets parallelTrialCount, maxTrialCount and maxFailedTrialCount.
func WithCounts(parallel, maxTrials, maxFailed int32) ExperimentOption {
	return func(e *v1alpha1.Experiment) {
		e.Spec.ParallelTrialCount, e.Spec.MaxTrialCount, e.Spec.MaxFailedTrialCount = &parallel, &maxTrials, &maxFailed
	}
}

// WithGoal sets the objective's goal; nil removes it.
func WithGoal(goal *float64) ExperimentOption {
	return func(e *v1alpha1.Experiment) { e.Spec.Objective.Goal = goal }
}

// WithTrialTemplate sets the trial template.
func WithTrialTemplate(tt *v1alpha1.TrialTemplate) ExperimentOption {
	return func(e *v1alpha1.Experiment) { e.Spec.TrialTemplate = tt }
}

// WithExperimentStatus changes the status with f, such as
// (*v1alpha1.ExperimentStatus).InitializeConditions.
func WithExperimentStatus(f func(*v1alpha1.ExperimentStatus)) ExperimentOption {
	return func(e *v1alpha1.Experiment) { f(&e.Status) }
}

// WithOwner makes the Experiment the Suggestion's controller.
func WithOwner(e *v1alpha1.Experiment) SuggestionOption {
	return func(s *v1alpha1.Suggestion) {
		s.OwnerReferences = []metav1.OwnerReference{*kmeta.NewControllerRef(e)}
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		s.Labels[tuning.ExperimentLabelKey] = e.Name
	}
}

// WithTrialOwner makes the Experiment the Trial's controller.
func WithTrialOwner(e *v1alpha1.Experiment) TrialOption {
	return func(t *v1alpha1.Trial) {
		t.OwnerReferences = []metav1.OwnerReference{*kmeta.NewControllerRef(e)}
	}
}

// WithTrialMetricsUnavailable marks the trial's workload succeeded without
// its objective metric.
func WithTrialMetricsUnavailable(t *v1alpha1.Trial) {
	t.Status.MarkMetricsUnavailable("no objective metric")
}

// WithTrialPending marks the trial waiting for its workload.
func WithTrialPending(t *v1alpha1.Trial) { t.Status.MarkPending("waiting") }

// WithTrialSpec changes the trial's spec with f.
func WithTrialSpec(f func(*v1alpha1.TrialSpec)) TrialOption {
	return func(t *v1alpha1.Trial) { f(&t.Spec) }
}

// WithTrialStatus changes the trial's status with f.
func WithTrialStatus(f func(*v1alpha1.TrialStatus)) TrialOption {
	return func(t *v1alpha1.Trial) { f(&t.Status) }
}

// WithSuggestionEarlyStopping sets the Suggestion's early-stopping algorithm
// and its settings (name, value...).
func WithSuggestionEarlyStopping(name string, settings ...string) SuggestionOption {
	return func(s *v1alpha1.Suggestion) { s.Spec.EarlyStopping = earlyStopping(name, settings...) }
}

// WithEarlyStopping sets the Experiment's early-stopping algorithm and its
// settings (name, value...).
func WithEarlyStopping(name string, settings ...string) ExperimentOption {
	return func(e *v1alpha1.Experiment) { e.Spec.EarlyStopping = earlyStopping(name, settings...) }
}

func earlyStopping(name string, settings ...string) *v1alpha1.EarlyStoppingSpec {
	es := &v1alpha1.EarlyStoppingSpec{AlgorithmName: name}
	for i := 0; i+1 < len(settings); i += 2 {
		es.AlgorithmSettings = append(es.AlgorithmSettings, v1alpha1.AlgorithmSetting{Name: settings[i], Value: settings[i+1]})
	}
	return es
}

// WithTrialCurve gives the trial's observation the metric with a learning
// curve, one value per step from step 1; the metric's value is the last.
func WithTrialCurve(metric string, values ...string) TrialOption {
	return func(t *v1alpha1.Trial) {
		if t.Status.Observation == nil {
			t.Status.Observation = &v1alpha1.Observation{}
		}
		m := v1alpha1.Metric{Name: metric}
		for i, v := range values {
			m.Curve = append(m.Curve, v1alpha1.CurvePoint{Step: int64(i + 1), Value: v})
			m.Value, m.Latest = v, v
		}
		t.Status.Observation.Metrics = append(t.Status.Observation.Metrics, m)
	}
}
