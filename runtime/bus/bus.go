// Package bus is the MEC inter-module message bus (MIPP, whose name its
// errors keep: "mipp: ..."): messages between the runtime's modules, each
// signed by its origin with ML-DSA-65
// (FIPS 204, github.com/cloudflare/circl) in a COSE_Sign1 envelope, and
// checked on delivery — a forged, replayed, out-of-order, stale or
// malformed message is rejected and counted, never delivered.
//
// Layer: runtime. It may import internal/cbor only.
//
// # Envelope
//
// COSE_Sign1 (RFC 9052 §4.2), tagged 18:
//
//	[ protected: bstr .cbor {1: -49},     ; alg: ML-DSA-65
//	  unprotected: {},
//	  payload: bstr .cbor [origin: tstr, target: tstr,
//	                       timestamp: int (Unix ns), sequence: uint,
//	                       body: bstr],
//	  signature: bstr ]                    ; ML-DSA-65, 3309 bytes
//
// The signature is over the Sig_structure ["Signature1", protected, h”,
// payload] (RFC 9052 §4.4) with an empty ML-DSA context. −49 is the COSE
// algorithm value for ML-DSA-65 in the IETF COSE ML-DSA draft. All CBOR is
// deterministically encoded, and the decoder rejects anything else.
//
// # Ordering
//
// Every origin numbers its messages 1, 2, 3, …; the bus accepts only the
// next number from each origin (a lower or equal one is a replay, a higher
// one a gap — out of order), and only timestamps within Window of its
// clock.
package bus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"

	"github.com/prismai/mec/internal/cbor"
)

// AlgMLDSA65 is the COSE algorithm identifier of ML-DSA-65.
const AlgMLDSA65 = -49

// cborTagSign1 is the CBOR tag of COSE_Sign1.
const cborTagSign1 = 18

// Message is what modules exchange.
type Message struct {
	Origin    string
	Target    string
	Timestamp time.Time
	Sequence  uint64
	Body      []byte
}

// Identity is a module's signing key and message counter.
type Identity struct {
	name string
	sk   *mldsa65.PrivateKey
	pk   *mldsa65.PublicKey
	seq  uint64
}

// NewIdentity derives a module's ML-DSA-65 key from a 32-byte seed.
func NewIdentity(name string, seed [mldsa65.SeedSize]byte) *Identity {
	pk, sk := mldsa65.NewKeyFromSeed(&seed)
	return &Identity{name: name, sk: sk, pk: pk}
}

// Name returns the module name.
func (id *Identity) Name() string { return id.name }

// PublicKey returns the verification key.
func (id *Identity) PublicKey() *mldsa65.PublicKey { return id.pk }

// Seal numbers, timestamps and signs a message from id to target and
// returns its COSE_Sign1 envelope.
func (id *Identity) Seal(target string, body []byte, now time.Time) ([]byte, error) {
	id.seq++
	return SealMessage(id.sk, Message{Origin: id.name, Target: target, Timestamp: now, Sequence: id.seq, Body: body})
}

// protected is the encoded protected header {1: -49}: a1 01 38 30.
var protected = cbor.AppendInt(cbor.AppendInt(cbor.AppendHead(nil, cbor.Map, 1), 1), AlgMLDSA65)

func encodePayload(m Message) []byte {
	b := cbor.AppendHead(nil, cbor.Array, 5)
	b = cbor.AppendText(b, m.Origin)
	b = cbor.AppendText(b, m.Target)
	b = cbor.AppendInt(b, m.Timestamp.UnixNano())
	b = cbor.AppendHead(b, cbor.Uint, m.Sequence)
	return cbor.AppendBytes(b, m.Body)
}

func sigStructure(payload []byte) []byte {
	b := cbor.AppendHead(nil, cbor.Array, 4)
	b = cbor.AppendText(b, "Signature1")
	b = cbor.AppendBytes(b, protected)
	b = cbor.AppendBytes(b, nil)
	return cbor.AppendBytes(b, payload)
}

