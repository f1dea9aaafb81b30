package cpu

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"runtime"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/circuit"
)

// State is a CPU state vector of element type T (complex64 or complex128).
type State[T amp] struct {
	b    *Backend
	n    int
	amps []T
}

func newState[T amp](b *Backend, n int) *State[T] {
	s := &State[T]{b: b, n: n, amps: make([]T, 1<<uint(n))}
	s.amps[0] = 1
	return s
}

// Qubits returns the number of qubits.
func (s *State[T]) Qubits() int { return s.n }

// Precision returns c64 or c128.
func (s *State[T]) Precision() backend.Precision {
	var z T
	if _, ok := any(z).(complex64); ok {
		return backend.Complex64
	}
	return backend.Complex128
}

// Amplitudes exposes the state's memory (for the conformance suite and
// benchmarks; other code should use Read).
func (s *State[T]) Amplitudes() []T { return s.amps }

func (s *State[T]) alive() error {
	if s.amps == nil {
		return fmt.Errorf("cpu: state used after Free")
	}
	return nil
}

// Load replaces the amplitudes.
func (s *State[T]) Load(a []complex128) error {
	if err := s.alive(); err != nil {
		return err
	}
	if len(a) != len(s.amps) {
		return fmt.Errorf("cpu: Load of %d amplitudes into a %d-qubit state (%d)", len(a), s.n, len(s.amps))
	}
	if err := backend.CheckAmplitudes(a); err != nil {
		return fmt.Errorf("cpu: Load: %w", err)
	}
	parallelFor(s.b.workers(), len(a), 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			s.amps[i] = T(a[i])
		}
	})
	return nil
}

// Read copies the amplitudes into dst.
func (s *State[T]) Read(dst []complex128) error {
	if err := s.alive(); err != nil {
		return err
	}
	if len(dst) != len(s.amps) {
		return fmt.Errorf("cpu: Read of a %d-qubit state into %d amplitudes", s.n, len(dst))
	}
	parallelFor(s.b.workers(), len(dst), 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			dst[i] = complex128(s.amps[i])
		}
	})
	return nil
}

// Free drops the amplitudes.
func (s *State[T]) Free() error { s.amps = nil; return nil }

// Clone copies the state.
func (s *State[T]) Clone() (backend.State, error) {
	if err := s.alive(); err != nil {
		return nil, err
	}
	c := &State[T]{b: s.b, n: s.n, amps: make([]T, len(s.amps))}
	parallelFor(s.b.workers(), len(s.amps), 1, func(lo, hi int) { copy(c.amps[lo:hi], s.amps[lo:hi]) })
	return c, nil
}

// Apply applies a lowered gate.
func (s *State[T]) Apply(g *circuit.Gate) error {
	if err := s.alive(); err != nil {
		return err
	}
	if err := backend.CheckGate(s.n, g); err != nil {
		return err
	}
	planGate[T](s.n, g)(s.amps, s.b.workers())
	return nil
}

