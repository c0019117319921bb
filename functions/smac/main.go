// Command smac serves SMAC, random-forest Bayesian optimisation, as a Knobs
// function.
package main

import (
	"knobs.dev/knobs/pkg/function"
	"knobs.dev/knobs/pkg/smac"
)

func main() { function.Main("smac", smac.SMAC{}) }
