package bayesopt

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"knobs.dev/knobs/pkg/searchspace"
)

// acqKind is an acquisition function. Scores are to be maximised and are
// computed in the model's standardised units, where the loss is minimised.
type acqKind int

const (
	acqEI acqKind = iota
	acqPI
	acqUCB
	numAcq
)

var acqNames = [numAcq]string{"ei", "pi", "ucb"}

func (a acqKind) String() string { return acqNames[a] }

// score is the acquisition's value at a point where the model predicts mean mu
// and standard deviation sd, best being the lowest (standardised) loss so far.
// EI and PI are returned as logarithms, which keep their order and do not
// underflow far from the incumbent; UCB is the negated lower confidence bound
// of the loss.
func (a acqKind) score(mu, sd, best, xi, kappa float64) float64 {
	switch a {
	case acqUCB:
		return kappa*sd - mu
	case acqPI:
		return logPhi((best - xi - mu) / sd)
	}
	return math.Log(sd) + logEI((best-xi-mu)/sd)
}

const logSqrt2Pi = 0.9189385332046727 // log √(2π)

// logPhi is log Φ(z), the log of the standard normal distribution function,
// accurate far into the lower tail.
func logPhi(z float64) float64 {
	if z > -30 {
		return math.Log(0.5 * math.Erfc(-z/math.Sqrt2))
	}
	// Φ(z) ≈ φ(z)/|z| (1 - 1/z² + 3/z⁴) as z → -∞.
	z2 := z * z
	return -0.5*z2 - logSqrt2Pi - math.Log(-z) + math.Log1p(-1/z2+3/(z2*z2))
}

// logEI is log(φ(z) + z Φ(z)): the log of the expected improvement of a unit
// normal over z standard deviations.
func logEI(z float64) float64 {
	if z > -10 {
		if h := math.Exp(-0.5*z*z-logSqrt2Pi) + z*0.5*math.Erfc(-z/math.Sqrt2); h > 0 {
			return math.Log(h)
		}
	}
	// φ(z) + zΦ(z) ≈ φ(z)/z² (1 - 3/z² + 15/z⁴ - 105/z⁶) as z → -∞.
	z2 := z * z
	return -0.5*z2 - logSqrt2Pi - math.Log(z2) + math.Log1p(-3/z2+15/(z2*z2)-105/(z2*z2*z2))
}

// hedgeState is what gp_hedge carries from one call to the next: the gains of
// EI, PI and UCB, and the point each proposed in the last call (as features).
type hedgeState struct {
	gains     [numAcq]float64
	proposals []float64 // numAcq × dim features; nil before the first proposals
}

// format writes the state as "gains=g1,g2,g3;ei=f,...;pi=...;ucb=...".
func (h *hedgeState) format(dim int) string {
	var b strings.Builder
	b.WriteString("gains=")
	for a := range numAcq {
		if a > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatFloat(h.gains[a], 'g', -1, 64))
	}
	if h.proposals != nil {
		for a := range numAcq {
			b.WriteString(";" + acqNames[a] + "=")
			for d := range dim {
				if d > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strconv.FormatFloat(h.proposals[int(a)*dim+d], 'g', -1, 64))
			}
		}
	}
	return b.String()
}

// parseHedgeState reads what format wrote, for a model of dim features.
func parseHedgeState(s string, dim int) (*hedgeState, error) {
	h := &hedgeState{}
	parts := strings.Split(s, ";")
	nums := func(part, name string, want int) ([]float64, error) {
		v, ok := strings.CutPrefix(part, name+"=")
		if !ok {
			return nil, fmt.Errorf("expected %q", name+"=")
		}
		var out []float64
		if v != "" {
			for _, f := range strings.Split(v, ",") {
				x, err := strconv.ParseFloat(f, 64)
				if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
					return nil, fmt.Errorf("%s: %q is not a finite number", name, f)
				}
				out = append(out, x)
			}
		}
		if len(out) != want {
			return nil, fmt.Errorf("%s: %d numbers, want %d", name, len(out), want)
		}
		return out, nil
	}
	g, err := nums(parts[0], "gains", int(numAcq))
	if err != nil {
		return nil, err
	}
	copy(h.gains[:], g)
	switch len(parts) {
	case 1:
		return h, nil
	case 1 + int(numAcq):
	default:
		return nil, fmt.Errorf("%d parts separated by ';', want 1 or %d", len(parts), 1+numAcq)
	}
	h.proposals = make([]float64, 0, int(numAcq)*dim)
	for a := range numAcq {
		p, err := nums(parts[1+a], acqNames[a], dim)
		if err != nil {
			return nil, err
		}
		h.proposals = append(h.proposals, p...)
	}
	return h, nil
}

