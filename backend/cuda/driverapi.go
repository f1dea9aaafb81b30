package cuda

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/ebitengine/purego"
)

// lib is the CUDA driver API subset mec uses, bound at run time from
// libcuda.so.1 with purego, so no cgo and no CUDA toolkit are needed to
// build. Every function returns a CUresult (0 = CUDA_SUCCESS). Handles
// (CUcontext, CUmodule, CUfunction, CUstream) are pointers, held as uintptr;
// CUdevice is an int; CUdeviceptr is a 64-bit integer.
type lib struct {
	handle uintptr

	Init                    func(flags uint32) int32
	DriverGetVersion        func(v *int32) int32
	GetErrorName            func(code int32, str **byte) int32
	DeviceGetCount          func(n *int32) int32
	DeviceGet               func(dev *int32, ordinal int32) int32
	DeviceGetName           func(name *byte, n int32, dev int32) int32
	DeviceTotalMem          func(bytes *uintptr, dev int32) int32
	DeviceGetAttribute      func(v *int32, attr int32, dev int32) int32
	DevicePrimaryCtxRetain  func(ctx *uintptr, dev int32) int32
	DevicePrimaryCtxRelease func(dev int32) int32
	CtxSetCurrent           func(ctx uintptr) int32
	CtxSynchronize          func() int32
	ModuleLoadDataEx        func(mod *uintptr, image unsafe.Pointer, nopt uint32, opts unsafe.Pointer, vals unsafe.Pointer) int32
	ModuleUnload            func(mod uintptr) int32
	ModuleGetFunction       func(f *uintptr, mod uintptr, name *byte) int32
	FuncGetAttribute        func(v *int32, attr int32, f uintptr) int32
	MemGetInfo              func(free, total *uintptr) int32
	MemAlloc                func(dptr *uint64, size uintptr) int32
	MemFree                 func(dptr uint64) int32
	MemcpyHtoD              func(dst uint64, src unsafe.Pointer, size uintptr) int32
	MemcpyDtoH              func(dst unsafe.Pointer, src uint64, size uintptr) int32
	MemcpyDtoD              func(dst, src uint64, size uintptr) int32
	MemsetD8                func(dst uint64, v uint8, n uintptr) int32
	LaunchKernel            func(f uintptr, gx, gy, gz, bx, by, bz, shared uint32, stream uintptr, params unsafe.Pointer, extra unsafe.Pointer) int32
	StreamCreate            func(stream *uintptr, flags uint32) int32
	StreamSynchronize       func(stream uintptr) int32
	StreamDestroy           func(stream uintptr) int32
}

// CUDA driver API constants (cuda.h).
const (
	cuSuccess         = 0
	cuErrorNoDevice   = 100
	cuErrorStubLib    = 34
	cuErrorOutOfMem   = 2
	cuErrorUnsupPTX   = 222
	cuStreamDefault   = 0 // a blocking stream: ordered with the legacy default stream
	cuDevAttrMaxGridX = 5
	cuDevAttrSMCount  = 16
	cuDevAttrCCMajor  = 75
	cuDevAttrCCMinor  = 76

	cuFuncAttrMaxThreadsPerBlock = 0

	cuJitErrorLogBuffer          = 5
	cuJitErrorLogBufferSizeBytes = 6
)

// libNames are the sonames tried, in order: the driver's versioned name
// (what the NVIDIA driver installs) and the development symlink.
func libNames() []string { return []string{"libcuda.so.1", "libcuda.so"} }

