package snn

// Layout is the built structure of a simulation: what an accelerator
// backend needs, besides the dynamic state of Snapshot, to run the same
// network elsewhere bit for bit. Its slices alias the simulation's own
// and must not be modified.
type Layout struct {
	// Populations in global index order.
	Populations []PopulationLayout
	// PoissonSizes are the sizes of the Poisson groups, in order.
	PoissonSizes []int
	// Edges are the built projections grouped by source: every
	// population's outgoing edge sets (populations in order), then every
	// Poisson group's; within one source, in the order spikes are
	// delivered through them.
	Edges []EdgeLayout
}

// PopulationLayout holds a built population's per-step constants.
type PopulationLayout struct {
	// Lo and Hi are the global neuron indices [Lo, Hi).
	Lo, Hi int
	// Em is the membrane propagator over one step (V ← V·Em + …).
	Em float64
	// VTh and VReset are the threshold and reset potentials (mV).
	VTh, VReset float64
	// RefSteps is the refractory period in steps.
	RefSteps int64
	// COBA tells that the population is conductance-based: its channels
	// hold conductances g (in units of the leak conductance) and add
	// (Prop·g)·(ERev − V) to V per step instead of Prop·J.
	COBA bool
	// Model is the update: 0 LIF, 1 COBA, 2 izhikevich, 3 adex. The last
	// two keep their state variable (u or w) in the last channel (Prop 0,
	// Decay 1, never a synapse's target), take R·I_ext as the loop
	// constant and read Params: izhikevich h, h·a, b, d; adex h/τ_m, E_L,
	// Δ_T, V_T, R, h/τ_w, a/1000, b (kernels/lif.cl has the updates).
	Model  int
	Params [8]float64
	// Channels are the synaptic channels in creation (snapshot) order.
	Channels []ChannelLayout
}

// ChannelLayout holds one synaptic channel's constants.
type ChannelLayout struct {
	// Prop is the effect of the drive J at the start of a step on V at its
	// end; Decay the drive's multiplier per step.
	Prop, Decay float64
	// Depth is the number of delay-ring slots (max delay + 1; 1: no ring).
	Depth int
	// ERev is the reversal potential (mV) of a COBA population's channel.
	ERev float64
}

// EdgeLayout is one built projection.
type EdgeLayout struct {
	// Projection is the index of the projection in Network.Projections;
	// Scale converts its file weights to W's units (W = file weight ×
	// Scale: 1, or R/1000 onto a coba population).
	Projection int
	Scale      float64
	// FromPoisson tells whether From indexes Poisson groups or populations.
	FromPoisson bool
	// From is the source population or Poisson group; To the target
	// population and Channel the index of its channel in
	// Populations[To].Channels.
	From, To, Channel int
	// Delay is the delay in steps of every synapse when Delays is nil.
	Delay int
	// Dense, when not nil, is the sources×targets weight matrix (row-major)
	// whose whole row is added per source spike; otherwise row s of the CSR
	// RowPtr/Col/W (Delays) holds the synapses of source s, targets local
	// to the target population.
	Dense  []float64
	RowPtr []int32
	Col    []int32
	W      []float64
	Delays []uint16
}

// Layout returns the built structure of the simulation (see Layout).
func (s *Sim) Layout() *Layout {
	e := s.engine
	l := &Layout{}
	chanOf := map[*channel][2]int{}
	for pi, p := range e.pops {
		pl := PopulationLayout{Lo: p.lo, Hi: p.hi, Em: p.em, VTh: p.vth, VReset: p.vreset, RefSteps: p.ref, COBA: p.coba,
			Model: p.model, Params: p.mp}
		for ci, c := range p.chans {
			pl.Channels = append(pl.Channels, ChannelLayout{Prop: c.prop, Decay: c.decay, Depth: c.depth, ERev: c.erev})
			chanOf[c] = [2]int{pi, ci}
		}
		l.Populations = append(l.Populations, pl)
	}
	edge := func(es *edgeSet, poisson bool, from int) EdgeLayout {
		tc := chanOf[es.ch]
		return EdgeLayout{Projection: es.index, Scale: es.scale, FromPoisson: poisson, From: from, To: tc[0], Channel: tc[1], Delay: es.delay,
			Dense: es.dense, RowPtr: es.rowPtr, Col: es.col, W: es.w, Delays: es.dl}
	}
	for pi, out := range e.out {
		for _, es := range out {
			l.Edges = append(l.Edges, edge(es, false, pi))
		}
	}
	for gi, g := range e.gens {
		l.PoissonSizes = append(l.PoissonSizes, g.size)
		for _, es := range g.out {
			l.Edges = append(l.Edges, edge(es, true, gi))
		}
	}
	return l
}
