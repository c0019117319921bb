// Command medianstop serves the medianstop early-stopping algorithm as a Knobs function.
package main

import (
	"knobs.dev/knobs/pkg/earlystopping/registry"
	"knobs.dev/knobs/pkg/function"
)

func main() {
	e := registry.MustLookup("medianstop")
	function.MainEarlyStopping(e.Name, e.Algorithm)
}
