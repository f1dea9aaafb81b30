package snn

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync"
)

// pop is a built LIF population: global index range and step constants.
type pop struct {
	name               string
	index              int
	lo, hi             int // global neuron indices [lo, hi)
	tauM               float64
	em                 float64 // V propagator over one step
	vrest, vth, vreset float64
	r                  float64 // MΩ
	oneMinusEm         float64 // 1 − em
	ref                int64   // refractory steps
	coba               bool    // conductance-based: channels hold g/g_L
	leak               string  // LIF.Leak
	model              int     // modelLIF … modelAdEx (layout and kernel code)
	mp                 [8]float64
	// state is the recovery (izhikevich: u) or adaptation (adex: w, nA)
	// variable, kept as an extra channel after the synaptic ones so that
	// snapshots and accelerator layouts carry it; nil for LIF models.
	state *channel
	chans []*channel
}

// Model codes of a built population (PopulationLayout.Model, kernels/lif.cl).
const (
	modelLIF = iota
	modelCOBA
	modelIzhikevich
	modelAdEx
)

// channel is the synaptic drive J (mV) of one time constant in a population.
type channel struct {
	tau   float64
	erev  float64 // reversal potential (mV) of a coba population's channel
	decay float64 // J multiplier per step
	prop  float64 // effect of J at the start of a step on V at its end
	j     []float64
	depth int       // ring slots (max delay + 1)
	ring  []float64 // depth × size pending deliveries, nil when depth == 1
	used  []bool    // slot holds something
}

// edgeSet is one built projection: CSR by source (or a dense matrix).
type edgeSet struct {
	ch         *channel
	delay      int // uniform delay in steps (when dl == nil)
	nSrc, nTgt int
	rowPtr     []int32
	col        []int32
	w          []float64
	dl         []uint16  // per-synapse delays, or nil
	dense      []float64 // nSrc × nTgt, or nil
	scale      float64   // internal weight = file weight × scale
	index      int       // index in Network.Projections
	pl         *plastic  // STDP state, or nil
}

func (es *edgeSet) count() int {
	if es.dense != nil {
		c := 0
		for _, w := range es.dense {
			if w != 0 {
				c++
			}
		}
		return c
	}
	return len(es.col)
}

// gen is a built Poisson group.
type gen struct {
	name   string
	size   int
	log1mp float64
	off    bool
	next   []int64 // step of each source's next spike
	count  []int64 // spikes so far per source
	rng    []pcg
	out    []*edgeSet
}

// injection is a pending one-step current: ext[i] = bias + amount during the
// next step, then bias again.
type injection struct {
	i      int
	bias   float64 // R·I_bias, mV
	amount float64 // R·I injected, mV
}

// engine holds the whole simulation state; Sim wraps it so that the worker
// pool (which references the engine) does not keep the Sim alive.
type engine struct {
	dt       float64
	method   Method
	step     int64
	n        int
	synapses int
	pops     []*pop
	gens     []*gen
	out      [][]*edgeSet // outgoing projections per population

	v     []float64   // mV
	last  []int64     // step of the last spike
	count []int64     // spikes so far
	ext   []float64   // persistent R·I_ext in mV
	cst   []float64   // (V_rest + ext + injected)·(1 − e_m), the loop's constant
	force []int       // neurons pushed to V ≥ V_th by AddVoltage since the last step
	injAt []int32     // per neuron: index into injected, or -1
	injd  []injection // this step's InjectCurrent calls
	acc   []float64   // scratch: Σ_c prop_c·J_c
	flags []uint8     // scratch: threshold bits of the SIMD LIF kernels, per 4 neurons

	threads int
	chunks  [][2]int // global neuron range per thread
	chunkSp [][]int  // spikes found per chunk
	spikes  []int
	pool    *pool

	projs   []*edgeSet // the built projections, in file order
	plastic []*plastic // the plastic ones

	spikeMons []*SpikeMonitor
	stateMons []*StateMonitor
}

// Sim is a built network being simulated. It is not safe for concurrent
// use; its methods must be called from one goroutine.
type Sim struct {
	*engine
}

