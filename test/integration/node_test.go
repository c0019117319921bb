//go:build integration

package integration

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/client-go/kubernetes"

	"knobs.dev/knobs/test/node"
)

// startNode runs the Jobs of one namespace as a node would (see test/node):
// a container without a command runs the trial program, a command a
// program of this machine, the collector's image knobs-collector, and the
// design example's MXNet script its stand-in; each container's output is
// kept in the logs, under trials/. decide picks what each Job does, nil runs
// them all.
func startNode(t *testing.T, ns string, decide func(*batchv1.Job) node.Outcome) *node.Node {
	logs := filepath.Join(env.logDir, "trials")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := node.Start(ctx, node.Options{
		Kube:      kubernetes.NewForConfigOrDie(env.cp.Config),
		Namespace: ns,
		Program:   filepath.Join(env.bin, "trial"),
		Collector: filepath.Join(env.bin, "knobs-collector"),
		Files: map[string]string{
			"/mxnet/example/image-classification/train_mnist.py": filepath.Join(env.root, "examples/trial-python/mnist_standin.py"),
		},
		LogDir: logs,
		Decide: decide,
		Errorf: t.Errorf,
	})
	t.Cleanup(func() {
		cancel()
		n.Wait()
	})
	return n
}
