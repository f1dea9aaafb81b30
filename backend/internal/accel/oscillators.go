package accel

import (
	"fmt"
	"unsafe"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/engines/kuramoto"
)

// The kuramoto family's kernels (kernels/kuramoto.cl).
const (
	KuramotoFamily = "kuramoto"
	KKuPhasor      = "ku_phasor"
	KKuDeriv       = "ku_deriv"
)

// Oscillators is a Kuramoto network in device memory, for any Device:
// phases, frequencies and the sparse coupling (if any) live there and
// every step runs there; only the order parameter's per-group partials
// come back per step. It computes in double on a device with FP64
// (results agree with package kuramoto to rounding, ~1e-13 after hundreds
// of steps), else in float (~1e-5). Its device fields and freed are
// touched only inside the device's Do.
type Oscillators[M Handle] struct {
	d      Device[M]
	n      int
	p      backend.Precision // the kernels' precision: Complex128 (f64) or Complex64 (f32)
	method kuramoto.Method
	k      float64
	sparse bool
	groups int

	phi, omega, cs, sn, tmp, k1, k2, k3 M
	rowptr, col, val                    M
	part                                M
	owned                               []M
	// fresh: cs, sn and part hold the phasors of phi (computed by the
	// last Step's order parameter), so the next step's first stage reuses
	// them.
	fresh bool
	freed bool
}

