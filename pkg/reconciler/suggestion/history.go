package suggestion

import (
	"slices"

	"k8s.io/apimachinery/pkg/types"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/contract"
	"knobs.dev/knobs/pkg/reconciler"
	"knobs.dev/knobs/pkg/reconciler/suggestion/resources"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// history is an Experiment's Trials as the last request of its Suggestion
// sent them: each Trial as the wire's message, in the order the Trials came
// to be, and the points they hold. A pass converts only the Trials that
// changed since (another resource version, or new), and sorts only the new
// ones; the rest is reused. It costs about what one request of the history
// takes, for as long as the Experiment runs. It holds for one Experiment
// (by UID) and one generation of its spec, whose search space the points
// are parsed in; another is started afresh.
type history struct {
	uid        types.UID
	generation int64
	// byName holds an entry per Trial, by name; order holds them in the
	// order the Trials came to be.
	byName map[string]*entry
	order  []*entry
	// handed is the points of the Trials, for checking a reply.
	handed *contract.History
	// pass numbers the updates, to find the Trials gone since the last.
	pass uint64
}

// entry is one Trial as the history holds it.
type entry struct {
	uid             types.UID
	resourceVersion string
	key             reconciler.OrderKey
	trial           *pb.Trial
	// seen is the last pass that listed the Trial.
	seen uint64
}

// update brings h up to the Trials listed, of Experiment exp whose search
// space is space, and returns them as the wire's messages in order. A
// Trial without a resource version (never so from the API server) is
// converted again on every pass, and an Experiment without a UID (never so
// from the API server) starts the history afresh.
func (h *history) update(exp *v1alpha1.Experiment, space *searchspace.Space, trials []*v1alpha1.Trial) []*pb.Trial {
	if h.byName == nil || exp.UID == "" || h.uid != exp.UID || h.generation != exp.Generation {
		*h = history{uid: exp.UID, generation: exp.Generation, byName: make(map[string]*entry, len(trials)), handed: contract.NewHistory(space)}
	}
	h.pass++
	var fresh []*entry
	for _, t := range trials {
		e := h.byName[t.Name]
		switch {
		case e == nil:
			e = &entry{key: reconciler.OrderOf(t)}
			h.byName[t.Name] = e
			fresh = append(fresh, e)
		case e.uid == t.UID && e.resourceVersion == t.ResourceVersion && t.ResourceVersion != "":
			e.seen = h.pass
			continue
		case e.uid != t.UID:
			// Another Trial of the same name: placed anew.
			e.key = reconciler.OrderOf(t)
			fresh = append(fresh, e)
			fallthrough
		default:
			h.drop(e)
		}
		e.uid, e.resourceVersion, e.seen = t.UID, t.ResourceVersion, h.pass
		e.trial = resources.ProtoTrial(t)
		if pt, ok := resources.TrialPoint(h.handed.Space(), e.trial.GetSpec().GetParameterAssignments().GetAssignments()); ok {
			h.handed.Add(pt)
		}
	}
	if len(fresh) == 0 && len(h.order) == len(trials) {
		return h.messages()
	}
	// Trials gone, or new ones: the kept order without those gone, merged
	// with the new ones sorted.
	isFresh := make(map[*entry]bool, len(fresh))
	for _, e := range fresh {
		isFresh[e] = true
	}
	kept := make([]*entry, 0, len(trials))
	for _, e := range h.order {
		switch {
		case isFresh[e]:
		case e.seen != h.pass:
			h.drop(e)
			delete(h.byName, nameOf(e))
		default:
			kept = append(kept, e)
		}
	}
	slices.SortStableFunc(fresh, func(a, b *entry) int { return a.key.Compare(&b.key) })
	h.order = mergeOrdered(kept, fresh)
	return h.messages()
}

// drop takes e's point out of the points handed out.
func (h *history) drop(e *entry) {
	if e.trial == nil {
		return
	}
	if pt, ok := resources.TrialPoint(h.handed.Space(), e.trial.GetSpec().GetParameterAssignments().GetAssignments()); ok {
		h.handed.Remove(pt)
	}
}

func nameOf(e *entry) string { return e.trial.GetName() }

// messages returns the Trials' messages in order.
func (h *history) messages() []*pb.Trial {
	out := make([]*pb.Trial, len(h.order))
	for i, e := range h.order {
		out[i] = e.trial
	}
	return out
}

// mergeOrdered merges two lists each in order into one, a's first among
// equals.
func mergeOrdered(a, b []*entry) []*entry {
	out := make([]*entry, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if b[0].key.Compare(&a[0].key) < 0 {
			out, b = append(out, b[0]), b[1:]
		} else {
			out, a = append(out, a[0]), a[1:]
		}
	}
	return append(append(out, a...), b...)
}
