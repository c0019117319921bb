// Package node plays, where nothing runs pods, what a node and the Job
// controller do for the Jobs that Trials create: it runs each Job's container
// as a local process of the program its image holds (the trial program),
// with the container's args and environment, so the trial reports through its
// K_SINK with its token exactly as in a pod; then it records the outcome in
// the Job's status as the Job controller would. Integration tests and the
// local quickstart use it; it plays no part of Knobs itself.
package node

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"knobs.dev/knobs/pkg/apis/tuning"
)

// Outcome is what the node does with a Job.
type Outcome int

const (
	// Hold runs nothing: the Job stays running.
	Hold Outcome = iota - 1
	// Execute runs the Job's container; its exit status decides the Job's.
	Execute
	// Crash fails the Job without running it, as a container that exits 1
	// at once.
	Crash
	// Silent completes the Job without running it: a container that exits 0
	// without reporting anything.
	Silent
)

// Options configure a Node.
type Options struct {
	// Kube reads and updates Jobs.
	Kube kubernetes.Interface
	// Namespace to watch; "" for all.
	Namespace string
	// Program is the trial program every Job's container runs.
	Program string
	// Decide says what to do with each Job; nil executes every one.
	Decide func(*batchv1.Job) Outcome
	// Errorf reports what the node could not do; nil ignores it.
	Errorf func(format string, args ...any)
}

// Node runs trial Jobs.
type Node struct {
	opts Options

	mu   sync.Mutex
	seen map[string]bool
	runs int
	// now and most count the Jobs running at once.
	now, most int
	wg        sync.WaitGroup
	done      chan struct{}
}

// Start polls for Jobs labelled tuning.knobs.dev/trial until ctx is done.
func Start(ctx context.Context, opts Options) *Node {
	if opts.Decide == nil {
		opts.Decide = func(*batchv1.Job) Outcome { return Execute }
	}
	if opts.Errorf == nil {
		opts.Errorf = func(string, ...any) {}
	}
	n := &Node{opts: opts, seen: map[string]bool{}, done: make(chan struct{})}
	go func() {
		defer close(n.done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
			n.poll(ctx)
		}
	}()
	return n
}

// Wait waits for the node to stop and every Job it started to finish.
func (n *Node) Wait() {
	<-n.done
	n.wg.Wait()
}

// Started returns the number of Jobs taken up.
func (n *Node) Started() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.runs
}

// MaxConcurrent returns the most Jobs that ran at once.
func (n *Node) MaxConcurrent() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.most
}

func (n *Node) poll(ctx context.Context) {
	jobs, err := n.opts.Kube.BatchV1().Jobs(n.opts.Namespace).List(ctx, metav1.ListOptions{LabelSelector: tuning.TrialLabelKey})
	if err != nil {
		return
	}
	for i := range jobs.Items {
		job := &jobs.Items[i]
		key := job.Namespace + "/" + job.Name + "/" + string(job.UID)
		n.mu.Lock()
		if n.seen[key] {
			n.mu.Unlock()
			continue
		}
		n.seen[key] = true
		n.runs++
		n.mu.Unlock()
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.run(job)
		}()
	}
}

func (n *Node) run(job *batchv1.Job) {
	decision := n.opts.Decide(job)
	if decision == Hold {
		return
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
	var stderr bytes.Buffer
	var err error
	switch decision {
	case Execute:
		if len(job.Spec.Template.Spec.Containers) == 0 {
			err = fmt.Errorf("the Job has no container")
			break
		}
		c := job.Spec.Template.Spec.Containers[0]
		cmd := exec.Command(n.opts.Program, c.Args...)
		for _, e := range c.Env {
			cmd.Env = append(cmd.Env, e.Name+"="+e.Value)
		}
		cmd.Stderr = &stderr
		err = cmd.Run()
	case Crash:
		err = fmt.Errorf("exit status 1")
		stderr.WriteString("crashed on purpose")
	case Silent:
	}
	n.finish(job, err, lastLine(stderr.String()))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// finish records a Job's end as the Job controller does: first the
// criteria, then the terminal condition.
func (n *Node) finish(j *batchv1.Job, runErr error, msg string) {
	ctx := context.Background()
	jobs := n.opts.Kube.BatchV1().Jobs(j.Namespace)
	var last error
	for attempt := 0; attempt < 20; attempt++ {
		if attempt > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		job, err := jobs.Get(ctx, j.Name, metav1.GetOptions{})
		if err != nil {
			last = err
			continue
		}
		if job.UID != j.UID {
			return // deleted, and another one of the name created
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
		if _, last = jobs.UpdateStatus(ctx, job, metav1.UpdateOptions{}); last == nil {
			return
		}
	}
	n.opts.Errorf("could not record the end of job %s/%s: %v", j.Namespace, j.Name, last)
}
