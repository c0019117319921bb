package collector

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
)

// TensorFlow event files are TFRecord files: each record is
//
//	uint64 length, uint32 masked CRC32C of the length,
//	the data, uint32 masked CRC32C of the data
//
// (little-endian), and each record's data is an Event protobuf.

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskedCRC is TFRecord's checksum of b.
func maskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return ((c >> 15) | (c << 17)) + 0xa282ead8
}

// maxRecord is the longest record read; a longer length is taken for
// corruption. Scalar events are tens of bytes; graphs can be megabytes.
const maxRecord = 64 << 20

// tfRecords cuts TFRecord framing from a stream that arrives in pieces.
type tfRecords struct {
	buf []byte
	off int
	// Bad counts the records skipped for a bad checksum and the bytes
	// skipped to find a valid header again.
	Bad int
}

// Write appends p to what is to be read.
func (r *tfRecords) Write(p []byte) {
	if r.off > 0 && r.off >= len(r.buf)/2 {
		r.buf = append(r.buf[:0], r.buf[r.off:]...)
		r.off = 0
	}
	r.buf = append(r.buf, p...)
}

// Next returns the next record's data, valid until the next Write, and
// false when no complete record is buffered: the rest is a record still
// being written, or at the end of a file, one cut short.
func (r *tfRecords) Next() ([]byte, bool) {
	for {
		b := r.buf[r.off:]
		if len(b) < 12 {
			return nil, false
		}
		n := binary.LittleEndian.Uint64(b)
		if maskedCRC(b[:8]) != binary.LittleEndian.Uint32(b[8:12]) || n > maxRecord {
			// Not a header: look for one a byte further on.
			r.off++
			r.Bad++
			continue
		}
		total := 12 + int(n) + 4
		if len(b) < total {
			return nil, false
		}
		data := b[12 : 12+int(n)]
		r.off += total
		if maskedCRC(data) != binary.LittleEndian.Uint32(b[12+int(n):total]) {
			r.Bad++
			continue
		}
		return data, true
	}
}

// Buffered is the number of bytes not yet returned as records.
func (r *tfRecords) Buffered() int { return len(r.buf) - r.off }

// TFScalar is one scalar summary value of an Event.
type TFScalar struct {
	Tag   string
	Value float64
}

// errProto is a malformed protobuf.
var errProto = errors.New("malformed protobuf")

// ParseTFEvent decodes an Event protobuf: its step (field 2) and the
// scalar values of its summary (field 5): Summary.Value (field 1) with
// its tag (field 1) and simple_value (field 2, float), or a tensor (field
// 8) holding exactly one float or double. It appends the scalars to dst.
func ParseTFEvent(data []byte, dst []TFScalar) (step int64, _ []TFScalar, _ error) {
	err := eachField(data, func(num int, wt int, v uint64, b []byte) error {
		switch {
		case num == 2 && wt == wireVarint:
			step = int64(v)
		case num == 5 && wt == wireBytes:
			return eachField(b, func(num int, wt int, _ uint64, b []byte) error {
				if num != 1 || wt != wireBytes {
					return nil
				}
				s, ok, err := parseSummaryValue(b)
				if err != nil {
					return err
				}
				if ok {
					dst = append(dst, s)
				}
				return nil
			})
		}
		return nil
	})
	return step, dst, err
}

// parseSummaryValue decodes a Summary.Value; ok is false when it holds no
// scalar.
func parseSummaryValue(b []byte) (s TFScalar, ok bool, _ error) {
	err := eachField(b, func(num int, wt int, v uint64, b []byte) error {
		switch {
		case num == 1 && wt == wireBytes:
			s.Tag = string(b)
		case num == 2 && wt == wireFixed32:
			s.Value, ok = float64(math.Float32frombits(uint32(v))), true
		case num == 8 && wt == wireBytes:
			if x, found, err := tensorScalar(b); err != nil {
				return err
			} else if found {
				s.Value, ok = x, true
			}
		}
		return nil
	})
	if err != nil || s.Tag == "" || math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
		return s, false, err
	}
	return s, ok, nil
}

// TensorFlow's DataType values for the scalars read.
const (
	dtFloat  = 1
	dtDouble = 2
)

// tensorScalar returns the value of a TensorProto that holds exactly one
// float or double: in float_val (5), double_val (6) or tensor_content (4).
func tensorScalar(b []byte) (float64, bool, error) {
	var (
		dtype   uint64
		vals    []float64
		content []byte
	)
	err := eachField(b, func(num int, wt int, v uint64, b []byte) error {
		switch {
		case num == 1 && wt == wireVarint:
			dtype = v
		case num == 4 && wt == wireBytes:
			content = b
		case num == 5 && wt == wireFixed32:
			vals = append(vals, float64(math.Float32frombits(uint32(v))))
		case num == 5 && wt == wireBytes:
			if len(b)%4 != 0 {
				return errProto
			}
			for i := 0; i < len(b); i += 4 {
				vals = append(vals, float64(math.Float32frombits(binary.LittleEndian.Uint32(b[i:]))))
			}
		case num == 6 && wt == wireFixed64:
			vals = append(vals, math.Float64frombits(v))
		case num == 6 && wt == wireBytes:
			if len(b)%8 != 0 {
				return errProto
			}
			for i := 0; i < len(b); i += 8 {
				vals = append(vals, math.Float64frombits(binary.LittleEndian.Uint64(b[i:])))
			}
		}
		return nil
	})
	if err != nil {
		return 0, false, err
	}
	switch {
	case len(vals) == 1 && content == nil:
		return vals[0], true, nil
	case len(vals) == 0 && dtype == dtFloat && len(content) == 4:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(content))), true, nil
	case len(vals) == 0 && dtype == dtDouble && len(content) == 8:
		return math.Float64frombits(binary.LittleEndian.Uint64(content)), true, nil
	}
	return 0, false, nil
}

// Protobuf wire types.
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

// eachField calls fn with each field of the protobuf message b: its
// number, wire type, and value (v for varints and fixed-size values, b
// for length-delimited ones). Groups are refused.
func eachField(b []byte, fn func(num, wt int, v uint64, b []byte) error) error {
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return errProto
		}
		b = b[n:]
		num, wt := int(key>>3), int(key&7)
		if num == 0 {
			return errProto
		}
		var (
			v    uint64
			data []byte
		)
		switch wt {
		case wireVarint:
			v, n = binary.Uvarint(b)
			if n <= 0 {
				return errProto
			}
			b = b[n:]
		case wireFixed64:
			if len(b) < 8 {
				return errProto
			}
			v, b = binary.LittleEndian.Uint64(b), b[8:]
		case wireFixed32:
			if len(b) < 4 {
				return errProto
			}
			v, b = uint64(binary.LittleEndian.Uint32(b)), b[4:]
		case wireBytes:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return errProto
			}
			data, b = b[n:n+int(l)], b[n+int(l):]
		default:
			return errProto
		}
		if err := fn(num, wt, v, data); err != nil {
			return err
		}
	}
	return nil
}
