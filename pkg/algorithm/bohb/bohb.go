// Package bohb is BOHB (Falkner, Klein and Hutter, "BOHB: Robust and
// Efficient Hyperparameter Optimization at Scale", ICML 2018): Hyperband's
// brackets, with the new configurations of each bracket's first rung chosen
// by a model instead of drawn from the prior.
//
// The brackets, budgets, promotions, state and settings r_l, eta,
// resource_name and random_state are Hyperband's (see package hyperband).
//
// # The model
//
// Each call looks at the finished trials at each budget of the schedule and
// takes the largest budget with at least min_points_in_model (default: the
// number of parameters tuned, plus one) completed observations. It sorts them
// by loss (failed trials last) and splits them as the paper does: the best
// max(N_min, top_n_percent% of N) are good, the worst max(N_min, N - good)
// are bad; the two overlap while N < 2 N_min, and good leaves out at least
// the worst one so that the two differ. It fits a Parzen estimator to each,
// l(x) to the good and g(x) to the bad, over the parameters other than the
// budget:
//
//   - int, double and discrete parameters in the unit cube of their prior
//     (see searchspace), with Gaussian kernels whose bandwidth is the
//     normal reference rule, 1.06 sd n^(-1/(d+4)), at least min_bandwidth;
//   - categorical parameters with an Aitchison-Aitken kernel: weight 1-λ on
//     the observed category and λ/(k-1) on each other, λ from the same rule
//     applied to the spread of the categories (the square root of their Gini
//     impurity), between min_bandwidth and (k-1)/k.
//
// Two departures from the paper keep a model of few points sensible. The
// prior counts as one more observation: the spread each bandwidth is
// computed from includes the prior's (variance 1/12 in the unit cube,
// impurity (k-1)/k), so that a handful of points close together by chance do
// not shrink the kernels to nothing and stop the search in one basin; and
// the prior joins each density as one more kernel, so that l/g stays bounded
// away from the observations instead of growing without limit wherever both
// densities vanish. On the multi-fidelity Branin of the tests (60 seeds,
// BenchmarkQuality), BOHB without them did better than Hyperband on 31 seeds
// run one trial at a time and 38 run four at a time; with them, on 47 and
// 45.
//
// A new configuration is, with probability random_fraction, a draw from the
// prior. Otherwise BOHB draws num_samples candidates from l with its
// bandwidths widened by bandwidth_factor (a good point, moved by a truncated
// Gaussian in each numeric parameter and, for a categorical one, replaced by
// a uniform category with probability bandwidth_factor λ) and takes the one
// maximising l(x)/g(x) among those not yet run at the bracket's budget.
// Until some budget has enough observations every configuration is drawn
// from the prior, as in Hyperband; when every candidate has been run
// already, so is the configuration.
//
// # Conditional parameters
//
// As the paper's implementation (hpbandster) does, the model imputes the
// coordinates of parameters an observation did not have: each takes the
// value of the same parameter in another observation of that budget that
// had it, drawn at random, or a draw from the prior when none had it. The
// densities then cover every parameter, a candidate is drawn whole, and the
// parameters its parents' values leave inactive are dropped from the
// configuration (its coordinates still score it). The budget parameter must
// be always active and no parameter's parent, as for Hyperband.
package bohb

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/algorithm/hyperband"
	"knobs.dev/knobs/pkg/searchspace"
)

// Names of BOHB's own settings.
const (
	MinPointsInModel = "min_points_in_model"
	TopNPercent      = "top_n_percent"
	NumSamples       = "num_samples"
	RandomFraction   = "random_fraction"
	BandwidthFactor  = "bandwidth_factor"
	MinBandwidth     = "min_bandwidth"
)

// BOHB is the BOHB algorithm.
type BOHB struct{}

var _ algorithm.Algorithm = BOHB{}

// Settings implements algorithm.Algorithm: Hyperband's, and the model's.
func (BOHB) Settings() []algorithm.Setting {
	minPoints := algorithm.IntSetting(MinPointsInModel,
		"completed observations a budget needs before the model is fitted to it (default: the number of parameters tuned, plus one)",
		0, 1, 100000)
	minPoints.Default = ""
	return append(hyperband.Settings(),
		minPoints,
		algorithm.IntSetting(TopNPercent, "the percentage of observations, best first, the good density is fitted to", 15, 1, 99),
		algorithm.IntSetting(NumSamples, "candidates drawn from the good density for each new configuration", 64, 1, 4096),
		algorithm.FloatSetting(RandomFraction, "the fraction of new configurations drawn from the prior instead of the model", 1.0/3, 0, 1, false),
		algorithm.FloatSetting(BandwidthFactor, "how much wider than the good density's bandwidths candidates are drawn", 3, 0, 100, true),
		algorithm.FloatSetting(MinBandwidth, "the least bandwidth of a kernel, in the unit cube", 1e-3, 0, 1, true),
	)
}

// Validate implements algorithm.Algorithm.
func (BOHB) Validate(p *algorithm.Problem) error { return hyperband.Validate(p) }

