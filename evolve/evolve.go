// Package evolve integrates the Schrödinger equation i∂ψ/∂t = Hψ (ħ = 1)
// for H a Pauli sum, by two methods:
//
//   - Exact: a Chebyshev expansion of exp(−iHt). H is shifted by its
//     identity component and scaled by a = Σ|c_k| over the other terms
//     (a bound on its spectral radius) to H̃ with spectrum in [−1,1]; then
//     exp(−iaτH̃) = J₀(aτ) + 2Σ_{k≥1} (−i)^k J_k(aτ) T_k(H̃), with T_k built by
//     the three-term recurrence. Long times are split into substeps of
//     aτ ≤ 20. The expansion is truncated when the Bessel tail bound
//     2Σ_{k>K}|J_k(x)| ≤ 2(x/2)^{K+1}/(K+1)! · 1/(1 − x/(2(K+2))) is below
//     the tolerance; the sum of those bounds over substeps is reported as
//     ErrorBound (an upper bound on ‖ψ_computed − ψ_exact‖ in exact arithmetic,
//     to which rounding adds about K·ε).
//   - Trotter: a Trotter–Suzuki product formula (order 1, 2 or 4) built as a
//     circuit of standard gates by circuit.Trotter and run by package sim on
//     any state-vector backend, so it is exportable as OpenQASM. Run
//     applies it a chunk of whole steps at a time (circuit.TrotterStep), so
//     memory does not grow with the steps; Options.MaxSteps caps them.
//
// Both methods check their context between steps, substeps and Chebyshev
// terms, so cancelling it stops them promptly.
//
// Spec and Output match the JSON of the QuTiP peer (shared/peers/qutip_evolve.py).
//
// Layer: compute library. It may import backend, circuit and sim; never the
// runtime, devices or commands.
package evolve

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"sync"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/sim"
)

// Spec is the evolution problem, in the JSON of qutip_evolve.py.
type Spec struct {
	Qubits int              `json:"qubits"`
	Terms  circuit.PauliSum `json:"terms"`
	Psi0   [][2]float64     `json:"psi0,omitempty"`
	T      float64          `json:"t"`
	Keep   []int            `json:"keep,omitempty"`
}

// Output is the result, in the JSON of qutip_evolve.py plus mec's fields.
type Output struct {
	Amplitudes [][2]float64   `json:"amplitudes"`
	Rho        [][][2]float64 `json:"rho,omitempty"`
	Method     string         `json:"method"`
	Steps      int            `json:"steps,omitempty"`
	Order      int            `json:"order,omitempty"`
	// ErrorBound is the exact method's truncation bound on ‖ψ − ψ_exact‖.
	ErrorBound float64 `json:"error_bound,omitempty"`
	// Terms is the number of Chebyshev terms (exact) or gates (trotter).
	Terms int `json:"terms_used"`
}

// MaxQubits is the largest spec evolve accepts (host vectors of complex128).
const MaxQubits = 30

// Validate checks the spec.
func (s *Spec) Validate() error {
	if s.Qubits < 1 || s.Qubits > MaxQubits {
		return fmt.Errorf("evolve: qubits = %d: want 1..%d", s.Qubits, MaxQubits)
	}
	if len(s.Terms) == 0 {
		return fmt.Errorf("evolve: no Hamiltonian terms")
	}
	if err := s.Terms.Validate(s.Qubits); err != nil {
		return fmt.Errorf("evolve: %w", err)
	}
	if math.IsNaN(s.T) || math.IsInf(s.T, 0) {
		return fmt.Errorf("evolve: t = %v is not finite", s.T)
	}
	if s.Psi0 != nil && len(s.Psi0) != 1<<uint(s.Qubits) {
		return fmt.Errorf("evolve: psi0 has %d amplitudes, want %d", len(s.Psi0), 1<<uint(s.Qubits))
	}
	seen := map[int]bool{}
	for _, k := range s.Keep {
		if k < 0 || k >= s.Qubits || seen[k] {
			return fmt.Errorf("evolve: keep %v: qubits must be distinct and in [0,%d)", s.Keep, s.Qubits)
		}
		seen[k] = true
	}
	if len(s.Keep) > 14 {
		return fmt.Errorf("evolve: keep of %d qubits: a density matrix of at most 14 qubits", len(s.Keep))
	}
	return nil
}

