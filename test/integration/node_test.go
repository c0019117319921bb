//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"knobs.dev/knobs/pkg/apis/tuning"
)

// outcome is what the node stand-in does with a Job.
type outcome int

const (
	// execute runs the Job's container: the trial program with the container's
	// args and environment; its exit status decides the Job's.
	execute outcome = iota
	// crash fails the Job without running it, as a container that exits 1
	// at once.
	crash
	// silent completes the Job without running it: a container that exits 0
	// without reporting anything.
	silent
)

// node plays what a node and the Job controller would do for the Jobs that
// Trials create in one namespace: it runs each Job's one container as a
// local process of the trial program (the image's program) with the
// container's args and environment, so the trial reports through its K_SINK
// with its token exactly as in a pod; then it records the outcome in the
// Job's status as the Job controller would.
type node struct {
	t      *testing.T
	ns     string
	kube   kubernetes.Interface
	decide func(job *batchv1.Job) outcome

	mu   sync.Mutex
	seen map[string]bool
	runs int
	// now and most count the Jobs running at once.
	now, most int
	wg   sync.WaitGroup
	stop chan struct{}
}

func startNode(t *testing.T, ns string, decide func(*batchv1.Job) outcome) *node {
	n := &node{t: t, ns: ns, kube: kubernetes.NewForConfigOrDie(env.cp.Config), decide: decide, seen: map[string]bool{}, stop: make(chan struct{})}
	if n.decide == nil {
		n.decide = func(*batchv1.Job) outcome { return execute }
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-n.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			n.poll()
		}
	}()
	t.Cleanup(func() {
		close(n.stop)
		<-done
		n.wg.Wait()
	})
	return n
}

func (n *node) poll() {
	jobs, err := n.kube.BatchV1().Jobs(n.ns).List(context.Background(), metav1.ListOptions{LabelSelector: tuning.TrialLabelKey})
	if err != nil {
		return
	}
	for i := range jobs.Items {
		job := &jobs.Items[i]
		n.mu.Lock()
		if n.seen[job.Name] {
			n.mu.Unlock()
			continue
		}
		n.seen[job.Name] = true
		n.runs++
		n.mu.Unlock()
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.runJob(job)
		}()
	}
}

func (n *node) started() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.runs
}

// maxConcurrent returns the most Jobs that ran at once.
func (n *node) maxConcurrent() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.most
}

func (n *node) runJob(job *batchv1.Job) {
	decision := n.decide(job)
	if decision < execute {
		return // held: the Job stays running
	}
	n.mu.Lock()
	n.now++
	n.most = max(n.most, n.now)
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		n.now--
		n.mu.Unlock()
	}()
	c := job.Spec.Template.Spec.Containers[0]
	var stderr bytes.Buffer
	var err error
	switch decision {
	case execute:
		cmd := exec.Command(filepath.Join(env.bin, "trial"), c.Args...)
		for _, e := range c.Env {
			cmd.Env = append(cmd.Env, e.Name+"="+e.Value)
		}
		cmd.Stderr = &stderr
		err = cmd.Run()
	case crash:
		err = fmt.Errorf("exit status 1")
		stderr.WriteString("crashed on purpose")
	case silent:
	}
	n.finish(job.Name, err, strings.TrimSpace(stderr.String()))
}

// finish records a Job's end as the Job controller does: first the
// criteria, then the terminal condition.
func (n *node) finish(name string, runErr error, msg string) {
	ctx := context.Background()
	for attempt := 0; attempt < 20; attempt++ {
		job, err := n.kube.BatchV1().Jobs(n.ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		now := metav1.Now()
		job.Status.StartTime = &now
		if runErr == nil {
			job.Status.Succeeded = 1
			job.Status.CompletionTime = &now
			job.Status.Conditions = []batchv1.JobCondition{
				{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, Reason: "CompletionsReached", LastTransitionTime: now},
				{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, Reason: "CompletionsReached", LastTransitionTime: now},
			}
		} else {
			job.Status.Failed = 1
			job.Status.Conditions = []batchv1.JobCondition{
				{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: now},
				{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: fmt.Sprintf("%v: %s", runErr, msg), LastTransitionTime: now},
			}
		}
		if _, err := n.kube.BatchV1().Jobs(n.ns).UpdateStatus(ctx, job, metav1.UpdateOptions{}); err != nil {
			n.t.Logf("job %s: %v", name, err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		return
	}
	n.t.Errorf("could not record the end of job %s", name)
}
