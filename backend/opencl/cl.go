package opencl

import (
	"fmt"
	"unsafe"

	"github.com/ebitengine/purego"
)

// The OpenCL 1.2 API subset mec uses, bound at run time from
// libOpenCL.so.1 (the ICD loader) with purego, so no cgo is needed.
type lib struct {
	handle uintptr

	GetPlatformIDs          func(num uint32, platforms unsafe.Pointer, numRet unsafe.Pointer) int32
	GetPlatformInfo         func(p uintptr, param uint32, size uintptr, value unsafe.Pointer, sizeRet unsafe.Pointer) int32
	GetDeviceIDs            func(p uintptr, typ uint64, num uint32, devices unsafe.Pointer, numRet unsafe.Pointer) int32
	GetDeviceInfo           func(d uintptr, param uint32, size uintptr, value unsafe.Pointer, sizeRet unsafe.Pointer) int32
	CreateContext           func(props unsafe.Pointer, num uint32, devices unsafe.Pointer, notify, user uintptr, errRet unsafe.Pointer) uintptr
	CreateCommandQueue      func(ctx, dev uintptr, props uint64, errRet unsafe.Pointer) uintptr
	CreateProgramWithSource func(ctx uintptr, count uint32, strs unsafe.Pointer, lens unsafe.Pointer, errRet unsafe.Pointer) uintptr
	CreateProgramWithBinary func(ctx uintptr, num uint32, devices unsafe.Pointer, lens unsafe.Pointer, bins unsafe.Pointer, status unsafe.Pointer, errRet unsafe.Pointer) uintptr
	BuildProgram            func(prog uintptr, num uint32, devices unsafe.Pointer, options unsafe.Pointer, notify, user uintptr) int32
	GetProgramBuildInfo     func(prog, dev uintptr, param uint32, size uintptr, value unsafe.Pointer, sizeRet unsafe.Pointer) int32
	GetProgramInfo          func(prog uintptr, param uint32, size uintptr, value unsafe.Pointer, sizeRet unsafe.Pointer) int32
	CreateKernel            func(prog uintptr, name unsafe.Pointer, errRet unsafe.Pointer) uintptr
	SetKernelArg            func(k uintptr, index uint32, size uintptr, value unsafe.Pointer) int32
	EnqueueNDRangeKernel    func(q, k uintptr, dim uint32, offset, global, local unsafe.Pointer, nev uint32, wait, ev unsafe.Pointer) int32
	CreateBuffer            func(ctx uintptr, flags uint64, size uintptr, host unsafe.Pointer, errRet unsafe.Pointer) uintptr
	EnqueueWriteBuffer      func(q, m uintptr, blocking uint32, off, size uintptr, ptr unsafe.Pointer, nev uint32, wait, ev unsafe.Pointer) int32
	EnqueueReadBuffer       func(q, m uintptr, blocking uint32, off, size uintptr, ptr unsafe.Pointer, nev uint32, wait, ev unsafe.Pointer) int32
	EnqueueCopyBuffer       func(q, src, dst uintptr, srcOff, dstOff, size uintptr, nev uint32, wait, ev unsafe.Pointer) int32
	EnqueueFillBuffer       func(q, m uintptr, pattern unsafe.Pointer, patSize, off, size uintptr, nev uint32, wait, ev unsafe.Pointer) int32
	Finish                  func(q uintptr) int32
	ReleaseMemObject        func(m uintptr) int32
	ReleaseKernel           func(k uintptr) int32
	ReleaseProgram          func(p uintptr) int32
	ReleaseCommandQueue     func(q uintptr) int32
	ReleaseContext          func(c uintptr) int32
}

// OpenCL constants (cl.h, OpenCL 1.2).
const (
	clSuccess = 0

	clPlatformName    = 0x0902
	clPlatformVersion = 0x0901

	clDeviceTypeAll         = 0xFFFFFFFF
	clDeviceTypeCPU         = 1 << 1
	clDeviceTypeGPU         = 1 << 2
	clDeviceTypeAccelerator = 1 << 3

	clDeviceType             = 0x1000
	clDeviceMaxComputeUnits  = 0x1002
	clDeviceMaxWorkGroupSize = 0x1004
	clDeviceMaxMemAllocSize  = 0x1010
	clDeviceGlobalMemSize    = 0x101F
	clDeviceName             = 0x102B
	clDeviceVersion          = 0x102F
	clDriverVersion          = 0x102D
	clDeviceExtensions       = 0x1030
	clDeviceDoubleFPConfig   = 0x1032

	clProgramBinarySizes = 0x1165
	clProgramBinaries    = 0x1166
	clProgramBuildLog    = 0x1183

	clMemReadWrite = 1 << 0
	clMemReadOnly  = 1 << 2

	clTrue = 1
)

