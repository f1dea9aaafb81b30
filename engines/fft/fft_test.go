package fft

import (
	"errors"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"sync"
	"testing"
)

// Tolerances: relative L2 errors, scaled by max(1, log2 n) where noted.
const (
	tolRoundTrip128 = 1e-12 // per log2 n, complex128 (the acceptance bar)
	tolRoundTrip64  = 2e-6  // per log2 n, complex64
	tolDFT128       = 1e-12 // per log2 n, complex128 vs the float64 direct DFT
	tolDFT64        = 4e-6  // per log2 n, complex64 vs the float64 direct DFT
)

func logn(n int) float64 { return max(1, math.Log2(float64(n))) }

func newRNG() *rand.Rand { return rand.New(rand.NewPCG(1, 1)) }

func randVec(r *rand.Rand, n int) []complex128 {
	v := make([]complex128, n)
	for i := range v {
		v[i] = complex(r.Float64()*2-1, r.Float64()*2-1)
	}
	return v
}

func to64(v []complex128) []complex64 {
	o := make([]complex64, len(v))
	for i, x := range v {
		o[i] = complex64(x)
	}
	return o
}

func from64(v []complex64) []complex128 {
	o := make([]complex128, len(v))
	for i, x := range v {
		o[i] = complex128(x)
	}
	return o
}

