package orchestrator

import (
	"math"
	"math/cmplx"
	"slices"
	"strings"
	"testing"

	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/runtime/governance"
)

// TestPSNBackendMatchesEngine: the PSN step on the CPU backend's phase
// capability equals the one on engines/kuramoto (the reference), and with
// K = 0 it returns the grounded oscillators unchanged.
func TestPSNBackendMatchesEngine(t *testing.T) {
	z := make([]complex128, 8)
	zn := make([]complex128, 8)
	for k := range z {
		z[k] = cmplx.Rect(0.1+0.01*float64(k), 0.3*float64(k))
		zn[k] = cmplx.Rect(0.2, 0.3*float64(k)+0.05*float64(k*k))
	}
	cfg := PSNConfig{K: 30, H: 0.01}
	ref, rs, err := (&PSN{cfg: cfg}).Step(z, zn, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	got, gs, err := (&PSN{cfg: cfg, phase: cpu.New(cpu.Options{})}).Step(z, zn, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	for k := range ref {
		if cmplx.Abs(ref[k]-got[k]) > 1e-12 || math.Abs(cmplx.Abs(got[k])-cmplx.Abs(zn[k])) > 1e-12 {
			t.Errorf("Φ_%d: backend %v, engine %v (grounded %v)", k, got[k], ref[k], zn[k])
		}
	}
	if math.Abs(rs.R-gs.R) > 1e-12 || math.Abs(rs.MCCRate-gs.MCCRate) > 1e-9 {
		t.Errorf("figures: backend %+v, engine %+v", gs, rs)
	}
	off, os, err := (&PSN{cfg: PSNConfig{}}).Step(z, zn, 0.05)
	if err != nil || !slices.Equal(off, zn) {
		t.Fatalf("K = 0 changed the oscillators: %v, %v", off, err)
	}
	// The coupling pulls the phases together: higher order, smaller
	// spread and slower relative phases than the grounded oscillators.
	if !(rs.R > os.R && rs.Spread < os.Spread && rs.MCCRate < os.MCCRate) {
		t.Errorf("coupled %+v, uncoupled %+v", rs, os)
	}
	if _, _, err := (&PSN{cfg: cfg}).Step(z, zn[:3], 0.05); err == nil {
		t.Error("mismatched lengths accepted")
	}
}

// TestPSNPowerWeighted: the array weighs each source by its share of the
// oscillators' power, so a strongly driven oscillator keeps its phase and
// the weak ones join it (with uniform weights 1/d the seven weak ones,
// spread around the circle, would drag the strong one away), on the
// engine and on the CPU backend's sparse kernel alike.
func TestPSNPowerWeighted(t *testing.T) {
	const d = 8
	z := make([]complex128, d)
	for k := range z {
		z[k] = cmplx.Rect(0.05, 0.6+0.7*float64(k))
	}
	z[0] = cmplx.Rect(1, 0.6)
	zn := slices.Clone(z) // no grounding motion: ω = 0
	for _, p := range []*PSN{{cfg: PSNConfig{K: 1000, H: 0.002}}, {cfg: PSNConfig{K: 1000, H: 0.002}, phase: cpu.New(cpu.Options{})}} {
		out, st, err := p.Step(z, zn, 0.05)
		if err != nil {
			t.Fatal(err)
		}
		if m := math.Abs(circuit.WrapAngle(cmplx.Phase(out[0]) - 0.6)); m > 0.02 {
			t.Errorf("the strong oscillator moved by %.3g rad (want < 0.02)", m)
		}
		for k := 1; k < d; k++ {
			if m := math.Abs(circuit.WrapAngle(cmplx.Phase(out[k]) - cmplx.Phase(out[0]))); m > 0.01 {
				t.Errorf("weak oscillator %d is %.3g rad from the strong one (want < 0.01)", k, m)
			}
		}
		if st.R < 0.9999 {
			t.Errorf("order r %v after the step", st.R)
		}
	}
}

// TestPSNWired: the PSN runs in the main job. Switching it off
// (grounding.psn.k 0) changes Φ's trajectory and its recorded figures; on,
// the phases stay together (order r, spread) and the Meta-Causal
// Consistency rule holds on every tick; the summary reports what the
// ticks recorded.
func TestPSNWired(t *testing.T) {
	type figs struct {
		rMin, spreadMax, mccMax float64
		z                       []complex128
		sum                     PSNSummary
	}
	const ticks = 60
	run := func(mutate func(*Config)) figs {
		o, _ := newRuntime(t, func(c *Config) {
			c.Faults = nil
			if mutate != nil {
				mutate(c)
			}
		})
		f := figs{rMin: math.Inf(1)}
		for _, rep := range mustRun(t, o, ticks) {
			f.rMin = math.Min(f.rMin, rep.Metrics["psn_order"])
			f.spreadMax = math.Max(f.spreadMax, rep.Metrics["psn_spread"])
			f.mccMax = math.Max(f.mccMax, rep.Metrics["mcc_rate"])
			if r := rep.Metrics["rule.meta-causal-consistency"]; r != 1 && o.cfg.Grounding.PSN.K > 0 {
				t.Errorf("tick %d: meta-causal-consistency broken (mcc_rate %v)", rep.Tick, rep.Metrics["mcc_rate"])
			}
		}
		if len(o.Rollbacks()) != 0 {
			t.Errorf("rollbacks in a run without faults: %+v", o.Rollbacks())
		}
		f.z = slices.Clone(o.st.Z)
		s, err := o.Summary()
		if err != nil {
			t.Fatal(err)
		}
		f.sum = s.PSN
		return f
	}
	on := run(nil)
	off := run(func(c *Config) {
		c.Grounding.PSN.K = 0
		c.Governance.Rules = slices.DeleteFunc(c.Governance.Rules, func(r governance.Rule) bool { return r.Name == "meta-causal-consistency" })
	})
	if on.sum.K == 0 || off.sum.K != 0 || on.sum.Ticks != ticks || off.sum.Ticks != ticks {
		t.Fatalf("summaries: on %+v, off %+v", on.sum, off.sum)
	}
	if slices.Equal(on.z, off.z) {
		t.Fatal("switching the PSN off leaves Φ unchanged: it is not connected to the run")
	}
	t.Logf("on r ≥ %.4f, spread ≤ %.4f, MCC ≤ %.4g (summary %+v); off r ≥ %.4f, spread ≤ %.4f, MCC ≤ %.4g",
		on.rMin, on.spreadMax, on.mccMax, on.sum, off.rMin, off.spreadMax, off.mccMax)
	if !(on.rMin > 0.99 && on.rMin > off.rMin && on.spreadMax < off.spreadMax/2 && on.mccMax < off.mccMax/2) {
		t.Errorf("the PSN does not hold Φ's phases together: on r ≥ %v spread ≤ %v MCC ≤ %v; off r ≥ %v spread ≤ %v MCC ≤ %v",
			on.rMin, on.spreadMax, on.mccMax, off.rMin, off.spreadMax, off.mccMax)
	}
	if !(on.sum.SpreadMax >= on.spreadMax && on.sum.MCCRateMax >= on.mccMax && on.sum.RMin <= on.rMin && on.sum.RMean >= on.sum.RMin) {
		t.Errorf("summary %+v disagrees with the ticks (r ≥ %v, spread ≤ %v, MCC ≤ %v)", on.sum, on.rMin, on.spreadMax, on.mccMax)
	}
}

// TestMCCRule: a kicked oscillator makes d/dt(Φ_i − Φ_j) jump while the
// PSN pulls it back; the meta-causal-consistency rule (integration §3)
// rolls the tick back to the last sealed checkpoint.
func TestMCCRule(t *testing.T) {
	o, _ := newRuntime(t, func(c *Config) { c.Faults = []Fault{{Tick: 25, Kind: FaultPhaseKick, Value: math.Pi / 2}} })
	mustRun(t, o, 30)
	rbs := o.Rollbacks()
	if len(rbs) != 1 || rbs[0].At != 25 || rbs[0].Checkpoint != rbs[0].Restored {
		t.Fatalf("rollbacks %+v", rbs)
	}
	if !slices.ContainsFunc(rbs[0].Reasons, func(s string) bool { return strings.HasPrefix(s, "rule meta-causal-consistency:") }) {
		t.Errorf("the kick's rollback does not name meta-causal-consistency: %v", rbs[0].Reasons)
	}
}

// TestPSNConfigErrors: a bad PSN setting or phase kick is refused naming
// the field; the runtime's PSN runs on the engine's backend.
func TestPSNConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		mutate func(*Config)
		want   string
	}{
		{func(c *Config) { c.Grounding.PSN.K = -1 }, "grounding.psn.k"},
		{func(c *Config) { c.Grounding.PSN.K = math.NaN() }, "grounding.psn.k"},
		{func(c *Config) { c.Grounding.PSN.H = 0 }, "grounding.psn.h"},
		{func(c *Config) { c.Faults = []Fault{{Tick: 3, Kind: FaultPhaseKick}} }, "faults[0]: value"},
	} {
		c, err := DefaultConfig()
		if err != nil {
			t.Fatal(err)
		}
		tc.mutate(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want an error naming %s, got %v", tc.want, err)
		}
	}
	o, _ := newRuntime(t, nil)
	for _, m := range o.modules {
		if g, ok := m.(*contextualGrounding); ok && g.psn.phase == nil {
			t.Error("the PSN does not run on the engine's backend")
		}
	}
}
