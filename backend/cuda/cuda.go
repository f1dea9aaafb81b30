// Package cuda is mec's CUDA backend. It loads the NVIDIA driver library
// (libcuda.so.1) at run time with purego — the driver API only, so neither
// cgo nor the CUDA toolkit is needed to build (CGO_ENABLED=0 works) — and
// runs the kernels of package kernels from their committed PTX
// (kernels/ptx, generated offline by nvcc: `make kernels`), which the driver
// JIT-compiles for the device when a family is first used.
//
// Layer: compute library (a backend). It may import backend,
// backend/internal/accel, kernels and the engines' description types; never
// another backend, a device, the runtime or the commands.
//
// Devices need compute capability 8.0 or higher (the PTX is generated for
// compute_80 and compute_90; a device of capability 9.0 or higher runs the
// compute_90 PTX, others the compute_80 one) and a driver for CUDA 11.8 or
// newer (PTX ISA 7.8). The driver is skipped, with the reason, when the
// library is absent, cuInit fails (the driver's error name is in the
// reason: "cuInit: CUDA_ERROR_NO_DEVICE (100)" on a machine without a GPU),
// or no device qualifies.
//
// Device choice: $MEC_CUDA_DEVICE is a device ordinal or a substring of the
// device name; by default the first device of capability 8.0 or higher.
// The backend's priority is 30, above OpenCL and the CPU.
//
// The CUDA context (the device's primary context) is current on one locked
// OS thread: every driver call runs on a dedicated goroutine that locked its
// thread, fed through a channel, so a Backend and its states may be used
// from any goroutine. Calls are serialised.
//
// States live in device memory between operations; only Read (and the few
// blocks a sampling call needs) copy to the host. Reductions accumulate in
// double for both precisions and write per-block partials that the host
// adds in block order, so results do not depend on scheduling.
//
// The engines themselves (state vector, FFT, oscillators, spiking network,
// fusion coupling) are package accel's, written once for every
// accelerator; this package owns the driver bindings (driverapi.go),
// device discovery and choice, the worker thread, PTX module loading and
// the launch plumbing with its argument signatures, which it offers to
// accel as an accel.Device (device.go). It imports backend, accel and
// kernels (and kuramoto and snn for the engine constructors' types).
package cuda

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/internal/accel"
	"github.com/prismai/mec/kernels"
)

// EnvDevice selects the CUDA device (see the package doc).
const EnvDevice = "MEC_CUDA_DEVICE"

// minCC is the lowest compute capability (major·10 + minor) with PTX.
const minCC = 80

// minDriver is the lowest cuDriverGetVersion accepted: CUDA 11.8, whose
// PTX ISA (7.8) the embedded PTX is written in.
const minDriver = 11080

func init() { backend.Register(&driver{libs: libNames()}) }

// driver is the registered "cuda" driver; libs are the library names it
// tries (tests substitute names that do not exist).
type driver struct{ libs []string }

func (*driver) Name() string { return "cuda" }

// Priority is 30: a CUDA device wins over OpenCL (20) and the CPU.
func (*driver) Priority() int { return 30 }

func (d *driver) Init() (backend.Backend, error) {
	l, err := openLib(d.libs)
	if err != nil {
		return nil, backend.Skip("%v", err)
	}
	if err := l.check("cuInit", l.Init(0)); err != nil {
		return nil, backend.Skip("%v", err)
	}
	var ver int32
	if err := l.check("cuDriverGetVersion", l.DriverGetVersion(&ver)); err != nil {
		return nil, backend.Skip("%v", err)
	}
	if ver < minDriver {
		return nil, backend.Skip("the CUDA driver supports CUDA %s; mec's PTX needs 11.8 or newer (NVIDIA driver 520+)", versionString(ver))
	}
	devs, err := enumerate(l)
	if err != nil {
		return nil, fmt.Errorf("cuda: %w", err)
	}
	if len(devs) == 0 {
		return nil, backend.Skip("no CUDA device (cuInit succeeded, cuDeviceGetCount is 0)")
	}
	dev, err := choose(devs, os.Getenv(EnvDevice))
	if err != nil {
		return nil, err
	}
	return open(l, dev, devs, ver)
}

