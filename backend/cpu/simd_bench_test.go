package cpu

import (
	"fmt"
	"math"
	"math/cmplx"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/circuit"
)

// benchQubits is the size of the state in the gate benchmarks: 2^24
// amplitudes (256 MiB in complex128, 128 MiB in complex64), far larger than
// any cache, so the figures are memory bandwidth.
const benchQubits = 24

// rot returns a dense unitary 2×2 matrix with every entry complex and non-zero.
func rot(theta, phi, lam float64) []complex128 {
	c, s := math.Cos(theta/2), math.Sin(theta/2)
	return []complex128{
		complex(c, 0), -cmplx.Exp(complex(0, lam)) * complex(s, 0),
		cmplx.Exp(complex(0, phi)) * complex(s, 0), cmplx.Exp(complex(0, phi+lam)) * complex(c, 0),
	}
}

// kron returns the Kronecker product a⊗b of square matrices.
func kron(a, b []complex128) []complex128 {
	na, nb := isqrt(len(a)), isqrt(len(b))
	n := na * nb
	out := make([]complex128, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			out[i*n+j] = a[(i/nb)*na+j/nb] * b[(i%nb)*nb+j%nb]
		}
	}
	return out
}

func isqrt(n int) int {
	r := 0
	for r*r < n {
		r++
	}
	return r
}

// kernelModes lists the kernels a benchmark compares: the pure-Go loops
// always, the AVX2 assembly ones ("asm", without the AVX-512 dense
// kernels) and the AVX-512 ones where this build and CPU have them.
func kernelModes() []string {
	switch {
	case hasAVX512:
		return []string{"go", "asm", "avx512"}
	case hasAVX2FMA:
		return []string{"go", "asm"}
	}
	return []string{"go"}
}

// withKernels runs f with the assembly kernels switched on or off.
func withKernels(mode string, f func()) {
	old, old512 := useAVX2, useAVX512
	useAVX2, useAVX512 = mode != "go", mode == "avx512"
	defer func() { useAVX2, useAVX512 = old, old512 }()
	f()
}

func applyGate(st backend.State, g *circuit.Gate) error {
	return st.(interface{ Apply(*circuit.Gate) error }).Apply(g)
}

// applyDenseOnly applies g (no controls) through applyDense whatever its
// size, bypassing the special cases of Apply.
func applyDenseOnly(st backend.State, g *circuit.Gate) error {
	switch st := st.(type) {
	case *State[complex128]:
		denseOnly(st, g)
	case *State[complex64]:
		denseOnly(st, g)
	}
	return nil
}

func denseOnly[T amp](s *State[T], g *circuit.Gate) {
	m := convert[T](g.Matrix)
	sh := newShape(s.n, g.Targets, 0, 0)
	parallelFor(s.b.workers(), sh.groups, 1, func(lo, hi int) { applyDense(s.amps, &sh, m, lo, hi) })
}

func benchGate(b *testing.B, p backend.Precision, g *circuit.Gate, apply func(backend.State, *circuit.Gate) error) {
	be := New(Options{})
	st, err := be.NewState(benchQubits, p)
	if err != nil {
		b.Skip(err)
	}
	defer st.Free()
	// Spread the amplitude over the whole vector so no page stays zero.
	h := &circuit.Gate{Matrix: rot(math.Pi/2, 0, 0)}
	for q := 0; q < benchQubits; q++ {
		h.Targets = []int{q}
		if err := st.Apply(h); err != nil {
			b.Fatal(err)
		}
	}
	elem := int64(16)
	if p == backend.Complex64 {
		elem = 8
	}
	bytes := 2 * elem << benchQubits // read and write every amplitude once
	b.SetBytes(bytes)
	b.ResetTimer()
	for range b.N {
		if err := apply(st, g); err != nil {
			b.Fatal(err)
		}
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(bytes)/sec/1e9, "GB/s")
	b.ReportMetric(sec*1e3, "ms/gate")
}

// BenchmarkApply1 applies one dense 1-qubit gate to a 24-qubit state.
func BenchmarkApply1(b *testing.B) {
	for _, p := range []backend.Precision{backend.Complex128, backend.Complex64} {
		for _, q := range []int{0, 1, 2, 5, 12, 23} {
			for _, mode := range kernelModes() {
				g := &circuit.Gate{Targets: []int{q}, Matrix: rot(0.7, 0.3, 1.1)}
				b.Run(fmt.Sprintf("%v/q=%d/%s", p, q, mode), func(b *testing.B) {
					withKernels(mode, func() { benchGate(b, p, g, applyGate) })
				})
			}
		}
	}
}

// BenchmarkApplyDense applies one dense k-qubit gate (as a fused block) to a
// 24-qubit state through applyDense (go: its pure-Go loop, asm: the
// vectorised kernels), and for k = 2 and blocks on qubits 0 or 1 through
// Apply as well.
func BenchmarkApplyDense(b *testing.B) {
	targets := map[int][][]int{
		2: {{0, 1}, {3, 9}, {12, 20}},
		3: {{0, 1, 2}, {0, 9, 17}, {3, 9, 17}},
		4: {{4, 5, 6, 7}, {3, 9, 14, 21}},
		5: {{3, 9, 14, 17, 21}},
		6: {{2, 3, 9, 14, 17, 21}},
	}
	for _, p := range []backend.Precision{backend.Complex128, backend.Complex64} {
		for k := 2; k <= 6; k++ {
			for _, ts := range targets[k] {
				m := rot(0.7, 0.3, 1.1)
				for i := 1; i < k; i++ {
					m = kron(m, rot(0.3+float64(i), 0.2*float64(i), 0.5))
				}
				g := &circuit.Gate{Targets: ts, Matrix: m}
				for _, mode := range kernelModes() {
					b.Run(fmt.Sprintf("%v/k=%d/t=%v/%s", p, k, ts, mode), func(b *testing.B) {
						withKernels(mode, func() { benchGate(b, p, g, applyDenseOnly) })
					})
				}
				if k == 2 || ts[0] < 2 { // Apply's own paths: applyDense2; complex64's lane kernel on qubits 0 and 1
					b.Run(fmt.Sprintf("%v/k=%d/t=%v/Apply", p, k, ts), func(b *testing.B) {
						benchGate(b, p, g, applyGate)
					})
				}
			}
		}
	}
}

// BenchmarkStreamScale is the bandwidth reference of the gate benchmarks:
// an in-place scale a[i] *= s over the same 256 MiB, split across the
// workers like the kernels, in plain Go.
func BenchmarkStreamScale(b *testing.B) {
	a := make([]float64, 1<<25)
	for i := range a {
		a[i] = 1
	}
	w := New(Options{}).workers()
	bytes := int64(2 * 8 * len(a))
	b.SetBytes(bytes)
	b.ResetTimer()
	for range b.N {
		parallelFor(w, len(a), 1<<12, func(lo, hi int) {
			s := a[lo:hi]
			for i := 0; i+3 < len(s); i += 4 {
				s[i] *= 0.999999
				s[i+1] *= 0.999999
				s[i+2] *= 0.999999
				s[i+3] *= 0.999999
			}
		})
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(bytes)/sec/1e9, "GB/s")
	b.ReportMetric(sec*1e3, "ms/gate")
}
