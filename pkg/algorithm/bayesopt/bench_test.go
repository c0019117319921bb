package bayesopt_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"knobs.dev/knobs/pkg/algorithm/random"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// benchSpace is a typical tuning space: a log-uniform learning rate, a
// momentum, a layer count, an optimiser and a batch size.
func benchSpace() []*pb.ParameterSpec {
	return []*pb.ParameterSpec{
		param("lr", pb.ParameterType_DOUBLE, "1e-5", "1", "", pb.Distribution_LOG_UNIFORM),
		double("momentum", "0", "0.99"),
		integer("layers", "1", "8"),
		categorical("optimizer", "sgd", "adam", "rmsprop"),
		discrete("batch", "16", "32", "64", "128", "256"),
	}
}

// benchLoss is a smooth loss over benchSpace with some noise-free structure.
func benchLoss(s *searchspace.Space, pt searchspace.Point) float64 {
	lr := math.Log10(pt[0])
	batch := s.Params[4].Numeric(pt[4])
	return (lr+3)*(lr+3) + 4*(pt[1]-0.9)*(pt[1]-0.9) + 0.1*(pt[2]-4)*(pt[2]-4) +
		[]float64{0.5, 0, 0.2}[int(pt[3])] + 0.2*math.Abs(math.Log2(batch)-6)
}

// benchHistory is n completed trials drawn at random.
func benchHistory(b *testing.B, n int) []trial {
	p := problem(b, random.Random{}, benchSpace(), "random_state", "7")
	out, err := random.Random{}.Suggest(context.Background(), p, nil, n)
	if err != nil {
		b.Fatal(err)
	}
	hist := make([]trial, n)
	for i, pt := range out.Points {
		hist[i] = done(pt, benchLoss(p.Space, pt))
	}
	return hist
}

// BenchmarkBayesOptSuggest measures one call, with the default settings
// (gp_hedge), as the history grows: one point, and a batch of five with five
// trials pending.
func BenchmarkBayesOptSuggest(b *testing.B) {
	for _, n := range []int{50, 100, 500, 1000} {
		for _, count := range []int{1, 5} {
			b.Run(fmt.Sprintf("trials=%d/count=%d", n, count), func(b *testing.B) {
				p := problem(b, bo, benchSpace(), "random_state", "1")
				hist := benchHistory(b, n)
				if count > 1 {
					for i := range count {
						hist[len(hist)-1-i].Condition = pb.TrialCondition_RUNNING
						hist[len(hist)-1-i].Valued = false
					}
				}
				trials := trialsOf(b, p, hist)
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					out, err := bo.Suggest(ctx, p, trials, count)
					if err != nil || len(out.Points) != count {
						b.Fatalf("Suggest = %v, %v", out, err)
					}
				}
			})
		}
	}
}
