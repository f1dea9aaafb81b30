package opencl

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/internal/accel"
	"github.com/prismai/mec/kuramoto"
)

var _ backend.Phase = (*Backend)(nil)

// NewOscillators puts a Kuramoto network on the device: phases,
// frequencies and the sparse coupling (if any) live in device buffers and
// every step runs there; only the order parameter (two numbers) comes back
// per step. The arithmetic is double precision when the device has fp64
// (results agree with package kuramoto to rounding, ~1e-13 after hundreds
// of steps), else single precision (agreement ~1e-5; the conformance suite
// needs fp64).
func (b *Backend) NewOscillators(net kuramoto.Network, phase0 []float64, method kuramoto.Method) (backend.Oscillators, error) {
	// The CPU engine's constructor is the validator: same rules, same errors.
	if err := accel.CheckOscillators(net, phase0, method); err != nil {
		return nil, fmt.Errorf("opencl: %w", err)
	}
	n := len(net.Omega)
	p := backend.Complex64
	if b.dev.FP64 {
		p = backend.Complex128
	}
	o := &oscillators{b: b, n: n, p: p, method: method, k: net.K, sparse: net.Coupling != nil}
	o.groups = accel.KuGroups(n)

	b.mu.Lock()
	defer b.mu.Unlock()
	pr, err := b.program("kuramoto", p)
	if err != nil {
		return nil, err
	}
	accBytes := uintptr(4)
	if pr.acc64 || p == backend.Complex128 {
		accBytes = 8
	}
	rb := uintptr(o.realBytes())
	nb := uintptr(n) * rb
	type sized struct {
		dst  *uintptr
		size uintptr
	}
	bufs := []sized{
		{&o.phi, nb}, {&o.omega, nb}, {&o.cs, nb}, {&o.sn, nb}, {&o.tmp, nb}, {&o.k1, nb},
		{&o.part, 2 * uintptr(o.groups) * accBytes},
	}
	if method == kuramoto.RK4 {
		bufs = append(bufs, sized{&o.k2, nb}, sized{&o.k3, nb})
	}
	for _, x := range bufs {
		m, err := b.alloc(x.size)
		if err != nil {
			o.release()
			return nil, err
		}
		*x.dst = m
		o.owned = append(o.owned, m)
	}
	o.accBytes = accBytes
	ph := make([]float64, n)
	copy(ph, phase0)
	if err := o.upload(o.phi, ph); err != nil {
		o.release()
		return nil, err
	}
	if err := o.upload(o.omega, net.Omega); err != nil {
		o.release()
		return nil, err
	}
	if c := net.Coupling; c != nil {
		rp, col, val := accel.CouplingCSR(c)
		for _, x := range []struct {
			dst  *uintptr
			data unsafe.Pointer
			size uintptr
		}{
			{&o.rowptr, unsafe.Pointer(&rp[0]), uintptr(len(rp)) * 4},
			{&o.col, unsafe.Pointer(&col[0]), uintptr(len(col)) * 4},
		} {
			m, err := b.alloc(x.size)
			if err != nil {
				o.release()
				return nil, err
			}
			*x.dst = m
			o.owned = append(o.owned, m)
			if err := b.write(m, 0, x.data, x.size); err != nil {
				o.release()
				return nil, err
			}
		}
		m, err := b.alloc(uintptr(len(val)) * rb)
		if err != nil {
			o.release()
			return nil, err
		}
		o.val = m
		o.owned = append(o.owned, m)
		if err := o.upload(m, val); err != nil {
			o.release()
			return nil, err
		}
	} else {
		// ku_deriv takes the CSR arguments either way; any buffer will do.
		o.rowptr, o.col, o.val = o.omega, o.omega, o.omega
	}
	return o, nil
}

// kuWG is the work-group size of the reduction kernels (MEC_WG in compat.h).
const kuWG = accel.WG

// oscillators is a Kuramoto network in device buffers.
type oscillators struct {
	b        *Backend
	n        int
	p        backend.Precision
	method   kuramoto.Method
	k        float64
	sparse   bool
	groups   int
	accBytes uintptr

	phi, omega, cs, sn, tmp, k1, k2, k3 uintptr
	rowptr, col, val                    uintptr
	part                                uintptr
	owned                               []uintptr
	// fresh: cs, sn and part hold the phasors of phi (computed by the
	// last Step's order parameter), so the next step's first stage reuses
	// them.
	fresh bool
	freed bool
}

func (o *oscillators) realBytes() int {
	if o.p == backend.Complex128 {
		return 8
	}
	return 4
}

// real converts x to the kernels' real type.
func (o *oscillators) real(x float64) any {
	if o.p == backend.Complex128 {
		return x
	}
	return float32(x)
}

func (o *oscillators) kname(base string) string {
	if o.p == backend.Complex128 {
		return base + "_f64"
	}
	return base + "_f32"
}

// upload writes host values into a real buffer (b.mu held).
func (o *oscillators) upload(m uintptr, x []float64) error {
	if len(x) == 0 {
		return nil
	}
	if o.p == backend.Complex128 {
		return o.b.write(m, 0, unsafe.Pointer(&x[0]), uintptr(len(x))*8)
	}
	f := make([]float32, len(x))
	for i, v := range x {
		f[i] = float32(v)
	}
	return o.b.write(m, 0, unsafe.Pointer(&f[0]), uintptr(len(f))*4)
}

