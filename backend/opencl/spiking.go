package opencl

import (
	"fmt"

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
// Double precision is required (cl_khr_fp64): without it the spike trains
// could not match the CPU engine's, and NewNetwork refuses.
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
