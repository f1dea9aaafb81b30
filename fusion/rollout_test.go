package fusion_test

import (
	"context"
	"errors"
	"reflect"
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

// TestRolloutRestoresAfterError: a rollout that stops at its second step —
// visit returning an error, or the context cancelled — returns that error
// and still leaves the system as it was: its coupling and step length
// (Params) come back, and it and a twin that never rolled out step on bit
// for bit (so the Trotter step of the original Δt is back too).
func TestRolloutRestoresAfterError(t *testing.T) {
	cfg := fusion.DefaultConfig()
	a, err := fusion.New(cfg, engines())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, _ := fusion.New(cfg, engines())
	defer b.Close()
	ctx := context.Background()
	for range 5 {
		if _, _, err := a.Step(ctx); err != nil {
			t.Fatal(err)
		}
		b.Step(ctx)
	}
	boom := errors.New("visit failed")
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, c := range []struct {
		name  string
		ctx   context.Context
		visit func(k int) error // k: the step just run, from 1
		want  error
	}{
		{"visit error", ctx, func(k int) error {
			if k == 2 {
				return boom
			}
			return nil
		}, boom},
		{"cancelled", cctx, func(k int) error {
			if k == 1 {
				cancel() // the second step sees it
			}
			return nil
		}, context.Canceled},
	} {
		k, p0 := 0, params(a)
		err := a.Rollout(c.ctx, 4, cfg.Alpha*2, cfg.Beta*0.5, cfg.Gamma*3, cfg.Dt*1.5, func(fusion.Metrics, []complex128) error {
			k++
			return c.visit(k)
		})
		if !errors.Is(err, c.want) {
			t.Errorf("%s: Rollout returned %v, want %v", c.name, err, c.want)
		}
		if p := params(a); p != p0 {
			t.Errorf("%s: Params %v after the rollout, %v before", c.name, p, p0)
		}
		for s := range 4 {
			ma, _, err := a.Step(ctx)
			if err != nil {
				t.Fatal(err)
			}
			mb, _, _ := b.Step(ctx)
			if ma.HCoh != mb.HCoh || ma.Step != mb.Step || !slices.Equal(a.Psi(), b.Psi()) || !slices.Equal(a.Theta().H, b.Theta().H) {
				t.Fatalf("%s: step %d after the rollout: H_coh %v vs %v, step %d vs %d", c.name, s, ma.HCoh, mb.HCoh, ma.Step, mb.Step)
			}
		}
	}
}

func params(s *fusion.System) [4]float64 {
	a, b, g, dt := s.Params()
	return [4]float64{a, b, g, dt}
}

// TestRolloutLeavesCosts: a rollout's steps are not charged to the cost
// breakdown (Costs: steps and per-phase time) of the steps the system
// ran.
func TestRolloutLeavesCosts(t *testing.T) {
	cfg := fusion.DefaultConfig()
	a, err := fusion.New(cfg, engines())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	for range 3 {
		if _, _, err := a.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	before := a.Costs()
	if err := a.Rollout(ctx, 5, cfg.Alpha, cfg.Beta, cfg.Gamma, 0, func(fusion.Metrics, []complex128) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if after := a.Costs(); !reflect.DeepEqual(after, before) {
		t.Errorf("costs after a rollout %+v, before %+v", after, before)
	}
}