func (e *engine) setThreads(t int) {
	if t < 1 {
		t = 1
	}
	e.threads = t
	e.chunks = make([][2]int, t)
	e.chunkSp = make([][]int, t)
	for k := 0; k < t; k++ {
		e.chunks[k] = [2]int{e.n * k / t, e.n * (k + 1) / t}
	}
	if t > 1 {
		e.pool = newPool(t-1, e.updateChunk)
	}
}

// pool runs chunk k of the neuron update on worker k-1.
type pool struct {
	start []chan int
	wg    sync.WaitGroup
	once  sync.Once
}

func newPool(workers int, work func(int)) *pool {
	p := &pool{start: make([]chan int, workers)}
	for w := range p.start {
		c := make(chan int, 1)
		p.start[w] = c
		go func() {
			for k := range c {
				work(k)
				p.wg.Done()
			}
		}()
	}
	return p
}

func (p *pool) close() {
	p.once.Do(func() {
		for _, c := range p.start {
			close(c)
		}
	})
}

// Close stops the worker goroutines of a multi-threaded Sim. The Sim must
// not be stepped afterwards. It is optional (workers are also released when
// the Sim is garbage collected).
func (s *Sim) Close() {
	if s.pool != nil {
		s.pool.close()
	}
}

// N returns the number of LIF neurons (global indices 0..N-1).
func (s *Sim) N() int { return s.n }

// Synapses returns the number of synapses (non-zero dense entries included).
func (s *Sim) Synapses() int { return s.synapses }

// Dt returns the time step in ms.
func (s *Sim) Dt() float64 { return s.dt }

// Steps returns the number of steps taken.
func (s *Sim) Steps() int64 { return s.step }

// Time returns the current time in ms (Steps·dt).
func (s *Sim) Time() float64 { return float64(s.step) * s.dt }

// Threads returns the number of goroutines used for the neuron update.
func (s *Sim) Threads() int { return s.threads }

// Population returns the global index range [lo, hi) of the named population.
func (s *Sim) Population(name string) (lo, hi int, ok bool) {
	for _, p := range s.pops {
		if p.name == name {
			return p.lo, p.hi, true
		}
	}
	return 0, 0, false
}

// PoissonCounts returns the number of spikes so far of each source of the
// named Poisson group (live slice, read-only), or nil if there is none.
func (s *Sim) PoissonCounts(name string) []int64 {
	for _, g := range s.gens {
		if g.name == name {
			return g.count
		}
	}
	return nil
}

// V returns the membrane potentials (mV), indexed by global neuron index.
// The slice is the live state: read it between steps, do not write it (use
// AddVoltage).
func (s *Sim) V() []float64 { return s.v }

// SpikeCounts returns the number of spikes of each neuron so far (live slice,
// read-only).
func (s *Sim) SpikeCounts() []int64 { return s.count }

// Drive returns the total synaptic drive Σ_c J_c of neuron i in mV (the
// synaptic current times R), or 0 for an index out of range.
func (s *Sim) Drive(i int) float64 {
	if i < 0 || i >= s.n {
		return 0
	}
	p := s.popOf(i)
	d := 0.0
	for _, c := range p.chans {
		if c != p.state {
			d += c.j[i-p.lo]
		}
	}
	return d
}

// State returns the recovery variable u of an izhikevich neuron or the
// adaptation current w (nA) of an adex neuron i, and false for other
// models or i out of range.
func (s *Sim) State(i int) (float64, bool) {
	if i < 0 || i >= s.n {
		return 0, false
	}
	p := s.popOf(i)
	if p.state == nil {
		return 0, false
	}
	return p.state.j[i-p.lo], true
}

// States copies every neuron's model state into dst (len N): u of
// izhikevich neurons, w (nA) of adex neurons, 0 for the other models.
func (s *Sim) States(dst []float64) {
	for _, p := range s.pops {
		d := dst[p.lo:p.hi]
		if p.state == nil {
			clear(d)
			continue
		}
		copy(d, p.state.j)
	}
}

func (e *engine) popOf(i int) *pop {
	for _, p := range e.pops {
		if i < p.hi {
			return p
		}
	}
	return e.pops[len(e.pops)-1]
}

// Refractory reports whether neuron i is clamped during the next step.
func (s *Sim) Refractory(i int) bool {
	if i < 0 || i >= s.n {
		return false
	}
	return s.step-s.last[i] <= s.popOf(i).ref
}