// planGate prepares g (checked) for an n-qubit vector: the returned
// function applies it to a (2^n amplitudes) on w workers. Shapes and
// constants are computed once, so a plan can be applied to many vectors
// (the chunks of ApplyBatch).
func planGate[T amp](n int, g *circuit.Gate) func(a []T, w int) {
	mask, val := g.CtrlMasks()
	if g.Diagonal {
		sh := newShape(n, g.Targets, mask, val)
		dg := newDiagGate(&sh, convert[T](g.Matrix))
		return func(a []T, w int) {
			parallelFor(w, sh.groups, 1, func(lo, hi int) { applyDiagGroups(a, &sh, dg, lo, hi) })
		}
	}
	if circuit.IsSwap(g) {
		sh := newShape(n, g.Targets, 0, 0)
		o1, o2 := sh.offsets[1], sh.offsets[2]
		return func(a []T, w int) {
			parallelFor(w, sh.groups, 1, func(lo, hi int) { applySwap(a, &sh, o1, o2, lo, hi) })
		}
	}
	m := convert[T](g.Matrix)
	if len(g.Targets) == 1 && mask == 0 {
		var m4 [4]T
		copy(m4[:], m)
		q := uint(g.Targets[0])
		return func(a []T, w int) {
			parallelFor(w, len(a)/2, 1<<min(q, 20), func(lo, hi int) { apply1(a, q, &m4, lo, hi) })
		}
	}
	if len(g.Targets) == 1 && n > lowBlockBits && (g.Targets[0] < lowBlockBits || mask&lowBlockMask != 0) {
		// A control or the target on one of the lowest qubits: runs of
		// consecutive groups are too short for the run kernel.
		var m4 [4]T
		copy(m4[:], m)
		bs, pairs := newBlockShape(n, g.Targets[0], mask, val)
		far := uint64(0)
		if g.Targets[0] >= lowBlockBits {
			far = 1 << uint(g.Targets[0])
		}
		return func(a []T, w int) {
			parallelFor(w, bs.groups, 1, func(lo, hi int) { runtime.KeepAlive(applyPairs(a, &bs, pairs, far, &m4, lo, hi)) })
		}
	}
	if len(g.Targets) > 1 {
		if col, ok := circuit.MonomialColumns(g.Matrix, 1<<len(g.Targets)); ok {
			ms := newMonomialShape(n, g.Targets, mask, val, m, col)
			return func(a []T, w int) {
				parallelForItems(w, ms.outer.groups, len(ms.src), func(lo, hi int) {
					applyMonomial(a, &ms, make([]T, len(ms.src)), lo, hi)
				})
			}
		}
	}
	if useAVX2 && len(g.Targets) > 1 {
		// On the qubits a vector spans: the lane kernel, instead of
		// swapping them away.
		laneBits, vec := 1, 32
		if useAVX512 {
			laneBits, vec = 2, 64 // the AVX-512 lane kernels: qubits 0–1 in complex128
		}
		var z T
		if _, ok := any(z).(complex64); ok {
			laneBits++ // qubits 0–1, or 0–2 in AVX-512
		}
		if p, ok := newLowPlan(n, g.Targets, mask, val, g.Matrix, laneBits, vec); ok {
			return func(a []T, w int) {
				parallelFor(w, p.sh.groups, 1, func(lo, hi int) { applyDenseLow(a, &p, lo, hi) })
			}
		}
	}
	sh := newShape(n, g.Targets, mask, val)
	sh.consts = denseConsts(m, len(sh.offsets)) // nil for one target
	if len(g.Targets) == 1 {
		var m4 [4]T
		copy(m4[:], m)
		return func(a []T, w int) {
			parallelFor(w, sh.groups, 1, func(lo, hi int) { applyDense1(a, &sh, &m4, lo, hi) })
		}
	}
	if len(g.Targets) == 2 {
		return func(a []T, w int) {
			parallelFor(w, sh.groups, 1, func(lo, hi int) { applyDense2(a, &sh, m, lo, hi) })
		}
	}
	return func(a []T, w int) {
		parallelFor(w, sh.groups, 1, func(lo, hi int) { applyDense(a, &sh, m, lo, hi) })
	}
}

// defaultChunkBytes is the size of the chunks ApplyBatch applies runs of
// gates to when Options.ChunkBytes is 0 and the system does not say how
// large a core's L2 cache is (sysinfo.L2Bytes; New takes that size, kept
// between minChunkBytes and maxChunkBytes).
const (
	defaultChunkBytes = 1 << 20
	minChunkBytes     = 256 << 10
	maxChunkBytes     = 8 << 20
)

// chunkBytes is the chunk size for Options.ChunkBytes = 0 given a core's L2
// cache of l2 bytes (0: unknown).
func chunkBytes(l2 int) int {
	if l2 <= 0 {
		return defaultChunkBytes
	}
	return min(max(l2, minChunkBytes), maxChunkBytes)
}

