package reconciler

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

// SortTrials puts an experiment's Trials in the order they came to be:
// by creation time, then, within the same second, by name with the number
// at its end read as a number (exp-9 before exp-10), so that the trials of
// handed-out assignments keep the order of the assignments.
func SortTrials(trials []*v1alpha1.Trial) {
	type keyed struct {
		t *v1alpha1.Trial
		k OrderKey
	}
	keys := make([]keyed, len(trials))
	for i, t := range trials {
		keys[i] = keyed{t: t, k: OrderOf(t)}
	}
	slices.SortStableFunc(keys, func(a, b keyed) int { return a.k.Compare(&b.k) })
	for i := range keys {
		trials[i] = keys[i].t
	}
}

// OrderKey is what places a Trial in the order of SortTrials: its creation
// time and its name, the number at the end of the name read once. Neither
// changes in a Trial's life, so a key can be kept as long as the Trial.
type OrderKey struct {
	unix int64
	name string
	n    uint64
	// prefix is the length of the name before the number at its end, -1
	// when it has none.
	prefix int32
}

// OrderOf returns the key of t in the order of SortTrials.
func OrderOf(t *v1alpha1.Trial) OrderKey {
	k := OrderKey{unix: t.CreationTimestamp.Unix(), name: t.Name, prefix: -1}
	if i := strings.LastIndexByte(t.Name, '-'); i >= 0 {
		if n, err := strconv.ParseUint(t.Name[i+1:], 10, 64); err == nil {
			k.n, k.prefix = n, int32(i)
		}
	}
	return k
}

// Compare returns -1, 0 or 1 as k comes before, with, or after o in the
// order of SortTrials: a name such as exp-9 before exp-10.
func (k *OrderKey) Compare(o *OrderKey) int {
	if c := cmp.Compare(k.unix, o.unix); c != 0 {
		return c
	}
	if k.prefix >= 0 && o.prefix >= 0 && k.n != o.n && k.name[:k.prefix] == o.name[:o.prefix] {
		return cmp.Compare(k.n, o.n)
	}
	return strings.Compare(k.name, o.name)
}
