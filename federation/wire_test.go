package federation

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/prismai/mec/internal/cbor"
)

// TestWireRoundTrip: every body decodes to what was encoded, and
// re-encodes to the same bytes.
func TestWireRoundTrip(t *testing.T) {
	hash := bytes.Repeat([]byte{7}, 32)
	bodies := []struct {
		msg    interface{ Marshal() []byte }
		decode func([]byte) (any, error)
	}{
		{&Heartbeat{Role: Edge, Tick: 9, Round: 2, Epoch: 3, Decoupled: true}, func(b []byte) (any, error) { return UnmarshalHeartbeat(b) }},
		{&PhaseReport{Tick: 4, Phase: -1.25, Decoupled: false}, func(b []byte) (any, error) { return UnmarshalPhaseReport(b) }},
		{&Delta{Kind: DeltaReset, Epoch: 2, Round: 5, Dim: 3, Chunks: 1, Values: []float64{1, -2, 0.5}, StateHash: hash, Members: 3, Epsilon: 1.5, Reason: "start"},
			func(b []byte) (any, error) { return UnmarshalDelta(b) }},
		{&GroupMsg{Relay: "r1", Round: 4, Learning: 9, Step: GroupDelivery, To: "e2", Chunk: 1, Chunks: 2, Payload: []byte("x")},
			func(b []byte) (any, error) { return UnmarshalGroupMsg(b) }},
		{&CheckpointMsg{Submission: []byte{1, 2, 3}}, func(b []byte) (any, error) { return UnmarshalCheckpointMsg(b) }},
		{&CosigMsg{Log: "c2", Note: []byte("note")}, func(b []byte) (any, error) { return UnmarshalCosigMsg(b) }},
		{&Alert{Kind: AlertRollback, Node: "c1", Tick: 30, To: 20, Text: "why"}, func(b []byte) (any, error) { return UnmarshalAlert(b) }},
		{&Report{Verified: 10, Rejected: 2, Forks: 1, Drift: 0.01, Nodes: 5, Checkpoints: 7}, func(b []byte) (any, error) { return UnmarshalReport(b) }},
		{&GroupResultBody{Aggregated: true, Survivors: []string{"e1", "e2"}, Members: []string{"c1", "r1"}, Drift: 0.5, Hash: "ab", Eta: 1, Model: []float64{1, 2}},
			func(b []byte) (any, error) { return UnmarshalGroupResult(b) }},
	}
	for _, c := range bodies {
		b := c.msg.Marshal()
		got, err := c.decode(b)
		if err != nil {
			t.Fatalf("%T: %v", c.msg, err)
		}
		if !reflect.DeepEqual(got, c.msg) {
			t.Errorf("%T: decoded %+v, want %+v", c.msg, got, c.msg)
		}
		if b2 := got.(interface{ Marshal() []byte }).Marshal(); !bytes.Equal(b, b2) {
			t.Errorf("%T: re-encoding differs", c.msg)
		}
		// Every strict prefix and a trailing byte are refused.
		for i := 0; i < len(b); i++ {
			if _, err := c.decode(b[:i]); err == nil {
				t.Fatalf("%T: accepted a %d-byte prefix", c.msg, i)
			}
		}
		if _, err := c.decode(append(bytes.Clone(b), 0)); err == nil {
			t.Errorf("%T: accepted a trailing byte", c.msg)
		}
	}
}

// TestWireVersion: a body of another protocol version is an ErrVersion
// that names both versions; another type is malformed.
func TestWireVersion(t *testing.T) {
	b := (&Heartbeat{Role: Core}).Marshal()
	newer := bytes.Clone(b)
	newer[1] = ProtocolVersion + 1 // [version, ...]: the head of the array, then the version
	_, err := UnmarshalHeartbeat(newer)
	if !errors.Is(err, ErrVersion) || !bytes.Contains([]byte(err.Error()), []byte("version 2")) {
		t.Errorf("newer version: %v", err)
	}
	if _, err := UnmarshalPhaseReport(b); !errors.Is(err, ErrBadMessage) {
		t.Errorf("heartbeat read as a phase report: %v", err)
	}
}

