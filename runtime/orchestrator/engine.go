package orchestrator

import (
	"context"
	"errors"
	"fmt"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/fusion"
)

// Engine is what the QuantumFusion module needs from the fusion layer: a
// register on some state-vector backend coupled to a spiking network, that
// steps, reports its metrics, and saves and restores its complete state.
// FusionEngine adapts package fusion to it; tests may supply fakes.
type Engine interface {
	// Step advances the coupled system by one step of the current Δt.
	Step(ctx context.Context) (EngineStep, error)
	// SetDt sets the step length Δt.
	SetDt(dt float64) error
	// Dt returns the step length in use.
	Dt() float64
	// SetCoupling sets α, β and γ.
	SetCoupling(alpha, beta, gamma float64)
	// Coupling returns α, β and γ (the engine's own ACE may change them).
	Coupling() (alpha, beta, gamma float64)
	// Psi returns the host copy of ψ after the last step (read-only).
	Psi() []complex128
	// Load overwrites ψ on the backend (fault injection).
	Load(psi []complex128) error
	// Snapshot returns ψ and the engine's remaining dynamic state.
	Snapshot() (psi []complex128, private []byte, err error)
	// Restore returns the engine bit for bit to a Snapshot.
	Restore(psi []complex128, private []byte) error
	// Recalibrate applies the Adaptive Coherence Engine's recalibration
	// once and returns the new α and γ.
	Recalibrate() (alpha, gamma float64)
	// Qubits is the register size.
	Qubits() int
	// Close frees the backend resources.
	Close()
}

// EngineStep is what one engine step reports.
type EngineStep struct {
	// HCoh is the coherence entropy, DHCohDt its rate of change.
	HCoh, DHCohDt float64
	// HPhase is the quantum–neural phase entropy (fusion.PhaseEntropy).
	HPhase float64
	// PhaseDiff is |φ_ψ − φ_S|; Phase the signed φ_ψ − φ_S in (−π, π].
	PhaseDiff, Phase float64
	// ECoh is the coherence functional, R the order parameter.
	ECoh, R float64
	// RateHz is the spiking network's firing rate over the step.
	RateHz float64
	// NormDrift is ‖ψ‖ − 1 before renormalisation.
	NormDrift float64
	// VMaxMV is the highest membrane potential after the step.
	VMaxMV float64
	// Recalibrated is set when the engine's ACE changed the coupling.
	Recalibrated bool
	// Violations are the step's safety-limit violations (data: the step
	// completed).
	Violations []fusion.Violation
	// VoltageViolations counts the voltage-cap violations.
	VoltageViolations int
	// ResonanceViolations counts the resonance violations.
	ResonanceViolations int
	// Learning is what the fusion layer's gradient exchange and
	// meta-evolution did after the step (nil when neither ran).
	Learning *fusion.LearningStep
	// Memory is the step's memory encoding (nil when the store is off).
	Memory *fusion.MemoryStep
}

// Memorizer is an Engine with the fusion layer's spike-pattern memory
// (fusion §10); QuantumFusion reports its size and recall accuracy.
type Memorizer interface {
	// Memory returns the store (nil when off).
	Memory() *fusion.MemoryStore
}

// Roller is an Engine that can look ahead without a trace: the
// meta-optimiser scores a candidate coupling α, β, γ by rolling out steps
// engine steps (at the step length dt) and restoring the engine
// (fusion.System.Rollout), calling visit after each with the step and ψ.
type Roller interface {
	Rollout(ctx context.Context, steps int, alpha, beta, gamma, dt float64, visit func(EngineStep, []complex128) error) error
}

// QuantumSampler is an Engine that draws noise from measurement outcomes
// of its register (fusion.QuantumNoise on the state-vector backend's
// sampler): k standardised components from shots outcomes each, 0 for a
// qubit in a Z eigenstate. MetaCausality's mutations use it.
type QuantumSampler interface {
	QuantumNoise(k, shots int, seed, stream uint64) ([]float64, error)
}

// Stabilizer is an Engine that evaluates the stability criterion det J > 0
// of its last step map (fusion §13); QuantumFusion reports it as det_j.
type Stabilizer interface {
	DetJ() (float64, error)
}

// FusionInterfaces are the fusion layer's three interfaces (the spec's
// inject_meta_graph, phase_to_semantic and monitor_entropy); QuantumFusion
// uses them when its Engine has them (FusionEngine does).
type FusionInterfaces interface {
	// InjectMetaGraph injects the meta-causal graph into the gradient
	// exchange and returns the weights λ_Q, λ_N, λ_P now in use.
	InjectMetaGraph(g fusion.MetaGraph) (fusion.Weights, error)
	// PhaseToSemantic maps ψ's phases to d semantic activities.
	PhaseToSemantic(d int) ([]float64, error)
	// MonitorEntropy returns H_coh of ψ.
	MonitorEntropy() float64
}

