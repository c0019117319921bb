// Package bayesopt is Bayesian optimisation with a Gaussian process: the
// algorithm Katib calls bayesianoptimization (there a scikit-optimize
// service), written for Knobs as a stateless function.
//
// # The method
//
// Each call rebuilds everything from the request. The first n_initial_points
// trials of an experiment come from a design: the centre of the space (every
// number at its prior's median, a category at random), where CMA-ES starts
// its mean and SMAC its default configuration, then a Latin hypercube, drawn
// from a seed that depends on the experiment (random_state, or its name) but
// not on the number of trials, so that the design stays one design however
// the calls split it: the k-th trial of the experiment gets the k-th design
// point. With constraints the design is the Latin hypercube alone: an
// infeasible centre ranks above every feasible trial, a peak in the middle
// of the model that kept the search away from an optimum on the
// constraint's boundary. After the design, each point comes from the model.
//
// The model is a Gaussian process on the completed trials' losses (the
// objective, negated when maximised), standardised to mean 0 and variance 1.
// Its inputs are features in [0, 1]: a numeric or discrete parameter is its
// position in the unit cube of pkg/searchspace, that is through its prior's
// distribution function, so a log-uniform parameter is modelled on the log
// scale and a normal one in the prior's coordinates; a categorical parameter
// is one feature per category (one-hot). The kernel is Matérn 5/2 with one
// length scale per feature (ARD), a signal variance and a noise variance,
// fitted by maximising the log marginal likelihood plus weak log-normal priors
// (a MAP estimate) with L-BFGS on the log-hyperparameters within bounds,
// using analytic gradients, from the priors' means and the best of a few
// random screened vectors. A Cholesky factorisation that fails numerically,
// as duplicated inputs can make it, is retried with growing diagonal jitter.
//
// The acquisition (acq_func) is expected improvement (ei), probability of
// improvement (pi), both over the best loss by a margin xi in standardised
// units, the lower confidence bound of the loss mean - kappa·sd (ucb), or
// gp_hedge, as in scikit-optimize and Katib (the default): each point is
// proposed by one of the three, chosen at random with probabilities
// softmax(gains). At every call a function's gain drops by the model's new
// (standardised) mean at the point it proposed in the last call, so a
// function whose proposals the model now rates well gains weight. As the
// function keeps no memory, the gains and last proposals (as model features)
// travel in the reply's algorithm settings as hedge_state and come back with
// the next request; without it the hedge starts even. EI and PI are
// computed as logarithms, with asymptotic forms in the far tail, so they rank
// candidates even where they underflow.
//
// The acquisition is maximised over random candidates (1024, or 512 past 200
// trials: three quarters drawn from the prior, a quarter perturbing the five
// best trials so far) and then refined from the best 5 (3 past 100 trials, 2
// past 200) by a compass search in the unit cube, halving its step from 0.1
// to 1/1024. Every candidate is snapped to the space before it is scored:
// ints and stepped parameters to their values, categories to one of them, so
// the acquisition is optimised over what can be suggested. Points already
// handed out are never scored, and so never suggested again.
//
// With 10 or more numeric parameters the search keeps to a trust region, as
// TuRBO does (Eriksson et al., 2019): a box around the best trial whose side
// along each parameter is the region's side times the parameter's length
// scale over their geometric mean. The side starts at 0.8 of the unit cube,
// doubles (up to 1.6) after three improvements on the best loss in a row and
// halves after as many trials without one as there are numeric parameters
// (at least 4); under 1/128 it starts again at 0.8. The function keeps no
// memory: each call replays the trials after the design, in the order they
// were created, to find the side. Three quarters of the candidates are then
// the best trial with each numeric parameter moved, with chance
// min(1, 20/parameters), to a uniform draw within the box, and the last
// quarter perturb the five best trials as above (none come from the prior);
// compass moves end inside the box. In many dimensions a model of a few
// dozen trials is unsure almost everywhere and would spend them exploring;
// kept near the best trial, it follows the landscape down (Ackley 20-D in
// docs/benchmarks.md).
//
// A batch is kept from collapsing onto one point by the kriging believer:
// pending and running trials, and each point already chosen for the reply,
// are taken in as observations at the model's mean there. That leaves the
// mean unchanged, may lower the incumbent (the best loss EI and PI must
// beat), and pins the variance down around them, so each is one more row of
// the Cholesky factor and a rank-one update of the candidates' variances,
// without refitting. The fantasies are all but noise-free: with the fitted
// noise, a batch would pile up on one point.
//
// The model takes over once the design is handed out and two trials have
// completed; until then, and whenever the model cannot place a point, points
// come from the prior as in random search. The model places at most 100
// points of a reply (local search refining the first 16), conditioned on at
// most 200 pending trials (the latest); the rest of a larger reply come from
// the prior. An infinite objective value counts
// as the worst (or best) finite one. A finite space that runs out is handled
// as random search handles it: the last unseen points are handed out and the
// reply says the space is exhausted.
//
// # Cost
//
// A long history is not a costly one: the model learns from a bounded
// subset of it. The hyperparameter fit costs m³ a step on at most 80 trials
// (the best 20 and a random rest, when there are more); the model conditions
// on at most 256 (the best 64, the latest 64 of the others, where the search
// has just been, and a random draw from the rest, a spread over the space),
// costing n³/3 once and n² per scored point, that is for each candidate and
// each step of the local search. Below 257 completed trials the model sees
// every one, so the subset changes nothing there. Past it, what grows with
// the history is reading the request and the keys of the points handed out,
// linear in the trials. At 10,000 trials of 20 dimensions a call for one
// point takes about 0.38 s of CPU and 76 MiB, of which reading the request
// is about 0.15 s and 61 MiB (knobs-bench -cost, docs/benchmarks.md); 256 keeps
// the model's work under the request's own cost there, and more trials than
// a few hundred add little to a Gaussian process that already knows where
// the best ones are. The number of dimensions weighs more than the history:
// the fit's gradient has one length scale per feature, and the local search
// tries two moves per feature at each step.
//
// # Settings
//
// acq_func (gp_hedge, ei, pi, ucb; scikit-optimize's EI, PI and LCB are
// accepted too), kappa (1.96), xi (0.01), n_initial_points (10), random_state,
// and for Katib's experiments base_estimator (GP only) and acq_optimizer
// (auto: candidates and local search; sampling: candidates only). Setting
// kappa for ei or pi, or xi for ucb, is an error rather than silently
// ignored. A categorical parameter takes at most 64 values, and the model at
// most 256 features.
//
// # Conditional parameters
//
// The Gaussian process sees every parameter: an inactive numeric parameter
// is imputed at 0.5, the middle of the unit cube (its prior's median), and
// an inactive categorical one sets none of its one-hot features. The
// initial design and the random candidates drop the parameters their
// parents leave inactive; a perturbed incumbent or a compass move that
// changes a parent draws the children it activates from their priors and
// drops the ones it deactivates (searchspace.Space.Activate), and an
// inactive parameter is never moved. Imputation lets the model share what
// the branches have in common, at the price of a kernel that sees two
// trials of different branches as close in the imputed features; on a
// conditional bowl of the tests its median regret after 30 evaluations is
// about a fortieth of random search's.
package bayesopt

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// The names of the settings.
const (
	AcqFunc        = "acq_func"
	Kappa          = "kappa"
	Xi             = "xi"
	NInitialPoints = "n_initial_points"
	BaseEstimator  = "base_estimator"
	AcqOptimizer   = "acq_optimizer"
	HedgeState     = "hedge_state"
)

