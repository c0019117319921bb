// Package cmaes is the covariance matrix adaptation evolution strategy
// (CMA-ES), with IPOP and BIPOP restarts, as a stateless Knobs algorithm.
//
// # Method
//
// CMA-ES samples each generation of λ points from a multivariate normal
// distribution N(m, σ² C), ranks them by the objective, and moves the mean
// m to a weighted average of the best μ = λ/2; it adapts the step size σ by
// the length of the path the mean travels (longer than a random walk's: grow,
// shorter: shrink) and the covariance C by rank-one and rank-μ updates, so
// that C comes to follow the shape of the objective around the mean. This is
// the (μ/μ_w, λ)-CMA-ES with Hansen's default parameters (The CMA Evolution
// Strategy: A Tutorial, 2016): λ = 4 + ⌊3 ln n⌋ in n dimensions, positive
// recombination weights.
//
// The search runs in the unit cube of the parameters that vary: double, int
// and discrete ones, each mapped through its prior (searchspace.Space's
// FromUnit), so that a log-uniform learning rate moves in log space. Ints,
// steps and discrete values are rounded by that mapping; the update uses the
// unrounded point. A margin (Hamano et al., CMA-ES with Margin, 2022) keeps
// them from freezing: after each update, the probability that a draw
// leaves the cell of the mean's value is held at 1/(nλ) or more, by moving
// the mean and widening that coordinate's standard deviation. A sample outside the cube is folded back in by reflection
// at its faces, which leaves no mass on the faces. The search starts at the
// cube's centre (each prior's median) with σ = sigma, or, when the history
// already holds completed trials and there is no state (trials written by
// hand or by another algorithm, a state lost), at the best of them: a warm
// start, as Optuna's x0.
//
// Categorical parameters have no order for CMA-ES to move along; they are
// drawn beside it, independently of its distribution, as Optuna's
// CmaEsSampler does with its independent sampler. Each category is drawn
// with a weight: the square of the share of its completed trials that are
// among the best quarter of all (at least one), with a prior of one trial
// good a quarter of the time. The draw is uniform at first, then mostly
// the categories that do well, so that the numeric search ranks its points
// under fewer changes of category; a share rather than a count, so that a
// category drawn often does not gain weight by being drawn often. A member of a generation is known by its numeric part,
// whatever categories were drawn with it. At least two numeric parameters
// must vary; a parameter with one value is held at it.
//
// # Restarts
//
// A run ends when it has converged or broken down (Hansen's criteria:
// tolfun, tolx, tolupsigma, conditioncov, noeffectaxis, noeffectcoord) or
// when its distribution only yields points already handed out, which in a
// space of ints comes long before the tolerances. restart_strategy then
// decides: none keeps sampling (and, when the distribution is stuck, widens
// it or picks unseen points elsewhere, which are not generation members);
// ipop (Auger and Hansen, 2005) restarts from a random point of the cube with
// twice the population; bipop (Hansen, 2009) alternates such large-population
// runs with small-population ones of random size between the default and
// half the last large one and a step size shrunk by up to a hundredfold,
// choosing the regime that has used fewer evaluations so far.
//
// The default is ipop, where Katib's goptuna-based CMA-ES defaults to none:
// until a run ends the strategies behave alike, and after, a restart spends
// the budget better than sampling on around a converged point. Note too that
// sigma is in the unit cube here (default 1/6, so that ±3σ spans the cube,
// as Optuna's CmaEsSampler's range/6), where goptuna's is in the
// parameters' own units.
//
// # State
//
// goptuna's cmaes.Optimizer keeps its mean, step size, covariance, paths,
// generation and random generator in unexported fields and cannot be built
// from them, so it cannot be carried between calls; this package has its own
// implementation. Every call rebuilds the search from two state settings it
// wrote in its last reply:
//
//   - cmaes_state: base64 of a little-endian record: a version byte, the
//     dimension, the population size, the run's generation, the restart
//     counters and BIPOP's evaluation budgets, σ, the mean, the upper
//     triangle of C, both evolution paths, and the best loss of each of the
//     run's last generations (for tolfun).
//   - cmaes_population: base64 of the members handed out and not yet told
//     or failed: for each, the generation that drew it and its point in the
//     unit cube, unrounded.
//
// Every point drawn from the distribution is a member, tagged with the
// generation that drew it. A call finds each member's trial by its
// assignments: members whose trials failed or reported no metric drop out,
// pending and running ones wait. Completed members, in the order they were
// handed out, make generations of λ: each λ of them update the
// distribution. Points are handed out as they are asked for, whatever λ
// is, so a generation's members are spread over calls, and when λ members
// are out but too few have completed, more are drawn from the same
// distribution. A member that completes after its generation was told
// joins the next one as an injected solution (Hansen, Injecting External
// Solutions Into CMA-ES, 2011): its step from the new mean is shortened to a
// Mahalanobis length of at most √n + 2n/(n+2). So no evaluation is lost to
// the search however many trials run in parallel, and nothing waits for a
// straggler. At most 2λ+32 members are tracked; points beyond are drawn from
// the same distribution but not tracked. A restart lets go of every member.
//
// Random numbers come from the request (Problem.Rand): the same request,
// with the same state and random_state, gives the same reply.
//
// No point is handed out twice: a sample that rounds to a point already
// taken is drawn again. A finite space says when it is used up.
//
// # Conditional parameters
//
// A conditional parameter stays out of the search, as Optuna's
// CmaEsSampler leaves out the parameters outside the search space every
// trial shares: it is drawn from its prior beside each member, and dropped
// where its parents leave it inactive. The search covers the numeric
// parameters without a parent (at least two), and a member is known again
// by them alone, whatever was drawn beside it.
package cmaes

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Setting names.
const (
	SettingSigma      = "sigma"
	SettingRestart    = "restart_strategy"
	SettingState      = "cmaes_state"
	SettingPopulation = "cmaes_population"
)

