package cuda

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"unsafe"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/snn"
)

var (
	_ backend.Spiking            = (*Backend)(nil)
	_ backend.NetworkSnapshotter = (*network)(nil)
)

// snapMagic starts an snn snapshot (package snn's format version 1, which
// Snapshot and Restore here read and write, so snapshots move between
// this backend and the CPU one).
const snapMagic = "MECSNN\x00\x01"

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
	if opt.Threads < 0 {
		return nil, fmt.Errorf("cuda: snn options: threads must be ≥ 0, got %d", opt.Threads)
	}
	host, err := net.Build(snn.Options{Threads: 1, Method: opt.Method})
	if err != nil {
		return nil, fmt.Errorf("cuda: %w", err)
	}
	defer host.Close()
	nw := &network{b: b, n: host.N(), dt: host.Dt(), lay: host.Layout()}
	if err := nw.tables(); err != nil {
		return nil, err
	}
	if len(net.Poisson) > 0 {
		if err := nw.newGenerator(net); err != nil {
			return nil, err
		}
	}
	snap, err := host.Snapshot()
	if err != nil {
		nw.closeGen()
		return nil, fmt.Errorf("cuda: %w", err)
	}
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
	b   *Backend
	n   int
	dt  float64
	lay *snn.Layout

	// Host tables (also uploaded).
	pid      []int32 // population of each neuron
	pint     []int32 // per population: lo, size, first channel, channels
	preal    []float64
	pref     []uint64
	cint     []int32 // per channel: depth, drive, ring and stamp offsets
	creal    []float64
	nJ       int // drive values
	nRing    int // ring values
	nStamp   int // ring slots
	inptr    []int32
	src      []int32
	code     []int32
	win      []float64
	groups   int
	nSources int // neurons + Poisson sources

	// Host state.
	step  int64
	force []int
	ext   []float64 // R·I_ext (for snapshots; constant here)
	cst   []float64 // host copy of the loop constant

	// Poisson generators: snn's own, in a host network of the Poisson
	// groups only, stepped in lockstep.
	gen   *snn.Sim
	gname []string
	gprev [][]int64 // counts after the previous step
	goff  []int     // global source index of each group's first source
	pbuf  []int32   // Poisson spikes of the steps of one chunk
	pcap  int       // capacity of dpspk in values

	// Device buffers.
	dv, dlast, dcount, dcst, dpid, dpint, dpreal, dpref, dcint, dcreal uint64
	dJ, dring, dstamp, dflag, dgcount, dnspk, dspk, dpspk, dfidx       uint64
	dinptr, dsrc, dcode, dwin                                          uint64
	owned                                                              []uint64
	freed                                                              bool
}

// genPopName names the host generator network's one (idle) population.
const genPopName = "cuda-poisson-host"