// TestWireChecks: decoded bodies are checked against the protocol.
func TestWireChecks(t *testing.T) {
	hash := bytes.Repeat([]byte{1}, 32)
	bad := []*Delta{
		{Kind: 2, Dim: 1, Chunks: 1, Values: []float64{1}, StateHash: hash},                    // kind
		{Dim: 0, Chunks: 1, Values: []float64{1}, StateHash: hash},                             // dimension
		{Dim: 2, Chunks: 1, Values: []float64{1}, StateHash: hash},                             // last chunk short of the end
		{Dim: 1, Chunks: 1, Values: []float64{1}},                                              // no hash
		{Dim: 1, Chunks: 1, Chunk: 1, Values: []float64{1}, StateHash: hash},                   // chunk ≥ chunks
		{Dim: 1, Chunks: 1, Values: []float64{1}, StateHash: hash, Epsilon: -1},                // ε < 0
		{Dim: MaxDim + 1, Chunks: 1, Values: []float64{1}, StateHash: hash},                    // too large
		{Dim: 1, Chunks: 1, Values: []float64{math.NaN()}, StateHash: hash},                    // NaN
		{Dim: 3, Chunks: 1, Offset: 2, Values: []float64{1, 2}, StateHash: hash},               // past the end
		{Dim: 2 * MaxChunkValues, Chunks: 3, Values: []float64{1}, StateHash: hash, Offset: 0}, // too many chunks
	}
	for i, d := range bad {
		if _, err := UnmarshalDelta(d.Marshal()); !errors.Is(err, ErrBadMessage) {
			t.Errorf("delta %d accepted: %v", i, err)
		}
	}
	if _, err := UnmarshalHeartbeat((&Heartbeat{Role: "boss"}).Marshal()); err == nil {
		t.Error("unknown role accepted")
	}
	if _, err := UnmarshalPhaseReport((&PhaseReport{Phase: 4}).Marshal()); err == nil {
		t.Error("phase outside [−π, π] accepted")
	}
	if _, err := UnmarshalGroupMsg((&GroupMsg{Relay: "r1", Step: "steal", Chunks: 1}).Marshal()); err == nil {
		t.Error("unknown group step accepted")
	}
	if _, err := UnmarshalAlert((&Alert{Kind: "panic"}).Marshal()); err == nil {
		t.Error("unknown alert kind accepted")
	}
	big := make([]byte, MaxBodyBytes+1)
	if _, err := UnmarshalCosigMsg(big); !errors.Is(err, ErrBadMessage) {
		t.Errorf("oversized body: %v", err)
	}
	// Non-shortest CBOR is refused (one encoding per message).
	b := (&Report{}).Marshal()
	long := append([]byte{b[0], b[1], b[2]}, append([]byte{cbor.Uint<<5 | 24, 0}, b[4:]...)...)
	if _, err := UnmarshalReport(long); err == nil {
		t.Error("non-canonical CBOR accepted")
	}
}

// TestChunks: a state of any size splits into chunks that reassemble.
func TestChunks(t *testing.T) {
	for _, n := range []int{1, MaxChunkValues - 1, MaxChunkValues, MaxChunkValues + 1, 3*MaxChunkValues + 5} {
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(i)
		}
		cs := chunks(DeltaUpdate, 1, 1, v, bytes.Repeat([]byte{2}, 32), 1, 0, "")
		var got []float64
		for i, c := range cs {
			d, err := UnmarshalDelta(c.Marshal())
			if err != nil {
				t.Fatalf("n=%d chunk %d: %v", n, i, err)
			}
			got = append(got, d.Values...)
		}
		if !reflect.DeepEqual(got, v) {
			t.Fatalf("n=%d: chunks do not reassemble", n)
		}
	}
	p := bytes.Repeat([]byte{9}, 2*MaxGroupChunk+3)
	ms := groupChunks(GroupMsg{Relay: "r1", Step: GroupMasked, Round: 1}, p)
	var got []byte
	for _, m := range ms {
		d, err := UnmarshalGroupMsg(m.Marshal())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, d.Payload...)
	}
	if len(ms) != 3 || !bytes.Equal(got, p) {
		t.Errorf("group payload: %d parts", len(ms))
	}
}

