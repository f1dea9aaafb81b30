package accel

import (
	"errors"
	"fmt"
	"math"

	"github.com/prismai/mec/engines/snn"
)

// The plasticity kernels of the lif family (kernels/lif.cl), launched after
// lif_deliver for networks with STDP projections.
const (
	KSTDPDep   = "stdp_dep"
	KSTDPPre   = "stdp_pre"
	KSTDPPost  = "stdp_post"
	KSTDPDecay = "stdp_decay"
)

// errPlasticSnapshot refuses snapshots of plastic networks, whose weights
// and traces the snapshot format does not carry (as package snn refuses).
var errPlasticSnapshot = errors.New("snapshots of networks with plastic (stdp) synapses are not supported")

// Plasticity is the STDP part of Net: tables that place every plastic
// synapse in the incoming lists and the traces in one array X (every
// plastic projection's presynaptic traces, then its postsynaptic ones).
// Empty (NPl == 0) for networks without STDP.
type Plasticity struct {
	NPl   int       // plastic projections
	Plas  []int32   // per incoming synapse: plastic projection, or -1
	XIdx  []int32   // per incoming synapse: its source's trace in X
	Sint  []int32   // per plastic projection: post trace offset, target lo, target hi, multiplicative
	Sreal []float64 // per plastic projection: a_plus, a_minus, w_max (internal units)
	XSrc  []int32   // per presynaptic trace: global source index
	XDec  []float64 // per trace: decay per step
	NPre  int       // presynaptic traces (X[:NPre])

	proj  []int       // network projection of each plastic projection
	wq    [][]int32   // per plastic projection: incoming index q of each CSR synapse
	scale []float64   // per plastic projection: internal weight = file weight × scale
	wmax  []float64   // per plastic projection: w_max in the file's unit
	id    map[int]int // network projection → plastic projection
	pre   []int       // per plastic projection: its presynaptic traces' offset
}

// plasticTracker collects Plasticity while newNet fills the incoming lists.
type plasticTracker struct {
	p   *Plasticity
	net *snn.Network
}

// newPlasticTracker lays out the traces of net's STDP projections.
func newPlasticTracker(net *snn.Network, dt float64) *plasticTracker {
	p := &Plasticity{id: map[int]int{}}
	first := map[string][2]int{} // name → global first index, size
	g := 0
	for _, pop := range net.Populations {
		first[pop.Name] = [2]int{g, pop.Size}
		g += pop.Size
	}
	for _, pg := range net.Poisson {
		first[pg.Name] = [2]int{g, pg.Size}
		g += pg.Size
	}
	var post []struct{ lo, size int }
	for k, pr := range net.Projections {
		st := pr.STDP
		if st == nil {
			continue
		}
		id := p.NPl
		p.NPl++
		p.id[k] = id
		p.proj = append(p.proj, k)
		src, tgt := first[pr.From], first[pr.To]
		p.pre = append(p.pre, len(p.XSrc))
		for s := 0; s < src[1]; s++ {
			p.XSrc = append(p.XSrc, int32(src[0]+s))
			p.XDec = append(p.XDec, math.Exp(-dt/st.TauPlusMs))
		}
		post = append(post, struct{ lo, size int }{tgt[0], tgt[1]})
		mult := int32(0)
		if st.Rule == snn.STDPMultiplicative {
			mult = 1
		}
		p.Sint = append(p.Sint, 0, int32(tgt[0]), int32(tgt[0]+tgt[1]), mult)
		p.Sreal = append(p.Sreal, 0, 0, 0) // set from the layout's scale
		p.scale = append(p.scale, 0)
		p.wmax = append(p.wmax, st.WMax)
		p.wq = append(p.wq, nil)
	}
	p.NPre = len(p.XSrc)
	for id, b := range post {
		p.Sint[4*id] = int32(len(p.XDec))
		st := net.Projections[p.proj[id]].STDP
		for range b.size {
			p.XDec = append(p.XDec, math.Exp(-dt/st.TauMinusMs))
		}
	}
	return &plasticTracker{p: p, net: net}
}

// start sizes the per-synapse tables for total incoming synapses.
func (t *plasticTracker) start(total int) {
	t.p.Plas = make([]int32, total)
	t.p.XIdx = make([]int32, total)
}

// synapse records incoming synapse q: source s (global), of edge set e,
// local source ls, CSR index k (-1 for dense).
func (t *plasticTracker) synapse(q, s, _ int, e *snn.EdgeLayout, ls, k int) {
	p := t.p
	id, ok := p.id[e.Projection]
	if !ok || k < 0 {
		p.Plas[q], p.XIdx[q] = -1, 0
		return
	}
	p.Plas[q] = int32(id)
	p.XIdx[q] = int32(p.pre[id] + ls)
	if p.wq[id] == nil {
		p.wq[id] = make([]int32, len(e.Col))
		st := t.stdp(id)
		p.scale[id] = e.Scale
		ap, am := st.APlus, st.AMinus
		if p.Sint[4*id+3] == 0 {
			ap, am = st.APlus*e.Scale, st.AMinus*e.Scale
		}
		p.Sreal[3*id], p.Sreal[3*id+1], p.Sreal[3*id+2] = ap, am, st.WMax*e.Scale
	}
	p.wq[id][k] = int32(q)
}

func (t *plasticTracker) stdp(id int) *snn.STDP { return t.net.Projections[t.p.proj[id]].STDP }

// finish attaches the plasticity to nw.
func (t *plasticTracker) finish(nw *Net) { nw.Plastic = *t.p }

// weights returns plastic projection k's weights in the file's unit from
// the incoming-list weights win, in CSR order.
func (p *Plasticity) weights(k int, win []float64) ([]float64, error) {
	id, ok := p.id[k]
	if !ok {
		return nil, fmt.Errorf("projection %d is not plastic: only plastic projections' weights, and those of fixed ones named in monitors.weights, are read back here", k)
	}
	out := make([]float64, len(p.wq[id]))
	for i, q := range p.wq[id] {
		// As snn.Sim.Weights: the unit conversion can overshoot w_max by an ulp.
		out[i] = min(win[q]/p.scale[id], p.wmax[id])
	}
	return out, nil
}