// tables lays the network out for the device.
func (nw *network) tables() error {
	lay := nw.lay
	n := nw.n
	if n > math.MaxInt32-1 {
		return fmt.Errorf("cuda: %d neurons is too many", n)
	}
	nw.pid = make([]int32, n)
	chanStart := make([]int, len(lay.Populations))
	nc := 0
	for p, pl := range lay.Populations {
		for i := pl.Lo; i < pl.Hi; i++ {
			nw.pid[i] = int32(p)
		}
		size := pl.Hi - pl.Lo
		chanStart[p] = nc
		nw.pint = append(nw.pint, int32(pl.Lo), int32(size), int32(nc), int32(len(pl.Channels)))
		nw.preal = append(nw.preal, pl.Em, pl.VTh, pl.VReset)
		nw.pref = append(nw.pref, uint64(pl.RefSteps))
		for _, c := range pl.Channels {
			depth := c.Depth
			ringOff, stampOff := nw.nRing, nw.nStamp
			if depth > 1 {
				nw.nRing += depth * size
				nw.nStamp += depth
			}
			nw.cint = append(nw.cint, int32(depth), int32(nw.nJ), int32(ringOff), int32(stampOff))
			nw.creal = append(nw.creal, c.Prop, c.Decay)
			nw.nJ += size
			nc++
			if nw.nJ > math.MaxInt32 || nw.nRing > math.MaxInt32 {
				return fmt.Errorf("cuda: the synaptic drives and delay rings exceed %d values", math.MaxInt32)
			}
		}
	}
	if nc > 1<<15 {
		return fmt.Errorf("cuda: %d synaptic channels is more than %d", nc, 1<<15)
	}
	nw.goff = make([]int, len(lay.PoissonSizes))
	nw.nSources = n
	for g, size := range lay.PoissonSizes {
		nw.goff[g] = nw.nSources
		nw.nSources += size
	}
	if nw.nSources > math.MaxInt32 {
		return fmt.Errorf("cuda: %d spike sources is too many", nw.nSources)
	}

	// Incoming synapses per target, in the order snn adds them: sources
	// ascending (neurons, then Poisson sources), then projection, then
	// CSR position. Two passes in that order: count, then fill.
	type class struct {
		poisson bool
		index   int
		size    int
		first   int // global source index of source 0
		edges   []snn.EdgeLayout
	}
	var classes []class
	for p, pl := range lay.Populations {
		classes = append(classes, class{index: p, size: pl.Hi - pl.Lo, first: pl.Lo})
	}
	for g, size := range lay.PoissonSizes {
		classes = append(classes, class{poisson: true, index: g, size: size, first: nw.goff[g]})
	}
	for _, e := range lay.Edges {
		for k := range classes {
			if classes[k].poisson == e.FromPoisson && classes[k].index == e.From {
				classes[k].edges = append(classes[k].edges, e)
			}
		}
	}
	visit := func(f func(src, tgt int, w float64, code int32)) {
		for _, c := range classes {
			for s := 0; s < c.size; s++ {
				for _, e := range c.edges {
					tp := lay.Populations[e.To]
					ch := int32(chanStart[e.To]+e.Channel) << 16
					if e.Dense != nil {
						nt := tp.Hi - tp.Lo
						for t, w := range e.Dense[s*nt : (s+1)*nt] {
							f(c.first+s, tp.Lo+t, w, ch|int32(e.Delay))
						}
						continue
					}
					for q := e.RowPtr[s]; q < e.RowPtr[s+1]; q++ {
						d := e.Delay
						if e.Delays != nil {
							d = int(e.Delays[q])
						}
						f(c.first+s, tp.Lo+int(e.Col[q]), e.W[q], ch|int32(d))
					}
				}
			}
		}
	}
	cnt := make([]int, n+1)
	total := 0
	visit(func(_, t int, _ float64, _ int32) { cnt[t+1]++; total++ })
	if total > math.MaxInt32 {
		return fmt.Errorf("cuda: %d synapses is more than %d", total, math.MaxInt32)
	}
	nw.inptr = make([]int32, n+1)
	for i := 0; i < n; i++ {
		cnt[i+1] += cnt[i]
		nw.inptr[i+1] = int32(cnt[i+1])
	}
	nw.src = make([]int32, total)
	nw.code = make([]int32, total)
	nw.win = make([]float64, total)
	visit(func(s, t int, w float64, code int32) {
		q := cnt[t]
		cnt[t]++
		nw.src[q], nw.code[q], nw.win[q] = int32(s), code, w
	})
	nw.groups = (n + kuWG - 1) / kuWG
	return nil
}

// newGenerator builds the host network of the Poisson groups alone: same
// seed and groups, so the same random streams as snn's full network.
func (nw *network) newGenerator(net *snn.Network) error {
	name := genPopName
	for taken := true; taken; {
		taken = false
		for _, g := range net.Poisson {
			if g.Name == name {
				name += "_"
				taken = true
			}
		}
	}
	gn := &snn.Network{DtMs: net.DtMs, Seed: net.Seed, Poisson: slices.Clone(net.Poisson)}
	gn.AddPopulation(snn.Population{Name: name, Size: 1, Neuron: snn.LIF{TauMMs: 10, VRestMV: -70, VThMV: -50, VResetMV: -70}})
	gen, err := gn.Build(snn.Options{Threads: 1})
	if err != nil {
		return fmt.Errorf("cuda: Poisson generators: %w", err)
	}
	nw.gen = gen
	for _, g := range net.Poisson {
		nw.gname = append(nw.gname, g.Name)
		nw.gprev = append(nw.gprev, slices.Clone(gen.PoissonCounts(g.Name)))
	}
	return nil
}

// genSnapPrefix is the length of the generator network's snapshot before
// its Poisson part: magic, step, n, then for its one neuron v, last,
// count, ext, cst, the (empty) kick list, injAt and the (empty) injection
// list; its population has no synaptic channels.
const genSnapPrefix = 8 + 8 + 8 + 5*8 + 8 + 4 + 8

