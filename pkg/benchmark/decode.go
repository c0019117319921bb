package benchmark

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/proto"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/random"
	"knobs.dev/knobs/pkg/function"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Reading is the cost of reading one request: decoding its binary protobuf
// and parsing its history into the trials an algorithm takes.
type Reading struct {
	Bytes int // the request's size
	// Duration, CPU and Alloc are medians, as in CostCell.
	Duration, CPU time.Duration
	Alloc         uint64
}

// DecodeCell compares a history's two forms on the wire: in trials and in
// columns (GetSuggestionsRequest.history).
type DecodeCell struct {
	Dims, History  int
	Plain, Columns Reading
	Err            error
}

// MeasureDecode measures, for each history size and dimension of opts,
// the reading of a request whose history of completed trials (the cost
// table's: Ackley's function, points drawn uniformly) is in trials, and of
// the same in columns. It fails a cell whose two readings differ.
func MeasureDecode(ctx context.Context, opts CostOptions) []DecodeCell {
	calls := opts.Calls
	if calls <= 0 {
		calls = 3
	}
	c := Contender{Name: "random", Algorithm: random.Random{}}
	var out []DecodeCell
	for _, d := range opts.Dims {
		for _, n := range opts.Histories {
			cell := DecodeCell{Dims: d, History: n}
			p := costProblem(c, d)
			trials, err := costHistory(ctx, c, p, n, nil)
			if err != nil {
				cell.Err = err
				out = append(out, cell)
				continue
			}
			exp := experiment(c, p, 1, nil)
			plain, perr := proto.Marshal(&pb.GetSuggestionsRequest{Experiment: exp, Trials: trials, RequestNumber: 1})
			columns, cerr := proto.Marshal(&pb.GetSuggestionsRequest{Experiment: exp, History: function.CompactHistory(p.Params, trials), RequestNumber: 1})
			trials = nil
			if perr != nil || cerr != nil {
				cell.Err = fmt.Errorf("encoding: %v, %v", perr, cerr)
				out = append(out, cell)
				continue
			}
			var a, b []algorithm.Trial
			cell.Plain, a, err = measureReading(ctx, plain, calls)
			if err == nil {
				cell.Columns, b, err = measureReading(ctx, columns, calls)
			}
			if err == nil {
				err = sameReading(a, b)
			}
			cell.Err = err
			out = append(out, cell)
		}
	}
	return out
}

// measureReading decodes and parses wire calls times (once when it takes
// more than a second) and returns the medians and the trials read.
func measureReading(ctx context.Context, wire []byte, calls int) (Reading, []algorithm.Trial, error) {
	r := Reading{Bytes: len(wire)}
	var trials []algorithm.Trial
	var err error
	r.Duration, r.CPU, r.Alloc, err = medianCost(calls, func() error {
		trials = nil
		req := &pb.GetSuggestionsRequest{}
		if err := proto.Unmarshal(wire, req); err != nil {
			return err
		}
		p, err := algorithm.NewProblem(random.Random{}, req.GetExperiment())
		if err != nil {
			return err
		}
		trials, err = function.ReadTrials(ctx, p, req)
		return err
	})
	return r, trials, err
}

func sameReading(a, b []algorithm.Trial) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d trials in plain, %d in columns", len(a), len(b))
	}
	for i := range a {
		x, y := &a[i], &b[i]
		same := x.Name == y.Name && x.Condition == y.Condition && x.HasValue == y.HasValue && x.Value == y.Value && len(x.Point) == len(y.Point)
		for j := 0; same && j < len(x.Point); j++ {
			same = x.Point[j] == y.Point[j]
		}
		if !same {
			return fmt.Errorf("trial %d reads differently in plain and in columns", i)
		}
	}
	return nil
}

// WriteDecode prints the cells as one table: a row per dimension and
// history size, the request's size and the median reading in each form.
func WriteDecode(w io.Writer, cells []DecodeCell) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "dimensions\ttrials\tin trials\tin columns\tsize\tread in trials\tread in columns\t\n")
	for _, c := range cells {
		if c.Err != nil {
			fmt.Fprintf(tw, "%d\t%d\terror: %v\t\n", c.Dims, c.History, c.Err)
			continue
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%.0f%%\t%s/%s %s\t%s/%s %s\t\n", c.Dims, c.History,
			bytes(float64(c.Plain.Bytes)), bytes(float64(c.Columns.Bytes)), 100*float64(c.Columns.Bytes)/float64(c.Plain.Bytes),
			roundDuration(c.Plain.Duration), roundDuration(c.Plain.CPU), bytes(float64(c.Plain.Alloc)),
			roundDuration(c.Columns.Duration), roundDuration(c.Columns.CPU), bytes(float64(c.Columns.Alloc)))
	}
	fmt.Fprintf(tw, "\nthe request's size in binary protobuf, and the median wall/CPU time and allocation of reading it (decoding and parsing the trials), in process\t\n")
	return tw.Flush()
}
