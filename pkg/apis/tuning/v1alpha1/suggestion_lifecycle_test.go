package v1alpha1

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"knative.dev/pkg/apis"
)

// condition returns the condition of type t, failing the test when absent.
func condition(t *testing.T, cs apis.ConditionSet, acc apis.ConditionsAccessor, ct apis.ConditionType) *apis.Condition {
	t.Helper()
	c := cs.Manage(acc).GetCondition(ct)
	if c == nil {
		t.Fatalf("no %s condition in %+v", ct, acc.GetConditions())
	}
	return c
}

// wantCondition checks the status, reason and message of a condition.
func wantCondition(t *testing.T, c *apis.Condition, status corev1.ConditionStatus, reason, message string) {
	t.Helper()
	if c.Status != status || c.Reason != reason || c.Message != message {
		t.Errorf("%s = {%s, %q, %q}, want {%s, %q, %q}", c.Type, c.Status, c.Reason, c.Message, status, reason, message)
	}
}

func TestSuggestionInitializeConditions(t *testing.T) {
	ss := &SuggestionStatus{}
	ss.InitializeConditions()

	for _, ct := range []apis.ConditionType{SuggestionConditionReady, SuggestionConditionFunctionReady, SuggestionConditionFulfilled} {
		wantCondition(t, condition(t, suggestionCondSet, ss, ct), corev1.ConditionUnknown, "", "")
	}
	if got := len(ss.Conditions); got != 3 {
		t.Errorf("len(Conditions) = %d, want 3", got)
	}
	if ss.IsReady() {
		t.Error("IsReady() = true after InitializeConditions, want false")
	}
	if (&Suggestion{}).GetConditionSet().GetTopLevelConditionType() != apis.ConditionReady {
		t.Error("the Suggestion's top-level condition is not Ready")
	}
}

func TestSuggestionFunctionReadyAndFulfilled(t *testing.T) {
	const url = "http://random.knobs-system.svc.cluster.local"
	tests := []struct {
		name  string
		marks func(*SuggestionStatus)
	}{{
		name: "function then fulfilled",
		marks: func(ss *SuggestionStatus) {
			ss.MarkFunctionReady(ReasonConfigMapURL, url, "config-algorithms maps %q to %s", "random", url)
			ss.MarkFulfilled()
		},
	}, {
		name: "fulfilled then function",
		marks: func(ss *SuggestionStatus) {
			ss.MarkFulfilled()
			ss.MarkFunctionReady(ReasonConfigMapURL, url, "config-algorithms maps %q to %s", "random", url)
		},
	}, {
		name: "recovers from a missing function",
		marks: func(ss *SuggestionStatus) {
			ss.MarkFunctionNotReady(ReasonFunctionNotFound, "no function")
			ss.MarkFunctionReady(ReasonConfigMapURL, url, "config-algorithms maps %q to %s", "random", url)
			ss.MarkFulfilled()
		},
	}, {
		name: "recovers from a failed request",
		marks: func(ss *SuggestionStatus) {
			ss.MarkFunctionReady(ReasonConfigMapURL, url, "config-algorithms maps %q to %s", "random", url)
			ss.MarkRequestFailed(ReasonFunctionRejected, "refused")
			ss.MarkFulfilled()
		},
	}, {
		name: "recovers from a retry",
		marks: func(ss *SuggestionStatus) {
			ss.MarkFunctionReady(ReasonConfigMapURL, url, "config-algorithms maps %q to %s", "random", url)
			ss.MarkRequestRetrying(ReasonFunctionUnavailable, "connection refused")
			ss.MarkFulfilled()
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ss := &SuggestionStatus{SuggestionCount: 3}
			ss.InitializeConditions()
			tc.marks(ss)

			if !ss.IsReady() {
				t.Errorf("IsReady() = false, want true; conditions %+v", ss.Conditions)
			}
			if got := condition(t, suggestionCondSet, ss, SuggestionConditionReady).Status; got != corev1.ConditionTrue {
				t.Errorf("Ready = %s, want True", got)
			}
			wantCondition(t, condition(t, suggestionCondSet, ss, SuggestionConditionFunctionReady), corev1.ConditionTrue,
				ReasonConfigMapURL, `config-algorithms maps "random" to `+url)
			wantCondition(t, condition(t, suggestionCondSet, ss, SuggestionConditionFulfilled), corev1.ConditionTrue,
				ReasonSuggestionsHandedOut, "3 assignments handed out")
			if ss.FunctionURL != url {
				t.Errorf("FunctionURL = %q, want %q", ss.FunctionURL, url)
			}
			if ss.SearchSpaceExhausted {
				t.Error("SearchSpaceExhausted = true, want false")
			}
		})
	}
}