func fuzzBody(f *testing.F, seeds []interface{ Marshal() []byte }, decode func([]byte) (any, error)) {
	for _, s := range seeds {
		f.Add(s.Marshal())
	}
	f.Add([]byte{})
	f.Add([]byte{0x83, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decode(b)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) && !errors.Is(err, ErrVersion) {
				t.Fatalf("error %v wraps neither ErrBadMessage nor ErrVersion", err)
			}
			return
		}
		if b2 := m.(interface{ Marshal() []byte }).Marshal(); !bytes.Equal(b, b2) {
			t.Fatalf("accepted a non-canonical encoding")
		}
	})
}

func FuzzDelta(f *testing.F) {
	fuzzBody(f, []interface{ Marshal() []byte }{&Delta{Dim: 2, Chunks: 1, Values: []float64{1, 2}, StateHash: make([]byte, 32)}},
		func(b []byte) (any, error) { return UnmarshalDelta(b) })
}

// TestDeltaOffsetOverflow: an offset near 2⁶⁴ (whose sum with the
// length wraps) and an offset that does not follow from the chunk are
// refused by the decoder; applying what it accepts never panics.
func TestDeltaOffsetOverflow(t *testing.T) {
	for _, d := range []*Delta{
		{Dim: 40000, Chunks: 2, Chunk: 0, Offset: math.MaxUint64, Values: []float64{1}},
		{Dim: 40000, Chunks: 2, Chunk: 1, Offset: 1, Values: []float64{1}, StateHash: make([]byte, 32)},
		{Dim: 40000, Chunks: 2, Chunk: 0, Offset: 0, Values: []float64{1}}, // a short chunk that is not the last
	} {
		if _, err := UnmarshalDelta(d.Marshal()); !errors.Is(err, ErrBadMessage) {
			t.Errorf("offset %d chunk %d/%d with %d values: %v, want ErrBadMessage", d.Offset, d.Chunk, d.Chunks, len(d.Values), err)
		}
	}
}

// FuzzApplyDelta: any sequence of decoded chunks applied to a mirror
// gives an error or a state, never a panic.
func FuzzApplyDelta(f *testing.F) {
	v := make([]float64, MaxChunkValues+3)
	for i := range v {
		v[i] = float64(i)
	}
	h := stateHash(v)
	cs := chunks(DeltaReset, 1, 1, v, h[:], 1, 0, "")
	f.Add(cs[0].Marshal(), cs[1].Marshal(), cs[1].Marshal())
	f.Add((&Delta{Dim: 40000, Chunks: 2, Offset: math.MaxUint64, Values: []float64{1}}).Marshal(), []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, a, b, c []byte) {
		l := &learner{changed: make(chan struct{}), peers: map[string]*mirror{}}
		for _, body := range [][]byte{a, b, c} {
			d, err := UnmarshalDelta(body)
			if err != nil {
				continue
			}
			_ = l.apply("p", d) // errors are the point; a panic fails
		}
	})
}

func FuzzGroupMsg(f *testing.F) {
	fuzzBody(f, []interface{ Marshal() []byte }{&GroupMsg{Relay: "r1", Step: GroupOpen, Chunks: 1, Payload: groupDimBody(4)}},
		func(b []byte) (any, error) { return UnmarshalGroupMsg(b) })
}

func FuzzControl(f *testing.F) {
	seeds := []interface{ Marshal() []byte }{&Heartbeat{Role: Core}, &PhaseReport{Phase: 1}, &CosigMsg{Log: "a"}, &CheckpointMsg{},
		&Alert{Kind: AlertFork}, &Report{}, &GroupResultBody{Model: []float64{1}}}
	decoders := []func([]byte) (any, error){
		func(b []byte) (any, error) { return UnmarshalHeartbeat(b) }, func(b []byte) (any, error) { return UnmarshalPhaseReport(b) },
		func(b []byte) (any, error) { return UnmarshalCosigMsg(b) }, func(b []byte) (any, error) { return UnmarshalCheckpointMsg(b) },
		func(b []byte) (any, error) { return UnmarshalAlert(b) }, func(b []byte) (any, error) { return UnmarshalReport(b) },
		func(b []byte) (any, error) { return UnmarshalGroupResult(b) },
	}
	fuzzBody(f, seeds, func(b []byte) (any, error) {
		// Every decoder on the same input; the first success is checked.
		var firstErr error
		for _, d := range decoders {
			m, err := d(b)
			if err == nil {
				return m, nil
			}
			if firstErr == nil {
				firstErr = err
			}
		}
		return nil, firstErr
	})
}
