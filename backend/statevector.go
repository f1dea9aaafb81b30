package backend

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/prismai/mec/circuit"
)

// Precision is the floating-point format of a state's amplitudes.
type Precision uint8

// Precisions.
const (
	Complex128 Precision = iota // two float64 per amplitude
	Complex64                   // two float32 per amplitude
)

// String returns "c128" or "c64".
func (p Precision) String() string {
	switch p {
	case Complex128:
		return "c128"
	case Complex64:
		return "c64"
	}
	return fmt.Sprintf("Precision(%d)", uint8(p))
}

// ParsePrecision accepts c128/complex128 and c64/complex64.
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "c128", "complex128", "":
		return Complex128, nil
	case "c64", "complex64":
		return Complex64, nil
	}
	return 0, fmt.Errorf("precision %q: want c64 or c128", s)
}

// AmpBytes is the size of one amplitude.
func (p Precision) AmpBytes() int64 {
	if p == Complex64 {
		return 8
	}
	return 16
}

// StateBytes is the memory a state of n qubits needs.
func StateBytes(n int, p Precision) int64 { return p.AmpBytes() << uint(n) }

// StateVector is the capability of running quantum state-vector evolution.
type StateVector interface {
	Backend
	// NewState allocates |0…0⟩ on n qubits on the device. It refuses with a
	// clear error, before allocating, a state that does not fit.
	NewState(n int, p Precision) (State, error)
}

// State is a state vector living on its backend. Operations run where the
// state is; only Read copies amplitudes to the host.
type State interface {
	Qubits() int
	Precision() Precision
	// Load replaces the amplitudes with host values (2^n of them).
	Load(amps []complex128) error
	// Read copies the amplitudes into dst (2^n of them).
	Read(dst []complex128) error
	// Apply applies a lowered gate. Diagonal gates with no targets scale
	// the (controlled part of the) state, which also serves to renormalise.
	Apply(g *circuit.Gate) error
	// Free releases the device memory; the state is unusable afterwards.
	Free() error
}

// Normer computes Σ|a_i|² on the device.
type Normer interface {
	Norm() (float64, error)
}

// ProbabilityReader computes the marginal distribution of the given qubits
// (2^k entries; qubits[j] is bit j of the outcome) on the device.
type ProbabilityReader interface {
	Probabilities(qubits []int, dst []float64) error
}

// PauliExpecter computes ⟨ψ|P|ψ⟩ for a Pauli string on the device.
type PauliExpecter interface {
	ExpectPauli(m circuit.PauliMasks) (float64, error)
}

// InnerProducter computes ⟨s|other⟩ for two states of the same backend.
type InnerProducter interface {
	Inner(other State) (complex128, bool, error)
}

// LowQubitHinter is implemented by backends whose dense gates on several
// targets run fastest when the lowest qubits are neither targets nor
// controls (vector units that span the lowest qubits' amplitudes).
// Circuit runners may relabel qubits with swaps to honour it (see
// circuit.AvoidLow); it is a performance hint, never needed for correctness.
type LowQubitHinter interface {
	FreeLowQubits(p Precision) int
}

// BatchApplier is implemented by states that apply a sequence of gates in
// fewer passes over memory than one per gate (cache blocking): runs of
// gates whose qubits all lie below ChunkQubits are applied chunk by chunk
// of 2^ChunkQubits amplitudes, each chunk going through the whole run
// while it sits in cache. ApplyBatch applies gs in order and returns the
// passes it made over the state; on error it has applied none of gs
// (gates are checked first). Circuit runners may reorder commuting
// gates to lengthen those runs (see circuit.GroupBelow) and relabel qubits
// so that more gates lie below ChunkQubits (circuit.RelabelBelow).
type BatchApplier interface {
	ChunkQubits() int
	ApplyBatch(gs []circuit.Gate) (passes int, err error)
}

// Syncer is implemented by states whose operations run asynchronously
// (device queues): Sync returns once every operation issued so far has
// completed, with the first error any of them hit.
type Syncer interface {
	Sync() error
}

// Sync waits for the operations queued on x — a State, an FFT, a Network
// or Oscillators — (a no-op for synchronous backends). Benchmarks call it
// before stopping the clock.
func Sync(x any) error {
	if y, ok := x.(Syncer); ok {
		return y.Sync()
	}
	return nil
}

// Cloner copies a state on the device.
type Cloner interface {
	Clone() (State, error)
}

// Sampler draws shots from |ψ|² on the device for uniform variates u (each
// in [0,1)), writing the outcome index for each u into out. Implementations
// must give the same outcome for the same u whatever their parallelism.
type Sampler interface {
	SampleUniform(u []float64, out []uint64) error
}

