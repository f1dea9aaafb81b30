package snn

import (
	"errors"
	"math"
)

// errPlasticSnapshot is returned by Snapshot and Restore of a network with
// plastic synapses, whose weights and traces the format does not carry.
var errPlasticSnapshot = errors.New("snn: snapshots of networks with plastic (stdp) synapses are not supported")

// plastic is the STDP state of one sparse projection (see STDP).
type plastic struct {
	mult            bool
	decPre, decPost float64 // trace multipliers per step
	aPlus, aMinus   float64 // internal weight units (additive) or fractions
	wMax            float64 // internal weight units
	wMaxFile        float64 // w_max in the file's unit
	xPre, xPost     []float64
	inPtr, inSyn    []int32 // synapses k of target t: inSyn[inPtr[t]:inPtr[t+1]], ascending
	srcOf           []int32 // source of synapse k
	tgtLo, tgtHi    int     // global range of the target population
	edges           *edgeSet
}

// newPlastic attaches st to es (sparse, no delays), whose weights are in
// internal units = file units × scale.
func newPlastic(es *edgeSet, st *STDP, scale, dt float64, tgt *pop) *plastic {
	pl := &plastic{mult: st.Rule == STDPMultiplicative,
		decPre: math.Exp(-dt / st.TauPlusMs), decPost: math.Exp(-dt / st.TauMinusMs),
		aPlus: st.APlus, aMinus: st.AMinus, wMax: st.WMax * scale, wMaxFile: st.WMax,
		xPre: make([]float64, es.nSrc), xPost: make([]float64, es.nTgt),
		tgtLo: tgt.lo, tgtHi: tgt.hi, edges: es}
	if !pl.mult {
		pl.aPlus, pl.aMinus = st.APlus*scale, st.AMinus*scale
	}
	pl.inPtr = make([]int32, es.nTgt+1)
	for _, t := range es.col {
		pl.inPtr[t+1]++
	}
	for t := 0; t < es.nTgt; t++ {
		pl.inPtr[t+1] += pl.inPtr[t]
	}
	pl.inSyn = make([]int32, len(es.col))
	pl.srcOf = make([]int32, len(es.col))
	fill := append([]int32(nil), pl.inPtr[:es.nTgt]...)
	for s := 0; s < es.nSrc; s++ {
		for k := es.rowPtr[s]; k < es.rowPtr[s+1]; k++ {
			t := es.col[k]
			pl.inSyn[fill[t]] = k
			fill[t]++
			pl.srcOf[k] = int32(s)
		}
	}
	return pl
}

// pre applies a spike of source s (after its delivery): its trace jumps,
// then each of its synapses is depressed by its target's trace.
func (pl *plastic) pre(s int) {
	pl.xPre[s]++
	es := pl.edges
	a, b := es.rowPtr[s], es.rowPtr[s+1]
	w, col := es.w[a:b], es.col[a:b]
	for k, t := range col {
		x := pl.xPost[t]
		if pl.mult {
			w[k] -= pl.aMinus * x * w[k]
		} else {
			w[k] -= pl.aMinus * x
		}
		// The trace exceeds 1 after close spikes: a weight never
		// leaves [0, w_max] (as Brian2's clip in the same examples).
		w[k] = max(w[k], 0)
	}
}

// post applies a spike of target t (local index): its trace jumps, then
// each of its incoming synapses is potentiated by its source's trace.
func (pl *plastic) post(t int) {
	pl.xPost[t]++
	w := pl.edges.w
	for _, k := range pl.inSyn[pl.inPtr[t]:pl.inPtr[t+1]] {
		x := pl.xPre[pl.srcOf[k]]
		if pl.mult {
			w[k] += pl.aPlus * x * (pl.wMax - w[k])
		} else {
			w[k] += pl.aPlus * x
		}
		w[k] = min(w[k], pl.wMax)
	}
}

// decay advances the traces by one step.
func (pl *plastic) decay() {
	for i := range pl.xPre {
		pl.xPre[i] *= pl.decPre
	}
	for i := range pl.xPost {
		pl.xPost[i] *= pl.decPost
	}
}

// plasticity runs the target side of every plastic projection for this
// step's neuron spikes (ascending global indices), then decays the traces.
func (e *engine) plasticity() {
	for _, pl := range e.plastic {
		for _, g := range e.spikes {
			if g >= pl.tgtLo && g < pl.tgtHi {
				pl.post(g - pl.tgtLo)
			}
		}
		pl.decay()
	}
}

// Weights returns the current weights of projection k in the file's unit
// (mV, or nS onto a coba population), in the order of the projection's
// synapses (by source, then as built), or nil for a dense projection or
// k out of range.
func (s *Sim) Weights(k int) []float64 {
	if k < 0 || k >= len(s.projs) || s.projs[k].dense != nil {
		return nil
	}
	es := s.projs[k]
	out := make([]float64, len(es.w))
	for i, w := range es.w {
		out[i] = w / es.scale
		if es.pl != nil {
			// The unit conversion can overshoot w_max by an ulp.
			out[i] = min(out[i], es.pl.wMaxFile)
		}
	}
	return out
}

// WeightHistogram counts the weights w in bins equal bins over [lo, hi]
// (the last bin includes hi; values outside are not counted).
func WeightHistogram(w []float64, lo, hi float64, bins int) []int {
	h := make([]int, bins)
	for _, x := range w {
		if x < lo || x > hi || !(hi > lo) {
			continue
		}
		k := min(int((x-lo)/(hi-lo)*float64(bins)), bins-1)
		h[k]++
	}
	return h
}
