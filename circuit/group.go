package circuit

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
	below := func(q uint64) bool { return q>>uint(c) == 0 }
	// next[i]: per qubit of gate i, the next gate on that qubit; waiting[i]:
	// how many earlier gates share a qubit with i and are not yet placed.
	var last [64]int
	for q := range last {
		last[q] = -1
	}
	qs := make([]uint64, len(gates))
	waiting := make([]int, len(gates))
	succ := make([][]int, len(gates))
	for i := range gates {
		qs[i] = gateQubits(&gates[i])
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
	for i := range gates {
		if waiting[i] == 0 {
			if below(qs[i]) {
				low = append(low, i)
			} else {
				high = append(high, i)
			}
		}
	}
	out := make([]Gate, 0, len(gates))
	for len(low) > 0 || len(high) > 0 {
		var i int
		if len(low) > 0 {
			i, low = low[0], low[1:]
		} else {
			i, high = high[0], high[1:]
		}
		out = append(out, gates[i])
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
