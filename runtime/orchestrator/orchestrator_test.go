package orchestrator

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/federation"
	"github.com/prismai/mec/fusion"
	"github.com/prismai/mec/runtime/bus"
	"github.com/prismai/mec/runtime/governance"
	"github.com/prismai/mec/runtime/ledger"
	"github.com/prismai/mec/runtime/telemetry"
)

var testLedgerOptions = ledger.Options{CheckpointEvery: 64, CheckpointInterval: 20 * time.Millisecond}

// newRuntime builds the default scenario, changed by mutate, on the CPU
// backend with a ledger in a temporary directory.
func newRuntime(t *testing.T, mutate func(*Config)) (*Orchestrator, *ledger.Ledger) {
	t.Helper()
	cfg, err := DefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(&cfg)
	}
	b := cpu.New(cpu.Options{})
	eng, err := NewFusionEngine(cfg.FusionConfig(), fusion.Engines{State: b, Spiking: b, Spectral: b})
	if err != nil {
		t.Fatal(err)
	}
	led, err := ledger.Open(t.TempDir(), testLedgerOptions)
	if err != nil {
		t.Fatal(err)
	}
	o, err := New(context.Background(), cfg, eng, NewRecorder(led), 0)
	if err != nil {
		led.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		o.Close()
		led.Close()
	})
	return o, led
}

func mustRun(t *testing.T, o *Orchestrator, ticks int) []*TickReport {
	t.Helper()
	var reps []*TickReport
	if err := o.Run(context.Background(), ticks, func(r *TickReport) { reps = append(reps, r) }); err != nil {
		t.Fatal(err)
	}
	return reps
}

