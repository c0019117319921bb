package tpe

import (
	"math"
	"math/rand/v2"
	"slices"

	"knobs.dev/knobs/pkg/searchspace"
)

// This file holds the multivariate model (the setting multivariate): one
// density over all parameters together instead of one per parameter, so
// that TPE can learn how parameters go together (Falkner et al., BOHB,
// ICML 2018; Optuna's multivariate TPE). Each observation is a product of
// one kernel per parameter, and so is the prior; candidates are drawn from
// the good group's density as whole points and the one with the largest
// l(x)/g(x) is suggested.
//
// With conditional parameters the joint density covers the parameters
// every trial has, those without a parent, and each conditional parameter
// is chosen on its own as univariate TPE chooses it, from the trials in
// which it was active: Optuna's multivariate TPE does the same, modelling
// jointly the search space all trials share and sampling the rest
// independently.

// sigma0Magnitude scales the multivariate bandwidth: Scott's rule,
// 0.2 n^(-1/(d+4)) of each parameter's range, as BOHB and Optuna use.
const sigma0Magnitude = 0.2

// joint is a product-kernel density over some parameters of the model's
// space (the unit interval for numeric parameters, the index for
// categorical ones).
type joint struct {
	params []searchspace.Param
	// cols are the positions of the parameters the density covers; the
	// arrays below are indexed by the position in cols.
	cols []int
	// cum holds the kernels' cumulative weights, for drawing one; logW
	// their log weights.
	cum, logW []float64
	mu        [][]float64 // mu[k][j]: kernel k's centre in parameter j
	// sigma[k] is kernel k's bandwidth in every numeric parameter.
	sigma []float64
	// lo[k][j], hi[k][j] are kernel k's normal CDF at 0 and 1 in
	// parameter j, for drawing and for its mass in [0, 1].
	lo, hi [][]float64
	// catRow[k][j] holds kernel k's log probabilities of parameter j's
	// categories (nil for numeric parameters).
	catRow [][][]float64
}

// newJoint fits the multivariate density to the observations idx (in the
// order they came), with the prior as one more kernel of weight
// priorWeight: centred in the middle of every range with bandwidth 1 and
// uniform over categories.
func newJoint(space *searchspace.Space, obs []observation, idx []int, priorWeight float64) *joint {
	cols := make([]int, space.Len())
	for j := range cols {
		cols[j] = j
	}
	return newJointOver(space, cols, obs, group{idx: idx}, priorWeight)
}

// newJointOver is newJoint over the parameters at the positions cols, for
// the observations of g with its weights.
func newJointOver(space *searchspace.Space, cols []int, obs []observation, g group, priorWeight float64) *joint {
	idx := g.idx
	n, d := len(idx), len(cols)
	k := n + 1
	m := &joint{params: space.Params, cols: cols, cum: make([]float64, k), logW: make([]float64, k), mu: make([][]float64, k),
		sigma: make([]float64, k), lo: make([][]float64, k), hi: make([][]float64, k), catRow: make([][][]float64, k)}

	sigma0 := sigma0Magnitude * math.Pow(float64(max(n, 1)), -1/float64(d+4))
	sigma0 = min(max(sigma0, 1/min(100, 1+float64(k))), 1)

	w := slices.Clone(g.w)
	if w == nil {
		w = obsWeights(n)
	}
	w = append(w, priorWeight)
	total := 0.0
	for _, x := range w {
		total += x
	}
	acc := 0.0
	for i := range k {
		acc += w[i] / total
		m.cum[i], m.logW[i] = acc, math.Log(w[i]/total)
		m.mu[i], m.lo[i], m.hi[i], m.catRow[i] = make([]float64, d), make([]float64, d), make([]float64, d), make([][]float64, d)
		m.sigma[i] = sigma0
		if i == n {
			m.sigma[i] = 1
		}
		for c, j := range cols {
			p := &space.Params[j]
			if p.Type == searchspace.Categorical {
				m.catRow[i][c] = categoryRow(p, obs, idx, i, j, priorWeight)
				continue
			}
			mu := 0.5
			if i < n {
				mu = obs[idx[i]].x[j]
			}
			m.mu[i][c] = mu
			m.lo[i][c] = phi(-mu / m.sigma[i])
			m.hi[i][c] = phi((1 - mu) / m.sigma[i])
		}
	}
	return m
}

