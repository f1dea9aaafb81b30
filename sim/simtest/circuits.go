package simtest

import "github.com/prismai/mec/circuit"

// PlusRounds measures a |+⟩ ancilla (qubit 0) rounds times, resetting it
// after each measurement: into clbit r in round r, or always into clbit 0
// when sameBit is set. A spectator (qubit 1) carries a rotation so the
// state is not trivial.
func PlusRounds(rounds int, sameBit bool) *circuit.Circuit {
	clbits := rounds
	if sameBit {
		clbits = 1
	}
	c := &circuit.Circuit{Qubits: 2, Clbits: clbits}
	c.Append("ry", []float64{0.3}, 1)
	for r := range rounds {
		c.Append("h", nil, 0)
		b := r
		if sameBit {
			b = 0
		}
		c.Measure(0, b).Reset(0)
	}
	return c
}

// FeedbackCircuit entangles, measures mid-circuit, resets and
// re-entangles three qubits, and the later gates act on the collapsed
// states (4 clbits, 16 outcomes). Only its first mid-circuit measurement
// (qubit 1) is random: the cx made qubit 0 equal to qubit 1, so the second
// (qubit 0) is certain given the first, the reset after it is of a known
// qubit, and the final measurements are sampled. A branched run splits
// once, into two branches; with a budget of one state it replays one
// group.
func FeedbackCircuit() *circuit.Circuit {
	c := &circuit.Circuit{Qubits: 3, Clbits: 4}
	c.Append("ry", []float64{0.7}, 0).Append("cx", nil, 0, 1).Append("h", nil, 2)
	c.Measure(1, 0)
	c.Append("ry", []float64{1.1}, 1).Append("cx", nil, 2, 1).Append("rz", []float64{0.4}, 0)
	c.Measure(0, 1).Reset(0)
	c.Append("h", nil, 0).Append("crx", []float64{0.9}, 0, 2).Append("cx", nil, 1, 0)
	c.Measure(2, 2).Measure(1, 3).Measure(0, 1)
	return c
}

// AncillaCircuit is shaped like QASMBench's bwt circuits: data qubits in
// superposition, and two ancillas that are reset, driven through known
// basis states (X, Toffolis whose known controls decide them) and reset
// again, rounds times; a third ancilla is computed from the data and
// uncomputed before its reset (not known to the tracker, but its reset is
// certain numerically). Every measurement is terminal. It returns the
// number of resets of each kind.
func AncillaCircuit(data, rounds int) (c *circuit.Circuit, knownResets, certainResets int) {
	a, b, u := data, data+1, data+2
	c = &circuit.Circuit{Qubits: data + 3, Clbits: data}
	for q := range data {
		c.Append("h", nil, q)
	}
	for r := range rounds {
		c.Reset(a).Reset(b)
		c.Append("x", nil, b)
		c.Append("ccx", nil, a, b, r%data) // a is |0⟩: the identity
		c.Append("x", nil, b)
		c.Append("cx", nil, b, a) // b is |0⟩
		c.Append("x", nil, a)
		c.Append("cx", nil, a, (r+1)%data) // a is |1⟩: an X on the data
		c.Append("t", nil, (r+2)%data)
		c.Append("ccx", nil, r%data, (r+1)%data, u) // compute
		c.Append("cz", nil, u, (r+2)%data)
		c.Append("ccx", nil, r%data, (r+1)%data, u) // uncompute
		c.Reset(u)
		knownResets += 2
		certainResets++
	}
	for q := range data {
		c.Measure(q, q)
	}
	return c, knownResets, certainResets
}
