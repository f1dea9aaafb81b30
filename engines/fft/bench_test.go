package fft

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"os/exec"
	"strconv"
	"sync"
	"testing"

	"github.com/prismai/mec/internal/peers"
	"github.com/prismai/mec/internal/peers/peertest"
)

// fftwTimes caches the fftw_kinds peer's times: ns per transform by kind,
// length and thread count (forward, FFTW_MEASURE).
var fftwTimes struct {
	sync.Mutex
	ns map[fftwKey]float64
}

type fftwKey struct {
	kind       string
	n, threads int
}

// fftwNs returns FFTW's time for one forward transform of kind ("c128",
// "c64", "r2c128", "r2c64") and length n (a power of two) on threads
// threads, running fftw_kinds once per kind, length and thread count.
func fftwNs(kind string, n, threads int) (float64, bool) {
	fftwTimes.Lock()
	defer fftwTimes.Unlock()
	if fftwTimes.ns == nil {
		fftwTimes.ns = map[fftwKey]float64{}
	}
	key := fftwKey{kind, n, threads}
	if ns, done := fftwTimes.ns[key]; done {
		return ns, ns > 0
	}
	fftwTimes.ns[key] = 0 // one try: a failed run is not repeated
	tool, err := peers.Tool("fftw_kinds")
	if err != nil || n&(n-1) != 0 {
		return 0, false
	}
	lg := strconv.Itoa(bits.Len(uint(n)) - 1)
	out, err := exec.Command(tool, kind, strconv.Itoa(threads), lg, lg).Output()
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var rec struct {
			Kind     string  `json:"kind"`
			N        int     `json:"n"`
			NsPerFFT float64 `json:"ns_per_fft"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Kind == kind && rec.N == n && rec.NsPerFFT > 0 {
			fftwTimes.ns[key] = rec.NsPerFFT
		}
	}
	ns := fftwTimes.ns[key]
	return ns, ns > 0
}

// reportFFT reports ns/fft, mflops (5 n log2 n per transform) and, when
// kind is not empty and the peer answers, the ratio to FFTW's time for the
// same kind, length and threads (x_fftw).
func reportFFT(b *testing.B, n, threads int, kind string) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns, "ns/fft")
	b.ReportMetric(5*float64(n)*math.Log2(float64(n))/ns*1e3, "mflops")
	if kind != "" {
		if ref, ok := fftwNs(kind, n, threads); ok {
			b.ReportMetric(ns/ref, "x_fftw")
		}
	}
}

// BenchmarkForward times in-place forward complex128 transforms of 2^k
// points on 1 and 2 threads, with the ratio to FFTW (x_fftw) when the
// fftw_kinds peer is built (make peer-fftw).
func BenchmarkForward(b *testing.B) {
	for k := 10; k <= 22; k += 2 {
		for _, threads := range []int{1, 2} {
			n := 1 << k
			b.Run(fmt.Sprintf("n=2^%d/threads=%d", k, threads), func(b *testing.B) {
				p := mustPlan[complex128](b, n, WithThreads(threads))
				x := randVec(newRNG(), n)
				fftwNs("c128", n, threads) // run the peer before the timer starts
				b.SetBytes(int64(16 * n))
				b.ResetTimer()
				for b.Loop() {
					if err := p.Forward(x, x); err != nil {
						b.Fatal(err)
					}
				}
				reportFFT(b, n, threads, "c128")
			})
		}
	}
}

// BenchmarkForward64 times in-place forward complex64 transforms, with
// the ratio to FFTW's single precision (x_fftw).
func BenchmarkForward64(b *testing.B) {
	for k := 10; k <= 22; k += 4 {
		n := 1 << k
		b.Run(fmt.Sprintf("n=2^%d/threads=1", k), func(b *testing.B) {
			p := mustPlan[complex64](b, n)
			x := to64(randVec(newRNG(), n))
			fftwNs("c64", n, 1) // run the peer before the timer starts
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				if err := p.Forward(x, x); err != nil {
					b.Fatal(err)
				}
			}
			reportFFT(b, n, 1, "c64")
		})
	}
}

// BenchmarkForwardOdd times awkward lengths: smooth mixed radix, a prime
// (Bluestein), and a real transform.
func BenchmarkForwardOdd(b *testing.B) {
	for _, n := range []int{1000, 59049, 65537, 100000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			p := mustPlan[complex128](b, n)
			x := randVec(newRNG(), n)
			for b.Loop() {
				if err := p.Forward(x, x); err != nil {
					b.Fatal(err)
				}
			}
			reportFFT(b, n, 1, "")
		})
	}
}

// BenchmarkRealForward times real-to-complex transforms of 2^k points,
// with the ratio to FFTW's r2c (x_fftw).
func BenchmarkRealForward(b *testing.B) {
	for _, k := range []int{10, 16, 20} {
		n := 1 << k
		b.Run(fmt.Sprintf("n=2^%d", k), func(b *testing.B) {
			p, err := NewRealPlan[float64, complex128](n)
			if err != nil {
				b.Fatal(err)
			}
			x := realVec(newRNG(), n)
			y := make([]complex128, n/2+1)
			fftwNs("r2c128", n, 1) // run the peer before the timer starts
			for b.Loop() {
				if err := p.Forward(y, x); err != nil {
					b.Fatal(err)
				}
			}
			reportFFT(b, n, 1, "r2c128")
		})
	}
}

// BenchmarkFFTWPeer checks that the peer is present (skips otherwise), so a
// missing ratio is visible in the benchmark log.
func BenchmarkFFTWPeer(b *testing.B) {
	_, err := peers.Tool("fftw_kinds")
	peertest.Require(b, err)
	for b.Loop() {
	}
}

// BenchmarkKinds times one forward transform of every kind of the issue-18
// acceptance ("c128", "c64" in place; "r2c128", "r2c64" out of place) at
// 2^6..2^22 points on one thread, with the ratio to FFTW's same kind and
// length measured by the fftw_kinds peer in the same run (x_fftw). Select a
// kind or size with -bench 'Kinds/c64/n=2\^10$'.
func BenchmarkKinds(b *testing.B) {
	for _, kind := range []string{"c128", "c64", "r2c128", "r2c64"} {
		for k := 6; k <= 22; k += 2 {
			n := 1 << k
			b.Run(fmt.Sprintf("%s/n=2^%d", kind, k), func(b *testing.B) {
				run := kindRunner(b, kind, n)
				fftwNs(kind, n, 1) // run the peer before the timer starts
				b.ResetTimer()
				for b.Loop() {
					run()
				}
				reportFFT(b, n, 1, kind)
			})
		}
	}
}

// kindRunner returns a closure running one forward transform of kind on a
// seeded random input of length n.
func kindRunner(b *testing.B, kind string, n int) func() {
	fail := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	switch kind {
	case "c128":
		p, x := mustPlan[complex128](b, n), randVec(newRNG(), n)
		return func() { fail(p.Forward(x, x)) }
	case "c64":
		p, x := mustPlan[complex64](b, n), to64(randVec(newRNG(), n))
		return func() { fail(p.Forward(x, x)) }
	case "r2c128":
		p, err := NewRealPlan[float64, complex128](n)
		fail(err)
		x, y := realVec(newRNG(), n), make([]complex128, n/2+1)
		return func() { fail(p.Forward(y, x)) }
	default:
		p, err := NewRealPlan[float32, complex64](n)
		fail(err)
		x64 := realVec(newRNG(), n)
		x := make([]float32, n)
		for i, v := range x64 {
			x[i] = float32(v)
		}
		y := make([]complex64, n/2+1)
		return func() { fail(p.Forward(y, x)) }
	}
}

// BenchmarkPlanned is BenchmarkKinds for complex transforms planned with a
// measuring Planner (memory only; the planning is outside the timer), so
// the measured choice can be compared with the default order of the same
// kind and length.
func BenchmarkPlanned(b *testing.B) {
	pl := NewPlanner("")
	for _, kind := range []string{"c128", "c64"} {
		for _, k := range []int{6, 10, 16, 20} {
			n := 1 << k
			b.Run(fmt.Sprintf("%s/n=2^%d", kind, k), func(b *testing.B) {
				var run func() error
				if kind == "c128" {
					p, x := mustPlan[complex128](b, n, WithPlanner(pl)), randVec(newRNG(), n)
					run = func() error { return p.Forward(x, x) }
				} else {
					p, x := mustPlan[complex64](b, n, WithPlanner(pl)), to64(randVec(newRNG(), n))
					run = func() error { return p.Forward(x, x) }
				}
				fftwNs(kind, n, 1) // run the peer before the timer starts
				b.ResetTimer()
				for b.Loop() {
					if err := run(); err != nil {
						b.Fatal(err)
					}
				}
				reportFFT(b, n, 1, kind)
				if r, ok := pl.Choice(kind, n, 1); ok {
					b.Logf("%s n=2^%d: planned %v", kind, k, r)
				}
			})
		}
	}
}
