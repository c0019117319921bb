// Package trialtemplate renders an Experiment's trialTemplate into the
// workload of one trial, and checks a template before any trial runs. It
// reads the two forms Katib users know: a Go template (v1alpha3) and a
// trialSpec with trialParameters (v1beta1). Every function here is pure.
package trialtemplate

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

// Error is a template the user must fix: the field at fault, the line in it
// when the field is a text, and what is wrong.
type Error struct {
	// Field is the path of the field at fault, such as
	// trialTemplate.goTemplate.rawTemplate.
	Field string
	// Line is the line the error is on, from 1; 0 when not applicable.
	Line int
	// Message says what is wrong and what to do.
	Message string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return e.Field + ": line " + strconv.Itoa(e.Line) + ": " + e.Message
	}
	return e.Field + ": " + e.Message
}

// InvalidArgument marks the error as the user's to fix.
func (e *Error) InvalidArgument() bool { return true }

func errorf(field string, line int, format string, args ...any) *Error {
	return &Error{Field: field, Line: line, Message: fmt.Sprintf(format, args...)}
}

// The fields of the template, as a user writes them.
const (
	fieldTemplate        = "trialTemplate"
	fieldRawTemplate     = fieldTemplate + ".goTemplate.rawTemplate"
	fieldTrialSpec       = fieldTemplate + ".trialSpec"
	fieldTrialParameters = fieldTemplate + ".trialParameters"
)

// Render returns the workload of one trial, rendered from the template with
// the trial's values.
//
// A goTemplate is a Go text/template with the option missingkey=error, run
// on .Trial, .NameSpace and .HyperParameters (a list of .Name and .Value, in
// the order of the assignments); it renders YAML or JSON of one object. A
// trialSpec is an object in whose strings ${trialParameters.<name>},
// ${trialSpec.Name} and ${trialSpec.Namespace} are replaced; every
// trialParameter must reference a parameter the assignments give a value
// (trialParameters are read only with a trialSpec), or one of inactive.
//
// inactive names the conditional parameters the trial does not have, its
// parents leaving them inactive. .HyperParameters lists only the trial's
// values. In a trialSpec, a string in a list (such as an argument
// "--momentum=${trialParameters.momentum}") that uses a trial parameter of
// an inactive parameter is left out of the list, so that a flag reaches only
// the trials that have its value; anywhere else (an environment variable's
// value, say) the placeholder renders as the empty string.
//
// The workload must have an apiVersion and a kind. It is named after the
// trial and put in its namespace whatever the template says: a name or
// namespace in the template is overridden silently, since a trial owns
// exactly one workload, by name, and an owner can only own objects of its
// own namespace. Errors are *Error.
func Render(tt *v1alpha1.TrialTemplate, trialName, namespace string, assignments []v1alpha1.ParameterAssignment, inactive ...string) (*unstructured.Unstructured, error) {
	var (
		obj   map[string]any
		field string
		err   *Error
	)
	switch {
	case tt == nil:
		return nil, errorf(fieldTemplate, 0, "missing: the experiment has no trial template to render")
	case tt.GoTemplate != nil && tt.TrialSpec != nil:
		return nil, errorf(fieldTemplate, 0, "give either goTemplate or trialSpec, not both")
	case tt.GoTemplate != nil:
		field = fieldRawTemplate
		obj, err = renderGoTemplate(tt.GoTemplate.RawTemplate, trialName, namespace, assignments)
	case tt.TrialSpec != nil:
		field = fieldTrialSpec
		obj, err = renderTrialSpec(tt, trialName, namespace, assignments, inactive)
	default:
		return nil, errorf(fieldTemplate, 0, "give goTemplate or trialSpec: the workload each trial runs")
	}
	if err != nil {
		return nil, err
	}
	if err := finish(obj, field, trialName, namespace); err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: obj}, nil
}

// finish checks that obj is one Kubernetes object and gives it the trial's
// name and namespace. field is the template's field, where the object came
// from.
func finish(obj map[string]any, field, trialName, namespace string) *Error {
	// A trialSpec's fields are the object's own; a Go template's are lines of
	// a text, so its errors name the template and describe the object.
	at := func(sub string) (string, string) {
		if field == fieldTrialSpec {
			return field + "." + sub, ""
		}
		return field, "the rendered object's " + sub + " is "
	}
	for _, key := range []string{"apiVersion", "kind"} {
		v, ok := obj[key]
		f, what := at(key)
		if !ok || v == "" {
			return errorf(f, 0, "%smissing: a trial template gives one Kubernetes object with apiVersion and kind, such as apiVersion: batch/v1 and kind: Job", what)
		}
		if _, ok := v.(string); !ok {
			return errorf(f, 0, "%s%s, not a string", what, JSONType(v))
		}
	}
	if kind := obj["kind"].(string); strings.HasSuffix(kind, "List") {
		if _, ok := obj["items"]; ok {
			f, _ := at("kind")
			return errorf(f, 0, "the template gives a %s, a list of objects: a trial runs exactly one object, such as a batch/v1 Job", kind)
		}
	}
	meta, ok := obj["metadata"]
	switch {
	case !ok || meta == nil:
		meta = map[string]any{}
		obj["metadata"] = meta
	case !isObject(meta):
		f, what := at("metadata")
		return errorf(f, 0, "%s%s, not an object", what, JSONType(meta))
	}
	meta.(map[string]any)["name"] = trialName
	meta.(map[string]any)["namespace"] = namespace
	return nil
}

