package orchestrator

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/cmplx"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"

	"github.com/prismai/mec/federation"
	"github.com/prismai/mec/fusion"
	"github.com/prismai/mec/internal/cbor"
	"github.com/prismai/mec/runtime/bus"
	"github.com/prismai/mec/runtime/governance"
	"github.com/prismai/mec/runtime/ledger"
	"github.com/prismai/mec/runtime/telemetry"
)

// Built-in rules, always part of the constitution (module "*": whichever
// module the orchestrator finds at fault).
var builtinRules = []governance.Rule{
	{Name: "state-finite", Metric: "state_finite", Op: "==", Value: 1, Module: "*",
		Description: "no NaN or Inf anywhere in Ξ"},
	{Name: "modules-ok", Metric: "module_errors", Op: "==", Value: 0, Module: "*",
		Description: "every module stepped, its message verified and its writes were allowed"},
}

// nonIsolable modules keep running whatever happens: the ledger must keep
// recording and governance must keep deciding.
var nonIsolable = []string{Governance, BlockchainTelemetry}

// Federation connects the runtime to the other nodes of a federation;
// *federation.Node implements it. Without one the runtime is a single
// node (federated drift 0).
type Federation interface {
	// Round runs learning round r on this node's parameters W.
	Round(ctx context.Context, r uint64, w []float64) (*federation.RoundResult, error)
	// Phase reports this node's fusion phase at a tick (publishing it
	// when publish is set) and returns the consensus.
	Phase(tick uint64, phi float64, publish bool) (*federation.PhaseResult, error)
	// Tick tells the federation the committed tick.
	Tick(tick uint64)
	// Mark remembers the public state at a checkpointed tick.
	Mark(tick uint64)
	// RolledBack tells the federation that the node rolled back from tick
	// at to the checkpoint of tick to (learning round toRound).
	RolledBack(ctx context.Context, at, to, toRound uint64, reason string) error
}

// Checkpoint is a snapshot of the full runtime state.
type Checkpoint struct {
	// Tick is the state's tick.
	Tick uint64
	// Bytes is the encoded state (State.MarshalBinary, ψ and engine included).
	Bytes []byte
	// Digest is SHA-256(Bytes), also recorded in the ledger.
	Digest [32]byte
	// Index is the ledger index of the "checkpoint" record.
	Index uint64
	// Sealed is the size of the first verified signed ledger checkpoint
	// found to cover Index (0: not yet known to be sealed).
	Sealed  uint64
	metrics map[string]float64
}

// Rollback describes one governance rollback.
type Rollback struct {
	// At is the tick that failed; To the tick of the restored checkpoint.
	At, To uint64
	// Reasons lists the broken rules and failures.
	Reasons []string
	// Isolated lists the modules isolated after the restore.
	Isolated []string
	// Alpha and Gamma are the coupling after the ACE recalibration.
	Alpha, Gamma float64
	// Checkpoint and Restored are the SHA-256 of the checkpoint and of the
	// state re-encoded right after the restore (equal: bit-exact).
	Checkpoint, Restored [32]byte
	// Sealed is the size of the signed ledger checkpoint covering the
	// restored checkpoint's record.
	Sealed uint64
	// Index is the ledger index of the "rollback" record.
	Index uint64
	// Escalation is 0 for a first violation and grows by one each time the
	// same rule breaks again right after a restore — before the run is
	// past the tick that failed before by more than that rollback's
	// isolation: the isolation lasts isolate_ticks·2^level ticks and the
	// coupling α, γ is halved per level after the ACE recalibration,
	// instead of looping through the same rollback.
	Escalation int
	// Latency is the governance response time: from Governance's verified
	// decision to roll back (the violation detected) to the restored state
	// re-encoded and found bit-exact, recalibrated and logged.
	Latency time.Duration
}

// TickReport is what Tick returns.
type TickReport struct {
	// Tick is the number of the tick that ran.
	Tick uint64
	// Metrics are the tick's metrics.
	Metrics map[string]float64
	// Ran lists the modules that ran, in order.
	Ran []string
	// Failures lists module failures.
	Failures []string
	// Rollback is set when the tick was rolled back.
	Rollback *Rollback
	// Meta is set when the meta-optimiser ran after the tick.
	Meta *MetaRun
	// Checkpointed is set when a checkpoint was taken after the tick.
	Checkpointed bool
}

