package observation

import (
	"cmp"
	"math"
	"slices"
	"strconv"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

// A metric's learning curve keeps its values by step, and is downsampled by
// one rule that depends only on the points reported, not on the order they
// came in nor on how often the curve was downsampled before. For a curve
// that may hold c points:
//
//   - the steps are cut into buckets of width w, a power of two, each
//     starting at a multiple of w, w the smallest for which the buckets from
//     the lowest step to the highest number at most c-4;
//   - each bucket keeps its lowest step;
//   - besides those, the curve keeps the highest step, the step reported
//     last, and the points of the smallest and of the largest value (the
//     lowest step among equal values).
//
// At most c-4 buckets and four more points make at most c. While the steps
// lie within c-4 consecutive values (96 epochs for a curve of 100 points),
// w is 1 and every point is kept. The lowest and the highest step are always kept, so w only
// grows; a bucket of width 2w is two buckets of width w, so its lowest step
// is the lower of theirs, and both were kept. Folding reports in one at a
// time thus keeps what downsampling all of them at once would, and a point
// once dropped would never have been kept: a trial of a million steps
// keeps between (c-4)/2 and c-4 evenly spread points, and the same ones
// whatever the order of its reports.
//
// A report at a step the curve holds replaces that point's value. The
// smallest and largest values are then those of the points kept: a point
// dropped before cannot come back.

// addPoint returns curve with value at step, a new point or the point of that
// step replaced, downsampled to at most capacity points (at least 6). The
// curve given is left as it was; one written by hand, out of order or with a
// step twice, is put in order first, the later of two equal steps winning.
func addPoint(curve []v1alpha1.CurvePoint, step int64, value string, capacity int) []v1alpha1.CurvePoint {
	out := make([]v1alpha1.CurvePoint, len(curve), len(curve)+1)
	copy(out, curve)
	if !inOrder(out) {
		out = putInOrder(out)
	}
	i, found := slices.BinarySearchFunc(out, step, func(p v1alpha1.CurvePoint, s int64) int { return cmp.Compare(p.Step, s) })
	if found {
		out[i].Value = value
	} else {
		out = slices.Insert(out, i, v1alpha1.CurvePoint{Step: step, Value: value})
	}
	return downsample(out, step, capacity)
}

// inOrder says whether the steps of curve increase strictly.
func inOrder(curve []v1alpha1.CurvePoint) bool {
	for i := 1; i < len(curve); i++ {
		if curve[i].Step <= curve[i-1].Step {
			return false
		}
	}
	return true
}

// putInOrder sorts curve by step and keeps the last of the points of one
// step.
func putInOrder(curve []v1alpha1.CurvePoint) []v1alpha1.CurvePoint {
	slices.SortStableFunc(curve, func(a, b v1alpha1.CurvePoint) int { return cmp.Compare(a.Step, b.Step) })
	out := curve[:0]
	for _, p := range curve {
		if n := len(out); n > 0 && out[n-1].Step == p.Step {
			out[n-1] = p
			continue
		}
		out = append(out, p)
	}
	return out
}

// downsample keeps, of curve (in order of strictly increasing steps), what
// the rule above keeps for a curve of capacity points whose latest report
// was at step latest. It reuses curve's array.
func downsample(curve []v1alpha1.CurvePoint, latest int64, capacity int) []v1alpha1.CurvePoint {
	if len(curve) == 0 {
		return curve
	}
	buckets := max(capacity, 6) - 4
	shift := bucketShift(curve[0].Step, curve[len(curve)-1].Step, buckets)
	if shift == 0 {
		return curve // a bucket per step: every point is kept
	}
	lo, hi := extremes(curve)
	out := curve[:0]
	for i, p := range curve {
		firstOfBucket := i == 0 || p.Step>>shift != curve[i-1].Step>>shift
		if firstOfBucket || i == len(curve)-1 || p.Step == latest || i == lo || i == hi {
			out = append(out, p)
		}
	}
	return out
}

// bucketShift returns the smallest k for which buckets of width 2^k, each
// starting at a multiple of it, cover lo to hi (lo <= hi) in at most n
// buckets (n >= 2).
func bucketShift(lo, hi int64, n int) uint {
	for k := uint(0); k < 63; k++ {
		// The count less one, exact in uint64 even for the widest span.
		if uint64(hi>>k)-uint64(lo>>k) <= uint64(n-1) {
			return k
		}
	}
	return 63 // two buckets: below zero and from zero
}

// extremes returns the index of the smallest and of the largest value of
// curve, the first of equal ones; -1 when no value is a number.
func extremes(curve []v1alpha1.CurvePoint) (lo, hi int) {
	lo, hi = -1, -1
	var min, max float64
	for i, p := range curve {
		v, err := strconv.ParseFloat(p.Value, 64)
		if err != nil || math.IsNaN(v) {
			continue // written by hand: kept only as its bucket's
		}
		if lo < 0 || v < min {
			lo, min = i, v
		}
		if hi < 0 || v > max {
			hi, max = i, v
		}
	}
	return lo, hi
}
