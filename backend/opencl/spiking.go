package opencl

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
// Double precision is required (cl_khr_fp64): without it the spike trains
// could not match the CPU engine's, and NewNetwork refuses.
func (b *Backend) NewNetwork(net *snn.Network, opt snn.Options) (backend.Network, error) {
	if net == nil {
		return nil, errors.New("opencl: nil network")
	}
	if !b.dev.FP64 {
		return nil, fmt.Errorf("opencl: %s: spiking networks need double precision to match package snn: %w", b.dev.Name, errNoFP64)
	}
	h, snap, err := accel.BuildNet(net, opt, genPopName, wg)
	if err != nil {
		return nil, fmt.Errorf("opencl: %w", err)
	}
	nw := &network{b: b, n: h.N, dt: h.Dt, h: h}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := b.program("lif", backend.Complex128); err != nil {
		nw.close()
		return nil, err
	}
	if err := nw.upload(); err != nil {
		nw.close()
		return nil, err
	}
	if err := nw.restore(snap); err != nil {
		nw.close()
		return nil, fmt.Errorf("opencl: initial state: %w", err)
	}
	return nw, nil
}

// network is a spiking network resident on the device.
type network struct {
	b  *Backend
	n  int
	dt float64

	h *accel.Net // host tables, host state and Poisson generators

	accel.NetBuffers[uintptr] // device buffers
	freed                     bool
}

// genPopName names the host generator network's one (idle) population.
const genPopName = "opencl-poisson-host"

// upload allocates the device buffers and writes the static tables (b.mu held).
func (nw *network) upload() error {
	b := nw.b
	return nw.Upload(nw.h, b.alloc, func(m uintptr, p unsafe.Pointer, size uintptr) error { return b.write(m, 0, p, size) })
}

// close releases the device buffers and the host generators (b.mu held
// or the network not yet shared).
func (nw *network) close() {
	for _, m := range nw.Owned {
		nw.b.l.ReleaseMemObject(m)
	}
	nw.Owned = nil
	nw.h.CloseGen()
}

func (nw *network) alive() error {
	if nw.freed {
		return errors.New("opencl: network used after Free")
	}
	return nil
}

// N returns the number of LIF neurons.
func (nw *network) N() int { return nw.n }

// DtMs returns the time step in ms.
func (nw *network) DtMs() float64 { return nw.dt }

// lifKernel returns a lif kernel (b.mu held).
func (nw *network) lifKernel(base string) (uintptr, error) {
	pr, err := nw.b.program("lif", backend.Complex128)
	if err != nil {
		return 0, err
	}
	return nw.b.kernel(pr, base+"_f64")
}

// chunkSteps is the most steps whose Poisson spikes go to the device in
// one transfer.
const chunkSteps = 1024

// run enqueues steps steps (b.mu held): the Poisson spikes of up to
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

// putPoisson writes nw.h.Pbuf to the device, growing the buffer (b.mu held).
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
		if err := check("clFinish", b.l.Finish(b.queue)); err != nil {
			b.l.ReleaseMemObject(m)
			return err
		}
		old := nw.PSpk
		nw.ReplacePSpk(m, size)
		b.l.ReleaseMemObject(old)
	}
	return b.write(nw.PSpk, 0, unsafe.Pointer(&nw.h.Pbuf[0]), 4*uintptr(len(nw.h.Pbuf)))
}

