package fusion

import (
	"errors"
	"fmt"
	"math"
	"math/cmplx"

	"gonum.org/v1/gonum/mat"

	"github.com/prismai/mec/circuit"
)

// MaxJacobianQubits bounds the register of the numerical Jacobian (a
// 2^(n+1)-square real matrix by central differences).
const MaxJacobianQubits = 6

// StepMap is the deterministic part of one fusion step with the spike
// spectrum f held fixed: ψ ↦ (Uψ + γf)/‖Uψ + γf‖, U the Trotter step of H.
func StepMap(h circuit.PauliSum, n int, dt, gamma float64, f, psi []complex128) ([]complex128, error) {
	sm, err := newStepMapper(h, n, dt)
	if err != nil {
		return nil, err
	}
	return sm.apply(gamma, f, psi)
}

// stepMapper is StepMap with the Trotter step's gates lowered once, for
// the many evaluations of a Jacobian.
type stepMapper struct{ gates []circuit.Gate }

func newStepMapper(h circuit.PauliSum, n int, dt float64) (*stepMapper, error) {
	c, err := circuit.Trotter(h, n, dt, 1, 2)
	if err != nil {
		return nil, err
	}
	sm := &stepMapper{gates: make([]circuit.Gate, len(c.Ops))}
	for i := range c.Ops {
		if sm.gates[i], err = c.Ops[i].Lower(); err != nil {
			return nil, err
		}
	}
	return sm, nil
}

func (sm *stepMapper) apply(gamma float64, f, psi []complex128) ([]complex128, error) {
	v := append([]complex128(nil), psi...)
	for i := range sm.gates {
		circuit.ApplyToVector(v, &sm.gates[i])
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
	sm, err := newStepMapper(h, n, dt)
	if err != nil {
		return nil, Stability{}, err
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
		fp, err := sm.apply(gamma, f, plus)
		if err != nil {
			return nil, Stability{}, err
		}
		fm, err := sm.apply(gamma, f, minus)
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
	out, err := sm.apply(gamma, f, psi)
	if err != nil {
		return nil, Stability{}, err
	}
	nrm := math.Sqrt(norm2(psi))
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

// JacobianExact is Jacobian computed analytically: with v = Uψ + γf and
// ψ' = v/‖v‖, column c of J is (w_c − ψ'·⟨ψ', w_c⟩)/‖v‖ (⟨·,·⟩ the real
// inner product) with w_c = U e_c for a real direction and i·U e_c for an
// imaginary one, so U is applied D times instead of the 4D step maps of
// the central differences. Det is as Jacobian's; the spectral radius is
// computed only when eigen is set (an eigendecomposition of the
// 2D-square J, the dearest part).
func JacobianExact(h circuit.PauliSum, n int, dt, gamma float64, f, psi []complex128, eigen bool) (*mat.Dense, Stability, error) {
	if n > MaxJacobianQubits {
		return nil, Stability{}, fmt.Errorf("fusion: Jacobian of %d qubits: at most %d", n, MaxJacobianQubits)
	}
	d := 1 << n
	if len(psi) != d || len(f) != d {
		return nil, Stability{}, fmt.Errorf("fusion: Jacobian needs %d amplitudes", d)
	}
	sm, err := newStepMapper(h, n, dt)
	if err != nil {
		return nil, Stability{}, err
	}
	// v = Uψ + γf (StepMap before its normalisation).
	v := append([]complex128(nil), psi...)
	for i := range sm.gates {
		circuit.ApplyToVector(v, &sm.gates[i])
	}
	nv := 0.0
	for a := range v {
		v[a] += complex(gamma, 0) * f[a]
		nv += real(v[a])*real(v[a]) + imag(v[a])*imag(v[a])
	}
	nv = math.Sqrt(nv)
	if nv == 0 || math.IsNaN(nv) {
		return nil, Stability{}, &NonFiniteError{What: "step map"}
	}
	out := make([]complex128, d)
	for a := range v {
		out[a] = v[a] / complex(nv, 0)
	}
	np := math.Sqrt(norm2(psi))
	j := mat.NewDense(2*d, 2*d, nil)
	jt := mat.NewDense(2*d, 2*d, nil)
	w := make([]complex128, d)
	for c := 0; c < d; c++ {
		clear(w)
		w[c] = 1
		for i := range sm.gates {
			circuit.ApplyToVector(w, &sm.gates[i])
		}
		for _, col := range []int{c, c + d} {
			wc := w
			if col >= d {
				wc = make([]complex128, d)
				for a := range w {
					wc[a] = 1i * w[a]
				}
			}
			var dot float64 // ⟨ψ', w_c⟩ over the reals
			for a := range wc {
				dot += real(out[a])*real(wc[a]) + imag(out[a])*imag(wc[a])
			}
			nc := real(psi[col%d]) / np
			if col >= d {
				nc = imag(psi[col%d]) / np
			}
			for a := 0; a < d; a++ {
				dz := (wc[a] - out[a]*complex(dot, 0)) / complex(nv, 0)
				j.Set(a, col, real(dz))
				j.Set(d+a, col, imag(dz))
				jt.Set(a, col, real(dz)+real(out[a])*nc)
				jt.Set(d+a, col, imag(dz)+imag(out[a])*nc)
			}
		}
	}
	st := Stability{Det: mat.Det(jt)}
	st.Positive = st.Det > 0
	if eigen {
		var eig mat.Eigen
		if eig.Factorize(j, mat.EigenNone) {
			for _, ev := range eig.Values(nil) {
				st.SpectralRadius = math.Max(st.SpectralRadius, cmplx.Abs(ev))
			}
		}
	}
	return j, st, nil
}

// Stability evaluates the Jacobian of the system's step map at its
// current state with the last spike spectrum (registers of at most
// MaxJacobianQubits qubits).
func (s *System) Stability() (Stability, error) {
	if s.cfg.Qubits > MaxJacobianQubits {
		return Stability{}, fmt.Errorf("fusion: Jacobian of %d qubits: at most %d", s.cfg.Qubits, MaxJacobianQubits)
	}
	f, psi := s.LastSpectrum(), s.Psi()
	if f == nil || psi == nil {
		return Stability{}, errors.New("fusion: Stability before the first step")
	}
	_, st, err := JacobianExact(s.cfg.Hamiltonian, s.cfg.Qubits, s.cfg.Dt, s.gamma, f, psi, true)
	return st, err
}

// DetJ is Stability's determinant alone (no eigendecomposition): the
// stability criterion det J > 0 of fusion §13, which the runtime
// evaluates every tick.
func (s *System) DetJ() (float64, error) {
	f := s.LastSpectrum()
	if f == nil {
		return 0, errors.New("fusion: DetJ before the first step")
	}
	psi := s.Psi()
	if psi == nil {
		return 0, errors.New("fusion: DetJ: ψ could not be read")
	}
	_, st, err := JacobianExact(s.cfg.Hamiltonian, s.cfg.Qubits, s.cfg.Dt, s.gamma, f, psi, false)
	return st.Det, err
}