func (s *Sim) check(i int, what string, x float64) error {
	if i < 0 || i >= s.n {
		return fmt.Errorf("snn: %s: neuron %d out of range [0, %d)", what, i, s.n)
	}
	if !finite(x) {
		return fmt.Errorf("snn: %s: value %v for neuron %d is not finite", what, x, i)
	}
	return nil
}

// AddVoltage adds dv (mV) to V of neuron i now. It has no effect on a
// refractory neuron (V is clamped to V_reset). If V reaches V_th the neuron
// spikes during the next Step (the voltage cap).
func (s *Sim) AddVoltage(i int, dv float64) error {
	if err := s.check(i, "AddVoltage", dv); err != nil {
		return err
	}
	if !s.Refractory(i) {
		s.v[i] += dv
		if s.v[i] >= s.popOf(i).vth {
			s.force = append(s.force, i)
		}
	}
	return nil
}

// InjectCurrent adds a current of nA nanoamperes to neuron i for the next
// step only (it contributes R·I to V∞ during that step).
func (s *Sim) InjectCurrent(i int, nA float64) error {
	if err := s.check(i, "InjectCurrent", nA); err != nil {
		return err
	}
	k := s.injAt[i]
	if k < 0 {
		k = int32(len(s.injd))
		s.injAt[i] = k
		s.injd = append(s.injd, injection{i: i, bias: s.ext[i]})
	}
	s.injd[k].amount += s.popOf(i).r * nA
	s.setExt(i, s.injd[k].bias+s.injd[k].amount)
	return nil
}

// SetBias sets the constant external current of neuron i to nA nanoamperes
// (replacing its population's i_bias_na) until changed.
func (s *Sim) SetBias(i int, nA float64) error {
	if err := s.check(i, "SetBias", nA); err != nil {
		return err
	}
	b := s.popOf(i).r * nA
	if k := s.injAt[i]; k >= 0 {
		s.injd[k].bias = b
		s.setExt(i, b+s.injd[k].amount)
		return nil
	}
	s.setExt(i, b)
	return nil
}

// setExt sets the external drive R·I (mV) of neuron i and the loop constant.
func (e *engine) setExt(i int, x float64) {
	e.ext[i] = x
	p := e.popOf(i)
	if p.model == modelIzhikevich || p.model == modelAdEx {
		e.cst[i] = x // the nonlinear updates add R·I_ext to dV/dt themselves
		return
	}
	e.cst[i] = (p.vrest + x) * p.oneMinusEm
}

// Run advances the simulation by steps steps.
func (s *Sim) Run(steps int) {
	for k := 0; k < steps; k++ {
		s.Step()
	}
}

// RunFor advances the simulation by round(ms/dt) steps.
func (s *Sim) RunFor(ms float64) {
	s.Run(int(math.Round(ms / s.dt)))
}

// Step advances the network by one dt: monitors record the state at the
// start of the step, every non-refractory neuron is integrated, the threshold
// is checked, spiking neurons are reset, and their spikes (and the Poisson
// groups') are delivered. It returns the global indices of the neurons that
// spiked, in ascending order; the slice is reused by the next Step.
func (s *Sim) Step() []int {
	e := s.engine
	for _, m := range e.stateMons {
		m.record(e)
	}
	if e.threads == 1 {
		e.updateChunk(0)
	} else {
		p := e.pool
		p.wg.Add(e.threads - 1)
		for w, c := range p.start {
			c <- w + 1
		}
		e.updateChunk(0)
		p.wg.Wait()
	}
	e.spikes = e.spikes[:0]
	for _, sp := range e.chunkSp {
		e.spikes = append(e.spikes, sp...)
	}
	if len(e.force) > 0 {
		e.forceSpikes()
	}
	for _, in := range e.injd {
		e.setExt(in.i, in.bias)
		e.injAt[in.i] = -1
	}
	e.injd = e.injd[:0]
	e.deliver()
	if len(e.plastic) > 0 {
		e.plasticity()
	}
	for _, m := range e.spikeMons {
		m.record(e.step, e.spikes)
	}
	e.step++
	return e.spikes
}

