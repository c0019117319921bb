package dashboard

import (
	"net/http/httptest"
	"testing"

	"knobs.dev/knobs/pkg/dashboard/dashboardtest"
)

// BenchmarkExperimentPage renders the page of an experiment of 1,000 trials
// (3 parameters, a learning curve each) and the list of 100 experiments.
// The importance is cached between renders, as it is while no trial ends;
// BenchmarkExperimentPageTrialEnded computes it afresh each time.
func BenchmarkExperimentPage(b *testing.B) {
	w := newWorld()
	addBranin(b, w, "default", "big", 1000, 10)
	d := New(w.listers())
	benchPage(b, d, "/experiments/default/big")
}

func BenchmarkExperimentPageTrialEnded(b *testing.B) {
	w := newWorld()
	addBranin(b, w, "default", "big", 1000, 10)
	d := New(w.listers())
	b.ReportAllocs()
	for b.Loop() {
		clear(d.importance)
		rec := httptest.NewRecorder()
		d.ServeHTTP(rec, httptest.NewRequest("GET", "/experiments/default/big", nil))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkParetoPage renders the page of an experiment of 1,000 trials of
// two objectives and a constraint: the front, the feasibility and the
// chart of the front besides what BenchmarkExperimentPage renders.
func BenchmarkParetoPage(b *testing.B) {
	w := newWorld()
	e, trials := dashboardtest.TradeOff("default", "big", 1000, epoch)
	w.add(b, e)
	for _, tr := range trials {
		w.add(b, tr)
	}
	benchPage(b, New(w.listers()), "/experiments/default/big")
}

func BenchmarkExperimentsPage(b *testing.B) {
	w := newWorld()
	for i := range 100 {
		addBranin(b, w, "ns"+string(rune('a'+i%10)), "exp"+string(rune('a'+i/10))+string(rune('a'+i%10)), 10, 1)
	}
	benchPage(b, New(w.listers()), "/")
}

func benchPage(b *testing.B, d *Dashboard, path string) {
	b.ReportAllocs()
	var size int
	for b.Loop() {
		rec := httptest.NewRecorder()
		d.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size)/1024, "KiB/page")
}