// committedTick is a tick of the surviving trajectory.
type committedTick struct {
	tick                  uint64
	hcoh, drift, c, dt    float64
	lint, stability, ediv float64
	hphase                float64
	// PSN figures after the tick's grounding step (psn: grounding ran).
	psn                      bool
	psnR, psnSpread, mccRate float64
	// learning after the tick's fusion step (zero when QuantumFusion was
	// isolated): gradient exchange, mutation, its measurement outcomes,
	// and whether the exchange lowered the fused loss.
	grad, mutated, lowered bool
	outcomes               float64
	// MetaCausality's quantum mutation of its graph in the tick.
	causalProposed, causalAccepted bool
	causalOutcomes                 float64
}

// Orchestrator runs the modules over Ξ. It is not safe for concurrent use.
type Orchestrator struct {
	cfg     Config
	cons    *governance.Constitution
	eng     Engine
	rec     *Recorder
	st      *State
	modules []Module
	ids     map[string]*bus.Identity
	bus     *bus.Bus
	inbox   <-chan bus.Message
	prev    map[string]float64

	checkpoints   []*Checkpoint
	fired         []bool
	rollbacks     []Rollback
	metaRuns      []MetaRun
	committed     []committedTick
	executed      uint64
	evalSat       uint64
	evalTotal     uint64
	evalSuspended uint64
	maxMembers    int
	reflex        []time.Duration
	started       time.Time
	sealWait      time.Duration
	// detectedAt is when Governance's decision of the current tick was
	// applied (the start of a rollback's response time).
	detectedAt time.Time
	// batchLeaves and batchOrigins are the bus messages sealed since the
	// last tick record (BlockchainTelemetry records them in it).
	batchLeaves  []ledger.Hash
	batchOrigins []string

	fed Federation

	stampTick uint64 // the tick of the last logical timestamp
	stampSeq  int    // records stamped in that tick

	// Test hooks.
	seal      func(name, target string, body []byte) ([]byte, error)
	onRestore func(cp *Checkpoint, restored []byte)
}

// New builds the runtime for cfg around the engine (which it takes over:
// Close frees it) and the recorder's ledger, and records the initial
// checkpoint (tick 0). sealWait bounds how long a rollback waits for a
// signed ledger checkpoint to cover its target (0: 5 s).
func New(ctx context.Context, cfg Config, eng Engine, rec *Recorder, sealWait time.Duration) (*Orchestrator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if eng == nil || rec == nil || rec.led == nil {
		return nil, errors.New("orchestrator: an engine and a recorder with a ledger are required")
	}
	if cfg.Features > 1<<eng.Qubits() {
		return nil, fmt.Errorf("orchestrator: features %d exceed the %d amplitudes of the register", cfg.Features, 1<<eng.Qubits())
	}
	sampler, ok := eng.(QuantumSampler)
	if cfg.Causality.Mutation.Every > 0 && !ok {
		return nil, fmt.Errorf("orchestrator: causality.mutation: the quantum mutations need an engine that samples its register (%T does not)", eng)
	}
	if _, ok := eng.(Roller); cfg.Meta.Every > 0 && cfg.Meta.tunesCoupling() && !ok {
		return nil, fmt.Errorf("orchestrator: meta.params %v: tuning the coupling needs an engine that can roll out (%T cannot)", cfg.Meta.Params, eng)
	}
	cons := cfg.Governance
	cons.Rules = slices.Clone(cons.Rules)
	for _, b := range builtinRules {
		if cons.Rule(b.Name) == nil {
			cons.Rules = append(cons.Rules, b)
		}
	}
	if sealWait <= 0 {
		sealWait = 5 * time.Second
	}
	o := &Orchestrator{cfg: cfg, cons: &cons, eng: eng, rec: rec, bus: bus.NewBus(), ids: map[string]*bus.Identity{},
		prev: map[string]float64{}, fired: make([]bool, len(cfg.Faults)), started: time.Now(), sealWait: sealWait}
	d := cfg.Features
	pl := cfg.Plasticity.Plasticity
	o.modules = []Module{
		&quantumFusion{eng: eng, d: d, every: uint64(cfg.Federation.Round), band: cfg.Fusion.Limits.Resonance},
		&contextualGrounding{osc: cfg.Grounding.Oscillators, psn: PSN{cfg: cfg.Grounding.PSN, phase: phaseOf(eng)}},
		&semanticPlasticity{p: pl},
		&federatedNodeLearning{cfg: cfg.Federation},
		&metaCausality{window: cfg.Causality.Window, mut: cfg.Causality.Mutation, noise: sampler, qubits: eng.Qubits()},
		&reflexiveFeedback{cfg: cfg.Reflexive},
		&governanceModule{cons: o.cons, w: cfg.Dynamics, reproducible: cfg.Reproducible},
		&blockchainTelemetry{rec: rec, o: nil},
	}
	for _, name := range append(ModuleOrder(), Target) {
		var seed [mldsa65.SeedSize]byte
		if _, err := rand.Read(seed[:]); err != nil {
			return nil, fmt.Errorf("orchestrator: generating keys: %w", err)
		}
		id := bus.NewIdentity(name, seed)
		if err := o.bus.Register(name, id.PublicKey(), 1); err != nil {
			return nil, fmt.Errorf("orchestrator: %w", err)
		}
		o.ids[name] = id
	}
	for _, m := range o.modules {
		if b, ok := m.(*blockchainTelemetry); ok {
			b.o = o
		}
	}
	o.inbox = o.bus.Inbox(Target)
	o.st = o.initialState()
	o.prev = map[string]float64{"ledger_commit_lag_ms": 0, "reflex_latency_s": 0}
	if err := o.checkpoint(ctx); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *Orchestrator) initialState() *State {
	d := o.cfg.Features
	psi := o.eng.Psi()
	prob, bins := Fold(psi, d)
	a, b, g := o.eng.Coupling()
	s := &State{Dt: o.cfg.Step.Dt(fusion.CoherenceEntropy(psi)), Prob: prob, Bins: bins, Field: make([]float64, d)}
	s.Theta = Theta{Alpha: a, Beta: b, Gamma: g, Kappa: o.cfg.Grounding.Kappa, Eta: o.cfg.Plasticity.Eta,
		W: o.cfg.InitialW(), Causal: make([]float64, len(causalSeries)*len(causalSeries))}
	// Φ starts splayed around the circle, or in phase when the PSN holds
	// it together (from the splay state, an unstable equilibrium of the
	// array, the first ticks would break the meta-causal-consistency rule).
	splay := 2 * math.Pi / float64(d)
	if o.cfg.Grounding.PSN.K > 0 {
		splay = 0
	}
	s.Z = make([]complex128, d)
	for k := range s.Z {
		s.Z[k] = cmplx.Rect(0.1, splay*float64(k))
	}
	s.Gov.C, s.Gov.Health = 1, 1
	return s
}

