package fusion

// The fusion layer's three interfaces to the rest of the platform:
// InjectMetaGraph (inject_meta_graph), PhaseToSemantic (phase_to_semantic)
// and MonitorEntropy (monitor_entropy).

import (
	"fmt"
	"math"
	"math/cmplx"
)

// MetaGraph is a meta-causal graph over the fusion layer's three parts,
// in the order of MetaNodes: Influence[i][j] ∈ [0, 1] is how strongly part
// i drives part j (the orchestrator's MetaCausality estimates it as a
// lag-1 Granger influence; the diagonal is ignored).
type MetaGraph struct {
	Influence [3][3]float64 `json:"influence"`
}

// MetaNodes names the parts of a MetaGraph: the register (H_coh), the
// spiking network (firing rate) and the phase layer (its grounding error).
func MetaNodes() [3]string { return [3]string{"quantum", "neural", "phase"} }

// InjectMetaGraph injects a meta-causal graph into the gradient exchange:
// each part's weight becomes λ_X = λ_X⁰·(1 + out_X), out_X the sum of its
// influences on the two other parts, so that the loss of a part that
// drives the others counts more (λ_X⁰ from Config.Learning.Gradient). A
// zero graph restores the configured weights. It returns the weights now
// in use; an influence outside [0, 1] (or NaN) is an error naming it.
func (s *System) InjectMetaGraph(g MetaGraph) (Weights, error) {
	nodes := MetaNodes()
	var out [3]float64
	for i := range 3 {
		for j := range 3 {
			v := g.Influence[i][j]
			if !(v >= 0 && v <= 1) {
				return s.weights(), fmt.Errorf("fusion: meta graph: influence %s → %s = %v: want 0..1", nodes[i], nodes[j], v)
			}
			if i != j {
				out[i] += v
			}
		}
	}
	s.meta = out
	return s.weights(), nil
}

// weights returns λ_Q, λ_N, λ_P with the injected meta graph applied.
func (s *System) weights() Weights {
	gx := s.cfg.Learning.Gradient
	return Weights{Q: gx.LambdaQ * (1 + s.meta[0]), N: gx.LambdaN * (1 + s.meta[1]), P: gx.LambdaP * (1 + s.meta[2])}
}

// PhaseToSemantic maps the register's phases to d semantic activities:
// with p_a = |ψ_a|² and φ̄ = arg Σ_a p_a·e^{i·arg ψ_a} (the phase of the
// order parameter), a_k = Σ_{a ≡ k (mod d)} p_a·(1 + cos(arg ψ_a − φ̄))/2,
// normalised to sum 1 (uniform when every amplitude is in antiphase). An
// amplitude in phase with the register counts fully, one in antiphase not
// at all: the semantic layer sees where the coherent probability lies.
func PhaseToSemantic(psi []complex128, d int) ([]float64, error) {
	if d < 1 {
		return nil, fmt.Errorf("fusion: phase to semantic: %d activities", d)
	}
	var z complex128
	for _, a := range psi {
		z += complex(cmplx.Abs(a), 0) * a
	}
	mean := cmplx.Phase(z)
	act := make([]float64, d)
	tot := 0.0
	for i, a := range psi {
		p := real(a)*real(a) + imag(a)*imag(a)
		if p == 0 {
			continue
		}
		v := p * (1 + math.Cos(cmplx.Phase(a)-mean)) / 2
		act[i%d] += v
		tot += v
	}
	if math.IsNaN(tot) {
		return nil, &NonFiniteError{What: "phase to semantic"}
	}
	for k := range act {
		if tot > 0 {
			act[k] /= tot
		} else {
			act[k] = 1 / float64(d)
		}
	}
	return act, nil
}

// PhaseToSemantic maps the system's ψ (after the last step) to d semantic
// activities (see the function PhaseToSemantic).
func (s *System) PhaseToSemantic(d int) ([]float64, error) {
	psi := s.Psi()
	if psi == nil {
		return nil, fmt.Errorf("fusion: phase to semantic: ψ could not be read")
	}
	return PhaseToSemantic(psi, d)
}

// MonitorEntropy returns the coherence entropy H_coh of ψ after the last
// step (CoherenceEntropy; the initial state's before the first), the
// figure the Adaptive Coherence Engine watches.
func (s *System) MonitorEntropy() float64 {
	psi := s.Psi()
	if psi == nil {
		return math.NaN()
	}
	return CoherenceEntropy(psi)
}

// PhaseBins is the number of bins of PhaseEntropy.
const PhaseBins = 16

// PhaseEntropy is the quantum–neural phase entropy (integration §19's
// coherence entropy): with F = F[S] the unit spike spectrum, the overlap
// ⟨F, ψ⟩ = Σ_a w_a·e^{iΔ_a} is a sum of terms of weight w_a = |F_a|·|ψ_a|
// and phase Δ_a = arg ψ_a − arg F_a (ψ's phase against the spike phase
// on the same mode). Their phases are histogrammed on the circle in
// PhaseBins equal bins, the first centred on Δ = φ_ψ − φ_S = arg⟨F, ψ⟩,
// each term adding its weight; H_φ = −Σ_b P_b ln P_b / ln PhaseBins with
// P_b the bins' share of Σ w_a. 0: every mode's quantum and neural phases
// differ by the same angle (phase-locked); 1: the differences are spread
// evenly. psi and f are paired entry by entry (only the entries where
// both are non-zero count); 0 when no entry does.
func PhaseEntropy(psi, f []complex128) float64 {
	var z complex128
	for a := range psi {
		z += cmplx.Conj(f[a]) * psi[a]
	}
	ref := cmplx.Phase(z)
	var hist [PhaseBins]float64
	tot := 0.0
	width := 2 * math.Pi / PhaseBins
	for a := range psi {
		w := cmplx.Abs(f[a]) * cmplx.Abs(psi[a])
		if w == 0 {
			continue
		}
		d := cmplx.Phase(psi[a]*cmplx.Conj(f[a])) - ref + width/2
		d = math.Mod(d, 2*math.Pi)
		if d < 0 {
			d += 2 * math.Pi
		}
		hist[min(int(d/width), PhaseBins-1)] += w
		tot += w
	}
	if tot == 0 || math.IsNaN(tot) {
		return 0
	}
	h := 0.0
	for _, w := range hist {
		if p := w / tot; p > 0 {
			h -= p * math.Log(p)
		}
	}
	return h / math.Log(PhaseBins)
}
