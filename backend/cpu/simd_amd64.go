//go:build amd64 && !purego

package cpu

import (
	"fmt"

	"golang.org/x/sys/cpu"
)

// hasAVX2FMA reports whether the CPU can run the assembly kernels.
var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// useAVX2 selects the assembly kernels (tests and benchmarks switch it off
// to compare with the pure-Go loops).
var useAVX2 = hasAVX2FMA

// The assembly kernels take the matrix as a table of vector constants built
// here once per call, so the loops only load, multiply-add and store. With
// x = xr + i·xi, m·x = xr·(mr, mi) + xi·(−mi, mr): every product is two
// FMAs of a duplicated real or imaginary part by a constant pair.

// runConstC128 is the constant table of apply1RunAVX2C128 and
// apply1BlocksAVX2C128: for k = 0..3 the two vectors
// (mk.re, mk.im, mk.re, mk.im) and (−mk.im, mk.re, −mk.im, mk.re).
type runConstC128 [32]float64

func (c *runConstC128) set(m *[4]complex128) {
	for k, v := range m {
		re, im := real(v), imag(v)
		copy(c[8*k:8*k+8], []float64{re, im, re, im, -im, re, -im, re})
	}
}

// lowConstC128 is the constant table of apply1LowAVX2C128:
// (m0, m2), i·(m0, m2), (m1, m3), i·(m1, m3) as pairs of complex numbers.
type lowConstC128 [16]float64

func (c *lowConstC128) set(m *[4]complex128) {
	for k, p := range [2][2]complex128{{m[0], m[2]}, {m[1], m[3]}} {
		a, b := p[0], p[1]
		copy(c[8*k:8*k+8], []float64{
			real(a), imag(a), real(b), imag(b),
			-imag(a), real(a), -imag(b), real(b),
		})
	}
}

// runConstC64 is runConstC128 in float32 with four complex numbers a vector:
// for k = 0..3, (mk.re, mk.im)×4 and (−mk.im, mk.re)×4.
type runConstC64 [64]float32

func (c *runConstC64) set(m *[4]complex64) {
	for k, v := range m {
		iv := complex(-imag(v), real(v))
		put64(c[16*k:], v, v, v, v, iv, iv, iv, iv)
	}
}

// lowConstC64 is the constant table of apply1LowAVX2C64 (pattern A, one
// 128-bit lane per pair (u, v)) and of apply1Q1AVX2C64 (pattern B, one lane
// per output run of two): with (a, b) = (m0, m2) then (m1, m3),
// A = (a, b, a, b) and i·A at floats 0..31, B = (a, a, b, b) and i·B at
// floats 32..63.
type lowConstC64 [64]float32

func (c *lowConstC64) set(m *[4]complex64) {
	for k, p := range [2][2]complex64{{m[0], m[2]}, {m[1], m[3]}} {
		a, b := p[0], p[1]
		ia, ib := complex(-imag(a), real(a)), complex(-imag(b), real(b))
		put64(c[16*k:], a, b, a, b, ia, ib, ia, ib)
		put64(c[32+16*k:], a, a, b, b, ia, ia, ib, ib)
	}
}

// put64 stores vs as consecutive (re, im) float32 pairs at the start of c.
func put64(c []float32, vs ...complex64) {
	for j, v := range vs {
		c[2*j], c[2*j+1] = real(v), imag(v)
	}
}

// Assembly kernels (simd_amd64.s). Each loop's pure-Go reference is shown
// with it; n counts complex elements (pairs for the Low kernels).

// apply1RunAVX2C128 applies the 2×2 matrix of c to two runs of n elements:
//
//	for i := 0; i < n; i++ {
//		u, v := x[i], y[i]
//		x[i] = m0*u + m1*v
//		y[i] = m2*u + m3*v
//	}
//
//go:noescape
func apply1RunAVX2C128(x, y *complex128, n int, c *runConstC128)

// apply1BlocksAVX2C128 runs apply1RunAVX2C128 on each of nb blocks of
// 2·half elements from a, the block's first half as x, the second as y:
//
//	for b := 0; b < nb; b++ {
//		apply1Run(a[2*half*b:][:half], a[2*half*b+half:][:half], m)
//	}
//
//go:noescape
func apply1BlocksAVX2C128(a *complex128, nb, half int, c *runConstC128)

// apply1LowAVX2C128 applies the matrix of c to n consecutive pairs:
//
//	for i := 0; i < n; i++ {
//		u, v := a[2*i], a[2*i+1]
//		a[2*i] = m0*u + m1*v
//		a[2*i+1] = m2*u + m3*v
//	}
//
//go:noescape
func apply1LowAVX2C128(a *complex128, n int, c *lowConstC128)

