package circuit

import (
	"fmt"
)

// Fuse merges lowered gates into blocks of at most maxQubits qubits each
// (controls count as qubits of a block), each block applied as one pass
// over the state. maxQubits < 2 returns the gates unchanged.
//
// It works on the circuit's dependency order (a gate depends on the
// previous gate on each of its qubits, except that consecutive gates that
// are diagonal on a qubit, as diagonal gates and controls are, commute
// there), not on its program order:
//
//   - Global phases (gates on no qubit) are multiplied into one scalar that
//     is folded into the matrix of an uncontrolled output gate: they never
//     cost a pass.
//   - Every gate on one qubit joins the next gate of at most maxQubits on
//     that qubit (or, after the qubit's last one, the previous one), so
//     that one-qubit gates, diagonal or not, never cost a pass of their
//     own; the one-qubit gates of a qubit that has no wider gate are packed
//     with those of other such qubits, maxQubits qubits to a block.
//   - Blocks grow from the earliest gate not yet placed: a gate is added
//     when all its predecessors are placed and the block's qubits with it
//     stay within maxQubits, gates within the block's qubits first, then
//     the earliest one that widens it. A block is thus a convex piece of
//     the dependency graph, not only a run of program order.
//
// A block of one gate is emitted unchanged (keeping native controls and
// diagonal form); a block whose product is diagonal is emitted diagonal.
// The result applies the same unitary as the input. Fusion takes time and
// memory linear in len(gates) (times the 4^maxQubits of a block's matrix).
func Fuse(gates []Gate, maxQubits int) ([]Gate, error) {
	if maxQubits < 2 {
		return gates, nil
	}
	if maxQubits > MaxDenseQubits {
		return nil, fmt.Errorf("circuit: fusion block size %d: at most %d", maxQubits, MaxDenseQubits)
	}
	var (
		phase   = complex128(1)
		hasPh   bool
		units   = make([]fuseUnit, 0, len(gates))
		pending [64][]int // a qubit's one-qubit gates not yet in a unit
		lastOn  [64]int   // 1 + a qubit's last unit (0: none)
		lastU   [64]int   // 1 + a qubit's last unit if it may take gates (0: none)
	)
	for i := range gates {
		q := gateQubits(&gates[i])
		w := popcount(q)
		switch {
		case w == 0:
			phase *= gates[i].Matrix[0]
			hasPh = true
			continue
		case w == 1:
			b := trailingZeros(q)
			pending[b] = append(pending[b], i)
			continue
		}
		u := fuseUnit{qubits: q, wide: w > maxQubits}
		for m := q; m != 0; m &= m - 1 {
			b := trailingZeros(m)
			if pre := pending[b]; len(pre) > 0 {
				if u.wide { // a gate too wide to fuse: the qubit's gates go before it
					if last := lastU[b] - 1; last >= 0 && lastOn[b]-1 == last {
						units[last].gates = append(units[last].gates, pre...)
					} else {
						units = append(units, fuseUnit{qubits: 1 << uint(b), gates: pre})
						lastOn[b] = len(units)
					}
				} else {
					u.gates = append(u.gates, pre...)
				}
				pending[b] = nil
			}
		}
		u.gates = append(u.gates, i)
		units = append(units, u)
		for m := q; m != 0; m &= m - 1 {
			b := trailingZeros(m)
			lastOn[b] = len(units)
			if !u.wide {
				lastU[b] = len(units)
			} else {
				lastU[b] = 0
			}
		}
	}
	// Trailing one-qubit gates join their qubit's last unit, or, on a
	// qubit without one, are packed with other such qubits' gates.
	var lone []fuseUnit
	for b := range pending {
		if len(pending[b]) == 0 {
			continue
		}
		if u := lastU[b] - 1; u >= 0 && lastOn[b]-1 == u {
			units[u].gates = append(units[u].gates, pending[b]...)
			continue
		}
		if lastOn[b] > 0 { // after a gate too wide to fuse
			units = append(units, fuseUnit{qubits: 1 << uint(b), gates: pending[b]})
			continue
		}
		lone = append(lone, fuseUnit{qubits: 1 << uint(b), gates: pending[b]})
	}
	var perQ [64][]int // a qubit's units, in program order
	var count [64]int
	for u := range units {
		for m := units[u].qubits; m != 0; m &= m - 1 {
			count[trailingZeros(m)]++
		}
	}
	for u := range units {
		for m := units[u].qubits; m != 0; m &= m - 1 {
			b := trailingZeros(m)
			if perQ[b] == nil {
				perQ[b] = make([]int, 0, count[b])
			}
			perQ[b] = append(perQ[b], u)
		}
	}
	out := make([]Gate, 0, len(units)/2+len(lone)+1)
	emit := func(idx []int, qubits uint64) error {
		if len(idx) == 1 {
			out = append(out, gates[idx[0]])
			return nil
		}
		g, err := fuseBlock(gates, idx, qubits)
		if err != nil {
			return err
		}
		out = append(out, g)
		return nil
	}
	// On each qubit the units form groups: a run of units that are all
	// block-diagonal on the qubit (diagonal gates, controls) commute
	// there and may be placed in any order; another unit is a group of
	// its own. A unit is ready when, on each of its qubits, the groups
	// before its own are placed.
	for u := range units {
		units[u].diagOn = units[u].qubits
		for _, i := range units[u].gates {
			g := &gates[i]
			if !g.Diagonal {
				for _, t := range g.Targets {
					units[u].diagOn &^= 1 << uint(t)
				}
			}
		}
	}
	var (
		gend    [64][]int // per qubit and position: the end of its group
		gpos    [64]int   // per qubit: the start of the current group
		gleft   [64]int   // per qubit: units of the current group not placed
		gfirst  [64]int   // per qubit: no unit of the current group before it is unplaced
		waiting = make([]int, len(units))
		done    = make([]bool, len(units))
	)
	for u := range units {
		waiting[u] = popcount(units[u].qubits)
	}
	for b, us := range perQ {
		gend[b] = make([]int, len(us))
		for k := len(us) - 1; k >= 0; k-- {
			gend[b][k] = k + 1
			if k+1 < len(us) && units[us[k]].diagOn&units[us[k+1]].diagOn>>uint(b)&1 == 1 {
				gend[b][k] = gend[b][k+1]
			}
		}
		if len(us) > 0 {
			gleft[b] = gend[b][0]
			for _, u := range us[:gend[b][0]] {
				waiting[u]--
			}
		}
	}
	// ready: on each of its qubits, the unit is in the current group.
	ready := func(u int) bool { return waiting[u] == 0 && !done[u] }
	place := func(u int) {
		done[u] = true
		for m := units[u].qubits; m != 0; m &= m - 1 {
			b := trailingZeros(m)
			if gleft[b]--; gleft[b] == 0 && gend[b][gpos[b]] < len(perQ[b]) {
				gpos[b] = gend[b][gpos[b]]
				gleft[b] = gend[b][gpos[b]] - gpos[b]
				for _, v := range perQ[b][gpos[b]:gend[b][gpos[b]]] {
					waiting[v]--
				}
			}
		}
	}
	idx := make([]int, 0, len(gates))
	for seed := range units {
		if done[seed] {
			continue
		}
		place(seed)
		q := units[seed].qubits
		idx = append(idx[:0], units[seed].gates...)
		// Grow: a ready unit within the block's qubits first, else the
		// earliest ready unit that keeps the block within maxQubits.
		for !units[seed].wide {
			best, bestIn := -1, false
			for m := q; m != 0; m &= m - 1 {
				b := trailingZeros(m)
				// The first unplaced units of the qubit's current group
				// (a window, so that a long commuting group costs linear
				// time).
				end := gend[b][gpos[b]]
				k := max(gfirst[b], gpos[b])
				for k < end && done[perQ[b][k]] {
					k++
				}
				gfirst[b] = k
				for ; k < end && k < gfirst[b]+fuseWindow; k++ {
					u := perQ[b][k]
					if units[u].wide || !ready(u) {
						continue
					}
					in := units[u].qubits&^q == 0
					if !in && popcount(q|units[u].qubits) > maxQubits {
						continue
					}
					if best < 0 || in && !bestIn || in == bestIn && u < best {
						best, bestIn = u, in
					}
				}
			}
			if best < 0 {
				break
			}
			place(best)
			q |= units[best].qubits
			idx = append(idx, units[best].gates...)
		}
		if err := emit(idx, q); err != nil {
			return nil, err
		}
	}
	for len(lone) > 0 {
		var q uint64
		idx = idx[:0]
		k := 0
		for ; k < len(lone) && popcount(q) < maxQubits; k++ {
			q |= lone[k].qubits
			idx = append(idx, lone[k].gates...)
		}
		lone = lone[k:]
		if err := emit(idx, q); err != nil {
			return nil, err
		}
	}
	if hasPh && phase != 1 {
		foldPhase(&out, phase)
	}
	return out, nil
}

