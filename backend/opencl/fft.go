package opencl

import (
	"fmt"

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
	f, err := accel.NewFFTPlan(accel.Device[uintptr](b.dv), n, batch, p)
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
	f, err := accel.NewRealFFTPlan(accel.Device[uintptr](b.dv), n, batch, p)
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
		return fmt.Errorf("opencl: %w", err)
	}
	if p == backend.Complex128 && !b.dev.FP64 {
		return fmt.Errorf("opencl: %s: %w", b.dev.Name, errNoFP64)
	}
	if uint64(n)*uint64(batch)*uint64(p.AmpBytes())*3 > b.dev.MaxAlloc {
		return fmt.Errorf("opencl: FFT of %d×%d %s values does not fit %s's %d-byte buffers", batch, n, p, b.dev.Name, b.dev.MaxAlloc)
	}
	return nil
}
