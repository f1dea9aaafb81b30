// Package fusion is the Quantum–Neuromorphic Fusion (QNF) layer: a quantum
// register (a state on any state-vector backend, evolving under a Pauli-sum
// Hamiltonian) coupled both ways to a spiking network (any backend with the
// spiking capability) through an FFT (any backend with the spectral
// capability), plus the Adaptive Coherence Engine that watches and
// recalibrates the coupling.
//
// Layer: compute library (the top of it). It may import backend, circuit,
// sim, engines/snn and internal/strict; never the runtime, devices or
// commands (the orchestrator and mec fuse import it).
//
// # One fusion step
//
// With D = 2^n amplitudes ψ_a and N neurons:
//
//  1. Evolve: ψ ← exp(−iH·dt)ψ, one second-order Trotter step on the
//     state-vector backend (gates fused as package sim does).
//  2. Quantum → neurons: V_i += α·Re u_i + β·Im u_i (mV), where u = M(ψ)
//     is the amplitude-to-neuron map: with D ≥ N ("fold") u_i = Σ_{a ≡ i
//     (mod N)} ψ_a, with D < N ("tile") u_i = ψ_{i mod D}.
//  3. Spiking: the network runs Config.SpikeSteps steps; S is the spike
//     count of each neuron in them (Feedback "counts") or its mean voltage
//     above V_rest over them (Feedback "voltage").
//  4. Neurons → quantum: s = Mᵀ(S) (the same map backwards: s_a = S_{a mod N}
//     with D ≥ N, s_a = Σ_{i ≡ a (mod D)} S_i with D < N), F[S] = FFT(s)/‖FFT(s)‖
//     (a unit vector; zero when s = 0), and ψ ← ψ + γ·F[S].
//  5. The norm drift ‖ψ‖ − 1 is reported, then ψ is renormalised.
//
// # The spectrum without the D-point transform
//
// When N divides D, s is S tiled D/N times,
// and the D-point DFT of a signal repeated D/N times vanishes except at the
// multiples of D/N: with a = j + N·m,
//
//	Σ_a s_a e^{−2πi·ka/D} = Σ_j S_j e^{−2πi·kj/D} · Σ_{m<D/N} e^{−2πi·km·N/D},
//
// and the second sum is D/N when D/N divides k and 0 otherwise, so
// FFT_D(s)_{k·D/N} = (D/N)·FFT_N(S)_k. The factor D/N cancels in the
// normalisation: F[S] is the unit N-point spectrum of S placed at stride
// D/N, the kick ψ += γ·F[S] touches N amplitudes, and the overlap ⟨F, ψ⟩,
// ‖F‖ and H_φ need only those. Every path computes F[S] so (an N-point
// real transform where the spectral backend has one), and LastSpectrum
// spreads it into a D-vector only when asked. With D < N (the fold
// s_a = Σ S_i) or N not dividing D the D-point spectrum is computed.
// Phase locking's geodesic step (PhaseLockStep) is a scale c_ψ of ψ plus
// a multiple of F, so it also needs only F's N entries (on the coupled
// path the scale goes into the renormalisation).
//
// # Metrics
//
//   - Coherence entropy H_coh = −Σ_a p_a ln p_a / ln D with p = |ψ|²: the
//     Shannon entropy of the measurement distribution normalised to [0, 1]
//     (0: a basis state, 1: uniform).
//   - Phase difference: φ_ψ − φ_S is the phase of the overlap
//     z = ⟨F[S], ψ⟩ = Σ_a conj(F_a)·ψ_a, i.e. the relative phase by which
//     the spike spectrum best aligns with the state; AvgPhaseDiff is |arg z|.
//     The resonance check requires it below Limits.Resonance (π/4).
//   - Coherence functional E_coh = ‖ψ − F[S]‖² + λ_c·(1 − cos(φ_ψ − φ_S)),
//     with analytic gradient (Gradient) and optional phase locking: one
//     step of gradient descent on the sphere ‖ψ‖ = const (PhaseLockStep:
//     ψ − η·∇E_coh less its radial part, along the geodesic) before
//     renormalising, so locking adds no norm drift.
//   - Order parameter r = |Σ_a p_a·e^{i·arg ψ_a}|: the Kuramoto order
//     parameter of the amplitudes' phases weighted by probability.
//   - Firing rate: spikes / (N · SpikeSteps · dt_ms) in Hz.
//   - Quantum–neural phase entropy H_φ (PhaseEntropy): the entropy of the
//     phases arg ψ_a − arg F_a of the overlap's terms, weighted by
//     |F_a|·|ψ_a|, on 16 bins, normalised to [0, 1].
//
// # Adaptive Coherence Engine
//
// When H_coh > ACE.HMax after a step, ACE.Recalibrate sets
// γ ← max(γ·0.9, ACE.GammaMin) and
// α ← min(α·1.1, ACE.AlphaMax): less feedback noise into the state, more
// drive from it into the network.
//
// # Learning on Θ (Config.Learning)
//
// Θ = [H's coefficients, α, β, γ]: the Hamiltonian's and the synapses'
// (coupling) parameters. After every Learning.Gradient.Every-th step the
// gradient exchange θ ← θ − η·∇θ_fusion runs, ∇θ_fusion = λ_Q∇L_Q +
// λ_N∇L_N + λ_P∇L_P (Objective.FusedGradient: L_Q = E_coh, L_N the drive
// loss, L_P = 1 − r, each after the step map from the current ψ with the
// last spike spectrum); after every Learning.Meta.Every-th step
// meta-evolution θ ← θ + η_Q·ε_Q − η_N·∇L_N runs with ε_Q drawn from
// measurement outcomes of ψ by the state-vector backend's sampler
// (QuantumNoise). θ_k = Θ_k/s_k are the parameters scaled by their initial
// magnitude, each update clipped to ±Learning.MaxStep per component; the
// new Hamiltonian is used from the next step on, and Metrics.Learning
// reports the losses, ε_Q and ΔΘ.
//
// # Memory (Config.Memory)
//
// Each step's spike pattern S (SpikePattern: bit k set when a neuron i ≡ k
// mod n fired in the step) is offered to a MemoryStore of projectors
// P_S = |S⟩⟨S|: stored when at least Memory.MinDistance bits from every
// stored pattern, else it reinforces the nearest; recall picks the stored
// pattern of largest Overlap with a state, and RecallAccuracy measures it
// on perturbed stored patterns.
//
// # Interfaces
//
// InjectMetaGraph (the spec's inject_meta_graph) scales the gradient
// exchange's weights by a meta-causal graph; PhaseToSemantic
// (phase_to_semantic) maps ψ's phases to semantic activities;
// MonitorEntropy (monitor_entropy) returns H_coh.
package fusion

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/cmplx"
	"slices"
	"time"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/engines/snn"
	"github.com/prismai/mec/sim"
)