// openLib loads libOpenCL.so.1 and binds the API.
func openLib() (*lib, error) {
	var h uintptr
	var err error
	for _, name := range []string{"libOpenCL.so.1", "libOpenCL.so"} {
		if h, err = purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_GLOBAL); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("libOpenCL.so.1 not found (install an OpenCL ICD loader and a driver, e.g. ocl-icd-libopencl1 and pocl-opencl-icd): %v", err)
	}
	l := &lib{handle: h}
	binds := []struct {
		fptr any
		name string
	}{
		{&l.GetPlatformIDs, "clGetPlatformIDs"},
		{&l.GetPlatformInfo, "clGetPlatformInfo"},
		{&l.GetDeviceIDs, "clGetDeviceIDs"},
		{&l.GetDeviceInfo, "clGetDeviceInfo"},
		{&l.CreateContext, "clCreateContext"},
		{&l.CreateCommandQueue, "clCreateCommandQueue"},
		{&l.CreateProgramWithSource, "clCreateProgramWithSource"},
		{&l.CreateProgramWithBinary, "clCreateProgramWithBinary"},
		{&l.BuildProgram, "clBuildProgram"},
		{&l.GetProgramBuildInfo, "clGetProgramBuildInfo"},
		{&l.GetProgramInfo, "clGetProgramInfo"},
		{&l.CreateKernel, "clCreateKernel"},
		{&l.SetKernelArg, "clSetKernelArg"},
		{&l.EnqueueNDRangeKernel, "clEnqueueNDRangeKernel"},
		{&l.CreateBuffer, "clCreateBuffer"},
		{&l.EnqueueWriteBuffer, "clEnqueueWriteBuffer"},
		{&l.EnqueueReadBuffer, "clEnqueueReadBuffer"},
		{&l.EnqueueCopyBuffer, "clEnqueueCopyBuffer"},
		{&l.EnqueueFillBuffer, "clEnqueueFillBuffer"},
		{&l.Finish, "clFinish"},
		{&l.ReleaseMemObject, "clReleaseMemObject"},
		{&l.ReleaseKernel, "clReleaseKernel"},
		{&l.ReleaseProgram, "clReleaseProgram"},
		{&l.ReleaseCommandQueue, "clReleaseCommandQueue"},
		{&l.ReleaseContext, "clReleaseContext"},
	}
	for _, b := range binds {
		sym, err := purego.Dlsym(h, b.name)
		if err != nil {
			return nil, fmt.Errorf("libOpenCL.so.1 has no %s (OpenCL 1.2 needed): %v", b.name, err)
		}
		purego.RegisterFunc(b.fptr, sym)
	}
	return l, nil
}

// clError is an OpenCL status code with the call that returned it.
type clError struct {
	call string
	code int32
}

func (e *clError) Error() string {
	return fmt.Sprintf("%s: %s (%d)", e.call, errName(e.code), e.code)
}

func check(call string, code int32) error {
	if code == clSuccess {
		return nil
	}
	return &clError{call, code}
}

func errName(code int32) string {
	switch code {
	case -1:
		return "CL_DEVICE_NOT_FOUND"
	case -2:
		return "CL_DEVICE_NOT_AVAILABLE"
	case -3:
		return "CL_COMPILER_NOT_AVAILABLE"
	case -4:
		return "CL_MEM_OBJECT_ALLOCATION_FAILURE"
	case -5:
		return "CL_OUT_OF_RESOURCES"
	case -6:
		return "CL_OUT_OF_HOST_MEMORY"
	case -11:
		return "CL_BUILD_PROGRAM_FAILURE"
	case -30:
		return "CL_INVALID_VALUE"
	case -32:
		return "CL_INVALID_PLATFORM"
	case -33:
		return "CL_INVALID_DEVICE"
	case -34:
		return "CL_INVALID_CONTEXT"
	case -36:
		return "CL_INVALID_COMMAND_QUEUE"
	case -38:
		return "CL_INVALID_MEM_OBJECT"
	case -42:
		return "CL_INVALID_BINARY"
	case -43:
		return "CL_INVALID_BUILD_OPTIONS"
	case -44:
		return "CL_INVALID_PROGRAM"
	case -46:
		return "CL_INVALID_KERNEL_NAME"
	case -48:
		return "CL_INVALID_KERNEL"
	case -49:
		return "CL_INVALID_ARG_INDEX"
	case -50:
		return "CL_INVALID_ARG_VALUE"
	case -51:
		return "CL_INVALID_ARG_SIZE"
	case -52:
		return "CL_INVALID_KERNEL_ARGS"
	case -54:
		return "CL_INVALID_WORK_GROUP_SIZE"
	case -55:
		return "CL_INVALID_WORK_ITEM_SIZE"
	case -61:
		return "CL_INVALID_BUFFER_SIZE"
	case -63:
		return "CL_INVALID_GLOBAL_WORK_SIZE"
	case -1001:
		return "CL_PLATFORM_NOT_FOUND_KHR"
	}
	return "CL_ERROR"
}

// info reads a variable-size info string.
func infoString(get func(size uintptr, value unsafe.Pointer, sizeRet unsafe.Pointer) int32) string {
	var n uintptr
	if get(0, nil, unsafe.Pointer(&n)) != clSuccess || n == 0 {
		return ""
	}
	buf := make([]byte, n)
	if get(n, unsafe.Pointer(&buf[0]), nil) != clSuccess {
		return ""
	}
	for len(buf) > 0 && buf[len(buf)-1] == 0 {
		buf = buf[:len(buf)-1]
	}
	return string(buf)
}

func cstr(s string) []byte { return append([]byte(s), 0) }
