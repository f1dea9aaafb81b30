package accel

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/prismai/mec/engines/snn"
)

// Net is a spiking network's host side: the tables uploaded to the device
// (populations, channels, per-target incoming synapses built from
// snn.Layout), the host state (step, pending forced spikes, the constants
// kept for snapshots) and the Poisson generators (snn's PoissonSource),
// stepped on the host in lockstep with the device.
type Net struct {
	N  int
	Dt float64

	// Host tables (also uploaded).
	Pid      []int32 // population of each neuron
	Pint     []int32 // per population: lo, size, first channel, channels, model (1: coba)
	Preal    []float64
	Mreal    []float64 // per population: the 8 model parameters of snn.PopulationLayout
	Pref     []uint64
	Cint     []int32 // per channel: depth, drive, ring and stamp offsets
	Creal    []float64
	NJ       int // drive values
	NRing    int // ring values
	NStamp   int // ring slots
	Inptr    []int32
	Src      []int32
	Code     []int32
	Win      []float64
	Groups   int
	NSources int // neurons + Poisson sources
	Synapses int // synapses as snn counts them (non-zero dense entries)

	// Plastic is the STDP layout (NPl == 0 without plastic projections).
	Plastic Plasticity

	// Fixed holds, in the file's unit, the weights of the fixed sparse
	// projections that the network's monitors.weights names (snn.Sim.Weights
	// of the host build; they never change), by projection index.
	Fixed map[int][]float64

	// Host state.
	Now   int64 // the current step
	Force []int
	Ext   []float64 // R·I_ext (for snapshots; constant here)
	Cst   []float64 // host copy of the loop constant

	// Poisson generators: snn's own, stepped in lockstep (nil without
	// Poisson groups).
	src  *snn.PoissonSource
	Goff []int   // global source index of each group's first source
	Pbuf []int32 // Poisson spikes of the steps of one chunk
}

// BuildNet builds net with package snn on the host (so the synapses and
// initial state are exactly the CPU backend's) and returns its host side
// for a device whose update kernels run in work groups of wg neurons,
// with the Poisson generators when net has Poisson groups, and the
// initial state as an snn snapshot.
func BuildNet(net *snn.Network, opt snn.Options, wg int) (*Net, []byte, error) {
	if opt.Threads < 0 {
		return nil, nil, fmt.Errorf("snn options: threads must be ≥ 0, got %d", opt.Threads)
	}
	// A plastic network is built without its STDP (the same synapses and
	// initial state: plasticity draws nothing), so that its initial
	// snapshot can be taken; the plasticity tables come from net.
	plain, plastic := net, false
	for _, p := range net.Projections {
		plastic = plastic || p.STDP != nil
	}
	if plastic {
		c := *net
		c.Projections = slices.Clone(net.Projections)
		for k := range c.Projections {
			c.Projections[k].STDP = nil
		}
		plain = &c
		if err := net.Validate(); err != nil {
			return nil, nil, fmt.Errorf("snn: network: %w", err)
		}
	}
	host, err := plain.Build(snn.Options{Threads: 1, Method: opt.Method})
	if err != nil {
		return nil, nil, err
	}
	defer host.Close()
	var pt *plasticTracker
	if plastic {
		pt = newPlasticTracker(net, host.Dt())
	}
	nw, err := newNet(host.Layout(), host.N(), host.Dt(), wg, pt)
	if err != nil {
		return nil, nil, err
	}
	if pt != nil {
		pt.finish(nw)
	}
	if len(net.Poisson) > 0 {
		if err := nw.NewGenerator(net); err != nil {
			return nil, nil, err
		}
	}
	if net.Monitors != nil {
		for _, k := range net.Monitors.Weights {
			if k >= 0 && k < len(net.Projections) && net.Projections[k].STDP == nil {
				if nw.Fixed == nil {
					nw.Fixed = map[int][]float64{}
				}
				nw.Fixed[k] = host.Weights(k)
			}
		}
	}
	snap, err := host.Snapshot()
	if err != nil {
		return nil, nil, err
	}
	nw.Synapses = host.Synapses()
	return nw, snap, nil
}

