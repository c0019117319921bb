package pyfunction

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestConformance runs knobs-conformance, as the example's README says to,
// against the Python function over every CloudEvents transport (the
// standard library has no HTTP/2, so no gRPC): every check must pass.
func TestConformance(t *testing.T) {
	p := start(t)
	bin := filepath.Join(t.TempDir(), "knobs-conformance")
	if out, err := exec.Command("go", "build", "-o", bin, "knobs.dev/knobs/cmd/knobs-conformance").CombinedOutput(); err != nil {
		t.Fatalf("building knobs-conformance: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--url", p.URL,
		"--transports", "binary-protobuf,binary-json,structured-json,structured-protobuf").CombinedOutput()
	if err != nil {
		t.Fatalf("knobs-conformance: %v\n%s", err, out)
	}
	for _, want := range []string{"PASS http/healthz", "PASS structured-protobuf/suggest", "PASS exhaustion", " 0 failed"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("knobs-conformance output lacks %q:\n%s", want, out)
		}
	}
	t.Logf("knobs-conformance:\n%s", out)
}
