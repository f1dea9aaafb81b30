//go:build amd64 && !purego

package fft

import (
	"math"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// useAVX2 selects the AVX2 radix-4 kernel (r4_amd64.s) at run time.
var useAVX2 = cpu.X86.HasAVX2

//go:noescape
func r4avx2(y0, y1, y2, y3, x0, x1, x2, x3 *complex128, n int, w *[3]complex128, mask *[4]uint64)

// Sign masks for t3 = -i·d (forward: negate the imaginary slot after the
// swap) and +i·d (inverse: negate the real slot).
var (
	maskFwd = [4]uint64{0, 1 << 63, 0, 1 << 63}
	maskInv = [4]uint64{1 << 63, 0, 1 << 63, 0}
)

// Changing a kernel (this file's assembly, r16_amd64.s from gen_r16.go)
// means bumping KernelVersion (planner.go): the planner's cache is keyed on it.
//
//go:generate go run gen_r16.go

// avx2Min is the shortest inner loop handed to the assembly kernel.
const avx2Min = 4

// r4inner128 runs the radix-4 butterflies q < len(x0) &^ 1 with AVX2 when
// available and the loop is long enough; it returns how many it did (the
// caller finishes the rest in Go).
func r4inner128(y0, y1, y2, y3, x0, x1, x2, x3 []complex128, w *[3]complex128, inv bool) int {
	n := len(x0) &^ 1
	if !useAVX2 || n < avx2Min {
		return 0
	}
	_, _, _, _, _, _, _ = x1[n-1], x2[n-1], x3[n-1], y0[n-1], y1[n-1], y2[n-1], y3[n-1]
	m := &maskFwd
	if inv {
		m = &maskInv
	}
	r4avx2(&y0[0], &y1[0], &y2[0], &y3[0], &x0[0], &x1[0], &x2[0], &x3[0], n, w, m)
	return n
}

// setAVX2 switches the assembly kernel on or off (tests); it returns
// whether it was on. It cannot enable AVX2 on a CPU without it.
func setAVX2(on bool) bool {
	old := useAVX2
	useAVX2 = on && cpu.X86.HasAVX2
	return old
}

//go:noescape
func r4avx2n(y0, y1, y2, y3, x0, x1, x2, x3 *complex128, n int, mask *[4]uint64)

// r4ninner128 is r4inner128 without twiddles (the last pass, m = 1): it
// runs the butterflies q < len(x0) &^ 1 with AVX2 and returns how many it
// did.
func r4ninner128(y0, y1, y2, y3, x0, x1, x2, x3 []complex128, inv bool) int {
	n := len(x0) &^ 1
	if !useAVX2 || n < 2 {
		return 0
	}
	_, _, _, _, _, _, _ = x1[n-1], x2[n-1], x3[n-1], y0[n-1], y1[n-1], y2[n-1], y3[n-1]
	m := &maskFwd
	if inv {
		m = &maskInv
	}
	r4avx2n(&y0[0], &y1[0], &y2[0], &y3[0], &x0[0], &x1[0], &x2[0], &x3[0], n, m)
	return n
}

//go:noescape
func r4avx2nc64(y0, y1, y2, y3, x0, x1, x2, x3 *complex64, n int, mask *[8]uint32)

// r4ninner64 is r4ninner128 for complex64 (q < len(x0) &^ 3).
func r4ninner64(y0, y1, y2, y3, x0, x1, x2, x3 []complex64, inv bool) int {
	n := len(x0) &^ 3
	if !useAVX2 || n < 4 {
		return 0
	}
	_, _, _, _, _, _, _ = x1[n-1], x2[n-1], x3[n-1], y0[n-1], y1[n-1], y2[n-1], y3[n-1]
	m := &maskFwd64
	if inv {
		m = &maskInv64
	}
	r4avx2nc64(&y0[0], &y1[0], &y2[0], &y3[0], &x0[0], &x1[0], &x2[0], &x3[0], n, m)
	return n
}

//go:noescape
func r4s1avx2(y, x0, x1, x2, x3, tw *complex128, n int, mask *[4]uint64)

// r4s1inner128 runs the first-stage butterflies k < len(x0) &^ 1 with AVX2
// when available and returns how many it did.
func r4s1inner128(y, x0, x1, x2, x3, tw []complex128, inv bool) int {
	n := len(x0) &^ 1
	if !useAVX2 || n < 2 {
		return 0
	}
	_, _, _, _, _ = x1[n-1], x2[n-1], x3[n-1], y[4*n-1], tw[3*n-1]
	m := &maskFwd
	if inv {
		m = &maskInv
	}
	r4s1avx2(&y[0], &x0[0], &x1[0], &x2[0], &x3[0], &tw[0], n, m)
	return n
}

//go:noescape
func r4avx2c64(y0, y1, y2, y3, x0, x1, x2, x3 *complex64, n int, w *[3]complex64, mask *[8]uint32)

// Sign masks of r4avx2c64 (32-bit lanes, as maskFwd and maskInv).
var (
	maskFwd64 = [8]uint32{0, 1 << 31, 0, 1 << 31, 0, 1 << 31, 0, 1 << 31}
	maskInv64 = [8]uint32{1 << 31, 0, 1 << 31, 0, 1 << 31, 0, 1 << 31, 0}
)

// r4inner64 is r4inner128 for complex64: the butterflies q < len(x0) &^ 3
// with AVX2, four per register; it returns how many it did.
func r4inner64(y0, y1, y2, y3, x0, x1, x2, x3 []complex64, w *[3]complex64, inv bool) int {
	n := len(x0) &^ 3
	if !useAVX2 || n < 4 {
		return 0
	}
	_, _, _, _, _, _, _ = x1[n-1], x2[n-1], x3[n-1], y0[n-1], y1[n-1], y2[n-1], y3[n-1]
	m := &maskFwd64
	if inv {
		m = &maskInv64
	}
	r4avx2c64(&y0[0], &y1[0], &y2[0], &y3[0], &x0[0], &x1[0], &x2[0], &x3[0], n, w, m)
	return n
}

//go:noescape
func r4s1avx2c64(y, x0, x1, x2, x3, tw *complex64, n int, mask *[8]uint32)

// r4s1inner64 is r4s1inner128 for complex64: the first-stage butterflies
// k < len(x0) &^ 3 with AVX2, four per register; it returns how many it did.
func r4s1inner64(y, x0, x1, x2, x3, tw []complex64, inv bool) int {
	n := len(x0) &^ 3
	if !useAVX2 || n < 4 {
		return 0
	}
	_, _, _, _, _ = x1[n-1], x2[n-1], x3[n-1], y[4*n-1], tw[3*n-1]
	m := &maskFwd64
	if inv {
		m = &maskInv64
	}
	r4s1avx2c64(&y[0], &x0[0], &x1[0], &x2[0], &x3[0], &tw[0], n, m)
	return n
}

//go:noescape
func addsubAVX2(y0, y1, x0, x1 *float64, n int)

//go:noescape
func addsubAVX2f32(y0, y1, x0, x1 *float32, n int)

// r2inner128 runs the twiddle-free radix-2 butterflies y0 = x0+x1,
// y1 = x0-x1 for q < len(x0) &^ 3 with AVX2 and returns how many it did.
func r2inner128(y0, y1, x0, x1 []complex128) int {
	n := len(x0) &^ 3
	if !useAVX2 || n < 4 {
		return 0
	}
	_, _, _ = x1[n-1], y0[n-1], y1[n-1]
	addsubAVX2((*float64)(unsafe.Pointer(&y0[0])), (*float64)(unsafe.Pointer(&y1[0])),
		(*float64)(unsafe.Pointer(&x0[0])), (*float64)(unsafe.Pointer(&x1[0])), 2*n)
	return n
}

// r2inner64 is r2inner128 for complex64 (q < len(x0) &^ 7).
func r2inner64(y0, y1, x0, x1 []complex64) int {
	n := len(x0) &^ 7
	if !useAVX2 || n < 8 {
		return 0
	}
	_, _, _ = x1[n-1], y0[n-1], y1[n-1]
	addsubAVX2f32((*float32)(unsafe.Pointer(&y0[0])), (*float32)(unsafe.Pointer(&y1[0])),
		(*float32)(unsafe.Pointer(&x0[0])), (*float32)(unsafe.Pointer(&x1[0])), 2*n)
	return n
}

//go:noescape
func r4avx2k(y, x *complex128, s, m, nk int, tw *complex128, mask *[4]uint64)

// r4kinner128 runs the butterflies of a twiddled radix-4 stage (r4f128,
// r4i128: tw holds the stage's forward or inverse twiddles) for k in
// [k0,k1) in one assembly call, which pays off where s is small (one call
// per k costs more than its few butterflies). It reports false, doing
// nothing, without AVX2 or for odd s.
func r4kinner128(y, x, tw []complex128, s, m, k0, k1 int, inv bool) bool {
	if !useAVX2 || s%2 != 0 || k0 >= k1 {
		return false
	}
	_, _, _ = x[s*(k1-1+3*m)+s-1], y[4*s*k1-1], tw[3*k1-1]
	mask := &maskFwd
	if inv {
		mask = &maskInv
	}
	r4avx2k(&y[4*s*k0], &x[s*k0], s, m, k1-k0, &tw[3*k0], mask)
	return true
}

//go:noescape
func r4avx2kc64(y, x *complex64, s, m, nk int, tw *complex64, mask *[8]uint32)

// r4kinner64 is r4kinner128 for complex64 (s a multiple of 4).
func r4kinner64(y, x, tw []complex64, s, m, k0, k1 int, inv bool) bool {
	if !useAVX2 || s%4 != 0 || k0 >= k1 {
		return false
	}
	_, _, _ = x[s*(k1-1+3*m)+s-1], y[4*s*k1-1], tw[3*k1-1]
	mask := &maskFwd64
	if inv {
		mask = &maskInv64
	}
	r4avx2kc64(&y[4*s*k0], &x[s*k0], s, m, k1-k0, &tw[3*k0], mask)
	return true
}

//go:noescape
func rsplitAVX2(lo, hi, w *complex128, nit int, mask *[4]uint64)

//go:noescape
func rsplitAVX2c64(lo, hi, w *complex64, nit int, mask *[8]uint32)

// splitIters returns how many v-bin iterations of the forward split step
// fit before the low block k..k+v-1 (k = 1+v·j) would meet the high block
// h-k-v+1..h-k: the largest count with 2k+2v-2 < h.
func splitIters(h, v int) int {
	top := (h - 2*v + 1) / 2 // the last k allowed
	if h < 2*v || top < 1 {
		return 0
	}
	return (top-1)/v + 1
}

// rsplit128 runs the forward split step of real128.forward (z = dst, the
// half-length transform in place; w[k] = w_n^k) for k = 1, 2, ... with
// AVX2 and returns the first k it did not do (1 without AVX2).
func rsplit128(z, w []complex128, h int) int {
	nit := splitIters(h, 2)
	if !useAVX2 || nit == 0 {
		return 1
	}
	top := 1 + 2*nit // first k not done
	_, _, _ = z[h-1], z[h-top], w[top-1]
	rsplitAVX2(&z[1], &z[h-2], &w[1], nit, &maskFwd)
	return top
}

//go:noescape
func rsplitInvAVX2(zlo, zhi, xlo, xhi, w *complex128, nit int, mask *[4]uint64)

//go:noescape
func rsplitInvAVX2c64(zlo, zhi, xlo, xhi, w *complex64, nit int, mask *[8]uint32)

// rsplitInv128 runs the inverse split step of real128.inverse (z from the
// spectrum x; w[k] = w_n^k) for k = 1, 2, ... and their partners h-k with
// AVX2 and returns the first k it did not do (1 without AVX2).
func rsplitInv128(z, x, w []complex128, h int) int {
	nit := splitIters(h, 2)
	if !useAVX2 || nit == 0 {
		return 1
	}
	top := 1 + 2*nit
	_, _, _, _, _ = z[h-1], x[h-1], z[h-top], x[h-top], w[top-1]
	rsplitInvAVX2(&z[1], &z[h-2], &x[1], &x[h-2], &w[1], nit, &maskFwd)
	return top
}

// rsplitInv64 is rsplitInv128 for complex64, four bins per iteration.
func rsplitInv64(z, x, w []complex64, h int) int {
	nit := splitIters(h, 4)
	if !useAVX2 || nit == 0 {
		return 1
	}
	top := 1 + 4*nit
	_, _, _, _, _ = z[h-1], x[h-1], z[h-top], x[h-top], w[top-1]
	rsplitInvAVX2c64(&z[1], &z[h-4], &x[1], &x[h-4], &w[1], nit, &maskFwd64)
	return top
}

// rsplit64 is rsplit128 for complex64, four bins per iteration.
func rsplit64(z, w []complex64, h int) int {
	nit := splitIters(h, 4)
	if !useAVX2 || nit == 0 {
		return 1
	}
	top := 1 + 4*nit
	_, _, _ = z[h-1], z[h-top], w[top-1]
	rsplitAVX2c64(&z[1], &z[h-4], &w[1], nit, &maskFwd64)
	return top
}

//go:noescape
func r16avx2k(y, x *complex128, s, m, nk int, twA, twB *complex128, mask *[4]uint64)

// r16avx2n and r16avx2nc64 are r16avx2k and r16avx2kc64 for a last stage
// (m = 1, nk = 1), without the products by twiddles equal to 1.
//
//go:noescape
func r16avx2n(y, x *complex128, s, m, nk int, twA, twB *complex128, mask *[4]uint64)

//go:noescape
func r16avx2nc64(y, x *complex64, s, m, nk int, twA, twB *complex64, mask *[8]uint32)

//go:noescape
func r16avx2kc64(y, x *complex64, s, m, nk int, twA, twB *complex64, mask *[8]uint32)

// r16kinner128 runs k in [k0, k1) of a radix-16 stage (r16_128) in the
// generated AVX2 kernel (r16_amd64.s); it reports false, doing nothing,
// without AVX2 or for odd s.
func r16kinner128(y, x, twA, twB []complex128, s, m, k0, k1 int, inv bool) bool {
	if !useAVX2 || s%2 != 0 || k0 >= k1 {
		return false
	}
	_, _, _, _ = x[s*(k1-1+15*m)+s-1], y[16*s*k1-1], twA[3*(k1-1+3*m)+2], twB[3*k1-1]
	mask := &maskFwd
	if inv {
		mask = &maskInv
	}
	if m == 1 {
		r16avx2n(&y[0], &x[0], s, 1, 1, &twA[0], &twB[0], mask)
		return true
	}
	r16avx2k(&y[16*s*k0], &x[s*k0], s, m, k1-k0, &twA[3*k0], &twB[3*k0], mask)
	return true
}

// r16kinner64 is r16kinner128 for complex64 (s a multiple of 4).
func r16kinner64(y, x, twA, twB []complex64, s, m, k0, k1 int, inv bool) bool {
	if !useAVX2 || s%4 != 0 || k0 >= k1 {
		return false
	}
	_, _, _, _ = x[s*(k1-1+15*m)+s-1], y[16*s*k1-1], twA[3*(k1-1+3*m)+2], twB[3*k1-1]
	mask := &maskFwd64
	if inv {
		mask = &maskInv64
	}
	if m == 1 {
		r16avx2nc64(&y[0], &x[0], s, 1, 1, &twA[0], &twB[0], mask)
		return true
	}
	r16avx2kc64(&y[16*s*k0], &x[s*k0], s, m, k1-k0, &twA[3*k0], &twB[3*k0], mask)
	return true
}

//go:noescape
func r8avx2n(y, x *complex128, s, nq int, half *complex128, mask *[4]uint64)

//go:noescape
func r8avx2nc64(y, x *complex64, s, nq int, half *complex64, mask *[8]uint32)

// r8Half128 and r8Half64 hold 1/√2 for the radix-8 kernels.
var (
	r8Half128 = complex(math.Sqrt2/2, 0)
	r8Half64  = complex64(complex(math.Sqrt2/2, 0))
)

// r8inner128 runs the butterflies q in [q0, q0+2·⌊(q1-q0)/2⌋) of a radix-8
// last pass (m = 1, stride s) in the generated AVX2 kernel (r16_amd64.s)
// and returns the first q it did not do (q0 without AVX2).
func r8inner128(y, x []complex128, s, q0, q1 int, inv bool) int {
	nq := (q1 - q0) &^ 1
	if !useAVX2 || nq == 0 {
		return q0
	}
	_, _ = x[q0+nq-1+7*s], y[q0+nq-1+7*s]
	mask := &maskFwd
	if inv {
		mask = &maskInv
	}
	r8avx2n(&y[q0], &x[q0], s, nq, &r8Half128, mask)
	return q0 + nq
}

// r8inner64 is r8inner128 for complex64 (four butterflies per vector).
func r8inner64(y, x []complex64, s, q0, q1 int, inv bool) int {
	nq := (q1 - q0) &^ 3
	if !useAVX2 || nq == 0 {
		return q0
	}
	_, _ = x[q0+nq-1+7*s], y[q0+nq-1+7*s]
	mask := &maskFwd64
	if inv {
		mask = &maskInv64
	}
	r8avx2nc64(&y[q0], &x[q0], s, nq, &r8Half64, mask)
	return q0 + nq
}
