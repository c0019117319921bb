// Package nsga2 is NSGA-II (Deb et al., 2002), the genetic algorithm for
// several objectives: a population evolves toward the Pareto front by
// crossover and mutation, parents chosen by non-dominated rank and then by
// how uncrowded they are along their front. With constraints, it uses
// constrained domination: a feasible trial beats an infeasible one, and of
// two infeasible ones the one that breaks its constraints less.
//
// Like every Knobs algorithm it keeps no state between calls: the trials in
// the order they were handed out make the generations, population_size
// each, and the parents of a generation are the best population_size of
// every completed trial of the generations before it (NSGA-II's elitist
// selection over parents and offspring, applied to all of them at once).
// The first generation is drawn from the prior. With one objective it is a
// plain genetic algorithm.
package nsga2

import (
	"cmp"
	"context"
	"math"
	"math/rand/v2"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/pareto"
	"knobs.dev/knobs/pkg/searchspace"
)

// The settings NSGA-II takes, with Optuna's NSGAIISampler's names.
const (
	PopulationSize = "population_size"
	CrossoverProb  = "crossover_prob"
	SwappingProb   = "swapping_prob"
	MutationProb   = "mutation_prob"
	Crossover      = "crossover"
)

// NSGA2 is the NSGA-II algorithm.
type NSGA2 struct{}

var _ algorithm.Algorithm = NSGA2{}

// Settings implements algorithm.Algorithm.
func (NSGA2) Settings() []algorithm.Setting {
	return []algorithm.Setting{
		algorithm.IntSetting(PopulationSize,
			"trials of each generation; the first is drawn from the prior, each later one bred from the best so many completed trials before it", 50, 2, 10000),
		algorithm.FloatSetting(CrossoverProb,
			"chance that a child is bred from two parents; otherwise it is a copy of one, mutated", 0.9, 0, 1, false),
		algorithm.FloatSetting(SwappingProb,
			"in uniform crossover, the chance that a parameter comes from the second parent", 0.5, 0, 1, false),
		algorithm.FloatSetting(MutationProb,
			"chance that each parameter of a child is drawn anew from its prior; 0 means 1 over the number of parameters", 0, 0, 1, false),
		algorithm.EnumSetting(Crossover,
			"how two parents make a child: uniform takes each parameter from one parent or the other; sbx (simulated binary crossover) blends numeric parameters near the parents' values", "uniform", "uniform", "sbx"),
		algorithm.SeedSetting(),
	}
}

// Validate implements algorithm.Algorithm: NSGA-II ranks trials by their
// objectives, so it needs the objective metric.
func (NSGA2) Validate(p *algorithm.Problem) error {
	return p.RequireObjective()
}

// Suggest implements algorithm.Algorithm.
func (NSGA2) Suggest(ctx context.Context, p *algorithm.Problem, trials []algorithm.Trial, count int) (*algorithm.Suggestions, error) {
	space := p.Space
	rng := p.Rand(len(trials))
	taken := algorithm.NewTaken(space, trials)
	out := &algorithm.Suggestions{}
	if rest, ok := taken.Rest(count); ok {
		rng.Shuffle(len(rest), func(a, b int) { rest[a], rest[b] = rest[b], rest[a] })
		out.Points, out.Exhausted = rest, true
		return out, nil
	}
	b := breeder{p: p, rng: rng, size: int(p.Settings.Int(PopulationSize))}
	b.mutation = p.Settings.Float(MutationProb)
	if b.mutation == 0 {
		b.mutation = 1 / float64(space.Len())
	}
	for k := 0; len(out.Points) < count; k++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if k >= 64*count+1024 {
			if taken.Finite() {
				break
			}
			return nil, algorithm.Invalidf("experiment.experimentSpec.parameterSpecs",
				"the search space holds too few distinct points for %d more suggestions: widen the ranges of the double parameters", count)
		}
		// The generation of the next trial, whose parents come from the
		// completed trials of the generations before it.
		gen := (len(trials) + len(out.Points)) / b.size
		if gen != b.gen || b.parents == nil {
			b.choose(trials, gen)
		}
		if pt := b.child(); taken.Take(pt) {
			out.Points = append(out.Points, pt)
		}
	}
	// Children repeat what is taken: draw uniformly among the unseen.
	if err := taken.Fill(ctx, rng, out, count); err != nil {
		return nil, err
	}
	return out, nil
}