// updateChunk integrates and threshold-checks the neurons of chunk k.
func (e *engine) updateChunk(k int) {
	lo, hi := e.chunks[k][0], e.chunks[k][1]
	sp := e.chunkSp[k][:0]
	for _, p := range e.pops {
		a, b := max(lo, p.lo), min(hi, p.hi)
		if a < b {
			sp = e.updatePop(p, a, b, sp)
		}
	}
	e.chunkSp[k] = sp
}

// updatePop updates the global neurons [a, b) of p; allocation-free once sp
// has grown. Populations with one or two synaptic channels (the common case)
// use fused loops; more channels go through the scratch accumulator. The
// update is V ← V·e_m + c_i + Σ_c prop_c·J_c with c_i = V∞,i·(1 − e_m), kept
// unchanged (V ← V) for refractory neurons.
func (e *engine) updatePop(p *pop, a, b int, sp []int) []int {
	switch p.model {
	case modelCOBA:
		return e.updateCOBA(p, a, b, sp)
	case modelIzhikevich, modelAdEx:
		return e.updateNonlinear(p, a, b, sp)
	}
	switch len(p.chans) {
	case 1:
		return e.update1(p, a, b, sp)
	case 2:
		return e.update2(p, a, b, sp)
	}
	acc := e.acc[a:b]
	clear(acc)
	for _, ch := range p.chans {
		j := ch.j[a-p.lo : b-p.lo]
		j = j[:len(acc)]
		pr, dc := ch.prop, ch.decay
		for i, x := range j {
			acc[i] += pr * x
			j[i] = x * dc
		}
	}
	v := e.v[a:b]
	last := e.last[a:b]
	cst := e.cst[a:b]
	last, cst, acc = last[:len(v)], cst[:len(v)], acc[:len(v)]
	step, ref := e.step, p.ref
	em, vth := p.em, p.vth
	for i, x := range v {
		y := x*em + cst[i] + acc[i]
		if step-last[i] <= ref {
			y = x
		}
		if y >= vth {
			sp = e.fire(p, a+i, sp)
			continue
		}
		v[i] = y
	}
	return sp
}

// updateCOBA updates the global neurons [a, b) of the conductance-based
// population p: V ← V·e_m + c_i + Σ_c (prop_c·g_c)·(E_c − V), the sum
// taken in channel order starting from the first term (the order of
// kernels/lif.cl), g_c ← g_c·decay_c, V held while refractory.
func (e *engine) updateCOBA(p *pop, a, b int, sp []int) []int {
	v := e.v[a:b]
	last := e.last[a:b]
	cst := e.cst[a:b]
	last, cst = last[:len(v)], cst[:len(v)]
	step, ref := e.step, p.ref
	em, vth := p.em, p.vth
	if len(p.chans) == 2 { // excitatory and inhibitory: the common case, hoisted
		c0, c1 := p.chans[0], p.chans[1]
		g0s, g1s := c0.j[a-p.lo:b-p.lo], c1.j[a-p.lo:b-p.lo]
		g0s, g1s = g0s[:len(v)], g1s[:len(v)]
		p0, d0, e0 := c0.prop, c0.decay, c0.erev
		p1, d1, e1 := c1.prop, c1.decay, c1.erev
		for i, x := range v {
			g0, g1 := g0s[i], g1s[i]
			g0s[i], g1s[i] = g0*d0, g1*d1
			s := (p0 * g0) * (e0 - x)
			s = s + (p1*g1)*(e1-x)
			y := x*em + cst[i]
			y = y + s
			if step-last[i] <= ref {
				y = x
			}
			if y >= vth {
				sp = e.fire(p, a+i, sp)
				continue
			}
			v[i] = y
		}
		return sp
	}
	for i, x := range v {
		s := 0.0
		for c, ch := range p.chans {
			k := a - p.lo + i
			g := ch.j[k]
			ch.j[k] = g * ch.decay
			t := (ch.prop * g) * (ch.erev - x)
			if c == 0 {
				s = t
			} else {
				s = s + t
			}
		}
		y := x*em + cst[i]
		y = y + s
		if step-last[i] <= ref {
			y = x
		}
		if y >= vth {
			sp = e.fire(p, a+i, sp)
			continue
		}
		v[i] = y
	}
	return sp
}

