package smac

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 1)) }

// data builds a dataset from rows.
func data(cats []int, rows [][]float64, y []float64) *dataset {
	d := &dataset{cols: make([][]float64, len(cats)), y: y, cats: cats}
	for _, r := range rows {
		for j := range cats {
			d.cols[j] = append(d.cols[j], r[j])
		}
	}
	return d
}

func TestTreeFitsItsData(t *testing.T) {
	// One tree on all the data, grown to single samples, reproduces every
	// training response with no variance.
	single := forestConfig{trees: 1, minSplit: 2, minLeaf: 1, maxDepth: maxDepth, maxFeatures: 2}
	tests := []struct {
		name string
		cats []int
		rows [][]float64
		y    []float64
	}{
		{"step", []int{0, 0},
			[][]float64{{0.1, 0.5}, {0.2, 0.5}, {0.3, 0.5}, {0.7, 0.5}, {0.8, 0.5}, {0.9, 0.5}},
			[]float64{1, 1, 1, 5, 5, 5}},
		{"two features", []int{0, 0},
			[][]float64{{0.1, 0.9}, {0.2, 0.1}, {0.6, 0.4}, {0.9, 0.8}, {0.5, 0.5}},
			[]float64{3, -1, 2, 7, 0.5}},
		{"categories", []int{4, 0},
			[][]float64{{0, 0.5}, {1, 0.5}, {2, 0.5}, {3, 0.5}, {2, 0.1}},
			[]float64{4, 1, 3, 2, 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fitForest(data(tt.cats, tt.rows, tt.y), single, newRand(1))
			for i, r := range tt.rows {
				mean, v := f.predict(r)
				if math.Abs(mean-tt.y[i]) > 1e-12 || v > 1e-12 {
					t.Errorf("at %v: predicted %g ± %g, want the training value %g exactly", r, mean, v, tt.y[i])
				}
			}
		})
	}
}

func TestMinLeafAndSplit(t *testing.T) {
	rows := [][]float64{{0.1}, {0.2}, {0.3}, {0.4}, {0.5}, {0.6}}
	y := []float64{1, 2, 3, 4, 5, 6}
	tests := []struct {
		name              string
		minSplit, minLeaf float64
		leaves            int
	}{
		{"grown out", 2, 1, 6},
		{"leaves of 3", 2, 3, 2},
		{"no split below 7", 7, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := forestConfig{trees: 1, minSplit: tt.minSplit, minLeaf: tt.minLeaf, maxDepth: maxDepth, maxFeatures: 1}
			f := fitForest(data([]int{0}, rows, y), cfg, newRand(1))
			leaves := 0
			for _, n := range f.trees[0] {
				if n.feature < 0 {
					leaves++
				}
			}
			if leaves != tt.leaves {
				t.Errorf("%d leaves, want %d", leaves, tt.leaves)
			}
		})
	}
}

// TestCategoriesSplitAsSets puts categories 0 and 2 low, 1 and 3 high: one
// split separates them whatever their order in the list. Category 4 is never
// seen: the trees send it either way, so its prediction is uncertain.
func TestCategoriesSplitAsSets(t *testing.T) {
	var rows [][]float64
	var y []float64
	rng := newRand(3)
	for i := range 40 {
		c := i % 4
		rows = append(rows, []float64{float64(c), rng.Float64()})
		y = append(y, float64(10*(c%2))+0.1*rng.Float64())
	}
	cfg := forestConfig{trees: 10, minSplit: 2, minLeaf: 1, maxDepth: maxDepth, maxFeatures: 2, bootstrap: true}
	f := fitForest(data([]int{5, 0}, rows, y), cfg, newRand(4))
	var seenVar float64
	for c, want := range []float64{0, 10, 0, 10} {
		mean, v := f.predict([]float64{float64(c), 0.5})
		if math.Abs(mean-want) > 0.5 {
			t.Errorf("category %d: predicted %.3f, want about %g", c, mean, want)
		}
		seenVar = math.Max(seenVar, v)
	}
	if _, v := f.predict([]float64{4, 0.5}); v < 10*seenVar || v < 1 {
		t.Errorf("unseen category: variance %.3g, want well above the seen ones' %.3g", v, seenVar)
	}
	// The root splits the categories, not the noise.
	for _, tree := range f.trees {
		if root := tree[0]; root.feature != 0 || root.mask&0b1111 != 0b0101 && root.mask&0b1111 != 0b1010 {
			t.Errorf("root splits feature %d with mask %b, want categories {0, 2} from {1, 3}", root.feature, root.mask)
		}
	}
}

