package benchmark

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/function"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// CostOptions shape a measure of cost as the history grows.
type CostOptions struct {
	// Histories are the numbers of completed trials in a request.
	Histories []int
	// Dims are the numbers of parameters of the search space.
	Dims []int
	// Limit bounds one call, as a function's deadline does: a call past it
	// is reported as such and larger histories of the same dimension are
	// not tried. 0 is 30 s, the controller's default timeout.
	Limit time.Duration
	// Calls is how many calls a cell's median is taken over, at most (one
	// when a call takes more than a second). 0 is 3.
	Calls int
	// Plain sends every history in trials; by default a history of
	// function.ColumnsFrom trials or more goes in columns, as the
	// controller sends it.
	Plain bool
}

// CostCell is the cost of one call of one contender for one history size
// and dimension.
type CostCell struct {
	Contender     string
	Dims, History int
	// RequestBytes is the request's size in binary protobuf; Columns says
	// that its history is in columns.
	RequestBytes int
	Columns      bool
	// Duration is the median time of a call: decoding the request from
	// binary protobuf and answering it, in process.
	Duration time.Duration
	// CPU is the median processor time of a call (user and system, the
	// garbage collector's included): on a machine shared with other work,
	// a call's time may be far longer than its CPU time.
	CPU time.Duration
	// Bytes is the median allocation of a call.
	Bytes uint64
	// Skipped says why the cell was not measured.
	Skipped string
	Err     error
}

// MeasureCost measures, for each contender, one call asking for one point
// with histories of opts.Histories completed trials in spaces of opts.Dims
// doubles (the Ackley function on [-5, 10]^d; for multi-fidelity contenders
// the history is built by the contender itself, with an epochs budget from 1
// to 27). Contenders without an Algorithm are left out.
func MeasureCost(ctx context.Context, contenders []Contender, opts CostOptions) []CostCell {
	limit := opts.Limit
	if limit <= 0 {
		limit = 30 * time.Second
	}
	calls := opts.Calls
	if calls <= 0 {
		calls = 3
	}
	var out []CostCell
	for _, c := range contenders {
		if c.Algorithm == nil {
			continue
		}
		for _, d := range opts.Dims {
			over := ""
			for _, n := range opts.Histories {
				cell := CostCell{Contender: c.Name, Dims: d, History: n}
				if over != "" {
					cell.Skipped = over
					out = append(out, cell)
					continue
				}
				cell = measureCell(ctx, c, d, n, limit, calls, !opts.Plain && n >= function.ColumnsFrom)
				if cell.Skipped != "" || cell.Err != nil {
					over = "not tried: the smaller history did not finish"
				} else if cell.Duration > limit/2 {
					over = fmt.Sprintf("not tried: %s with %d trials", cell.Duration.Round(time.Millisecond), n)
				}
				out = append(out, cell)
			}
		}
	}
	return out
}

// costProblem is the d-dimensional Ackley function on [-5, 10]^d, with an
// epochs budget for multi-fidelity contenders.
func costProblem(c Contender, d int) Problem {
	p := box(fmt.Sprintf("ackley-%dd", d), d, "-5", "10", 0, ackley)
	if !c.MultiFidelity {
		return p
	}
	p.Params = append(p.Params, &pb.ParameterSpec{Name: "epochs", ParameterType: pb.ParameterType_INT, FeasibleSpace: &pb.FeasibleSpace{Min: "1", Max: "27"}})
	p.Budget, p.MaxBudget = "epochs", 27
	exact := p.Eval
	p.Eval = func(v map[string]string) float64 { return exact(v) * (1 + 1/num(v, "epochs") - 1/27.0) }
	return p
}