func versionString(v int32) string { return fmt.Sprintf("%d.%d", v/1000, v%1000/10) }

// Device is one CUDA device found on the machine.
type Device struct {
	Index    int // device ordinal
	Name     string
	CCMajor  int // compute capability
	CCMinor  int
	TotalMem uint64 // bytes
	SMs      int    // multiprocessors
	MaxGridX uint64 // largest grid x-dimension
	handle   int32
}

// CC is the compute capability as major·10 + minor (90 for 9.0).
func (d *Device) CC() int { return d.CCMajor*10 + d.CCMinor }

// String describes the device in one line.
func (d *Device) String() string {
	return fmt.Sprintf("%d: %s (cc %d.%d), %d SMs, %.1f GiB", d.Index, d.Name, d.CCMajor, d.CCMinor, d.SMs, float64(d.TotalMem)/(1<<30))
}

func enumerate(l *lib) ([]*Device, error) {
	var n int32
	if err := l.check("cuDeviceGetCount", l.DeviceGetCount(&n)); err != nil {
		return nil, err
	}
	var out []*Device
	for i := int32(0); i < n; i++ {
		d := &Device{Index: int(i)}
		if err := l.check(fmt.Sprintf("cuDeviceGet(%d)", i), l.DeviceGet(&d.handle, i)); err != nil {
			return nil, err
		}
		name := make([]byte, 256)
		if err := l.check("cuDeviceGetName", l.DeviceGetName(&name[0], int32(len(name)), d.handle)); err != nil {
			return nil, err
		}
		d.Name = strings.TrimSpace(cString(name))
		var mem uintptr
		if err := l.check("cuDeviceTotalMem", l.DeviceTotalMem(&mem, d.handle)); err != nil {
			return nil, err
		}
		d.TotalMem = uint64(mem)
		attrs := []struct {
			attr int32
			dst  *int
			name string
		}{
			{cuDevAttrCCMajor, &d.CCMajor, "COMPUTE_CAPABILITY_MAJOR"},
			{cuDevAttrCCMinor, &d.CCMinor, "COMPUTE_CAPABILITY_MINOR"},
			{cuDevAttrSMCount, &d.SMs, "MULTIPROCESSOR_COUNT"},
		}
		for _, a := range attrs {
			var v int32
			if err := l.check("cuDeviceGetAttribute "+a.name, l.DeviceGetAttribute(&v, a.attr, d.handle)); err != nil {
				return nil, err
			}
			*a.dst = int(v)
		}
		var gx int32
		if err := l.check("cuDeviceGetAttribute MAX_GRID_DIM_X", l.DeviceGetAttribute(&gx, cuDevAttrMaxGridX, d.handle)); err != nil {
			return nil, err
		}
		d.MaxGridX = uint64(gx)
		out = append(out, d)
	}
	return out, nil
}

// choose picks the device named by sel (an ordinal or a name substring),
// or by default the first of capability 8.0 or higher. A device below 8.0
// is a skip: the backend does not apply to it.
func choose(devs []*Device, sel string) (*Device, error) {
	var d *Device
	switch i, err := strconv.Atoi(sel); {
	case sel == "":
		for _, x := range devs {
			if x.CC() >= minCC {
				d = x
				break
			}
		}
		if d == nil {
			return nil, backend.Skip("no CUDA device of compute capability 8.0 or higher (mec's PTX targets compute_80 and compute_90); found %s", listDevices(devs))
		}
	case err == nil:
		if i < 0 || i >= len(devs) {
			return nil, fmt.Errorf("%s=%q: no such CUDA device (have %s)", EnvDevice, sel, listDevices(devs))
		}
		d = devs[i]
	default:
		for _, x := range devs {
			if strings.Contains(strings.ToLower(x.Name), strings.ToLower(sel)) {
				d = x
				break
			}
		}
		if d == nil {
			return nil, fmt.Errorf("%s=%q matches no CUDA device (have %s)", EnvDevice, sel, listDevices(devs))
		}
	}
	if d.CC() < minCC {
		return nil, backend.Skip("%s has compute capability %d.%d; mec's PTX needs 8.0 or higher", d.Name, d.CCMajor, d.CCMinor)
	}
	return d, nil
}