// categoryRow is kernel i's log probabilities over parameter j's
// categories: the observation's own category, spread as in newCategories,
// or uniform for the prior (i == len(idx)).
func categoryRow(p *searchspace.Param, obs []observation, idx []int, i, j int, priorWeight float64) []float64 {
	c := len(p.List)
	row := make([]float64, c)
	if i == len(idx) {
		for v := range row {
			row[v] = -math.Log(float64(c))
		}
		return row
	}
	a := priorWeight / float64(len(idx)+1)
	for v := range row {
		row[v] = math.Log(a / (1 + float64(c)*a))
	}
	row[int(obs[idx[i]].x[j])] = math.Log((1 + a) / (1 + float64(c)*a))
	return row
}

// sample draws the density's parameters of a point of the model's space
// into x.
func (m *joint) sample(rng *rand.Rand, x []float64) {
	k := pick(m.cum, rng.Float64())
	for c, j := range m.cols {
		if row := m.catRow[k][c]; row != nil {
			u, acc := rng.Float64(), 0.0
			x[j] = float64(len(row) - 1)
			for v, lp := range row {
				acc += math.Exp(lp)
				if u < acc {
					x[j] = float64(v)
					break
				}
			}
			continue
		}
		q := m.lo[k][c] + rng.Float64()*(m.hi[k][c]-m.lo[k][c])
		x[j] = min(max(m.mu[k][c]+m.sigma[k]*phiInv(q), 0), 1)
	}
}

// logScore is the log of the density at x with, as in mixture.logScore,
// every kernel at the same height in the continuous parameters; in
// parameters with finitely many values it is the true density.
func (m *joint) logScore(x []float64) float64 {
	terms := make([]float64, len(m.logW))
	for k := range terms {
		t := m.logW[k]
		for c, j := range m.cols {
			if row := m.catRow[k][c]; row != nil {
				t += row[int(x[j])]
				continue
			}
			z := (x[j] - m.mu[k][c]) / m.sigma[k]
			t += -0.5*z*z - logSqrt2Pi - math.Log(m.hi[k][c]-m.lo[k][c])
			if m.params[j].Finite() {
				t -= math.Log(m.sigma[k])
			}
		}
		terms[k] = t
	}
	best := slices.Max(terms)
	sum := 0.0
	for _, t := range terms {
		sum += math.Exp(t - best)
	}
	return best + math.Log(sum)
}

// fromJoint returns the unseen point multivariate TPE likes best, or nil
// when every candidate of several rounds is taken.
func fromJoint(space *searchspace.Space, cfg config, obs []observation, nBelow int, seen map[string]struct{}, rng *rand.Rand) searchspace.Point {
	below, above := split(obs, nBelow)
	// The joint density covers the parameters every point has; each
	// conditional one has its own pair of densities.
	var cols, alone []int
	for j := range space.Params {
		if space.Params[j].HasParent {
			alone = append(alone, j)
		} else {
			cols = append(cols, j)
		}
	}
	l := newJointOver(space, cols, obs, below, cfg.priorWeight)
	g := newJointOver(space, cols, obs, above, cfg.priorWeight)
	models := make([]dimension, len(alone))
	for a, j := range alone {
		models[a] = newDimension(&space.Params[j], j, obs, below, above, cfg.priorWeight)
	}
	n, d := cfg.candidates, space.Len()
	aloneCand, aloneScore := make([]float64, n), make([]float64, n)
	cand := make([][]float64, n)
	score := make([]float64, n)
	rows := make([]int, n)
	for i := range cand {
		cand[i] = make([]float64, d)
	}
	pt := make(searchspace.Point, d)
	for range modelRounds {
		for i := range cand {
			l.sample(rng, cand[i])
			score[i] = l.logScore(cand[i]) - g.logScore(cand[i])
			rows[i] = i
		}
		for a, j := range alone {
			models[a].candidates(rng, aloneCand, aloneScore)
			pt[j] = models[a].point(models[a].best(aloneCand, aloneScore))
		}
		slices.SortStableFunc(rows, func(a, b int) int { return -cmpFloat(score[a], score[b]) })
		for _, i := range rows {
			for _, j := range cols {
				pt[j] = fromModelValue(&space.Params[j], cand[i][j])
			}
			// Deactivate on a copy: the conditional parameters' choices
			// stand for every row of this round.
			q := space.Deactivate(slices.Clone(pt))
			if _, ok := seen[space.Key(q)]; !ok {
				return q
			}
		}
	}
	return nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
