// Package hyperband is Hyperband (Li et al., "Hyperband: A Novel
// Bandit-Based Approach to Hyperparameter Optimization", JMLR 2018) with
// Katib's settings, as a stateless function.
//
// # Settings
//
// r_l is R, the largest budget; resource_name names the int or double
// parameter that carries a trial's budget (its value is set to the rung's
// budget, whatever its feasible space would draw); eta (default 3) is the
// halving factor; random_state seeds the draws. s_max is the largest s with
// eta^s <= R, as in Katib, so the budgets are R, R/eta, ... down to
// R/eta^s_max, between 1 and eta; each is snapped to the nearest value of the
// resource parameter and all must lie in its feasible space and differ.
//
// # Brackets
//
// Bracket s (s_max down to 0) draws n(s) = ceil((s_max+1)/(s+1) eta^s)
// configurations from the prior and runs them at budget R/eta^s; rung i runs
// the best floor(n(s)/eta^i) at R/eta^(s-i), until rung s runs at R. For R = 9
// and eta = 3: bracket 2 runs 9 configurations at 1, the best 3 at 3 and the
// best one at 9; bracket 1 runs 5 at 3 and the best at 9; bracket 0 runs 3 at
// 9. A promoted configuration is a new trial: the same values with a larger
// budget.
//
// A rung is promoted when every one of its trials has finished. Failed
// trials and those without the objective rank last and are never promoted.
//
// # Filling every request
//
// A reply holds exactly the number of points asked for. Points come first
// from the brackets under way, oldest first: the configurations a rung still
// owes, then the promotions of rungs that have finished. When those cannot
// fill the reply (their rungs wait for running trials), the next bracket
// starts at once: Hyperband's brackets are independent. When every bracket of
// an iteration has started and slots remain while some still wait, the next
// iteration starts, from bracket s_max again, as in the paper's
// infinite-horizon Hyperband. The reply says the search space is exhausted
// when the last bracket of an iteration has handed out its last rung and no
// bracket is left waiting: then the experiment is done. Run sequentially (one
// trial at a time) Hyperband runs exactly one iteration; run in parallel it
// goes on until maxTrialCount.
//
// In a finite space a first rung takes the unseen configurations there are
// and halves what it got. New configurations are drawn from the prior, then,
// when draws keep repeating, picked among the unseen ones. When as many new
// brackets in a row as an iteration has find nothing, every configuration
// has run at every budget and the reply says the space is exhausted.
//
// # Compared with Katib
//
// The settings are Katib's and so is s_max. Katib truncates budgets to
// integers and rounds rung sizes up; here budgets go to the nearest value of
// the resource parameter and rung sizes follow the paper (floor(n/eta^i)),
// so for R = 9 bracket 1 promotes one configuration, not two. Katib needs
// parallelTrialCount >= eta^s_max and stops after one iteration; here any
// parallelism works, brackets overlap, and the end is reported through the
// exhausted flag.
//
// # State
//
// The brackets under way travel in the setting hyperband_state (see state),
// and the trials hold everything else: a configuration's trial at a rung is
// found by its non-resource values and the rung's budget. Nothing is kept in
// memory, so the function can restart or scale at any time.
package hyperband

import (
	"context"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/searchspace"
)

// Hyperband is the Hyperband algorithm.
type Hyperband struct{}

var _ algorithm.Algorithm = Hyperband{}

// Settings implements algorithm.Algorithm.
func (Hyperband) Settings() []algorithm.Setting { return Settings() }

// Validate implements algorithm.Algorithm: it checks the objective, the
// settings against the search space, and the state.
func (Hyperband) Validate(p *algorithm.Problem) error { return Validate(p) }

// Validate checks a problem for Hyperband, and for algorithms built on its
// brackets.
func Validate(p *algorithm.Problem) error {
	if err := p.RequireObjective(); err != nil {
		return err
	}
	if err := algorithm.RefuseMultiObjective(p, "Hyperband (and BOHB)", "its brackets promote the best configurations of one loss from rung to rung"); err != nil {
		return err
	}
	sc, err := NewSchedule(p)
	if err != nil {
		return err
	}
	_, err = parseState(p, sc)
	return err
}

// Suggest implements algorithm.Algorithm.
func (Hyperband) Suggest(ctx context.Context, p *algorithm.Problem, trials []algorithm.Trial, count int) (*algorithm.Suggestions, error) {
	return Run(ctx, p, trials, count, nil)
}