// Config describes a fusion simulation. Zero fields take the defaults of
// DefaultConfig.
type Config struct {
	// Qubits is the register size n.
	Qubits int `json:"qubits" yaml:"qubits"`
	// Hamiltonian H (Pauli strings of Qubits characters); default: the
	// transverse-field Ising chain −Σ Z_k Z_{k+1} − 0.7·Σ X_k.
	Hamiltonian circuit.PauliSum `json:"hamiltonian,omitempty" yaml:"hamiltonian,omitempty"`
	// Dt is the evolution time per step.
	Dt float64 `json:"dt" yaml:"dt"`
	// Network is the spiking network; default: DefaultNetwork(64).
	Network *snn.Network `json:"network,omitempty" yaml:"network,omitempty"`
	// SpikeSteps is the number of network steps per fusion step.
	SpikeSteps int `json:"spike_steps" yaml:"spike_steps"`
	// Alpha and Beta (mV) weigh Re ψ and Im ψ into the voltages; Gamma
	// weighs the spike spectrum into ψ.
	Alpha float64 `json:"alpha" yaml:"alpha"`
	Beta  float64 `json:"beta" yaml:"beta"`
	Gamma float64 `json:"gamma" yaml:"gamma"`
	// Feedback is "counts" (default) or "voltage".
	Feedback string `json:"feedback,omitempty" yaml:"feedback,omitempty"`
	// LambdaC weighs the phase term of E_coh.
	LambdaC float64 `json:"lambda_c" yaml:"lambda_c"`
	// PhaseLock enables gradient descent on E_coh with step PhaseLockRate
	// along the sphere of ψ's norm (PhaseLockStep), after the kick.
	PhaseLock     bool    `json:"phase_lock,omitempty" yaml:"phase_lock,omitempty"`
	PhaseLockRate float64 `json:"phase_lock_rate,omitempty" yaml:"phase_lock_rate,omitempty"`
	// ACE bounds the recalibration.
	ACE ACE `json:"ace" yaml:"ace"`
	// Limits are the safety limits.
	Limits Limits `json:"limits" yaml:"limits"`
	// Precision of the state: "c128" (default) or "c64".
	Precision string `json:"precision,omitempty" yaml:"precision,omitempty"`
	// Initial is the initial register state: "plus" (|+…+⟩, the uniform
	// superposition; default) or "zero" (|0…0⟩).
	Initial string `json:"initial,omitempty" yaml:"initial,omitempty"`
	// Learning runs gradient exchange and meta-evolution on Θ = [H
	// coefficients, α, β, γ] after the steps it names (zero: off; see
	// Learning).
	Learning Learning `json:"learning" yaml:"learning"`
	// Memory stores each step's spike pattern as a projector P_S (zero:
	// off; see Memory).
	Memory Memory `json:"memory" yaml:"memory"`
}

// ACE configures the Adaptive Coherence Engine.
type ACE struct {
	// HMax is the coherence-entropy threshold that triggers recalibration.
	HMax float64 `json:"h_max" yaml:"h_max"`
	// AlphaMax and GammaMin bound the recalibrated α and γ.
	AlphaMax float64 `json:"alpha_max" yaml:"alpha_max"`
	GammaMin float64 `json:"gamma_min" yaml:"gamma_min"`
	// Disabled turns recalibration off.
	Disabled bool `json:"disabled,omitempty" yaml:"disabled,omitempty"`
}

// Recalibrate is the Adaptive Coherence Engine's rule, applied once: it
// returns α ← min(1.1·α, AlphaMax) and γ ← max(0.9·γ, GammaMin). Step
// applies it after a step whose H_coh exceeds HMax (unless Disabled); the
// orchestrator's ACE module applies it on its own trigger.
func (c ACE) Recalibrate(alpha, gamma float64) (newAlpha, newGamma float64) {
	return min(alpha*1.1, c.AlphaMax), max(gamma*0.9, c.GammaMin)
}

// Limits are the safety limits; a step that breaks one reports it as a
// Violation in its Metrics.
type Limits struct {
	// MaxQubits caps the register (the spec's qubit cap).
	MaxQubits int `json:"max_qubits" yaml:"max_qubits"`
	// VCapMV: no voltage may reach it after a step (mV).
	VCapMV float64 `json:"v_cap_mv" yaml:"v_cap_mv"`
	// Resonance bounds |φ_ψ − φ_S| (radians).
	Resonance float64 `json:"resonance" yaml:"resonance"`
	// MaxSpikeSteps caps Config.SpikeSteps, the network steps of one
	// fusion step (0: DefaultMaxSpikeSteps).
	MaxSpikeSteps int `json:"max_spike_steps,omitempty" yaml:"max_spike_steps,omitempty"`
}

// DefaultMaxSpikeSteps is the cap on Config.SpikeSteps when
// Limits.MaxSpikeSteps is 0: 10^5 network steps (10 s of biological time
// at dt = 0.1 ms) per fusion step.
const DefaultMaxSpikeSteps = 100_000

// DefaultConfig is the built-in scenario of `mec fuse`.
func DefaultConfig() Config {
	return Config{
		Qubits: 6, Dt: 0.05, SpikeSteps: 10, Alpha: 40, Beta: 20, Gamma: 0.05, Feedback: "counts",
		LambdaC: 0.5, PhaseLockRate: 0.05,
		ACE:      ACE{HMax: 0.9, AlphaMax: 200, GammaMin: 0.005},
		Limits:   Limits{MaxQubits: 28, VCapMV: -40, Resonance: math.Pi / 4},
		Learning: DefaultLearning(),
		Memory:   Memory{Capacity: 16, MinDistance: 3},
	}
}

// DefaultNetwork is the built-in spiking network: n LIF neurons (τ_m 20 ms,
// threshold −50 mV, bias just below threshold), 10% recurrent excitation,
// and Poisson input.
func DefaultNetwork(n int) *snn.Network {
	lif := snn.LIF{TauMMs: 20, VRestMV: -60, VThMV: -50, VResetMV: -60, TRefMs: 2, IBiasNA: 9}
	net := &snn.Network{DtMs: 0.1, Seed: 1}
	net.AddPopulation(snn.Population{Name: "N", Size: n, Neuron: lif, TauSynMs: 5, VInit: snn.VInit{UniformMV: []float64{-60, -50}}})
	net.AddPoisson(snn.PoissonGroup{Name: "P", Size: n, RateHz: 50, TauSynMs: 5})
	net.Connect(snn.Projection{From: "N", To: "N", Rule: snn.RuleFixedProbability, P: 0.1, WeightMV: 0.5, NoAutapses: true})
	net.Connect(snn.Projection{From: "P", To: "N", Rule: snn.RuleOneToOne, WeightMV: 1.5})
	return net
}

// DefaultHamiltonian is the transverse-field Ising chain on n qubits.
func DefaultHamiltonian(n int) circuit.PauliSum {
	var h circuit.PauliSum
	for k := 0; k < n; k++ {
		if k+1 < n {
			p := []byte(rep('I', n))
			p[k], p[k+1] = 'Z', 'Z'
			h = append(h, circuit.PauliTerm{Coeff: -1, Pauli: string(p)})
		}
		p := []byte(rep('I', n))
		p[k] = 'X'
		h = append(h, circuit.PauliTerm{Coeff: -0.7, Pauli: string(p)})
	}
	return h
}

func rep(c byte, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Qubits == 0 {
		c.Qubits = d.Qubits
	}
	if c.Dt == 0 {
		c.Dt = d.Dt
	}
	if c.SpikeSteps == 0 {
		c.SpikeSteps = d.SpikeSteps
	}
	if c.Feedback == "" {
		c.Feedback = d.Feedback
	}
	if c.PhaseLockRate == 0 {
		c.PhaseLockRate = d.PhaseLockRate
	}
	if c.ACE == (ACE{}) {
		c.ACE = d.ACE
	}
	if c.Limits == (Limits{}) {
		c.Limits = d.Limits
	}
	if c.Precision == "" {
		c.Precision = "c128"
	}
	if c.Initial == "" {
		c.Initial = "plus"
	}
	if c.Hamiltonian == nil && c.Qubits >= 1 && c.Qubits <= min(c.Limits.MaxQubits, 64) {
		// (beyond the cap New and Validate fail with a *QubitCapError,
		// and the default chain of that many qubits is never built)
		c.Hamiltonian = DefaultHamiltonian(c.Qubits)
	}
	if c.Network == nil {
		c.Network = DefaultNetwork(64)
	}
	return c
}

// QubitCapError reports a register above Limits.MaxQubits.
type QubitCapError struct{ Qubits, Max int }

func (e *QubitCapError) Error() string {
	return fmt.Sprintf("fusion: safety limit: %d qubits exceeds the cap of %d", e.Qubits, e.Max)
}

// VoltageCapError reports a membrane potential at or above Limits.VCapMV.
type VoltageCapError struct {
	Neuron int
	V, Cap float64
}

func (e *VoltageCapError) Error() string {
	return fmt.Sprintf("fusion: safety limit: neuron %d at %.3f mV, cap %.3f mV", e.Neuron, e.V, e.Cap)
}

// ResonanceError reports |φ_ψ − φ_S| at or above Limits.Resonance.
type ResonanceError struct{ PhaseDiff, Limit float64 }

func (e *ResonanceError) Error() string {
	return fmt.Sprintf("fusion: safety limit: phase difference %.4f rad ≥ %.4f", e.PhaseDiff, e.Limit)
}

