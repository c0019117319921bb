// Command controller runs Knobs' reconcilers, with Knative's leader
// election, logging and observability configured from ConfigMaps in the
// system namespace ($SYSTEM_NAMESPACE).
package main

import (
	"knative.dev/pkg/injection/sharedmain"

	"knobs.dev/knobs/pkg/reconciler/suggestion"
)

func main() {
	sharedmain.Main("knobs-controller", suggestion.NewController)
}
