// Package contract holds the rules every reply of a Knobs function must
// follow, in one place: the function runtime checks an algorithm's answer
// with them before it leaves the process, the controller checks a reply with
// them before it records one, and the tests and the conformance suite hold
// every function, in any language, to the same rules.
//
// A reply to a request for n suggestions, given the trials handed out so far:
//   - has at most n assignments, and exactly n unless it says the search
//     space is exhausted;
//   - assigns every active parameter once, and nothing else, with a value
//     of the parameter's type inside its feasible space: a conditional
//     parameter whose parent does not activate it is absent;
//   - repeats nothing, within the reply or with a trial of the history.
package contract

import (
	"fmt"
	"strings"

	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Violation is a reply that breaks the contract: the function's fault, not
// the caller's.
type Violation struct {
	// Index is the assignment at fault, or -1 for the reply as a whole.
	Index   int
	Message string
	// Err is the error beneath, such as a *searchspace.Error naming the
	// assignment's field at fault.
	Err error
}

func (v *Violation) Error() string {
	if v.Index < 0 {
		return v.Message
	}
	return fmt.Sprintf("assignment %d of the reply: %s", v.Index, v.Message)
}

func (v *Violation) Unwrap() error { return v.Err }

func violation(i int, format string, args ...any) *Violation {
	return &Violation{Index: i, Message: fmt.Sprintf(format, args...)}
}

// History is the set of points already handed out, by their keys in a space,
// each with the number of times it was added.
type History struct {
	space *searchspace.Space
	keys  map[string]int
}

// NewHistory returns the history of the given points.
func NewHistory(space *searchspace.Space, points ...searchspace.Point) *History {
	h := &History{space: space, keys: make(map[string]int, len(points))}
	for _, pt := range points {
		h.Add(pt)
	}
	return h
}

// HistoryOf returns the history of assignments handed out before. An
// assignment that no longer parses in the space (the space changed since)
// cannot be repeated by a reply, and is left out.
func HistoryOf(space *searchspace.Space, assignments [][]*pb.ParameterAssignment) *History {
	h := NewHistory(space)
	for _, as := range assignments {
		if pt, err := space.ParseAssignments(as); err == nil {
			h.Add(pt)
		}
	}
	return h
}

// Add records a point as handed out.
func (h *History) Add(pt searchspace.Point) { h.keys[h.space.Key(pt)]++ }

// Remove takes back one Add of pt: a history kept from call to call follows
// a trial that is gone, or a pending assignment added for one check.
func (h *History) Remove(pt searchspace.Point) {
	k := h.space.Key(pt)
	if h.keys[k] <= 1 {
		delete(h.keys, k)
		return
	}
	h.keys[k]--
}

// Space returns the space whose keys the history holds.
func (h *History) Space() *searchspace.Space { return h.space }

// Has reports whether a point was handed out.
func (h *History) Has(pt searchspace.Point) bool {
	_, ok := h.keys[h.space.Key(pt)]
	return ok
}

// CheckCount checks the number of suggestions against the number asked.
func CheckCount(got, want int, exhausted bool) error {
	switch {
	case got > want:
		return violation(-1, "the reply has %d assignments for %d asked", got, want)
	case got < want && !exhausted:
		return violation(-1, "the reply has %d assignments for %d asked, without saying the search space is exhausted", got, want)
	}
	return nil
}

// CheckPoints checks an algorithm's points: the count, each point inside
// the space, none repeated within the reply or with the history. The
// history is left unchanged.
func CheckPoints(space *searchspace.Space, history *History, points []searchspace.Point, exhausted bool, want int) error {
	if err := CheckCount(len(points), want, exhausted); err != nil {
		return err
	}
	seen := make(map[string]int, len(points))
	for i, pt := range points {
		if err := checkPoint(space, pt); err != nil {
			return violation(i, "%s", err)
		}
		k := space.Key(pt)
		if j, dup := seen[k]; dup {
			return violation(i, "repeats assignment %d of the reply: %s", j, Format(space.Format(pt)))
		}
		if history != nil {
			if _, dup := history.keys[k]; dup {
				return violation(i, "repeats one handed out before: %s", Format(space.Format(pt)))
			}
		}
		seen[k] = i
	}
	return nil
}

// CheckReply checks a reply as it came over the wire and returns its points,
// in the reply's order.
func CheckReply(space *searchspace.Space, history *History, reply *pb.GetSuggestionsReply, want int) ([]searchspace.Point, error) {
	as := reply.GetParameterAssignments()
	if err := CheckCount(len(as), want, reply.GetSearchSpaceExhausted()); err != nil {
		return nil, err
	}
	points := make([]searchspace.Point, len(as))
	for i, a := range as {
		pt, err := space.ParseAssignments(a.GetAssignments())
		if err != nil {
			return nil, &Violation{Index: i, Message: err.Error(), Err: err}
		}
		points[i] = pt
	}
	if err := CheckPoints(space, history, points, reply.GetSearchSpaceExhausted(), want); err != nil {
		return nil, err
	}
	return points, nil
}

// checkPoint names the first parameter of pt outside its feasible space.
func checkPoint(space *searchspace.Space, pt searchspace.Point) error {
	if len(pt) != len(space.Params) {
		return fmt.Errorf("%d values for %d parameters", len(pt), len(space.Params))
	}
	for j, on := range space.Active(pt) {
		p := &space.Params[j]
		switch {
		case on && searchspace.IsInactive(pt[j]):
			return fmt.Errorf("parameter %q is active and has no value", p.Name)
		case !on && !searchspace.IsInactive(pt[j]):
			return fmt.Errorf("parameter %q is inactive (its parent %q does not activate it) and has a value, %s", p.Name, space.Params[p.Parent].Name, p.Format(pt[j]))
		case on && !p.Contains(pt[j]):
			return fmt.Errorf("parameter %q: %s is outside its feasible space", p.Name, p.Format(pt[j]))
		}
	}
	return nil
}

// Format writes assignments as name=value pairs, for messages.
func Format(as []*pb.ParameterAssignment) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.GetName() + "=" + a.GetValue()
	}
	return strings.Join(parts, " ")
}
