// Package named is a fixed list of things known by name, in an order of
// their own: what the registries of search and early-stopping algorithms
// are built on.
package named

import (
	"fmt"
	"sort"
)

// List is a fixed list of entries, each known by the name nameOf gives it.
type List[E any] struct {
	kind    string
	nameOf  func(E) string
	entries []E
}

// NewList returns the list of entries, in their order; kind says what they
// are ("algorithm") in MustLookup's panic.
func NewList[E any](kind string, nameOf func(E) string, entries ...E) List[E] {
	return List[E]{kind: kind, nameOf: nameOf, entries: entries}
}

// All returns every entry, in the list's order, as a copy.
func (l List[E]) All() []E { return append([]E(nil), l.entries...) }

// Names returns every entry's name, sorted.
func (l List[E]) Names() []string {
	out := make([]string, len(l.entries))
	for i, e := range l.entries {
		out[i] = l.nameOf(e)
	}
	sort.Strings(out)
	return out
}

// Lookup returns the entry of the given name.
func (l List[E]) Lookup(name string) (E, bool) {
	for _, e := range l.entries {
		if l.nameOf(e) == name {
			return e, true
		}
	}
	var zero E
	return zero, false
}

// MustLookup returns the entry of the given name, and panics when there is
// none: for a program's main, whose name is a constant.
func (l List[E]) MustLookup(name string) E {
	e, ok := l.Lookup(name)
	if !ok {
		panic(fmt.Sprintf("no %s %q is registered; known: %v", l.kind, name, l.Names()))
	}
	return e
}
