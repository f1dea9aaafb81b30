package sim

import "github.com/prismai/mec/circuit"

// basis records, per qubit, whether the state is known to be exactly a
// product of that qubit's computational basis state and the rest: 0 or 1
// when it is, unknownBit when it is not known. It is exact bookkeeping,
// not an approximation: a qubit is marked known only after |0…0⟩, a
// reset, a measurement, or a gate that maps its basis state to a basis
// state.
//
// It lets the runner treat a reset or mid-circuit measurement of a known
// qubit as what it is (nothing, an X, or a classical constant) instead of
// a fusion barrier with a probability pass, and drop gates whose known
// controls are not met: compute–uncompute ancillas, as in QASMBench's
// bwt circuits, are known at every reset.
type basis []int8

const unknownBit int8 = -1

// newBasis returns the basis of n qubits: all |0⟩ when zero is set (a
// fresh state), all unknown otherwise.
func newBasis(n int, zero bool) basis {
	b := make(basis, n)
	if !zero {
		for i := range b {
			b[i] = unknownBit
		}
	}
	return b
}

// simplify drops g's controls that are known to be met and reports skip
// when a known control is not met (then g is the identity on the state).
// g's slices are not modified: a gate whose controls change gets new ones.
func (b basis) simplify(g *circuit.Gate) (skip bool) {
	met := 0
	// count adds the controls of qs known to hold (want) and reports one
	// known not to.
	count := func(qs []int, want int8) bool {
		for _, c := range qs {
			switch b[c] {
			case want:
				met++
			case 1 - want:
				return true
			}
		}
		return false
	}
	if count(g.Controls, 1) || count(g.NegControls, 0) {
		return true
	}
	if met == 0 {
		return false
	}
	keep := func(qs []int, want int8) []int {
		var out []int
		for _, q := range qs {
			if b[q] != want {
				out = append(out, q)
			}
		}
		return out
	}
	g.Controls, g.NegControls = keep(g.Controls, 1), keep(g.NegControls, 0)
	return false
}

// update records the effect of g (already simplified, so its remaining
// controls are unknown) on the known qubits. A diagonal gate only changes
// phases, so its targets keep their basis states. A gate without controls
// whose targets are all known and whose matrix column for their basis
// state has exactly one non-zero entry maps it to that entry's row: the
// targets stay known. Any other gate makes its targets unknown.
func (b basis) update(g *circuit.Gate) {
	if g.Diagonal {
		return
	}
	if len(g.Controls) == 0 && len(g.NegControls) == 0 {
		col, known := 0, true
		for j, t := range g.Targets {
			if b[t] == unknownBit {
				known = false
				break
			}
			col |= int(b[t]) << j
		}
		if known {
			dim, row := 1<<len(g.Targets), -1
			for r := 0; r < dim; r++ {
				if g.Matrix[r*dim+col] != 0 {
					if row >= 0 {
						row = -2
						break
					}
					row = r
				}
			}
			if row >= 0 {
				for j, t := range g.Targets {
					b[t] = int8(row >> j & 1)
				}
				return
			}
		}
	}
	for _, t := range g.Targets {
		b[t] = unknownBit
	}
}