// poissonStep advances the host generators by one step and appends the
// global source indices of the Poisson spikes of that step, ascending, to
// nw.pbuf.
func (nw *network) poissonStep() {
	if nw.gen == nil {
		return
	}
	nw.gen.Step()
	for g, name := range nw.gname {
		cur := nw.gen.PoissonCounts(name)
		prev := nw.gprev[g]
		for k, c := range cur {
			if c != prev[k] {
				nw.pbuf = append(nw.pbuf, int32(nw.goff[g]+k))
				prev[k] = c
			}
		}
	}
}

// upload allocates the device buffers and writes the static tables.
// Worker only.
func (nw *network) upload() error {
	b := nw.b
	n := uintptr(nw.n)
	alloc := func(dst *uint64, size uintptr) error {
		m, err := b.alloc(max(size, 8))
		if err != nil {
			return err
		}
		*dst = m
		nw.owned = append(nw.owned, m)
		return nil
	}
	put := func(dst *uint64, p unsafe.Pointer, size uintptr) error {
		if err := alloc(dst, size); err != nil {
			return err
		}
		if size == 0 {
			return nil
		}
		if err := b.write(*dst, 0, p, size); err != nil {
			return fmt.Errorf("cuda: uploading the network: %w", err)
		}
		return nil
	}
	g := uintptr(nw.groups)
	nw.pcap = max(nw.nSources-nw.n, 1)
	for _, x := range []struct {
		dst  *uint64
		size uintptr
	}{
		{&nw.dv, 8 * n}, {&nw.dlast, 8 * n}, {&nw.dcount, 8 * n}, {&nw.dcst, 8 * n},
		{&nw.dJ, 8 * uintptr(nw.nJ)}, {&nw.dring, 8 * uintptr(nw.nRing)}, {&nw.dstamp, 8 * uintptr(nw.nStamp)},
		{&nw.dflag, 4 * n}, {&nw.dgcount, 4 * g}, {&nw.dnspk, 4},
		{&nw.dspk, 4 * n}, {&nw.dpspk, 4 * uintptr(nw.pcap)}, {&nw.dfidx, 4 * n},
	} {
		if err := alloc(x.dst, x.size); err != nil {
			return err
		}
	}
	i32s := func(dst *uint64, x []int32) error {
		if len(x) == 0 {
			return alloc(dst, 0)
		}
		return put(dst, unsafe.Pointer(&x[0]), 4*uintptr(len(x)))
	}
	f64s := func(dst *uint64, x []float64) error {
		if len(x) == 0 {
			return alloc(dst, 0)
		}
		return put(dst, unsafe.Pointer(&x[0]), 8*uintptr(len(x)))
	}
	for _, f := range []func() error{
		func() error { return i32s(&nw.dpid, nw.pid) },
		func() error { return i32s(&nw.dpint, nw.pint) },
		func() error { return f64s(&nw.dpreal, nw.preal) },
		func() error { return put(&nw.dpref, unsafe.Pointer(&nw.pref[0]), 8*uintptr(len(nw.pref))) },
		func() error { return i32s(&nw.dcint, nw.cint) },
		func() error { return f64s(&nw.dcreal, nw.creal) },
		func() error { return i32s(&nw.dinptr, nw.inptr) },
		func() error { return i32s(&nw.dsrc, nw.src) },
		func() error { return i32s(&nw.dcode, nw.code) },
		func() error { return f64s(&nw.dwin, nw.win) },
	} {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

// close releases the device buffers (after the work queued on them) and
// the host generators. Worker only.
func (nw *network) close() error {
	err := nw.b.freeAll(nw.owned)
	nw.owned = nil
	nw.closeGen()
	if err != nil {
		return fmt.Errorf("cuda: freeing a network: %w", err)
	}
	return nil
}

// closeGen releases the host generators (worker only once the network is
// shared).
func (nw *network) closeGen() {
	if nw.gen != nil {
		nw.gen.Close()
		nw.gen = nil
	}
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

// groupsLaunch runs a lif kernel over nw.groups whole blocks of MEC_WG
// threads (its group reductions and compaction need exactly MEC_WG).
// Worker only.
func (nw *network) groupsLaunch(base string, args ...any) error {
	return nw.b.runGroups(lifFamily, base, backend.Complex128, uint64(nw.groups), args...)
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
		off := make([]int32, c+1)
		nw.pbuf = nw.pbuf[:0]
		for s := 0; s < c; s++ {
			nw.poissonStep()
			off[s+1] = int32(len(nw.pbuf))
		}
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

// putPoisson writes nw.pbuf to the device, growing the buffer. The copy is
// ordered after the kernels launched before it (see Backend.write), so it
// cannot overwrite spikes a queued step still reads. Worker only.
func (nw *network) putPoisson() error {
	b := nw.b
	if len(nw.pbuf) == 0 {
		return nil
	}
	if len(nw.pbuf) > nw.pcap {
		size := max(len(nw.pbuf), 2*nw.pcap)
		m, err := b.alloc(4 * uintptr(size))
		if err != nil {
			return err
		}
		old := nw.dpspk
		for k, x := range nw.owned {
			if x == old {
				nw.owned[k] = m
			}
		}
		nw.dpspk, nw.pcap = m, size
		if err := b.free(old); err != nil { // after the steps that read it
			return fmt.Errorf("cuda: growing the Poisson spike buffer: %w", err)
		}
	}
	if err := b.write(nw.dpspk, 0, unsafe.Pointer(&nw.pbuf[0]), 4*uintptr(len(nw.pbuf))); err != nil {
		return fmt.Errorf("cuda: Poisson spikes: %w", err)
	}
	return nil
}

// advance launches one step whose Poisson spikes are dpspk[poff,
// poff+npois). Worker only.
func (nw *network) advance(poff, npois int32) error {
	b := nw.b
	step := uint64(nw.step)
	n32 := int32(nw.n)
	if err := nw.groupsLaunch(kLIFUpdate, dptr(nw.dv), dptr(nw.dlast), dptr(nw.dcount), dptr(nw.dcst), dptr(nw.dpid),
		dptr(nw.dpint), dptr(nw.dpreal), dptr(nw.dpref), dptr(nw.dcint), dptr(nw.dcreal),
		dptr(nw.dJ), dptr(nw.dflag), dptr(nw.dgcount), step, n32); err != nil {
		return err
	}
	if len(nw.force) > 0 {
		slices.Sort(nw.force)
		f := slices.Compact(nw.force)
		idx := make([]int32, len(f))
		for k, i := range f {
			idx[k] = int32(i)
		}
		nw.force = nw.force[:0]
		if err := b.write(nw.dfidx, 0, unsafe.Pointer(&idx[0]), 4*uintptr(len(idx))); err != nil {
			return fmt.Errorf("cuda: forced spikes: %w", err)
		}
		if err := nw.itemsLaunch(kLIFForce, len(idx), dptr(nw.dv), dptr(nw.dlast), dptr(nw.dcount), dptr(nw.dflag),
			dptr(nw.dpid), dptr(nw.dpreal), dptr(nw.dfidx), int32(len(idx)), step); err != nil {
			return err
		}
		if err := nw.groupsLaunch(kLIFCount, dptr(nw.dflag), n32, dptr(nw.dgcount)); err != nil {
			return err
		}
	}
	if err := nw.groupsLaunch(kLIFCompact, dptr(nw.dflag), n32, dptr(nw.dgcount), int32(nw.groups), dptr(nw.dspk), dptr(nw.dnspk)); err != nil {
		return err
	}
	if err := nw.itemsLaunch(kLIFDeliver, nw.n, dptr(nw.dpid), dptr(nw.dpint), dptr(nw.dcint),
		dptr(nw.dinptr), dptr(nw.dsrc), dptr(nw.dcode), dptr(nw.dwin),
		dptr(nw.dspk), dptr(nw.dnspk), dptr(nw.dpspk), poff, npois,
		dptr(nw.dflag), dptr(nw.dJ), dptr(nw.dring), dptr(nw.dstamp), step, n32); err != nil {
		return err
	}
	nw.step++
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
			return fmt.Errorf("cuda: snn step %d: %w", nw.step, err)
		}
		var ns int32
		if err := b.read(nw.dnspk, 0, unsafe.Pointer(&ns), 4); err != nil {
			return fmt.Errorf("cuda: snn spikes: %w", err)
		}
		if ns < 0 || int(ns) > nw.n {
			return fmt.Errorf("cuda: snn step %d: the device reports %d spikes of %d neurons", nw.step-1, ns, nw.n)
		}
		out = make([]int, ns)
		if ns > 0 {
			idx := make([]int32, ns)
			if err := b.read(nw.dspk, 0, unsafe.Pointer(&idx[0]), 4*uintptr(ns)); err != nil {
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
			return fmt.Errorf("cuda: snn step %d: %w", nw.step, err)
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
		if err := nw.b.readF64(nw.dv, dst); err != nil {
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
		if err := nw.b.read(nw.dcount, 0, unsafe.Pointer(&dst[0]), 8*uintptr(nw.n)); err != nil {
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
		if err := b.readF64(nw.dv, v); err != nil {
			return fmt.Errorf("cuda: AddVoltages: %w", err)
		}
		if err := b.read(nw.dlast, 0, unsafe.Pointer(&last[0]), 8*uintptr(nw.n)); err != nil {
			return fmt.Errorf("cuda: AddVoltages: %w", err)
		}
		for i, x := range dv {
			if x == 0 {
				continue
			}
			p := nw.pid[i]
			if nw.step-last[i] <= int64(nw.pref[p]) { // refractory: clamped
				continue
			}
			v[i] += x
			if v[i] >= nw.preal[3*p+1] {
				nw.force = append(nw.force, i)
			}
		}
		if err := b.writeF64(nw.dv, v); err != nil {
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
	v := make([]float64, n)
	last := make([]int64, n)
	count := make([]int64, n)
	J := make([]float64, max(nw.nJ, 1))
	ring := make([]float64, max(nw.nRing, 1))
	stamp := make([]uint64, max(nw.nStamp, 1))
	for _, r := range []struct {
		m    uint64
		p    unsafe.Pointer
		size int
	}{
		{nw.dv, unsafe.Pointer(&v[0]), 8 * n}, {nw.dlast, unsafe.Pointer(&last[0]), 8 * n},
		{nw.dcount, unsafe.Pointer(&count[0]), 8 * n}, {nw.dJ, unsafe.Pointer(&J[0]), 8 * nw.nJ},
		{nw.dring, unsafe.Pointer(&ring[0]), 8 * nw.nRing}, {nw.dstamp, unsafe.Pointer(&stamp[0]), 8 * nw.nStamp},
	} {
		if r.size == 0 {
			continue
		}
		if err := b.read(r.m, 0, r.p, uintptr(r.size)); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	buf.WriteString(snapMagic)
	w := func(x any) { _ = binary.Write(&buf, binary.LittleEndian, x) }
	w(nw.step)
	w(int64(n))
	w(v)
	w(last)
	w(count)
	w(nw.ext)
	w(nw.cst)
	w(int64(len(nw.force)))
	for _, i := range nw.force {
		w(int64(i))
	}
	injAt := make([]int32, n)
	for i := range injAt {
		injAt[i] = -1
	}
	w(injAt)
	w(int64(0))
	for c := 0; c < len(nw.cint)/4; c++ {
		depth, jo, ro, so := int(nw.cint[4*c]), int(nw.cint[4*c+1]), int(nw.cint[4*c+2]), int(nw.cint[4*c+3])
		size := nw.chanSize(c)
		w(J[jo : jo+size])
		if depth <= 1 {
			w(int64(0))
			continue
		}
		w(int64(depth * size))
		w(ring[ro : ro+depth*size])
		used := make([]bool, depth)
		for s := range used {
			used[s] = stamp[so+s] > uint64(nw.step) // due at a step ≥ now
		}
		w(used)
	}
	if nw.gen != nil {
		gs, err := nw.gen.Snapshot()
		if err != nil {
			return nil, fmt.Errorf("Poisson generators: %w", err)
		}
		buf.Write(gs[genSnapPrefix:])
	}
	return buf.Bytes(), nil
}

// chanSize is the size of the population of channel c.
func (nw *network) chanSize(c int) int {
	for p := 0; p < len(nw.pint)/4; p++ {
		c0, nc := int(nw.pint[4*p+2]), int(nw.pint[4*p+3])
		if c >= c0 && c < c0+nc {
			return int(nw.pint[4*p+1])
		}
	}
	return 0
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
	r := bytes.NewReader(snap)
	magic := make([]byte, len(snapMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != snapMagic {
		return errors.New("not a snapshot")
	}
	var err error
	rd := func(x any) {
		if err == nil {
			err = binary.Read(r, binary.LittleEndian, x)
		}
	}
	count := func(limit int64) int {
		var k int64
		rd(&k)
		if err == nil && (k < 0 || k > limit) {
			err = fmt.Errorf("length %d out of range", k)
		}
		return int(k)
	}
	n := nw.n
	var step, nn int64
	rd(&step)
	rd(&nn)
	if err == nil && nn != int64(n) {
		return fmt.Errorf("snapshot of %d neurons into a network of %d", nn, n)
	}
	if err == nil && step < 0 {
		err = fmt.Errorf("step %d", step)
	}
	v, last, cnt := make([]float64, n), make([]int64, n), make([]int64, n)
	ext, cst := make([]float64, n), make([]float64, n)
	rd(v)
	rd(last)
	rd(cnt)
	rd(ext)
	rd(cst)
	for i, x := range last {
		if err == nil && x > step {
			err = fmt.Errorf("neuron %d spiked at step %d, after the snapshot's step %d", i, x, step)
		}
	}
	force := make([]int, count(int64(n)))
	for i := range force {
		var x int64
		rd(&x)
		if err == nil && (x < 0 || x >= int64(n)) {
			err = fmt.Errorf("kicked neuron %d out of range", x)
		}
		force[i] = int(x)
	}
	injAt := make([]int32, n)
	rd(injAt)
	if ninj := count(int64(n)); err == nil && ninj != 0 {
		return errors.New("pending current injections are not supported by this backend")
	}
	J := make([]float64, max(nw.nJ, 1))
	ring := make([]float64, max(nw.nRing, 1))
	stamp := make([]uint64, max(nw.nStamp, 1))
	for c := 0; c < len(nw.cint)/4 && err == nil; c++ {
		depth, jo, ro, so := int(nw.cint[4*c]), int(nw.cint[4*c+1]), int(nw.cint[4*c+2]), int(nw.cint[4*c+3])
		size := nw.chanSize(c)
		rd(J[jo : jo+size])
		want := 0
		if depth > 1 {
			want = depth * size
		}
		if nr := count(int64(want)); err == nil && nr != want {
			err = errors.New("delay ring size differs")
		}
		if depth <= 1 {
			continue
		}
		rd(ring[ro : ro+want])
		used := make([]bool, depth)
		rd(used)
		for s, u := range used {
			if u { // due at the step ≥ now that maps to slot s
				due := step + int64((s-int(step%int64(depth))+depth)%depth)
				stamp[so+s] = uint64(due) + 1
			}
		}
	}
	if err != nil {
		return err
	}
	// The Poisson part goes to the host generators, through their own
	// Restore (which validates it).
	if nw.gen != nil {
		gs, gerr := nw.gen.Snapshot()
		if gerr != nil {
			return gerr
		}
		tail := snap[len(snap)-r.Len():]
		gsnap := append([]byte{}, gs[:genSnapPrefix]...)
		binary.LittleEndian.PutUint64(gsnap[len(snapMagic):], uint64(step))
		gsnap = append(gsnap, tail...)
		if err := nw.gen.Restore(gsnap); err != nil {
			return err
		}
		for g, name := range nw.gname {
			copy(nw.gprev[g], nw.gen.PoissonCounts(name))
		}
	} else if r.Len() != 0 {
		return fmt.Errorf("%d trailing bytes", r.Len())
	}
	b := nw.b
	for _, x := range []struct {
		m    uint64
		p    unsafe.Pointer
		size int
	}{
		{nw.dv, unsafe.Pointer(&v[0]), 8 * n}, {nw.dlast, unsafe.Pointer(&last[0]), 8 * n},
		{nw.dcount, unsafe.Pointer(&cnt[0]), 8 * n}, {nw.dcst, unsafe.Pointer(&cst[0]), 8 * n},
		{nw.dJ, unsafe.Pointer(&J[0]), 8 * nw.nJ}, {nw.dring, unsafe.Pointer(&ring[0]), 8 * nw.nRing},
		{nw.dstamp, unsafe.Pointer(&stamp[0]), 8 * nw.nStamp},
	} {
		if x.size == 0 {
			continue
		}
		if err := b.write(x.m, 0, x.p, uintptr(x.size)); err != nil {
			return err
		}
	}
	nw.step = step
	nw.force = force
	nw.ext, nw.cst = ext, cst
	return nil
}
