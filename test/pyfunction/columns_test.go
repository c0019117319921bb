package pyfunction

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNumberText checks that the Python function writes the numbers of a
// history in columns as the Go functions do, in both formats: the strings
// it rebuilds are the trials' own only if it does.
func TestNumberText(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the Python example function cannot run")
	}
	values := []float64{0, math.Copysign(0, -1), 1e-5, 1.5e-05, 0.0001, 123456, 1234567, 1e20, 1e21, 1e22, 0.1, 1.0 / 3, -2.5,
		5e-324, math.MaxFloat64, math.SmallestNonzeroFloat64 * 3, math.NaN(), math.Inf(1), math.Inf(-1), 9007199254740993}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		values = append(values, (rng.Float64()-0.5)*math.Pow(10, float64(rng.IntN(40)-20)))
	}
	var bits, want []string
	for _, v := range values {
		bits = append(bits, strconv.FormatUint(math.Float64bits(v), 10))
		want = append(want, strconv.FormatFloat(v, 'f', -1, 64), strconv.FormatFloat(v, 'g', -1, 64))
	}
	dir, err := filepath.Abs(filepath.Dir(script))
	if err != nil {
		t.Fatal(err)
	}
	prog := fmt.Sprintf(`import struct, sys
sys.path.insert(0, %q)
import function
for b in sys.argv[1:]:
    x = struct.unpack("<d", struct.pack("<Q", int(b)))[0]
    print(function.number_text(x, 0))
    print(function.number_text(x, 1))
`, dir)
	// -B: no __pycache__ left beside the example.
	out, err := exec.Command(python, append([]string{"-B", "-c", prog}, bits...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d lines from python3, want %d:\n%s", len(got), len(want), out)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%v in format %d: python3 writes %q, Go %q", values[i/2], i%2, got[i], want[i])
		}
	}
}
