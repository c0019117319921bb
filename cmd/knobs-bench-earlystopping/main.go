// Command knobs-bench-earlystopping measures what early stopping saves: the
// same random and TPE experiments on learning curves (the ridge task of
// examples/trial, one step an epoch, and a synthetic curve family) run with
// no early stopping, with medianstop and with asha, over seeds. It prints
// the steps the trials ran and the best loss found, as a table, and can
// draw the best loss against the steps spent as SVG.
//
//	go run ./cmd/knobs-bench-earlystopping -seeds 10 -svg docs/benchmarks
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"knobs.dev/knobs/pkg/benchmark"
	"knobs.dev/knobs/pkg/earlystopping/esbench"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

func main() {
	seeds := flag.Int("seeds", 10, "seeds per setup, from 1")
	trials := flag.Int("trials", 24, "trials per experiment")
	parallel := flag.Int("parallel", 4, "trials at once")
	svg := flag.String("svg", "", "folder to write one SVG plot per problem into")
	problems := flag.String("problems", "ridge,synthetic", "problems to run: ridge, synthetic")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *seeds, *trials, *parallel, *svg, strings.Split(*problems, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "knobs-bench-earlystopping:", err)
		os.Exit(1)
	}
}

// setups are the contenders: each search algorithm alone, with medianstop
// (Katib's defaults) and with asha (rungs at 4 and 12 steps).
var setups = func() []esbench.Setup {
	var out []esbench.Setup
	for _, search := range []string{"random", "tpe"} {
		out = append(out,
			esbench.Setup{Search: search},
			esbench.Setup{Search: search, EarlyStopping: "medianstop", Settings: []string{"min_trials_required", "3", "start_step", "4"}},
			esbench.Setup{Search: search, EarlyStopping: "asha", Settings: []string{"min_resource", "4", "reduction_factor", "3"}},
		)
	}
	return out
}()

func run(ctx context.Context, w io.Writer, seeds, trials, parallel int, svgDir string, names []string) error {
	var probs []esbench.Problem
	for _, n := range names {
		switch n {
		case "synthetic":
			probs = append(probs, esbench.Synthetic(20))
		case "ridge":
			p, cleanup, err := ridge(12)
			if err != nil {
				return err
			}
			defer cleanup()
			probs = append(probs, p)
		default:
			return fmt.Errorf("-problems: no problem %q; use ridge or synthetic", n)
		}
	}
	fmt.Fprintf(w, "Early stopping: %d trials, %d at a time, seeds 1-%d; steps are epochs run in all (mean over seeds), best is the lowest loss found.\n\n", trials, parallel, seeds)
	fmt.Fprintln(w, "| problem | setup | steps | saved | stopped | best: median | best: min–max |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---|")
	for _, p := range probs {
		var sums []esbench.Summary
		for _, s := range setups {
			var results []*esbench.Result
			for seed := 1; seed <= seeds; seed++ {
				r, err := esbench.Run(ctx, p, s, esbench.Config{Trials: trials, Parallel: parallel, Seed: seed})
				if err != nil {
					return fmt.Errorf("%s, %s, seed %d: %w", p.Name, s.Label(), seed, err)
				}
				results = append(results, r)
			}
			sums = append(sums, esbench.Summarize(p.Name, s, results))
		}
		base := map[string]float64{}
		for _, s := range sums {
			if s.Setup.EarlyStopping == "" {
				base[s.Setup.Search] = s.Steps
			}
		}
		for _, s := range sums {
			saved := "—"
			if s.Setup.EarlyStopping != "" {
				saved = fmt.Sprintf("%.0f%%", 100*(1-s.Steps/base[s.Setup.Search]))
			}
			fmt.Fprintf(w, "| %s | %s | %.0f | %s | %.1f | %.4g | %.4g–%.4g |\n", p.Name, s.Setup.Label(), s.Steps, saved, s.Stopped,
				s.Median(), s.Best[0], s.Best[len(s.Best)-1])
		}
		if svgDir != "" {
			path := filepath.Join(svgDir, "earlystopping-"+p.Name+".svg")
			if err := writeSVG(path, p.Name, sums); err != nil {
				return err
			}
		}
	}
	return nil
}