// Limits of the model.
const (
	// MaxCategories bounds the categories of one categorical parameter, each
	// of which is a feature of the model.
	MaxCategories = 64
	// MaxFeatures bounds the model's features in all.
	MaxFeatures = 256

	maxFitPoints    = 80  // trials the hyperparameters are fitted on
	maxModelPoints  = 256 // trials the model conditions on
	maxFantasies    = 200 // pending trials the model conditions on
	maxModelBatch   = 100 // points of a reply the model places
	maxRefined      = 16  // points of a reply refined by local search
	minObservations = 2   // completed trials before the model takes over
)

const settingsPath = "experiment.experimentSpec.algorithm.algorithmSettings"

// BayesOpt is Bayesian optimisation with a Gaussian process.
type BayesOpt struct{}

var _ algorithm.Algorithm = BayesOpt{}

// Settings implements algorithm.Algorithm.
func (BayesOpt) Settings() []algorithm.Setting {
	return []algorithm.Setting{
		algorithm.EnumSetting(AcqFunc, "acquisition function: expected improvement, probability of improvement, "+
			"upper confidence bound, or a hedge choosing among the three by their past gains (EI, PI and LCB are scikit-optimize's names)",
			"gp_hedge", "gp_hedge", "ei", "pi", "ucb", "EI", "PI", "LCB"),
		algorithm.FloatSetting(Kappa, "weight of the standard deviation in ucb: higher explores more", 1.96, 0, 1000, false),
		algorithm.FloatSetting(Xi, "margin in standardised units by which ei and pi ask to improve on the best: higher explores more", 0.01, 0, 100, false),
		algorithm.IntSetting(NInitialPoints, "trials drawn from a Latin hypercube design before the model takes over", 10, 0, 10000),
		algorithm.EnumSetting(BaseEstimator, "surrogate model: a Gaussian process", "GP", "GP"),
		algorithm.EnumSetting(AcqOptimizer, "how the acquisition is maximised: random candidates refined by local search (auto), or the candidates alone (sampling)",
			"auto", "auto", "sampling"),
		algorithm.SeedSetting(),
		algorithm.StateSetting(HedgeState, "gp_hedge's gains and last proposals"),
	}
}