// fuseWindow is how many unplaced units of a qubit's current group Fuse
// considers when it grows a block.
const fuseWindow = 64

// fuseUnit is a gate of two or more qubits with the one-qubit gates that
// Fuse attached to it (or one qubit's one-qubit gates), in dependency
// order: Fuse places units whole.
type fuseUnit struct {
	qubits uint64
	gates  []int
	wide   bool   // more qubits than a block may have: placed alone
	diagOn uint64 // the qubits on which every gate of the unit is diagonal or a control
}

// foldPhase multiplies the global phase ph into the first uncontrolled
// gate of out (a copy of its matrix), or appends it as a gate on no qubit
// when every gate is controlled.
func foldPhase(out *[]Gate, ph complex128) {
	for i := range *out {
		g := &(*out)[i]
		if len(g.Controls) > 0 || len(g.NegControls) > 0 || len(g.Targets) == 0 {
			continue
		}
		m := make([]complex128, len(g.Matrix))
		for j, v := range g.Matrix {
			m[j] = v * ph
		}
		g.Matrix = m
		return
	}
	*out = append(*out, Gate{Matrix: []complex128{ph}, Diagonal: true})
}

func popcount(x uint64) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

func gateQubits(g *Gate) uint64 {
	var m uint64
	for _, q := range g.Targets {
		m |= 1 << uint(q)
	}
	for _, q := range g.Controls {
		m |= 1 << uint(q)
	}
	for _, q := range g.NegControls {
		m |= 1 << uint(q)
	}
	return m
}

