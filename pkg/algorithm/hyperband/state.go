package hyperband

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"

	"knobs.dev/knobs/pkg/algorithm"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// state is what Hyperband remembers between calls, written back as the
// setting hyperband_state in JSON:
//
//	{"next":4,"brackets":[{"k":1,"rung":1,"configs":"q83vASNFZ4k..."}]}
//
// next counts the brackets started; each bracket under way has its place k in
// that sequence (its s follows from k), its current rung, and the identities
// of that rung's configurations: 64-bit hashes of their non-resource values,
// packed 8 bytes each and base64 encoded. A configuration's trial at a rung is
// the trial with that identity and the rung's budget, so the values
// themselves travel in the trials, not in the state.
type state struct {
	Next     int        `json:"next"`
	Brackets []*bracket `json:"brackets,omitempty"`
}

type bracket struct {
	K    int `json:"k"`
	Rung int `json:"rung"`
	// Closed says the first rung found no more unseen configurations and
	// runs with those it has.
	Closed  bool   `json:"closed,omitempty"`
	Configs string `json:"configs,omitempty"`

	members []uint64
}

// MaxBrackets bounds the brackets an experiment can start: each runs at
// least one trial, so no experiment comes near it, and counting on from it
// cannot overflow.
const MaxBrackets = 1 << 31

// parseState reads the state setting; a missing one is the start of the
// experiment.
func parseState(p *algorithm.Problem, sc *Schedule) (*state, error) {
	raw, ok := p.Settings.Lookup(State)
	st := &state{}
	if !ok || strings.TrimSpace(raw) == "" {
		return st, nil
	}
	bad := func(format string, args ...any) error {
		return algorithm.Invalidf(settingsPath, "%s: %s: the algorithm writes this setting; leave it as it wrote it, or remove it to start Hyperband over",
			State, fmt.Sprintf(format, args...))
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(st); err != nil {
		return nil, bad("not the state Hyperband writes (%v)", err)
	}
	if st.Next < 0 || st.Next > MaxBrackets {
		return nil, bad("next %d is outside 0 to %d, the brackets an experiment can start", st.Next, MaxBrackets)
	}
	last := -1
	for _, b := range st.Brackets {
		if b == nil {
			return nil, bad("a bracket is null")
		}
		if b.K <= last || b.K >= st.Next {
			return nil, bad("bracket %d is out of order or not started (next is %d)", b.K, st.Next)
		}
		last = b.K
		s := sc.S(b.K)
		if b.Rung < 0 || b.Rung > s {
			return nil, bad("bracket %d has no rung %d with r_l %g and eta %d; were the settings changed?", b.K, b.Rung, sc.R, sc.Eta)
		}
		data, err := base64.RawURLEncoding.DecodeString(b.Configs)
		if err != nil || len(data)%8 != 0 {
			return nil, bad("bracket %d: configs is not a list of identities", b.K)
		}
		b.members = make([]uint64, len(data)/8)
		for i := range b.members {
			b.members[i] = binary.BigEndian.Uint64(data[8*i:])
		}
		if n := sc.RungSize(s, b.Rung); len(b.members) > sc.Size(s) || (b.Rung > 0 && len(b.members) > n) {
			return nil, bad("bracket %d rung %d holds %d configurations, more than its %d", b.K, b.Rung, len(b.members), n)
		}
	}
	return st, nil
}

// settings encodes the state as the reply's algorithm settings.
func (st *state) settings() []*pb.AlgorithmSetting {
	for _, b := range st.Brackets {
		data := make([]byte, 8*len(b.members))
		for i, h := range b.members {
			binary.BigEndian.PutUint64(data[8*i:], h)
		}
		b.Configs = base64.RawURLEncoding.EncodeToString(data)
	}
	out, err := json.Marshal(st)
	if err != nil {
		panic(err) // plain structs of ints, bools and strings always encode
	}
	return []*pb.AlgorithmSetting{{Name: State, Value: string(out)}}
}
