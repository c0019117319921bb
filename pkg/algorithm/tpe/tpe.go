// Package tpe is the Tree-structured Parzen Estimator (Bergstra et al.,
// "Algorithms for Hyper-Parameter Optimization", NeurIPS 2011), with the
// setting names of Katib's TPE and the choices of Optuna 3.1's sampler,
// which Knobs' quality benchmark (make bench-quality) measures it against.
//
// # Method
//
// Until n_startup_trials trials have completed, points are drawn from the
// prior, as random search does. After that, each call splits the completed
// trials by loss (the objective, negated when maximising) into a good group,
// the best tenth of the completed trials (rounded up, at most 25), and the
// rest. For every parameter on its own it fits a density to the good
// group's values, l(x), and one to the rest's, g(x); draws n_ei_candidates
// values from l and keeps the one with the largest l(x)/g(x), which
// maximises the expected improvement under this model. A point is the
// parameters' choices put together.
//
// Numeric parameters (double, int, discrete) are modelled in the unit cube of
// pkg/searchspace, where a uniform draw is a draw from the parameter's prior:
// log and normal priors, steps and discrete lists are thereby honoured, and
// a value in [0, 1] maps back to a feasible value through FromUnit. There
// each density is a Parzen estimator: a normal kernel on every observation,
// its bandwidth the larger gap to its neighbours, and a prior kernel of
// weight prior_weight on the middle of the interval, all truncated to
// [0, 1]. Categorical parameters are modelled by their weighted frequencies
// in each group, each observation spreading prior_weight/(n+1) of itself
// over every category and the prior, uniform, weighing prior_weight. In
// both, the newest 25 observations weigh 1 and older ones less and less.
//
// The ratio compares the two mixtures with every kernel at the same height
// (mixture.logScore) for continuous parameters, and with the true
// densities for parameters of finitely many values, as Optuna 3.1 does;
// parzen.go says why and what it gains.
//
// # Multivariate
//
// With multivariate: "true" the parameters are modelled together, as
// Optuna's multivariate TPE and BOHB do: each observation is a product of
// kernels, one per parameter, of the bandwidth 0.2 n^(-1/(d+4)) of Scott's
// rule (clipped as above), the prior one more; whole points are drawn from
// l and the one with the largest l(x)/g(x) is suggested. It learns how
// parameters go together (Hartmann 6-D's median regret after 60 trials:
// 0.35 against 0.49 univariate) at the cost of coarser densities per
// parameter. Every trial of an experiment has every parameter, so Optuna's
// grouped variant, which splits a conditional space into the groups of
// parameters that appear together, would be the same here when no
// parameter is conditional. With conditional parameters the joint density
// covers the parameters without a parent, which every trial has, and each
// conditional parameter is chosen on its own as below: what Optuna's
// multivariate TPE does with the parameters outside the search space all
// trials share.
//
// # Several objectives
//
// With additional objectives the good group is not the lowest losses but
// the best trials by Pareto rank, as in Optuna 3.1's multi-objective TPE
// (Ozaki et al., "Multiobjective Tree-Structured Parzen Estimator",
// JAIR 2022): whole fronts of the completed trials in rank order, under
// constrained domination (every feasible trial before any infeasible one,
// and of those the ones that break the constraints least), while they fit
// in the group's size; the last front's remaining places go, one at a
// time, to the trial that adds the most hypervolume to the ones already
// taken from it (pkg/pareto's SelectHypervolume). The good group's kernels
// weigh what each feasible trial alone adds to the group's hypervolume,
// over the most any adds, so that the model favours the sparse, outer
// parts of the front over trials that others all but cover; the other
// group keeps the usual weights. The group's size follows gamma as with
// one objective, and the rest of the method is unchanged. On ZDT1 and
// DTLZ2 in six dimensions and on SRN, this finds larger fronts than
// ParEGO's random scalarisation, which the other model-based algorithms
// use (docs/algorithms.md has the figures).
//
// # Conditional parameters
//
// As in Optuna's univariate sampler, each parameter's densities are fitted
// to the trials in which it was active: the good and bad groups are split
// over every trial by loss, then each parameter keeps the members of each
// group that assigned it (a group with none of them is the prior alone).
// A point's parameters are chosen each on its own as above, and the ones
// its parents' choices leave inactive are dropped.
//
// # Batches and pending trials
//
// Trials still pending or running, and each point already chosen for the
// reply, count as observations with the worst loss seen so far (the
// "constant liar"), so that the model steers the next point away from them
// and a batch spreads out instead of collapsing onto one point.
//
// # No repeats, and finite spaces
//
// No point is suggested that a trial already holds, nor twice in a reply.
// When the best candidate is taken, the next best of the candidates drawn is
// tried, then fresh candidates; when those are taken too (a small finite
// space the model has converged on), the point is drawn from the unseen ones
// as random search does. When a finite space has no more unseen points than
// the reply asks for, the reply holds all of them and says the space is
// exhausted.
//
// # Determinism and cost
//
// Everything is seeded from random_state (or the experiment's name) and the
// number of trials, through algorithm.Problem.Rand: the same request gets
// the same reply. Trials that failed or reported no objective value inform
// no model, but their points are not suggested again; early-stopped trials
// count with the value they reported.
//
// A point costs n_ei_candidates kernel evaluations per trial and parameter:
// under a millisecond at 500 trials with the defaults. A reply that would
// cost more than about a quarter of a second (a batch of thousands over a
// long history) takes its remaining points from the prior.
//
// # Why not goptuna's sampler itself
//
// goptuna v0.9.0's TPE sampler draws its kernels and categories from the
// global math/rand source, which cannot be seeded in Go 1.24 and later, so
// the same request would get different replies. Its Parzen estimator also
// orders kernel centres after sorting them in place, which scrambles
// centres, bandwidths and the prior's place, and it adds log densities where
// a log-sum-exp is due. This package implements the same method and
// defaults on the per-call generator instead.
package tpe

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/random"
	"knobs.dev/knobs/pkg/pareto"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// The settings TPE takes, with Katib's names.
