package cuda

import (
	"bytes"
	"fmt"
	"math/bits"
	"strings"
	"sync"
	"syscall"
	"testing"
	"unsafe"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/backendtest"
	"github.com/prismai/mec/backend/internal/accel"
)

// fakeGPU is a CUDA driver emulated in Go, behind the same lib function
// table purego fills: device memory is Go byte slices, and cuLaunchKernel
// decodes kernelParams by the kernel's PTX signature and runs a Go port of
// the statevector kernel over the launch's grid (each thread as the CUDA
// code would run it, so a launch that covers too few or too many items
// shows). It checks what the real driver would reject — calls off the
// context's thread, unknown functions, out-of-bounds copies — and lets the
// conformance suite exercise all of the backend's host code without a GPU.
// It cannot check the PTX itself, the JIT, or real concurrency on a device.
type fakeGPU struct {
	t *testing.T

	mu       sync.Mutex
	tid      int // the thread the context is current on
	bufs     map[uint64][]byte
	next     uint64
	funcs    map[uintptr]string
	modules  map[uintptr]string // module → PTX text
	handle   uintptr
	launches map[string]int
	errs     []string
}

const (
	fakeCtx    = 0xc0
	fakeStream = 0x57
	fakeMem    = 1 << 34 // "device memory"
)

func (g *fakeGPU) fail(format string, args ...any) int32 {
	g.errs = append(g.errs, fmt.Sprintf(format, args...))
	return 1 // CUDA_ERROR_INVALID_VALUE
}

// onThread checks that a context call runs on the context's thread.
func (g *fakeGPU) onThread(call string) bool {
	if tid := syscall.Gettid(); tid != g.tid {
		g.fail("%s on thread %d, the context is current on %d", call, tid, g.tid)
		return false
	}
	return true
}

// mem resolves a device address range to its bytes.
func (g *fakeGPU) mem(addr uint64, n uintptr) ([]byte, bool) {
	base, off := addr>>40<<40, addr&(1<<40-1)
	b, ok := g.bufs[base]
	if !ok || off+uint64(n) > uint64(len(b)) {
		return nil, false
	}
	return b[off : off+uint64(n)], true
}