// updateNonlinear updates the global neurons [a, b) of an izhikevich or
// adex population with forward Euler (the order of operations of
// kernels/lif.cl): s = Σ_c prop_c·J_c over the synaptic channels (from 0),
// J_c ← J_c·decay_c, then the model's V and state updates from the old V
// and state, V held while refractory, and at a spike V ← V_reset and the
// state jumps.
func (e *engine) updateNonlinear(p *pop, a, b int, sp []int) []int {
	v := e.v[a:b]
	last := e.last[a:b]
	ext := e.cst[a:b] // R·I_ext for these models (setExt)
	last, ext = last[:len(v)], ext[:len(v)]
	st := p.state.j[a-p.lo : b-p.lo]
	st = st[:len(v)]
	syn := p.chans[:len(p.chans)-1]
	step, ref, vth := e.step, p.ref, p.vth
	m := &p.mp
	for i, x := range v {
		s := 0.0
		for _, ch := range syn {
			k := a - p.lo + i
			g := ch.j[k]
			ch.j[k] = g * ch.decay
			s = s + ch.prop*g
		}
		u := st[i]
		var y, u1 float64
		if p.model == modelIzhikevich {
			// mp: h, h·a, b, d
			f := 0.04*x*x + 5*x + 140 - u + ext[i]
			y = x + m[0]*f
			u1 = u + m[1]*(m[2]*x-u)
		} else {
			// mp: h/τ_m, E_L, Δ_T, V_T, R, h/τ_w, a/1000, b
			f := (m[1] - x) + m[2]*math.Exp((x-m[3])/m[2]) - m[4]*u + ext[i]
			y = x + m[0]*f
			u1 = u + m[5]*(m[6]*(x-m[1])-u)
		}
		y = y + s
		if step-last[i] <= ref {
			y = x
		}
		if y >= vth {
			if p.model == modelIzhikevich {
				u1 = u1 + m[3]
			} else {
				u1 = u1 + m[7]
			}
			st[i] = u1
			sp = e.fire(p, a+i, sp)
			continue
		}
		st[i] = u1
		v[i] = y
	}
	return sp
}

// fire resets neuron g, which spiked in this step, and appends it to sp.
func (e *engine) fire(p *pop, g int, sp []int) []int {
	e.v[g] = p.vreset
	e.last[g] = e.step
	e.count[g]++
	return append(sp, g)
}

// lifParams are the per-population constants of the AVX2 LIF kernels
// (field order and layout are read by lif_amd64.s).
type lifParams struct {
	em, p0, d0, p1, d1, vth float64
	step, ref               int64
}

// fireFlags fires the neurons whose threshold bits the SIMD kernel set:
// flags[k] holds neurons a+4k..a+4k+3, in ascending order.
func (e *engine) fireFlags(p *pop, a int, flags []uint8, sp []int) []int {
	for k, f := range flags {
		for f != 0 {
			bit := bits.TrailingZeros8(f)
			sp = e.fire(p, a+4*k+bit, sp)
			f &= f - 1
		}
	}
	return sp
}

// update1 is updatePop for one synaptic channel. The first len&^3 neurons
// go through the AVX2 kernel where available (bit-identical), the rest
// through the loop.
func (e *engine) update1(p *pop, a, b int, sp []int) []int {
	v := e.v[a:b]
	last := e.last[a:b]
	cst := e.cst[a:b]
	j0 := p.chans[0].j[a-p.lo : b-p.lo]
	last, cst, j0 = last[:len(v)], cst[:len(v)], j0[:len(v)]
	p0, d0 := p.chans[0].prop, p.chans[0].decay
	step, ref := e.step, p.ref
	em, vth := p.em, p.vth
	par := lifParams{em: em, p0: p0, d0: d0, vth: vth, step: step, ref: ref}
	flags := e.flags[a:b]
	done := lifBlocks(v, j0, nil, cst, last, &par, flags)
	sp = e.fireFlags(p, a, flags[:done/4], sp)
	for i := done; i < len(v); i++ {
		x := v[i]
		g0 := j0[i]
		j0[i] = g0 * d0
		y := x*em + cst[i] + p0*g0
		if step-last[i] <= ref {
			y = x
		}
		if y >= vth {
			sp = e.fire(p, a+i, sp)
			continue
		}
		v[i] = y
	}
	return sp
}

