// Package accel holds what every accelerator backend (backend/opencl,
// backend/cuda) computes on the host around its kernels: the spiking
// network's host tables, Poisson generators and snapshot format; the FFT
// plans (radices, twiddles, Bluestein chirps and their spectra, the host
// FFT); the host halves of the state-vector reductions, marginals, folds
// and inverse-CDF sampling from block sums; and the Kuramoto step's
// validation, coupling tables, stage schedule and order parameter.
//
// Device is the small interface a backend implements over its driver
// (allocate, free, copy, look up a kernel by family, precision and name,
// launch, synchronise), generic over its buffer handle; Vector, the state
// vector with its reductions, sampling and fusion coupling, is written
// once on it and is the State of both accelerator backends. The other
// engines still keep their device buffers, uploads, readbacks and
// launches in the backends and call this package for the rest, so the
// backends compute the same tables and kernel arguments bit for bit.
//
// Errors returned here carry no backend prefix; callers add theirs
// ("opencl: ", "cuda: ").
package accel
