//go:build integration

package integration

import (
	"strings"
	"testing"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/test/fnproc"
)

// The most resident memory the controller may reach while it refuses
// hostile templates: half its container's limit (512Mi in
// config/500-controller.yaml). Without a bound on what a template builds,
// the first of them takes it to gigabytes.
const controllerPeakRSS = 256 << 20

// Experiments whose Go templates would build gigabytes in few steps fail
// InvalidTrialTemplate, naming the field and the call, and the controller's
// memory stays flat while it renders them on every reconcile.
func TestHostileTemplates(t *testing.T) {
	c := startController(t, "controller-hostile")
	ns := namespace(t)
	fn := startFunction(t, "random")
	createService(t, ns, "random", "random", fn.url)

	// A valid Experiment first, so that the controller's baseline includes
	// its informers and one rendering of a good template.
	create(t, braninExperiment("baseline", ns, "random", 1, 1, 0, nil))
	waitFor(t, settle, func() (bool, string) {
		return len(listTrials(t, ns, "baseline")) == 1, "no trial yet"
	})
	base, err := fnproc.PeakRSS(c.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ name, raw, message string }{{
		// 2^30 bytes by doubling, printing only their length.
		name:    "doubling",
		raw:     `{{$x := "a"}}{{range 30}}{{$x = printf "%s%s" $x $x}}{{end}}{{len $x}}`,
		message: "printf would build a value of up to",
	}, {
		name:    "doubling-40",
		raw:     `{{$x := "a"}}{{range 40}}{{$x = printf "%s%s" $x $x}}{{end}}` + "\napiVersion: batch/v1\nkind: Job\n",
		message: "printf would build a value of up to",
	}, {
		// 10,000 numbers of a million digits each.
		name:    "wide",
		raw:     `{{range 100}}{{range 100}}{{$y := printf "%01000000d" 1}}{{end}}{{end}}`,
		message: "a trial template may build 4194304 bytes of values",
	}, {
		// 300,000 comparisons of two strings of half a megabyte.
		name:    "compare",
		raw:     `{{$x := printf "%0500000d" 1}}{{$y := printf "%0500000d" 1}}{{range 1000}}{{range 300}}{{if eq $x $y}}{{end}}{{end}}{{end}}`,
		message: "a trial template may compare 67108864 bytes of strings",
	}} {
		e := braninExperiment(tc.name, ns, "random", 1, 1, 0, nil)
		// The literal apiVersion and kind lines the admission policy
		// reads pass it: the bound on what a template builds is the
		// controller's own.
		e.Spec.TrialTemplate.GoTemplate.RawTemplate = tc.raw
		if !strings.Contains(tc.raw, "\nkind: Job") {
			e.Spec.TrialTemplate.GoTemplate.RawTemplate += "\napiVersion: batch/v1\nkind: Job\n"
		}
		create(t, e)
		waitFor(t, settle, func() (bool, string) {
			c := succeeded(getExperiment(t, ns, tc.name))
			return strings.HasPrefix(c, "False/"+v1alpha1.ExperimentReasonInvalidTrialTemplate) &&
				strings.Contains(c, "trialTemplate.goTemplate.rawTemplate: line 1: ") && strings.Contains(c, tc.message), c
		})
		if trials := listTrials(t, ns, tc.name); len(trials) != 0 {
			t.Errorf("%s: %d trials created from a hostile template", tc.name, len(trials))
		}
	}
	peak, err := fnproc.PeakRSS(c.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("controller peak RSS %d MiB before the hostile templates, %d MiB after", base>>20, peak>>20)
	if peak > controllerPeakRSS {
		t.Errorf("controller peak RSS %d MiB after the hostile templates (%d MiB before), want at most %d MiB", peak>>20, base>>20, controllerPeakRSS>>20)
	}
}
