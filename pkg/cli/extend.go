package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	knobsclientset "knobs.dev/knobs/pkg/client/clientset/versioned"
)

func extendCommand(c *config) *cobra.Command {
	var maxTrials int32
	cmd := onExperiment(c, &cobra.Command{
		Use:   "extend NAME --max-trials N",
		Short: "Raise an Experiment's maxTrialCount, resuming it if it ended with MaxTrialsReached",
		Long: `Raise an Experiment's spec.maxTrialCount to N. An Experiment that runs goes
on to N trials; one that ended with MaxTrialsReached resumes, its algorithm
going on from where it left off (unless its resumePolicy is Never). N must be
more than the current maxTrialCount.

An Experiment that ended otherwise (goal reached, search space exhausted,
too many failures) does not resume, and extend refuses it.`,
		Example: example(c,
			"extend tpe-branin --max-trials 50"),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("max-trials") {
				return fmt.Errorf("say how many trials the Experiment may run in all with --max-trials N")
			}
			return nil
		},
	}, func(cmd *cobra.Command, cl *Clients, name string) error {
		from, err := extend(cmd.Context(), cl.Knobs, cl.Namespace, name, maxTrials)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Out, "experiment %s extended: maxTrialCount %d -> %d\n", name, from, maxTrials)
		return nil
	})
	cmd.Flags().Int32Var(&maxTrials, "max-trials", 0, "the new maxTrialCount: how many trials the Experiment may run in all")
	return cmd
}

// extend raises maxTrialCount to n and returns what it was.
func extend(ctx context.Context, knobs knobsclientset.Interface, ns, name string, n int32) (int32, error) {
	var from int32
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		e, err := knobs.TuningV1alpha1().Experiments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		from = maxTrials(e)
		if n <= from {
			return fmt.Errorf("experiment %s already has maxTrialCount %d: --max-trials must be more than that", name, from)
		}
		if c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); e.Status.IsDone() {
			switch {
			case c.Reason != v1alpha1.ExperimentReasonMaxTrialsReached:
				return fmt.Errorf("experiment %s has ended (%s: %s) and does not resume: only an Experiment that ended with %s resumes when maxTrialCount is raised; create a new Experiment",
					name, c.Reason, c.Message, v1alpha1.ExperimentReasonMaxTrialsReached)
			case e.Spec.ResumePolicy == v1alpha1.NeverResume:
				return fmt.Errorf("experiment %s has ended and its resumePolicy is %s, so raising maxTrialCount would not resume it: set spec.resumePolicy to %s first, or create a new Experiment",
					name, v1alpha1.NeverResume, v1alpha1.LongRunning)
			}
		}
		return setMaxTrials(ctx, knobs, e, n)
	})
	return from, err
}

// setMaxTrials sets an Experiment's maxTrialCount with a merge patch that
// holds only if the Experiment is still as read (its resource version), so
// that a decision taken on a stale read conflicts and is taken again. A
// patch, not an update, leaves every other field as the server has it.
func setMaxTrials(ctx context.Context, knobs knobsclientset.Interface, e *v1alpha1.Experiment, n int32) error {
	patch := fmt.Sprintf(`{"metadata":{"resourceVersion":%q},"spec":{"maxTrialCount":%d}}`, e.ResourceVersion, n)
	_, err := knobs.TuningV1alpha1().Experiments(e.Namespace).Patch(ctx, e.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	return err
}