// ApplyBatch implements backend.BatchApplier (cache blocking): it applies
// gs in order, each run of two or more consecutive gates whose qubits all
// lie below the chunk qubits (2^c amplitudes of Options.ChunkBytes) chunk by
// chunk: every chunk goes through the whole run while it sits in cache,
// so the run costs one pass over memory. It returns the passes made.
func (s *State[T]) ApplyBatch(gs []circuit.Gate) (int, error) {
	if err := s.alive(); err != nil {
		return 0, err
	}
	for i := range gs {
		if err := backend.CheckGate(s.n, &gs[i]); err != nil {
			return 0, err
		}
	}
	c := s.ChunkQubits()
	w := s.b.workers()
	passes := 0
	for i := 0; i < len(gs); {
		j := i
		for j < len(gs) && c > 0 && s.n > c && gateBelow(&gs[j], c) {
			j++
		}
		if j-i < 2 {
			planGate[T](s.n, &gs[i])(s.amps, w)
			passes++
			i++
			continue
		}
		plans := make([]func([]T, int), j-i)
		for k := range plans {
			plans[k] = planGate[T](c, &gs[i+k])
		}
		split(w, 1<<uint(s.n-c), 1, func(lo, hi int) {
			for ch := lo; ch < hi; ch++ {
				sub := s.amps[ch<<uint(c) : (ch+1)<<uint(c)]
				for _, f := range plans {
					f(sub, 1)
				}
			}
		})
		passes++
		i = j
	}
	return passes, nil
}

// ChunkQubits implements backend.BatchApplier: log2 of the amplitudes in
// Options.ChunkBytes (0 when blocking is off).
func (s *State[T]) ChunkQubits() int {
	cb := s.b.opts.ChunkBytes
	switch {
	case cb < 0:
		return 0
	case cb == 0:
		cb = cmp.Or(s.b.chunk, defaultChunkBytes)
	}
	var z T
	return max(0, bits.Len(uint(cb/ampSize(z)))-1)
}

// gateBelow reports whether every qubit of g lies below c.
func gateBelow(g *circuit.Gate, c int) bool {
	mask, _ := g.CtrlMasks()
	for _, t := range g.Targets {
		mask |= 1 << uint(t)
	}
	return mask>>uint(c) == 0
}

// ampSize is the size of an amplitude in bytes.
func ampSize[T amp](z T) int {
	if _, ok := any(z).(complex64); ok {
		return 8
	}
	return 16
}

func convert[T amp](m []complex128) []T {
	out := make([]T, len(m))
	for i, v := range m {
		out[i] = T(v)
	}
	return out
}

func abs2[T amp](v T) float64 {
	c := complex128(v)
	return real(c)*real(c) + imag(c)*imag(c)
}

// Norm returns Σ|a|² (deterministic block order).
func (s *State[T]) Norm() (float64, error) {
	if err := s.alive(); err != nil {
		return 0, err
	}
	return deterministicSum(s.b.workers(), len(s.amps), func(lo, hi int) float64 {
		var t float64
		for _, v := range s.amps[lo:hi] {
			t += abs2(v)
		}
		return t
	}), nil
}

// Probabilities writes the marginal distribution of qubits into dst.
func (s *State[T]) Probabilities(qubits []int, dst []float64) error {
	if err := s.alive(); err != nil {
		return err
	}
	k := len(qubits)
	if len(dst) != 1<<uint(k) {
		return fmt.Errorf("cpu: Probabilities of %d qubits into %d entries", k, len(dst))
	}
	if k == 1 {
		q := uint(qubits[0])
		one := deterministicSum(s.b.workers(), len(s.amps), func(lo, hi int) float64 {
			var t float64
			for i := lo; i < hi; i++ {
				if uint64(i)>>q&1 == 1 {
					t += abs2(s.amps[i])
				}
			}
			return t
		})
		all, _ := s.Norm()
		dst[0], dst[1] = all-one, one
		return nil
	}
	// Per-block partial histograms, added in block order (deterministic).
	nb := (len(s.amps) + reduceBlock - 1) / reduceBlock
	if k > 10 || nb == 1 {
		backend.MarginalProbabilities(s.amps, qubits, dst)
		return nil
	}
	parts := make([][]float64, nb)
	parallelFor(s.b.workers(), nb, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			h := make([]float64, len(dst))
			for i := b * reduceBlock; i < min((b+1)*reduceBlock, len(s.amps)); i++ {
				var o int
				for j, q := range qubits {
					o |= (i >> uint(q) & 1) << uint(j)
				}
				h[o] += abs2(s.amps[i])
			}
			parts[b] = h
		}
	})
	clear(dst)
	for _, h := range parts {
		for i, v := range h {
			dst[i] += v
		}
	}
	return nil
}

