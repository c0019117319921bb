package benchmark

import (
	"fmt"
	"math"
	"strconv"

	"knobs.dev/knobs/pkg/pareto"
	pb "knobs.dev/knobs/pkg/suggestionpb"
	"knobs.dev/knobs/pkg/testfunctions"
)

// Outcome is what a trial of a problem with several objectives or with
// constraints reports: its objectives, each minimised, and its
// constraints, each kept when at most 0.
type Outcome struct {
	Objectives  []float64
	Constraints []float64
}

// Point is the outcome as pkg/pareto ranks it: the objectives, and the sum
// of how far each constraint is broken.
func (o Outcome) Point() pareto.Point {
	zero := 0.0
	v := 0.0
	for _, c := range o.Constraints {
		v += pareto.Violation(c, nil, &zero)
	}
	return pareto.Point{Values: o.Objectives, Violation: v}
}

// outcome evaluates an assignment: Measure's outcome, or Eval's loss as
// the one objective.
func (p Problem) outcome(values map[string]string) Outcome {
	if p.Measure != nil {
		return p.Measure(values)
	}
	return Outcome{Objectives: []float64{p.Eval(values)}}
}

// objectives is how many objectives the problem has.
func (p Problem) objectives() int { return max(p.Objectives, 1) }

// metrics names the problem's objective and constraint metrics as trials
// report them: "loss" for one objective, f1, f2, … for several, and c1, c2,
// … for the constraints.
func (p Problem) metrics() (objectives, constraints []string) {
	if p.objectives() == 1 {
		objectives = []string{"loss"}
	} else {
		for k := 1; k <= p.objectives(); k++ {
			objectives = append(objectives, fmt.Sprintf("f%d", k))
		}
	}
	for k := 1; k <= p.Constraints; k++ {
		constraints = append(constraints, fmt.Sprintf("c%d", k))
	}
	return objectives, constraints
}

// objectiveSpec states the problem's objectives and constraints as an
// experiment does: every objective minimised, every constraint at most 0.
func (p Problem) objectiveSpec() *pb.ObjectiveSpec {
	objectives, constraints := p.metrics()
	spec := &pb.ObjectiveSpec{Type: pb.ObjectiveType_MINIMIZE, ObjectiveMetricName: objectives[0]}
	for _, m := range objectives[1:] {
		spec.AdditionalObjectives = append(spec.AdditionalObjectives, &pb.AdditionalObjective{MetricName: m, Type: pb.ObjectiveType_MINIMIZE})
	}
	for _, m := range constraints {
		zero := 0.0
		spec.Constraints = append(spec.Constraints, &pb.MetricConstraint{MetricName: m, Max: &zero})
	}
	return spec
}

// observation is an outcome as a trial reports it.
func (p Problem) observation(o Outcome) *pb.Observation {
	objectives, constraints := p.metrics()
	obs := &pb.Observation{}
	for k, m := range objectives {
		obs.Metrics = append(obs.Metrics, &pb.Metric{Name: m, Value: strconv.FormatFloat(o.Objectives[k], 'g', -1, 64)})
	}
	for k, m := range constraints {
		obs.Metrics = append(obs.Metrics, &pb.Metric{Name: m, Value: strconv.FormatFloat(o.Constraints[k], 'g', -1, 64)})
	}
	return obs
}

// measure names what the regret of a run on the problem is: "regret", the
// best loss (feasible, where there are constraints) minus the optimum, or,
// with several objectives, "hv-gap", the true front's hypervolume minus
// that of the feasible front found.
func (p Problem) measure() string {
	if p.objectives() > 1 {
		return "hv-gap"
	}
	return "regret"
}

// Progress follows a run: after each outcome, its score so far, the
// smaller the better. With one objective it is the smallest feasible loss
// (+Inf while no trial is feasible); with two, minus the hypervolume, up
// to the problem's Reference, of the feasible trials' Pareto front (0
// while none is feasible). Either way score − Optimum is the run's regret.
type Progress struct {
	p    Problem
	pts  []pareto.Point
	best float64
}