// NonFiniteError reports NaN or Inf in the state.
type NonFiniteError struct{ What string }

func (e *NonFiniteError) Error() string { return "fusion: non-finite value in " + e.What }

// ViolationKind names the safety limit a step broke.
type ViolationKind int

const (
	// VoltageCap: a membrane potential reached Limits.VCapMV; the
	// Violation's Err is a *VoltageCapError.
	VoltageCap ViolationKind = iota + 1
	// Resonance: |φ_ψ − φ_S| reached Limits.Resonance; the Violation's Err
	// is a *ResonanceError.
	Resonance
)

// String returns the kind's name: "voltage-cap" or "resonance".
func (k ViolationKind) String() string {
	switch k {
	case VoltageCap:
		return "voltage-cap"
	case Resonance:
		return "resonance"
	}
	return fmt.Sprintf("ViolationKind(%d)", int(k))
}

// Violation is one safety-limit violation of a step: data in the step's
// Metrics, not a failure (the step completed and its metrics are valid).
type Violation struct {
	// Kind is the limit broken.
	Kind ViolationKind
	// Err is the typed detail (*VoltageCapError or *ResonanceError).
	Err error
}

// String returns the violation's message.
func (v Violation) String() string { return v.Err.Error() }

// MarshalJSON writes the violation as its message (a JSON string).
func (v Violation) MarshalJSON() ([]byte, error) { return json.Marshal(v.Err.Error()) }

// Event is the FusionEvent emitted every step (the ledger records it).
type Event struct {
	Timestamp        time.Time `json:"timestamp"`
	Step             int       `json:"step"`
	CoherenceEntropy float64   `json:"coherence_entropy"`
	AvgPhaseDiff     float64   `json:"avg_phase_diff"`
	FusionEnergy     float64   `json:"fusion_energy"`
	// ParentBlock is the ledger index of the record this step builds on
	// (NoParent when none); the caller that appends events sets it.
	ParentBlock uint64 `json:"parent_block"`
}

// NoParent is the ParentBlock of an event without a parent: the same
// value as telemetry.NoParent, the ledger's (fusion does not import the
// ledger's encoding; a test checks the two agree).
const NoParent = math.MaxUint64

// Metrics are the per-step figures.
type Metrics struct {
	Step    int     `json:"step"`
	Time    float64 `json:"t"`
	HCoh    float64 `json:"h_coh"`
	DHCohDt float64 `json:"dh_coh_dt"`
	// HPhase is the quantum–neural phase entropy H_φ of ψ against the
	// step's spike spectrum (PhaseEntropy).
	HPhase    float64 `json:"h_phase"`
	PhaseDiff float64 `json:"phase_diff"`
	// Phase is the signed φ_ψ − φ_S = arg ⟨F[S], ψ⟩ in (−π, π] (PhaseDiff
	// is its magnitude): what federated phase consensus compares.
	Phase     float64 `json:"phase"`
	ECoh      float64 `json:"e_coh"`
	R         float64 `json:"r"`
	RateHz    float64 `json:"rate_hz"`
	NormDrift float64 `json:"norm_drift"`
	// VMaxMV is the highest membrane potential after the step.
	VMaxMV float64 `json:"v_max_mv"`
	Alpha  float64 `json:"alpha"`
	Gamma  float64 `json:"gamma"`
	// Recalibrated is set when the ACE changed α and γ after this step.
	Recalibrated bool `json:"recalibrated,omitempty"`
	// Violations lists the safety-limit violations of this step (in JSON,
	// each as its message).
	Violations []Violation `json:"violations,omitempty"`
	// Learning is what gradient exchange and meta-evolution did after
	// this step (nil when neither was due; Alpha and Gamma are the
	// coupling before it).
	Learning *LearningStep `json:"learning,omitempty"`
	// Memory is what the spike-pattern store did with the step's pattern
	// (nil when the store is off).
	Memory *MemoryStep `json:"memory,omitempty"`
}

// MemoryStep reports the memory encoding of a step.
type MemoryStep struct {
	// Pattern is the step's spike pattern |S⟩ (SpikePattern over every
	// network step of the fusion step).
	Pattern uint64 `json:"pattern"`
	// Stored is set when P_S joined the store; Size is the store's size.
	Stored bool `json:"stored"`
	Size   int  `json:"size"`
}

// Engines are the backends the fusion layer runs on.
type Engines struct {
	State    backend.StateVector
	Spiking  backend.Spiking
	Spectral backend.Spectral
}

// System is a running fusion simulation. It is not safe for concurrent use.
type System struct {
	cfg    Config
	eng    Engines
	prec   backend.Precision
	st     backend.State
	net    backend.Network
	fft    backend.FFT
	step   *circuit.Circuit
	runner *sim.Simulator
	dim    int
	n      int // neurons
	// psi is the host copy of ψ (allocated on first use: the coupled path
	// keeps ψ on the backend).
	psi   []complex128
	lastF []complex128
	// After a coupled step the last spectrum is sparse: lastFn at stride
	// lastStride; LastSpectrum spreads it into a spec buffer on demand.
	lastFn     []complex128
	lastStride int
	spec       [2][]complex128 // spectrum buffers, alternating so lastF survives a step
	work       []complex128
	// fftN is the n-point transform of the coupled path (see stepCoupled),
	// created on first use; psiStale marks psi as older than the state.
	fftN backend.FFT
	// With real transforms on the spectral backend (backend.RealSpectral)
	// the spectra are computed by them instead (S is real): rfft is the
	// D-point one, rfftN the n-point one, half their coefficients and
	// rwork the real input of rfft.
	rfft, rfftN backend.RealFFT
	half        []complex128
	rwork       []float64
	psiStale    bool
	// hostPath forces the readout path (tests compare the two paths), and
	// denseRef, when set, computes the host path's spectrum as the dense
	// D-point F[S] (the reference the tests hold the n-point identity to).
	hostPath bool
	denseRef func(sig []float64) ([]complex128, error)
	steps    int
	clock    phaseClock
	lastH    float64
	vrest    float64
	alpha    float64
	gamma    float64
	// scale is s_k of the learning rules' scaled parameters θ_k = Θ_k/s_k.
	scale []float64
	// meta is each part's total influence on the others in the injected
	// meta graph (InjectMetaGraph).
	meta [3]float64
	// mem is the spike-pattern store (nil when off); pattern the last
	// step's spike pattern.
	mem     *MemoryStore
	pattern uint64
}

// New builds a system: the register in Config.Initial, the network at t = 0. It refuses registers above the qubit cap with a
// *QubitCapError.
func New(cfg Config, eng Engines) (*System, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if eng.State == nil || eng.Spiking == nil || eng.Spectral == nil {
		return nil, errors.New("fusion: state-vector, spiking and spectral engines are all required")
	}
	prec, err := backend.ParsePrecision(cfg.Precision)
	if err != nil {
		return nil, fmt.Errorf("fusion: %w", err)
	}
	cfg.Hamiltonian = slices.Clone(cfg.Hamiltonian) // the learning rules change its coefficients
	step, err := circuit.Trotter(cfg.Hamiltonian, cfg.Qubits, cfg.Dt, 1, 2)
	if err != nil {
		return nil, fmt.Errorf("fusion: hamiltonian: %w", err)
	}
	if len(cfg.Network.Populations) == 0 {
		return nil, errors.New("fusion: the network has no populations")
	}
	s := &System{cfg: cfg, eng: eng, prec: prec, step: step, dim: 1 << cfg.Qubits,
		runner: sim.NewWith(eng.State, sim.Options{Precision: prec, Fuse: sim.DefaultFuse}),
		alpha:  cfg.Alpha, gamma: cfg.Gamma, vrest: cfg.Network.Populations[0].Neuron.VRestMV}
	if s.st, err = eng.State.NewState(cfg.Qubits, prec); err != nil {
		return nil, fmt.Errorf("fusion: %w", err)
	}
	if cfg.Initial == "zero" {
		s.psi = make([]complex128, s.dim)
		s.psi[0] = 1
	} else {
		s.psi = make([]complex128, s.dim)
		amp := complex(1/math.Sqrt(float64(s.dim)), 0)
		for i := range s.psi {
			s.psi[i] = amp
		}
	}
	if err := s.st.Load(s.psi); err != nil {
		s.Close()
		return nil, fmt.Errorf("fusion: %w", err)
	}
	if s.net, err = eng.Spiking.NewNetwork(cfg.Network, snn.Options{}); err != nil {
		s.Close()
		return nil, fmt.Errorf("fusion: %w", err)
	}
	s.n = s.net.N()
	s.lastH = CoherenceEntropy(s.psi)
	for _, v := range s.Theta().Vector() {
		s.scale = append(s.scale, max(math.Abs(v), 1e-3))
	}
	if cfg.Memory.Capacity > 0 {
		s.mem = NewMemoryStore(cfg.Memory, cfg.Qubits)
	}
	if _, ok := s.coupler(); ok {
		// The coupled path keeps ψ on the backend: the host copy is
		// allocated again when Psi or the host path needs it.
		s.psi, s.psiStale = nil, true
	}
	return s, nil
}

