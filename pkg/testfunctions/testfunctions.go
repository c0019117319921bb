// Package testfunctions holds standard test problems of optimisation as
// plain formulas over a point, so that the benchmark and the algorithms'
// tests evaluate one definition.
package testfunctions

import "math"

// zdtG is the distance term of the ZDT problems: 1 at x[1:] = 0, 10 at
// x[1:] = 1.
func zdtG(x []float64) float64 {
	s := 0.0
	for _, v := range x[1:] {
		s += v
	}
	return 1 + 9*s/float64(len(x)-1)
}

// ZDT1 is Zitzler, Deb and Thiele's first bi-objective problem on [0, 1]^n
// (n ≥ 2), both objectives minimised: its Pareto front is the convex curve
// f2 = 1 − √f1, where x[1:] = 0.
func ZDT1(x []float64) (f1, f2 float64) {
	g := zdtG(x)
	return x[0], g * (1 - math.Sqrt(x[0]/g))
}

// ZDT2 is the second ZDT problem on [0, 1]^n (n ≥ 2): its Pareto front is
// the concave curve f2 = 1 − f1², where x[1:] = 0.
func ZDT2(x []float64) (f1, f2 float64) {
	g := zdtG(x)
	return x[0], g * (1 - (x[0]/g)*(x[0]/g))
}