// apply1RunAVX2C64 is apply1RunAVX2C128 for complex64.
//
//go:noescape
func apply1RunAVX2C64(x, y *complex64, n int, c *runConstC64)

// apply1BlocksAVX2C64 is apply1BlocksAVX2C128 for complex64 (half ≥ 4; see
// apply1Q1AVX2C64 for half = 2).
//
//go:noescape
func apply1BlocksAVX2C64(a *complex64, nb, half int, c *runConstC64)

// apply1Q1AVX2C64 is apply1BlocksAVX2C64 for half = 2 (qubit 1): one
// vector holds a whole block x0, x1, y0, y1:
//
//	for b := 0; b < nb; b++ {
//		x0, x1, y0, y1 := a[4*b], a[4*b+1], a[4*b+2], a[4*b+3]
//		a[4*b], a[4*b+1] = m0*x0 + m1*y0, m0*x1 + m1*y1
//		a[4*b+2], a[4*b+3] = m2*x0 + m3*y0, m2*x1 + m3*y1
//	}
//
//go:noescape
func apply1Q1AVX2C64(a *complex64, nb int, c *lowConstC64)

// apply1LowAVX2C64 is apply1LowAVX2C128 for complex64.
//
//go:noescape
func apply1LowAVX2C64(a *complex64, n int, c *lowConstC64)

// Slice-level entry points, called by the generic dispatch of simd.go.

func apply1RunC128(x, y []complex128, m *[4]complex128) {
	n := len(x)
	if n == 0 {
		return
	}
	y = y[:n]
	var c runConstC128
	c.set(m)
	apply1RunAVX2C128(&x[0], &y[0], n, &c)
}

func apply1RunC64(x, y []complex64, m *[4]complex64) {
	n := len(x)
	if n == 0 {
		return
	}
	y = y[:n]
	var c runConstC64
	c.set(m)
	apply1RunAVX2C64(&x[0], &y[0], n, &c)
}

func apply1LowC128(a []complex128, m *[4]complex128) {
	n := len(a) / 2
	if n == 0 {
		return
	}
	var c lowConstC128
	c.set(m)
	apply1LowAVX2C128(&a[0], n, &c)
}

func apply1LowC64(a []complex64, m *[4]complex64) {
	n := len(a) / 2
	if n == 0 {
		return
	}
	var c lowConstC64
	c.set(m)
	apply1LowAVX2C64(&a[0], n, &c)
}

// apply1BlocksC128 applies m to the whole blocks of 2·half elements of a.
func apply1BlocksC128(a []complex128, half int, m *[4]complex128) {
	if half < 1 {
		panic("cpu: apply1Blocks with half < 1")
	}
	nb := len(a) / (2 * half)
	if nb == 0 {
		return
	}
	var c runConstC128
	c.set(m)
	apply1BlocksAVX2C128(&a[0], nb, half, &c)
}

// apply1BlocksC64 applies m to the whole blocks of 2·half elements of a.
func apply1BlocksC64(a []complex64, half int, m *[4]complex64) {
	if half < 1 {
		panic("cpu: apply1Blocks with half < 1")
	}
	nb := len(a) / (2 * half)
	switch {
	case nb == 0:
	case half == 1:
		apply1LowC64(a[:2*nb], m)
	case half == 2:
		var c lowConstC64
		c.set(m)
		apply1Q1AVX2C64(&a[0], nb, &c)
	default:
		var c runConstC64
		c.set(m)
		apply1BlocksAVX2C64(&a[0], nb, half, &c)
	}
}

// maxDenseSIMD is the largest matrix dimension (2^k) of the per-base
// assembly dense kernels: 16 (k = 4) keeps the constant table (64·d²
// bytes) within the L1 cache. Larger matrices, up to maxDenseBatch (k =
// 6), go through the batched kernels, which keep one chunk of the table
// (256·d bytes) in L1 while they compute it for a batch of bases.
const (
	maxDenseSIMD  = 16
	maxDenseBatch = 64
)

// denseBatchBases is how many bases a batched kernel call computes at
// once for a d×d matrix: 16 KiB of data (4 groups of d amplitudes per base
// in complex64, 2 in complex128).
func denseBatchBases(d int) int { return 512 / d }

// applyDenseBatchAVX2C128 is applyDenseAVX2C128 for d > 16, with tmp
// holding d vectors per base of the batch: every chunk of four outputs is
// computed for all nb bases before the next chunk, then all outputs are
// written back.
//
//go:noescape
func applyDenseBatchAVX2C128(a *complex128, bases *uint64, nb int, offs *uint64, d int, mc *float64, tmp *float64)

