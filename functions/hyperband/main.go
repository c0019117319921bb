// Command hyperband serves Hyperband as a Knobs function.
package main

import (
	"knobs.dev/knobs/pkg/function"
	"knobs.dev/knobs/pkg/hyperband"
)

func main() { function.Main("hyperband", hyperband.Hyperband{}) }
