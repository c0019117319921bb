// Package pareto holds the rules of multi-objective search shared by the
// controller, the algorithms and the benchmark: which trial beats which when
// there are several objectives and constraints, the Pareto front, the
// crowding of a front, the hypervolume it covers and what each point adds
// to it.
//
// Every objective is to be minimised: a caller turns a maximised one round
// (negates it) first.
package pareto

import (
	"cmp"
	"math"
	"slices"
)

// Point is one trial's objectives, each to minimise, and how far it breaks
// its constraints: Violation 0 is feasible, more is worse (+Inf for a
// constraint metric that was not reported).
type Point struct {
	Values    []float64
	Violation float64
}

// Feasible reports whether the point keeps every constraint.
func (p Point) Feasible() bool { return p.Violation == 0 }

// Dominates reports whether a beats b under constrained domination (Deb et
// al., NSGA-II, 2002): a feasible point beats an infeasible one, of two
// infeasible points the one that breaks its constraints less wins, and of
// two feasible points a wins when it is no worse in any objective and
// better in one.
func Dominates(a, b Point) bool {
	switch af, bf := a.Feasible(), b.Feasible(); {
	case af && !bf:
		return true
	case !af && !bf:
		return a.Violation < b.Violation
	case !af:
		return false
	}
	better := false
	for i, v := range a.Values {
		switch {
		case v > b.Values[i]:
			return false
		case v < b.Values[i]:
			better = true
		}
	}
	return better
}

// Front returns the indices of the points of pts no other point dominates,
// in ascending order. With at least one feasible point, these are feasible
// points only; with none, the points that break their constraints least.
// It costs O(n log n) for two objectives and O(n·front) beyond.
func Front(pts []Point) []int {
	idx := make([]int, 0, len(pts))
	for i := range pts {
		idx = append(idx, i)
	}
	return frontOf(pts, idx)
}

// frontOf returns the members of idx that no member of idx dominates,
// ascending.
func frontOf(pts []Point, idx []int) []int {
	if len(idx) == 0 {
		return nil
	}
	// Only the least violation can be undominated: every feasible point
	// beats every infeasible one, and a smaller violation a larger one.
	least := math.Inf(1)
	for _, i := range idx {
		least = min(least, pts[i].Violation)
	}
	var cand []int
	for _, i := range idx {
		if pts[i].Violation == least {
			cand = append(cand, i)
		}
	}
	if least != 0 {
		// Infeasible points of equal violation do not dominate each other.
		return cand
	}
	// By the objectives in order, lexicographically: a point can be
	// dominated only by one before it.
	slices.SortFunc(cand, func(a, b int) int {
		if c := slices.Compare(pts[a].Values, pts[b].Values); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	var front []int
	if len(cand) > 0 && len(pts[cand[0]].Values) == 2 {
		// Two objectives: a point is on the front when its second value is
		// below every second value before it (the first values rise).
		best := math.Inf(1)
		for k, i := range cand {
			v := pts[i].Values
			if v[1] < best || (k > 0 && slices.Equal(v, pts[cand[k-1]].Values) && len(front) > 0 && front[len(front)-1] == cand[k-1]) {
				front = append(front, i)
				best = min(best, v[1])
			}
		}
	} else {
		for _, i := range cand {
			dominated := false
			for _, j := range front {
				if Dominates(pts[j], pts[i]) {
					dominated = true
					break
				}
			}
			if !dominated {
				front = append(front, i)
			}
		}
	}
	slices.Sort(front)
	return front
}

// Sort ranks the points into fronts: the first is Front(pts), the second
// the front of what is left, and so on; every index appears once.
func Sort(pts []Point) [][]int {
	left := make([]int, 0, len(pts))
	for i := range pts {
		left = append(left, i)
	}
	var fronts [][]int
	for len(left) > 0 {
		f := frontOf(pts, left)
		fronts = append(fronts, f)
		left = without(left, f)
	}
	return fronts
}

// without returns the members of idx not in f; both ascending.
func without(idx, f []int) []int {
	rest := make([]int, 0, len(idx)-len(f))
	k := 0
	for _, i := range idx {
		if k < len(f) && f[k] == i {
			k++
			continue
		}
		rest = append(rest, i)
	}
	return rest
}

// Select returns the k best points by NSGA-II's environmental selection:
// whole fronts in rank order while they fit, then the members of the next
// front that are least crowded (ties to the lower index). It returns
// every point when there are k or fewer, and each selected point's rank
// and crowding distance in the order of the indices returned. Only the
// fronts it needs are computed.
func Select(pts []Point, k int) (chosen []int, rank []int, crowding []float64) {
	fill(pts, k, func(r int, f []int, room int) {
		d := Crowding(pts, f)
		order := make([]int, len(f))
		for i := range order {
			order[i] = i
		}
		if len(f) > room {
			slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(d[b], d[a]) })
			order = order[:room]
			slices.Sort(order)
		}
		for _, o := range order {
			chosen, rank, crowding = append(chosen, f[o]), append(rank, r), append(crowding, d[o])
		}
	})
	return chosen, rank, crowding
}