// applyDenseBatchAVX2C64 is applyDenseBatchAVX2C128 for complex64.
//
//go:noescape
func applyDenseBatchAVX2C64(a *complex64, bases *uint64, nb int, offs *uint64, d int, mc *float32, tmp *float32)

// applyDenseAVX2C128 applies the d×d matrix of mc to the groups at the
// nb bases, two groups (one vector) per base; offs are byte offsets,
// tmp holds d vectors. Reference loop, with m the
// matrix, g the two consecutive groups of each base:
//
//	for _, base := range bases {
//		for g := base; g < base+2; g++ {
//			for i := 0; i < d; i++ {
//				out[i] = Σ_j m[i*d+j] * a[g+offs[j]/16]
//			}
//			for j := 0; j < d; j++ {
//				a[g+offs[j]/16] = out[j]
//			}
//		}
//	}
//
//go:noescape
func applyDenseAVX2C128(a *complex128, bases *uint64, nb int, offs *uint64, d int, mc *float64, tmp *float64)

// applyDenseAVX2C64 is applyDenseAVX2C128 for complex64, four groups a base.
//
//go:noescape
func applyDenseAVX2C64(a *complex64, bases *uint64, nb int, offs *uint64, d int, mc *float32, tmp *float32)

// denseBatch is the number of bases an assembly call gets.
const denseBatch = 256

// applyDenseC128 is applyDense through applyDenseAVX2C128 when the shape
// allows it: 4 ≤ d ≤ maxDenseSIMD and at least two consecutive groups in a
// run (no target or control on qubit 0). The groups of [lo,hi) before the
// first and after the last whole pair go through applyDense's own loop. It
// reports false, doing nothing, when it cannot help.
func applyDenseC128(a []complex128, s *gateShape, m []complex128, lo, hi int) bool {
	const v = 2
	d := len(s.offsets)
	lo2, hi2 := (lo+v-1)&^(v-1), hi&^(v-1)
	if d < 4 || d > maxDenseBatch || s.run < v || lo2 >= hi2 || len(m) != d*d {
		return false
	}
	mc, ok := s.consts.([]float64)
	if !ok {
		mc = denseConstsC128(m, d)
	}
	if wideDense(s, d, 4, lo, hi, func(lo, hi int) { applyDense(a, s, m, lo, hi) }, func(lo, hi int) { dense512(a, s, mc, lo, hi, 4) }) {
		return true
	}
	var offs [maxDenseBatch]uint64
	for j, o := range s.offsets {
		offs[j] = o * 16
	}
	var tmpS [4 * maxDenseSIMD]float64 // d vectors, on the stack when d ≤ maxDenseSIMD
	batch, tmp := denseBatch, tmpS[:4*min(d, maxDenseSIMD)]
	if d > maxDenseSIMD {
		batch = denseBatchBases(d)
		tmp = make([]float64, 4*d*batch)
	}
	var bases [denseBatch]uint64
	n := 0
	flush := func() {
		if n == 0 {
			return
		}
		if last := bases[n-1] + s.offsets[d-1] + v - 1; last >= uint64(len(a)) {
			panic(fmt.Sprintf("cpu: dense kernel index %d out of range [0,%d)", last, len(a)))
		}
		if d > maxDenseSIMD {
			applyDenseBatchAVX2C128(&a[0], &bases[0], n, &offs[0], d, &mc[0], &tmp[0])
		} else {
			applyDenseAVX2C128(&a[0], &bases[0], n, &offs[0], d, &mc[0], &tmp[0])
		}
		n = 0
	}
	if lo < lo2 {
		applyDense(a, s, m, lo, lo2)
	}
	var base uint64
	for r := lo2; r < hi2; r += v {
		if r == lo2 || r&(s.run-1) == 0 {
			base = s.ex.expand(uint64(r)) | s.val
		} else {
			base += v
		}
		bases[n] = base
		n++
		if n == batch {
			flush()
		}
	}
	flush()
	if hi2 < hi {
		applyDense(a, s, m, hi2, hi)
	}
	return true
}

