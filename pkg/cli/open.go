package cli

import (
	"fmt"
	"net/url"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"knobs.dev/knobs/pkg/apis/tuning"
)

// Dashboard is the Knative Service of the dashboard, in the system
// namespace.
const Dashboard = "knobs-dashboard"

func openCommand(c *config) *cobra.Command {
	var base string
	var browser bool
	cmd := onExperiment(c, &cobra.Command{
		Use:   "open NAME",
		Short: "Print the URL of an Experiment on the dashboard",
		Long: `Print the URL of an Experiment's page on the dashboard: the dashboard's
address (the status.url of Knative Service ` + Dashboard + ` in namespace
` + tuning.SystemNamespace + `, or --url) followed by /experiments/NAMESPACE/NAME.
With --browser it also opens it, with xdg-open.`,
		Example: example(c,
			"open tpe-branin",
			"open tpe-branin --browser",
			"open tpe-branin --url http://localhost:8090"),
	}, func(cmd *cobra.Command, cl *Clients, name string) error {
		if base == "" {
			svc, err := cl.Serving.ServingV1().Services(tuning.SystemNamespace).Get(cmd.Context(), Dashboard, metav1.GetOptions{})
			switch {
			case isUnserved(err):
				return fmt.Errorf("the dashboard is not installed: this cluster serves no Knative Services (is Knative Serving installed?); give the dashboard's address with --url")
			case apierrs.IsNotFound(err):
				return fmt.Errorf("the dashboard is not installed: there is no Knative Service %s in namespace %s; install it, or give its address with --url",
					Dashboard, tuning.SystemNamespace)
			case err != nil:
				return err
			case svc.Status.URL == nil:
				return fmt.Errorf("the dashboard (Knative Service %s/%s) has no URL yet: it is not ready (see kubectl get ksvc %s -n %s), or give its address with --url",
					tuning.SystemNamespace, Dashboard, Dashboard, tuning.SystemNamespace)
			}
			base = svc.Status.URL.String()
		}
		u, err := experimentURL(base, cl.Namespace, name)
		if err != nil {
			return err
		}
		fmt.Fprintln(c.Out, u)
		if !browser {
			return nil
		}
		if c.browser == nil {
			return fmt.Errorf("cannot open a browser: no xdg-open on PATH; open the URL above yourself")
		}
		return c.browser(u)
	})
	cmd.Flags().StringVar(&base, "url", "", "the dashboard's address, instead of the Knative Service's")
	cmd.Flags().BoolVar(&browser, "browser", false, "open the URL in a browser too (xdg-open)")
	return cmd
}

// experimentURL is the dashboard's page of an Experiment.
func experimentURL(base, ns, name string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("the dashboard's address %q is not a URL such as http://dashboard.example.com", base)
	}
	return strings.TrimSuffix(u.String(), "/") + "/experiments/" + url.PathEscape(ns) + "/" + url.PathEscape(name), nil
}

// isUnserved reports whether err says the API server serves no such
// resource.
func isUnserved(err error) bool {
	_, _, ok := unserved(err)
	return ok
}

// xdgOpen opens URLs with xdg-open; nil when it is not on PATH.
func xdgOpen() func(string) error {
	path, err := exec.LookPath("xdg-open")
	if err != nil {
		return nil
	}
	return func(u string) error {
		cmd := exec.Command(path, u)
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("xdg-open: %w", err)
		}
		go func() { _ = cmd.Wait() }()
		return nil
	}
}
