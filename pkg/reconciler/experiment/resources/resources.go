// Package resources builds what the Experiment reconciler creates: its
// Suggestion and one Trial per assignment handed out. Every function here is
// pure.
package resources

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"knative.dev/pkg/kmeta"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/trialtemplate"
)

// MakeSuggestion returns the Experiment's Suggestion: of the same name,
// controlled by it, asking for requests assignments in all.
func MakeSuggestion(e *v1alpha1.Experiment, requests int32) *v1alpha1.Suggestion {
	return &v1alpha1.Suggestion{
		ObjectMeta: metav1.ObjectMeta{
			Name:            e.Name,
			Namespace:       e.Namespace,
			Labels:          map[string]string{tuning.ExperimentLabelKey: e.Name},
			OwnerReferences: []metav1.OwnerReference{*kmeta.NewControllerRef(e)},
		},
		Spec: v1alpha1.SuggestionSpec{
			Algorithm:     *e.Spec.Algorithm.DeepCopy(),
			EarlyStopping: e.Spec.EarlyStopping.DeepCopy(),
			Requests:      requests,
		},
	}
}

// MakeTrial returns the Trial that runs one assignment handed out for the
// Experiment: named as the assignment, controlled by the Experiment and
// labelled with its name, with the workload rendered from the trial template,
// the objective it is judged by, and the metrics collector spec (defaulted)
// and primary container name the workload is run with.
func MakeTrial(e *v1alpha1.Experiment, a v1alpha1.TrialAssignment) (*v1alpha1.Trial, error) {
	t := &v1alpha1.Trial{
		ObjectMeta: metav1.ObjectMeta{
			Name:            a.Name,
			Namespace:       e.Namespace,
			Labels:          map[string]string{tuning.ExperimentLabelKey: e.Name},
			OwnerReferences: []metav1.OwnerReference{*kmeta.NewControllerRef(e)},
		},
		Spec: v1alpha1.TrialSpec{
			ParameterAssignments: append([]v1alpha1.ParameterAssignment(nil), a.ParameterAssignments...),
			Objective:            e.Spec.Objective.DeepCopy(),
		},
	}
	tt := e.Spec.TrialTemplate
	if tt == nil {
		return t, nil // the observation is written by hand
	}
	w, err := trialtemplate.Render(tt, a.Name, e.Namespace, a.ParameterAssignments, trialtemplate.Inactive(e.Spec.Parameters, a.ParameterAssignments)...)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(w.Object)
	if err != nil {
		return nil, err
	}
	t.Spec.RunSpec = &runtime.RawExtension{Raw: raw}
	t.Spec.SuccessCondition, t.Spec.FailureCondition = tt.SuccessCondition, tt.FailureCondition
	t.Spec.PrimaryContainerName = tt.PrimaryContainerName
	t.Spec.RetainRun = tt.Retain
	if mc := e.Spec.MetricsCollectorSpec; mc != nil {
		t.Spec.MetricsCollector = mc.DeepCopy()
		t.Spec.MetricsCollector.SetDefaults()
	}
	success, failure := trialtemplate.DefaultConditions(w.GetAPIVersion(), w.GetKind())
	if t.Spec.SuccessCondition == "" {
		t.Spec.SuccessCondition = success
	}
	if t.Spec.FailureCondition == "" {
		t.Spec.FailureCondition = failure
	}
	return t, nil
}
