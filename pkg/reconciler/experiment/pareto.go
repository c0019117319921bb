package experiment

import (
	"cmp"
	"slices"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/pareto/observed"
)

// The bounds of status.paretoOptimalTrials: at most maxParetoListed
// trials, and fewer when they would take more than paretoBudget bytes of
// JSON, reckoned as large as the largest of them.
const (
	maxParetoListed = 100
	paretoBudget    = 256 << 10
)

// paretoCandidates gathers the completed trials, as the tally meets them,
// for the Pareto front.
type paretoCandidates struct {
	trials []*v1alpha1.Trial
	obs    []*v1alpha1.Observation
}

// add takes t as a candidate.
func (c *paretoCandidates) add(t *v1alpha1.Trial) {
	c.trials = append(c.trials, t)
	c.obs = append(c.obs, t.Status.Observation)
}

// list returns the Pareto front of the candidates as the status lists it
// (observed.Front: of those that report every objective and keep every
// constraint, the ones no other dominates), and its size. The front is
// ordered by the objective metric, best first (then by the other
// objectives, then by name); when it holds more than fits, the list keeps
// evenly spaced trials along it, both ends included. Each trial's
// observation keeps only the objectives' and constraints' metrics, without
// their curves.
func (c *paretoCandidates) list(obj *v1alpha1.ObjectiveSpec) ([]v1alpha1.OptimalTrial, int32) {
	idx := observed.Front(obj, c.obs)
	if len(idx) == 0 {
		return nil, 0
	}
	losses := make(map[int][]float64, len(idx))
	for _, i := range idx {
		losses[i], _ = obj.Losses(c.obs[i])
	}
	slices.SortFunc(idx, func(a, b int) int {
		if o := slices.Compare(losses[a], losses[b]); o != 0 {
			return o
		}
		return cmp.Compare(c.trials[a].Name, c.trials[b].Name)
	})
	keep := make(map[string]bool, 1+len(obj.AdditionalObjectives)+len(obj.Constraints))
	keep[obj.ObjectiveMetricName] = true
	for _, a := range obj.AdditionalObjectives {
		keep[a.Name] = true
	}
	for _, m := range obj.Constraints {
		keep[m.Name] = true
	}
	all := make([]v1alpha1.OptimalTrial, 0, min(len(idx), maxParetoListed))
	largest := 0
	for _, i := range spread(len(idx), maxParetoListed) {
		ot := optimalTrial(c.trials[idx[i]], keep)
		largest = max(largest, optimalTrialSize(&ot))
		all = append(all, ot)
	}
	if n := max(1, paretoBudget/largest); n < len(all) {
		picked := make([]v1alpha1.OptimalTrial, 0, n)
		for _, i := range spread(len(all), n) {
			picked = append(picked, all[i])
		}
		all = picked
	}
	return all, int32(len(idx))
}

// spread returns k evenly spaced positions of n, the first and the last
// included, ascending; all n when k >= n.
func spread(n, k int) []int {
	if k >= n {
		k = n
	}
	out := make([]int, k)
	for j := range out {
		if k == n {
			out[j] = j
		} else if k > 1 {
			out[j] = (j*(n-1) + (k-1)/2) / (k - 1)
		}
	}
	return out
}

// optimalTrial returns t as the status lists a trial on the front: its
// name, assignment and the metrics of its observation named in keep,
// without curves.
func optimalTrial(t *v1alpha1.Trial, keep map[string]bool) v1alpha1.OptimalTrial {
	ot := v1alpha1.OptimalTrial{
		BestTrialName:        t.Name,
		ParameterAssignments: append([]v1alpha1.ParameterAssignment(nil), t.Spec.ParameterAssignments...),
	}
	if obs := t.Status.Observation; obs != nil {
		ot.Observation = &v1alpha1.Observation{Reports: obs.Reports}
		if obs.Step != nil {
			step := *obs.Step
			ot.Observation.Step = &step
		}
		for _, m := range obs.Metrics {
			if keep[m.Name] {
				m.Curve = nil
				ot.Observation.Metrics = append(ot.Observation.Metrics, m)
			}
		}
	}
	return ot
}

// optimalTrialSize reckons the bytes of JSON ot takes, at least: its
// strings and a little for each field's name and punctuation.
func optimalTrialSize(ot *v1alpha1.OptimalTrial) int {
	const field = 24
	n := 4*field + len(ot.BestTrialName)
	for _, a := range ot.ParameterAssignments {
		n += 2*field + len(a.Name) + len(a.Value)
	}
	if ot.Observation != nil {
		for _, m := range ot.Observation.Metrics {
			n += 5*field + len(m.Name) + len(m.Value) + len(m.Min) + len(m.Max) + len(m.Latest)
		}
	}
	return n
}
