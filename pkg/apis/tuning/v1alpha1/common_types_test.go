package v1alpha1

import "testing"

func TestCurvePointsPerMetric(t *testing.T) {
	for _, tc := range []struct{ metrics, want int }{
		{0, MaxCurvePoints},
		{1, 100},
		{5, 100},
		{6, 83},
		{10, 50},
		{65, 7},
		{83, 6},
		{1000, 6},
	} {
		if got := CurvePointsPerMetric(tc.metrics); got != tc.want {
			t.Errorf("CurvePointsPerMetric(%d) = %d, want %d", tc.metrics, got, tc.want)
		}
	}
	// Up to 83 metrics, and so for every Trial the API server admits
	// (MaxObservationMetrics at most), the curves together keep to the
	// bound of an observation.
	if MaxObservationMetrics > 83 {
		t.Errorf("MaxObservationMetrics is %d: curves of 6 points would hold more than %d in all", MaxObservationMetrics, MaxObservationCurvePoints)
	}
	for n := 1; n <= MaxObservationMetrics; n++ {
		if total := n * CurvePointsPerMetric(n); total > MaxObservationCurvePoints {
			t.Errorf("%d metrics may hold %d points, more than %d", n, total, MaxObservationCurvePoints)
		}
	}
}
