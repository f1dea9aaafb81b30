// Package kuramoto is the CPU phase-synchronisation engine of mec: N
// Kuramoto oscillators
//
//	dφ_i/dt = ω_i + (K/N) Σ_j sin(φ_j − φ_i)          (all-to-all)
//	dφ_i/dt = ω_i + K Σ_j W_ij sin(φ_j − φ_i)          (weighted, sparse W)
//
// integrated with classical RK4 or forward Euler. The all-to-all coupling is
// evaluated in O(N) through the order parameter Z = r e^{iψ} = (1/N) Σ_j e^{iφ_j}:
// (K/N) Σ_j sin(φ_j − φ_i) = K (Im Z cos φ_i − Re Z sin φ_i). Sparse coupling
// uses Σ_j W_ij sin(φ_j − φ_i) = Im(e^{−iφ_i} Σ_j W_ij e^{iφ_j}), i.e. two sparse
// matrix-vector products, W·cos φ and W·sin φ, in O(nnz).
//
// Units: phases in radians, frequencies in radians per time unit, dt in the
// same time unit. Every sum is taken in a fixed (index) order, so results are
// deterministic. It is the reference for GPU backends.
//
// Layer: compute library (a CPU engine, under backend/cpu). It imports no
// other mec package.
package kuramoto

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// CSR is a sparse N×N coupling matrix in compressed-sparse-row form: row i
// holds the weights W_ij of the oscillators j that drive oscillator i.
type CSR struct {
	// N is the number of rows and columns.
	N int
	// RowPtr has N+1 entries; row i is Col/Val[RowPtr[i]:RowPtr[i+1]].
	RowPtr []int
	// Col holds the column (source) indices.
	Col []int
	// Val holds the weights.
	Val []float64
}

// NewCSR builds an n×n CSR matrix from triplets (rows[k], cols[k], vals[k]);
// entries are sorted by (row, column) and duplicates are kept (they add).
func NewCSR(n int, rows, cols []int, vals []float64) (*CSR, error) {
	if n <= 0 {
		return nil, fmt.Errorf("kuramoto: NewCSR: n must be > 0, got %d", n)
	}
	if len(rows) != len(cols) || len(rows) != len(vals) {
		return nil, fmt.Errorf("kuramoto: NewCSR: %d rows, %d cols, %d vals", len(rows), len(cols), len(vals))
	}
	order := make([]int, len(rows))
	for k := range order {
		order[k] = k
		if rows[k] < 0 || rows[k] >= n || cols[k] < 0 || cols[k] >= n {
			return nil, fmt.Errorf("kuramoto: NewCSR: entry %d (%d, %d) out of range [0, %d)", k, rows[k], cols[k], n)
		}
		if math.IsNaN(vals[k]) || math.IsInf(vals[k], 0) {
			return nil, fmt.Errorf("kuramoto: NewCSR: entry %d has weight %v", k, vals[k])
		}
	}
	sort.SliceStable(order, func(a, b int) bool {
		ka, kb := order[a], order[b]
		if rows[ka] != rows[kb] {
			return rows[ka] < rows[kb]
		}
		return cols[ka] < cols[kb]
	})
	m := &CSR{N: n, RowPtr: make([]int, n+1), Col: make([]int, len(order)), Val: make([]float64, len(order))}
	for k, o := range order {
		m.RowPtr[rows[o]+1]++
		m.Col[k] = cols[o]
		m.Val[k] = vals[o]
	}
	for i := 0; i < n; i++ {
		m.RowPtr[i+1] += m.RowPtr[i]
	}
	return m, nil
}