// Restart strategies.
const (
	RestartNone  = "none"
	RestartIPOP  = "ipop"
	RestartBIPOP = "bipop"
)

// DefaultSigma is the initial step size in the unit cube: from the centre,
// ±3σ spans the cube, as Optuna's default of a sixth of the range. (It was
// 0.25, ±2σ: the first generations spread wider and found the optimum
// later; docs/benchmarks.md has the measurements.)
const DefaultSigma = 1.0 / 6

// MaxDimensions bounds the parameters that vary: the state holds an n×n
// covariance matrix, and each call diagonalises it.
const MaxDimensions = 100

const (
	settingsPath   = "experiment.experimentSpec.algorithm.algorithmSettings"
	parametersPath = "experiment.experimentSpec.parameterSpecs.parameters"
	// drawsPerPoint is how many samples a point may take before the
	// distribution counts as stuck on points already handed out.
	drawsPerPoint = 100
	// restartsPerCall bounds restarts for being stuck within one call.
	restartsPerCall = 3
)

// CMAES is the CMA-ES algorithm.
type CMAES struct{}

var _ algorithm.Algorithm = CMAES{}

// Settings implements algorithm.Algorithm.
func (CMAES) Settings() []algorithm.Setting {
	return []algorithm.Setting{
		algorithm.FloatSetting(SettingSigma,
			"initial step size: the standard deviation of the first generation in the unit cube, where each parameter's range (through its prior) has length 1",
			DefaultSigma, 0, 1, true),
		algorithm.EnumSetting(SettingRestart,
			"what follows a run that has converged: none samples on around it; ipop restarts at a random point with twice the population; bipop alternates such restarts with small-population ones",
			RestartIPOP, RestartNone, RestartIPOP, RestartBIPOP),
		algorithm.SeedSetting(),
		algorithm.StateSetting(SettingState, "the search distribution, its paths and the restart bookkeeping"),
		algorithm.StateSetting(SettingPopulation, "the points of the current generation handed out so far"),
	}
}

