package collector

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// The collector kinds, as Katib names them.
const (
	KindStdOut          = "StdOut"
	KindFile            = "File"
	KindTensorFlowEvent = "TensorFlowEvent"
)

// The kinds of path and file formats, as Katib names them.
const (
	PathKindFile      = "File"
	PathKindDirectory = "Directory"
	FormatText        = "TEXT"
	FormatJSON        = "JSON"
)

// Config is what the collector collects, and the command it runs.
type Config struct {
	// Kind is KindStdOut, KindFile or KindTensorFlowEvent.
	Kind string
	// Metrics are the metrics collected; none means all.
	Metrics []string
	// Formats are the metricsFormat regexes; none means DefaultFormat.
	Formats []string
	// Path is the file or directory read by KindFile and
	// KindTensorFlowEvent; PathKind says which.
	Path, PathKind string
	// FileFormat is FormatText or FormatJSON, for KindFile.
	FileFormat string
	// Poll is how often files are read while the command runs.
	Poll time.Duration
	// Command is the command and its arguments.
	Command []string
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

// ParseArgs parses the collector's flags and the command after them
// ("--" may separate the two). Usage errors are also written to out.
func ParseArgs(args []string, out io.Writer) (*Config, error) {
	c := &Config{}
	fs := flag.NewFlagSet("knobs-collector", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "usage: knobs-collector [flags] -- COMMAND [ARGS...]\n       knobs-collector copy DEST\nflags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&c.Kind, "kind", "", "where the metrics are: StdOut, File or TensorFlowEvent (required)")
	fs.Var((*stringList)(&c.Metrics), "metric", "a metric to collect (repeatable); none: all")
	fs.Var((*stringList)(&c.Formats), "format", "a regex with two groups, a metric's name and value (repeatable); default "+DefaultFormat)
	fs.StringVar(&c.Path, "path", "", "the file or directory File and TensorFlowEvent read")
	fs.StringVar(&c.PathKind, "path-kind", "", "File or Directory (default File; Directory for TensorFlowEvent)")
	fs.StringVar(&c.FileFormat, "file-format", FormatText, "TEXT or JSON: the format of File's lines")
	fs.DurationVar(&c.Poll, "poll", 250*time.Millisecond, "how often File and TensorFlowEvent read the files while the command runs")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	c.Command = fs.Args()
	if err := c.check(); err != nil {
		fmt.Fprintf(out, "knobs-collector: %v\n", err)
		return nil, err
	}
	return c, nil
}

// check validates c and fills in defaults.
func (c *Config) check() error {
	if len(c.Command) == 0 {
		return errors.New("no command: give it after the flags, as in knobs-collector -kind StdOut -- python train.py")
	}
	switch c.Kind {
	case KindStdOut:
	case KindFile, KindTensorFlowEvent:
		if c.Path == "" {
			return fmt.Errorf("-kind %s needs -path, the file or directory to read", c.Kind)
		}
	case "":
		return fmt.Errorf("-kind is required: %s, %s or %s", KindStdOut, KindFile, KindTensorFlowEvent)
	default:
		return fmt.Errorf("-kind is %q; want %s, %s or %s", c.Kind, KindStdOut, KindFile, KindTensorFlowEvent)
	}
	switch c.PathKind {
	case "":
		c.PathKind = PathKindFile
		if c.Kind == KindTensorFlowEvent {
			c.PathKind = PathKindDirectory
		}
	case PathKindFile, PathKindDirectory:
	default:
		return fmt.Errorf("-path-kind is %q; want %s or %s", c.PathKind, PathKindFile, PathKindDirectory)
	}
	switch strings.ToUpper(c.FileFormat) {
	case "", FormatText:
		c.FileFormat = FormatText
	case FormatJSON:
		c.FileFormat = FormatJSON
	default:
		return fmt.Errorf("-file-format is %q; want %s or %s", c.FileFormat, FormatText, FormatJSON)
	}
	if c.Poll <= 0 {
		return fmt.Errorf("-poll is %v; want a positive duration", c.Poll)
	}
	for _, m := range c.Metrics {
		if strings.TrimSpace(m) == "" {
			return errors.New("-metric is empty; give a metric's name")
		}
	}
	// The regexes are checked by compiling them.
	_, err := NewLineParser(c.Formats, NewFilter(c.Metrics))
	return err
}
