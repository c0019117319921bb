package observed

import (
	"slices"
	"strconv"
	"testing"

	"k8s.io/utils/ptr"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

func obs(kv ...string) *v1alpha1.Observation {
	o := &v1alpha1.Observation{}
	for i := 0; i < len(kv); i += 2 {
		o.Metrics = append(o.Metrics, v1alpha1.Metric{Name: kv[i], Value: kv[i+1]})
	}
	return o
}

func TestFront(t *testing.T) {
	o := &v1alpha1.ObjectiveSpec{
		Type: v1alpha1.ObjectiveTypeMinimize, ObjectiveMetricName: "loss",
		AdditionalObjectives: []v1alpha1.AdditionalObjective{{Name: "acc", Type: v1alpha1.ObjectiveTypeMaximize}},
		Constraints:          []v1alpha1.MetricConstraint{{Name: "mem", Max: ptr.To(100.0)}},
	}
	all := []*v1alpha1.Observation{
		obs("loss", "1", "acc", "0.5", "mem", "10"), // 0: front
		obs("loss", "2", "acc", "0.9", "mem", "10"), // 1: front
		obs("loss", "2", "acc", "0.4", "mem", "10"), // 2: dominated by 0
		obs("loss", "0", "acc", "1", "mem", "200"),  // 3: would dominate all, infeasible
		nil,                              // 4: nothing reported
		obs("loss", "0.5", "mem", "10"),  // 5: lacks acc
		obs("loss", "0.5", "acc", "0.6"), // 6: lacks the constraint's metric
		obs("loss", "3", "acc", "0.95", "mem", "99"), // 7: front
	}
	if got, want := Front(o, all), []int{0, 1, 7}; !slices.Equal(got, want) {
		t.Errorf("Front = %v, want %v", got, want)
	}
	// With no feasible observation, there is no front.
	if got := Front(o, all[3:4]); len(got) != 0 {
		t.Errorf("Front of infeasible observations = %v, want none", got)
	}
	for i, want := range []bool{true, true, true, false, false, true, false, true} {
		if got := Feasible(o, all[i]); got != want {
			t.Errorf("Feasible(%d) = %v, want %v", i, got, want)
		}
	}
}

// The front agrees with a check of every pair by domination.
func TestFrontAgreesWithPairs(t *testing.T) {
	o := &v1alpha1.ObjectiveSpec{
		Type: v1alpha1.ObjectiveTypeMinimize, ObjectiveMetricName: "a",
		AdditionalObjectives: []v1alpha1.AdditionalObjective{{Name: "b", Type: v1alpha1.ObjectiveTypeMinimize}},
	}
	var all []*v1alpha1.Observation
	for i := range 40 {
		a, b := (i*7)%13, (i*11)%17
		all = append(all, obs("a", strconv.Itoa(a), "b", strconv.Itoa(b)))
	}
	var want []int
	for i, p := range all {
		pa, _ := o.Losses(p)
		dominated := false
		for _, q := range all {
			qa, _ := o.Losses(q)
			if qa[0] <= pa[0] && qa[1] <= pa[1] && (qa[0] < pa[0] || qa[1] < pa[1]) {
				dominated = true
			}
		}
		if !dominated {
			want = append(want, i)
		}
	}
	if got := Front(o, all); !slices.Equal(got, want) {
		t.Errorf("Front = %v, want %v", got, want)
	}
}
