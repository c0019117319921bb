package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// BraninMin is the smallest value of the Branin function, reached at
// (-π, 12.275), (π, 2.275) and (9.42478, 2.475).
const BraninMin = 0.397887

// Branin is the Branin–Hoo function with its usual constants, on
// x1 ∈ [-5, 10], x2 ∈ [0, 15].
func Branin(x1, x2 float64) float64 {
	const (
		a = 1
		b = 5.1 / (4 * math.Pi * math.Pi)
		c = 5 / math.Pi
		r = 6
		s = 10
		t = 1 / (8 * math.Pi)
	)
	u := x2 - b*x1*x1 + c*x1 - r
	return a*u*u + s*(1-t)*math.Cos(x1) + s
}

// braninDomain is where Branin is evaluated: [-5, 10] × [0, 15].
var braninDomain = [2][2]float64{{-5, 10}, {0, 15}}

// Hartmann6Min is the smallest value of the six-dimensional Hartmann
// function on [0, 1]^6, reached at about (0.20169, 0.150011, 0.476874,
// 0.275332, 0.311652, 0.6573).
const Hartmann6Min = -3.32237

// The constants of Hartmann-6 (Dixon and Szegő, 1978).
var (
	hartmannAlpha = [4]float64{1.0, 1.2, 3.0, 3.2}
	hartmannA     = [4][6]float64{
		{10, 3, 17, 3.5, 1.7, 8},
		{0.05, 10, 17, 0.1, 8, 14},
		{3, 3.5, 1.7, 10, 17, 8},
		{17, 8, 0.05, 10, 0.1, 14},
	}
	hartmannP = [4][6]float64{
		{1312, 1696, 5569, 124, 8283, 5886},
		{2329, 4135, 8307, 3736, 1004, 9991},
		{2348, 1451, 3522, 2883, 3047, 6650},
		{4047, 8828, 8732, 5743, 1091, 381},
	}
)

// Hartmann6 is the six-dimensional Hartmann function, on [0, 1]^6.
func Hartmann6(x [6]float64) float64 {
	sum := 0.0
	for i := range hartmannAlpha {
		e := 0.0
		for j := range x {
			d := x[j] - hartmannP[i][j]*1e-4
			e += hartmannA[i][j] * d * d
		}
		sum += hartmannAlpha[i] * math.Exp(-e)
	}
	return -sum
}

// inRange checks that a flag's value lies in [lo, hi].
func inRange(name string, v, lo, hi float64) error {
	if math.IsNaN(v) || v < lo || v > hi {
		return fmt.Errorf("--%s=%g is outside the function's domain [%g, %g]", name, v, lo, hi)
	}
	return nil
}

// Currin is Currin's exponential function, on [0, 1]^2.
func Currin(x1, x2 float64) float64 {
	p := ((2300*x1+1900)*x1+2092)*x1 + 60
	q := ((100*x1+500)*x1+4)*x1 + 20
	return (1 - math.Exp(-1/(2*x2))) * p / q
}

// BraninDisc is the constraint of the constrained Branin problem: feasible
// where it is 0 or less, in the disc of radius √50 about (2.5, 7.5).
func BraninDisc(x1, x2 float64) float64 {
	return (x1-2.5)*(x1-2.5) + (x2-7.5)*(x2-7.5) - 50
}

// braninMetrics returns the metrics of the point (x1, x2) of Branin's
// domain the flags --objectives and --constraint ask for: the objectives
// in the order given, then the constraint's metric. Without objectives,
// Branin is reported as loss.
func braninMetrics(x1, x2 float64, objectives, constraint string) ([]string, []float64, error) {
	var names []string
	var values []float64
	if objectives == "" {
		names, values = []string{"loss"}, []float64{Branin(x1, x2)}
	} else {
		for _, o := range strings.Split(objectives, ",") {
			if slices.Contains(names, o) {
				return nil, nil, fmt.Errorf("--objectives=%s: %s is named twice", objectives, o)
			}
			switch o {
			case "branin":
				values = append(values, Branin(x1, x2))
			case "currin":
				// Currin's domain is [0, 1]^2: the point scaled from Branin's.
				values = append(values, Currin((x1-braninDomain[0][0])/15, (x2-braninDomain[1][0])/15))
			default:
				return nil, nil, fmt.Errorf("--objectives=%s: %q is not an objective; use branin, currin or both", objectives, o)
			}
			names = append(names, o)
		}
	}
	switch constraint {
	case "":
	case "disc":
		names, values = append(names, "disc"), append(values, BraninDisc(x1, x2))
	default:
		return nil, nil, fmt.Errorf("--constraint=%s: use disc", constraint)
	}
	return names, values, nil
}
