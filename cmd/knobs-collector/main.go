// Command knobs-collector runs a trial's command and reports the metrics
// it prints or writes; see package collector.
//
//	knobs-collector copy DEST
//	knobs-collector -kind StdOut|File|TensorFlowEvent [-metric NAME]... [-format REGEX]...
//	    [-path PATH] [-path-kind File|Directory] [-file-format TEXT|JSON] -- COMMAND [ARGS...]
package main

import (
	"context"
	"fmt"
	"os"

	"knobs.dev/knobs/pkg/collector"
	"knobs.dev/knobs/pkg/observation/report"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "copy" {
		if err := collector.CopySelf(os.Args[2]); err != nil {
			fmt.Fprintf(os.Stderr, "knobs-collector: %v\n", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := collector.ParseArgs(os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(2)
	}
	var send collector.ReportFunc
	if os.Getenv(report.EnvSink) == "" {
		fmt.Fprintf(os.Stderr, "knobs-collector: %s is not set, so metrics are not reported\n", report.EnvSink)
	} else if r, err := report.NewReporterFromEnv(); err != nil {
		fmt.Fprintf(os.Stderr, "knobs-collector: metrics are not reported: %v\n", err)
	} else {
		send = r.Report
	}
	os.Exit(collector.Run(context.Background(), cfg, send, collector.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}