// release frees the device buffers (b.mu held).
func (o *oscillators) release() {
	for _, m := range o.owned {
		o.b.l.ReleaseMemObject(m)
	}
	o.owned = nil
}

// N returns the number of oscillators.
func (o *oscillators) N() int { return o.n }

// kernels returns the two kernels of the family (b.mu held).
func (o *oscillators) kernels() (phasor, deriv uintptr, err error) {
	pr, err := o.b.program("kuramoto", o.p)
	if err != nil {
		return 0, 0, err
	}
	if phasor, err = o.b.kernel(pr, o.kname("ku_phasor")); err != nil {
		return 0, 0, err
	}
	deriv, err = o.b.kernel(pr, o.kname("ku_deriv"))
	return phasor, deriv, err
}

// Step advances the phases by dt (RK4 or Euler, as package kuramoto) and
// returns the order parameter of the new phases; phases are wrapped into
// [−π, π] like the CPU engine's.
func (o *oscillators) Step(dt float64) (float64, float64, error) {
	if o.freed {
		return 0, 0, errors.New("opencl: oscillators used after Free")
	}
	if err := accel.CheckDt(dt); err != nil {
		return 0, 0, fmt.Errorf("opencl: %w", err)
	}
	b := o.b
	b.mu.Lock()
	defer b.mu.Unlock()
	kp, kd, err := o.kernels()
	if err != nil {
		return 0, 0, err
	}
	n32 := int32(o.n)
	sparse := int32(0)
	if o.sparse {
		sparse = 1
	}
	phasor := func(x uintptr) error {
		return b.launch(kp, uintptr(o.groups*kuWG), kuWG, mem(x), n32, mem(o.cs), mem(o.sn), mem(o.part))
	}
	deriv := func(mode int32, h float64, kout uintptr) error {
		k2, k3 := o.k1, o.k1
		if o.method == kuramoto.RK4 {
			k2, k3 = o.k2, o.k3
		}
		return b.launch(kd, uintptr(o.n), kuWG, mem(o.phi), mem(o.cs), mem(o.sn), mem(o.omega), mem(o.part), int32(o.groups),
			mem(o.rowptr), mem(o.col), mem(o.val), o.real(o.k), n32, sparse, mode, o.real(h),
			mem(kout), mem(o.tmp), mem(o.k1), mem(k2), mem(k3))
	}
	run := func() error {
		bufs := [...]uintptr{accel.KuPhi: o.phi, accel.KuTmp: o.tmp, accel.KuK1: o.k1, accel.KuK2: o.k2, accel.KuK3: o.k3}
		err := accel.KuStep(o.method, dt, o.fresh,
			func(x accel.KuBuf) error { return phasor(bufs[x]) },
			func(mode int32, h float64, kout accel.KuBuf) error { return deriv(mode, h, bufs[kout]) })
		o.fresh = err == nil
		return err
	}
	if err := run(); err != nil {
		o.fresh = false
		return 0, 0, fmt.Errorf("opencl: kuramoto step: %w", err)
	}
	// The partials summed on the host in group order.
	part := make([]float64, 2*o.groups)
	if err := o.readAcc(o.part, part); err != nil {
		o.fresh = false
		return 0, 0, fmt.Errorf("opencl: kuramoto order parameter: %w", err)
	}
	r, psi := accel.OrderParameter(part, o.groups, o.n)
	return r, psi, nil
}

// readAcc reads accumulator values (float or double) into dst (b.mu held).
func (o *oscillators) readAcc(m uintptr, dst []float64) error {
	if o.accBytes == 8 {
		return o.b.read(m, 0, unsafe.Pointer(&dst[0]), uintptr(len(dst))*8)
	}
	f := make([]float32, len(dst))
	if err := o.b.read(m, 0, unsafe.Pointer(&f[0]), uintptr(len(f))*4); err != nil {
		return err
	}
	for i, v := range f {
		dst[i] = float64(v)
	}
	return nil
}

// Phases copies the phases (radians, in [−π, π] after a step) into dst.
func (o *oscillators) Phases(dst []float64) error {
	if o.freed {
		return errors.New("opencl: oscillators used after Free")
	}
	if len(dst) != o.n {
		return fmt.Errorf("opencl: Phases into %d values for %d oscillators", len(dst), o.n)
	}
	o.b.mu.Lock()
	defer o.b.mu.Unlock()
	if o.p == backend.Complex128 {
		return o.b.read(o.phi, 0, unsafe.Pointer(&dst[0]), uintptr(o.n)*8)
	}
	f := make([]float32, o.n)
	if err := o.b.read(o.phi, 0, unsafe.Pointer(&f[0]), uintptr(o.n)*4); err != nil {
		return err
	}
	for i, v := range f {
		dst[i] = float64(v)
	}
	return nil
}

// Free releases the device buffers; later calls fail.
func (o *oscillators) Free() error {
	if o.freed {
		return nil
	}
	o.b.mu.Lock()
	defer o.b.mu.Unlock()
	o.release()
	o.freed = true
	return nil
}
