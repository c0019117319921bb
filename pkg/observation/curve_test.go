package observation

import (
	"cmp"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

// point is one report of a metric.
type point struct {
	step  int64
	value float64
}

// foldPoints adds the points to an empty curve one at a time.
func foldPoints(points []point, capacity int) []v1alpha1.CurvePoint {
	var curve []v1alpha1.CurvePoint
	for _, p := range points {
		curve = addPoint(curve, p.step, formatValue(p.value), capacity)
	}
	return curve
}

// batch downsamples all the points (of distinct steps) at once, the last
// one the latest: what the rule keeps of the whole history.
func batch(points []point, capacity int) []v1alpha1.CurvePoint {
	all := make([]v1alpha1.CurvePoint, len(points))
	for i, p := range points {
		all[i] = v1alpha1.CurvePoint{Step: p.step, Value: formatValue(p.value)}
	}
	slices.SortFunc(all, func(a, b v1alpha1.CurvePoint) int { return cmp.Compare(a.Step, b.Step) })
	return downsample(all, points[len(points)-1].step, capacity)
}

// checkCurve checks what every curve must be: in order of steps, within its
// capacity, and holding the lowest, highest and latest step and the
// smallest and largest value of the points.
func checkCurve(t *testing.T, curve []v1alpha1.CurvePoint, points []point, capacity int) {
	t.Helper()
	if len(curve) > capacity {
		t.Fatalf("%d points, more than %d", len(curve), capacity)
	}
	if !inOrder(curve) {
		t.Fatalf("steps not in order: %v", curve)
	}
	has := func(step int64, value float64) bool {
		i, ok := slices.BinarySearchFunc(curve, step, func(p v1alpha1.CurvePoint, s int64) int { return cmp.Compare(p.Step, s) })
		return ok && curve[i].Value == formatValue(value)
	}
	lo, hi, small, large := points[0], points[0], points[0], points[0]
	for _, p := range points {
		if p.step < lo.step {
			lo = p
		}
		if p.step > hi.step {
			hi = p
		}
		if p.value < small.value || (p.value == small.value && p.step < small.step) {
			small = p
		}
		if p.value > large.value || (p.value == large.value && p.step < large.step) {
			large = p
		}
	}
	latest := points[len(points)-1]
	for what, p := range map[string]point{"first step": lo, "last step": hi, "latest report": latest, "smallest value": small, "largest value": large} {
		if !has(p.step, p.value) {
			t.Fatalf("the %s (step %d, %v) is missing from %v", what, p.step, p.value, curve)
		}
	}
}

func TestCurveKeepsEveryPointWhileItFits(t *testing.T) {
	var points []point
	for epoch := int64(1); epoch <= v1alpha1.MaxCurvePoints-4; epoch++ {
		points = append(points, point{epoch, 1 / float64(epoch)})
	}
	curve := foldPoints(points, v1alpha1.MaxCurvePoints)
	if len(curve) != len(points) {
		t.Fatalf("%d epochs kept %d points, want all", len(points), len(curve))
	}
	// As many reports, 1024 steps apart: each in a bucket of its own.
	var sparse []point
	for i := int64(0); i < v1alpha1.MaxCurvePoints-4; i++ {
		sparse = append(sparse, point{i * 1024, float64(i)})
	}
	if got := foldPoints(sparse, v1alpha1.MaxCurvePoints); len(got) != len(sparse) {
		t.Fatalf("%d reports 1024 steps apart kept %d points, want all", len(sparse), len(got))
	}
}

// TestCurveMillionSteps reports a noisy falling curve at a million steps,
// one at a time: the curve never grows past its bound, keeps its first,
// last and best points throughout, and ends evenly spread.
func TestCurveMillionSteps(t *testing.T) {
	steps := int64(1_000_000)
	if testing.Short() {
		steps = 100_000
	}
	capacity := v1alpha1.MaxCurvePoints
	rng := rand.New(rand.NewPCG(1, 2))
	var curve []v1alpha1.CurvePoint
	first := point{0, 10}
	best := first
	longest := 0
	for s := int64(0); s < steps; s++ {
		p := point{s, math.Round((10/(1+float64(s)/1000)+rng.Float64())*1000) / 1000}
		if s == 0 {
			p = first
		}
		if p.value < best.value {
			best = p
		}
		curve = addPoint(curve, p.step, formatValue(p.value), capacity)
		longest = max(longest, len(curve))
		if s%9973 == 0 || s == steps-1 {
			checkCurve(t, curve, []point{first, best, p}, capacity)
		}
	}
	if longest > capacity {
		t.Fatalf("the curve reached %d points, more than %d", longest, capacity)
	}
	// Buckets of 2^14 steps (16384) cover a million steps in 62 (of 2^11,
	// 100,000 in 49): each keeps its first step, so no two kept points are
	// further apart than two buckets.
	if len(curve) < (capacity-4)/2 {
		t.Errorf("%d points kept of %d steps, want at least %d", len(curve), steps, (capacity-4)/2)
	}
	width := steps / int64(capacity-4)
	for i := 1; i < len(curve); i++ {
		if gap := curve[i].Step - curve[i-1].Step; gap > 4*width {
			t.Errorf("steps %d and %d are %d apart: not evenly spread", curve[i-1].Step, curve[i].Step, gap)
		}
	}
	t.Logf("%d steps: %d points, longest %d", steps, len(curve), longest)
}

// TestCurveOrderDoesNotMatter reports the same points in many orders: the
// curve is always what downsampling the whole history at once keeps, for
// whichever point came last.
func TestCurveOrderDoesNotMatter(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name  string
		steps func(i int) int64
		n     int
	}{
		{"dense", func(i int) int64 { return int64(i) }, 2000},
		{"sparse", func(i int) int64 { return int64(i) * 1000 }, 3000},
		{"odd", func(i int) int64 { return int64(2*i + 1) }, 1000},
		{"negative and huge", func(i int) int64 {
			switch i {
			case 0:
				return math.MinInt64
			case 1:
				return math.MaxInt64
			}
			return int64(i-500) * 7919
		}, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, capacity := range []int{6, 7, 15, v1alpha1.MaxCurvePoints} {
				points := make([]point, tc.n)
				for i := range points {
					points[i] = point{tc.steps(i), math.Round(rng.NormFloat64()*100) / 10} // ties too
				}
				for range 5 {
					rng.Shuffle(len(points), func(i, j int) { points[i], points[j] = points[j], points[i] })
					got := foldPoints(points, capacity)
					checkCurve(t, got, points, capacity)
					if d := gocmp.Diff(batch(points, capacity), got); d != "" {
						t.Fatalf("capacity %d: one at a time differs from all at once (-batch, +one at a time):\n%s", capacity, d)
					}
				}
			}
		})
	}
}