// view maps the unit cube of the numeric parameters that vary to the
// space, and draws the categorical parameters beside it. Conditional
// parameters stay out of both: as Optuna's CmaEsSampler does with the
// parameters outside the search space every trial shares, they are drawn
// from their priors beside the search, and dropped where their parents
// leave them inactive.
type view struct {
	space *searchspace.Space
	dims  []int // indices of the numeric parameters that vary
	cats  []int // indices of the categorical parameters that vary
	free  []int // indices of the conditional parameters
	// weights holds, for each of cats, the weight of each category in the
	// draw (nil: uniform).
	weights [][]float64
}

// varies reports whether a parameter has more than one value.
func varies(p *searchspace.Param) bool {
	if p.Finite() {
		return p.Len() > 1
	}
	return p.Min < p.Max
}

func newView(space *searchspace.Space) view {
	v := view{space: space}
	for i := range space.Params {
		switch p := &space.Params[i]; {
		case p.HasParent:
			v.free = append(v.free, i)
		case !varies(p):
		case p.Type == searchspace.Categorical:
			v.cats = append(v.cats, i)
		default:
			v.dims = append(v.dims, i)
		}
	}
	return v
}

// point maps x in the cube to the space, with each categorical parameter
// drawn from its weights and each conditional one from its prior (or, with
// rng nil, at its first category and its prior's median: for numericKey);
// parameters with one value take it.
func (v view) point(x []float64, rng *rand.Rand) searchspace.Point {
	u := make([]float64, v.space.Len())
	for i := range u {
		u[i] = 0.5
	}
	for j, i := range v.dims {
		u[i] = x[j]
	}
	for j, i := range v.cats {
		k := len(v.space.Params[i].List)
		c := 0
		switch {
		case rng == nil:
		case v.weights != nil:
			c = pick(v.weights[j], rng)
		default:
			c = rng.IntN(k)
		}
		u[i] = (float64(c) + 0.5) / float64(k)
	}
	for _, i := range v.free {
		if rng != nil {
			u[i] = rng.Float64()
		}
	}
	return v.space.FromUnit(u)
}

// numericKey is the key of a point's numeric part: a member of the
// generation is known by it, whatever categories and conditional
// parameters were drawn beside it.
func (v view) numericKey(pt searchspace.Point) string {
	if len(v.cats) == 0 && len(v.free) == 0 {
		return v.space.Key(pt)
	}
	q := slices.Clone(pt)
	for _, i := range v.cats {
		q[i] = 0
	}
	for _, i := range v.free {
		q[i] = searchspace.Inactive
	}
	return v.space.Key(q)
}

// pick draws an index with probability proportional to its weight.
func pick(w []float64, rng *rand.Rand) int {
	var sum float64
	for _, x := range w {
		sum += x
	}
	r := rng.Float64() * sum
	for i, x := range w {
		if r < x {
			return i
		}
		r -= x
	}
	return len(w) - 1
}

// goodFraction is the share of the completed trials, best first, whose
// categories weigh in the draw of the next ones.
const goodFraction = 0.25

// learnCategories sets the weights of each categorical parameter from the
// completed trials: the share of a category's trials that are among the
// best quarter (at least one), with a prior of one trial good a quarter of
// the time, squared. A share, not a count, so that a category drawn often
// does not gain weight by being drawn often. Before any trial has
// completed the draw is uniform.
func (v *view) learnCategories(p *algorithm.Problem, trials []algorithm.Trial) {
	if len(v.cats) == 0 {
		return
	}
	var done []int
	for i := range trials {
		if trials[i].Completed() {
			done = append(done, i)
		}
	}
	if len(done) == 0 {
		return
	}
	slices.SortStableFunc(done, func(a, b int) int {
		return cmp.Compare(trials[a].Loss, trials[b].Loss)
	})
	good := max(1, int(math.Ceil(goodFraction*float64(len(done)))))
	v.weights = make([][]float64, len(v.cats))
	for j, i := range v.cats {
		k := len(v.space.Params[i].List)
		goods, all := make([]float64, k), make([]float64, k)
		for r, t := range done {
			c := int(trials[t].Point[i])
			if c < 0 || c >= k {
				continue
			}
			all[c]++
			if r < good {
				goods[c]++
			}
		}
		w := make([]float64, k)
		for c := range w {
			share := (goods[c] + goodFraction) / (all[c] + 1)
			w[c] = share * share
		}
		v.weights[j] = w
	}
}