// openLib loads the first of names that dlopen finds and binds the API.
// The library stays loaded for the life of the process: unloading the
// driver after cuInit is not supported by it.
func openLib(names []string) (*lib, error) {
	var h uintptr
	err := errors.New("no library name given")
	for _, name := range names {
		if h, err = purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_GLOBAL); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("libcuda.so.1 not found (the NVIDIA driver installs it): %v", err)
	}
	l := &lib{handle: h}
	binds := []struct {
		fptr any
		name string
	}{
		{&l.Init, "cuInit"},
		{&l.DriverGetVersion, "cuDriverGetVersion"},
		{&l.GetErrorName, "cuGetErrorName"},
		{&l.DeviceGetCount, "cuDeviceGetCount"},
		{&l.DeviceGet, "cuDeviceGet"},
		{&l.DeviceGetName, "cuDeviceGetName"},
		{&l.DeviceTotalMem, "cuDeviceTotalMem_v2"},
		{&l.DeviceGetAttribute, "cuDeviceGetAttribute"},
		{&l.DevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain"},
		{&l.DevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2"},
		{&l.CtxSetCurrent, "cuCtxSetCurrent"},
		{&l.CtxSynchronize, "cuCtxSynchronize"},
		{&l.ModuleLoadDataEx, "cuModuleLoadDataEx"},
		{&l.ModuleUnload, "cuModuleUnload"},
		{&l.ModuleGetFunction, "cuModuleGetFunction"},
		{&l.FuncGetAttribute, "cuFuncGetAttribute"},
		{&l.MemGetInfo, "cuMemGetInfo_v2"},
		{&l.MemAlloc, "cuMemAlloc_v2"},
		{&l.MemFree, "cuMemFree_v2"},
		{&l.MemcpyHtoD, "cuMemcpyHtoD_v2"},
		{&l.MemcpyDtoH, "cuMemcpyDtoH_v2"},
		{&l.MemcpyDtoD, "cuMemcpyDtoD_v2"},
		{&l.MemsetD8, "cuMemsetD8_v2"},
		{&l.LaunchKernel, "cuLaunchKernel"},
		{&l.StreamCreate, "cuStreamCreate"},
		{&l.StreamSynchronize, "cuStreamSynchronize"},
		{&l.StreamDestroy, "cuStreamDestroy_v2"},
	}
	for _, b := range binds {
		sym, err := purego.Dlsym(h, b.name)
		if err != nil {
			return nil, fmt.Errorf("libcuda.so.1 has no %s (driver for CUDA 11.8 or newer needed): %v", b.name, err)
		}
		purego.RegisterFunc(b.fptr, sym)
	}
	return l, nil
}

// cuError is a CUresult other than CUDA_SUCCESS with the call that
// returned it; its text is "call: CUDA_ERROR_NAME (code)".
type cuError struct {
	call string
	name string
	code int32
}

func (e *cuError) Error() string {
	return fmt.Sprintf("%s: %s (%d)", e.call, e.name, e.code)
}

// check turns a CUresult into an error naming the call.
func (l *lib) check(call string, code int32) error {
	if code == cuSuccess {
		return nil
	}
	return &cuError{call: call, name: l.errName(code), code: code}
}

// errName is the driver's name for a CUresult (cuGetErrorName, which works
// before cuInit), or a fallback for the few codes Init must always name.
func (l *lib) errName(code int32) string {
	var p *byte
	if l.GetErrorName(code, &p) == cuSuccess && p != nil {
		if s := goString(p, 128); s != "" {
			return s
		}
	}
	switch code {
	case cuErrorOutOfMem:
		return "CUDA_ERROR_OUT_OF_MEMORY"
	case cuErrorStubLib:
		return "CUDA_ERROR_STUB_LIBRARY"
	case cuErrorNoDevice:
		return "CUDA_ERROR_NO_DEVICE"
	case cuErrorUnsupPTX:
		return "CUDA_ERROR_UNSUPPORTED_PTX_VERSION"
	}
	return "CUDA_ERROR_UNKNOWN_CODE"
}

// goString copies a NUL-terminated C string of at most limit bytes.
func goString(p *byte, limit int) string {
	var b []byte
	for i := 0; i < limit; i++ {
		c := *(*byte)(unsafe.Add(unsafe.Pointer(p), i))
		if c == 0 {
			break
		}
		b = append(b, c)
	}
	return string(b)
}

// cString returns b up to its first NUL.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

func cstr(s string) []byte { return append([]byte(s), 0) }
