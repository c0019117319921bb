package v1alpha1

import "context"

// SetDefaults implements apis.Defaultable: a Suggestion has no defaults.
func (*Suggestion) SetDefaults(context.Context) {}
