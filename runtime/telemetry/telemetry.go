// Package telemetry defines the events recorded in the mec telemetry ledger
// and their canonical binary encoding.
//
// Layer: runtime. It imports no other mec package.
//
// # Events
//
// Two event types exist: [SystemEvent] (orchestrator ticks, governance
// decisions such as rollback or isolation, metric snapshots) and
// [FusionEvent] (one per fusion-layer step). Both implement [Event].
//
// # Canonical encoding
//
// [Marshal] produces, and [Unmarshal] accepts, exactly one byte string per
// event value, so that hashes and signatures over events are well defined.
// All integers are big-endian; there are no varints and no optional fields.
//
//	event       = type-tag(u8) body
//	FusionEvent = 0x02 timestamp(i64) coherence_entropy(f64) avg_phase_diff(f64)
//	              fusion_energy(f64) parent_block(u64)
//	SystemEvent = 0x01 timestamp(i64) source(str) kind(str) nfields(u32)
//	              { key(str) value }*nfields
//	value       = 0x01 f64 | 0x02 str
//	str         = len(u32) bytes          (valid UTF-8, len <= MaxStringLen)
//	timestamp   = Unix time in nanoseconds (UTC), signed 64-bit
//	f64         = IEEE-754 binary64 bit pattern
//
// Rules that make the encoding canonical (Unmarshal rejects anything else):
//   - SystemEvent field keys are sorted in strictly increasing byte order
//     (so keys are unique); at most MaxFields fields.
//   - Every NaN is encoded as the single quiet NaN 0x7FF8000000000000;
//     Marshal rewrites any other NaN payload to it. Infinities and negative
//     zero are kept as they are (they are distinct bit patterns).
//   - Strings must be valid UTF-8 (Marshal reports an error otherwise).
//   - Timestamps must be representable as int64 Unix nanoseconds (years
//     1678..2262); the zero time.Time is rejected by Marshal. Unmarshal
//     returns times in UTC; the monotonic clock reading and the location of
//     the marshaled time are not recorded.
//   - No trailing bytes after the event; whole event <= MaxEventSize.
//
// Consequently Marshal(Unmarshal(b)) == b for every b that Unmarshal accepts.
package telemetry

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// Type is the one-byte tag that starts every encoded event.
type Type byte

const (
	// TypeSystem tags a SystemEvent.
	TypeSystem Type = 0x01
	// TypeFusion tags a FusionEvent.
	TypeFusion Type = 0x02
)

// String returns "system", "fusion" or "type(0xNN)".
func (t Type) String() string {
	switch t {
	case TypeSystem:
		return "system"
	case TypeFusion:
		return "fusion"
	}
	return fmt.Sprintf("type(0x%02x)", byte(t))
}

// Limits of the encoding.
const (
	// MaxEventSize is the largest encoded event, in bytes.
	MaxEventSize = 1 << 20
	// MaxStringLen is the longest string (source, kind, key or value), in bytes.
	MaxStringLen = 1 << 16
	// MaxFields is the largest number of fields of a SystemEvent.
	MaxFields = 4096
)

// canonicalNaN is the only NaN bit pattern of the encoding.
const canonicalNaN = 0x7FF8000000000000

// Event is a telemetry event: a SystemEvent or a FusionEvent.
type Event interface {
	// Type returns the event's type tag.
	Type() Type
	// Time returns the event's timestamp.
	Time() time.Time
	// appendTo appends the canonical encoding of the event to b.
	appendTo(b []byte) ([]byte, error)
}

// FusionEvent is emitted by the fusion layer at every step.
type FusionEvent struct {
	// Timestamp of the step (recorded as UTC Unix nanoseconds).
	Timestamp time.Time `json:"timestamp"`
	// CoherenceEntropy is the entropy of the phase coherence distribution.
	CoherenceEntropy float64 `json:"coherence_entropy"`
	// AvgPhaseDiff is the mean phase difference between fused oscillators.
	AvgPhaseDiff float64 `json:"avg_phase_diff"`
	// FusionEnergy is the energy of the fused state.
	FusionEnergy float64 `json:"fusion_energy"`
	// ParentBlock is the ledger index of the previous block (record) this
	// step builds on, as returned by the ledger's Append for that record.
	// The encoding and the ledger do not interpret it; by convention the
	// first step of a run uses math.MaxUint64 ("no parent").
	ParentBlock uint64 `json:"parent_block"`
}

