// Package smac is SMAC, sequential model-based algorithm configuration
// (Hutter, Hoos and Leyton-Brown, LION 2011), with the defaults of SMAC3's
// facade for hyperparameter optimisation.
//
// After an initial design, SMAC models the loss with a random forest and
// suggests the point of highest expected improvement under the model. A
// forest, unlike a Gaussian process, needs no kernel for categories, does not
// care how parameters are scaled, and fits in O(n log n): it suits mixed
// spaces of ints, log-scaled doubles and categories, and long histories.
//
// Each call rebuilds everything from the request:
//
//   - Initial design: the first n_initial_points points (default 10) come
//     from a Latin hypercube in the unit cube of the priors, fixed by the seed
//     alone, so that successive calls hand out its points in turn. (SMAC3
//     uses a scrambled Sobol design; a Latin hypercube spreads as well over
//     so few points and needs no table of direction numbers.)
//   - Losses: the objective as a loss to minimise, log-scaled as SMAC3 does:
//     scaled to (0, 1] with the best loss lifted off zero by its distance to
//     the 5th percentile, then logged, so that the model resolves the region
//     near the best. A FAILED trial counts as the worst loss seen, as SMAC3
//     counts a crash, so the model learns to avoid what fails; trials without
//     a value for other reasons teach nothing.
//   - Model: 10 trees (n_trees), each grown on a bootstrap sample, splitting
//     until a node holds fewer than 2 samples or is pure (SMAC3's HPO facade:
//     min_samples_split 2, min_samples_leaf 1, every feature tried at each
//     split). Features are the unit-cube values of numeric parameters, so
//     splits follow each prior (log-uniform parameters split in log space);
//     categories are split as sets, ordered by their mean loss at the node,
//     which finds the best two-way partition. The prediction is the mean of
//     the trees' leaf means, with the variance of the law of total
//     variance: the mean of the leaves' variances plus the variance of the
//     trees' means. Past 2000 observations the trees grow on 2000 of them:
//     the best quarter, the latest quarter of the others and a random draw
//     from the rest, so that the fit's cost stops growing with the history;
//     the best predicted loss and the local searches' starts still come
//     from every observation. At 10,000 trials of 20 dimensions a call for
//     one point takes about 0.25 s of CPU, 0.15 s of it reading the request
//     (knobs-bench -cost).
//   - Acquisition: expected improvement of the loss over the best predicted
//     loss among the points tried, for a model of the log loss (SMAC3's EI
//     with log=True), computed as a logarithm so it keeps ranking points far
//     from any improvement.
//   - Maximising it: 1000 random points from the prior ranked by EI, and a
//     local search from each of the 10 best points tried (by predicted loss)
//     and the 10 best random points. A step moves to the first neighbour that
//     improves EI, in random order; the neighbours differ in one parameter: a
//     Gaussian step of standard deviation 0.2 in the unit cube for numbers,
//     another value for a category (SMAC3's one-exchange neighbourhood).
//     SMAC3 ranks 10000 random points; 1000 cost a tenth and found as good
//     points on our benchmarks, where the local search does the work.
//   - Random interleaving: after the initial design each point is, with
//     probability random_fraction (default 0.2, SMAC3's
//     ProbabilityRandomDesign), a random draw from the prior instead, which
//     keeps SMAC's convergence guarantee and escapes a misled model.
//   - Batches: pending and running trials, and the points already chosen for
//     this reply, join the training data as a "constant liar" with the loss
//     the model predicts for them, and the forest is refit before each model
//     point, so a batch spreads out instead of piling onto one optimum. After
//     32 model points in one reply the rest are random draws, to bound the
//     cost of huge batches.
//
// Conditional parameters are honoured as SMAC3 honours them: an inactive
// numeric parameter's feature is -1, outside the unit cube, and an inactive
// category is a category of its own, so that one split sets apart the
// trials without the parameter; random points and the initial design drop
// the parameters their parents leave inactive; a local search step never
// moves an inactive parameter, and a step that changes a parent draws the
// children it activates from their priors and drops those it deactivates
// (searchspace.Space.Activate).
//
// SMAC's intensification, which re-runs configurations on more instances or
// seeds, is left out: a trial here is one evaluation, and Knobs never repeats
// a point.
//
// The forest is written here rather than taken from a library: Go has no
// regression forest that reports per-tree leaf variances and splits
// categories as sets, and the whole of it is a couple of hundred lines that
// fit a hundred trials in well under a millisecond.
package smac

