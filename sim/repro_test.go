package sim_test

import (
	"context"
	"maps"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/backendtest"
	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/sim"
	"github.com/prismai/mec/sim/simtest"
)

// reproCircuit is a 14-qubit random circuit with terminal measurements
// (sampled) and, with midMeasure, a mid-circuit measurement and a reset
// (trajectories).
func reproCircuit(midMeasure bool) *circuit.Circuit {
	rng := rand.New(rand.NewPCG(11, 12))
	c := backendtest.RandomCircuit(rng, 14, 60)
	if midMeasure {
		c.Measure(3, 3).Reset(5)
		c.Append("h", nil, 3).Append("cx", nil, 3, 5)
	}
	for q := 0; q < c.Qubits; q++ {
		if !midMeasure || q != 3 {
			c.Measure(q, q)
		}
	}
	return c
}

// TestCountsReproducibleAcrossThreads: the same seed gives identical shot
// counts on 1, 2, 3 and 8 worker threads and both precisions' fusion
// settings, for sampled and for trajectory circuits; another seed differs.
func TestCountsReproducibleAcrossThreads(t *testing.T) {
	for _, mid := range []bool{false, true} {
		c := reproCircuit(mid)
		shots := 4000
		if mid {
			shots = 60
		}
		var ref map[string]int
		for _, threads := range []int{1, 2, 3, 8} {
			for _, fuse := range []int{0, 3} {
				s := sim.NewWith(cpu.New(cpu.Options{Threads: threads}), sim.Options{Precision: backend.Complex128, Fuse: fuse, Seed: 42})
				got, err := s.Counts(context.Background(), c, shots)
				if err != nil {
					t.Fatal(err)
				}
				if ref == nil {
					ref = got
					continue
				}
				if !maps.Equal(ref, got) {
					t.Fatalf("mid=%v threads=%d fuse=%d: counts differ from the first run", mid, threads, fuse)
				}
			}
		}
		s := sim.NewWith(cpu.New(cpu.Options{}), sim.Options{Precision: backend.Complex128, Fuse: 3, Seed: 43})
		other, err := s.Counts(context.Background(), c, shots)
		if err != nil {
			t.Fatal(err)
		}
		if maps.Equal(ref, other) {
			t.Errorf("mid=%v: seeds 42 and 43 gave identical counts", mid)
		}
	}
}

// TestCountsDistribution: sampled counts of a random 6-qubit state pass a
// χ² test against |ψ|² (fixed seed; threshold at p ≈ 1e-6 for 63 degrees
// of freedom).
func TestCountsDistribution(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	c := backendtest.RandomCircuit(rng, 6, 40)
	v, err := simtest.StateVector(c)
	if err != nil {
		t.Fatal(err)
	}
	for q := 0; q < 6; q++ {
		c.Measure(q, q)
	}
	const shots = 200000
	s := sim.NewWith(cpu.New(cpu.Options{}), sim.Options{Precision: backend.Complex128, Fuse: 3, Seed: 7})
	counts, err := s.Counts(context.Background(), c, shots)
	if err != nil {
		t.Fatal(err)
	}
	chi2 := 0.0
	for i, a := range v {
		p := real(a)*real(a) + imag(a)*imag(a)
		key := ""
		for b := 5; b >= 0; b-- {
			key += string("01"[i>>b&1])
		}
		e := p * shots
		if e < 1e-9 {
			if counts[key] != 0 {
				t.Fatalf("outcome %s has probability %g but %d counts", key, p, counts[key])
			}
			continue
		}
		d := float64(counts[key]) - e
		chi2 += d * d / e
	}
	if chi2 > 130 || math.IsNaN(chi2) {
		t.Errorf("χ² = %.1f for 63 degrees of freedom", chi2)
	}
}

// TestMidCircuitMeasureReset: h; measure; reset leaves |0⟩ and the
// recorded bit is 0 or 1 with frequency ½ over seeds.
func TestMidCircuitMeasureReset(t *testing.T) {
	c := circuit.New(1)
	c.Append("h", nil, 0).Measure(0, 0).Reset(0)
	ones := 0
	for seed := uint64(0); seed < 400; seed++ {
		s := sim.NewWith(cpu.New(cpu.Options{}), sim.Options{Precision: backend.Complex128, Seed: seed})
		res, err := s.Run(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		v := make([]complex128, 2)
		if err := res.State.Read(v); err != nil {
			t.Fatal(err)
		}
		res.State.Free()
		if math.Abs(real(v[0])-1) > 1e-12 || v[1] != 0 {
			t.Fatalf("seed %d: state after reset %v", seed, v)
		}
		if res.Bits[0] {
			ones++
		}
	}
	if math.Abs(float64(ones)-200) > 5*10 { // 5σ, σ = √(400/4)
		t.Errorf("measured 1 in %d of 400 runs", ones)
	}
}
