package snn

import (
	"fmt"
	"math"
	"runtime"
	"sort"
)

// Method selects the membrane integrator.
type Method int

const (
	// MethodExact uses exponential propagators (exact for the linear
	// subthreshold dynamics with piecewise-constant external current).
	MethodExact Method = iota
	// MethodEuler uses forward Euler for V and for the synaptic currents.
	MethodEuler
)

// String returns "exact" or "euler".
func (m Method) String() string {
	switch m {
	case MethodExact:
		return "exact"
	case MethodEuler:
		return "euler"
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

// ParseMethod converts "exact" or "euler" into a Method.
func ParseMethod(s string) (Method, error) {
	switch s {
	case "exact", "":
		return MethodExact, nil
	case "euler":
		return MethodEuler, nil
	}
	return 0, fmt.Errorf("snn: unknown method %q (want exact or euler)", s)
}

// Options control how a Network is simulated.
type Options struct {
	// Threads is the number of goroutines updating neurons; 0 picks one per
	// CPU for large networks and 1 for small ones. Results do not depend on it.
	Threads int
	// Method is the integrator (default MethodExact).
	Method Method
}

// autoThreadMin is the network size from which Threads = 0 uses every CPU:
// below it the per-step synchronisation costs more than it saves.
const autoThreadMin = 32768

// Build validates the network, draws its connectivity and initial state, and
// returns a simulator at t = 0.
func (n *Network) Build(opt Options) (*Sim, error) {
	if err := n.Validate(); err != nil {
		return nil, fmt.Errorf("snn: network: %w", err)
	}
	if opt.Method != MethodExact && opt.Method != MethodEuler {
		return nil, fmt.Errorf("snn: options: unknown method %d", int(opt.Method))
	}
	if opt.Threads < 0 {
		return nil, fmt.Errorf("snn: options: threads must be ≥ 0, got %d", opt.Threads)
	}
	dt := n.dt()
	e := &engine{dt: dt, method: opt.Method}
	names, _ := n.lookup()

	// Populations and their global index ranges.
	for i, p := range n.Populations {
		lo := e.n
		e.n += p.Size
		if e.n > math.MaxInt32 {
			return nil, fmt.Errorf("snn: network: more than %d neurons", math.MaxInt32)
		}
		nu := p.Neuron
		r := nu.RMOhm
		if r == 0 {
			r = 1
		}
		ref, _ := steps(nu.TRefMs, dt)
		pp := &pop{name: p.Name, lo: lo, hi: e.n, vrest: nu.VRestMV, vth: nu.VThMV, vreset: nu.VResetMV,
			r: r, ref: int64(ref), index: i, coba: p.Model == ModelCOBA}
		switch p.Model {
		case ModelCOBA:
			pp.model = modelCOBA
		case ModelIzhikevich:
			z := p.Izhikevich
			pp.model = modelIzhikevich
			pp.mp = [8]float64{dt, dt * z.A, z.B, z.D}
		case ModelAdEx:
			x := p.AdEx
			pp.model = modelAdEx
			pp.mp = [8]float64{dt / nu.TauMMs, nu.VRestMV, x.DeltaTMV, x.VTMV, r, dt / x.TauWMs, x.ANS / 1000, x.BNA}
		}
		switch {
		case nu.Leak == LeakNone:
			// τ_m dV/dt = R·I_ext: exact for both methods.
			pp.em, pp.oneMinusEm = 1, dt/nu.TauMMs
		case nu.Leak == LeakInstant:
			// V = V_rest + R·I_ext + the step's delta input.
			pp.em, pp.oneMinusEm = 0, 1
		case opt.Method == MethodExact:
			pp.em = math.Exp(-dt / nu.TauMMs)
			pp.oneMinusEm = -math.Expm1(-dt / nu.TauMMs)
		default:
			pp.em = 1 - dt/nu.TauMMs
			pp.oneMinusEm = dt / nu.TauMMs
		}
		pp.vth = nu.vth()
		pp.leak = nu.Leak
		pp.tauM = nu.TauMMs
		e.pops = append(e.pops, pp)
	}
	e.v = make([]float64, e.n)
	e.last = make([]int64, e.n)
	e.count = make([]int64, e.n)
	e.ext = make([]float64, e.n)
	e.cst = make([]float64, e.n)
	e.injAt = make([]int32, e.n)
	for i := range e.injAt {
		e.injAt[i] = -1
	}
	e.acc = make([]float64, e.n)
	e.flags = make([]uint8, e.n)
	for i, p := range n.Populations {
		pp := e.pops[i]
		rs := newStream(n.Seed, streamVInit, uint64(i), 0)
		for g := pp.lo; g < pp.hi; g++ {
			e.last[g] = math.MinInt64 / 2
			e.setExt(g, pp.r*p.Neuron.IBiasNA)
			switch {
			case p.VInit.MV != nil:
				e.v[g] = *p.VInit.MV
			case p.VInit.UniformMV != nil:
				lo, hi := p.VInit.UniformMV[0], p.VInit.UniformMV[1]
				v := lo + uniform01(rs)*(hi-lo)
				if v >= p.Neuron.vth() { // hi == v_th and rounding: keep the cap
					v = math.Nextafter(p.Neuron.vth(), math.Inf(-1))
				}
				e.v[g] = v
			default:
				e.v[g] = p.Neuron.VResetMV
			}
		}
	}

	// Poisson groups.
	e.gens = newGens(n, dt)

	// Projections.
	e.out = make([][]*edgeSet, len(e.pops))
	for i, p := range n.Projections {
		src := names[p.From]
		tgt := e.pops[names[p.To].index]
		tau := p.TauSynMs
		if tau == 0 {
			tau = src.tauSyn
		}
		if p.delta() {
			tau = 0 // the delta channel (see channel)
		}
		erev, scale := 0.0, 1.0
		if tgt.coba {
			// Conductances in units of the leak conductance 1/R:
			// g/g_L = w[nS]·R[MΩ]/1000.
			erev = *p.ERevMV
			scale = tgt.r / 1000
			p.WeightMV = p.WeightNS * scale
			if p.WeightsNS != nil {
				p.WeightsMV = make([]float64, len(p.WeightsNS))
				for k, w := range p.WeightsNS {
					p.WeightsMV[k] = w * scale
				}
			}
		}
		es, err := e.buildProjection(n.Seed, i, &p, src.size, tgt, tau, erev)
		if err != nil {
			return nil, fmt.Errorf("snn: projections[%d]: %w", i, err)
		}
		es.scale, es.index = scale, i
		e.projs = append(e.projs, es)
		if p.STDP != nil {
			es.pl = newPlastic(es, p.STDP, scale, dt, tgt)
			e.plastic = append(e.plastic, es.pl)
		}
		if src.poisson {
			g := e.gens[src.index]
			g.out = append(g.out, es)
		} else {
			e.out[src.index] = append(e.out[src.index], es)
		}
		e.synapses += es.count()
	}
	// The state channels of izhikevich and adex populations, after the
	// synaptic ones: u starts at b·v, w at 0.
	for i, pp := range e.pops {
		if pp.model != modelIzhikevich && pp.model != modelAdEx {
			continue
		}
		c := &channel{j: make([]float64, pp.hi-pp.lo), depth: 1, decay: 1}
		if pp.model == modelIzhikevich {
			for k := range c.j {
				c.j[k] = n.Populations[i].Izhikevich.B * e.v[pp.lo+k]
			}
		}
		pp.state = c
		pp.chans = append(pp.chans, c)
	}
	for _, pp := range e.pops {
		for _, c := range pp.chans {
			if c.depth > 1 {
				c.ring = make([]float64, c.depth*(pp.hi-pp.lo))
				c.used = make([]bool, c.depth)
			}
		}
	}

	threads := opt.Threads
	if threads == 0 {
		threads = 1
		if e.n >= autoThreadMin {
			threads = runtime.GOMAXPROCS(0)
		}
	}
	if threads > e.n {
		threads = e.n
	}
	e.setThreads(threads)
	s := &Sim{engine: e}
	if e.pool != nil {
		runtime.AddCleanup(s, func(p *pool) { p.close() }, e.pool)
	}
	return s, nil
}

// channel returns the synaptic channel of p with time constant tau (ms)
// and, in a coba population, reversal potential erev (mV), creating it.
func (e *engine) channel(p *pop, tau, erev float64) *channel {
	for _, c := range p.chans {
		if c.tau == tau && c.erev == erev {
			return c
		}
	}
	c := &channel{tau: tau, erev: erev, j: make([]float64, p.hi-p.lo), depth: 1}
	h := e.dt
	if tau == 0 {
		// A delta synapse (model lif only): the weights delivered for a
		// step are added to V at the end of the next integration step,
		// V ← V·e_m + c + J, and J is then cleared, whatever the method.
		c.prop, c.decay = 1, 0
		p.chans = append(p.chans, c)
		return c
	}
	if p.model == modelIzhikevich || p.model == modelAdEx {
		// Forward Euler: J (mV/ms for izhikevich, mV for adex) enters
		// dV/dt for one step.
		c.prop = h
		if p.model == modelAdEx {
			c.prop = h / p.tauM
		}
		if e.method == MethodExact {
			c.decay = math.Exp(-h / tau)
		} else {
			c.decay = 1 - h/tau
		}
		p.chans = append(p.chans, c)
		return c
	}
	if p.coba {
		// The conductance is held over the step (first order in g; see
		// the package doc for the stability limit): its effect on V at
		// the end of the step is (1 − e_m)·g·(E_rev − V).
		c.prop = p.oneMinusEm
		if e.method == MethodExact {
			c.decay = math.Exp(-h / tau)
		} else {
			c.decay = 1 - h/tau
		}
		p.chans = append(p.chans, c)
		return c
	}
	if p.leak == LeakNone {
		// No leak: V gains ∫₀ʰ J·e^{−t/τs}/τm dt = J·τs/τm·(1 − e^{−h/τs})
		// (exact), or J·h/τm (Euler).
		if e.method == MethodExact {
			c.decay = math.Exp(-h / tau)
			c.prop = tau / p.tauM * -math.Expm1(-h/tau)
		} else {
			c.decay = 1 - h/tau
			c.prop = h / p.tauM
		}
		p.chans = append(p.chans, c)
		return c
	}
	if e.method == MethodExact {
		c.decay = math.Exp(-h / tau)
		// ∫ of the drive's effect on V over one step:
		// τs/(τs−τm)·(e^{−h/τs} − e^{−h/τm}), written stably for τs ≈ τm.
		a := (tau - p.tauM) / (p.tauM * tau)
		x := h * a
		f := 1.0
		if x != 0 {
			f = math.Expm1(x) / x
		}
		c.prop = math.Exp(-h/p.tauM) * h / p.tauM * f
	} else {
		c.decay = 1 - h/tau
		c.prop = h / p.tauM
	}
	p.chans = append(p.chans, c)
	return c
}

func (e *engine) buildProjection(seed uint64, idx int, p *Projection, nSrc int, tgt *pop, tau, erev float64) (*edgeSet, error) {
	nTgt := tgt.hi - tgt.lo
	d0, _ := steps(p.DelayMs, e.dt)
	es := &edgeSet{ch: e.channel(tgt, tau, erev), delay: d0, nTgt: nTgt, nSrc: nSrc}
	maxD := d0
	self := p.From == p.To
	if p.Dense {
		es.dense = make([]float64, nSrc*nTgt)
		rs := newStream(seed, streamConnect, uint64(idx), 0)
		for s := 0; s < nSrc; s++ {
			row := es.dense[s*nTgt : (s+1)*nTgt]
			switch p.Rule {
			case RuleAllToAll:
				for t := range row {
					row[t] = p.WeightMV
				}
			case RuleOneToOne:
				row[s] = p.WeightMV
			case RuleFixedProbability:
				forEachBernoulli(rs, p.P, nTgt, func(t int) { row[t] += p.WeightMV })
			}
			if self && p.NoAutapses {
				row[s] = 0
			}
		}
	} else {
		rowPtr := make([]int32, nSrc+1)
		var col []int32
		var w []float64
		var dl []uint16
		switch p.Rule {
		case RuleAllToAll, RuleOneToOne, RuleFixedProbability:
			rs := newStream(seed, streamConnect, uint64(idx), 0)
			for s := 0; s < nSrc; s++ {
				add := func(t int) {
					if self && p.NoAutapses && t == s {
						return
					}
					col = append(col, int32(t))
				}
				switch p.Rule {
				case RuleAllToAll:
					for t := 0; t < nTgt; t++ {
						add(t)
					}
				case RuleOneToOne:
					add(s)
				default:
					forEachBernoulli(rs, p.P, nTgt, add)
				}
				if len(col) > math.MaxInt32 {
					return nil, fmt.Errorf("more than %d synapses", math.MaxInt32)
				}
				rowPtr[s+1] = int32(len(col))
			}
			w = make([]float64, len(col))
			for k := range w {
				w[k] = p.WeightMV
			}
		case RuleList:
			order := make([]int, 0, len(p.Pairs))
			for k, pr := range p.Pairs {
				if self && p.NoAutapses && pr[0] == pr[1] {
					continue
				}
				order = append(order, k)
			}
			sort.SliceStable(order, func(a, b int) bool {
				pa, pb := p.Pairs[order[a]], p.Pairs[order[b]]
				if pa[0] != pb[0] {
					return pa[0] < pb[0]
				}
				return pa[1] < pb[1]
			})
			col = make([]int32, len(order))
			w = make([]float64, len(order))
			if p.DelaysMs != nil {
				dl = make([]uint16, len(order))
			}
			for k, o := range order {
				pr := p.Pairs[o]
				rowPtr[pr[0]+1]++
				col[k] = int32(pr[1])
				w[k] = p.WeightMV
				if p.WeightsMV != nil {
					w[k] = p.WeightsMV[o]
				}
				if dl != nil {
					d, _ := steps(p.DelaysMs[o], e.dt)
					dl[k] = uint16(d)
					maxD = max(maxD, d)
				}
			}
			for s := 0; s < nSrc; s++ {
				rowPtr[s+1] += rowPtr[s]
			}
		}
		es.rowPtr, es.col, es.w, es.dl = rowPtr, col, w, dl
	}
	if maxD+1 > es.ch.depth {
		es.ch.depth = maxD + 1
	}
	return es, nil
}

// forEachBernoulli calls f(t) for each t in [0, n) selected independently
// with probability p, in increasing order, drawing one geometric gap per
// selected index (cost ∝ selected count, not n).
func forEachBernoulli(rs *pcg, p float64, n int, f func(int)) {
	switch {
	case p <= 0:
		return
	case p >= 1:
		for t := 0; t < n; t++ {
			f(t)
		}
		return
	}
	l := math.Log1p(-p)
	t := int64(-1)
	for {
		t += 1 + geometric(rs, l)
		if t >= int64(n) {
			return
		}
		f(int(t))
	}
}
