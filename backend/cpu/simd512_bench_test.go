//go:build linux && amd64 && !purego

package cpu

import (
	"fmt"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/prismai/mec/circuit"
)

// threadCPU is the CPU time of the calling OS thread in seconds: on a
// shared machine it leaves out the time the thread waited for a core.
func threadCPU() float64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return float64(ts.Nano()) / 1e9
}

// BenchmarkDenseCompute times the AVX-512 dense and lane kernels on a
// state that sits in L1/L2 (2^14 amplitudes), on one thread and in that
// thread's CPU time, so that the figure is the kernels' arithmetic, not
// memory or the other tenants of a shared machine: GMAC/s (complex
// multiply-adds: 2^k an amplitude for a k-qubit block) and x_high, the
// ratio to the same run's block on qubits 3, 5, 7 (no lane qubit), and
// for blocks of three or more targets above the lanes x_four, the
// eight-output kernel over the four-output one it replaced.
func BenchmarkDenseCompute(b *testing.B) {
	if !useAVX512 {
		b.Skip("no AVX-512F: the AVX-512 kernels do not run here")
	}
	const n = 14
	measure := func(p string, ts []int, x8 bool) float64 {
		m := rot(0.7, 0.3, 1.1)
		for i := 1; i < len(ts); i++ {
			m = kron(m, rot(0.3+float64(i), 0.2*float64(i), 0.5))
		}
		g := &circuit.Gate{Targets: ts, Matrix: m}
		old := denseX8
		denseX8 = x8
		defer func() { denseX8 = old }()
		var run func()
		if p == "c64" {
			a := make([]complex64, 1<<n)
			f := planGate[complex64](n, g)
			run = func() { f(a, 1) }
		} else {
			a := make([]complex128, 1<<n)
			f := planGate[complex128](n, g)
			run = func() { f(a, 1) }
		}
		run()
		reps, c0 := 0, threadCPU()
		for ; threadCPU()-c0 < 0.05; reps++ { // 50 ms of CPU
			run()
		}
		sec := (threadCPU() - c0) / float64(reps)
		return float64(int64(1)<<n) * float64(int(1)<<len(ts)) / sec / 1e9
	}
	for _, p := range []string{"c64", "c128"} {
		for _, ts := range [][]int{{3, 5, 7}, {3, 5, 7, 9}, {3, 5}, {2, 5, 7}, {0, 5, 7}, {1, 2, 5}, {0, 1, 5}, {0, 1, 2}, {0, 5}} {
			b.Run(fmt.Sprintf("prec=%s/t=%v", p, ts), func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				var gmac, high, four float64
				for range b.N {
					high += measure(p, []int{3, 5, 7}, true)
					gmac += measure(p, ts, true)
					if ts[0] >= 3 && len(ts) >= 3 {
						four += measure(p, ts, false)
					}
				}
				b.ReportMetric(gmac/float64(b.N), "GMAC/s")
				b.ReportMetric(gmac/high, "x_high")
				if four > 0 {
					b.ReportMetric(gmac/four, "x_four")
				}
			})
		}
	}
}