// Validate checks a configuration as New does, without engines: zero
// fields take their defaults, and the register must be within
// Limits.MaxQubits (a *QubitCapError), every number finite (a
// *NonFiniteError), dt positive, spike_steps in 1..Limits.MaxSpikeSteps,
// the Hamiltonian and network well formed.
func (c Config) Validate() error {
	c = c.withDefaults()
	if err := c.validate(); err != nil {
		return err
	}
	if err := c.Hamiltonian.Validate(c.Qubits); err != nil {
		return fmt.Errorf("fusion: hamiltonian: %w", err)
	}
	if len(c.Network.Populations) == 0 {
		return errors.New("fusion: the network has no populations")
	}
	if err := c.Network.Validate(); err != nil {
		return fmt.Errorf("fusion: network: %w", err)
	}
	if _, err := backend.ParsePrecision(c.Precision); err != nil {
		return fmt.Errorf("fusion: %w", err)
	}
	return nil
}

// validate checks the scalar fields of a configuration with defaults.
func (c *Config) validate() error {
	if c.Qubits < 1 {
		return fmt.Errorf("fusion: %d qubits", c.Qubits)
	}
	if c.Qubits > c.Limits.MaxQubits {
		return &QubitCapError{Qubits: c.Qubits, Max: c.Limits.MaxQubits}
	}
	for _, x := range []float64{c.Dt, c.Alpha, c.Beta, c.Gamma, c.LambdaC, c.PhaseLockRate} {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return &NonFiniteError{What: "configuration"}
		}
	}
	if c.Dt < 0 {
		return fmt.Errorf("fusion: dt %v: want a positive time step (0 takes the default, %v)", c.Dt, DefaultConfig().Dt)
	}
	if c.SpikeSteps < 1 {
		return fmt.Errorf("fusion: spike_steps %d: want at least 1", c.SpikeSteps)
	}
	maxSpike := c.Limits.MaxSpikeSteps
	if maxSpike <= 0 {
		maxSpike = DefaultMaxSpikeSteps
	}
	if c.SpikeSteps > maxSpike {
		return fmt.Errorf("fusion: spike_steps %d: more than the limit of %d network steps per fusion step (raise it with limits.max_spike_steps in the configuration)", c.SpikeSteps, maxSpike)
	}
	if c.Initial != "plus" && c.Initial != "zero" {
		return fmt.Errorf("fusion: initial %q: want plus or zero", c.Initial)
	}
	if err := c.Learning.validate(c.Qubits); err != nil {
		return err
	}
	if err := c.Memory.validate(c.Qubits); err != nil {
		return err
	}
	if c.Feedback != "counts" && c.Feedback != "voltage" {
		return fmt.Errorf("fusion: feedback %q: want counts or voltage", c.Feedback)
	}
	return nil
}

// Close frees the backend resources.
func (s *System) Close() {
	if s.st != nil {
		s.st.Free()
	}
	if s.net != nil {
		s.net.Free()
	}
	if s.fft != nil {
		s.fft.Free()
	}
	if s.fftN != nil {
		s.fftN.Free()
	}
	if s.rfft != nil {
		s.rfft.Free()
	}
	if s.rfftN != nil {
		s.rfftN.Free()
	}
}

// State returns the backend state (valid until Close).
func (s *System) State() backend.State { return s.st }

// Coupling returns the current α and γ (the ACE changes them).
func (s *System) Coupling() (alpha, gamma float64) { return s.alpha, s.gamma }

// Params returns the current α, β, γ and time step.
func (s *System) Params() (alpha, beta, gamma, dt float64) {
	return s.alpha, s.cfg.Beta, s.gamma, s.cfg.Dt
}

// SetDt changes the evolution time per step (adaptive Δt).
func (s *System) SetDt(dt float64) error {
	if math.IsNaN(dt) || math.IsInf(dt, 0) || dt <= 0 {
		return fmt.Errorf("fusion: dt %v", dt)
	}
	step, err := circuit.Trotter(s.cfg.Hamiltonian, s.cfg.Qubits, dt, 1, 2)
	if err != nil {
		return fmt.Errorf("fusion: %w", err)
	}
	s.step, s.cfg.Dt = step, dt
	return nil
}

// SetCoupling sets α, β and γ (the meta-evolution changes them).
func (s *System) SetCoupling(alpha, beta, gamma float64) {
	s.alpha, s.cfg.Beta, s.gamma = alpha, beta, gamma
}

// Step runs one fusion step and returns its metrics and event. Safety
// violations are data: the step completes and reports them in
// Metrics.Violations. The error is for failures only (the step did not
// complete): a backend error, a cancelled ctx, or a non-finite state
// (*NonFiniteError), which stops the step before it is used.
func (s *System) Step(ctx context.Context) (Metrics, Event, error) {
	m, ev, err := s.evolve(ctx)
	if err != nil {
		return m, ev, err
	}
	if m.Learning, err = s.learn(); err != nil {
		return Metrics{}, Event{}, err
	}
	return m, ev, nil
}

// evolve is steps 1–5 of a fusion step and its metrics.
func (s *System) evolve(ctx context.Context) (Metrics, Event, error) {
	if err := ctx.Err(); err != nil {
		return Metrics{}, Event{}, err
	}
	// 1. Evolve on the backend (fused gates).
	s.clock.start()
	res, err := s.runner.Apply(ctx, s.st, s.step, 0)
	if err != nil {
		return Metrics{}, Event{}, fmt.Errorf("fusion: evolve: %w", err)
	}
	if err := backend.Sync(s.st); err != nil {
		return Metrics{}, Event{}, fmt.Errorf("fusion: evolve: %w", err)
	}
	ab := float64(s.prec.AmpBytes()) * float64(s.dim) // one read of the state
	s.clock.stop(iTrotter, 2*ab*float64(res.Applied), res.Applied)
	if fc, ok := s.coupler(); ok {
		return s.stepCoupled(fc)
	}
	if s.psi == nil {
		s.psi = make([]complex128, s.dim)
	}
	if err := s.st.Read(s.psi); err != nil {
		return Metrics{}, Event{}, fmt.Errorf("fusion: %w", err)
	}
	s.psiStale = false
	if !finiteVec(s.psi) {
		return Metrics{}, Event{}, &NonFiniteError{What: "quantum state"}
	}
	// 2. Quantum → neurons.
	u := Map(s.psi, s.n)
	hb := 16 * float64(s.dim)       // one pass over the host copy of ψ
	s.clock.stop(iFold, ab+3*hb, 3) // readout, finiteness check, map
	sig, spikes, vmax, viol, err := s.couple(u)
	if err != nil {
		return Metrics{}, Event{}, err
	}
	s.clock.stop(iSpiking, 0, 0)
	// 4. Neurons → quantum: F[S] is fn at stride (the n-point spectrum at
	// stride D/n when n divides D, else the dense D-point one).
	fn, stride, err := s.hostSpectrum(sig)
	if err != nil {
		return Metrics{}, Event{}, err
	}
	s.clock.stop(iFFT, 0, 0)
	g := complex(s.gamma, 0)
	for k, z := range fn {
		s.psi[k*stride] += g * z
	}
	fnorm2 := norm2(fn)
	kickBytes, kickPasses := 0.0, 0
	if s.cfg.PhaseLock {
		// ψ ← c_ψ·ψ + c_f·F (PhaseLockStep): one pass scaling ψ, then F's
		// non-zero entries.
		cp, cf := phaseLockCoeffs(norm2(s.psi), fnorm2, stridedOverlap(fn, s.psi, stride), s.cfg.LambdaC, s.cfg.PhaseLockRate)
		for a := range s.psi {
			s.psi[a] *= complex(cp, 0)
		}
		for k, z := range fn {
			s.psi[k*stride] += cf * z
		}
		kickBytes, kickPasses = 3*hb, 2 // ‖ψ‖²'s read, the scale's read and write
	}
	s.clock.stop(iKick, kickBytes, kickPasses)
	// 5. Norm drift, renormalise.
	norm := math.Sqrt(norm2(s.psi))
	if norm == 0 || math.IsNaN(norm) || math.IsInf(norm, 0) {
		return Metrics{}, Event{}, &NonFiniteError{What: "state norm"}
	}
	for a := range s.psi {
		s.psi[a] /= complex(norm, 0)
	}
	if err := s.st.Load(s.psi); err != nil {
		return Metrics{}, Event{}, fmt.Errorf("fusion: %w", err)
	}
	m := Metrics{NormDrift: norm - 1, VMaxMV: vmax}
	m.HCoh = CoherenceEntropy(s.psi)
	// F is zero off its stride: the overlap and H_φ need only the
	// amplitudes on it.
	at := make([]complex128, len(fn))
	for k := range fn {
		at[k] = s.psi[k*stride]
	}
	m.HPhase = PhaseEntropy(at, fn)
	s.overlapMetrics(&m, overlap(fn, at), fnorm2)
	m.R = OrderParameter(s.psi)
	// norm, renormalisation, load, entropy (2), order parameter: host
	// passes over ψ, and the load's write.
	s.clock.stop(iStats, 7*hb+ab, 7)
	return s.finish(m, spikes, isZero(fn), viol)
}

