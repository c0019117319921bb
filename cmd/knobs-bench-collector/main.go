// Command knobs-bench-collector measures what the metrics collector costs a
// trial: the size of the knobs-collector binary, the CPU time and peak
// memory it adds around a program that prints -lines metric lines
// ("epoch=N loss=X", one step a line), and how many reports a second it
// delivers. The StdOut collector reports every step, with a trial's name
// and token, to a local sink: a plain HTTP server that counts the
// CloudEvents and answers 202 Accepted, as the controller's receiver does.
// The program is this command itself, run again as the child.
//
// CPU time comes from the rusage of wait4 (os/exec's ProcessState), and for
// the child under the collector from its own getrusage at exit. Peak RSS is
// the VmHWM of /proc/PID/status (Linux): the child reads its own at exit,
// and the collector's is read every 10 ms while it runs. The rusage's
// maxrss would not do: os/exec starts a process sharing its parent's memory
// until exec (CLONE_VM|CLONE_VFORK), and Linux counts the parent's resident
// set at that exec in the child's maxrss.
//
//	go run ./cmd/knobs-bench-collector          # what docs/benchmarks.md shows
//	go run ./cmd/knobs-bench-collector -lines 1000 -runs 1
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"knobs.dev/knobs/pkg/observation/report"
)

// The child's environment: how many lines to print, and the file to write
// its own rusage to.
const (
	envChild  = "KNOBS_BENCH_COLLECTOR_CHILD"
	envRusage = "KNOBS_BENCH_COLLECTOR_RUSAGE"
)

// The trial the collector reports for.
const (
	namespace = "bench"
	trialName = "bench-1"
	token     = "bench-token"
)

func main() {
	if n := os.Getenv(envChild); n != "" {
		if err := child(n, os.Getenv(envRusage)); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		return
	}
	lines := flag.Int("lines", 100000, "metric lines the child prints")
	runs := flag.Int("runs", 3, "runs of each setup")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *lines, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "knobs-bench-collector:", err)
		os.Exit(1)
	}
}

// child prints n metric lines as fast as it can, then writes its own CPU
// time and peak RSS to path.
func child(n, path string) error {
	lines, err := strconv.Atoi(n)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(os.Stdout)
	for i := 1; i <= lines; i++ {
		fmt.Fprintf(w, "epoch=%d loss=%.6f\n", i, 1/float64(i))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if path == "" {
		return nil
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return err
	}
	hwm, err := peakRSS("self")
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(fmt.Sprintf("%d %d %d\n", ru.Utime.Nano(), ru.Stime.Nano(), hwm)), 0o644)
}

// peakRSS is the VmHWM of process pid ("self" for this one), in KiB.
func peakRSS(pid string) (int64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmHWM in /proc/" + pid + "/status")
}

