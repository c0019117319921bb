package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The tests run the collector as a process, built from this package, and
// the test binary itself as the command it wraps (KC_CHILD says what to
// do).

var collectorBin string

func TestMain(m *testing.M) {
	if mode := os.Getenv("KC_CHILD"); mode != "" {
		child(mode)
		return
	}
	dir, err := os.MkdirTemp("", "knobs-collector-test")
	if err != nil {
		panic(err)
	}
	collectorBin = filepath.Join(dir, "knobs-collector")
	build := exec.Command("go", "build", "-o", collectorBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the collector: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// passBytes are written by the "print" child: every byte value, lines
// ending in "\r\n" and none, and a line longer than 1 MiB.
func passBytes(stream string) []byte {
	var b bytes.Buffer
	for i := range 256 {
		b.WriteByte(byte(i))
	}
	b.WriteString("\r\n" + stream + " loss=0.5\r\n")
	b.WriteString(strings.Repeat("z", 3<<20/2) + " loss=9\n")
	b.WriteString("no newline at the end accuracy=0.25")
	return b.Bytes()
}

func child(mode string) {
	arg := os.Getenv("KC_ARG")
	switch mode {
	case "exit":
		n, _ := strconv.Atoi(arg)
		os.Exit(n)
	case "kill-self":
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Minute)
	case "print":
		os.Stdout.Write(passBytes("out"))
		os.Stderr.Write(passBytes("err"))
	case "stdin":
		io.Copy(os.Stdout, os.Stdin)
	case "metrics":
		n, _ := strconv.Atoi(arg)
		w := bufio.NewWriter(os.Stdout)
		for i := 1; i <= n; i++ {
			fmt.Fprintf(w, "epoch=%d loss=%.4f accuracy=%.4f lr=0.01\n", i, 1/float64(i), 1-1/float64(i+1))
		}
		w.Flush()
	case "steps":
		fmt.Println("starting, no metrics here")
		fmt.Println("epoch=1 loss=0.9")
		fmt.Fprintln(os.Stderr, "epoch=1 accuracy=0.3")
		time.Sleep(100 * time.Millisecond)
		fmt.Println("epoch=2 loss=0.5 accuracy=0.6 other=7")
		fmt.Println("loss=0.4")
	case "trap":
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
		fmt.Println("ready")
		s := <-c
		fmt.Println("got", s)
		os.Exit(42)
	case "wait":
		fmt.Println("ready")
		time.Sleep(time.Minute)
	case "file":
		f, _ := os.OpenFile(arg, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
		fmt.Fprintln(f, "epoch=3 loss=0.3")
		f.Sync()
		time.Sleep(400 * time.Millisecond)
		fmt.Fprintln(f, "epoch=4 loss=0.2")
		fmt.Fprint(f, `{"epoch": 5, "loss": 0.1}`)
		f.Close()
	}
}

// received is one report the recording receiver got.
type received struct {
	Step    string
	Metrics map[string]float64
}

// receiver records the CloudEvents it is sent, as the controller's
// receiver would accept them.
type receiver struct {
	mu     sync.Mutex
	got    []received
	header http.Header
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m map[string]float64
	if r.Header.Get("Ce-Type") != "dev.knobs.trial.observation" || r.Header.Get("Authorization") != "Bearer tok" ||
		r.Header.Get("Ce-Subject") != "t1" || json.NewDecoder(r.Body).Decode(&m) != nil {
		http.Error(w, "not an observation", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.got = append(rc.got, received{Step: r.Header.Get("Ce-Step"), Metrics: m})
	rc.header = r.Header.Clone()
	rc.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func (rc *receiver) reports() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// serve serves rc on l until the test ends.
func serve(t *testing.T, l net.Listener, rc *receiver) {
	srv := &http.Server{Handler: rc}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}

// startReceiver returns a receiver on loopback and its sink URL.
func startReceiver(t *testing.T) (*receiver, string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rc := &receiver{}
	serve(t, l, rc)
	return rc, "http://" + l.Addr().String() + "/namespaces/team-a"
}

// collector returns the command that runs the collector with args and
// then this test binary as the child in mode.
func runCollector(sink, mode, arg string, args ...string) *exec.Cmd {
	self, _ := os.Executable()
	cmd := exec.Command(collectorBin, append(args, "--", self)...)
	cmd.Env = append(os.Environ(), "KC_CHILD="+mode, "KC_ARG="+arg,
		"KNOBS_TRIAL_NAME=t1", "KNOBS_TRIAL_NAMESPACE=team-a", "KNOBS_TRIAL_TOKEN=tok")
	if sink != "" {
		cmd.Env = append(cmd.Env, "K_SINK="+sink)
	}
	return cmd
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("running the collector: %v", err)
	}
	return ee.ExitCode()
}

func TestExitCodes(t *testing.T) {
	_, sink := startReceiver(t)
	for _, s := range []string{"", sink} {
		for _, tc := range []struct {
			mode, arg string
			want      int
		}{{"exit", "0", 0}, {"exit", "3", 3}, {"exit", "255", 255}, {"kill-self", "", 128 + 9}} {
			var stderr bytes.Buffer
			cmd := runCollector(s, tc.mode, tc.arg, "-kind", "StdOut")
			cmd.Stderr = &stderr
			if got := exitCode(t, cmd.Run()); got != tc.want {
				t.Errorf("sink %q, child %s %s: exit code %d, want %d; stderr: %s", s, tc.mode, tc.arg, got, tc.want, stderr.String())
			}
			if s == "" && !strings.Contains(stderr.String(), "K_SINK is not set, so metrics are not reported") {
				t.Errorf("without K_SINK: stderr %q does not say metrics are not reported", stderr.String())
			}
		}
	}
	cmd := exec.Command(collectorBin, "-kind", "StdOut", "--", "no-such-command-anywhere")
	if got := exitCode(t, cmd.Run()); got != 127 {
		t.Errorf("a command not found: exit code %d, want 127", got)
	}
	cmd = exec.Command(collectorBin, "-kind", "Nonsense", "--", "true")
	if got := exitCode(t, cmd.Run()); got != 2 {
		t.Errorf("a bad flag: exit code %d, want 2", got)
	}
}

func TestPassesOutputThrough(t *testing.T) {
	rc, sink := startReceiver(t)
	for _, kind := range []string{"StdOut", "File"} {
		var stdout, stderr bytes.Buffer
		cmd := runCollector(sink, "print", "", "-kind", kind, "-path", filepath.Join(t.TempDir(), "none"))
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("-kind %s: %v; stderr: %.300s", kind, err, stderr.String())
		}
		if !bytes.Equal(stdout.Bytes(), passBytes("out")) {
			t.Errorf("-kind %s: stdout differs from the command's (%d bytes, want %d)", kind, stdout.Len(), len(passBytes("out")))
		}
		if !bytes.Equal(stderr.Bytes(), passBytes("err")) {
			t.Errorf("-kind %s: stderr differs from the command's (%d bytes, want %d): %.200q", kind, stderr.Len(), len(passBytes("err")), stderr.String())
		}
	}
	// StdOut parses the lines of each stream: "loss=0.5" and the last,
	// without a newline, "accuracy=0.25"; not the line over 1 MiB. The
	// streams are read side by side, so only the count is certain.
	got := rc.reports()
	var loss, accuracy int
	for _, r := range got {
		loss += boolInt(r.Metrics["loss"] == 0.5)
		accuracy += boolInt(r.Metrics["accuracy"] == 0.25)
		if r.Metrics["loss"] == 9 {
			t.Errorf("the line over 1 MiB was parsed: %v", r)
		}
	}
	if len(got) != 4 || loss != 2 || accuracy != 2 {
		t.Errorf("reports %v; want loss=0.5 and accuracy=0.25 from each stream", got)
	}

	var stdout bytes.Buffer
	cmd := runCollector(sink, "stdin", "", "-kind", "StdOut")
	cmd.Stdin, cmd.Stdout = strings.NewReader("from stdin\x00\xff"), &stdout
	if err := cmd.Run(); err != nil || stdout.String() != "from stdin\x00\xff" {
		t.Errorf("stdin: %q, %v", stdout.String(), err)
	}
}

func TestForwardsSignals(t *testing.T) {
	_, sink := startReceiver(t)
	for _, tc := range []struct {
		mode string
		sig  syscall.Signal
		want int
	}{{"trap", syscall.SIGTERM, 42}, {"trap", syscall.SIGINT, 42}, {"wait", syscall.SIGTERM, 128 + 15}} {
		cmd := runCollector(sink, tc.mode, "", "-kind", "StdOut")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(out)
		if l, err := r.ReadString('\n'); l != "ready\n" {
			t.Fatalf("%s: child said %q, %v", tc.mode, l, err)
		}
		cmd.Process.Signal(tc.sig)
		rest, _ := io.ReadAll(r)
		code := exitCode(t, cmd.Wait())
		if code != tc.want {
			t.Errorf("%s, %v: exit code %d, want %d", tc.mode, tc.sig, code, tc.want)
		}
		if tc.mode == "trap" && !strings.Contains(string(rest), "got "+tc.sig.String()) {
			t.Errorf("%s: the child did not get %v: %q", tc.mode, tc.sig, rest)
		}
	}
}

func TestReportsSteps(t *testing.T) {
	rc, sink := startReceiver(t)
	cmd := runCollector(sink, "steps", "", "-kind", "StdOut", "-metric", "loss", "-metric", "accuracy")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatal(err, stderr.String())
	}
	want := []received{
		{"1", map[string]float64{"loss": 0.9, "accuracy": 0.3}},
		// The last line gives no step: it belongs to epoch 2, and its loss
		// is the later value.
		{"2", map[string]float64{"loss": 0.4, "accuracy": 0.6}},
	}
	if d := cmp.Diff(want, rc.reports()); d != "" {
		t.Errorf("reports (-want, +got):\n%s", d)
	}
	if h := rc.header; h.Get("Ce-Source") != "knobs.dev/trial/team-a/t1" || h.Get("Ce-Id") == "" {
		t.Errorf("headers %v", h)
	}
}

// The receiver is down when the command starts and comes back later: the
// reports are retried, delivered in order, and the collector waits for
// them before it exits.
func TestReceiverDownAtFirst(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	const n = 50
	cmd := runCollector("http://"+addr+"/namespaces/team-a", "metrics", strconv.Itoa(n), "-kind", "StdOut", "-metric", "loss")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	rc := &receiver{}
	if l, err = net.Listen("tcp", addr); err != nil {
		t.Fatal(err)
	}
	serve(t, l, rc)
	if err := cmd.Wait(); err != nil {
		t.Fatal(err, stderr.String())
	}
	got := rc.reports()
	if len(got) != n {
		t.Fatalf("%d reports delivered, want %d; stderr: %s", len(got), n, stderr.String())
	}
	for i, r := range got {
		if r.Step != strconv.Itoa(i+1) || len(r.Metrics) != 1 {
			t.Errorf("report %d: %v", i, r)
		}
	}
	t.Logf("delivered %d reports %v after the start, the receiver up after 1.5 s", n, time.Since(start).Round(time.Millisecond))
}

// File mode reads what the run writes, not what the file held.
func TestFileIgnoresWhatWasThere(t *testing.T) {
	rc, sink := startReceiver(t)
	path := filepath.Join(t.TempDir(), "logs", "metrics.log")
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.WriteFile(path, []byte("epoch=1 loss=0.9\nepoch=2 loss=0.8\n"), 0o644)
	cmd := runCollector(sink, "file", path, "-kind", "File", "-path", path, "-metric", "loss", "-poll", "50ms")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatal(err, string(out))
	}
	want := []received{
		{"3", map[string]float64{"loss": 0.3}},
		{"4", map[string]float64{"loss": 0.2}},
	}
	if d := cmp.Diff(want, rc.reports()); d != "" {
		t.Errorf("reports (-want, +got):\n%s", d)
	}
}

func TestCopy(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "knobs", "bin", "knobs-collector")
	if out, err := exec.Command(collectorBin, "copy", dest).CombinedOutput(); err != nil {
		t.Fatal(err, string(out))
	}
	fi, err := os.Stat(dest)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("mode %v, want 0755", fi.Mode())
	}
	a, _ := os.ReadFile(collectorBin)
	b, _ := os.ReadFile(dest)
	if !bytes.Equal(a, b) {
		t.Error("the copy differs from the collector")
	}
	entries, _ := os.ReadDir(filepath.Dir(dest))
	if len(entries) != 1 {
		t.Errorf("the directory holds %d files, want the copy alone", len(entries))
	}
	if got := exitCode(t, exec.Command(dest, "-kind", "StdOut", "--", "sh", "-c", "exit 7").Run()); got != 7 {
		t.Errorf("the copy ran sh -c 'exit 7' with exit code %d", got)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
