package benchmark

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/function"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Contender is an algorithm as a benchmark runs it.
type Contender struct {
	Name      string
	Algorithm algorithm.Algorithm
	// Function is the function that serves the algorithm
	// (functions/<Function>), when it is not Name: a row of an algorithm
	// with other settings, such as tpe-multivariate.
	Function string
	// Settings are the experiment's algorithm settings; random_state is set
	// per seed.
	Settings []*pb.AlgorithmSetting
	// MultiFidelity marks algorithms that set a problem's budget parameter
	// themselves (Hyperband, BOHB); they run only on problems with one, and
	// others only on problems without, so that every comparison is like
	// for like.
	MultiFidelity bool
	// SettingsFor adds settings that depend on the problem, such as the
	// budget parameter's name.
	SettingsFor func(Problem) []*pb.AlgorithmSetting
	// URL, when set, is where the algorithm's function process listens:
	// calls then go over CloudEvents with binary protobuf, as the
	// controller's do, and the cost includes the network.
	URL string
	// Peer, when set, runs a library the way it is meant to be used instead
	// of a function (a reference row, such as goptuna's samplers).
	Peer func(ctx context.Context, p Problem, seed int64, opts Options) (Run, error)
	// Accepts, when set, says why a Peer does not take a problem.
	Accepts func(Problem) error
}

// FunctionName is the name of the function that serves the contender.
func (c Contender) FunctionName() string {
	if c.Function != "" {
		return c.Function
	}
	return c.Name
}

// caller sends a request to the contender's function.
func (c Contender) caller() func(context.Context, *pb.GetSuggestionsRequest) (*pb.GetSuggestionsReply, error) {
	if c.URL != "" {
		client := &function.Client{Source: "knobs.dev/benchmark"}
		return func(ctx context.Context, req *pb.GetSuggestionsRequest) (*pb.GetSuggestionsReply, error) {
			return client.GetSuggestions(ctx, c.URL, req)
		}
	}
	svc := &function.Service{Name: c.FunctionName(), Algorithm: c.Algorithm}
	return svc.GetSuggestions
}

// Options shape a run.
type Options struct {
	// Evaluations is the budget: the number of trials, or, for problems with
	// a budget parameter, full-budget-equivalents of resource.
	Evaluations int
	// Batch is the number of suggestions asked for per call.
	Batch int
}

// Call is the cost of one call.
type Call struct {
	History  int // trials in the request
	Duration time.Duration
	Bytes    uint64 // allocated during the call
}

// Run is one seed of one contender on one problem.
type Run struct {
	// Best[i] is the smallest loss after i+1 evaluations (for problems with
	// a budget: the smallest loss at the largest budget after i+1 largest
	// budgets' worth of resource; with constraints or several objectives,
	// Progress's score).
	Best  []float64
	Calls []Call
}

