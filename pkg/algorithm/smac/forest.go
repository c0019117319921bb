package smac

import (
	"math"
	"math/rand/v2"
	"slices"
)

// maxCategories is the largest categorical parameter the forest splits as a
// set of categories (a 64-bit mask per split); larger ones are split by their
// position in the list, as numbers.
const maxCategories = 64

// forestConfig holds the shape of a regression forest.
type forestConfig struct {
	trees       int
	minSplit    float64 // fewest (bootstrap-weighted) samples a node needs to split
	minLeaf     float64 // fewest samples on either side of a split
	maxDepth    int
	maxFeatures int  // features tried at each split; at most the number of features
	bootstrap   bool // each tree sees a bootstrap sample; otherwise all samples
}

// dataset is the training data of a forest: n samples of d features, stored
// by column.
type dataset struct {
	cols [][]float64 // cols[j][i] is feature j of sample i
	y    []float64
	// cats[j] is the number of categories of a categorical feature j, whose
	// values are 0, 1, ..., cats[j]-1; 0 for a numeric feature.
	cats []int
}

func (d *dataset) len() int { return len(d.y) }

// node is a node of a regression tree. A leaf has feature -1.
type node struct {
	feature     int32
	left, right int32
	// threshold sends a numeric value x left when x <= threshold; mask sends
	// category c left when bit c is set.
	threshold float64
	mask      uint64
	// mean and variance of the training responses that reached the node.
	mean, variance float64
}

// forest is a random forest of regression trees.
type forest struct {
	trees [][]node
	cats  []int
}

// fitForest grows a forest on data. Every random choice comes from rng.
func fitForest(data *dataset, cfg forestConfig, rng *rand.Rand) *forest {
	n, d := data.len(), len(data.cols)
	f := &forest{cats: data.cats}
	if n == 0 {
		return f
	}
	// Sort the samples along every feature once; each tree keeps the order
	// of its own samples and splits it node by node (a presorted CART).
	sorted := make([][]int32, d)
	for j := range sorted {
		idx := make([]int32, n)
		for i := range idx {
			idx[i] = int32(i)
		}
		col := data.cols[j]
		slices.SortStableFunc(idx, func(a, b int32) int {
			switch {
			case col[a] < col[b]:
				return -1
			case col[a] > col[b]:
				return 1
			}
			return 0
		})
		sorted[j] = idx
	}
	b := &builder{
		data:    data,
		cfg:     cfg,
		rng:     rng,
		w:       make([]float64, n),
		order:   make([][]int32, d),
		left:    make([]bool, n),
		scratch: make([]int32, 0, n),
		feats:   make([]int, d),
		catW:    make([]float64, maxCategories),
		catS:    make([]float64, maxCategories),
		catIdx:  make([]int, 0, maxCategories),
	}
	for j := range b.order {
		b.order[j] = make([]int32, 0, n)
	}
	f.trees = make([][]node, cfg.trees)
	for t := range f.trees {
		// Weights count how often the bootstrap drew each sample; a sample
		// drawn k times weighs as k copies.
		for i := range b.w {
			b.w[i] = 0
		}
		if cfg.bootstrap {
			for range n {
				b.w[rng.IntN(n)]++
			}
		} else {
			for i := range b.w {
				b.w[i] = 1
			}
		}
		for j := range b.order {
			b.order[j] = b.order[j][:0]
			for _, i := range sorted[j] {
				if b.w[i] > 0 {
					b.order[j] = append(b.order[j], i)
				}
			}
		}
		b.nodes = make([]node, 0, 2*len(b.order[0]))
		b.grow(0, len(b.order[0]), 0)
		f.trees[t] = b.nodes
	}
	return f
}

// builder grows one tree at a time. For the node being grown, order[j][lo:hi]
// holds its samples sorted by feature j, for every j.
type builder struct {
	data    *dataset
	cfg     forestConfig
	rng     *rand.Rand
	w       []float64
	order   [][]int32
	left    []bool
	scratch []int32
	feats   []int
	nodes   []node

	catW, catS []float64
	catIdx     []int
}

// split is a candidate split of a node.
type split struct {
	feature int
	score   float64 // sum over both sides of (sum of y)^2 / weight; higher is better
	// numeric: the split lies between the values lo and hi.
	lo, hi float64
	// categorical: the categories sent left, and those seen at the node.
	mask, seen uint64
}

