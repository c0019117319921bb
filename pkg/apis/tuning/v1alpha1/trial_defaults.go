package v1alpha1

import "context"

// SetDefaults implements apis.Defaultable: those of the metrics collector
// spec, if any.
func (t *Trial) SetDefaults(context.Context) {
	if t.Spec.MetricsCollector != nil {
		t.Spec.MetricsCollector.SetDefaults()
	}
}