// Suggest implements algorithm.Algorithm.
func (BOHB) Suggest(ctx context.Context, p *algorithm.Problem, trials []algorithm.Trial, count int) (*algorithm.Suggestions, error) {
	sc, err := hyperband.NewSchedule(p)
	if err != nil {
		return nil, err
	}
	var sample hyperband.Sampler
	if m := fit(p, sc, trials); m != nil {
		m.ctx = ctx
		sample = m.sample
	}
	return hyperband.Run(ctx, p, trials, count, sample)
}

// dim is a parameter the model covers.
type dim struct {
	param int // position in the space
	cats  int // categories of a categorical parameter, 0 for a numeric one
}

// kde is a Parzen estimator over the model's dimensions.
type kde struct {
	points [][]float64 // unit values, or category indices
	bw     []float64   // Gaussian bandwidths, or Aitchison-Aitken λ
}

type model struct {
	ctx            context.Context // of the call: sampling stops when it is done
	space          *searchspace.Space
	dims           []dim
	good, bad      kde
	numSamples     int
	randomFraction float64
	widen          float64
	minBW          float64
}

type observation struct {
	unit []float64
	loss float64
}

// fit builds the model from the finished trials, or returns nil while no
// budget has enough of them.
func fit(p *algorithm.Problem, sc *hyperband.Schedule, trials []algorithm.Trial) *model {
	m := &model{
		space:          p.Space,
		numSamples:     int(p.Settings.Int(NumSamples)),
		randomFraction: p.Settings.Float(RandomFraction),
		widen:          p.Settings.Float(BandwidthFactor),
		minBW:          p.Settings.Float(MinBandwidth),
	}
	for j := range p.Space.Params {
		if j == sc.Resource {
			continue
		}
		d := dim{param: j}
		if p.Space.Params[j].Type == searchspace.Categorical {
			d.cats = len(p.Space.Params[j].List)
		}
		m.dims = append(m.dims, d)
	}
	nMin := len(m.dims) + 1
	if p.Settings.IsSet(MinPointsInModel) {
		nMin = int(p.Settings.Int(MinPointsInModel))
	}

	byLevel := make([][]observation, len(sc.Budgets))
	completed := make([]int, len(sc.Budgets))
	for i := range trials {
		t := &trials[i]
		if t.Active() || !p.Space.Contains(t.Point) {
			continue
		}
		level, ok := sc.LevelOf(t.Point)
		if !ok {
			continue
		}
		o := observation{unit: m.encode(t.Point), loss: math.Inf(1)}
		if t.Completed() {
			o.loss = t.Loss
			completed[level]++
		}
		byLevel[level] = append(byLevel[level], o)
	}
	level := -1
	for j := len(byLevel) - 1; j >= 0; j-- {
		if completed[j] >= max(nMin, 2) {
			level = j
			break
		}
	}
	if level < 0 {
		return nil
	}
	obs := byLevel[level]
	m.impute(obs, p.Rand(len(trials)))
	sort.SliceStable(obs, func(a, b int) bool { return obs[a].loss < obs[b].loss })
	n := len(obs)
	q := float64(p.Settings.Int(TopNPercent)) / 100
	nGood := min(max(nMin, int(q*float64(n))), n-1, completed[level])
	nBad := min(max(nMin, n-nGood), n)
	m.good = m.kde(spread(obs[:nGood], maxKernels))
	m.bad = m.kde(spread(obs[n-nBad:], maxKernels))
	return m
}

// maxKernels bounds each density's kernels: a candidate is scored against
// every kernel of both, for every candidate of every point asked for, so
// that without a bound a call grew with the history's square (a thousand
// points from 100,000 trials: over ten minutes).
const maxKernels = 256

// spread returns at most n of obs, sorted by loss, evenly spaced by rank,
// so that the density keeps its shape: the best and the worst, and the
// ranks between in proportion.
func spread(obs []observation, n int) []observation {
	if len(obs) <= n {
		return obs
	}
	out := make([]observation, n)
	for i := range out {
		out[i] = obs[i*(len(obs)-1)/(n-1)]
	}
	return out
}

// encode maps a point to the model's coordinates; an inactive parameter's
// is searchspace.Inactive until impute fills it.
func (m *model) encode(pt searchspace.Point) []float64 {
	u := make([]float64, len(m.dims))
	for i, d := range m.dims {
		if searchspace.IsInactive(pt[d.param]) {
			u[i] = searchspace.Inactive
			continue
		}
		if d.cats > 0 {
			u[i] = pt[d.param]
		} else {
			u[i] = m.space.Params[d.param].ToUnit(pt[d.param])
		}
	}
	return u
}

