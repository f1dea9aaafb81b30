// Package opencl is mec's OpenCL backend. It loads libOpenCL.so.1 at run
// time (purego; CGO_ENABLED=0 works), enumerates every platform and
// device, and runs the kernels of package kernels, compiled from source
// for the chosen device on first use (the build log is in the error when
// compilation fails; compiled programs are cached in memory and on disk,
// keyed by source hash, build options and device).
//
// Layer: compute library (a backend). It may import backend,
// backend/internal/accel, kernels and the engines' description types; never
// another backend, a device, the runtime or the commands.
//
// Device choice: $MEC_OPENCL_DEVICE (also set by `mec --device`) is
// "P:D" (platform and device index), "D" (device index over all
// platforms) or a substring of the device name; by default the first GPU
// or accelerator, else the first device. A GPU or accelerator gives the
// backend priority 20, above the CPU backend; a CPU device (PoCL) ranks
// below it (-10), so it is used only when asked for.
//
// States live in device buffers between operations; only Read (and the
// few blocks a sampling call needs) copy to the host. complex128 states
// need cl_khr_fp64: without it they are refused with that reason.
//
// The engines themselves (state vector, FFT, oscillators, spiking network,
// fusion coupling) are package accel's, written once for every
// accelerator; this package owns the OpenCL bindings (cl.go), platform and
// device discovery and choice, program builds and their on-disk cache, and
// the launch plumbing (kernel arguments, work-group sizes), which it
// offers to accel as an accel.Device (device.go). It imports backend,
// accel and kernels (and kuramoto and snn for the engine constructors'
// types).
package opencl

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/internal/accel"
	"github.com/prismai/mec/internal/atomicfile"
	"github.com/prismai/mec/kernels"
)

// EnvDevice selects the OpenCL device (see the package doc).
const EnvDevice = "MEC_OPENCL_DEVICE"

func init() { backend.Register(&driver{}) }

type driver struct{ prio int }

func (*driver) Name() string { return "opencl" }

// Priority is 20 until Init found a CPU device (then -10): a GPU should
// win over the native CPU backend, PoCL on the same CPU should not.
func (d *driver) Priority() int {
	if d.prio != 0 {
		return d.prio
	}
	return 20
}

func (d *driver) Init() (backend.Backend, error) {
	l, err := openLib()
	if err != nil {
		return nil, backend.Skip("%v", err)
	}
	devs, err := enumerate(l)
	if err != nil {
		return nil, backend.Skip("%v", err)
	}
	if len(devs) == 0 {
		return nil, backend.Skip("no OpenCL platform or device (libOpenCL.so.1 loaded; install a driver such as pocl-opencl-icd)")
	}
	dev, err := choose(devs, os.Getenv(EnvDevice))
	if err != nil {
		return nil, err
	}
	b, err := open(l, dev, devs)
	if err != nil {
		return nil, err
	}
	d.prio = 20
	if dev.typ&clDeviceTypeCPU != 0 {
		d.prio = -10
	}
	return b, nil
}

// Device is one OpenCL device found on the machine.
type Device struct {
	Platform, Index  int // platform index, device index within it
	PlatformName     string
	Name             string
	Version, Driver  string
	typ              uint64
	id, platformID   uintptr
	ComputeUnits     uint32
	GlobalMem        uint64
	MaxAlloc         uint64
	FP64             bool
	MaxWorkGroupSize uintptr
}

// Kind is "gpu", "cpu", "accelerator" or "other".
func (d *Device) Kind() string {
	switch {
	case d.typ&clDeviceTypeGPU != 0:
		return "gpu"
	case d.typ&clDeviceTypeCPU != 0:
		return "cpu"
	case d.typ&clDeviceTypeAccelerator != 0:
		return "accelerator"
	}
	return "other"
}

func (d *Device) String() string {
	fp := "fp64"
	if !d.FP64 {
		fp = "no fp64"
	}
	return fmt.Sprintf("%d:%d %s (%s, %s), %d CUs, %.1f GiB, %s", d.Platform, d.Index, d.Name, d.Kind(), d.PlatformName, d.ComputeUnits, float64(d.GlobalMem)/(1<<30), fp)
}

