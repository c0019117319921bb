//go:build integration

// Package integration runs Knobs against a real kube-apiserver and etcd on
// loopback (test/controlplane): our CRDs, RBAC and ConfigMaps from config/,
// Knative Serving's real CRDs, and the controller as a real process that
// authenticates as its ServiceAccount. Nothing runs pods here, so one helper
// plays Knative Serving: it marks Knative Services labelled with an
// algorithm Ready, at the URL of a function process the test started.
//
// Run with `make test-integration`.
package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	servingclientset "knative.dev/serving/pkg/client/clientset/versioned"

	"knobs.dev/knobs/pkg/apis/tuning"
	knobsclientset "knobs.dev/knobs/pkg/client/clientset/versioned"
	"knobs.dev/knobs/test/controlplane"
)

// env is what every test shares.
var env struct {
	root       string
	bin        string // controller, function, collector and trial binaries
	cp         *controlplane.ControlPlane
	knobs      knobsclientset.Interface
	serving    servingclientset.Interface
	controller string // kubeconfig of the controller's ServiceAccount
	logDir     string
}

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration setup:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	ctx := context.Background()
	root, err := filepath.Abs("../..")
	if err != nil {
		return 0, err
	}
	env.root = root
	tmp, err := os.MkdirTemp("", "knobs-integration-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	env.logDir = os.Getenv("KNOBS_TEST_LOGS")
	if env.logDir == "" {
		env.logDir = filepath.Join(tmp, "logs")
	}
	if err := os.MkdirAll(env.logDir, 0o755); err != nil {
		return 0, err
	}

	cpBin, err := run(root, filepath.Join(root, "hack/controlplane/build.sh"))
	if err != nil {
		return 0, err
	}
	env.bin = filepath.Join(tmp, "bin")
	if _, err := run(root, "go", "build", "-o", env.bin+"/", "./cmd/controller", "./functions/random", "./functions/grid", "./functions/tpe", "./functions/nsga2", "./functions/hyperband", "./functions/medianstop", "./examples/trial",
		"./cmd/knobs-collector", "./test/integration/testdata/tfevents"); err != nil {
		return 0, err
	}

	logf, err := os.Create(filepath.Join(env.logDir, "controlplane.log"))
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	start := time.Now()
	env.cp, err = controlplane.Start(ctx, controlplane.Options{BinDir: lastLine(cpBin), Dir: filepath.Join(tmp, "cp"), Log: logf,
		// TestScale's SCALE_PROFILE profiles the API server too.
		Profiling: os.Getenv("SCALE_PROFILE") != ""})
	if err != nil {
		return 0, err
	}
	defer env.cp.Stop()
	fmt.Fprintf(os.Stderr, "control plane ready in %s at %s\n", time.Since(start).Round(time.Millisecond), env.cp.URL)

	if err := install(ctx); err != nil {
		return 0, err
	}
	env.knobs = knobsclientset.NewForConfigOrDie(env.cp.Config)
	env.serving = servingclientset.NewForConfigOrDie(env.cp.Config)

	// The controller authenticates as its ServiceAccount, so RBAC is tested.
	env.controller = filepath.Join(tmp, "controller.kubeconfig")
	if err := env.cp.ServiceAccountKubeconfig(ctx, tuning.SystemNamespace, "knobs-controller", env.controller); err != nil {
		return 0, err
	}

	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "logs of the failed run are in %s (set KNOBS_TEST_LOGS to keep them)\n", env.logDir)
	}
	return code, nil
}

// install applies Knobs' configuration and Knative Serving's CRDs.
func install(ctx context.Context) error {
	if err := env.cp.InstallKnobs(ctx, env.root); err != nil {
		return err
	}
	// Shorter leases than the shipped 60s, so that a replica replaces a
	// killed leader in seconds; the mechanism is the same.
	_, err := env.cp.Kubectl(ctx, nil, "patch", "configmap", "config-leader-election", "-n", tuning.SystemNamespace, "--type=merge",
		"-p", `{"data":{"lease-duration":"8s","renew-deadline":"6s","retry-period":"1s"}}`)
	return err
}

func run(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out.String(), nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