func listDevices(devs []*Device) string {
	var s []string
	for _, d := range devs {
		s = append(s, d.String())
	}
	return strings.Join(s, "; ")
}

// ptxArch is the PTX a device of compute capability cc runs: the highest
// generated architecture not above cc.
func ptxArch(cc int) (int, error) {
	best := 0
	for _, a := range kernels.PTXArchs() {
		if a <= cc {
			best = a
		}
	}
	if best == 0 {
		return 0, fmt.Errorf("compute capability %d.%d is below every PTX target", cc/10, cc%10)
	}
	return best, nil
}

// errClosed is returned by operations on a closed backend.
var errClosed = errors.New("cuda: backend closed")

// Backend is an opened CUDA device: its primary context, current on the
// backend's own locked OS thread, a stream, and the loaded modules.
type Backend struct {
	l      *lib
	dev    *Device
	all    []*Device
	driver int32   // cuDriverGetVersion
	arch   int     // the PTX architecture loaded: 80 or 90
	dv     *device // the backend as an accel.Device

	mu     sync.Mutex // serialises calls; held while one runs on the worker
	calls  chan func()
	closed bool

	// The fields below belong to the worker goroutine: only functions run
	// through do touch them.
	ctx     uintptr
	stream  uintptr
	modules map[string]*module
	scratch accel.Scratch[uint64]
}

// open starts the worker goroutine, which locks its OS thread, retains the
// device's primary context, makes it current and creates the stream.
func open(l *lib, dev *Device, all []*Device, ver int32) (*Backend, error) {
	arch, err := ptxArch(dev.CC())
	if err != nil {
		return nil, backend.Skip("%s: %v", dev.Name, err)
	}
	b := &Backend{l: l, dev: dev, all: all, driver: ver, arch: arch,
		calls: make(chan func()), modules: map[string]*module{}}
	b.dv = &device{b}
	ready := make(chan error, 1)
	go b.serve(ready)
	if err := <-ready; err != nil {
		return nil, fmt.Errorf("cuda: %s: %w", dev.Name, err)
	}
	return b, nil
}

// serve is the worker: it runs every driver call of the backend on one
// locked OS thread, where the context is current. It returns (and its
// thread exits, still locked) when Close closes the channel.
func (b *Backend) serve(ready chan<- error) {
	runtime.LockOSThread()
	l := b.l
	if err := l.check("cuDevicePrimaryCtxRetain", l.DevicePrimaryCtxRetain(&b.ctx, b.dev.handle)); err != nil {
		ready <- err
		return
	}
	if err := l.check("cuCtxSetCurrent", l.CtxSetCurrent(b.ctx)); err != nil {
		l.DevicePrimaryCtxRelease(b.dev.handle)
		ready <- err
		return
	}
	if err := l.check("cuStreamCreate", l.StreamCreate(&b.stream, cuStreamDefault)); err != nil {
		l.DevicePrimaryCtxRelease(b.dev.handle)
		ready <- err
		return
	}
	ready <- nil
	for f := range b.calls {
		f()
	}
}

// do runs f on the worker thread and returns its error; a panic in f is
// returned as an error rather than crashing the process.
func (b *Backend) do(f func() error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.doLocked(f)
}

// doLocked is do with b.mu held.
func (b *Backend) doLocked(f func() error) error {
	if b.closed {
		return errClosed
	}
	done := make(chan error, 1)
	b.calls <- func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("cuda: internal error: %v", r)
			}
		}()
		done <- f()
	}
	return <-done
}

// Name returns "cuda".
func (*Backend) Name() string { return "cuda" }

// Device describes the chosen device, the driver and the PTX in use.
func (b *Backend) Device() string {
	s := fmt.Sprintf("%s, driver CUDA %s, PTX compute_%d", b.dev, versionString(b.driver), b.arch)
	if len(b.all) > 1 {
		s += fmt.Sprintf(" (device %d of %d; %s selects)", b.dev.Index, len(b.all), EnvDevice)
	}
	return s
}

