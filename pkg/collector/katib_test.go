package collector

import (
	"math/rand/v2"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDefaultMatchesIsTheRegexp compares the fast matcher with the
// regexp on random lines made of the characters that matter to it.
func TestDefaultMatchesIsTheRegexp(t *testing.T) {
	re := regexp.MustCompile(DefaultFormat)
	const alphabet = "ab1.9-+eE= \t|_:\r"
	rng := rand.New(rand.NewPCG(1, 2))
	lines := []string{"", "=", "a=", "a b=1", "a=b=1", "ab = = 1", "a=1b=2", "x=1.e5", "x=-.5e-3y", "x=1e+", "loss=0.3 acc=0.9"}
	for range 200_000 {
		b := make([]byte, rng.IntN(24))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		lines = append(lines, string(b))
	}
	for _, l := range lines {
		var want, got [][2]string
		for _, m := range re.FindAllStringSubmatch(l, -1) {
			want = append(want, [2]string{m[1], m[2]})
		}
		defaultMatches([]byte(l), func(n, v []byte) { got = append(got, [2]string{string(n), string(v)}) })
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("line %q (-regexp, +fast):\n%s", l, d)
		}
	}
}