func enumerate(l *lib) ([]*Device, error) {
	var np uint32
	if code := l.GetPlatformIDs(0, nil, unsafe.Pointer(&np)); code != clSuccess {
		if code == -1001 {
			return nil, nil
		}
		return nil, check("clGetPlatformIDs", code)
	}
	if np == 0 {
		return nil, nil
	}
	plats := make([]uintptr, np)
	if err := check("clGetPlatformIDs", l.GetPlatformIDs(np, unsafe.Pointer(&plats[0]), nil)); err != nil {
		return nil, err
	}
	var out []*Device
	for pi, p := range plats {
		pname := infoString(func(s uintptr, v, r unsafe.Pointer) int32 { return l.GetPlatformInfo(p, clPlatformName, s, v, r) })
		var nd uint32
		if l.GetDeviceIDs(p, clDeviceTypeAll, 0, nil, unsafe.Pointer(&nd)) != clSuccess || nd == 0 {
			continue
		}
		ids := make([]uintptr, nd)
		if err := check("clGetDeviceIDs", l.GetDeviceIDs(p, clDeviceTypeAll, nd, unsafe.Pointer(&ids[0]), nil)); err != nil {
			return nil, err
		}
		for di, id := range ids {
			d := &Device{Platform: pi, Index: di, PlatformName: pname, id: id, platformID: p}
			str := func(param uint32) string {
				return infoString(func(s uintptr, v, r unsafe.Pointer) int32 { return l.GetDeviceInfo(id, param, s, v, r) })
			}
			d.Name, d.Version, d.Driver = strings.TrimSpace(str(clDeviceName)), str(clDeviceVersion), str(clDriverVersion)
			l.GetDeviceInfo(id, clDeviceType, 8, unsafe.Pointer(&d.typ), nil)
			l.GetDeviceInfo(id, clDeviceMaxComputeUnits, 4, unsafe.Pointer(&d.ComputeUnits), nil)
			l.GetDeviceInfo(id, clDeviceGlobalMemSize, 8, unsafe.Pointer(&d.GlobalMem), nil)
			l.GetDeviceInfo(id, clDeviceMaxMemAllocSize, 8, unsafe.Pointer(&d.MaxAlloc), nil)
			l.GetDeviceInfo(id, clDeviceMaxWorkGroupSize, unsafe.Sizeof(d.MaxWorkGroupSize), unsafe.Pointer(&d.MaxWorkGroupSize), nil)
			var fp uint64
			l.GetDeviceInfo(id, clDeviceDoubleFPConfig, 8, unsafe.Pointer(&fp), nil)
			d.FP64 = fp != 0 || strings.Contains(str(clDeviceExtensions), "cl_khr_fp64")
			out = append(out, d)
		}
	}
	return out, nil
}

func choose(devs []*Device, sel string) (*Device, error) {
	if sel == "" {
		for _, d := range devs {
			if d.Kind() == "gpu" || d.Kind() == "accelerator" {
				return d, nil
			}
		}
		return devs[0], nil
	}
	if p, dd, ok := strings.Cut(sel, ":"); ok {
		pi, err1 := strconv.Atoi(p)
		di, err2 := strconv.Atoi(dd)
		if err1 == nil && err2 == nil {
			for _, d := range devs {
				if d.Platform == pi && d.Index == di {
					return d, nil
				}
			}
		}
	} else if i, err := strconv.Atoi(sel); err == nil {
		if i >= 0 && i < len(devs) {
			return devs[i], nil
		}
	} else {
		for _, d := range devs {
			if strings.Contains(strings.ToLower(d.Name), strings.ToLower(sel)) {
				return d, nil
			}
		}
	}
	var names []string
	for _, d := range devs {
		names = append(names, d.String())
	}
	return nil, fmt.Errorf("%s=%q matches no OpenCL device (have: %s)", EnvDevice, sel, strings.Join(names, "; "))
}

// Backend is an opened OpenCL device with its context and queue.
type Backend struct {
	l     *lib
	dev   *Device
	all   []*Device
	ctx   uintptr
	queue uintptr

	dv    *device    // the backend as an accel.Device
	mu    sync.Mutex // serialises kernel argument setting and launches
	progs map[string]*program
	// scratch is a device buffer for gate matrices and reduction partials.
	scratch accel.Scratch[uintptr]
}

func open(l *lib, dev *Device, all []*Device) (*Backend, error) {
	var code int32
	ctx := l.CreateContext(nil, 1, unsafe.Pointer(&dev.id), 0, 0, unsafe.Pointer(&code))
	if err := check("clCreateContext", code); err != nil {
		return nil, fmt.Errorf("opencl: %s: %w", dev.Name, err)
	}
	q := l.CreateCommandQueue(ctx, dev.id, 0, unsafe.Pointer(&code))
	if err := check("clCreateCommandQueue", code); err != nil {
		l.ReleaseContext(ctx)
		return nil, fmt.Errorf("opencl: %s: %w", dev.Name, err)
	}
	b := &Backend{l: l, dev: dev, all: all, ctx: ctx, queue: q, progs: map[string]*program{}}
	b.dv = &device{b}
	return b, nil
}

// Name returns "opencl".
func (*Backend) Name() string { return "opencl" }

