package cpu

import (
	"runtime"
	"sync"
)

// minParallel is the smallest loop length split across goroutines: below it
// the start-up cost of goroutines exceeds the work.
const minParallel = 1 << 14

// parallelFor runs fn over [0,n) split into contiguous chunks, one per
// worker. Chunks are aligned to align (a power of two) so kernels can rely on
// whole runs.
func parallelFor(workers, n, align int, fn func(lo, hi int)) {
	if n < minParallel {
		fn(0, n)
		return
	}
	split(workers, n, align, fn)
}

// parallelForItems is parallelFor over n items of itemAmps amplitudes
// each: it splits the loop when the amplitudes, not the items, are many.
func parallelForItems(workers, n, itemAmps int, fn func(lo, hi int)) {
	if n*itemAmps < minParallel {
		fn(0, n)
		return
	}
	split(workers, n, 1, fn)
}

// split runs fn over [0,n) in one chunk per worker (aligned to align), in
// parallel.
func split(workers, n, align int, fn func(lo, hi int)) {
	if workers <= 1 || n < 2 {
		fn(0, n)
		return
	}
	chunk := (n + workers - 1) / workers
	chunk = (chunk + align - 1) &^ (align - 1)
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

// reduceBlock is the fixed block size of every reduction: each block is
// summed sequentially and the block sums are added in order, so results are
// bit-identical whatever the number of threads.
const reduceBlock = 1 << 12

// blockSums returns the sum of fn over each reduceBlock-sized block of [0,n).
func blockSums(workers, n int, fn func(lo, hi int) float64) []float64 {
	nb := (n + reduceBlock - 1) / reduceBlock
	sums := make([]float64, nb)
	parallelFor(workers, nb, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			sums[b] = fn(b*reduceBlock, min((b+1)*reduceBlock, n))
		}
	})
	return sums
}

// deterministicSum reduces fn over [0,n) in fixed blocks.
func deterministicSum(workers, n int, fn func(lo, hi int) float64) float64 {
	var s float64
	for _, v := range blockSums(workers, n, fn) {
		s += v
	}
	return s
}

func defaultWorkers() int { return runtime.GOMAXPROCS(0) }
