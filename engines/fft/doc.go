// Package fft is mec's CPU fast Fourier transform engine: complex and real
// transforms of any length in complex64 and complex128, single or batched,
// in place or out of place, optionally multi-threaded.
//
// Layer: compute library (a CPU engine, under backend/cpu). It imports no
// other mec package.
//
// # Conventions
//
// The forward transform of x (length n) is
//
//	X[k] = Σ_{j<n} x[j]·exp(-2πi·jk/n)
//
// and the inverse is normalised by 1/n, x[j] = (1/n)·Σ_k X[k]·exp(+2πi·jk/n),
// so Inverse(Forward(x)) = x. Data is in natural order on input and output
// (no bit reversal is left to the caller).
//
// # Layouts
//
// A Plan transforms one vector of n contiguous elements. Forward and Inverse
// take dst and src of length n: they may be the same slice (in place) or
// disjoint (out of place, src is not modified); partially overlapping slices
// are rejected with ErrOverlap. ForwardBatch and InverseBatch transform
// batch contiguous vectors data[i·n:(i+1)·n] in place, spread over the plan's
// threads.
//
// A RealPlan transforms n real values into the n/2+1 non-redundant complex
// coefficients X[0..n/2] (the rest follow from X[n-k] = conj(X[k])), and
// back. Its Inverse ignores the imaginary parts of X[0] and, for even n, of
// X[n/2], which are zero for the spectrum of a real signal.
//
// # Algorithms
//
// Lengths whose prime factors are all ≤ 31 use a self-sorting mixed-radix
// Stockham transform: radix-4 butterflies (one radix-2 pass for odd powers
// of two) and direct butterflies for odd primes, ping-ponging between the
// destination and one scratch vector, with no bit-reversal pass. Lengths
// with a prime factor > 31 use Bluestein's chirp-z algorithm over a
// power-of-two plan. With WithThreads, each Stockham pass of a transform of
// at least 2^17 points is split over the threads (a barrier between passes),
// and batches are split by vector. All twiddle factors are computed in
// float64 from exact integer fractions (angle reduced to [0, π/4] before
// math.Sincos), never by repeated multiplication, so the complex128
// round-trip error stays near 1e-16·log2(n).
//
// On amd64 CPUs with AVX2 (detected at run time with golang.org/x/sys/cpu)
// the radix-4 passes run in assembly (r4_amd64.s): two complex128 or four
// complex64 values per YMM register (the first pass of a complex64
// transform stays in Go); other passes, other CPUs and builds with the
// purego tag use the pure-Go kernels, which compute the same values (to
// rounding). The complex64 engine (engine64.go) is generated from the
// complex128 one (engine128.go) by gen.go: edit engine128.go and run
// `go generate`.
//
// # Concurrency
//
// Plans are immutable after construction and safe for concurrent use by
// several goroutines; scratch buffers come from per-plan sync.Pools, so a
// call allocates nothing in the steady state.
package fft