const (
	NStartupTrials = "n_startup_trials"
	NEICandidates  = "n_ei_candidates"
	PriorWeight    = "prior_weight"
	Multivariate   = "multivariate"
)

// MaxEICandidates bounds n_ei_candidates: the cost of a call grows with it
// times the number of trials.
const MaxEICandidates = 1000

// kernelBudget bounds the kernel evaluations of one call, about a quarter
// of a second of work. A reply that would cost more, a very large batch
// over a long history, takes the rest of its points from the prior.
const kernelBudget = 20_000_000

// Retries when the model's choice is taken: rounds of fresh candidates
// before falling back to an unseen point drawn as random search does.
const (
	modelRounds = 4
	priorTries  = 64
)

// TPE is the Tree-structured Parzen Estimator.
type TPE struct {
	// Multivariate makes multivariate: "true" the default: Katib's
	// multivariate-tpe algorithm.
	Multivariate bool
}

var _ algorithm.Algorithm = TPE{}

// Settings implements algorithm.Algorithm.
func (t TPE) Settings() []algorithm.Setting {
	multivariate := "false"
	if t.Multivariate {
		multivariate = "true"
	}
	return []algorithm.Setting{
		algorithm.IntSetting(NStartupTrials,
			"completed trials drawn from the prior before the model takes over", 10, 0, math.MaxInt64),
		algorithm.IntSetting(NEICandidates,
			"candidates drawn from the good trials' density for each point; the one most likely under it relative to the others' is suggested", 24, 1, MaxEICandidates),
		algorithm.FloatSetting(PriorWeight,
			"weight of the prior in each density, against 1 for each recent trial", 1.0, 0, 1000, true),
		algorithm.EnumSetting(Multivariate,
			"model the parameters together (true), which learns how they interact, or each on its own (false)", multivariate, "false", "true"),
		algorithm.SeedSetting(),
	}
}

// Validate implements algorithm.Algorithm: TPE learns from the objective, so
// it needs the objective metric's name.
func (TPE) Validate(p *algorithm.Problem) error {
	return p.RequireObjective()
}

// config holds a call's settings.
type config struct {
	startup     int
	candidates  int
	priorWeight float64
	// multivariate models the parameters together.
	multivariate bool
}

// observation is a point the model learns from, in the unit cube (the index
// for a categorical parameter), with its loss; with several objectives, a
// completed trial's losses and violation too (algorithm.Trial's).
type observation struct {
	x         []float64
	loss      float64
	losses    []float64
	violation float64
}

