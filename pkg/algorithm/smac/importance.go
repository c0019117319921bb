package smac

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"

	"knobs.dev/knobs/pkg/searchspace"
)

// importanceTrees is the size of the forest Importance fits: more trees than
// a suggestion needs, since the shares are averages over the trees.
const importanceTrees = 32

// Importance says how much each parameter of space matters to the loss: the
// share of the variance of the loss that the parameter explains on its own,
// in [0, 1], one per parameter in the order of the space. It fits the forest
// SMAC fits, on the same log-scaled losses, and takes from each tree the
// first-order main effects of fANOVA (Hutter, Hoos and Leyton-Brown, ICML
// 2014): a tree cuts the unit cube of the priors into boxes, so the mean of
// its prediction over all parameters but one is a step function of that one,
// whose variance over the prior, divided by the tree's total variance, is
// the parameter's share. The shares are averaged over the trees; they add up
// to at most 1, and the rest is what parameters do together.
//
// points and losses pair up, losses to be minimised; infinite ones count as
// the best or worst finite one, as in suggestions. With fewer than two
// distinct losses nothing can be said, and every share is 0. The same input
// gives the same shares.
func Importance(space *searchspace.Space, points []searchspace.Point, losses []float64) ([]float64, error) {
	if len(points) != len(losses) {
		return nil, fmt.Errorf("%d points but %d losses: give one loss per point", len(points), len(losses))
	}
	d := space.Len()
	shares := make([]float64, d)
	for i, pt := range points {
		if len(pt) != d {
			return nil, fmt.Errorf("point %d has %d values, the space %d parameters", i, len(pt), d)
		}
		if math.IsNaN(losses[i]) {
			return nil, errors.New("a loss is NaN: leave out the trials without a value")
		}
		if slices.ContainsFunc(pt, searchspace.IsInactive) {
			// The variance is taken over the unit cube, where an inactive
			// parameter has no place.
			return nil, fmt.Errorf("point %d has an inactive parameter: give points with every parameter active", i)
		}
	}
	if len(points) < minObservations || d == 0 {
		return shares, nil
	}
	cats := categorySets(space)
	y, _ := logScale(losses)
	data := &dataset{cols: make([][]float64, d), y: y, cats: cats}
	for j := range data.cols {
		data.cols[j] = make([]float64, len(points))
	}
	for i, pt := range points {
		for j, v := range encode(space, cats, pt) {
			data.cols[j][i] = v
		}
	}
	cfg := forestConfig{trees: importanceTrees, minSplit: minSplit, minLeaf: minLeaf, maxDepth: maxDepth, maxFeatures: d, bootstrap: true}
	f := fitForest(data, cfg, rand.New(rand.NewPCG(uint64(len(points)), 0x616e6f7661)))
	counted := 0
	for _, t := range f.trees {
		if treeShares(t, cats, shares) {
			counted++
		}
	}
	if counted > 0 {
		for j := range shares {
			shares[j] /= float64(counted)
		}
	}
	return shares, nil
}

// box is a leaf's part of the unit cube: an interval of each numeric feature
// and a set of categories of each categorical one.
type box struct {
	mean   float64
	lo, hi []float64
	mask   []uint64
	size   []float64 // the box's measure along each feature
	vol    float64
}

// treeShares adds the tree's share of variance of each feature to shares; it
// reports false, adding nothing, for a tree that predicts a constant.
func treeShares(t []node, cats []int, shares []float64) bool {
	d := len(cats)
	lo, hi, mask := make([]float64, d), make([]float64, d), make([]uint64, d)
	for j := range d {
		hi[j] = 1
		if cats[j] > 0 {
			mask[j] = allCategories(cats[j])
		}
	}
	var leaves []box
	var walk func(i int32)
	walk = func(i int32) {
		n := &t[i]
		j := n.feature
		if j < 0 {
			b := box{mean: n.mean, lo: slices.Clone(lo), hi: slices.Clone(hi), mask: slices.Clone(mask), size: make([]float64, d), vol: 1}
			for k := range d {
				if cats[k] > 0 {
					b.size[k] = float64(bits.OnesCount64(b.mask[k])) / float64(cats[k])
				} else {
					b.size[k] = b.hi[k] - b.lo[k]
				}
				b.vol *= b.size[k]
			}
			leaves = append(leaves, b)
			return
		}
		if cats[j] > 0 {
			m := mask[j]
			mask[j] = m & n.mask
			walk(n.left)
			mask[j] = m &^ n.mask
			walk(n.right)
			mask[j] = m
			return
		}
		h, l := hi[j], lo[j]
		hi[j] = math.Min(h, n.threshold)
		walk(n.left)
		hi[j] = h
		lo[j] = math.Max(l, n.threshold)
		walk(n.right)
		lo[j] = l
	}
	walk(0)

	var f0, f2 float64
	for _, b := range leaves {
		f0 += b.vol * b.mean
		f2 += b.vol * b.mean * b.mean
	}
	total := f2 - f0*f0
	if total <= 1e-12*math.Max(1, f2) {
		return false
	}
	type event struct{ at, delta float64 }
	events := make([]event, 0, 2*len(leaves))
	for j := range d {
		var v float64
		if cats[j] > 0 {
			// The marginal at category c: the mean over the boxes that hold c.
			for c := range cats[j] {
				var m float64
				for _, b := range leaves {
					if b.size[j] > 0 && b.mask[j]&(1<<uint(c)) != 0 {
						m += b.mean * b.vol / b.size[j]
					}
				}
				v += m * m / float64(cats[j])
			}
		} else {
			// The marginal is a step function of x_j; sweep its steps.
			events = events[:0]
			for _, b := range leaves {
				if b.size[j] > 0 {
					c := b.mean * b.vol / b.size[j]
					events = append(events, event{b.lo[j], c}, event{b.hi[j], -c})
				}
			}
			slices.SortFunc(events, func(a, b event) int { return cmp.Compare(a.at, b.at) })
			var cur, prev float64
			for _, e := range events {
				if e.at > prev {
					v += (e.at - prev) * cur * cur
					prev = e.at
				}
				cur += e.delta
			}
		}
		shares[j] += min(max(v-f0*f0, 0)/total, 1)
	}
	return true
}

func allCategories(k int) uint64 {
	if k >= 64 {
		return ^uint64(0)
	}
	return 1<<uint(k) - 1
}
