// Command knobs-bench compares Knobs' search algorithms: simple regret on
// standard test functions over many seeds, and the cost of a call as the
// history grows. Each algorithm runs as its real function process, called
// over CloudEvents as the controller calls it (or in process, with
// -inprocess); goptuna's samplers run in process and Optuna's through
// hack/optuna/driver.py (when python3-optuna is installed) as reference
// rows. It prints tables and, with -svg, draws the median regret curves.
//
//	go run ./cmd/knobs-bench                       # what docs/benchmarks.md shows
//	go run ./cmd/knobs-bench -algorithms random,tpe -problems branin-2d -seeds 5
//	go run ./cmd/knobs-bench -cost                 # cost of a call as history and dimensions grow
//	go run ./cmd/knobs-bench -multiobjective -batch 1  # several objectives and constraints
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"knobs.dev/knobs/pkg/benchmark"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "knobs-bench:", err)
		os.Exit(1)
	}
}

func run() error {
	seeds := flag.Int("seeds", 10, "seeds per algorithm and problem (random_state 1..seeds)")
	evals := flag.Int("evals", 60, "evaluations per run")
	batches := flag.String("batch", "1,4", "comma-separated suggestions per call; one table each")
	algs := flag.String("algorithms", "", "comma-separated algorithms (default all, with goptuna's and, when installed, Optuna's rows)")
	probs := flag.String("problems", "", "comma-separated problems (default all)")
	svg := flag.String("svg", "", "folder to draw each problem's regret curves in (batch 1)")
	inProcess := flag.Bool("inprocess", false, "call the algorithms in process instead of as function processes")
	multi := flag.Bool("multiobjective", false, "run instead the problems of several objectives and of constraints, with the algorithms that take them, measuring the hypervolume gap or the feasible regret")
	python := flag.String("python", "", "Python interpreter with Optuna for the optuna-* rows (default: the first of "+strings.Join(benchmark.Pythons, ", ")+" that imports optuna)")
	driver := flag.String("optuna-driver", "hack/optuna/driver.py", "the driver that runs Optuna's samplers")
	cost := flag.Bool("cost", false, "measure instead the cost of one call for one point as the history and the dimensions grow, in process, and print a table per dimension")
	costTrials := flag.String("cost-trials", "100,1000,10000,100000", "with -cost: comma-separated numbers of completed trials")
	costDims := flag.String("cost-dims", "2,6,20,50", "with -cost: comma-separated numbers of parameters")
	costLimit := flag.Duration("cost-limit", 30*time.Second, "with -cost: a call's deadline; past it, or past half of it, larger histories are not tried")
	costPlain := flag.Bool("cost-plain", false, "with -cost: send every history in trials (by default one of 1000 trials or more goes in columns, as the controller sends it)")
	decode := flag.Bool("cost-decode", false, "measure instead the size of a request and the cost of reading it, with its history in trials and in columns, for -cost-trials and -cost-dims")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *decode {
		return runDecode(*costTrials, *costDims)
	}
	if *cost {
		return runCost(*algs, *costTrials, *costDims, *costLimit, *costPlain)
	}

	knobs, peers := Contenders(), benchmark.GoptunaPeers()
	all, samplers := append(benchmark.Problems(), benchmark.BraninFidelity()), benchmark.OptunaSamplers
	if *multi {
		knobs, peers = SeveralObjectives(knobs), nil
		all, samplers = benchmark.MultiObjectiveProblems(), benchmark.OptunaMultiObjectiveSamplers
	}
	if *algs == "" || strings.Contains(*algs, "optuna-") {
		o, err := startOptuna(*python, *driver)
		if err != nil {
			fmt.Printf("optuna-* rows missing: %v\n", err)
		} else {
			defer o.Close()
			fmt.Printf("optuna-* rows: Optuna %s's samplers, through %s\n", o.Version, *driver)
			peers = append(peers, benchmark.OptunaPeers(o, samplers)...)
		}
	}
	contenders := pick(append(knobs, peers...), *algs, func(c benchmark.Contender) string { return c.Name })
	problems := pick(all, *probs, func(p benchmark.Problem) string { return p.Name })
	if len(contenders) == 0 || len(problems) == 0 {
		return errors.New("nothing to run: check -algorithms and -problems")
	}
	if !*inProcess {
		stop, err := startFunctions(contenders)
		if err != nil {
			return err
		}
		defer stop()
	}
	if *multi {
		for _, p := range problems {
			fmt.Println(benchmark.Describe(p))
		}
	}
	checkpoints := []int{}
	for _, c := range []int{10, 25, 50, 100, 200} {
		if c < *evals {
			checkpoints = append(checkpoints, c)
		}
	}
	checkpoints = append(checkpoints, *evals)

	failed := false
	for i, b := range strings.Split(*batches, ",") {
		batch, err := strconv.Atoi(strings.TrimSpace(b))
		if err != nil || batch < 1 {
			return fmt.Errorf("-batch: %q is not a positive number", b)
		}
		fmt.Printf("\n## %d suggestion(s) per call, %d evaluations, %d seeds\n", batch, *evals, *seeds)
		start := time.Now()
		sums := benchmark.Compare(context.Background(), contenders, problems, *seeds, checkpoints, benchmark.Options{Evaluations: *evals, Batch: batch})
		for _, s := range sums {
			failed = failed || s.Err != nil
		}
		_ = benchmark.WriteRegret(os.Stdout, sums, *seeds)
		how := "each function a process on loopback, called with CloudEvents (binary protobuf)"
		if *inProcess {
			how = "in process (no network)"
		}
		_ = benchmark.WriteCost(os.Stdout, sums, how)
		fmt.Printf("(%s)\n", time.Since(start).Round(time.Second))
		if *svg != "" && i == 0 {
			if err := draw(*svg, sums); err != nil {
				return err
			}
		}
	}
	if failed {
		return errors.New("some runs failed (see the tables)")
	}
	return nil
}

