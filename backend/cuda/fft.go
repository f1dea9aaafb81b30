package cuda

import (
	"fmt"
	"math/bits"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/internal/accel"
)

// NewFFT plans batch transforms of length n on the device (package
// kernels' fft family): Stockham stages of radix 4, 2 and the small primes
// up to 13, Bluestein's algorithm over a power-of-two length when n has a
// larger prime factor. The buffer, its ping-pong twin and the twiddle
// tables stay on the device.
func (b *Backend) NewFFT(n, batch int, p backend.Precision) (backend.FFT, error) {
	if n < 1 || batch < 1 {
		return nil, fmt.Errorf("cuda: FFT of length %d, batch %d: both must be ≥ 1", n, batch)
	}
	if p != backend.Complex128 && p != backend.Complex64 {
		return nil, fmt.Errorf("cuda: unknown precision %v", p)
	}
	m := uint64(1) << bits.Len(uint(2*n))
	if uint64(batch)*m >= 1<<32 {
		return nil, fmt.Errorf("cuda: FFT of %d×%d values: the kernels index below 2^32", batch, n)
	}
	// Device values of the plan: the buffer and its twin, the twiddles or
	// the chirp and its spectrum, and a Bluestein plan's own buffers.
	need := 2*uint64(n)*uint64(batch) + 2*uint64(n)
	if n > 1 && accel.Radices(n) == nil {
		need += 2*m*uint64(batch) + m
	}
	if need*uint64(p.AmpBytes()) > b.dev.TotalMem {
		return nil, fmt.Errorf("cuda: FFT of %d×%d %s values needs %.3g GiB; %s has %.3g GiB",
			batch, n, p, float64(need*uint64(p.AmpBytes()))/(1<<30), b.dev.Name, float64(b.dev.TotalMem)/(1<<30))
	}
	f, err := accel.NewFFTPlan(accel.Device[uint64](b.dv), n, batch, p)
	if err != nil {
		return nil, err
	}
	return f, nil
}

var _ backend.Spectral = (*Backend)(nil)