// impute gives each coordinate of an inactive parameter the value of the
// same parameter in another of the observations, drawn among those that
// had it, or a draw from the prior when none had it.
func (m *model) impute(obs []observation, rng *rand.Rand) {
	if !m.space.Conditional() {
		return
	}
	var had []int
	for i, d := range m.dims {
		had = had[:0]
		for k := range obs {
			if !searchspace.IsInactive(obs[k].unit[i]) {
				had = append(had, k)
			}
		}
		for k := range obs {
			u := obs[k].unit
			switch {
			case !searchspace.IsInactive(u[i]):
			case len(had) > 0:
				u[i] = obs[had[rng.IntN(len(had))]].unit[i]
			case d.cats > 0:
				u[i] = float64(rng.IntN(d.cats))
			default:
				u[i] = rng.Float64()
			}
		}
	}
}

// kde fits a Parzen estimator to observations.
func (m *model) kde(obs []observation) kde {
	k := kde{points: make([][]float64, len(obs)), bw: make([]float64, len(m.dims))}
	for i, o := range obs {
		k.points[i] = o.unit
	}
	n := float64(len(obs))
	scale := 1.06 * math.Pow(n, -1/float64(len(m.dims)+4))
	for i, d := range m.dims {
		if d.cats > 0 {
			counts := make([]float64, d.cats)
			for _, pt := range k.points {
				counts[int(pt[i])]++
			}
			gini := 1.0
			for _, c := range counts {
				gini -= (c / n) * (c / n)
			}
			// The prior's impurity, (k-1)/k, counts as one more
			// observation.
			hi := float64(d.cats-1) / float64(d.cats)
			gini = (n*gini + hi) / (n + 1)
			k.bw[i] = min(max(scale*math.Sqrt(max(gini, 0)), m.minBW), hi)
			continue
		}
		var mean, sq float64
		for _, pt := range k.points {
			mean += pt[i]
		}
		mean /= n
		for _, pt := range k.points {
			sq += (pt[i] - mean) * (pt[i] - mean)
		}
		// The prior's variance, 1/12, counts as one more observation.
		sd := math.Sqrt((sq + 1.0/12) / n)
		k.bw[i] = max(scale*sd, m.minBW)
	}
	return k
}

// logPDF is the log density of the estimator at u.
func (m *model) logPDF(k *kde, u []float64) float64 {
	// A running log-sum-exp over the kernels.
	top, sum := math.Inf(-1), 0.0
	for _, pt := range k.points {
		var s float64
		for i, d := range m.dims {
			if d.cats > 0 {
				if u[i] == pt[i] {
					s += math.Log(1 - k.bw[i])
				} else {
					s += math.Log(k.bw[i] / float64(d.cats-1))
				}
				continue
			}
			z := (u[i] - pt[i]) / k.bw[i]
			s -= 0.5*z*z + math.Log(k.bw[i]) + logSqrt2Pi
		}
		switch {
		case s > top:
			sum = sum*math.Exp(top-s) + 1
			top = s
		case !math.IsInf(s, -1):
			sum += math.Exp(s - top)
		}
	}
	// The prior, uniform in the unit cube (density 1, and 1/k for each
	// category), joins as one more kernel.
	prior := 0.0
	for _, d := range m.dims {
		if d.cats > 0 {
			prior -= math.Log(float64(d.cats))
		}
	}
	if sum == 0 || prior > top {
		sum, top = sum*math.Exp(top-prior)+1, prior
	} else {
		sum += math.Exp(prior - top)
	}
	return top + math.Log(sum/float64(len(k.points)+1))
}

var logSqrt2Pi = 0.5 * math.Log(2*math.Pi)

// sample is the model's hyperband.Sampler.
func (m *model) sample(rng *rand.Rand, fresh func(searchspace.Point) bool) (searchspace.Point, bool) {
	if rng.Float64() < m.randomFraction {
		return nil, false
	}
	var best searchspace.Point
	bestScore := math.Inf(-1)
	u := make([]float64, len(m.dims))
	for range m.numSamples {
		if m.ctx.Err() != nil {
			// Hyperband's loop returns the error.
			return nil, false
		}
		pt := m.candidate(rng, u)
		if !fresh(pt) {
			continue
		}
		if score := m.logPDF(&m.good, u) - m.logPDF(&m.bad, u); best == nil || score > bestScore {
			best, bestScore = pt, score
		}
	}
	return best, best != nil
}

// candidate draws a point from the good density with widened bandwidths,
// and leaves its model coordinates in u.
func (m *model) candidate(rng *rand.Rand, u []float64) searchspace.Point {
	centre := m.good.points[rng.IntN(len(m.good.points))]
	pt := make(searchspace.Point, m.space.Len())
	for i, d := range m.dims {
		param := &m.space.Params[d.param]
		if d.cats > 0 {
			v := centre[i]
			if rng.Float64() < m.widen*m.good.bw[i] {
				v = float64(rng.IntN(d.cats))
			}
			pt[d.param], u[i] = v, v
			continue
		}
		bw := max(m.widen*m.good.bw[i], m.minBW)
		x := -1.0
		for range 16 {
			if x = centre[i] + bw*rng.NormFloat64(); x >= 0 && x <= 1 {
				break
			}
		}
		pt[d.param] = param.FromUnit(min(max(x, 0), 1))
		u[i] = param.ToUnit(pt[d.param]) // where a stepped value lands
	}
	return m.space.Deactivate(pt)
}
