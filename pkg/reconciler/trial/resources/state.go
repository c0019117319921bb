package resources

import (
	"encoding/json"

	"github.com/tidwall/gjson"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"knobs.dev/knobs/pkg/trialtemplate"
)

// State is what a workload's conditions say.
type State int

// The states of a workload.
const (
	// StateRunning is a workload that has neither succeeded nor failed yet.
	StateRunning State = iota
	// StateSucceeded is a workload whose success condition holds.
	StateSucceeded
	// StateFailed is a workload whose failure condition holds.
	StateFailed
)

func (s State) String() string {
	switch s {
	case StateRunning:
		return "Running"
	case StateSucceeded:
		return "Succeeded"
	case StateFailed:
		return "Failed"
	}
	return "Unknown"
}

// ReadState evaluates the success and failure GJSON queries
// (github.com/tidwall/gjson; Katib's syntax, such as
// status.conditions.#(type=="Complete")#|#(status=="True")#) on the
// workload's JSON. A query matches when its result exists and is not empty:
// not null, false, 0, "", [] or {}. So a query should pick the condition by
// its status, as the defaults do, rather than return the status itself,
// since "False" is a non-empty string. Failure is checked first. It returns
// the state and the matched condition's reason and message, when it has
// them. Empty queries fall back to trialtemplate.DefaultConditions for the
// object's kind.
func ReadState(obj *unstructured.Unstructured, success, failure string) (State, string) {
	if obj == nil {
		return StateRunning, ""
	}
	if success == "" || failure == "" {
		s, f := trialtemplate.DefaultConditions(obj.GetAPIVersion(), obj.GetKind())
		if success == "" {
			success = s
		}
		if failure == "" {
			failure = f
		}
	}
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return StateRunning, "the workload cannot be read: " + err.Error()
	}
	if r := gjson.GetBytes(data, failure); matches(r) {
		return StateFailed, conditionMessage(r)
	}
	if r := gjson.GetBytes(data, success); matches(r) {
		return StateSucceeded, conditionMessage(r)
	}
	return StateRunning, ""
}

// matches reports whether a query's result says yes.
func matches(r gjson.Result) bool {
	switch r.Type {
	case gjson.True:
		return true
	case gjson.String:
		return r.Str != ""
	case gjson.Number:
		return r.Num != 0
	case gjson.JSON:
		found := false
		r.ForEach(func(_, _ gjson.Result) bool {
			found = true
			return false
		})
		return found
	}
	// Null, which is also what a query that finds nothing returns, and
	// False.
	return false
}

// conditionMessage returns the reason and message of the condition a query
// matched, or of the first that has one when it matched several.
func conditionMessage(r gjson.Result) string {
	if r.IsArray() {
		for _, c := range r.Array() {
			if c.IsObject() {
				if m := conditionMessage(c); m != "" {
					return m
				}
			}
		}
		return ""
	}
	if !r.IsObject() {
		return ""
	}
	reason, message := r.Get("reason").String(), r.Get("message").String()
	switch {
	case reason != "" && message != "":
		return reason + ": " + message
	case message != "":
		return message
	}
	return reason
}