func TestCurveReportSentAgain(t *testing.T) {
	var curve []v1alpha1.CurvePoint
	for s := int64(0); s < 10_000; s++ {
		curve = addPoint(curve, s, formatValue(float64(s)), 20)
	}
	before := slices.Clone(curve)
	again := addPoint(curve, curve[3].Step, "-1", 20)
	if d := gocmp.Diff(before, curve); d != "" {
		t.Fatalf("addPoint changed the curve it was given:\n%s", d)
	}
	if len(again) != len(curve) || again[3].Value != "-1" {
		t.Fatalf("a report at step %d, which the curve holds, made %v from %v; want its value replaced", curve[3].Step, again, curve)
	}
}

// TestCurveCapacity follows the bound on an observation's points as the
// objective names more metrics.
func TestCurveCapacity(t *testing.T) {
	for _, n := range []int{1, 2, 5, 6, 7, 10, 33, 64, 65} {
		obj := &v1alpha1.ObjectiveSpec{Type: v1alpha1.ObjectiveTypeMinimize, ObjectiveMetricName: "m0"}
		metrics := map[string]float64{"m0": 0}
		for i := 1; i < n; i++ {
			name := "m" + strconv.Itoa(i)
			obj.AdditionalMetricNames = append(obj.AdditionalMetricNames, name)
			metrics[name] = 0
		}
		var obs *v1alpha1.Observation
		for s := int64(0); s < 300; s++ {
			for k := range metrics {
				metrics[k] = float64(s % 17)
			}
			next, _, err := Apply(obs, obj, metrics, &s)
			if err != nil {
				t.Fatal(err)
			}
			obs = next
		}
		total := 0
		for _, m := range obs.Metrics {
			if len(m.Curve) > v1alpha1.CurvePointsPerMetric(n) {
				t.Errorf("%d metrics: %s has %d points, more than %d", n, m.Name, len(m.Curve), v1alpha1.CurvePointsPerMetric(n))
			}
			total += len(m.Curve)
		}
		if total > v1alpha1.MaxObservationCurvePoints {
			t.Errorf("%d metrics: %d points in all, more than %d", n, total, v1alpha1.MaxObservationCurvePoints)
		}
	}
}

