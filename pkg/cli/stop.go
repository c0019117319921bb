package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	watchtools "k8s.io/client-go/tools/watch"
	"k8s.io/client-go/util/retry"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	knobsclientset "knobs.dev/knobs/pkg/client/clientset/versioned"
)

func stopCommand(c *config) *cobra.Command {
	var wait bool
	var timeout time.Duration
	cmd := onExperiment(c, &cobra.Command{
		Use:   "stop NAME",
		Short: "End an Experiment now: no new trials, its running trials stopped",
		Long: `End an Experiment by hand, as if it had run all its trials.

The Experiment API has no field that stops an Experiment, so stop uses what
the controller already honours: it lowers spec.maxTrialCount to the number
of assignments the Experiment's Suggestion has handed out (at least 1), so
that no new trial is asked for, and, unless the Experiment's trialsOnEnd is
Finish, it sets spec.stop on each of the Experiment's trials that has not
ended, which the controller stops (a retained Job is suspended, another
workload deleted) and ends Killed. The Experiment then ends Succeeded with
reason MaxTrialsReached, its best trial kept; with trialsOnEnd: Finish it
ends once its running trials have finished.

Because it ends with MaxTrialsReached, the stopped Experiment can be resumed
later by raising maxTrialCount again ("extend"), unless its resumePolicy is
Never.

With --wait (the default) it watches the Experiment until it has ended,
stopping the trials of assignments that were still on their way; with
--wait=false it returns once the changes are written.`,
		Example: example(c,
			"stop tpe-branin",
			"stop tpe-branin --wait=false"),
	}, func(cmd *cobra.Command, cl *Clients, name string) error {
		e, err := cl.Knobs.TuningV1alpha1().Experiments(cl.Namespace).Get(cmd.Context(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if e.Status.IsDone() {
			_, reason := state(e)
			fmt.Fprintf(c.Out, "experiment %s has already ended (%s)\n", name, reason)
			return nil
		}
		from, to, err := lowerMaxTrials(cmd.Context(), cl.Knobs, cl.Namespace, name)
		if err != nil {
			return err
		}
		if to < from {
			fmt.Fprintf(c.Out, "experiment %s: maxTrialCount %d -> %d, the assignments handed out\n", name, from, to)
		}
		finish := e.Spec.TrialsOnEnd == v1alpha1.TrialsOnEndFinish
		stopped := 0
		stop := func(ctx context.Context, e *v1alpha1.Experiment) error {
			if finish {
				return nil
			}
			n, err := stopTrials(ctx, cl.Knobs, e)
			stopped += n
			return err
		}
		if err := stop(cmd.Context(), e); err != nil {
			return err
		}
		if !wait {
			fmt.Fprintf(c.Out, "experiment %s stopping: %d trials stopped\n", name, stopped)
			return nil
		}
		ctx, cancel := watchtools.ContextWithOptionalTimeout(cmd.Context(), timeout)
		defer cancel()
		e, err = untilExperiment(ctx, cl.Knobs, cl.Namespace, name, func(e *v1alpha1.Experiment) (bool, error) {
			if ended(e) {
				return true, nil
			}
			// Assignments on their way when maxTrialCount was lowered
			// still become trials: they are stopped too.
			return false, stop(ctx, e)
		})
		if err != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("experiment %s has not ended within %s (%d trials stopped so far): see %s get %s -o wide", name, timeout, stopped, c.name, name)
			}
			return err
		}
		_, reason := state(e)
		fmt.Fprintf(c.Out, "experiment %s stopped: %s, %d trials stopped, best %s\n", name, reason, stopped, orNone(bestValue(e)))
		return nil
	})
	cmd.Flags().BoolVar(&wait, "wait", true, "wait until the Experiment has ended")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "with --wait, give up after this long (0: no limit)")
	return cmd
}

// lowerMaxTrials lowers an Experiment's maxTrialCount to the assignments
// its Suggestion has handed out (at least 1, the least the API accepts),
// and returns it before and after. It never raises it.
func lowerMaxTrials(ctx context.Context, knobs knobsclientset.Interface, ns, name string) (int32, int32, error) {
	var from, to int32
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		e, err := knobs.TuningV1alpha1().Experiments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		handed := int32(0)
		s, err := knobs.TuningV1alpha1().Suggestions(ns).Get(ctx, name, metav1.GetOptions{})
		switch {
		case err == nil:
			handed = s.Status.SuggestionCount
		case !apierrs.IsNotFound(err):
			return err
		}
		from = maxTrials(e)
		to = min(from, max(1, handed))
		if to == from {
			return nil
		}
		return setMaxTrials(ctx, knobs, e, to)
	})
	return from, to, err
}

// stopTrials sets spec.stop on each Trial the Experiment controls that has
// neither ended nor been stopped, and returns how many it stopped.
func stopTrials(ctx context.Context, knobs knobsclientset.Interface, e *v1alpha1.Experiment) (int, error) {
	list, err := knobs.TuningV1alpha1().Trials(e.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(labels.Set{tuning.ExperimentLabelKey: e.Name}).String()})
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range list.Items {
		t := &list.Items[i]
		if !metav1.IsControlledBy(t, e) || t.Status.IsDone() || t.Spec.Stop {
			continue
		}
		_, err := knobs.TuningV1alpha1().Trials(t.Namespace).Patch(ctx, t.Name, types.MergePatchType, []byte(`{"spec":{"stop":true}}`), metav1.PatchOptions{})
		switch {
		case apierrs.IsNotFound(err):
			continue
		case err != nil:
			return n, fmt.Errorf("stopping trial %s: %w", t.Name, err)
		}
		n++
	}
	return n, nil
}
