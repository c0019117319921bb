// Package fnproc runs functions as processes for tests, as a node would run
// their containers: on a free loopback port given in $PORT, with their logs
// kept, ready once they answer GET /healthz. It also runs the cloudevents CLI
// against them.
package fnproc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Proc is a function running as a process.
type Proc struct {
	Name string
	// URL is http://127.0.0.1:PORT; Addr is 127.0.0.1:PORT, for gRPC.
	URL  string
	Addr string
	Cmd  *exec.Cmd
	// Logs holds what the process wrote to stderr.
	Logs *Buffer
	// Done receives the process's exit.
	Done chan error
}

// Buffer is a bytes.Buffer safe for a process to write while a test reads.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// FreePort returns a loopback port nothing listens on.
func FreePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// Start runs cmd with $PORT set to a free port and waits until it answers
// /healthz. The process is killed when the test ends, and its log shown if
// the test failed.
func Start(t testing.TB, name string, cmd *exec.Cmd) *Proc {
	t.Helper()
	port := FreePort(t)
	p := &Proc{
		Name: name, URL: "http://127.0.0.1:" + port, Addr: "127.0.0.1:" + port,
		Cmd: cmd, Logs: &Buffer{}, Done: make(chan error, 1),
	}
	p.Cmd.Env = append(os.Environ(), "PORT="+port)
	p.Cmd.Stderr = p.Logs
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.Done <- p.Cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.Cmd.Process.Kill()
		if t.Failed() {
			t.Logf("%s log:\n%s", name, p.Logs.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.Done:
			t.Fatalf("%s exited at start: %v\n%s", name, err, p.Logs.String())
		default:
		}
		if resp, err := http.Get(p.URL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not answer /healthz within 10s\n%s", name, p.Logs.String())
	return nil
}

// Alive fails the test if the process has exited or does not answer.
func (p *Proc) Alive(t testing.TB) {
	t.Helper()
	select {
	case err := <-p.Done:
		t.Fatalf("%s exited: %v", p.Name, err)
	default:
	}
	resp, err := http.Get(p.URL + "/healthz")
	if err != nil {
		t.Fatalf("%s does not answer: %v", p.Name, err)
	}
	resp.Body.Close()
}

// CLIPath is the cloudevents CLI: in $KNOBS_TOOLS_BIN, or in .bin/ at the
// repository's root, where hack/install-tools.sh puts it.
func CLIPath() (string, error) {
	tools := os.Getenv("KNOBS_TOOLS_BIN")
	if tools == "" {
		_, file, _, _ := runtime.Caller(0)
		tools = filepath.Join(filepath.Dir(file), "..", "..", ".bin")
	}
	bin := filepath.Join(tools, "cloudevents")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("the cloudevents CLI is missing (%v): run hack/install-tools.sh, or set KNOBS_TOOLS_BIN to the folder holding it", err)
	}
	return bin, nil
}

// CLI runs the cloudevents CLI's send command and returns its output and
// whether it succeeded, that is, whether the function replied 2xx.
func CLI(t testing.TB, args ...string) (string, bool) {
	t.Helper()
	bin, err := CLIPath()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append([]string{"send"}, args...)...).CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running the cloudevents CLI: %v", err)
	}
	return string(out), err == nil
}

// Logged reports whether the function logged, as a JSON line, the event of
// the given id answered with the given code.
func (p *Proc) Logged(id, code string) bool {
	sc := bufio.NewScanner(strings.NewReader(p.Logs.String()))
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, `"id":"`+id+`"`) && strings.Contains(line, `"code":"`+code+`"`) {
			return true
		}
	}
	return false
}

// Terminate sends SIGTERM, as a node stopping the pod would, and fails the
// test unless the function exits cleanly within 10 s, having logged that it
// shut down.
func (p *Proc) Terminate(t testing.TB) {
	t.Helper()
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.Done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10s after SIGTERM")
	}
	if !strings.Contains(p.Logs.String(), `"msg":"shutting down"`) {
		t.Errorf("no shutdown logged:\n%s", p.Logs.String())
	}
}

// WaitLogged fails the test unless the function logs the event of the given
// id as answered with code within 5 s: a function writes the line once the
// reply has gone, so it may come a moment after the caller has its answer.
func (p *Proc) WaitLogged(t testing.TB, id, code string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !p.Logged(id, code) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !p.Logged(id, code) {
		t.Errorf("no %s logged for event %s:\n%s", code, id, p.Logs.String())
	}
}
