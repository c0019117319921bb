package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"knative.dev/pkg/apis"
	duckv1 "knative.dev/pkg/apis/duck/v1"
	"knative.dev/pkg/kmeta"
)

// Trial runs one parameter assignment of an Experiment and records what it
// observed. Trials carry the label tuning.knobs.dev/experiment.
//
// +genclient
// +genreconciler
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
type Trial struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the assignment to run and how.
	Spec TrialSpec `json:"spec,omitempty"`

	// Status is how the trial went.
	// +optional
	Status TrialStatus `json:"status,omitempty"`
}

var (
	_ apis.Validatable   = (*Trial)(nil)
	_ apis.Defaultable   = (*Trial)(nil)
	_ kmeta.OwnerRefable = (*Trial)(nil)
	_ duckv1.KRShaped    = (*Trial)(nil)
)

// TrialSpec is the assignment a trial runs, and how.
type TrialSpec struct {
	// ParameterAssignments give every parameter of the Experiment a value.
	ParameterAssignments []ParameterAssignment `json:"parameterAssignments"`

	// RunSpec is the workload rendered from the Experiment's trial template.
	// Without one, the trial's observation is written by hand.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	RunSpec *runtime.RawExtension `json:"runSpec,omitempty"`

	// Objective is the Experiment's objective: the metrics to record and
	// which of their values to keep.
	// +optional
	Objective *ObjectiveSpec `json:"objective,omitempty"`

	// SuccessCondition is a GJSON query on the workload that is true when
	// it succeeded.
	// +optional
	SuccessCondition string `json:"successCondition,omitempty"`

	// FailureCondition is a GJSON query on the workload that is true when
	// it failed.
	// +optional
	FailureCondition string `json:"failureCondition,omitempty"`

	// MetricsCollector is the Experiment's metricsCollectorSpec: how the
	// trial's metrics are collected. Without one, the program pushes them.
	// +optional
	MetricsCollector *MetricsCollectorSpec `json:"metricsCollector,omitempty"`

	// PrimaryContainerName is the trial template's: the container that runs
	// the training program.
	// +optional
	PrimaryContainerName string `json:"primaryContainerName,omitempty"`

	// RetainRun keeps the workload once the trial has ended; by default
	// it is deleted. The Experiment copies its trialTemplate.retain here.
	// +optional
	RetainRun bool `json:"retainRun,omitempty"`

	// Stop asks for the trial to be stopped: its workload is stopped (a
	// Job suspended when retained, any other workload deleted) and the
	// trial ends with the reason StopReason gives. Once set, it stays set.
	// The Experiment sets it on its running trials when it ends, and its
	// early-stopping algorithm on those it judges to be losing.
	// +optional
	Stop bool `json:"stop,omitempty"`

	// StopReason says why the trial is stopped, and so how it ends: Killed
	// (the default: its Experiment ended; the trial fails) or EarlyStopped
	// (judged to be losing; the trial succeeds with what it observed).
	// +optional
	StopReason string `json:"stopReason,omitempty"`

	// StopMessage says, for people, why the trial is stopped; the trial's
	// Succeeded condition repeats it.
	// +optional
	StopMessage string `json:"stopMessage,omitempty"`
}

// TrialStatus is how a trial went.
type TrialStatus struct {
	duckv1.Status `json:",inline"`

	// Observation is what the trial reported.
	// +optional
	Observation *Observation `json:"observation,omitempty"`

	// StartTime is when the trial's workload started.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`

	// CompletionTime is when the trial ended.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
}

// TrialList is a list of Trials.
//
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
type TrialList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	Items []Trial `json:"items"`
}

// GetGroupVersionKind implements kmeta.OwnerRefable.
func (*Trial) GetGroupVersionKind() schema.GroupVersionKind {
	return SchemeGroupVersion.WithKind("Trial")
}

// GetStatus implements duckv1.KRShaped.
func (t *Trial) GetStatus() *duckv1.Status {
	return &t.Status.Status
}