// NewNet lays the network out for a device whose update kernels run in
// work groups of wg neurons.
func NewNet(lay *snn.Layout, n int, dt float64, wg int) (*Net, error) {
	return newNet(lay, n, dt, wg, nil)
}

// newNet is NewNet that also records, with pt non-nil, where the plastic
// synapses land in the incoming lists.
func newNet(lay *snn.Layout, n int, dt float64, wg int, pt *plasticTracker) (*Net, error) {
	nw := &Net{N: n, Dt: dt}
	if n > math.MaxInt32-1 {
		return nil, fmt.Errorf("%d neurons is too many", n)
	}
	nw.Pid = make([]int32, n)
	chanStart := make([]int, len(lay.Populations))
	nc := 0
	for p, pl := range lay.Populations {
		for i := pl.Lo; i < pl.Hi; i++ {
			nw.Pid[i] = int32(p)
		}
		size := pl.Hi - pl.Lo
		chanStart[p] = nc
		nw.Pint = append(nw.Pint, int32(pl.Lo), int32(size), int32(nc), int32(len(pl.Channels)), int32(pl.Model))
		nw.Mreal = append(nw.Mreal, pl.Params[:]...)
		nw.Preal = append(nw.Preal, pl.Em, pl.VTh, pl.VReset)
		nw.Pref = append(nw.Pref, uint64(pl.RefSteps))
		for _, c := range pl.Channels {
			depth := c.Depth
			ringOff, stampOff := nw.NRing, nw.NStamp
			if depth > 1 {
				nw.NRing += depth * size
				nw.NStamp += depth
			}
			nw.Cint = append(nw.Cint, int32(depth), int32(nw.NJ), int32(ringOff), int32(stampOff))
			nw.Creal = append(nw.Creal, c.Prop, c.Decay, c.ERev)
			nw.NJ += size
			nc++
			if nw.NJ > math.MaxInt32 || nw.NRing > math.MaxInt32 {
				return nil, fmt.Errorf("the synaptic drives and delay rings exceed %d values", math.MaxInt32)
			}
		}
	}
	if nc > 1<<15 {
		return nil, fmt.Errorf("%d synaptic channels is more than %d", nc, 1<<15)
	}
	nw.Goff = make([]int, len(lay.PoissonSizes))
	nw.NSources = n
	for g, size := range lay.PoissonSizes {
		nw.Goff[g] = nw.NSources
		nw.NSources += size
	}
	if nw.NSources > math.MaxInt32 {
		return nil, fmt.Errorf("%d spike sources is too many", nw.NSources)
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
		classes = append(classes, class{poisson: true, index: g, size: size, first: nw.Goff[g]})
	}
	for _, e := range lay.Edges {
		for k := range classes {
			if classes[k].poisson == e.FromPoisson && classes[k].index == e.From {
				classes[k].edges = append(classes[k].edges, e)
			}
		}
	}
	visit := func(f func(src, tgt int, w float64, code int32, e *snn.EdgeLayout, s, k int)) {
		for _, c := range classes {
			for s := 0; s < c.size; s++ {
				for ei := range c.edges {
					e := &c.edges[ei]
					tp := lay.Populations[e.To]
					ch := int32(chanStart[e.To]+e.Channel) << 16
					if e.Dense != nil {
						nt := tp.Hi - tp.Lo
						for t, w := range e.Dense[s*nt : (s+1)*nt] {
							f(c.first+s, tp.Lo+t, w, ch|int32(e.Delay), e, s, -1)
						}
						continue
					}
					for q := e.RowPtr[s]; q < e.RowPtr[s+1]; q++ {
						d := e.Delay
						if e.Delays != nil {
							d = int(e.Delays[q])
						}
						f(c.first+s, tp.Lo+int(e.Col[q]), e.W[q], ch|int32(d), e, s, int(q))
					}
				}
			}
		}
	}
	cnt := make([]int, n+1)
	total := 0
	visit(func(_, t int, _ float64, _ int32, _ *snn.EdgeLayout, _, _ int) { cnt[t+1]++; total++ })
	if total > math.MaxInt32 {
		return nil, fmt.Errorf("%d synapses is more than %d", total, math.MaxInt32)
	}
	nw.Inptr = make([]int32, n+1)
	for i := 0; i < n; i++ {
		cnt[i+1] += cnt[i]
		nw.Inptr[i+1] = int32(cnt[i+1])
	}
	nw.Src = make([]int32, total)
	nw.Code = make([]int32, total)
	nw.Win = make([]float64, total)
	if pt != nil {
		pt.start(total)
	}
	visit(func(s, t int, w float64, code int32, e *snn.EdgeLayout, ls, k int) {
		q := cnt[t]
		cnt[t]++
		nw.Src[q], nw.Code[q], nw.Win[q] = int32(s), code, w
		if pt != nil {
			pt.synapse(q, s, t, e, ls, k)
		}
	})
	nw.Groups = (n + wg - 1) / wg
	return nw, nil
}