import (
	"cmp"
	"context"
	"math"
	"math/rand/v2"
	"slices"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/random"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// The algorithm settings.
const (
	SettingInitialPoints  = "n_initial_points"
	SettingTrees          = "n_trees"
	SettingRandomFraction = "random_fraction"
)

// Tuning of the acquisition maximiser and the forest, after SMAC3's defaults.
const (
	challengers        = 1000 // random points ranked by EI
	localStarts        = 10   // local searches from the best tried and the best random points each
	numericNeighbours  = 4    // neighbours per numeric parameter in one step
	categoryNeighbours = 8    // at most this many other categories in one step
	maxSteps           = 30   // steps of one local search
	stepSD             = 0.2  // standard deviation of a numeric step in the unit cube
	maxModelPoints     = 32   // model-based points in one reply; the rest are random
	maxForestPoints    = 2000 // observations the forest is grown on (see forestSubset)
	minObservations    = 2    // completed trials the model needs
	minSplit           = 2
	minLeaf            = 1
	maxDepth           = 1 << 20
)

// SMAC is the SMAC algorithm.
type SMAC struct{}

var _ algorithm.Algorithm = SMAC{}

// Settings implements algorithm.Algorithm.
func (SMAC) Settings() []algorithm.Setting {
	return []algorithm.Setting{
		algorithm.IntSetting(SettingInitialPoints,
			"points of the initial design (a Latin hypercube over the priors) before the random forest guides the search",
			10, 1, 10000),
		algorithm.IntSetting(SettingTrees, "trees in the random forest that models the objective", 10, 1, 100),
		algorithm.FloatSetting(SettingRandomFraction,
			"probability that a point after the initial design is drawn from the prior instead of chosen by the model",
			0.2, 0, 1, false),
		algorithm.SeedSetting(),
	}
}

// Validate implements algorithm.Algorithm.
func (SMAC) Validate(p *algorithm.Problem) error {
	return p.RequireObjective()
}

// Suggest implements algorithm.Algorithm.
func (SMAC) Suggest(ctx context.Context, p *algorithm.Problem, trials []algorithm.Trial, count int) (*algorithm.Suggestions, error) {
	space := p.Space
	if size, exact := space.Size(); space.Finite() && exact && size <= uint64(len(trials)+count) && algorithm.NewTaken(space, trials).Unseen() <= uint64(count) {
		// Every point left goes in this reply, whatever the model thinks.
		return random.Random{}.Suggest(ctx, p, trials, count)
	}
	r := newRun(ctx, p, trials)
	out := &algorithm.Suggestions{Points: make([]searchspace.Point, 0, count)}
	var design [][]float64
	modelPoints := 0
	for i := range count {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var pt searchspace.Point
		var lie float64 // the model's prediction for a model point
		fromModel := false
		switch k := len(trials) + i; {
		case k < r.initial:
			if design == nil {
				design = latinHypercube(r.designRand(), r.initial, space.Len())
			}
			if u := space.FromUnit(design[k]); r.fresh(u) {
				pt = u
			}
		case r.completed >= minObservations && modelPoints < maxModelPoints && r.rng.Float64() >= r.randomFraction:
			modelPoints++
			fromModel = true
			var err error
			if pt, lie, err = r.modelPoint(); err != nil {
				return nil, err
			}
		}
		if pt == nil {
			var err error
			if pt, err = r.randomPoint(); err != nil {
				return nil, err
			}
		}
		r.take(pt)
		if fromModel {
			r.pendingY = append(r.pendingY, lie)
		}
		out.Points = append(out.Points, pt)
	}
	return out, nil
}

// run is the work of one call.
type run struct {
	ctx    context.Context
	p      *algorithm.Problem
	space  *searchspace.Space
	trials []algorithm.Trial
	rng    *rand.Rand

	initial        int
	randomFraction float64
	trees          int

	cats  []int               // categories of each feature split as a set, else 0
	taken map[string]struct{} // keys of every trial and every point chosen so far

	// Training data: the points tried with a value (and the failed ones),
	// and the losses, log-scaled.
	obsPts    []searchspace.Point
	obsX      [][]float64
	obsY      []float64
	obsTrial  []int // the index of each observation's trial
	completed int
	// forest holds the observations the forest is grown on, chosen at the
	// first fit; nil for all of them.
	forest []int
	// Points without a value yet: pending and running trials, then the points
	// chosen for this reply, with the loss the model predicted for them.
	// pendingY holds the lies of the first of them, computed lazily.
	pendingX [][]float64
	pendingY []float64
	chosen   []searchspace.Point
}

func newRun(ctx context.Context, p *algorithm.Problem, trials []algorithm.Trial) *run {
	space := p.Space
	r := &run{
		ctx: ctx, p: p, space: space, trials: trials,
		rng:            p.Rand(len(trials)),
		initial:        int(p.Settings.Int(SettingInitialPoints)),
		randomFraction: p.Settings.Float(SettingRandomFraction),
		trees:          int(p.Settings.Int(SettingTrees)),
		cats:           categorySets(space),
		taken:          make(map[string]struct{}, len(trials)),
	}

	var losses []float64
	var failed []searchspace.Point
	var failedAt []int
	for i := range trials {
		t := &trials[i]
		r.taken[space.Key(t.Point)] = struct{}{}
		switch {
		case t.Completed():
			r.obsPts = append(r.obsPts, t.Point)
			r.obsTrial = append(r.obsTrial, i)
			losses = append(losses, t.Loss)
		case t.Condition == pb.TrialCondition_FAILED:
			failed = append(failed, t.Point)
			failedAt = append(failedAt, i)
		case t.Active():
			r.pendingX = append(r.pendingX, r.encode(t.Point))
		}
	}
	r.completed = len(r.obsPts)
	if r.completed < minObservations {
		return r
	}
	scaled, worst := logScale(losses)
	r.obsY = scaled
	for k, pt := range failed {
		r.obsPts = append(r.obsPts, pt)
		r.obsY = append(r.obsY, worst)
		r.obsTrial = append(r.obsTrial, failedAt[k])
	}
	r.obsX = make([][]float64, len(r.obsPts))
	for i, pt := range r.obsPts {
		r.obsX[i] = r.encode(pt)
	}
	return r
}

// logScale turns losses into SMAC3's log-scaled responses: log((y - lo) /
// (max - lo)) with lo below the best loss by its distance to the losses' 5th
// percentile. It returns them and the response of the worst loss, which is 0.
// Infinite losses count as the best or worst finite one.
func logScale(losses []float64) (scaled []float64, worst float64) {
	finite := make([]float64, 0, len(losses))
	for _, y := range losses {
		if !math.IsInf(y, 0) {
			finite = append(finite, y)
		}
	}
	scaled = make([]float64, len(losses))
	if len(finite) == 0 {
		return scaled, 0
	}
	slices.Sort(finite)
	lo, hi := finite[0], finite[len(finite)-1]
	if hi == lo {
		return scaled, 0
	}
	gap := math.Max(percentile(finite, 5)-lo, 1e-3*(hi-lo))
	lo -= gap
	for i, y := range losses {
		y = math.Min(math.Max(y, finite[0]), hi)
		scaled[i] = math.Log((y - lo) / (hi - lo))
	}
	return scaled, 0
}

// percentile of sorted values, interpolating linearly between them.
func percentile(sorted []float64, q float64) float64 {
	pos := q / 100 * float64(len(sorted)-1)
	i := int(pos)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (pos-float64(i))*(sorted[i+1]-sorted[i])
}

// encode maps a point to the forest's features: the unit-cube value of each
// parameter, or the index of a category split as a set.
func (r *run) encode(pt searchspace.Point) []float64 { return encode(r.space, r.cats, pt) }

func encode(space *searchspace.Space, cats []int, pt searchspace.Point) []float64 {
	x := make([]float64, len(pt))
	for j := range space.Params {
		switch {
		case searchspace.IsInactive(pt[j]) && cats[j] > 0:
			x[j] = float64(cats[j] - 1) // the category of its own
		case searchspace.IsInactive(pt[j]):
			x[j] = inactiveFeature
		case cats[j] > 0:
			x[j] = pt[j]
		default:
			x[j] = space.Params[j].ToUnit(pt[j])
		}
	}
	return x
}

// inactiveFeature is the feature of an inactive numeric parameter: outside
// the unit cube, so that one split sets the trials without it apart (SMAC3
// imputes inactive values the same way).
const inactiveFeature = -1

// categorySets returns, for each parameter, its number of categories when the
// forest splits it as a set of categories, else 0.
func categorySets(space *searchspace.Space) []int {
	cats := make([]int, space.Len())
	for j := range space.Params {
		par := &space.Params[j]
		k := len(par.List)
		if par.HasParent {
			k++ // a category of its own for "inactive"
		}
		if par.Type == searchspace.Categorical && k <= maxCategories {
			cats[j] = k
		}
	}
	return cats
}

func (r *run) fresh(pt searchspace.Point) bool {
	_, taken := r.taken[r.space.Key(pt)]
	return !taken
}

// take marks pt as chosen for this reply. Once the model is in use, pt joins
// the points whose loss is a lie; a point the model chose comes with its lie.
func (r *run) take(pt searchspace.Point) {
	r.taken[r.space.Key(pt)] = struct{}{}
	r.chosen = append(r.chosen, pt)
	if r.completed >= minObservations {
		r.pendingX = append(r.pendingX, r.encode(pt))
	}
}

// designRand is the generator of the initial design. It depends on the seed
// (random_state or the experiment's name) alone, so that every call sees the
// same design and hands out its next points.
func (r *run) designRand() *rand.Rand {
	return rand.New(rand.NewPCG(r.p.Rand(0).Uint64(), 0x736d6163))
}

// latinHypercube returns n points of the d-dimensional unit cube, one in each
// of n equal slices of every axis.
func latinHypercube(rng *rand.Rand, n, d int) [][]float64 {
	pts := make([][]float64, n)
	for i := range pts {
		pts[i] = make([]float64, d)
	}
	for j := range d {
		perm := rng.Perm(n)
		for i := range pts {
			pts[i][j] = (float64(perm[i]) + rng.Float64()) / float64(n)
		}
	}
	return pts
}

// randomPoint draws an unseen point from the prior, or, when draws keep
// repeating in a finite space, any unseen point.
func (r *run) randomPoint() (searchspace.Point, error) {
	for range 64 {
		if pt := r.space.Sample(r.rng); r.fresh(pt) {
			return pt, nil
		}
	}
	// Random search knows how to find the few points left of a finite space.
	all := make([]algorithm.Trial, 0, len(r.trials)+len(r.chosen))
	all = append(all, r.trials...)
	for _, pt := range r.chosen {
		all = append(all, algorithm.Trial{Point: pt, Condition: pb.TrialCondition_PENDING})
	}
	out, err := random.Random{}.Suggest(r.ctx, r.p, all, 1)
	if err != nil {
		return nil, err
	}
	if len(out.Points) == 0 {
		// Suggest checked that more points are left than asked for.
		return nil, errExhausted
	}
	return out.Points[0], nil
}

type internalError string

func (e internalError) Error() string { return string(e) }

const errExhausted = internalError("smac: no unseen point left although the space was not used up")

// candidate is a point with its features and its acquisition value.
type candidate struct {
	pt  searchspace.Point
	x   []float64
	acq float64
}

// model is the fitted forest with the incumbent's predicted log loss.
type model struct {
	f   *forest
	eta float64
}

func (m *model) acq(x []float64) float64 {
	mean, v := m.f.predict(x)
	return logEI(m.eta, mean, math.Sqrt(v))
}

// fit grows a forest on the observations and the lies told so far.
func (r *run) fit() *model {
	if r.forest == nil && len(r.obsX) > maxForestPoints {
		r.forest = forestSubset(r.obsY, r.obsTrial, maxForestPoints, r.rng)
	}
	n := len(r.obsX) + len(r.pendingY)
	d := r.space.Len()
	data := &dataset{cols: make([][]float64, d), y: make([]float64, 0, n), cats: r.cats}
	for j := range data.cols {
		data.cols[j] = make([]float64, 0, n)
	}
	add := func(x []float64, y float64) {
		for j := range data.cols {
			data.cols[j] = append(data.cols[j], x[j])
		}
		data.y = append(data.y, y)
	}
	if r.forest == nil {
		for i, x := range r.obsX {
			add(x, r.obsY[i])
		}
	} else {
		for _, i := range r.forest {
			add(r.obsX[i], r.obsY[i])
		}
	}
	for i, y := range r.pendingY {
		add(r.pendingX[i], y)
	}
	cfg := forestConfig{
		trees: r.trees, minSplit: minSplit, minLeaf: minLeaf, maxDepth: maxDepth,
		maxFeatures: d, bootstrap: true,
	}
	m := &model{f: fitForest(data, cfg, rand.New(rand.NewPCG(r.rng.Uint64(), r.rng.Uint64())))}
	m.eta = math.Inf(1)
	for i := range r.completed {
		mean, _ := m.f.predict(r.obsX[i])
		m.eta = math.Min(m.eta, mean)
	}
	return m
}

// forestSubset picks n of the observations for the forest, when there are
// more: the best quarter (where the search is), the latest quarter of the
// others (where it has just been), and a random draw from the rest (the
// spread of the space). A forest grows in O(n log n) a tree, so this bounds
// the fit's cost however long the history; the expected improvement's best
// and the local searches' starts still come from every observation.
func forestSubset(y []float64, trial []int, n int, rng *rand.Rand) []int {
	idx := make([]int, len(y))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(y[a], y[b]) })
	rest := idx[n/4:]
	slices.SortFunc(rest, func(a, b int) int { return cmp.Compare(trial[b], trial[a]) })
	rest = rest[n/4:]
	rng.Shuffle(len(rest), func(a, b int) { rest[a], rest[b] = rest[b], rest[a] })
	out := idx[:n]
	slices.Sort(out)
	return out
}

