// Command bohb serves BOHB (Bayesian optimisation and Hyperband) as a Knobs
// function.
package main

import (
	"knobs.dev/knobs/pkg/bohb"
	"knobs.dev/knobs/pkg/function"
)

func main() { function.Main("bohb", bohb.BOHB{}) }
