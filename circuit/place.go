package circuit

import (
	"slices"
	"sort"
)

// SwapMatrix is the 2-qubit SWAP matrix.
var SwapMatrix = []complex128{1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1}

// IsSwap reports whether g is an uncontrolled SWAP of its two targets.
func IsSwap(g *Gate) bool {
	return len(g.Targets) == 2 && !g.Diagonal && len(g.Controls)+len(g.NegControls) == 0 &&
		slices.Equal(g.Matrix, SwapMatrix)
}

// needsHigh reports whether g is a dense gate on several targets, the kind
// a vectorising engine wants away from the lowest qubits (a monomial gate
// moves amplitudes and runs anywhere).
func needsHigh(g *Gate) bool {
	if g.Diagonal || len(g.Targets) < 2 {
		return false
	}
	_, mono := MonomialColumns(g.Matrix, 1<<len(g.Targets))
	return !mono
}

// MonomialColumns reports whether the d×d row-major matrix m is monomial
// (exactly one non-zero entry in each row and each column: a permutation
// of the basis states with phases, such as X, CX, CCX, SWAP and their
// products with diagonal gates) and, if so, the column col[i] of row i's
// non-zero entry.
func MonomialColumns(m []complex128, d int) (col []int, ok bool) {
	if len(m) != d*d {
		return nil, false
	}
	col = make([]int, d)
	seen := make([]bool, d)
	for i := 0; i < d; i++ {
		col[i] = -1
		for j, v := range m[i*d : i*d+d] {
			if v == 0 {
				continue
			}
			if col[i] >= 0 || seen[j] {
				return nil, false
			}
			col[i] = j
			seen[j] = true
		}
		if col[i] < 0 {
			return nil, false
		}
	}
	return col, true
}

// AvoidLow rewrites gates on an n-qubit state so that no dense gate with
// two or more targets touches (as target or control) one of the qubits
// 0..low−1, which vectorised kernels need free: when one would, the logical
// qubit in that low slot is swapped with a high one first, chosen as the
// one whose next such use lies furthest ahead (Belady's rule), and the gates
// that follow are relabelled. Swaps back at the end restore the original
// labelling, so the result equals the input sequence as a unitary. Gates
// are returned in their new labelling; the input is not modified.
func AvoidLow(gates []Gate, n, low int) []Gate {
	if low <= 0 || n <= low {
		return gates
	}
	// uses[q]: indices of gates that need q high, ascending.
	uses := make([][]int, n)
	hit := false
	for i := range gates {
		if !needsHigh(&gates[i]) {
			continue
		}
		for _, q := range gateAll(&gates[i]) {
			if q < low {
				hit = true
			}
			uses[q] = append(uses[q], i)
		}
	}
	if !hit {
		return gates
	}
	nextUse := func(q, i int) int {
		u := uses[q]
		k := sort.SearchInts(u, i)
		if k == len(u) {
			return len(gates) + n // never again
		}
		return u[k]
	}
	phys := make([]int, n) // logical → physical
	logi := make([]int, n) // physical → logical
	for q := range phys {
		phys[q], logi[q] = q, q
	}
	out := make([]Gate, 0, len(gates)+8)
	swap := func(p, h int) {
		out = append(out, Gate{Targets: []int{p, h}, Matrix: slices.Clone(SwapMatrix)})
		lp, lh := logi[p], logi[h]
		logi[p], logi[h] = lh, lp
		phys[lp], phys[lh] = h, p
	}
	for i := range gates {
		g := &gates[i]
		if needsHigh(g) {
			mine := gateAll(g)
			for _, q := range mine {
				p := phys[q]
				if p >= low {
					continue
				}
				best, bestUse := -1, -1
				for h := low; h < n; h++ {
					if slices.Contains(mine, logi[h]) {
						continue
					}
					if u := nextUse(logi[h], i); u > bestUse {
						best, bestUse = h, u
					}
				}
				if best >= 0 { // no free high qubit: leave it (correct, slower)
					swap(p, best)
				}
			}
		}
		out = append(out, relabel(g, phys))
	}
	for p := 0; p < n; p++ {
		if logi[p] != p {
			swap(p, phys[p])
		}
	}
	return out
}

func gateAll(g *Gate) []int {
	all := make([]int, 0, len(g.Targets)+len(g.Controls)+len(g.NegControls))
	all = append(all, g.Targets...)
	all = append(all, g.Controls...)
	return append(all, g.NegControls...)
}

func relabel(g *Gate, phys []int) Gate {
	m := func(qs []int) []int {
		if qs == nil {
			return nil
		}
		out := make([]int, len(qs))
		for i, q := range qs {
			out[i] = phys[q]
		}
		return out
	}
	return Gate{Targets: m(g.Targets), Controls: m(g.Controls), NegControls: m(g.NegControls), Matrix: g.Matrix, Diagonal: g.Diagonal}
}
