// Package v1alpha1 is version v1alpha1 of the tuning.knobs.dev API:
// Experiments, the Suggestions that hand out their parameter assignments, and
// the Trials that run them.
//
// +k8s:deepcopy-gen=package
// +groupName=tuning.knobs.dev
package v1alpha1
