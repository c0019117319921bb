// Command knobs-conformance checks a function against the Knobs function
// contract over the wire: CloudEvents in binary and structured mode with
// protobuf and JSON data, gRPC, /healthz, and bad input refused as the
// caller's mistake. It prints one line per check and exits 1 when any fails.
//
//	knobs-conformance --url http://localhost:8080
//	knobs-conformance --url http://localhost:8080 --algorithm hyperband
//	knobs-conformance --url http://localhost:8080 --transports binary-protobuf,binary-json,structured-json
//	knobs-conformance --url http://localhost:8080 --early-stopping --algorithm medianstop
//
// A function of an algorithm Knobs registers gets the problems that
// algorithm takes; for another, --finite (every double needs a step) and
// --budget (Hyperband's resource_name and r_l) say what it needs.
// --early-stopping checks an early-stopping function (the EarlyStopping
// API) instead.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"knobs.dev/knobs/pkg/conformance"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the command and returns its exit code: 0 when every check
// passed, 1 when one failed, 2 for a usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("knobs-conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "the function's http:// URL (required)")
	alg := fs.String("algorithm", "random", "the algorithmName the requests carry; a registered one also sets what problems the function gets")
	transports := fs.String("transports", strings.Join(conformance.Transports, ","), "the ways to call the function, comma-separated: "+strings.Join(conformance.Transports, ", "))
	finite := fs.Bool("finite", false, "the function takes only finite spaces: give every double a step")
	budget := fs.Bool("budget", false, "the function needs a budget parameter, named by resource_name, as Hyperband does")
	timeout := fs.Duration("timeout", 30*time.Second, "the longest one call may take")
	earlyStopping := fs.Bool("early-stopping", false, "the function serves an early-stopping algorithm (the EarlyStopping API); --algorithm names it")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *url == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: knobs-conformance --url http://HOST:PORT [flags]")
		fs.PrintDefaults()
		return 2
	}
	hc := &http.Client{Timeout: *timeout}
	if *earlyStopping {
		suite := conformance.EarlyStoppingSuite{Algorithm: *alg, URL: *url, HTTP: hc, Timeout: *timeout}
		callers, closeAll, err := dial(*transports, *url, hc, conformance.NewEarlyStoppingCaller)
		defer closeAll()
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		suite.Callers = callers
		return report(stdout, suite.Run(ctx))
	}
	profile := conformance.ProfileFor(*alg)
	profile.FiniteOnly = profile.FiniteOnly || *finite
	profile.Budget = profile.Budget || *budget

	suite := conformance.Suite{Profile: profile, URL: *url, HTTP: hc, Timeout: *timeout}
	callers, closeAll, err := dial(*transports, *url, hc, conformance.NewCaller)
	defer closeAll()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	suite.Callers = callers

	return report(stdout, suite.Run(ctx))
}

// report prints one line per result and a summary, and returns the exit
// code.
func report(stdout io.Writer, results []conformance.Result) int {
	var passed, failed, skipped int
	for _, r := range results {
		fmt.Fprintln(stdout, r)
		switch {
		case r.Err != nil:
			failed++
		case r.Skipped:
			skipped++
		default:
			passed++
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	if failed > 0 {
		return 1
	}
	return 0
}

// dial makes a caller of each transport of the comma-separated list, with
// newCaller; closeAll closes those made, even after an error.
func dial[C any](transports, url string, hc *http.Client, newCaller func(string, string, *http.Client) (C, func() error, error)) (callers []C, closeAll func(), err error) {
	var closers []func() error
	closeAll = func() {
		for _, c := range closers {
			_ = c()
		}
	}
	for _, t := range strings.Split(transports, ",") {
		c, closer, err := newCaller(strings.TrimSpace(t), url, hc)
		if err != nil {
			return nil, closeAll, err
		}
		closers = append(closers, closer)
		callers = append(callers, c)
	}
	return callers, closeAll, nil
}
