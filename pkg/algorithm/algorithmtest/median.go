package algorithmtest

import "slices"

// Median is the median of values: the middle one, or the mean of the two
// middle ones.
func Median(values []float64) float64 {
	s := slices.Clone(values)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