// InitialState returns psi0 (normalised check) or |0…0⟩.
func (s *Spec) InitialState() ([]complex128, error) {
	v := make([]complex128, 1<<uint(s.Qubits))
	if s.Psi0 == nil {
		v[0] = 1
		return v, nil
	}
	var nrm float64
	for i, a := range s.Psi0 {
		v[i] = complex(a[0], a[1])
		nrm += a[0]*a[0] + a[1]*a[1]
	}
	if err := backend.CheckAmplitudes(v); err != nil {
		return nil, fmt.Errorf("evolve: psi0: %w", err)
	}
	if math.Abs(nrm-1) > 1e-6 {
		return nil, fmt.Errorf("evolve: psi0 has norm² %v, want 1", nrm)
	}
	return v, nil
}

// DefaultMaxSteps is the default cap on Trotter steps (Options.MaxSteps).
const DefaultMaxSteps = 1_000_000

// MaxSubsteps caps the Chebyshev substeps of the exact method (a·|t|/20 of
// them, for a = Σ|c_k| over the non-identity terms).
const MaxSubsteps = 1 << 30

// Options selects the method.
type Options struct {
	Method string // "exact" (default) or "trotter"
	// Tol is the exact method's truncation tolerance (default 1e-12).
	Tol float64
	// Steps and Order configure Trotter (defaults 100 and 2).
	Steps, Order int
	// MaxSteps caps Steps (0: DefaultMaxSteps). The Trotter circuit is
	// run a few steps at a time, so memory does not grow with Steps, but
	// time does.
	MaxSteps int
	// Backend, Precision and Fuse configure the simulator for Trotter.
	Backend   string
	Precision backend.Precision
	Fuse      int
}

// Run evolves the spec and returns the output JSON structure.
func Run(ctx context.Context, s *Spec, o Options) (*Output, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	psi, err := s.InitialState()
	if err != nil {
		return nil, err
	}
	out := &Output{}
	switch o.Method {
	case "", "exact":
		tol := o.Tol
		if tol == 0 {
			tol = 1e-12
		}
		res, err := Chebyshev(ctx, s.Terms, s.Qubits, s.T, psi, tol)
		if err != nil {
			return nil, err
		}
		psi = res.Psi
		out.Method, out.ErrorBound, out.Terms, out.Steps = "exact-chebyshev", res.ErrorBound, res.Terms, res.Substeps
	case "trotter":
		steps, order := o.Steps, o.Order
		if steps == 0 {
			steps = 100
		}
		if order == 0 {
			order = 2
		}
		maxSteps := o.MaxSteps
		if maxSteps <= 0 {
			maxSteps = DefaultMaxSteps
		}
		if steps > maxSteps {
			return nil, fmt.Errorf("evolve: %d Trotter steps: more than the limit of %d (raise Options.MaxSteps; mec evolve --max-steps)", steps, maxSteps)
		}
		if steps < 1 {
			return nil, fmt.Errorf("evolve: %d Trotter steps: want at least 1", steps)
		}
		gates, err := trotter(ctx, s, psi, steps, order, o)
		if err != nil {
			return nil, err
		}
		out.Method, out.Steps, out.Order, out.Terms = "trotter", steps, order, gates
	default:
		return nil, fmt.Errorf("evolve: method %q: want exact or trotter", o.Method)
	}
	out.Amplitudes = make([][2]float64, len(psi))
	for i, a := range psi {
		out.Amplitudes[i] = [2]float64{real(a), imag(a)}
	}
	if s.Keep != nil {
		rho := ReducedDensityMatrix(psi, s.Qubits, s.Keep)
		d := 1 << uint(len(s.Keep))
		out.Rho = make([][][2]float64, d)
		for i := 0; i < d; i++ {
			out.Rho[i] = make([][2]float64, d)
			for j := 0; j < d; j++ {
				out.Rho[i][j] = [2]float64{real(rho[i*d+j]), imag(rho[i*d+j])}
			}
		}
	}
	return out, nil
}

// trotterChunkGates is about how many gates trotter hands the simulator at
// once (whole steps; at least one).
const trotterChunkGates = 1 << 16