// SelectHypervolume returns the k best points as multi-objective TPE
// chooses its good group (Ozaki et al., 2020): whole fronts in rank order
// while they fit, then members of the next front one at a time, each the
// one that adds the most hypervolume to the members already taken from
// it, against that front's Reference (greedy hypervolume subset
// selection; ties to the lower index). It returns every point when there
// are k or fewer; the indices ascend.
func SelectHypervolume(pts []Point, k int) []int {
	var chosen []int
	fill(pts, k, func(_ int, f []int, room int) {
		if len(f) <= room {
			chosen = append(chosen, f...)
			return
		}
		vals := make([][]float64, len(f))
		for i, j := range f {
			vals[i] = pts[j].Values
		}
		for _, o := range greedy(vals, Reference(vals), room) {
			chosen = append(chosen, f[o])
		}
	})
	slices.Sort(chosen)
	return chosen
}

// fill hands each front, in rank order, to take with its rank and how many
// more points are wanted, until the fronts handed over hold k points or
// there are no more; only those fronts are computed.
func fill(pts []Point, k int, take func(rank int, front []int, room int)) {
	left := make([]int, 0, len(pts))
	for i := range pts {
		left = append(left, i)
	}
	for r, taken := 0, 0; len(left) > 0 && taken < k; r++ {
		f := frontOf(pts, left)
		take(r, f, k-taken)
		taken += len(f)
		left = without(left, f)
	}
}

// greedy picks k of points, one at a time, each the one that adds the
// most hypervolume against ref to those picked before (ties to the lower
// index), and returns their indices in the order picked. Hypervolume being
// submodular, the picks cover at least 1 - 1/e of the best k's volume, and
// what a point adds only shrinks as picks accumulate: a gain computed
// before bounds the gain now, so only the point of the largest bound is
// measured again (lazy greedy), until the largest is up to date.
func greedy(points [][]float64, ref []float64, k int) []int {
	bound := make([]float64, len(points))
	fresh := make([]int, len(points)) // the round bound[i] was measured in
	for i, p := range points {
		bound[i] = exclusive(p, nil, ref)
	}
	var picked []int
	var set [][]float64
	for round := 0; round < min(k, len(points)); {
		best := -1
		for i, b := range bound {
			if b >= 0 && (best < 0 || b > bound[best]) {
				best = i
			}
		}
		if fresh[best] != round {
			bound[best], fresh[best] = exclusive(points[best], set, ref), round
			continue
		}
		picked, set = append(picked, best), append(set, points[best])
		bound[best] = -1 // taken
		round++
	}
	return picked
}

// Contributions returns the hypervolume each point alone dominates: the
// volume against ref of all the points less that of the others. A point
// another one dominates, or a duplicate, contributes 0.
func Contributions(points [][]float64, ref []float64) []float64 {
	c := make([]float64, len(points))
	others := make([][]float64, 0, len(points))
	for i, p := range points {
		others = append(append(others[:0], points[:i]...), points[i+1:]...)
		c[i] = exclusive(p, others, ref)
	}
	return c
}

// exclusive is the hypervolume against ref that p dominates and none of
// others does: p's box less the part of it the others cover, which is
// the volume dominated by each of them moved up to p.
func exclusive(p []float64, others [][]float64, ref []float64) float64 {
	box := 1.0
	for m := range ref {
		box *= max(ref[m]-p[m], 0)
	}
	if box == 0 {
		return 0
	}
	moved := make([][]float64, len(others))
	for i, q := range others {
		moved[i] = make([]float64, len(p))
		for m := range p {
			moved[i][m] = max(p[m], q[m])
		}
	}
	return max(box-Hypervolume(moved, ref), 0)
}

