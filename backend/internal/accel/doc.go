// Package accel holds what every accelerator backend (backend/opencl,
// backend/cuda) computes on the host around its kernels: the spiking
// network's host tables, Poisson generators and snapshot format; the FFT
// plans (radices, twiddles, Bluestein chirps and their spectra, the host
// FFT); the host halves of the state-vector reductions, marginals, folds
// and inverse-CDF sampling from block sums; and the Kuramoto step's
// validation, coupling tables, stage schedule and order parameter.
//
// It knows nothing of devices: a backend keeps only its device buffers,
// uploads, readbacks and launches, and calls this package for the rest,
// so the backends compute the same tables and kernel arguments bit for
// bit.
//
// Errors returned here carry no backend prefix; callers add theirs
// ("opencl: ", "cuda: ").
package accel
