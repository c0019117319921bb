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
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

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

// writeSVG draws each setup's median best loss against the steps spent, one
// line a setup; without early stopping solid, with it dashed (medianstop) or
// dotted (asha), one colour a search algorithm.
func writeSVG(path, problem string, sums []esbench.Summary) error {
	const width, height, margin = 640, 400, 56
	lo, hi, n := math.Inf(1), math.Inf(-1), 0
	for _, s := range sums {
		for _, v := range s.Trace {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		n = max(n, len(s.Trace))
	}
	if n < 2 || !(hi > lo) {
		return fmt.Errorf("%s: nothing to draw", problem)
	}
	// The first steps' best is far above the rest: show the lower part.
	sorted := []float64{}
	for _, s := range sums {
		sorted = append(sorted, s.Trace[min(len(s.Trace)-1, len(s.Trace)/10)])
	}
	sort.Float64s(sorted)
	hi = sorted[len(sorted)-1]
	x := func(i int) float64 { return margin + float64(i)*(width-2*margin)/float64(n-1) }
	y := func(v float64) float64 {
		v = math.Min(math.Max(v, lo), hi)
		return height - margin - (v-lo)/(hi-lo)*(height-2*margin)
	}
	colors := map[string]string{"random": "#0072b2", "tpe": "#d55e00"} // Okabe–Ito: distinct for colour-blind readers
	dashes := map[string]string{"": "", "medianstop": ` stroke-dasharray="8 4"`, "asha": ` stroke-dasharray="2 3"`}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="%d" y="20" font-size="14">%s: median best loss against steps spent</text>`+"\n", margin, problem)
	for i := 0; i <= 4; i++ {
		v := lo + float64(i)*(hi-lo)/4
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="4" y="%.1f">%.3g</text>`+"\n", margin, width-margin, y(v), y(v), y(v)+4, v)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d">steps spent (epochs, all trials; 1 to %d)</text>`+"\n", width/2-110, height-12, n)
	for i, s := range sums {
		var pts []string
		for j, v := range s.Trace {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(j), y(v)))
		}
		c := colors[s.Setup.Search]
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`+"\n", c, dashes[s.Setup.EarlyStopping], strings.Join(pts, " "))
		ly := margin + 18*i
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"%s/><text x="%d" y="%d" fill="%s">%s</text>`+"\n",
			width-margin-150, width-margin-120, ly-4, ly-4, c, dashes[s.Setup.EarlyStopping], width-margin-114, ly, c, s.Setup.Label())
	}
	b.WriteString("</svg>\n")
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
