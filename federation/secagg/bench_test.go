package secagg

import (
	"math/rand/v2"
	"testing"
	"time"
)

// Benchmarks at 1M parameters (1<<20 elements), m = 4 edges, t = 3. Each
// reports ns/elem (wall time per vector element of the measured step) and
// cpu-ns/elem (process CPU time per element over the same sections; with
// GOMAXPROCS > 1 it adds up the parallel segments).
// Mask = input checks + quantization + 4 AES-256-CTR mask streams (self +
// 3 pairs); Unmask = Aggregator.Result (reconstruction + removing the self
// masks, and the dangling pair masks with a dropout) + dequantization.

const benchDim = 1 << 20

type benchRound struct {
	f       *fixture
	agg     *Aggregator
	clients map[string]*Client
	dels    map[string]*Delivery
	in      map[string][]float64
}

func benchSetup(b *testing.B) (*fixture, map[string][]float64) {
	b.Helper()
	f := newFixture(b, 4, 3, 1, 99)
	return f, inputs(f, rand.New(rand.NewPCG(1, 2)), benchDim, 1)
}

// shareRound runs a round's share phase.
func shareRound(b *testing.B, f *fixture, in map[string][]float64, round uint64) *benchRound {
	b.Helper()
	agg, err := NewAggregator(f.g, round, 1, benchDim)
	if err != nil {
		b.Fatal(err)
	}
	br := &benchRound{f: f, agg: agg, clients: map[string]*Client{}, in: in}
	for _, s := range f.g.Members() {
		c, err := f.nodes[s].NewClient(round, rng(round))
		if err != nil {
			b.Fatal(err)
		}
		ss, _ := c.ShareSet()
		if err := agg.AddShareSet(ss); err != nil {
			b.Fatal(err)
		}
		br.clients[s] = c
	}
	if br.dels, err = agg.Deliveries(); err != nil {
		b.Fatal(err)
	}
	return br
}

// finishRound masks, announces, accepts, confirms and reveals; dropped
// members mask but their vectors never reach the relay.
func (br *benchRound) finish(b *testing.B, dropped map[string]bool) {
	b.Helper()
	for _, s := range br.f.g.Members() {
		mv, err := br.clients[s].Mask(br.in[s], 1, br.dels[s])
		if err != nil {
			b.Fatal(err)
		}
		if !dropped[s] {
			if err := br.agg.AddMasked(mv); err != nil {
				b.Fatal(err)
			}
		}
	}
	ann, err := br.agg.Announce()
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range ann.Survivors {
		x, _ := br.clients[s].Accept(ann)
		if err := br.agg.AddAcceptance(x); err != nil {
			b.Fatal(err)
		}
	}
	conf, err := br.agg.Confirm()
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range conf.Acceptors {
		rv, _ := br.clients[s].Reveal(conf)
		if err := br.agg.AddReveal(rv); err != nil {
			b.Fatal(err)
		}
	}
}

// perElem reports wall and CPU time per element of the timed sections.
func perElem(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchDim, "ns/elem")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/benchDim, "cpu-ns/elem")
}

func BenchmarkMask(b *testing.B) {
	f, in := benchSetup(b)
	s := f.g.Members()[1] // masks with b_s and 3 pair seeds (one subtracted, two added)
	round := uint64(1)
	var cpu time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		br := shareRound(b, f, in, round)
		round++
		b.StartTimer()
		c0 := processCPU()
		if _, err := br.clients[s].Mask(in[s], 1, br.dels[s]); err != nil {
			b.Fatal(err)
		}
		cpu += processCPU() - c0
	}
	perElem(b, cpu)
}

func benchUnmask(b *testing.B, dropped map[string]bool) {
	f, in := benchSetup(b)
	round := uint64(1)
	var cpu time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		br := shareRound(b, f, in, round)
		round++
		br.finish(b, dropped)
		b.StartTimer()
		c0 := processCPU()
		if _, _, err := br.agg.Result(); err != nil {
			b.Fatal(err)
		}
		cpu += processCPU() - c0
	}
	perElem(b, cpu)
}

func BenchmarkUnmask(b *testing.B) { benchUnmask(b, nil) }

// One of four dropped: 3 self masks and 3 dangling pair masks to remove.
func BenchmarkUnmaskOneDropout(b *testing.B) { benchUnmask(b, set("edge-02")) }

// BenchmarkAddMasked is the relay's per-vector accumulation (checks and one
// mod-2^64 vector add).
func BenchmarkAddMasked(b *testing.B) {
	f, in := benchSetup(b)
	br := shareRound(b, f, in, 1)
	s := f.g.Members()[0]
	mv, err := br.clients[s].Mask(in[s], 1, br.dels[s])
	if err != nil {
		b.Fatal(err)
	}
	var cpu time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		br.agg.arrived[0] = false
		b.StartTimer()
		c0 := processCPU()
		if err := br.agg.AddMasked(mv); err != nil {
			b.Fatal(err)
		}
		cpu += processCPU() - c0
	}
	perElem(b, cpu)
}

// BenchmarkMaskedVectorWire is Marshal plus Unmarshal of a 1M-element
// masked vector (8 MiB).
func BenchmarkMaskedVectorWire(b *testing.B) {
	mv := &MaskedVector{Epoch: 1, Round: 1, Sender: "edge-00", Clip: 1, Participants: names(4), Data: make([]uint64, benchDim)}
	b.SetBytes(8 * benchDim)
	c0 := processCPU()
	for range b.N {
		enc, err := mv.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := UnmarshalMaskedVector(enc); err != nil {
			b.Fatal(err)
		}
	}
	perElem(b, processCPU()-c0)
}