func (m *CSR) validate(n int) error {
	if m.N != n {
		return fmt.Errorf("coupling is %d×%d for %d oscillators", m.N, m.N, n)
	}
	if len(m.RowPtr) != n+1 || m.RowPtr[0] != 0 || m.RowPtr[n] != len(m.Col) || len(m.Col) != len(m.Val) {
		return errors.New("coupling: malformed CSR (row pointers, columns and values disagree)")
	}
	for i := 0; i < n; i++ {
		if m.RowPtr[i+1] < m.RowPtr[i] {
			return fmt.Errorf("coupling: row pointers decrease at row %d", i)
		}
	}
	for k, j := range m.Col {
		if j < 0 || j >= n {
			return fmt.Errorf("coupling: column %d of entry %d out of range", j, k)
		}
	}
	return nil
}

// Network describes the oscillators.
type Network struct {
	// Omega are the natural frequencies ω_i (rad per time unit).
	Omega []float64
	// K is the coupling strength.
	K float64
	// Coupling is nil for all-to-all coupling with weight 1/N, or a sparse
	// weighted matrix W (then the coupling is K Σ_j W_ij sin(φ_j − φ_i)).
	Coupling *CSR
}

// Method selects the integrator.
type Method int

const (
	// RK4 is the classical fourth-order Runge–Kutta method.
	RK4 Method = iota
	// Euler is forward Euler.
	Euler
)

// String returns "rk4" or "euler".
func (m Method) String() string {
	switch m {
	case RK4:
		return "rk4"
	case Euler:
		return "euler"
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

// Sim integrates a Network. It is not safe for concurrent use.
type Sim struct {
	net    Network
	method Method
	phi    []float64
	t      float64
	// scratch: stage derivatives, trial phases, cos/sin and coupling sums
	k1, k2, k3, k4, tmp []float64
	cs, sn, wc, ws      []float64
}

// New returns a simulator at t = 0 with the given initial phases (radians;
// nil means all zero, len must equal len(net.Omega) otherwise).
func New(net Network, phase0 []float64, method Method) (*Sim, error) {
	n := len(net.Omega)
	if n == 0 {
		return nil, errors.New("kuramoto: network has no oscillators")
	}
	for i, w := range net.Omega {
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("kuramoto: omega[%d] = %v is not finite", i, w)
		}
	}
	if math.IsNaN(net.K) || math.IsInf(net.K, 0) {
		return nil, fmt.Errorf("kuramoto: K = %v is not finite", net.K)
	}
	if net.Coupling != nil {
		if err := net.Coupling.validate(n); err != nil {
			return nil, fmt.Errorf("kuramoto: %w", err)
		}
	}
	if method != RK4 && method != Euler {
		return nil, fmt.Errorf("kuramoto: unknown method %d", int(method))
	}
	if phase0 != nil && len(phase0) != n {
		return nil, fmt.Errorf("kuramoto: %d initial phases for %d oscillators", len(phase0), n)
	}
	s := &Sim{net: net, method: method, phi: make([]float64, n)}
	for i := range s.phi {
		if phase0 != nil {
			if math.IsNaN(phase0[i]) || math.IsInf(phase0[i], 0) {
				return nil, fmt.Errorf("kuramoto: phase0[%d] = %v is not finite", i, phase0[i])
			}
			s.phi[i] = phase0[i]
		}
	}
	mk := func() []float64 { return make([]float64, n) }
	s.k1, s.k2, s.tmp, s.cs, s.sn = mk(), mk(), mk(), mk(), mk()
	if method == RK4 {
		s.k3, s.k4 = mk(), mk()
	}
	if net.Coupling != nil {
		s.wc, s.ws = mk(), mk()
	}
	return s, nil
}

// RandomPhases returns n phases uniform in [0, 2π) from a PCG seeded by seed.
func RandomPhases(n int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 0x6b75726d))
	p := make([]float64, n)
	for i := range p {
		p[i] = 2 * math.Pi * r.Float64()
	}
	return p
}

