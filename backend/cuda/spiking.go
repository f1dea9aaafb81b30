package cuda

import (
	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/internal/accel"
	"github.com/prismai/mec/snn"
)

var _ backend.Spiking = (*Backend)(nil)

// NewNetwork builds the network with package snn on the host (accel's
// Network) (so the
// synapses and initial state are exactly the CPU backend's), uploads the
// neuron state, the synapses (as per-target incoming lists, ordered as snn
// adds them), the drives and the delay rings, and simulates it on the
// device in double precision, bit for bit as package snn does.
//
// Per step the device runs three kernels (update, compaction, delivery;
// two more when AddVoltages pushed neurons to threshold). The Poisson
// inputs are drawn on the host by snn's own generators (a host network
// holding only the Poisson groups, stepped in lockstep; they do not depend
// on the network's state), and their spikes, short index lists, are the
// one host→device transfer: per step in Step, once per 1024 steps in Run.
// Step reads the spike count and the spike list back; Run reads nothing.
// AddVoltages reads and writes V (and reads the last spike steps): O(N).
//
// The kernels run in double precision (lif_*_f64; every CUDA device of
// compute capability 8.0+ has it), with products rounded before they are
// added, as the CPU engine's.
func (b *Backend) NewNetwork(net *snn.Network, opt snn.Options) (backend.Network, error) {
	nw, err := accel.NewNetwork(accel.Device[uint64](b.dv), net, opt)
	if err != nil {
		return nil, err
	}
	return nw, nil
}
