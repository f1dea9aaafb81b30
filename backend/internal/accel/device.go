package accel

import (
	"errors"
	"fmt"
	"math/bits"
	"unsafe"

	"github.com/prismai/mec/backend"
)

// Handle is a device buffer handle: an OpenCL cl_mem (uintptr) or a CUDA
// device pointer (uint64).
type Handle interface{ ~uintptr | ~uint64 }

// Ptr marks a device buffer passed as a kernel argument, so that a
// device tells it from a 64-bit integer (a CUDA device pointer is a
// uint64 too).
type Ptr[M Handle] struct{ M M }

// Kernel is a kernel a Device looked up: its entry point and whatever the
// device launches it with.
type Kernel interface {
	// Name returns the kernel's entry point (base name and precision
	// suffix, as "sv_norm_f64"), for errors.
	Name() string
}

// Shape says how a launch covers its items, and so which work-group
// (block) size a device picks for it.
type Shape int

const (
	// Exact launches exactly items work items (a power of two) in groups
	// that divide it: the gate kernels, which have no bounds check.
	Exact Shape = iota
	// Dense is Exact for the dense gate kernels, whose private arrays make
	// large groups spill.
	Dense
	// Cover launches at least items work items, rounded up to whole
	// groups; the kernel returns early for items past its count.
	Cover
	// Groups launches whole groups of exactly WG work items (items is a
	// multiple of WG): the kernels whose work-group arrays and tree
	// reductions are sized by MEC_WG.
	Groups
)

// Device is what an accelerator backend provides to the code written once
// in this package: memory, kernels and launches on one device, with one
// queue (stream) that runs what is launched in order. M is the backend's
// buffer handle.
//
// Every method but Name and Do is called only inside Do, which gives
// the caller the device alone: the CUDA backend runs f on the worker
// thread that holds its context current, the OpenCL backend under its
// mutex. Errors from the methods carry the backend's prefix ("cuda: ",
// "opencl: ").
type Device[M Handle] interface {
	// Name returns the backend's name, the prefix of the errors this
	// package adds context to.
	Name() string
	// Do runs f with the device to itself and returns f's error.
	Do(f func() error) error
	// Alloc allocates size bytes of device memory.
	Alloc(size uintptr) (M, error)
	// Free releases m after the work queued on it.
	Free(m M) error
	// Zero sets size bytes of m to zero, in queue order.
	Zero(m M, size uintptr) error
	// Copy copies size bytes from src to dst on the device, in queue order.
	Copy(dst, src M, size uintptr) error
	// Write copies size host bytes at p to dst+off after every launch
	// queued before it; p may be reused when it returns.
	Write(dst M, off uintptr, p unsafe.Pointer, size uintptr) error
	// Read copies size bytes at src+off to the host at p after every
	// launch queued before it.
	Read(src M, off uintptr, p unsafe.Pointer, size uintptr) error
	// Scratch returns the device's scratch buffer (gate matrices,
	// reduction partials), grown to at least size bytes. What it held
	// before is lost when it grows.
	Scratch(size uintptr) (M, error)
	// Kernel returns kernel base of a family (kernels/<family>.cl) in
	// precision p (complex128: the _f64 build, complex64: the _f32 one),
	// loading or building the family on first use.
	Kernel(family string, p backend.Precision, base string) (Kernel, error)
	// Local returns the work-group (block) size of a launch of k over
	// items work items of the given shape.
	Local(k Kernel, s Shape, items uint64) (uint64, error)
	// Launch queues k over global work items in groups of local (global a
	// multiple of local) with args: Ptr[M] for buffers, uint64, int32,
	// and float64 or float32 for reals of the kernel's precision.
	Launch(k Kernel, global, local uint64, args ...any) error
	// Sync waits until everything queued has finished and returns the
	// first error any of it hit.
	Sync() error
	// FP64 reports whether the device computes in double: its _f64
	// kernels run, reductions accumulate in double in both precisions
	// (partials of 8 bytes; otherwise 4), and the oscillators run in
	// double (otherwise in float).
	FP64() bool
	// RunKernels reports whether dense gates on up to four targets, all at
	// or above qubit log2(SVRun), run as the vectorised sv_apply<k>_run
	// kernels (the OpenCL backend's choice on its devices).
	RunKernels() bool
}