// SealMessage signs m as a COSE_Sign1 envelope with sk (m is taken as is:
// origin, sequence and timestamp included).
func SealMessage(sk *mldsa65.PrivateKey, m Message) ([]byte, error) {
	payload := encodePayload(m)
	sig := make([]byte, mldsa65.SignatureSize)
	if err := mldsa65.SignTo(sk, sigStructure(payload), nil, true, sig); err != nil {
		return nil, fmt.Errorf("mipp: signing: %w", err)
	}
	b := cbor.AppendHead(nil, cbor.Tag, cborTagSign1)
	b = cbor.AppendHead(b, cbor.Array, 4)
	b = cbor.AppendBytes(b, protected)
	b = cbor.AppendHead(b, cbor.Map, 0)
	b = cbor.AppendBytes(b, payload)
	return cbor.AppendBytes(b, sig), nil
}

// ErrMalformed, ErrUnknownOrigin and ErrForged classify Open's failures.
var (
	ErrMalformed     = errors.New("mipp: malformed envelope")
	ErrUnknownOrigin = errors.New("mipp: unknown origin")
	ErrForged        = errors.New("mipp: bad signature")
)

// Parse decodes an envelope without verifying it, returning the message,
// the signed bytes (Sig_structure) and the signature.
func Parse(env []byte) (Message, []byte, []byte, error) {
	d := cbor.NewDecoder(env)
	fail := func(err error) (Message, []byte, []byte, error) {
		return Message{}, nil, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if tag, err := d.Expect(cbor.Tag); err != nil || tag != cborTagSign1 {
		return fail(fmt.Errorf("not a COSE_Sign1 (tag 18) item: %v", err))
	}
	if n, err := d.Expect(cbor.Array); err != nil || n != 4 {
		return fail(fmt.Errorf("COSE_Sign1 is not a 4-array: %v", err))
	}
	prot, err := d.Raw(cbor.Bytes)
	if err != nil || !bytes.Equal(prot, protected) {
		return fail(fmt.Errorf("protected header is not {1: %d}", AlgMLDSA65))
	}
	if n, err := d.Expect(cbor.Map); err != nil || n != 0 {
		return fail(errors.New("unprotected header is not empty"))
	}
	payload, err := d.Raw(cbor.Bytes)
	if err != nil {
		return fail(err)
	}
	sig, err := d.Raw(cbor.Bytes)
	if err != nil {
		return fail(err)
	}
	if d.Remaining() != 0 {
		return fail(fmt.Errorf("%d trailing bytes", d.Remaining()))
	}
	if len(sig) != mldsa65.SignatureSize {
		return fail(fmt.Errorf("signature of %d bytes", len(sig)))
	}
	p := cbor.NewDecoder(payload)
	if n, err := p.Expect(cbor.Array); err != nil || n != 5 {
		return fail(errors.New("payload is not a 5-array"))
	}
	var m Message
	o, err := p.Raw(cbor.Text)
	if err != nil {
		return fail(err)
	}
	t, err := p.Raw(cbor.Text)
	if err != nil {
		return fail(err)
	}
	ts, err := p.Int()
	if err != nil {
		return fail(err)
	}
	seq, err := p.Expect(cbor.Uint)
	if err != nil {
		return fail(err)
	}
	body, err := p.Raw(cbor.Bytes)
	if err != nil {
		return fail(err)
	}
	if p.Remaining() != 0 {
		return fail(errors.New("trailing bytes in the payload"))
	}
	m.Origin, m.Target, m.Timestamp, m.Sequence, m.Body = string(o), string(t), time.Unix(0, ts).UTC(), seq, append([]byte(nil), body...)
	return m, sigStructure(payload), sig, nil
}

// Stats counts what a Verifier (and the Bus built on one) did with the
// envelopes it was given.
type Stats struct {
	Delivered, Malformed, UnknownOrigin, Forged, Replayed, OutOfOrder, Stale, NoTarget, Misrouted uint64
}

// Rejected is the number of envelopes refused.
func (s Stats) Rejected() uint64 {
	return s.Malformed + s.UnknownOrigin + s.Forged + s.Replayed + s.OutOfOrder + s.Stale + s.NoTarget + s.Misrouted
}

// Add returns the sum of two sets of counters.
func (s Stats) Add(o Stats) Stats {
	return Stats{Delivered: s.Delivered + o.Delivered, Malformed: s.Malformed + o.Malformed, UnknownOrigin: s.UnknownOrigin + o.UnknownOrigin,
		Forged: s.Forged + o.Forged, Replayed: s.Replayed + o.Replayed, OutOfOrder: s.OutOfOrder + o.OutOfOrder, Stale: s.Stale + o.Stale,
		NoTarget: s.NoTarget + o.NoTarget, Misrouted: s.Misrouted + o.Misrouted}
}

// Order is the sequence-number policy of a channel (one origin sending
// to one target).
type Order int

const (
	// Strict accepts only the next number (last + 1): for lossless,
	// ordered channels such as the local bus or a JetStream stream. A
	// lower or equal number is a replay, a higher one a gap (out of order).
	Strict Order = iota
	// Monotonic accepts any number above the last accepted one: for lossy
	// channels (plain publish–subscribe) and for senders that number
	// their messages by clock, where numbers may be skipped but a message
	// is never accepted twice or backwards. A number below the last one
	// is a replay when it was accepted before (remembered for the last
	// 64 numbers; older ones count as replays) and out of order otherwise.
	Monotonic
)

// ErrMisrouted marks an envelope whose signed target is not where it was
// delivered (a valid message replayed onto another channel); a
// deliverable check that returns it has the envelope counted as Misrouted.
var ErrMisrouted = errors.New("mipp: misrouted envelope")

// Verifier checks envelopes from trusted origins: the COSE_Sign1
// structure, the ML-DSA-65 signature, the timestamp window and the
// sequence order of each channel (origin, target). Every refusal is
// counted. It is safe for concurrent use.
type Verifier struct {
	// Window bounds |timestamp − reference time| of an accepted message.
	Window time.Duration

	mu    sync.Mutex
	keys  map[string]*mldsa65.PublicKey
	last  map[[2]string]uint64
	seen  map[[2]string]uint64 // bit k: number last−k was accepted (Monotonic)
	stats Stats
}

// NewVerifier returns a Verifier that trusts no origin yet.
func NewVerifier(window time.Duration) *Verifier {
	return &Verifier{Window: window, keys: map[string]*mldsa65.PublicKey{}, last: map[[2]string]uint64{}, seen: map[[2]string]uint64{}}
}

// Trust adds an origin and its verification key.
func (v *Verifier) Trust(origin string, pk *mldsa65.PublicKey) error {
	if pk == nil {
		return fmt.Errorf("mipp: nil key for %q", origin)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, dup := v.keys[origin]; dup {
		return fmt.Errorf("mipp: origin %q trusted twice", origin)
	}
	v.keys[origin] = pk
	return nil
}

// Trusted reports whether origin has a key.
func (v *Verifier) Trusted(origin string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	_, ok := v.keys[origin]
	return ok
}

// Last returns the last sequence number accepted on a channel.
func (v *Verifier) Last(origin, target string) uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.last[[2]string{origin, target}]
}

// Stats returns the counters.
func (v *Verifier) Stats() Stats {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.stats
}

// Open verifies an envelope: structure, origin key, signature, timestamp
// within Window of ref, and the channel's order; then, when deliverable
// is not nil, that the message can be delivered (an error there counts
// as Misrouted when it wraps ErrMisrouted, as NoTarget otherwise, and
// does not consume the sequence number). An accepted message consumes its
// sequence number and counts as delivered. A rejected envelope is
// counted and returned as an error wrapping ErrMalformed,
// ErrUnknownOrigin, ErrForged, ErrMisrouted or describing the replay,
// gap, staleness or missing target.
func (v *Verifier) Open(env []byte, ref time.Time, order Order, deliverable func(Message) error) (Message, error) {
	m, signed, sig, err := Parse(env)
	v.mu.Lock()
	defer v.mu.Unlock()
	if err != nil {
		v.stats.Malformed++
		return Message{}, err
	}
	pk, ok := v.keys[m.Origin]
	if !ok {
		v.stats.UnknownOrigin++
		return Message{}, fmt.Errorf("%w %q", ErrUnknownOrigin, m.Origin)
	}
	if !mldsa65.Verify(pk, signed, nil, sig) {
		v.stats.Forged++
		return Message{}, fmt.Errorf("%w: message %d from %q", ErrForged, m.Sequence, m.Origin)
	}
	if d := m.Timestamp.Sub(ref); d > v.Window || d < -v.Window {
		v.stats.Stale++
		return Message{}, fmt.Errorf("mipp: message %d from %q is stale (%v from the reference time)", m.Sequence, m.Origin, d)
	}
	ch := [2]string{m.Origin, m.Target}
	switch last := v.last[ch]; {
	case order == Monotonic && m.Sequence < last && last-m.Sequence < 64 && v.seen[ch]&(1<<(last-m.Sequence)) == 0:
		v.stats.OutOfOrder++
		return Message{}, fmt.Errorf("mipp: out of order: message %d from %q to %q after %d", m.Sequence, m.Origin, m.Target, last)
	case m.Sequence <= last:
		v.stats.Replayed++
		return Message{}, fmt.Errorf("mipp: replay: message %d from %q to %q (last accepted %d)", m.Sequence, m.Origin, m.Target, last)
	case order == Strict && m.Sequence > last+1:
		v.stats.OutOfOrder++
		return Message{}, fmt.Errorf("mipp: out of order: message %d from %q to %q after %d", m.Sequence, m.Origin, m.Target, last)
	}
	if deliverable != nil {
		if err := deliverable(m); err != nil {
			if errors.Is(err, ErrMisrouted) {
				v.stats.Misrouted++
			} else {
				v.stats.NoTarget++
			}
			return Message{}, err
		}
	}
	if shift := m.Sequence - v.last[ch]; shift >= 64 {
		v.seen[ch] = 1
	} else {
		v.seen[ch] = v.seen[ch]<<shift | 1
	}
	v.last[ch] = m.Sequence
	v.stats.Delivered++
	return m, nil
}

// Bus delivers verified messages to per-module inboxes (buffered channels).
// It is safe for concurrent use.
type Bus struct {
	// Now is the bus clock (time.Now when nil).
	Now func() time.Time

	v     *Verifier
	mu    sync.Mutex
	inbox map[string]chan Message
}

// NewBus returns an empty bus with a one-minute timestamp window.
func NewBus() *Bus {
	return &Bus{v: NewVerifier(time.Minute), inbox: map[string]chan Message{}}
}

// Register adds a module: its verification key and an inbox of depth messages.
func (b *Bus) Register(name string, pk *mldsa65.PublicKey, depth int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.v.Trust(name, pk); err != nil {
		return fmt.Errorf("mipp: module %q registered twice", name)
	}
	b.inbox[name] = make(chan Message, depth)
	return nil
}

// Inbox returns the channel of messages delivered to name.
func (b *Bus) Inbox(name string) <-chan Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inbox[name]
}

// Stats returns the counters.
func (b *Bus) Stats() Stats { return b.v.Stats() }

// Send verifies an envelope (strict order per origin and target, a
// one-minute window around the bus clock) and delivers it to its target's
// inbox, blocking while the inbox is full (until ctx ends). A rejected
// envelope is counted and returned as an error (see Verifier.Open).
func (b *Bus) Send(ctx context.Context, env []byte) error {
	now := time.Now()
	if b.Now != nil {
		now = b.Now()
	}
	var in chan Message
	m, err := b.v.Open(env, now, Strict, func(m Message) error {
		b.mu.Lock()
		defer b.mu.Unlock()
		var ok bool
		if in, ok = b.inbox[m.Target]; !ok {
			return fmt.Errorf("mipp: no module %q", m.Target)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The sequence is consumed here, so a message whose delivery is
	// cancelled below cannot be replayed later.
	select {
	case in <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
