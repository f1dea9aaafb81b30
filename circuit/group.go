package circuit

import "slices"

// GroupBelow reorders gates so that gates whose qubits (targets and
// controls) all lie below c come in longer runs, for backends that apply
// such a run chunk by chunk in one pass over memory (cache blocking). The
// order on every qubit is kept, so the result applies the same unitary:
// it is a list schedule of the gates' dependency graph (a gate depends on
// the previous gate on each of its qubits) that takes a ready gate below c
// while there is one, else the earliest ready gate. Time and memory are
// linear in len(gates); the input is not modified.
func GroupBelow(gates []Gate, c int) []Gate {
	if len(gates) < 3 || c <= 0 || c >= 64 {
		return gates
	}
	qs := make([]uint64, len(gates))
	for i := range gates {
		qs[i] = gateQubits(&gates[i])
	}
	out := make([]Gate, 0, len(gates))
	for _, i := range orderBelow(qs, c) {
		out = append(out, gates[i])
	}
	return out
}

// orderBelow is GroupBelow's schedule of gates given by their qubit masks
// qs: the gates' indices in their new order.
func orderBelow(qs []uint64, c int) []int {
	below := func(q uint64) bool { return q>>uint(c) == 0 }
	// next[i]: per qubit of gate i, the next gate on that qubit; waiting[i]:
	// how many earlier gates share a qubit with i and are not yet placed.
	var last [64]int
	for q := range last {
		last[q] = -1
	}
	waiting := make([]int, len(qs))
	succ := make([][]int, len(qs))
	for i := range qs {
		for m := qs[i]; m != 0; m &= m - 1 {
			b := trailingZeros(m)
			if p := last[b]; p >= 0 {
				succ[p] = append(succ[p], i)
				waiting[i]++
			}
			last[b] = i
		}
	}
	var low, high []int // ready gates, in the order they became ready
	for i := range qs {
		if waiting[i] == 0 {
			if below(qs[i]) {
				low = append(low, i)
			} else {
				high = append(high, i)
			}
		}
	}
	out := make([]int, 0, len(qs))
	for len(low) > 0 || len(high) > 0 {
		var i int
		if len(low) > 0 {
			i, low = low[0], low[1:]
		} else {
			i, high = high[0], high[1:]
		}
		out = append(out, i)
		for _, j := range succ[i] {
			if waiting[j]--; waiting[j] == 0 {
				if below(qs[j]) {
					low = append(low, j)
				} else {
					high = append(high, j)
				}
			}
		}
	}
	return out
}

// RunBelow returns the length of the run of gates at the start of gates
// that act only on qubits below c, or 1 when the first gate does not (0
// for no gates): the gates a chunked backend applies in one pass over the
// state.
func RunBelow(gates []Gate, c int) int {
	if len(gates) == 0 {
		return 0
	}
	n := 0
	for n < len(gates) && c > 0 && gateQubits(&gates[n])>>uint(c) == 0 {
		n++
	}
	return max(n, 1)
}

// PassesBelow is the number of passes over the state that a chunked
// backend makes for gates after GroupBelow(gates, c): one per run of
// consecutive gates below c (at most maxRun gates a run, 0 for no limit),
// one per other gate.
func PassesBelow(gates []Gate, c, maxRun int) int {
	qs := make([]uint64, len(gates))
	for i := range gates {
		qs[i] = gateQubits(&gates[i])
	}
	return passesBelow(qs, c, maxRun)
}

func passesBelow(qs []uint64, c, maxRun int) int {
	if c <= 0 || c >= 64 {
		return len(qs)
	}
	order := orderBelow(qs, c)
	passes, run := 0, 0
	for _, i := range order {
		if qs[i]>>uint(c) != 0 {
			passes, run = passes+1, 0
			continue
		}
		if run == 0 || (maxRun > 0 && run == maxRun) {
			passes, run = passes+1, 0
		}
		run++
	}
	return passes
}

// maxRelabelSwaps is the most transpositions RelabelBelow makes.
const maxRelabelSwaps = 4

