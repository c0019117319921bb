package reconciler

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

func TestWaiting(t *testing.T) {
	as := []v1alpha1.TrialAssignment{{Name: "exp-1"}, {Name: "exp-2"}, {Name: "exp-3"}}
	trial := func(name string, mine bool) *v1alpha1.Trial {
		tr := &v1alpha1.Trial{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if mine {
			tr.Labels = map[string]string{"mine": "yes"}
		}
		return tr
	}
	trials := []*v1alpha1.Trial{trial("exp-0", true), trial("exp-3", true), trial("exp-2", false), trial("exp-2", false)}
	mine := func(tr *v1alpha1.Trial) bool { return tr.Labels["mine"] == "yes" }
	names := func(as []v1alpha1.TrialAssignment) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.Name)
		}
		return out
	}
	for _, c := range []struct {
		name   string
		trials []*v1alpha1.Trial
		holds  func(*v1alpha1.Trial) bool
		want   []string
	}{
		{"any trial holds", trials, nil, []string{"exp-1"}},
		{"only mine hold", trials, mine, []string{"exp-1", "exp-2"}},
		{"no trials", nil, nil, []string{"exp-1", "exp-2", "exp-3"}},
		{"all held", append(trials, trial("exp-1", true)), nil, nil},
	} {
		got := Waiting(as, c.trials, c.holds)
		if diff := cmp.Diff(c.want, names(got)); diff != "" || (c.want == nil && got != nil) {
			t.Errorf("%s: Waiting() (-want +got): %s (nil: %v)", c.name, diff, got == nil)
		}
	}
	if got := Waiting(nil, trials, nil); got != nil {
		t.Errorf("Waiting(nil) = %v, want nil", got)
	}
}
