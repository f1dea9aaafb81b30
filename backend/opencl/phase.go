package opencl

import (
	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/internal/accel"
	"github.com/prismai/mec/engines/kuramoto"
)

var _ backend.Phase = (*Backend)(nil)

// NewOscillators puts a Kuramoto network on the device as
// accel.Oscillators, in double precision when the device has fp64 (results
// agree with package kuramoto to rounding, ~1e-13 after hundreds of
// steps), else in single precision (agreement ~1e-5; the conformance suite
// needs fp64).
func (b *Backend) NewOscillators(net kuramoto.Network, phase0 []float64, method kuramoto.Method) (backend.Oscillators, error) {
	o, err := accel.NewOscillators(accel.Device[uintptr](b.dv), net, phase0, method)
	if err != nil {
		return nil, err
	}
	return o, nil
}
