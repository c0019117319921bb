package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"knobs.dev/knobs/pkg/observation"
)

// TestMain runs the program itself when the test binary is started as the
// trial, so that exit codes can be checked.
func TestMain(m *testing.M) {
	if os.Getenv("KNOBS_TEST_RUN_TRIAL") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestBraninMinima(t *testing.T) {
	for _, x := range [][2]float64{{-math.Pi, 12.275}, {math.Pi, 2.275}, {9.42478, 2.475}} {
		if got := Branin(x[0], x[1]); math.Abs(got-BraninMin) > 1e-5 {
			t.Errorf("Branin(%v, %v) = %v, want %v", x[0], x[1], got, BraninMin)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		x1, x2 := -5+15*rng.Float64(), 15*rng.Float64()
		if got := Branin(x1, x2); got < BraninMin-1e-6 {
			t.Fatalf("Branin(%v, %v) = %v, below the minimum %v", x1, x2, got, BraninMin)
		}
	}
}

func TestCurrinAndDisc(t *testing.T) {
	for _, tc := range []struct{ x1, x2, want float64 }{
		{0, 0, 3},            // 60/20, the exponential's factor 1
		{1, 0, 6352.0 / 624}, // (2300+1900+2092+60)/(100+500+4+20)
		{0.5, 0.5, (1 - math.Exp(-1)) * 1868.5 / 159.5},
	} {
		if got := Currin(tc.x1, tc.x2); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("Currin(%v, %v) = %v, want %v", tc.x1, tc.x2, got, tc.want)
		}
	}
	if got := BraninDisc(2.5, 7.5); got != -50 {
		t.Errorf("BraninDisc at the centre = %v, want -50", got)
	}
	if got := BraninDisc(2.5+5, 7.5+5); got != 0 {
		t.Errorf("BraninDisc on the edge = %v, want 0", got)
	}
}

func TestHartmann6Minimum(t *testing.T) {
	best := [6]float64{0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573}
	if got := Hartmann6(best); math.Abs(got-Hartmann6Min) > 1e-4 {
		t.Errorf("Hartmann6(%v) = %v, want %v", best, got, Hartmann6Min)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		var x [6]float64
		for j := range x {
			x[j] = rng.Float64()
		}
		if got := Hartmann6(x); got < Hartmann6Min-1e-5 {
			t.Fatalf("Hartmann6(%v) = %v, below the minimum %v", x, got, Hartmann6Min)
		}
	}
}

func defaults() RidgeConfig {
	return RidgeConfig{LR: 0.01, L2: 1e-4, BatchSize: 32, Optimizer: Adam, Momentum: defaultMomentum, Epochs: 10, Features: 256, Seed: 1}
}

func train(t *testing.T, c RidgeConfig) []EpochResult {
	t.Helper()
	var out []EpochResult
	if err := TrainRidge(context.Background(), c, func(r EpochResult) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatalf("%+v: %v", c, err)
	}
	if len(out) != c.Epochs {
		t.Fatalf("%+v: %d epochs reported, want %d", c, len(out), c.Epochs)
	}
	return out
}

func TestTrainingImproves(t *testing.T) {
	for _, opt := range []string{SGD, Momentum, Adam} {
		t.Run(opt, func(t *testing.T) {
			c := defaults()
			c.Optimizer = opt
			if opt != Adam {
				c.LR = 0.3
			}
			rs := train(t, c)
			first, last := rs[0], rs[len(rs)-1]
			for i, r := range rs {
				if r.Epoch != i+1 {
					t.Errorf("result %d is of epoch %d", i, r.Epoch)
				}
			}
			// Predicting the mean scores a loss of 1 and an R² of 0.
			if !(last.Loss < first.Loss && last.Loss < 0.35 && last.R2 > 0.65) {
				t.Errorf("epoch 1: %+v, epoch %d: %+v; want the loss to fall below 0.35", first, c.Epochs, last)
			}
			if math.Abs(last.R2-(1-last.Loss)) > 0.05 {
				t.Errorf("R² %v does not match the loss %v of standardised targets", last.R2, last.Loss)
			}
		})
	}
}

func TestHyperparametersMatter(t *testing.T) {
	last := func(mod func(*RidgeConfig)) float64 {
		c := defaults()
		c.Epochs = 4
		mod(&c)
		rs := train(t, c)
		return rs[len(rs)-1].Loss
	}
	base := last(func(*RidgeConfig) {})
	for name, mod := range map[string]func(*RidgeConfig){
		"tiny learning rate":    func(c *RidgeConfig) { c.LR = 1e-4 },
		"strong weight decay":   func(c *RidgeConfig) { c.L2 = 0.1 },
		"sgd at adam's rate":    func(c *RidgeConfig) { c.Optimizer = SGD },
		"one epoch":             func(c *RidgeConfig) { c.Epochs = 1 },
		"whole-batch descent":   func(c *RidgeConfig) { c.BatchSize = trainPoints },
		"eight random features": func(c *RidgeConfig) { c.Features = 8 },
	} {
		if got := last(mod); got <= base {
			t.Errorf("%s: loss %v, want above the defaults' %v", name, got, base)
		}
	}
	c := defaults()
	c.Optimizer, c.LR = SGD, 10
	err := TrainRidge(context.Background(), c, func(EpochResult) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "lower --lr") {
		t.Errorf("sgd at learning rate 10: %v, want divergence", err)
	}
}

func TestTrainingIsDeterministic(t *testing.T) {
	c := defaults()
	a, b := train(t, c), train(t, c)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("epoch %d: %+v, then %+v", i+1, a[i], b[i])
		}
	}
	c.Seed = 2
	other := train(t, c)
	if other[len(other)-1] == a[len(a)-1] {
		t.Errorf("seeds 1 and 2 give the same result %+v", a[len(a)-1])
	}
}