// RunOne drives a contender on a problem with a seed, as the controller
// would: every call carries all trials so far, completed with their loss,
// and the state the algorithm returned last.
func RunOne(ctx context.Context, c Contender, p Problem, seed int64, opts Options) (Run, error) {
	if c.Peer != nil {
		return c.Peer(ctx, p, seed, opts)
	}
	call := c.caller()
	base := append([]*pb.AlgorithmSetting{}, c.Settings...)
	if c.SettingsFor != nil {
		base = append(base, c.SettingsFor(p)...)
	}
	for _, spec := range settingsOf(c) {
		if spec.Name == algorithm.RandomState {
			base = append(base, &pb.AlgorithmSetting{Name: algorithm.RandomState, Value: strconv.FormatInt(seed, 10)})
		}
	}
	var state []*pb.AlgorithmSetting
	var trials []*pb.Trial
	var run Run
	progress := NewProgress(p)
	best := math.Inf(1)
	spent := 0.0 // evaluations, or budget used over the largest budget
	for spent < float64(opts.Evaluations) {
		req := &pb.GetSuggestionsRequest{
			Experiment:    experiment(c, p, seed, algorithm.OverlaySettings(base, state)),
			Trials:        trials,
			RequestNumber: int32(opts.Batch),
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		reply, err := call(ctx, req)
		d := time.Since(start)
		runtime.ReadMemStats(&after)
		if err != nil {
			return run, fmt.Errorf("%s on %s, seed %d, after %d trials: %w", c.Name, p.Name, seed, len(trials), err)
		}
		run.Calls = append(run.Calls, Call{History: len(trials), Duration: d, Bytes: after.TotalAlloc - before.TotalAlloc})
		state = reply.GetAlgorithm().GetAlgorithmSettings()
		if len(reply.GetParameterAssignments()) == 0 {
			break // exhausted
		}
		for _, a := range reply.GetParameterAssignments() {
			values := make(map[string]string, len(a.GetAssignments()))
			for _, pa := range a.GetAssignments() {
				values[pa.GetName()] = pa.GetValue()
			}
			outcome := p.outcome(values)
			full := true
			if p.Budget != "" {
				b := num(values, p.Budget)
				spent += b / p.MaxBudget
				full = b >= p.MaxBudget
			} else {
				spent++
			}
			if full {
				best = progress.Add(outcome)
			}
			// One entry per evaluation, or per largest budget's worth of
			// resource spent, so that curves compare like for like.
			for float64(len(run.Best)) < math.Floor(spent+1e-9) {
				run.Best = append(run.Best, best)
			}
			trials = append(trials, &pb.Trial{
				Name:   fmt.Sprintf("t%d", len(trials)),
				Spec:   &pb.TrialSpec{ParameterAssignments: &pb.ParameterAssignments{Assignments: a.GetAssignments()}},
				Status: &pb.TrialStatus{Condition: pb.TrialCondition_SUCCEEDED, Observation: p.observation(outcome)},
			})
		}
		if reply.GetSearchSpaceExhausted() {
			break
		}
	}
	return run, nil
}

func experiment(c Contender, p Problem, seed int64, settings []*pb.AlgorithmSetting) *pb.Experiment {
	return &pb.Experiment{
		Name: fmt.Sprintf("%s-%s-%d", c.Name, p.Name, seed),
		ExperimentSpec: &pb.ExperimentSpec{
			Algorithm:      &pb.AlgorithmSpec{AlgorithmName: c.FunctionName(), AlgorithmSettings: settings},
			Objective:      p.objectiveSpec(),
			ParameterSpecs: &pb.ParameterSpecs{Parameters: p.Params},
		},
	}
}

// applicable asks the algorithm whether it takes the problem at all (CMA-ES,
// for one, needs two numeric parameters), and says why not.
func applicable(ctx context.Context, c Contender, p Problem) error {
	if c.Accepts != nil {
		return c.Accepts(p)
	}
	if c.Algorithm == nil {
		return nil
	}
	var settings []*pb.AlgorithmSetting
	if c.SettingsFor != nil {
		settings = c.SettingsFor(p)
	}
	svc := &function.Service{Name: c.FunctionName(), Algorithm: c.Algorithm}
	_, err := svc.ValidateAlgorithmSettings(ctx, &pb.ValidateAlgorithmSettingsRequest{Experiment: experiment(c, p, 0, append(append([]*pb.AlgorithmSetting{}, c.Settings...), settings...))})
	if status.Code(err) == codes.InvalidArgument {
		return errors.New(status.Convert(err).Message())
	}
	return nil
}

// TakesSeveralObjectives reports whether the contender's algorithm accepts
// an experiment of two objectives (ZDT1's).
func TakesSeveralObjectives(c Contender) bool {
	return applicable(context.Background(), c, ZDT1()) == nil
}

// Summary is a contender's result on a problem over all seeds.
type Summary struct {
	Contender, Problem string
	// Measure names what Regret holds (Problem's measure): "regret" or
	// "hv-gap"; Constrained says the problem has constraints, so that a
	// regret can be +Inf, no feasible trial yet.
	Measure     string
	Constrained bool
	// Regret[k] holds, per seed, the simple regret after Checkpoints[k]
	// evaluations.
	Checkpoints []int
	Regret      [][]float64
	// Curves holds, per seed, the regret after each evaluation.
	Curves [][]float64
	Calls  []Call
	Err    error
	// Skipped says why the algorithm does not take the problem.
	Skipped string
}

// MedianCurve is the median over seeds of the regret after each evaluation.
func (s *Summary) MedianCurve() []float64 {
	n := 0
	for _, c := range s.Curves {
		n = max(n, len(c))
	}
	out := make([]float64, n)
	for i := range out {
		var v []float64
		for _, c := range s.Curves {
			if len(c) > 0 {
				v = append(v, c[min(i, len(c)-1)])
			}
		}
		sort.Float64s(v)
		out[i] = quantile(v, 0.5)
	}
	return out
}

// Median returns the median and quartiles of the regret at checkpoint k.
func (s *Summary) Median(k int) (q1, med, q3 float64) {
	v := append([]float64(nil), s.Regret[k]...)
	sort.Float64s(v)
	return quantile(v, 0.25), quantile(v, 0.5), quantile(v, 0.75)
}

func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return sorted[lo] + (sorted[hi]-sorted[lo])*(pos-float64(lo))
}

// Compare runs every contender on every problem it fits, over seeds
// 1..seeds, and summarises the regret at the checkpoints.
func Compare(ctx context.Context, contenders []Contender, problems []Problem, seeds int, checkpoints []int, opts Options) []Summary {
	var out []Summary
	for _, p := range problems {
		for _, c := range contenders {
			if c.MultiFidelity != (p.Budget != "") {
				continue
			}
			s := Summary{Contender: c.Name, Problem: p.Name, Measure: p.measure(), Constrained: p.Constraints > 0,
				Checkpoints: checkpoints, Regret: make([][]float64, len(checkpoints))}
			if err := applicable(ctx, c, p); err != nil {
				s.Skipped = err.Error()
				out = append(out, s)
				continue
			}
			for seed := int64(1); seed <= int64(seeds); seed++ {
				run, err := RunOne(ctx, c, p, seed, opts)
				if err != nil {
					s.Err = err
					break
				}
				s.Calls = append(s.Calls, run.Calls...)
				curve := make([]float64, len(run.Best))
				for i, b := range run.Best {
					curve[i] = b - p.Optimum
				}
				s.Curves = append(s.Curves, curve)
				for k, n := range checkpoints {
					b := math.Inf(1)
					if len(run.Best) > 0 {
						b = run.Best[min(n, len(run.Best))-1]
					}
					s.Regret[k] = append(s.Regret[k], b-p.Optimum)
				}
			}
			out = append(out, s)
		}
	}
	return out
}

func settingsOf(c Contender) []algorithm.Setting {
	if c.Algorithm == nil {
		return nil
	}
	return c.Algorithm.Settings()
}