func readAll(s State) ([]complex128, error) {
	n := s.Qubits()
	if n > 34 {
		return nil, fmt.Errorf("backend: host readout of %d qubits refused (%d GiB)", n, StateBytes(n, Complex128)>>30)
	}
	buf := make([]complex128, 1<<uint(n))
	if err := s.Read(buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// Clone returns an independent copy of s, a state of sv: on the device
// when s is a Cloner, otherwise through the host (Read into a new state's
// Load).
func Clone(sv StateVector, s State) (State, error) {
	if c, ok := s.(Cloner); ok {
		return c.Clone()
	}
	buf, err := readAll(s)
	if err != nil {
		return nil, fmt.Errorf("backend: clone: %w", err)
	}
	t, err := sv.NewState(s.Qubits(), s.Precision())
	if err != nil {
		return nil, fmt.Errorf("backend: clone: %w", err)
	}
	if err := t.Load(buf); err != nil {
		t.Free()
		return nil, fmt.Errorf("backend: clone: %w", err)
	}
	return t, nil
}

// Norm returns Σ|a_i|².
func Norm(s State) (float64, error) {
	if n, ok := s.(Normer); ok {
		return n.Norm()
	}
	a, err := readAll(s)
	if err != nil {
		return 0, err
	}
	var sum float64
	for _, v := range a {
		sum += real(v)*real(v) + imag(v)*imag(v)
	}
	return sum, nil
}

// Probabilities returns the marginal distribution of qubits (qubits[j] is
// bit j of the outcome index).
func Probabilities(s State, qubits []int) ([]float64, error) {
	if err := checkQubits(s.Qubits(), qubits); err != nil {
		return nil, err
	}
	dst := make([]float64, 1<<uint(len(qubits)))
	if p, ok := s.(ProbabilityReader); ok {
		return dst, p.Probabilities(qubits, dst)
	}
	a, err := readAll(s)
	if err != nil {
		return nil, err
	}
	MarginalProbabilities(a, qubits, dst)
	return dst, nil
}

// MarginalProbabilities is the host reference for Probabilities.
func MarginalProbabilities[T complex64 | complex128](a []T, qubits []int, dst []float64) {
	clear(dst)
	for i, v := range a {
		var o int
		for j, q := range qubits {
			o |= int(uint64(i)>>uint(q)&1) << uint(j)
		}
		c := complex128(v)
		dst[o] += real(c)*real(c) + imag(c)*imag(c)
	}
}

// ExpectPauli returns ⟨ψ|P|ψ⟩ (real, P Hermitian) of one Pauli string, without the coefficient.
func ExpectPauli(s State, m circuit.PauliMasks) (float64, error) {
	if p, ok := s.(PauliExpecter); ok {
		return p.ExpectPauli(m)
	}
	a, err := readAll(s)
	if err != nil {
		return 0, err
	}
	return ExpectPauliHost(a, m), nil
}

// ExpectPauliHost is the host reference for ExpectPauli:
// Σ_i conj(a[i⊕X]) · phase · (−1)^{|i∧Z|} · a[i].
func ExpectPauliHost[T complex64 | complex128](a []T, m circuit.PauliMasks) float64 {
	var sum complex128
	for i, v := range a {
		w := complex128(a[uint64(i)^m.X])
		t := complex(real(w), -imag(w)) * complex128(v)
		if bits.OnesCount64(uint64(i)&m.Z)&1 == 1 {
			t = -t
		}
		sum += t
	}
	return real(sum * m.Phase)
}

// Expectation returns ⟨ψ|H|ψ⟩ for a Pauli sum H.
func Expectation(s State, h circuit.PauliSum) (float64, error) {
	if err := h.Validate(s.Qubits()); err != nil {
		return 0, err
	}
	var e float64
	for _, t := range h {
		m, _ := t.Masks(s.Qubits())
		v, err := ExpectPauli(s, m)
		if err != nil {
			return 0, err
		}
		e += t.Coeff * v
	}
	return e, nil
}

// Inner returns ⟨a|b⟩. The states must have the same number of qubits.
func Inner(a, b State) (complex128, error) {
	if a.Qubits() != b.Qubits() {
		return 0, fmt.Errorf("backend: inner product of %d- and %d-qubit states", a.Qubits(), b.Qubits())
	}
	if ip, ok := a.(InnerProducter); ok {
		if v, handled, err := ip.Inner(b); handled || err != nil {
			return v, err
		}
	}
	x, err := readAll(a)
	if err != nil {
		return 0, err
	}
	y, err := readAll(b)
	if err != nil {
		return 0, err
	}
	var sum complex128
	for i := range x {
		sum += complex(real(x[i]), -imag(x[i])) * y[i]
	}
	return sum, nil
}

// Fidelity returns |⟨a|b⟩|² / (⟨a|a⟩⟨b|b⟩).
func Fidelity(a, b State) (float64, error) {
	ip, err := Inner(a, b)
	if err != nil {
		return 0, err
	}
	na, err := Norm(a)
	if err != nil {
		return 0, err
	}
	nb, err := Norm(b)
	if err != nil {
		return 0, err
	}
	if na == 0 || nb == 0 {
		return 0, fmt.Errorf("backend: fidelity of a zero state")
	}
	abs2 := real(ip)*real(ip) + imag(ip)*imag(ip)
	return abs2 / (na * nb), nil
}

// SampleUniform maps uniform variates to outcome indices by inverse CDF
// over |ψ|² in index order.
func SampleUniform(s State, u []float64, out []uint64) error {
	if len(u) != len(out) {
		return fmt.Errorf("backend: %d variates but %d outputs", len(u), len(out))
	}
	if sm, ok := s.(Sampler); ok {
		return sm.SampleUniform(u, out)
	}
	a, err := readAll(s)
	if err != nil {
		return err
	}
	return SampleHost(a, u, out)
}

// SampleHost is the host reference for SampleUniform: sequential inverse
// CDF in index order, u scaled by the total probability.
func SampleHost[T complex64 | complex128](a []T, u []float64, out []uint64) error {
	var total float64
	for _, v := range a {
		c := complex128(v)
		total += real(c)*real(c) + imag(c)*imag(c)
	}
	if !(total > 0) || math.IsInf(total, 0) {
		return fmt.Errorf("backend: cannot sample a state of norm² %v", total)
	}
	order := sortedOrder(u)
	var cum float64
	i := 0
	for _, k := range order {
		target := u[k] * total
		for i < len(a)-1 {
			v := complex128(a[i])
			p := real(v)*real(v) + imag(v)*imag(v)
			if cum+p > target {
				break
			}
			cum += p
			i++
		}
		out[k] = uint64(i)
	}
	return nil
}

func checkQubits(n int, qubits []int) error {
	if len(qubits) > 30 {
		return fmt.Errorf("backend: marginal over %d qubits: at most 30", len(qubits))
	}
	seen := 0
	for _, q := range qubits {
		if q < 0 || q >= n {
			return fmt.Errorf("backend: qubit %d out of range [0,%d)", q, n)
		}
		if seen>>uint(q)&1 == 1 {
			return fmt.Errorf("backend: qubit %d listed twice", q)
		}
		seen |= 1 << uint(q)
	}
	return nil
}

// CheckAmplitudes returns an error if any amplitude is NaN or infinite.
func CheckAmplitudes(a []complex128) error {
	for i, v := range a {
		if math.IsNaN(real(v)) || math.IsNaN(imag(v)) || math.IsInf(real(v), 0) || math.IsInf(imag(v), 0) {
			return fmt.Errorf("backend: amplitude %d is %v", i, v)
		}
	}
	return nil
}

// CheckGate validates a lowered gate (for every backend's Apply) against an n-qubit state: qubits in
// range and distinct, matrix of the right size and finite.
func CheckGate(n int, g *circuit.Gate) error {
	k := len(g.Targets)
	if k > circuit.MaxDenseQubits {
		return fmt.Errorf("gate on %d targets: at most %d", k, circuit.MaxDenseQubits)
	}
	var seen uint64
	for _, q := range append(append(append([]int(nil), g.Targets...), g.Controls...), g.NegControls...) {
		if q < 0 || q >= n {
			return fmt.Errorf("gate qubit %d out of range [0,%d)", q, n)
		}
		if seen>>uint(q)&1 == 1 {
			return fmt.Errorf("gate uses qubit %d twice", q)
		}
		seen |= 1 << uint(q)
	}
	want := 1 << uint(2*k)
	if g.Diagonal {
		want = 1 << uint(k)
	}
	if len(g.Matrix) != want {
		return fmt.Errorf("gate on %d targets needs %d matrix entries, has %d", k, want, len(g.Matrix))
	}
	for _, v := range g.Matrix {
		if math.IsNaN(real(v)) || math.IsNaN(imag(v)) || math.IsInf(real(v), 0) || math.IsInf(imag(v), 0) {
			return fmt.Errorf("gate matrix has a non-finite entry %v", v)
		}
	}
	return nil
}