// breeder makes the children of one generation.
type breeder struct {
	p        *algorithm.Problem
	rng      *rand.Rand
	size     int
	mutation float64
	gen      int
	// parents are the points of the chosen parents, with their rank and
	// crowding distance; empty when the children are drawn from the prior.
	parents  []searchspace.Point
	rank     []int
	crowding []float64
}

// choose picks the parents of generation gen: the best b.size completed
// trials of the generations before it.
func (b *breeder) choose(trials []algorithm.Trial, gen int) {
	b.gen, b.parents, b.rank, b.crowding = gen, b.parents[:0], nil, nil
	var pts []pareto.Point
	var idx []int
	for i := range trials[:min(len(trials), gen*b.size)] {
		t := &trials[i]
		if !t.Completed() || !b.p.Space.Contains(t.Point) {
			continue
		}
		v := t.Losses
		if v == nil {
			v = []float64{b.p.Objective.Loss(t.Value)}
		}
		pts = append(pts, pareto.Point{Values: v, Violation: t.Violation})
		idx = append(idx, i)
	}
	chosen, rank, crowding := pareto.Select(pts, b.size)
	for _, c := range chosen {
		b.parents = append(b.parents, trials[idx[c]].Point)
	}
	b.rank, b.crowding = rank, crowding
	if b.parents == nil {
		b.parents = []searchspace.Point{}
	}
}

// child breeds one point: from the prior while there are fewer than two
// parents, else by tournament, crossover and mutation.
func (b *breeder) child() searchspace.Point {
	space := b.p.Space
	if len(b.parents) < 2 {
		return space.Sample(b.rng)
	}
	x := b.tournament()
	pt := make(searchspace.Point, space.Len())
	copy(pt, b.parents[x])
	if b.rng.Float64() < b.p.Settings.Float(CrossoverProb) {
		y := b.tournament()
		for y == x {
			y = b.tournament()
		}
		b.cross(pt, b.parents[x], b.parents[y])
	}
	for j := range space.Params {
		if b.rng.Float64() < b.mutation {
			pt[j] = space.Params[j].FromUnit(b.rng.Float64())
		}
	}
	// A parent's value changed: the children it governs follow.
	return space.Activate(pt, b.rng)
}

// tournament returns the better of two parents drawn at random: the lower
// rank, then the less crowded (Deb's crowded comparison).
func (b *breeder) tournament() int {
	i, j := b.rng.IntN(len(b.parents)), b.rng.IntN(len(b.parents))
	if c := cmp.Compare(b.rank[i], b.rank[j]); c != 0 {
		if c < 0 {
			return i
		}
		return j
	}
	if b.crowding[j] > b.crowding[i] {
		return j
	}
	return i
}

// cross makes pt, a copy of parent x, a child of x and y.
func (b *breeder) cross(pt, x, y searchspace.Point) {
	space := b.p.Space
	sbx := b.p.Settings.String(Crossover) == "sbx"
	swap := b.p.Settings.Float(SwappingProb)
	for j := range space.Params {
		prm := &space.Params[j]
		numeric := prm.Type == searchspace.Double || prm.Type == searchspace.Int
		switch {
		case searchspace.IsInactive(x[j]) || searchspace.IsInactive(y[j]):
			// Active in one parent only: the child takes either value,
			// and Activate settles it.
			if b.rng.Float64() < swap {
				pt[j] = y[j]
			}
		case sbx && numeric:
			pt[j] = prm.FromUnit(blend(b.rng, prm.ToUnit(x[j]), prm.ToUnit(y[j])))
		case b.rng.Float64() < swap:
			pt[j] = y[j]
		}
	}
}

// blend is simulated binary crossover (Deb and Agrawal, 1995) of two values
// in [0, 1] with distribution index 20, bounded to [0, 1]: one of the two
// children, at random.
func blend(rng *rand.Rand, a, c float64) float64 {
	const eta = 20
	if math.Abs(a-c) < 1e-14 {
		return a
	}
	lo, hi := min(a, c), max(a, c)
	u := rng.Float64()
	// The spread factor, bounded so that children stay in [0, 1].
	beta := 1 + 2*min(lo, 1-hi)/(hi-lo)
	alpha := 2 - math.Pow(beta, -(eta+1))
	var bq float64
	if u <= 1/alpha {
		bq = math.Pow(u*alpha, 1.0/(eta+1))
	} else {
		bq = math.Pow(1/(2-u*alpha), 1.0/(eta+1))
	}
	child := 0.5 * ((lo + hi) - bq*(hi-lo))
	if rng.IntN(2) == 0 {
		child = 0.5 * ((lo + hi) + bq*(hi-lo))
	}
	return min(1, max(0, child))
}