// trotter runs steps Trotter steps on psi (in place) a chunk of whole
// steps at a time, checking ctx between chunks (the simulator checks it
// within them), and returns the number of gates run.
func trotter(ctx context.Context, s *Spec, psi []complex128, steps, order int, o Options) (int, error) {
	step, err := circuit.TrotterStep(s.Terms, s.Qubits, s.T/float64(steps), order)
	if err != nil {
		return 0, fmt.Errorf("evolve: %w", err)
	}
	per := max(1, len(step.Ops))
	k := min(steps, max(1, trotterChunkGates/per))
	chunk := &circuit.Circuit{Qubits: step.Qubits, Clbits: step.Clbits, Ops: make([]circuit.Op, 0, k*len(step.Ops))}
	for range k {
		chunk.Ops = append(chunk.Ops, step.Ops...)
	}
	simr, err := sim.New(sim.Options{Backend: o.Backend, Precision: o.Precision, Fuse: o.Fuse})
	if err != nil {
		return 0, err
	}
	st, err := simr.Backend().NewState(s.Qubits, o.Precision)
	if err != nil {
		return 0, err
	}
	defer st.Free()
	if err := st.Load(psi); err != nil {
		return 0, err
	}
	for done := 0; done < steps; done += k {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		c := chunk
		if r := steps - done; r < k {
			c = &circuit.Circuit{Qubits: chunk.Qubits, Clbits: chunk.Clbits, Ops: chunk.Ops[:r*len(step.Ops)]}
		}
		if _, err := simr.Apply(ctx, st, c, 0); err != nil {
			return 0, err
		}
	}
	if err := st.Read(psi); err != nil {
		return 0, err
	}
	return steps * step.GateCount(), nil
}

// ChebyshevResult is the outcome of Chebyshev.
type ChebyshevResult struct {
	Psi        []complex128
	ErrorBound float64
	Terms      int // total Chebyshev terms over all substeps
	Substeps   int
}

// maxSubstepX is the largest a·Δt per substep.
const maxSubstepX = 20

// Chebyshev returns exp(−iHt)ψ with the truncation error bound.
func Chebyshev(ctx context.Context, h circuit.PauliSum, n int, t float64, psi []complex128, tol float64) (*ChebyshevResult, error) {
	if err := h.Validate(n); err != nil {
		return nil, fmt.Errorf("evolve: %w", err)
	}
	if len(psi) != 1<<uint(n) {
		return nil, fmt.Errorf("evolve: ψ has %d amplitudes, want %d", len(psi), 1<<uint(n))
	}
	if !(tol > 0) {
		return nil, fmt.Errorf("evolve: tolerance %v must be positive", tol)
	}
	var shift, a float64
	op := newPauliOp(h, n)
	for _, t := range h {
		if isIdentity(t.Pauli) {
			shift += t.Coeff
		} else {
			a += math.Abs(t.Coeff)
		}
	}
	res := &ChebyshevResult{Psi: append([]complex128(nil), psi...)}
	if a == 0 || t == 0 {
		ph := expi(-shift * t)
		for i := range res.Psi {
			res.Psi[i] *= ph
		}
		return res, nil
	}
	op.scale(1 / a) // H̃ = (H − shift)/a: identity terms are a phase applied at the end
	x := a * math.Abs(t)
	if x/maxSubstepX > MaxSubsteps {
		return nil, fmt.Errorf("evolve: t·Σ|c| = %g needs about %.3g Chebyshev substeps: more than the limit of %d", x, x/maxSubstepX, MaxSubsteps)
	}
	sub := int(math.Ceil(x / maxSubstepX))
	dx := x / float64(sub)
	sign := 1.0
	if t < 0 {
		sign = -1
	}
	// Coefficients (−i)^k J_k(dx)·(2 − δ_k0), truncated by the tail bound.
	var coef []complex128
	var bound float64
	for k := 0; ; k++ {
		c := math.Jn(k, dx)
		f := complex(c, 0) * cpow(complex(0, -sign), k)
		if k > 0 {
			f *= 2
		}
		coef = append(coef, f)
		if k+2 > int(dx/2)+1 && k > int(dx) {
			if b := besselTail(dx, k); b < tol/float64(sub) {
				bound = b
				break
			}
		}
		if k > 10000 {
			return nil, fmt.Errorf("evolve: Chebyshev expansion did not converge")
		}
	}
	n2 := len(psi)
	prev := make([]complex128, n2)
	cur := make([]complex128, n2)
	next := make([]complex128, n2)
	acc := make([]complex128, n2)
	for s := 0; s < sub; s++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		v := res.Psi
		copy(prev, v)
		op.apply(cur, prev)
		for i := range acc {
			acc[i] = coef[0]*prev[i] + coef[1]*cur[i]
		}
		for k := 2; k < len(coef); k++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			op.apply(next, cur)
			ck := coef[k]
			parallel(n2, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					nv := 2*next[i] - prev[i]
					next[i] = nv
					acc[i] += ck * nv
				}
			})
			prev, cur, next = cur, next, prev
		}
		copy(res.Psi, acc)
		res.ErrorBound += bound
		res.Terms += len(coef)
	}
	ph := expi(-shift * t)
	for i := range res.Psi {
		res.Psi[i] *= ph
	}
	res.Substeps = sub
	return res, nil
}

