// Command cmaes serves CMA-ES, the covariance matrix adaptation evolution
// strategy, as a Knobs function.
package main

import (
	"knobs.dev/knobs/pkg/cmaes"
	"knobs.dev/knobs/pkg/function"
)

func main() { function.Main("cmaes", cmaes.CMAES{}) }
