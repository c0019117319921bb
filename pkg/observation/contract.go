// Package observation is how trials report their metrics: a CloudEvent of
// type dev.knobs.trial.observation sent to the URL in the workload's K_SINK,
// with the trial's name as subject and the trial's token, and the controller's
// receiver that checks it and records it in the Trial's status.
package observation

// The contract between a trial workload and the controller.
const (
	// EventType is the type of the CloudEvent a trial reports with.
	EventType = "dev.knobs.trial.observation"

	// EnvSink holds the URL a trial sends its reports to (the Knative
	// convention for where a source sends events).
	EnvSink = "K_SINK"
	// EnvTrialName holds the trial's name, the subject of its reports.
	EnvTrialName = "KNOBS_TRIAL_NAME"
	// EnvTrialNamespace holds the trial's namespace.
	EnvTrialNamespace = "KNOBS_TRIAL_NAMESPACE"
	// EnvToken holds the trial's token; a report is accepted only with it.
	EnvToken = "KNOBS_TRIAL_TOKEN"

	// TokenHeader carries the token as "Bearer <token>".
	TokenHeader = "Authorization"
	// TokenExtension carries the token as a CloudEvent extension attribute,
	// for senders that cannot set headers, such as the cloudevents CLI.
	TokenExtension = "knobstoken"
	// StepExtension is the optional extension attribute with the step (such
	// as the epoch) the metrics were measured at: an integer.
	StepExtension = "step"
)