// config is the settings of one call.
type config struct {
	acq       string // ei, pi, ucb or gp_hedge
	xi, kappa float64
	nInitial  int
	sampling  bool
	hedge     *hedgeState // with gp_hedge, the state that came back; nil for none
}

func acqName(v string) string {
	switch v {
	case "EI":
		return "ei"
	case "PI":
		return "pi"
	case "LCB":
		return "ucb"
	}
	return v
}

func readConfig(p *algorithm.Problem, dim int) (config, error) {
	c := config{
		acq:      acqName(p.Settings.String(AcqFunc)),
		xi:       p.Settings.Float(Xi),
		kappa:    p.Settings.Float(Kappa),
		nInitial: int(p.Settings.Int(NInitialPoints)),
		sampling: p.Settings.String(AcqOptimizer) == "sampling",
	}
	if s, ok := p.Settings.Lookup(HedgeState); ok && c.acq == "gp_hedge" {
		h, err := parseHedgeState(s, dim)
		if err != nil {
			return c, algorithm.Invalidf(settingsPath, "%s: %v: this state is written by the algorithm; remove it to start the hedge afresh", HedgeState, err)
		}
		c.hedge = h
	}
	return c, nil
}

// Validate implements algorithm.Algorithm.
func (BayesOpt) Validate(p *algorithm.Problem) error {
	if err := p.RequireObjective(); err != nil {
		return err
	}
	for j := range p.Space.Params {
		prm := &p.Space.Params[j]
		if prm.Type == searchspace.Categorical && len(prm.List) > MaxCategories {
			return algorithm.Invalidf(fmt.Sprintf("experiment.experimentSpec.parameterSpecs.parameters[%d] (%q).feasibleSpace.list", j, prm.Name),
				"%d categories: bayesopt models each category as a dimension and takes at most %d; use fewer, or an algorithm such as random or tpe",
				len(prm.List), MaxCategories)
		}
	}
	enc := newEncoder(p.Space)
	if enc.dim > MaxFeatures {
		return algorithm.Invalidf("experiment.experimentSpec.parameterSpecs",
			"%d model dimensions (one per numeric parameter, one per category): bayesopt takes at most %d; use fewer parameters or categories",
			enc.dim, MaxFeatures)
	}
	acq := acqName(p.Settings.String(AcqFunc))
	if p.Settings.IsSet(Kappa) && (acq == "ei" || acq == "pi") {
		return algorithm.Invalidf(settingsPath, "kappa weighs the standard deviation in ucb, and acq_func %s does not use it: remove kappa, or set acq_func to ucb or gp_hedge", p.Settings.String(AcqFunc))
	}
	if p.Settings.IsSet(Xi) && acq == "ucb" {
		return algorithm.Invalidf(settingsPath, "xi is the margin of ei and pi, and acq_func %s does not use it: remove xi, or set acq_func to ei, pi or gp_hedge", p.Settings.String(AcqFunc))
	}
	_, err := readConfig(p, enc.dim)
	return err
}

// search is the working state of one call.
type search struct {
	ctx    context.Context
	p      *algorithm.Problem
	space  *searchspace.Space
	enc    *encoder
	rng    *rand.Rand
	cfg    config
	trials []algorithm.Trial
	seen   map[string]struct{}
	out    *algorithm.Suggestions
	box    *box
}

// take adds pt to the reply unless it has been handed out already.
func (s *search) take(pt searchspace.Point) bool {
	k := s.space.Key(pt)
	if _, taken := s.seen[k]; taken {
		return false
	}
	s.seen[k] = struct{}{}
	s.out.Points = append(s.out.Points, pt)
	return true
}

