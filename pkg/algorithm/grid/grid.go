// Package grid is grid search with Katib's semantics: a double parameter
// needs a step, an int parameter steps by 1 unless told otherwise, discrete
// and categorical parameters take their lists.
//
// Points come in a fixed mixed-radix order (searchspace.Space.PointAt): the
// n-th point depends on n alone, each point is handed out once, and nothing is
// computed for points not yet asked for, so a grid of 10^12 points costs no
// more than one of ten.
package grid

import (
	"context"
	"fmt"

	"knobs.dev/knobs/pkg/algorithm"
	"knobs.dev/knobs/pkg/searchspace"
)

// Grid is the grid search algorithm.
type Grid struct{}

var _ algorithm.Algorithm = Grid{}

// Settings implements algorithm.Algorithm: grid search takes none.
func (Grid) Settings() []algorithm.Setting { return nil }

// Validate implements algorithm.Algorithm.
func (Grid) Validate(p *algorithm.Problem) error {
	for i := range p.Space.Params {
		param := &p.Space.Params[i]
		if !param.Finite() {
			return algorithm.Invalidf(
				fmt.Sprintf("experiment.experimentSpec.parameterSpecs.parameters[%d] (%q).feasibleSpace.step", i, param.Name),
				"missing: grid search needs a step for a double parameter, such as %q for ten points from min to max",
				param.Format((param.Max-param.Min)/9))
		}
	}
	return nil
}

// Suggest implements algorithm.Algorithm. It walks the grid from its start
// and hands out the first points no trial holds.
func (Grid) Suggest(ctx context.Context, p *algorithm.Problem, trials []algorithm.Trial, count int) (*algorithm.Suggestions, error) {
	space := p.Space
	taken := algorithm.NewTaken(space, trials)
	size, exact := space.Size()
	out := &algorithm.Suggestions{Points: make([]searchspace.Point, 0, count)}
	for i := uint64(0); len(out.Points) < count && (!exact || i < size); i++ {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if pt := space.PointAt(i); taken.Take(pt) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			out.Points = append(out.Points, pt)
		}
	}
	// Exhausted when no point is left: the walk reached the end, or every
	// point from where it stopped is taken.
	out.Exhausted = exact && (len(out.Points) < count || taken.Unseen() == 0)
	return out, nil
}
