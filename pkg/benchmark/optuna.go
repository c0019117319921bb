package benchmark

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strconv"
	"sync"

	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// OptunaSamplers are the samplers of Optuna that the driver runs, by the
// names it knows them: random search, univariate TPE, multivariate TPE,
// CMA-ES and scrambled Sobol' (QMC). The TPE samplers count running trials
// as bad (constant_liar), which matters only in batches.
var OptunaSamplers = []string{"random", "tpe", "tpe-multivariate", "cmaes", "qmc"}

// OptunaMultiObjectiveSamplers are the samplers the driver runs on problems
// of several objectives or of constraints: random search; TPE, which in
// Optuna 3.1 is MOTPE for several objectives and takes constraints; the
// MOTPESampler class itself (several objectives, no constraints); and
// NSGA-II. All but motpe are given the constraints.
var OptunaMultiObjectiveSamplers = []string{"random", "tpe", "motpe", "nsga2"}

// Optuna is a running driver (hack/optuna/driver.py): a Python process that
// asks Optuna's samplers for points and has the benchmark evaluate them, so
// that every problem is defined once, here. Runs go one at a time.
type Optuna struct {
	// Version is the version of Optuna the driver imported.
	Version string

	mu   sync.Mutex
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
	dead error
}

// driverMessage is any line the driver writes.
type driverMessage struct {
	Ready  bool                `json:"ready"`
	Optuna string              `json:"optuna"`
	Ask    []map[string]string `json:"ask"`
	Done   bool                `json:"done"`
	Error  string              `json:"error"`
}

// StartOptuna starts the driver with the given Python interpreter and waits
// for it to say it is ready. It fails, saying what to install, when the
// interpreter has no Optuna.
func StartOptuna(python, driver string) (*Optuna, error) {
	if _, err := os.Stat(driver); err != nil {
		return nil, fmt.Errorf("optuna driver: %w (run from the repository's root, or name the driver)", err)
	}
	cmd := exec.Command(python, driver)
	cmd.Stderr = os.Stderr // a Python traceback, should the driver fail
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s %s: %w", python, driver, err)
	}
	return newOptuna(cmd, in, stdout)
}

func newOptuna(cmd *exec.Cmd, in io.WriteCloser, stdout io.Reader) (*Optuna, error) {
	o := &Optuna{cmd: cmd, in: in, out: bufio.NewScanner(stdout)}
	o.out.Buffer(make([]byte, 64<<10), 16<<20)
	m, err := o.read()
	if err == nil && m.Error != "" {
		err = errors.New(m.Error)
	}
	if err == nil && !m.Ready {
		err = fmt.Errorf("the driver's first line is not {\"ready\": true}")
	}
	if err != nil {
		o.Close()
		return nil, fmt.Errorf("optuna driver: %w", err)
	}
	o.Version = m.Optuna
	return o, nil
}

// Close ends the driver: its input closes and it exits.
func (o *Optuna) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	err := o.in.Close()
	if o.cmd != nil && o.cmd.Process != nil {
		if werr := o.cmd.Wait(); err == nil {
			err = werr
		}
		o.cmd = nil
	}
	return err
}

func (o *Optuna) read() (driverMessage, error) {
	var m driverMessage
	if !o.out.Scan() {
		if err := o.out.Err(); err != nil {
			return m, err
		}
		return m, io.ErrUnexpectedEOF
	}
	if err := json.Unmarshal(o.out.Bytes(), &m); err != nil {
		return m, fmt.Errorf("the driver wrote %q: %w", o.out.Text(), err)
	}
	return m, nil
}

func (o *Optuna) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = o.in.Write(append(b, '\n'))
	return err
}

// optunaParam is a parameter as the driver takes it.
type optunaParam struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	Low     float64  `json:"low"`
	High    float64  `json:"high"`
	Log     bool     `json:"log,omitempty"`
	Step    *float64 `json:"step,omitempty"`
	Choices []string `json:"choices,omitempty"`
}

// optunaSpace states a problem's search space in Optuna's terms: doubles
// as floats (log-uniform ones with log), ints as ints, discrete and
// categorical lists as categorical choices (Optuna's way to take a list).
func optunaSpace(p Problem) ([]optunaParam, error) {
	var out []optunaParam
	for _, ps := range p.Params {
		fs := ps.GetFeasibleSpace()
		op := optunaParam{Name: ps.GetName()}
		switch ps.GetParameterType() {
		case pb.ParameterType_DOUBLE, pb.ParameterType_INT:
			lo, err1 := strconv.ParseFloat(fs.GetMin(), 64)
			hi, err2 := strconv.ParseFloat(fs.GetMax(), 64)
			if err := errors.Join(err1, err2); err != nil {
				return nil, fmt.Errorf("parameter %s: %w", ps.GetName(), err)
			}
			op.Low, op.High = lo, hi
			switch fs.GetDistribution() {
			case pb.Distribution_DISTRIBUTION_UNSPECIFIED, pb.Distribution_UNIFORM:
			case pb.Distribution_LOG_UNIFORM:
				op.Log = true
			default:
				return nil, fmt.Errorf("parameter %s: Optuna has no %s distribution", ps.GetName(), fs.GetDistribution())
			}
			op.Type = "float"
			if ps.GetParameterType() == pb.ParameterType_INT {
				op.Type = "int"
			} else if fs.GetStep() != "" {
				step, err := strconv.ParseFloat(fs.GetStep(), 64)
				if err != nil {
					return nil, fmt.Errorf("parameter %s: step: %w", ps.GetName(), err)
				}
				op.Step = &step
			}
		case pb.ParameterType_DISCRETE, pb.ParameterType_CATEGORICAL:
			op.Type, op.Choices = "categorical", fs.GetList()
		default:
			return nil, fmt.Errorf("parameter %s: unknown type %s", ps.GetName(), ps.GetParameterType())
		}
		out = append(out, op)
	}
	return out, nil
}