// advance enqueues one step whose Poisson spikes are dpspk[poff,
// poff+npois) (b.mu held).
func (nw *network) advance(poff, npois int32) error {
	b := nw.b
	var ks [5]uintptr
	for i, name := range []string{"lif_update", "lif_force", "lif_count", "lif_compact", "lif_deliver"} {
		k, err := nw.lifKernel(name)
		if err != nil {
			return err
		}
		ks[i] = k
	}
	kUpdate, kForce, kCount, kCompact, kDeliver := ks[0], ks[1], ks[2], ks[3], ks[4]
	step := uint64(nw.h.Now)
	n32 := int32(nw.n)
	global := uintptr(nw.h.Groups * wg)
	if err := b.launch(kUpdate, global, wg, mem(nw.V), mem(nw.Last), mem(nw.Count), mem(nw.Cst), mem(nw.Pid),
		mem(nw.Pint), mem(nw.Preal), mem(nw.Pref), mem(nw.Cint), mem(nw.Creal),
		mem(nw.J), mem(nw.Flag), mem(nw.GCount), step, n32); err != nil {
		return err
	}
	if idx := nw.h.TakeForced(); len(idx) > 0 {
		if err := b.write(nw.FIdx, 0, unsafe.Pointer(&idx[0]), 4*uintptr(len(idx))); err != nil {
			return err
		}
		if err := b.launch(kForce, uintptr(len(idx)), 0, mem(nw.V), mem(nw.Last), mem(nw.Count), mem(nw.Flag),
			mem(nw.Pid), mem(nw.Preal), mem(nw.FIdx), int32(len(idx)), step); err != nil {
			return err
		}
		if err := b.launch(kCount, global, wg, mem(nw.Flag), n32, mem(nw.GCount)); err != nil {
			return err
		}
	}
	if err := b.launch(kCompact, global, wg, mem(nw.Flag), n32, mem(nw.GCount), int32(nw.h.Groups), mem(nw.Spk), mem(nw.NSpk)); err != nil {
		return err
	}
	if err := b.launch(kDeliver, uintptr(nw.n), 0, mem(nw.Pid), mem(nw.Pint), mem(nw.Cint),
		mem(nw.Inptr), mem(nw.Src), mem(nw.Code), mem(nw.Win),
		mem(nw.Spk), mem(nw.NSpk), mem(nw.PSpk), poff, npois,
		mem(nw.Flag), mem(nw.J), mem(nw.Ring), mem(nw.Stamp), step, n32); err != nil {
		return err
	}
	nw.h.Now++
	return nil
}

// Step advances one time step and returns the neurons that spiked, ascending.
func (nw *network) Step() ([]int, error) {
	if err := nw.alive(); err != nil {
		return nil, err
	}
	b := nw.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := nw.run(1); err != nil {
		return nil, fmt.Errorf("opencl: snn step %d: %w", nw.h.Now, err)
	}
	var ns int32
	if err := b.read(nw.NSpk, 0, unsafe.Pointer(&ns), 4); err != nil {
		return nil, fmt.Errorf("opencl: snn spikes: %w", err)
	}
	out := make([]int, ns)
	if ns > 0 {
		idx := make([]int32, ns)
		if err := b.read(nw.Spk, 0, unsafe.Pointer(&idx[0]), 4*uintptr(ns)); err != nil {
			return nil, fmt.Errorf("opencl: snn spikes: %w", err)
		}
		for k, i := range idx {
			out[k] = int(i)
		}
	}
	return out, nil
}

// Run advances steps time steps without reading spikes out; it returns
// when the device has finished them.
func (nw *network) Run(steps int) error {
	if err := nw.alive(); err != nil {
		return err
	}
	if steps < 0 {
		return fmt.Errorf("opencl: Run(%d)", steps)
	}
	b := nw.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := nw.run(steps); err != nil {
		return fmt.Errorf("opencl: snn step %d: %w", nw.h.Now, err)
	}
	return check("clFinish", b.l.Finish(b.queue))
}

// Voltages copies the membrane potentials (mV) into dst.
func (nw *network) Voltages(dst []float64) error {
	if err := nw.alive(); err != nil {
		return err
	}
	if len(dst) != nw.n {
		return fmt.Errorf("opencl: Voltages into %d values for %d neurons", len(dst), nw.n)
	}
	nw.b.mu.Lock()
	defer nw.b.mu.Unlock()
	return nw.b.read(nw.V, 0, unsafe.Pointer(&dst[0]), 8*uintptr(nw.n))
}

