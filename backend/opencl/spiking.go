package opencl

import (
	"fmt"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/internal/accel"
	"github.com/prismai/mec/engines/snn"
)

var _ backend.Spiking = (*Backend)(nil)

// NewNetwork simulates the network on the device as accel.Network does
// on every accelerator: built by package snn on the host, stepped by the
// lif kernels in double precision, bit for bit as package snn. Double
// precision is required (cl_khr_fp64): without it the spike trains could
// not match the CPU engine's, and NewNetwork refuses.
func (b *Backend) NewNetwork(net *snn.Network, opt snn.Options) (backend.Network, error) {
	if net != nil && !b.dev.FP64 {
		return nil, fmt.Errorf("opencl: %s: spiking networks need double precision to match package snn: %w", b.dev.Name, errNoFP64)
	}
	nw, err := accel.NewNetwork(accel.Device[uintptr](b.dv), net, opt)
	if err != nil {
		return nil, err
	}
	return nw, nil
}
