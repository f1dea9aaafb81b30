package secagg

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cloudflare/circl/kem/mlkem/mlkem768"
)

// rng returns a deterministic io.Reader for a test seed.
func rng(seed uint64) io.Reader {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	s[31] = 0x5a
	return rand.NewChaCha8(s)
}

func names(m int) []string {
	out := make([]string, m)
	for i := range out {
		out[i] = fmt.Sprintf("edge-%02d", i)
	}
	return out
}

// fixture is a group whose members ran the ML-KEM pair key agreement
// (through the wire encoding) and hold Nodes.
type fixture struct {
	g     *Group
	nodes map[string]*Node
	sks   map[string]*mlkem768.PrivateKey
	pubs  map[string][]byte
}

func newFixture(t testing.TB, m, thr int, epoch uint64, seed uint64) *fixture {
	t.Helper()
	r := rng(seed)
	g, err := NewGroup(epoch, names(m), thr)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{g: g, nodes: map[string]*Node{}, sks: map[string]*mlkem768.PrivateKey{}, pubs: map[string][]byte{}}
	for _, s := range g.Members() {
		pk, sk, err := mlkem768.GenerateKeyPair(r)
		if err != nil {
			t.Fatal(err)
		}
		f.sks[s] = sk
		f.pubs[s] = make([]byte, PublicKeySize)
		pk.Pack(f.pubs[s])
	}
	secrets := map[string]map[string][32]byte{}
	for _, s := range g.Members() {
		secrets[s] = map[string][32]byte{}
	}
	mem := g.Members()
	for i, a := range mem {
		for _, b := range mem[i+1:] {
			pub, err := ParsePublicKey(f.pubs[b])
			if err != nil {
				t.Fatal(err)
			}
			ct, sa, err := EncapsulatePair(a, b, epoch, pub, r)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := (&PairCiphertext{Epoch: epoch, From: a, To: b, Ciphertext: ct}).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			msg, err := UnmarshalPairCiphertext(enc)
			if err != nil {
				t.Fatal(err)
			}
			sb, err := DecapsulatePair(msg.To, msg.From, msg.Epoch, f.sks[b], msg.Ciphertext)
			if err != nil {
				t.Fatal(err)
			}
			if sa != sb {
				t.Fatalf("pair %s/%s: secrets differ", a, b)
			}
			secrets[a][b], secrets[b][a] = sa, sb
		}
	}
	for _, s := range mem {
		n, err := NewNode(g, s, secrets[s])
		if err != nil {
			t.Fatal(err)
		}
		f.nodes[s] = n
	}
	return f
}

// roundSpec says who does what in a round.
type roundSpec struct {
	round      uint64
	clip       float64
	inputs     map[string][]float64
	noShares   map[string]bool // never send a ShareSet
	noMasked   map[string]bool // send shares, then drop before y
	noAccept   map[string]bool // send y, then drop before accepting
	noReveal   map[string]bool // accept, then drop before revealing
	seed       uint64
	wire       bool                                     // pass every message through Marshal/Unmarshal
	tamperRev  func(sender string, r *Reveal)           // corrupt a reveal before the relay sees it
	transcript func(kind string, from string, b []byte) // observe what the relay sees
}

type roundOut struct {
	sum     []float64
	n       int
	ann     *Announcement
	conf    *Confirmation
	clients map[string]*Client
	agg     *Aggregator
}