// costHistory returns n completed trials of p: points drawn uniformly, or,
// for a multi-fidelity contender, the points it suggests itself, asked for
// in batches of up to 1000 and all completed before the next call, so that
// its brackets advance as they would.
func costHistory(ctx context.Context, c Contender, p Problem, n int, settings []*pb.AlgorithmSetting) ([]*pb.Trial, error) {
	trials := make([]*pb.Trial, 0, n)
	add := func(assign []*pb.ParameterAssignment) {
		values := make(map[string]string, len(assign))
		for _, a := range assign {
			values[a.GetName()] = a.GetValue()
		}
		trials = append(trials, &pb.Trial{
			Name:   "t" + strconv.Itoa(len(trials)),
			Spec:   &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: assign}},
			Status: &pb.TrialStatus{Condition: pb.TrialCondition_SUCCEEDED, Observation: &pb.Observation{Metrics: []*pb.Metric{{Name: "loss", Value: strconv.FormatFloat(p.Eval(values), 'g', -1, 64)}}}},
		})
	}
	if !c.MultiFidelity {
		rng := rand.New(rand.NewPCG(uint64(n), uint64(len(p.Params))))
		for range n {
			assign := make([]*pb.ParameterAssignment, len(p.Params))
			for j, prm := range p.Params {
				lo, _ := strconv.ParseFloat(prm.GetFeasibleSpace().GetMin(), 64)
				hi, _ := strconv.ParseFloat(prm.GetFeasibleSpace().GetMax(), 64)
				assign[j] = &pb.ParameterAssignment{Name: prm.GetName(), Value: strconv.FormatFloat(lo+(hi-lo)*rng.Float64(), 'g', -1, 64)}
			}
			add(assign)
		}
		return trials, nil
	}
	svc := &function.Service{Name: c.FunctionName(), Algorithm: c.Algorithm}
	var state []*pb.AlgorithmSetting
	for len(trials) < n {
		req := &pb.GetSuggestionsRequest{
			Experiment:    experiment(c, p, 1, algorithm.OverlaySettings(settings, state)),
			Trials:        trials,
			RequestNumber: int32(min(1000, n-len(trials))),
		}
		reply, err := svc.GetSuggestions(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("building a history of %d trials, at %d: %w", n, len(trials), err)
		}
		if len(reply.GetParameterAssignments()) == 0 {
			return nil, fmt.Errorf("building a history of %d trials: no point at %d", n, len(trials))
		}
		state = reply.GetAlgorithm().GetAlgorithmSettings()
		for _, a := range reply.GetParameterAssignments() {
			add(a.GetAssignments())
		}
	}
	return trials, nil
}

// costSettings are the contender's settings for p, with random_state 1.
func costSettings(c Contender, p Problem) []*pb.AlgorithmSetting {
	settings := append([]*pb.AlgorithmSetting{}, c.Settings...)
	if c.SettingsFor != nil {
		settings = append(settings, c.SettingsFor(p)...)
	}
	return append(settings, &pb.AlgorithmSetting{Name: "random_state", Value: "1"})
}

func measureCell(ctx context.Context, c Contender, d, n int, limit time.Duration, calls int, columns bool) CostCell {
	cell := CostCell{Contender: c.Name, Dims: d, History: n}
	p := costProblem(c, d)
	if err := applicable(ctx, c, p); err != nil {
		cell.Skipped = err.Error()
		return cell
	}
	settings := costSettings(c, p)
	trials, err := costHistory(ctx, c, p, n, settings)
	if err != nil {
		cell.Err = err
		return cell
	}
	var state []*pb.AlgorithmSetting
	if c.MultiFidelity {
		// The state the contender returned for this history: ask once
		// without measuring, and carry it in the measured calls.
		svc := &function.Service{Name: c.FunctionName(), Algorithm: c.Algorithm}
		reply, err := svc.GetSuggestions(ctx, &pb.GetSuggestionsRequest{Experiment: experiment(c, p, 1, settings), Trials: trials, RequestNumber: 1})
		if err != nil {
			cell.Err = err
			return cell
		}
		state = reply.GetAlgorithm().GetAlgorithmSettings()
	}
	req := &pb.GetSuggestionsRequest{
		Experiment:    experiment(c, p, 1, algorithm.OverlaySettings(settings, state)),
		Trials:        trials,
		RequestNumber: 1,
	}
	if columns {
		req.History, req.Trials, cell.Columns = function.CompactHistory(p.Params, trials), nil, true
	}
	wire, err := proto.Marshal(req)
	if err != nil {
		cell.Err = err
		return cell
	}
	trials = nil
	cell.RequestBytes, req = len(wire), nil
	svc := &function.Service{Name: c.FunctionName(), Algorithm: c.Algorithm, MaxDuration: limit}
	cell.Duration, cell.CPU, cell.Bytes, err = medianCost(calls, func() error {
		req := &pb.GetSuggestionsRequest{}
		if err := proto.Unmarshal(wire, req); err != nil {
			return err
		}
		_, err := svc.GetSuggestions(ctx, req)
		return err
	})
	switch {
	case status.Code(err) == codes.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded):
		cell.Skipped = fmt.Sprintf("over %s", limit)
	case err != nil:
		cell.Err = err
	}
	return cell
}