// Device describes the chosen device and how many others there are.
func (b *Backend) Device() string {
	s := b.dev.String()
	if len(b.all) > 1 {
		s += fmt.Sprintf(" (device %d of %d; %s selects)", indexOf(b.all, b.dev), len(b.all), EnvDevice)
	}
	return s
}

func indexOf(all []*Device, d *Device) int {
	for i, x := range all {
		if x == d {
			return i
		}
	}
	return -1
}

// Devices lists every OpenCL device found.
func (b *Backend) Devices() []*Device { return b.all }

// Close releases the programs, buffers, queue and context.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.progs {
		p.release(b.l)
	}
	b.progs = nil
	err := b.scratch.Release(b.dv)
	b.l.ReleaseCommandQueue(b.queue)
	b.l.ReleaseContext(b.ctx)
	return err
}

// program is a built family in one precision with its kernels.
type program struct {
	prog    uintptr
	kernels map[string]uintptr
}

func (p *program) release(l *lib) {
	for _, k := range p.kernels {
		l.ReleaseKernel(k)
	}
	l.ReleaseProgram(p.prog)
}

// errNoFP64 is the reason complex128 work is refused on a device without
// double precision.
var errNoFP64 = errors.New("device has no double precision (cl_khr_fp64): complex128 unavailable, use complex64")

// program returns the built program of a family in precision p (b.mu held).
func (b *Backend) program(family string, p backend.Precision) (*program, error) {
	if p == backend.Complex128 && !b.dev.FP64 {
		return nil, errNoFP64
	}
	key := family + "/" + p.String()
	if pr, ok := b.progs[key]; ok {
		return pr, nil
	}
	src, err := kernels.Source(family)
	if err != nil {
		return nil, err
	}
	opts := "-cl-std=CL1.2"
	// Reductions accumulate in double wherever the device has it (see
	// device.FP64).
	if p == backend.Complex128 {
		opts += " -DMEC_FP64"
	} else if b.dev.FP64 {
		opts += " -DMEC_ACC64"
	}
	prog, err := b.build(src, opts)
	if err != nil {
		return nil, fmt.Errorf("opencl: building %s (%s) for %s: %w", family, opts, b.dev.Name, err)
	}
	pr := &program{prog: prog, kernels: map[string]uintptr{}}
	b.progs[key] = pr
	return pr, nil
}

// kernel returns a kernel of a built program, creating it on first use.
func (b *Backend) kernel(pr *program, name string) (uintptr, error) {
	if k, ok := pr.kernels[name]; ok {
		return k, nil
	}
	var code int32
	cname := cstr(name)
	k := b.l.CreateKernel(pr.prog, unsafe.Pointer(&cname[0]), unsafe.Pointer(&code))
	if err := check("clCreateKernel "+name, code); err != nil {
		return 0, err
	}
	pr.kernels[name] = k
	return k, nil
}

// build compiles src, using the on-disk binary cache when it has this
// source, options and device.
func (b *Backend) build(src, opts string) (uintptr, error) {
	key := kernels.Hash(src, opts, b.dev.PlatformName, b.dev.Name, b.dev.Version, b.dev.Driver)
	cacheFile := ""
	if dir, err := os.UserCacheDir(); err == nil {
		cacheFile = filepath.Join(dir, "mec", "opencl", key+".bin")
	}
	if cacheFile != "" {
		if bin, err := os.ReadFile(cacheFile); err == nil && len(bin) > 0 {
			if prog, err := b.buildBinary(bin, opts); err == nil {
				return prog, nil
			}
		}
	}
	var code int32
	csrc := cstr(src)
	ptr := unsafe.Pointer(&csrc[0])
	n := uintptr(len(src))
	prog := b.l.CreateProgramWithSource(b.ctx, 1, unsafe.Pointer(&ptr), unsafe.Pointer(&n), unsafe.Pointer(&code))
	if err := check("clCreateProgramWithSource", code); err != nil {
		return 0, err
	}
	copts := cstr(opts)
	if code := b.l.BuildProgram(prog, 1, unsafe.Pointer(&b.dev.id), unsafe.Pointer(&copts[0]), 0, 0); code != clSuccess {
		log := infoString(func(s uintptr, v, r unsafe.Pointer) int32 {
			return b.l.GetProgramBuildInfo(prog, b.dev.id, clProgramBuildLog, s, v, r)
		})
		b.l.ReleaseProgram(prog)
		return 0, fmt.Errorf("%w\nbuild log:\n%s", check("clBuildProgram", code), strings.TrimSpace(log))
	}
	if cacheFile != "" {
		saveBinary(b.l, prog, cacheFile)
	}
	return prog, nil
}

