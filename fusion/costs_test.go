package fusion

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prismai/mec/backend/cpu"
)

// TestCosts: the cost breakdown of a few steps on the coupled and the host
// path names every phase once, in order; the phase times add up to no more
// than the steps' wall time; the traffic is what each path's passes move
// (the Trotter phase two state sizes per fused gate, the coupled fold one
// read, its statistics a read and a read-write); ResetCosts starts over.
func TestCosts(t *testing.T) {
	be := cpu.New(cpu.Options{})
	eng := Engines{State: be, Spiking: be, Spectral: be}
	for _, host := range []bool{false, true} {
		cfg := DefaultConfig()
		cfg.Qubits, cfg.Hamiltonian = 10, DefaultHamiltonian(10)
		sys, err := New(cfg, eng)
		if err != nil {
			t.Fatal(err)
		}
		sys.hostPath = host
		const steps = 4
		t0 := time.Now()
		for i := 0; i < steps; i++ {
			if _, _, err := sys.Step(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		wall := time.Since(t0).Seconds()
		c := sys.Costs()
		if c.Steps != steps || len(c.Phases) != len(Phases) {
			t.Fatalf("host=%v: %d steps, %d phases", host, c.Steps, len(c.Phases))
		}
		sum := 0.0
		for i, p := range c.Phases {
			if p.Phase != Phases[i] || p.Seconds < 0 || (p.Seconds > 0) != (p.MsPerStep > 0) {
				t.Errorf("host=%v: phase %d: %+v", host, i, p)
			}
			sum += p.Seconds
		}
		if sum > wall || sum <= 0 {
			t.Errorf("host=%v: phases take %.3g s of %.3g s", host, sum, wall)
		}
		state := 16.0 * 1024 // one read of 2^10 complex128 amplitudes
		tr := c.Phase(PhaseTrotter)
		if tr.Passes < 1 || tr.BytesPerStep != 2*state*float64(tr.Passes) {
			t.Errorf("host=%v: trotter %+v", host, tr)
		}
		// Both paths transform the 64 neurons' signal (F[S] is its
		// spectrum at stride D/n).
		if fft := c.Phase(PhaseFFT); fft.FFTLen != 64 || fft.FFTKind == "" {
			t.Errorf("host=%v: fft %+v", host, fft)
		}
		if !host {
			if f, s := c.Phase(PhaseFold), c.Phase(PhaseStats); f.BytesPerStep != state || s.BytesPerStep != 3*state {
				t.Errorf("coupled fold %+v, statistics %+v", f, s)
			}
			if c.Phase(PhaseSpiking).BytesPerStep != 0 || c.Phase(PhaseKick).BytesPerStep != 0 {
				t.Errorf("coupled spiking or kick with state traffic: %+v", c)
			}
		}
		sys.ResetCosts()
		if c := sys.Costs(); c.Steps != 0 || c.Phase(PhaseTrotter).Seconds != 0 {
			t.Errorf("after ResetCosts: %+v", c)
		}
		sys.Close()
	}
}

// TestPsiLazy: on the coupled path the host copy of ψ is not kept, and Psi
// reads the initial state from the backend before the first step.
func TestPsiLazy(t *testing.T) {
	be := cpu.New(cpu.Options{})
	cfg := DefaultConfig()
	cfg.Qubits, cfg.Hamiltonian = 8, DefaultHamiltonian(8)
	sys, err := New(cfg, Engines{State: be, Spiking: be, Spectral: be})
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	if sys.psi != nil || sys.fft != nil || sys.spec[0] != nil {
		t.Fatal("the coupled path allocated host vectors of the state's size")
	}
	psi := sys.Psi()
	if len(psi) != 256 || real(psi[17]) != 1.0/16 || imag(psi[17]) != 0 {
		t.Fatalf("Psi before the first step: len %d, ψ[17] = %v", len(psi), psi[17])
	}
	if sys.LastSpectrum() != nil {
		t.Fatal("a spectrum before the first step")
	}
}

// TestCostsWithBounds: phases with passes get their bytes at the
// bandwidth as their bound, the transform the reference's time when there
// is one, the neuron-sized phases none; the step's bound is all the bytes
// at the bandwidth, and each time over its bound is the quotient.
func TestCostsWithBounds(t *testing.T) {
	c := Costs{Steps: 1, MsPerStep: 10, Phases: []PhaseCost{
		{Phase: PhaseTrotter, MsPerStep: 6, BytesPerStep: 20e6, Passes: 5},
		{Phase: PhaseSpiking, MsPerStep: 1},
		{Phase: PhaseFFT, MsPerStep: 0.01, FFTLen: 64, FFTKind: "r2c128"},
		{Phase: PhaseStats, MsPerStep: 3, BytesPerStep: 10e6, Passes: 2},
	}}
	b := c.WithBounds(10e9, func(kind string, n int) (float64, string) { return 500, "ref" })
	if p := b.Phase(PhaseTrotter); p.BoundMs != 2 || p.TimeOverBound != 3 || p.Bound == "" {
		t.Errorf("trotter %+v", p)
	}
	if p := b.Phase(PhaseSpiking); p.BoundMs != 0 || p.TimeOverBound != 0 || p.Bound != "" {
		t.Errorf("spiking %+v", p)
	}
	if p := b.Phase(PhaseFFT); p.BoundMs != 5e-4 || math.Abs(p.TimeOverBound-20) > 1e-12 || p.Bound != "ref" {
		t.Errorf("fft %+v", p)
	}
	if b.BoundMs != 3 || math.Abs(b.TimeOverBound-10.0/3) > 1e-12 {
		t.Errorf("step bound %v ms, time over it %v", b.BoundMs, b.TimeOverBound)
	}
	if c.Phases[0].BoundMs != 0 {
		t.Error("WithBounds changed the receiver's phases")
	}
	if p := c.WithBounds(10e9, nil).Phase(PhaseFFT); p.BoundMs != 0 || p.Bound != "" {
		t.Errorf("fft without a reference: %+v", p)
	}
}