// Sampler chooses a new configuration for the first rung of a bracket: a
// point whose resource value is ignored. fresh reports whether a point is
// unseen at that rung's budget. Returning false leaves the choice to a draw
// from the prior.
type Sampler func(rng *rand.Rand, fresh func(searchspace.Point) bool) (searchspace.Point, bool)

// Run suggests count points by Hyperband's brackets, choosing new
// configurations with sample, or from the prior when sample is nil.
func Run(ctx context.Context, p *algorithm.Problem, trials []algorithm.Trial, count int, sample Sampler) (*algorithm.Suggestions, error) {
	sc, err := NewSchedule(p)
	if err != nil {
		return nil, err
	}
	st, err := parseState(p, sc)
	if err != nil {
		return nil, err
	}
	r := newRun(ctx, p, sc, trials, count, sample)
	for _, b := range st.Brackets {
		r.reserve(b)
	}

	// empty counts the brackets started in a row that found nothing to hand
	// out. Their first rungs cover every budget level once there are as many
	// as an iteration has brackets: then every configuration has run at
	// every budget, and the space has no point left for Hyperband.
	empty := 0
	for {
		kept := st.Brackets[:0]
		for _, b := range st.Brackets {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if r.serve(b) {
				kept = append(kept, b)
			}
		}
		if r.err != nil {
			return nil, r.err
		}
		st.Brackets = kept
		if len(r.out) == count || st.done(sc) || empty >= sc.Brackets() {
			break
		}
		// Every bracket left waits for running trials: start the next.
		before := len(r.out)
		st.Brackets = append(st.Brackets, &bracket{K: st.Next})
		st.Next++
		r.serve(st.Brackets[len(st.Brackets)-1]) // a first rung owes at once
		if r.err != nil {
			return nil, r.err
		}
		if len(r.out) == before {
			empty++
		} else {
			empty = 0
		}
	}
	return &algorithm.Suggestions{
		Points:    r.out,
		State:     st.settings(),
		Exhausted: st.done(sc) || empty >= sc.Brackets(),
	}, nil
}

// done reports whether an iteration has ended with no bracket under way.
func (st *state) done(sc *Schedule) bool {
	return st.Next > 0 && st.Next%sc.Brackets() == 0 && len(st.Brackets) == 0
}

// slot is a configuration at a budget level: a point Hyperband hands out.
type slot struct {
	config uint64
	level  int
}

// run is one call's view of the trials.
type run struct {
	ctx    context.Context
	err    error // ctx's, once a loop has seen it done
	p      *algorithm.Problem
	sc     *Schedule
	trials []algorithm.Trial
	count  int
	sample Sampler
	rng    *rand.Rand

	// have maps each slot to the trial holding it, preferring one that
	// completed, then one still running.
	have map[slot]int
	// config maps a configuration to a trial holding its values.
	config map[uint64]int
	// given holds the slots of this reply; reserved those of promoted
	// configurations not yet handed out.
	given, reserved map[slot]struct{}
	out             []searchspace.Point

	sub   *searchspace.Space // the non-resource parameters
	left  map[int][]uint64   // unseen configurations of a finite space, per level
	listd map[int]bool
}

func newRun(ctx context.Context, p *algorithm.Problem, sc *Schedule, trials []algorithm.Trial, count int, sample Sampler) *run {
	r := &run{
		ctx: ctx, p: p, sc: sc, trials: trials, count: count, sample: sample,
		rng:      p.Rand(len(trials)),
		have:     make(map[slot]int, len(trials)),
		config:   make(map[uint64]int, len(trials)),
		given:    make(map[slot]struct{}, count),
		reserved: make(map[slot]struct{}),
		out:      make([]searchspace.Point, 0, count),
	}
	r.sub = p.Space.Without(sc.Resource)
	for i := range trials {
		t := &trials[i]
		if len(t.Point) != p.Space.Len() {
			continue
		}
		h := r.hash(t.Point)
		if _, ok := r.config[h]; !ok && r.usable(t.Point) {
			r.config[h] = i
		}
		level, ok := sc.LevelOf(t.Point)
		if !ok {
			continue
		}
		sl := slot{h, level}
		if j, ok := r.have[sl]; !ok || rank(t) > rank(&trials[j]) {
			r.have[sl] = i
		}
	}
	return r
}

