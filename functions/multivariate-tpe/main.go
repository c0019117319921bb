// Command multivariate-tpe serves the multivariate-tpe search algorithm as a Knobs function.
package main

import (
	"knobs.dev/knobs/pkg/algorithm/registry"
	"knobs.dev/knobs/pkg/function"
)

func main() {
	e := registry.MustLookup("multivariate-tpe")
	function.Main(e.Name, e.Algorithm)
}