// RelabelBelow relabels the qubits of gates (on an n-qubit state) so that
// a chunked backend makes fewer passes over the state (PassesBelow with c
// and maxRun): it exchanges, one transposition at a time and at most
// maxRelabelSwaps times, a qubit in low..c−1 with one at or above c,
// taking each time the exchange that saves the most passes, the SWAP
// gates that do and undo the relabelling counted; it stops when none
// saves one. Qubits 0..low−1 are never exchanged, so gates that leave
// them free (AvoidLow) still do. The result is SWAP gates that move the
// qubits to their new places (omitted when zero: on |0…0⟩ they are the
// identity), the gates relabelled, and SWAP gates that move them back, so
// it applies the same unitary as gates (on |0…0⟩ when zero). Gates that
// need no relabelling are returned as they are; the input is not
// modified. Time is about len(gates)·c·(n−c) per transposition tried.
//
// open and close count the SWAP gates at the start and at the end of the
// result: a caller that stops after the first open gates and before the
// last close applies those last close gates to put every qubit back in
// its place (the state is then that of a prefix of gates).
func RelabelBelow(gates []Gate, n, c, low, maxRun int, zero bool) (out []Gate, open, close int) {
	if c <= 0 || c >= n || n > 64 || len(gates) < 3 || low >= c {
		return gates, 0, 0
	}
	qs := make([]uint64, len(gates))
	for i := range gates {
		qs[i] = gateQubits(&gates[i])
	}
	best := passesBelow(qs, c, maxRun)
	var ts [][2]int
	buf := make([]uint64, 0, len(qs)+4*maxRelabelSwaps)
	for len(ts) < maxRelabelSwaps {
		pick, found := [2]int{}, false
		for a := max(low, 0); a < c; a++ {
			for b := c; b < n; b++ {
				cand := append(slices.Clone(ts), [2]int{a, b})
				pre, phys, post := relabelPlan(n, cand, zero)
				buf = buf[:0]
				for _, s := range pre {
					buf = append(buf, 1<<uint(s[0])|1<<uint(s[1]))
				}
				for _, m := range qs {
					buf = append(buf, permuteMask(m, phys))
				}
				for _, s := range post {
					buf = append(buf, 1<<uint(s[0])|1<<uint(s[1]))
				}
				if p := passesBelow(buf, c, maxRun); p < best {
					best, pick, found = p, [2]int{a, b}, true
				}
			}
		}
		if !found {
			break
		}
		ts = append(ts, pick)
	}
	if len(ts) == 0 {
		return gates, 0, 0
	}
	pre, phys, post := relabelPlan(n, ts, zero)
	out = make([]Gate, 0, len(pre)+len(gates)+len(post))
	swap := func(s [2]int) Gate {
		return Gate{Targets: []int{s[0], s[1]}, Matrix: slices.Clone(SwapMatrix)}
	}
	for _, s := range pre {
		out = append(out, swap(s))
	}
	for i := range gates {
		out = append(out, relabel(&gates[i], phys))
	}
	for _, s := range post {
		out = append(out, swap(s))
	}
	return out, len(pre), len(post)
}

// relabelPlan returns, for the transpositions ts of physical qubits
// applied in order, the SWAP gates (as qubit pairs) that make them (none
// when zero), the map phys from a logical qubit to its physical place
// after them, and the SWAP gates that restore every qubit to its place.
func relabelPlan(n int, ts [][2]int, zero bool) (pre [][2]int, phys []int, post [][2]int) {
	phys = make([]int, n)  // logical → physical
	logi := make([]int, n) // physical → logical
	for q := range phys {
		phys[q], logi[q] = q, q
	}
	swap := func(p, h int) {
		lp, lh := logi[p], logi[h]
		logi[p], logi[h] = lh, lp
		phys[lp], phys[lh] = h, p
	}
	for _, t := range ts {
		if !zero {
			pre = append(pre, t)
		}
		swap(t[0], t[1])
	}
	final := slices.Clone(phys)
	for p := 0; p < n; p++ {
		if logi[p] != p {
			post = append(post, [2]int{p, phys[p]})
			swap(p, phys[p])
		}
	}
	return pre, final, post
}

// permuteMask maps the qubits of mask m through phys.
func permuteMask(m uint64, phys []int) uint64 {
	var out uint64
	for ; m != 0; m &= m - 1 {
		out |= 1 << uint(phys[trailingZeros(m)])
	}
	return out
}