// Check renders the template with a sample assignment (the first value of
// each parameter's feasible space: min, or list[0]) so that a broken
// template is found before any trial runs, and, when some parameters are
// conditional, once more with every conditional parameter inactive. It also
// checks that every trialParameter references one of params. An experiment
// without a template has nothing to check. Errors are *Error.
func Check(tt *v1alpha1.TrialTemplate, params []v1alpha1.ParameterSpec) error {
	if tt == nil {
		return nil
	}
	names := make([]string, 0, len(params))
	known := make(map[string]bool, len(params))
	for _, p := range params {
		names = append(names, p.Name)
		known[p.Name] = true
	}
	for i, tp := range tt.TrialParameters {
		if !known[tp.Reference] {
			return errorf(fmt.Sprintf("%s[%d].reference", fieldTrialParameters, i), 0,
				"unknown parameter %q: %s", tp.Reference, listNames("the experiment's parameters are", "the experiment has no parameters", names))
		}
	}
	sample := make([]v1alpha1.ParameterAssignment, 0, len(params))
	for _, p := range params {
		sample = append(sample, v1alpha1.ParameterAssignment{Name: p.Name, Value: sampleValue(p.FeasibleSpace)})
	}
	if _, err := Render(tt, sampleTrialName, sampleNamespace, sample); err != nil {
		return err
	}
	var free []v1alpha1.ParameterAssignment
	var inactive []string
	for i, p := range params {
		if p.ParentName != "" {
			inactive = append(inactive, p.Name)
		} else {
			free = append(free, sample[i])
		}
	}
	if len(inactive) == 0 {
		return nil
	}
	_, err := Render(tt, sampleTrialName, sampleNamespace, free, inactive...)
	return err
}

// Inactive names the conditional parameters of params that assignments
// leave out, their parents' values not activating them: what Render takes
// as inactive.
func Inactive(params []v1alpha1.ParameterSpec, assignments []v1alpha1.ParameterAssignment) []string {
	given := make(map[string]bool, len(assignments))
	for _, a := range assignments {
		given[a.Name] = true
	}
	var out []string
	for _, p := range params {
		if p.ParentName != "" && !given[p.Name] {
			out = append(out, p.Name)
		}
	}
	return out
}

// The trial Check renders.
const (
	sampleTrialName = "sample-trial"
	sampleNamespace = "default"
)

// sampleValue is the first value of a feasible space.
func sampleValue(fs v1alpha1.FeasibleSpace) string {
	if fs.Min != "" {
		return fs.Min
	}
	if len(fs.List) > 0 {
		return fs.List[0]
	}
	return fs.Max
}

// The conditions of a batch/v1 Job.
const (
	jobSucceeded = `status.conditions.#(type=="Complete")#|#(status=="True")#`
	jobFailed    = `status.conditions.#(type=="Failed")#|#(status=="True")#`
)

// The conditions of the Knative batch convention: Succeeded, True or False.
const (
	knativeSucceeded = `status.conditions.#(type=="Succeeded")#|#(status=="True")#`
	knativeFailed    = `status.conditions.#(type=="Succeeded")#|#(status=="False")#`
)

// DefaultConditions returns the success and failure GJSON queries for a
// workload kind when the template gives none: for batch/v1 Job
// status.conditions.#(type=="Complete")#|#(status=="True")# and
// status.conditions.#(type=="Failed")#|#(status=="True")#; for any other
// kind the Knative batch convention: condition Succeeded with status True /
// False.
func DefaultConditions(apiVersion, kind string) (success, failure string) {
	if apiVersion == "batch/v1" && kind == "Job" {
		return jobSucceeded, jobFailed
	}
	return knativeSucceeded, knativeFailed
}

func isObject(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}

// JSONType names the JSON type of a decoded value, for messages: "a list".
func JSONType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}

// listNames says "<some> a, b, c", sorted, or none when there are no names.
func listNames(some, none string, names []string) string {
	if len(names) == 0 {
		return none
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	return some + " " + strings.Join(sorted, ", ")
}
