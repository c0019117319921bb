// Command grid serves grid search as a Knobs function.
package main

import (
	"knobs.dev/knobs/pkg/function"
	"knobs.dev/knobs/pkg/grid"
)

func main() { function.Main("grid", grid.Grid{}) }
