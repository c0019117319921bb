package bayesopt

import (
	"math"

	"knobs.dev/knobs/pkg/searchspace"
)

// The trust region of a space of many numeric parameters (TuRBO, Eriksson
// et al. 2019): a box around the best trial, its side in the unit cube
// shaped by the length scales, doubled after regionSuccesses improvements in
// a row and halved after as many trials without one as there are numeric
// parameters (at least 4); below regionMin it starts again at regionStart.
const (
	regionMinParams = 10 // numeric parameters from which the region is used
	regionStart     = 0.8
	regionMin       = 1.0 / 128
	regionMax       = 1.6
	regionSuccesses = 3
	regionMoves     = 20 // parameters a candidate in the region moves, on average
)

// box is a trust region: bounds in the unit cube for each parameter (0 and
// 1 for one that is not numeric), around the best trial.
type box struct {
	lo, hi []float64
	// move is the chance that a candidate moves a numeric parameter.
	move float64
}

// numeric is the number of numeric and discrete parameters: the ones of one
// feature.
func (e *encoder) numeric() int {
	n := 0
	for _, w := range e.width {
		if w == 1 {
			n++
		}
	}
	return n
}

// regionSide replays the trials after the design in the order they were
// created, as the region would have followed them, and returns its side.
func regionSide(loss []float64, design, numeric int) float64 {
	side, best := regionStart, math.Inf(1)
	successes, failures := 0, 0
	for i, v := range loss {
		improved := v < best-1e-3*math.Abs(best)
		best = min(best, v)
		if i < design {
			continue
		}
		if improved {
			successes, failures = successes+1, 0
		} else {
			successes, failures = 0, failures+1
		}
		if successes == regionSuccesses {
			side, successes = min(2*side, regionMax), 0
		}
		if failures == max(4, numeric) {
			side, failures = side/2, 0
		}
		if side < regionMin {
			side = regionStart
		}
	}
	return side
}

// region returns the trust region around the best observation the model
// conditions on, or nil for a space of fewer than regionMinParams numeric
// parameters. Along each numeric parameter its side is the region's side
// times the parameter's length scale over their geometric mean.
func (s *search) region(obs observations, tr training) *box {
	numeric := s.enc.numeric()
	if numeric < regionMinParams {
		return nil
	}
	b := 0
	for i := range tr.y {
		if tr.y[i] < tr.y[b] {
			b = i
		}
	}
	pt := obs.pts[tr.use[b]]
	side := regionSide(obs.loss, s.cfg.nInitial, numeric)
	logMean := 0.0
	for j, w := range s.enc.width {
		if w == 1 {
			logMean += math.Log(tr.h.ls[s.enc.offset[j]]) / float64(numeric)
		}
	}
	r := &box{lo: make([]float64, len(pt)), hi: make([]float64, len(pt)), move: min(1, regionMoves/float64(numeric))}
	for j, w := range s.enc.width {
		r.lo[j], r.hi[j] = 0, 1
		if w == 1 && !searchspace.IsInactive(pt[j]) {
			c := s.space.Params[j].ToUnit(pt[j])
			half := side * math.Exp(math.Log(tr.h.ls[s.enc.offset[j]])-logMean) / 2
			r.lo[j], r.hi[j] = max(0, c-half), min(1, c+half)
		}
	}
	return r
}

// inRegion draws a candidate in the trust region: the best trial with each
// numeric parameter moved, with the region's chance (and one at least), to a
// uniform draw within the region's bounds.
func (s *search) inRegion(best searchspace.Point) searchspace.Point {
	r := s.box
	pt := append(searchspace.Point(nil), best...)
	movable := func(j int) bool { return s.enc.width[j] == 1 && !searchspace.IsInactive(best[j]) }
	draw := func(j int) { pt[j] = s.space.Params[j].FromUnit(r.lo[j] + s.rng.Float64()*(r.hi[j]-r.lo[j])) }
	moved := false
	for j := range pt {
		if movable(j) && s.rng.Float64() < r.move {
			draw(j)
			moved = true
		}
	}
	if j := s.rng.IntN(len(pt)); !moved && movable(j) {
		draw(j)
	}
	return pt
}
