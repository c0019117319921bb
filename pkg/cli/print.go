package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/yaml"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

// The output formats of -o, as kubectl names them.
const (
	outputTable = ""
	outputWide  = "wide"
	outputJSON  = "json"
	outputYAML  = "yaml"
	outputName  = "name"
)

// outputFlag adds -o to a command that prints resources.
func outputFlag(cmd *cobra.Command, output *string) {
	cmd.Flags().StringVarP(output, "output", "o", "", "output format: table (the default), wide, json, yaml or name")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]cobra.Completion{"table", "wide", "json", "yaml", "name"}, cobra.ShellCompDirectiveNoFileComp))
}

// checkOutput refuses an output format that is not one of -o's.
func checkOutput(output *string) error {
	switch *output {
	case "table":
		*output = outputTable
	case outputTable, outputWide, outputJSON, outputYAML, outputName:
	default:
		return fmt.Errorf("unknown output format %q: use -o table, wide, json, yaml or name", *output)
	}
	return nil
}

// printObjects writes objects as JSON or YAML: one object alone, several
// (or none) as a v1 List, as kubectl does.
func printObjects(w io.Writer, output string, objs []runtime.Object, single bool) error {
	if single && len(objs) == 1 {
		return writeAs(w, output, objs[0])
	}
	return writeAs(w, output, struct {
		APIVersion string           `json:"apiVersion"`
		Kind       string           `json:"kind"`
		Items      []runtime.Object `json:"items"`
		Metadata   metav1.ListMeta  `json:"metadata"`
	}{"v1", "List", append([]runtime.Object{}, objs...), metav1.ListMeta{}})
}

// writeAs writes v as indented JSON or as YAML.
func writeAs(w io.Writer, output string, v any) error {
	var data []byte
	var err error
	if output == outputJSON {
		data, err = json.MarshalIndent(v, "", "    ")
		data = append(data, '\n')
	} else {
		data, err = yaml.Marshal(v)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// printResources prints items, Experiments or Trials of the given kind,
// for -o json, yaml or name, and reports true; for a table it prints
// nothing and reports false, and the caller draws the table. single prints
// one item alone rather than as a List.
func printResources[T any, P interface {
	*T
	runtime.Object
	GetName() string
}](w io.Writer, output, kind string, items []T, single bool) (bool, error) {
	switch output {
	case outputJSON, outputYAML:
		objs := make([]runtime.Object, len(items))
		for i := range items {
			o := P(&items[i])
			// A typed client leaves apiVersion and kind empty.
			o.GetObjectKind().SetGroupVersionKind(v1alpha1.SchemeGroupVersion.WithKind(kind))
			objs[i] = o
		}
		return true, printObjects(w, output, objs, single)
	case outputName:
		for i := range items {
			fmt.Fprintln(w, resourceName(kind, P(&items[i]).GetName()))
		}
		return true, nil
	}
	return false, nil
}

// resourceName is kubectl's -o name form: experiment.tuning.knobs.dev/NAME.
func resourceName(kind, name string) string {
	return strings.ToLower(kind) + "." + tuning.GroupName + "/" + name
}

// table writes rows in aligned columns, as kubectl's tables.
type table struct {
	tw *tabwriter.Writer
}

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)}
	t.row(header...)
	return t
}

func (t *table) row(cells ...string) { fmt.Fprintln(t.tw, strings.Join(cells, "\t")) }

func (t *table) flush() error { return t.tw.Flush() }

// age is how long ago a time was, as kubectl says it: 5m, 3h2m, 4d.
func age(ts metav1.Time, now time.Time) string {
	if ts.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(ts.Time))
}

// orNone is s, or <none> when it is empty, as in kubectl's tables.
func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