// NewProgress starts following a run on p.
func NewProgress(p Problem) *Progress { return &Progress{p: p, best: math.Inf(1)} }

// Add counts an outcome and returns the score so far.
func (g *Progress) Add(o Outcome) float64 {
	pt := o.Point()
	if g.p.objectives() == 1 {
		if pt.Feasible() && o.Objectives[0] < g.best {
			g.best = o.Objectives[0]
		}
		return g.best
	}
	if pt.Feasible() {
		g.pts = append(g.pts, pt)
	}
	g.best = -FeasibleHypervolume(g.pts, g.p.Reference)
	return g.best
}

// FeasibleHypervolume is the hypervolume, up to ref, of the feasible
// points' Pareto front under constrained domination; 0 when no point is
// feasible.
func FeasibleHypervolume(pts []pareto.Point, ref []float64) float64 {
	var front [][]float64
	for _, i := range pareto.Front(pts) {
		if pts[i].Feasible() {
			front = append(front, pts[i].Values)
		}
	}
	return pareto.Hypervolume(front, ref)
}

// The hypervolumes of the true Pareto fronts, against each problem's
// Reference, from the fronts' closed forms; the tests check each against a
// dense sample of its front (and, for SRN, of the whole box).
var (
	// ZDT1, front f2 = 1 − √f1 on [0, 1], reference (1.1, 11):
	// ∫₀¹ (11 − 1 + √f) df + 0.1·11.
	zdt1Hypervolume = 10 + 2.0/3 + 1.1
	// ZDT2, front f2 = 1 − f1² on [0, 1], reference (1.1, 11).
	zdt2Hypervolume = 10 + 1.0/3 + 1.1
	// DTLZ2, front the quarter circle f1² + f2² = 1, reference (2.5, 2.5):
	// the square less the quarter disc.
	dtlz2Hypervolume = 2.5*2.5 - math.Pi/4
	// SRN, reference (300, 150): its front runs along the constraint
	// x1 − 3·x2 + 10 = 0, then x1 = −2.5, then the circle x1² + x2² = 225;
	// the hypervolume is the exact sweep over n points on each of those
	// three curves, keeping the feasible ones (85065.93 for n = 10⁵,
	// 85066.67 for 2·10⁶), taken to the limit as n grows (the sweep's
	// staircase falls short by about c/n).
	srnHypervolume = 85066.71
)

// ZDT1 is Zitzler, Deb and Thiele's first problem in 6 dimensions: two
// objectives, a convex front.
func ZDT1() Problem {
	return twoObjectives("zdt1-6d", 6, "0", "1", []float64{1.1, 11}, zdt1Hypervolume, testfunctions.ZDT1)
}

// ZDT2 is the second ZDT problem in 6 dimensions: a concave front.
func ZDT2() Problem {
	return twoObjectives("zdt2-6d", 6, "0", "1", []float64{1.1, 11}, zdt2Hypervolume, testfunctions.ZDT2)
}

// DTLZ2 is Deb, Thiele, Laumanns and Zitzler's second problem with two
// objectives in 6 dimensions: the front is the quarter circle of radius 1,
// where x2 … x6 are 0.5.
func DTLZ2() Problem {
	return twoObjectives("dtlz2-6d", 6, "0", "1", []float64{2.5, 2.5}, dtlz2Hypervolume, func(x []float64) (f1, f2 float64) {
		g := 0.0
		for _, v := range x[1:] {
			g += (v - 0.5) * (v - 0.5)
		}
		a := x[0] * math.Pi / 2
		return (1 + g) * math.Cos(a), (1 + g) * math.Sin(a)
	})
}