func roundTrip[T any](t testing.TB, wire bool, msg T, marshal func(T) ([]byte, error), unmarshal func([]byte) (T, error), obs func([]byte)) T {
	t.Helper()
	if !wire && obs == nil {
		return msg
	}
	b, err := marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	if obs != nil {
		obs(b)
	}
	if !wire {
		return msg
	}
	out, err := unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// runRound runs one round; it fails the test on unexpected errors before
// the step whose error it returns (Deliveries, Announce, Confirm or
// Result).
func runRound(t testing.TB, f *fixture, spec roundSpec) (*roundOut, error) {
	t.Helper()
	r := rng(spec.seed)
	dim := 0
	for _, x := range spec.inputs {
		dim = len(x)
	}
	obs := func(kind, from string) func([]byte) {
		if spec.transcript == nil {
			return nil
		}
		return func(b []byte) { spec.transcript(kind, from, b) }
	}
	agg, err := NewAggregator(f.g, spec.round, spec.clip, dim)
	if err != nil {
		t.Fatal(err)
	}
	out := &roundOut{clients: map[string]*Client{}, agg: agg}
	for _, s := range f.g.Members() {
		if spec.noShares[s] {
			continue
		}
		c, err := f.nodes[s].NewClient(spec.round, r)
		if err != nil {
			t.Fatal(err)
		}
		out.clients[s] = c
		ss, err := c.ShareSet()
		if err != nil {
			t.Fatal(err)
		}
		ss = roundTrip(t, spec.wire, ss, (*ShareSet).Marshal, UnmarshalShareSet, obs("shareset", s))
		if err := agg.AddShareSet(ss); err != nil {
			t.Fatal(err)
		}
	}
	dels, err := agg.Deliveries()
	if err != nil {
		return out, err
	}
	for _, s := range f.g.Members() {
		c := out.clients[s]
		if c == nil {
			continue
		}
		d := roundTrip(t, spec.wire, dels[s], (*Delivery).Marshal, UnmarshalDelivery, obs("delivery", s))
		mv, err := c.Mask(spec.inputs[s], spec.clip, d)
		if err != nil {
			t.Fatal(err)
		}
		if spec.noMasked[s] {
			continue
		}
		mv = roundTrip(t, spec.wire, mv, (*MaskedVector).Marshal, UnmarshalMaskedVector, obs("masked", s))
		if err := agg.AddMasked(mv); err != nil {
			t.Fatal(err)
		}
	}
	ann, err := agg.Announce()
	if err != nil {
		return out, err
	}
	out.ann = ann
	ann = roundTrip(t, spec.wire, ann, (*Announcement).Marshal, UnmarshalAnnouncement, obs("announcement", ""))
	for _, s := range ann.Survivors {
		if spec.noAccept[s] {
			continue
		}
		acc, err := out.clients[s].Accept(ann)
		if err != nil {
			t.Fatal(err)
		}
		acc = roundTrip(t, spec.wire, acc, (*Acceptance).Marshal, UnmarshalAcceptance, obs("acceptance", s))
		if err := agg.AddAcceptance(acc); err != nil {
			t.Fatal(err)
		}
	}
	conf, err := agg.Confirm()
	if err != nil {
		return out, err
	}
	out.conf = conf
	conf = roundTrip(t, spec.wire, conf, (*Confirmation).Marshal, UnmarshalConfirmation, obs("confirmation", ""))
	for _, s := range conf.Acceptors {
		if spec.noReveal[s] {
			continue
		}
		rv, err := out.clients[s].Reveal(conf)
		if err != nil {
			t.Fatal(err)
		}
		if spec.tamperRev != nil {
			spec.tamperRev(s, rv)
		}
		rv = roundTrip(t, spec.wire, rv, (*Reveal).Marshal, UnmarshalReveal, obs("reveal", s))
		if err := agg.AddReveal(rv); err != nil {
			t.Fatal(err)
		}
	}
	out.sum, out.n, err = agg.Result()
	return out, err
}

// clippedInput draws a vector of n elements with L2 norm at most clip.
func clippedInput(r *rand.Rand, n int, clip float64) []float64 {
	x := make([]float64, n)
	var ss float64
	for i := range x {
		x[i] = r.NormFloat64()
		ss += x[i] * x[i]
	}
	k := clip * r.Float64() / math.Sqrt(ss)
	for i := range x {
		x[i] *= k
	}
	return x
}

func set(ss ...string) map[string]bool {
	m := map[string]bool{}
	for _, s := range ss {
		m[s] = true
	}
	return m
}