// NewOscillators puts net with phases phase0 on d, stepped by method.
func NewOscillators[M Handle](d Device[M], net kuramoto.Network, phase0 []float64, method kuramoto.Method) (*Oscillators[M], error) {
	// The CPU engine's constructor is the validator: same rules, same errors.
	if err := CheckOscillators(net, phase0, method); err != nil {
		return nil, fmt.Errorf("%s: %w", d.Name(), err)
	}
	n := len(net.Omega)
	p := backend.Complex64
	if d.FP64() {
		p = backend.Complex128
	}
	o := &Oscillators[M]{d: d, n: n, p: p, method: method, k: net.K, sparse: net.Coupling != nil, groups: KuGroups(n)}
	ph := make([]float64, n)
	copy(ph, phase0)
	err := d.Do(func() error {
		// Load the family first: its build (JIT) errors are clearer here
		// than at the first step.
		if _, err := d.Kernel(KuramotoFamily, p, KKuPhasor); err != nil {
			return err
		}
		if err := o.init(net, ph); err != nil {
			if rerr := o.release(); rerr != nil {
				return fmt.Errorf("%w (and releasing: %v)", err, rerr)
			}
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// errorf formats an error with the backend's prefix.
func (o *Oscillators[M]) errorf(format string, args ...any) error {
	return fmt.Errorf(o.d.Name()+": "+format, args...)
}

// realBytes is the size of one of the kernels' reals.
func (o *Oscillators[M]) realBytes() uintptr {
	if o.p == backend.Complex128 {
		return 8
	}
	return 4
}

// real converts x to the kernels' real type.
func (o *Oscillators[M]) real(x float64) any {
	if o.p == backend.Complex128 {
		return x
	}
	return float32(x)
}

// alloc allocates a buffer the oscillators own. Inside Do.
func (o *Oscillators[M]) alloc(dst *M, size uintptr) error {
	m, err := o.d.Alloc(size)
	if err != nil {
		return err
	}
	*dst = m
	o.owned = append(o.owned, m)
	return nil
}

// init allocates the device buffers and uploads the phases, frequencies
// and coupling. Inside Do.
func (o *Oscillators[M]) init(net kuramoto.Network, ph []float64) error {
	nb := uintptr(o.n) * o.realBytes()
	type sized struct {
		dst  *M
		size uintptr
	}
	bufs := []sized{
		{&o.phi, nb}, {&o.omega, nb}, {&o.cs, nb}, {&o.sn, nb}, {&o.tmp, nb}, {&o.k1, nb},
		{&o.part, 2 * uintptr(o.groups) * accBytes(o.d)},
	}
	if o.method == kuramoto.RK4 {
		bufs = append(bufs, sized{&o.k2, nb}, sized{&o.k3, nb})
	}
	for _, x := range bufs {
		if err := o.alloc(x.dst, x.size); err != nil {
			return err
		}
	}
	if err := o.upload(o.phi, ph); err != nil {
		return o.errorf("kuramoto phases: %w", err)
	}
	if err := o.upload(o.omega, net.Omega); err != nil {
		return o.errorf("kuramoto frequencies: %w", err)
	}
	c := net.Coupling
	if c == nil {
		// ku_deriv takes the CSR arguments either way; any buffer will do.
		o.rowptr, o.col, o.val = o.omega, o.omega, o.omega
		return nil
	}
	rp, col, val := CouplingCSR(c)
	for _, x := range []struct {
		dst  *M
		data unsafe.Pointer
		size uintptr
	}{
		{&o.rowptr, unsafe.Pointer(&rp[0]), uintptr(len(rp)) * 4},
		{&o.col, unsafe.Pointer(&col[0]), uintptr(len(col)) * 4},
	} {
		if err := o.alloc(x.dst, x.size); err != nil {
			return err
		}
		if err := o.d.Write(*x.dst, 0, x.data, x.size); err != nil {
			return o.errorf("kuramoto coupling: %w", err)
		}
	}
	if err := o.alloc(&o.val, uintptr(len(val))*o.realBytes()); err != nil {
		return err
	}
	if err := o.upload(o.val, val); err != nil {
		return o.errorf("kuramoto coupling: %w", err)
	}
	return nil
}

// upload writes host values into a buffer of the kernels' reals. Inside Do.
func (o *Oscillators[M]) upload(m M, x []float64) error {
	if len(x) == 0 {
		return nil
	}
	if o.p == backend.Complex128 {
		return o.d.Write(m, 0, unsafe.Pointer(&x[0]), uintptr(len(x))*8)
	}
	f := make([]float32, len(x))
	for i, v := range x {
		f[i] = float32(v)
	}
	return o.d.Write(m, 0, unsafe.Pointer(&f[0]), uintptr(len(f))*4)
}

// release frees the device buffers (after the work queued on them).
// Inside Do.
func (o *Oscillators[M]) release() error {
	var first error
	for _, m := range o.owned {
		if err := o.d.Free(m); err != nil && first == nil {
			first = err
		}
	}
	o.owned = nil
	if first != nil {
		return o.errorf("freeing oscillators: %w", first)
	}
	return nil
}

// do runs f inside Do on live oscillators.
func (o *Oscillators[M]) do(f func() error) error {
	return o.d.Do(func() error {
		if o.freed {
			return o.errorf("oscillators used after Free")
		}
		return f()
	})
}

// N returns the number of oscillators.
func (o *Oscillators[M]) N() int { return o.n }

// Step advances the phases by dt (RK4 or Euler, as package kuramoto) and
// returns the order parameter of the new phases; phases are wrapped into
// [−π, π] like the CPU engine's.
func (o *Oscillators[M]) Step(dt float64) (float64, float64, error) {
	if err := CheckDt(dt); err != nil {
		return 0, 0, o.errorf("%w", err)
	}
	var part []float64
	err := o.do(func() error {
		if err := o.run(dt); err != nil {
			o.fresh = false
			return o.errorf("kuramoto step: %w", err)
		}
		// The partials summed on the host in group order.
		var err error
		if part, err = readPartials(o.d, o.part, 2*o.groups); err != nil {
			o.fresh = false
			return o.errorf("kuramoto order parameter: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	r, psi := OrderParameter(part, o.groups, o.n)
	return r, psi, nil
}

// run launches one step's kernels. Inside Do.
func (o *Oscillators[M]) run(dt float64) error {
	n32 := int32(o.n)
	sparse := flag(o.sparse)
	phasor := func(x M) error {
		return launch(o.d, KuramotoFamily, o.p, KKuPhasor, Groups, uint64(o.groups*WG),
			Ptr[M]{x}, n32, Ptr[M]{o.cs}, Ptr[M]{o.sn}, Ptr[M]{o.part})
	}
	derivItems := uint64((o.n + WG - 1) / WG * WG)
	deriv := func(mode int32, h float64, kout M) error {
		k2, k3 := o.k1, o.k1
		if o.method == kuramoto.RK4 {
			k2, k3 = o.k2, o.k3
		}
		return launch(o.d, KuramotoFamily, o.p, KKuDeriv, Groups, derivItems,
			Ptr[M]{o.phi}, Ptr[M]{o.cs}, Ptr[M]{o.sn}, Ptr[M]{o.omega}, Ptr[M]{o.part}, int32(o.groups),
			Ptr[M]{o.rowptr}, Ptr[M]{o.col}, Ptr[M]{o.val}, o.real(o.k), n32, sparse, mode, o.real(h),
			Ptr[M]{kout}, Ptr[M]{o.tmp}, Ptr[M]{o.k1}, Ptr[M]{k2}, Ptr[M]{k3})
	}
	bufs := [...]M{KuPhi: o.phi, KuTmp: o.tmp, KuK1: o.k1, KuK2: o.k2, KuK3: o.k3}
	err := KuStep(o.method, dt, o.fresh,
		func(x KuBuf) error { return phasor(bufs[x]) },
		func(mode int32, h float64, kout KuBuf) error { return deriv(mode, h, bufs[kout]) })
	o.fresh = err == nil
	return err
}

// Phases copies the phases (radians, in [−π, π] after a step) into dst.
func (o *Oscillators[M]) Phases(dst []float64) error {
	if len(dst) != o.n {
		return o.errorf("Phases into %d values for %d oscillators", len(dst), o.n)
	}
	return o.do(func() error {
		if err := o.read(o.phi, dst); err != nil {
			return o.errorf("kuramoto phases: %w", err)
		}
		return nil
	})
}

// read reads len(dst) of the kernels' reals from m. Inside Do.
func (o *Oscillators[M]) read(m M, dst []float64) error {
	if len(dst) == 0 {
		return nil
	}
	if o.p == backend.Complex128 {
		return o.d.Read(m, 0, unsafe.Pointer(&dst[0]), uintptr(len(dst))*8)
	}
	f := make([]float32, len(dst))
	if err := o.d.Read(m, 0, unsafe.Pointer(&f[0]), uintptr(len(f))*4); err != nil {
		return err
	}
	for i, v := range f {
		dst[i] = float64(v)
	}
	return nil
}

// Free releases the device buffers (after the work queued on them); later
// calls fail.
func (o *Oscillators[M]) Free() error {
	return o.d.Do(func() error {
		if o.freed {
			return nil
		}
		o.freed = true
		return o.release()
	})
}

var _ backend.Oscillators = (*Oscillators[uint64])(nil)
