package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

func getCommand(c *config) *cobra.Command {
	var output string
	var all bool
	cmd := &cobra.Command{
		Use:   "get [NAME]",
		Short: "List Experiments with their progress and best value so far",
		Example: example(c,
			"get",
			"get -A",
			"get tpe-branin -o yaml"),
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeExperiments(c),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(&output); err != nil {
				return err
			}
			cl, err := c.clients()
			if err != nil {
				return err
			}
			ns := cl.Namespace
			if all {
				if len(args) == 1 {
					return fmt.Errorf("a name and --all-namespaces do not go together: name the namespace with -n")
				}
				ns = metav1.NamespaceAll
			}
			var items []v1alpha1.Experiment
			if len(args) == 1 {
				e, err := cl.Knobs.TuningV1alpha1().Experiments(ns).Get(cmd.Context(), args[0], metav1.GetOptions{})
				if err != nil {
					return err
				}
				items = []v1alpha1.Experiment{*e}
			} else {
				list, err := cl.Knobs.TuningV1alpha1().Experiments(ns).List(cmd.Context(), metav1.ListOptions{})
				if err != nil {
					return err
				}
				items = list.Items
			}
			if len(items) == 0 && (output == outputTable || output == outputWide) {
				if all {
					fmt.Fprintln(c.ErrOut, "No Experiments found.")
				} else {
					fmt.Fprintf(c.ErrOut, "No Experiments found in namespace %s.\n", ns)
				}
				return nil
			}
			return printExperiments(c, output, items, all, len(args) == 1, time.Now())
		},
	}
	outputFlag(cmd, &output)
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "list the Experiments of every namespace")
	return cmd
}

func printExperiments(c *config, output string, items []v1alpha1.Experiment, withNamespace, single bool, now time.Time) error {
	if printed, err := printResources(c.Out, output, "Experiment", items, single); printed {
		return err
	}
	header := []string{"NAME", "ALGORITHM", "PROGRESS", "RUNNING", "FAILED", "BEST", "STATUS", "REASON", "AGE"}
	if output == outputWide {
		header = append(header, "BEST-TRIAL", "ASSIGNMENT", "FRONT", "INFEASIBLE", "MESSAGE")
	}
	if withNamespace {
		header = append([]string{"NAMESPACE"}, header...)
	}
	t := newTable(c.Out, header...)
	for i := range items {
		e := &items[i]
		st, reason := state(e)
		row := []string{e.Name, e.Spec.Algorithm.AlgorithmName, progress(e),
			fmt.Sprint(e.Status.TrialsRunning + e.Status.TrialsPending), fmt.Sprint(failures(&e.Status)),
			orNone(bestValue(e)), st, orNone(reason), age(e.CreationTimestamp, now)}
		if output == outputWide {
			var trial, assignment, message string
			if b := e.Status.CurrentOptimalTrial; b != nil {
				trial, assignment = b.BestTrialName, assignments(b.ParameterAssignments)
			}
			if cond := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); cond != nil {
				message = cond.Message
			}
			// The size of the Pareto front with additional objectives, the
			// trials that broke a constraint with constraints.
			var front, infeasible string
			if e.Spec.Objective.MultiObjective() {
				front = fmt.Sprint(e.Status.ParetoOptimalTrialCount)
			}
			if len(e.Spec.Objective.Constraints) > 0 {
				infeasible = fmt.Sprint(e.Status.TrialsInfeasible)
			}
			row = append(row, orNone(trial), orNone(assignment), orNone(front), orNone(infeasible), orNone(message))
		}
		if withNamespace {
			row = append([]string{e.Namespace}, row...)
		}
		t.row(row...)
	}
	return t.flush()
}