// State returns a copy of Ξ (without ψ and the engine state; see Snapshot).
func (o *Orchestrator) State() *State { return o.st.Clone() }

// Snapshot returns the encoded full runtime state, ψ and engine included.
func (o *Orchestrator) Snapshot() ([]byte, error) {
	psi, priv, err := o.eng.Snapshot()
	if err != nil {
		return nil, err
	}
	s := o.st.Clone()
	s.Psi, s.Engine = psi, priv
	return s.MarshalBinary()
}

// Checkpoints returns the checkpoints kept in memory, oldest first.
func (o *Orchestrator) Checkpoints() []*Checkpoint { return slices.Clone(o.checkpoints) }

// Rollbacks returns every rollback so far.
func (o *Orchestrator) Rollbacks() []Rollback { return slices.Clone(o.rollbacks) }

// stamp is the timestamp of a record of tick t: the wall clock, or in a
// reproducible run the logical clock — the epoch plus t seconds plus one
// microsecond per record already stamped in that tick.
func (o *Orchestrator) stamp(t uint64) time.Time {
	if !o.cfg.Reproducible {
		return time.Now()
	}
	if t != o.stampTick {
		o.stampTick, o.stampSeq = t, 0
	}
	o.stampSeq++
	return logicalEpoch.Add(time.Duration(t)*time.Second + time.Duration(o.stampSeq)*time.Microsecond)
}

// SetFederation joins the runtime to a federation (before the first
// tick): FederatedNodeLearning averages W with the other nodes every
// federation.round ticks, QuantumFusion takes part in the phase
// consensus, and checkpoints and rollbacks are reported to it.
func (o *Orchestrator) SetFederation(f Federation) {
	o.fed = f
	for _, m := range o.modules {
		switch m := m.(type) {
		case *quantumFusion:
			m.fed = f
		case *federatedNodeLearning:
			m.fed = f
		}
	}
	if f != nil {
		for _, cp := range o.checkpoints {
			f.Mark(cp.Tick)
		}
	}
}

// Recorder returns the ledger recorder.
func (o *Orchestrator) Recorder() *Recorder { return o.rec }