// Devices lists every CUDA device found.
func (b *Backend) Devices() []*Device { return b.all }

// Close waits for the device, unloads the modules, frees the scratch
// buffer, destroys the stream and releases the backend's hold on the
// primary context (the driver destroys it, with the memory of states not
// freed, when no one else in the process holds it). Using the backend or
// its states afterwards is an error.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	err := b.doLocked(func() error {
		l := b.l
		errs := []error{l.check("cuCtxSynchronize", l.CtxSynchronize())}
		for _, m := range b.modules {
			errs = append(errs, l.check("cuModuleUnload", l.ModuleUnload(m.mod)))
		}
		b.modules = nil
		errs = append(errs, b.scratch.Release(b.dv))
		errs = append(errs, l.check("cuStreamDestroy", l.StreamDestroy(b.stream)))
		errs = append(errs, l.check("cuDevicePrimaryCtxRelease", l.DevicePrimaryCtxRelease(b.dev.handle)))
		return errors.Join(errs...)
	})
	b.closed = true
	close(b.calls)
	if err != nil {
		return fmt.Errorf("cuda: close: %w", err)
	}
	return nil
}

// module is a loaded family in one precision with its functions.
type module struct {
	mod   uintptr
	funcs map[string]*function
}

// function is a kernel entry point, the base name and precision its
// arguments are checked against, and the largest block it may launch
// with.
type function struct {
	name       string
	base       string
	p          backend.Precision
	f          uintptr
	maxThreads int
}

// Name returns the entry point's name (an accel.Kernel).
func (fn *function) Name() string { return fn.name }

// precName is the PTX precision suffix of p.
func precName(p backend.Precision) string {
	if p == backend.Complex128 {
		return "f64"
	}
	return "f32"
}

// jitLogSize is the size of the buffer for the JIT compiler's error log.
const jitLogSize = 16 << 10

// function returns kernel base of family in precision p, loading the
// module (JIT-compiling its PTX) on first use. Worker only.
func (b *Backend) function(family string, p backend.Precision, base string) (*function, error) {
	ps := precName(p)
	key := family + "_" + ps
	m, ok := b.modules[key]
	if !ok {
		ptx, err := kernels.PTX(family, ps, b.arch)
		if err != nil {
			return nil, fmt.Errorf("cuda: %w", err)
		}
		image := append(ptx, 0) // cuModuleLoadData wants NUL-terminated PTX text
		logBuf := make([]byte, jitLogSize)
		opts := []int32{cuJitErrorLogBuffer, cuJitErrorLogBufferSizeBytes}
		vals := []uintptr{uintptr(unsafe.Pointer(&logBuf[0])), uintptr(len(logBuf))}
		var mod uintptr
		code := b.l.ModuleLoadDataEx(&mod, unsafe.Pointer(&image[0]), uint32(len(opts)), unsafe.Pointer(&opts[0]), unsafe.Pointer(&vals[0]))
		runtime.KeepAlive(logBuf)
		runtime.KeepAlive(image)
		if err := b.l.check("cuModuleLoadData", code); err != nil {
			msg := fmt.Sprintf("cuda: loading %s PTX (compute_%d) on %s: %v", key, b.arch, b.dev.Name, err)
			if code == cuErrorUnsupPTX {
				msg += " (the driver is older than the nvcc that wrote the PTX: update the NVIDIA driver)"
			}
			if log := strings.TrimSpace(cString(logBuf)); log != "" {
				msg += "\nJIT log:\n" + log
			}
			return nil, errors.New(msg)
		}
		m = &module{mod: mod, funcs: map[string]*function{}}
		b.modules[key] = m
	}
	name := base + "_" + ps
	if fn, ok := m.funcs[name]; ok {
		return fn, nil
	}
	fn := &function{name: name, base: base, p: p}
	cname := cstr(name)
	if err := b.l.check("cuModuleGetFunction "+name, b.l.ModuleGetFunction(&fn.f, m.mod, &cname[0])); err != nil {
		return nil, fmt.Errorf("cuda: %s: %w", key, err)
	}
	var mt int32
	if err := b.l.check("cuFuncGetAttribute MAX_THREADS_PER_BLOCK "+name, b.l.FuncGetAttribute(&mt, cuFuncAttrMaxThreadsPerBlock, fn.f)); err != nil {
		return nil, fmt.Errorf("cuda: %w", err)
	}
	fn.maxThreads = int(mt)
	m.funcs[name] = fn
	return fn, nil
}