// Validate implements algorithm.Algorithm.
func (CMAES) Validate(p *algorithm.Problem) error {
	if err := p.RequireObjective(); err != nil {
		return err
	}
	if err := algorithm.RefuseMultiObjective(p, "cmaes", "its distribution moves, generation by generation, toward the best of one loss"); err != nil {
		return err
	}
	n := len(newView(p.Space).dims)
	if n < 2 {
		withoutParent := ""
		if p.Space.Conditional() {
			withoutParent = " without a parent (conditional parameters are drawn beside the search)"
		}
		return algorithm.Invalidf(parametersPath,
			"%d numeric parameters%s vary: CMA-ES needs at least 2 double, int or discrete parameters with more than one value; use random, grid, sobol or tpe search for fewer", n, withoutParent)
	}
	if n > MaxDimensions {
		return algorithm.Invalidf(parametersPath,
			"%d numeric parameters vary: CMA-ES here takes at most %d (its covariance matrix grows with their square); use random or sobol search", n, MaxDimensions)
	}
	_, _, err := load(p.Settings, n)
	return err
}

// load reads the state settings, or returns nil for a new search.
func load(s algorithm.Settings, n int) (*state, []member, error) {
	if !s.IsSet(SettingState) {
		return nil, nil, nil
	}
	st, err := decodeState(s.String(SettingState), n)
	if err != nil {
		return nil, nil, algorithm.Invalidf(settingsPath,
			"%s: %s: it is the state this algorithm writes in its replies; remove it (and %s) to start the search afresh", SettingState, err, SettingPopulation)
	}
	var pop []member
	if s.IsSet(SettingPopulation) {
		if pop, err = decodePopulation(s.String(SettingPopulation), n); err != nil {
			return nil, nil, algorithm.Invalidf(settingsPath,
				"%s: %s: it is state this algorithm writes in its replies; remove it to start a new generation", SettingPopulation, err)
		}
	}
	return st, pop, nil
}

// newState is the state of a new search: the cube's centre, σ0, the
// default population.
func newState(n int, sigma0 float64) *state {
	mean := make([]float64, n)
	for i := range mean {
		mean[i] = 0.5
	}
	return &state{dist: newDist(mean, sigma0), lambda: defaultLambda(n)}
}

// restart ends the current run and starts the next as the strategy says:
// none resets the distribution where it is (after a numerical breakdown),
// ipop and bipop start from a random point of the cube.
func (s *state) restart(strategy string, sigma0 float64, rng *rand.Rand) {
	n := len(s.mean)
	if s.large {
		s.largeEvals += s.runEvals
	} else {
		s.smallEvals += s.runEvals
	}
	s.runs++
	s.gen, s.runEvals, s.hist = 0, 0, nil
	if strategy == RestartNone {
		s.dist = newDist(s.mean, sigma0)
		return
	}
	sigma := sigma0
	l0 := defaultLambda(n)
	switch {
	case strategy == RestartIPOP:
		s.lambda = min(2*s.lambda, maxLambda)
	case s.smallEvals < s.largeEvals:
		// BIPOP, small regime: λ between the default and half the last
		// large run's, σ shrunk by up to 100.
		s.large = false
		u := rng.Float64()
		half := math.Pow(2, float64(s.largeRuns-1)) // ½ λ_large / λ0
		s.lambda = min(max(l0, int(float64(l0)*math.Pow(half, u*u))), maxLambda)
		sigma = sigma0 * math.Pow(10, -2*rng.Float64())
	default:
		// BIPOP, large regime: twice the last large population.
		s.large = true
		s.largeRuns++
		s.lambda = l0
		for i := 0; i < s.largeRuns && s.lambda < maxLambda; i++ {
			s.lambda *= 2
		}
		s.lambda = min(s.lambda, maxLambda)
	}
	mean := make([]float64, n)
	for i := range mean {
		mean[i] = rng.Float64()
	}
	s.dist = newDist(mean, sigma)
}

