// Package registry is the one list of Knobs' early-stopping algorithms, by
// the name an Experiment gives in spec.earlyStopping.algorithmName. Each is
// served by the function of its name, resolved as a search algorithm's is.
package registry

import (
	"fmt"
	"sort"

	"knobs.dev/knobs/pkg/earlystopping"
	"knobs.dev/knobs/pkg/earlystopping/asha"
	"knobs.dev/knobs/pkg/earlystopping/medianstop"
)

// Entry is one early-stopping algorithm.
type Entry struct {
	// Name is the algorithm's name in an Experiment and in its function's
	// Knative Service label.
	Name      string
	Algorithm earlystopping.Algorithm
}

var entries = []Entry{
	{Name: "medianstop", Algorithm: medianstop.MedianStop{}},
	{Name: "asha", Algorithm: asha.ASHA{}},
}

// All returns every early-stopping algorithm, in a fixed order.
func All() []Entry { return append([]Entry(nil), entries...) }

// Names returns every early-stopping algorithm's name, sorted.
func Names() []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Name
	}
	sort.Strings(out)
	return out
}

// Lookup returns the early-stopping algorithm of the given name.
func Lookup(name string) (Entry, bool) {
	for _, e := range entries {
		if e.Name == name {
			return e, true
		}
	}
	return Entry{}, false
}

// MustLookup is Lookup for a name known to be listed, as a function's main
// has.
func MustLookup(name string) Entry {
	e, ok := Lookup(name)
	if !ok {
		panic(fmt.Sprintf("no early-stopping algorithm %q: the list has %v", name, Names()))
	}
	return e
}
