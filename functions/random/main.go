// Command random serves random search as a Knobs function.
package main

import (
	"knobs.dev/knobs/pkg/function"
	"knobs.dev/knobs/pkg/random"
)

func main() { function.Main("random", random.Random{}) }
