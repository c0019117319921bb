// Command nsga2 serves NSGA-II, the genetic algorithm for several
// objectives, as a Knobs function.
package main

import (
	"knobs.dev/knobs/pkg/algorithm/registry"
	"knobs.dev/knobs/pkg/function"
)

func main() {
	e := registry.MustLookup("nsga2")
	function.Main(e.Name, e.Algorithm)
}