// Suggest implements algorithm.Algorithm.
func (CMAES) Suggest(ctx context.Context, p *algorithm.Problem, trials []algorithm.Trial, count int) (*algorithm.Suggestions, error) {
	c, err := newCall(p, trials)
	if err != nil {
		return nil, err
	}
	c.tell(trials)
	out := &algorithm.Suggestions{Points: make([]searchspace.Point, 0, count)}
	taken := algorithm.NewTaken(p.Space, trials)
	if rest, ok := taken.Rest(count); ok {
		// Everything left fits in this reply.
		out.Points, out.Exhausted = rest, true
	} else if err := c.ask(ctx, taken, out, count); err != nil {
		return nil, err
	}
	out.State = c.st.settings(c.pop, c.n)
	return out, nil
}

// call is the search as one call rebuilds it: the state and the members
// handed out, and the distribution's eigendecomposition.
type call struct {
	p        *algorithm.Problem
	v        view
	n        int
	sigma0   float64
	strategy string
	rng      *rand.Rand
	st       *state
	e        eigen
	pop      []member
}

// newCall rebuilds the search from the state settings, or starts one.
func newCall(p *algorithm.Problem, trials []algorithm.Trial) (*call, error) {
	v := newView(p.Space)
	v.learnCategories(p, trials)
	n := len(v.dims)
	st, pop, err := load(p.Settings, n)
	if err != nil {
		return nil, err
	}
	c := &call{p: p, v: v, n: n, st: st, pop: pop,
		sigma0:   p.Settings.Float(SettingSigma),
		strategy: p.Settings.String(SettingRestart),
		rng:      p.Rand(len(trials)),
	}
	if c.st == nil {
		c.st, c.pop = newState(n, c.sigma0), nil
		c.warmStart(trials)
	}
	if c.e, err = c.st.decompose(); err != nil {
		c.restart()
	}
	return c, nil
}

// warmStart moves the mean of a new search to the best completed trial of
// the history, when there is one: trials this search did not hand out
// (written by hand, left by another algorithm, or from before its state
// was lost) are where it starts, as Optuna's CmaEsSampler starts at x0.
func (c *call) warmStart(trials []algorithm.Trial) {
	best := -1
	for i := range trials {
		if trials[i].Completed() && (best < 0 || trials[i].Loss < trials[best].Loss) {
			best = i
		}
	}
	if best < 0 {
		return
	}
	u := c.p.Space.ToUnit(trials[best].Point)
	for j, i := range c.v.dims {
		c.st.mean[j] = math.Min(1, math.Max(0, u[i]))
	}
}

// restart ends the run and lets go of every member.
func (c *call) restart() {
	c.st.restart(c.strategy, c.sigma0, c.rng)
	c.e, c.pop = mustDecompose(&c.st.dist), nil
}

// tell finds each member's trial: members that completed, in the order they
// were handed out, make generations of λ; failed ones drop out, pending
// ones wait.
func (c *call) tell(trials []algorithm.Trial) {
	// The trial of each point handed out; a completed one wins over others
	// with the same assignments.
	byKey := make(map[string]int, len(trials))
	for i := range trials {
		k := c.v.numericKey(trials[i].Point)
		if j, ok := byKey[k]; !ok || (!trials[j].Completed() && trials[i].Completed()) {
			byKey[k] = i
		}
	}
	var done []member
	var pending []member
	for _, m := range c.pop {
		j, ok := byKey[c.v.numericKey(c.v.point(m.x, nil))]
		switch {
		case !ok || trials[j].Active():
			pending = append(pending, m)
		case trials[j].Completed():
			m.loss = trials[j].Loss
			done = append(done, m)
		}
	}
	for len(done) >= c.st.lambda {
		gen := slices.Clone(done[:c.st.lambda])
		done = done[c.st.lambda:]
		if !c.update(gen) {
			c.restart()
			done, pending = nil, nil
		}
	}
	// Completed members too few for a generation wait for more; they keep
	// their place ahead of the pending ones handed out after them, which
	// is what matters: the order among completed ones.
	c.pop = slices.Concat(done, pending)
}