// modelPoint returns the unseen point of highest expected improvement, and
// the log loss the model predicts for it.
func (r *run) modelPoint() (searchspace.Point, float64, error) {
	if len(r.pendingY) < len(r.pendingX) {
		// Points without a value lie with the loss a model of the others
		// predicts for them.
		m := r.fit()
		for _, x := range r.pendingX[len(r.pendingY):] {
			mean, _ := m.f.predict(x)
			r.pendingY = append(r.pendingY, mean)
		}
	}
	m := r.fit()

	cands := make([]candidate, 0, challengers+2*localStarts*maxSteps)
	for range challengers {
		pt := r.space.Sample(r.rng)
		x := r.encode(pt)
		cands = append(cands, candidate{pt: pt, x: x, acq: m.acq(x)})
	}
	if err := r.ctx.Err(); err != nil {
		return nil, 0, err
	}
	starts := make([]candidate, 0, 2*localStarts)
	// The best points tried, by predicted loss.
	order := make([]int, r.completed)
	pred := make([]float64, r.completed)
	for i := range order {
		order[i] = i
		pred[i], _ = m.f.predict(r.obsX[i])
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(pred[a], pred[b]) })
	for _, i := range order[:min(localStarts, len(order))] {
		starts = append(starts, candidate{pt: r.obsPts[i], x: r.obsX[i], acq: m.acq(r.obsX[i])})
	}
	// The best random points.
	slices.SortStableFunc(cands, func(a, b candidate) int { return cmp.Compare(b.acq, a.acq) })
	starts = append(starts, cands[:localStarts]...)
	for _, s := range starts {
		cands = r.localSearch(m, s, cands)
	}
	if err := r.ctx.Err(); err != nil {
		return nil, 0, err
	}

	slices.SortStableFunc(cands, func(a, b candidate) int { return cmp.Compare(b.acq, a.acq) })
	for _, c := range cands {
		if r.space.Contains(c.pt) && r.fresh(c.pt) {
			mean, _ := m.f.predict(c.x)
			return c.pt, mean, nil
		}
	}
	// Every candidate is taken: a small finite space mostly used up.
	pt, err := r.randomPoint()
	if err != nil {
		return nil, 0, err
	}
	mean, _ := m.f.predict(r.encode(pt))
	return pt, mean, nil
}