func newFakeLib(t *testing.T) (*lib, *fakeGPU) {
	g := &fakeGPU{t: t, bufs: map[uint64][]byte{}, funcs: map[uintptr]string{}, modules: map[uintptr]string{}, launches: map[string]int{}, handle: 0x1000}
	l := &lib{}
	l.GetErrorName = func(int32, **byte) int32 { return 1 }
	l.DevicePrimaryCtxRetain = func(ctx *uintptr, dev int32) int32 {
		g.tid = syscall.Gettid()
		*ctx = fakeCtx
		return 0
	}
	l.DevicePrimaryCtxRelease = func(int32) int32 { g.onThread("cuDevicePrimaryCtxRelease"); return 0 }
	l.CtxSetCurrent = func(ctx uintptr) int32 {
		if ctx != fakeCtx {
			return g.fail("cuCtxSetCurrent(%#x)", ctx)
		}
		g.onThread("cuCtxSetCurrent")
		return 0
	}
	l.StreamCreate = func(s *uintptr, flags uint32) int32 { g.onThread("cuStreamCreate"); *s = fakeStream; return 0 }
	l.StreamDestroy = func(uintptr) int32 { g.onThread("cuStreamDestroy"); return 0 }
	l.StreamSynchronize = func(s uintptr) int32 {
		if s != fakeStream {
			return g.fail("cuStreamSynchronize(%#x)", s)
		}
		g.onThread("cuStreamSynchronize")
		return 0
	}
	l.CtxSynchronize = func() int32 { g.onThread("cuCtxSynchronize"); return 0 }
	l.ModuleLoadDataEx = func(mod *uintptr, image unsafe.Pointer, nopt uint32, opts, vals unsafe.Pointer) int32 {
		g.onThread("cuModuleLoadData")
		var b []byte
		for i := 0; i < 1<<24; i++ {
			c := *(*byte)(unsafe.Add(image, i))
			if c == 0 {
				break
			}
			b = append(b, c)
		}
		if !bytes.Contains(b, []byte(".entry")) || len(b) == 1<<24 {
			return g.fail("cuModuleLoadData: image is not NUL-terminated PTX")
		}
		if nopt != 2 || *(*int32)(opts) != cuJitErrorLogBuffer {
			return g.fail("cuModuleLoadData: unexpected JIT options")
		}
		g.handle++
		g.modules[g.handle] = string(b)
		*mod = g.handle
		return 0
	}
	l.ModuleUnload = func(m uintptr) int32 { g.onThread("cuModuleUnload"); delete(g.modules, m); return 0 }
	l.ModuleGetFunction = func(f *uintptr, mod uintptr, name *byte) int32 {
		g.onThread("cuModuleGetFunction")
		n := goString(name, 256)
		if !strings.Contains(g.modules[mod], ".entry "+n+"(") {
			return 500 // CUDA_ERROR_NOT_FOUND
		}
		g.handle++
		g.funcs[g.handle] = n
		*f = g.handle
		return 0
	}
	l.FuncGetAttribute = func(v *int32, attr int32, f uintptr) int32 { *v = 1024; return 0 }
	l.MemGetInfo = func(free, total *uintptr) int32 { *free, *total = 1<<30, 1<<30; return 0 }
	l.MemAlloc = func(p *uint64, size uintptr) int32 {
		g.onThread("cuMemAlloc")
		g.next += 1 << 40
		g.bufs[g.next] = make([]byte, size)
		*p = g.next
		return 0
	}
	l.MemFree = func(p uint64) int32 {
		g.onThread("cuMemFree")
		if _, ok := g.bufs[p]; !ok {
			return g.fail("cuMemFree(%#x): not allocated", p)
		}
		delete(g.bufs, p)
		return 0
	}
	l.MemcpyHtoD = func(dst uint64, src unsafe.Pointer, n uintptr) int32 {
		g.onThread("cuMemcpyHtoD")
		d, ok := g.mem(dst, n)
		if !ok {
			return g.fail("cuMemcpyHtoD(%#x, %d) out of bounds", dst, n)
		}
		copy(d, unsafe.Slice((*byte)(src), n))
		return 0
	}
	l.MemcpyDtoH = func(dst unsafe.Pointer, src uint64, n uintptr) int32 {
		g.onThread("cuMemcpyDtoH")
		s, ok := g.mem(src, n)
		if !ok {
			return g.fail("cuMemcpyDtoH(%#x, %d) out of bounds", src, n)
		}
		copy(unsafe.Slice((*byte)(dst), n), s)
		return 0
	}
	l.MemcpyDtoD = func(dst, src uint64, n uintptr) int32 {
		g.onThread("cuMemcpyDtoD")
		d, ok1 := g.mem(dst, n)
		s, ok2 := g.mem(src, n)
		if !ok1 || !ok2 {
			return g.fail("cuMemcpyDtoD out of bounds")
		}
		copy(d, s)
		return 0
	}
	l.MemsetD8 = func(dst uint64, v uint8, n uintptr) int32 {
		g.onThread("cuMemsetD8")
		d, ok := g.mem(dst, n)
		if !ok {
			return g.fail("cuMemsetD8 out of bounds")
		}
		for i := range d {
			d[i] = v
		}
		return 0
	}
	l.LaunchKernel = func(f uintptr, gx, gy, gz, bx, by, bz, shared uint32, stream uintptr, params, extra unsafe.Pointer) int32 {
		g.onThread("cuLaunchKernel")
		name, ok := g.funcs[f]
		if !ok {
			return g.fail("cuLaunchKernel of unknown function %#x", f)
		}
		if gy != 1 || gz != 1 || by != 1 || bz != 1 || bx == 0 || bx > 1024 || gx == 0 || shared != 0 || stream != fakeStream || extra != nil {
			return g.fail("cuLaunchKernel %s: grid (%d,%d,%d) block (%d,%d,%d) shared %d stream %#x", name, gx, gy, gz, bx, by, bz, shared, stream)
		}
		g.launches[name]++
		if err := g.run(name, uint64(gx), uint64(bx), params); err != nil {
			return g.fail("%s: %v", name, err)
		}
		return 0
	}
	return l, g
}

// run decodes the parameters of kernel name and runs its Go port.
func (g *fakeGPU) run(name string, grid, block uint64, params unsafe.Pointer) error {
	cut := strings.LastIndex(name, "_f")
	if cut < 0 {
		return fmt.Errorf("no precision suffix")
	}
	base, ps := name[:cut], name[cut+2:]
	sig, ok := kernelSignatures()[base]
	if !ok {
		return fmt.Errorf("no signature")
	}
	pp := unsafe.Slice((*unsafe.Pointer)(params), len(sig))
	args := make([]any, len(sig))
	for i, c := range sig {
		switch c {
		case 'p', 'u':
			args[i] = *(*uint64)(pp[i])
		case 'i':
			args[i] = *(*int32)(pp[i])
		case 'r':
			if ps == "64" {
				args[i] = *(*float64)(pp[i])
			} else {
				args[i] = float64(*(*float32)(pp[i]))
			}
		}
	}
	if ps == "64" {
		return emulate[complex128](g, base, grid, block, args)
	}
	return emulate[complex64](g, base, grid, block, args)
}

type amp interface{ complex64 | complex128 }

func view[T any](g *fakeGPU, p uint64) []T {
	base := p >> 40 << 40
	b := g.bufs[base][p-base:]
	var z T
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), uintptr(len(b))/unsafe.Sizeof(z))
}

