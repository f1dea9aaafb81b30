package fusion

// Learning in the fusion step: gradient exchange (∇θ_fusion = λ_Q∇θ_quantum
// + λ_N∇θ_neural + λ_P∇θ_phase) and meta-evolution (Θ ← Θ + η_Q·ε_Q −
// η_N·∇Θ L_N, ε_Q from measurement outcomes) on Θ = [H coefficients, α, β,
// γ], run by System.Step every so many steps.

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/circuit"
)

// MaxLearningQubits bounds the register of gradient exchange and
// meta-evolution: their central differences run the step map on the host
// 2·len(Θ) times per update.
const MaxLearningQubits = 12

// Learning configures the two learning rules of a fusion step on Θ. Unlike
// the other fields of Config, a zero Learning is off (DefaultConfig turns
// both rules on): a Config written in Go keeps the plain fusion step.
type Learning struct {
	// Gradient is the gradient exchange.
	Gradient GradientExchange `json:"gradient" yaml:"gradient"`
	// Meta is the meta-evolution.
	Meta MetaEvolution `json:"meta_evolution" yaml:"meta_evolution"`
	// TargetDriveMV is the mean |ΔV| (mV) that the neuromorphic loss
	// L_N = (mean_i |ΔV_i| − target)² aims for.
	TargetDriveMV float64 `json:"target_drive_mv" yaml:"target_drive_mv"`
	// MaxStep bounds each update's change of every scaled component
	// θ_k = Θ_k/s_k (see Step), so that one update moves a parameter by
	// at most MaxStep of its initial magnitude (0: 0.05).
	MaxStep float64 `json:"max_step,omitempty" yaml:"max_step,omitempty"`
}

// GradientExchange configures Θ ← Θ − Rate·∇θ_fusion.
type GradientExchange struct {
	// Every runs the exchange after every Every-th step (0: off).
	Every int `json:"every" yaml:"every"`
	// Rate is the step size on the scaled parameters.
	Rate float64 `json:"rate" yaml:"rate"`
	// LambdaQ, LambdaN and LambdaP weigh the quantum (E_coh after the
	// step), neuromorphic (drive) and phase (1 − r) losses' gradients.
	LambdaQ float64 `json:"lambda_q" yaml:"lambda_q"`
	LambdaN float64 `json:"lambda_n" yaml:"lambda_n"`
	LambdaP float64 `json:"lambda_p" yaml:"lambda_p"`
}

// MetaEvolution configures Θ ← Θ + η_Q·ε_Q − η_N·∇Θ L_N.
type MetaEvolution struct {
	// Every runs a mutation after every Every-th step (0: off).
	Every int `json:"every" yaml:"every"`
	// EtaQ and EtaN are η_Q and η_N (on the scaled parameters).
	EtaQ float64 `json:"eta_q" yaml:"eta_q"`
	EtaN float64 `json:"eta_n" yaml:"eta_n"`
	// Shots is the number of measurement outcomes behind each component
	// of ε_Q (0: 64).
	Shots int `json:"shots,omitempty" yaml:"shots,omitempty"`
	// Seed seeds the uniform variates that the state-vector backend's
	// sampler turns into measurement outcomes (a simulator's stand-in for
	// a device's measurement; see QuantumNoise).
	Seed uint64 `json:"seed,omitempty" yaml:"seed,omitempty"`
}

// DefaultLearning is the learning of DefaultConfig: a gradient exchange
// every 5 steps and a mutation every 10, both small enough that the
// built-in scenarios keep their coherence.
func DefaultLearning() Learning {
	return Learning{
		Gradient:      GradientExchange{Every: 5, Rate: 0.01, LambdaQ: 1, LambdaN: 0.01, LambdaP: 1},
		Meta:          MetaEvolution{Every: 10, EtaQ: 0.002, EtaN: 0.001, Shots: 64, Seed: 1},
		TargetDriveMV: 2, MaxStep: 0.05,
	}
}

func (l Learning) on() bool { return l.Gradient.Every > 0 || l.Meta.Every > 0 }

