package accel

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"unsafe"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/engines/snn"
)

// The lif family's kernels (kernels/lif.cl), launched in double only.
const (
	LIFFamily   = "lif"
	KLIFUpdate  = "lif_update"
	KLIFForce   = "lif_force"
	KLIFCount   = "lif_count"
	KLIFCompact = "lif_compact"
	KLIFDeliver = "lif_deliver"
)

// chunkSteps is the most steps whose Poisson spikes go to the device in
// one transfer.
const chunkSteps = 1024

// Network is a spiking network resident on a Device, simulated in double
// precision bit for bit as package snn does. NewNetwork builds it with
// package snn on the host (so the synapses and initial state are exactly
// the CPU backend's) and uploads the neuron state, the synapses (as
// per-target incoming lists, ordered as snn adds them), the drives and
// the delay rings.
//
// Per step the device runs three kernels (update, compaction, delivery;
// two more when AddVoltages pushed neurons to threshold; four more,
// stdp_*, when the network has plastic projections: depression of the
// synapses whose sources spiked, presynaptic traces, postsynaptic traces
// and potentiation, decay). The update kernel covers every neuron model
// of snn (LIF, COBA, Izhikevich, AdEx) with snn's operations in snn's
// order. The Poisson
// inputs are drawn on the host by snn's own generators (a host network
// holding only the Poisson groups, stepped in lockstep; they do not depend
// on the network's state), and their spikes, short index lists, are the
// one host→device transfer: per step in Step, once per 1024 steps in Run.
// Step reads the spike count and the spike list back; Run reads nothing.
// AddVoltages reads and writes V (and reads the last spike steps): O(N).
//
// Its device buffers, host state and freed are touched only inside the
// device's Do once NewNetwork has returned.
type Network[M Handle] struct {
	d   Device[M]
	n   int
	dt  float64
	syn int // synapses, for NetworkInfo

	h *Net // host tables, host state and Poisson generators

	NetBuffers[M] // device buffers
	freed         bool
}