// move is a change of one parameter in a local search step.
type move int

// localSearch climbs the acquisition from start, one parameter at a time,
// taking the first neighbour that improves it. Every point it steps to joins
// cands, so that a search ending on a point already tried still offers the
// points it passed.
func (r *run) localSearch(m *model, start candidate, cands []candidate) []candidate {
	var moves []move
	for j := range r.space.Params {
		par := &r.space.Params[j]
		k := numericNeighbours
		switch {
		case par.Type == searchspace.Categorical:
			k = min(len(par.List)-1, categoryNeighbours)
		case par.Finite() && par.Len() < 2:
			k = 0
		}
		for range k {
			moves = append(moves, move(j))
		}
	}
	cur := start
	for range maxSteps {
		r.rng.Shuffle(len(moves), func(a, b int) { moves[a], moves[b] = moves[b], moves[a] })
		improved := false
		for _, j := range moves {
			pt, ok := r.neighbour(cur.pt, int(j))
			if !ok {
				continue
			}
			x := r.encode(pt)
			if a := m.acq(x); a > cur.acq {
				cur = candidate{pt: pt, x: x, acq: a}
				cands = append(cands, cur)
				improved = true
				break
			}
		}
		if !improved {
			break
		}
	}
	return cands
}

// neighbour changes parameter j of pt: another category, or a Gaussian step
// in the unit cube to another value.
func (r *run) neighbour(pt searchspace.Point, j int) (searchspace.Point, bool) {
	par := &r.space.Params[j]
	if searchspace.IsInactive(pt[j]) {
		return nil, false
	}
	var v float64
	if par.Type == searchspace.Categorical {
		c := r.rng.IntN(len(par.List) - 1)
		if c >= int(pt[j]) {
			c++
		}
		v = float64(c)
	} else {
		u := par.ToUnit(pt[j])
		ok := false
		for range 8 {
			w := u + stepSD*r.rng.NormFloat64()
			if w < 0 || w > 1 {
				continue
			}
			if v = par.FromUnit(w); v != pt[j] {
				ok = true
				break
			}
		}
		if !ok {
			return nil, false
		}
	}
	q := slices.Clone(pt)
	q[j] = v
	if r.space.IsParent(j) {
		// The children the new value activates get values from their
		// priors; those it deactivates lose theirs.
		r.space.Activate(q, r.rng)
	}
	return q, true
}
