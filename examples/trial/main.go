// Command trial is the workload of the example Experiments: a small, real
// piece of work whose result depends on its flags, reported to Knobs.
//
// --task chooses the work:
//
//	branin     the Branin function at --x1 --x2; metric loss (minimum 0.397887).
//	           --objectives=branin,currin reports the Branin–Currin problem
//	           of two objectives instead, each as a metric of its name
//	           (Currin's exponential function at the point scaled to
//	           [0, 1]^2, as in BoTorch's BraninCurrin), both to minimise;
//	           --constraint=disc reports too the metric disc,
//	           (x1-2.5)^2 + (x2-7.5)^2 - 50, feasible at 0 or less (the
//	           constrained Branin of Gelbart, Snoek and Adams, 2014)
//	hartmann6  the Hartmann-6 function at --x1 .. --x6 in [0, 1]; metric loss (minimum -3.32237)
//	ridge      (the default) ridge regression on random Fourier features of
//	           Friedman's first regression problem, trained by mini-batch
//	           gradient descent with --lr, --l2, --batch-size, --optimizer
//	           (sgd, momentum or adam), --momentum (the momentum optimizer's
//	           coefficient, 0.9 unless told; refused with another optimizer),
//	           --epochs, --features and --seed (and
//	           --epoch-delay, a pause after each epoch); after
//	           every epoch the validation loss (mean squared error, in units
//	           of the targets' variance) as loss and R² as r2, with the epoch as
//	           the step
//
// Flags take the form --name=value or --name value. Every result is printed
// as one line such as
//
//	epoch=3 loss=0.1234 r2=0.8766
//
// and, when K_SINK is set (as Knobs sets it for a trial's workload), reported
// through knobs.dev/knobs/pkg/observation. The program exits 2 on bad flags
// and 1 when the work or a report fails.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// reporter sends a trial's metrics to Knobs.
type reporter interface {
	Report(ctx context.Context, metrics map[string]float64, step *int64) error
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, reporterFromEnv)
	stop()
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, &ue):
		fmt.Fprintf(os.Stderr, "trial: %v (see trial -h)\n", err)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "trial: %v\n", err)
		os.Exit(1)
	}
}

// usageError is a mistake in the flags.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// The tasks and the flags each takes besides --task.
var taskFlags = map[string][]string{
	"branin":    {"x1", "x2", "objectives", "constraint"},
	"hartmann6": {"x1", "x2", "x3", "x4", "x5", "x6"},
	"ridge":     {"lr", "l2", "batch-size", "optimizer", "momentum", "epochs", "features", "seed", "epoch-delay"},
}

// run parses args, does the task, and prints (and reports, with a reporter
// from newReporter) its metrics.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, newReporter func() (reporter, error)) error {
	fs := flag.NewFlagSet("trial", flag.ContinueOnError)
	fs.SetOutput(stderr)
	task := fs.String("task", "ridge", "the work to do: branin, hartmann6 or ridge")
	var x [6]float64
	for i := range x {
		fs.Float64Var(&x[i], fmt.Sprintf("x%d", i+1), 0, fmt.Sprintf("coordinate %d of the point (branin: x1, x2; hartmann6: x1..x6)", i+1))
	}
	rc := RidgeConfig{}
	fs.Float64Var(&rc.LR, "lr", 0.01, "ridge: learning rate")
	fs.Float64Var(&rc.L2, "l2", 1e-4, "ridge: weight decay (the ridge penalty)")
	fs.IntVar(&rc.BatchSize, "batch-size", 32, "ridge: mini-batch size")
	fs.StringVar(&rc.Optimizer, "optimizer", Adam, "ridge: sgd, momentum or adam")
	fs.Float64Var(&rc.Momentum, "momentum", defaultMomentum, "ridge: the momentum optimizer's coefficient, in [0, 1); only --optimizer=momentum takes it")
	fs.IntVar(&rc.Epochs, "epochs", 10, "ridge: passes over the training data")
	fs.IntVar(&rc.Features, "features", 256, "ridge: number of random Fourier features")
	fs.Uint64Var(&rc.Seed, "seed", 1, "ridge: seed of the features and the mini-batch order")
	epochDelay := fs.Duration("epoch-delay", 0, "ridge: wait this long after each epoch, standing in for a slower model (such as 2s)")
	objectives := fs.String("objectives", "", "branin: the objectives to report, each as a metric of its name: branin, currin or both (branin,currin); without it, branin as loss")
	constraint := fs.String("constraint", "", "branin: a constraint metric to report too: disc")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q: give flags as --name=value or --name value", fs.Arg(0))
	}
	allowed, ok := taskFlags[*task]
	if !ok {
		return usagef("--task=%q: use branin, hartmann6 or ridge", *task)
	}
	set := map[string]bool{}
	var wrong []string
	fs.Visit(func(f *flag.Flag) {
		set[f.Name] = true
		if f.Name != "task" && !slices.Contains(allowed, f.Name) {
			wrong = append(wrong, "--"+f.Name)
		}
	})
	if len(wrong) > 0 {
		return usagef("%s: not a flag of --task=%s, which takes --%s", strings.Join(wrong, ", "), *task, strings.Join(allowed, ", --"))
	}

	rep, err := newReporter()
	if err != nil {
		return fmt.Errorf("cannot report to Knobs: %w", err)
	}
	emit := func(step *int64, names []string, values ...float64) error {
		var b strings.Builder
		if step != nil {
			fmt.Fprintf(&b, "epoch=%d ", *step)
		}
		metrics := make(map[string]float64, len(names))
		for i, n := range names {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%s=%s", n, strconv.FormatFloat(values[i], 'g', -1, 64))
			metrics[n] = values[i]
		}
		fmt.Fprintln(stdout, b.String())
		if rep == nil {
			return nil
		}
		if err := rep.Report(ctx, metrics, step); err != nil {
			return fmt.Errorf("%s not recorded: %w", b.String(), err)
		}
		return nil
	}

	switch *task {
	case "branin", "hartmann6":
		var missing []string
		for _, f := range allowed {
			if strings.HasPrefix(f, "x") && !set[f] {
				missing = append(missing, "--"+f)
			}
		}
		if len(missing) > 0 {
			return usagef("--task=%s needs %s", *task, strings.Join(missing, ", "))
		}
		var loss float64
		if *task == "branin" {
			for i := range 2 {
				if err := inRange(allowed[i], x[i], braninDomain[i][0], braninDomain[i][1]); err != nil {
					return usageError{err}
				}
			}
			if set["objectives"] || set["constraint"] {
				names, values, err := braninMetrics(x[0], x[1], *objectives, *constraint)
				if err != nil {
					return usageError{err}
				}
				return emit(nil, names, values...)
			}
			loss = Branin(x[0], x[1])
		} else {
			for i := range x {
				if err := inRange(allowed[i], x[i], 0, 1); err != nil {
					return usageError{err}
				}
			}
			loss = Hartmann6(x)
		}
		return emit(nil, []string{"loss"}, loss)
	default:
		rc.MomentumSet = set["momentum"]
		if err := rc.Check(); err != nil {
			return usageError{err}
		}
		if *epochDelay < 0 {
			return usagef("--epoch-delay=%s: give a duration of 0 or more, such as 2s", *epochDelay)
		}
		return TrainRidge(ctx, rc, func(r EpochResult) error {
			step := int64(r.Epoch)
			if err := emit(&step, []string{"loss", "r2"}, r.Loss, r.R2); err != nil {
				return err
			}
			if *epochDelay > 0 && r.Epoch < rc.Epochs {
				select {
				case <-time.After(*epochDelay):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
	}
}
