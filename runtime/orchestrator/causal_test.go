package orchestrator

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/fusion"
	"github.com/prismai/mec/runtime/ledger"
	"github.com/prismai/mec/runtime/telemetry"
)

// TestCausalMutationEpsilon: MetaCausality's mutations draw ε from
// measurement outcomes of the register: with ψ a Z eigenstate (a basis
// state) every ε_e is 0, nothing flips and the graph stays whole; with ψ =
// |+…+⟩ the same seed gives non-zero ε and flips edges; the proposal is
// kept only when it lowers the BIC.
func TestCausalMutationEpsilon(t *testing.T) {
	cfg, err := DefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	b := cpu.New(cpu.Options{})
	eng, err := NewFusionEngine(cfg.FusionConfig(), fusion.Engines{State: b, Spiking: b, Spectral: b})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	n := eng.Qubits()
	propose := func(psi []complex128) Update {
		if err := eng.Load(psi); err != nil {
			t.Fatal(err)
		}
		m := &metaCausality{window: 32, mut: CausalMutation{Every: 1, Threshold: 0.5, Seed: 9}, noise: eng, qubits: n}
		s := testState(4)
		for tick := uint64(1); tick <= 12; tick++ {
			x := math.Sin(float64(tick) * 1.3)
			s.Gov.History = append(s.Gov.History, 0.1+0.01*x, 20+x, 0.5*x*x, 0.01*float64(tick%3))
		}
		return step(t, m, s, 13, map[string]float64{"h_coh": 0.1, "rate_hz": 20, "grounding_error": 0.2, "plasticity_error": 0.01})
	}
	basis := make([]complex128, 1<<n)
	basis[5] = 1
	u := propose(basis)
	if u.Metrics["causal_proposed"] != 1 || u.Metrics["causal_mutation.flips"] != 0 || u.Metrics["causal_mutated"] != 0 {
		t.Errorf("Z eigenstate: proposed %v, flips %v, accepted %v; want a proposal with no flip",
			u.Metrics["causal_proposed"], u.Metrics["causal_mutation.flips"], u.Metrics["causal_mutated"])
	}
	for e := range 12 {
		if v, ok := u.Metrics[fmt.Sprintf("causal_mutation.eps.%d", e)]; !ok || v != 0 {
			t.Errorf("Z eigenstate: ε_%d = %v (reported %v), want 0", e, v, ok)
		}
	}
	if !slices.Equal(u.Writes["theta.graph"], fullGraph(4)) {
		t.Errorf("Z eigenstate: graph %v, want every edge", u.Writes["theta.graph"])
	}
	plus := make([]complex128, 1<<n)
	for i := range plus {
		plus[i] = complex(1/math.Sqrt(float64(len(plus))), 0)
	}
	u = propose(plus)
	nonzero := 0
	for e := range 12 {
		if u.Metrics[fmt.Sprintf("causal_mutation.eps.%d", e)] != 0 {
			nonzero++
		}
	}
	if nonzero < 6 || u.Metrics["causal_mutation.flips"] == 0 {
		t.Errorf("|+…+⟩: %d non-zero ε of 12, %v flips; want measurement noise", nonzero, u.Metrics["causal_mutation.flips"])
	}
	accepted := u.Metrics["causal_mutated"] == 1
	if before, after := u.Metrics["causal_mutation.bic_before"], u.Metrics["causal_mutation.bic_after"]; accepted != (after < before) {
		t.Errorf("accepted %v with BIC %v → %v", accepted, before, after)
	}
	if changed := !slices.Equal(u.Writes["theta.graph"], fullGraph(4)); changed != accepted {
		t.Errorf("graph changed %v, accepted %v", changed, accepted)
	}
}

// TestCausalMutationWired: switched on in the runtime, the quantum
// mutations change MetaCausality's trajectory (its graph and the causal
// matrix it writes into Θ) and every proposal is a "causal-mutation"
// ledger record with its ε, flips, BIC before and after and whether it
// was accepted, as many as the summary counts; switched off, the graph
// stays nil and no such record is written.
func TestCausalMutationWired(t *testing.T) {
	const ticks = 60
	type result struct {
		causal, graph []float64
		recs          []telemetry.SystemEvent
		sum           *Summary
	}
	runIt := func(every int) result {
		o, led := newRuntime(t, func(c *Config) {
			c.Faults = nil
			c.Reproducible = true // no wall-clock rule steers the trajectory
			c.Causality.Mutation = CausalMutation{Every: every, Threshold: 1, Seed: 3}
		})
		mustRun(t, o, ticks)
		var r result
		r.causal, r.graph = o.State().Theta.Causal, o.State().Theta.Graph
		var err error
		if r.sum, err = o.Summary(); err != nil {
			t.Fatal(err)
		}
		err = ledger.Scan(led.Dir(), func(rec ledger.Record) error {
			if e, ok := rec.Event.(telemetry.SystemEvent); ok && e.Kind == "causal-mutation" {
				r.recs = append(r.recs, e)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	off, on := runIt(0), runIt(2)
	if off.graph != nil || len(off.recs) != 0 || off.sum.Learning.CausalProposed != 0 {
		t.Errorf("off: graph %v, %d records, %d proposals", off.graph, len(off.recs), off.sum.Learning.CausalProposed)
	}
	l := on.sum.Learning
	if len(on.recs) != l.CausalProposed || l.CausalProposed < 20 || l.CausalAccepted == 0 || l.CausalOutcomes == 0 {
		t.Fatalf("on: %d records, summary %+v", len(on.recs), l)
	}
	accepted := 0
	for _, e := range on.recs {
		for _, f := range []string{"tick", "flips", "bic_before", "bic_after", "accepted", "eps.0", "eps.11"} {
			if _, ok := e.Fields[f]; !ok {
				t.Fatalf("record %v lacks %q", e.Fields, f)
			}
		}
		if e.Source != MetaCausality {
			t.Errorf("record from %q", e.Source)
		}
		if e.Fields["accepted"].Num == 1 {
			accepted++
		}
	}
	if accepted != l.CausalAccepted {
		t.Errorf("%d accepted records, summary %d", accepted, l.CausalAccepted)
	}
	if slices.Equal(on.graph, fullGraph(4)) || slices.Equal(on.causal, off.causal) {
		t.Errorf("mutations left MetaCausality's trajectory alone: graph %v, causal %v vs %v", on.graph, on.causal, off.causal)
	}

	// On the wall clock, with QuantumFusion isolated after a rollback
	// (no fusion time in the tick), a proposal is still recorded.
	o, _ := newRuntime(t, func(c *Config) {
		c.Faults = []Fault{{Tick: 20, Kind: FaultDecohere}}
		c.Causality.Mutation = CausalMutation{Every: 1, Threshold: 1, Seed: 3}
	})
	var isolated int
	if err := o.Run(t.Context(), 30, func(r *TickReport) {
		if !slices.Contains(r.Ran, QuantumFusion) && r.Metrics["causal_proposed"] == 1 {
			isolated++
		}
	}); err != nil {
		t.Fatal(err)
	}
	if isolated == 0 {
		t.Error("no proposal while QuantumFusion was isolated")
	}
}