// update2 is updatePop for two synaptic channels (AVX2 as update1).
func (e *engine) update2(p *pop, a, b int, sp []int) []int {
	v := e.v[a:b]
	last := e.last[a:b]
	cst := e.cst[a:b]
	j0 := p.chans[0].j[a-p.lo : b-p.lo]
	j1 := p.chans[1].j[a-p.lo : b-p.lo]
	last, cst, j0, j1 = last[:len(v)], cst[:len(v)], j0[:len(v)], j1[:len(v)]
	p0, d0 := p.chans[0].prop, p.chans[0].decay
	p1, d1 := p.chans[1].prop, p.chans[1].decay
	step, ref := e.step, p.ref
	em, vth := p.em, p.vth
	par := lifParams{em: em, p0: p0, d0: d0, p1: p1, d1: d1, vth: vth, step: step, ref: ref}
	flags := e.flags[a:b]
	done := lifBlocks(v, j0, j1, cst, last, &par, flags)
	sp = e.fireFlags(p, a, flags[:done/4], sp)
	for i := done; i < len(v); i++ {
		x := v[i]
		g0, g1 := j0[i], j1[i]
		j0[i], j1[i] = g0*d0, g1*d1
		y := x*em + cst[i] + (p0*g0 + p1*g1)
		if step-last[i] <= ref {
			y = x
		}
		if y >= vth {
			sp = e.fire(p, a+i, sp)
			continue
		}
		v[i] = y
	}
	return sp
}

// forceSpikes makes the neurons that AddVoltage pushed to V ≥ V_th spike in
// this step if the integration brought them back below threshold (the
// voltage cap: V ≥ V_th is never left standing without a spike).
func (e *engine) forceSpikes() {
	added := false
	for _, g := range e.force {
		if e.last[g] == e.step {
			continue // spiked already (or listed twice)
		}
		e.spikes = e.fire(e.popOf(g), g, e.spikes)
		added = true
	}
	e.force = e.force[:0]
	if added {
		slices.Sort(e.spikes)
	}
}

// deliver propagates this step's spikes (neurons and Poisson groups) and
// moves this step's delayed deliveries into the synaptic drives.
func (e *engine) deliver() {
	step := e.step
	pi := 0
	for _, g := range e.spikes {
		for g >= e.pops[pi].hi {
			pi++
		}
		src := g - e.pops[pi].lo
		for _, es := range e.out[pi] {
			es.deliver(src, step)
			if es.pl != nil {
				es.pl.pre(src)
			}
		}
	}
	for _, gg := range e.gens {
		if gg.off {
			continue
		}
		for k, t := range gg.next {
			if t != step {
				continue
			}
			for _, es := range gg.out {
				es.deliver(k, step)
				if es.pl != nil {
					es.pl.pre(k)
				}
			}
			gg.fire(k, step)
		}
	}
	for _, p := range e.pops {
		for _, c := range p.chans {
			if c.depth == 1 {
				continue
			}
			slot := int(step % int64(c.depth))
			if !c.used[slot] {
				continue
			}
			n := len(c.j)
			r := c.ring[slot*n : (slot+1)*n]
			for i, x := range r {
				c.j[i] += x
			}
			clear(r)
			c.used[slot] = false
		}
	}
}

// target returns the buffer that receives a delivery d steps after step.
func (es *edgeSet) target(d int, step int64) []float64 {
	c := es.ch
	if d == 0 {
		return c.j
	}
	slot := int((step + int64(d)) % int64(c.depth))
	c.used[slot] = true
	n := len(c.j)
	return c.ring[slot*n : (slot+1)*n]
}

// deliver adds the out-edges of source src spiking at step.
func (es *edgeSet) deliver(src int, step int64) {
	if es.dense != nil {
		buf := es.target(es.delay, step)
		row := es.dense[src*es.nTgt : (src+1)*es.nTgt]
		buf = buf[:len(row)]
		for t, w := range row {
			buf[t] += w
		}
		return
	}
	a, b := es.rowPtr[src], es.rowPtr[src+1]
	cols, ws := es.col[a:b], es.w[a:b]
	ws = ws[:len(cols)]
	if es.dl == nil {
		buf := es.target(es.delay, step)
		for k, t := range cols {
			buf[t] += ws[k]
		}
		return
	}
	dls := es.dl[a:b]
	for k, t := range cols {
		es.target(int(dls[k]), step)[t] += ws[k]
	}
}