// launch runs fn over grid blocks of block threads on the stream. args are
// the kernel's parameters in order (accel.Ptr and uint64 for 64-bit, int32
// or uint32 for 32-bit, float64 or float32 for real), each stored in its
// own 8-byte slot;
// kernelParams is the array of pointers to the slots. Worker only.
func (b *Backend) launch(fn *function, grid, block uint64, args ...any) error {
	if grid == 0 {
		return nil
	}
	if block == 0 || block > uint64(fn.maxThreads) {
		return fmt.Errorf("cuda: %s: block of %d threads (the kernel allows %d)", fn.name, block, fn.maxThreads)
	}
	if grid > b.dev.MaxGridX {
		return fmt.Errorf("cuda: %s: grid of %d blocks exceeds the device's %d", fn.name, grid, b.dev.MaxGridX)
	}
	slots := make([]uint64, len(args))
	params := make([]unsafe.Pointer, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case accel.Ptr[uint64]:
			slots[i] = v.M
		case uint64:
			slots[i] = v
		case int32:
			*(*int32)(unsafe.Pointer(&slots[i])) = v
		case uint32:
			*(*uint32)(unsafe.Pointer(&slots[i])) = v
		case float64:
			*(*float64)(unsafe.Pointer(&slots[i])) = v
		case float32:
			*(*float32)(unsafe.Pointer(&slots[i])) = v
		default:
			return fmt.Errorf("cuda: %s: argument %d has unsupported type %T", fn.name, i, a)
		}
		params[i] = unsafe.Pointer(&slots[i])
	}
	var pp unsafe.Pointer
	if len(params) > 0 {
		pp = unsafe.Pointer(&params[0])
	}
	code := b.l.LaunchKernel(fn.f, uint32(grid), 1, 1, uint32(block), 1, 1, 0, b.stream, pp, nil)
	runtime.KeepAlive(slots)
	runtime.KeepAlive(params)
	return b.l.check("cuLaunchKernel "+fn.name, code)
}

// alloc allocates size bytes of device memory. Worker only.
func (b *Backend) alloc(size uintptr) (uint64, error) {
	var p uint64
	if err := b.l.check("cuMemAlloc", b.l.MemAlloc(&p, size)); err != nil {
		return 0, fmt.Errorf("cuda: allocating %d bytes on %s: %w", size, b.dev.Name, err)
	}
	return p, nil
}

// free waits for the device's queued work, then frees p. Worker only.
func (b *Backend) free(p uint64) error {
	if err := b.l.check("cuCtxSynchronize", b.l.CtxSynchronize()); err != nil {
		b.l.MemFree(p)
		return fmt.Errorf("cuda: %w", err)
	}
	return b.l.check("cuMemFree", b.l.MemFree(p))
}

// write copies size host bytes at p to device memory dst+off. The copy is
// on the legacy default stream, which the backend's (blocking) stream is
// ordered with: it starts after every kernel launched before it and
// finishes before any launched after; the host buffer may be reused when
// it returns. Worker only.
func (b *Backend) write(dst uint64, off uintptr, p unsafe.Pointer, size uintptr) error {
	return b.l.check("cuMemcpyHtoD", b.l.MemcpyHtoD(dst+uint64(off), p, size))
}

// read copies size bytes of device memory src+off to the host at p,
// after every kernel launched before it. Worker only.
func (b *Backend) read(src uint64, off uintptr, p unsafe.Pointer, size uintptr) error {
	return b.l.check("cuMemcpyDtoH", b.l.MemcpyDtoH(p, src+uint64(off), size))
}