// recorder is a reporter that keeps the reports, and fails from report
// failAt (counting from 1) when failAt > 0.
type recorder struct {
	steps   []*int64
	metrics []map[string]float64
	failAt  int
}

func (r *recorder) Report(_ context.Context, m map[string]float64, step *int64) error {
	r.steps = append(r.steps, step)
	r.metrics = append(r.metrics, m)
	if r.failAt > 0 && len(r.metrics) >= r.failAt {
		return errors.New("receiver unavailable")
	}
	return nil
}

func runWith(t *testing.T, rep reporter, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut, func() (reporter, error) {
		if rep == nil {
			return nil, nil
		}
		return rep, nil
	})
	return out.String(), err
}

func TestRunPrintsAndReports(t *testing.T) {
	rec := &recorder{}
	// Katib-style templates give --name=value; people type --name value.
	out, err := runWith(t, rec, "--lr=0.02", "--optimizer", "momentum", "--epochs=3", "--batch-size", "64")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || len(rec.metrics) != 3 {
		t.Fatalf("printed %q and reported %d times; want 3 epochs", out, len(rec.metrics))
	}
	for i, line := range lines {
		var epoch int
		var loss, r2 float64
		if _, err := fmt.Sscanf(line, "epoch=%d loss=%g r2=%g", &epoch, &loss, &r2); err != nil || epoch != i+1 {
			t.Errorf("line %q: %v", line, err)
		}
		if rec.steps[i] == nil || *rec.steps[i] != int64(i+1) {
			t.Errorf("report %d has step %v, want %d", i, rec.steps[i], i+1)
		}
		if m := rec.metrics[i]; len(m) != 2 || m["loss"] != loss || m["r2"] != r2 {
			t.Errorf("report %d: %v, printed %q", i, m, line)
		}
	}

	rec = &recorder{}
	out, err = runWith(t, rec, "--task=branin", "--x1=3.141592653589793", "--x2", "2.275")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "loss=0.3978") || len(rec.metrics) != 1 || rec.steps[0] != nil {
		t.Errorf("branin printed %q, reported %v at %v", out, rec.metrics, rec.steps)
	}

	rec = &recorder{}
	out, err = runWith(t, rec, "--task=branin", "--x1=3.141592653589793", "--x2=2.275", "--objectives=branin,currin", "--constraint=disc")
	if err != nil {
		t.Fatal(err)
	}
	var b, c, d float64
	if _, err := fmt.Sscanf(out, "branin=%g currin=%g disc=%g", &b, &c, &d); err != nil || len(rec.metrics) != 1 {
		t.Fatalf("branin-currin printed %q (%v), reported %v", out, err, rec.metrics)
	}
	if m := rec.metrics[0]; len(m) != 3 || m["branin"] != b || m["currin"] != c || m["disc"] != d {
		t.Errorf("branin-currin reported %v, printed %q", m, out)
	}
	if math.Abs(b-BraninMin) > 1e-5 || d > 0 {
		t.Errorf("branin-currin at Branin's minimum (π, 2.275): branin %v, disc %v; want %v and feasible", b, d, BraninMin)
	}
	// Branin's corner (-5, 15) is Currin's (0, 1): 60/20 (1 - e^-1/2).
	rec = &recorder{}
	if _, err := runWith(t, rec, "--task=branin", "--x1=-5", "--x2=15", "--objectives=currin"); err != nil || len(rec.metrics) != 1 {
		t.Fatalf("currin: %v, reported %v", err, rec.metrics)
	}
	if got, want := rec.metrics[0]["currin"], 3*(1-math.Exp(-0.5)); len(rec.metrics[0]) != 1 || math.Abs(got-want) > 1e-12 {
		t.Errorf("currin at (0, 1) reported %v, want currin=%v alone", rec.metrics[0], want)
	}

	out, err = runWith(t, nil, "--task=hartmann6", "--x1=0.20169", "--x2=0.150011", "--x3=0.476874", "--x4=0.275332", "--x5=0.311652", "--x6=0.6573")
	if err != nil || !strings.HasPrefix(out, "loss=-3.3223") {
		t.Errorf("hartmann6 printed %q, %v", out, err)
	}
}