// NewNetwork puts net on d; the caller has checked that d has FP64.
func NewNetwork[M Handle](d Device[M], net *snn.Network, opt snn.Options) (*Network[M], error) {
	if net == nil {
		return nil, fmt.Errorf("%s: nil network", d.Name())
	}
	h, snap, err := BuildNet(net, opt, WG)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.Name(), err)
	}
	nw := &Network[M]{d: d, n: h.N, dt: h.Dt, syn: h.Synapses, h: h}
	err = d.Do(func() error {
		// Load the family first: its build (JIT) errors are clearer here
		// than at the first step.
		err := func() error {
			if _, err := d.Kernel(LIFFamily, backend.Complex128, KLIFUpdate); err != nil {
				return err
			}
			if err := nw.Upload(h, d.Alloc, func(m M, p unsafe.Pointer, size uintptr) error {
				if err := d.Write(m, 0, p, size); err != nil {
					return nw.errorf("uploading the network: %w", err)
				}
				return nil
			}); err != nil {
				return err
			}
			if err := nw.restore(snap); err != nil {
				return nw.errorf("initial state: %w", err)
			}
			return nil
		}()
		if err != nil {
			if cerr := nw.close(); cerr != nil {
				return fmt.Errorf("%w (and releasing the network: %v)", err, cerr)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return nw, nil
}

// errorf formats an error with the backend's prefix.
func (nw *Network[M]) errorf(format string, args ...any) error {
	return fmt.Errorf(nw.d.Name()+": "+format, args...)
}

// close releases the device buffers (after the work queued on them).
// Inside Do, or before the network is shared.
func (nw *Network[M]) close() error {
	var first error
	for _, m := range nw.Owned {
		if err := nw.d.Free(m); err != nil && first == nil {
			first = err
		}
	}
	nw.Owned = nil
	if first != nil {
		return nw.errorf("freeing a network: %w", first)
	}
	return nil
}

// do runs f inside Do on a live network.
func (nw *Network[M]) do(f func() error) error {
	return nw.d.Do(func() error {
		if nw.freed {
			return nw.errorf("network used after Free")
		}
		return f()
	})
}

// N returns the number of LIF neurons.
func (nw *Network[M]) N() int { return nw.n }

// DtMs returns the time step in ms.
func (nw *Network[M]) DtMs() float64 { return nw.dt }

// groupsLaunch runs a lif kernel over nw.h.Groups whole groups of WG
// items (its group reductions and compaction need exactly MEC_WG).
// Inside Do.
func (nw *Network[M]) groupsLaunch(base string, args ...any) error {
	return launch(nw.d, LIFFamily, backend.Complex128, base, Groups, uint64(nw.h.Groups*WG), args...)
}

// itemsLaunch runs a lif kernel over items work items rounded up to whole
// groups (it returns early past its count). Inside Do.
func (nw *Network[M]) itemsLaunch(base string, items int, args ...any) error {
	return launch(nw.d, LIFFamily, backend.Complex128, base, Cover, uint64(items), args...)
}

// run launches steps steps: the Poisson spikes of up to chunkSteps steps
// are drawn on the host and written to the device in one transfer, then
// those steps' kernels are queued. Inside Do.
func (nw *Network[M]) run(steps int) error {
	for steps > 0 {
		c := min(steps, chunkSteps)
		off := nw.h.PoissonChunk(c)
		if err := nw.putPoisson(); err != nil {
			return err
		}
		for s := 0; s < c; s++ {
			if err := nw.advance(off[s], off[s+1]-off[s]); err != nil {
				return err
			}
		}
		steps -= c
	}
	return nil
}

// putPoisson writes nw.h.Pbuf to the device, growing the buffer. The copy
// is ordered after the launches queued before it, so it cannot overwrite
// spikes a queued step still reads. Inside Do.
func (nw *Network[M]) putPoisson() error {
	if len(nw.h.Pbuf) == 0 {
		return nil
	}
	if len(nw.h.Pbuf) > nw.PCap {
		size := max(len(nw.h.Pbuf), 2*nw.PCap)
		m, err := nw.d.Alloc(4 * uintptr(size))
		if err != nil {
			return err
		}
		old := nw.PSpk
		nw.ReplacePSpk(m, size)
		// After the steps that read it.
		if err := errors.Join(nw.d.Sync(), nw.d.Free(old)); err != nil {
			return nw.errorf("growing the Poisson spike buffer: %w", err)
		}
	}
	if err := nw.d.Write(nw.PSpk, 0, unsafe.Pointer(&nw.h.Pbuf[0]), 4*uintptr(len(nw.h.Pbuf))); err != nil {
		return nw.errorf("Poisson spikes: %w", err)
	}
	return nil
}

// advance launches one step whose Poisson spikes are PSpk[poff,
// poff+npois). Inside Do.
func (nw *Network[M]) advance(poff, npois int32) error {
	p := func(m M) Ptr[M] { return Ptr[M]{m} }
	step := uint64(nw.h.Now)
	n32 := int32(nw.n)
	if err := nw.groupsLaunch(KLIFUpdate, p(nw.V), p(nw.Last), p(nw.Count), p(nw.Cst), p(nw.Pid),
		p(nw.Pint), p(nw.Preal), p(nw.Mreal), p(nw.Pref), p(nw.Cint), p(nw.Creal),
		p(nw.J), p(nw.Flag), p(nw.GCount), step, n32); err != nil {
		return err
	}
	if idx := nw.h.TakeForced(); len(idx) > 0 {
		if err := nw.d.Write(nw.FIdx, 0, unsafe.Pointer(&idx[0]), 4*uintptr(len(idx))); err != nil {
			return nw.errorf("forced spikes: %w", err)
		}
		if err := nw.itemsLaunch(KLIFForce, len(idx), p(nw.V), p(nw.Last), p(nw.Count), p(nw.Flag),
			p(nw.Pid), p(nw.Preal), p(nw.FIdx), int32(len(idx)), step); err != nil {
			return err
		}
		if err := nw.groupsLaunch(KLIFCount, p(nw.Flag), n32, p(nw.GCount)); err != nil {
			return err
		}
	}
	if err := nw.groupsLaunch(KLIFCompact, p(nw.Flag), n32, p(nw.GCount), int32(nw.h.Groups), p(nw.Spk), p(nw.NSpk)); err != nil {
		return err
	}
	if err := nw.itemsLaunch(KLIFDeliver, nw.n, p(nw.Pid), p(nw.Pint), p(nw.Cint),
		p(nw.Inptr), p(nw.Src), p(nw.Code), p(nw.Win),
		p(nw.Spk), p(nw.NSpk), p(nw.PSpk), poff, npois,
		p(nw.Flag), p(nw.J), p(nw.Ring), p(nw.Stamp), step, n32); err != nil {
		return err
	}
	if pl := &nw.h.Plastic; pl.NPl > 0 {
		if err := nw.itemsLaunch(KSTDPDep, nw.n, p(nw.Inptr), p(nw.Src), p(nw.Plas), p(nw.Sint), p(nw.Sreal), p(nw.X),
			p(nw.Flag), p(nw.PSpk), poff, npois, p(nw.Win), n32); err != nil {
			return err
		}
		if pl.NPre > 0 {
			if err := nw.itemsLaunch(KSTDPPre, pl.NPre, p(nw.XSrc), p(nw.Flag), p(nw.PSpk), poff, npois, p(nw.X), int32(pl.NPre), n32); err != nil {
				return err
			}
		}
		if err := nw.itemsLaunch(KSTDPPost, nw.n, p(nw.Inptr), p(nw.Plas), p(nw.XIdx), p(nw.Sint), p(nw.Sreal), p(nw.X),
			p(nw.Flag), p(nw.Win), int32(pl.NPl), n32); err != nil {
			return err
		}
		if nx := len(pl.XDec); nx > 0 {
			if err := nw.itemsLaunch(KSTDPDecay, nx, p(nw.X), p(nw.XDec), int32(nx)); err != nil {
				return err
			}
		}
	}
	nw.h.Now++
	return nil
}

// Step advances one time step and returns the neurons that spiked, ascending.
func (nw *Network[M]) Step() ([]int, error) {
	var out []int
	err := nw.do(func() error {
		if err := nw.run(1); err != nil {
			return nw.errorf("snn step %d: %w", nw.h.Now, err)
		}
		var ns int32
		if err := nw.d.Read(nw.NSpk, 0, unsafe.Pointer(&ns), 4); err != nil {
			return nw.errorf("snn spikes: %w", err)
		}
		if ns < 0 || int(ns) > nw.n {
			return nw.errorf("snn step %d: the device reports %d spikes of %d neurons", nw.h.Now-1, ns, nw.n)
		}
		out = make([]int, ns)
		if ns > 0 {
			idx := make([]int32, ns)
			if err := nw.d.Read(nw.Spk, 0, unsafe.Pointer(&idx[0]), 4*uintptr(ns)); err != nil {
				return nw.errorf("snn spikes: %w", err)
			}
			for k, i := range idx {
				out[k] = int(i)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Run advances steps time steps without reading spikes out; it returns
// when the device has finished them.
func (nw *Network[M]) Run(steps int) error {
	if steps < 0 {
		return nw.errorf("Run(%d)", steps)
	}
	return nw.do(func() error {
		if err := nw.run(steps); err != nil {
			return nw.errorf("snn step %d: %w", nw.h.Now, err)
		}
		if err := nw.d.Sync(); err != nil {
			return nw.errorf("%w", err)
		}
		return nil
	})
}

// read copies size bytes of m to the host at p, nothing when size is 0.
// Inside Do.
func (nw *Network[M]) read(m M, p unsafe.Pointer, size uintptr) error {
	if size == 0 {
		return nil
	}
	return nw.d.Read(m, 0, p, size)
}

// Voltages copies the membrane potentials (mV) into dst.
func (nw *Network[M]) Voltages(dst []float64) error {
	if len(dst) != nw.n {
		return nw.errorf("Voltages into %d values for %d neurons", len(dst), nw.n)
	}
	return nw.do(func() error {
		if nw.n == 0 {
			return nil
		}
		if err := nw.read(nw.V, unsafe.Pointer(&dst[0]), 8*uintptr(nw.n)); err != nil {
			return nw.errorf("Voltages: %w", err)
		}
		return nil
	})
}

// SpikeCounts copies each neuron's spike count so far into dst.
func (nw *Network[M]) SpikeCounts(dst []int64) error {
	if len(dst) != nw.n {
		return nw.errorf("SpikeCounts into %d values for %d neurons", len(dst), nw.n)
	}
	return nw.do(func() error {
		if nw.n == 0 {
			return nil
		}
		if err := nw.read(nw.Count, unsafe.Pointer(&dst[0]), 8*uintptr(nw.n)); err != nil {
			return nw.errorf("SpikeCounts: %w", err)
		}
		return nil
	})
}

// AddVoltages adds dv[i] mV to every non-refractory neuron i now (as
// snn.Sim.AddVoltage); a neuron pushed to V_th spikes in the next step.
func (nw *Network[M]) AddVoltages(dv []float64) error {
	if len(dv) != nw.n {
		return nw.errorf("AddVoltages of %d values for %d neurons", len(dv), nw.n)
	}
	for i, x := range dv {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nw.errorf("AddVoltages: value %d is %v", i, x)
		}
	}
	return nw.do(func() error {
		if nw.n == 0 {
			return nil
		}
		v := make([]float64, nw.n)
		last := make([]int64, nw.n)
		if err := nw.read(nw.V, unsafe.Pointer(&v[0]), 8*uintptr(nw.n)); err != nil {
			return nw.errorf("AddVoltages: %w", err)
		}
		if err := nw.read(nw.Last, unsafe.Pointer(&last[0]), 8*uintptr(nw.n)); err != nil {
			return nw.errorf("AddVoltages: %w", err)
		}
		nw.h.AddVoltages(v, last, dv)
		if err := nw.d.Write(nw.V, 0, unsafe.Pointer(&v[0]), 8*uintptr(nw.n)); err != nil {
			return nw.errorf("AddVoltages: %w", err)
		}
		return nil
	})
}

// Weights returns sparse projection k's current weights in the network
// file's unit, in the order of snn.Sim.Weights (backend.WeightReader): a
// plastic projection's read back from the device, a fixed one's as built
// (they never change) when the network's monitors.weights names it; other
// fixed projections are an error.
func (nw *Network[M]) Weights(k int) ([]float64, error) {
	if w, ok := nw.h.Fixed[k]; ok {
		return slices.Clone(w), nil
	}
	var out []float64
	err := nw.do(func() error {
		win := make([]float64, len(nw.h.Win))
		if err := nw.read(nw.Win, unsafe.Pointer(unsafe.SliceData(win)), 8*uintptr(len(win))); err != nil {
			return nw.errorf("weights: %w", err)
		}
		w, err := nw.h.Plastic.weights(k, win)
		if err != nil {
			return nw.errorf("%w", err)
		}
		out = w
		return nil
	})
	return out, err
}

// States copies every neuron's model state into dst as snn.Sim.States
// does (backend.StateReader): u of izhikevich neurons, w (nA) of adex
// neurons, 0 for the other models. The device keeps u and w, in those
// units, in the last channel of their populations' drives (snn.Layout), so
// they are copied back as they are, with no conversion.
func (nw *Network[M]) States(dst []float64) error {
	if len(dst) != nw.n {
		return nw.errorf("States into %d values for %d neurons", len(dst), nw.n)
	}
	return nw.do(func() error {
		pint := nw.h.Pint
		for p := 0; p < len(pint)/5; p++ {
			lo, size, c0, nc, model := int(pint[5*p]), int(pint[5*p+1]), int(pint[5*p+2]), int(pint[5*p+3]), pint[5*p+4]
			d := dst[lo : lo+size]
			if model < 2 || nc == 0 || size == 0 {
				clear(d)
				continue
			}
			off := uintptr(nw.h.Cint[4*(c0+nc-1)+1]) // the state channel's first drive value
			if err := nw.d.Read(nw.J, 8*off, unsafe.Pointer(&d[0]), 8*uintptr(size)); err != nil {
				return nw.errorf("States: %w", err)
			}
		}
		return nil
	})
}

// Synapses returns the number of synapses built (backend.NetworkInfo).
func (nw *Network[M]) Synapses() int { return nw.syn }

// Threads returns 0: the neurons are updated on the device
// (backend.NetworkInfo).
func (nw *Network[M]) Threads() int { return 0 }

// Free releases the device buffers (after the work queued on them); later
// calls fail.
func (nw *Network[M]) Free() error {
	return nw.d.Do(func() error {
		if nw.freed {
			return nil
		}
		nw.freed = true
		return nw.close()
	})
}

// Snapshot returns the complete dynamic state in package snn's snapshot
// format: a CPU-backend network of the same description restores it, and
// so does this one.
func (nw *Network[M]) Snapshot() ([]byte, error) {
	if nw.h.Plastic.NPl > 0 {
		return nil, nw.errorf("%w", errPlasticSnapshot)
	}
	var snap []byte
	err := nw.do(func() error {
		var err error
		if snap, err = nw.snapshot(); err != nil {
			return nw.errorf("snapshot: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return snap, nil
}

// stateBufs pairs the device buffers of the dynamic state with st's
// slices (Cst only when withCst: a snapshot does not read it back).
func (nw *Network[M]) stateBufs(st *State, withCst bool) []struct {
	m    M
	p    unsafe.Pointer
	size int
} {
	n := nw.n
	type buf = struct {
		m    M
		p    unsafe.Pointer
		size int
	}
	var bufs []buf
	add := func(m M, p unsafe.Pointer, size int) {
		if size > 0 {
			bufs = append(bufs, buf{m, p, size})
		}
	}
	if n > 0 {
		add(nw.V, unsafe.Pointer(&st.V[0]), 8*n)
		add(nw.Last, unsafe.Pointer(&st.Last[0]), 8*n)
		add(nw.Count, unsafe.Pointer(&st.Count[0]), 8*n)
		if withCst {
			add(nw.Cst, unsafe.Pointer(&st.Cst[0]), 8*n)
		}
	}
	if nw.h.NJ > 0 {
		add(nw.J, unsafe.Pointer(&st.J[0]), 8*nw.h.NJ)
	}
	if nw.h.NRing > 0 {
		add(nw.Ring, unsafe.Pointer(&st.Ring[0]), 8*nw.h.NRing)
	}
	if nw.h.NStamp > 0 {
		add(nw.Stamp, unsafe.Pointer(&st.Stamp[0]), 8*nw.h.NStamp)
	}
	return bufs
}

// snapshot reads the device state and encodes it. Inside Do.
func (nw *Network[M]) snapshot() ([]byte, error) {
	st := nw.h.NewState()
	for _, r := range nw.stateBufs(st, false) {
		if err := nw.d.Read(r.m, 0, r.p, uintptr(r.size)); err != nil {
			return nil, err
		}
	}
	snap, err := nw.h.EncodeSnapshot(st)
	if err != nil {
		return nil, fmt.Errorf("Poisson generators: %w", err)
	}
	return snap, nil
}

// Restore sets the network to a snapshot of the same network (from this
// backend or the CPU one). Snapshots with pending InjectCurrent
// injections (which this interface cannot make) are refused.
func (nw *Network[M]) Restore(snap []byte) error {
	if nw.h.Plastic.NPl > 0 {
		return nw.errorf("%w", errPlasticSnapshot)
	}
	return nw.do(func() error {
		if err := nw.restore(snap); err != nil {
			return nw.errorf("restore: %w", err)
		}
		return nil
	})
}

// restore parses an snn snapshot and writes it to the device. Nothing
// changes unless the whole snapshot is valid (a failed device copy
// excepted). Inside Do.
func (nw *Network[M]) restore(snap []byte) error {
	st, err := nw.h.DecodeSnapshot(snap)
	if err != nil {
		return err
	}
	for _, x := range nw.stateBufs(st, true) {
		if err := nw.d.Write(x.m, 0, x.p, uintptr(x.size)); err != nil {
			return err
		}
	}
	nw.h.Commit(st)
	return nil
}

var (
	_ backend.Network            = (*Network[uint64])(nil)
	_ backend.NetworkSnapshotter = (*Network[uint64])(nil)
	_ backend.StateReader        = (*Network[uint64])(nil)
	_ backend.WeightReader       = (*Network[uint64])(nil)
)
