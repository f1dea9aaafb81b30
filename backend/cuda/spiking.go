package cuda

import (
	"errors"
	"fmt"
	"math"
	"unsafe"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/internal/accel"
	"github.com/prismai/mec/snn"
)

var (
	_ backend.Spiking            = (*Backend)(nil)
	_ backend.NetworkSnapshotter = (*network)(nil)
)

// NewNetwork builds the network with package snn on the host (so the
// synapses and initial state are exactly the CPU backend's), uploads the
// neuron state, the synapses (as per-target incoming lists, ordered as snn
// adds them), the drives and the delay rings, and simulates it on the
// device in double precision, bit for bit as package snn does.
//
// Per step the device runs three kernels (update, compaction, delivery;
// two more when AddVoltages pushed neurons to threshold). The Poisson
// inputs are drawn on the host by snn's own generators (a host network
// holding only the Poisson groups, stepped in lockstep; they do not depend
// on the network's state), and their spikes, short index lists, are the
// one host→device transfer: per step in Step, once per 1024 steps in Run.
// Step reads the spike count and the spike list back; Run reads nothing.
// AddVoltages reads and writes V (and reads the last spike steps): O(N).
//
// The kernels run in double precision (lif_*_f64; every CUDA device of
// compute capability 8.0+ has it), with products rounded before they are
// added, as the CPU engine's.
func (b *Backend) NewNetwork(net *snn.Network, opt snn.Options) (backend.Network, error) {
	if net == nil {
		return nil, errors.New("cuda: nil network")
	}
	h, snap, err := accel.BuildNet(net, opt, genPopName, kuWG)
	if err != nil {
		return nil, fmt.Errorf("cuda: %w", err)
	}
	nw := &network{b: b, n: h.N, dt: h.Dt, h: h}
	err = b.do(func() error {
		// Load the module first: its JIT errors are clearer here than at
		// the first step.
		if _, err := b.function(lifFamily, backend.Complex128, kLIFUpdate); err != nil {
			return err
		}
		if err := nw.upload(); err != nil {
			return err
		}
		if err := nw.restore(snap); err != nil {
			return fmt.Errorf("cuda: initial state: %w", err)
		}
		return nil
	})
	if err != nil {
		if cerr := b.do(nw.close); cerr != nil {
			nw.closeGen()
			return nil, fmt.Errorf("%w (and releasing the network: %v)", err, cerr)
		}
		return nil, err
	}
	return nw, nil
}

// network is a spiking network resident on the device. Its device
// buffers, host state and freed belong to the backend's worker once
// NewNetwork has returned: only functions run through do touch them.
type network struct {
	b  *Backend
	n  int
	dt float64

	h *accel.Net // host tables, host state and Poisson generators

	accel.NetBuffers[uint64] // device buffers
	freed                    bool
}

// genPopName names the host generator network's one (idle) population.
const genPopName = "cuda-poisson-host"

// upload allocates the device buffers and writes the static tables.
// Worker only.
func (nw *network) upload() error {
	b := nw.b
	return nw.Upload(nw.h, b.alloc, func(m uint64, p unsafe.Pointer, size uintptr) error {
		if err := b.write(m, 0, p, size); err != nil {
			return fmt.Errorf("cuda: uploading the network: %w", err)
		}
		return nil
	})
}

// close releases the device buffers (after the work queued on them) and
// the host generators. Worker only.
func (nw *network) close() error {
	err := nw.b.freeAll(nw.Owned)
	nw.Owned = nil
	nw.closeGen()
	if err != nil {
		return fmt.Errorf("cuda: freeing a network: %w", err)
	}
	return nil
}

// closeGen releases the host generators (worker only once the network is
// shared).
func (nw *network) closeGen() {
	nw.h.CloseGen()
}

// alive reports use after Free. Worker only.
func (nw *network) alive() error {
	if nw.freed {
		return errors.New("cuda: network used after Free")
	}
	return nil
}

