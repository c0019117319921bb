package observation

import reporting "knobs.dev/knobs/pkg/observation/report"

// Reporter sends a trial's metrics to the controller's Receiver. A trial
// program makes one with NewReporterFromEnv and calls Report, once at the
// end or once per step (such as each epoch). It lives in package report,
// which needs the standard library alone.
type Reporter = reporting.Reporter

// ReportError is the Receiver's refusal of a report: its HTTP status and
// message.
type ReportError = reporting.ReportError

// NewReporterFromEnv returns the Reporter for the trial the program runs
// for, from the environment the controller gives its workload: K_SINK,
// KNOBS_TRIAL_NAME, KNOBS_TRIAL_TOKEN and KNOBS_TRIAL_NAMESPACE (which,
// when unset, is taken from the sink's path).
func NewReporterFromEnv() (*Reporter, error) { return reporting.NewReporterFromEnv() }
