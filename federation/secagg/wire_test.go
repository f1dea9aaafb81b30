package secagg

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// sampleMessages runs a small round with a dropout (so every message kind
// has content) and returns one encoding of each kind, keyed by kind.
func sampleMessages(t testing.TB) map[byte][]byte {
	t.Helper()
	f := newFixture(t, 4, 3, 9, 60)
	mem := f.g.Members()
	out := map[byte][]byte{}
	kinds := map[string]byte{
		"shareset": KindShareSet, "delivery": KindDelivery, "masked": KindMaskedVector,
		"announcement": KindAnnouncement, "acceptance": KindAcceptance,
		"confirmation": KindConfirmation, "reveal": KindReveal,
	}
	spec := roundSpec{
		round: 300, clip: 1, inputs: inputs(f, rand.New(rand.NewPCG(1, 1)), 5, 1),
		noMasked: set(mem[3]), seed: 61,
		transcript: func(kind, from string, b []byte) { out[kinds[kind]] = bytes.Clone(b) },
	}
	if _, err := runRound(t, f, spec); err != nil {
		t.Fatal(err)
	}
	pub, _ := ParsePublicKey(f.pubs[mem[1]])
	ct, _, err := EncapsulatePair(mem[0], mem[1], 9, pub, rng(62))
	if err != nil {
		t.Fatal(err)
	}
	out[KindPairCiphertext], err = (&PairCiphertext{Epoch: 9, From: mem[0], To: mem[1], Ciphertext: ct}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type marshaler interface{ Marshal() ([]byte, error) }

// decoders maps each kind to its decoder and size limit.
var decoders = map[byte]struct {
	name  string
	limit int
	dec   func([]byte) (marshaler, error)
}{
	KindPairCiphertext: {"PairCiphertext", MaxPairCiphertextSize, func(b []byte) (marshaler, error) { return UnmarshalPairCiphertext(b) }},
	KindShareSet:       {"ShareSet", MaxShareSetSize, func(b []byte) (marshaler, error) { return UnmarshalShareSet(b) }},
	KindDelivery:       {"Delivery", MaxDeliverySize, func(b []byte) (marshaler, error) { return UnmarshalDelivery(b) }},
	KindMaskedVector:   {"MaskedVector", MaxMaskedVectorSize, func(b []byte) (marshaler, error) { return UnmarshalMaskedVector(b) }},
	KindAnnouncement:   {"Announcement", MaxAnnouncementSize, func(b []byte) (marshaler, error) { return UnmarshalAnnouncement(b) }},
	KindAcceptance:     {"Acceptance", MaxAcceptanceSize, func(b []byte) (marshaler, error) { return UnmarshalAcceptance(b) }},
	KindConfirmation:   {"Confirmation", MaxConfirmationSize, func(b []byte) (marshaler, error) { return UnmarshalConfirmation(b) }},
	KindReveal:         {"Reveal", MaxRevealSize, func(b []byte) (marshaler, error) { return UnmarshalReveal(b) }},
}

// decodeProperty is what every decoder guarantees for any input: no panic;
// an error wraps ErrMalformed or ErrVersion; a success re-encodes to the
// same bytes (one accepted encoding per message).
func decodeProperty(t *testing.T, kind byte, b []byte) {
	m, err := decoders[kind].dec(b)
	if err != nil {
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrVersion) {
			t.Fatalf("%s: error %v wraps neither ErrMalformed nor ErrVersion", decoders[kind].name, err)
		}
		return
	}
	re, err := m.Marshal()
	if err != nil {
		t.Fatalf("%s: decoded but does not re-encode: %v", decoders[kind].name, err)
	}
	if !bytes.Equal(re, b) {
		t.Fatalf("%s: re-encoding differs from the input", decoders[kind].name)
	}
}

func TestWireRoundTripAndRejects(t *testing.T) {
	msgs := sampleMessages(t)
	for kind, d := range decoders {
		b := msgs[kind]
		if b == nil {
			t.Fatalf("no sample %s", d.name)
		}
		t.Run(d.name, func(t *testing.T) {
			m, err := d.dec(b)
			if err != nil {
				t.Fatal(err)
			}
			if re, _ := m.Marshal(); !bytes.Equal(re, b) {
				t.Fatal("round trip differs")
			}
			// Every truncation.
			for n := range len(b) {
				if _, err := d.dec(b[:n]); !errors.Is(err, ErrMalformed) {
					t.Fatalf("truncated to %d of %d bytes: %v", n, len(b), err)
				}
			}
			// Trailing garbage.
			if _, err := d.dec(append(bytes.Clone(b), 0)); !errors.Is(err, ErrMalformed) {
				t.Fatalf("trailing byte: %v", err)
			}
			// Wrong version.
			v := bytes.Clone(b)
			v[0] = 2
			if _, err := d.dec(v); !errors.Is(err, ErrVersion) {
				t.Fatalf("version 2: %v", err)
			}
			// Wrong kind: each other kind's sample fails this decoder.
			for k2, b2 := range msgs {
				if k2 != kind {
					if _, err := d.dec(b2); !errors.Is(err, ErrMalformed) {
						t.Fatalf("%s decoded as %s: %v", decoders[k2].name, d.name, err)
					}
				}
			}
			// Oversized.
			big := make([]byte, d.limit+1)
			copy(big, b)
			if _, err := d.dec(big); !errors.Is(err, ErrMalformed) {
				t.Fatalf("oversized: %v", err)
			}
			// Single-byte corruptions never panic and keep the property.
			r := rand.New(rand.NewPCG(uint64(kind), 1))
			for range 2000 {
				c := bytes.Clone(b)
				c[r.IntN(len(c))] ^= byte(1 + r.IntN(255))
				decodeProperty(t, kind, c)
			}
		})
	}
	// Non-canonical CBOR: an epoch of 9 written with a one-byte argument.
	b := msgs[KindAnnouncement]
	nc := append([]byte{b[0], b[1], b[2], 0x18, 0x09}, b[4:]...)
	if _, err := UnmarshalAnnouncement(nc); !errors.Is(err, ErrMalformed) {
		t.Fatalf("non-canonical integer: %v", err)
	}
	t.Logf("error example: %v", func() error { _, err := UnmarshalReveal(msgs[KindReveal][:20]); return err }())
}

// Marshal refuses what the decoders would refuse.
func TestMarshalValidates(t *testing.T) {
	for _, m := range []marshaler{
		&PairCiphertext{From: "b", To: "a", Ciphertext: make([]byte, CiphertextSize)},
		&PairCiphertext{From: "a", To: "b", Ciphertext: make([]byte, 10)},
		&ShareSet{Sender: ""},
		&Delivery{Recipient: "a", Bundles: []Bundle{{Sender: "b", Recipient: "c", Ciphertext: make([]byte, 32)}}},
		&MaskedVector{Sender: "a"},
		&MaskedVector{Sender: "a", Data: make([]uint64, MaxDim+1)},
		&Announcement{Survivors: make([]string, 200), Dropped: make([]string, 100)},
		&Acceptance{Sender: "a"},
		&Confirmation{Acceptors: []string{"a", "b"}, Tags: make([][][TagSize]byte, 1)},
		&Reveal{Sender: "a"},
		&Reveal{Sender: "a", SelfShares: make([][32]byte, 3), PairShares: make([][32]byte, 4)},
	} {
		if _, err := m.Marshal(); !errors.Is(err, ErrMalformed) {
			t.Errorf("%T %+.60v: %v", m, m, err)
		}
	}
}

func fuzzDecoder(f *testing.F, kind byte) {
	msgs := sampleMessages(f)
	for _, b := range msgs {
		f.Add(b) // every kind, so the wrong-kind path is seeded too
	}
	b := msgs[kind]
	f.Add(b[:len(b)/2])
	f.Add([]byte{})
	f.Add([]byte{Version})
	f.Add([]byte{2, kind, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) { decodeProperty(t, kind, b) })
}

func FuzzDecodePairCiphertext(f *testing.F) { fuzzDecoder(f, KindPairCiphertext) }
func FuzzDecodeShareSet(f *testing.F)       { fuzzDecoder(f, KindShareSet) }
func FuzzDecodeDelivery(f *testing.F)       { fuzzDecoder(f, KindDelivery) }
func FuzzDecodeMaskedVector(f *testing.F)   { fuzzDecoder(f, KindMaskedVector) }
func FuzzDecodeAnnouncement(f *testing.F)   { fuzzDecoder(f, KindAnnouncement) }
func FuzzDecodeAcceptance(f *testing.F)     { fuzzDecoder(f, KindAcceptance) }
func FuzzDecodeConfirmation(f *testing.F)   { fuzzDecoder(f, KindConfirmation) }
func FuzzDecodeReveal(f *testing.F)         { fuzzDecoder(f, KindReveal) }