// relErr returns ‖a−b‖₂/‖b‖₂ (or ‖a−b‖₂ when b is zero).
func relErr(a, b []complex128) float64 {
	var num, den float64
	for i := range b {
		d := a[i] - b[i]
		num += real(d)*real(d) + imag(d)*imag(d)
		den += real(b[i])*real(b[i]) + imag(b[i])*imag(b[i])
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}

// refTwiddle is exp(-2πi·k/n) computed independently of cis: the product is
// reduced modulo n exactly, then one math.Sincos of the exact fraction.
func refTwiddle(k, n int) complex128 {
	s, c := math.Sincos(-2 * math.Pi * float64(k%n) / float64(n))
	return complex(c, s)
}

// dftBin is one output bin of the direct DFT, accumulated in float64.
func dftBin(x []complex128, k int) complex128 {
	n := len(x)
	var sum complex128
	for j, v := range x {
		sum += v * refTwiddle((j*k)%n, n)
	}
	return sum
}

func dft(x []complex128) []complex128 {
	out := make([]complex128, len(x))
	for k := range out {
		out[k] = dftBin(x, k)
	}
	return out
}

func mustPlan[T Complex](t testing.TB, n int, opts ...Option) *Plan[T] {
	t.Helper()
	p, err := NewPlan[T](n, opts...)
	if err != nil {
		t.Fatalf("NewPlan(%d): %v", n, err)
	}
	return p
}

func roundTrip128(t *testing.T, n int, r *rand.Rand) {
	p := mustPlan[complex128](t, n)
	x := randVec(r, n)
	y := make([]complex128, n)
	if err := p.Forward(y, x); err != nil {
		t.Fatal(err)
	}
	if err := p.Inverse(y, y); err != nil {
		t.Fatal(err)
	}
	if e := relErr(y, x); e > tolRoundTrip128*logn(n) {
		t.Errorf("c128 n=%d round-trip error %.3g > %.3g", n, e, tolRoundTrip128*logn(n))
	}
}

func roundTrip64(t *testing.T, n int, r *rand.Rand) {
	p := mustPlan[complex64](t, n)
	x := to64(randVec(r, n))
	y := make([]complex64, n)
	if err := p.Forward(y, x); err != nil {
		t.Fatal(err)
	}
	if err := p.Inverse(y, y); err != nil {
		t.Fatal(err)
	}
	if e := relErr(from64(y), from64(x)); e > tolRoundTrip64*logn(n) {
		t.Errorf("c64 n=%d round-trip error %.3g > %.3g", n, e, tolRoundTrip64*logn(n))
	}
}

func TestRoundTripAllSmall(t *testing.T) {
	r := newRNG()
	for n := 1; n <= 1024; n++ {
		roundTrip128(t, n, r)
		roundTrip64(t, n, r)
	}
}

// largeSizes covers every engine: Stockham, four-step, Bluestein (primes and
// composites with a large prime factor), plus random lengths.
func largeSizes() []int {
	sizes := []int{1 << 15, 1 << 16, 1 << 17, 1 << 20, 59049, 3 * 5 * 7 * 11 * 13 * 4, 65537, 99991, 2 * 40009, 1 << 11 * 31}
	r := rand.New(rand.NewPCG(2, 2))
	for range 6 {
		sizes = append(sizes, 1025+r.IntN(200000))
	}
	return sizes
}

func TestRoundTripLarge(t *testing.T) {
	r := newRNG()
	for _, n := range largeSizes() {
		roundTrip128(t, n, r)
		roundTrip64(t, n, r)
	}
}

func TestMatchesDFT(t *testing.T) {
	r := newRNG()
	sizes := []int{}
	for n := 1; n <= 130; n++ {
		sizes = append(sizes, n)
	}
	sizes = append(sizes, 243, 256, 343, 384, 4096, 8192, 500, 512, 961, 997, 1000, 1024, 1031, 2048, 2187)
	for _, n := range sizes {
		x := randVec(r, n)
		want := dft(x)
		p := mustPlan[complex128](t, n)
		got := make([]complex128, n)
		if err := p.Forward(got, x); err != nil {
			t.Fatal(err)
		}
		if e := relErr(got, want); e > tolDFT128*logn(n) {
			t.Errorf("c128 n=%d forward vs DFT: %.3g", n, e)
		}
		// The inverse is conj(DFT(conj))/n.
		if err := p.Inverse(got, want); err != nil {
			t.Fatal(err)
		}
		if e := relErr(got, x); e > tolDFT128*logn(n) {
			t.Errorf("c128 n=%d inverse of DFT: %.3g", n, e)
		}
		p64 := mustPlan[complex64](t, n)
		g64 := make([]complex64, n)
		if err := p64.Forward(g64, to64(x)); err != nil {
			t.Fatal(err)
		}
		if e := relErr(from64(g64), want); e > tolDFT64*logn(n) {
			t.Errorf("c64 n=%d forward vs DFT: %.3g", n, e)
		}
	}
}

// TestMatchesDFTLarge spot-checks random bins of large transforms against
// the direct sum (O(n) per bin).
func TestMatchesDFTLarge(t *testing.T) {
	r := newRNG()
	for _, n := range largeSizes() {
		x := randVec(r, n)
		for _, threads := range []int{1, 2} {
			p := mustPlan[complex128](t, n, WithThreads(threads))
			got := make([]complex128, n)
			if err := p.Forward(got, x); err != nil {
				t.Fatal(err)
			}
			var num, den float64
			for range 12 {
				k := r.IntN(n)
				d := got[k] - dftBin(x, k)
				num += real(d)*real(d) + imag(d)*imag(d)
				den += float64(n) // E|X_k|² = n·E|x|² ≈ n·2/3; use n as scale
			}
			if e := math.Sqrt(num / den); e > tolDFT128*logn(n) {
				t.Errorf("n=%d threads=%d: bins vs DFT %.3g", n, threads, e)
			}
		}
	}
}

// TestThreadsIdentical checks that splitting Stockham stages over threads
// gives bit-identical results.
func TestThreadsIdentical(t *testing.T) {
	r := newRNG()
	for _, n := range []int{1 << 17, 1 << 18, 3 * (1 << 16), 5 * 5 * 5 * 5 * 5 * 5 * 5 * 5} {
		x := randVec(r, n)
		want := make([]complex128, n)
		if err := mustPlan[complex128](t, n).Forward(want, x); err != nil {
			t.Fatal(err)
		}
		for _, threads := range []int{2, 3} {
			got := make([]complex128, n)
			if err := mustPlan[complex128](t, n, WithThreads(threads)).Forward(got, x); err != nil {
				t.Fatal(err)
			}
			if e := relErr(got, want); e != 0 {
				t.Errorf("n=%d threads=%d differs from 1 thread by %.3g", n, threads, e)
			}
		}
	}
}

func TestInPlaceOutOfPlaceBatch(t *testing.T) {
	r := newRNG()
	for _, n := range []int{1, 2, 3, 8, 12, 64, 97, 1000, 1 << 15, 1 << 13 * 3, 4099} {
		for _, threads := range []int{1, 2, 3} {
			p := mustPlan[complex128](t, n, WithThreads(threads))
			const batch = 5
			data := randVec(r, n*batch)
			orig := append([]complex128(nil), data...)
			want := make([]complex128, n*batch)
			for b := range batch {
				if err := p.Forward(want[b*n:(b+1)*n], data[b*n:(b+1)*n]); err != nil {
					t.Fatal(err)
				}
			}
			if relErr(data, orig) != 0 {
				t.Fatalf("n=%d: out-of-place Forward modified src", n)
			}
			inplace := append([]complex128(nil), data[:n]...)
			if err := p.Forward(inplace, inplace); err != nil {
				t.Fatal(err)
			}
			if e := relErr(inplace, want[:n]); e != 0 {
				t.Errorf("n=%d threads=%d: in-place differs from out-of-place by %.3g", n, threads, e)
			}
			if err := p.ForwardBatch(data, batch); err != nil {
				t.Fatal(err)
			}
			if e := relErr(data, want); e != 0 {
				t.Errorf("n=%d threads=%d: batch differs from single by %.3g", n, threads, e)
			}
			if err := p.InverseBatch(data, batch); err != nil {
				t.Fatal(err)
			}
			if e := relErr(data, orig); e > tolRoundTrip128*logn(n) {
				t.Errorf("n=%d threads=%d: batch round trip %.3g", n, threads, e)
			}
		}
	}
	// complex64 batch.
	p := mustPlan[complex64](t, 48, WithThreads(2))
	data := to64(randVec(r, 48*3))
	orig := from64(data)
	if err := p.ForwardBatch(data, 3); err != nil {
		t.Fatal(err)
	}
	if err := p.InverseBatch(data, 3); err != nil {
		t.Fatal(err)
	}
	if e := relErr(from64(data), orig); e > tolRoundTrip64*logn(48) {
		t.Errorf("c64 batch round trip %.3g", e)
	}
}

func realVec(r *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = r.Float64()*2 - 1
	}
	return v
}

