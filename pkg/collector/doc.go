// Package collector is the metrics collector that makes an unmodified
// program a trial: it runs the trial's command, finds the metrics the
// command prints or writes, and reports them to the controller as the
// program would with package report, one report per step.
//
// The controller wraps a trial's primary container the way Tekton wraps a
// step, without a sidecar: an init container runs
//
//	knobs-collector copy /knobs/bin/knobs-collector
//
// to copy the static binary into an emptyDir, and the primary container's
// command becomes
//
//	/knobs/bin/knobs-collector -kind StdOut -metric loss -metric accuracy -- python train.py --lr 0.1
//
// The collector starts the command with the same environment and stdin,
// forwards SIGTERM and SIGINT to it, passes its stdout and stderr through
// byte for byte, and exits with its exit code (128+n when signal n killed
// it), after the reports are delivered or, when the receiver stays away,
// after one retry window of the Reporter (73 to 146 s).
//
// Where the metrics come from (Katib's collector kinds):
//
//   - StdOut: every line of the command's stdout and of its stderr (each
//     stream split into lines on its own), matched with the
//     metricsFormat regexes (Katib's default finds "loss=0.3"; a regex
//     has two groups, the name and the value, and every match on a line
//     counts). Lines longer than 1 MiB pass through but are not parsed.
//   - File: the lines this run appends to a file, or to every file under a
//     directory, with the same regexes (TEXT) or as one JSON object per
//     line (JSON: {"epoch": 3, "loss": 0.2}, numbers or numeric strings).
//     What a file held before the command started is not counted; a file
//     truncated, rewritten or replaced is read from its start.
//   - TensorFlowEvent: the scalar summaries in TensorFlow event files
//     (events.out.tfevents.*) under a directory, read natively: TFRecord
//     framing checked with CRC32C, the Event and Summary protobufs decoded
//     by hand. A metric "train/accuracy" also matches tag "accuracy" in a
//     file under a directory named train, as in Katib.
//
// Files are polled while the command runs and read to their end after it
// exits.
//
// Steps: the step of a line (or JSON object) is the value of its "step"
// metric, else of its "epoch" metric, when it carries one; otherwise it is
// the step under way, given by an earlier line (a program may print its
// epoch on a line of its own), or, before any, the count of lines that
// carried metrics so far (1, 2, ...). A TensorFlow
// event carries its own step. The metrics of one step, seen one after the
// other, are batched into one report; "step" and "epoch" are reported as
// metrics only when asked for by name. Reports are sent in order, one at a
// time.
package collector
