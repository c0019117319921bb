// Package registry is the one list of Knobs' search algorithms, by the name
// an Experiment gives in spec.algorithm.algorithmName. The functions, the
// benchmark, the conformance suite and the examples' checks all read it:
// an algorithm added here is served, benchmarked and tested.
package registry

import (
	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/bayesopt"
	"knobs.dev/knobs/pkg/algorithm/bohb"
	"knobs.dev/knobs/pkg/algorithm/cmaes"
	"knobs.dev/knobs/pkg/algorithm/grid"
	"knobs.dev/knobs/pkg/algorithm/hyperband"
	"knobs.dev/knobs/pkg/algorithm/nsga2"
	"knobs.dev/knobs/pkg/algorithm/random"
	"knobs.dev/knobs/pkg/algorithm/smac"
	"knobs.dev/knobs/pkg/algorithm/sobol"
	"knobs.dev/knobs/pkg/algorithm/tpe"
	"knobs.dev/knobs/pkg/named"
)

// Entry is one algorithm and what a caller must know to give it a problem.
type Entry struct {
	// Name is the algorithm's name in an Experiment and in its function's
	// Knative Service label.
	Name      string
	Algorithm algorithm.Algorithm
	// Needs says what a problem must have for the algorithm to accept it.
	Needs Needs
}

// Needs are the demands an algorithm makes of a problem beyond a valid
// search space.
type Needs struct {
	// Objective: the algorithm learns from the objective metric, so the
	// experiment must name it.
	Objective bool
	// FiniteSpace: every parameter must have finitely many values (a double
	// needs a step), as for grid search.
	FiniteSpace bool
	// Budget: one numeric parameter is the resource each trial gets, named
	// by the resource_name setting (with r_l its largest value), as for
	// Hyperband.
	Budget bool
}

var entries = named.NewList("algorithm", func(e Entry) string { return e.Name },
	Entry{Name: "random", Algorithm: random.Random{}},
	Entry{Name: "grid", Algorithm: grid.Grid{}, Needs: Needs{FiniteSpace: true}},
	Entry{Name: "sobol", Algorithm: sobol.Sobol{}},
	Entry{Name: "bayesopt", Algorithm: bayesopt.BayesOpt{}, Needs: Needs{Objective: true}},
	Entry{Name: "tpe", Algorithm: tpe.TPE{}, Needs: Needs{Objective: true}},
	// Katib's name for TPE that models the parameters together.
	Entry{Name: "multivariate-tpe", Algorithm: tpe.TPE{Multivariate: true}, Needs: Needs{Objective: true}},
	Entry{Name: "cmaes", Algorithm: cmaes.CMAES{}, Needs: Needs{Objective: true}},
	Entry{Name: "smac", Algorithm: smac.SMAC{}, Needs: Needs{Objective: true}},
	Entry{Name: "hyperband", Algorithm: hyperband.Hyperband{}, Needs: Needs{Objective: true, Budget: true}},
	Entry{Name: "bohb", Algorithm: bohb.BOHB{}, Needs: Needs{Objective: true, Budget: true}},
	Entry{Name: "nsga2", Algorithm: nsga2.NSGA2{}, Needs: Needs{Objective: true}},
)

// All returns every algorithm, in a fixed order.
func All() []Entry { return entries.All() }

// Names returns every algorithm's name, sorted.
func Names() []string { return entries.Names() }

// Lookup returns the algorithm of the given name.
func Lookup(name string) (Entry, bool) { return entries.Lookup(name) }

// MustLookup returns the algorithm of the given name, and panics when there
// is none: for a program's main, whose name is a constant.
func MustLookup(name string) Entry { return entries.MustLookup(name) }
