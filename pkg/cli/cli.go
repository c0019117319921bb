// Package cli is the kubectl and kn plugin for Knobs: one command,
// installed as kubectl-knobs and kn-knobs, that lists Experiments with their
// progress, watches one to its end, prints its best assignment, lists its
// trials, extends it, stops it and gives its dashboard's URL.
//
// It follows kubectl's conventions: --kubeconfig, --context and
// -n/--namespace choose the cluster and namespace as kubectl does, and -o
// table|wide|json|yaml|name the output.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	servingclientset "knative.dev/serving/pkg/client/clientset/versioned"

	"knobs.dev/knobs/pkg/apis/tuning"
	knobsclientset "knobs.dev/knobs/pkg/client/clientset/versioned"
)

// Clients are what the commands talk to.
type Clients struct {
	Knobs   knobsclientset.Interface
	Serving servingclientset.Interface
	// Namespace is the namespace to work in: -n, else the kubeconfig
	// context's, else default.
	Namespace string
}

// IO is where a command reads and writes, and what it knows of its
// terminal.
type IO struct {
	Out, ErrOut io.Writer
	// Terminal says Out is a terminal: watch redraws in place.
	Terminal bool
	// Width is the terminal's width in columns; 0 when unknown.
	Width int
}

// config is what the commands share: how to reach the cluster, and IO.
type config struct {
	IO
	// name is how the user calls the command: "kubectl knobs", "kn knobs".
	name string

	kubeconfig, context, namespace string
	// newClients makes the clients; tests set it to fakes.
	newClients func(*config) (*Clients, error)
	// browser opens a URL; nil when there is no way to.
	browser func(url string) error
}

// clients makes the clients for the flags given.
func (c *config) clients() (*Clients, error) { return c.newClients(c) }

// kubeClients reads the kubeconfig as kubectl does: --kubeconfig, else
// $KUBECONFIG, else ~/.kube/config; --context and --namespace override it.
func kubeClients(c *config) (*Clients, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = c.kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: c.context}
	overrides.Context.Namespace = c.namespace
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	rc, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("cannot reach a cluster: %w (pass --kubeconfig or set KUBECONFIG)", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, err
	}
	knobs, err := knobsclientset.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	serving, err := servingclientset.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	return &Clients{Knobs: knobs, Serving: serving, Namespace: ns}, nil
}

// NameFor is the name a user types to run the binary called argv0:
// "kubectl knobs" for kubectl-knobs (and kubectl_complete-knobs), "kn knobs"
// for kn-knobs, the binary's name otherwise.
func NameFor(argv0 string) string {
	base := filepath.Base(argv0)
	for _, host := range []string{"kubectl", "kn"} {
		for _, sep := range []string{"-", "_complete-"} {
			if rest, ok := strings.CutPrefix(base, host+sep); ok && rest != "" {
				return host + " " + rest
			}
		}
	}
	return base
}

// Main runs the command line args (args[0] being the binary) and returns
// the exit code: 0, or 1 with the error written to stderr. An Experiment
// that failed under watch is an error.
func Main(args []string, stdout, stderr *os.File) int {
	io := IO{Out: stdout, ErrOut: stderr}
	if fd := int(stdout.Fd()); term.IsTerminal(fd) {
		io.Terminal = true
		if w, _, err := term.GetSize(fd); err == nil {
			io.Width = w
		}
	}
	rest := args[1:]
	// kubectl completes a plugin's arguments by running
	// kubectl_complete-<plugin> with them: a link of that name to this
	// binary completes.
	if strings.HasPrefix(filepath.Base(args[0]), "kubectl_complete-") {
		rest = append([]string{cobra.ShellCompRequestCmd}, rest...)
	}
	cmd := newCommand(&config{IO: io, name: NameFor(args[0]), newClients: kubeClients, browser: xdgOpen()})
	cmd.SetArgs(rest)
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	return 0
}