// FusionEngine runs package fusion's System behind the Engine interface.
type FusionEngine struct {
	sys   *fusion.System
	cfg   fusion.Config
	phase backend.Phase
}

// NewFusionEngine builds the fusion system for cfg on eng (chosen by
// fusion.SelectEngines).
func NewFusionEngine(cfg fusion.Config, eng fusion.Engines) (*FusionEngine, error) {
	sys, err := fusion.New(cfg, eng)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: %w", err)
	}
	ph, _ := eng.State.(backend.Phase)
	return &FusionEngine{sys: sys, cfg: sys.Config(), phase: ph}, nil
}

// PhaseBackend returns the phase capability (Kuramoto engine) of the
// backend that holds ψ, or nil when it has none.
func (f *FusionEngine) PhaseBackend() backend.Phase { return f.phase }

// phaseOf returns eng's phase capability, nil when it has none (the PSN
// then runs on engines/kuramoto).
func phaseOf(eng Engine) backend.Phase {
	if p, ok := eng.(interface{ PhaseBackend() backend.Phase }); ok {
		return p.PhaseBackend()
	}
	return nil
}

// System returns the underlying fusion system.
func (f *FusionEngine) System() *fusion.System { return f.sys }

// Step runs one fusion step. Voltage-cap and resonance violations are
// returned in EngineStep.Violations and counted; the error is a failure
// (a non-finite state among them: *fusion.NonFiniteError).
func (f *FusionEngine) Step(ctx context.Context) (EngineStep, error) {
	m, _, err := f.sys.Step(ctx)
	if err != nil {
		return EngineStep{}, err
	}
	return engineStep(m), nil
}

// Rollout is fusion.System.Rollout.
func (f *FusionEngine) Rollout(ctx context.Context, steps int, alpha, beta, gamma, dt float64, visit func(EngineStep, []complex128) error) error {
	return f.sys.Rollout(ctx, steps, alpha, beta, gamma, dt, func(m fusion.Metrics, psi []complex128) error {
		return visit(engineStep(m), psi)
	})
}

// QuantumNoise is fusion.QuantumNoise on the register as it is on the
// backend now (read back, so that ⟨Z⟩ and the sampled outcomes see the
// same state after a Load).
func (f *FusionEngine) QuantumNoise(k, shots int, seed, stream uint64) ([]float64, error) {
	psi := make([]complex128, 1<<f.cfg.Qubits)
	if err := f.sys.State().Read(psi); err != nil {
		return nil, fmt.Errorf("orchestrator: quantum noise: %w", err)
	}
	return fusion.QuantumNoise(f.sys.State(), psi, f.cfg.Qubits, k, shots, seed, stream)
}

// engineStep converts a fusion step's metrics.
func engineStep(m fusion.Metrics) EngineStep {
	st := EngineStep{HCoh: m.HCoh, DHCohDt: m.DHCohDt, HPhase: m.HPhase, PhaseDiff: m.PhaseDiff, Phase: m.Phase, ECoh: m.ECoh, R: m.R,
		RateHz: m.RateHz, NormDrift: m.NormDrift, VMaxMV: m.VMaxMV, Recalibrated: m.Recalibrated,
		Violations: m.Violations, Learning: m.Learning, Memory: m.Memory}
	for _, v := range m.Violations {
		switch v.Kind {
		case fusion.VoltageCap:
			st.VoltageViolations++
		case fusion.Resonance:
			st.ResonanceViolations++
		}
	}
	return st
}

// InjectMetaGraph is fusion.System.InjectMetaGraph.
func (f *FusionEngine) InjectMetaGraph(g fusion.MetaGraph) (fusion.Weights, error) {
	return f.sys.InjectMetaGraph(g)
}

// PhaseToSemantic is fusion.System.PhaseToSemantic.
func (f *FusionEngine) PhaseToSemantic(d int) ([]float64, error) { return f.sys.PhaseToSemantic(d) }

// MonitorEntropy is fusion.System.MonitorEntropy.
func (f *FusionEngine) MonitorEntropy() float64 { return f.sys.MonitorEntropy() }

// Memory is fusion.System.Memory.
func (f *FusionEngine) Memory() *fusion.MemoryStore { return f.sys.Memory() }