// Reference is a reference point for measuring the hypervolume of points
// against: in each objective their worst value plus a tenth of their
// range (plus 1 where they all agree), so that every point lies inside
// and the ones at the edge of the set keep some volume of their own. It
// moves and stretches with the objectives, whatever their units.
func Reference(points [][]float64) []float64 {
	if len(points) == 0 {
		return nil
	}
	ref := make([]float64, len(points[0]))
	for m := range ref {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, p := range points {
			lo, hi = min(lo, p[m]), max(hi, p[m])
		}
		ref[m] = hi + 0.1*(hi-lo)
		if !(hi > lo) {
			ref[m] = hi + 1
		}
	}
	return ref
}

// Crowding returns the crowding distance of each member of front (NSGA-II):
// for each objective, the gap between a point's two neighbours along it,
// divided by the front's range in that objective, summed. The points at
// either end of an objective get +Inf, so that they are kept first.
func Crowding(pts []Point, front []int) []float64 {
	d := make([]float64, len(front))
	if len(front) == 0 {
		return d
	}
	order := make([]int, len(front))
	for m := range pts[front[0]].Values {
		for k := range order {
			order[k] = k
		}
		slices.SortStableFunc(order, func(a, b int) int {
			return cmp.Compare(pts[front[a]].Values[m], pts[front[b]].Values[m])
		})
		lo, hi := pts[front[order[0]]].Values[m], pts[front[order[len(order)-1]]].Values[m]
		d[order[0]], d[order[len(order)-1]] = math.Inf(1), math.Inf(1)
		if hi == lo {
			continue
		}
		for k := 1; k < len(order)-1; k++ {
			d[order[k]] += (pts[front[order[k+1]]].Values[m] - pts[front[order[k-1]]].Values[m]) / (hi - lo)
		}
	}
	return d
}

// Hypervolume is the volume of the region, bounded by ref, that the points
// dominate (every objective minimised); points not below ref in every
// objective add nothing. Exact: a sweep in two dimensions, slicing by the
// last objective beyond (fine for the fronts of a benchmark, of some
// hundreds of points in a few dimensions).
func Hypervolume(points [][]float64, ref []float64) float64 {
	var in [][]float64
	for _, p := range points {
		ok := len(p) == len(ref)
		for i := range p {
			if !ok || !(p[i] < ref[i]) {
				ok = false
				break
			}
		}
		if ok {
			in = append(in, p)
		}
	}
	return volume(in, ref)
}

func volume(pts [][]float64, ref []float64) float64 {
	if len(pts) == 0 {
		return 0
	}
	d := len(ref)
	switch d {
	case 1:
		best := ref[0]
		for _, p := range pts {
			best = min(best, p[0])
		}
		return ref[0] - best
	case 2:
		s := slices.Clone(pts)
		slices.SortFunc(s, func(a, b []float64) int { return cmp.Compare(a[0], b[0]) })
		v, y := 0.0, ref[1]
		for _, p := range s {
			if p[1] < y {
				v += (ref[0] - p[0]) * (y - p[1])
				y = p[1]
			}
		}
		return v
	}
	// Slice along the last objective: between two consecutive values of
	// it, the points at or below the lower one dominate the same region
	// of the other objectives.
	// A point whose slice another in the set covers leaves the slice's
	// volume as it was.
	s := slices.Clone(pts)
	slices.SortFunc(s, func(a, b []float64) int { return cmp.Compare(a[d-1], b[d-1]) })
	v, area := 0.0, 0.0
	sub := make([][]float64, 0, len(s))
	changed := false
	for k, p := range s {
		if q := p[:d-1]; !slices.ContainsFunc(sub, func(o []float64) bool { return covers(o, q) }) {
			sub, changed = append(sub, q), true
		}
		next := ref[d-1]
		if k+1 < len(s) {
			next = s[k+1][d-1]
		}
		if next > p[d-1] {
			if changed {
				area, changed = volume(sub, ref[:d-1]), false
			}
			v += area * (next - p[d-1])
		}
	}
	return v
}

// covers reports whether a is no worse than b in every objective.
func covers(a, b []float64) bool {
	for i := range a {
		if a[i] > b[i] {
			return false
		}
	}
	return true
}

// Violation is how far value lies outside [lo, hi] (nil: no bound): 0
// inside, the distance to the nearer bound outside.
func Violation(value float64, lo, hi *float64) float64 {
	switch {
	case lo != nil && value < *lo:
		return *lo - value
	case hi != nil && value > *hi:
		return value - *hi
	}
	return 0
}