// SRN is Srinivas and Deb's problem on [−20, 20]²: two objectives and two
// constraints, x1² + x2² ≤ 225 and x1 − 3·x2 + 10 ≤ 0, which its front
// runs along in part.
func SRN() Problem {
	p := twoObjectives("srn-2d", 2, "-20", "20", []float64{300, 150}, srnHypervolume, func(x []float64) (f1, f2 float64) {
		return 2 + (x[0]-2)*(x[0]-2) + (x[1]-1)*(x[1]-1), 9*x[0] - (x[1]-1)*(x[1]-1)
	})
	objectives := p.Measure
	p.Constraints = 2
	p.Measure = func(v map[string]string) Outcome {
		o := objectives(v)
		x1, x2 := num(v, "x1"), num(v, "x2")
		o.Constraints = []float64{x1*x1 + x2*x2 - 225, x1 - 3*x2 + 10}
		return o
	}
	return p
}

// twoObjectives builds a problem of two objectives on [lo, hi]^d from f,
// whose true front covers hypervolume against ref.
func twoObjectives(name string, d int, lo, hi string, ref []float64, hypervolume float64, f func(x []float64) (f1, f2 float64)) Problem {
	params, at := coordinates(d, lo, hi)
	return Problem{
		Name:   name,
		Params: params,
		Measure: func(v map[string]string) Outcome {
			f1, f2 := f(at(v))
			return Outcome{Objectives: []float64{f1, f2}}
		},
		Objectives: 2,
		Reference:  ref,
		Optimum:    -hypervolume,
	}
}

// BraninDisc is Branin on [−5, 10] × [0, 15] subject to the disc
// (x1 − 2.5)² + (x2 − 7.5)² ≤ 50, which keeps only one of its three
// minima, (π, 2.275).
func BraninDisc() Problem {
	p := Branin()
	p.Name, p.Eval, p.Constraints = "branin-disc-2d", nil, 1
	p.Measure = func(v map[string]string) Outcome {
		x1, x2 := num(v, "x1"), num(v, "x2")
		return Outcome{
			Objectives:  []float64{BraninAt(x1, x2)},
			Constraints: []float64{(x1-2.5)*(x1-2.5) + (x2-7.5)*(x2-7.5) - 50},
		}
	}
	return p
}

// Gramacy is Gramacy et al.'s problem (2016) on [0, 1]²: minimise x1 + x2
// subject to two constraints, one of them wavy, so that the feasible region
// is in pieces; the minimum is 0.599788, at (0.195123, 0.404665).
func Gramacy() Problem {
	params, at := coordinates(2, "0", "1")
	return Problem{
		Name:   "gramacy-2d",
		Params: params,
		Measure: func(v map[string]string) Outcome {
			x := at(v)
			return Outcome{
				Objectives: []float64{x[0] + x[1]},
				Constraints: []float64{
					1.5 - x[0] - 2*x[1] - 0.5*math.Sin(2*math.Pi*(x[0]*x[0]-2*x[1])),
					x[0]*x[0] + x[1]*x[1] - 1.5,
				},
			}
		},
		Constraints: 2,
		Optimum:     gramacyOptimum,
	}
}

// gramacyOptimum is Gramacy's feasible minimum, found on a grid of step
// 2.5e-4 and refined by a local search under the constraints (the tests
// check it against a grid).
const gramacyOptimum = 0.5997880520

// Describe says what a problem of several objectives or of constraints
// measures: its reference point and true front's hypervolume, or its
// feasible optimum.
func Describe(p Problem) string {
	s := fmt.Sprintf("%s: %d objective(s), %d constraint(s)", p.Name, p.objectives(), p.Constraints)
	if p.objectives() > 1 {
		return s + fmt.Sprintf(", reference point %v, true front's hypervolume %.6g", p.Reference, -p.Optimum)
	}
	return s + fmt.Sprintf(", feasible optimum %.6g", p.Optimum)
}

// MultiObjectiveProblems lists the problems of several objectives and of
// constraints, in the order tables show them.
func MultiObjectiveProblems() []Problem {
	return []Problem{ZDT1(), ZDT2(), DTLZ2(), SRN(), BraninDisc(), Gramacy()}
}
