// Package all registers every backend mec ships. Import it for its side
// effect: _ "github.com/prismai/mec/backend/all".
//
// Layer: compute library (registration). It may import every backend and
// device adapter, and nothing else of mec.
package all

import (
	_ "github.com/prismai/mec/backend/cpu"       // the CPU backend, always present
	_ "github.com/prismai/mec/backend/cuda"      // CUDA through libcuda.so.1 (driver API, embedded PTX), on GPUs of compute capability 8.0+
	_ "github.com/prismai/mec/backend/opencl"    // OpenCL through libOpenCL.so.1, when a device is present
	_ "github.com/prismai/mec/devices/lava"      // Loihi through the Lava sidecar; needs MEC_LAVA_SIDECAR
	_ "github.com/prismai/mec/devices/qpu"       // a QPU (IBM Qiskit Runtime or `mec serve qpu`); needs MEC_QPU_URL
	_ "github.com/prismai/mec/devices/sensor"    // SPI/I2C sensor input; needs MEC_SENSOR_SPI / MEC_SENSOR_I2C
	_ "github.com/prismai/mec/devices/spinnaker" // SpiNNaker live spike I/O (EIEIO/SDP); needs MEC_SPINNAKER_HOST
)