// rank orders trials of one slot: completed, then running, then the rest.
func rank(t *algorithm.Trial) int {
	switch {
	case t.Completed():
		return 2
	case t.Active():
		return 1
	}
	return 0
}

// usable reports whether a trial's configuration lies in the space: its
// active parameters inside their feasible spaces, its inactive ones unset.
func (r *run) usable(pt searchspace.Point) bool {
	for j, on := range r.p.Space.Active(pt) {
		if j == r.sc.Resource {
			continue
		}
		if on == searchspace.IsInactive(pt[j]) || (on && !r.p.Space.Params[j].Contains(pt[j])) {
			return false
		}
	}
	return true
}

// identity hashes a point's non-resource values as they are written, so
// that two points differing only in their budget share it.
func identity(space *searchspace.Space, resource int, pt searchspace.Point) uint64 {
	h := fnv.New64a()
	for j := range space.Params {
		if j == resource {
			continue
		}
		h.Write([]byte(space.Params[j].Format(pt[j])))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

func (r *run) hash(pt searchspace.Point) uint64 { return identity(r.p.Space, r.sc.Resource, pt) }

func (r *run) taken(sl slot) bool {
	if _, ok := r.have[sl]; ok {
		return true
	}
	if _, ok := r.given[sl]; ok {
		return true
	}
	_, ok := r.reserved[sl]
	return ok
}

// reserve keeps the slots of a promoted rung from new configurations.
func (r *run) reserve(b *bracket) {
	if b.Rung == 0 {
		return
	}
	level := r.sc.Level(r.sc.S(b.K), b.Rung)
	for _, h := range b.members {
		r.reserved[slot{h, level}] = struct{}{}
	}
}

// stopped reports whether the call's context is done, keeping its error
// for Run to return.
func (r *run) stopped() bool {
	if r.err == nil {
		r.err = r.ctx.Err()
	}
	return r.err != nil
}

func (r *run) give(pt searchspace.Point, h uint64, level int) {
	r.given[slot{h, level}] = struct{}{}
	r.out = append(r.out, pt)
}

// serve hands out what bracket b owes, promoting its rungs as they finish,
// until the reply is full or the bracket waits. It reports whether the
// bracket goes on.
func (r *run) serve(b *bracket) bool {
	s := r.sc.S(b.K)
	for {
		level := r.sc.Level(s, b.Rung)
		if b.Rung == 0 {
			for !b.Closed && len(b.members) < r.sc.Size(s) {
				if len(r.out) == r.count {
					return true
				}
				if r.stopped() {
					return false
				}
				pt, ok := r.newConfig(level)
				if !ok {
					b.Closed = true
					break
				}
				h := r.hash(pt)
				b.members = append(b.members, h)
				r.give(pt, h, level)
			}
		} else {
			for _, h := range b.members {
				sl := slot{h, level}
				if _, ok := r.have[sl]; ok {
					continue
				}
				if _, ok := r.given[sl]; ok {
					continue
				}
				pt, ok := r.pointOf(h, level)
				if !ok {
					continue // its values are lost: it counts as failed
				}
				if len(r.out) == r.count {
					return true
				}
				if r.stopped() {
					return false
				}
				r.give(pt, h, level)
			}
		}
		if len(b.members) == 0 || b.Rung == s {
			return false // everything handed out: nothing to wait for
		}
		if !r.finished(b, level) {
			return true
		}
		r.promote(b, s, level)
	}
}

// pointOf returns configuration h at a budget level, from a trial holding
// its values.
func (r *run) pointOf(h uint64, level int) (searchspace.Point, bool) {
	i, ok := r.config[h]
	if !ok {
		return nil, false
	}
	pt := append(searchspace.Point(nil), r.trials[i].Point...)
	pt[r.sc.Resource] = r.sc.Budgets[level]
	return pt, true
}

// finished reports whether every trial of the rung has ended.
func (r *run) finished(b *bracket, level int) bool {
	for _, h := range b.members {
		sl := slot{h, level}
		if _, ok := r.given[sl]; ok {
			return false
		}
		if i, ok := r.have[sl]; ok && r.trials[i].Active() {
			return false
		}
	}
	return true
}

// loss is a configuration's loss at a level; +Inf when its trial failed,
// reported no objective, or is lost.
func (r *run) loss(h uint64, level int) float64 {
	if i, ok := r.have[slot{h, level}]; ok && r.trials[i].Completed() {
		return r.trials[i].Loss
	}
	return math.Inf(1)
}

// promote moves bracket b to its next rung with the best configurations of
// the current one. A configuration whose next slot is taken (a finite space
// can hold it from another bracket) gives way to the next best.
func (r *run) promote(b *bracket, s, level int) {
	type ranked struct {
		h    uint64
		loss float64
	}
	rs := make([]ranked, len(b.members))
	for i, h := range b.members {
		rs[i] = ranked{h, r.loss(h, level)}
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].loss < rs[j].loss })

	keep := r.sc.RungSize(s, b.Rung+1)
	if planned := r.sc.RungSize(s, b.Rung); len(b.members) < planned {
		// A first rung cut short by a finite space halves what it has.
		keep = max(1, len(b.members)*keep/planned)
	}
	next := make([]uint64, 0, keep)
	for _, c := range rs {
		if len(next) == keep || math.IsInf(c.loss, 1) {
			break
		}
		if _, ok := r.config[c.h]; !ok || r.taken(slot{c.h, level + 1}) {
			continue
		}
		next = append(next, c.h)
	}
	b.Rung++
	b.members = next
	b.Closed = false
	r.reserve(b)
}

