package opencl

import (
	"fmt"
	"math/bits"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/internal/accel"
)

// State is a state vector in an OpenCL device buffer: accel's Vector on
// this backend's device.
type State = accel.Vector[uintptr]

// NewState allocates |0…0⟩ on n qubits in device memory, refusing before
// allocating what exceeds the device's memory or its largest allocation.
func (b *Backend) NewState(n int, p backend.Precision) (backend.State, error) {
	if n >= 0 && n <= 40 {
		if p == backend.Complex128 && !b.dev.FP64 {
			return nil, fmt.Errorf("opencl: %s: %w", b.dev.Name, errNoFP64)
		}
		size := backend.StateBytes(n, p)
		if uint64(size) > b.dev.MaxAlloc || uint64(size) > b.dev.GlobalMem {
			return nil, fmt.Errorf("opencl: a %d-qubit %s state needs %.3g GiB; %s allows %.3g GiB per buffer (%.3g GiB in all)",
				n, p, float64(size)/(1<<30), b.dev.Name, float64(b.dev.MaxAlloc)/(1<<30), float64(b.dev.GlobalMem)/(1<<30))
		}
	}
	s, err := accel.NewVector(accel.Device[uintptr](b.dv), n, p, nil)
	if err != nil {
		return nil, err
	}
	return s, nil
}

var _ backend.StateVector = (*Backend)(nil)

// FreeLowQubits implements backend.LowQubitHinter: dense gates whose
// targets all lie at or above qubit log2(SV_RUN) run as contiguous runs
// that the device vectorises.
func (b *Backend) FreeLowQubits(p backend.Precision) int {
	return bits.TrailingZeros(uint(accel.SVRun(p)))
}

// gateLocal is the preferred work-group size of gate kernels (halved
// until it divides their items, since they cover them exactly): the
// largest the device allows (up to 4096) on CPU devices, where PoCL runs
// a work-group as one vectorised loop, and 256 elsewhere.
func (b *Backend) gateLocal() uint64 {
	if b.dev.Kind() == "cpu" {
		return min(4096, uint64(b.dev.MaxWorkGroupSize))
	}
	return 256
}

// wg is MEC_WG in kernels/compat.h.
const wg = accel.WG