// NoParent is the ParentBlock value of a FusionEvent without a parent.
const NoParent = math.MaxUint64

// Type returns TypeFusion.
func (FusionEvent) Type() Type { return TypeFusion }

// Time returns the event's timestamp.
func (e FusionEvent) Time() time.Time { return e.Timestamp }

func (e FusionEvent) appendTo(b []byte) ([]byte, error) {
	ns, err := timeNanos(e.Timestamp)
	if err != nil {
		return nil, err
	}
	b = append(b, byte(TypeFusion))
	b = appendU64(b, uint64(ns))
	b = appendF64(b, e.CoherenceEntropy)
	b = appendF64(b, e.AvgPhaseDiff)
	b = appendF64(b, e.FusionEnergy)
	b = appendU64(b, e.ParentBlock)
	return b, nil
}

// MarshalJSON encodes the event as JSON with a "type" member; non-finite
// floats are written as the strings "NaN", "+Inf" and "-Inf".
func (e FusionEvent) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type             string    `json:"type"`
		Timestamp        time.Time `json:"timestamp"`
		CoherenceEntropy any       `json:"coherence_entropy"`
		AvgPhaseDiff     any       `json:"avg_phase_diff"`
		FusionEnergy     any       `json:"fusion_energy"`
		ParentBlock      uint64    `json:"parent_block"`
	}{"fusion", e.Timestamp, jsonFloat(e.CoherenceEntropy), jsonFloat(e.AvgPhaseDiff), jsonFloat(e.FusionEnergy), e.ParentBlock})
}

// SystemEvent is logged by the orchestrator and governance: ticks,
// decisions (rollback, isolation), metric snapshots.
type SystemEvent struct {
	// Timestamp of the event (recorded as UTC Unix nanoseconds).
	Timestamp time.Time `json:"timestamp"`
	// Source is the name of the emitting module.
	Source string `json:"source"`
	// Kind says what happened, e.g. "tick", "rollback", "isolate", "metrics".
	Kind string `json:"kind"`
	// Fields holds the event's named values; encoded sorted by key.
	Fields map[string]Value `json:"fields,omitempty"`
}

// Type returns TypeSystem.
func (SystemEvent) Type() Type { return TypeSystem }

// Time returns the event's timestamp.
func (e SystemEvent) Time() time.Time { return e.Timestamp }

func (e SystemEvent) appendTo(b []byte) ([]byte, error) {
	ns, err := timeNanos(e.Timestamp)
	if err != nil {
		return nil, err
	}
	if len(e.Fields) > MaxFields {
		return nil, fmt.Errorf("telemetry: %d fields, more than %d", len(e.Fields), MaxFields)
	}
	b = append(b, byte(TypeSystem))
	b = appendU64(b, uint64(ns))
	if b, err = appendStr(b, "source", e.Source); err != nil {
		return nil, err
	}
	if b, err = appendStr(b, "kind", e.Kind); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = appendU32(b, uint32(len(keys)))
	for _, k := range keys {
		if b, err = appendStr(b, "field key", k); err != nil {
			return nil, err
		}
		v := e.Fields[k]
		if v.IsString {
			b = append(b, valString)
			if b, err = appendStr(b, "field "+k, v.Str); err != nil {
				return nil, err
			}
		} else {
			b = append(b, valFloat)
			b = appendF64(b, v.Num)
		}
	}
	return b, nil
}

// MarshalJSON encodes the event as JSON with a "type" member.
func (e SystemEvent) MarshalJSON() ([]byte, error) {
	type plain SystemEvent
	return json.Marshal(struct {
		Type string `json:"type"`
		plain
	}{"system", plain(e)})
}

// Value tags of SystemEvent fields.
const (
	valFloat  = 0x01
	valString = 0x02
)

// Value is a SystemEvent field value: a float64 or a string.
type Value struct {
	// Num is the value when IsString is false.
	Num float64
	// Str is the value when IsString is true.
	Str string
	// IsString selects Str over Num.
	IsString bool
}

