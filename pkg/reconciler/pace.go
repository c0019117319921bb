package reconciler

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"knative.dev/pkg/controller"
	"knative.dev/pkg/kmeta"
)

// Pace spaces out the passes of the objects whose passes grow costly: an
// Experiment of 100,000 Trials reads every one of them on each pass, and
// its Trials' events come by the hundred a second. An event for an object
// whose last pass took d queues it d×PaceFactor later (at most
// MaxPaceDelay), and the events meanwhile join that one pass, so that a
// reconciler spends at most about a fifth of a worker's time on it. An
// object whose passes take under a millisecond, an Experiment of about a
// thousand Trials or fewer, is queued at once, as without a Pace.
type Pace struct {
	impl *controller.Impl
	last Keyed[time.Duration]
}

const (
	// PaceFactor is how many times its last pass an object waits after an
	// event.
	PaceFactor = 4
	// MaxPaceDelay bounds the wait.
	MaxPaceDelay = 2 * time.Second
	// paceFrom is the shortest pass that delays the next.
	paceFrom = time.Millisecond
)

// NewPace returns a Pace that queues the keys of impl.
func NewPace(impl *controller.Impl) *Pace { return &Pace{impl: impl} }

// Passed records that a pass of key began at start and has ended.
func (p *Pace) Passed(key types.NamespacedName, start time.Time) {
	if d := time.Since(start); d >= paceFrom {
		p.last.Set(key, d)
	} else {
		p.last.Forget(key)
	}
}

// Delay is how long after an event key is queued.
func (p *Pace) Delay(key types.NamespacedName) time.Duration {
	d, _ := p.last.Get(key)
	return min(PaceFactor*d, MaxPaceDelay)
}

// EnqueueKey queues key after its Delay.
func (p *Pace) EnqueueKey(key types.NamespacedName) {
	if d := p.Delay(key); d > 0 {
		p.impl.EnqueueKeyAfter(key, d)
		return
	}
	p.impl.EnqueueKey(key)
}

// Enqueue queues the object itself, as controller.Impl's Enqueue does.
func (p *Pace) Enqueue(obj any) {
	if o, err := kmeta.DeletionHandlingAccessor(obj); err == nil {
		p.EnqueueKey(types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetName()})
	}
}

// EnqueueLabel queues the object of obj's namespace named by its label.
func (p *Pace) EnqueueLabel(label string) func(obj any) {
	return func(obj any) {
		o, err := kmeta.DeletionHandlingAccessor(obj)
		if err != nil {
			return
		}
		if name := o.GetLabels()[label]; name != "" {
			p.EnqueueKey(types.NamespacedName{Namespace: o.GetNamespace(), Name: name})
		}
	}
}

// EnqueueControllerOf queues the controller (owner) of obj, in obj's
// namespace, as controller.Impl's EnqueueControllerOf does.
func (p *Pace) EnqueueControllerOf(obj any) {
	o, err := kmeta.DeletionHandlingAccessor(obj)
	if err != nil {
		return
	}
	if owner := metav1.GetControllerOf(o); owner != nil {
		p.EnqueueKey(types.NamespacedName{Namespace: o.GetNamespace(), Name: owner.Name})
	}
}