// group is some of the observations, in the order they came, and the
// weight of each kernel: nil for obsWeights, by age.
type group struct {
	idx []int
	w   []float64
}

// Suggest implements algorithm.Algorithm.
func (TPE) Suggest(ctx context.Context, p *algorithm.Problem, trials []algorithm.Trial, count int) (*algorithm.Suggestions, error) {
	space := p.Space
	if algorithm.NewTaken(space, trials).Unseen() <= uint64(count) {
		// The reply takes every unseen point: no model can choose among
		// them, and random search lists them.
		return random.Random{}.Suggest(ctx, p, trials, count)
	}

	cfg := config{
		startup:     int(min(p.Settings.Int(NStartupTrials), math.MaxInt32)),
		candidates:  int(p.Settings.Int(NEICandidates)),
		priorWeight: p.Settings.Float(PriorWeight),
	}
	if v, _ := p.Settings.Lookup(Multivariate); v == "true" {
		cfg.multivariate = true
	}
	rng := p.Rand(len(trials))
	seen := make(map[string]struct{}, len(trials)+count)
	for i := range trials {
		seen[space.Key(trials[i].Point)] = struct{}{}
	}

	// What the model learns from: completed trials with their loss, then
	// pending ones with the worst loss, in the order they came.
	var obs []observation
	completed := 0
	worst := math.Inf(-1)
	for i := range trials {
		t := &trials[i]
		if t.Completed() && space.Contains(t.Point) {
			obs = append(obs, observation{x: toModel(space, t.Point), loss: t.Loss, losses: t.Losses, violation: t.Violation})
			completed++
			worst = max(worst, obs[len(obs)-1].loss)
		}
	}
	if completed == 0 {
		worst = 0
	}
	for i := range trials {
		t := &trials[i]
		if t.Active() && space.Contains(t.Point) {
			obs = append(obs, observation{x: toModel(space, t.Point), loss: worst})
		}
	}

	out := &algorithm.Suggestions{}
	var pending []algorithm.Trial // the reply so far, for the fallback
	spent := 0
	for len(out.Points) < count {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var pt searchspace.Point
		cost := cfg.candidates * (len(obs) + 2) * space.Len()
		if completed >= cfg.startup && spent+cost <= kernelBudget {
			spent += cost
			if cfg.multivariate {
				pt = fromJoint(space, cfg, obs, gamma(completed), seen, rng)
			} else {
				pt = fromModel(space, cfg, obs, gamma(completed), seen, rng)
			}
		} else {
			pt = fromPrior(space, seen, rng)
		}
		if pt == nil {
			// Everything TPE or the prior offered is taken: draw among the
			// unseen points. There are some, as the space was not about to
			// run out.
			extended := append(slices.Clip(trials), pending...)
			r, err := random.Random{}.Suggest(ctx, p, extended, 1)
			if err != nil {
				return nil, err
			}
			if len(r.Points) == 0 {
				out.Exhausted = true
				break
			}
			pt = r.Points[0]
		}
		seen[space.Key(pt)] = struct{}{}
		out.Points = append(out.Points, pt)
		pending = append(pending, algorithm.Trial{Point: pt, Condition: pb.TrialCondition_PENDING})
		obs = append(obs, observation{x: toModel(space, pt), loss: worst})
	}
	return out, nil
}

// toModel returns a point as the model sees it: a categorical parameter's
// index, every other parameter's place in the unit cube, and an inactive
// parameter's searchspace.Inactive.
func toModel(space *searchspace.Space, pt searchspace.Point) []float64 {
	x := make([]float64, len(pt))
	for j := range space.Params {
		if space.Params[j].Type == searchspace.Categorical || searchspace.IsInactive(pt[j]) {
			x[j] = pt[j]
		} else {
			x[j] = space.Params[j].ToUnit(pt[j])
		}
	}
	return x
}

// fromPrior draws an unseen point from the prior, or returns nil when draws
// keep hitting taken points.
func fromPrior(space *searchspace.Space, seen map[string]struct{}, rng *rand.Rand) searchspace.Point {
	for range priorTries {
		pt := space.Sample(rng)
		if _, ok := seen[space.Key(pt)]; !ok {
			return pt
		}
	}
	return nil
}