// SpikeCounts copies each neuron's spike count so far into dst.
func (nw *network) SpikeCounts(dst []int64) error {
	if err := nw.alive(); err != nil {
		return err
	}
	if len(dst) != nw.n {
		return fmt.Errorf("opencl: SpikeCounts into %d values for %d neurons", len(dst), nw.n)
	}
	nw.b.mu.Lock()
	defer nw.b.mu.Unlock()
	return nw.b.read(nw.Count, 0, unsafe.Pointer(&dst[0]), 8*uintptr(nw.n))
}

// AddVoltages adds dv[i] mV to every non-refractory neuron i now (as
// snn.Sim.AddVoltage); a neuron pushed to V_th spikes in the next step.
func (nw *network) AddVoltages(dv []float64) error {
	if err := nw.alive(); err != nil {
		return err
	}
	if len(dv) != nw.n {
		return fmt.Errorf("opencl: AddVoltages of %d values for %d neurons", len(dv), nw.n)
	}
	for i, x := range dv {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("opencl: AddVoltages: value %d is %v", i, x)
		}
	}
	b := nw.b
	b.mu.Lock()
	defer b.mu.Unlock()
	v := make([]float64, nw.n)
	last := make([]int64, nw.n)
	if err := b.read(nw.V, 0, unsafe.Pointer(&v[0]), 8*uintptr(nw.n)); err != nil {
		return fmt.Errorf("opencl: AddVoltages: %w", err)
	}
	if err := b.read(nw.Last, 0, unsafe.Pointer(&last[0]), 8*uintptr(nw.n)); err != nil {
		return fmt.Errorf("opencl: AddVoltages: %w", err)
	}
	nw.h.AddVoltages(v, last, dv)
	if err := b.write(nw.V, 0, unsafe.Pointer(&v[0]), 8*uintptr(nw.n)); err != nil {
		return fmt.Errorf("opencl: AddVoltages: %w", err)
	}
	return nil
}

// Free releases the device buffers; later calls fail.
func (nw *network) Free() error {
	if nw.freed {
		return nil
	}
	nw.b.mu.Lock()
	defer nw.b.mu.Unlock()
	nw.close()
	nw.freed = true
	return nil
}

// Snapshot returns the complete dynamic state in package snn's snapshot
// format: a CPU-backend network of the same description restores it, and
// so does this one.
func (nw *network) Snapshot() ([]byte, error) {
	if err := nw.alive(); err != nil {
		return nil, err
	}
	b := nw.b
	b.mu.Lock()
	defer b.mu.Unlock()
	n := nw.n
	st := nw.h.NewState()
	for _, r := range []struct {
		m    uintptr
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
			return nil, fmt.Errorf("opencl: snapshot: %w", err)
		}
	}
	snap, err := nw.h.EncodeSnapshot(st)
	if err != nil {
		return nil, fmt.Errorf("opencl: snapshot: %w", err)
	}
	return snap, nil
}

// Restore sets the network to a snapshot of the same network (from this
// backend or the CPU one). Snapshots with pending InjectCurrent
// injections (which this backend's interface cannot make) are refused.
func (nw *network) Restore(snap []byte) error {
	if err := nw.alive(); err != nil {
		return err
	}
	nw.b.mu.Lock()
	defer nw.b.mu.Unlock()
	if err := nw.restore(snap); err != nil {
		return fmt.Errorf("opencl: restore: %w", err)
	}
	return nil
}

// restore parses an snn snapshot and writes it to the device (b.mu held).
// Nothing changes unless the whole snapshot is valid.
func (nw *network) restore(snap []byte) error {
	st, err := nw.h.DecodeSnapshot(snap)
	if err != nil {
		return err
	}
	n := nw.n
	b := nw.b
	for _, x := range []struct {
		m    uintptr
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