// roundingZero is the magnitude below which an entry of a fused block is
// taken for zero: a few units of rounding of a sum of products of unitary
// entries (each at most 1 in magnitude).
const roundingZero = 1e-15

// fuseBlock multiplies the gates of one block into a single gate on the
// block's qubits (ascending: operand j is the j-th smallest qubit).
func fuseBlock(gates []Gate, idx []int, qubits uint64) (Gate, error) {
	var qs []int
	for m := qubits; m != 0; m &= m - 1 {
		qs = append(qs, trailingZeros(m))
	}
	pos := map[int]int{}
	for j, q := range qs {
		pos[q] = j
	}
	k := len(qs)
	d := 1 << uint(k)
	allDiag := true
	for _, i := range idx {
		allDiag = allDiag && gates[i].Diagonal
	}
	if allDiag {
		diag := make([]complex128, d)
		for j := range diag {
			diag[j] = 1
		}
		for _, i := range idx {
			g := &gates[i]
			for j := 0; j < d; j++ {
				if v, ok := gateDiagAt(g, pos, j); ok {
					diag[j] *= v
				}
			}
		}
		return Gate{Targets: qs, Matrix: diag, Diagonal: true}, nil
	}
	// Columns of the block unitary: apply each gate to each basis vector.
	m := Identity(d) // row-major; column c is the image of |c⟩
	col := make([]complex128, d)
	for c := 0; c < d; c++ {
		for r := 0; r < d; r++ {
			col[r] = m[r*d+c]
		}
		for _, i := range idx {
			applyLocal(col, &gates[i], pos)
		}
		for r := 0; r < d; r++ {
			m[r*d+c] = col[r]
		}
	}
	// Entries this small are rounding left by cancellations (H·Z·H has
	// off-diagonal terms of 1e-17, not 0): they are zeroed so that a block
	// that is diagonal or monomial (a permutation with phases) is applied
	// as one, with a pass that moves memory instead of a dense product.
	diag := true
	for i, v := range m {
		if real(v)*real(v)+imag(v)*imag(v) < roundingZero*roundingZero {
			m[i] = 0
		} else if i/d != i%d {
			diag = false
		}
	}
	if diag {
		dm := make([]complex128, d)
		for j := range dm {
			dm[j] = m[j*d+j]
		}
		return Gate{Targets: qs, Matrix: dm, Diagonal: true}, nil
	}
	return Gate{Targets: qs, Matrix: m}, nil
}

