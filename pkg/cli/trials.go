package cli

import (
	"fmt"
	"slices"
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
	"knobs.dev/knobs/pkg/pareto/observed"
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
maximises; trials without the metric last. --sort METRIC does the same by
another objective of a multi-objective Experiment, in its own direction.
--sort name sorts by name.

With additional objectives, each has a column; with constraints, each
constraint metric has one, and FEASIBLE says whether a trial that ended
kept them all.`,
		Example: example(c,
			"trials tpe-branin",
			"trials tpe-branin --sort",
			"trials tpe-branin -o json",
			"# a multi-objective Experiment, the fastest first",
			"trials nsga2-mlp --sort=latency"),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			return checkOutput(&output)
		},
	}, func(cmd *cobra.Command, cl *Clients, name string) error {
		e, err := cl.Knobs.TuningV1alpha1().Experiments(cl.Namespace).Get(cmd.Context(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if _, _, ok := sortMetric(e, by); !ok && by != sortNumber && by != sortName {
			objectives := []string{}
			for _, a := range observed.Objectives(&e.Spec.Objective) {
				objectives = append(objectives, a.Name)
			}
			return fmt.Errorf("unknown order %q for --sort: use %s, %s, %s or an objective's metric (%s)", by, sortNumber, sortObjective, sortName, strings.Join(objectives, ", "))
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
	cmd.Flags().StringVar(&by, "sort", sortNumber, "order: number (as created), objective (best first), an objective's metric (best first) or name")
	cmd.Flags().Lookup("sort").NoOptDefVal = sortObjective
	_ = cmd.RegisterFlagCompletionFunc("sort", completeSort(c))
	return cmd
}

// completeSort completes --sort: number, objective, name, and the
// objectives' metrics of the Experiment named, when it can be read.
func completeSort(c *config) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		orders := []cobra.Completion{sortNumber, sortObjective, sortName}
		if len(args) != 1 {
			return orders, cobra.ShellCompDirectiveNoFileComp
		}
		cl, err := c.clients()
		if err != nil {
			return orders, cobra.ShellCompDirectiveNoFileComp
		}
		e, err := cl.Knobs.TuningV1alpha1().Experiments(cl.Namespace).Get(cmd.Context(), args[0], metav1.GetOptions{})
		if err != nil {
			return orders, cobra.ShellCompDirectiveNoFileComp
		}
		for _, a := range observed.Objectives(&e.Spec.Objective) {
			orders = append(orders, a.Name)
		}
		return orders, cobra.ShellCompDirectiveNoFileComp
	}
}

// sortMetric is the objective --sort orders by, if it names one: objective
// (the objective metric) or an objective's metric.
func sortMetric(e *v1alpha1.Experiment, by string) (string, bool, bool) {
	if by == sortObjective {
		by = e.Spec.Objective.ObjectiveMetricName
	}
	for _, a := range observed.Objectives(&e.Spec.Objective) {
		if a.Name == by {
			return a.Name, a.Maximize, true
		}
	}
	return "", false, false
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
// creation, then name), by objective or an objective's metric (best first,
// those without it last) or by name.
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
	metric, maximize, byMetric := sortMetric(e, by)
	sort.SliceStable(trials, func(i, j int) bool {
		a, b := &trials[i], &trials[j]
		switch {
		case by == sortName:
			return a.Name < b.Name
		case byMetric:
			va, oka := a.Status.Observation.Value(metric)
			vb, okb := b.Status.Observation.Value(metric)
			switch {
			case oka != okb:
				return oka
			case oka && va != vb && maximize:
				return va > vb
			case oka && va != vb:
				return va < vb
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
	o := &e.Spec.Objective
	var metrics []string
	for _, a := range observed.Objectives(o) {
		metrics = append(metrics, a.Name)
	}
	for _, c := range o.Constraints {
		metrics = append(metrics, c.Name)
	}
	if output == outputWide {
		for _, m := range o.AdditionalMetricNames {
			if !slices.Contains(metrics, m) {
				metrics = append(metrics, m)
			}
		}
	}
	header := []string{"NAME", "STATE"}
	for _, m := range metrics {
		header = append(header, strings.ToUpper(m))
	}
	constrained := len(o.Constraints) > 0
	if constrained {
		header = append(header, "FEASIBLE")
	}
	header = append(header, parameterHeader(e)...)
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
			row = append(row, metricCell(t.Status.Observation, m))
		}
		if constrained {
			row = append(row, feasibility(o, t))
		}
		row = append(row, parameterCells(e, t.Spec.ParameterAssignments)...)
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

// feasibility says whether a trial that ended with its metrics (Succeeded
// or EarlyStopped) kept the constraints: yes, no, or <none> for another.
func feasibility(o *v1alpha1.ObjectiveSpec, t *v1alpha1.Trial) string {
	switch t.Status.Phase() {
	case v1alpha1.TrialReasonSucceeded, v1alpha1.TrialReasonEarlyStopped:
		if observed.Feasible(o, t.Status.Observation) {
			return "yes"
		}
		return "no"
	}
	return "<none>"
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