// N returns the number of LIF neurons.
func (nw *network) N() int { return nw.n }

// DtMs returns the time step in ms.
func (nw *network) DtMs() float64 { return nw.dt }

// groupsLaunch runs a lif kernel over nw.h.Groups whole blocks of MEC_WG
// threads (its group reductions and compaction need exactly MEC_WG).
// Worker only.
func (nw *network) groupsLaunch(base string, args ...any) error {
	return nw.b.runGroups(lifFamily, base, backend.Complex128, uint64(nw.h.Groups), args...)
}

// itemsLaunch runs a lif kernel over items threads rounded up to whole
// blocks (it returns early past its count). Worker only.
func (nw *network) itemsLaunch(base string, items int, args ...any) error {
	return nw.b.runItems(lifFamily, base, backend.Complex128, uint64(items), args...)
}

// chunkSteps is the most steps whose Poisson spikes go to the device in
// one transfer.
const chunkSteps = 1024

// run launches steps steps (worker only): the Poisson spikes of up to
// chunkSteps steps are drawn on the host and written to the device in one
// transfer, then those steps' kernels are enqueued.
func (nw *network) run(steps int) error {
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

// putPoisson writes nw.h.Pbuf to the device, growing the buffer. The copy is
// ordered after the kernels launched before it (see Backend.write), so it
// cannot overwrite spikes a queued step still reads. Worker only.
func (nw *network) putPoisson() error {
	b := nw.b
	if len(nw.h.Pbuf) == 0 {
		return nil
	}
	if len(nw.h.Pbuf) > nw.PCap {
		size := max(len(nw.h.Pbuf), 2*nw.PCap)
		m, err := b.alloc(4 * uintptr(size))
		if err != nil {
			return err
		}
		old := nw.PSpk
		nw.ReplacePSpk(m, size)
		if err := b.free(old); err != nil { // after the steps that read it
			return fmt.Errorf("cuda: growing the Poisson spike buffer: %w", err)
		}
	}
	if err := b.write(nw.PSpk, 0, unsafe.Pointer(&nw.h.Pbuf[0]), 4*uintptr(len(nw.h.Pbuf))); err != nil {
		return fmt.Errorf("cuda: Poisson spikes: %w", err)
	}
	return nil
}

// advance launches one step whose Poisson spikes are dpspk[poff,
// poff+npois). Worker only.
func (nw *network) advance(poff, npois int32) error {
	b := nw.b
	step := uint64(nw.h.Now)
	n32 := int32(nw.n)
	if err := nw.groupsLaunch(kLIFUpdate, dptr(nw.V), dptr(nw.Last), dptr(nw.Count), dptr(nw.Cst), dptr(nw.Pid),
		dptr(nw.Pint), dptr(nw.Preal), dptr(nw.Pref), dptr(nw.Cint), dptr(nw.Creal),
		dptr(nw.J), dptr(nw.Flag), dptr(nw.GCount), step, n32); err != nil {
		return err
	}
	if idx := nw.h.TakeForced(); len(idx) > 0 {
		if err := b.write(nw.FIdx, 0, unsafe.Pointer(&idx[0]), 4*uintptr(len(idx))); err != nil {
			return fmt.Errorf("cuda: forced spikes: %w", err)
		}
		if err := nw.itemsLaunch(kLIFForce, len(idx), dptr(nw.V), dptr(nw.Last), dptr(nw.Count), dptr(nw.Flag),
			dptr(nw.Pid), dptr(nw.Preal), dptr(nw.FIdx), int32(len(idx)), step); err != nil {
			return err
		}
		if err := nw.groupsLaunch(kLIFCount, dptr(nw.Flag), n32, dptr(nw.GCount)); err != nil {
			return err
		}
	}
	if err := nw.groupsLaunch(kLIFCompact, dptr(nw.Flag), n32, dptr(nw.GCount), int32(nw.h.Groups), dptr(nw.Spk), dptr(nw.NSpk)); err != nil {
		return err
	}
	if err := nw.itemsLaunch(kLIFDeliver, nw.n, dptr(nw.Pid), dptr(nw.Pint), dptr(nw.Cint),
		dptr(nw.Inptr), dptr(nw.Src), dptr(nw.Code), dptr(nw.Win),
		dptr(nw.Spk), dptr(nw.NSpk), dptr(nw.PSpk), poff, npois,
		dptr(nw.Flag), dptr(nw.J), dptr(nw.Ring), dptr(nw.Stamp), step, n32); err != nil {
		return err
	}
	nw.h.Now++
	return nil
}

// Step advances one time step and returns the neurons that spiked, ascending.
func (nw *network) Step() ([]int, error) {
	var out []int
	err := nw.b.do(func() error {
		if err := nw.alive(); err != nil {
			return err
		}
		b := nw.b
		if err := nw.run(1); err != nil {
			return fmt.Errorf("cuda: snn step %d: %w", nw.h.Now, err)
		}
		var ns int32
		if err := b.read(nw.NSpk, 0, unsafe.Pointer(&ns), 4); err != nil {
			return fmt.Errorf("cuda: snn spikes: %w", err)
		}
		if ns < 0 || int(ns) > nw.n {
			return fmt.Errorf("cuda: snn step %d: the device reports %d spikes of %d neurons", nw.h.Now-1, ns, nw.n)
		}
		out = make([]int, ns)
		if ns > 0 {
			idx := make([]int32, ns)
			if err := b.read(nw.Spk, 0, unsafe.Pointer(&idx[0]), 4*uintptr(ns)); err != nil {
				return fmt.Errorf("cuda: snn spikes: %w", err)
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
func (nw *network) Run(steps int) error {
	if steps < 0 {
		return fmt.Errorf("cuda: Run(%d)", steps)
	}
	return nw.b.do(func() error {
		if err := nw.alive(); err != nil {
			return err
		}
		if err := nw.run(steps); err != nil {
			return fmt.Errorf("cuda: snn step %d: %w", nw.h.Now, err)
		}
		return nw.b.sync()
	})
}

// Voltages copies the membrane potentials (mV) into dst.
func (nw *network) Voltages(dst []float64) error {
	if len(dst) != nw.n {
		return fmt.Errorf("cuda: Voltages into %d values for %d neurons", len(dst), nw.n)
	}
	return nw.b.do(func() error {
		if err := nw.alive(); err != nil {
			return err
		}
		if err := nw.b.readF64(nw.V, dst); err != nil {
			return fmt.Errorf("cuda: Voltages: %w", err)
		}
		return nil
	})
}

// SpikeCounts copies each neuron's spike count so far into dst.
func (nw *network) SpikeCounts(dst []int64) error {
	if len(dst) != nw.n {
		return fmt.Errorf("cuda: SpikeCounts into %d values for %d neurons", len(dst), nw.n)
	}
	return nw.b.do(func() error {
		if err := nw.alive(); err != nil {
			return err
		}
		if nw.n == 0 {
			return nil
		}
		if err := nw.b.read(nw.Count, 0, unsafe.Pointer(&dst[0]), 8*uintptr(nw.n)); err != nil {
			return fmt.Errorf("cuda: SpikeCounts: %w", err)
		}
		return nil
	})
}

// AddVoltages adds dv[i] mV to every non-refractory neuron i now (as
// snn.Sim.AddVoltage); a neuron pushed to V_th spikes in the next step.
func (nw *network) AddVoltages(dv []float64) error {
	if len(dv) != nw.n {
		return fmt.Errorf("cuda: AddVoltages of %d values for %d neurons", len(dv), nw.n)
	}
	for i, x := range dv {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("cuda: AddVoltages: value %d is %v", i, x)
		}
	}
	return nw.b.do(func() error {
		if err := nw.alive(); err != nil {
			return err
		}
		if nw.n == 0 {
			return nil
		}
		b := nw.b
		v := make([]float64, nw.n)
		last := make([]int64, nw.n)
		if err := b.readF64(nw.V, v); err != nil {
			return fmt.Errorf("cuda: AddVoltages: %w", err)
		}
		if err := b.read(nw.Last, 0, unsafe.Pointer(&last[0]), 8*uintptr(nw.n)); err != nil {
			return fmt.Errorf("cuda: AddVoltages: %w", err)
		}
		nw.h.AddVoltages(v, last, dv)
		if err := b.writeF64(nw.V, v); err != nil {
			return fmt.Errorf("cuda: AddVoltages: %w", err)
		}
		return nil
	})
}

// Free releases the device buffers (after the work queued on them); later
// calls fail.
func (nw *network) Free() error {
	return nw.b.do(func() error {
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
func (nw *network) Snapshot() ([]byte, error) {
	var snap []byte
	err := nw.b.do(func() error {
		if err := nw.alive(); err != nil {
			return err
		}
		var err error
		snap, err = nw.snapshot()
		if err != nil {
			return fmt.Errorf("cuda: snapshot: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return snap, nil
}

// snapshot reads the device state and encodes it. Worker only.
func (nw *network) snapshot() ([]byte, error) {
	b := nw.b
	n := nw.n
	st := nw.h.NewState()
	for _, r := range []struct {
		m    uint64
		p    unsafe.Pointer
		size int
	}{
		{nw.V, unsafe.Pointer(&st.V[0]), 8 * n}, {nw.Last, unsafe.Pointer(&st.Last[0]), 8 * n},
		{nw.Count, unsafe.Pointer(&st.Count[0]), 8 * n}, {nw.J, unsafe.Pointer(&st.J[0]), 8 * nw.h.NJ},
		{nw.Ring, unsafe.Pointer(&st.Ring[0]), 8 * nw.h.NRing}, {nw.Stamp, unsafe.Pointer(&st.Stamp[0]), 8 * nw.h.NStamp},
	} {
		if r.size == 0 {
			continue
		}
		if err := b.read(r.m, 0, r.p, uintptr(r.size)); err != nil {
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
// injections (which this backend's interface cannot make) are refused.
func (nw *network) Restore(snap []byte) error {
	return nw.b.do(func() error {
		if err := nw.alive(); err != nil {
			return err
		}
		if err := nw.restore(snap); err != nil {
			return fmt.Errorf("cuda: restore: %w", err)
		}
		return nil
	})
}

// restore parses an snn snapshot and writes it to the device. Nothing
// changes unless the whole snapshot is valid (a failed device copy
// excepted). Worker only.
func (nw *network) restore(snap []byte) error {
	st, err := nw.h.DecodeSnapshot(snap)
	if err != nil {
		return err
	}
	n := nw.n
	b := nw.b
	for _, x := range []struct {
		m    uint64
		p    unsafe.Pointer
		size int
	}{
		{nw.V, unsafe.Pointer(&st.V[0]), 8 * n}, {nw.Last, unsafe.Pointer(&st.Last[0]), 8 * n},
		{nw.Count, unsafe.Pointer(&st.Count[0]), 8 * n}, {nw.Cst, unsafe.Pointer(&st.Cst[0]), 8 * n},
		{nw.J, unsafe.Pointer(&st.J[0]), 8 * nw.h.NJ}, {nw.Ring, unsafe.Pointer(&st.Ring[0]), 8 * nw.h.NRing},
		{nw.Stamp, unsafe.Pointer(&st.Stamp[0]), 8 * nw.h.NStamp},
	} {
		if x.size == 0 {
			continue
		}
		if err := b.write(x.m, 0, x.p, uintptr(x.size)); err != nil {
			return err
		}
	}
	nw.h.Commit(st)
	return nil
}
