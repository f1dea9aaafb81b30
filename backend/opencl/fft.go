package opencl

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
		return nil, fmt.Errorf("opencl: FFT of length %d, batch %d: both must be ≥ 1", n, batch)
	}
	if p == backend.Complex128 && !b.dev.FP64 {
		return nil, fmt.Errorf("opencl: %s: %w", b.dev.Name, errNoFP64)
	}
	if m := uint64(1) << bits.Len(uint(2*n)); uint64(batch)*m >= 1<<32 {
		return nil, fmt.Errorf("opencl: FFT of %d×%d values: the kernels index below 2^32", batch, n)
	}
	if uint64(n)*uint64(batch)*uint64(p.AmpBytes())*3 > b.dev.MaxAlloc {
		return nil, fmt.Errorf("opencl: FFT of %d×%d %s values does not fit %s's %d-byte buffers", batch, n, p, b.dev.Name, b.dev.MaxAlloc)
	}
	f, err := accel.NewFFTPlan(accel.Device[uintptr](b.dv), n, batch, p)
	if err != nil {
		return nil, err
	}
	return f, nil
}

var _ backend.Spectral = (*Backend)(nil)