// hostSpectrum is the host path's F[S] as its non-zero entries fn at
// stride: when n divides D, Mᵀ S is S tiled D/n times, whose D-point
// spectrum is (D/n)·FFT_n(S) at the multiples of D/n and zero elsewhere,
// so after normalisation F[S] is the unit n-point spectrum at stride D/n;
// otherwise it is the dense D-point spectrum (stride 1).
func (s *System) hostSpectrum(sig []float64) (fn []complex128, stride int, err error) {
	if s.denseRef != nil {
		fn, err = s.denseRef(sig)
		s.clock.fftLen, s.clock.fftKnd = s.dim, "c128"
		s.lastF, s.lastFn = fn, nil
		return fn, 1, err
	}
	if s.dim >= s.n && s.dim%s.n == 0 {
		fn, err = s.spectrumN(sig)
		if err != nil {
			return nil, 0, err
		}
		s.clock.fftLen, s.clock.fftKnd = s.n, s.fftKind()
		s.lastF, s.lastFn, s.lastStride = nil, fn, s.dim/s.n
		return fn, s.dim / s.n, nil
	}
	f, err := s.spectrum(sig)
	if err != nil {
		return nil, 0, err
	}
	s.clock.fftLen, s.clock.fftKnd = s.dim, s.fftKind()
	s.lastF, s.lastFn = f, nil
	return f, 1, nil
}

// overlapMetrics sets the metrics that follow from the overlap z = ⟨F, ψ⟩
// of the renormalised ψ and ‖F‖² = fnorm2 (both paths): the phase
// difference arg z and E_coh = ‖ψ − F‖² + λ_c(1 − cos arg z), with
// ‖ψ − F‖² = 1 + ‖F‖² − 2·Re z.
func (s *System) overlapMetrics(m *Metrics, z complex128, fnorm2 float64) {
	c := 1.0
	if z != 0 {
		m.Phase = cmplx.Phase(z)
		m.PhaseDiff = math.Abs(m.Phase)
		c = real(z) / cmplx.Abs(z)
	}
	m.ECoh = 1 + fnorm2 - 2*real(z) + s.cfg.LambdaC*(1-c)
}

// stridedOverlap is ⟨F, ψ⟩ for F = fn at stride.
func stridedOverlap(fn, psi []complex128, stride int) complex128 {
	var z complex128
	for k, f := range fn {
		z += cmplx.Conj(f) * psi[k*stride]
	}
	return z
}

// gradientKappa is the factor κ of Gradient's phase term, g = 2(ψ − F) −
// κ·F: κ = λ_c·(1 − Re(z)·z/|z|²)/|z| for the overlap z = ⟨F, ψ⟩ (0 when
// z or λ_c is).
func gradientKappa(z complex128, lambdaC float64) complex128 {
	az := cmplx.Abs(z)
	if az == 0 || lambdaC == 0 {
		return 0
	}
	return complex(lambdaC/az, 0) * (1 - complex(real(z)/(az*az), 0)*z)
}

// couple runs steps 2 and 3 of a fusion step from u = Mψ: the voltage
// kick, the spiking steps and the voltage checks. It returns the signal S,
// the spike count, the largest voltage and any voltage-cap violation.
func (s *System) couple(u []complex128) (sig []float64, spikes int, vmax float64, viol []Violation, err error) {
	dv := make([]float64, s.n)
	for i, z := range u {
		dv[i] = s.alpha*real(z) + s.cfg.Beta*imag(z)
	}
	if err := s.net.AddVoltages(dv); err != nil {
		return nil, 0, 0, nil, fmt.Errorf("fusion: %w", err)
	}
	sig = make([]float64, s.n)
	v := make([]float64, s.n)
	s.pattern = 0
	for k := 0; k < s.cfg.SpikeSteps; k++ {
		sp, err := s.net.Step()
		if err != nil {
			return nil, 0, 0, nil, fmt.Errorf("fusion: %w", err)
		}
		spikes += len(sp)
		s.pattern |= SpikePattern(sp, s.cfg.Qubits)
		if s.cfg.Feedback == "counts" {
			for _, i := range sp {
				sig[i]++
			}
		} else {
			if err := s.net.Voltages(v); err != nil {
				return nil, 0, 0, nil, err
			}
			for i, x := range v {
				sig[i] += (x - s.vrest) / float64(s.cfg.SpikeSteps)
			}
		}
	}
	if err := s.net.Voltages(v); err != nil {
		return nil, 0, 0, nil, err
	}
	vmax = math.Inf(-1)
	for _, x := range v {
		vmax = math.Max(vmax, x)
	}
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, 0, 0, nil, &NonFiniteError{What: "membrane voltages"}
		}
		if x >= s.cfg.Limits.VCapMV {
			viol = append(viol, Violation{Kind: VoltageCap, Err: &VoltageCapError{Neuron: i, V: x, Cap: s.cfg.Limits.VCapMV}})
			break
		}
	}
	return sig, spikes, vmax, viol, nil
}

// finish completes a step's metrics (m holds the norm drift, V_max and the
// state metrics), applies the resonance check and the ACE, and builds the
// event.
func (s *System) finish(m Metrics, spikes int, zeroF bool, viol []Violation) (Metrics, Event, error) {
	s.steps++
	s.clock.steps++
	m.Step, m.Time = s.steps, float64(s.steps)*s.cfg.Dt
	m.DHCohDt = (m.HCoh - s.lastH) / s.cfg.Dt
	s.lastH = m.HCoh
	m.RateHz = float64(spikes) / (float64(s.n) * float64(s.cfg.SpikeSteps) * s.net.DtMs() / 1000)
	if m.PhaseDiff >= s.cfg.Limits.Resonance && !zeroF {
		viol = append(viol, Violation{Kind: Resonance, Err: &ResonanceError{PhaseDiff: m.PhaseDiff, Limit: s.cfg.Limits.Resonance}})
	}
	if !s.cfg.ACE.Disabled && m.HCoh > s.cfg.ACE.HMax {
		s.alpha, s.gamma = s.cfg.ACE.Recalibrate(s.alpha, s.gamma)
		m.Recalibrated = true
	}
	m.Alpha, m.Gamma = s.alpha, s.gamma
	m.Violations = viol
	if s.mem != nil {
		m.Memory = &MemoryStep{Pattern: s.pattern, Stored: s.mem.Encode(s.pattern), Size: len(s.mem.patterns)}
	}
	ev := Event{Timestamp: time.Now().UTC(), Step: s.steps, CoherenceEntropy: m.HCoh, AvgPhaseDiff: m.PhaseDiff, FusionEnergy: m.ECoh,
		ParentBlock: NoParent}
	return m, ev, nil
}