func TestSuggestionFunctionReadyAlone(t *testing.T) {
	ss := &SuggestionStatus{}
	ss.InitializeConditions()
	ss.MarkFunctionReady(ReasonKnativeService, "http://grid.ns.svc.cluster.local", "served by %s", "grid")

	if ss.IsReady() {
		t.Error("IsReady() = true with Fulfilled Unknown, want false")
	}
	if got := condition(t, suggestionCondSet, ss, SuggestionConditionReady).Status; got != corev1.ConditionUnknown {
		t.Errorf("Ready = %s, want Unknown", got)
	}
	wantCondition(t, condition(t, suggestionCondSet, ss, SuggestionConditionFunctionReady), corev1.ConditionTrue, ReasonKnativeService, "served by grid")
	if ss.FunctionURL != "http://grid.ns.svc.cluster.local" {
		t.Errorf("FunctionURL = %q", ss.FunctionURL)
	}
}

func TestSuggestionMarkFunctionNotReady(t *testing.T) {
	ss := &SuggestionStatus{}
	ss.InitializeConditions()
	ss.MarkFunctionNotReady(ReasonFunctionNotReady, "Knative Service %s is not Ready: %s", "ns/grid", "image pull failed")

	const msg = "Knative Service ns/grid is not Ready: image pull failed"
	wantCondition(t, condition(t, suggestionCondSet, ss, SuggestionConditionReady), corev1.ConditionFalse, ReasonFunctionNotReady, msg)
	wantCondition(t, condition(t, suggestionCondSet, ss, SuggestionConditionFunctionReady), corev1.ConditionFalse, ReasonFunctionNotReady, msg)
	wantCondition(t, condition(t, suggestionCondSet, ss, SuggestionConditionFulfilled), corev1.ConditionUnknown, "", "")
	if ss.IsReady() {
		t.Error("IsReady() = true, want false")
	}
	if ss.FunctionURL != "" {
		t.Errorf("FunctionURL = %q, want empty", ss.FunctionURL)
	}
}

func TestSuggestionMarkRequestRetrying(t *testing.T) {
	ss := &SuggestionStatus{}
	ss.InitializeConditions()
	ss.MarkFunctionReady(ReasonConfigMapURL, "http://random", "here")
	ss.MarkFulfilled()
	ss.MarkRequestRetrying(ReasonFunctionUnavailable, "calling %s: %s", "http://random", "connection refused")

	const msg = "calling http://random: connection refused"
	wantCondition(t, condition(t, suggestionCondSet, ss, SuggestionConditionReady), corev1.ConditionUnknown, ReasonFunctionUnavailable, msg)
	wantCondition(t, condition(t, suggestionCondSet, ss, SuggestionConditionFulfilled), corev1.ConditionUnknown, ReasonFunctionUnavailable, msg)
	wantCondition(t, condition(t, suggestionCondSet, ss, SuggestionConditionFunctionReady), corev1.ConditionTrue, ReasonConfigMapURL, "here")
	if ss.IsReady() {
		t.Error("IsReady() = true, want false")
	}
}

