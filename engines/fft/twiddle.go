package fft

import (
	"math"
	"math/bits"
	"slices"
	"sync"
)

// cis returns exp(-2πi·k/n) computed in float64 from the exact fraction k/n:
// the angle is reduced to the first half-quadrant with integer arithmetic
// before math.Sincos is called, so the error is about one ulp whatever k is.
func cis(k, n int) complex128 {
	k %= n
	if k < 0 {
		k += n
	}
	// θ = 2πk/n = (π/2)·(q + r/n) with 4k = q·n + r, 0 ≤ r < n.
	hi, lo := bits.Mul64(uint64(k), 4)
	q64, r64 := bits.Div64(hi, lo, uint64(n))
	q, r := int(q64), int(r64)
	var c, s float64
	if 2*r <= n {
		s, c = math.Sincos(math.Pi / 2 * (float64(r) / float64(n)))
	} else {
		c, s = math.Sincos(math.Pi / 2 * (float64(n-r) / float64(n)))
	}
	switch q & 3 {
	case 1:
		c, s = -s, c
	case 2:
		c, s = -c, -s
	case 3:
		c, s = s, -c
	}
	return complex(c, -s)
}

// chirp returns exp(-πi·j²/n), with j² reduced modulo 2n exactly.
func chirp(j, n int) complex128 {
	hi, lo := bits.Mul64(uint64(j), uint64(j))
	r := bits.Rem64(hi, lo, 2*uint64(n))
	return cis(int(r), 2*n)
}

// maxRadix is the largest prime handled by a direct O(r²) butterfly; sizes
// with a larger prime factor go through Bluestein's algorithm.
const maxRadix = 31

// factorize splits n into Stockham radices (4s first, then 2, then odd primes
// in increasing order). ok is false when a prime factor exceeds maxRadix.
func factorize(n int) (radices []int, ok bool) {
	for n%4 == 0 {
		radices = append(radices, 4)
		n /= 4
	}
	if n%2 == 0 {
		radices = append(radices, 2)
		n /= 2
	}
	for p := 3; p*p <= n; p += 2 {
		for n%p == 0 {
			if p > maxRadix {
				return nil, false
			}
			radices = append(radices, p)
			n /= p
		}
	}
	if n > 1 {
		if n > maxRadix {
			return nil, false
		}
		radices = append(radices, n)
	}
	return radices, true
}

// SplitMin is the smallest transform length whose passes WithThreads
// splits over several goroutines; shorter single transforms run on the
// calling goroutine whatever the thread count (they are too small to
// split: the barriers would cost more than the work they share).
const SplitMin = 1 << 17

// smallMax is the longest Stockham transform whose plan keeps a work
// vector of its own for one call at a time, besides the pool (see
// cplan128.transform).
const smallMax = 256

// parallelMin is SplitMin inside the engines.
const parallelMin = SplitMin

func isPow2(n int) bool { return n > 0 && n&(n-1) == 0 }

// nextPow2 returns the smallest power of two ≥ n.
func nextPow2(n int) int {
	if n <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(n-1))
}

// parallel splits [0, count) into at most threads contiguous chunks and runs
// fn on each, the last one on the calling goroutine.
func parallel(threads, count int, fn func(lo, hi int)) {
	if threads > count {
		threads = count
	}
	if threads <= 1 {
		fn(0, count)
		return
	}
	var wg sync.WaitGroup
	chunk := (count + threads - 1) / threads
	for lo := chunk; lo < count; lo += chunk {
		hi := min(lo+chunk, count)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	fn(0, min(chunk, count))
	wg.Wait()
}

// fuse16Max and fuse16Large bound the lengths whose default order uses
// radix-16 passes (fuse16): up to fuse16Max, where the per-pass overhead
// dominates, and from fuse16Large, where the vectors leave the caches and
// a pass saved is a trip to memory saved (there with a radix-4 pass kept
// last). In between the kernel, which parks its sixteen intermediate
// vectors in memory (AVX2 has sixteen registers), does not beat two
// radix-4 passes (measured on the 2-core development machine, 2026-12-03).
// The Planner measures both.
const (
	fuse16Max   = 256
	fuse16Large = 1 << 18
)

// fuse16 returns the order radices (as factorize makes it: 4s first) with
// the radix-4 passes after the first paired into radix-16 passes (two
// fused stages, one pass over memory): 4^5 becomes [4 16 16]. With
// keepLast, a radix-4 pass is kept last when nothing follows the 4s
// ([4 16 4 4]), so that the last pass splits over threads.
func fuse16(radices []int, keepLast bool) []int {
	fours := 0
	for fours < len(radices) && radices[fours] == 4 {
		fours++
	}
	rest := fours - 1
	min := 2
	if keepLast && fours == len(radices) {
		min = 3
	}
	out := []int{}
	if fours > 0 {
		out = append(out, 4)
	}
	for rest >= min {
		out = append(out, 16)
		rest -= 2
	}
	for range rest {
		out = append(out, 4)
	}
	return append(out, radices[fours:]...)
}

// fuse8 returns radices with a trailing radix-4, radix-2 pair (the end of
// factorize's order for an odd power of two times 4) merged into one
// radix-8 last pass: [4 4 4 2] becomes [4 4 8]. Radix 8 exists as a last
// pass only (m = 1, no twiddles). Other orders come back unchanged.
func fuse8(radices []int) []int {
	k := len(radices)
	if k < 2 || radices[k-1] != 2 || radices[k-2] != 4 {
		return radices
	}
	return append(slices.Clone(radices[:k-2]), 8)
}

// fuse8Small reports whether a short order (n ≤ fuse16Max) takes a
// radix-8 last pass (fuse8) rather than radix-16 passes: when factorize's
// order ends with a radix 2.
func fuse8Small(radices []int) bool {
	return len(radices) >= 2 && radices[len(radices)-1] == 2
}

// fourStepMin is the smallest power-of-two length for which the planner
// tries the four-step transform (four128): from there the Stockham passes,
// log4 n of them over the whole vector, are bound by memory bandwidth. It
// is not a default: measured on the 2-core development machine its scalar
// column moves cost more than the passes it saves up to 2^16.
const fourStepMin = 1 << 16

// fourBlock is the number of columns the four-step transform moves per
// block (a few cache lines of each row).
const fourBlock = 8

// useFourStep reports whether a transform of length n planned with
// radices uses the four-step algorithm: radices is {fourStepOrder} and n a
// power of two large enough for whole column blocks.
func useFourStep(n int, radices []int) bool {
	if len(radices) == 1 && radices[0] == fourStepOrder {
		return isPow2(n) && n >= 4*fourBlock*fourBlock
	}
	return false
}

// fourStepOrder is the radix list that stands for the four-step algorithm
// in plans and in the planner's cache.
const fourStepOrder = -1

// fourSplit returns n1 ≤ n2, powers of two with n1·n2 = n (a power of two).
func fourSplit(n int) (n1, n2 int) {
	lg := bits.Len(uint(n)) - 1
	n1 = 1 << (lg / 2)
	return n1, n / n1
}