func (b *builder) grow(lo, hi, depth int) int32 {
	y := b.data.y
	var sw, sy float64
	ids := b.order[0][lo:hi]
	for _, i := range ids {
		sw += b.w[i]
		sy += b.w[i] * y[i]
	}
	mean := sy / sw
	var sse float64
	for _, i := range ids {
		e := y[i] - mean
		sse += b.w[i] * e * e
	}
	at := int32(len(b.nodes))
	b.nodes = append(b.nodes, node{feature: -1, mean: mean, variance: sse / sw})
	// A node too small, too deep or pure stays a leaf.
	if sw < b.cfg.minSplit || depth >= b.cfg.maxDepth || sse <= 1e-12*sw*math.Max(1, mean*mean) {
		return at
	}

	// Try maxFeatures features in random order; keep the best split.
	for j := range b.feats {
		b.feats[j] = j
	}
	best := split{feature: -1, score: sy * sy / sw * (1 + 1e-12)}
	for k := 0; k < b.cfg.maxFeatures && k < len(b.feats); k++ {
		r := k + b.rng.IntN(len(b.feats)-k)
		b.feats[k], b.feats[r] = b.feats[r], b.feats[k]
		j := b.feats[k]
		var s split
		if b.data.cats[j] > 0 {
			s = b.bestCategorical(j, lo, hi, sw, sy)
		} else {
			s = b.bestNumeric(j, lo, hi, sw, sy)
		}
		if s.feature >= 0 && s.score > best.score {
			best = s
		}
	}
	if best.feature < 0 {
		return at
	}

	// Fix the split, then partition every feature's order stably.
	n := &b.nodes[at]
	n.feature = int32(best.feature)
	col := b.data.cols[best.feature]
	if b.data.cats[best.feature] > 0 {
		// Categories not seen at this node go either way at random, so the
		// trees disagree about them.
		mask := best.mask
		for c := range b.data.cats[best.feature] {
			if best.seen&(1<<c) == 0 && b.rng.IntN(2) == 0 {
				mask |= 1 << c
			}
		}
		n.mask = mask
		for _, i := range ids {
			b.left[i] = mask&(1<<uint(col[i])) != 0
		}
	} else {
		// Anywhere strictly between the two values separates the same
		// samples; a random place makes the forest's mean smoother.
		t := best.lo + b.rng.Float64()*(best.hi-best.lo)
		if t >= best.hi || t < best.lo {
			t = best.lo
		}
		n.threshold = t
		for _, i := range ids {
			b.left[i] = col[i] <= t
		}
	}
	mid := lo
	for j := range b.order {
		part := b.order[j][lo:hi]
		right := b.scratch[:0]
		k := 0
		for _, i := range part {
			if b.left[i] {
				part[k] = i
				k++
			} else {
				right = append(right, i)
			}
		}
		copy(part[k:], right)
		mid = lo + k
	}
	l := b.grow(lo, mid, depth+1)
	r := b.grow(mid, hi, depth+1)
	b.nodes[at].left, b.nodes[at].right = l, r
	return at
}

// bestNumeric scans the node's samples in order of feature j for the split
// that most reduces the squared error.
func (b *builder) bestNumeric(j, lo, hi int, sw, sy float64) split {
	best := split{feature: -1}
	col, y := b.data.cols[j], b.data.y
	ids := b.order[j][lo:hi]
	var lw, ls float64
	for k := 0; k < len(ids)-1; k++ {
		i := ids[k]
		lw += b.w[i]
		ls += b.w[i] * y[i]
		x, next := col[i], col[ids[k+1]]
		if x == next || lw < b.cfg.minLeaf || sw-lw < b.cfg.minLeaf {
			continue
		}
		rs := sy - ls
		if s := ls*ls/lw + rs*rs/(sw-lw); best.feature < 0 || s > best.score {
			best = split{feature: j, score: s, lo: x, hi: next}
		}
	}
	return best
}

// bestCategorical orders the categories present at the node by their mean
// response and scans that order for the best split, which is the best split
// of the categories into two sets for squared error.
func (b *builder) bestCategorical(j, lo, hi int, sw, sy float64) split {
	best := split{feature: -1}
	col, y := b.data.cols[j], b.data.y
	k := b.data.cats[j]
	for c := range k {
		b.catW[c], b.catS[c] = 0, 0
	}
	for _, i := range b.order[j][lo:hi] {
		c := int(col[i])
		b.catW[c] += b.w[i]
		b.catS[c] += b.w[i] * y[i]
	}
	present := b.catIdx[:0]
	var seen uint64
	for c := range k {
		if b.catW[c] > 0 {
			present = append(present, c)
			seen |= 1 << c
		}
	}
	if len(present) < 2 {
		return best
	}
	slices.SortStableFunc(present, func(a, c int) int {
		ma, mc := b.catS[a]/b.catW[a], b.catS[c]/b.catW[c]
		switch {
		case ma < mc:
			return -1
		case ma > mc:
			return 1
		}
		return 0
	})
	var lw, ls float64
	var mask uint64
	for _, c := range present[:len(present)-1] {
		lw += b.catW[c]
		ls += b.catS[c]
		mask |= 1 << c
		if lw < b.cfg.minLeaf || sw-lw < b.cfg.minLeaf {
			continue
		}
		rs := sy - ls
		if s := ls*ls/lw + rs*rs/(sw-lw); best.feature < 0 || s > best.score {
			best = split{feature: j, score: s, mask: mask, seen: seen}
		}
	}
	return best
}

// predict returns the forest's predictive mean and variance at x: the mean of
// the trees' leaf means, and by the law of total variance the mean of the
// leaves' variances plus the variance of their means.
func (f *forest) predict(x []float64) (mean, variance float64) {
	if len(f.trees) == 0 {
		return 0, 1
	}
	var sm, smm, sv float64
	for _, t := range f.trees {
		n := f.leaf(t, x)
		sm += n.mean
		smm += n.mean * n.mean
		sv += n.variance
	}
	k := float64(len(f.trees))
	mean = sm / k
	return mean, sv/k + math.Max(smm/k-mean*mean, 0)
}

func (f *forest) leaf(t []node, x []float64) *node {
	n := &t[0]
	for n.feature >= 0 {
		v := x[n.feature]
		var left bool
		if f.cats[n.feature] > 0 {
			left = n.mask&(1<<uint(v)) != 0
		} else {
			left = v <= n.threshold
		}
		if left {
			n = &t[n.left]
		} else {
			n = &t[n.right]
		}
	}
	return n
}
