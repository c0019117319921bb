package cli

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/duration"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

// The orders of trials' --sort.
const (
	sortNumber    = "number"
	sortObjective = "objective"
	sortName      = "name"
)

func trialsCommand(c *config) *cobra.Command {
	var output, by string
	cmd := onExperiment(c, &cobra.Command{
		Use:   "trials NAME",
		Short: "List an Experiment's trials: state, objective, parameters",
		Long: `List the trials of an Experiment (those labelled tuning.knobs.dev/experiment: NAME)
with their state, objective metric value, parameter values and duration.

They are listed in the order they were created (--sort number, the default).
--sort alone (or --sort objective) lists the best first: by the objective
metric, smallest first when the Experiment minimises, largest first when it
maximises; trials without the metric last. --sort name sorts by name.`,
		Example: example(c,
			"trials tpe-branin",
			"trials tpe-branin --sort",
			"trials tpe-branin -o json"),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(&output); err != nil {
				return err
			}
			switch by {
			case sortNumber, sortObjective, sortName:
			default:
				return fmt.Errorf("unknown order %q for --sort: use %s, %s or %s", by, sortNumber, sortObjective, sortName)
			}
			return nil
		},
	}, func(cmd *cobra.Command, cl *Clients, name string) error {
		e, err := cl.Knobs.TuningV1alpha1().Experiments(cl.Namespace).Get(cmd.Context(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		list, err := cl.Knobs.TuningV1alpha1().Trials(cl.Namespace).List(cmd.Context(), metav1.ListOptions{
			LabelSelector: labels.SelectorFromSet(labels.Set{tuning.ExperimentLabelKey: e.Name}).String()})
		if err != nil {
			return err
		}
		trials := list.Items
		sortTrials(trials, e, by)
		return printTrials(c, output, e, trials, time.Now())
	})
	outputFlag(cmd, &output)
	cmd.Flags().StringVar(&by, "sort", sortNumber, "order: number (as created), objective (best first) or name")
	cmd.Flags().Lookup("sort").NoOptDefVal = sortObjective
	_ = cmd.RegisterFlagCompletionFunc("sort", cobra.FixedCompletions([]cobra.Completion{sortNumber, sortObjective, sortName}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// objective is a trial's objective value, and whether it has one.
func objective(t *v1alpha1.Trial, metric string) (float64, bool) {
	m := t.Status.Observation.Metric(metric)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m.Value, 64)
	return v, err == nil
}

// number is the N of a trial named <experiment>-N; -1 for another name.
func number(t *v1alpha1.Trial, experiment string) int {
	rest, ok := strings.CutPrefix(t.Name, experiment+"-")
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(rest)
	if err != nil {
		return -1
	}
	return n
}

// sortTrials orders trials by number (<experiment>-N, as created; others by
// creation, then name), by objective (best first, those without it last)
// or by name.
func sortTrials(trials []v1alpha1.Trial, e *v1alpha1.Experiment, by string) {
	byNumber := func(a, b *v1alpha1.Trial) bool {
		na, nb := number(a, e.Name), number(b, e.Name)
		switch {
		case na != nb && na >= 0 && nb >= 0:
			return na < nb
		case (na >= 0) != (nb >= 0):
			return na < 0 // trials by hand (history) first
		case !a.CreationTimestamp.Equal(&b.CreationTimestamp):
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	}
	sort.SliceStable(trials, func(i, j int) bool {
		a, b := &trials[i], &trials[j]
		switch by {
		case sortName:
			return a.Name < b.Name
		case sortObjective:
			va, oka := objective(a, e.Spec.Objective.ObjectiveMetricName)
			vb, okb := objective(b, e.Spec.Objective.ObjectiveMetricName)
			switch {
			case oka != okb:
				return oka
			case oka && va != vb:
				return e.Spec.Objective.Better(va, vb)
			}
		}
		return byNumber(a, b)
	})
}

func printTrials(c *config, output string, e *v1alpha1.Experiment, trials []v1alpha1.Trial, now time.Time) error {
	if printed, err := printResources(c.Out, output, "Trial", trials, false); printed {
		return err
	}
	if len(trials) == 0 {
		fmt.Fprintf(c.ErrOut, "Experiment %s has no trials yet.\n", e.Name)
		return nil
	}
	metrics := []string{e.Spec.Objective.ObjectiveMetricName}
	if output == outputWide {
		metrics = e.Spec.Objective.MetricNames()
	}
	header := []string{"NAME", "STATE"}
	for _, m := range metrics {
		header = append(header, strings.ToUpper(m))
	}
	for _, p := range e.Spec.Parameters {
		header = append(header, strings.ToUpper(p.Name))
	}
	header = append(header, "DURATION", "AGE")
	if output == outputWide {
		header = append(header, "MESSAGE")
	}
	best := ""
	if b := e.Status.CurrentOptimalTrial; b != nil {
		best = b.BestTrialName
	}
	tb := newTable(c.Out, header...)
	for i := range trials {
		t := &trials[i]
		name := t.Name
		if name == best {
			name += " *"
		}
		row := []string{name, t.Status.Phase()}
		for _, m := range metrics {
			v := "<none>"
			if mt := t.Status.Observation.Metric(m); mt != nil {
				v = mt.Value
			}
			row = append(row, v)
		}
		values := map[string]string{}
		for _, a := range t.Spec.ParameterAssignments {
			values[a.Name] = a.Value
		}
		for _, p := range e.Spec.Parameters {
			row = append(row, orNone(values[p.Name]))
		}
		row = append(row, trialDuration(t, now), age(t.CreationTimestamp, now))
		if output == outputWide {
			msg := ""
			if cond := t.Status.GetCondition(v1alpha1.TrialConditionSucceeded); cond != nil {
				msg = cond.Message
			}
			row = append(row, orNone(msg))
		}
		tb.row(row...)
	}
	return tb.flush()
}

// trialDuration is how long a trial ran: from its start to its end, or to
// now while it runs.
func trialDuration(t *v1alpha1.Trial, now time.Time) string {
	if t.Status.StartTime == nil {
		return "<none>"
	}
	end := now
	if t.Status.CompletionTime != nil {
		end = t.Status.CompletionTime.Time
	}
	return duration.HumanDuration(end.Sub(t.Status.StartTime.Time))
}
