package v1alpha1

import "context"

// SetDefaults implements apis.Defaultable: a Trial has no defaults.
func (*Trial) SetDefaults(context.Context) {}