func TestPredictLawOfTotalVariance(t *testing.T) {
	leaf := func(mean, variance float64) []node { return []node{{feature: -1, mean: mean, variance: variance}} }
	tests := []struct {
		name           string
		trees          [][]node
		mean, variance float64
	}{
		{"one tree", [][]node{leaf(2, 0.5)}, 2, 0.5},
		{"agreeing trees", [][]node{leaf(2, 0.5), leaf(2, 1.5)}, 2, 1},
		{"disagreeing trees", [][]node{leaf(1, 0.5), leaf(3, 1.5)}, 2, 2},
		{"no leaf variance", [][]node{leaf(0, 0), leaf(1, 0), leaf(2, 0), leaf(5, 0)}, 2, 3.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &forest{trees: tt.trees, cats: []int{0}}
			mean, v := f.predict([]float64{0.5})
			if math.Abs(mean-tt.mean) > 1e-12 || math.Abs(v-tt.variance) > 1e-12 {
				t.Errorf("predict = %g, %g; want %g, %g", mean, v, tt.mean, tt.variance)
			}
		})
	}
}

func TestForestIsDeterministic(t *testing.T) {
	rng := newRand(7)
	var rows [][]float64
	var y []float64
	for range 50 {
		r := []float64{rng.Float64(), rng.Float64(), float64(rng.IntN(3))}
		rows = append(rows, r)
		y = append(y, r[0]*r[1]+r[2])
	}
	d := data([]int{0, 0, 3}, rows, y)
	cfg := forestConfig{trees: 10, minSplit: 2, minLeaf: 1, maxDepth: maxDepth, maxFeatures: 3, bootstrap: true}
	a, b, c := fitForest(d, cfg, newRand(1)), fitForest(d, cfg, newRand(1)), fitForest(d, cfg, newRand(2))
	same, differ := true, false
	for i := range 100 {
		x := []float64{float64(i%10) / 10, float64(i/10) / 10, float64(i % 3)}
		ma, va := a.predict(x)
		mb, vb := b.predict(x)
		mc, vc := c.predict(x)
		same = same && ma == mb && va == vb
		differ = differ || ma != mc || va != vc
	}
	if !same {
		t.Error("two forests grown from the same seed predict differently")
	}
	if !differ {
		t.Error("forests grown from seeds 1 and 2 predict the same everywhere")
	}
}

func TestLogEI(t *testing.T) {
	// direct is EI by the textbook formula, where it does not underflow.
	direct := func(eta, mean, sd float64) float64 {
		z := (eta - mean) / sd
		cdf := func(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }
		return math.Exp(eta)*cdf(z) - math.Exp(mean+sd*sd/2)*cdf(z-sd)
	}
	for _, c := range []struct{ eta, mean, sd float64 }{
		{-2, -2, 1}, {-2, -3, 0.5}, {-2, -1, 0.5}, {0, -4, 2}, {-5, -1, 3}, {-1, -1.01, 0.01}, {-3, 0, 1},
	} {
		want := math.Log(direct(c.eta, c.mean, c.sd))
		if got := logEI(c.eta, c.mean, c.sd); math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("logEI(%g, %g, %g) = %.12g, want %.12g", c.eta, c.mean, c.sd, got, want)
		}
	}
	// Far from improvement EI underflows, but its logarithm still ranks:
	// a worse mean or a smaller sd gives less.
	far := []struct{ mean, sd float64 }{{20, 1}, {30, 1}, {30, 0.5}, {60, 0.5}}
	prev := math.Inf(1)
	for _, c := range far {
		got := logEI(0, c.mean, c.sd)
		if math.IsInf(got, 0) || math.IsNaN(got) || got >= prev {
			t.Errorf("logEI(0, %g, %g) = %g, want finite and below %g", c.mean, c.sd, got, prev)
		}
		prev = got
	}
	if got := logEI(-1, -1, 0); !math.IsInf(got, -1) {
		t.Errorf("logEI with no uncertainty and no improvement = %g, want -Inf", got)
	}
	if got, want := logEI(0, -1, 0), math.Log(1-math.Exp(-1)); math.Abs(got-want) > 1e-12 {
		t.Errorf("logEI with no uncertainty = %g, want the improvement's log %g", got, want)
	}
}