func insert0(i uint64, p int) uint64 {
	lo := i & (1<<p - 1)
	return (i>>p)<<(p+1) | lo
}

func tq(pack uint64, b int) int { return int(pack >> (6 * b) & 63) }

// emulate runs kernel base as CUDA would over grid×block threads (one
// after another; the kernels have no inter-thread dependencies except the
// block reductions, which are computed per block).
func emulate[T amp](g *fakeGPU, base string, grid, block uint64, args []any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("emulated kernel: %v (grid %d, block %d)", r, grid, block)
		}
	}()
	threads := grid * block
	u := func(i int) uint64 { return args[i].(uint64) }
	i32 := func(i int) int { return int(args[i].(int32)) }
	r := func(i int) float64 { return args[i].(float64) }
	switch base {
	case kApply1:
		a := view[T](g, u(0))
		t := i32(1)
		m00, m01, m10, m11 := complex(r(2), r(3)), complex(r(4), r(5)), complex(r(6), r(7)), complex(r(8), r(9))
		cmask, cval := u(10), u(11)
		bit := uint64(1) << t
		upd := func(i0, i1 uint64) {
			x, y := complex128(a[i0]), complex128(a[i1])
			a[i0], a[i1] = T(m00*x+m01*y), T(m10*x+m11*y)
		}
		var z T
		run := uint64(accel.SVRun(backend.Complex128))
		if _, ok := any(z).(complex64); ok {
			run = uint64(accel.SVRun(backend.Complex64))
		}
		for gid := uint64(0); gid < threads; gid++ {
			first := gid * run
			if bit >= run {
				i0 := insert0(first, t)
				if cmask != 0 && i0&cmask&^(run-1) != cval&^(run-1) {
					continue
				}
				for j := uint64(0); j < run; j++ {
					if (i0+j)&cmask == cval {
						upd(i0+j, i0+j+bit)
					}
				}
				continue
			}
			for j := uint64(0); j < run; j++ {
				i0 := insert0(first+j, t)
				if i0&cmask == cval {
					upd(i0, i0|bit)
				}
			}
		}
	case "sv_apply2", "sv_apply3", "sv_apply4", "sv_apply5", "sv_apply6":
		k := int(base[len(base)-1] - '0')
		a, m := view[T](g, u(0)), view[T](g, u(1))
		groups, tpack, spack, cmask, cval := u(2), u(3), u(4), u(5), u(6)
		dim := 1 << k
		for gid := uint64(0); gid < threads; gid++ {
			if gid >= groups {
				continue
			}
			b := gid
			for j := 0; j < k; j++ {
				b = insert0(b, tq(spack, j))
			}
			if b&cmask != cval {
				continue
			}
			off := make([]uint64, dim)
			v := make([]complex128, dim)
			off[0] = b
			for j := 0; j < k; j++ {
				for c := 0; c < 1<<j; c++ {
					off[c|1<<j] = off[c] | 1<<tq(tpack, j)
				}
			}
			for c := range v {
				v[c] = complex128(a[off[c]])
			}
			for row := 0; row < dim; row++ {
				var s complex128
				for c := 0; c < dim; c++ {
					s += complex128(m[row*dim+c]) * v[c]
				}
				a[off[row]] = T(s)
			}
		}
	case kDiag:
		a, d := view[T](g, u(0)), view[T](g, u(1))
		n, k, tpack, cmask, cval := u(2), i32(3), u(4), u(5), u(6)
		for i := uint64(0); i < threads; i++ {
			if i >= n || i&cmask != cval {
				continue
			}
			var j uint64
			for b := 0; b < k; b++ {
				j |= (i >> tq(tpack, b) & 1) << b
			}
			a[i] = d[j] * a[i]
		}
	case kSwap:
		a := view[T](g, u(0))
		quarter, q1, q2 := u(1), i32(2), i32(3)
		for gid := uint64(0); gid < threads; gid++ {
			if gid >= quarter {
				continue
			}
			b := insert0(insert0(gid, q1), q2)
			i01, i10 := b|1<<q1, b|1<<q2
			a[i01], a[i10] = a[i10], a[i01]
		}
	case kNorm, kPauli, kInner:
		if block != wg {
			return fmt.Errorf("reduction launched with blocks of %d, MEC_WG is %d", block, wg)
		}
		a := view[T](g, u(0))
		var bv []T
		var n, xmask, zmask uint64
		var out []float64
		per := 2
		switch base {
		case kNorm:
			n, out, per = u(1), view[float64](g, u(2)), 1
		case kPauli:
			n, xmask, zmask, out = u(1), u(2), u(3), view[float64](g, u(4))
		case kInner:
			bv, n, out = view[T](g, u(1)), u(2), view[float64](g, u(3))
		}
		for grp := uint64(0); grp < grid; grp++ {
			var sr, si float64
			for lid := uint64(0); lid < block; lid++ {
				for i := grp*block + lid; i < n; i += threads {
					v := complex128(a[i])
					switch base {
					case kNorm:
						sr += real(v)*real(v) + imag(v)*imag(v)
					case kPauli:
						w := complex128(a[i^xmask])
						p := complexConj(w) * v
						if bits.OnesCount64(i&zmask)&1 == 1 {
							p = -p
						}
						sr, si = sr+real(p), si+imag(p)
					case kInner:
						p := complexConj(v) * complex128(bv[i])
						sr, si = sr+real(p), si+imag(p)
					}
				}
			}
			if per == 1 {
				out[grp] = sr
			} else {
				out[2*grp], out[2*grp+1] = sr, si
			}
		}
	case kMarginal:
		a := view[T](g, u(0))
		rest, k, qpack, spack, chunks, clen, out := u(1), i32(2), u(3), u(4), u(5), u(6), view[float64](g, u(7))
		outcomes := uint64(1) << k
		for w := uint64(0); w < threads; w++ {
			if w >= outcomes*chunks {
				continue
			}
			o, c := w/chunks, w%chunks
			var bitsv uint64
			for b := 0; b < k; b++ {
				bitsv |= (o >> b & 1) << tq(qpack, b)
			}
			lo, hi := c*clen, min(c*clen+clen, rest)
			var t float64
			for j := lo; j < hi; j++ {
				i := j
				for b := 0; b < k; b++ {
					i = insert0(i, tq(spack, b))
				}
				v := complex128(a[i|bitsv])
				t += real(v)*real(v) + imag(v)*imag(v)
			}
			out[w] = t
		}
	case kBlockSum:
		a := view[T](g, u(0))
		blocks, blen, out := u(1), u(2), view[float64](g, u(3))
		for b := uint64(0); b < threads; b++ {
			if b >= blocks {
				continue
			}
			var t float64
			for i := b * blen; i < (b+1)*blen; i++ {
				v := complex128(a[i])
				t += real(v)*real(v) + imag(v)*imag(v)
			}
			out[b] = t
		}
	default:
		return fmt.Errorf("no emulation")
	}
	return nil
}