// besselTail bounds 2Σ_{j>k}|J_j(x)| using |J_j(x)| ≤ (x/2)^j/j!.
func besselTail(x float64, k int) float64 {
	lg, _ := math.Lgamma(float64(k + 2))
	first := math.Exp(float64(k+1)*math.Log(x/2) - lg)
	r := x / (2 * float64(k+2))
	if r >= 1 {
		return math.Inf(1)
	}
	return 2 * first / (1 - r)
}

func cpow(z complex128, k int) complex128 {
	r := complex128(1)
	for i := 0; i < k%4; i++ {
		r *= z
	}
	return r
}

func expi(x float64) complex128 { s, c := math.Sincos(x); return complex(c, s) }

func isIdentity(p string) bool {
	for _, c := range p {
		if c != 'I' && c != 'i' {
			return false
		}
	}
	return true
}

// pauliOp applies Σ c_k P_k (identity terms excluded), gathering
// (P v)[i] = phase·(−1)^{|(i⊕X)∧Z|} v[i⊕X] in parallel over i.
type pauliOp struct {
	masks  []circuit.PauliMasks
	coeffs []complex128
}

func newPauliOp(h circuit.PauliSum, n int) *pauliOp {
	op := &pauliOp{}
	for _, t := range h {
		if isIdentity(t.Pauli) {
			continue
		}
		m, _ := t.Masks(n)
		op.masks = append(op.masks, m)
		op.coeffs = append(op.coeffs, complex(t.Coeff, 0)*m.Phase)
	}
	return op
}

func (op *pauliOp) scale(f float64) {
	for i := range op.coeffs {
		op.coeffs[i] *= complex(f, 0)
	}
}

func (op *pauliOp) apply(dst, src []complex128) {
	parallel(len(dst), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			var s complex128
			for k, m := range op.masks {
				j := uint64(i) ^ m.X
				v := op.coeffs[k] * src[j]
				if bits.OnesCount64(j&m.Z)&1 == 1 {
					v = -v
				}
				s += v
			}
			dst[i] = s
		}
	})
}

func parallel(n int, fn func(lo, hi int)) {
	w := runtime.GOMAXPROCS(0)
	if n < 1<<12 || w == 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + w - 1) / w
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() { defer wg.Done(); fn(lo, hi) }()
	}
	wg.Wait()
}

// ReducedDensityMatrix returns ρ = Tr_env |ψ⟩⟨ψ| over the kept qubits,
// d×d row-major with d = 2^len(keep). Index bit j of ρ is the j-th smallest
// kept qubit (the convention of qutip_evolve.py's "keep").
func ReducedDensityMatrix(psi []complex128, n int, keep []int) []complex128 {
	ks := append([]int(nil), keep...)
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && ks[j] < ks[j-1]; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
	var kmask uint64
	for _, k := range ks {
		kmask |= 1 << uint(k)
	}
	d := 1 << uint(len(ks))
	rho := make([]complex128, d*d)
	spread := func(o int) uint64 {
		var i uint64
		for j, k := range ks {
			i |= uint64(o>>uint(j)&1) << uint(k)
		}
		return i
	}
	for env := uint64(0); env < uint64(len(psi)); env++ {
		if env&kmask != 0 {
			continue
		}
		for a := 0; a < d; a++ {
			va := psi[env|spread(a)]
			if va == 0 {
				continue
			}
			for b := 0; b < d; b++ {
				vb := psi[env|spread(b)]
				rho[a*d+b] += va * complex(real(vb), -imag(vb))
			}
		}
	}
	return rho
}
