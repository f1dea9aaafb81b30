package cuda

import (
	"fmt"
	"unsafe"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/internal/accel"
)

// device is the backend as an accel.Device: the driver calls behind the
// state vector, FFT, network, oscillators and fusion coupling that package
// accel writes once for every accelerator. Its methods but Name and Do run
// on the worker thread (inside Do).
type device struct{ b *Backend }

var _ accel.Device[uint64] = (*device)(nil)

// Name returns "cuda".
func (*device) Name() string { return "cuda" }

// Do runs f on the worker thread.
func (d *device) Do(f func() error) error { return d.b.do(f) }

// Alloc allocates size bytes of device memory.
func (d *device) Alloc(size uintptr) (uint64, error) { return d.b.alloc(size) }

// Free waits for the queued work, then frees m.
func (d *device) Free(m uint64) error { return d.b.free(m) }

// Zero sets size bytes of m to zero.
func (d *device) Zero(m uint64, size uintptr) error {
	return d.b.l.check("cuMemsetD8", d.b.l.MemsetD8(m, 0, size))
}

// Copy copies size bytes from src to dst on the device.
func (d *device) Copy(dst, src uint64, size uintptr) error {
	return d.b.l.check("cuMemcpyDtoD", d.b.l.MemcpyDtoD(dst, src, size))
}

// Write copies size host bytes at p to dst+off.
func (d *device) Write(dst uint64, off uintptr, p unsafe.Pointer, size uintptr) error {
	return d.b.write(dst, off, p, size)
}

// Read copies size bytes at src+off to the host at p.
func (d *device) Read(src uint64, off uintptr, p unsafe.Pointer, size uintptr) error {
	return d.b.read(src, off, p, size)
}

// Scratch returns the scratch buffer grown to at least size bytes.
func (d *device) Scratch(size uintptr) (uint64, error) { return d.b.scratch.Get(d, size) }

// Kernel returns kernel base of family in precision p from its PTX module.
func (d *device) Kernel(family string, p backend.Precision, base string) (accel.Kernel, error) {
	return d.b.function(family, p, base)
}

// Local is the block size of a launch: gateBlock (or the largest power
// of two the kernel allows below it) halved until it divides the items
// for Exact and Dense launches, that size for Cover, and MEC_WG for
// Groups.
func (d *device) Local(k accel.Kernel, s accel.Shape, items uint64) (uint64, error) {
	fn := k.(*function)
	switch s {
	case accel.Exact, accel.Dense:
		return accel.FitLocal(blockFor(fn), items), nil
	case accel.Groups:
		if fn.maxThreads < wg {
			return 0, fmt.Errorf("cuda: %s allows blocks of %d threads; it needs %d (MEC_WG)", fn.name, fn.maxThreads, wg)
		}
		return wg, nil
	}
	return blockFor(fn), nil
}

// Launch checks args against the kernel's signature and launches it over
// global/local blocks of local threads.
func (d *device) Launch(k accel.Kernel, global, local uint64, args ...any) error {
	fn := k.(*function)
	if err := checkArgs(fn.base, fn.p, args); err != nil {
		return err
	}
	return d.b.launch(fn, global/local, local, args...)
}

// Sync waits for the stream and the context.
func (d *device) Sync() error {
	l := d.b.l
	if err := l.check("cuStreamSynchronize", l.StreamSynchronize(d.b.stream)); err != nil {
		return err
	}
	return l.check("cuCtxSynchronize", l.CtxSynchronize())
}

// FP64 is true: every CUDA device of compute capability 8.0+ has double
// precision, and every build accumulates reductions in it.
func (*device) FP64() bool { return true }

// RunKernels is false: the gate kernels' _run variants are left to OpenCL.
func (*device) RunKernels() bool { return false }