// FitLocal halves the preferred group size pref until it divides items
// (items a power of two or a multiple of the result), for Exact and
// Dense launches.
func FitLocal(pref, items uint64) uint64 {
	l := max(pref, 1)
	for l > 1 && items%l != 0 {
		l /= 2
	}
	return l
}

// launch queues kernel base of family in precision p over items of shape
// s: the device picks the group size, and Cover rounds the items up to
// whole groups.
func launch[M Handle](d Device[M], family string, p backend.Precision, base string, s Shape, items uint64, args ...any) error {
	k, err := d.Kernel(family, p, base)
	if err != nil {
		return err
	}
	if items == 0 {
		return nil
	}
	local, err := d.Local(k, s, items)
	if err != nil {
		return err
	}
	global := items
	if s == Cover {
		global = (items + local - 1) / local * local
	}
	return d.Launch(k, global, local, args...)
}

// readPartials reads count reduction partials (8 or 4 bytes each, as
// d.Acc64(p) says) from buf.
func readPartials[M Handle](d Device[M], buf M, count int) ([]float64, error) {
	out := make([]float64, count)
	if count == 0 {
		return out, nil
	}
	if d.FP64() {
		if err := d.Read(buf, 0, unsafe.Pointer(&out[0]), uintptr(count)*8); err != nil {
			return nil, err
		}
		return out, nil
	}
	f := make([]float32, count)
	if err := d.Read(buf, 0, unsafe.Pointer(&f[0]), uintptr(count)*4); err != nil {
		return nil, err
	}
	for i, v := range f {
		out[i] = float64(v)
	}
	return out, nil
}

// accBytes is the size of one reduction partial.
func accBytes[M Handle](d Device[M]) uintptr {
	if d.FP64() {
		return 8
	}
	return 4
}

// Scratch is a device's scratch buffer (gate matrices, kick values,
// reduction partials), grown on demand. A backend keeps one and serves
// Device.Scratch from it.
type Scratch[M Handle] struct {
	m    M
	size uintptr
}

// minScratch is the smallest scratch buffer allocated.
const minScratch = 1 << 16

// Get returns the buffer grown to at least size bytes (and at least 64
// KiB); a smaller one is freed after the work queued on it. Inside Do.
func (s *Scratch[M]) Get(d Device[M], size uintptr) (M, error) {
	if s.size >= size {
		return s.m, nil
	}
	if err := s.Release(d); err != nil {
		return 0, err
	}
	size = max(size, minScratch)
	m, err := d.Alloc(size)
	if err != nil {
		return 0, err
	}
	s.m, s.size = m, size
	return m, nil
}

// Release frees the buffer, if any, after the work queued on it. Inside
// Do.
func (s *Scratch[M]) Release(d Device[M]) error {
	if s.m == 0 {
		return nil
	}
	err := errors.Join(d.Sync(), d.Free(s.m))
	s.m, s.size = 0, 0
	if err != nil {
		return fmt.Errorf("%s: freeing the scratch buffer: %w", d.Name(), err)
	}
	return nil
}

// CheckFFT refuses a batch of FFTs the kernels cannot run: n and batch
// below 1, an unknown precision, or a plan (Bluestein's included) that
// indexes past 2^32 values.
func CheckFFT(n, batch int, p backend.Precision) error {
	if n < 1 || batch < 1 {
		return fmt.Errorf("FFT of length %d, batch %d: both must be ≥ 1", n, batch)
	}
	if p != backend.Complex128 && p != backend.Complex64 {
		return fmt.Errorf("unknown precision %v", p)
	}
	if m := uint64(1) << bits.Len(uint(2*n)); uint64(batch)*m >= 1<<32 {
		return fmt.Errorf("FFT of %d×%d values: the kernels index below 2^32", batch, n)
	}
	return nil
}
