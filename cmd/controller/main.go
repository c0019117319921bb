// Command controller runs Knobs' reconcilers, with Knative's leader
// election, logging and observability configured from ConfigMaps in the
// system namespace ($SYSTEM_NAMESPACE), and the receiver of the trials'
// observations.
package main

import (
	"knative.dev/pkg/injection/sharedmain"

	"knobs.dev/knobs/pkg/reconciler/experiment"
	"knobs.dev/knobs/pkg/reconciler/suggestion"
	"knobs.dev/knobs/pkg/reconciler/trial"
)

func main() {
	sharedmain.Main("knobs-controller",
		experiment.NewController,
		suggestion.NewController,
		trial.NewController,
	)
}
