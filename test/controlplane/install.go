package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// InstallKnobs applies Knobs' configuration from root/config (namespace,
// RBAC, CRDs and ConfigMaps: the files numbered 100 to 499; the controller
// Deployment and the functions need a kubelet) and Knative Serving's CRDs
// from the knative.dev/serving module of the build, and waits until the
// CRDs are established.
func (cp *ControlPlane) InstallKnobs(ctx context.Context, root string) error {
	files, err := filepath.Glob(filepath.Join(root, "config", "[1234]*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no configuration in %s/config: %v", root, err)
	}
	servingDir, err := moduleDir(root, "knative.dev/serving")
	if err != nil {
		return err
	}
	servingCRDs, err := filepath.Glob(filepath.Join(servingDir, "config/core/300-resources/*.yaml"))
	if err != nil || len(servingCRDs) == 0 {
		return fmt.Errorf("Knative Serving's CRDs not found in %s: %v", servingDir, err)
	}
	args := []string{"apply", "--server-side"}
	for _, f := range append(files, servingCRDs...) {
		args = append(args, "-f", f)
	}
	if _, err := cp.Kubectl(ctx, nil, args...); err != nil {
		return err
	}
	_, err = cp.Kubectl(ctx, nil, "wait", "--for=condition=Established", "--timeout=60s",
		"crd/experiments.tuning.knobs.dev", "crd/suggestions.tuning.knobs.dev", "crd/trials.tuning.knobs.dev",
		"crd/services.serving.knative.dev")
	return err
}

// ServiceAccountKubeconfig writes a kubeconfig that authenticates as a
// ServiceAccount, with a token from the TokenRequest API.
func (cp *ControlPlane) ServiceAccountKubeconfig(ctx context.Context, namespace, name, path string) error {
	token, err := cp.Kubectl(ctx, nil, "create", "token", name, "-n", namespace, "--duration=24h")
	if err != nil {
		return err
	}
	return cp.WriteKubeconfig(path, name, strings.TrimSpace(token))
}

// moduleDir finds a module of the build in the module cache.
func moduleDir(root, module string) (string, error) {
	cmd := exec.Command("go", "list", "-m", "-json", module)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %w", module, err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		return "", fmt.Errorf("no directory for %s: %v", module, err)
	}
	return m.Dir, nil
}
