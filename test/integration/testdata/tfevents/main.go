// Command tfevents is a trial that writes its metrics as TensorFlow does,
// into event files, for the TensorFlowEvent collector to read: the Branin
// function at --x1 --x2, approached over --steps steps (the loss at step s
// is benchmark.BraninAt(x1, x2) + 1/s), each step one scalar summary "loss" in
// <--logdir>/events.out.tfevents.<time>.<host>.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"knobs.dev/knobs/pkg/benchmark"
)

func main() {
	logdir := flag.String("logdir", "", "the folder of the event files")
	x1 := flag.Float64("x1", 0, "x1 in [-5, 10]")
	x2 := flag.Float64("x2", 0, "x2 in [0, 15]")
	steps := flag.Int("steps", 3, "steps")
	flag.Parse()
	if err := run(*logdir, *x1, *x2, *steps); err != nil {
		fmt.Fprintln(os.Stderr, "tfevents:", err)
		os.Exit(1)
	}
}

func run(logdir string, x1, x2 float64, steps int) error {
	if err := os.MkdirAll(logdir, 0o755); err != nil {
		return err
	}
	host, _ := os.Hostname()
	f, err := os.Create(filepath.Join(logdir, fmt.Sprintf("events.out.tfevents.%d.%s", time.Now().Unix(), host)))
	if err != nil {
		return err
	}
	defer f.Close()
	version := protowire.AppendTag(nil, 1, protowire.Fixed64Type)
	version = protowire.AppendFixed64(version, math.Float64bits(float64(time.Now().UnixNano())/1e9))
	version = protowire.AppendTag(version, 3, protowire.BytesType)
	version = protowire.AppendString(version, "brain.Event:2")
	if err := writeRecord(f, version); err != nil {
		return err
	}
	b := benchmark.BraninAt(x1, x2)
	for s := 1; s <= steps; s++ {
		loss := b + 1/float64(s)
		fmt.Printf("step %d: loss %g\n", s, loss)
		if err := writeRecord(f, scalarEvent(int64(s), "loss", float32(loss))); err != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return f.Sync()
}

// scalarEvent is an Event protobuf (wall_time 1, step 2, summary 5) holding
// one Summary.Value (tag 1, simple_value 2).
func scalarEvent(step int64, tag string, v float32) []byte {
	var value []byte
	value = protowire.AppendTag(value, 1, protowire.BytesType)
	value = protowire.AppendString(value, tag)
	value = protowire.AppendTag(value, 2, protowire.Fixed32Type)
	value = protowire.AppendFixed32(value, math.Float32bits(v))
	summary := protowire.AppendTag(nil, 1, protowire.BytesType)
	summary = protowire.AppendBytes(summary, value)
	var ev []byte
	ev = protowire.AppendTag(ev, 1, protowire.Fixed64Type)
	ev = protowire.AppendFixed64(ev, math.Float64bits(float64(time.Now().UnixNano())/1e9))
	ev = protowire.AppendTag(ev, 2, protowire.VarintType)
	ev = protowire.AppendVarint(ev, uint64(step))
	ev = protowire.AppendTag(ev, 5, protowire.BytesType)
	ev = protowire.AppendBytes(ev, summary)
	return ev
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func maskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return ((c >> 15) | (c << 17)) + 0xa282ead8
}

// writeRecord writes one TFRecord: length, its masked CRC32C, the data, its
// masked CRC32C.
func writeRecord(f *os.File, data []byte) error {
	var head [12]byte
	binary.LittleEndian.PutUint64(head[:8], uint64(len(data)))
	binary.LittleEndian.PutUint32(head[8:], maskedCRC(head[:8]))
	var tail [4]byte
	binary.LittleEndian.PutUint32(tail[:], maskedCRC(data))
	for _, b := range [][]byte{head[:], data, tail[:]} {
		if _, err := f.Write(b); err != nil {
			return err
		}
	}
	return nil
}
