// Package observed applies the rules of package pareto to what trials
// report: it turns an Experiment's observations into points, by the
// Experiment's objectives and constraints, and finds their Pareto front.
// The dashboard and the command line show the front it finds.
package observed

import (
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/pareto"
)

// Front returns the indices, ascending, of the observations on the Pareto
// front of o: of those that report every objective and keep every
// constraint, the ones no other such observation dominates. An
// observation that breaks a constraint is never on it, even when none
// keeps them all. A nil observation is skipped.
func Front(o *v1alpha1.ObjectiveSpec, obs []*v1alpha1.Observation) []int {
	var pts []pareto.Point
	var at []int // at[k] is the index in obs of pts[k]
	for i, ob := range obs {
		if ob == nil {
			continue
		}
		losses, ok := o.Losses(ob)
		if !ok {
			continue
		}
		pts = append(pts, pareto.Point{Values: losses, Violation: o.Violation(ob)})
		at = append(at, i)
	}
	var front []int
	for _, k := range pareto.Front(pts) {
		if pts[k].Feasible() {
			front = append(front, at[k])
		}
	}
	return front
}

// Objective is one of an Experiment's objectives: its metric, and whether
// it is maximised.
type Objective struct {
	Name     string
	Maximize bool
}

// Objectives are the Experiment's objectives, the objective metric first,
// in the order of ObjectiveSpec.Losses.
func Objectives(o *v1alpha1.ObjectiveSpec) []Objective {
	out := []Objective{{Name: o.ObjectiveMetricName, Maximize: o.Type == v1alpha1.ObjectiveTypeMaximize}}
	for _, a := range o.AdditionalObjectives {
		out = append(out, Objective{Name: a.Name, Maximize: a.Type == v1alpha1.ObjectiveTypeMaximize})
	}
	return out
}

// Feasible reports whether an observation keeps every constraint of o; one
// that does not report a constraint's metric does not.
func Feasible(o *v1alpha1.ObjectiveSpec, ob *v1alpha1.Observation) bool {
	return pareto.Point{Violation: o.Violation(ob)}.Feasible()
}