func TestRealMatchesComplex(t *testing.T) {
	r := newRNG()
	sizes := []int{}
	for n := 1; n <= 300; n++ {
		sizes = append(sizes, n)
	}
	sizes = append(sizes, 1024, 1<<13, 1<<14, 1<<16, 1<<17, 2*1009, 2*65537, 99991, 40000)
	for _, n := range sizes {
		x := realVec(r, n)
		xc := make([]complex128, n)
		for i, v := range x {
			xc[i] = complex(v, 0)
		}
		want := make([]complex128, n)
		if err := mustPlan[complex128](t, n).Forward(want, xc); err != nil {
			t.Fatal(err)
		}
		want = want[:n/2+1]
		rp, err := NewRealPlan[float64, complex128](n)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]complex128, n/2+1)
		if err := rp.Forward(got, x); err != nil {
			t.Fatal(err)
		}
		if e := relErr(got, want); e > tolDFT128*logn(n) {
			t.Errorf("real n=%d vs complex: %.3g", n, e)
		}
		back := make([]float64, n)
		if err := rp.Inverse(back, got); err != nil {
			t.Fatal(err)
		}
		var num, den float64
		for i := range x {
			num += (back[i] - x[i]) * (back[i] - x[i])
			den += x[i] * x[i]
		}
		if e := math.Sqrt(num / den); e > tolRoundTrip128*logn(n) {
			t.Errorf("real n=%d round trip %.3g", n, e)
		}
		// single precision
		rp64, err := NewRealPlan[float32, complex64](n)
		if err != nil {
			t.Fatal(err)
		}
		x32 := make([]float32, n)
		for i, v := range x {
			x32[i] = float32(v)
		}
		g64 := make([]complex64, n/2+1)
		if err := rp64.Forward(g64, x32); err != nil {
			t.Fatal(err)
		}
		if e := relErr(from64(g64), want); e > tolDFT64*logn(n) {
			t.Errorf("real64 n=%d vs complex: %.3g", n, e)
		}
		b32 := make([]float32, n)
		if err := rp64.Inverse(b32, g64); err != nil {
			t.Fatal(err)
		}
		num, den = 0, 0
		for i := range x {
			d := float64(b32[i]) - x[i]
			num += d * d
			den += x[i] * x[i]
		}
		if e := math.Sqrt(num / den); e > tolRoundTrip64*logn(n) {
			t.Errorf("real64 n=%d round trip %.3g", n, e)
		}
	}
}