func (b *Backend) buildBinary(bin []byte, opts string) (uintptr, error) {
	var code, status int32
	n := uintptr(len(bin))
	ptr := unsafe.Pointer(&bin[0])
	prog := b.l.CreateProgramWithBinary(b.ctx, 1, unsafe.Pointer(&b.dev.id), unsafe.Pointer(&n), unsafe.Pointer(&ptr), unsafe.Pointer(&status), unsafe.Pointer(&code))
	if err := check("clCreateProgramWithBinary", code); err != nil {
		return 0, err
	}
	copts := cstr(opts)
	if err := check("clBuildProgram(binary)", b.l.BuildProgram(prog, 1, unsafe.Pointer(&b.dev.id), unsafe.Pointer(&copts[0]), 0, 0)); err != nil {
		b.l.ReleaseProgram(prog)
		return 0, err
	}
	return prog, nil
}

// saveBinary writes the program binary atomically; failures only cost a
// rebuild next time.
func saveBinary(l *lib, prog uintptr, file string) {
	var size uintptr
	if l.GetProgramInfo(prog, clProgramBinarySizes, unsafe.Sizeof(size), unsafe.Pointer(&size), nil) != clSuccess || size == 0 {
		return
	}
	bin := make([]byte, size)
	ptr := unsafe.Pointer(&bin[0])
	if l.GetProgramInfo(prog, clProgramBinaries, unsafe.Sizeof(ptr), unsafe.Pointer(&ptr), nil) != clSuccess {
		return
	}
	atomicfile.WriteFile(file, bin) // a failure only costs a rebuild next time
}

// launch sets the arguments of k and enqueues it over global work items
// in work-groups of local items (0: defaultLocal), rounding global up to a
// multiple of local; kernels ignore items past their count. b.mu held.
func (b *Backend) launch(k uintptr, global, local uintptr, args ...any) error {
	for i, a := range args {
		var code int32
		switch v := a.(type) {
		case accel.Ptr[uintptr]:
			code = b.l.SetKernelArg(k, uint32(i), unsafe.Sizeof(v.M), unsafe.Pointer(&v.M))
		case uint64:
			code = b.l.SetKernelArg(k, uint32(i), 8, unsafe.Pointer(&v))
		case int32:
			code = b.l.SetKernelArg(k, uint32(i), 4, unsafe.Pointer(&v))
		case uint32:
			code = b.l.SetKernelArg(k, uint32(i), 4, unsafe.Pointer(&v))
		case float64:
			code = b.l.SetKernelArg(k, uint32(i), 8, unsafe.Pointer(&v))
		case float32:
			code = b.l.SetKernelArg(k, uint32(i), 4, unsafe.Pointer(&v))
		default:
			return fmt.Errorf("opencl: kernel argument %d has unsupported type %T", i, a)
		}
		if err := check(fmt.Sprintf("clSetKernelArg %d", i), code); err != nil {
			return err
		}
	}
	if global == 0 {
		return nil
	}
	if local == 0 {
		local = b.defaultLocal(global)
	}
	var lp unsafe.Pointer
	if local != 0 {
		global = (global + local - 1) / local * local
		lp = unsafe.Pointer(&local)
	}
	return check("clEnqueueNDRangeKernel", b.l.EnqueueNDRangeKernel(b.queue, k, 1, nil, unsafe.Pointer(&global), lp, 0, nil, nil))
}

// defaultLocal is the work-group size for global items: on CPU devices
// PoCL runs a work-group as one vectorised loop, so large groups (up to
// 4096 or the device limit) amortise its scheduling; elsewhere 256.
func (b *Backend) defaultLocal(global uintptr) uintptr {
	l := uintptr(256)
	if b.dev.Kind() == "cpu" {
		l = min(4096, b.dev.MaxWorkGroupSize)
	}
	l = min(l, b.dev.MaxWorkGroupSize)
	for l > 1 && l/2 >= global {
		l /= 2
	}
	return max(l, 1)
}

// alloc creates a device buffer of size bytes.
func (b *Backend) alloc(size uintptr) (uintptr, error) {
	var code int32
	m := b.l.CreateBuffer(b.ctx, clMemReadWrite, size, nil, unsafe.Pointer(&code))
	if err := check("clCreateBuffer", code); err != nil {
		return 0, fmt.Errorf("opencl: allocating %d bytes on %s: %w", size, b.dev.Name, err)
	}
	return m, nil
}

func (b *Backend) write(m uintptr, off uintptr, p unsafe.Pointer, size uintptr) error {
	return check("clEnqueueWriteBuffer", b.l.EnqueueWriteBuffer(b.queue, m, clTrue, off, size, p, 0, nil, nil))
}

func (b *Backend) read(m uintptr, off uintptr, p unsafe.Pointer, size uintptr) error {
	return check("clEnqueueReadBuffer", b.l.EnqueueReadBuffer(b.queue, m, clTrue, off, size, p, 0, nil, nil))
}