// fromModel returns the unseen point TPE likes best, or nil when every
// candidate of several rounds is taken.
func fromModel(space *searchspace.Space, cfg config, obs []observation, nBelow int, seen map[string]struct{}, rng *rand.Rand) searchspace.Point {
	below, above := split(obs, nBelow)
	d, n := space.Len(), cfg.candidates
	models := make([]dimension, d)
	for j := range space.Params {
		models[j] = newDimension(&space.Params[j], j, obs, below, above, cfg.priorWeight)
	}
	cand := make([][]float64, d)  // cand[j][i]: candidate i's value of parameter j
	score := make([][]float64, d) // log l - log g of each
	for j := range cand {
		cand[j], score[j] = make([]float64, n), make([]float64, n)
	}
	total := make([]float64, n)
	rows := make([]int, n)
	pt := make(searchspace.Point, d)
	try := func() searchspace.Point {
		if _, ok := seen[space.Key(pt)]; ok {
			return nil
		}
		return slices.Clone(pt)
	}
	for range modelRounds {
		for j := range models {
			models[j].candidates(rng, cand[j], score[j])
		}
		// Each parameter's best candidate: TPE's choice.
		for j := range models {
			pt[j] = models[j].point(models[j].best(cand[j], score[j]))
		}
		space.Deactivate(pt)
		if got := try(); got != nil {
			return got
		}
		// Taken: try the candidates as drawn together, best first.
		for i := range n {
			total[i] = 0
			for j := range d {
				total[i] += score[j][i]
			}
			rows[i] = i
		}
		slices.SortStableFunc(rows, func(a, b int) int {
			switch {
			case total[a] > total[b]:
				return -1
			case total[a] < total[b]:
				return 1
			}
			return 0
		})
		for _, i := range rows {
			for j := range models {
				pt[j] = models[j].point(cand[j][i])
			}
			space.Deactivate(pt)
			if got := try(); got != nil {
				return got
			}
		}
	}
	return nil
}

// split returns which observations are in the good group: the nBelow with
// the lowest loss, the earlier first among equal losses. nBelow is gamma of
// the completed trials: pending ones, counted with the worst loss, come
// after every completed one of that loss and never make the good group.
// With several objectives the good group is chosen by splitFront instead.
func split(obs []observation, nBelow int) (below, above group) {
	for i := range obs {
		if obs[i].losses != nil {
			return splitFront(obs, nBelow)
		}
	}
	order := make([]int, len(obs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case obs[a].loss < obs[b].loss:
			return -1
		case obs[a].loss > obs[b].loss:
			return 1
		}
		return 0
	})
	good := make([]bool, len(obs))
	for _, i := range order[:nBelow] {
		good[i] = true
	}
	return groups(good)
}

// groups returns the good observations and the others, each in the order
// they came, for their weights.
func groups(good []bool) (below, above group) {
	for i, g := range good {
		if g {
			below.idx = append(below.idx, i)
		} else {
			above.idx = append(above.idx, i)
		}
	}
	return below, above
}

// splitFront is split with several objectives, as Optuna 3.1's
// multi-objective TPE (Ozaki et al., "Multiobjective Tree-Structured Parzen
// Estimator", JAIR 2022) splits: the good group is the nBelow best
// completed trials by Pareto rank under constrained domination (feasible
// before infeasible), whole fronts first and the last front's place
// shared out by hypervolume (pareto.SelectHypervolume). Each good kernel
// weighs what its trial alone adds to the hypervolume of the group's
// feasible trials, relative to the most any adds; the others keep the
// usual weights.
func splitFront(obs []observation, nBelow int) (below, above group) {
	var scored []int // completed trials
	var pts []pareto.Point
	for i := range obs {
		if obs[i].losses != nil {
			scored = append(scored, i)
			pts = append(pts, pareto.Point{Values: obs[i].losses, Violation: obs[i].violation})
		}
	}
	good := make([]bool, len(obs))
	for _, k := range pareto.SelectHypervolume(pts, nBelow) {
		good[scored[k]] = true
	}
	below, above = groups(good)
	below.w = contributionWeights(obs, below.idx)
	return below, above
}

// minWeight is the weight of a good kernel that adds no hypervolume of its
// own (another good trial dominates it, or it is infeasible): next to
// nothing, as in Optuna, but not zero, so that every kernel stays drawable.
const minWeight = 1e-12

