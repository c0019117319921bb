//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/test/node"
)

// plugin is the kubectl-knobs binary, built for the test, and the links
// kn-knobs and kubectl_complete-knobs to it.
type plugin struct {
	dir string
}

func buildPlugin(t *testing.T) *plugin {
	t.Helper()
	dir := t.TempDir()
	if _, err := run(env.root, "go", "build", "-o", filepath.Join(dir, "kubectl-knobs"), "./cmd/kubectl-knobs"); err != nil {
		t.Fatal(err)
	}
	for _, link := range []string{"kn-knobs", "kubectl_complete-knobs"} {
		if err := os.Symlink("kubectl-knobs", filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	return &plugin{dir: dir}
}

// command is the plugin, as binary, against the control plane.
func (p *plugin) command(binary string, args ...string) *exec.Cmd {
	return exec.Command(filepath.Join(p.dir, binary), append([]string{"--kubeconfig", env.cp.Kubeconfig}, args...)...)
}

// run runs kubectl-knobs and returns its output; an exit other than 0 is
// an error holding its stderr.
func (p *plugin) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := p.command("kubectl-knobs", args...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("kubectl knobs %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out.String(), nil
}

func (p *plugin) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := p.run(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// underTerminal runs kubectl-knobs on a pseudo-terminal of the given width
// and returns all it drew, and how it exited.
func (p *plugin) underTerminal(t *testing.T, cols uint16, args ...string) (string, error) {
	t.Helper()
	cmd := p.command("kubectl-knobs", args...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: cols})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	copied := make(chan struct{})
	go func() {
		// Reading ends with EIO once the process has exited and its
		// output has been read.
		_, _ = io.Copy(&out, f)
		close(copied)
	}()
	err = cmd.Wait()
	select {
	case <-copied:
	case <-time.After(10 * time.Second):
		t.Fatal("the terminal's output did not end after the process exited")
	}
	return out.String(), err
}

var escape = regexp.MustCompile(`^\x1b\[(\d*)([A-Za-z])`)

// screen plays what a terminal does with the output of watch: carriage
// return, newline, erase line (ESC[2K) and cursor up (ESC[nA), and returns
// the lines on the screen at the end.
func screen(t *testing.T, s string) []string {
	t.Helper()
	lines := []string{""}
	row, col := 0, 0
	for len(s) > 0 {
		if m := escape.FindStringSubmatch(s); m != nil {
			n := 1
			if m[1] != "" {
				n, _ = strconv.Atoi(m[1])
			}
			switch m[2] {
			case "A":
				row = max(0, row-n)
			case "K":
				if m[1] == "2" {
					lines[row] = ""
				}
			default:
				t.Fatalf("unexpected escape sequence %q", m[0])
			}
			s = s[len(m[0]):]
			continue
		}
		switch c := s[0]; c {
		case '\r':
			col = 0
		case '\n':
			row++
			if row == len(lines) {
				lines = append(lines, "")
			}
		default:
			l := []byte(lines[row])
			for len(l) < col {
				l = append(l, ' ')
			}
			if col < len(l) {
				l[col] = c
			} else {
				l = append(l, c)
			}
			lines[row] = string(l)
			col++
		}
		s = s[1:]
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// The plugin against the real API server and controller: watch shown
// through a terminal to the Experiment's end, get, trials --sort, best,
// -o json, extend resuming the Experiment, stop ending one whose trials
// run on, and the same binary as kn-knobs.
func TestPlugin(t *testing.T) {
	p := buildPlugin(t)
	startController(t, "controller-cli")
	fn := startFunction(t, "random")
	ns := namespace(t)
	createService(t, ns, "random", "random", fn.url)
	startNode(t, ns, nil)
	create(t, braninExperiment("cli", ns, "random", 2, 4, 0, nil))

	drawn, err := p.underTerminal(t, 200, "-n", ns, "watch", "cli", "--timeout", "3m")
	if err != nil {
		t.Fatalf("watch exited with %v; it drew %q", err, drawn)
	}
	if !strings.Contains(drawn, "\x1b[1A") {
		t.Errorf("watch did not redraw in place: %q", drawn)
	}
	e := getExperiment(t, ns, "cli")
	b := e.Status.CurrentOptimalTrial
	if b == nil {
		t.Fatalf("no best trial: %s", succeeded(e))
	}
	loss := b.Observation.Metric("loss").Value
	got := screen(t, drawn)
	want := []string{
		"cli  [####################] 4/4  running 0  failed 0  Succeeded (MaxTrialsReached)",
		fmt.Sprintf("best loss=%s (%s)  %s", loss, b.BestTrialName, assignmentText(b.ParameterAssignments)),
		"experiment cli succeeded: MaxTrialsReached: 4 trials ran, maxTrialCount being 4",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the terminal shows, at the end:\n%s\nwant:\n%s\n(drawn: %q)", strings.Join(got, "\n"), strings.Join(want, "\n"), drawn)
	}

	out := p.mustRun(t, "-n", ns, "get")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "NAME   ALGORITHM   PROGRESS") ||
		!regexp.MustCompile(`^cli +random +\[#{20}\] 4/4 +0 +0 +loss=`+regexp.QuoteMeta(loss)+` +Succeeded +MaxTrialsReached +\S+$`).MatchString(lines[1]) {
		t.Errorf("get:\n%s", out)
	}
	var fromJSON v1alpha1.Experiment
	if err := json.Unmarshal([]byte(p.mustRun(t, "-n", ns, "get", "cli", "-o", "json")), &fromJSON); err != nil ||
		fromJSON.Kind != "Experiment" || fromJSON.Status.TrialsSucceeded != 4 || fromJSON.UID != e.UID {
		t.Errorf("get cli -o json: %v, %+v", err, fromJSON.Status)
	}

	var trials struct{ Items []v1alpha1.Trial }
	if err := json.Unmarshal([]byte(p.mustRun(t, "-n", ns, "trials", "cli", "--sort", "-o", "json")), &trials); err != nil || len(trials.Items) != 4 {
		t.Fatalf("trials --sort -o json: %v, %d trials", err, len(trials.Items))
	}
	var last float64
	for i, tr := range trials.Items {
		v, err := strconv.ParseFloat(tr.Status.Observation.Metric("loss").Value, 64)
		if err != nil || i > 0 && v < last {
			t.Errorf("trials --sort: %s has loss %v after %v; want the smallest first", tr.Name, v, last)
		}
		last = v
	}
	if trials.Items[0].Name != b.BestTrialName {
		t.Errorf("trials --sort lists %s first, the best being %s", trials.Items[0].Name, b.BestTrialName)
	}
	out = p.mustRun(t, "-n", ns, "trials", "cli", "--sort")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 5 || !strings.HasPrefix(lines[0], "NAME") ||
		!strings.Contains(lines[0], "LOSS") || !strings.Contains(lines[0], "--X1") || !strings.HasPrefix(lines[1], b.BestTrialName+" * ") {
		t.Errorf("trials --sort:\n%s", out)
	}

	flags := p.mustRun(t, "-n", ns, "best", "cli")
	if want := assignmentText(b.ParameterAssignments) + "\n"; flags != want {
		t.Errorf("best: %q, want %q", flags, want)
	}
	if env := p.mustRun(t, "-n", ns, "best", "cli", "--as", "env"); !strings.HasPrefix(env, "X1="+b.ParameterAssignments[0].Value+"\nX2=") {
		t.Errorf("best --as env: %q", env)
	}

	if _, err := p.run(t, "-n", ns, "extend", "cli", "--max-trials", "4"); err == nil || !strings.Contains(err.Error(), "exit status 1") ||
		!strings.Contains(err.Error(), "error: experiment cli already has maxTrialCount 4: --max-trials must be more than that") {
		t.Errorf("extend to the same count: %v", err)
	}
	if out := p.mustRun(t, "-n", ns, "extend", "cli", "--max-trials", "6"); out != "experiment cli extended: maxTrialCount 4 -> 6\n" {
		t.Errorf("extend: %q", out)
	}
	out = p.mustRun(t, "-n", ns, "watch", "cli", "--timeout", "3m")
	if !strings.HasSuffix(out, "experiment cli succeeded: MaxTrialsReached: 6 trials ran, maxTrialCount being 6\n") || strings.Contains(out, "\x1b") {
		t.Errorf("watch, not on a terminal, after extend:\n%s", out)
	}
	e = getExperiment(t, ns, "cli")
	if *e.Spec.MaxTrialCount != 6 || e.Status.TrialsSucceeded != 6 {
		t.Errorf("after extend: maxTrialCount %d, %d succeeded; want 6 and 6", *e.Spec.MaxTrialCount, e.Status.TrialsSucceeded)
	}
	checkExperiment(t, e)

	cmd := p.command("kn-knobs", "get", "--help")
	help, err := cmd.Output()
	if err != nil || !strings.Contains(string(help), "kn knobs get [NAME] [flags]") || strings.Contains(string(help), "kubectl") {
		t.Errorf("kn-knobs get --help: %v\n%s", err, help)
	}

	// kubectl completes "kubectl knobs watch c" by running
	// kubectl_complete-knobs watch c.
	cmd = p.command("kubectl_complete-knobs", "-n", ns, "watch", "c")
	completions, err := cmd.Output()
	if err != nil || !strings.HasPrefix(string(completions), "cli\n:4\n") {
		t.Errorf("kubectl_complete-knobs watch c: %v\n%s", err, completions)
	}

	if url := p.mustRun(t, "-n", ns, "open", "cli", "--url", "http://127.0.0.1:8090"); url != "http://127.0.0.1:8090/experiments/"+ns+"/cli\n" {
		t.Errorf("open --url: %q", url)
	}
	if _, err := env.serving.ServingV1().Services(tuning.SystemNamespace).Get(context.Background(), "knobs-dashboard", metav1.GetOptions{}); err != nil {
		if _, err := p.run(t, "-n", ns, "open", "cli"); err == nil || !strings.Contains(err.Error(), "the dashboard is not installed") {
			t.Errorf("open without a dashboard: %v", err)
		}
	}
}

// stop ends an Experiment whose trials run on: maxTrialCount lowered to
// the assignments handed out, its running trials stopped and Killed, the
// Experiment ended MaxTrialsReached; extend resumes it.
func TestPluginStop(t *testing.T) {
	p := buildPlugin(t)
	startController(t, "controller-cli-stop")
	fn := startFunction(t, "random")
	ns := namespace(t)
	createService(t, ns, "random", "random", fn.url)
	n := startNode(t, ns, func(*batchv1.Job) node.Outcome { return node.Hold })
	create(t, braninExperiment("held", ns, "random", 2, 10, 0, nil))
	waitFor(t, time.Minute, func() (bool, string) {
		e := getExperiment(t, ns, "held")
		return e.Status.TrialsRunning == 2, fmt.Sprintf("%d running", e.Status.TrialsRunning)
	})

	out, err := p.run(t, "-n", ns, "stop", "held", "--timeout", "2m")
	if err != nil || out != "experiment held: maxTrialCount 10 -> 2, the assignments handed out\nexperiment held stopped: MaxTrialsReached, 2 trials stopped, best <none>\n" {
		t.Fatalf("stop: %v\n%s", err, out)
	}
	e := waitEnded(t, ns, "held", settle)
	if c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); c.Reason != v1alpha1.ExperimentReasonMaxTrialsReached ||
		*e.Spec.MaxTrialCount != 2 || e.Status.TrialsKilled != 2 || e.Status.Trials != 2 {
		t.Errorf("after stop: %s, maxTrialCount %d, %d trials, %d killed; want MaxTrialsReached, 2, 2, 2",
			succeeded(e), *e.Spec.MaxTrialCount, e.Status.Trials, e.Status.TrialsKilled)
	}
	checkExperiment(t, e)
	if out := p.mustRun(t, "-n", ns, "stop", "held"); out != "experiment held has already ended (MaxTrialsReached)\n" {
		t.Errorf("stop again: %q", out)
	}

	// Extended, it resumes, and its new trials run (held) until stopped
	// again.
	p.mustRun(t, "-n", ns, "extend", "held", "--max-trials", "4")
	waitFor(t, time.Minute, func() (bool, string) {
		e := getExperiment(t, ns, "held")
		return e.Status.TrialsRunning == 2 && e.Status.Trials == 4, fmt.Sprintf("%d trials, %d running: %s", e.Status.Trials, e.Status.TrialsRunning, succeeded(e))
	})
	if _, err := p.run(t, "-n", ns, "stop", "held", "--timeout", "2m"); err != nil {
		t.Fatal(err)
	}
	e = waitEnded(t, ns, "held", settle)
	if e.Status.TrialsKilled != 4 || n.Started() != 4 {
		t.Errorf("after the second stop: %d killed, %d jobs started; want 4 and 4", e.Status.TrialsKilled, n.Started())
	}

	var exit *exec.ExitError
	if _, err := p.run(t, "-n", ns, "watch", "nope"); !errors.As(err, &exit) || !strings.Contains(err.Error(), `error: experiments.tuning.knobs.dev "nope" not found`) {
		t.Errorf("watch of no Experiment: %v", err)
	}
}

// assignmentText is the assignment as best prints it by default, the
// parameters being named as flags.
func assignmentText(as []v1alpha1.ParameterAssignment) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.Name + "=" + a.Value
	}
	return strings.Join(parts, " ")
}