// largestObservationBytes is the most bytes of JSON an observation the
// receiver writes can take, docs/tuning-loop.md says: up to
// v1alpha1.MaxObservationMetrics metrics, names of 253 characters, every
// value of the longest form, steps of 19 digits.
const largestObservationBytes = 65 << 10

func TestLargestObservation(t *testing.T) {
	// A sign, 17 digits, a point and a three-digit exponent: the longest a
	// value is written.
	const longest = -2.2250738585072014e-308
	if s := formatValue(longest); len(s) != 24 {
		t.Fatalf("%s is not the longest value", s)
	}
	largest, at := 0, 0
	for n := 1; n <= v1alpha1.MaxObservationMetrics; n++ {
		obs := &v1alpha1.Observation{Step: new(int64), Reports: math.MaxInt32}
		*obs.Step = math.MaxInt64
		v := formatValue(longest)
		for i := range n {
			name := strconv.Itoa(i) + strings.Repeat("m", 253-len(strconv.Itoa(i)))
			m := v1alpha1.Metric{Name: name, Value: v, Min: v, Max: v, Latest: v}
			for j := range v1alpha1.CurvePointsPerMetric(n) {
				m.Curve = append(m.Curve, v1alpha1.CurvePoint{Step: math.MaxInt64 - int64(j), Value: v})
			}
			obs.Metrics = append(obs.Metrics, m)
		}
		b, err := json.Marshal(obs)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > largest {
			largest, at = len(b), n
		}
	}
	t.Logf("the largest observation: %d bytes, with %d metrics", largest, at)
	if largest > largestObservationBytes {
		t.Errorf("an observation can take %d bytes of JSON (%d metrics), more than the %d the docs say", largest, at, largestObservationBytes)
	}
}

// BenchmarkApplyFullCurve folds one report of two metrics, one step on,
// into an observation whose curves are full after a million steps.
func BenchmarkApplyFullCurve(b *testing.B) {
	obj := newTrial("t").Spec.Objective
	var obs *v1alpha1.Observation
	metrics := map[string]float64{}
	step := int64(0)
	for ; step < 1_000_000; step += 997 {
		metrics["loss"], metrics["accuracy"] = 1/float64(step+1), 1-1/float64(step+1)
		next, _, err := Apply(obs, obj, metrics, &step)
		if err != nil {
			b.Fatal(err)
		}
		obs = next
	}
	if n := len(obs.Metric("loss").Curve); n < v1alpha1.MaxCurvePoints/2 {
		b.Fatalf("the curve holds %d points, want it nearly full", n)
	}
	b.ReportAllocs()
	for b.Loop() {
		step++
		if _, _, err := Apply(obs, obj, metrics, &step); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAddPoint adds one point to a full curve.
func BenchmarkAddPoint(b *testing.B) {
	var points []point
	for s := int64(0); s < 1_000_000; s += 997 {
		points = append(points, point{s, 1 / float64(s+1)})
	}
	curve := foldPoints(points, v1alpha1.MaxCurvePoints)
	step := int64(1_000_000)
	b.ReportAllocs()
	for b.Loop() {
		step++
		addPoint(curve, step, "0.5", v1alpha1.MaxCurvePoints)
	}
}

// FuzzCurve reports points of steps and values drawn from the input, each
// step once, and checks the curve against the rule applied to all of them.
func FuzzCurve(f *testing.F) {
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"), uint8(6))
	f.Add([]byte("\xff\x80\x7f\x00\x10\x20\x30\x40\x50\x60\x70"), uint8(7))
	f.Fuzz(func(t *testing.T, data []byte, c uint8) {
		capacity := 6 + int(c)%100
		seen := map[int64]bool{}
		var points []point
		for i := 0; i+2 < len(data); i += 3 {
			step := int64(int16(uint16(data[i])<<8|uint16(data[i+1]))) << (data[i+2] % 48)
			if seen[step] {
				continue
			}
			seen[step] = true
			points = append(points, point{step, float64(data[i+2] % 7)})
		}
		if len(points) == 0 {
			return
		}
		got := foldPoints(points, capacity)
		checkCurve(t, got, points, capacity)
		if d := gocmp.Diff(batch(points, capacity), got); d != "" {
			t.Fatalf("one at a time differs from all at once (-batch, +one at a time):\n%s", d)
		}
	})
}