// runCost prints the cost table of the registered algorithms (or those
// named) as the history and the dimensions grow.
func runCost(algs, trials, dims string, limit time.Duration, plain bool) error {
	hists, ds, err := costGrid(trials, dims)
	if err != nil {
		return err
	}
	contenders := pick(Contenders(), algs, func(c benchmark.Contender) string { return c.Name })
	if len(contenders) == 0 {
		return errors.New("nothing to run: check -algorithms")
	}
	start := time.Now()
	cells := benchmark.MeasureCost(context.Background(), contenders, benchmark.CostOptions{Histories: hists, Dims: ds, Limit: limit, Plain: plain})
	if err := benchmark.WriteCostGrowth(os.Stdout, cells); err != nil {
		return err
	}
	fmt.Printf("(%s)\n", time.Since(start).Round(time.Second))
	for _, c := range cells {
		if c.Err != nil {
			return errors.New("some calls failed (see the table)")
		}
	}
	return nil
}

// runDecode prints the size of a request and the cost of reading it, with
// its history in trials and in columns.
func runDecode(trials, dims string) error {
	hists, ds, err := costGrid(trials, dims)
	if err != nil {
		return err
	}
	start := time.Now()
	cells := benchmark.MeasureDecode(context.Background(), benchmark.CostOptions{Histories: hists, Dims: ds})
	if err := benchmark.WriteDecode(os.Stdout, cells); err != nil {
		return err
	}
	fmt.Printf("(%s)\n", time.Since(start).Round(time.Second))
	for _, c := range cells {
		if c.Err != nil {
			return errors.New("some readings failed (see the table)")
		}
	}
	return nil
}

// costGrid reads -cost-trials and -cost-dims.
func costGrid(trials, dims string) (hists, ds []int, err error) {
	if hists, err = ints("-cost-trials", trials); err != nil {
		return nil, nil, err
	}
	ds, err = ints("-cost-dims", dims)
	return hists, ds, err
}

func ints(flagName, list string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: %q is not a positive number", flagName, f)
		}
		out = append(out, n)
	}
	return out, nil
}

// startOptuna starts the driver of Optuna's samplers with the given
// interpreter, or the first that imports optuna.
func startOptuna(python, driver string) (*benchmark.Optuna, error) {
	if python == "" {
		py, err := benchmark.FindPython()
		if err != nil {
			return nil, err
		}
		python = py
	}
	return benchmark.StartOptuna(python, driver)
}

func draw(dir string, sums []benchmark.Summary) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	curves := map[string]map[string][]float64{}
	measure, constrained := map[string]string{}, map[string]bool{}
	for _, s := range sums {
		if s.Err == nil && s.Skipped == "" {
			if curves[s.Problem] == nil {
				curves[s.Problem] = map[string][]float64{}
			}
			curves[s.Problem][s.Contender] = s.MedianCurve()
			measure[s.Problem], constrained[s.Problem] = s.Measure, s.Constrained
		}
	}
	for p, c := range curves {
		f, err := os.Create(filepath.Join(dir, p+".svg"))
		if err != nil {
			return err
		}
		plot := benchmark.RegretPlot(p, c)
		switch {
		case measure[p] == "hv-gap":
			plot.Title = p + ": median hypervolume gap to the true front"
		case constrained[p]:
			plot.Title = p + ": median simple regret of the feasible trials"
		}
		err = plot.WriteSVG(f)
		f.Close()
		if err != nil {
			return err
		}
	}
	fmt.Printf("\nregret curves drawn in %s\n", dir)
	return nil
}

// startFunctions builds the functions of the contenders and starts each as
// a process on a free port, as Knative would run it.
func startFunctions(contenders []benchmark.Contender) (func(), error) {
	dir, err := os.MkdirTemp("", "knobs-bench-")
	if err != nil {
		return nil, err
	}
	var pkgs []string
	for _, c := range contenders {
		if c.Algorithm != nil {
			pkgs = append(pkgs, "./functions/"+c.FunctionName())
		}
	}
	var procs []*exec.Cmd
	stop := func() {
		for _, p := range procs {
			_ = p.Process.Signal(syscall.SIGTERM)
			_ = p.Wait()
		}
		os.RemoveAll(dir)
	}
	if len(pkgs) == 0 {
		return stop, nil
	}
	build := exec.Command("go", append([]string{"build", "-o", dir + "/"}, pkgs...)...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		stop()
		return nil, fmt.Errorf("building the functions (run from the repository's root): %w", err)
	}
	for i := range contenders {
		c := &contenders[i]
		if c.Algorithm == nil {
			continue
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			stop()
			return nil, err
		}
		port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
		cmd := exec.Command(filepath.Join(dir, c.FunctionName()))
		cmd.Env = append(os.Environ(), "PORT="+port)
		if err := cmd.Start(); err != nil {
			stop()
			return nil, err
		}
		procs = append(procs, cmd)
		c.URL = "http://127.0.0.1:" + port
		if err := waitHealthy(c.URL); err != nil {
			stop()
			return nil, fmt.Errorf("function %s: %w", c.Name, err)
		}
	}
	return stop, nil
}

func waitHealthy(url string) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("no answer on /healthz within 10s")
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
