// Package node plays, where nothing runs pods, what a node and the Job
// controller do for the Jobs that Trials create: it runs each Job's
// containers as local processes, with their command, args and environment,
// so a trial reports through its K_SINK with its token exactly as in a pod;
// then it records the outcome in the Job's status as the Job controller
// would. Integration tests and the local quickstart use it; it plays no part
// of Knobs itself.
//
// What an image holds is given by Options: a container without a command
// runs its image's entrypoint, which is the collector binary for the
// collector's image and the trial program for every other image; a command
// runs the program of that name on this machine (python3, sh, a binary the
// test built), with the in-image paths of Options.Files standing for local
// files. As a kubelet does, it runs the init containers first, in order,
// then the containers; emptyDir volumes are folders of the Job's own,
// configMap volumes hold the ConfigMap's keys as files, and a volume's mount
// path in a command, an argument, an environment value or the working folder
// stands for its folder. The metrics file or folder a knobs-collector
// container is given (-path) gets a folder of the Job's own too, so Jobs
// running at once do not share it. A Job suspended or deleted while it
// runs has its processes killed, as a kubelet kills the pods the Job
// controller deletes then, and no end is recorded for it.
package node

import (
	"context"
	"fmt"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"knobs.dev/knobs/pkg/apis/tuning"
)

// DefaultCollectorImage is the image of knobs-collector as config/ names it.
const DefaultCollectorImage = "ko://knobs.dev/knobs/cmd/knobs-collector"

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
	// Kube reads and updates Jobs, and reads the ConfigMaps they mount.
	Kube kubernetes.Interface
	// Namespace to watch; "" for all.
	Namespace string
	// Program is the trial program: the entrypoint of every image but the
	// collector's, run by a container without a command.
	Program string
	// Collector is a knobs-collector built for this machine: the entrypoint
	// of CollectorImage. Without it, a Job that uses the collector fails.
	Collector string
	// CollectorImage is the collector's image; DefaultCollectorImage if "".
	CollectorImage string
	// Files maps an absolute path in the images (a file or a folder) to a
	// local one, such as /opt/trial/train.py to examples/trial-python/train.py.
	Files map[string]string
	// LogDir, when set, keeps each container's output, stdout and stderr
	// together, as LogDir/<namespace>_<job>_<container>.log.
	LogDir string
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
	// kill stops the processes of each Job running, by key.
	kill map[string]context.CancelFunc
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
	if opts.CollectorImage == "" {
		opts.CollectorImage = DefaultCollectorImage
	}
	n := &Node{opts: opts, seen: map[string]bool{}, kill: map[string]context.CancelFunc{}, done: make(chan struct{})}
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
	// The Jobs that may run: a Job deleted or suspended is killed.
	live := map[string]bool{}
	for i := range jobs.Items {
		job := &jobs.Items[i]
		key := job.Namespace + "/" + job.Name + "/" + string(job.UID)
		if job.Spec.Suspend != nil && *job.Spec.Suspend {
			continue
		}
		live[key] = true
		n.mu.Lock()
		if n.seen[key] {
			n.mu.Unlock()
			continue
		}
		n.seen[key] = true
		n.runs++
		jobCtx, kill := context.WithCancel(ctx)
		n.kill[key] = kill
		n.mu.Unlock()
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			defer func() {
				n.mu.Lock()
				delete(n.kill, key)
				n.mu.Unlock()
				kill()
			}()
			n.run(jobCtx, job)
		}()
	}
	n.mu.Lock()
	for key, kill := range n.kill {
		if !live[key] {
			kill()
		}
	}
	n.mu.Unlock()
}

func (n *Node) run(ctx context.Context, job *batchv1.Job) {
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
	var err error
	var msg string
	switch decision {
	case Execute:
		msg, err = n.execute(ctx, job)
	case Crash:
		err = fmt.Errorf("exit status 1")
		msg = "crashed on purpose"
	case Silent:
	}
	if ctx.Err() != nil {
		return // suspended or deleted: its end is not the Job's
	}
	n.finish(job, err, msg)
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
		if apierrors.IsNotFound(err) {
			return // deleted while it ran: nothing is left to record on
		}
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
		_, last = jobs.UpdateStatus(ctx, job, metav1.UpdateOptions{})
		if last == nil || apierrors.IsNotFound(last) {
			return
		}
	}
	n.opts.Errorf("could not record the end of job %s/%s: %v", j.Namespace, j.Name, last)
}
