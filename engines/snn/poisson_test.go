package snn

import (
	"bytes"
	"slices"
	"testing"
)

// poissonNet is a small network driven by two Poisson groups through a
// delayed projection.
func poissonNet() *Network {
	n := &Network{DtMs: 0.1, Seed: 11}
	n.AddPopulation(Population{Name: "e", Size: 20, Neuron: LIF{TauMMs: 10, VRestMV: -60, VThMV: -50, VResetMV: -60}, TauSynMs: 5})
	n.AddPoisson(PoissonGroup{Name: "p", Size: 30, RateHz: 400, TauSynMs: 5})
	n.AddPoisson(PoissonGroup{Name: "q", Size: 7, RateHz: 900, TauSynMs: 5})
	n.Connect(Projection{From: "p", To: "e", Rule: RuleFixedProbability, P: 0.3, WeightMV: 2, DelayMs: 0.3})
	n.Connect(Projection{From: "q", To: "e", Rule: RuleAllToAll, WeightMV: 1})
	return n
}

// TestPoissonSource: the source alone spikes as the network's Sim does,
// step for step, and its snapshot part restores into another source.
func TestPoissonSource(t *testing.T) {
	net := poissonNet()
	sim, err := net.Build(Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	src, err := NewPoissonSource(net)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(src.Sizes(), []int{30, 7}) {
		t.Fatalf("sizes %v", src.Sizes())
	}
	names := []string{"p", "q"}
	prev := [][]int64{slices.Clone(sim.PoissonCounts("p")), slices.Clone(sim.PoissonCounts("q"))}
	total := 0
	for step := 0; step < 200; step++ {
		sim.Step()
		var want, got [][2]int
		for g, name := range names {
			for k, c := range sim.PoissonCounts(name) {
				if c != prev[g][k] {
					want = append(want, [2]int{g, k})
				}
			}
			prev[g] = slices.Clone(sim.PoissonCounts(name))
		}
		src.Step(func(g, k int) { got = append(got, [2]int{g, k}) })
		if !slices.Equal(got, want) {
			t.Fatalf("step %d: source spikes %v, Sim %v", step, got, want)
		}
		total += len(got)
	}
	if total == 0 {
		t.Fatal("no Poisson spikes in 200 steps")
	}
	part, err := src.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewPoissonSource(net)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Restore(200, part); err != nil {
		t.Fatal(err)
	}
	for step := 0; step < 50; step++ {
		var a, b [][2]int
		src.Step(func(g, k int) { a = append(a, [2]int{g, k}) })
		other.Step(func(g, k int) { b = append(b, [2]int{g, k}) })
		if !slices.Equal(a, b) {
			t.Fatalf("step %d after restore: %v, want %v", step, b, a)
		}
	}
	if err := other.Restore(0, part[:1]); err == nil {
		t.Error("a snapshot part of one group accepted for two")
	}
	if err := other.Restore(-1, part); err == nil {
		t.Error("a negative step accepted")
	}
}

// TestDecodeSnapshot: a Sim's snapshot decodes into the explicit type and
// encodes back to the same bytes; kicks, injections and spike steps out
// of range are refused.
func TestDecodeSnapshot(t *testing.T) {
	sim, err := poissonNet().Build(Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	sim.Run(100)
	if err := sim.InjectCurrent(3, 0.5); err != nil {
		t.Fatal(err)
	}
	b, err := sim.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	shape := sim.engine.shape()
	snap, err := DecodeSnapshot(b, shape)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Step != 100 || len(snap.Injections) != 1 || snap.Injections[0].Neuron != 3 || snap.InjAt[3] != 0 || len(snap.Poisson) != 2 {
		t.Fatalf("decoded step %d, injections %+v, %d Poisson groups", snap.Step, snap.Injections, len(snap.Poisson))
	}
	again, err := snap.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, b) {
		t.Fatal("the decoded snapshot does not encode to the same bytes")
	}
	for name, spoil := range map[string]func(s *Snapshot){
		"kick":      func(s *Snapshot) { s.Force = []int{len(s.V)} },
		"injection": func(s *Snapshot) { s.Injections[0].Neuron = -1 },
		"injAt":     func(s *Snapshot) { s.InjAt[0] = 5 },
		"last":      func(s *Snapshot) { s.Last[0] = s.Step + 1 },
	} {
		bad, _ := DecodeSnapshot(b, shape)
		spoil(bad)
		enc, err := bad.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeSnapshot(enc, shape); err == nil {
			t.Errorf("a snapshot with a bad %s decoded", name)
		}
		if err := sim.Restore(enc); err == nil {
			t.Errorf("a snapshot with a bad %s restored", name)
		}
	}
	if _, err := DecodeSnapshot(append(b, 0), shape); err == nil {
		t.Error("trailing bytes accepted")
	}
}