// coupler returns the state's FusionCoupler when the coupled path applies:
// the fold map (at least as many amplitudes as neurons, n dividing them).
func (s *System) coupler() (backend.FusionCoupler, bool) {
	fc, ok := s.st.(backend.FusionCoupler)
	if !ok || s.hostPath || s.dim < s.n || s.dim%s.n != 0 {
		return nil, false
	}
	return fc, true
}

// stepCoupled runs steps 2–5 where the state lives (backend.FusionCoupler):
// u = Mψ is a fold; with S n-periodic after Mᵀ, FFT_D(Mᵀ S) is non-zero
// only at the multiples k·D/n, where it is (D/n)·FFT_n(S)_k, so F[S] is the
// normalised n-point spectrum placed at stride D/n and the kick touches n
// amplitudes (twice with phase locking: see the package doc). The norm,
// entropy and order parameter come from one reduction, and the overlap
// ⟨F, ψ⟩ from the n kicked amplitudes; only n-sized vectors and a few
// scalars cross to the host.
func (s *System) stepCoupled(fc backend.FusionCoupler) (Metrics, Event, error) {
	s.psiStale = true
	ab := float64(s.prec.AmpBytes()) * float64(s.dim) // one read of the state
	u, err := fc.FoldN(s.n)
	if err != nil {
		return Metrics{}, Event{}, fmt.Errorf("fusion: %w", err)
	}
	if !finiteVec(u) {
		return Metrics{}, Event{}, &NonFiniteError{What: "quantum state"}
	}
	s.clock.stop(iFold, ab, 1)
	sig, spikes, vmax, viol, err := s.couple(u)
	if err != nil {
		return Metrics{}, Event{}, err
	}
	s.clock.stop(iSpiking, 0, 0)
	// 4. Neurons → quantum: the n-point spectrum at stride D/n.
	fn, err := s.spectrumN(sig)
	if err != nil {
		return Metrics{}, Event{}, err
	}
	s.clock.fftLen, s.clock.fftKnd = s.n, s.fftKind()
	s.clock.stop(iFFT, 0, 0)
	stride := s.dim / s.n
	kick := make([]complex128, s.n)
	for k, z := range fn {
		kick[k] = complex(s.gamma, 0) * z
	}
	fnorm2 := norm2(fn)
	// F[S] is fn at stride D/n: LastSpectrum spreads it when asked.
	s.lastF, s.lastFn, s.lastStride = nil, fn, stride
	kicked, err := fc.KickStrided(stride, kick)
	if err != nil {
		return Metrics{}, Event{}, fmt.Errorf("fusion: %w", err)
	}
	// With phase locking, ψ ← c_ψ·ψ + c_f·F (PhaseLockStep's geodesic
	// step): F's entries are added in a second strided kick, ψ ← ψ +
	// (c_f/c_ψ)·F, and the factor c_ψ > 0 goes into the renormalisation
	// (it only changes the norm drift); ‖ψ‖² after the first kick is
	// 1 + 2γ·Re⟨F, ψ₀⟩ + γ²‖F‖² from the renormalised ψ₀ (the Trotter step
	// is unitary). c_ψ ≤ 0.05 (a step near the quarter turn) scales ψ on
	// the backend first instead.
	lockScale, kickBytes, kickN := 1.0, 0.0, 0
	if s.cfg.PhaseLock {
		z := overlap(fn, kicked)
		n2 := 1 + 2*s.gamma*(real(z)-s.gamma*fnorm2) + s.gamma*s.gamma*fnorm2
		cp, cf := phaseLockCoeffs(n2, fnorm2, z, s.cfg.LambdaC, s.cfg.PhaseLockRate)
		if cp <= 0.05 {
			scale := circuit.Gate{Matrix: []complex128{complex(cp, 0)}, Diagonal: true}
			if err := s.st.Apply(&scale); err != nil {
				return Metrics{}, Event{}, fmt.Errorf("fusion: phase lock: %w", err)
			}
			kickBytes, kickN = 2*ab, 1
			for k, z := range fn {
				kick[k] = cf * z
			}
		} else {
			for k, z := range fn {
				kick[k] = cf / complex(cp, 0) * z
			}
			lockScale = cp
		}
		if kicked, err = fc.KickStrided(stride, kick); err != nil {
			return Metrics{}, Event{}, fmt.Errorf("fusion: %w", err)
		}
	}
	if err := backend.Sync(s.st); err != nil {
		return Metrics{}, Event{}, fmt.Errorf("fusion: %w", err)
	}
	s.clock.stop(iKick, kickBytes, kickN)
	// 5. Norm drift, renormalise, metrics.
	n2, plnp, r, err := fc.FusionStats()
	if err != nil {
		return Metrics{}, Event{}, fmt.Errorf("fusion: %w", err)
	}
	norm := math.Sqrt(n2)
	if norm == 0 || math.IsNaN(norm) || math.IsInf(norm, 0) || math.IsNaN(plnp) || cmplx.IsNaN(r) {
		return Metrics{}, Event{}, &NonFiniteError{What: "state norm"}
	}
	scale := circuit.Gate{Matrix: []complex128{complex(1/norm, 0)}, Diagonal: true}
	if err := s.st.Apply(&scale); err != nil {
		return Metrics{}, Event{}, fmt.Errorf("fusion: renormalise: %w", err)
	}
	if err := backend.Sync(s.st); err != nil {
		return Metrics{}, Event{}, fmt.Errorf("fusion: renormalise: %w", err)
	}
	z := overlap(fn, kicked)
	// F is zero off the stride, so the kicked amplitudes pair with all of
	// it (the common scale 1/norm does not change a phase entropy).
	hPhase := PhaseEntropy(kicked, fn)
	z /= complex(norm, 0)
	m := Metrics{NormDrift: lockScale*norm - 1, VMaxMV: vmax}
	if s.dim >= 2 {
		m.HCoh = (math.Log(n2) - plnp/n2) / math.Log(float64(s.dim))
	}
	s.overlapMetrics(&m, z, fnorm2)
	m.R = cmplx.Abs(r) / n2
	m.HPhase = hPhase
	s.clock.stop(iStats, 3*ab, 2) // the statistics' read, the renormalisation's read and write
	return s.finish(m, spikes, isZero(fn), viol)
}

// fftKind is the kind of transform the spectra use: "r2c128" with real
// transforms on the spectral backend, else "c128".
func (s *System) fftKind() string {
	if _, ok := s.eng.Spectral.(backend.RealSpectral); ok {
		return "r2c128"
	}
	return "c128"
}

// realSpectrum computes the spectrum of the real signal x into dst (both
// of length m) with the real transform *plan (planned on first use): the
// m/2+1 coefficients from the backend, the rest by X[m−k] = conj X[k].
func (s *System) realSpectrum(plan *backend.RealFFT, dst []complex128, x []float64) error {
	m := len(x)
	if *plan == nil {
		f, err := s.eng.Spectral.(backend.RealSpectral).NewRealFFT(m, 1, backend.Complex128)
		if err != nil {
			return fmt.Errorf("fusion: %w", err)
		}
		*plan = f
	}
	h := m/2 + 1
	if cap(s.half) < h {
		s.half = make([]complex128, h)
	}
	half := s.half[:h]
	if err := (*plan).LoadReal(x); err != nil {
		return fmt.Errorf("fusion: %w", err)
	}
	if err := (*plan).Forward(); err != nil {
		return fmt.Errorf("fusion: %w", err)
	}
	if err := (*plan).Read(half); err != nil {
		return fmt.Errorf("fusion: %w", err)
	}
	copy(dst, half)
	for k := h; k < m; k++ {
		z := half[m-k]
		dst[k] = complex(real(z), -imag(z))
	}
	return nil
}