// ridge is the ridge task of examples/trial, run as its program is, with
// --epochs steps: the loss after each epoch is the curve. The program is
// built once; each assignment's curve is computed once.
func ridge(epochs int) (esbench.Problem, func(), error) {
	dir, err := os.MkdirTemp("", "knobs-bench-earlystopping-")
	if err != nil {
		return esbench.Problem{}, nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	bin := filepath.Join(dir, "trial")
	if out, err := exec.Command("go", "build", "-o", bin, "knobs.dev/knobs/examples/trial").CombinedOutput(); err != nil {
		cleanup()
		return esbench.Problem{}, nil, fmt.Errorf("building examples/trial: %v\n%s", err, out)
	}
	var mu sync.Mutex
	cache := map[string][]float64{}
	return esbench.Problem{
		Name: "ridge",
		Parameters: []*pb.ParameterSpec{
			{Name: "--lr", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: "0.0001", Max: "0.05", Distribution: pb.Distribution_LOG_UNIFORM}},
			{Name: "--batch-size", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "4", Max: "64"}},
			{Name: "--optimizer", ParameterType: pb.ParameterType_CATEGORICAL, FeasibleSpace: &pb.FeasibleSpace{List: []string{"sgd", "momentum", "adam"}}},
		},
		Curve: func(ctx context.Context, a []*pb.ParameterAssignment) ([]float64, error) {
			args := []string{"--task=ridge", "--epochs=" + strconv.Itoa(epochs)}
			for _, pa := range a {
				args = append(args, pa.GetName()+"="+pa.GetValue())
			}
			key := strings.Join(args, " ")
			mu.Lock()
			c, ok := cache[key]
			mu.Unlock()
			if ok {
				return c, nil
			}
			out, err := exec.CommandContext(ctx, bin, args...).Output()
			if err != nil {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					return nil, fmt.Errorf("trial %s: %v: %s", key, err, ee.Stderr)
				}
				return nil, err
			}
			sc := bufio.NewScanner(strings.NewReader(string(out)))
			for sc.Scan() {
				for _, f := range strings.Fields(sc.Text()) {
					if v, ok := strings.CutPrefix(f, "loss="); ok {
						x, err := strconv.ParseFloat(v, 64)
						if err != nil {
							return nil, fmt.Errorf("trial %s printed %q", key, sc.Text())
						}
						c = append(c, x)
					}
				}
			}
			if len(c) != epochs {
				return nil, fmt.Errorf("trial %s reported %d epochs, want %d", key, len(c), epochs)
			}
			mu.Lock()
			cache[key] = c
			mu.Unlock()
			return c, nil
		},
	}, cleanup, nil
}

// plot is each setup's median best loss against the steps spent, one line
// a setup: without early stopping solid, with it dashed (medianstop) or
// dotted (asha), one colour a search algorithm.
func plot(problem string, sums []esbench.Summary) benchmark.Plot {
	colors := map[string]string{"random": "#0072b2", "tpe": "#d55e00"} // Okabe–Ito: distinct for colour-blind readers
	dashes := map[string]string{"medianstop": "8 4", "asha": "2 3"}
	p := benchmark.Plot{
		Title:  problem + ": median best loss against steps spent",
		XLabel: "steps spent (epochs, all trials; 1 to %d)",
		YMax:   math.Inf(-1),
	}
	for _, s := range sums {
		p.Curves = append(p.Curves, benchmark.Curve{Name: s.Setup.Label(), Values: s.Trace,
			Color: colors[s.Setup.Search], Dash: dashes[s.Setup.EarlyStopping]})
		// The first steps' best is far above the rest: the axis ends at
		// the highest best after a tenth of the steps.
		if len(s.Trace) > 0 {
			p.YMax = math.Max(p.YMax, s.Trace[len(s.Trace)/10])
		}
	}
	return p
}

// writeSVG draws the plot of a problem into path.
func writeSVG(path, problem string, sums []esbench.Summary) error {
	var b bytes.Buffer
	if err := plot(problem, sums).WriteSVG(&b); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