// enumerateBelow is the size of a finite configuration space under which its
// unseen configurations are listed when draws from the prior keep repeating.
const enumerateBelow = 1 << 20

// newConfig returns a configuration unseen at a budget level, with the
// resource set to the level's budget: from the sampler, else drawn from the
// prior, else (when draws keep repeating in a finite space) picked among the
// unseen ones. It reports false when there is none.
func (r *run) newConfig(level int) (searchspace.Point, bool) {
	budget := r.sc.Budgets[level]
	fresh := func(pt searchspace.Point) bool {
		return len(pt) == r.p.Space.Len() && !r.taken(slot{r.hash(pt), level})
	}
	finish := func(pt searchspace.Point) searchspace.Point {
		pt = append(searchspace.Point(nil), pt...)
		pt[r.sc.Resource] = budget
		return pt
	}
	if r.sample != nil {
		if pt, ok := r.sample(r.rng, fresh); ok && fresh(pt) {
			if pt = finish(pt); r.p.Space.Contains(pt) {
				return pt, true
			}
		}
	}
	for range 64 {
		if pt := finish(r.p.Space.Sample(r.rng)); fresh(pt) {
			return pt, true
		}
	}
	size, exact := r.sub.Size()
	if !r.sub.Finite() || !exact || size > enumerateBelow {
		// Too large to list, and a large space whose likely points are
		// taken: draw uniformly among all configurations.
		for i := range 1 << 12 {
			if i%1024 == 0 && r.stopped() {
				return nil, false
			}
			var pt searchspace.Point
			if r.sub.Finite() && exact {
				pt = r.full(r.sub.PointAt(r.rng.Uint64N(size)), budget)
			} else {
				pt = finish(r.p.Space.Sample(r.rng))
			}
			if fresh(pt) {
				return pt, true
			}
		}
		return nil, false
	}
	if r.left == nil {
		r.left, r.listd = make(map[int][]uint64), make(map[int]bool)
	}
	if !r.listd[level] {
		r.listd[level] = true
		for i := range size {
			if i%1024 == 0 && r.stopped() {
				return nil, false
			}
			if fresh(r.full(r.sub.PointAt(i), budget)) {
				r.left[level] = append(r.left[level], i)
			}
		}
	}
	for left := r.left[level]; len(left) > 0; left = r.left[level] {
		k := r.rng.IntN(len(left))
		i := left[k]
		left[k] = left[len(left)-1]
		r.left[level] = left[:len(left)-1]
		if pt := r.full(r.sub.PointAt(i), budget); fresh(pt) {
			return pt, true
		}
	}
	return nil, false
}

// full makes a point of the space from a configuration and a budget.
func (r *run) full(config searchspace.Point, budget float64) searchspace.Point {
	pt := make(searchspace.Point, 0, len(config)+1)
	pt = append(pt, config[:r.sc.Resource]...)
	pt = append(pt, budget)
	return append(pt, config[r.sc.Resource:]...)
}
