package main

import (
	"os"
	"path/filepath"
	"testing"
)

// An Experiment's file given as an absolute path is read there, one given
// as a relative path under the repository's root.
func TestExperimentFileAbsoluteOrRelative(t *testing.T) {
	root, elsewhere := t.TempDir(), t.TempDir()
	write := func(path, name string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("apiVersion: tuning.knobs.dev/v1alpha1\nkind: Experiment\nmetadata:\n  name: "+name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "examples/e.yaml"), "relative")
	abs := filepath.Join(elsewhere, "e.yaml")
	write(abs, "absolute")
	for file, want := range map[string]string{"examples/e.yaml": "relative", abs: "absolute"} {
		ns, name, err := objectOf(inRoot(root, file))
		if err != nil || ns != "default" || name != want {
			t.Errorf("-f %s: %s/%s, %v; want default/%s", file, ns, name, err, want)
		}
	}
}
