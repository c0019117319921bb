package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Streams are the collector's standard files, which the command inherits.
type Streams struct {
	In, Out, Err *os.File
}

// pipeGrace is how long the command's output is still read after it
// exits, when something it started holds the pipe open.
const pipeGrace = 2 * time.Second

// Run runs the command of c with the collector's environment and stdin,
// collects its metrics and sends them with report, and returns the exit
// code to exit with: the command's own, 128+n when signal n ended it, 127
// when it is not found and 126 when it cannot be run. SIGTERM and SIGINT
// are passed on to the command. With report nil, it only runs the
// command. It returns once the reports are delivered or given up (see
// Sender).
func Run(ctx context.Context, c *Config, report ReportFunc, std Streams) int {
	logf := func(format string, args ...any) {
		fmt.Fprintf(std.Err, "knobs-collector: "+format+"\n", args...)
	}
	cmd := exec.Command(c.Command[0], c.Command[1:]...)
	cmd.Env = os.Environ()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = std.In, std.Out, std.Err
	if cmd.Err != nil {
		return notStarted(cmd.Err, c.Command[0], logf)
	}

	// Signals are caught before the command starts, so none is lost.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)

	var (
		sender  *Sender
		batcher *Batcher
		sent    = make(chan struct{})
		pumps   sync.WaitGroup
		pipes   []*os.File
		tailer  *Tailer
	)
	if report != nil {
		sender = NewSender(report, logf)
		batcher = NewBatcher(sender.Push)
		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() { defer close(sent); sender.Run(sctx) }()

		filter := NewFilter(c.Metrics)
		parser, err := NewLineParser(c.Formats, filter)
		if err != nil {
			logf("%v", err)
			return 2
		}
		switch c.Kind {
		case KindStdOut:
			var err error
			pipes, err = pipeOutput(cmd, parser, filter, batcher, &pumps)
			if err != nil {
				logf("cannot read the command's output, so metrics are not collected: %v", err)
			}
		case KindFile, KindTensorFlowEvent:
			tailer = newFileTailer(c, parser, filter)
		}
	}

	if err := cmd.Start(); err != nil {
		for _, p := range pipes {
			p.Close()
		}
		return notStarted(err, c.Command[0], logf)
	}
	// The command holds the pipes' write ends now.
	for _, f := range []any{cmd.Stdout, cmd.Stderr} {
		if p, ok := f.(*os.File); ok && p != std.Out && p != std.Err {
			p.Close()
		}
	}

	exited := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s)
			case <-exited:
				return
			}
		}
	}()
	tailed := make(chan struct{})
	if tailer != nil {
		go func() {
			defer close(tailed)
			tick := time.NewTicker(c.Poll)
			defer tick.Stop()
			for {
				select {
				case <-tick.C:
					tailer.Poll(false, batcher.Add)
				case <-exited:
					return
				}
			}
		}()
	} else {
		close(tailed)
	}

	err := cmd.Wait()
	close(exited)
	code := exitCode(cmd.ProcessState, err, logf)

	if report == nil {
		return code
	}
	if len(pipes) > 0 {
		done := make(chan struct{})
		go func() { pumps.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(pipeGrace):
			// A process the command started holds the pipes open.
			for _, p := range pipes {
				_ = p.SetReadDeadline(time.Now())
			}
			<-done
		}
	}
	<-tailed
	if tailer != nil {
		tailer.Poll(true, batcher.Add)
	}
	batcher.Flush()
	sender.Close()
	<-sent
	return code
}

// pipeOutput gives the command pipes for stdout and stderr whose bytes
// are passed on unchanged and whose lines are parsed, each stream on its
// own. It returns the read ends.
func pipeOutput(cmd *exec.Cmd, parser *LineParser, filter Filter, b *Batcher, pumps *sync.WaitGroup) ([]*os.File, error) {
	var reads []*os.File
	for _, w := range []*io.Writer{&cmd.Stdout, &cmd.Stderr} {
		out := (*w).(*os.File)
		pr, pw, err := os.Pipe()
		if err != nil {
			for _, r := range reads {
				r.Close()
			}
			return nil, err
		}
		reads = append(reads, pr)
		*w = pw
		pumps.Add(1)
		go func() {
			defer pumps.Done()
			defer pr.Close()
			pump(pr, out, newTextReader(parser.Parse, filter, b.Add))
		}()
	}
	return reads, nil
}

// pump copies r to w and hands the bytes to p, until r ends. A write to w
// that fails does not stop the reading, so the command never blocks on
// its output.
func pump(r io.Reader, w io.Writer, p fileReader) {
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			_, _ = w.Write(buf[:n])
			p.Write(buf[:n])
		}
		if err != nil {
			break
		}
	}
	p.End()
}

// newFileTailer returns the Tailer of c's path, noting what it holds now.
func newFileTailer(c *Config, parser *LineParser, filter Filter) *Tailer {
	root := filepath.Clean(c.Path)
	dir := c.PathKind == PathKindDirectory
	var match func(string) bool
	if c.Kind == KindTensorFlowEvent {
		match = func(p string) bool { return strings.Contains(filepath.Base(p), "tfevents") }
	}
	open := func(path string, emit func(Sample)) fileReader {
		if c.Kind == KindTensorFlowEvent {
			r := &tfReader{filter: filter, emit: emit}
			if rel, err := filepath.Rel(root, filepath.Dir(path)); err == nil && rel != "." && dir {
				r.dir = filepath.Base(rel)
			}
			return r
		}
		parse := parser.Parse
		if c.FileFormat == FormatJSON {
			parse = func(line []byte, dst []Metric) []Metric { return ParseJSONLine(line, filter, dst) }
		}
		return newTextReader(parse, filter, emit)
	}
	return NewTailer(root, dir, match, open)
}

// notStarted logs why the command did not start and returns the shell's
// exit code for it.
func notStarted(err error, name string, logf func(string, ...any)) int {
	logf("cannot run %s: %v", name, err)
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return 127
	}
	return 126
}

// exitCode returns the code to exit with for the command's end.
func exitCode(ps *os.ProcessState, err error, logf func(string, ...any)) int {
	if ps == nil {
		logf("waiting for the command: %v", err)
		return 1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
