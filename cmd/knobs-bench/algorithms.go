package main

import (
	"knobs.dev/knobs/pkg/bayesopt"
	"knobs.dev/knobs/pkg/benchmark"
	"knobs.dev/knobs/pkg/cmaes"
	"knobs.dev/knobs/pkg/random"
	"knobs.dev/knobs/pkg/smac"
	"knobs.dev/knobs/pkg/sobol"
	"knobs.dev/knobs/pkg/tpe"
)

// Contenders lists the algorithms knobs-bench compares, with the settings
// they run with.
func Contenders() []benchmark.Contender {
	return []benchmark.Contender{
		{Name: "random", Algorithm: random.Random{}},
		{Name: "bayesopt", Algorithm: bayesopt.BayesOpt{}},
		{Name: "tpe", Algorithm: tpe.TPE{}},
		{Name: "smac", Algorithm: smac.SMAC{}},
		{Name: "sobol", Algorithm: sobol.Sobol{}},
		{Name: "cmaes", Algorithm: cmaes.CMAES{}},
	}
}