// Suggest implements algorithm.Algorithm.
func (BayesOpt) Suggest(ctx context.Context, p *algorithm.Problem, trials []algorithm.Trial, count int) (*algorithm.Suggestions, error) {
	enc := newEncoder(p.Space)
	cfg, err := readConfig(p, enc.dim)
	if err != nil {
		return nil, err
	}
	s := &search{
		ctx: ctx, p: p, space: p.Space, enc: enc, rng: p.Rand(len(trials)), cfg: cfg, trials: trials,
		seen: make(map[string]struct{}, len(trials)+count), out: &algorithm.Suggestions{},
	}
	for i := range trials {
		s.seen[s.space.Key(trials[i].Point)] = struct{}{}
	}
	if s.exhaust(count) {
		return s.out, nil
	}
	s.design(count)
	if err := s.modelled(count); err != nil {
		return nil, err
	}
	if err := s.fill(count); err != nil {
		return nil, err
	}
	if cfg.acq == "gp_hedge" && s.out.State == nil && cfg.hedge != nil {
		// No model this call: pass the state on unchanged.
		s.out.State = []*pb.AlgorithmSetting{{Name: HedgeState, Value: cfg.hedge.format(enc.dim)}}
	}
	return s.out, nil
}

// exhaust hands out every unseen point of a finite space when no more than
// count are left, and reports whether it did.
func (s *search) exhaust(count int) bool {
	if size, exact := s.space.Size(); !s.space.Finite() || !exact || size > uint64(len(s.trials)+count) {
		// Not a space that this reply can use up: spare the keys of every
		// trial.
		return false
	}
	rest, ok := algorithm.NewTaken(s.space, s.trials).Rest(count)
	if !ok {
		return false
	}
	for _, pt := range rest {
		s.take(pt)
	}
	s.rng.Shuffle(len(s.out.Points), func(a, b int) { s.out.Points[a], s.out.Points[b] = s.out.Points[b], s.out.Points[a] })
	s.out.Exhausted = true
	return true
}

// design hands out the initial design's points owed to this call: the k-th
// trial of the experiment gets the k-th point of one design, the centre
// followed by a Latin hypercube.
func (s *search) design(count int) {
	first := len(s.trials)
	if first >= s.cfg.nInitial {
		return
	}
	rng := s.p.Rand(0)
	var pts []searchspace.Point
	if len(s.p.Objective.Constraints) == 0 {
		// An infeasible centre would rank above every feasible trial: a
		// peak in the middle of the model.
		pts = append(pts, centre(s.space, rng))
	}
	pts = append(pts, latinHypercube(s.space, rng, s.cfg.nInitial-len(pts))...)
	for i := first; i < s.cfg.nInitial && len(s.out.Points) < count; i++ {
		// A point taken already (a finite space's design can repeat itself)
		// leaves its place to the model or to random search.
		s.take(pts[i])
	}
}

// observations are the completed trials the model learns from.
type observations struct {
	pts  []searchspace.Point
	loss []float64
}

func (s *search) observations() observations {
	var o observations
	for i := range s.trials {
		t := &s.trials[i]
		if t.Completed() && s.space.Contains(t.Point) {
			o.pts = append(o.pts, t.Point)
			o.loss = append(o.loss, t.Loss)
		}
	}
	// An infinite loss counts as the worst (or best) finite one.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range o.loss {
		if !math.IsInf(v, 0) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if lo > hi {
		lo, hi = 0, 0
	}
	for i, v := range o.loss {
		switch {
		case math.IsInf(v, 1):
			o.loss[i] = hi
		case math.IsInf(v, -1):
			o.loss[i] = lo
		}
	}
	return o
}

// subset picks at most n of the observations' indices, in order: the best
// quarter, the latest recent of the others (the observations are in the
// order their trials were created), and a random draw from the rest, a
// spread over the space.
func subset(loss []float64, n, recent int, rng *rand.Rand) []int {
	idx := make([]int, len(loss))
	for i := range idx {
		idx[i] = i
	}
	if len(loss) <= n {
		return idx
	}
	sort.SliceStable(idx, func(a, b int) bool { return loss[idx[a]] < loss[idx[b]] })
	best := n / 4
	rest := idx[best:]
	recent = min(recent, n-best)
	if recent > 0 {
		// The latest come first among the rest.
		sort.Slice(rest, func(a, b int) bool { return rest[a] > rest[b] })
		rest = rest[recent:]
	}
	rng.Shuffle(len(rest), func(a, b int) { rest[a], rest[b] = rest[b], rest[a] })
	out := idx[:n]
	slices.Sort(out)
	return out
}