// NewGenerator builds the Poisson groups of net on the host (snn's
// PoissonSource: same seed and groups, so the same random streams as
// snn's full network).
func (nw *Net) NewGenerator(net *snn.Network) error {
	src, err := snn.NewPoissonSource(net)
	if err != nil {
		return fmt.Errorf("Poisson generators: %w", err)
	}
	nw.src = src
	return nil
}

// PoissonStep advances the host generators by one step and appends the
// global source indices of the Poisson spikes of that step, ascending, to
// nw.Pbuf.
func (nw *Net) PoissonStep() {
	if nw.src == nil {
		return
	}
	nw.src.Step(func(g, k int) { nw.Pbuf = append(nw.Pbuf, int32(nw.Goff[g]+k)) })
}

// PoissonChunk draws the Poisson spikes of the next c steps into nw.Pbuf
// (reset first) and returns the offsets of each step's spikes in it:
// step s's are Pbuf[off[s]:off[s+1]].
func (nw *Net) PoissonChunk(c int) []int32 {
	off := make([]int32, c+1)
	nw.Pbuf = nw.Pbuf[:0]
	for s := 0; s < c; s++ {
		nw.PoissonStep()
		off[s+1] = int32(len(nw.Pbuf))
	}
	return off
}

// TakeForced returns the neurons AddVoltages pushed to threshold, sorted
// and without repeats, and clears the list; nil when there are none.
func (nw *Net) TakeForced() []int32 {
	if len(nw.Force) == 0 {
		return nil
	}
	slices.Sort(nw.Force)
	f := slices.Compact(nw.Force)
	idx := make([]int32, len(f))
	for k, i := range f {
		idx[k] = int32(i)
	}
	nw.Force = nw.Force[:0]
	return idx
}

// AddVoltages adds dv[i] to v[i] for every neuron i not refractory (its
// last spike step in last) and records the neurons pushed to V_th, as
// snn.Sim.AddVoltage.
func (nw *Net) AddVoltages(v []float64, last []int64, dv []float64) {
	for i, x := range dv {
		if x == 0 {
			continue
		}
		p := nw.Pid[i]
		if nw.Now-last[i] <= int64(nw.Pref[p]) { // refractory: clamped
			continue
		}
		v[i] += x
		if v[i] >= nw.Preal[3*p+1] {
			nw.Force = append(nw.Force, i)
		}
	}
}

// ChanSize is the size of the population of channel c.
func (nw *Net) ChanSize(c int) int {
	for p := 0; p < len(nw.Pint)/5; p++ {
		c0, nc := int(nw.Pint[5*p+2]), int(nw.Pint[5*p+3])
		if c >= c0 && c < c0+nc {
			return int(nw.Pint[5*p+1])
		}
	}
	return 0
}

// State is the device-resident dynamic state of a network as read back
// (or to be written): J, Ring and Stamp hold at least one value each.
type State struct {
	V, Cst      []float64
	Last, Count []int64
	J, Ring     []float64
	Stamp       []uint64
	Step        int64
	Force       []int
	Ext         []float64
}

// NewState allocates a State sized for nw (J, Ring and Stamp at least one
// value each, so their first element can be addressed).
func (nw *Net) NewState() *State {
	n := nw.N
	return &State{
		V: make([]float64, n), Last: make([]int64, n), Count: make([]int64, n),
		J: make([]float64, max(nw.NJ, 1)), Ring: make([]float64, max(nw.NRing, 1)),
		Stamp: make([]uint64, max(nw.NStamp, 1)),
	}
}

