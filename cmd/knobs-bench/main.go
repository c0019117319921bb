// Command knobs-bench compares Knobs' search algorithms: simple regret on
// standard test functions over many seeds, and the cost of a call as the
// history grows. It prints tables and, with -svg, draws the median regret
// curves.
//
//	go run ./cmd/knobs-bench -seeds 10 -evals 50
//	go run ./cmd/knobs-bench -algorithms random,tpe -problems branin-2d -svg _output/bench
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"knobs.dev/knobs/pkg/benchmark"
)

func main() {
	seeds := flag.Int("seeds", 10, "seeds per algorithm and problem (random_state 1..seeds)")
	evals := flag.Int("evals", 50, "evaluations per run")
	batch := flag.Int("batch", 1, "suggestions asked for per call")
	algs := flag.String("algorithms", "", "comma-separated algorithms (default all)")
	probs := flag.String("problems", "", "comma-separated problems (default all)")
	svg := flag.String("svg", "", "folder to draw each problem's regret curves in")
	flag.Parse()

	contenders := pick(Contenders(), *algs, func(c benchmark.Contender) string { return c.Name })
	problems := pick(append(benchmark.Problems(), benchmark.BraninFidelity()), *probs, func(p benchmark.Problem) string { return p.Name })
	if len(contenders) == 0 || len(problems) == 0 {
		fmt.Fprintln(os.Stderr, "knobs-bench: nothing to run: check -algorithms and -problems")
		os.Exit(2)
	}
	checkpoints := []int{}
	for _, c := range []int{10, 25, 50, 100, 200} {
		if c < *evals {
			checkpoints = append(checkpoints, c)
		}
	}
	checkpoints = append(checkpoints, *evals)

	sums := benchmark.Compare(context.Background(), contenders, problems, *seeds, checkpoints, benchmark.Options{Evaluations: *evals, Batch: *batch})
	failed := false
	for _, s := range sums {
		failed = failed || s.Err != nil
	}
	_ = benchmark.WriteRegret(os.Stdout, sums, *seeds)
	_ = benchmark.WriteCost(os.Stdout, sums)
	if *svg != "" {
		if err := os.MkdirAll(*svg, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		curves := map[string]map[string][]float64{}
		for _, s := range sums {
			if s.Err == nil && s.Skipped == "" {
				if curves[s.Problem] == nil {
					curves[s.Problem] = map[string][]float64{}
				}
				curves[s.Problem][s.Contender] = s.MedianCurve()
			}
		}
		for p, c := range curves {
			f, err := os.Create(filepath.Join(*svg, p+".svg"))
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			if err := benchmark.WriteSVG(f, p, c); err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
			f.Close()
		}
		fmt.Printf("\nregret curves drawn in %s\n", *svg)
	}
	if failed {
		os.Exit(1)
	}
}

func pick[T any](all []T, names string, name func(T) string) []T {
	if names == "" {
		return all
	}
	want := map[string]bool{}
	for _, n := range strings.Split(names, ",") {
		want[strings.TrimSpace(n)] = true
	}
	var out []T
	for _, x := range all {
		if want[name(x)] {
			out = append(out, x)
		}
	}
	return out
}