// update tells the distribution one generation, and reports false when the
// run has ended: it broke down or, unless the strategy is none, converged.
func (c *call) update(gen []member) bool {
	st, n := c.st, c.n
	sortMembers(gen)
	st.dist.tell(newParams(n, st.lambda), c.e, gen, st.gen)
	st.dist.margin(c.p.Space, c.v.dims, 1/float64(n*st.lambda))
	st.gen++
	st.runEvals += st.lambda
	losses := make([]float64, len(gen))
	for i, m := range gen {
		losses[i] = m.loss
	}
	st.hist = append(st.hist, losses[0])
	if h := histLen(n, st.lambda); len(st.hist) > h {
		st.hist = slices.Clone(st.hist[len(st.hist)-h:])
	}
	var err error
	c.e, err = st.decompose()
	return err == nil && (c.strategy == RestartNone || st.stopReason(newParams(n, st.lambda), c.e, st.gen, st.hist[:len(st.hist)-1], losses) == "")
}

// ask adds points to the reply until it holds count, drawing them from the
// distribution; each is a member of the generation, up to 2λ+32 of them.
func (c *call) ask(ctx context.Context, taken *algorithm.Taken, out *algorithm.Suggestions, count int) error {
	restarts := 0
	for len(out.Points) < count {
		if err := ctx.Err(); err != nil {
			return err
		}
		if x, ok := c.draw(taken, out, 1, drawsPerPoint); ok {
			if len(c.pop) < 2*c.st.lambda+32 {
				c.pop = append(c.pop, member{gen: c.st.gen, x: x})
			}
			continue
		}
		// The distribution yields only points handed out already.
		if c.strategy != RestartNone && restarts < restartsPerCall {
			restarts++
			c.restart()
			continue
		}
		if !c.elsewhere(ctx, taken, out) {
			if err := ctx.Err(); err != nil {
				return err
			}
			out.Exhausted = true
			break
		}
	}
	return nil
}

// draw samples the distribution, widened by w, up to tries times for a
// point not taken, and adds it to the reply.
func (c *call) draw(taken *algorithm.Taken, out *algorithm.Suggestions, w float64, tries int) ([]float64, bool) {
	for range tries {
		x := c.st.sample(c.e, c.rng, w)
		if pt := c.v.point(x, c.rng); taken.Take(pt) {
			out.Points = append(out.Points, pt)
			return x, true
		}
	}
	return nil, false
}

// elsewhere adds one point not taken, looking wider around the mean, then
// anywhere; such points are not members of the generation. It reports false
// when it finds none.
func (c *call) elsewhere(ctx context.Context, taken *algorithm.Taken, out *algorithm.Suggestions) bool {
	for w := 2.0; w <= 1024; w *= 2 {
		if _, found := c.draw(taken, out, w, 16); found {
			return true
		}
	}
	return anywhere(ctx, c.p.Space, taken, c.rng, out)
}

// mustDecompose diagonalises a distribution fresh from a restart, whose C
// is the identity.
func mustDecompose(d *dist) eigen {
	e, err := d.decompose()
	if err != nil {
		panic(fmt.Sprintf("cmaes: a new distribution does not diagonalise: %v", err))
	}
	return e
}

func (s *state) settings(pop []member, n int) []*pb.AlgorithmSetting {
	return []*pb.AlgorithmSetting{
		{Name: SettingState, Value: s.encode()},
		{Name: SettingPopulation, Value: encodePopulation(pop, n)},
	}
}

// anywhere adds one unseen point of the space: drawn uniformly among them
// in a space small enough to list them, else from the prior and then, in a
// finite space, uniformly. It reports false when it finds none.
func anywhere(ctx context.Context, space *searchspace.Space, taken *algorithm.Taken, rng *rand.Rand, out *algorithm.Suggestions) bool {
	if !taken.Enumerable() {
		tries := 1 << 20
		if taken.Finite() {
			tries = 1024
		}
		for i := range tries {
			if i%1024 == 0 && ctx.Err() != nil {
				return false
			}
			if pt := space.Sample(rng); taken.Take(pt) {
				out.Points = append(out.Points, pt)
				return true
			}
		}
	}
	pt, ok := taken.Draw(rng)
	if ok {
		out.Points = append(out.Points, pt)
	}
	return ok
}