// spectrumN is the unit-norm n-point spectrum of sig on the spectral
// backend (zero when sig is).
func (s *System) spectrumN(sig []float64) ([]complex128, error) {
	if _, ok := s.eng.Spectral.(backend.RealSpectral); ok {
		x := make([]complex128, s.n)
		if err := s.realSpectrum(&s.rfftN, x, sig); err != nil {
			return nil, err
		}
		normalize(x)
		return x, nil
	}
	if s.fftN == nil {
		f, err := s.eng.Spectral.NewFFT(s.n, 1, backend.Complex128)
		if err != nil {
			return nil, fmt.Errorf("fusion: %w", err)
		}
		s.fftN = f
	}
	x := make([]complex128, s.n)
	for i, v := range sig {
		x[i] = complex(v, 0)
	}
	if err := s.fftN.Load(x); err != nil {
		return nil, fmt.Errorf("fusion: %w", err)
	}
	if err := s.fftN.Forward(); err != nil {
		return nil, fmt.Errorf("fusion: %w", err)
	}
	if err := s.fftN.Read(x); err != nil {
		return nil, fmt.Errorf("fusion: %w", err)
	}
	normalize(x)
	return x, nil
}

// Snapshot is the complete dynamic state of a System, for rollback.
type Snapshot struct {
	Psi []complex128
	// H holds the Hamiltonian's coefficients (the learning rules change
	// them; nil: unchanged).
	H []float64
	// Memory is the spike-pattern store (patterns and counts interleaved).
	Memory []uint64
	// Meta is the injected meta graph's per-part influence (InjectMetaGraph).
	Meta               [3]float64
	LastF              []complex128
	Network            []byte
	Alpha, Beta, Gamma float64
	Steps              int
	LastH, Dt          float64
}

// Snapshot saves the state: ψ (read from the backend), the network (its
// backend must implement backend.NetworkSnapshotter), the coupling and
// the step counter.
func (s *System) Snapshot() (*Snapshot, error) {
	ns, ok := s.net.(backend.NetworkSnapshotter)
	if !ok {
		return nil, errors.New("fusion: the spiking backend cannot snapshot its network")
	}
	net, err := ns.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("fusion: %w", err)
	}
	psi := make([]complex128, s.dim)
	if err := s.st.Read(psi); err != nil {
		return nil, fmt.Errorf("fusion: %w", err)
	}
	var lastF []complex128
	if f := s.LastSpectrum(); f != nil {
		lastF = append([]complex128(nil), f...)
	}
	var mem []uint64
	if s.mem != nil {
		mem = s.mem.snapshot()
	}
	return &Snapshot{Psi: psi, H: s.Theta().H, Meta: s.meta, Memory: mem, LastF: lastF, Network: net, Alpha: s.alpha, Beta: s.cfg.Beta, Gamma: s.gamma, Steps: s.steps, LastH: s.lastH, Dt: s.cfg.Dt}, nil
}

// Restore returns the system to a Snapshot taken from it; the run then
// continues bit for bit as it did after the snapshot.
func (s *System) Restore(snap *Snapshot) error {
	if snap == nil || len(snap.Psi) != s.dim {
		return errors.New("fusion: restore: snapshot of another register")
	}
	// Every step renormalises ψ, and the coupled path's phase lock relies
	// on it (‖ψ‖² after the kick is computed from ‖ψ₀‖ = 1).
	if n2 := norm2(snap.Psi); !(math.Abs(n2-1) <= 1e-6) {
		return fmt.Errorf("fusion: restore: snapshot psi has ‖ψ‖² = %g, want 1 (±1e-6)", n2)
	}
	ns, ok := s.net.(backend.NetworkSnapshotter)
	if !ok {
		return errors.New("fusion: the spiking backend cannot restore its network")
	}
	if snap.Dt != s.cfg.Dt {
		if err := s.SetDt(snap.Dt); err != nil {
			return err
		}
	}
	if snap.H != nil {
		if err := s.SetTheta(Params{H: snap.H, Alpha: snap.Alpha, Beta: snap.Beta, Gamma: snap.Gamma}); err != nil {
			return fmt.Errorf("fusion: restore: %w", err)
		}
	}
	if err := ns.Restore(snap.Network); err != nil {
		return fmt.Errorf("fusion: %w", err)
	}
	if err := s.st.Load(snap.Psi); err != nil {
		return fmt.Errorf("fusion: %w", err)
	}
	if s.psi == nil {
		s.psi = make([]complex128, s.dim)
	}
	copy(s.psi, snap.Psi)
	s.psiStale = false
	s.lastF, s.lastFn = nil, nil
	if snap.LastF != nil {
		s.lastF = s.specBuf((snap.Steps + 1) % 2)
		copy(s.lastF, snap.LastF)
	}
	s.alpha, s.cfg.Beta, s.gamma, s.steps, s.lastH = snap.Alpha, snap.Beta, snap.Gamma, snap.Steps, snap.LastH
	s.meta = snap.Meta
	if s.mem != nil {
		s.mem.restore(snap.Memory)
	}
	return nil
}

// LastSpectrum returns F[S] of the last step (nil before the first;
// read-only; valid until the next step).
func (s *System) LastSpectrum() []complex128 {
	if s.lastFn != nil {
		// After a coupled step: spread the n-point spectrum at its stride
		// into the buffer of the last step.
		f := s.specBuf((s.steps + 1) % 2)
		clear(f)
		for k, z := range s.lastFn {
			f[k*s.lastStride] = z
		}
		s.lastF, s.lastFn = f, nil
	}
	return s.lastF
}

// specBuf returns spectrum buffer i, allocating it on first use.
func (s *System) specBuf(i int) []complex128 {
	if s.spec[i] == nil {
		s.spec[i] = make([]complex128, s.dim)
	}
	return s.spec[i]
}

// Psi returns a host copy of ψ as of the end of the last step (read-only;
// valid until the next step). After a coupled step it is read from the
// backend on first use; it is nil if that readout fails.
func (s *System) Psi() []complex128 {
	if s.psiStale {
		if s.psi == nil {
			s.psi = make([]complex128, s.dim)
		}
		if err := s.st.Read(s.psi); err != nil {
			return nil
		}
		s.psiStale = false
	}
	return s.psi
}

// Config returns the configuration in use (defaults filled in).
func (s *System) Config() Config { return s.cfg }

// spectrum returns F[S] = FFT(Mᵀ S)/‖FFT(Mᵀ S)‖ as the dense D-point
// transform on the spectral backend, in one of two buffers that alternate
// between steps: for the maps without the N-point identity (D < N, or N
// not dividing D; see hostSpectrum).
func (s *System) spectrum(sig []float64) ([]complex128, error) {
	if _, ok := s.eng.Spectral.(backend.RealSpectral); ok {
		if s.rwork == nil {
			s.rwork = make([]float64, s.dim)
		}
		n := len(sig)
		if s.dim >= n {
			for a := range s.rwork {
				s.rwork[a] = sig[a%n]
			}
		} else {
			clear(s.rwork)
			for i, v := range sig {
				s.rwork[i%s.dim] += v
			}
		}
		f := s.specBuf(s.steps % 2)
		if err := s.realSpectrum(&s.rfft, f, s.rwork); err != nil {
			return nil, err
		}
		normalize(f)
		return f, nil
	}
	if s.fft == nil {
		f, err := s.eng.Spectral.NewFFT(s.dim, 1, backend.Complex128)
		if err != nil {
			return nil, fmt.Errorf("fusion: %w", err)
		}
		s.fft, s.work = f, make([]complex128, s.dim)
	}
	n := len(sig)
	if s.dim >= n {
		for a := range s.work {
			s.work[a] = complex(sig[a%n], 0)
		}
	} else {
		clear(s.work)
		for i, v := range sig {
			s.work[i%s.dim] += complex(v, 0)
		}
	}
	if err := s.fft.Load(s.work); err != nil {
		return nil, fmt.Errorf("fusion: %w", err)
	}
	if err := s.fft.Forward(); err != nil {
		return nil, fmt.Errorf("fusion: %w", err)
	}
	f := s.specBuf(s.steps % 2)
	if err := s.fft.Read(f); err != nil {
		return nil, fmt.Errorf("fusion: %w", err)
	}
	normalize(f)
	return f, nil
}