// wideDense runs the groups [lo,hi) of a d×d gate of shape s through the
// AVX-512 kernels (wide, v groups a base) where the CPU has them, d ≤
// maxDenseSIMD and runs of s are at least v long; the groups before the
// first and after the last whole base go through narrow (applyDense: the
// AVX2 kernels or its own loop, as the range allows). It reports false,
// doing nothing, when the wide kernels do not apply.
func wideDense(s *gateShape, d, v, lo, hi int, narrow, wide func(lo, hi int)) bool {
	lov, hiv := (lo+v-1)&^(v-1), hi&^(v-1)
	if !useAVX512 || d > maxDenseSIMD || s.run < v || lov >= hiv {
		return false
	}
	if lo < lov {
		narrow(lo, lov)
	}
	wide(lov, hiv)
	if hiv < hi {
		narrow(hiv, hi)
	}
	return true
}

// applyDenseC64 is applyDenseC128 for complex64, four groups a vector (no
// target or control on qubits 0 and 1).
func applyDenseC64(a []complex64, s *gateShape, m []complex64, lo, hi int) bool {
	const v = 4
	d := len(s.offsets)
	lo2, hi2 := (lo+v-1)&^(v-1), hi&^(v-1)
	if d < 4 || d > maxDenseBatch || s.run < v || lo2 >= hi2 || len(m) != d*d {
		return false
	}
	mc, ok := s.consts.([]float32)
	if !ok {
		mc = denseConstsC64(m, d)
	}
	if wideDense(s, d, 8, lo, hi, func(lo, hi int) { applyDense(a, s, m, lo, hi) }, func(lo, hi int) { dense512(a, s, mc, lo, hi, 8) }) {
		return true
	}
	var offs [maxDenseBatch]uint64
	for j, o := range s.offsets {
		offs[j] = o * 8
	}
	var tmpS [8 * maxDenseSIMD]float32 // d vectors, on the stack when d ≤ maxDenseSIMD
	batch, tmp := denseBatch, tmpS[:8*min(d, maxDenseSIMD)]
	if d > maxDenseSIMD {
		batch = denseBatchBases(d)
		tmp = make([]float32, 8*d*batch)
	}
	var bases [denseBatch]uint64
	n := 0
	flush := func() {
		if n == 0 {
			return
		}
		if last := bases[n-1] + s.offsets[d-1] + v - 1; last >= uint64(len(a)) {
			panic(fmt.Sprintf("cpu: dense kernel index %d out of range [0,%d)", last, len(a)))
		}
		if d > maxDenseSIMD {
			applyDenseBatchAVX2C64(&a[0], &bases[0], n, &offs[0], d, &mc[0], &tmp[0])
		} else {
			applyDenseAVX2C64(&a[0], &bases[0], n, &offs[0], d, &mc[0], &tmp[0])
		}
		n = 0
	}
	if lo < lo2 {
		applyDense(a, s, m, lo, lo2)
	}
	var base uint64
	for r := lo2; r < hi2; r += v {
		if r == lo2 || r&(s.run-1) == 0 {
			base = s.ex.expand(uint64(r)) | s.val
		} else {
			base += v
		}
		bases[n] = base
		n++
		if n == batch {
			flush()
		}
	}
	flush()
	if hi2 < hi {
		applyDense(a, s, m, hi2, hi)
	}
	return true
}

// applyDenseLowAVX2C64 is the lane kernel of lowPlan over nb bases (see
// simd_amd64.s); tmp holds 64·nv float32 (the permuted inputs). Reference
// loop, with P(h, s)[l] = a[base+offs[h]/8 + (l^s)] and C the constants:
//
//	for _, base := range bases {
//		for hp := 0; hp < nv; hp++ {
//			for l := 0; l < 4; l++ {
//				out[hp][l] = Σ_c C[hp][c][l] · P(c)[l]
//			}
//		}
//		a[base+offs[hp]/8 + l] = out[hp][l] for every hp, l
//	}
//
//go:noescape
func applyDenseLowAVX2C64(a *complex64, bases *uint64, nb int, offs *uint64, nv int, mc *float32, pidx *uint64, ncol int, tmp *float32, smask uint64)

// applyDenseLowAVX2C128 is applyDenseLowAVX2C64 for complex128: two
// lanes (qubit 0), permutations s = 0, 1 at (h·2+s)·64 in tmp.
//
//go:noescape
func applyDenseLowAVX2C128(a *complex128, bases *uint64, nb int, offs *uint64, nv int, mc *float64, pidx *uint64, ncol int, tmp *float64, smask uint64)