func trailingZeros(m uint64) int {
	n := 0
	for m&1 == 0 {
		m >>= 1
		n++
	}
	return n
}

// gateDiagAt returns the factor a diagonal gate applies to local basis state j
// (false when the controls are not satisfied: factor 1).
func gateDiagAt(g *Gate, pos map[int]int, j int) (complex128, bool) {
	for _, c := range g.Controls {
		if j>>uint(pos[c])&1 == 0 {
			return 0, false
		}
	}
	for _, c := range g.NegControls {
		if j>>uint(pos[c])&1 == 1 {
			return 0, false
		}
	}
	var t int
	for b, q := range g.Targets {
		t |= (j >> uint(pos[q]) & 1) << uint(b)
	}
	return g.Matrix[t], true
}

// ApplyToVector applies g to a host state vector v of 2^n amplitudes. It is
// the plain reference implementation used for fusion and tests.
func ApplyToVector(v []complex128, g *Gate) {
	pos := map[int]int{}
	n := 0
	for 1<<uint(n) < len(v) {
		n++
	}
	for q := 0; q < n; q++ {
		pos[q] = q
	}
	applyLocal(v, g, pos)
}

// applyLocal applies g to a small vector whose bit pos[q] is qubit q.
func applyLocal(v []complex128, g *Gate, pos map[int]int) {
	var mask, val int
	for _, c := range g.Controls {
		mask |= 1 << uint(pos[c])
		val |= 1 << uint(pos[c])
	}
	for _, c := range g.NegControls {
		mask |= 1 << uint(pos[c])
	}
	if g.Diagonal {
		for j := range v {
			if j&mask != val {
				continue
			}
			var t int
			for b, q := range g.Targets {
				t |= (j >> uint(pos[q]) & 1) << uint(b)
			}
			v[j] *= g.Matrix[t]
		}
		return
	}
	k := len(g.Targets)
	dk := 1 << uint(k)
	var tmask int
	offs := make([]int, dk)
	for t := 0; t < dk; t++ {
		for b, q := range g.Targets {
			if t>>uint(b)&1 == 1 {
				offs[t] |= 1 << uint(pos[q])
			}
		}
	}
	for _, q := range g.Targets {
		tmask |= 1 << uint(pos[q])
	}
	in := make([]complex128, dk)
	for base := range v {
		if base&tmask != 0 || base&mask != val {
			continue
		}
		for t := 0; t < dk; t++ {
			in[t] = v[base|offs[t]]
		}
		for r := 0; r < dk; r++ {
			var s complex128
			for c := 0; c < dk; c++ {
				s += g.Matrix[r*dk+c] * in[c]
			}
			v[base|offs[r]] = s
		}
	}
}