// standardise returns (v - mean) / sd of the values at idx, computed on a
// scale that cannot overflow.
func standardise(loss []float64, idx []int) []float64 {
	scale := 0.0
	for _, i := range idx {
		scale = math.Max(scale, math.Abs(loss[i]))
	}
	if scale == 0 {
		scale = 1
	}
	mean := 0.0
	for _, i := range idx {
		mean += loss[i] / scale
	}
	mean /= float64(len(idx))
	variance := 0.0
	for _, i := range idx {
		d := loss[i]/scale - mean
		variance += d * d
	}
	sd := math.Sqrt(variance / float64(len(idx)))
	if sd < 1e-12 {
		sd = 1
	}
	y := make([]float64, len(idx))
	for k, i := range idx {
		y[k] = (loss[i]/scale - mean) / sd
	}
	return y
}

// modelled fills the reply up to count with the model's points.
func (s *search) modelled(count int) error {
	need := min(count-len(s.out.Points), maxModelBatch)
	if need <= 0 {
		return nil
	}
	obs := s.observations()
	if len(obs.loss) < minObservations {
		return nil
	}
	if err := s.ctx.Err(); err != nil {
		return err
	}
	tr := s.train(obs)
	if err := s.ctx.Err(); err != nil {
		return err
	}
	s.box = s.region(obs, tr)
	pending := s.fantasies()
	m, ok := newModel(tr.h, s.enc.dim, tr.x, tr.y, pending, need)
	if !ok {
		return nil // random search fills in
	}
	pl, starts := s.candidates(obs, tr, len(pending))
	return s.place(m, pl, need, starts)
}

// training is what the model learns from: the observations it conditions
// on, their features and standardised losses, and the hyperparameters.
type training struct {
	use  []int     // the observations', by index
	x, y []float64 // features, dim a row, and losses
	h    hyper
}

// train picks the observations the model conditions on and fits the
// hyperparameters on a smaller subset of them, as their fit costs m³ a step.
func (s *search) train(obs observations) training {
	dim := s.enc.dim
	tr := training{use: subset(obs.loss, maxModelPoints, maxModelPoints/4, s.rng)}
	tr.y = standardise(obs.loss, tr.use)
	tr.x = make([]float64, len(tr.use)*dim)
	for k, i := range tr.use {
		s.enc.encode(obs.pts[i], tr.x[k*dim:(k+1)*dim])
	}

	fitIdx := subset(tr.y, maxFitPoints, 0, s.rng)
	fx := make([]float64, len(fitIdx)*dim)
	fy := standardise(tr.y, fitIdx)
	for k, i := range fitIdx {
		copy(fx[k*dim:(k+1)*dim], tr.x[i*dim:(i+1)*dim])
	}
	budget := fitBudget{starts: 3, candidates: 16, iterations: 60}
	if len(fitIdx) > 40 {
		budget = fitBudget{starts: 2, candidates: 8, iterations: 40}
	}
	tr.h = fit(fx, fy, dim, s.rng, budget)
	return tr
}

// fantasies encodes the points the model conditions on as pending: pending
// trials and this reply's points so far, the latest maxFantasies of them.
func (s *search) fantasies() []float64 {
	var pts []searchspace.Point
	for i := range s.trials {
		if t := &s.trials[i]; t.Active() && s.space.Contains(t.Point) {
			pts = append(pts, t.Point)
		}
	}
	pts = append(pts, s.out.Points...)
	pts = pts[max(0, len(pts)-maxFantasies):]
	dim := s.enc.dim
	pending := make([]float64, len(pts)*dim)
	for i, pt := range pts {
		s.enc.encode(pt, pending[i*dim:(i+1)*dim])
	}
	return pending
}

// candidates returns the pool of candidate points, with the five best
// trials as incumbents, and the number of local searches from it: fewer of
// both as each costs more.
func (s *search) candidates(obs observations, tr training, pending int) (*pool, int) {
	order := make([]int, len(tr.y))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return tr.y[order[a]] < tr.y[order[b]] })
	var incumbents []searchspace.Point
	for _, i := range order[:min(5, len(order))] {
		incumbents = append(incumbents, obs.pts[tr.use[i]])
	}
	poolSize, starts := 1024, 5
	switch rows := len(tr.y) + pending/max(s.enc.dim, 1); {
	case rows > 200:
		poolSize, starts = 512, 2
	case rows > 100:
		poolSize, starts = 1024, 3
	}
	return s.newPool(poolSize, incumbents), starts
}

