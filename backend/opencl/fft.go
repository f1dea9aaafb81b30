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
	if err := accel.CheckFFT(n, batch, p); err != nil {
		return nil, fmt.Errorf("opencl: %w", err)
	}
	if p == backend.Complex128 && !b.dev.FP64 {
		return nil, fmt.Errorf("opencl: %s: %w", b.dev.Name, errNoFP64)
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