// contributionWeights returns the weight of each of the good observations
// idx: among the feasible ones, the hypervolume each alone adds, against
// their pareto.Reference, over the most any adds, at least minWeight;
// infeasible ones get minWeight. With no feasible trial among them (the
// search has yet to find one) or a single one, nil: the usual weights.
func contributionWeights(obs []observation, idx []int) []float64 {
	var feasible []int
	var vals [][]float64
	for k, i := range idx {
		if obs[i].violation == 0 {
			feasible = append(feasible, k)
			vals = append(vals, obs[i].losses)
		}
	}
	if len(feasible) == 0 || len(idx) == 1 {
		return nil
	}
	w := make([]float64, len(idx))
	for k := range w {
		w[k] = minWeight
	}
	c := pareto.Contributions(vals, pareto.Reference(vals))
	most := slices.Max(c)
	for n, k := range feasible {
		w[k] = 1
		if most > 0 {
			w[k] = max(c[n]/most, minWeight)
		}
	}
	return w
}

// dimension is the pair of densities of one parameter.
type dimension struct {
	param      *searchspace.Param
	l, g       *mixture    // numeric
	catL, catG *categories // categorical
}

func newDimension(param *searchspace.Param, j int, obs []observation, below, above group, priorWeight float64) dimension {
	d := dimension{param: param}
	// The observations of a group in which the parameter was active, with
	// their weights (nil: by age); a group with none is the prior alone,
	// of weight 1 at least.
	values := func(g group) ([]float64, []float64, float64) {
		v := make([]float64, 0, len(g.idx))
		var w []float64
		for n, k := range g.idx {
			if x := obs[k].x[j]; !searchspace.IsInactive(x) {
				v = append(v, x)
				if g.w != nil {
					w = append(w, g.w[n])
				}
			}
		}
		if len(v) == 0 {
			return v, nil, max(priorWeight, 1)
		}
		return v, w, priorWeight
	}
	belowX, belowKW, belowW := values(below)
	aboveX, aboveKW, aboveW := values(above)
	if param.Type == searchspace.Categorical {
		ints := func(v []float64) []int {
			out := make([]int, len(v))
			for i, x := range v {
				out[i] = int(x)
			}
			return out
		}
		d.catL = weightedCategories(ints(belowX), belowKW, len(param.List), belowW)
		d.catG = weightedCategories(ints(aboveX), aboveKW, len(param.List), aboveW)
		return d
	}
	d.l = weightedMixture(belowX, belowKW, belowW)
	d.g = weightedMixture(aboveX, aboveKW, aboveW)
	return d
}

// candidates fills cand with draws from the good density and score with
// their log l - log g.
func (d *dimension) candidates(rng *rand.Rand, cand, score []float64) {
	for i := range cand {
		if d.catL != nil {
			c := d.catL.sample(rng)
			cand[i], score[i] = float64(c), d.catL.logP[c]-d.catG.logP[c]
			continue
		}
		x := d.l.sample(rng)
		if d.param.Finite() {
			cand[i], score[i] = x, d.l.logPDF(x)-d.g.logPDF(x)
			continue
		}
		cand[i], score[i] = x, d.l.logScore(x)-d.g.logScore(x)
	}
}

// best returns the candidate with the highest score. With no more categories
// than candidates, a categorical parameter compares all its categories, as
// Optuna and goptuna do.
func (d *dimension) best(cand, score []float64) float64 {
	if d.catL != nil && len(d.param.List) <= len(cand) {
		b := 0
		for c := range d.catL.logP {
			if d.catL.logP[c]-d.catG.logP[c] > d.catL.logP[b]-d.catG.logP[b] {
				b = c
			}
		}
		return float64(b)
	}
	b := 0
	for i := range score {
		if score[i] > score[b] {
			b = i
		}
	}
	return cand[b]
}

// point maps a model value back to the parameter's value.
func (d *dimension) point(v float64) float64 { return fromModelValue(d.param, v) }

// fromModelValue maps a model value back to the parameter's value: a
// categorical parameter's index is its value, any other parameter's comes
// from the unit interval.
func fromModelValue(p *searchspace.Param, v float64) float64 {
	if p.Type == searchspace.Categorical {
		return v
	}
	return p.FromUnit(v)
}
