package bus

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

func seed(b byte) (s [32]byte) {
	for i := range s {
		s[i] = b + byte(i)
	}
	return s
}

func setup(t *testing.T) (*Bus, *Identity, *Identity) {
	t.Helper()
	bus := NewBus()
	a, g := NewIdentity("QuantumFusion", seed(1)), NewIdentity("Governance", seed(2))
	if err := bus.Register(a.Name(), a.PublicKey(), 8); err != nil {
		t.Fatal(err)
	}
	if err := bus.Register(g.Name(), g.PublicKey(), 8); err != nil {
		t.Fatal(err)
	}
	return bus, a, g
}

func TestProtectedHeaderBytes(t *testing.T) {
	if !bytes.Equal(protected, []byte{0xa1, 0x01, 0x38, 0x30}) {
		t.Errorf("protected header % x, want a1 01 38 30 ({1: -49})", protected)
	}
}

func TestSealParseRoundTrip(t *testing.T) {
	_, a, _ := setup(t)
	now := time.Unix(1700000000, 123456789).UTC()
	env, err := a.Seal("Governance", []byte("h_coh=0.12"), now)
	if err != nil {
		t.Fatal(err)
	}
	if env[0] != 0xd2 { // tag 18
		t.Errorf("envelope starts % x, want the COSE_Sign1 tag d2", env[:1])
	}
	m, _, _, err := Parse(env)
	if err != nil {
		t.Fatal(err)
	}
	if m.Origin != "QuantumFusion" || m.Target != "Governance" || m.Sequence != 1 || !m.Timestamp.Equal(now) || string(m.Body) != "h_coh=0.12" {
		t.Errorf("parsed %+v", m)
	}
}

// TestBusRejects: forged, replayed, out-of-order, stale, unknown-origin,
// malformed and untargeted envelopes are rejected and counted; good ones
// are delivered in order.
func TestBusRejects(t *testing.T) {
	bus, a, g := setup(t)
	ctx := context.Background()
	now := time.Now()
	e1, _ := a.Seal("Governance", []byte("one"), now)
	e2, _ := a.Seal("Governance", []byte("two"), now)
	e3, _ := a.Seal("Governance", []byte("three"), now)
	if err := bus.Send(ctx, e2); err == nil {
		t.Error("message 2 before 1 accepted")
	}
	if err := bus.Send(ctx, e1); err != nil {
		t.Fatal(err)
	}
	if err := bus.Send(ctx, e1); err == nil {
		t.Error("replay of message 1 accepted")
	}
	if err := bus.Send(ctx, e2); err != nil {
		t.Fatal(err)
	}
	forged := append([]byte(nil), e3...)
	forged[len(forged)-10] ^= 1 // signature byte
	if err := bus.Send(ctx, forged); !errors.Is(err, ErrForged) {
		t.Errorf("bad signature: %v", err)
	}
	tampered := bytes.Replace(e3, []byte("three"), []byte("THREE"), 1)
	if err := bus.Send(ctx, tampered); !errors.Is(err, ErrForged) {
		t.Errorf("tampered body: %v", err)
	}
	// A message claiming to be from Governance but signed with a's key.
	impostor, _ := SealMessage(a.sk, Message{Origin: "Governance", Target: "QuantumFusion", Timestamp: now, Sequence: 1})
	if err := bus.Send(ctx, impostor); !errors.Is(err, ErrForged) {
		t.Errorf("impostor: %v", err)
	}
	stranger := NewIdentity("Stranger", seed(9))
	es, _ := stranger.Seal("Governance", nil, now)
	if err := bus.Send(ctx, es); !errors.Is(err, ErrUnknownOrigin) {
		t.Errorf("unknown origin: %v", err)
	}
	old, _ := g.Seal("QuantumFusion", nil, now.Add(-time.Hour))
	if err := bus.Send(ctx, old); err == nil {
		t.Error("stale message accepted")
	}
	if err := bus.Send(ctx, []byte{0xd2, 0x84, 0x40}); !errors.Is(err, ErrMalformed) {
		t.Errorf("truncated envelope: %v", err)
	}
	lost, _ := SealMessage(g.sk, Message{Origin: "Governance", Target: "Nobody", Timestamp: now, Sequence: 1})
	if err := bus.Send(ctx, lost); err == nil {
		t.Error("message to an unknown module accepted")
	}
	if err := bus.Send(ctx, e3); err != nil {
		t.Fatal(err)
	}
	in := bus.Inbox("Governance")
	for _, want := range []string{"one", "two", "three"} {
		if m := <-in; string(m.Body) != want {
			t.Errorf("delivered %q, want %q", m.Body, want)
		}
	}
	st := bus.Stats()
	want := Stats{Delivered: 3, Malformed: 1, UnknownOrigin: 1, Forged: 3, Replayed: 1, OutOfOrder: 1, Stale: 1, NoTarget: 1}
	if st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
	if st.Rejected() != 9 {
		t.Errorf("rejected %d", st.Rejected())
	}
}

func FuzzParse(f *testing.F) {
	a := NewIdentity("x", seed(3))
	env, _ := a.Seal("y", []byte("body"), time.Unix(1, 0))
	f.Add(env)
	f.Add([]byte{0xd2, 0x84})
	f.Add([]byte{0xd2, 0x84, 0x44, 0xa1, 0x01, 0x38, 0x30, 0xa0, 0x5f})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, signed, sig, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if len(sig) == 0 || len(signed) == 0 {
			t.Fatalf("parsed %+v without signed bytes", m)
		}
	})
}

// TestMonotonic: a lossy channel accepts gaps, refuses replays and
// classifies a late number as out of order.
func TestMonotonic(t *testing.T) {
	a := NewIdentity("node-a", seed(4))
	v := NewVerifier(time.Minute)
	if err := v.Trust("node-a", a.PublicKey()); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	env := func(seq uint64) []byte {
		e, err := SealMessage(a.sk, Message{Origin: "node-a", Target: "hb", Timestamp: now, Sequence: seq})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	open := func(seq uint64) error { _, err := v.Open(env(seq), now, Monotonic, nil); return err }
	for _, s := range []uint64{5, 9, 200} {
		if err := open(s); err != nil {
			t.Fatalf("seq %d: %v", s, err)
		}
	}
	if err := open(200); err == nil {
		t.Error("replay of 200 accepted")
	}
	if err := open(150); err == nil {
		t.Error("late 150 accepted")
	}
	if err := open(9); err == nil {
		t.Error("replay of 9 accepted")
	}
	if err := open(201); err != nil {
		t.Fatal(err)
	}
	if err := open(200); err == nil {
		t.Error("replay of 200 after 201 accepted")
	}
	if err := open(199); err == nil {
		t.Error("late 199 accepted")
	}
	st := v.Stats()
	if st.Delivered != 4 || st.Replayed != 3 || st.OutOfOrder != 2 {
		// Replays: 200, 9 (older than the 64-number window) and 200 again;
		// out of order: 150 and 199 (unseen numbers within the window).
		t.Errorf("stats %+v: want 4 delivered, 3 replayed, 2 out of order", st)
	}
	if _, err := v.Open(env(202), now.Add(2*time.Minute), Monotonic, nil); err == nil {
		t.Error("message two minutes before the reference time accepted")
	}
	if _, err := v.Open(env(203), now, Monotonic, func(Message) error { return ErrMisrouted }); !errors.Is(err, ErrMisrouted) || v.Stats().Misrouted != 1 {
		t.Errorf("misrouted: %v %+v", err, v.Stats())
	}
	if err := open(203); err != nil {
		t.Errorf("a misrouted copy must not consume the number: %v", err)
	}
}
