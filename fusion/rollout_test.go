package fusion_test

import (
	"context"
	"slices"
	"testing"

	"github.com/prismai/mec/fusion"
)

// TestRolloutLeavesNoTrace: a rollout with another coupling and step
// length runs the steps it is asked for (the candidate coupling changes
// them) and leaves the system as it was: after it, a twin that never
// rolled out and the system step on bit for bit, learning included.
func TestRolloutLeavesNoTrace(t *testing.T) {
	cfg := fusion.DefaultConfig() // learning on: the step counter and Θ must come back too
	ctx := context.Background()
	a, err := fusion.New(cfg, engines())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, _ := fusion.New(cfg, engines())
	defer b.Close()
	for range 7 {
		if _, _, err := a.Step(ctx); err != nil {
			t.Fatal(err)
		}
		b.Step(ctx)
	}
	var hs []float64
	roll := func(alpha, gamma float64) []float64 {
		hs = nil
		err := a.Rollout(ctx, 3, alpha, cfg.Beta, gamma, cfg.Dt*1.5, func(m fusion.Metrics, psi []complex128) error {
			hs = append(hs, m.HCoh)
			if len(psi) != 1<<cfg.Qubits {
				t.Errorf("rollout ψ of %d amplitudes", len(psi))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return hs
	}
	h1 := slices.Clone(roll(cfg.Alpha, cfg.Gamma))
	h2 := roll(cfg.Alpha*3, cfg.Gamma*4)
	if len(h1) != 3 || slices.Equal(h1, h2) {
		t.Errorf("rollouts of two couplings: H_coh %v and %v", h1, h2)
	}
	for k := range 11 {
		ma, _, err := a.Step(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mb, _, _ := b.Step(ctx)
		if ma.HCoh != mb.HCoh || ma.Alpha != mb.Alpha || !slices.Equal(a.Psi(), b.Psi()) || !slices.Equal(a.Theta().H, b.Theta().H) {
			t.Fatalf("step %d after the rollout: H_coh %v vs %v, α %v vs %v", k, ma.HCoh, mb.HCoh, ma.Alpha, mb.Alpha)
		}
	}
}
