// Command bayesopt serves Bayesian optimisation with a Gaussian process as a
// Knobs function.
package main

import (
	"knobs.dev/knobs/pkg/bayesopt"
	"knobs.dev/knobs/pkg/function"
)

func main() { function.Main("bayesopt", bayesopt.BayesOpt{}) }
