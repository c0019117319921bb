package sobol

import (
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	gsobol "github.com/c-bata/goptuna/sobol"
)

// The search finds every primitive polynomial of each degree (there are
// φ(2^s-1)/s), in Joe and Kuo's order, which their table starts with.
func TestPrimitives(t *testing.T) {
	counts := []int{1, 1, 2, 2, 6, 6, 18, 16, 48, 60, 176, 144, 630, 756}
	all := primitives(1<<20, len(counts))
	got := make([]int, len(counts))
	for i, p := range all {
		got[p.s-1]++
		if i > 0 && (p.s < all[i-1].s || p.s == all[i-1].s && p.a <= all[i-1].a) {
			t.Fatalf("polynomial %d %+v out of order after %+v", i, p, all[i-1])
		}
	}
	if !slices.Equal(got, counts) {
		t.Errorf("primitive polynomials per degree %v, want %v", got, counts)
	}
	first := []poly{{1, 0}, {2, 1}, {3, 1}, {3, 2}, {4, 1}, {4, 4}, {5, 2}, {5, 4}, {5, 7}, {5, 11}, {5, 13}, {5, 14}}
	if !slices.Equal(all[:len(first)], first) {
		t.Errorf("first polynomials %v, want %v", all[:len(first)], first)
	}
}

// walked is the sequence walked with goptuna's engine, as in spaces the
// derived direction numbers do not cover.
func walked(dim int) *sequence {
	return &sequence{dim: dim, x: make([]uint32, dim), eng: gsobol.NewEngine(uint32(max(dim-1, 1)))}
}

// The derived direction numbers give the engine's points, walked or
// skipped to, up to the largest space they cover; beyond it the engine is
// walked.
func TestDerivedIsTheEngine(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tt := range []struct{ dim, points int }{{1, 300}, {2, 300}, {3, 1 << 11}, {40, 1 << 11}, {161, 1<<9 + 100}} {
		d := newSequence(tt.dim, 1<<30)
		if d.v == nil {
			t.Fatalf("%d dimensions: no derived direction numbers", tt.dim)
		}
		w := walked(tt.dim)
		var pts [][]float64
		for i := range tt.points {
			want, got := w.next(), d.next()
			if !slices.Equal(got, want) {
				t.Fatalf("%d dimensions, point %d: derived %v, the engine %v", tt.dim, i+1, got, want)
			}
			pts = append(pts, want)
		}
		for range 20 {
			n := rng.IntN(tt.points)
			s := newSequence(tt.dim, 1<<30)
			if err := s.skip(ctx, n); err != nil {
				t.Fatal(err)
			}
			if got := s.next(); !slices.Equal(got, pts[n]) {
				t.Fatalf("%d dimensions: skipping %d points gave %v, want point %d %v", tt.dim, n, got, n+1, pts[n])
			}
		}
	}
	if newSequence(162, 1<<30).v != nil {
		t.Errorf("162 dimensions derived: a polynomial of degree 11 takes 1024 draws of the engine")
	}
	if newSequence(10, 8).v != nil {
		t.Errorf("10 dimensions derived to skip 8 points: walking the engine takes fewer draws")
	}
}

// BenchmarkSkip compares reaching point n of a 10-parameter space by the
// direction numbers (derived afresh, as each call does) and by walking
// goptuna's engine.
func BenchmarkSkip(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{100, 1000, 10000} {
		b.Run("derived/trials="+strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				polys, draws, _ := derivable(10)
				s := &sequence{dim: 10, x: make([]uint32, 10), v: directions(10, polys, draws)}
				_ = s.skip(ctx, n)
			}
		})
		b.Run("walked/trials="+strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				_ = walked(10).skip(ctx, n)
			}
		})
	}
}
