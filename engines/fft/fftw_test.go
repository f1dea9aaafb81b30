package fft

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"testing"

	"github.com/prismai/mec/internal/peers"
	"github.com/prismai/mec/internal/peers/peertest"
)

// Tolerances against FFTW (issue 18): the relative L2 distance of mec's
// output to FFTW's output for the same input, per log2 n.
const (
	tolFFTW128 = 1e-12 // complex128 and float64 real transforms
	tolFFTW64  = 1e-5  // complex64 and float32 real transforms
)

// fftwSizes returns 2^6..2^20 and lengths off the power-of-two path:
// smooth mixed radix (1000, 3^10, 2^11·31), Bluestein (the primes 1031 and
// 65537, 74 = 2·37, 4097 = 17·241) and odd lengths for the real transforms.
func fftwSizes() []int {
	var sizes []int
	for lg := 6; lg <= 20; lg++ {
		sizes = append(sizes, 1<<lg)
	}
	return append(sizes, 74, 1000, 1031, 4097, 59049, 1<<11*31, 65537)
}

// fftwTool returns the fftw_kinds peer, skipping t (failing it under
// MEC_REQUIRE_PEERS=1) when it is not built or predates its values mode.
func fftwTool(t *testing.T) string {
	tool, err := peers.Tool("fftw_kinds")
	if err != nil {
		peertest.Require(t, fmt.Errorf("%w; make peer-fftw builds it", err))
	}
	var stderr bytes.Buffer
	cmd := exec.Command(tool, "values", "c128", "forward", "1")
	cmd.Stdin = bytes.NewReader(make([]byte, 16))
	cmd.Stderr = &stderr
	if out, err := cmd.Output(); err != nil || len(out) != 16 {
		peertest.Require(t, fmt.Errorf("%s has no values mode (make peer-fftw rebuilds it): %v %s", tool, err, bytes.TrimSpace(stderr.Bytes())))
	}
	return tool
}

// fftwValues runs `fftw_kinds values kind dir n` on in and decodes FFTW's
// output into out, whose length must be the output's (raw native-endian
// values on both pipes).
func fftwValues[I, O any](t *testing.T, tool, kind, dir string, n int, in []I, out []O) {
	t.Helper()
	var stdin, stderr bytes.Buffer
	if err := binary.Write(&stdin, binary.NativeEndian, in); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tool, "values", kind, dir, strconv.Itoa(n))
	cmd.Stdin = &stdin
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("fftw_kinds values %s %s %d: %v: %s", kind, dir, n, err, bytes.TrimSpace(stderr.Bytes()))
	}
	if want := binary.Size(out); len(b) != want {
		t.Fatalf("fftw_kinds values %s %s %d: %d bytes out, want %d", kind, dir, n, len(b), want)
	}
	if err := binary.Read(bytes.NewReader(b), binary.NativeEndian, out); err != nil {
		t.Fatal(err)
	}
}

// relErrReal returns ‖a−b‖₂/‖b‖₂ for real vectors.
func relErrReal[F Float](a []F, b []float64) float64 {
	var num, den float64
	for i := range b {
		d := float64(a[i]) - b[i]
		num += d * d
		den += b[i] * b[i]
	}
	return math.Sqrt(num / den)
}

// halfSpectrum returns a random spectrum X[0..n/2] of a real signal: the
// imaginary parts of X[0] and (even n) X[n/2] are zero.
func halfSpectrum(r *rand.Rand, n int) []complex128 {
	s := randVec(r, n/2+1)
	s[0] = complex(real(s[0]), 0)
	if n%2 == 0 {
		s[n/2] = complex(real(s[n/2]), 0)
	}
	return s
}