// watchRSS reads the peak RSS of the process pid every 10 ms until stop is
// closed, and returns the last it read.
func watchRSS(pid int, stop <-chan struct{}) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		var last int64
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if v, err := peakRSS(strconv.Itoa(pid)); err == nil {
				last = v
			}
			select {
			case <-stop:
				out <- last
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// usage is what one process used.
type usage struct {
	wall, cpu time.Duration
	peakRSS   int64 // KiB
}

// cpuOf is the CPU time of an ended process and of the children it waited
// for.
func cpuOf(ps *os.ProcessState) time.Duration {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return ps.UserTime() + ps.SystemTime()
}

// sink counts the CloudEvents of the trial's reports and acknowledges
// them.
type sink struct {
	mu          sync.Mutex
	events, bad int
	first, last time.Time
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, err := io.Copy(io.Discard, r.Body)
	ok := err == nil && r.Method == http.MethodPost && r.Header.Get("Ce-Type") == report.EventType &&
		r.Header.Get("Ce-Subject") == trialName && r.Header.Get(report.TokenHeader) == "Bearer "+token
	now := time.Now()
	s.mu.Lock()
	if ok {
		if s.events == 0 {
			s.first = now
		}
		s.events++
		s.last = now
	} else {
		s.bad++
	}
	s.mu.Unlock()
	if !ok {
		http.Error(w, "not an observation of trial "+trialName, http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// take returns what the sink has counted since the last take, and starts
// again.
func (s *sink) take() (events, bad int, span time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	events, bad, span = s.events, s.bad, s.last.Sub(s.first)
	s.events, s.bad = 0, 0
	return events, bad, span
}

// build builds the collector into dir with the given flags, as a static
// binary (CGO_ENABLED=0, as ko builds it), and returns its path and size.
func build(dir, name string, flags ...string) (string, int64, error) {
	path := filepath.Join(dir, name)
	args := append(append([]string{"build"}, flags...), "-o", path, "knobs.dev/knobs/cmd/knobs-collector")
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", 0, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", 0, err
	}
	return path, fi.Size(), nil
}

func run(ctx context.Context, w io.Writer, lines, runs int) error {
	dir, err := os.MkdirTemp("", "knobs-bench-collector-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	stripped, small, err := build(dir, "knobs-collector", "-trimpath", "-ldflags=-s -w")
	if err != nil {
		return err
	}
	_, plain, err := build(dir, "knobs-collector-plain")
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s := &sink{}
	srv := &http.Server{Handler: s}
	go srv.Serve(l)
	defer srv.Close()
	sinkURL := "http://" + l.Addr().String() + report.PathPrefix + namespace

	var alone, inChild, unsent, collector []usage
	var rates []float64
	for i := range runs {
		// The child alone, its output going nowhere.
		ruPath := filepath.Join(dir, fmt.Sprintf("alone-%d", i))
		cmd := exec.CommandContext(ctx, self)
		cmd.Env = append(os.Environ(), envChild+"="+strconv.Itoa(lines), envRusage+"="+ruPath)
		// Stdout and Stderr nil: /dev/null.
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("the child alone: %w", err)
		}
		wall, cpu := time.Since(start), cpuOf(cmd.ProcessState)
		c, err := readUsage(ruPath)
		if err != nil {
			return fmt.Errorf("the child alone: %w", err)
		}
		alone = append(alone, usage{wall: wall, cpu: cpu, peakRSS: c.peakRSS})

		// The child in the collector without a sink, which only runs it:
		// the collector's own start and wait.
		u, _, err := collect(ctx, stripped, self, lines, filepath.Join(dir, fmt.Sprintf("nosink-%d", i)), "")
		if err != nil {
			return err
		}
		unsent = append(unsent, u)

		// The child in the collector, which passes its output through to
		// nowhere and reports every step to the sink.
		u, c, err = collect(ctx, stripped, self, lines, filepath.Join(dir, fmt.Sprintf("within-%d", i)), sinkURL)
		if err != nil {
			return err
		}
		inChild = append(inChild, c)
		collector = append(collector, u)
		events, bad, span := s.take()
		if events != lines || bad != 0 {
			return fmt.Errorf("the sink got %d reports and refused %d, want %d reports", events, bad, lines)
		}
		rates = append(rates, float64(events)/span.Seconds())
	}

	fmt.Fprintf(w, "The metrics collector (cmd/knobs-collector): %s/%s, %d cores, %s; median [min–max] of %d runs.\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), runs)
	fmt.Fprintf(w, "binary (CGO_ENABLED=0): %s with go build -trimpath -ldflags=\"-s -w\", %s with a plain go build\n\n",
		mib(small), mib(plain))
	fmt.Fprintf(w, "A child printing %d metric lines (epoch=N loss=X) as fast as it can, alone and in the StdOut\n", lines)
	fmt.Fprintf(w, "collector (-metric loss), its output to /dev/null. Without K_SINK the collector only runs the child;\n")
	fmt.Fprintf(w, "with it, it reads the child's output, parses it and reports each line's step, one at a time, to a\n")
	fmt.Fprintf(w, "local sink (HTTP, 202 Accepted).\n")
	fmt.Fprintf(w, "The collector's CPU is its own, the child's taken off:\n\n")
	fmt.Fprintln(w, "| process | wall | CPU (user+sys) | peak RSS |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	row := func(name string, us []usage, wall bool) {
		w1 := ""
		if wall {
			w1 = spread(us, func(u usage) float64 { return u.wall.Seconds() }, "%.3f", " s")
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", name, w1,
			spread(us, func(u usage) float64 { return u.cpu.Seconds() }, "%.3f", " s"),
			spread(us, func(u usage) float64 { return float64(u.peakRSS) / 1024 }, "%.1f", " MiB"))
	}
	row("child alone", alone, true)
	row("child in the collector", inChild, false)
	row("collector without K_SINK: runs the child only", unsent, true)
	row("collector, until the last report is delivered", collector, true)
	fmt.Fprintf(w, "\nreports delivered: %d of %d a run, %s a second (first to last at the sink)\n",
		lines, lines, spread(rates, func(r float64) float64 { return r }, "%.0f", ""))
	return nil
}

// collect runs the child in the collector, its output going nowhere, with
// sink as K_SINK (none when ""), and returns the collector's usage (its
// CPU time without the child's) and the child's.
func collect(ctx context.Context, collector, self string, lines int, ruPath, sink string) (own, child usage, err error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, collector, "-kind", "StdOut", "-metric", "loss", "--", self)
	cmd.Env = append(os.Environ(), envChild+"="+strconv.Itoa(lines), envRusage+"="+ruPath,
		report.EnvTrialName+"="+trialName, report.EnvTrialNamespace+"="+namespace, report.EnvToken+"="+token)
	if sink != "" {
		cmd.Env = append(cmd.Env, report.EnvSink+"="+sink)
	}
	cmd.Stderr = &stderr // Stdout nil: /dev/null
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return usage{}, usage{}, fmt.Errorf("the collector: %w", err)
	}
	stop := make(chan struct{})
	rss := watchRSS(cmd.Process.Pid, stop)
	err = cmd.Wait()
	wall := time.Since(start)
	close(stop)
	peak := <-rss
	if err != nil {
		return usage{}, usage{}, fmt.Errorf("the child in the collector: %w\n%s", err, stderr.Bytes())
	}
	if child, err = readUsage(ruPath); err != nil {
		return usage{}, usage{}, fmt.Errorf("the child in the collector: %w", err)
	}
	// The collector's wait4 rusage counts the child it waited for.
	return usage{wall: wall, cpu: cpuOf(cmd.ProcessState) - child.cpu, peakRSS: peak}, child, nil
}

// readUsage reads what child wrote: user and system time in nanoseconds,
// and the peak RSS in KiB.
func readUsage(path string) (usage, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return usage{}, err
	}
	f := strings.Fields(string(b))
	if len(f) != 3 {
		return usage{}, errors.New("want three numbers, got " + strconv.Quote(string(b)))
	}
	var n [3]int64
	for i := range n {
		if n[i], err = strconv.ParseInt(f[i], 10, 64); err != nil {
			return usage{}, err
		}
	}
	return usage{cpu: time.Duration(n[0] + n[1]), peakRSS: n[2]}, nil
}

// spread is the median and the range of what of xs: numbers in verb,
// then unit.
func spread[T any](xs []T, what func(T) float64, verb, unit string) string {
	var v []float64
	for _, x := range xs {
		v = append(v, what(x))
	}
	slices.Sort(v)
	med := v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	if len(v) == 1 {
		return fmt.Sprintf(verb+unit, med)
	}
	return fmt.Sprintf(verb+" ["+verb+"–"+verb+"]"+unit, med, v[0], v[len(v)-1])
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB (%d bytes)", float64(n)/(1<<20), n) }