func complexConj(c complex128) complex128 { return complex(real(c), -imag(c)) }

// fakeBackend opens the backend on the emulated driver.
func fakeBackend(t *testing.T, ccMajor int) (*Backend, *fakeGPU) {
	l, g := newFakeLib(t)
	dev := &Device{Name: "Fake GPU", CCMajor: ccMajor, TotalMem: 1 << 30, SMs: 1, MaxGridX: 1<<31 - 1}
	b, err := open(l, dev, []*Device{dev}, 12020)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
		if len(g.bufs) > 0 { // Close frees the scratch buffer
			t.Logf("%d device buffers not freed by the test", len(g.bufs))
		}
		for _, e := range g.errs {
			t.Errorf("driver misuse: %s", e)
		}
	})
	return b, g
}

// TestFakeConformance runs the conformance suite against the backend on
// the emulated driver: the host side (launch geometry, kernelParams,
// copies, scratch reuse, partial sums, sampling, the thread) without a GPU.
func TestFakeConformance(t *testing.T) {
	for _, cc := range []int{8, 9} {
		t.Run(fmt.Sprintf("cc%d", cc), func(t *testing.T) {
			b, g := fakeBackend(t, cc)
			if !strings.Contains(b.Device(), fmt.Sprintf("compute_%d0", cc)) {
				t.Errorf("Device() = %q: wrong PTX for cc %d.0", b.Device(), cc)
			}
			backendtest.Run(t, b)
			for base := range kernelSignatures() {
				if g.launches[base+"_f64"] == 0 || g.launches[base+"_f32"] == 0 {
					t.Errorf("conformance suite never launched %s in both precisions (%d, %d)", base, g.launches[base+"_f32"], g.launches[base+"_f64"])
				}
			}
		})
	}
}

// TestFakeThread: callers on many goroutines, every driver call on the
// context's one thread (the fake checks each call), panics reported as
// errors, and nothing runs after Close.
func TestFakeThread(t *testing.T) {
	b, _ := fakeBackend(t, 9)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := b.NewState(6, backend.Complex128)
			if err != nil {
				t.Error(err)
				return
			}
			for i := 0; i < 20; i++ {
				if _, err := st.(*State).Norm(); err != nil {
					t.Error(err)
				}
			}
			if err := st.Free(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := b.do(func() error { panic("boom") }); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("panic on the worker: %v", err)
	}
	st, err := b.NewState(3, backend.Complex64)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Free(); err != nil {
		t.Fatal(err)
	}
	if err := st.Load(make([]complex128, 8)); err == nil {
		t.Error("Load after Free accepted")
	}
}