func (l Learning) validate(qubits int) error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"learning.gradient.rate", l.Gradient.Rate}, {"learning.gradient.lambda_q", l.Gradient.LambdaQ},
		{"learning.gradient.lambda_n", l.Gradient.LambdaN}, {"learning.gradient.lambda_p", l.Gradient.LambdaP},
		{"learning.meta_evolution.eta_q", l.Meta.EtaQ}, {"learning.meta_evolution.eta_n", l.Meta.EtaN},
		{"learning.target_drive_mv", l.TargetDriveMV}, {"learning.max_step", l.MaxStep}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 {
			return fmt.Errorf("fusion: %s %v: want a finite number ≥ 0", f.name, f.v)
		}
	}
	if l.Gradient.Every < 0 {
		return fmt.Errorf("fusion: learning.gradient.every %d: want ≥ 0 (0: off)", l.Gradient.Every)
	}
	if l.Meta.Every < 0 {
		return fmt.Errorf("fusion: learning.meta_evolution.every %d: want ≥ 0 (0: off)", l.Meta.Every)
	}
	if l.Meta.Shots < 0 || l.Meta.Shots > 1<<20 {
		return fmt.Errorf("fusion: learning.meta_evolution.shots %d: want 0..%d", l.Meta.Shots, 1<<20)
	}
	if l.on() && qubits > MaxLearningQubits {
		return fmt.Errorf("fusion: learning: %d qubits: gradient exchange and meta-evolution run on at most %d (set learning.gradient.every and learning.meta_evolution.every to 0)", qubits, MaxLearningQubits)
	}
	return nil
}

// LearningStep is what the learning rules did after a step.
type LearningStep struct {
	// Gradient is set when the gradient exchange ran; GradNorm is
	// ‖∇θ_fusion‖ on the scaled parameters, LossQ, LossN and LossP the
	// three losses before the update.
	Gradient bool    `json:"gradient"`
	GradNorm float64 `json:"grad_norm"`
	LossQ    float64 `json:"loss_q"`
	LossN    float64 `json:"loss_n"`
	LossP    float64 `json:"loss_p"`
	// Loss is λ_Q·L_Q + λ_N·L_N + λ_P·L_P before the update, LossAfter
	// the same at the updated Θ (same ψ and spike spectrum).
	Loss      float64 `json:"loss"`
	LossAfter float64 `json:"loss_after"`
	// Weights are λ_Q, λ_N, λ_P in use (InjectMetaGraph scales them).
	Weights Weights `json:"weights"`
	// Mutated is set when meta-evolution ran; Epsilon is ε_Q (one entry
	// per component of Θ) and Shots the measurement outcomes drawn.
	Mutated bool      `json:"mutated"`
	Epsilon []float64 `json:"epsilon,omitempty"`
	Shots   int       `json:"shots,omitempty"`
	// DTheta is the change of Θ made after this step (both rules), Theta
	// the Θ = [H coefficients, α, β, γ] after it.
	DTheta []float64 `json:"dtheta"`
	Theta  []float64 `json:"theta"`
}

// Theta returns Θ = [H coefficients, α, β, γ] as the system uses it now.
func (s *System) Theta() Params {
	h := make([]float64, len(s.cfg.Hamiltonian))
	for k, t := range s.cfg.Hamiltonian {
		h[k] = t.Coeff
	}
	return Params{H: h, Alpha: s.alpha, Beta: s.cfg.Beta, Gamma: s.gamma}
}

