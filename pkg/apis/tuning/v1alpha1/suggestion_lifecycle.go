package v1alpha1

import "knative.dev/pkg/apis"

// The conditions of a Suggestion. Ready is True when the function is known
// and every requested assignment has been handed out (or the search space is
// used up).
const (
	SuggestionConditionReady = apis.ConditionReady
	// SuggestionConditionFunctionReady says which function serves the
	// algorithm, or why none does.
	SuggestionConditionFunctionReady apis.ConditionType = "FunctionReady"
	// SuggestionConditionFulfilled says whether spec.requests assignments
	// have been handed out, or why not.
	SuggestionConditionFulfilled apis.ConditionType = "Fulfilled"
	// SuggestionConditionEarlyStopping says how the last judgement of the
	// running trials by the early-stopping function went. Only a Suggestion
	// with spec.earlyStopping has it, and it does not bear on Ready: trials
	// run to their end while it is not True.
	SuggestionConditionEarlyStopping apis.ConditionType = "EarlyStopping"
)

// Reasons of the Suggestion's conditions, also the reasons of the events
// that report them.
const (
	// FunctionReady True: how the function was found.
	ReasonConfigMapURL   = "ConfigMapURL"
	ReasonKnativeService = "KnativeService"
	// FunctionReady False: why no function can be called.
	ReasonFunctionNotFound = "FunctionNotFound"
	ReasonFunctionNotReady = "FunctionNotReady"
	// Fulfilled False: nothing can be asked for until something changes.
	ReasonExperimentNotFound = "ExperimentNotFound"
	ReasonInvalidExperiment  = "InvalidExperiment"
	ReasonFunctionRejected   = "FunctionRejected"
	// Fulfilled Unknown: asking again.
	ReasonFunctionUnavailable = "FunctionUnavailable"
	ReasonInvalidReply        = "InvalidReply"
	// Fulfilled True, or Unknown with assignments still to ask for.
	ReasonSearchSpaceExhausted = "SearchSpaceExhausted"
	ReasonSuggestionsHandedOut = "SuggestionsHandedOut"
	// EarlyStopping True: the running trials were judged.
	ReasonTrialsJudged = "TrialsJudged"
)

var suggestionCondSet = apis.NewLivingConditionSet(SuggestionConditionFunctionReady, SuggestionConditionFulfilled)

// GetConditionSet implements apis.ConditionsAccessor's owner.
func (*Suggestion) GetConditionSet() apis.ConditionSet { return suggestionCondSet }

// InitializeConditions sets every condition of the set to Unknown.
func (ss *SuggestionStatus) InitializeConditions() {
	suggestionCondSet.Manage(ss).InitializeConditions()
}

// IsReady reports whether the Suggestion is Ready.
func (ss *SuggestionStatus) IsReady() bool {
	return suggestionCondSet.Manage(ss).IsHappy()
}

// MarkFunctionReady records the function in use and how it was found.
func (ss *SuggestionStatus) MarkFunctionReady(reason, url, messageFormat string, messageA ...interface{}) {
	ss.FunctionURL = url
	suggestionCondSet.Manage(ss).MarkTrueWithReason(SuggestionConditionFunctionReady, reason, messageFormat, messageA...)
}

// MarkFunctionNotReady says why no function can serve the algorithm.
func (ss *SuggestionStatus) MarkFunctionNotReady(reason, messageFormat string, messageA ...interface{}) {
	suggestionCondSet.Manage(ss).MarkFalse(SuggestionConditionFunctionReady, reason, messageFormat, messageA...)
}

// MarkFulfilled says that every requested assignment has been handed out.
func (ss *SuggestionStatus) MarkFulfilled() {
	suggestionCondSet.Manage(ss).MarkTrueWithReason(SuggestionConditionFulfilled, ReasonSuggestionsHandedOut, "%d assignments handed out", ss.SuggestionCount)
}

// MarkExhausted says that the search space has no unseen point left.
func (ss *SuggestionStatus) MarkExhausted() {
	ss.SearchSpaceExhausted = true
	suggestionCondSet.Manage(ss).MarkTrueWithReason(SuggestionConditionFulfilled, ReasonSearchSpaceExhausted,
		"the search space has no unseen point left; %d assignments handed out in all", ss.SuggestionCount)
}

// MarkRequestFailed says that assignments cannot be had until something
// changes: the Experiment, the function, or the Suggestion's spec.
func (ss *SuggestionStatus) MarkRequestFailed(reason, messageFormat string, messageA ...interface{}) {
	suggestionCondSet.Manage(ss).MarkFalse(SuggestionConditionFulfilled, reason, messageFormat, messageA...)
}

// MarkRequestRetrying says that the last attempt failed in a way worth a
// retry, which is under way.
func (ss *SuggestionStatus) MarkRequestRetrying(reason, messageFormat string, messageA ...interface{}) {
	suggestionCondSet.Manage(ss).MarkUnknown(SuggestionConditionFulfilled, reason, messageFormat, messageA...)
}

// MarkEarlyStoppingJudged says that the early-stopping function judged the
// running trials.
func (ss *SuggestionStatus) MarkEarlyStoppingJudged(messageFormat string, messageA ...interface{}) {
	suggestionCondSet.Manage(ss).MarkTrueWithReason(SuggestionConditionEarlyStopping, ReasonTrialsJudged, messageFormat, messageA...)
}

// MarkEarlyStoppingFailed says why the running trials cannot be judged
// until something changes (the function or the Experiment).
func (ss *SuggestionStatus) MarkEarlyStoppingFailed(reason, messageFormat string, messageA ...interface{}) {
	suggestionCondSet.Manage(ss).MarkFalse(SuggestionConditionEarlyStopping, reason, messageFormat, messageA...)
}

// MarkEarlyStoppingRetrying says that the last judgement failed in a way
// worth a retry, which is under way.
func (ss *SuggestionStatus) MarkEarlyStoppingRetrying(reason, messageFormat string, messageA ...interface{}) {
	suggestionCondSet.Manage(ss).MarkUnknown(SuggestionConditionEarlyStopping, reason, messageFormat, messageA...)
}

// ClearEarlyStopping removes the EarlyStopping condition, of a Suggestion
// without early stopping.
func (ss *SuggestionStatus) ClearEarlyStopping() {
	_ = suggestionCondSet.Manage(ss).ClearCondition(SuggestionConditionEarlyStopping)
}
