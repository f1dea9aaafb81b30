package accel

import (
	"math"
	"math/bits"
)

// FFTMaxR is FFT_MAXR in kernels/fft.cl: the largest radix of one stage.
const FFTMaxR = 16

// Radices factors n into Stockham stages, or returns nil when a prime
// factor exceeds FFTMaxR.
func Radices(n int) []int {
	var rs []int
	for n%4 == 0 {
		rs = append(rs, 4)
		n /= 4
	}
	if n%2 == 0 {
		rs = append(rs, 2)
		n /= 2
	}
	for _, p := range []int{3, 5, 7, 11, 13} {
		for n%p == 0 {
			rs = append(rs, p)
			n /= p
		}
	}
	if n != 1 {
		return nil
	}
	return rs
}

// Twiddles returns exp(-2πi t/n) for t < n, the Stockham stages' table.
func Twiddles(n int) []complex128 {
	tw := make([]complex128, n)
	for t := range tw {
		s, c := math.Sincos(-2 * math.Pi * float64(t) / float64(n))
		tw[t] = complex(c, s)
	}
	return tw
}

// Bluestein plans a transform of length n (n ≥ 2) whose radices are nil:
// X_k = c_k Σ_j (x_j c_j) conj(c_{k-j}), c_k = exp(-πi k²/n), a circular
// convolution of length m ≥ 2n-1, a power of two. It returns m, the chirp
// c (n values) and the spectrum of the convolution kernel (m values).
func Bluestein(n int) (m int, chirp, spec []complex128) {
	m = BluesteinLen(n)
	chirp = Chirp(n)
	return m, chirp, ChirpSpectrum(chirp, m)
}

// BluesteinLen is the length of a Bluestein plan's inner transform: the
// least power of two above 2n-2.
func BluesteinLen(n int) int { return 1 << bits.Len(uint(2*n-2)) }

// Chirp returns c_k = exp(-πi k²/n) for k < n.
func Chirp(n int) []complex128 {
	chirp := make([]complex128, n)
	for k := range chirp {
		// k² mod 2n keeps the angle exact for large k.
		e := (uint64(k) * uint64(k)) % uint64(2*n)
		s, c := math.Sincos(-math.Pi * float64(e) / float64(n))
		chirp[k] = complex(c, s)
	}
	return chirp
}

// ChirpSpectrum returns the forward transform of length m of the
// convolution kernel conj(c_k), wrapped around (k and m-k).
func ChirpSpectrum(chirp []complex128, m int) []complex128 {
	conv := make([]complex128, m)
	for k := 0; k < len(chirp); k++ {
		c := complex(real(chirp[k]), -imag(chirp[k]))
		conv[k] = c
		if k > 0 {
			conv[m-k] = c
		}
	}
	return HostFFT(conv)
}

// HostFFT is a radix-2 forward transform in complex128 (len a power of
// two), used once per Bluestein plan for the chirp's spectrum.
func HostFFT(a []complex128) []complex128 {
	n := len(a)
	x := make([]complex128, n)
	shift := bits.LeadingZeros(uint(n)) + 1
	for i := range a {
		x[bits.Reverse(uint(i))>>uint(shift)] = a[i]
	}
	for size := 2; size <= n; size <<= 1 {
		half := size / 2
		for k := 0; k < half; k++ {
			s, c := math.Sincos(-2 * math.Pi * float64(k) / float64(size))
			w := complex(c, s)
			for start := 0; start < n; start += size {
				u, v := x[start+k], w*x[start+k+half]
				x[start+k], x[start+k+half] = u+v, u-v
			}
		}
	}
	return x
}

// FFTStage is one launch of the fft_stage kernel: radix R after earlier
// stages whose radices multiply to Ns, over Total work items, its outputs
// scaled by Scale.
type FFTStage struct {
	R, Ns int
	Total uint32
	Scale float64
}

// FFTStages is the stage schedule of a Stockham plan of length n with the
// given radices over batch vectors; only the last stage carries scale.
// Stage k reads the buffer stage k-1 wrote (ping-pong).
func FFTStages(n, batch int, radices []int, scale float64) []FFTStage {
	st := make([]FFTStage, len(radices))
	ns := 1
	for i, r := range radices {
		sc := 1.0
		if i == len(radices)-1 {
			sc = scale
		}
		st[i] = FFTStage{R: r, Ns: ns, Total: uint32(n / r * batch), Scale: sc}
		ns *= r
	}
	return st
}