func TestLogScale(t *testing.T) {
	tests := []struct {
		name   string
		losses []float64
	}{
		{"spread", []float64{5, 1, 3, 2, 4, 10, 1.5, 7, 8, 6}},
		{"tied best", []float64{1, 1, 2, 3}},
		{"negative", []float64{-100, -3, -50, 20}},
		{"infinite", []float64{2, math.Inf(1), 1, math.Inf(-1), 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, worst := logScale(tt.losses)
			if worst != 0 {
				t.Errorf("worst = %g, want 0", worst)
			}
			for i := range tt.losses {
				if math.IsNaN(got[i]) || math.IsInf(got[i], 0) || got[i] > 0 {
					t.Errorf("loss %g scaled to %g, want a finite value at most 0", tt.losses[i], got[i])
				}
				for j := range tt.losses {
					if tt.losses[i] < tt.losses[j] && !(got[i] < got[j]) && !math.IsInf(tt.losses[i], 0) && !math.IsInf(tt.losses[j], 0) {
						t.Errorf("losses %g < %g scaled to %g, %g: order lost", tt.losses[i], tt.losses[j], got[i], got[j])
					}
				}
			}
		})
	}
	if got, _ := logScale([]float64{3, 3, 3}); got[0] != 0 || got[1] != 0 || got[2] != 0 {
		t.Errorf("equal losses scaled to %v, want zeros", got)
	}
}

func BenchmarkForestFit(b *testing.B) {
	for _, n := range []int{100, 500} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			rng := newRand(1)
			var rows [][]float64
			var y []float64
			for range n {
				r := []float64{rng.Float64(), rng.Float64(), rng.Float64(), float64(rng.IntN(5))}
				rows = append(rows, r)
				y = append(y, r[0]*r[1]+r[2]+r[3])
			}
			d := data([]int{0, 0, 0, 5}, rows, y)
			cfg := forestConfig{trees: 10, minSplit: minSplit, minLeaf: minLeaf, maxDepth: maxDepth, maxFeatures: 4, bootstrap: true}
			for b.Loop() {
				fitForest(d, cfg, rng)
			}
		})
	}
}

// The forest's subset of a long history holds the best quarter and the
// latest quarter of the rest, by trial, in order.
func TestForestSubset(t *testing.T) {
	n := 1000
	y, trial := make([]float64, n), make([]int, n)
	for i := range y {
		y[i] = float64((i * 7919) % n)
		trial[i] = n - 1 - i // observations listed latest first
	}
	got := forestSubset(y, trial, 200, rand.New(rand.NewPCG(1, 2)))
	if len(got) != 200 || !slices.IsSorted(got) {
		t.Fatalf("forestSubset = %v, want 200 indices in order", got)
	}
	in := map[int]bool{}
	for _, i := range got {
		in[i] = true
	}
	latest := 0
	for i := range y { // latest trial first
		if y[i] < 50 && !in[i] {
			t.Errorf("observation %d, among the best 50, left out", i)
		}
		if y[i] >= 50 && latest < 50 {
			if !in[i] {
				t.Errorf("observation %d, among the latest 50 of the rest, left out", i)
			}
			latest++
		}
	}
}
