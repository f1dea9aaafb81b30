package circuit

import (
	"fmt"
)

// Fuse merges lowered gates into blocks of at most maxQubits qubits each
// (controls count as qubits of a block), in the manner of qsim's fuser: a
// gate joins the pending block it overlaps when the union stays within
// maxQubits; pending blocks on disjoint qubits commute, so a gate may join a
// block created before gates on other qubits. A block of one gate is emitted
// unchanged (keeping native controls and diagonal form); a block of only
// diagonal gates stays diagonal. maxQubits < 2 returns the gates unchanged.
//
// The result applies the same unitary as the input, gate order respected on
// every qubit. Fusion takes time and memory linear in len(gates): a gate
// that joins one block is appended to it, and when a gate joins several
// blocks their (sorted) gate lists are merged; the merged block spans more
// qubits than each of its parts, so a gate takes part in at most maxQubits
// merges.
func Fuse(gates []Gate, maxQubits int) ([]Gate, error) {
	if maxQubits < 2 {
		return gates, nil
	}
	if maxQubits > MaxDenseQubits {
		return nil, fmt.Errorf("circuit: fusion block size %d: at most %d", maxQubits, MaxDenseQubits)
	}
	type block = pendingBlock
	var (
		// pending blocks are pairwise disjoint (at most 64 of them), in
		// the order in which they were last extended; that order decides
		// the order in which commuting blocks are emitted.
		pending []*block
		hit     []*block
		out     = make([]Gate, 0, len(gates))
	)
	emit := func(b *block) error {
		if len(b.gates) == 1 {
			out = append(out, gates[b.gates[0]])
			return nil
		}
		g, err := fuseBlock(gates, b.gates, b.qubits)
		if err != nil {
			return err
		}
		out = append(out, g)
		return nil
	}
	// flush emits the pending blocks that overlap q, keeping the others
	// in order.
	flush := func(q uint64) error {
		keep := pending[:0]
		for _, b := range pending {
			if b.qubits&q != 0 {
				if err := emit(b); err != nil {
					return err
				}
			} else {
				keep = append(keep, b)
			}
		}
		clear(pending[len(keep):])
		pending = keep
		return nil
	}
	for i := range gates {
		q := gateQubits(&gates[i])
		if popcount(q) > maxQubits {
			// Too wide to fuse: flush what it touches, emit it alone.
			if err := flush(q); err != nil {
				return nil, err
			}
			out = append(out, gates[i])
			continue
		}
		union := q
		hit = hit[:0]
		for _, b := range pending {
			if b.qubits&q != 0 {
				hit = append(hit, b)
				union |= b.qubits
			}
		}
		if popcount(union) > maxQubits {
			if err := flush(q); err != nil {
				return nil, err
			}
			pending = append(pending, &block{qubits: q, gates: []int{i}})
			continue
		}
		// The gate joins the blocks it overlaps: one block is extended in
		// place; several (pairwise disjoint, so interleaving them in
		// program order keeps the order on every qubit) are merged.
		var nb *block
		switch len(hit) {
		case 0:
			nb = &block{gates: []int{i}}
		case 1:
			nb = hit[0]
			nb.gates = append(nb.gates, i)
		default:
			n := 1
			for _, b := range hit {
				n += len(b.gates)
			}
			nb = &block{gates: mergeSorted(make([]int, 0, n), hit)}
			nb.gates = append(nb.gates, i)
		}
		nb.qubits = union
		keep := pending[:0]
		for _, b := range pending {
			if b.qubits&q == 0 {
				keep = append(keep, b)
			}
		}
		clear(pending[len(keep):])
		pending = append(keep, nb)
	}
	for _, b := range pending {
		if err := emit(b); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pendingBlock is a block Fuse is still extending.
type pendingBlock struct {
	qubits uint64
	gates  []int // indices into the gates, ascending (program order)
}

// mergeSorted appends to dst the union of the ascending, pairwise disjoint
// gate lists of blocks, ascending (a k-way merge; k ≤ MaxDenseQubits).
func mergeSorted(dst []int, blocks []*pendingBlock) []int {
	var heads [MaxDenseQubits]int
	for {
		best := -1
		for j, b := range blocks {
			if heads[j] < len(b.gates) && (best < 0 || b.gates[heads[j]] < blocks[best].gates[heads[best]]) {
				best = j
			}
		}
		if best < 0 {
			return dst
		}
		dst = append(dst, blocks[best].gates[heads[best]])
		heads[best]++
	}
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