// ExpectPauli returns ⟨ψ|P|ψ⟩ for one Pauli string.
func (s *State[T]) ExpectPauli(m circuit.PauliMasks) (float64, error) {
	if err := s.alive(); err != nil {
		return 0, err
	}
	v := deterministicSum(s.b.workers(), len(s.amps), func(lo, hi int) float64 {
		var re, im float64
		for i := lo; i < hi; i++ {
			a := complex128(s.amps[i])
			w := complex128(s.amps[uint64(i)^m.X])
			t := complex(real(w), -imag(w)) * a
			if bits.OnesCount64(uint64(i)&m.Z)&1 == 1 {
				t = -t
			}
			re += real(t)
			im += imag(t)
		}
		return real(complex(re, im) * m.Phase)
	})
	return v, nil
}

// Inner returns ⟨s|other⟩ when other is a CPU state of the same precision.
func (s *State[T]) Inner(other backend.State) (complex128, bool, error) {
	o, ok := other.(*State[T])
	if !ok {
		return 0, false, nil
	}
	if err := s.alive(); err != nil {
		return 0, true, err
	}
	if err := o.alive(); err != nil {
		return 0, true, err
	}
	re := deterministicSum(s.b.workers(), len(s.amps), func(lo, hi int) float64 {
		var t float64
		for i := lo; i < hi; i++ {
			a, b := complex128(s.amps[i]), complex128(o.amps[i])
			t += real(a)*real(b) + imag(a)*imag(b)
		}
		return t
	})
	im := deterministicSum(s.b.workers(), len(s.amps), func(lo, hi int) float64 {
		var t float64
		for i := lo; i < hi; i++ {
			a, b := complex128(s.amps[i]), complex128(o.amps[i])
			t += real(a)*imag(b) - imag(a)*real(b)
		}
		return t
	})
	return complex(re, im), true, nil
}

// SampleUniform maps each u to the outcome whose cumulative probability
// interval contains u·Σ|a|². Block sums make it parallel and deterministic.
func (s *State[T]) SampleUniform(u []float64, out []uint64) error {
	if err := s.alive(); err != nil {
		return err
	}
	if len(u) != len(out) {
		return fmt.Errorf("cpu: %d variates but %d outputs", len(u), len(out))
	}
	sums := blockSums(s.b.workers(), len(s.amps), func(lo, hi int) float64 {
		var t float64
		for _, v := range s.amps[lo:hi] {
			t += abs2(v)
		}
		return t
	})
	var total float64
	for _, v := range sums {
		total += v
	}
	if !(total > 0) || math.IsInf(total, 0) {
		return fmt.Errorf("cpu: cannot sample a state of norm² %v", total)
	}
	order := sortedIdx(u)
	blk, cum := 0, 0.0
	for _, k := range order {
		if u[k] < 0 || u[k] >= 1 || math.IsNaN(u[k]) {
			return fmt.Errorf("cpu: variate %v outside [0,1)", u[k])
		}
		target := u[k] * total
		for blk < len(sums)-1 && cum+sums[blk] <= target {
			cum += sums[blk]
			blk++
		}
		lo, hi := blk*reduceBlock, min((blk+1)*reduceBlock, len(s.amps))
		c, i := cum, lo
		for ; i < hi-1; i++ {
			p := abs2(s.amps[i])
			if c+p > target {
				break
			}
			c += p
		}
		out[k] = uint64(i)
	}
	return nil
}
