package functions

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"knobs.dev/knobs/test/fnproc"
)

// TestConformance runs the conformance command, as an author of a function
// would, against every function running as a process: every check over
// every transport must pass.
func TestConformance(t *testing.T) {
	for _, name := range functionNames(t) {
		t.Run(name, func(t *testing.T) {
			p := start(t, name)
			out, code := conformance(t, "--url", p.URL, "--algorithm", name)
			if code != 0 {
				t.Fatalf("knobs-conformance exited %d:\n%s", code, out)
			}
			if !strings.Contains(out, " 0 failed") || !strings.Contains(out, "PASS grpc/suggest") || !strings.Contains(out, "PASS http/healthz") {
				t.Errorf("knobs-conformance output lacks the checks it must run:\n%s", out)
			}
			p.Alive(t)
		})
	}
}

// TestEarlyStoppingConformance runs the conformance command's
// early-stopping checks against every early-stopping function running as a
// process, over every transport.
func TestEarlyStoppingConformance(t *testing.T) {
	for _, name := range earlyStoppingNames(t) {
		t.Run(name, func(t *testing.T) {
			p := start(t, name)
			out, code := conformance(t, "--url", p.URL, "--early-stopping", "--algorithm", name)
			if code != 0 {
				t.Fatalf("knobs-conformance exited %d:\n%s", code, out)
			}
			if !strings.Contains(out, " 0 failed") || !strings.Contains(out, "PASS grpc/decide") || !strings.Contains(out, "PASS grpc/undecodable") ||
				!strings.Contains(out, "PASS binary-json/bad-curve-value") || !strings.Contains(out, "PASS http/undecodable-protobuf") {
				t.Errorf("knobs-conformance output lacks the checks it must run:\n%s", out)
			}
			p.Alive(t)
		})
	}
}

// TestConformanceFailsWhereNothingAnswers checks the command's exit codes: 1
// when checks fail (nothing listens at the URL), 2 for a usage error.
func TestConformanceFailsWhereNothingAnswers(t *testing.T) {
	out, code := conformance(t, "--url", "http://127.0.0.1:"+fnproc.FreePort(t), "--timeout", "2s")
	if code != 1 || !strings.Contains(out, "FAIL http/healthz") {
		t.Errorf("against a closed port: exit %d, want 1 with FAIL lines:\n%s", code, out)
	}
	if _, code := conformance(t); code != 2 {
		t.Errorf("without --url: exit %d, want 2", code)
	}
	if _, code := conformance(t, "--url", "http://127.0.0.1:1", "--transports", "carrier-pigeon"); code != 2 {
		t.Errorf("with an unknown transport: exit %d, want 2", code)
	}
}

// conformance runs knobs-conformance and returns its output and exit code.
func conformance(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, "knobs-conformance"), args...).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	}
	t.Fatalf("running knobs-conformance: %v", err)
	return "", -1
}
