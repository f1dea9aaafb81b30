package fft

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"sync"
	"testing"

	"github.com/prismai/mec/internal/peers"
	"github.com/prismai/mec/internal/peers/peertest"
)

// fftwTimes caches fftw_bench results per thread count: n → ns per FFT
// (complex double, in place, forward, FFTW_MEASURE).
var fftwTimes struct {
	sync.Mutex
	byThreads map[int]map[int]float64
}

// fftwNs returns FFTW's time for one forward complex128 FFT of length n
// (a power of two from 2^10 to 2^22) on threads threads, running
// fftw_bench once per thread count and process.
func fftwNs(n, threads int) (float64, bool) {
	fftwTimes.Lock()
	defer fftwTimes.Unlock()
	if fftwTimes.byThreads == nil {
		fftwTimes.byThreads = map[int]map[int]float64{}
	}
	m, done := fftwTimes.byThreads[threads]
	if !done {
		m = map[int]float64{}
		fftwTimes.byThreads[threads] = m
		if tool, err := peers.Tool("fftw_bench"); err == nil {
			out, err := exec.Command(tool, strconv.Itoa(threads), "10", "22").Output()
			if err == nil {
				sc := bufio.NewScanner(bytes.NewReader(out))
				for sc.Scan() {
					var rec struct {
						N        int     `json:"n"`
						NsPerFFT float64 `json:"ns_per_fft"`
					}
					if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.N > 0 {
						m[rec.N] = rec.NsPerFFT
					}
				}
			}
		}
	}
	ns, ok := m[n]
	return ns, ok
}

func reportFFT(b *testing.B, n, threads int, fftw bool) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns, "ns/fft")
	b.ReportMetric(5*float64(n)*math.Log2(float64(n))/ns*1e3, "mflops")
	if fftw {
		if ref, ok := fftwNs(n, threads); ok {
			b.ReportMetric(ns/ref, "x_fftw")
		}
	}
}

// BenchmarkForward times in-place forward complex128 transforms of 2^k
// points on 1 and 2 threads, with the ratio to FFTW (x_fftw) when the
// fftw_bench peer is built.
func BenchmarkForward(b *testing.B) {
	for k := 10; k <= 22; k += 2 {
		for _, threads := range []int{1, 2} {
			n := 1 << k
			b.Run(fmt.Sprintf("n=2^%d/threads=%d", k, threads), func(b *testing.B) {
				p := mustPlan[complex128](b, n, WithThreads(threads))
				x := randVec(newRNG(), n)
				fftwNs(n, threads) // run the peer before the timer starts
				b.SetBytes(int64(16 * n))
				b.ResetTimer()
				for b.Loop() {
					if err := p.Forward(x, x); err != nil {
						b.Fatal(err)
					}
				}
				reportFFT(b, n, threads, true)
			})
		}
	}
}

// BenchmarkForward64 times in-place forward complex64 transforms.
func BenchmarkForward64(b *testing.B) {
	for k := 10; k <= 22; k += 4 {
		n := 1 << k
		b.Run(fmt.Sprintf("n=2^%d/threads=1", k), func(b *testing.B) {
			p := mustPlan[complex64](b, n)
			x := to64(randVec(newRNG(), n))
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				if err := p.Forward(x, x); err != nil {
					b.Fatal(err)
				}
			}
			reportFFT(b, n, 1, false)
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
			reportFFT(b, n, 1, false)
		})
	}
}

// BenchmarkRealForward times real-to-complex transforms of 2^k points.
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
			for b.Loop() {
				if err := p.Forward(y, x); err != nil {
					b.Fatal(err)
				}
			}
			reportFFT(b, n, 1, false)
		})
	}
}

// BenchmarkFFTWPeer checks that the peer is present (skips otherwise), so a
// missing ratio is visible in the benchmark log.
func BenchmarkFFTWPeer(b *testing.B) {
	_, err := peers.Tool("fftw_bench")
	peertest.Require(b, err)
	for b.Loop() {
	}
}
