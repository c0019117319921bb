package benchmark

import (
	"context"
	"io"
	"os/exec"
	"strings"
	"testing"

	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Each parameter type is stated in Optuna's terms, and what Optuna cannot
// take is refused by name.
func TestOptunaSpace(t *testing.T) {
	got, err := optunaSpace(MixedNet())
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, typ string
		log       bool
		choices   int
	}{{"lr", "float", true, 0}, {"layers", "int", false, 0}, {"optimizer", "categorical", false, 3}, {"batch", "categorical", false, 5}}
	if len(got) != len(want) {
		t.Fatalf("%d parameters, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Name != w.name || got[i].Type != w.typ || got[i].Log != w.log || len(got[i].Choices) != w.choices {
			t.Errorf("parameter %d = %+v, want %+v", i, got[i], w)
		}
	}
	if got[0].Low != 1e-5 || got[0].High != 1 || got[1].Low != 1 || got[1].High != 8 {
		t.Errorf("bounds %+v %+v, want lr in [1e-5, 1] and layers in [1, 8]", got[0], got[1])
	}
	normal := Problem{Name: "n", Params: []*pb.ParameterSpec{{Name: "x", ParameterType: pb.ParameterType_DOUBLE,
		FeasibleSpace: &pb.FeasibleSpace{Min: "0", Max: "1", Distribution: pb.Distribution_NORMAL}}}}
	if _, err := optunaSpace(normal); err == nil || !strings.Contains(err.Error(), "parameter x") {
		t.Errorf("a normal prior: error %v, want one naming parameter x", err)
	}
}

// A driver that breaks the protocol ends the run with an error, and later
// runs fail at once rather than hang.
func TestOptunaProtocolErrors(t *testing.T) {
	driverIn, goOut := io.Pipe()
	goIn, driverOut := io.Pipe()
	go func() {
		// A driver that says it is ready, then sends a point without x2.
		_, _ = io.WriteString(driverOut, `{"ready": true, "optuna": "test"}`+"\n")
		buf := make([]byte, 4096)
		_, _ = driverIn.Read(buf)
		_, _ = io.WriteString(driverOut, `{"ask": [{"x1": "1"}]}`+"\n")
		_, _ = io.Copy(io.Discard, driverIn)
		driverOut.Close()
	}()
	o, err := newOptuna(&exec.Cmd{}, goOut, goIn)
	if err != nil {
		t.Fatal(err)
	}
	if o.Version != "test" {
		t.Errorf("version %q, want the driver's", o.Version)
	}
	_, err = o.Run(context.Background(), "tpe", Branin(), 1, Options{Evaluations: 5, Batch: 1})
	if err == nil || !strings.Contains(err.Error(), "without parameter x2") {
		t.Fatalf("error %v, want one naming the missing parameter x2", err)
	}
	if _, err := o.Run(context.Background(), "tpe", Branin(), 2, Options{Evaluations: 5, Batch: 1}); err == nil {
		t.Errorf("a second run on a broken driver succeeded")
	}
	_ = o.Close()
}

// The real driver runs each sampler with the problems evaluated here: one
// best loss per evaluation, never worse, the same for the same seed, and an
// unknown sampler refused by name without ending the driver. Skipped where
// no python3 imports optuna (make test does not install it).
func TestOptunaDriver(t *testing.T) {
	o := startDriver(t)
	ctx := context.Background()
	for _, s := range OptunaSamplers {
		run, err := o.Run(ctx, s, MixedNet(), 3, Options{Evaluations: 14, Batch: 4})
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		checkRun(t, s, run, 14)
	}
	if _, err := o.Run(ctx, "hyperopt", Branin(), 1, Options{Evaluations: 3, Batch: 1}); err == nil || !strings.Contains(err.Error(), "unknown sampler") {
		t.Errorf("an unknown sampler: error %v, want one saying so", err)
	}
	a, err := o.Run(ctx, "tpe", Branin(), 5, Options{Evaluations: 15, Batch: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := o.Run(ctx, "tpe", Branin(), 5, Options{Evaluations: 15, Batch: 1})
	if err != nil {
		t.Fatal(err)
	}
	if a.Best[14] != b.Best[14] {
		t.Errorf("seed 5 gave %v then %v", a.Best[14], b.Best[14])
	}
}

// A driver that is not there is named, with what to do.
func TestOptunaNoDriver(t *testing.T) {
	_, err := StartOptuna("python3", "no/such/driver.py")
	if err == nil || !strings.Contains(err.Error(), "no/such/driver.py") || !strings.Contains(err.Error(), "repository's root") {
		t.Errorf("error %v, want one naming the driver and what to do", err)
	}
}

// The driver runs the samplers of several objectives and of constraints:
// one score an evaluation, never worse; MOTPESampler, which takes no
// constraints, is refused them by name.
func TestOptunaDriverSeveralObjectives(t *testing.T) {
	o := startDriver(t)
	ctx := context.Background()
	for _, p := range []Problem{ZDT1(), SRN(), Gramacy()} {
		for _, c := range OptunaPeers(o, OptunaMultiObjectiveSamplers) {
			if c.Accepts != nil && c.Accepts(p) != nil {
				continue
			}
			run, err := c.Peer(ctx, p, 2, Options{Evaluations: 12, Batch: 1})
			if err != nil {
				t.Fatalf("%s on %s: %v", c.Name, p.Name, err)
			}
			checkRun(t, c.Name+" on "+p.Name, run, 12)
		}
	}
	if _, err := o.Run(ctx, "motpe", SRN(), 1, Options{Evaluations: 3, Batch: 1}); err == nil || !strings.Contains(err.Error(), "no constraints") {
		t.Errorf("motpe with constraints: error %v, want one saying it takes none", err)
	}
}

// startDriver starts the real driver, and skips the test where no python3
// imports optuna (make test does not install it).
func startDriver(t *testing.T) *Optuna {
	t.Helper()
	py, err := FindPython()
	if err != nil {
		t.Skip(err)
	}
	o, err := StartOptuna(py, "../../hack/optuna/driver.py")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

// checkRun fails the test unless the run has a score for each of n
// evaluations, never worse than the one before.
func checkRun(t *testing.T, name string, run Run, n int) {
	t.Helper()
	if len(run.Best) != n {
		t.Fatalf("%s: %d evaluations, want %d", name, len(run.Best), n)
	}
	for i := 1; i < len(run.Best); i++ {
		if run.Best[i] > run.Best[i-1] {
			t.Fatalf("%s: the score got worse at %d: %v", name, i, run.Best)
		}
	}
}
