package reconciler

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

func TestSortTrials(t *testing.T) {
	trial := func(name string, sec int64) *v1alpha1.Trial {
		return &v1alpha1.Trial{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.Unix(sec, 0)}}
	}
	trials := []*v1alpha1.Trial{
		trial("exp-10", 5), trial("exp-9", 5), trial("exp-2", 1), trial("hand", 0),
		trial("exp-b", 5), trial("exp-a", 5), trial("exp-11", 6), trial("other-3", 5),
	}
	rand.Shuffle(len(trials), func(i, j int) { trials[i], trials[j] = trials[j], trials[i] })
	SortTrials(trials)
	var got []string
	for _, tr := range trials {
		got = append(got, tr.Name)
	}
	want := "[hand exp-2 exp-9 exp-10 exp-a exp-b other-3 exp-11]"
	if s := "[" + strings.Join(got, " ") + "]"; s != want {
		t.Errorf("SortTrials = %s, want %s", s, want)
	}
}

func BenchmarkSortTrials(b *testing.B) {
	trials := make([]*v1alpha1.Trial, 100000)
	for i := range trials {
		trials[i] = &v1alpha1.Trial{ObjectMeta: metav1.ObjectMeta{Name: "exp-" + strconv.Itoa(i+1), CreationTimestamp: metav1.Unix(int64(i/200), 0)}}
	}
	for b.Loop() {
		rand.Shuffle(len(trials), func(i, j int) { trials[i], trials[j] = trials[j], trials[i] })
		SortTrials(trials)
	}
}