// Bus returns the message bus.
func (o *Orchestrator) Bus() *bus.Bus { return o.bus }

// Constitution returns the constitution in force (built-in rules included).
func (o *Orchestrator) Constitution() *governance.Constitution { return o.cons }

// Close frees the engine.
func (o *Orchestrator) Close() { o.eng.Close() }

// Run ticks until Ξ has completed ticks meta-epochs (rolled-back ticks run
// again), calling progress after every tick.
func (o *Orchestrator) Run(ctx context.Context, ticks int, progress func(*TickReport)) error {
	for o.st.Tick < uint64(ticks) {
		rep, err := o.Tick(ctx)
		if err != nil {
			return err
		}
		if progress != nil {
			progress(rep)
		}
	}
	return o.FlushMessages(ctx)
}

type failure struct {
	module string
	err    error
}

// Tick runs one meta-epoch: inject due faults, step every module that is
// not isolated in ModuleOrder — each module's message is sealed with its key,
// verified by the bus and applied to Ξ — then either commit the tick
// (advance time, adapt Δt, meta-optimise every K ticks, checkpoint every
// N ticks) or, when Governance decided so, roll back.
func (o *Orchestrator) Tick(ctx context.Context) (*TickReport, error) {
	return o.tick(ctx)
}

// FlushMessages records the bus messages not yet in a batch — those sealed
// after the last tick record, i.e. the last tick's BlockchainTelemetry
// message — as a "messages" record (Run calls it at the end; nothing in
// reproducible runs).
func (o *Orchestrator) FlushMessages(ctx context.Context) error {
	if o.cfg.Reproducible || len(o.batchLeaves) == 0 {
		o.batchLeaves, o.batchOrigins = o.batchLeaves[:0], o.batchOrigins[:0]
		return nil
	}
	f, err := ledger.BatchFields(o.batchOrigins, o.batchLeaves)
	if err != nil {
		return fmt.Errorf("orchestrator: %w", err)
	}
	f["tick"] = telemetry.Num(float64(o.st.Tick))
	if _, _, err := o.rec.Append(ctx, telemetry.SystemEvent{Timestamp: o.stamp(o.st.Tick), Source: "bus", Kind: ledger.MessagesKind, Fields: f}); err != nil {
		return fmt.Errorf("orchestrator: recording the last messages: %w", err)
	}
	o.batchLeaves, o.batchOrigins = o.batchLeaves[:0], o.batchOrigins[:0]
	return nil
}

