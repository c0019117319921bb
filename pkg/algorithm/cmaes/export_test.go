package cmaes

import (
	"math"

	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Inspection is what tests read of a reply's state.
type Inspection struct {
	Lambda, Gen, Runs, LargeRuns int
	Large                        bool
	Sigma                        float64
	Mean                         []float64
	// StdDevs are the coordinates' standard deviations, σ√C_ii.
	StdDevs []float64
	Members [][]float64
}

// Inspect decodes the state settings of a reply for a search of n
// dimensions.
func Inspect(settings []*pb.AlgorithmSetting, n int) (Inspection, error) {
	var st *state
	var pop []member
	var err error
	for _, s := range settings {
		switch s.GetName() {
		case SettingState:
			if st, err = decodeState(s.GetValue(), n); err != nil {
				return Inspection{}, err
			}
		case SettingPopulation:
			if pop, err = decodePopulation(s.GetValue(), n); err != nil {
				return Inspection{}, err
			}
		}
	}
	if st == nil {
		return Inspection{}, nil
	}
	ins := Inspection{Lambda: st.lambda, Gen: st.gen, Runs: st.runs, LargeRuns: st.largeRuns, Large: st.large,
		Sigma: st.sigma, Mean: st.mean}
	for i := range st.mean {
		ins.StdDevs = append(ins.StdDevs, st.sigma*math.Sqrt(st.c[i*len(st.mean)+i]))
	}
	for _, m := range pop {
		ins.Members = append(ins.Members, m.x)
	}
	return ins, nil
}

// Converged returns state settings for a run of n dimensions whose step
// size has collapsed around mean, with its generation's members: the next
// tell ends the run.
func Converged(mean []float64, members [][]float64) []*pb.AlgorithmSetting {
	st := newState(len(mean), 1e-13)
	copy(st.mean, mean)
	st.gen, st.runEvals = 40, 40*st.lambda
	pop := make([]member, len(members))
	for i, x := range members {
		pop[i] = member{gen: st.gen, x: x}
	}
	return st.settings(pop, len(mean))
}

// DefaultLambda is the default population of n dimensions.
func DefaultLambda(n int) int { return defaultLambda(n) }