func TestRunStopsWhenReportingFails(t *testing.T) {
	rec := &recorder{failAt: 2}
	out, err := runWith(t, rec, "--epochs=5")
	if err == nil || !strings.Contains(err.Error(), "receiver unavailable") || !strings.Contains(err.Error(), "epoch=2") {
		t.Errorf("error %v, want the failed report of epoch 2", err)
	}
	if len(rec.metrics) != 2 || strings.Count(out, "\n") != 2 {
		t.Errorf("%d reports, printed %q; want to stop after epoch 2", len(rec.metrics), out)
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--task=mnist"}, `--task="mnist": use branin, hartmann6 or ridge`},
		{[]string{"--learning-rate=0.1"}, "flag provided but not defined: -learning-rate"},
		{[]string{"--lr=fast"}, `invalid value "fast" for flag -lr`},
		{[]string{"--lr=0"}, "--lr=0: the learning rate must be above 0"},
		{[]string{"--l2=-1"}, "--l2=-1: the weight decay must be 0 or more"},
		{[]string{"--batch-size=0"}, "--batch-size=0: must be at least 1"},
		{[]string{"--epochs=0"}, "--epochs=0: must be at least 1"},
		{[]string{"--optimizer=ftrl"}, `--optimizer="ftrl": use sgd, momentum or adam`},
		{[]string{"--optimizer=adam", "--momentum=0.5"}, "--momentum=0.5: only --optimizer=momentum takes it, not --optimizer=adam"},
		{[]string{"--optimizer=momentum", "--momentum=1"}, "--momentum=1: must be at least 0 and below 1"},
		{[]string{"--lr", "0.1", "extra"}, `unexpected argument "extra"`},
		{[]string{"--task=branin", "--x1=1"}, "--task=branin needs --x2"},
		{[]string{"--task=branin", "--x1=1", "--x2=2", "--lr=0.1"}, "--lr: not a flag of --task=branin, which takes --x1, --x2"},
		{[]string{"--task=branin", "--x1=11", "--x2=2"}, "--x1=11 is outside the function's domain [-5, 10]"},
		{[]string{"--task=branin", "--x1=1", "--x2=2", "--objectives=branin,hartmann6"}, `"hartmann6" is not an objective; use branin, currin or both`},
		{[]string{"--task=branin", "--x1=1", "--x2=2", "--objectives=currin,currin"}, "currin is named twice"},
		{[]string{"--task=branin", "--x1=1", "--x2=2", "--constraint=cost"}, "--constraint=cost: use disc"},
		{[]string{"--task=hartmann6", "--x1=0", "--x2=0", "--x3=0", "--x4=0", "--x5=0", "--x6=0", "--objectives=branin"}, "--objectives: not a flag of --task=hartmann6"},
		{[]string{"--task=hartmann6", "--x1=0", "--x2=0", "--x3=0", "--x4=0", "--x5=0", "--x6=1.5"}, "--x6=1.5 is outside the function's domain [0, 1]"},
		{[]string{"--x1=0.5"}, "--x1: not a flag of --task=ridge"},
	} {
		rec := &recorder{}
		_, err := runWith(t, rec, tc.args...)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want a usage error saying %q", tc.args, err, tc.want)
		}
		if len(rec.metrics) > 0 {
			t.Errorf("%q: reported %v", tc.args, rec.metrics)
		}
	}
}