// tick runs one meta-epoch (Tick).
func (o *Orchestrator) tick(ctx context.Context) (*TickReport, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st := o.st
	n := st.Tick + 1
	for _, m := range o.modules {
		if f, ok := m.(*federatedNodeLearning); ok && !st.IsIsolated(f.Name()) {
			if err := f.pace(ctx, n); err != nil {
				return nil, err
			}
		}
	}
	o.executed++
	if err := o.injectFaults(ctx, n); err != nil {
		return nil, err
	}
	st.expireIsolation()
	metrics := maps.Clone(o.prev)
	metrics["compliance"] = 1
	if st.Gov.Evaluated > 0 {
		metrics["compliance"] = float64(st.Gov.Satisfied) / float64(st.Gov.Evaluated)
	}
	metrics["bus_rejected"] = float64(o.bus.Stats().Rejected())
	metrics["dt"] = st.Dt
	var (
		ran       []string
		fails     []failure
		nonFinite []string
		fusionTS  time.Time
		fusionAt  time.Time
		decision  Update
		tickStart = time.Now()
	)
	for _, m := range o.modules {
		name := m.Name()
		if st.IsIsolated(name) {
			continue
		}
		if name == Governance {
			if where := st.NonFinite(); where != "" {
				metrics["state_finite"] = 0
				if len(nonFinite) == 0 {
					fails = append(fails, failure{"", fmt.Errorf("non-finite value in %s", where)})
				}
			} else {
				metrics["state_finite"] = 1
			}
			metrics["module_errors"] = float64(len(fails))
		}
		tel := &Telemetry{Tick: n, Dt: st.Dt, State: st.Clone(), Metrics: maps.Clone(metrics), Ran: slices.Clone(ran), FusionTime: fusionTS}
		if name == BlockchainTelemetry && !o.cfg.Reproducible {
			tel.Messages, tel.Origins = slices.Clone(o.batchLeaves), slices.Clone(o.batchOrigins)
		}
		upd, ts, err := o.stepModule(ctx, m, tel)
		if err != nil {
			if name == Governance || name == BlockchainTelemetry {
				return nil, fmt.Errorf("orchestrator: tick %d: %w", n, err)
			}
			fails = append(fails, failure{name, err})
			continue
		}
		ran = append(ran, name)
		for _, path := range cbor.SortedKeys(upd.Writes) {
			v := upd.Writes[path]
			if err := st.apply(name, path, v, o.cfg.Features, o.cfg.Causality.Window); err != nil {
				fails = append(fails, failure{name, err})
				continue
			}
			if !finiteVec(v) && !slices.Contains(nonFinite, name) {
				nonFinite = append(nonFinite, name)
			}
		}
		for k, v := range upd.Metrics {
			metrics[k] = v
		}
		switch name {
		case QuantumFusion:
			fusionTS, fusionAt = ts, time.Now()
		case ReflexiveFeedback:
			from := fusionAt
			if from.IsZero() {
				from = tickStart
			}
			lat := time.Since(from)
			o.reflex = append(o.reflex, lat)
			metrics["reflex_latency_s"] = lat.Seconds()
		case Governance:
			decision, o.detectedAt = upd, time.Now()
		}
	}
	rep := &TickReport{Tick: n, Metrics: metrics, Ran: ran}
	for _, f := range fails {
		rep.Failures = append(rep.Failures, f.err.Error())
	}
	for _, r := range o.cons.Rules {
		switch decision.Metrics["rule."+r.Name] {
		case 1:
			o.evalSat++
			o.evalTotal++
		case -1: // suspended: its module is isolated
			o.evalSuspended++
		default:
			o.evalTotal++
		}
	}
	if decision.Metrics["decision_rollback"] == 1 {
		reasons, culprits := o.diagnose(decision, metrics, fails, nonFinite)
		rb, err := o.rollback(ctx, n, reasons, culprits)
		if err != nil {
			return rep, err
		}
		rep.Rollback = rb
		return rep, nil
	}
	st.Tick = n
	if o.fed != nil {
		o.fed.Tick(n)
	}
	st.Time += st.Dt
	st.Dt = o.cfg.Step.Dt(metrics["h_coh"])
	d := o.cfg.Features
	st.Gov.Probs = append(st.Gov.Probs, normalise(st.Prob)...)
	if w := o.cfg.Causality.Window * d; len(st.Gov.Probs) > w {
		st.Gov.Probs = slices.Clone(st.Gov.Probs[len(st.Gov.Probs)-w:])
	}
	o.prev = metrics
	o.maxMembers = max(o.maxMembers, int(metrics["federated_nodes"]))
	o.committed = append(o.committed, committedTick{tick: n, hcoh: metrics["h_coh"], drift: metrics["federated_drift"],
		c: metrics["c"], dt: metrics["dt"], lint: metrics["l_int"], stability: metrics["stability"], ediv: metrics["e_div"]})
	if slices.Contains(ran, ContextualGrounding) {
		c := &o.committed[len(o.committed)-1]
		c.psn, c.psnR, c.psnSpread, c.mccRate = true, metrics["psn_order"], metrics["psn_spread"], metrics["mcc_rate"]
	}
	if slices.Contains(ran, QuantumFusion) {
		c := &o.committed[len(o.committed)-1]
		c.grad, c.mutated = metrics["grad_exchanged"] == 1, metrics["meta_mutated"] == 1
		c.hphase = metrics["h_phase"]
		c.lowered = c.grad && metrics["grad_loss_after"] < metrics["grad_loss"]
		if c.mutated {
			c.outcomes = metrics["meta_outcomes"]
		}
	}
	if slices.Contains(ran, MetaCausality) && metrics["causal_proposed"] == 1 {
		c := &o.committed[len(o.committed)-1]
		c.causalProposed, c.causalAccepted, c.causalOutcomes = true, metrics["causal_mutated"] == 1, metrics["causal_outcomes"]
	}
	if k := o.cfg.Meta.Every; k > 0 && n%uint64(k) == 0 {
		mr, err := o.metaOptimise(ctx)
		if err != nil {
			return rep, err
		}
		rep.Meta = mr
	}
	if n%uint64(o.cfg.Checkpoint.Every) == 0 && metrics["health"] >= o.cons.TauSafe {
		if err := o.checkpoint(ctx); err != nil {
			return rep, err
		}
		rep.Checkpointed = true
	}
	return rep, nil
}

