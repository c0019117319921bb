package main

import (
	"strconv"

	api "knobs.dev/knobs/pkg/api/v1alpha3"
	"knobs.dev/knobs/pkg/bayesopt"
	"knobs.dev/knobs/pkg/benchmark"
	"knobs.dev/knobs/pkg/bohb"
	"knobs.dev/knobs/pkg/cmaes"
	"knobs.dev/knobs/pkg/hyperband"
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
		{Name: "hyperband", Algorithm: hyperband.Hyperband{}, MultiFidelity: true, SettingsFor: budget},
		{Name: "bohb", Algorithm: bohb.BOHB{}, MultiFidelity: true, SettingsFor: budget},
	}
}

// budget gives Hyperband and BOHB the problem's budget parameter, its
// largest value as r_l, and eta 3.
func budget(p benchmark.Problem) []*api.AlgorithmSetting {
	return []*api.AlgorithmSetting{
		{Name: "resource_name", Value: p.Budget},
		{Name: "r_l", Value: strconv.FormatFloat(p.MaxBudget, 'g', -1, 64)},
		{Name: "eta", Value: "3"},
	}
}