// SetTheta sets Θ: the Hamiltonian's coefficients (its Pauli strings are
// kept; the Trotter step is rebuilt) and the coupling.
func (s *System) SetTheta(p Params) error {
	if len(p.H) != len(s.cfg.Hamiltonian) {
		return fmt.Errorf("fusion: Θ with %d coefficients for %d Pauli terms", len(p.H), len(s.cfg.Hamiltonian))
	}
	for _, v := range p.Vector() {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return &NonFiniteError{What: "Θ"}
		}
	}
	h := make(circuit.PauliSum, len(p.H))
	for k, t := range s.cfg.Hamiltonian {
		h[k] = circuit.PauliTerm{Coeff: p.H[k], Pauli: t.Pauli}
	}
	step, err := circuit.Trotter(h, s.cfg.Qubits, s.cfg.Dt, 1, 2)
	if err != nil {
		return fmt.Errorf("fusion: Θ: %w", err)
	}
	s.cfg.Hamiltonian, s.step = h, step
	s.alpha, s.cfg.Beta, s.gamma = p.Alpha, p.Beta, p.Gamma
	return nil
}

// objective is the loss set of the learning rules at the current state.
func (s *System) objective() *Objective {
	paulis := make([]string, len(s.cfg.Hamiltonian))
	for k, t := range s.cfg.Hamiltonian {
		paulis[k] = t.Pauli
	}
	return &Objective{Paulis: paulis, Qubits: s.cfg.Qubits, Dt: s.cfg.Dt, Psi: s.Psi(), F: s.LastSpectrum(),
		Neurons: s.n, TargetDriveMV: s.cfg.Learning.TargetDriveMV, LambdaC: s.cfg.LambdaC}
}

// QuantumNoise returns k components of ε_Q drawn from measurement outcomes
// of the register: shots outcomes a_1…a_m are sampled from |ψ|² by the
// state-vector backend (backend.SampleUniform, on the device where the
// backend has a sampler), for uniform variates from a PCG seeded by
// (seed, stream); component j reads the outcomes' bit q = j mod n as the
// ±1 eigenvalue x_s = 1 − 2·bit_q(a_s) of Z_q and standardises their sum:
// ε_j = (Σ_s x_s − m⟨Z_q⟩)/√(m(1 − ⟨Z_q⟩²)), clipped to ±4, with ⟨Z_q⟩
// from psi. ε_j has mean 0 and variance 1 over the outcomes (to O(1/m)
// from the clip); a qubit in a Z eigenstate has no measurement randomness
// and gives ε_j = 0. Different components on one qubit use disjoint
// outcomes.
func QuantumNoise(st backend.State, psi []complex128, qubits, k, shots int, seed, stream uint64) ([]float64, error) {
	if shots < 1 {
		shots = 64
	}
	ez := make([]float64, qubits)
	tot := 0.0
	for a, z := range psi {
		p := real(z)*real(z) + imag(z)*imag(z)
		tot += p
		for q := 0; q < qubits; q++ {
			if a>>q&1 == 0 {
				ez[q] += p
			} else {
				ez[q] -= p
			}
		}
	}
	if tot <= 0 || math.IsNaN(tot) {
		return nil, &NonFiniteError{What: "quantum noise: |ψ|²"}
	}
	rounds := (k + qubits - 1) / qubits // outcomes are reused across qubits, not within one
	rng := rand.New(rand.NewPCG(seed, stream))
	u := make([]float64, shots*rounds)
	for i := range u {
		u[i] = rng.Float64()
	}
	out := make([]uint64, len(u))
	if err := backend.SampleUniform(st, u, out); err != nil {
		return nil, fmt.Errorf("fusion: quantum noise: %w", err)
	}
	eps := make([]float64, k)
	m := float64(shots)
	for j := range eps {
		q, round := j%qubits, j/qubits
		z := ez[q] / tot
		v := 1 - z*z
		if v < 1e-12 {
			continue
		}
		sum := 0.0
		for _, a := range out[round*shots : (round+1)*shots] {
			sum += 1 - 2*float64(a>>uint(q)&1)
		}
		eps[j] = max(-4, min(4, (sum-m*z)/math.Sqrt(m*v)))
	}
	return eps, nil
}

