package fusion

import (
	"errors"
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/prismai/mec/circuit"
)

// MaxJacobianQubits bounds the register of the numerical Jacobian (a
// 2^(n+1)-square real matrix by central differences).
const MaxJacobianQubits = 6

// StepMap is the deterministic part of one fusion step with the spike
// spectrum f held fixed: ψ ↦ (Uψ + γf)/‖Uψ + γf‖, U the Trotter step of H.
func StepMap(h circuit.PauliSum, n int, dt, gamma float64, f, psi []complex128) ([]complex128, error) {
	c, err := circuit.Trotter(h, n, dt, 1, 2)
	if err != nil {
		return nil, err
	}
	v := append([]complex128(nil), psi...)
	for i := range c.Ops {
		g, err := c.Ops[i].Lower()
		if err != nil {
			return nil, err
		}
		circuit.ApplyToVector(v, &g)
	}
	nrm := 0.0
	for a := range v {
		v[a] += complex(gamma, 0) * f[a]
		nrm += real(v[a])*real(v[a]) + imag(v[a])*imag(v[a])
	}
	if nrm == 0 || math.IsNaN(nrm) {
		return nil, &NonFiniteError{What: "step map"}
	}
	for a := range v {
		v[a] /= complex(math.Sqrt(nrm), 0)
	}
	return v, nil
}

// Stability is the report of the numerical Jacobian of the step map.
type Stability struct {
	// Det is the determinant of the real 2D×2D Jacobian J of
	// (Re ψ, Im ψ) ↦ (Re ψ', Im ψ') (central differences) on the unit
	// sphere: normalisation maps the radial direction n = ψ to zero, so
	// Det = det(J + n'·nᵀ) with n' = ψ', which maps it to the radial
	// direction instead and leaves the tangent part. Positive reports
	// Det > 0 (orientation kept, the map locally invertible); a unitary
	// step gives Det = 1.
	Det      float64 `json:"det"`
	Positive bool    `json:"positive"`
	// SpectralRadius is the largest |eigenvalue| of J.
	SpectralRadius float64 `json:"spectral_radius"`
}

// Jacobian returns the numerical Jacobian of StepMap at psi (central
// differences with step eps) and its determinant and spectral radius.
func Jacobian(h circuit.PauliSum, n int, dt, gamma float64, f, psi []complex128, eps float64) (*mat.Dense, Stability, error) {
	if n > MaxJacobianQubits {
		return nil, Stability{}, fmt.Errorf("fusion: Jacobian of %d qubits: at most %d", n, MaxJacobianQubits)
	}
	d := 1 << n
	if len(psi) != d || len(f) != d {
		return nil, Stability{}, fmt.Errorf("fusion: Jacobian needs %d amplitudes", d)
	}
	j := mat.NewDense(2*d, 2*d, nil)
	for col := 0; col < 2*d; col++ {
		plus := append([]complex128(nil), psi...)
		minus := append([]complex128(nil), psi...)
		dz := complex(eps, 0)
		if col >= d {
			dz = complex(0, eps)
		}
		plus[col%d] += dz
		minus[col%d] -= dz
		fp, err := StepMap(h, n, dt, gamma, f, plus)
		if err != nil {
			return nil, Stability{}, err
		}
		fm, err := StepMap(h, n, dt, gamma, f, minus)
		if err != nil {
			return nil, Stability{}, err
		}
		for a := 0; a < d; a++ {
			dd := (fp[a] - fm[a]) / complex(2*eps, 0)
			j.Set(a, col, real(dd))
			j.Set(d+a, col, imag(dd))
		}
	}
	var st Stability
	out, err := StepMap(h, n, dt, gamma, f, psi)
	if err != nil {
		return nil, Stability{}, err
	}
	nrm := 0.0
	for _, z := range psi {
		nrm += real(z)*real(z) + imag(z)*imag(z)
	}
	nrm = math.Sqrt(nrm)
	jt := mat.DenseCopyOf(j)
	for r := 0; r < 2*d; r++ {
		nr := real(out[r%d])
		if r >= d {
			nr = imag(out[r%d])
		}
		for c := 0; c < 2*d; c++ {
			nc := real(psi[c%d]) / nrm
			if c >= d {
				nc = imag(psi[c%d]) / nrm
			}
			jt.Set(r, c, jt.At(r, c)+nr*nc)
		}
	}
	st.Det = mat.Det(jt)
	st.Positive = st.Det > 0
	var eig mat.Eigen
	if eig.Factorize(j, mat.EigenNone) {
		for _, v := range eig.Values(nil) {
			st.SpectralRadius = math.Max(st.SpectralRadius, cmplx.Abs(v))
		}
	}
	return j, st, nil
}

// Stability evaluates the Jacobian of the system's step map at its
// current state with the last spike spectrum (registers of at most
// MaxJacobianQubits qubits).
func (s *System) Stability() (Stability, error) {
	if s.lastF == nil {
		return Stability{}, errors.New("fusion: Stability before the first step")
	}
	_, st, err := Jacobian(s.cfg.Hamiltonian, s.cfg.Qubits, s.cfg.Dt, s.gamma, s.lastF, s.psi, 1e-6)
	return st, err
}

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
type Weights struct{ Q, N, P float64 }

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

// MetaEvolve runs steps of the stochastic meta-evolution
// Θ ← Θ + η_Q·ε_Q − η_N·∇L_N with ε_Q ~ N(0, I) drawn from a PCG seeded by
// seed, and returns the final Θ and L_N after each step.
func (o *Objective) MetaEvolve(p Params, etaQ, etaN float64, steps int, seed uint64) (Params, []float64, error) {
	rng := rand.New(rand.NewPCG(seed, 0x6d657461))
	v := p.Vector()
	var hist []float64
	for s := 0; s < steps; s++ {
		_, gn, err := o.FusedGradient(ParamsFrom(v), Weights{N: 1}, 1e-6)
		if err != nil {
			return Params{}, nil, err
		}
		for k := range v {
			v[k] += etaQ*rng.NormFloat64() - etaN*gn[k]
		}
		_, ln, _, err := o.Losses(ParamsFrom(v))
		if err != nil {
			return Params{}, nil, err
		}
		hist = append(hist, ln)
	}
	return ParamsFrom(v), hist, nil
}
