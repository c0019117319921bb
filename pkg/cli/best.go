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
prints the whole best trial instead: its name, assignment and metrics.`,
		Example: example(c,
			"best tpe-branin",
			"# train once more with the best values",
			"python train.py $(%s best tpe-branin)",
			"best tpe-branin --as env > best.env",
			"best tpe-branin -o yaml"),
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
