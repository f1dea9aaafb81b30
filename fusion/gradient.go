package fusion

// Gradient fusion: the parameter vector Θ, the losses L_Q, L_N, L_P of one
// step map and their fused gradient by central differences.

import (
	"fmt"
	"math"

	"github.com/prismai/mec/circuit"
)

// Params is the parameter vector Θ of gradient fusion and meta-evolution:
// the Hamiltonian coefficients and the coupling (synaptic) weights α, β of
// the amplitude→neuron projection and γ of the spectrum→amplitude one.
// The spiking network's internal weights are fixed when it is built.
type Params struct {
	H                  []float64
	Alpha, Beta, Gamma float64
}

// Vector packs Θ as [H..., α, β, γ].
func (p Params) Vector() []float64 {
	return append(append([]float64(nil), p.H...), p.Alpha, p.Beta, p.Gamma)
}

// ParamsFrom unpacks a vector made by Vector.
func ParamsFrom(v []float64) Params {
	k := len(v) - 3
	return Params{H: append([]float64(nil), v[:k]...), Alpha: v[k], Beta: v[k+1], Gamma: v[k+2]}
}

// Objective holds what the losses of gradient fusion see: the register
// (Pauli strings of H, time step), the current state, the spike spectrum
// f and the number of neurons, all held fixed while Θ varies.
type Objective struct {
	Paulis []string
	Qubits int
	Dt     float64
	Psi, F []complex128
	// Neurons is the network size; TargetDriveMV the mean |ΔV| the
	// neuromorphic loss aims for.
	Neurons       int
	TargetDriveMV float64
	LambdaC       float64
}

// Losses returns L_Q = E_coh after the step map, L_N = (mean_i |ΔV_i| −
// target)² for the drive ΔV = α·Re M(ψ') + β·Im M(ψ') the step sends into
// the network, and L_P = 1 − r(ψ').
func (o *Objective) Losses(p Params) (lq, ln, lp float64, err error) {
	if len(p.H) != len(o.Paulis) {
		return 0, 0, 0, fmt.Errorf("fusion: %d coefficients for %d Pauli terms", len(p.H), len(o.Paulis))
	}
	h := make(circuit.PauliSum, len(p.H))
	for k := range h {
		h[k] = circuit.PauliTerm{Coeff: p.H[k], Pauli: o.Paulis[k]}
	}
	next, err := StepMap(h, o.Qubits, o.Dt, p.Gamma, o.F, o.Psi)
	if err != nil {
		return 0, 0, 0, err
	}
	lq = CoherenceEnergy(next, o.F, o.LambdaC)
	u := Map(next, o.Neurons)
	drive := 0.0
	for _, z := range u {
		drive += math.Abs(p.Alpha*real(z) + p.Beta*imag(z))
	}
	drive /= float64(len(u))
	ln = (drive - o.TargetDriveMV) * (drive - o.TargetDriveMV)
	lp = 1 - OrderParameter(next)
	return lq, ln, lp, nil
}

// Weights are λ_Q, λ_N, λ_P of the fused gradient.
type Weights struct {
	Q float64 `json:"lambda_q"`
	N float64 `json:"lambda_n"`
	P float64 `json:"lambda_p"`
}

// FusedGradient returns ∇ = λ_Q∇L_Q + λ_N∇L_N + λ_P∇L_P and ∇L_N alone,
// by central differences with step eps on every component of Θ.
func (o *Objective) FusedGradient(p Params, w Weights, eps float64) (fused, gradN []float64, err error) {
	v := p.Vector()
	fused, gradN = make([]float64, len(v)), make([]float64, len(v))
	for k := range v {
		up, dn := append([]float64(nil), v...), append([]float64(nil), v...)
		up[k] += eps
		dn[k] -= eps
		q1, n1, p1, err := o.Losses(ParamsFrom(up))
		if err != nil {
			return nil, nil, err
		}
		q0, n0, p0, err := o.Losses(ParamsFrom(dn))
		if err != nil {
			return nil, nil, err
		}
		gq, gn, gp := (q1-q0)/(2*eps), (n1-n0)/(2*eps), (p1-p0)/(2*eps)
		fused[k] = w.Q*gq + w.N*gn + w.P*gp
		gradN[k] = gn
	}
	return fused, gradN, nil
}
