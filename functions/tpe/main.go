// Command tpe serves the Tree-structured Parzen Estimator as a Knobs function.
package main

import (
	"knobs.dev/knobs/pkg/function"
	"knobs.dev/knobs/pkg/tpe"
)

func main() { function.Main("tpe", tpe.TPE{}) }
