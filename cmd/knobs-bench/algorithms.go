package main

import (
	"strconv"

	"knobs.dev/knobs/pkg/algorithm/registry"
	"knobs.dev/knobs/pkg/algorithm/tpe"
	"knobs.dev/knobs/pkg/benchmark"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Contenders lists the algorithms knobs-bench compares: every registered
// one that takes a continuous space (grid needs a step for each double).
// Budgeted algorithms get the problem's budget parameter; TPE runs twice,
// univariate (its default) and multivariate.
func Contenders() []benchmark.Contender {
	var out []benchmark.Contender
	for _, e := range registry.All() {
		if e.Needs.FiniteSpace {
			continue
		}
		c := benchmark.Contender{Name: e.Name, Algorithm: e.Algorithm}
		if e.Needs.Budget {
			c.MultiFidelity, c.SettingsFor = true, budget
		}
		out = append(out, c)
		if e.Name == "tpe" {
			out = append(out, benchmark.Contender{Name: "tpe-multivariate", Function: e.Name, Algorithm: e.Algorithm,
				Settings: []*pb.AlgorithmSetting{{Name: tpe.Multivariate, Value: "true"}}})
		}
	}
	return out
}

// budget gives Hyperband and BOHB the problem's budget parameter, its
// largest value as r_l, and eta 3.
func budget(p benchmark.Problem) []*pb.AlgorithmSetting {
	return []*pb.AlgorithmSetting{
		{Name: "resource_name", Value: p.Budget},
		{Name: "r_l", Value: strconv.FormatFloat(p.MaxBudget, 'g', -1, 64)},
		{Name: "eta", Value: "3"},
	}
}

// SeveralObjectives keeps the registered algorithms that take an
// experiment of several objectives: those that refuse one, such as CMA-ES,
// the budgeted algorithms, and rows of other settings (tpe-multivariate is
// the registry's multivariate-tpe) are left out.
func SeveralObjectives(contenders []benchmark.Contender) []benchmark.Contender {
	var out []benchmark.Contender
	for _, c := range contenders {
		if c.Function == "" && !c.MultiFidelity && benchmark.TakesSeveralObjectives(c) {
			out = append(out, c)
		}
	}
	return out
}
