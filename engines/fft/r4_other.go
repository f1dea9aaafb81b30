//go:build !amd64 || purego

package fft

// useAVX2 is false: this build has no assembly kernels (purego or not amd64).
const useAVX2 = false

// r4inner128 is the pure-Go build's stand-in for the AVX2 kernel: it does
// nothing and the caller's Go loop does all the butterflies.
func r4inner128(y0, y1, y2, y3, x0, x1, x2, x3 []complex128, w *[3]complex128, inv bool) int {
	return 0
}

// r4ninner128 and r4ninner64 are the stand-ins for the twiddle-free
// radix-4 AVX2 kernels: the caller's Go loop does all the butterflies.
func r4ninner128(y0, y1, y2, y3, x0, x1, x2, x3 []complex128, inv bool) int { return 0 }

func r4ninner64(y0, y1, y2, y3, x0, x1, x2, x3 []complex64, inv bool) int { return 0 }

// setAVX2 is a no-op in builds without assembly.
func setAVX2(on bool) bool { return false }

// r4s1inner128 is the pure-Go build's stand-in for the first-stage AVX2
// kernel: the caller's Go loop does all the butterflies.
func r4s1inner128(y, x0, x1, x2, x3, tw []complex128, inv bool) int { return 0 }

// r4inner64 and r4s1inner64 are the complex64 stand-ins: the Go loops do
// all the butterflies.
func r4inner64(y0, y1, y2, y3, x0, x1, x2, x3 []complex64, w *[3]complex64, inv bool) int {
	return 0
}

func r4s1inner64(y, x0, x1, x2, x3, tw []complex64, inv bool) int { return 0 }

// r4kinner128 and r4kinner64 are the stand-ins for the whole-stage
// assembly kernel: the Go loops do the work.
func r4kinner128(y, x, tw []complex128, s, m, k0, k1 int, inv bool) bool { return false }

func r4kinner64(y, x, tw []complex64, s, m, k0, k1 int, inv bool) bool { return false }

// r2inner128 and r2inner64 are the stand-ins for the radix-2 AVX2 kernel.
func r2inner128(y0, y1, x0, x1 []complex128) int { return 0 }

func r2inner64(y0, y1, x0, x1 []complex64) int { return 0 }

// rsplit128 and rsplit64 are the stand-ins for the AVX2 split step of the
// real forward transform: the Go loop does every k.
func rsplit128(z, w []complex128, h int) int { return 1 }

func rsplit64(z, w []complex64, h int) int { return 1 }

// r16kinner128 and r16kinner64 are the stand-ins for the generated
// radix-16 AVX2 kernel: the Go loops do the work.
func r16kinner128(y, x, twA, twB []complex128, s, m, k0, k1 int, inv bool) bool { return false }

func r16kinner64(y, x, twA, twB []complex64, s, m, k0, k1 int, inv bool) bool { return false }

// r8inner128 and r8inner64 are the stand-ins for the radix-8 AVX2 kernel:
// the caller's Go loop does every butterfly.
func r8inner128(y, x []complex128, s, q0, q1 int, inv bool) int { return q0 }

func r8inner64(y, x []complex64, s, q0, q1 int, inv bool) int { return q0 }

// rsplitInv128 and rsplitInv64 are the stand-ins for the AVX2 inverse
// split step: the Go loop does every k.
func rsplitInv128(z, x, w []complex128, h int) int { return 1 }

func rsplitInv64(z, x, w []complex64, h int) int { return 1 }