// stepModule runs m, seals its message with m's key, sends it over the
// bus and takes the verified message from the orchestrator's inbox.
func (o *Orchestrator) stepModule(ctx context.Context, m Module, tel *Telemetry) (Update, time.Time, error) {
	name := m.Name()
	msg, err := m.Step(ctx, tel)
	if err != nil {
		return Update{}, time.Time{}, fmt.Errorf("%s: %w", name, err)
	}
	if name == BlockchainTelemetry {
		// its tick record holds the messages so far (none recorded in
		// reproducible runs: they carry wall-clock timestamps)
		o.batchLeaves, o.batchOrigins = o.batchLeaves[:0], o.batchOrigins[:0]
	}
	if msg.Target != Target {
		return Update{}, time.Time{}, fmt.Errorf("%s: message addressed to %q, not %q", name, msg.Target, Target)
	}
	var env []byte
	if o.seal != nil {
		env, err = o.seal(name, msg.Target, msg.Body)
	} else {
		env, err = o.ids[name].Seal(msg.Target, msg.Body, time.Now())
	}
	if err != nil {
		return Update{}, time.Time{}, fmt.Errorf("%s: %w", name, err)
	}
	o.batchLeaves, o.batchOrigins = append(o.batchLeaves, ledger.MessageLeaf(env)), append(o.batchOrigins, name)
	if err := o.bus.Send(ctx, env); err != nil {
		return Update{}, time.Time{}, fmt.Errorf("%s: message rejected: %w", name, err)
	}
	var got bus.Message
	select {
	case got = <-o.inbox:
	case <-ctx.Done():
		return Update{}, time.Time{}, ctx.Err()
	}
	if got.Origin != name {
		return Update{}, time.Time{}, fmt.Errorf("%s: delivered message is from %q", name, got.Origin)
	}
	upd, err := UnmarshalUpdate(got.Body)
	if err != nil {
		return Update{}, time.Time{}, fmt.Errorf("%s: %w", name, err)
	}
	return upd, got.Timestamp, nil
}

// diagnose lists why a tick is rolled back and which modules are at fault.
func (o *Orchestrator) diagnose(decision Update, metrics map[string]float64, fails []failure, nonFinite []string) (reasons, culprits []string) {
	blame := func(m string) {
		if m != "" && !slices.Contains(culprits, m) {
			culprits = append(culprits, m)
		}
	}
	for _, f := range fails {
		reasons = append(reasons, f.err.Error())
		blame(f.module)
	}
	for _, m := range nonFinite {
		reasons = append(reasons, m+" wrote a non-finite value")
		blame(m)
	}
	for i := range o.cons.Rules {
		r := &o.cons.Rules[i]
		if v := decision.Metrics["rule."+r.Name]; v == 1 || v == -1 {
			continue // satisfied, or suspended
		}
		x, ok := metrics[r.Metric]
		if !ok {
			x = math.NaN()
		}
		reasons = append(reasons, fmt.Sprintf("rule %s (value %g)", r, x))
		if r.Module != "*" {
			blame(r.Module)
		}
	}
	if h := decision.Metrics["health"]; h < o.cons.TauSafe {
		reasons = append(reasons, fmt.Sprintf("health %.3f < τ_safe %.3f", h, o.cons.TauSafe))
	}
	return reasons, culprits
}

// injectFaults applies the faults due at tick n, once each.
func (o *Orchestrator) injectFaults(ctx context.Context, n uint64) error {
	for i, f := range o.cfg.Faults {
		if o.fired[i] || f.Tick != n {
			continue
		}
		o.fired[i] = true
		switch f.Kind {
		case FaultOverflowPsi:
			psi := slices.Clone(o.eng.Psi())
			psi[0] = 1e300
			if err := o.eng.Load(psi); err != nil {
				return fmt.Errorf("orchestrator: fault: %w", err)
			}
		case FaultCoupling:
			o.st.Theta.Gamma = f.Value
		case FaultNaNWeight:
			o.st.Theta.W[0] = math.NaN()
		case FaultPhaseKick:
			o.st.Z = slices.Clone(o.st.Z)
			o.st.Z[0] *= cmplx.Rect(1, f.Value)
		case FaultDecohere:
			psi := make([]complex128, len(o.eng.Psi()))
			for i := range psi {
				psi[i] = complex(1/math.Sqrt(float64(len(psi))), 0)
			}
			if err := o.eng.Load(psi); err != nil {
				return fmt.Errorf("orchestrator: fault: %w", err)
			}
		}
		ev := telemetry.SystemEvent{Timestamp: o.stamp(n), Source: "environment", Kind: "fault",
			Fields: map[string]telemetry.Value{"tick": telemetry.Num(float64(n)), "fault": telemetry.Str(f.Kind), "value": telemetry.Num(f.Value)}}
		if _, _, err := o.rec.Append(ctx, ev); err != nil {
			return fmt.Errorf("orchestrator: %w", err)
		}
	}
	return nil
}

