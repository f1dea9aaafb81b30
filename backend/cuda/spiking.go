package cuda

import (
	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/internal/accel"
	"github.com/prismai/mec/engines/snn"
)

var _ backend.Spiking = (*Backend)(nil)

// NewNetwork simulates the network on the device as accel.Network does
// on every accelerator: built by package snn on the host, stepped by the
// lif kernels in double precision (lif_*_f64; every CUDA device of
// compute capability 8.0+ has it), bit for bit as package snn.
func (b *Backend) NewNetwork(net *snn.Network, opt snn.Options) (backend.Network, error) {
	nw, err := accel.NewNetwork(accel.Device[uint64](b.dv), net, opt)
	if err != nil {
		return nil, err
	}
	return nw, nil
}
