// Package observation is how trials report their metrics: a CloudEvent of
// type dev.knobs.trial.observation sent to the URL in the workload's K_SINK,
// with the trial's name as subject and the trial's token, and the controller's
// receiver that checks it and records it in the Trial's status.
//
// A report, as curl sends it in binary mode:
//
//	curl -X POST "$K_SINK" \
//	  -H "Authorization: Bearer $KNOBS_TRIAL_TOKEN" \
//	  -H "ce-specversion: 1.0" -H "ce-id: $(uuidgen)" -H "ce-source: my-trainer" \
//	  -H "ce-type: dev.knobs.trial.observation" -H "ce-subject: $KNOBS_TRIAL_NAME" \
//	  -H "ce-step: 3" -H "Content-Type: application/json" \
//	  -d '{"loss": 0.25, "accuracy": "0.91"}'
//
// The receiver answers 202 Accepted once the observation is in the Trial's
// status, with a JSON body holding it; a report it recorded before (the same
// source and id) is answered 202 again and not counted twice. Every other answer has a text body
// saying why, and nothing is written: 400 for a malformed report (not a
// CloudEvent, wrong type, no subject, data that is not an object of numbers,
// no metric the experiment knows); 401 without a token; 403 with a token
// that is not the trial's; 404 for an unknown trial or path; 405 for a
// method other than POST; 409 when the trial has ended or has no objective;
// 413 for a body over 1 MiB; 422 when the API server refuses the status the
// report would make (such as more metrics than a Trial holds); 503, with Retry-After, when the Kubernetes API
// failed: only that one is worth a retry.
//
// A trial's token is HMAC-SHA256 of "namespace/name/uid" under a key the
// controller keeps in the Secret KeySecretName, base64url without padding.
package observation

import reporting "knobs.dev/knobs/pkg/observation/report"

// The contract between a trial workload and the controller, defined in
// package report, which senders import without the Kubernetes client.
const (
	// EventType is the type of the CloudEvent a trial reports with.
	EventType = reporting.EventType

	// EnvSink holds the URL a trial sends its reports to (the Knative
	// convention for where a source sends events).
	EnvSink = reporting.EnvSink
	// EnvTrialName holds the trial's name, the subject of its reports.
	EnvTrialName = reporting.EnvTrialName
	// EnvTrialNamespace holds the trial's namespace.
	EnvTrialNamespace = reporting.EnvTrialNamespace
	// EnvToken holds the trial's token; a report is accepted only with it.
	EnvToken = reporting.EnvToken

	// TokenHeader carries the token as "Bearer <token>".
	TokenHeader = reporting.TokenHeader
	// TokenExtension carries the token as a CloudEvent extension attribute,
	// for senders that cannot set headers, such as the cloudevents CLI.
	TokenExtension = reporting.TokenExtension
	// StepExtension is the optional extension attribute with the step (such
	// as the epoch) the metrics were measured at: an integer.
	StepExtension = reporting.StepExtension
)
