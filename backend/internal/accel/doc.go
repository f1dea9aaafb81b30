// Package accel is the one implementation of mec's engines on an
// accelerator: the state vector (Vector, with its reductions, marginals,
// sampling and fusion coupling), the FFT plan (FFTPlan), the Kuramoto
// oscillators (Oscillators) and the spiking network (Network), written
// once over Device, a small interface that each accelerator backend
// implements over its driver: allocate, free, zero, copy, write, read, a
// scratch buffer, look up a kernel by family, precision and name, pick a
// work-group size, launch with arguments and global/local sizes, and
// synchronise. Device is generic over the backend's buffer handle (a
// cl_mem, a CUDA device pointer).
//
// Around the kernels it holds what the host computes: the network's host
// tables, the mapping of its device state to and from snn's Snapshot
// (whose encoding, and the Poisson generators, are snn's); the FFT radices,
// twiddles, Bluestein chirps and their spectra; the host halves of the
// reductions, marginals, folds and inverse-CDF sampling; the Kuramoto
// step's validation, coupling tables, stage schedule and order parameter.
// Both backends therefore compute the same tables and kernel arguments
// bit for bit, and the shared conformance suite (backend/backendtest)
// checks one implementation on every device.
//
// What it owns and may import: the engine types above and their host
// arithmetic; it imports package backend (the contract), circuit, snn and
// kuramoto (the CPU engines whose formats and rules it follows), and no
// backend. backend/cuda and backend/opencl import it; nothing else does
// (it is internal to backend/).
//
// # A third accelerator
//
// A Metal, Vulkan compute or ROCm/HIP backend needs only its bindings:
//
//   - Load the driver library at run time (purego, as the two others) and
//     enumerate its devices; register a backend.Driver whose Init opens
//     the chosen device and returns a Backend.
//   - Implement Device[M] on a small adapter type, M being the API's
//     buffer handle (an MTLBuffer or VkBuffer id, a hipDeviceptr_t):
//     Alloc/Free/Zero/Copy/Write/Read on one in-order queue (a Metal
//     command queue, a Vulkan queue with a timeline, a HIP stream), Do to
//     serialise calls (a mutex, or a locked worker thread where the API
//     binds a context to a thread, as CUDA does), Kernel to load a family
//     of package kernels in a precision, Local to pick work-group sizes for
//     the four launch shapes, Launch to bind Ptr[M] and scalar arguments,
//     Sync, FP64 and RunKernels.
//   - Get the kernels to the device: package kernels keeps one C body per
//     family behind compat.h. HIP compiles the CUDA dialect as it is (hipcc
//     offline, or hipRTC at run time); Metal and Vulkan need a translation
//     of compat.h's macros (to MSL, or to SPIR-V through clspv, which takes
//     the OpenCL C the OpenCL backend already builds) and a committed
//     artefact with a staleness check like `make kernels-check`.
//   - Make the Backend's NewState, NewFFT, NewOscillators and NewNetwork
//     the device-specific size checks followed by NewVector, NewFFTPlan,
//     NewOscillators and NewNetwork here, and run backendtest.Run and the
//     engine conformance suites on it.
//
// Errors: the engines' errors carry the backend's prefix (Device.Name);
// the host helpers' errors carry none, and their callers add it.
package accel