// probabilities is the softmax of the gains.
func (h *hedgeState) probabilities() [numAcq]float64 {
	top := math.Inf(-1)
	for _, g := range h.gains {
		top = math.Max(top, g)
	}
	var p [numAcq]float64
	sum := 0.0
	for a, g := range h.gains {
		p[a] = math.Exp(g - top)
		sum += p[a]
	}
	for a := range p {
		p[a] /= sum
	}
	return p
}

// pool is the random candidates of the acquisition optimisation, scored
// against the current model.
type pool struct {
	pts   []searchspace.Point
	keys  []string
	feats []float64
	mu    []float64 // the model's predictions, kept current by the caller
	sd    []float64
	score []float64
}

// Local search: compass moves in the unit cube, starting at step, halving when
// no move improves, down to minStep.
const (
	startStep     = 0.1
	minStep       = 1.0 / 1024
	maxLocalIters = 40
	maxCatMoves   = 16
)

// newPool draws n candidates: most from the prior, the rest perturbations of
// the incumbents (the best points so far), where the optimum often lies
// close by.
func (s *search) newPool(n int, incumbents []searchspace.Point) *pool {
	dim := s.enc.dim
	local := 0
	if len(incumbents) > 0 {
		local = n / 4
	}
	inBox := 0
	if s.box != nil {
		// Three quarters in the trust region, the rest as above.
		inBox = 3 * n / 4
		local = min(local, n-inBox)
	}
	pl := &pool{
		pts: make([]searchspace.Point, 0, n), keys: make([]string, 0, n), feats: make([]float64, n*dim),
		score: make([]float64, n),
	}
	u := make([]float64, len(s.space.Params))
	scales := [...]float64{0.01, 0.03, 0.1, 0.25}
	for i := range n {
		var pt searchspace.Point
		if i < inBox {
			pt = s.inRegion(incumbents[0])
		} else if i < inBox+local {
			base := incumbents[i%len(incumbents)]
			scale := scales[(i/len(incumbents))%len(scales)]
			pt = make(searchspace.Point, len(base))
			for j := range s.space.Params {
				p := &s.space.Params[j]
				switch {
				case s.enc.width[j] == 0:
					pt[j] = base[j]
				case p.Type == searchspace.Categorical:
					pt[j] = base[j]
					if s.rng.Float64() < scale {
						pt[j] = float64(s.rng.IntN(len(p.List)))
					}
				default:
					u[j] = p.ToUnit(base[j]) + scale*s.rng.NormFloat64()
					pt[j] = p.FromUnit(math.Min(math.Max(u[j], 0), 1))
				}
			}
			// A parent that moved activates children, drawn from their
			// priors, and deactivates others.
			s.space.Activate(pt, s.rng)
		} else {
			pt = s.space.Sample(s.rng)
		}
		pl.pts = append(pl.pts, pt)
		pl.keys = append(pl.keys, s.space.Key(pt))
		s.enc.encode(pt, pl.feats[i*dim:(i+1)*dim])
	}
	return pl
}

