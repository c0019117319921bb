package esbench

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"

	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Synthetic is a family of learning curves of steps steps over two
// parameters in [0, 1]: each falls from its start towards its final loss at
// its own speed, with a little noise. The final loss is lowest near
// (0.35, 0.6), and x2 also sets the speed, so that some slow starters end
// well: what a stopping rule can get wrong.
func Synthetic(steps int) Problem {
	unit := &pb.FeasibleSpace{Min: "0", Max: "1"}
	return Problem{
		Name: "synthetic",
		Parameters: []*pb.ParameterSpec{
			{Name: "x1", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: unit},
			{Name: "x2", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: unit},
		},
		Curve: func(_ context.Context, a []*pb.ParameterAssignment) ([]float64, error) {
			var x [2]float64
			for _, pa := range a {
				v, err := strconv.ParseFloat(pa.GetValue(), 64)
				if err != nil {
					return nil, err
				}
				switch pa.GetName() {
				case "x1":
					x[0] = v
				case "x2":
					x[1] = v
				default:
					return nil, fmt.Errorf("synthetic: no parameter %q", pa.GetName())
				}
			}
			final := 0.1 + (x[0]-0.35)*(x[0]-0.35) + 0.5*(x[1]-0.6)*(x[1]-0.6)
			speed := 0.15 + 0.6*x[1]
			start := 1.2 + 0.3*x[0]
			h := fnv.New64a()
			fmt.Fprintf(h, "%v", x)
			rng := rand.New(rand.NewPCG(h.Sum64(), 7))
			out := make([]float64, steps)
			for t := range out {
				out[t] = final + (start-final)*math.Exp(-speed*float64(t+1)) + 0.01*rng.NormFloat64()
			}
			return out, nil
		},
	}
}
