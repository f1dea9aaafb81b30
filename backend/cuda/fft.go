package cuda

import (
	"fmt"
	"math/bits"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/internal/accel"
)

// NewFFT plans batch transforms of length n on the device as
// accel.FFTPlan (Stockham stages, or Bluestein's algorithm for lengths
// with a prime factor above 13), refusing before allocating what exceeds
// the device.
func (b *Backend) NewFFT(n, batch int, p backend.Precision) (backend.FFT, error) {
	if err := b.checkFFT(n, batch, p); err != nil {
		return nil, err
	}
	f, err := accel.NewFFTPlan(accel.Device[uint64](b.dv), n, batch, p)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// NewRealFFT plans batch real transforms of length n as
// accel.RealFFTPlan: the complex plan of NewFFT (and its checks) with the
// samples as complex values; the coefficients and samples cross to the
// host.
func (b *Backend) NewRealFFT(n, batch int, p backend.Precision) (backend.RealFFT, error) {
	if err := b.checkFFT(n, batch, p); err != nil {
		return nil, err
	}
	f, err := accel.NewRealFFTPlan(accel.Device[uint64](b.dv), n, batch, p)
	if err != nil {
		return nil, err
	}
	return f, nil
}

var (
	_ backend.Spectral     = (*Backend)(nil)
	_ backend.RealSpectral = (*Backend)(nil)
)

// checkFFT refuses a transform the device cannot plan or hold.
func (b *Backend) checkFFT(n, batch int, p backend.Precision) error {
	if err := accel.CheckFFT(n, batch, p); err != nil {
		return fmt.Errorf("cuda: %w", err)
	}
	m := uint64(1) << bits.Len(uint(2*n))
	// Device values of the plan: the buffer and its twin, the twiddles or
	// the chirp and its spectrum, and a Bluestein plan's own buffers.
	need := 2*uint64(n)*uint64(batch) + 2*uint64(n)
	if n > 1 && accel.Radices(n) == nil {
		need += 2*m*uint64(batch) + m
	}
	if need*uint64(p.AmpBytes()) > b.dev.TotalMem {
		return fmt.Errorf("cuda: FFT of %d×%d %s values needs %.3g GiB; %s has %.3g GiB",
			batch, n, p, float64(need*uint64(p.AmpBytes()))/(1<<30), b.dev.Name, float64(b.dev.TotalMem)/(1<<30))
	}
	return nil
}