func TestKnownValues(t *testing.T) {
	// Impulse at j=1: X[k] = exp(-2πi k/n) (sign convention check).
	n := 8
	x := make([]complex128, n)
	x[1] = 1
	p := mustPlan[complex128](t, n)
	if err := p.Forward(x, x); err != nil {
		t.Fatal(err)
	}
	for k, v := range x {
		want := cmplx.Exp(complex(0, -2*math.Pi*float64(k)/float64(n)))
		if cmplx.Abs(v-want) > 1e-15 {
			t.Errorf("X[%d] = %v, want %v", k, v, want)
		}
	}
}

func TestTwiddleAccuracy(t *testing.T) {
	for _, n := range []int{3, 7, 8, 1000, 1 << 20, 999983} {
		for k := -n; k < 2*n; k += max(1, n/97) {
			w := cis(k, n)
			ref := refTwiddle(((k%n)+n)%n, n)
			if cmplx.Abs(w-ref) > 2e-15 || math.Abs(cmplx.Abs(w)-1) > 2.3e-16 {
				t.Errorf("cis(%d,%d) = %v, ref %v", k, n, w, ref)
			}
		}
	}
}

func TestErrors(t *testing.T) {
	for _, n := range []int{0, -1, MaxLen + 1} {
		if _, err := NewPlan[complex128](n); !errors.Is(err, ErrSize) {
			t.Errorf("NewPlan(%d): err=%v, want ErrSize", n, err)
		}
		if _, err := NewRealPlan[float64, complex128](n); !errors.Is(err, ErrSize) {
			t.Errorf("NewRealPlan(%d): err=%v, want ErrSize", n, err)
		}
	}
	if _, err := NewRealPlan[float32, complex128](8); !errors.Is(err, ErrType) {
		t.Errorf("mismatched real plan: err=%v", err)
	}
	p := mustPlan[complex128](t, 8)
	a := make([]complex128, 16)
	if err := p.Forward(a[:7], a[8:]); !errors.Is(err, ErrLength) {
		t.Errorf("short dst: %v", err)
	}
	if err := p.Inverse(a[:8], nil); !errors.Is(err, ErrLength) {
		t.Errorf("nil src: %v", err)
	}
	if err := p.Forward(a[:8], a[4:12]); !errors.Is(err, ErrOverlap) {
		t.Errorf("overlap: %v", err)
	}
	if err := p.ForwardBatch(a, -1); !errors.Is(err, ErrBatch) {
		t.Errorf("batch -1: %v", err)
	}
	if err := p.ForwardBatch(a, 3); !errors.Is(err, ErrLength) {
		t.Errorf("batch 3: %v", err)
	}
	if err := p.ForwardBatch(nil, 0); err != nil {
		t.Errorf("empty batch: %v", err)
	}
	rp, _ := NewRealPlan[float64, complex128](8)
	if err := rp.Forward(make([]complex128, 4), make([]float64, 8)); !errors.Is(err, ErrLength) {
		t.Errorf("real short dst: %v", err)
	}
	if err := rp.Inverse(make([]float64, 8), make([]complex128, 6)); !errors.Is(err, ErrLength) {
		t.Errorf("real long src: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	r := newRNG()
	// 64, 210 and 256 take the plan's own work vector (n ≤ smallMax) when
	// it is free and the pool's when another call holds it.
	for _, n := range []int{1000, 1 << 15, 1031, 64, 210, smallMax} {
		p := mustPlan[complex128](t, n)
		x := randVec(r, n)
		want := make([]complex128, n)
		if err := p.Forward(want, x); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got := make([]complex128, n)
				for range 50 {
					if err := p.Forward(got, x); err != nil {
						t.Error(err)
						return
					}
					if relErr(got, want) != 0 {
						t.Errorf("n=%d: concurrent result differs", n)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
}

func FuzzPlan(f *testing.F) {
	for _, n := range []int{1, 2, 7, 64, 97, 360, 1031, 4096} {
		f.Add(uint16(n), uint64(n))
	}
	f.Fuzz(func(t *testing.T, nRaw uint16, seed uint64) {
		n := int(nRaw)%5000 - 2 // includes invalid 0, -1, -2
		p, err := NewPlan[complex128](n)
		if n < 1 {
			if !errors.Is(err, ErrSize) {
				t.Fatalf("n=%d: err=%v, want ErrSize", n, err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(seed, 1))
		x := randVec(r, n)
		y := make([]complex128, n)
		if err := p.Forward(y, x); err != nil {
			t.Fatal(err)
		}
		if err := p.Inverse(y, y); err != nil {
			t.Fatal(err)
		}
		if e := relErr(y, x); e > tolRoundTrip128*logn(n) {
			t.Fatalf("n=%d round trip %.3g", n, e)
		}
		rp, err := NewRealPlan[float64, complex128](n)
		if err != nil {
			t.Fatal(err)
		}
		xr := realVec(r, n)
		spec := make([]complex128, n/2+1)
		if err := rp.Forward(spec, xr); err != nil {
			t.Fatal(err)
		}
		back := make([]float64, n)
		if err := rp.Inverse(back, spec); err != nil {
			t.Fatal(err)
		}
		for i := range xr {
			if math.Abs(back[i]-xr[i]) > 1e-10 {
				t.Fatalf("real n=%d round trip at %d: %g vs %g", n, i, back[i], xr[i])
			}
		}
	})
}

// TestAVX2MatchesGo compares the assembly radix-4 kernel (when this build
// and CPU have it) with the pure-Go loop: complex128 results are equal bit
// for bit.
func TestAVX2MatchesGo(t *testing.T) {
	if !setAVX2(true) {
		t.Skip("no AVX2 kernel in this build or on this CPU")
	}
	r := newRNG()
	for _, n := range []int{64, 256, 1024, 2048, 1 << 14, 3 * 256, 5 * 1024} {
		x := randVec(r, n)
		p := mustPlan[complex128](t, n)
		asm, gov := make([]complex128, n), make([]complex128, n)
		if err := p.Forward(asm, x); err != nil {
			t.Fatal(err)
		}
		setAVX2(false)
		if err := p.Forward(gov, x); err != nil {
			t.Fatal(err)
		}
		setAVX2(true)
		if e := relErr(asm, gov); e != 0 {
			t.Errorf("n=%d forward: AVX2 vs Go %.3g", n, e)
		}
		if err := p.Inverse(asm, x); err != nil {
			t.Fatal(err)
		}
		setAVX2(false)
		if err := p.Inverse(gov, x); err != nil {
			t.Fatal(err)
		}
		setAVX2(true)
		if e := relErr(asm, gov); e != 0 {
			t.Errorf("n=%d inverse: AVX2 vs Go %.3g", n, e)
		}
	}
}

// TestAVX2MatchesGo64 is TestAVX2MatchesGo for the complex64 kernel:
// the assembly and the Go loop agree to float32 rounding (1e-6 of the
// largest value).
func TestAVX2MatchesGo64(t *testing.T) {
	if !setAVX2(true) {
		t.Skip("no AVX2 kernel in this build or on this CPU")
	}
	defer setAVX2(true)
	r := newRNG()
	for _, n := range []int{16, 64, 256, 1024, 2048, 1 << 14, 3 * 256, 5 * 1024} {
		x64 := make([]complex64, n)
		for i, v := range randVec(r, n) {
			x64[i] = complex64(v)
		}
		p := mustPlan[complex64](t, n)
		for _, inv := range []bool{false, true} {
			asm, gov := make([]complex64, n), make([]complex64, n)
			run := p.Forward
			if inv {
				run = p.Inverse
			}
			setAVX2(true)
			if err := run(asm, x64); err != nil {
				t.Fatal(err)
			}
			setAVX2(false)
			if err := run(gov, x64); err != nil {
				t.Fatal(err)
			}
			a128, g128 := make([]complex128, n), make([]complex128, n)
			for i := range asm {
				a128[i], g128[i] = complex128(asm[i]), complex128(gov[i])
			}
			if e := relErr(a128, g128); e > 1e-6 {
				t.Errorf("n=%d inverse=%v: AVX2 vs Go %.3g", n, inv, e)
			}
		}
	}
}

// TestReal64MatchesReal128 checks the float32 real transform (forward and
// inverse) of every length 1..300 and a few large ones against the float64
// one, within float32 rounding (tolFFTW64·log2 n relative L2).
func TestReal64MatchesReal128(t *testing.T) {
	r := newRNG()
	sizes := []int{}
	for n := 1; n <= 300; n++ {
		sizes = append(sizes, n)
	}
	sizes = append(sizes, 1024, 4096+8, 1<<16)
	for _, n := range sizes {
		x := realVec(r, n)
		x32 := make([]float32, n)
		for i, v := range x {
			x32[i] = float32(v)
			x[i] = float64(x32[i])
		}
		p128, err := NewRealPlan[float64, complex128](n)
		if err != nil {
			t.Fatal(err)
		}
		p64, err := NewRealPlan[float32, complex64](n)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]complex128, n/2+1)
		got := make([]complex64, n/2+1)
		if err := p128.Forward(want, x); err != nil {
			t.Fatal(err)
		}
		if err := p64.Forward(got, x32); err != nil {
			t.Fatal(err)
		}
		got128 := make([]complex128, len(got))
		for i, v := range got {
			got128[i] = complex128(v)
		}
		if e := relErr(got128, want); e > tolFFTW64*logn(n) {
			t.Errorf("float32 real n=%d forward vs float64: %.3g", n, e)
		}
		back := make([]float32, n)
		if err := p64.Inverse(back, got); err != nil {
			t.Fatal(err)
		}
		var num, den float64
		for i := range back {
			d := float64(back[i]) - x[i]
			num += d * d
			den += x[i] * x[i]
		}
		if e := math.Sqrt(num / den); e > tolFFTW64*logn(n) {
			t.Errorf("float32 real n=%d round trip: %.3g", n, e)
		}
	}
}

// TestRealBatch checks RealPlan.ForwardBatch and InverseBatch against
// single transforms (identical results) on 1, 2 and 3 threads, both
// precisions, and their errors.
func TestRealBatch(t *testing.T) {
	r := newRNG()
	for _, n := range []int{1, 2, 7, 64, 1000, 1 << 12} {
		for _, threads := range []int{1, 2, 3} {
			const batch = 4
			h := n/2 + 1
			p, err := NewRealPlan[float64, complex128](n, WithThreads(threads))
			if err != nil {
				t.Fatal(err)
			}
			x := realVec(r, n*batch)
			want := make([]complex128, h*batch)
			for b := range batch {
				if err := p.Forward(want[b*h:(b+1)*h], x[b*n:(b+1)*n]); err != nil {
					t.Fatal(err)
				}
			}
			got := make([]complex128, h*batch)
			if err := p.ForwardBatch(got, x, batch); err != nil {
				t.Fatal(err)
			}
			if e := relErr(got, want); e != 0 {
				t.Errorf("n=%d threads=%d: forward batch differs from single by %.3g", n, threads, e)
			}
			back := make([]float64, n*batch)
			if err := p.InverseBatch(back, got, batch); err != nil {
				t.Fatal(err)
			}
			single := make([]float64, n)
			for b := range batch {
				if err := p.Inverse(single, got[b*h:(b+1)*h]); err != nil {
					t.Fatal(err)
				}
				for i, v := range single {
					if back[b*n+i] != v {
						t.Fatalf("n=%d threads=%d: inverse batch signal %d differs at %d", n, threads, b, i)
					}
				}
			}

			p64, err := NewRealPlan[float32, complex64](n, WithThreads(threads))
			if err != nil {
				t.Fatal(err)
			}
			x32 := make([]float32, len(x))
			for i, v := range x {
				x32[i] = float32(v)
			}
			g64 := make([]complex64, h*batch)
			if err := p64.ForwardBatch(g64, x32, batch); err != nil {
				t.Fatal(err)
			}
			one := make([]complex64, h)
			for b := range batch {
				if err := p64.Forward(one, x32[b*n:(b+1)*n]); err != nil {
					t.Fatal(err)
				}
				for k, v := range one {
					if g64[b*h+k] != v {
						t.Fatalf("float32 n=%d threads=%d: forward batch signal %d differs at %d", n, threads, b, k)
					}
				}
			}
		}
	}
	p, _ := NewRealPlan[float64, complex128](8)
	if err := p.ForwardBatch(make([]complex128, 10), make([]float64, 16), -1); !errors.Is(err, ErrBatch) {
		t.Errorf("batch -1: %v", err)
	}
	if err := p.ForwardBatch(make([]complex128, 9), make([]float64, 16), 2); !errors.Is(err, ErrLength) {
		t.Errorf("short dst: %v", err)
	}
	if err := p.InverseBatch(make([]float64, 15), make([]complex128, 10), 2); !errors.Is(err, ErrLength) {
		t.Errorf("short dst: %v", err)
	}
	if err := p.ForwardBatch(nil, nil, 0); err != nil {
		t.Errorf("empty batch: %v", err)
	}
}

// TestInPlacePow2 checks that in-place transforms of every power of two up
// to 2^21 (every stage count and position of the radix-16, radix-4 and
// radix-2 passes of the default orders) equal the out-of-place ones
// exactly, both precisions, forward and inverse.
func TestInPlacePow2(t *testing.T) {
	r := newRNG()
	for lg := 0; lg <= 21; lg++ {
		n := 1 << lg
		x := randVec(r, n)
		p := mustPlan[complex128](t, n)
		p64 := mustPlan[complex64](t, n)
		for _, inv := range []bool{false, true} {
			run, run64 := p.Forward, p64.Forward
			if inv {
				run, run64 = p.Inverse, p64.Inverse
			}
			want, got := make([]complex128, n), append([]complex128(nil), x...)
			if err := run(want, x); err != nil {
				t.Fatal(err)
			}
			if err := run(got, got); err != nil {
				t.Fatal(err)
			}
			if e := relErr(got, want); e != 0 {
				t.Errorf("c128 n=2^%d inverse=%v: in place differs by %.3g", lg, inv, e)
			}
			x64 := to64(x)
			w64, g64 := make([]complex64, n), append([]complex64(nil), x64...)
			if err := run64(w64, x64); err != nil {
				t.Fatal(err)
			}
			if err := run64(g64, g64); err != nil {
				t.Fatal(err)
			}
			if e := relErr(from64(g64), from64(w64)); e != 0 {
				t.Errorf("c64 n=2^%d inverse=%v: in place differs by %.3g", lg, inv, e)
			}
		}
	}
}

// TestSmallPlanPoolPath: a short plan whose own work vector is held (as by
// a concurrent call) takes the pool's and still computes the DFT.
func TestSmallPlanPoolPath(t *testing.T) {
	r := newRNG()
	for _, n := range []int{64, 210, smallMax} {
		p := mustPlan[complex128](t, n)
		x := randVec(r, n)
		want := make([]complex128, n)
		if err := p.Forward(want, x); err != nil {
			t.Fatal(err)
		}
		if !p.e128.own.busy.CompareAndSwap(false, true) {
			t.Fatalf("n=%d: own work vector busy with no call running", n)
		}
		got := make([]complex128, n)
		if err := p.Forward(got, x); err != nil {
			t.Fatal(err)
		}
		back := make([]complex128, n)
		if err := p.Inverse(back, got); err != nil {
			t.Fatal(err)
		}
		p.e128.own.busy.Store(false)
		if e := relErr(got, want); e != 0 {
			t.Errorf("n=%d: pool path differs from own path by %g", n, e)
		}
		if e := relErr(back, x); e > 1e-14 {
			t.Errorf("n=%d: pool path round trip error %g", n, e)
		}
		p64 := mustPlan[complex64](t, n)
		x64 := make([]complex64, n)
		for i, z := range x {
			x64[i] = complex64(z)
		}
		w64 := make([]complex64, n)
		if err := p64.Forward(w64, x64); err != nil {
			t.Fatal(err)
		}
		p64.e64.own.busy.Store(true)
		g64 := make([]complex64, n)
		if err := p64.Forward(g64, x64); err != nil {
			t.Fatal(err)
		}
		p64.e64.own.busy.Store(false)
		for i := range g64 {
			if g64[i] != w64[i] {
				t.Fatalf("n=%d complex64: pool path differs at %d: %v vs %v", n, i, g64[i], w64[i])
			}
		}
	}
}
