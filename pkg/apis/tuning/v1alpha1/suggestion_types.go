package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"knative.dev/pkg/apis"
	duckv1 "knative.dev/pkg/apis/duck/v1"
	"knative.dev/pkg/kmeta"
)

// Suggestion hands out parameter assignments for the Experiment of the same
// name: the controller asks the algorithm's function for spec.requests
// assignments in all and records them in status.suggestions.
//
// +genclient
// +genreconciler
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
type Suggestion struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is what is asked of the algorithm.
	Spec SuggestionSpec `json:"spec,omitempty"`

	// Status holds the assignments handed out so far.
	// +optional
	Status SuggestionStatus `json:"status,omitempty"`
}

var (
	_ apis.Validatable   = (*Suggestion)(nil)
	_ apis.Defaultable   = (*Suggestion)(nil)
	_ kmeta.OwnerRefable = (*Suggestion)(nil)
	_ duckv1.KRShaped    = (*Suggestion)(nil)
)

// SuggestionSpec is what is asked of the algorithm.
type SuggestionSpec struct {
	// Algorithm is the search algorithm; its settings come from the
	// Experiment.
	Algorithm AlgorithmSpec `json:"algorithm"`

	// EarlyStopping is the Experiment's early-stopping algorithm: the
	// controller asks it which running trials to stop after their reports.
	// +optional
	EarlyStopping *EarlyStoppingSpec `json:"earlyStopping,omitempty"`

	// Requests is the number of assignments wanted in all, counting those
	// already handed out. Raise it to ask for more.
	// +optional
	Requests int32 `json:"requests,omitempty"`
}

// SuggestionStatus holds the assignments handed out so far.
type SuggestionStatus struct {
	duckv1.Status `json:",inline"`

	// SuggestionCount is the number of assignments handed out, those
	// whose Trials exist included: the next is named <name>-(count+1).
	// +optional
	SuggestionCount int32 `json:"suggestionCount,omitempty"`

	// Suggestions are the assignments handed out whose Trials the
	// Experiment has not created yet, oldest first, each under the name of
	// the trial that is to run it. Once a Trial exists it is the record of
	// its assignment, and the assignment is dropped from here.
	// +optional
	Suggestions []TrialAssignment `json:"suggestions,omitempty"`

	// AlgorithmSettings is the state the algorithm asked to be given back,
	// overlaid on the Experiment's settings in the next request.
	// +optional
	AlgorithmSettings []AlgorithmSetting `json:"algorithmSettings,omitempty"`

	// SearchSpaceExhausted is true when the algorithm has said that no
	// unseen point is left.
	// +optional
	SearchSpaceExhausted bool `json:"searchSpaceExhausted,omitempty"`

	// FunctionURL is the address of the function last called.
	// +optional
	FunctionURL string `json:"functionURL,omitempty"`
}

// TrialAssignment is one parameter assignment handed out.
type TrialAssignment struct {
	// Name of the trial that is to run the assignment.
	Name string `json:"name"`

	// ParameterAssignments give every parameter a value.
	ParameterAssignments []ParameterAssignment `json:"parameterAssignments"`
}

// SuggestionList is a list of Suggestions.
//
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
type SuggestionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	Items []Suggestion `json:"items"`
}

// GetGroupVersionKind implements kmeta.OwnerRefable.
func (*Suggestion) GetGroupVersionKind() schema.GroupVersionKind {
	return SchemeGroupVersion.WithKind("Suggestion")
}

// GetStatus implements duckv1.KRShaped.
func (s *Suggestion) GetStatus() *duckv1.Status {
	return &s.Status.Status
}