// checkpoint snapshots the full state and records its digest in the ledger.
func (o *Orchestrator) checkpoint(ctx context.Context) error {
	b, err := o.Snapshot()
	if err != nil {
		return fmt.Errorf("orchestrator: checkpoint: %w", err)
	}
	dg := Digest(b)
	ev := telemetry.SystemEvent{Timestamp: o.stamp(o.st.Tick), Source: "orchestrator", Kind: "checkpoint", Fields: map[string]telemetry.Value{
		"tick": telemetry.Num(float64(o.st.Tick)), "state_sha256": telemetry.Str(hex.EncodeToString(dg[:])),
		"bytes": telemetry.Num(float64(len(b)))}}
	idx, _, err := o.rec.Append(ctx, ev)
	if err != nil {
		return fmt.Errorf("orchestrator: checkpoint: %w", err)
	}
	o.checkpoints = append(o.checkpoints, &Checkpoint{Tick: o.st.Tick, Bytes: b, Digest: dg, Index: idx, metrics: maps.Clone(o.prev)})
	if o.fed != nil {
		o.fed.Mark(o.st.Tick)
	}
	if k := o.cfg.Checkpoint.Keep; len(o.checkpoints) > k {
		o.checkpoints = slices.Clone(o.checkpoints[len(o.checkpoints)-k:])
	}
	return nil
}