// TestAcceptanceRollback is the acceptance scenario: the built-in run's
// decoherence fault at tick 120 breaks the coherence-entropy rule; the
// runtime restores the tick-110 checkpoint bit for bit (checked here on
// the bytes), isolates QuantumFusion, recalibrates, logs the decision in
// the ledger, and ends compliant.
func TestAcceptanceRollback(t *testing.T) {
	o, led := newRuntime(t, func(c *Config) { c.Ticks = 140 })
	var restores int
	var alpha0 float64 // α of the restored state
	o.onRestore = func(cp *Checkpoint, restored []byte) {
		restores++
		if !bytes.Equal(restored, cp.Bytes) {
			t.Errorf("restored state differs from the tick-%d checkpoint (%d vs %d bytes)", cp.Tick, len(restored), len(cp.Bytes))
		}
		var s State
		if err := s.UnmarshalBinary(restored); err != nil || s.Tick != cp.Tick {
			t.Errorf("restored tick %d, checkpoint tick %d (%v)", s.Tick, cp.Tick, err)
		}
		alpha0 = s.Theta.Alpha
	}
	reps := mustRun(t, o, 140)
	rbs := o.Rollbacks()
	if len(rbs) != 1 || restores != 1 {
		t.Fatalf("%d rollbacks, %d restores; want 1", len(rbs), restores)
	}
	rb := rbs[0]
	if rb.At != 120 || rb.To != 110 || rb.Checkpoint != rb.Restored || rb.Sealed <= 0 {
		t.Errorf("rollback %+v", rb)
	}
	if !slices.Contains(rb.Isolated, QuantumFusion) || !strings.Contains(strings.Join(rb.Reasons, ";"), "coherence-entropy") {
		t.Errorf("isolated %v, reasons %v", rb.Isolated, rb.Reasons)
	}
	// the ACE raises the restored α by 10% (the CLDF tunes α, so the
	// restored value is not the scenario's 40)
	if !(rb.Gamma >= 0.005) || math.Abs(rb.Alpha-min(1.1*alpha0, 200)) > 1e-9*rb.Alpha {
		t.Errorf("ACE recalibration: α %v (restored %v) γ %v", rb.Alpha, alpha0, rb.Gamma)
	}
	// QuantumFusion sat out the 3 ticks after the restore.
	after := slices.IndexFunc(reps, func(r *TickReport) bool { return r.Rollback != nil })
	for _, r := range reps[after+1:] {
		if isolated := r.Tick >= 111 && r.Tick <= 113; isolated == slices.Contains(r.Ran, QuantumFusion) {
			t.Errorf("tick %d (after the rollback): ran %v", r.Tick, r.Ran)
		}
	}
	last := reps[len(reps)-1]
	if last.Tick != 140 || last.Metrics["c"] != 1 || last.Metrics["decision_rollback"] != 0 || len(last.Failures) != 0 {
		t.Errorf("final tick %d: C %v, failures %v", last.Tick, last.Metrics["c"], last.Failures)
	}
	s, err := o.Summary()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range s.Checks {
		if !c.Pass {
			t.Errorf("verification %q failed: %v (%s)", c.Name, c.Value, c.Measured)
		}
	}
	// The ledger holds the checkpoint digest and the rollback decision.
	dir := led.Dir()
	if err := led.Close(); err != nil {
		t.Fatal(err)
	}
	var ckDigest, rbDigest string
	err = ledger.Scan(dir, func(r ledger.Record) error {
		if e, ok := r.Event.(telemetry.SystemEvent); ok {
			if e.Kind == "checkpoint" && e.Fields["tick"].Num == 110 {
				ckDigest = e.Fields["state_sha256"].Str
			}
			if e.Kind == "rollback" {
				rbDigest = e.Fields["state_sha256"].Str
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := hex.EncodeToString(rb.Checkpoint[:]); ckDigest != want || rbDigest != want {
		t.Errorf("ledger digests: checkpoint %q, rollback %q, want %q", ckDigest, rbDigest, want)
	}
	if _, err := ledger.Verify(dir, ledger.VerifyOptions{}); err != nil {
		t.Errorf("ledger does not verify: %v", err)
	}
}

// TestRestoreContinuesBitExact: restoring a checkpoint and running the
// same ticks again reproduces the state bit for bit (fusion network,
// ψ, CMA-ES and all).
func TestRestoreContinuesBitExact(t *testing.T) {
	// Reproducible: otherwise the rules on wall-clock metrics (a ledger
	// append slower than 50 ms under the race detector) lower the
	// compliance in Ξ on one pass and not the other (issue 17 item 15).
	o, _ := newRuntime(t, func(c *Config) { c.Faults = nil; c.Reproducible = true })
	mustRun(t, o, 30)
	want, err := o.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var cp *Checkpoint
	for _, c := range o.Checkpoints() {
		if c.Tick == 20 {
			cp = c
		}
	}
	if cp == nil {
		t.Fatal("no checkpoint at tick 20")
	}
	if _, err := o.restore(cp); err != nil {
		t.Fatal(err)
	}
	mustRun(t, o, 30)
	got, err := o.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("re-running ticks 21–30 from the checkpoint gives a different state")
	}
}

// TestNonFiniteTriggersRollback: an overflowing ψ (on the backend) and NaN
// in Θ.W each cause a rollback that restores a finite state.
func TestNonFiniteTriggersRollback(t *testing.T) {
	o, _ := newRuntime(t, func(c *Config) {
		c.Faults = []Fault{{Tick: 15, Kind: FaultOverflowPsi}, {Tick: 27, Kind: FaultNaNWeight}}
	})
	mustRun(t, o, 35)
	rbs := o.Rollbacks()
	if len(rbs) != 2 || rbs[0].At != 15 || rbs[0].To != 10 || rbs[1].At != 27 || rbs[1].To != 20 {
		t.Fatalf("rollbacks %+v", rbs)
	}
	if !slices.Contains(rbs[0].Isolated, QuantumFusion) || !strings.Contains(strings.Join(rbs[0].Reasons, ";"), "modules-ok") {
		t.Errorf("overflowing ψ: isolated %v, reasons %v", rbs[0].Isolated, rbs[0].Reasons)
	}
	if !strings.Contains(strings.Join(rbs[1].Reasons, ";"), "state-finite") {
		t.Errorf("NaN W: reasons %v", rbs[1].Reasons)
	}
	if where := o.State().NonFinite(); where != "" {
		t.Errorf("final state non-finite in %s", where)
	}
}

// TestBusRejectionsCountedAndHarmless: a forged, a replayed and an
// out-of-order message from QuantumFusion are rejected by the bus,
// counted, never applied to Ξ, and each rolls its tick back.
func TestBusRejectionsCountedAndHarmless(t *testing.T) {
	o, _ := newRuntime(t, func(c *Config) { c.Faults = nil })
	mustRun(t, o, 10)
	var seed [32]byte
	impostor := bus.NewIdentity(QuantumFusion, seed) // right name, wrong key
	var lastEnv []byte
	mode := ""
	o.seal = func(name, target string, body []byte) ([]byte, error) {
		id := o.ids[name]
		if name != QuantumFusion {
			return id.Seal(target, body, time.Now())
		}
		switch mode {
		case "forged":
			var u Update
			u.Write("s.rate", []float64{1e6})
			return impostor.Seal(target, u.Marshal(), time.Now())
		case "replayed":
			return lastEnv, nil
		case "out-of-order":
			if _, err := id.Seal(target, body, time.Now()); err != nil { // a message that is never sent
				return nil, err
			}
			return id.Seal(target, body, time.Now())
		}
		env, err := id.Seal(target, body, time.Now())
		lastEnv = env
		return env, err
	}
	for _, m := range []string{"forged", "replayed", "out-of-order"} {
		mode = ""
		mustRun(t, o, int(o.State().Tick)+4)
		for st := o.State(); len(st.Gov.Isolated) > 0 && st.IsIsolated(st.Gov.Isolated[0].Module); st = o.State() {
			mustRun(t, o, int(st.Tick)+1) // past the isolation of the previous round (longer when it escalated)
		}
		before := o.bus.Stats()
		mode = m
		rateBefore := o.State().Rate
		rep, err := o.Tick(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		after := o.bus.Stats()
		if rep.Rollback == nil || !strings.Contains(strings.Join(rep.Rollback.Reasons, ";"), "message rejected") {
			t.Errorf("%s: no rollback (%v)", m, rep.Failures)
		}
		if o.State().Rate == 1e6 {
			t.Errorf("%s: the rejected update reached Ξ (rate was %v)", m, rateBefore)
		}
		d := after.Rejected() - before.Rejected()
		var got uint64
		switch m {
		case "forged":
			got = after.Forged - before.Forged
		case "replayed":
			got = after.Replayed - before.Replayed
		case "out-of-order":
			got = after.OutOfOrder - before.OutOfOrder
		}
		if d != 1 || got != 1 {
			t.Errorf("%s: %d rejections, %d of that kind; want 1 and 1", m, d, got)
		}
	}
	if mode = ""; true {
		mustRun(t, o, int(o.State().Tick)+2) // the bus keeps working afterwards
	}
}

// rogue writes a part of Ξ it does not own.
type rogue struct{ Module }

func (r rogue) Step(ctx context.Context, tel *Telemetry) (bus.Message, error) {
	var u Update
	u.Write("theta.w", make([]float64, len(tel.State.Theta.W)))
	return reply(&u), nil
}

func TestForbiddenWriteRejected(t *testing.T) {
	o, _ := newRuntime(t, func(c *Config) { c.Faults = nil })
	mustRun(t, o, 10)
	w := slices.Clone(o.State().Theta.W)
	o.modules[1] = rogue{o.modules[1]} // ContextualGrounding
	rep, err := o.Tick(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rollback == nil || !strings.Contains(strings.Join(rep.Failures, ";"), "may not write") {
		t.Fatalf("forbidden write: failures %v", rep.Failures)
	}
	if !slices.Equal(o.State().Theta.W, w) {
		t.Error("Θ.W changed")
	}
	if !slices.Contains(rep.Rollback.Isolated, ContextualGrounding) {
		t.Errorf("isolated %v", rep.Rollback.Isolated)
	}
}

func TestMaxRollbacksStops(t *testing.T) {
	o, _ := newRuntime(t, func(c *Config) {
		c.Faults = nil
		c.Governance.MaxRollbacks = 2
		c.Governance.Rules = append(c.Governance.Rules, governance.Rule{Name: "impossible", Metric: "h_coh", Op: "<", Value: -1})
	})
	err := o.Run(context.Background(), 50, nil)
	if err == nil || !strings.Contains(err.Error(), "after 2 rollbacks") {
		t.Fatalf("err %v", err)
	}
	if len(o.Rollbacks()) != 2 {
		t.Errorf("%d rollbacks", len(o.Rollbacks()))
	}
}

// TestEngineAgnostic runs the runtime on a pure-Go fake engine: nothing
// but the Engine interface is needed.
func TestEngineAgnostic(t *testing.T) {
	cfg, err := DefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Faults = nil
	cfg.Features = 4
	// MetaCausality's mutations draw ε from a backend's sampler, which the
	// fake has not (New refuses them with a clear error, checked below).
	cfg.Causality.Mutation.Every = 0
	led, err := ledger.Open(t.TempDir(), testLedgerOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	o, err := New(context.Background(), cfg, newFakeEngine(3), NewRecorder(led), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if err := o.Run(context.Background(), 30, nil); err != nil {
		t.Fatal(err)
	}
	if o.State().Tick != 30 || len(o.Rollbacks()) != 0 {
		t.Errorf("tick %d, %d rollbacks", o.State().Tick, len(o.Rollbacks()))
	}
	if _, err := New(context.Background(), Config{}, newFakeEngine(3), NewRecorder(led), 0); err == nil {
		t.Error("zero config accepted")
	}
	cfg.Features = 16
	if _, err := New(context.Background(), cfg, newFakeEngine(3), NewRecorder(led), 0); err == nil {
		t.Error("more features than amplitudes accepted")
	}
	cfg.Features = 4
	cfg.Causality.Mutation.Every = 5
	if _, err := New(context.Background(), cfg, newFakeEngine(3), NewRecorder(led), 0); err == nil || !strings.Contains(err.Error(), "causality.mutation") {
		t.Errorf("quantum mutations on an engine without a sampler: %v", err)
	}
}

// TestMetaOptimisation: CMA-ES runs every K ticks, is reproducible, and
// never raises the surrogate objective.
func TestMetaOptimisation(t *testing.T) {
	runs := func() []MetaRun {
		// reproducible: no wall-clock rule (a slow disk) steers the two runs apart
		o, _ := newRuntime(t, func(c *Config) { c.Faults = nil; c.Meta.Every = 10; c.Reproducible = true })
		mustRun(t, o, 40)
		s, err := o.Summary()
		if err != nil {
			t.Fatal(err)
		}
		return s.MetaRuns
	}
	a, b := runs(), runs()
	if len(a) != 4 {
		t.Fatalf("%d meta runs in 40 ticks, want 4", len(a))
	}
	moved := false
	for i := range a {
		if !slices.Equal(a[i].After, b[i].After) || a[i].ObjectiveAfter != b[i].ObjectiveAfter {
			t.Errorf("run %d not reproducible: %v vs %v", i, a[i].After, b[i].After)
		}
		if a[i].ObjectiveAfter > a[i].ObjectiveBefore {
			t.Errorf("run %d raised the objective %v → %v", i, a[i].ObjectiveBefore, a[i].ObjectiveAfter)
		}
		moved = moved || !slices.Equal(a[i].Before, a[i].After)
		cfg, _ := DefaultConfig()
		for k, v := range a[i].After {
			// the bounds hold what CMA-ES sets (the fusion layer's learning
			// may move a parameter past them between runs)
			if lo, hi := cfg.Meta.Bound(a[i].Params[k]); v != a[i].Before[k] && !(v >= lo && v <= hi) {
				t.Errorf("%s = %v outside [%v, %v]", a[i].Params[k], v, lo, hi)
			}
		}
	}
	if !moved {
		t.Error("CMA-ES never changed a parameter")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, bad := range []string{
		"ticks: 0",
		"features: 1",
		"features: 128", // more than 2^6 amplitudes
		"colour: red",
		"step: {min: 0.1, max: 0.05}",
		"grounding: {h: .nan}",
		"faults: [{tick: 3, kind: meteor}]",
		"faults: [{tick: 0, kind: overflow_psi}]",
		"meta: {params: [alpha], horizon: 0}", // the coupling needs a rollout horizon
		"meta: {params: [omega], horizon: 2}",
		"meta: {params: [kappa, kappa]}",
		"meta: {bounds: {alpha: [0, 1]}}",
		"meta: {bounds: {alpha: [2, 1]}}",
		"meta: {bounds: {zeta: [1, 2]}}",
		"meta: {horizon: 65}",
		"meta: {population: 1}",
		"federation: {nodes: 0}",
		"governance: {rules: [{name: x, metric: no_such_metric, op: '<', value: 1}]}",
		"governance: {tau_safe: 1.5}",
		"fusion: {qubits: 40}",
		"[1, 2",
	} {
		_, err := ParseConfig([]byte(bad))
		if err == nil {
			t.Errorf("accepted %q", bad)
		} else if !strings.HasPrefix(err.Error(), "orchestrator: ") {
			t.Errorf("%q: error %q lacks the package prefix", bad, err)
		}
	}
	if _, err := ParseConfig([]byte(`{"federation": {"nodes": 2, "noise": 0.2}}`)); err == nil || !strings.Contains(err.Error(), "noise") {
		t.Errorf("the removed federation.noise key: %v", err)
	}
	c, err := ParseConfig([]byte(`{"ticks": 5, "federation": {"nodes": 3, "round": 2}}`))
	if err != nil || c.Ticks != 5 || c.Federation.Nodes != 3 || c.Features != 8 {
		t.Errorf("JSON overlay: %+v %v", c.Federation, err)
	}
	if _, err := ParseConfig(nil); err != nil {
		t.Errorf("empty overlay: %v", err)
	}
	if _, err := LoadConfig("/nonexistent/scenario.yaml"); err == nil {
		t.Error("missing file accepted")
	}
	var e *fusion.QubitCapError
	cfg, _ := DefaultConfig()
	cfg.Fusion.Limits.MaxQubits = 4
	b := cpu.New(cpu.Options{})
	if _, err := NewFusionEngine(cfg.FusionConfig(), fusion.Engines{State: b, Spiking: b, Spectral: b}); !errors.As(err, &e) {
		t.Errorf("qubit cap: %v", err)
	}
}

// TestFederationRun: attached to a federation, the runtime averages W
// every round, tells the federation its committed ticks and checkpoints,
// and reports the measured drift against < 0.05.
func TestFederationRun(t *testing.T) {
	o, _ := newRuntime(t, func(c *Config) { c.Faults = nil })
	fed := &fakeFederation{peer: make([]float64, len(o.State().Theta.W)), eps: 1}
	fed.peer[0] = 0.02
	o.SetFederation(fed)
	mustRun(t, o, 20)
	s, err := o.Summary()
	if err != nil {
		t.Fatal(err)
	}
	d := s.Checks[2]
	if d.Name != "federated drift" || !(d.Value > 0) || d.Target != "< 0.05" || !d.Pass {
		t.Errorf("drift check %+v", d)
	}
	if len(fed.rounds) != 4 || len(fed.ticks) != 20 || !slices.Contains(fed.marks, 10) || !slices.Contains(fed.marks, 20) {
		t.Errorf("rounds %v, ticks %d, marks %v", fed.rounds, len(fed.ticks), fed.marks)
	}
}

// TestReproducible: two runs of one seeded scenario in reproducible mode
// write byte-identical ledger records (same root), a deliberate fault and
// its rollback included; the wall-clock metrics stay out of the records.
func TestReproducible(t *testing.T) {
	roots := map[string]bool{}
	for i := 0; i < 2; i++ {
		o, led := newRuntime(t, func(c *Config) { c.Reproducible = true; c.Ticks = 130 })
		mustRun(t, o, 130)
		if len(o.Rollbacks()) != 1 {
			t.Fatalf("run %d: %d rollbacks", i, len(o.Rollbacks()))
		}
		if err := led.Close(); err != nil {
			t.Fatal(err)
		}
		rep, err := ledger.Verify(led.Dir(), ledger.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		roots[rep.Root.String()] = true
		if err := ledger.Scan(led.Dir(), func(r ledger.Record) error {
			if ev, ok := r.Event.(telemetry.SystemEvent); ok {
				for _, k := range TimingMetrics() {
					if _, has := ev.Fields[k]; has {
						t.Fatalf("record %d holds the wall-clock metric %s", r.Index, k)
					}
				}
				if _, has := ev.Fields["signed_tree_size"]; has {
					t.Fatalf("record %d holds a signed tree size", r.Index)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if len(roots) != 1 {
		t.Errorf("two reproducible runs gave ledger roots %v", roots)
	}
}

// driftFederation reports a drift of 0.2 in round 1 and 0 afterwards.
type driftFederation struct{ fakeFederation }

func (f *driftFederation) Round(ctx context.Context, r uint64, w []float64) (*federation.RoundResult, error) {
	res, err := f.fakeFederation.Round(ctx, r, w)
	res.Theta, res.Drift = slices.Clone(w), 0
	if r == 1 {
		res.Drift = 0.2
	}
	return res, err
}

// TestRollbackLoop is the loop of issue #10 §5: a federated-drift
// violation rolls back and isolates FederatedNodeLearning; its metric is
// then missing. The rule is suspended while its module is isolated (not
// read as NaN, which rolled back again until the run aborted), the
// violation that recurs right after the restore escalates (longer
// isolation, halved coupling, the federation told), and the run goes on.
func TestRollbackLoop(t *testing.T) {
	o, _ := newRuntime(t, func(c *Config) {
		c.Faults = nil
		c.Governance.Rules = append(c.Governance.Rules[:0:0], c.Governance.Rules...)
		for i := range c.Governance.Rules {
			if c.Governance.Rules[i].Name == "federated-drift" {
				c.Governance.Rules[i].Action = governance.ActionRollback
			}
		}
	})
	fed := &driftFederation{fakeFederation{peer: make([]float64, len(o.State().Theta.W)), eps: 1}}
	o.SetFederation(fed)
	reps := mustRun(t, o, 30)
	rbs := o.Rollbacks()
	if len(rbs) != 2 {
		t.Fatalf("%d rollbacks, want 2 (the violation and its recurrence)", len(rbs))
	}
	if rbs[0].Escalation != 0 || rbs[1].Escalation != 1 {
		t.Errorf("escalation levels %d, %d; want 0, 1", rbs[0].Escalation, rbs[1].Escalation)
	}
	if !slices.Contains(rbs[1].Isolated, FederatedNodeLearning) {
		t.Errorf("second rollback isolated %v", rbs[1].Isolated)
	}
	if !(rbs[1].Gamma < rbs[0].Gamma) {
		t.Errorf("escalated coupling γ %v not below %v", rbs[1].Gamma, rbs[0].Gamma)
	}
	if len(fed.rolledTo) != 2 {
		t.Errorf("the federation heard of %d rollbacks", len(fed.rolledTo))
	}
	suspended := 0
	for _, r := range reps {
		if r.Metrics["rule.federated-drift"] == -1 {
			suspended++
		}
	}
	if suspended < 6 {
		t.Errorf("the drift rule was suspended on %d ticks, want the isolation (3, then 6)", suspended)
	}
	s, err := o.Summary()
	if err != nil {
		t.Fatal(err)
	}
	if !s.Pass {
		t.Errorf("run failed its checks: %+v", s.Checks)
	}
}

// BenchmarkTick measures one meta-epoch of the built-in scenario (no
// faults): eight modules, eight signed and verified messages, two durable
// ledger appends, the CLDF's CMA-ES every 25 ticks and MetaCausality's
// mutations every 5. Its reference, measured in the same run, is the same
// scenario with the CMA-ES on κ and η alone (no rollouts) and no
// mutations, as `mec run` was before them.
func BenchmarkTick(b *testing.B) {
	for _, bc := range []struct {
		name   string
		mutate func(*Config)
	}{
		{"built-in", func(*Config) {}},
		{"reference=kappa-eta-no-mutations", func(c *Config) {
			c.Meta.Params = []string{"kappa", "eta"}
			c.Causality.Mutation.Every = 0
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg, err := DefaultConfig()
			if err != nil {
				b.Fatal(err)
			}
			cfg.Faults = nil
			bc.mutate(&cfg)
			be := cpu.New(cpu.Options{})
			eng, err := NewFusionEngine(cfg.FusionConfig(), fusion.Engines{State: be, Spiking: be, Spectral: be})
			if err != nil {
				b.Fatal(err)
			}
			led, err := ledger.Open(b.TempDir(), testLedgerOptions)
			if err != nil {
				b.Fatal(err)
			}
			defer led.Close()
			o, err := New(context.Background(), cfg, eng, NewRecorder(led), 0)
			if err != nil {
				b.Fatal(err)
			}
			defer o.Close()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := o.Tick(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestLearningWired: in the built-in scenario the fusion layer's gradient
// exchange and meta-evolution run inside QuantumFusion's step (every 5
// and 10 fusion steps), change the Hamiltonian's coefficients, are counted
// in the summary, and every mutation is a "mutation" ledger record with
// its ε_Q and ΔΘ; inject_meta_graph moves λ off the configured weights
// once MetaCausality has a graph; the spike-pattern memory fills and
// recalls. Switched off, none of it happens.
func TestLearningWired(t *testing.T) {
	const ticks = 21
	type result struct {
		sum       *Summary
		h         []float64
		mutations []telemetry.SystemEvent
		lambdaN   float64
		last      map[string]float64
		stored    int
		hPhase    float64
	}
	runIt := func(mutate func(*Config)) result {
		o, led := newRuntime(t, func(c *Config) { c.Faults = nil; mutate(c) })
		reps := mustRun(t, o, ticks)
		sum, err := o.Summary()
		if err != nil {
			t.Fatal(err)
		}
		var r result
		r.sum, r.lambdaN = sum, reps[len(reps)-1].Metrics["lambda_n"]
		r.h = o.eng.(*FusionEngine).System().Theta().H
		r.last = reps[len(reps)-1].Metrics
		sys := o.eng.(*FusionEngine).System()
		r.hPhase = fusion.PhaseEntropy(sys.Psi(), sys.LastSpectrum())
		if mem := o.eng.(*FusionEngine).System().Memory(); mem != nil {
			r.stored = len(mem.Patterns())
		}
		err = ledger.Scan(led.Dir(), func(rec ledger.Record) error {
			if e, ok := rec.Event.(telemetry.SystemEvent); ok && e.Kind == "mutation" {
				r.mutations = append(r.mutations, e)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	on := runIt(func(*Config) {})
	cfg, _ := DefaultConfig()
	h0 := cfg.FusionConfig().Hamiltonian
	if l := on.sum.Learning; l.Exchanges != 4 || l.Mutations != 2 || l.Outcomes == 0 || l.Lowered < 3 {
		t.Errorf("learning on: %+v, want 4 exchanges (3+ lowering the loss) and 2 mutations", l)
	}
	moved := false
	for k := range h0 {
		moved = moved || on.h[k] != h0[k].Coeff
	}
	if !moved {
		t.Error("learning on: the Hamiltonian's coefficients never moved")
	}
	if len(on.mutations) != 2 {
		t.Fatalf("%d mutation records in the ledger, want 2", len(on.mutations))
	}
	nTheta := len(h0) + 3
	for _, e := range on.mutations {
		for k := 0; k < nTheta; k++ {
			if _, ok := e.Fields[fmt.Sprintf("eps.%d", k)]; !ok {
				t.Fatalf("mutation record without eps.%d: %v", k, e.Fields)
			}
			if _, ok := e.Fields[fmt.Sprintf("dtheta.%d", k)]; !ok {
				t.Fatalf("mutation record without dtheta.%d", k)
			}
		}
	}
	if on.lambdaN == cfg.Fusion.Learning.Gradient.LambdaN {
		t.Errorf("λ_N %v after %d ticks: inject_meta_graph left the configured weight", on.lambdaN, ticks)
	}

	// H_φ (integration §19) is the last step's state against its spikes.
	if math.Abs(on.last["h_phase"]-on.hPhase) > 1e-9 || !(on.sum.PhaseEntropyMax >= on.last["h_phase"]) || on.sum.PhaseEntropyMean <= 0 {
		t.Errorf("h_phase %v, recomputed %v, summary max %v mean %v", on.last["h_phase"], on.hPhase, on.sum.PhaseEntropyMax, on.sum.PhaseEntropyMean)
	}
	// The memory store (fusion §10) fills from the steps' spike patterns
	// and recalls every stored pattern after a bit flip and rotation.
	if on.stored < 2 || on.last["memory_size"] != float64(on.stored) || !(on.last["memory_recall"] > 0 && on.last["memory_recall"] <= 1) {
		t.Errorf("memory: %d patterns stored, metrics size %v recall %v", on.stored, on.last["memory_size"], on.last["memory_recall"])
	}

	off := runIt(func(c *Config) { c.Fusion.Learning, c.Fusion.Memory = fusion.Learning{}, fusion.Memory{} })
	if _, ok := off.last["memory_size"]; ok || off.stored != 0 {
		t.Errorf("memory off: size metric %v, %d stored", off.last["memory_size"], off.stored)
	}
	if l := off.sum.Learning; l.Exchanges != 0 || l.Mutations != 0 || len(off.mutations) != 0 {
		t.Errorf("learning off: %+v, %d mutation records", l, len(off.mutations))
	}
	for k := range h0 {
		if off.h[k] != h0[k].Coeff {
			t.Fatalf("learning off: coefficient %d moved", k)
		}
	}
}

// TestStabilityRules: the constitution's rules for fusion §13 (det J > 0,
// dH_coh/dt < tolerance) and integration §16 (dS/dt > −tolerance) are
// evaluated every tick on figures the modules report, and a breach
// reverts to the last sealed checkpoint, bit-exactly; the reflexive
// latency row is the mean time from the decision to the restored state.
func TestStabilityRules(t *testing.T) {
	rules := []string{"jacobian-det", "coherence-decay", "stability-growth"}
	// A clean run: every rule evaluated and satisfied every tick (a
	// missing figure would break its rule).
	o, _ := newRuntime(t, func(c *Config) { c.Faults = nil })
	for _, rep := range mustRun(t, o, 12) {
		for _, r := range rules {
			if rep.Metrics["rule."+r] != 1 {
				t.Fatalf("tick %d: rule %s = %v, want satisfied", rep.Tick, r, rep.Metrics["rule."+r])
			}
		}
		if !(rep.Metrics["det_j"] > 0) {
			t.Fatalf("tick %d: det_j %v", rep.Tick, rep.Metrics["det_j"])
		}
	}
	// The decoherence fault breaks the rate rules, and the run reverts.
	o, _ = newRuntime(t, func(c *Config) { c.Faults = []Fault{{Tick: 15, Kind: FaultDecohere}} })
	mustRun(t, o, 20)
	rbs := o.Rollbacks()
	if len(rbs) != 1 || rbs[0].Checkpoint != rbs[0].Restored {
		t.Fatalf("rollbacks %+v", rbs)
	}
	for _, r := range rules[1:] {
		if !slices.ContainsFunc(rbs[0].Reasons, func(s string) bool { return strings.HasPrefix(s, "rule "+r+":") }) {
			t.Errorf("the decoherence rollback does not name %s: %v", r, rbs[0].Reasons)
		}
	}
	sum, err := o.Summary()
	if err != nil {
		t.Fatal(err)
	}
	lat := sum.Checks[slices.IndexFunc(sum.Checks, func(c Check) bool { return c.Name == "reflexive latency" })]
	if lat.Value != rbs[0].Latency.Seconds() || !(lat.Value > 0) || !lat.Pass || !strings.Contains(lat.Measured, "1 rollbacks") {
		t.Errorf("reflexive latency %+v, rollback took %v", lat, rbs[0].Latency)
	}
	// Each rule alone, made impossible, reverts the first tick.
	for _, r := range rules {
		o, _ := newRuntime(t, func(c *Config) {
			c.Faults = nil
			c.Governance.MaxRollbacks = 1
			for i := range c.Governance.Rules {
				if c.Governance.Rules[i].Name == r {
					c.Governance.Rules[i].Value = map[string]governance.Threshold{"jacobian-det": 1e9, "coherence-decay": -1e9, "stability-growth": 1e9}[r]
				}
			}
		})
		err := o.Run(context.Background(), 3, nil)
		rbs := o.Rollbacks()
		if err == nil || len(rbs) != 1 || !strings.HasPrefix(rbs[0].Reasons[0], "rule "+r+":") || rbs[0].Checkpoint != rbs[0].Restored {
			t.Errorf("%s made impossible: err %v, rollbacks %+v", r, err, rbs)
		}
	}
}

// TestMessagesInLedger: every message sent on the bus — rolled-back ticks'
// included, and the last tick's BlockchainTelemetry message, flushed by
// Run — is a leaf of a batch in a tick record (or the final "messages"
// record) and can be proven into the ledger; reproducible runs write no
// batches.
func TestMessagesInLedger(t *testing.T) {
	o, led := newRuntime(t, func(c *Config) { c.Faults = []Fault{{Tick: 12, Kind: FaultDecohere}} })
	var sent [][]byte
	o.seal = func(name, target string, body []byte) ([]byte, error) {
		env, err := o.ids[name].Seal(target, body, time.Now())
		sent = append(sent, env)
		return env, err
	}
	mustRun(t, o, 14)
	if len(o.Rollbacks()) != 1 {
		t.Fatalf("%d rollbacks, want the fault's", len(o.Rollbacks()))
	}
	if len(sent) < 14*len(ModuleOrder())-8 {
		t.Fatalf("only %d messages sealed", len(sent))
	}
	for i, env := range sent {
		p, err := ledger.ProveMessage(led.Dir(), ledger.MessageLeaf(env))
		if err != nil {
			t.Fatalf("message %d of %d: %v", i, len(sent), err)
		}
		m, _, _, err := bus.Parse(env)
		if err != nil || p.Origin != m.Origin {
			t.Fatalf("message %d: proven as from %q, sealed by %q (%v)", i, p.Origin, m.Origin, err)
		}
	}

	r, led2 := newRuntime(t, func(c *Config) { c.Faults, c.Reproducible = nil, true })
	mustRun(t, r, 3)
	err := ledger.Scan(led2.Dir(), func(rec ledger.Record) error {
		if e, ok := rec.Event.(telemetry.SystemEvent); ok {
			if _, has := e.Fields["msg.count"]; has || e.Kind == ledger.MessagesKind {
				return errors.New("a message batch in a reproducible run")
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// TestEngineSnapshotVersion: a fusion engine snapshot of another format
// version is refused naming both versions, before anything is restored.
func TestEngineSnapshotVersion(t *testing.T) {
	var f FusionEngine
	err := f.Restore(nil, []byte("MECFUS\x00\x01rest"))
	if err == nil || !strings.Contains(err.Error(), "format version 1") || !strings.Contains(err.Error(), "reads version 2") {
		t.Errorf("old snapshot: %v", err)
	}
	if err := f.Restore(nil, []byte("MECFUX\x00\x02")); err == nil || !strings.Contains(err.Error(), "not a fusion engine snapshot") {
		t.Errorf("foreign bytes: %v", err)
	}
}