// DetJ is fusion.System.DetJ: det J of the last step map (registers of at
// most fusion.MaxJacobianQubits qubits).
func (f *FusionEngine) DetJ() (float64, error) { return f.sys.DetJ() }

// SetDt sets the evolution time per step.
func (f *FusionEngine) SetDt(dt float64) error { return f.sys.SetDt(dt) }

// Dt returns the evolution time per step.
func (f *FusionEngine) Dt() float64 {
	_, _, _, dt := f.sys.Params()
	return dt
}

// SetCoupling sets α, β, γ.
func (f *FusionEngine) SetCoupling(alpha, beta, gamma float64) { f.sys.SetCoupling(alpha, beta, gamma) }

// Coupling returns α, β, γ.
func (f *FusionEngine) Coupling() (alpha, beta, gamma float64) {
	a, b, g, _ := f.sys.Params()
	return a, b, g
}

// Psi returns the host copy of ψ after the last step.
func (f *FusionEngine) Psi() []complex128 { return f.sys.Psi() }

// Load overwrites ψ on the backend.
func (f *FusionEngine) Load(psi []complex128) error { return f.sys.State().Load(psi) }

// Qubits is the register size.
func (f *FusionEngine) Qubits() int { return f.cfg.Qubits }

// Close frees the system.
func (f *FusionEngine) Close() { f.sys.Close() }

// Recalibrate applies package fusion's ACE rule once (fusion.ACE.Recalibrate
// with the configured bounds) and returns the new α and γ.
func (f *FusionEngine) Recalibrate() (alpha, gamma float64) {
	a, b, g, _ := f.sys.Params()
	a, g = f.cfg.ACE.Recalibrate(a, g)
	f.sys.SetCoupling(a, b, g)
	return a, g
}

// engineMagic starts the private part of a fusion engine snapshot.
// The last byte is the format's version: 2 added the Hamiltonian's
// coefficients, the memory store and the meta-evolution state.
var engineMagic = []byte("MECFUS\x00\x02")

// Snapshot saves ψ and, as private bytes, the rest of fusion.Snapshot:
// last spectrum, network state, α, β, γ, step count, last H_coh, Δt, the
// Hamiltonian's coefficients (the learning rules change them), the
// spike-pattern store and the injected meta graph.
func (f *FusionEngine) Snapshot() ([]complex128, []byte, error) {
	s, err := f.sys.Snapshot()
	if err != nil {
		return nil, nil, fmt.Errorf("orchestrator: %w", err)
	}
	e := &enc{b: append([]byte(nil), engineMagic...)}
	e.c128s(s.LastF)
	e.u64(boolU64(s.LastF != nil))
	e.bytes(s.Network)
	for _, x := range []float64{s.Alpha, s.Beta, s.Gamma, s.LastH, s.Dt} {
		e.f64(x)
	}
	e.u64(uint64(s.Steps))
	e.f64s(s.H)
	e.u64(uint64(len(s.Memory)))
	for _, x := range s.Memory {
		e.u64(x)
	}
	for _, x := range s.Meta {
		e.f64(x)
	}
	return s.Psi, e.b, nil
}

// Restore returns the system to a Snapshot.
func (f *FusionEngine) Restore(psi []complex128, private []byte) error {
	m := len(engineMagic) - 1
	if len(private) < len(engineMagic) || string(private[:m]) != string(engineMagic[:m]) {
		return errors.New("orchestrator: not a fusion engine snapshot")
	}
	if v := private[m]; v != engineMagic[m] {
		return fmt.Errorf("orchestrator: fusion engine snapshot of format version %d; this build reads version %d", v, engineMagic[m])
	}
	d := &dec{b: private, off: len(engineMagic)}
	s := &fusion.Snapshot{Psi: psi}
	s.LastF = d.c128s()
	if d.u64() == 1 && s.LastF == nil {
		s.LastF = []complex128{}
	}
	s.Network = d.bytes()
	s.Alpha, s.Beta, s.Gamma, s.LastH, s.Dt = d.f64(), d.f64(), d.f64(), d.f64(), d.f64()
	s.Steps = int(d.u64())
	s.H = d.f64s()
	if k := d.count(8); k > 0 {
		s.Memory = make([]uint64, k)
		for i := range s.Memory {
			s.Memory[i] = d.u64()
		}
	}
	for k := range s.Meta {
		s.Meta[k] = d.f64()
	}
	if err := d.end(); err != nil {
		return fmt.Errorf("orchestrator: fusion engine snapshot: %w", err)
	}
	if err := f.sys.Restore(s); err != nil {
		return fmt.Errorf("orchestrator: %w", err)
	}
	return nil
}

func boolU64(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
