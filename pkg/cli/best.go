package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/pareto/observed"
)

// The forms of best's --as.
var bestForms = []string{"flags", "env", "yaml"}

func bestCommand(c *config) *cobra.Command {
	var as, output string
	cmd := onExperiment(c, &cobra.Command{
		Use:   "best NAME",
		Short: "Print the best assignment so far, as flags, environment variables or YAML",
		Long: `Print the best assignment of an Experiment so far (status.currentOptimalTrial):
the parameter values of the best trial that succeeded.

--as flags (the default) prints them as command-line flags (--lr=0.01; a
parameter named as a flag, --lr, keeps its name),
--as env as environment variables (LR=0.01), --as yaml as a YAML mapping;
values are quoted for a POSIX shell where they need it. -o json or -o yaml
prints the whole best trial instead: its name, assignment and metrics.

For a multi-objective Experiment (additionalObjectives) there is no one
best trial: best prints the Pareto-optimal trials
(status.paretoOptimalTrials), the feasible trials no other beats in every
objective at once, as a table of each one's objectives and parameters;
-o json or -o yaml prints them with their count. --as prints the assignment
of the best feasible trial by the objective metric.`,
		Example: example(c,
			"best tpe-branin",
			"# train once more with the best values",
			"python train.py $(%s best tpe-branin)",
			"best tpe-branin --as env > best.env",
			"best tpe-branin -o yaml",
			"# the Pareto front of a multi-objective Experiment",
			"best nsga2-mlp"),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("as") && output != "" {
				return fmt.Errorf("--as and -o do not go together: --as prints the assignment, -o the whole best trial")
			}
			switch output {
			case "", outputJSON, outputYAML:
			default:
				return fmt.Errorf("unknown output format %q for best: use -o json or yaml, or --as %s", output, strings.Join(bestForms, ", "))
			}
			return nil
		},
	}, func(cmd *cobra.Command, cl *Clients, name string) error {
		e, err := cl.Knobs.TuningV1alpha1().Experiments(cl.Namespace).Get(cmd.Context(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if e.Spec.Objective.MultiObjective() && !cmd.Flags().Changed("as") {
			return printFront(c, output, e)
		}
		b := e.Status.CurrentOptimalTrial
		if b == nil {
			return fmt.Errorf("experiment %s has no best trial yet: none of its %d trials has succeeded with its objective metric %s",
				e.Name, e.Status.Trials, e.Spec.Objective.ObjectiveMetricName)
		}
		if output != "" {
			return writeAs(c.Out, output, b)
		}
		return printAssignment(c.Out, as, b.ParameterAssignments)
	})
	cmd.Flags().StringVar(&as, "as", "flags", "how to print the assignment: "+strings.Join(bestForms, ", "))
	_ = cmd.RegisterFlagCompletionFunc("as", cobra.FixedCompletions(bestForms, cobra.ShellCompDirectiveNoFileComp))
	cmd.Flags().StringVarP(&output, "output", "o", "", "print the whole best trial: json or yaml")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]cobra.Completion{outputJSON, outputYAML}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// front is how best prints a multi-objective Experiment's Pareto-optimal
// trials as JSON or YAML: as its status has them.
type front struct {
	ParetoOptimalTrialCount int32                   `json:"paretoOptimalTrialCount"`
	ParetoOptimalTrials     []v1alpha1.OptimalTrial `json:"paretoOptimalTrials"`
}

// printFront prints the Pareto-optimal trials of a multi-objective
// Experiment: a table of their names, objectives and parameters, or JSON or
// YAML.
func printFront(c *config, output string, e *v1alpha1.Experiment) error {
	st := &e.Status
	o := &e.Spec.Objective
	var names []string
	for _, a := range observed.Objectives(o) {
		names = append(names, a.Name)
	}
	if len(st.ParetoOptimalTrials) == 0 {
		keeping := ""
		if len(o.Constraints) > 0 {
			keeping = " kept its constraints and"
		}
		return fmt.Errorf("experiment %s has no Pareto-optimal trial yet: none of its %d trials has succeeded,%s reported every objective (%s)",
			e.Name, st.Trials, keeping, strings.Join(names, ", "))
	}
	if output != "" {
		return writeAs(c.Out, output, front{ParetoOptimalTrialCount: max(st.ParetoOptimalTrialCount, int32(len(st.ParetoOptimalTrials))), ParetoOptimalTrials: st.ParetoOptimalTrials})
	}
	if n := int(st.ParetoOptimalTrialCount); n > len(st.ParetoOptimalTrials) {
		fmt.Fprintf(c.ErrOut, "%d of the %d Pareto-optimal trials, spread along the front; %s trials %s lists every trial.\n", len(st.ParetoOptimalTrials), n, c.name, e.Name)
	}
	header := []string{"NAME"}
	for _, n := range names {
		header = append(header, strings.ToUpper(n))
	}
	t := newTable(c.Out, append(header, parameterHeader(e)...)...)
	for _, b := range st.ParetoOptimalTrials {
		row := []string{b.BestTrialName}
		for _, n := range names {
			row = append(row, metricCell(b.Observation, n))
		}
		t.row(append(row, parameterCells(e, b.ParameterAssignments)...)...)
	}
	return t.flush()
}

// printAssignment writes an assignment in one of bestForms.
func printAssignment(w io.Writer, as string, pas []v1alpha1.ParameterAssignment) error {
	var b strings.Builder
	switch as {
	case "flags":
		for i, a := range pas {
			if i > 0 {
				b.WriteByte(' ')
			}
			flag := a.Name
			if !strings.HasPrefix(flag, "-") {
				flag = "--" + flag
			}
			b.WriteString(shellQuote(flag + "=" + a.Value))
		}
		b.WriteByte('\n')
	case "env":
		for _, a := range pas {
			b.WriteString(envName(a.Name) + "=" + shellQuote(a.Value) + "\n")
		}
	case "yaml":
		for _, a := range pas {
			b.WriteString(yamlKey(a.Name) + ": " + jsonString(a.Value) + "\n")
		}
	default:
		return fmt.Errorf("unknown form %q for --as: use %s", as, strings.Join(bestForms, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote quotes s for a POSIX shell, unless it needs no quotes.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// envName is a parameter's name as an environment variable: without the
// dashes of a name that is a flag (--lr), upper case, every character other
// than a letter, digit or underscore an underscore, and an underscore first
// when it would start with a digit.
func envName(name string) string {
	b := []byte(strings.ToUpper(strings.TrimLeft(name, "-")))
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] >= '0' && b[0] <= '9' {
		b = append([]byte{'_'}, b...)
	}
	return string(b)
}

var yamlPlain = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// yamlKey is a key as YAML reads it back: plain when it can be, quoted
// otherwise. Values are always quoted, so that "1e-3" stays a string.
func yamlKey(s string) string {
	switch strings.ToLower(s) {
	case "y", "yes", "n", "no", "true", "false", "on", "off", "null":
		return jsonString(s)
	}
	if yamlPlain.MatchString(s) {
		return s
	}
	return jsonString(s)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