// NewCommand returns the command as name (such as "kubectl knobs"), on
// the given clients; for tests and for embedding.
func NewCommand(name string, io IO, clients *Clients, browser func(string) error) *cobra.Command {
	return newCommand(&config{IO: io, name: name, browser: browser,
		newClients: func(c *config) (*Clients, error) {
			cl := *clients
			if c.namespace != "" {
				cl.Namespace = c.namespace
			}
			if cl.Namespace == "" {
				cl.Namespace = metav1.NamespaceDefault
			}
			return &cl, nil
		}})
}

func newCommand(c *config) *cobra.Command {
	root := &cobra.Command{
		Use:   strings.ReplaceAll(c.name, " ", "-"),
		Short: "See and steer Knobs Experiments",
		Long: `See and steer Knobs Experiments: their progress, their best assignment
and their trials; extend or stop them; open their dashboard.`,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: c.name},
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(c.Out)
	root.SetErr(c.ErrOut)
	f := root.PersistentFlags()
	f.StringVar(&c.kubeconfig, "kubeconfig", "", "path to the kubeconfig file to use")
	f.StringVar(&c.context, "context", "", "the kubeconfig context to use")
	f.StringVarP(&c.namespace, "namespace", "n", "", "the namespace; the context's by default")
	root.AddCommand(getCommand(c), watchCommand(c), bestCommand(c), trialsCommand(c),
		extendCommand(c), stopCommand(c), openCommand(c))
	for _, cmd := range root.Commands() {
		if run := cmd.RunE; run != nil {
			cmd.RunE = func(cmd *cobra.Command, args []string) error { return explain(run(cmd, args)) }
		}
	}
	return root
}

// explain says what to do about an error of the API server that does not
// say it itself: a cluster without Knobs answers "the server could not
// find the requested resource".
func explain(err error) error {
	if group, resource, ok := unserved(err); ok && group == tuning.GroupName {
		return fmt.Errorf("this cluster serves no %s.%s: Knobs is not installed (ko apply -f config/, or make run for a local one), or --context names another cluster: %w",
			resource, group, err)
	}
	return err
}

// unserved reports whether err is the API server's 404 for a resource it
// does not serve at all (its CRD not installed), as against one for an
// object that does not exist, and which resource.
func unserved(err error) (group, resource string, ok bool) {
	var status apierrs.APIStatus
	if !apierrs.IsNotFound(err) || !errors.As(err, &status) {
		return "", "", false
	}
	d := status.Status().Details
	if d == nil {
		return "", "", false
	}
	for _, c := range d.Causes {
		if c.Type == metav1.CauseTypeUnexpectedServerResponse {
			return d.Group, d.Kind, true
		}
	}
	return "", "", false
}

// example formats a command's examples with the name the user types:
// before each line, or where it says %s.
func example(c *config, lines ...string) string {
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		switch {
		case strings.HasPrefix(l, "#"):
			b.WriteString("  " + l)
			continue
		case strings.Contains(l, "%s"):
			b.WriteString("  " + fmt.Sprintf(l, c.name))
			continue
		}
		b.WriteString("  " + c.name + " " + l)
	}
	return b.String()
}

// completeExperiments completes an Experiment's name, for the commands
// whose one argument is one.
func completeExperiments(c *config) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		cl, err := c.clients()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		list, err := cl.Knobs.TuningV1alpha1().Experiments(cl.Namespace).List(cmd.Context(), metav1.ListOptions{})
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var names []cobra.Completion
		for _, e := range list.Items {
			if strings.HasPrefix(e.Name, toComplete) {
				names = append(names, e.Name)
			}
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

// onExperiment makes cmd a command on one Experiment, named by its one
// argument: the name is required and completed, and run is given the
// clients and the name. A check of the flags belongs in cmd's PreRunE,
// which runs before the clients are made.
func onExperiment(c *config, cmd *cobra.Command, run func(cmd *cobra.Command, cl *Clients, name string) error) *cobra.Command {
	cmd.Args = cobra.ExactArgs(1)
	cmd.ValidArgsFunction = completeExperiments(c)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		cl, err := c.clients()
		if err != nil {
			return err
		}
		return run(cmd, cl, args[0])
	}
	return cmd
}