// hedgeProbabilities credits gp_hedge's last proposals with the model's
// predictions for them, keeps the new gains for this reply's state, and
// returns the probability of each acquisition.
func (s *search) hedgeProbabilities(m *model) [numAcq]float64 {
	st := s.cfg.hedge
	if st == nil {
		st = &hedgeState{}
	}
	st = &hedgeState{gains: st.gains, proposals: st.proposals}
	if st.proposals != nil {
		mu, sd := make([]float64, numAcq), make([]float64, numAcq)
		m.predict(st.proposals, mu, sd)
		for a := range numAcq {
			st.gains[a] -= mu[a]
		}
	}
	s.cfg.hedge = st
	return st.probabilities()
}

// place adds up to need points, each maximising the acquisition given the
// ones before, until the model can place no more.
func (s *search) place(m *model, pl *pool, need, starts int) error {
	pc := m.cache(pl.feats)
	pl.mu, pl.sd = pc.mu, pc.sd
	single := map[string]acqKind{"ei": acqEI, "pi": acqPI, "ucb": acqUCB}[s.cfg.acq]
	var probs [numAcq]float64
	if s.cfg.acq == "gp_hedge" {
		probs = s.hedgeProbabilities(m)
	}
	feat := make([]float64, s.enc.dim)
	for k := 0; k < need; k++ {
		if err := s.ctx.Err(); err != nil {
			return err
		}
		if k == maxRefined {
			starts = 0 // the candidates alone from here
		}
		m.update(pc)
		var pt searchspace.Point
		var ok bool
		switch {
		case s.cfg.acq != "gp_hedge":
			pt, ok = s.propose(m, pl, single, starts)
		case k == 0:
			pt, ok = s.proposeHedged(m, pl, probs, starts)
		default:
			pt, ok = s.propose(m, pl, pick(probs, s.rng), starts)
		}
		if !ok || !s.take(pt) {
			return nil // random search fills in
		}
		s.enc.encode(pt, feat)
		m.add(feat)
	}
	return nil
}

// proposeHedged has every acquisition propose a point, keeps the proposals
// in the hedge's state, and returns the one of an acquisition drawn with
// the given probabilities.
func (s *search) proposeHedged(m *model, pl *pool, probs [numAcq]float64, starts int) (searchspace.Point, bool) {
	dim := s.enc.dim
	var props [numAcq]searchspace.Point
	st := s.cfg.hedge
	st.proposals = make([]float64, int(numAcq)*dim)
	for a := range numAcq {
		var ok bool
		if props[a], ok = s.propose(m, pl, a, starts); !ok {
			return nil, false
		}
		s.enc.encode(props[a], st.proposals[int(a)*dim:(int(a)+1)*dim])
	}
	s.out.State = []*pb.AlgorithmSetting{{Name: HedgeState, Value: st.format(dim)}}
	return props[pick(probs, s.rng)], true
}

// pick draws an acquisition with the given probabilities.
func pick(probs [numAcq]float64, rng *rand.Rand) acqKind {
	u := rng.Float64()
	for a := range numAcq - 1 {
		if u < probs[a] {
			return a
		}
		u -= probs[a]
	}
	return numAcq - 1
}

// fill completes the reply with random points: draws from the prior, then,
// in a space with finitely many points, uniform draws and finally the unseen
// points themselves.
func (s *search) fill(count int) error {
	for tries := 0; len(s.out.Points) < count && tries < 64*count+1024; tries++ {
		s.take(s.space.Sample(s.rng))
	}
	size, finite := gridSize(s.space)
	for tries := 0; finite && len(s.out.Points) < count && tries < 64*count+1024; tries++ {
		if tries%1024 == 0 {
			if err := s.ctx.Err(); err != nil {
				return err
			}
		}
		s.take(s.space.Deactivate(uniformGridPoint(s.space, s.rng)))
	}
	if finite && len(s.out.Points) < count && size <= algorithm.EnumerateBelow {
		order := s.rng.Perm(int(size))
		for _, i := range order {
			if len(s.out.Points) == count {
				break
			}
			s.take(s.space.Deactivate(gridPoint(s.space, uint64(i))))
		}
	}
	if len(s.out.Points) < count {
		return fmt.Errorf("bayesopt found %d new points of %d asked", len(s.out.Points), count)
	}
	return nil
}