// applyDenseLow applies the gate of plan p to the groups [lo,hi) of p.sh
// through the lane kernels (their pure-Go loop when they are off).
func applyDenseLow[T amp](a []T, p *lowPlan, lo, hi int) {
	wide := p.vec == 64
	if !useAVX2 || (wide && !useAVX512) {
		applyDenseLowGeneric(a, p, lo, hi)
		return
	}
	var bases [denseBatch + 1]uint64 // one more: the AVX-512 kernel takes pairs
	ab := uint64(p.vec / p.lanes)    // bytes an amplitude
	last := p.offs[p.nv-1]/ab + uint64(p.lanes) - 1
	var tmp64 []float64 // the permuted inputs: 2·vec bytes per (h, s)
	var tmp32 []float32
	if ab == 8 {
		tmp32 = make([]float32, 2*2*p.vec/4*p.lanes*p.nv) // two bases' worth (AVX-512)
	} else {
		tmp64 = make([]float64, 2*2*p.vec/8*p.lanes*p.nv) // two bases' worth (AVX-512)
	}
	n := 0
	flush := func() {
		if n == 0 {
			return
		}
		if bases[n-1]+last >= uint64(len(a)) {
			panic(fmt.Sprintf("cpu: lane kernel index %d out of range [0,%d)", bases[n-1]+last, len(a)))
		}
		switch a := any(a).(type) {
		case []complex64:
			if wide {
				if n%2 == 1 {
					bases[n] = bases[n-1] // computed twice, written twice: the same values
					n++
				}
				applyDenseLow512C64(&a[0], &bases[0], n/2, &p.offs[0], p.nv, &p.mc32[0], &p.pidx[0], len(p.pidx), &tmp32[0], p.smask, &lanePerm8[0])
				break
			}
			applyDenseLowAVX2C64(&a[0], &bases[0], n, &p.offs[0], p.nv, &p.mc32[0], &p.pidx[0], len(p.pidx), &tmp32[0], p.smask)
		case []complex128:
			if wide {
				if n%2 == 1 {
					bases[n] = bases[n-1]
					n++
				}
				applyDenseLow512C128(&a[0], &bases[0], n/2, &p.offs[0], p.nv, &p.mc[0], &p.pidx[0], len(p.pidx), &tmp64[0], p.smask)
				break
			}
			applyDenseLowAVX2C128(&a[0], &bases[0], n, &p.offs[0], p.nv, &p.mc[0], &p.pidx[0], len(p.pidx), &tmp64[0], p.smask)
		}
		n = 0
	}
	// The next group's base: an add whose carry passes over the shape's
	// qubits (set in the sum, cleared after it).
	var fixed uint64
	for _, q := range p.sh.ex.pos {
		fixed |= 1 << q
	}
	base := p.sh.ex.expand(uint64(lo)) | p.sh.val
	for g := lo; g < hi; g++ {
		if g != lo {
			base = ((base&^p.sh.val|fixed)+1)&^fixed | p.sh.val
		}
		bases[n] = base
		n++
		if n == denseBatch {
			flush()
		}
	}
	flush()
}

// denseConstsC128 returns the constants of the dense kernels for the d×d
// matrix m, four outputs at a time: for chunk c, column j, output i =
// 4c+o, the vectors (re, im, re, im) and (−im, re, −im, re) of m[i*d+j].
func denseConstsC128(m []complex128, d int) []float64 {
	mc := make([]float64, 8*d*d)
	p := 0
	for c := 0; c < d/4; c++ {
		for j := 0; j < d; j++ {
			for o := 0; o < 4; o++ {
				z := m[(4*c+o)*d+j]
				re, im := real(z), imag(z)
				copy(mc[p:p+8], []float64{re, im, re, im, -im, re, -im, re})
				p += 8
			}
		}
	}
	return mc
}

// denseConstsC64 is denseConstsC128 for complex64: four copies of m[i*d+j]
// and of i·m[i*d+j] per output.
func denseConstsC64(m []complex64, d int) []float32 {
	mc := make([]float32, 16*d*d)
	p := 0
	for c := 0; c < d/4; c++ {
		for j := 0; j < d; j++ {
			for o := 0; o < 4; o++ {
				z := m[(4*c+o)*d+j]
				iz := complex(-imag(z), real(z))
				put64(mc[p:p+16], z, z, z, z, iz, iz, iz, iz)
				p += 16
			}
		}
	}
	return mc
}

// denseConsts returns the dense kernels' constants for m (d×d, 4 ≤ d ≤
// maxDenseBatch), to keep in a gateShape's consts, or nil.
func denseConsts[T amp](m []T, d int) any {
	if !useAVX2 || d < 4 || d > maxDenseBatch || len(m) != d*d {
		return nil
	}
	switch m := any(m).(type) {
	case []complex128:
		return denseConstsC128(m, d)
	case []complex64:
		return denseConstsC64(m, d)
	}
	return nil
}
