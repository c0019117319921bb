// Package hostile sends bad and heavy input to Knobs' servers over real
// sockets: a function process (CloudEvents over HTTP and gRPC) and the
// observation receiver. Every case asserts the status, a message naming the
// problem, and that the server still answers afterwards; the load asserts
// the function's peak memory. A defect found in either grows the tables.
package hostile

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"knobs.dev/knobs/test/fnproc"
)

// binDir holds the function binary built for this run.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, err := filepath.Abs("../..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	binDir, err = os.MkdirTemp("", "knobs-hostile-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(binDir)
	build := exec.Command("go", "build", "-o", binDir+"/", "./functions/random")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the random function: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// startRandom runs the random function as a pod of its Knative Service
// would run (config/600-function-random.yaml sets GOMEMLIMIT to 230MiB of
// a 256Mi limit).
func startRandom(t *testing.T) *fnproc.Proc {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "random"))
	// fnproc.Start appends $PORT to the test's environment.
	t.Setenv("GOMEMLIMIT", "230MiB")
	return fnproc.Start(t, "random", cmd)
}