// sealed reports whether a verified signed ledger checkpoint covers cp's
// record, waiting up to wait for one.
func (o *Orchestrator) sealed(ctx context.Context, cp *Checkpoint, wait time.Duration) (bool, error) {
	deadline := time.Now().Add(wait)
	for cp.Sealed == 0 {
		if o.rec.led.Stats().CheckpointSize > cp.Index {
			ck, err := ledger.ReadCheckpoint(o.rec.led.Dir(), o.rec.led.Verifier())
			if err != nil {
				return false, fmt.Errorf("orchestrator: reading the signed checkpoint: %w", err)
			}
			if ck.Size > cp.Index {
				cp.Sealed = ck.Size
				break
			}
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return true, nil
}

// restore returns Ξ and the engine to cp, checks that the state
// re-encodes to cp's bytes exactly and returns the digest of the
// re-encoding.
func (o *Orchestrator) restore(cp *Checkpoint) ([32]byte, error) {
	var s State
	if err := s.UnmarshalBinary(cp.Bytes); err != nil {
		return [32]byte{}, err
	}
	if err := o.eng.Restore(s.Psi, s.Engine); err != nil {
		return [32]byte{}, fmt.Errorf("orchestrator: restore: %w", err)
	}
	s.Psi, s.Engine = nil, nil
	o.st = &s
	o.prev = maps.Clone(cp.metrics)
	b, err := o.Snapshot()
	if err != nil {
		return [32]byte{}, fmt.Errorf("orchestrator: restore: %w", err)
	}
	if o.onRestore != nil {
		o.onRestore(cp, b)
	}
	if !bytes.Equal(b, cp.Bytes) {
		return [32]byte{}, fmt.Errorf("orchestrator: restore of tick %d is not bit-exact", cp.Tick)
	}
	i := sort.Search(len(o.committed), func(i int) bool { return o.committed[i].tick > cp.Tick })
	o.committed = o.committed[:i]
	return Digest(b), nil
}

// rollback restores the newest sealed checkpoint, isolates the culprits,
// applies the ACE recalibration and logs the decision.
func (o *Orchestrator) rollback(ctx context.Context, at uint64, reasons, culprits []string) (*Rollback, error) {
	if len(o.rollbacks) >= o.cons.MaxRollbacksOrDefault() {
		return nil, fmt.Errorf("orchestrator: governance: tick %d fails after %d rollbacks: %s", at, len(o.rollbacks), strings.Join(reasons, "; "))
	}
	var cp *Checkpoint
	for i := len(o.checkpoints) - 1; i >= 0 && cp == nil; i-- {
		wait := time.Duration(0)
		if i == len(o.checkpoints)-1 {
			wait = o.sealWait
		}
		ok, err := o.sealed(ctx, o.checkpoints[i], wait)
		if err != nil {
			return nil, err
		}
		if ok {
			cp = o.checkpoints[i]
			o.checkpoints = o.checkpoints[:i+1]
		}
	}
	if cp == nil {
		return nil, errors.New("orchestrator: governance: no checkpoint is covered by a signed ledger checkpoint")
	}
	restored, err := o.restore(cp)
	if err != nil {
		return nil, err
	}
	for _, m := range o.modules {
		if f, ok := m.(*federatedNodeLearning); ok {
			f.reset() // its round in flight started from the abandoned state
		}
	}
	rb := Rollback{At: at, To: cp.Tick, Reasons: reasons, Checkpoint: cp.Digest, Restored: restored, Sealed: cp.Sealed}
	if k := len(o.rollbacks); k > 0 {
		if prev := o.rollbacks[k-1]; at <= prev.At+uint64(o.cons.IsolateTicks)<<min(prev.Escalation, 16) &&
			overlaps(reasonRules(reasons), reasonRules(prev.Reasons)) {
			rb.Escalation = prev.Escalation + 1
		}
	}
	isolate := uint64(o.cons.IsolateTicks) << min(rb.Escalation, 16)
	for _, m := range culprits {
		if slices.Contains(nonIsolable, m) || o.cons.IsolateTicks == 0 {
			continue
		}
		o.st.isolate(m, o.st.Tick+isolate)
		rb.Isolated = append(rb.Isolated, m)
	}
	rb.Alpha, rb.Gamma = o.eng.Recalibrate()
	if rb.Escalation > 0 {
		f := math.Ldexp(1, -min(rb.Escalation, 16))
		rb.Alpha, rb.Gamma = rb.Alpha*f, rb.Gamma*f
		_, beta, _ := o.eng.Coupling()
		o.eng.SetCoupling(rb.Alpha, beta, rb.Gamma)
	}
	o.st.Theta.Alpha, o.st.Theta.Gamma = rb.Alpha, rb.Gamma
	ev := telemetry.SystemEvent{Timestamp: o.stamp(at), Source: Governance, Kind: "rollback", Fields: map[string]telemetry.Value{
		"failed_tick": telemetry.Num(float64(at)), "restored_tick": telemetry.Num(float64(cp.Tick)),
		"reasons": telemetry.Str(strings.Join(reasons, "; ")), "isolated": telemetry.Str(strings.Join(rb.Isolated, ",")),
		"isolate_ticks": telemetry.Num(float64(o.cons.IsolateTicks)),
		"state_sha256":  telemetry.Str(hex.EncodeToString(cp.Digest[:])), "checkpoint_record": telemetry.Num(float64(cp.Index)),
		"signed_tree_size": telemetry.Num(float64(cp.Sealed)), "ace_alpha": telemetry.Num(rb.Alpha), "ace_gamma": telemetry.Num(rb.Gamma),
		"escalation": telemetry.Num(float64(rb.Escalation)), "isolated_ticks": telemetry.Num(float64(isolate))}}
	if o.cfg.Reproducible {
		delete(ev.Fields, "signed_tree_size") // when the ledger signed it is the wall clock's
	}
	idx, _, err := o.rec.Append(ctx, ev)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: logging the rollback: %w", err)
	}
	rb.Index = idx
	if !o.detectedAt.IsZero() {
		rb.Latency = time.Since(o.detectedAt)
	}
	o.rollbacks = append(o.rollbacks, rb)
	if o.fed != nil {
		why := strings.Join(reasons, "; ")
		if rb.Escalation > 0 {
			why = fmt.Sprintf("escalation level %d (the violation recurred right after a restore): %s", rb.Escalation, why)
		}
		if err := o.fed.RolledBack(ctx, at, cp.Tick, cp.Tick/uint64(o.cfg.Federation.Round), why); err != nil {
			return &rb, fmt.Errorf("orchestrator: telling the federation about the rollback: %w", err)
		}
	}
	return &rb, nil
}

// reasonRules extracts the rule names from rollback reasons ("rule NAME:
// ..."), and keeps the other reasons whole.
func reasonRules(reasons []string) []string {
	var out []string
	for _, r := range reasons {
		if rest, ok := strings.CutPrefix(r, "rule "); ok {
			name, _, _ := strings.Cut(rest, ":")
			out = append(out, name)
			continue
		}
		out = append(out, r)
	}
	return out
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}
