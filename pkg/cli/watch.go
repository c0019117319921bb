package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	knobsclientset "knobs.dev/knobs/pkg/client/clientset/versioned"
)

func watchCommand(c *config) *cobra.Command {
	var timeout time.Duration
	cmd := onExperiment(c, &cobra.Command{
		Use:   "watch NAME",
		Short: "Show an Experiment's progress and best value so far until it ends",
		Long: `Show an Experiment's progress (a bar of the trials that have ended out of
maxTrialCount, the trials running and failed) and its best value so far,
until it ends. On a terminal the lines are redrawn in place; otherwise a
line is printed each time they change.

It exits 0 when the Experiment succeeds, and 1 when it fails or is deleted.`,
		Example: example(c,
			"watch tpe-branin",
			"watch tpe-branin --timeout 30m"),
	}, func(cmd *cobra.Command, cl *Clients, name string) error {
		ctx, cancel := watchtools.ContextWithOptionalTimeout(cmd.Context(), timeout)
		defer cancel()
		d := &drawer{w: c.Out, terminal: c.Terminal, width: c.Width}
		e, err := untilExperiment(ctx, cl.Knobs, cl.Namespace, name, func(e *v1alpha1.Experiment) (bool, error) {
			d.draw(render(e))
			return ended(e), nil
		})
		d.done()
		if err != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("experiment %s has not ended within %s", name, timeout)
			}
			return err
		}
		st, reason := state(e)
		msg := ""
		if cond := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); cond != nil {
			msg = cond.Message
		}
		if st == "Failed" {
			return fmt.Errorf("experiment %s failed: %s: %s", e.Name, reason, msg)
		}
		fmt.Fprintf(c.Out, "experiment %s succeeded: %s: %s\n", e.Name, reason, msg)
		return nil
	})
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "give up after this long (0: wait until the Experiment ends)")
	return cmd
}

// render is what watch shows of an Experiment: its progress, then its
// best so far, then, with additional objectives or constraints, the size of
// its Pareto front and how many trials broke a constraint.
func render(e *v1alpha1.Experiment) []string {
	st, reason := state(e)
	if reason != "" {
		st += " (" + reason + ")"
	}
	lines := []string{fmt.Sprintf("%s  %s  running %d  failed %d  %s", e.Name, progress(e),
		e.Status.TrialsRunning+e.Status.TrialsPending, failures(&e.Status), st)}
	o := &e.Spec.Objective
	best := "best"
	if o.MultiObjective() || len(o.Constraints) > 0 {
		best = "best feasible"
	}
	if b := e.Status.CurrentOptimalTrial; b != nil && bestValue(e) != "" {
		lines = append(lines, fmt.Sprintf("%s %s (%s)  %s", best, bestValue(e), b.BestTrialName, assignments(b.ParameterAssignments)))
	} else {
		lines = append(lines, best+": no trial has succeeded yet")
	}
	// The front's size and the infeasible trials, where there are such.
	var more []string
	if o.MultiObjective() {
		more = append(more, fmt.Sprintf("Pareto front %d", e.Status.ParetoOptimalTrialCount))
	}
	if len(o.Constraints) > 0 {
		more = append(more, fmt.Sprintf("infeasible %d", e.Status.TrialsInfeasible))
	}
	if len(more) > 0 {
		lines = append(lines, strings.Join(more, "  "))
	}
	return lines
}

// drawer shows lines that change: on a terminal it redraws them in place,
// otherwise it prints them, joined, each time they change.
type drawer struct {
	w        io.Writer
	terminal bool
	width    int
	drawn    int // lines on the screen
	last     string
}

func (d *drawer) draw(lines []string) {
	joined := strings.Join(lines, "\n")
	if joined == d.last {
		return
	}
	d.last = joined
	if !d.terminal {
		fmt.Fprintln(d.w, strings.Join(lines, "; "))
		return
	}
	var b strings.Builder
	if d.drawn > 1 {
		fmt.Fprintf(&b, "\x1b[%dA", d.drawn-1) // up to the first line drawn
	}
	for i, l := range lines {
		if d.width > 1 && len(l) >= d.width {
			l = l[:d.width-1] // a wrapped line would break the redraw
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("\r\x1b[2K" + l)
	}
	d.drawn = len(lines)
	io.WriteString(d.w, b.String())
}

// done ends what was drawn with a newline.
func (d *drawer) done() {
	if d.terminal && d.drawn > 0 {
		io.WriteString(d.w, "\n")
		d.drawn = 0
	}
}

// untilExperiment watches an Experiment (a list, then a watch, from which
// it recovers as an informer does) until cond holds, and returns it then.
// An Experiment that does not exist or is deleted is an error.
func untilExperiment(ctx context.Context, knobs knobsclientset.Interface, ns, name string, cond func(*v1alpha1.Experiment) (bool, error)) (*v1alpha1.Experiment, error) {
	client := knobs.TuningV1alpha1().Experiments(ns)
	// A read first: an informer would retry an Experiment or a resource
	// that is not there until the timeout.
	if _, err := client.Get(ctx, name, metav1.GetOptions{}); err != nil {
		return nil, err
	}
	selector := fields.OneTermEqualSelector("metadata.name", name).String()
	lw := cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = selector
			return client.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = selector
			return client.Watch(ctx, o)
		},
	}, knobs)
	var last *v1alpha1.Experiment
	exists := func(store cache.Store) (bool, error) {
		_, ok, err := store.GetByKey(ns + "/" + name)
		if err == nil && !ok {
			err = apierrs.NewNotFound(v1alpha1.Resource("experiments"), name)
		}
		return false, err
	}
	_, err := watchtools.UntilWithSync(ctx, lw, &v1alpha1.Experiment{}, exists, func(ev watch.Event) (bool, error) {
		e, ok := ev.Object.(*v1alpha1.Experiment)
		if !ok || e.Name != name {
			return false, nil
		}
		if ev.Type == watch.Deleted {
			return false, fmt.Errorf("experiment %s was deleted", name)
		}
		last = e
		return cond(e)
	})
	return last, err
}