// sink is a stand-in for the controller's receiver.
type sink struct {
	mu     sync.Mutex
	status int
	got    []*http.Request
	bodies []string
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, r)
	s.bodies = append(s.bodies, string(body))
	if s.status != 0 {
		http.Error(w, "no such trial", s.status)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func TestReportsThroughTheObservationPackage(t *testing.T) {
	s := &sink{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	t.Setenv(observation.EnvSink, srv.URL)
	t.Setenv(observation.EnvTrialName, "ridge-1")
	t.Setenv(observation.EnvTrialNamespace, "default")
	t.Setenv(observation.EnvToken, "secret")

	var out bytes.Buffer
	if err := run(context.Background(), []string{"--epochs=2"}, &out, io.Discard, reporterFromEnv); err != nil {
		t.Fatal(err)
	}
	if len(s.got) != 2 || strings.Count(out.String(), "\n") != 2 {
		t.Fatalf("%d reports, printed %q; want 2 of each", len(s.got), out.String())
	}
	for i, r := range s.got {
		if r.Header.Get("Ce-Type") != observation.EventType || r.Header.Get("Ce-Subject") != "ridge-1" ||
			r.Header.Get("Ce-Step") != fmt.Sprint(i+1) || r.Header.Get(observation.TokenHeader) != "Bearer secret" ||
			!strings.Contains(s.bodies[i], `"loss"`) || !strings.Contains(s.bodies[i], `"r2"`) {
			t.Errorf("report %d: headers %v, body %s", i+1, r.Header, s.bodies[i])
		}
	}

	s.status = http.StatusForbidden
	err := run(context.Background(), []string{"--epochs=2"}, io.Discard, io.Discard, reporterFromEnv)
	if err == nil || !strings.Contains(err.Error(), "no such trial") {
		t.Errorf("refused report: error %v", err)
	}

	t.Setenv(observation.EnvToken, "")
	err = run(context.Background(), []string{"--epochs=2"}, io.Discard, io.Discard, reporterFromEnv)
	if err == nil || !strings.Contains(err.Error(), observation.EnvToken) {
		t.Errorf("no token: error %v, want one naming %s", err, observation.EnvToken)
	}
}

func TestExitCodes(t *testing.T) {
	s := &sink{status: http.StatusForbidden}
	srv := httptest.NewServer(s)
	defer srv.Close()
	for _, tc := range []struct {
		args   []string
		env    []string
		code   int
		stderr string
	}{
		{args: []string{"--epochs=1"}, code: 0},
		{args: []string{"--optimizer=ftrl"}, code: 2, stderr: `trial: --optimizer="ftrl": use sgd, momentum or adam`},
		{args: []string{"--epochs=1"}, env: []string{observation.EnvSink + "=" + srv.URL, observation.EnvTrialName + "=t",
			observation.EnvTrialNamespace + "=default", observation.EnvToken + "=x"}, code: 1, stderr: "no such trial"},
	} {
		cmd := exec.Command(os.Args[0], tc.args...)
		cmd.Env = append(os.Environ(), append(tc.env, "KNOBS_TEST_RUN_TRIAL=1")...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.stderr)
		}
	}
}

func BenchmarkRidgeEpoch(b *testing.B) {
	c := defaults()
	c.Epochs = b.N
	b.ResetTimer()
	if err := TrainRidge(context.Background(), c, func(EpochResult) error { return nil }); err != nil {
		b.Fatal(err)
	}
}
