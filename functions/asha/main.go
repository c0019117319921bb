// Command asha serves the asha early-stopping algorithm as a Knobs function.
package main

import (
	"knobs.dev/knobs/pkg/earlystopping/registry"
	"knobs.dev/knobs/pkg/function"
)

func main() {
	e := registry.MustLookup("asha")
	function.MainEarlyStopping(e.Name, e.Algorithm)
}
