package cli

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

// maxTrials is the Experiment's maxTrialCount, defaulted.
func maxTrials(e *v1alpha1.Experiment) int32 {
	if e.Spec.MaxTrialCount != nil {
		return *e.Spec.MaxTrialCount
	}
	return v1alpha1.DefaultMaxTrialCount
}

// finished counts the Experiment's trials that have ended, however.
func finished(st *v1alpha1.ExperimentStatus) int32 {
	return st.TrialsSucceeded + st.TrialsFailed + st.TrialsMetricsUnavailable + st.TrialsEarlyStopped + st.TrialsKilled
}

// failures counts the trials that count toward maxFailedTrialCount.
func failures(st *v1alpha1.ExperimentStatus) int32 {
	return st.TrialsFailed + st.TrialsMetricsUnavailable
}

// ended reports whether the Experiment has ended, as of its current spec:
// its Succeeded condition True or False, for the generation it has.
func ended(e *v1alpha1.Experiment) bool {
	c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded)
	return c != nil && !c.IsUnknown() && e.Status.ObservedGeneration == e.Generation
}

// state is the Experiment's state in a word and its reason: Running,
// Succeeded or Failed.
func state(e *v1alpha1.Experiment) (string, string) {
	c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded)
	switch {
	case c == nil:
		return "Created", ""
	case c.Status == corev1.ConditionTrue:
		return "Succeeded", c.Reason
	case c.Status == corev1.ConditionFalse:
		return "Failed", c.Reason
	}
	return "Running", c.Reason
}

// bar draws done of total as a bar width characters wide.
func bar(done, total int32, width int) string {
	if total <= 0 {
		total = 1
	}
	n := int(int64(done) * int64(width) / int64(total))
	n = max(0, min(width, n))
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

// progress is done/max with a bar: [#####...............] 6/30.
func progress(e *v1alpha1.Experiment) string {
	return fmt.Sprintf("%s %d/%d", bar(finished(&e.Status), maxTrials(e), 20), finished(&e.Status), maxTrials(e))
}

// bestValue is the best trial's objective value as name=value, or "".
func bestValue(e *v1alpha1.Experiment) string {
	b := e.Status.CurrentOptimalTrial
	if b == nil {
		return ""
	}
	m := b.Observation.Metric(e.Spec.Objective.ObjectiveMetricName)
	if m == nil {
		return ""
	}
	return m.Name + "=" + m.Value
}

// assignments are name=value pairs, separated by spaces.
func assignments(as []v1alpha1.ParameterAssignment) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.Name + "=" + a.Value
	}
	return strings.Join(parts, " ")
}

// parameterHeader is a column per parameter of the Experiment, its name in
// capitals.
func parameterHeader(e *v1alpha1.Experiment) []string {
	out := make([]string, len(e.Spec.Parameters))
	for i, p := range e.Spec.Parameters {
		out[i] = strings.ToUpper(p.Name)
	}
	return out
}

// parameterCells are an assignment's values in the columns of
// parameterHeader.
func parameterCells(e *v1alpha1.Experiment, as []v1alpha1.ParameterAssignment) []string {
	values := map[string]string{}
	for _, a := range as {
		values[a.Name] = a.Value
	}
	out := make([]string, len(e.Spec.Parameters))
	for i, p := range e.Spec.Parameters {
		out[i] = orNone(values[p.Name])
	}
	return out
}

// metricCell is a metric's value as reported, or <none>.
func metricCell(o *v1alpha1.Observation, name string) string {
	if m := o.Metric(name); m != nil {
		return m.Value
	}
	return "<none>"
}
