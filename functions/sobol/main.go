// Command sobol serves quasi-random search along a Sobol' sequence as a Knobs
// function.
package main

import (
	"knobs.dev/knobs/pkg/function"
	"knobs.dev/knobs/pkg/sobol"
)

func main() { function.Main("sobol", sobol.Sobol{}) }
