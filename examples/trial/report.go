package main

import (
	"os"

	"knobs.dev/knobs/pkg/observation"
)

// reporterFromEnv returns the reporter Knobs set the workload up for, or
// nil when K_SINK is unset and the metrics are only printed.
func reporterFromEnv() (reporter, error) {
	if os.Getenv(observation.EnvSink) == "" {
		return nil, nil
	}
	r, err := observation.NewReporterFromEnv()
	if err != nil {
		return nil, err
	}
	return r, nil
}