// LorentzianQuantiles returns n frequencies ω_i = ω0 + γ tan(π(i+½)/n − π/2),
// the deterministic quantiles of a Lorentzian (Cauchy) distribution of
// centre ω0 and half-width γ, for which K_c = 2γ.
func LorentzianQuantiles(n int, omega0, gamma float64) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = omega0 + gamma*math.Tan(math.Pi*(float64(i)+0.5)/float64(n)-math.Pi/2)
	}
	return w
}

// N returns the number of oscillators.
func (s *Sim) N() int { return len(s.phi) }

// Time returns the integrated time.
func (s *Sim) Time() float64 { return s.t }

// Phases returns the phases (radians, wrapped into [−π, π] after each step).
// The slice is the live state: it may be modified between steps.
func (s *Sim) Phases() []float64 { return s.phi }

// Order returns the order parameter r e^{iψ} = (1/N) Σ_j e^{iφ_j} of the
// current phases as (r, ψ), ψ in (−π, π].
func (s *Sim) Order() (r, psi float64) {
	re, im := meanPhasor(s.phi)
	return math.Hypot(re, im), math.Atan2(im, re)
}

func meanPhasor(phi []float64) (re, im float64) {
	for _, p := range phi {
		sn, cs := math.Sincos(p)
		re += cs
		im += sn
	}
	n := float64(len(phi))
	return re / n, im / n
}

// Derivative writes dφ/dt at the current phases into dst (len N).
func (s *Sim) Derivative(dst []float64) {
	s.deriv(s.phi, dst[:len(s.phi)])
}

// deriv writes dφ/dt at phases phi into d.
func (s *Sim) deriv(phi, d []float64) {
	cs, sn := s.cs[:len(phi)], s.sn[:len(phi)]
	d = d[:len(phi)]
	omega := s.net.Omega[:len(phi)]
	for i, p := range phi {
		sn[i], cs[i] = math.Sincos(p)
	}
	k := s.net.K
	if s.net.Coupling == nil {
		re, im := 0.0, 0.0
		for i := range cs {
			re += cs[i]
			im += sn[i]
		}
		n := float64(len(phi))
		re, im = k*re/n, k*im/n
		for i := range d {
			d[i] = omega[i] + (im*cs[i] - re*sn[i])
		}
		return
	}
	w := s.net.Coupling
	wc, ws := s.wc[:len(phi)], s.ws[:len(phi)]
	for i := range wc {
		a, b := 0.0, 0.0
		for q := w.RowPtr[i]; q < w.RowPtr[i+1]; q++ {
			j, v := w.Col[q], w.Val[q]
			a += v * cs[j]
			b += v * sn[j]
		}
		wc[i], ws[i] = a, b
	}
	for i := range d {
		d[i] = omega[i] + k*(ws[i]*cs[i]-wc[i]*sn[i])
	}
}

// Step advances the phases by dt and returns the order parameter (r, ψ) of
// the new phases.
func (s *Sim) Step(dt float64) (r, psi float64) {
	phi := s.phi
	switch s.method {
	case Euler:
		s.deriv(phi, s.k1)
		for i := range phi {
			phi[i] += dt * s.k1[i]
		}
	default:
		tmp := s.tmp[:len(phi)]
		s.deriv(phi, s.k1)
		for i := range tmp {
			tmp[i] = phi[i] + 0.5*dt*s.k1[i]
		}
		s.deriv(tmp, s.k2)
		for i := range tmp {
			tmp[i] = phi[i] + 0.5*dt*s.k2[i]
		}
		s.deriv(tmp, s.k3)
		for i := range tmp {
			tmp[i] = phi[i] + dt*s.k3[i]
		}
		s.deriv(tmp, s.k4)
		for i := range phi {
			phi[i] += dt / 6 * (s.k1[i] + 2*s.k2[i] + 2*s.k3[i] + s.k4[i])
		}
	}
	for i, p := range phi {
		if p > math.Pi || p < -math.Pi {
			phi[i] = math.Remainder(p, 2*math.Pi)
		}
	}
	s.t += dt
	return s.Order()
}
