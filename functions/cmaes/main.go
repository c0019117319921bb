// Command cmaes serves the cmaes search algorithm as a Knobs function.
package main

import (
	"knobs.dev/knobs/pkg/algorithm/registry"
	"knobs.dev/knobs/pkg/function"
)

func main() {
	e := registry.MustLookup("cmaes")
	function.Main(e.Name, e.Algorithm)
}