// medianCost runs call up to calls times (once when a call takes more than
// a second) and returns the medians of its wall time, processor time and
// allocation, or its first error.
func medianCost(calls int, call func() error) (dur, cpu time.Duration, alloc uint64, err error) {
	var ds, cs, bs []float64
	for i := 0; i < calls; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c := cpuTime()
		start := time.Now()
		err := call()
		d := time.Since(start)
		c = cpuTime() - c
		runtime.ReadMemStats(&after)
		if err != nil {
			return 0, 0, 0, err
		}
		ds = append(ds, float64(d))
		cs = append(cs, float64(c))
		bs = append(bs, float64(after.TotalAlloc-before.TotalAlloc))
		if d > time.Second {
			break
		}
	}
	sort.Float64s(ds)
	sort.Float64s(cs)
	sort.Float64s(bs)
	return time.Duration(quantile(ds, 0.5)), time.Duration(quantile(cs, 0.5)), uint64(quantile(bs, 0.5)), nil
}

// WriteCostGrowth prints the cells as one table per dimension: a row per
// contender, a column per history size, each giving the median time and
// allocation of a call and the request's size; cells not measured are
// explained below the tables.
func WriteCostGrowth(w io.Writer, cells []CostCell) error {
	var dims, hists []int
	var names []string
	seen := map[string]bool{}
	for _, c := range cells {
		if !seen["d"+strconv.Itoa(c.Dims)] {
			seen["d"+strconv.Itoa(c.Dims)] = true
			dims = append(dims, c.Dims)
		}
		if !seen["n"+strconv.Itoa(c.History)] {
			seen["n"+strconv.Itoa(c.History)] = true
			hists = append(hists, c.History)
		}
		if !seen["c"+c.Contender] {
			seen["c"+c.Contender] = true
			names = append(names, c.Contender)
		}
	}
	at := map[string]CostCell{}
	for _, c := range cells {
		at[fmt.Sprintf("%s/%d/%d", c.Contender, c.Dims, c.History)] = c
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	var notes []string
	for _, d := range dims {
		fmt.Fprintf(tw, "\n%d dimensions\t", d)
		for _, n := range hists {
			fmt.Fprintf(tw, "%d trials\t", n)
		}
		fmt.Fprintf(tw, "\n")
		for _, name := range names {
			fmt.Fprintf(tw, "%s\t", name)
			for _, n := range hists {
				c, ok := at[fmt.Sprintf("%s/%d/%d", name, d, n)]
				switch {
				case !ok:
					fmt.Fprintf(tw, "\t")
				case c.Err != nil:
					fmt.Fprintf(tw, "error\t")
					notes = append(notes, fmt.Sprintf("%s, %d dimensions, %d trials: %v", name, d, n, c.Err))
				case c.Skipped != "":
					fmt.Fprintf(tw, "-\t")
					notes = append(notes, fmt.Sprintf("%s, %d dimensions, %d trials: %s", name, d, n, c.Skipped))
				default:
					form := ""
					if c.Columns {
						form = " c"
					}
					fmt.Fprintf(tw, "%s/%s %s (%s%s)\t", roundDuration(c.Duration), roundDuration(c.CPU), bytes(float64(c.Bytes)), bytes(float64(c.RequestBytes)), form)
				}
			}
			fmt.Fprintf(tw, "\n")
		}
	}
	fmt.Fprintf(tw, "\nmedian wall/CPU time and allocation of one call for one point, in process (decoding the binary protobuf request included); the request's size in brackets, its history in columns where marked c\t\n")
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range notes {
		if _, err := fmt.Fprintf(w, "-: %s\n", n); err != nil {
			return err
		}
	}
	return nil
}

// cpuTime is the processor time the process has used so far, or 0 where
// the system does not say.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// roundDuration keeps three significant figures.
func roundDuration(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	unit := time.Duration(math.Pow(10, math.Floor(math.Log10(float64(d)))-2))
	return d.Round(max(unit, 1))
}