// Run has the driver run one sampler on a problem with a seed: it asks for
// opts.Batch points at a time, evaluates them here and tells the losses.
func (o *Optuna) Run(ctx context.Context, sampler string, p Problem, seed int64, opts Options) (Run, error) {
	var run Run
	if p.Budget != "" {
		return run, fmt.Errorf("%s: Optuna's samplers here have no budget parameter", p.Name)
	}
	params, err := optunaSpace(p)
	if err != nil {
		return run, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dead != nil {
		return run, o.dead
	}
	// A broken conversation leaves the driver where no next run can start.
	fail := func(err error) (Run, error) {
		o.dead = fmt.Errorf("optuna driver: %w", err)
		return run, o.dead
	}
	if err := o.write(map[string]any{"sampler": sampler, "seed": seed, "evaluations": opts.Evaluations, "batch": max(opts.Batch, 1), "params": params,
		"objectives": p.objectives(), "constraints": p.Constraints}); err != nil {
		return fail(err)
	}
	progress := NewProgress(p)
	best := math.Inf(1)
	for {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		m, err := o.read()
		switch {
		case err != nil:
			return fail(err)
		case m.Error != "":
			return run, fmt.Errorf("optuna %s on %s, seed %d: %s", sampler, p.Name, seed, m.Error)
		case m.Done:
			return run, nil
		case len(m.Ask) == 0:
			return fail(fmt.Errorf("a line with no points, no error and not done: %q", o.out.Text()))
		}
		// A loss each, or with several objectives a list; null for a
		// failed trial. Constraints, when the problem has them, go beside.
		tell := make([]any, len(m.Ask))
		var constraints [][]float64
		if p.Constraints > 0 {
			constraints = make([][]float64, len(m.Ask))
		}
		for i, values := range m.Ask {
			out, err := evaluate(p, values)
			if err != nil {
				_ = o.write(map[string]any{"tell": tell})
				return fail(fmt.Errorf("sampler %s on %s: %w", sampler, p.Name, err))
			}
			if finite(out.Objectives) && finite(out.Constraints) {
				tell[i] = out.Objectives
				if p.objectives() == 1 {
					tell[i] = out.Objectives[0]
				}
				if constraints != nil {
					constraints[i] = out.Constraints
				}
				best = progress.Add(out)
			}
			run.Best = append(run.Best, best)
		}
		msg := map[string]any{"tell": tell}
		if constraints != nil {
			msg["constraints"] = constraints
		}
		if err := o.write(msg); err != nil {
			return fail(err)
		}
	}
}

// evaluate checks that a point the driver sent names every parameter, then
// evaluates it.
func evaluate(p Problem, values map[string]string) (out Outcome, err error) {
	for _, ps := range p.Params {
		if _, ok := values[ps.GetName()]; !ok {
			return out, fmt.Errorf("a point without parameter %s: %v", ps.GetName(), values)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("a point the problem cannot evaluate: %v", r)
		}
	}()
	return p.outcome(values), nil
}

// finite reports whether every value is a number, not infinite.
func finite(vs []float64) bool {
	for _, v := range vs {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return false
		}
	}
	return true
}

// OptunaPeers are reference rows, one per sampler named (OptunaSamplers,
// OptunaMultiObjectiveSamplers), named optuna-<sampler>, all run by one
// driver. The motpe row takes no constraints, and says so.
func OptunaPeers(o *Optuna, samplers []string) []Contender {
	var out []Contender
	for _, s := range samplers {
		c := Contender{Name: "optuna-" + s, Peer: func(ctx context.Context, p Problem, seed int64, opts Options) (Run, error) {
			return o.Run(ctx, s, p, seed, opts)
		}}
		if s == "motpe" {
			c.Accepts = func(p Problem) error {
				switch {
				case p.objectives() < 2:
					return errors.New("MOTPESampler is for several objectives")
				case p.Constraints > 0:
					return errors.New("MOTPESampler takes no constraints in Optuna 3.1 (optuna-tpe is MOTPE with them)")
				}
				return nil
			}
		}
		out = append(out, c)
	}
	return out
}

// Pythons are the interpreters FindPython tries, in order: the one on the
// PATH, then Debian's, which a virtual environment or pyenv earlier on the
// PATH hides (python3-optuna installs into Debian's).
var Pythons = []string{"python3", "/usr/bin/python3"}

// FindPython returns the first of Pythons that imports optuna, or an error
// saying how to install it.
func FindPython() (string, error) {
	for _, py := range Pythons {
		if err := exec.Command(py, "-c", "import optuna").Run(); err == nil {
			return py, nil
		}
	}
	return "", errors.New("no python3 imports optuna: install Debian's python3-optuna and python3-scipy (hack/optuna/install.sh)")
}
