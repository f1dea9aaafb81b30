package consensus

import (
	"errors"
	"fmt"
	"math"
)

// mixChunk is the number of coordinates Mix processes at a time: the
// accumulator (4 KiB) and the current slices of the inputs stay in L1.
const mixChunk = 512

// Mix computes node i's consensus update
//
//	out = Θ_i + η Σ_{j≠i} w_ij (Θ_j − Θ_i)
//
// with Θ_j = states[j]. Only states[i] and the states of i's neighbours
// (w_ij > 0) are read; the others may be nil, so a node needs only what
// its neighbours sent. All read states and out must have the same length.
// out may be any of the states itself (e.g. states[i], an in-place
// update): every chunk of coordinates is read in full before the same
// chunk of out is written. It must not overlap a state at a different
// offset. NaN and ±Inf propagate; they are not checked, as that would
// cost a pass over the data.
//
// Mix does not allocate. It works through the vectors in chunks of
// mixChunk coordinates, accumulating Σ_j η w_ij (Θ_j − Θ_i) for the chunk
// in a stack buffer over the neighbours in ascending order (in groups of
// four), so each state is read once from memory and out written once. The
// result is deterministic, and a consensus state (all Θ_j equal to Θ_i)
// is an exact fixed point.
func Mix(i int, w *Weights, eta float64, states [][]float64, out []float64) error {
	if w.N() == 0 {
		return errors.New("consensus: mix with nil weights")
	}
	if i < 0 || i >= w.n {
		return fmt.Errorf("consensus: mix: node %d out of range [0, %d)", i, w.n)
	}
	if math.IsNaN(eta) || math.IsInf(eta, 0) {
		return fmt.Errorf("consensus: mix: step η = %v is not finite", eta)
	}
	if len(states) != w.n {
		return fmt.Errorf("consensus: mix: %d states for %d nodes", len(states), w.n)
	}
	self := states[i]
	d := len(self)
	if len(out) != d {
		return fmt.Errorf("consensus: mix: output of length %d for node %d's state of length %d", len(out), i, d)
	}
	nbr := w.nbr[i]
	for _, j := range nbr {
		if len(states[j]) != d {
			return fmt.Errorf("consensus: mix: node %d: neighbour %d's state has length %d, want %d", i, j, len(states[j]), d)
		}
	}
	if len(nbr) == 0 || eta == 0 {
		copy(out, self) // copy handles out == self
		return nil
	}
	nw := w.nw[i]
	var acc [mixChunk]float64
	for lo := 0; lo < d; lo += mixChunk {
		hi := min(lo+mixChunk, d)
		xi := self[lo:hi]
		a := acc[:len(xi)]
		clear(a)
		// Neighbours four, then two, then one at a time: fewer passes
		// over the accumulator (about 20% faster than one at a time).
		t := 0
		for ; t+4 <= len(nbr); t += 4 {
			c0, c1, c2, c3 := eta*nw[t], eta*nw[t+1], eta*nw[t+2], eta*nw[t+3]
			x0 := states[nbr[t]][lo:hi][:len(a)]
			x1 := states[nbr[t+1]][lo:hi][:len(a)]
			x2 := states[nbr[t+2]][lo:hi][:len(a)]
			x3 := states[nbr[t+3]][lo:hi][:len(a)]
			for k := range a {
				v := xi[k]
				a[k] += (c0*(x0[k]-v) + c1*(x1[k]-v)) + (c2*(x2[k]-v) + c3*(x3[k]-v))
			}
		}
		if t+2 <= len(nbr) {
			c0, c1 := eta*nw[t], eta*nw[t+1]
			x0 := states[nbr[t]][lo:hi][:len(a)]
			x1 := states[nbr[t+1]][lo:hi][:len(a)]
			for k := range a {
				v := xi[k]
				a[k] += c0*(x0[k]-v) + c1*(x1[k]-v)
			}
			t += 2
		}
		if t < len(nbr) {
			c0 := eta * nw[t]
			x0 := states[nbr[t]][lo:hi][:len(a)]
			for k := range a {
				a[k] += c0 * (x0[k] - xi[k])
			}
		}
		o := out[lo:hi][:len(a)]
		for k := range a {
			o[k] = xi[k] + a[k]
		}
	}
	return nil
}

// Step applies one synchronous round to the whole system: next[i] = the
// [Mix] update of node i for every i, i.e. next = (I − ηL)·states. All
// states and next vectors must have the same length, and no next[i] may
// alias any states[j] (the old states are read throughout). It is the
// reference the node runtime's distributed rounds are tested against.
func Step(w *Weights, eta float64, states, next [][]float64) error {
	if w.N() == 0 {
		return errors.New("consensus: step with nil weights")
	}
	if len(states) != w.n || len(next) != w.n {
		return fmt.Errorf("consensus: step: %d states and %d outputs for %d nodes", len(states), len(next), w.n)
	}
	d := len(states[0])
	for i := range states {
		if len(states[i]) != d || len(next[i]) != d {
			return fmt.Errorf("consensus: step: node %d: state of length %d and output of length %d, want %d", i, len(states[i]), len(next[i]), d)
		}
	}
	if d > 0 {
		for i := range next {
			for j := range states {
				if &next[i][0] == &states[j][0] {
					return fmt.Errorf("consensus: step: output %d aliases state %d", i, j)
				}
			}
		}
	}
	for i := range next {
		if err := Mix(i, w, eta, states, next[i]); err != nil {
			return err
		}
	}
	return nil
}