// learn runs the learning rules due after step number s.steps and returns
// their report (nil when none was due). On the scaled parameters θ_k =
// Θ_k/s_k, s_k = max(|Θ_k⁰|, 10⁻³) from New (so that the Hamiltonian's
// coefficients, α ≈ 40 mV and γ ≈ 0.03 all move on one scale), the
// gradient exchange is θ ← θ − Rate·∇θ_fusion and meta-evolution θ ← θ +
// η_Q·ε_Q − η_N·∇θ L_N; each update's change of every θ_k is clipped to
// ±MaxStep, and γ and α stay ≥ 0 (α ≤ ACE.AlphaMax).
func (s *System) learn() (*LearningStep, error) {
	l := s.cfg.Learning
	doG := l.Gradient.Every > 0 && s.steps%l.Gradient.Every == 0
	doM := l.Meta.Every > 0 && s.steps%l.Meta.Every == 0
	if (!doG && !doM) || s.LastSpectrum() == nil {
		return nil, nil
	}
	obj := s.objective()
	if obj.Psi == nil {
		return nil, fmt.Errorf("fusion: learning: ψ could not be read")
	}
	theta := s.Theta()
	v0 := theta.Vector()
	v := append([]float64(nil), v0...)
	maxStep := l.MaxStep
	if maxStep == 0 {
		maxStep = 0.05
	}
	clip := func(d float64) float64 { return max(-maxStep, min(maxStep, d)) }
	// bound keeps α in [0, AlphaMax] and γ ≥ 0: applied after each rule,
	// so the loss reported after the exchange is that of a Θ that is set.
	bound := func(v []float64) {
		k := len(v) - 3
		v[k] = max(0, v[k]) // α
		if s.cfg.ACE.AlphaMax > 0 {
			v[k] = min(v[k], s.cfg.ACE.AlphaMax)
		}
		v[k+2] = max(0, v[k+2]) // γ
	}
	ls := &LearningStep{}
	if doG {
		w := s.weights()
		g, _, err := obj.FusedGradient(theta, w, 1e-6)
		if err != nil {
			return nil, fmt.Errorf("fusion: gradient exchange: %w", err)
		}
		if ls.LossQ, ls.LossN, ls.LossP, err = obj.Losses(theta); err != nil {
			return nil, fmt.Errorf("fusion: gradient exchange: %w", err)
		}
		ls.Gradient, ls.Weights = true, w
		for k := range v {
			gs := g[k] * s.scale[k] // ∂L/∂θ_k
			ls.GradNorm += gs * gs
			v[k] += s.scale[k] * clip(-l.Gradient.Rate*gs)
		}
		ls.GradNorm = math.Sqrt(ls.GradNorm)
		bound(v)
		ls.Loss = w.Q*ls.LossQ + w.N*ls.LossN + w.P*ls.LossP
		q, n, p, err := obj.Losses(ParamsFrom(v))
		if err != nil {
			return nil, fmt.Errorf("fusion: gradient exchange: %w", err)
		}
		ls.LossAfter = w.Q*q + w.N*n + w.P*p
	}
	if doM {
		shots := l.Meta.Shots
		if shots == 0 {
			shots = 64
		}
		eps, err := QuantumNoise(s.st, obj.Psi, s.cfg.Qubits, len(v), shots, l.Meta.Seed, uint64(s.steps))
		if err != nil {
			return nil, err
		}
		_, gn, err := obj.FusedGradient(ParamsFrom(v), Weights{N: 1}, 1e-6)
		if err != nil {
			return nil, fmt.Errorf("fusion: meta-evolution: %w", err)
		}
		for k := range v {
			v[k] += s.scale[k] * clip(l.Meta.EtaQ*eps[k]-l.Meta.EtaN*gn[k]*s.scale[k])
		}
		ls.Mutated, ls.Epsilon, ls.Shots = true, eps, shots*((len(v)+s.cfg.Qubits-1)/s.cfg.Qubits)
	}
	bound(v)
	if err := s.SetTheta(ParamsFrom(v)); err != nil {
		return nil, err
	}
	ls.Theta = v
	ls.DTheta = make([]float64, len(v))
	for i := range v {
		ls.DTheta[i] = v[i] - v0[i]
	}
	return ls, nil
}
