package reconciler

import (
	"sort"
	"strconv"
	"strings"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

// SortTrials puts an experiment's Trials in the order they came to be:
// by creation time, then, within the same second, by name with the number
// at its end read as a number (exp-9 before exp-10), so that the trials of
// handed-out assignments keep the order of the assignments.
func SortTrials(trials []*v1alpha1.Trial) {
	sort.SliceStable(trials, func(i, j int) bool {
		ti, tj := trials[i].CreationTimestamp, trials[j].CreationTimestamp
		if !ti.Equal(&tj) {
			return ti.Before(&tj)
		}
		return nameLess(trials[i].Name, trials[j].Name)
	})
}

// nameLess orders names as text, except that names that differ only in the
// number after their last dash are ordered by that number.
func nameLess(a, b string) bool {
	pa, na, oka := numbered(a)
	pb, nb, okb := numbered(b)
	if oka && okb && pa == pb && na != nb {
		return na < nb
	}
	return a < b
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