// shape is the network's snn.SnapshotShape.
func (nw *Net) shape() snn.SnapshotShape {
	sh := snn.SnapshotShape{N: nw.N}
	for c := 0; c < len(nw.Cint)/4; c++ {
		sh.Channels = append(sh.Channels, snn.ChannelShape{Size: nw.ChanSize(c), Depth: int(nw.Cint[4*c])})
	}
	if nw.src != nil {
		sh.Poisson = nw.src.Sizes()
	}
	return sh
}

// EncodeSnapshot encodes the state read back from the device (V, Last,
// Count, J, Ring, Stamp of st) with the host state as an snn.Snapshot.
// Its only error is the generators' snapshot failing.
func (nw *Net) EncodeSnapshot(st *State) ([]byte, error) {
	n := nw.N
	snap := snn.Snapshot{Step: nw.Now, V: st.V[:n], Last: st.Last[:n], Count: st.Count[:n], Ext: nw.Ext, Cst: nw.Cst,
		Force: nw.Force, InjAt: make([]int32, n)}
	for i := range snap.InjAt {
		snap.InjAt[i] = -1
	}
	for c := 0; c < len(nw.Cint)/4; c++ {
		depth, jo, ro, so := int(nw.Cint[4*c]), int(nw.Cint[4*c+1]), int(nw.Cint[4*c+2]), int(nw.Cint[4*c+3])
		size := nw.ChanSize(c)
		cs := snn.ChannelSnapshot{J: st.J[jo : jo+size]}
		if depth > 1 {
			cs.Ring = st.Ring[ro : ro+depth*size]
			cs.Used = make([]bool, depth)
			for s := range cs.Used {
				cs.Used[s] = st.Stamp[so+s] > uint64(nw.Now) // due at a step ≥ now
			}
		}
		snap.Channels = append(snap.Channels, cs)
	}
	if nw.src != nil {
		ps, err := nw.src.Snapshot()
		if err != nil {
			return nil, err
		}
		snap.Poisson = ps
	}
	return snap.MarshalBinary()
}

// DecodeSnapshot decodes an snn snapshot of this network and restores the
// host generators from its Poisson part; the returned state is to be
// written to the device (V, Last, Count, Cst, J, Ring, Stamp) and then
// committed with Commit. On error nothing has changed (the generators
// validate their part before taking it).
func (nw *Net) DecodeSnapshot(b []byte) (*State, error) {
	snap, err := snn.DecodeSnapshot(b, nw.shape())
	if err != nil {
		return nil, err
	}
	if len(snap.Injections) != 0 {
		return nil, errors.New("pending current injections are not supported by this backend")
	}
	st := nw.NewState()
	copy(st.V, snap.V)
	copy(st.Last, snap.Last)
	copy(st.Count, snap.Count)
	st.Ext, st.Cst = snap.Ext, snap.Cst
	step := snap.Step
	for c, cs := range snap.Channels {
		depth, jo, ro, so := int(nw.Cint[4*c]), int(nw.Cint[4*c+1]), int(nw.Cint[4*c+2]), int(nw.Cint[4*c+3])
		copy(st.J[jo:], cs.J)
		if depth <= 1 {
			continue
		}
		copy(st.Ring[ro:], cs.Ring)
		for s, u := range cs.Used {
			if u { // due at the step ≥ now that maps to slot s
				due := step + int64((s-int(step%int64(depth))+depth)%depth)
				st.Stamp[so+s] = uint64(due) + 1
			}
		}
	}
	// The Poisson part goes to the host generators, through their own
	// Restore (which validates it).
	if nw.src != nil {
		if err := nw.src.Restore(step, snap.Poisson); err != nil {
			return nil, err
		}
	}
	st.Step, st.Force = step, snap.Force
	return st, nil
}

// Commit takes the host state of a decoded snapshot once its device part
// is written.
func (nw *Net) Commit(st *State) {
	nw.Now = st.Step
	nw.Force = st.Force
	nw.Ext, nw.Cst = st.Ext, st.Cst
}
