package opencl

import (
	"fmt"
	"unsafe"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/internal/accel"
)

// device is the backend as an accel.Device: the OpenCL calls behind the
// state vector, FFT, network, oscillators and fusion coupling that package
// accel writes once for every accelerator. Its methods but Name and Do
// run with b.mu held (inside Do).
type device struct{ b *Backend }

var _ accel.Device[uintptr] = (*device)(nil)

// clKernel is a kernel object and its name.
type clKernel struct {
	k    uintptr
	name string
}

// Name returns the kernel's name.
func (k *clKernel) Name() string { return k.name }

// Name returns "opencl".
func (*device) Name() string { return "opencl" }

// Do runs f with b.mu held.
func (d *device) Do(f func() error) error {
	d.b.mu.Lock()
	defer d.b.mu.Unlock()
	return f()
}

// Alloc creates a buffer of size bytes.
func (d *device) Alloc(size uintptr) (uintptr, error) { return d.b.alloc(size) }

// Free releases m (OpenCL keeps it until the commands using it finish).
func (d *device) Free(m uintptr) error {
	return check("clReleaseMemObject", d.b.l.ReleaseMemObject(m))
}

// Zero fills size bytes of m with zeros, with the widest pattern (up to
// 16 bytes) that divides size.
func (d *device) Zero(m uintptr, size uintptr) error {
	zero := [16]byte{}
	pat := uintptr(16)
	for pat > 1 && size%pat != 0 {
		pat /= 2
	}
	return check("clEnqueueFillBuffer", d.b.l.EnqueueFillBuffer(d.b.queue, m, unsafe.Pointer(&zero[0]), pat, 0, size, 0, nil, nil))
}

// Copy copies size bytes from src to dst on the device.
func (d *device) Copy(dst, src uintptr, size uintptr) error {
	return check("clEnqueueCopyBuffer", d.b.l.EnqueueCopyBuffer(d.b.queue, src, dst, 0, 0, size, 0, nil, nil))
}

// Write copies size host bytes at p to dst+off (a blocking write).
func (d *device) Write(dst uintptr, off uintptr, p unsafe.Pointer, size uintptr) error {
	return d.b.write(dst, off, p, size)
}

// Read copies size bytes at src+off to the host at p (a blocking read).
func (d *device) Read(src uintptr, off uintptr, p unsafe.Pointer, size uintptr) error {
	return d.b.read(src, off, p, size)
}

// Scratch returns the scratch buffer grown to at least size bytes.
func (d *device) Scratch(size uintptr) (uintptr, error) { return d.b.scratch.Get(d, size) }

// Kernel returns kernel base of family in precision p, building the
// family's program on first use.
func (d *device) Kernel(family string, p backend.Precision, base string) (accel.Kernel, error) {
	pr, err := d.b.program(family, p)
	if err != nil {
		return nil, err
	}
	name := base + "_f32"
	if p == backend.Complex128 {
		name = base + "_f64"
	}
	k, err := d.b.kernel(pr, name)
	if err != nil {
		return nil, fmt.Errorf("opencl: %w", err)
	}
	return &clKernel{k: k, name: name}, nil
}

// Local is the work-group size of a launch: gateLocal for Exact, up to
// 128 for Dense (halved until they divide the items), defaultLocal for
// Cover and MEC_WG for Groups.
func (d *device) Local(_ accel.Kernel, s accel.Shape, items uint64) (uint64, error) {
	switch s {
	case accel.Exact:
		return accel.FitLocal(d.b.gateLocal(), items), nil
	case accel.Dense:
		return accel.FitLocal(128, items), nil
	case accel.Groups:
		return wg, nil
	}
	return uint64(d.b.defaultLocal(uintptr(items))), nil
}

// Launch enqueues the kernel over global items in work-groups of local.
func (d *device) Launch(k accel.Kernel, global, local uint64, args ...any) error {
	ck := k.(*clKernel)
	if err := d.b.launch(ck.k, uintptr(global), uintptr(local), args...); err != nil {
		return fmt.Errorf("opencl: %s: %w", ck.name, err)
	}
	return nil
}

// Sync waits for the queue.
func (d *device) Sync() error { return check("clFinish", d.b.l.Finish(d.b.queue)) }

// FP64 reports whether the device has double precision (cl_khr_fp64),
// which every build then accumulates reductions in (MEC_FP64, MEC_ACC64).
func (d *device) FP64() bool { return d.b.dev.FP64 }

// RunKernels is true: dense gates on low-free targets run as the
// vectorised _run kernels.
func (*device) RunKernels() bool { return true }