// norm2 is ‖x‖².
func norm2(x []complex128) float64 {
	n := 0.0
	for _, z := range x {
		n += real(z)*real(z) + imag(z)*imag(z)
	}
	return n
}

// normalize scales x to unit norm (leaving a zero vector zero).
func normalize(x []complex128) {
	if nrm := norm2(x); nrm > 0 {
		k := complex(1/math.Sqrt(nrm), 0)
		for i := range x {
			x[i] *= k
		}
	}
}

// Map is the amplitude-to-neuron map M: with len(psi) ≥ n, neuron i gets
// Σ_{a ≡ i (mod n)} ψ_a; with len(psi) < n, neuron i gets ψ_{i mod len(psi)}.
func Map(psi []complex128, n int) []complex128 {
	u := make([]complex128, n)
	if len(psi) >= n {
		for a, z := range psi {
			u[a%n] += z
		}
		return u
	}
	for i := range u {
		u[i] = psi[i%len(psi)]
	}
	return u
}

// MapBack is the transpose map Mᵀ from neurons to d amplitudes: with d ≥
// len(sig), s_a = sig_{a mod len(sig)}; with d < len(sig), s_a =
// Σ_{i ≡ a (mod d)} sig_i.
func MapBack(sig []float64, d int) []float64 {
	out := make([]float64, d)
	n := len(sig)
	if d >= n {
		for a := range out {
			out[a] = sig[a%n]
		}
		return out
	}
	for i, v := range sig {
		out[i%d] += v
	}
	return out
}

// CoherenceEntropy is −Σ p ln p / ln D for p = |ψ|²/‖ψ‖² (0 for D = 1).
func CoherenceEntropy(psi []complex128) float64 {
	if len(psi) < 2 {
		return 0
	}
	tot := norm2(psi)
	h := 0.0
	for _, z := range psi {
		p := (real(z)*real(z) + imag(z)*imag(z)) / tot
		if p > 0 {
			h -= p * math.Log(p)
		}
	}
	return h / math.Log(float64(len(psi)))
}

// PhaseDiff is φ_ψ − φ_S = arg ⟨f, ψ⟩ in (−π, π] (0 when the overlap vanishes).
func PhaseDiff(psi, f []complex128) float64 {
	z := overlap(f, psi)
	if z == 0 {
		return 0
	}
	return cmplx.Phase(z)
}

func overlap(f, psi []complex128) complex128 {
	var z complex128
	for a := range psi {
		z += cmplx.Conj(f[a]) * psi[a]
	}
	return z
}

// CoherenceEnergy is E_coh = ‖ψ − f‖² + λ_c·(1 − cos(φ_ψ − φ_S)).
func CoherenceEnergy(psi, f []complex128, lambdaC float64) float64 {
	e := 0.0
	for a := range psi {
		d := psi[a] - f[a]
		e += real(d)*real(d) + imag(d)*imag(d)
	}
	z := overlap(f, psi)
	c := 1.0
	if z != 0 {
		c = real(z) / cmplx.Abs(z)
	}
	return e + lambdaC*(1-c)
}

// Gradient is the gradient of E_coh with respect to ψ with f held fixed,
// as a complex vector g = ∂E/∂Re ψ + i·∂E/∂Im ψ (= 2·∂E/∂ψ*):
// g = 2(ψ − f) − λ_c·f·(1 − Re(z)·z/|z|²)/|z| with z = ⟨f, ψ⟩.
func Gradient(psi, f []complex128, lambdaC float64) []complex128 {
	g := make([]complex128, len(psi))
	k := gradientKappa(overlap(f, psi), lambdaC)
	for a := range psi {
		g[a] = 2*(psi[a]-f[a]) - k*f[a]
	}
	return g
}

// PhaseLockStep descends E_coh(ψ, f) by one step of length rate·‖t‖
// along the geodesic of the sphere of ψ's norm (Riemannian gradient
// descent): with g = Gradient(ψ, f, λ_c) and t = −g + Re⟨ψ, g⟩·ψ/‖ψ‖² its
// part tangent to that sphere, ψ ← cos θ·ψ + sin θ·‖ψ‖·t/‖t‖ with
// θ = min(rate·‖t‖/‖ψ‖, π/2). The step keeps ‖ψ‖ exactly (a state stays a
// state, so phase locking adds no norm drift) and, to first order in
// rate, is the plain step ψ − rate·g less its radial part. As g = 2ψ −
// (2 + κ)f, the step is ψ ← c_ψ·ψ + c_f·f (phaseLockCoeffs), which both
// paths of a fusion step apply to the n kicked amplitudes and one scale.
func PhaseLockStep(psi, f []complex128, lambdaC, rate float64) {
	cp, cf := phaseLockCoeffs(norm2(psi), norm2(f), overlap(f, psi), lambdaC, rate)
	for a := range psi {
		psi[a] = complex(cp, 0)*psi[a] + cf*f[a]
	}
}

// phaseLockCoeffs returns PhaseLockStep's ψ ← c_ψ·ψ + c_f·f from ‖ψ‖² = n2,
// ‖f‖² = f2 and z = ⟨f, ψ⟩: with a = 2 + κ (gradientKappa) the tangent is
// t = a·f + b·ψ, b = −Re(a·z̄)/n2, ‖t‖² = |a|²·f2 − Re(a·z̄)²/n2, so
// c_ψ = cos θ + sin θ·‖ψ‖·b/‖t‖ and c_f = sin θ·‖ψ‖·a/‖t‖. (1, 0) when ψ
// or t is zero (ψ at a minimum).
func phaseLockCoeffs(n2, f2 float64, z complex128, lambdaC, rate float64) (cPsi float64, cF complex128) {
	if !(n2 > 0) {
		return 1, 0
	}
	a := 2 + gradientKappa(z, lambdaC)
	q := real(a * cmplx.Conj(z))
	tn2 := real(a)*real(a)*f2 + imag(a)*imag(a)*f2 - q*q/n2
	if !(tn2 > 1e-30*n2) {
		return 1, 0
	}
	nrm, tn := math.Sqrt(n2), math.Sqrt(tn2)
	th := min(rate*tn/nrm, math.Pi/2)
	sc := math.Sin(th) * nrm / tn
	return math.Cos(th) - sc*q/n2, complex(sc, 0) * a
}

// OrderParameter is |Σ_a p_a·e^{i·arg ψ_a}| with p = |ψ|²/‖ψ‖².
func OrderParameter(psi []complex128) float64 {
	var z complex128
	tot := 0.0
	for _, a := range psi {
		m := cmplx.Abs(a)
		z += complex(m, 0) * a // |ψ|² e^{i arg ψ}
		tot += m * m
	}
	if tot == 0 {
		return 0
	}
	return cmplx.Abs(z) / tot
}

// SpikePattern is the basis index |S⟩ of a spike pattern: bit k set when
// a neuron i ≡ k (mod qubits) spiked (the fold of the network onto the
// register, as the amplitude-to-neuron map M folds).
func SpikePattern(spikes []int, qubits int) uint64 {
	var s uint64
	for _, i := range spikes {
		if i >= 0 && qubits > 0 {
			s |= 1 << uint(i%qubits)
		}
	}
	return s
}

// Project applies the memory projector P_S = |S⟩⟨S| to ψ: it returns the
// probability ⟨ψ|P_S|ψ⟩ and P_S ψ (not renormalised).
func Project(psi []complex128, s uint64) (float64, []complex128) {
	out := make([]complex128, len(psi))
	if s >= uint64(len(psi)) {
		return 0, out
	}
	out[s] = psi[s]
	return real(psi[s])*real(psi[s]) + imag(psi[s])*imag(psi[s]), out
}

func finiteVec(v []complex128) bool {
	for _, z := range v {
		if math.IsNaN(real(z)) || math.IsNaN(imag(z)) || math.IsInf(real(z), 0) || math.IsInf(imag(z), 0) {
			return false
		}
	}
	return true
}

func isZero(v []complex128) bool {
	for _, z := range v {
		if z != 0 {
			return false
		}
	}
	return true
}