// propose maximises the acquisition over the pool's unseen candidates, then
// refines the best few (starts, or none) by local search. The pool's mu and
// sd must be current. It returns false when every candidate is taken.
func (s *search) propose(m *model, pl *pool, acq acqKind, starts int) (searchspace.Point, bool) {
	for i := range pl.pts {
		pl.score[i] = math.Inf(-1)
		if _, taken := s.seen[pl.keys[i]]; !taken {
			pl.score[i] = acq.score(pl.mu[i], pl.sd[i], m.best, s.cfg.xi, s.cfg.kappa)
		}
	}
	// The best few distinct candidates, by a partial selection.
	var top []int
	for len(top) < max(starts, 1) {
		b := -1
		for i := range pl.pts {
			if math.IsInf(pl.score[i], -1) || contains(top, i) {
				continue
			}
			if b < 0 || pl.score[i] > pl.score[b] {
				b = i
			}
		}
		if b < 0 {
			break
		}
		top = append(top, b)
	}
	if len(top) == 0 {
		return nil, false
	}
	best, bestScore := pl.pts[top[0]], pl.score[top[0]]
	if s.cfg.sampling || starts == 0 {
		return best, true
	}
	for _, i := range top {
		pt, sc := s.refine(m, acq, pl.pts[i], pl.score[i])
		if sc > bestScore {
			best, bestScore = pt, sc
		}
	}
	return best, true
}

// refine climbs the acquisition from pt by compass moves: along each numeric
// parameter by ±step in the unit cube (snapped to the parameter's values, and
// at least to the next value of a finite one), and to other categories.
func (s *search) refine(m *model, acq acqKind, pt searchspace.Point, score float64) (searchspace.Point, float64) {
	dim := s.enc.dim
	var moves []searchspace.Point
	var feats, mu, sd []float64
	step := startStep
	for range maxLocalIters {
		moves = s.neighbours(pt, step, moves[:0])
		if len(moves) > 0 {
			feats = grow(feats, len(moves)*dim)
			mu, sd = grow(mu, len(moves)), grow(sd, len(moves))
			for i, mv := range moves {
				s.enc.encode(mv, feats[i*dim:(i+1)*dim])
			}
			m.predict(feats, mu, sd)
			b, bs := -1, score
			for i := range moves {
				if sc := acq.score(mu[i], sd[i], m.best, s.cfg.xi, s.cfg.kappa); sc > bs {
					b, bs = i, sc
				}
			}
			if b >= 0 {
				pt, score = moves[b], bs
				continue
			}
		}
		if step < minStep || (!s.enc.continuous && step < startStep/4) {
			break
		}
		step /= 2
	}
	return pt, score
}

// neighbours appends to moves the unseen points one compass move from pt.
func (s *search) neighbours(pt searchspace.Point, step float64, moves []searchspace.Point) []searchspace.Point {
	add := func(j int, v float64) {
		mv := append(searchspace.Point(nil), pt...)
		mv[j] = v
		if s.space.IsParent(j) {
			s.space.Activate(mv, s.rng)
		}
		if _, taken := s.seen[s.space.Key(mv)]; !taken {
			moves = append(moves, mv)
		}
	}
	for j := range s.space.Params {
		p := &s.space.Params[j]
		switch {
		case s.enc.width[j] == 0, searchspace.IsInactive(pt[j]):
		case p.Type == searchspace.Categorical:
			k := len(p.List)
			if k-1 <= maxCatMoves {
				for c := range k {
					if float64(c) != pt[j] {
						add(j, float64(c))
					}
				}
				continue
			}
			for range maxCatMoves {
				if c := float64(s.rng.IntN(k)); c != pt[j] {
					add(j, c)
				}
			}
		default:
			u := p.ToUnit(pt[j])
			lo, hi := 0.0, 1.0
			if s.box != nil {
				// Moves end in the trust region.
				lo, hi = s.box.lo[j], s.box.hi[j]
			}
			for _, dir := range [...]int{-1, 1} {
				v := p.FromUnit(math.Min(math.Max(u+float64(dir)*step, lo), hi))
				if v == pt[j] && p.Finite() {
					var ok bool
					if v, ok = adjacent(p, pt[j], dir); !ok {
						continue
					}
				}
				if v != pt[j] {
					add(j, v)
				}
			}
		}
	}
	return moves
}

func grow(b []float64, n int) []float64 {
	if cap(b) < n {
		return make([]float64, n)
	}
	return b[:n]
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
