package cmaes

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// state is everything the search carries from one call to the next: the
// distribution and its paths, the generation, and the bookkeeping of
// restarts.
type state struct {
	dist
	lambda int // population size of the current run
	gen    int // generations of the current run so far
	runs   int // restarts so far
	// BIPOP: large-population runs so far, whether the current run is one,
	// and the evaluations each regime has used.
	largeRuns              int
	large                  bool
	runEvals               int // evaluations of the current run
	smallEvals, largeEvals int
	// hist holds the best loss of each of the current run's last
	// generations, oldest first, for the tolfun criterion.
	hist []float64
}

const stateVersion = 1

// histLen is how many generations the tolfun criterion looks back.
func histLen(n, lambda int) int { return 10 + int(math.Ceil(30*float64(n)/float64(lambda))) }

// encode writes the state as base64 of a little-endian record: a version
// byte, the dimension, the counters, σ, the mean, the upper triangle of C,
// both paths and the history of best losses.
func (s *state) encode() string {
	n := len(s.mean)
	b := make([]byte, 0, 64+8*(n*(n+1)/2+3*n+1+len(s.hist)))
	b = append(b, stateVersion)
	b = binary.LittleEndian.AppendUint16(b, uint16(n))
	for _, v := range []int{s.lambda, s.gen, s.runs, s.largeRuns} {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	if s.large {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	for _, v := range []int{s.runEvals, s.smallEvals, s.largeEvals} {
		b = binary.LittleEndian.AppendUint64(b, uint64(v))
	}
	b = appendFloats(b, s.sigma)
	b = appendFloats(b, s.mean...)
	for i := range n {
		b = appendFloats(b, s.c[i*n+i:i*n+n]...)
	}
	b = appendFloats(b, s.ps...)
	b = appendFloats(b, s.pc...)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(s.hist)))
	b = appendFloats(b, s.hist...)
	return base64.StdEncoding.EncodeToString(b)
}

func appendFloats(b []byte, v ...float64) []byte {
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

// reader reads a record, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(k int) []byte {
	if r.err != nil || len(r.b) < k {
		if r.err == nil {
			r.err = errors.New("too short")
		}
		return make([]byte, k)
	}
	out := r.b[:k]
	r.b = r.b[k:]
	return out
}

func (r *reader) u8() int  { return int(r.take(1)[0]) }
func (r *reader) u16() int { return int(binary.LittleEndian.Uint16(r.take(2))) }
func (r *reader) u32() int { return int(binary.LittleEndian.Uint32(r.take(4))) }
func (r *reader) u64() int {
	v := binary.LittleEndian.Uint64(r.take(8))
	if v > math.MaxInt32*uint64(maxLambda) {
		r.err = errors.New("counter out of range")
	}
	return int(v)
}

func (r *reader) floats(k int) []float64 {
	out := make([]float64, k)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(r.take(8)))
		if math.IsNaN(out[i]) {
			r.err = errors.New("not a number")
		}
	}
	return out
}

// openRecord decodes a record of state written for a search of n
// dimensions and reads its head: the version and the dimension. A record
// too short to hold them leaves the error in the reader, as a short body
// does.
func openRecord(text string, n int) (*reader, error) {
	raw, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return nil, errors.New("not base64")
	}
	r := &reader{b: raw}
	if v := r.u8(); r.err == nil && v != stateVersion {
		return nil, fmt.Errorf("version %d, this algorithm writes %d", v, stateVersion)
	}
	if dim := r.u16(); r.err == nil && dim != n {
		return nil, fmt.Errorf("written for %d numeric parameters, the experiment has %d", dim, n)
	}
	return r, nil
}

// decodeState reads a state written by encode for a search of n
// dimensions.
func decodeState(text string, n int) (*state, error) {
	r, err := openRecord(text, n)
	if err != nil {
		return nil, err
	}
	s := &state{}
	s.lambda, s.gen, s.runs, s.largeRuns = r.u32(), r.u32(), r.u32(), r.u32()
	switch r.u8() {
	case 0:
	case 1:
		s.large = true
	default:
		r.err = errors.New("bad regime")
	}
	s.runEvals, s.smallEvals, s.largeEvals = r.u64(), r.u64(), r.u64()
	s.sigma = r.floats(1)[0]
	s.mean = r.floats(n)
	s.c = make([]float64, n*n)
	for i := range n {
		for j, v := range r.floats(n - i) {
			s.c[i*n+i+j], s.c[(i+j)*n+i] = v, v
		}
	}
	s.ps, s.pc = r.floats(n), r.floats(n)
	s.hist = r.floats(r.u16())
	if r.err == nil && len(r.b) > 0 {
		r.err = errors.New("too long")
	}
	if r.err != nil {
		return nil, r.err
	}
	switch {
	case s.lambda < 2 || s.lambda > maxLambda:
		return nil, fmt.Errorf("population %d out of range", s.lambda)
	case !(s.sigma > 0) || math.IsInf(s.sigma, 0):
		return nil, fmt.Errorf("step size %g out of range", s.sigma)
	case len(s.hist) > histLen(n, s.lambda):
		return nil, errors.New("history too long")
	}
	for _, v := range s.mean {
		if !(v >= 0 && v <= 1) {
			return nil, errors.New("mean outside the unit cube")
		}
	}
	for _, list := range [][]float64{s.c, s.ps, s.pc} {
		for _, v := range list {
			if math.IsInf(v, 0) {
				return nil, errors.New("infinite value")
			}
		}
	}
	return s, nil
}

// encodePopulation writes the members handed out and not yet used or
// failed, as base64 of a version byte, the dimension, the count, and for
// each member the generation that drew it and its coordinates in the unit
// cube.
func encodePopulation(pop []member, n int) string {
	b := make([]byte, 0, 7+(4+8*n)*len(pop))
	b = append(b, stateVersion)
	b = binary.LittleEndian.AppendUint16(b, uint16(n))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(pop)))
	for _, m := range pop {
		b = binary.LittleEndian.AppendUint32(b, uint32(m.gen))
		b = appendFloats(b, m.x...)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func decodePopulation(text string, n int) ([]member, error) {
	r, err := openRecord(text, n)
	if err != nil {
		return nil, err
	}
	count := r.u32()
	if r.err == nil && len(r.b) != (4+8*n)*count {
		return nil, fmt.Errorf("%d bytes for %d points of %d coordinates", len(r.b), count, n)
	}
	pop := make([]member, count)
	for i := range pop {
		pop[i].gen = r.u32()
		pop[i].x = r.floats(n)
		for _, v := range pop[i].x {
			if !(v >= 0 && v <= 1) {
				return nil, errors.New("a point outside the unit cube")
			}
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return pop, nil
}