// TestMatchesFFTW compares every transform of mec (complex c128 and c64,
// real r2c and c2r in double and single precision, forward and inverse)
// with FFTW's on the same seeded input, for 2^6..2^20 and the lengths of
// fftwSizes. FFTW's backward transforms are unnormalised: they are scaled
// by 1/n (in float64) before the comparison. Run with -v for the errors.
func TestMatchesFFTW(t *testing.T) {
	tool := fftwTool(t)
	r := newRNG()
	worst := map[string]float64{}
	check := func(what string, n int, e, tol float64) {
		t.Helper()
		worst[what] = max(worst[what], e/logn(n))
		if e > tol*logn(n) {
			t.Errorf("%s n=%d: %.3g from FFTW > %.3g", what, n, e, tol*logn(n))
		}
	}
	for _, n := range fftwSizes() {
		inv := 1 / float64(n)
		h := n/2 + 1

		// complex128
		x := randVec(r, n)
		p := mustPlan[complex128](t, n)
		got, want := make([]complex128, n), make([]complex128, n)
		if err := p.Forward(got, x); err != nil {
			t.Fatal(err)
		}
		fftwValues(t, tool, "c128", "forward", n, x, want)
		eF := relErr(got, want)
		check("c128 forward", n, eF, tolFFTW128)
		if err := p.Inverse(got, x); err != nil {
			t.Fatal(err)
		}
		fftwValues(t, tool, "c128", "backward", n, x, want)
		scale128(want, inv)
		eI := relErr(got, want)
		check("c128 inverse", n, eI, tolFFTW128)

		// complex64
		x64 := to64(randVec(r, n))
		p64 := mustPlan[complex64](t, n)
		g64, w64 := make([]complex64, n), make([]complex64, n)
		if err := p64.Forward(g64, x64); err != nil {
			t.Fatal(err)
		}
		fftwValues(t, tool, "c64", "forward", n, x64, w64)
		eF64 := relErr(from64(g64), from64(w64))
		check("c64 forward", n, eF64, tolFFTW64)
		if err := p64.Inverse(g64, x64); err != nil {
			t.Fatal(err)
		}
		fftwValues(t, tool, "c64", "backward", n, x64, w64)
		wi := from64(w64)
		scale128(wi, inv)
		eI64 := relErr(from64(g64), wi)
		check("c64 inverse", n, eI64, tolFFTW64)

		// real, float64: r2c forward, c2r inverse
		xr := realVec(r, n)
		rp, err := NewRealPlan[float64, complex128](n)
		if err != nil {
			t.Fatal(err)
		}
		gc, wc := make([]complex128, h), make([]complex128, h)
		if err := rp.Forward(gc, xr); err != nil {
			t.Fatal(err)
		}
		fftwValues(t, tool, "r2c128", "forward", n, xr, wc)
		eRF := relErr(gc, wc)
		check("r2c128 forward", n, eRF, tolFFTW128)
		s := halfSpectrum(r, n)
		gr, wr := make([]float64, n), make([]float64, n)
		if err := rp.Inverse(gr, s); err != nil {
			t.Fatal(err)
		}
		fftwValues(t, tool, "r2c128", "backward", n, s, wr)
		for i := range wr {
			wr[i] *= inv
		}
		eRI := relErrReal(gr, wr)
		check("r2c128 inverse", n, eRI, tolFFTW128)

		// real, float32
		xr32 := make([]float32, n)
		for i, v := range realVec(r, n) {
			xr32[i] = float32(v)
		}
		rp64, err := NewRealPlan[float32, complex64](n)
		if err != nil {
			t.Fatal(err)
		}
		gc64, wc64 := make([]complex64, h), make([]complex64, h)
		if err := rp64.Forward(gc64, xr32); err != nil {
			t.Fatal(err)
		}
		fftwValues(t, tool, "r2c64", "forward", n, xr32, wc64)
		eRF64 := relErr(from64(gc64), from64(wc64))
		check("r2c64 forward", n, eRF64, tolFFTW64)
		s64 := to64(halfSpectrum(r, n))
		gr32, wr32 := make([]float32, n), make([]float32, n)
		if err := rp64.Inverse(gr32, s64); err != nil {
			t.Fatal(err)
		}
		fftwValues(t, tool, "r2c64", "backward", n, s64, wr32)
		wr64 := make([]float64, n)
		for i, v := range wr32 {
			wr64[i] = float64(v) * inv
		}
		eRI64 := relErrReal(gr32, wr64)
		check("r2c64 inverse", n, eRI64, tolFFTW64)

		t.Logf("n=%-7d c128 %.2g/%.2g  c64 %.2g/%.2g  r2c128 %.2g/%.2g  r2c64 %.2g/%.2g (forward/inverse, relative to FFTW)",
			n, eF, eI, eF64, eI64, eRF, eRI, eRF64, eRI64)
	}
	for _, k := range []string{"c128 forward", "c128 inverse", "c64 forward", "c64 inverse",
		"r2c128 forward", "r2c128 inverse", "r2c64 forward", "r2c64 inverse"} {
		t.Logf("%-15s worst error / log2 n: %.2g", k, worst[k])
	}
}
