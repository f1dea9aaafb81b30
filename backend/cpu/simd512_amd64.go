//go:build amd64 && !purego

package cpu

import (
	"fmt"

	"golang.org/x/sys/cpu"
)

// hasAVX512 reports whether the CPU (and the OS) can run the AVX-512
// dense kernels of simd512_amd64.s.
var hasAVX512 = hasAVX2FMA && cpu.X86.HasAVX512F

// useAVX512 selects the AVX-512 dense kernels when useAVX2 is also set
// (tests and benchmarks switch it off to compare with the AVX2 kernels).
var useAVX512 = hasAVX512

// applyDense512C64 is applyDenseAVX2C64 with eight complex64 groups a
// base, over npairs pairs of bases (bases holds 2·npairs entries); tmp
// holds 2·d vectors of 64 bytes.
//
//go:noescape
func applyDense512C64(a *complex64, bases *uint64, npairs int, offs *uint64, d int, mc *float32, tmp *float32)

// applyDense512C128 is applyDense512C64 for complex128, four groups a base.
//
//go:noescape
func applyDense512C128(a *complex128, bases *uint64, npairs int, offs *uint64, d int, mc *float64, tmp *float64)

// applyDense512x8C64 is applyDense512C64 for d a multiple of 8, eight
// outputs a chunk (each input loaded serves eight) and one accumulator an
// output: the kernel dense512 uses for blocks of three or more qubits.
//
//go:noescape
func applyDense512x8C64(a *complex64, bases *uint64, npairs int, offs *uint64, d int, mc *float32, tmp *float32)

// applyDense512x8C128 is applyDense512x8C64 for complex128.
//
//go:noescape
func applyDense512x8C128(a *complex128, bases *uint64, npairs int, offs *uint64, d int, mc *float64, tmp *float64)

// denseX8 selects the eight-output kernels for d a multiple of 8 (tests
// and benchmarks switch it off to compare with the four-output ones).
var denseX8 = true

// dense512 applies the d×d matrix of the constants mc (d ≤ maxDenseSIMD)
// to the groups [lo,hi) of s through the AVX-512 kernels, v groups a base
// (8 in complex64, 4 in complex128): lo and hi are multiples of v and
// s.run ≥ v.
func dense512[T amp, F float32 | float64](a []T, s *gateShape, mc []F, lo, hi, v int) {
	d := len(s.offsets)
	var offs [maxDenseSIMD]uint64
	elem := uint64(2 * sizeofF[F]()) // bytes an amplitude
	for j, o := range s.offsets {
		offs[j] = o * elem
	}
	var tmp [2 * maxDenseSIMD * 64 / 4]F // 2·d vectors of 64 bytes (on the stack: no allocation a call)
	var bases [denseBatch + 1]uint64
	x8 := denseX8 && d%8 == 0
	n := 0
	flush := func() {
		if n == 0 {
			return
		}
		if last := bases[n-1] + s.offsets[d-1] + uint64(v) - 1; last >= uint64(len(a)) {
			panic(fmt.Sprintf("cpu: dense kernel index %d out of range [0,%d)", last, len(a)))
		}
		if n%2 == 1 {
			bases[n] = bases[n-1] // computed twice, written twice: the same values
			n++
		}
		switch a := any(a).(type) {
		case []complex64:
			if x8 {
				applyDense512x8C64(&a[0], &bases[0], n/2, &offs[0], d, any(&mc[0]).(*float32), any(&tmp[0]).(*float32))
				break
			}
			applyDense512C64(&a[0], &bases[0], n/2, &offs[0], d, any(&mc[0]).(*float32), any(&tmp[0]).(*float32))
		case []complex128:
			if x8 {
				applyDense512x8C128(&a[0], &bases[0], n/2, &offs[0], d, any(&mc[0]).(*float64), any(&tmp[0]).(*float64))
				break
			}
			applyDense512C128(&a[0], &bases[0], n/2, &offs[0], d, any(&mc[0]).(*float64), any(&tmp[0]).(*float64))
		}
		n = 0
	}
	// The next base: v more groups, the carry passing over the shape's
	// qubits (set in the sum, cleared after it) instead of an expand per
	// run (r is a multiple of v ≤ s.run, so the v lowest bits are free).
	var fixed uint64
	for _, p := range s.ex.pos {
		fixed |= 1 << p
	}
	base := s.ex.expand(uint64(lo)) | s.val
	for r := lo; r < hi; r += v {
		if r != lo {
			base = ((base&^s.val|fixed)+uint64(v))&^fixed | s.val
		}
		bases[n] = base
		n++
		if n == denseBatch {
			flush()
		}
	}
	flush()
}

// sizeofF is the size of F in bytes.
func sizeofF[F float32 | float64]() int {
	var z F
	if any(z) == any(float32(0)) {
		return 4
	}
	return 8
}

// applyDenseLow512C64 is applyDenseLowAVX2C64 with eight lanes (qubits
// 0–2) a ZMM register, over npairs pairs of bases (two at a time, so
// that each constant loaded serves both): tmp holds 128 bytes per (h, s)
// (the duplicated real parts, then the imaginary) for each of the two,
// the constants are 128 bytes per output and column, and perm holds the
// lane permutations l → l^s as eight VPERMQ index vectors.
//
//go:noescape
func applyDenseLow512C64(a *complex64, bases *uint64, npairs int, offs *uint64, nv int, mc *float32, pidx *uint64, ncol int, tmp *float32, smask uint64, perm *uint64)

// applyDenseLow512C128 is applyDenseLow512C64 for complex128: four lanes
// (qubits 0 and 1) a ZMM register, permuted by VSHUFF64X2.
//
//go:noescape
func applyDenseLow512C128(a *complex128, bases *uint64, npairs int, offs *uint64, nv int, mc *float64, pidx *uint64, ncol int, tmp *float64, smask uint64)

// lanePerm8 holds, for s = 0..7, the qword indices l^s of l = 0..7.
var lanePerm8 = func() (p [64]uint64) {
	for s := range 8 {
		for l := range 8 {
			p[8*s+l] = uint64(l ^ s)
		}
	}
	return p
}()
