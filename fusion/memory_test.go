package fusion_test

import (
	"context"
	"math"
	"math/cmplx"
	"slices"
	"testing"

	"github.com/prismai/mec/fusion"
)

// TestMemoryStore: Overlap is the expected fraction of agreeing bits (for
// a rotated basis state, the closed form RecallAccuracy uses); the store
// keeps patterns at least MinDistance apart, reinforcing closer ones; a
// stored pattern with one bit flipped and every qubit rotated is recalled.
func TestMemoryStore(t *testing.T) {
	const n = 6
	noise := 0.4
	c2 := math.Cos(noise/2) * math.Cos(noise/2)
	for _, tc := range []struct{ s, probe uint64 }{{0b101100, 0b101100}, {0b101100, 0b101101}, {0, 0b111111}} {
		d := 0
		for x := tc.s ^ tc.probe; x != 0; x &= x - 1 {
			d++
		}
		want := (float64(n-d)*c2 + float64(d)*(1-c2)) / n
		if got := fusion.Overlap(fusion.ProductProbe(tc.probe, n, noise), tc.s, n); math.Abs(got-want) > 1e-12 {
			t.Errorf("overlap of %06b with probe %06b: %v, want %v", tc.s, tc.probe, got, want)
		}
	}
	m := fusion.NewMemoryStore(fusion.Memory{Capacity: 4, MinDistance: 3}, n)
	for _, p := range []uint64{0b000000, 0b000011, 0b000111, 0b111000, 0b111111, 0b010101} {
		m.Encode(p)
	}
	// 0b000011 is 2 from 0b000000 (reinforces it); 0b111111 is 3 from
	// 0b000111 and 0b111000; 0b010101 finds the store full.
	if got := m.Patterns(); !slices.Equal(got, []uint64{0, 0b000111, 0b111000, 0b111111}) {
		t.Fatalf("stored %06b", got)
	}
	if i, o := m.Recall(fusion.ProductProbe(0b110111, n, 0.3)); i != 3 || !(o > 0.7) {
		t.Errorf("probe 110111 recalled pattern %d (overlap %v), want 3 (111111)", i, o)
	}
	if a := m.RecallAccuracy(1, 0.3, 1); a != 1 {
		t.Errorf("recall accuracy with one flip: %v, want 1 (patterns 3 apart)", a)
	}
	if a := m.RecallAccuracy(3, 0.3, 1); a == 1 {
		t.Errorf("recall accuracy with three flips: %v; three flips reach another pattern", a)
	}
	if a := fusion.NewMemoryStore(fusion.Memory{Capacity: 4}, n).RecallAccuracy(1, 0, 1); !math.IsNaN(a) {
		t.Errorf("empty store: accuracy %v, want NaN", a)
	}
}

// TestMemoryInStep: the fusion step encodes its spike pattern into the
// store, which snapshots and restores with the system; off, there is none.
func TestMemoryInStep(t *testing.T) {
	cfg := fusion.DefaultConfig()
	sys, ms := run(t, cfg, 30)
	var stored []uint64
	for _, m := range ms {
		if m.Memory == nil {
			t.Fatalf("step %d: no memory report", m.Step)
		}
		if m.Memory.Stored {
			stored = append(stored, m.Memory.Pattern)
		}
	}
	got := sys.Memory().Patterns()
	if len(stored) < 2 || !slices.Equal(got, stored) {
		t.Fatalf("store %06b, stored by the steps %06b", got, stored)
	}
	if a := sys.Memory().RecallAccuracy(1, 0.3, 7); a != 1 {
		t.Errorf("recall accuracy %v with one flip", a)
	}
	snap, err := sys.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		if _, _, err := sys.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if err := sys.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sys.Memory().Patterns(), got) {
		t.Error("restore did not return the store to the snapshot")
	}
	cfg.Memory = fusion.Memory{}
	off, _ := run(t, cfg, 3)
	if off.Memory() != nil {
		t.Error("memory off, store present")
	}
}

// TestPhaseEntropy: phase-locked modes give 0 whatever the common offset,
// differences spread evenly over the bins give 1, and the step reports
// H_φ of its state against its spike spectrum.
func TestPhaseEntropy(t *testing.T) {
	const d = 32
	psi, f := make([]complex128, d), make([]complex128, d)
	for a := range psi {
		f[a] = cmplx.Rect(1, float64(a)*0.7)
		psi[a] = cmplx.Rect(0.5+float64(a%3), float64(a)*0.7+1.1) // Δ = 1.1 on every mode
	}
	if h := fusion.PhaseEntropy(psi, f); math.Abs(h) > 1e-12 {
		t.Errorf("locked: H_φ = %v, want 0", h)
	}
	for a := range psi {
		psi[a] = cmplx.Rect(1, float64(a)*0.7+2*math.Pi*float64(a%fusion.PhaseBins)/fusion.PhaseBins)
	}
	if h := fusion.PhaseEntropy(psi, f); math.Abs(h-1) > 1e-12 {
		t.Errorf("spread: H_φ = %v, want 1", h)
	}
	if h := fusion.PhaseEntropy(psi, make([]complex128, d)); h != 0 {
		t.Errorf("no spikes: H_φ = %v", h)
	}
	sys, ms := run(t, fusion.DefaultConfig(), 5)
	last := ms[len(ms)-1]
	if h := fusion.PhaseEntropy(sys.Psi(), sys.LastSpectrum()); math.Abs(h-last.HPhase) > 1e-9 || !(h > 0) {
		t.Errorf("step's H_φ %v, recomputed %v", last.HPhase, h)
	}
}
