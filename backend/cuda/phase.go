package cuda

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/internal/accel"
	"github.com/prismai/mec/kuramoto"
)

var _ backend.Phase = (*Backend)(nil)

// kuWG is the block size of the kuramoto kernels (MEC_WG in compat.h).
const kuWG = wg

// NewOscillators puts a Kuramoto network on the device: phases,
// frequencies and the sparse coupling (if any) live in device memory and
// every step runs there; only the order parameter's per-block partials
// come back per step. The arithmetic is double precision (every CUDA
// device of compute capability 8.0+ has it): results agree with package
// kuramoto to rounding, ~1e-13 after hundreds of steps.
func (b *Backend) NewOscillators(net kuramoto.Network, phase0 []float64, method kuramoto.Method) (backend.Oscillators, error) {
	// The CPU engine's constructor is the validator: same rules, same errors.
	if err := accel.CheckOscillators(net, phase0, method); err != nil {
		return nil, fmt.Errorf("cuda: %w", err)
	}
	n := len(net.Omega)
	o := &oscillators{b: b, n: n, p: backend.Complex128, method: method, k: net.K, sparse: net.Coupling != nil}
	o.groups = accel.KuGroups(n)
	ph := make([]float64, n)
	copy(ph, phase0)
	err := b.do(func() error {
		// Load the module first: its JIT errors are clearer here than at
		// the first step.
		if _, err := b.function(kuramotoFamily, o.p, kKuPhasor); err != nil {
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

// init allocates the device buffers and uploads the phases, frequencies
// and coupling. Worker only.
func (o *oscillators) init(net kuramoto.Network, ph []float64) error {
	b := o.b
	nb := uintptr(o.n) * 8
	type sized struct {
		dst  *uint64
		size uintptr
	}
	bufs := []sized{
		{&o.phi, nb}, {&o.omega, nb}, {&o.cs, nb}, {&o.sn, nb}, {&o.tmp, nb}, {&o.k1, nb},
		{&o.part, 2 * uintptr(o.groups) * 8},
	}
	if o.method == kuramoto.RK4 {
		bufs = append(bufs, sized{&o.k2, nb}, sized{&o.k3, nb})
	}
	for _, x := range bufs {
		m, err := b.alloc(x.size)
		if err != nil {
			return err
		}
		*x.dst = m
		o.owned = append(o.owned, m)
	}
	if err := b.writeF64(o.phi, ph); err != nil {
		return fmt.Errorf("cuda: kuramoto phases: %w", err)
	}
	if err := b.writeF64(o.omega, net.Omega); err != nil {
		return fmt.Errorf("cuda: kuramoto frequencies: %w", err)
	}
	c := net.Coupling
	if c == nil {
		// ku_deriv takes the CSR arguments either way; any buffer will do.
		o.rowptr, o.col, o.val = o.omega, o.omega, o.omega
		return nil
	}
	rp, col, val := accel.CouplingCSR(c)
	for _, x := range []struct {
		dst  *uint64
		data unsafe.Pointer
		size uintptr
	}{
		{&o.rowptr, unsafe.Pointer(&rp[0]), uintptr(len(rp)) * 4},
		{&o.col, unsafe.Pointer(&col[0]), uintptr(len(col)) * 4},
		{&o.val, unsafe.Pointer(&val[0]), uintptr(len(val)) * 8},
	} {
		m, err := b.alloc(x.size)
		if err != nil {
			return err
		}
		*x.dst = m
		o.owned = append(o.owned, m)
		if err := b.write(m, 0, x.data, x.size); err != nil {
			return fmt.Errorf("cuda: kuramoto coupling: %w", err)
		}
	}
	return nil
}

// oscillators is a Kuramoto network in device memory. Its device fields
// and freed belong to the backend's worker: only functions run through do
// touch them.
type oscillators struct {
	b      *Backend
	n      int
	p      backend.Precision // the kernels' precision: always Complex128 (f64)
	method kuramoto.Method
	k      float64
	sparse bool
	groups int

	phi, omega, cs, sn, tmp, k1, k2, k3 uint64
	rowptr, col, val                    uint64
	part                                uint64
	owned                               []uint64
	// fresh: cs, sn and part hold the phasors of phi (computed by the
	// last Step's order parameter), so the next step's first stage reuses
	// them.
	fresh bool
	freed bool
}

// real converts x to the kernels' real type.
func (o *oscillators) real(x float64) any {
	if o.p == backend.Complex128 {
		return x
	}
	return float32(x)
}

// release frees the device buffers (after the work queued on them).
// Worker only.
func (o *oscillators) release() error {
	err := o.b.freeAll(o.owned)
	o.owned = nil
	if err != nil {
		return fmt.Errorf("cuda: freeing oscillators: %w", err)
	}
	return nil
}

// alive reports use after Free. Worker only.
func (o *oscillators) alive() error {
	if o.freed {
		return errors.New("cuda: oscillators used after Free")
	}
	return nil
}

// N returns the number of oscillators.
func (o *oscillators) N() int { return o.n }

// Step advances the phases by dt (RK4 or Euler, as package kuramoto) and
// returns the order parameter of the new phases; phases are wrapped into
// [−π, π] like the CPU engine's.
func (o *oscillators) Step(dt float64) (float64, float64, error) {
	if err := accel.CheckDt(dt); err != nil {
		return 0, 0, fmt.Errorf("cuda: %w", err)
	}
	part := make([]float64, 2*o.groups)
	err := o.b.do(func() error {
		if err := o.alive(); err != nil {
			return err
		}
		if err := o.run(dt); err != nil {
			o.fresh = false
			return fmt.Errorf("cuda: kuramoto step: %w", err)
		}
		// The partials summed on the host in block order.
		if err := o.b.readF64(o.part, part); err != nil {
			o.fresh = false
			return fmt.Errorf("cuda: kuramoto order parameter: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	r, psi := accel.OrderParameter(part, o.groups, o.n)
	return r, psi, nil
}

// run launches one step's kernels. Worker only.
func (o *oscillators) run(dt float64) error {
	b := o.b
	n32 := int32(o.n)
	sparse := flag(o.sparse)
	phasor := func(x uint64) error {
		return b.runGroups(kuramotoFamily, kKuPhasor, o.p, uint64(o.groups), dptr(x), n32, dptr(o.cs), dptr(o.sn), dptr(o.part))
	}
	derivGroups := uint64((o.n + kuWG - 1) / kuWG)
	deriv := func(mode int32, h float64, kout uint64) error {
		k2, k3 := o.k1, o.k1
		if o.method == kuramoto.RK4 {
			k2, k3 = o.k2, o.k3
		}
		return b.runGroups(kuramotoFamily, kKuDeriv, o.p, derivGroups, dptr(o.phi), dptr(o.cs), dptr(o.sn), dptr(o.omega), dptr(o.part), int32(o.groups),
			dptr(o.rowptr), dptr(o.col), dptr(o.val), o.real(o.k), n32, sparse, mode, o.real(h),
			dptr(kout), dptr(o.tmp), dptr(o.k1), dptr(k2), dptr(k3))
	}
	bufs := [...]uint64{accel.KuPhi: o.phi, accel.KuTmp: o.tmp, accel.KuK1: o.k1, accel.KuK2: o.k2, accel.KuK3: o.k3}
	err := accel.KuStep(o.method, dt, o.fresh,
		func(x accel.KuBuf) error { return phasor(bufs[x]) },
		func(mode int32, h float64, kout accel.KuBuf) error { return deriv(mode, h, bufs[kout]) })
	o.fresh = err == nil
	return err
}

// Phases copies the phases (radians, in [−π, π] after a step) into dst.
func (o *oscillators) Phases(dst []float64) error {
	if len(dst) != o.n {
		return fmt.Errorf("cuda: Phases into %d values for %d oscillators", len(dst), o.n)
	}
	return o.b.do(func() error {
		if err := o.alive(); err != nil {
			return err
		}
		if err := o.b.readF64(o.phi, dst); err != nil {
			return fmt.Errorf("cuda: kuramoto phases: %w", err)
		}
		return nil
	})
}

// Free releases the device buffers (after the work queued on them); later
// calls fail.
func (o *oscillators) Free() error {
	return o.b.do(func() error {
		if o.freed {
			return nil
		}
		o.freed = true
		return o.release()
	})
}
