package benchmark

import (
	"fmt"
	"io"
	"math"
	"sort"
	"text/tabwriter"
	"time"
)

// WriteRegret prints, per problem, each contender's simple regret (or
// hypervolume gap) at the checkpoints: the median over seeds, with the
// quartiles. On a problem with constraints, a cell says how many seeds had
// no feasible trial yet, if any.
func WriteRegret(w io.Writer, sums []Summary, seeds int) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	problem := ""
	var skipped []string
	measures := map[string]bool{}
	constrained := false
	for _, s := range sums {
		measures[s.measure()] = true
		constrained = constrained || s.Constrained
		if s.Problem != problem {
			problem = s.Problem
			fmt.Fprintf(tw, "\n%s\t", problem)
			for _, n := range s.Checkpoints {
				fmt.Fprintf(tw, "%s@%d\t", s.measure(), n)
			}
			fmt.Fprintf(tw, "\n")
		}
		fmt.Fprintf(tw, "%s\t", s.Contender)
		if s.Err != nil {
			fmt.Fprintf(tw, "error: %v\t\n", s.Err)
			continue
		}
		if s.Skipped != "" {
			fmt.Fprintf(tw, "n/a\t\n")
			skipped = append(skipped, fmt.Sprintf("%s on %s: %s", s.Contender, s.Problem, s.Skipped))
			continue
		}
		for k := range s.Checkpoints {
			q1, med, q3 := s.Median(k)
			fmt.Fprintf(tw, "%s [%s, %s]%s\t", g(med), g(q1), g(q3), s.infeasible(k))
		}
		fmt.Fprintf(tw, "\n")
	}
	if measures["regret"] {
		fmt.Fprintf(tw, "\nsimple regret (best loss found − optimum): median [quartiles] over %d seeds\t\n", seeds)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var notes []string
	if constrained {
		notes = append(notes, "with constraints, regret counts feasible trials only; (k none): k seeds had no feasible trial yet, an infinite regret (-)")
	}
	if measures["hv-gap"] {
		notes = append(notes, fmt.Sprintf("hv-gap: hypervolume of the true Pareto front − that of the feasible trials' front, against the problem's reference point: median [quartiles] over %d seeds", seeds))
	}
	for _, n := range notes {
		if _, err := fmt.Fprintln(w, n); err != nil {
			return err
		}
	}
	for _, s := range skipped {
		if _, err := fmt.Fprintf(w, "n/a: %s\n", s); err != nil {
			return err
		}
	}
	return nil
}

// measure is the name of what Regret holds: "regret" unless said.
func (s *Summary) measure() string {
	if s.Measure == "" {
		return "regret"
	}
	return s.Measure
}

// infeasible says, for a problem with constraints, how many seeds had no
// feasible trial by checkpoint k; "" when every seed had one.
func (s *Summary) infeasible(k int) string {
	n := 0
	for _, r := range s.Regret[k] {
		if math.IsInf(r, 1) {
			n++
		}
	}
	if !s.Constrained || n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d none)", n)
}

// historyBuckets group calls by the number of trials they carried.
var historyBuckets = []int{0, 10, 50, 100, 200, 500}

// WriteCost prints each contender's median latency and allocation per call,
// by the size of the history the call carried; how names how the calls were
// made. Contenders that make no calls (library reference rows) are left out.
func WriteCost(w io.Writer, sums []Summary, how string) error {
	byContender := map[string][]Call{}
	var names []string
	for _, s := range sums {
		if _, ok := byContender[s.Contender]; !ok {
			names = append(names, s.Contender)
		}
		byContender[s.Contender] = append(byContender[s.Contender], s.Calls...)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\nper call\t")
	for i, b := range historyBuckets {
		if i+1 < len(historyBuckets) {
			fmt.Fprintf(tw, "trials %d-%d\t", b, historyBuckets[i+1]-1)
		} else {
			fmt.Fprintf(tw, "trials %d+\t", b)
		}
	}
	fmt.Fprintf(tw, "\n")
	for _, n := range names {
		if len(byContender[n]) == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t", n)
		for i := range historyBuckets {
			var ds []float64
			var bs []float64
			for _, c := range byContender[n] {
				if c.History >= historyBuckets[i] && (i+1 == len(historyBuckets) || c.History < historyBuckets[i+1]) {
					ds = append(ds, float64(c.Duration))
					bs = append(bs, float64(c.Bytes))
				}
			}
			if len(ds) == 0 {
				fmt.Fprintf(tw, "-\t")
				continue
			}
			sort.Float64s(ds)
			sort.Float64s(bs)
			fmt.Fprintf(tw, "%s %s\t", time.Duration(quantile(ds, 0.5)).Round(time.Microsecond), bytes(quantile(bs, 0.5)))
		}
		fmt.Fprintf(tw, "\n")
	}
	fmt.Fprintf(tw, "\nmedian wall time and allocation (by the caller) per call, %s\t\n", how)
	return tw.Flush()
}

func g(x float64) string {
	switch {
	case math.IsInf(x, 0) || math.IsNaN(x):
		return "-"
	case x == 0:
		return "0"
	case math.Abs(x) < 1e-3 || math.Abs(x) >= 1e4:
		return fmt.Sprintf("%.2e", x)
	}
	return fmt.Sprintf("%.3g", x)
}

func bytes(b float64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.1fMiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.0fKiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0fB", b)
}
