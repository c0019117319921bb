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
	type key struct {
		t      *v1alpha1.Trial
		unix   int64
		prefix string
		n      uint64
		ok     bool
	}
	keys := make([]key, len(trials))
	for i, t := range trials {
		k := key{t: t, unix: t.CreationTimestamp.Unix()}
		k.prefix, k.n, k.ok = numbered(t.Name)
		keys[i] = k
	}
	slices.SortStableFunc(keys, func(a, b key) int {
		if c := cmp.Compare(a.unix, b.unix); c != 0 {
			return c
		}
		if a.ok && b.ok && a.prefix == b.prefix && a.n != b.n {
			return cmp.Compare(a.n, b.n)
		}
		return strings.Compare(a.t.Name, b.t.Name)
	})
	for i := range keys {
		trials[i] = keys[i].t
	}
}

// numbered splits a name such as exp-12 into exp and 12.
func numbered(name string) (string, uint64, bool) {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return "", 0, false
	}
	n, err := strconv.ParseUint(name[i+1:], 10, 64)
	return name[:i], n, err == nil
}
