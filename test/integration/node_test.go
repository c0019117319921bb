//go:build integration

package integration

import (
	"context"
	"path/filepath"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/client-go/kubernetes"

	"knobs.dev/knobs/test/node"
)

// startNode runs the Jobs of one namespace with the trial program, as a node
// would (see test/node); decide picks what each Job does, nil runs them all.
func startNode(t *testing.T, ns string, decide func(*batchv1.Job) node.Outcome) *node.Node {
	ctx, cancel := context.WithCancel(context.Background())
	n := node.Start(ctx, node.Options{
		Kube:      kubernetes.NewForConfigOrDie(env.cp.Config),
		Namespace: ns,
		Program:   filepath.Join(env.bin, "trial"),
		Decide:    decide,
		Errorf:    t.Errorf,
	})
	t.Cleanup(func() {
		cancel()
		n.Wait()
	})
	return n
}