func TestSuggestionMarkRequestFailed(t *testing.T) {
	ss := &SuggestionStatus{}
	ss.InitializeConditions()
	ss.MarkFunctionReady(ReasonConfigMapURL, "http://random", "here")
	ss.MarkRequestFailed(ReasonExperimentNotFound, "no Experiment %q", "mnist")

	const msg = `no Experiment "mnist"`
	wantCondition(t, condition(t, suggestionCondSet, ss, SuggestionConditionReady), corev1.ConditionFalse, ReasonExperimentNotFound, msg)
	wantCondition(t, condition(t, suggestionCondSet, ss, SuggestionConditionFulfilled), corev1.ConditionFalse, ReasonExperimentNotFound, msg)
	if ss.IsReady() {
		t.Error("IsReady() = true, want false")
	}
}

func TestSuggestionMarkExhausted(t *testing.T) {
	ss := &SuggestionStatus{SuggestionCount: 2}
	ss.InitializeConditions()
	ss.MarkFunctionReady(ReasonConfigMapURL, "http://grid", "here")
	ss.MarkExhausted()

	if !ss.SearchSpaceExhausted {
		t.Error("SearchSpaceExhausted = false, want true")
	}
	wantCondition(t, condition(t, suggestionCondSet, ss, SuggestionConditionFulfilled), corev1.ConditionTrue,
		ReasonSearchSpaceExhausted, "the search space has no unseen point left; 2 assignments handed out in all")
	if got := condition(t, suggestionCondSet, ss, SuggestionConditionReady).Status; got != corev1.ConditionTrue {
		t.Errorf("Ready = %s, want True", got)
	}
	if !ss.IsReady() {
		t.Errorf("IsReady() = false, want true; conditions %+v", ss.Conditions)
	}
}

func TestSuggestionGetStatus(t *testing.T) {
	s := &Suggestion{}
	s.Status.InitializeConditions()
	if got := s.GetStatus(); got != &s.Status.Status {
		t.Errorf("GetStatus() = %p, want %p", got, &s.Status.Status)
	}
}

func TestGetGroupVersionKind(t *testing.T) {
	tests := []struct {
		obj interface {
			GetGroupVersionKind() schema.GroupVersionKind
		}
		want schema.GroupVersionKind
	}{
		{&Experiment{}, schema.GroupVersionKind{Group: "tuning.knobs.dev", Version: "v1alpha1", Kind: "Experiment"}},
		{&Suggestion{}, schema.GroupVersionKind{Group: "tuning.knobs.dev", Version: "v1alpha1", Kind: "Suggestion"}},
		{&Trial{}, schema.GroupVersionKind{Group: "tuning.knobs.dev", Version: "v1alpha1", Kind: "Trial"}},
	}
	for _, tc := range tests {
		if got := tc.obj.GetGroupVersionKind(); got != tc.want {
			t.Errorf("%T.GetGroupVersionKind() = %v, want %v", tc.obj, got, tc.want)
		}
	}
}

func TestAddToScheme(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := AddToScheme(scheme); err != nil {
		t.Fatalf("AddToScheme() = %v", err)
	}
	for _, kind := range []string{"Experiment", "ExperimentList", "Suggestion", "SuggestionList", "Trial", "TrialList"} {
		gvk := SchemeGroupVersion.WithKind(kind)
		if !scheme.Recognizes(gvk) {
			t.Errorf("scheme does not recognise %v", gvk)
		}
	}
	if got, want := Kind("Trial"), (schema.GroupKind{Group: "tuning.knobs.dev", Kind: "Trial"}); got != want {
		t.Errorf("Kind(Trial) = %v, want %v", got, want)
	}
	if got, want := Resource("experiments"), (schema.GroupResource{Group: "tuning.knobs.dev", Resource: "experiments"}); got != want {
		t.Errorf("Resource(experiments) = %v, want %v", got, want)
	}
}
