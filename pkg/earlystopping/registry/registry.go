// Package registry is the one list of Knobs' early-stopping algorithms, by
// the name an Experiment gives in spec.earlyStopping.algorithmName. Each is
// served by the function of its name, resolved as a search algorithm's is.
package registry

import (
	"knobs.dev/knobs/pkg/earlystopping"
	"knobs.dev/knobs/pkg/earlystopping/asha"
	"knobs.dev/knobs/pkg/earlystopping/medianstop"
	"knobs.dev/knobs/pkg/named"
)

// Entry is one early-stopping algorithm.
type Entry struct {
	// Name is the algorithm's name in an Experiment and in its function's
	// Knative Service label.
	Name      string
	Algorithm earlystopping.Algorithm
}

var entries = named.NewList("early-stopping algorithm", func(e Entry) string { return e.Name },
	Entry{Name: "medianstop", Algorithm: medianstop.MedianStop{}},
	Entry{Name: "asha", Algorithm: asha.ASHA{}},
)

// All returns every early-stopping algorithm, in a fixed order.
func All() []Entry { return entries.All() }

// Names returns every early-stopping algorithm's name, sorted.
func Names() []string { return entries.Names() }

// Lookup returns the early-stopping algorithm of the given name.
func Lookup(name string) (Entry, bool) { return entries.Lookup(name) }

// MustLookup is Lookup for a name known to be listed, as a function's main
// has.
func MustLookup(name string) Entry { return entries.MustLookup(name) }