// Num returns a float64 field value.
func Num(f float64) Value { return Value{Num: f} }

// Str returns a string field value.
func Str(s string) Value { return Value{Str: s, IsString: true} }

// String formats the value for humans.
func (v Value) String() string {
	if v.IsString {
		return fmt.Sprintf("%q", v.Str)
	}
	return fmt.Sprint(v.Num)
}

// MarshalJSON encodes a string value as a JSON string and a number as a
// JSON number; non-finite numbers become {"num":"NaN"} and the like so
// that they stay distinguishable from strings.
func (v Value) MarshalJSON() ([]byte, error) {
	if v.IsString {
		return json.Marshal(v.Str)
	}
	if math.IsNaN(v.Num) || math.IsInf(v.Num, 0) {
		return json.Marshal(map[string]any{"num": jsonFloat(v.Num)})
	}
	return json.Marshal(v.Num)
}

func jsonFloat(f float64) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return f
}

// Marshal returns the canonical encoding of e.
func Marshal(e Event) ([]byte, error) {
	return AppendMarshal(nil, e)
}

// AppendMarshal appends the canonical encoding of e to b.
func AppendMarshal(b []byte, e Event) ([]byte, error) {
	if e == nil {
		return nil, errors.New("telemetry: nil event")
	}
	start := len(b)
	b, err := e.appendTo(b)
	if err != nil {
		return nil, err
	}
	if len(b)-start > MaxEventSize {
		return nil, fmt.Errorf("telemetry: encoded event is %d bytes, more than %d", len(b)-start, MaxEventSize)
	}
	return b, nil
}

// Unmarshal decodes one canonical event. It returns a SystemEvent or a
// FusionEvent value, or an error for anything that Marshal would not have
// produced (unknown tag, truncation, trailing bytes, unsorted or duplicate
// keys, non-canonical NaN, invalid UTF-8, oversize input). It never panics.
func Unmarshal(b []byte) (Event, error) {
	if len(b) > MaxEventSize {
		return nil, fmt.Errorf("telemetry: event is %d bytes, more than %d", len(b), MaxEventSize)
	}
	if len(b) == 0 {
		return nil, errors.New("telemetry: empty event")
	}
	d := decoder{b: b, off: 1}
	var ev Event
	switch Type(b[0]) {
	case TypeFusion:
		var e FusionEvent
		e.Timestamp = d.time()
		e.CoherenceEntropy = d.f64()
		e.AvgPhaseDiff = d.f64()
		e.FusionEnergy = d.f64()
		e.ParentBlock = d.u64()
		ev = e
	case TypeSystem:
		var e SystemEvent
		e.Timestamp = d.time()
		e.Source = d.str("source")
		e.Kind = d.str("kind")
		n := d.u32()
		if d.err == nil && n > MaxFields {
			d.fail(fmt.Errorf("%d fields, more than %d", n, MaxFields))
		}
		if d.err == nil && n > 0 {
			e.Fields = make(map[string]Value, min(n, 64))
		}
		prev := ""
		for i := uint32(0); i < n && d.err == nil; i++ {
			k := d.str("field key")
			if d.err == nil && i > 0 && k <= prev {
				d.fail(fmt.Errorf("field key %q not after %q (keys must be sorted and unique)", k, prev))
			}
			prev = k
			switch tag := d.byte(); {
			case d.err != nil:
			case tag == valFloat:
				e.Fields[k] = Num(d.f64())
			case tag == valString:
				e.Fields[k] = Str(d.str("field " + k))
			default:
				d.fail(fmt.Errorf("field %q: unknown value tag 0x%02x", k, tag))
			}
		}
		ev = e
	default:
		return nil, fmt.Errorf("telemetry: unknown event type tag 0x%02x", b[0])
	}
	if d.err != nil {
		return nil, fmt.Errorf("telemetry: decoding %v event at byte %d: %w", Type(b[0]), d.off, d.err)
	}
	if d.off != len(b) {
		return nil, fmt.Errorf("telemetry: %d trailing bytes after %v event", len(b)-d.off, Type(b[0]))
	}
	return ev, nil
}
