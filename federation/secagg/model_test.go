package secagg

import (
	"math/bits"
	"testing"
)

// A model check of the reveal rules, over all relay strategies.
//
// The relay may send any announcements it likes; each honest edge i
// accepts at most one, U_i ∋ i with |U_i| >= t and D_i = P \ U_i (P the same
// for every edge here), and reveals its share of b_u for u ∈ U_i and of d's
// sharing of s_{d,u} for d ∈ D_i, u ∈ U_i. A secret is known once t edges
// revealed shares of the same sharing. The relay learns Σ_{a∈S} x_a exactly
// when it knows b_a for all a ∈ S and the pair seed s_{a,u} for every a ∈ S,
// u ∉ S (masks inside S cancel). The check enumerates every assignment of
// announcements to edges (including none) and asserts that at most one set
// S is learnable and that it has at least t members: the relay learns one
// sum of >= t inputs and nothing else.
//
// With the acceptance round an edge reveals only if at least t edges
// accepted its announcement, so assignments where some answered
// announcement has fewer than t answerers are excluded. The model shows
// both rules are needed: without the acceptance round, m = 5, t = 3 leaks a
// sum of two inputs; with it but 2t = m (m = 4, t = 2, which NewGroup
// rejects), two disjoint partial sums leak.

// learnable returns the sets S (as bitmasks) the relay can unmask given
// each edge's answered announcement (ann[i] = bitmask of U_i, 0 = none).
func learnable(m, t int, ann []uint) []uint {
	full := uint(1)<<m - 1
	var bKnown uint
	var pair [8][8]bool // pair[a][u]: s_{a,u} known (either sharing)
	for a := range m {
		n := 0
		for i := range m {
			if ann[i]&(1<<a) != 0 {
				n++
			}
		}
		if n >= t {
			bKnown |= 1 << a
		}
	}
	for d := range m {
		for u := range m {
			if d == u {
				continue
			}
			n := 0 // edges revealing d's sharing of s_{d,u}
			for i := range m {
				if ann[i] != 0 && ann[i]&(1<<d) == 0 && ann[i]&(1<<u) != 0 {
					n++
				}
			}
			if n >= t {
				pair[d][u], pair[u][d] = true, true
			}
		}
	}
	var out []uint
	for s := uint(1); s <= full; s++ {
		if s&bKnown != s {
			continue
		}
		ok := true
		for a := range m {
			for u := range m {
				if s&(1<<a) != 0 && s&(1<<u) == 0 && !pair[a][u] {
					ok = false
				}
			}
		}
		if ok {
			out = append(out, s)
		}
	}
	return out
}

// confirmed reports whether every answered announcement has at least t
// answerers (the acceptance round's rule).
func confirmed(t int, ann []uint) bool {
	n := map[uint]int{}
	for _, u := range ann {
		if u != 0 {
			n[u]++
		}
	}
	for _, c := range n {
		if c < t {
			return false
		}
	}
	return true
}

// enumerate calls fn for every assignment of announcements to edges.
func enumerate(m, t int, fn func(ann []uint) bool) {
	var choices [][]uint
	for i := range m {
		c := []uint{0}
		for u := uint(1); u < 1<<m; u++ {
			if u&(1<<i) != 0 && bits.OnesCount(u) >= t {
				c = append(c, u)
			}
		}
		choices = append(choices, c)
	}
	ann := make([]uint, m)
	var rec func(i int) bool
	rec = func(i int) bool {
		if i == m {
			return fn(ann)
		}
		for _, u := range choices[i] {
			ann[i] = u
			if !rec(i + 1) {
				return false
			}
		}
		return true
	}
	rec(0)
}

func TestThresholdRuleModel(t *testing.T) {
	for _, c := range []struct{ m, t int }{{2, 2}, {3, 2}, {3, 3}, {4, 3}, {4, 4}, {5, 3}, {5, 4}, {5, 5}} {
		count := 0
		enumerate(c.m, c.t, func(ann []uint) bool {
			if !confirmed(c.t, ann) {
				return true
			}
			count++
			ls := learnable(c.m, c.t, ann)
			if len(ls) > 1 || (len(ls) == 1 && bits.OnesCount(ls[0]) < c.t) {
				t.Fatalf("m=%d t=%d: answers %b let the relay unmask the sums over %b", c.m, c.t, ann, ls)
			}
			return true
		})
		t.Logf("m=%d t=%d: %d confirmable assignments, each leaks at most one sum of >= t inputs", c.m, c.t, count)
	}
	leak := func(m, thr int, needConfirm bool) bool {
		found := false
		enumerate(m, thr, func(ann []uint) bool {
			if needConfirm && !confirmed(thr, ann) {
				return true
			}
			ls := learnable(m, thr, ann)
			if len(ls) > 1 || (len(ls) == 1 && bits.OnesCount(ls[0]) < thr) {
				t.Logf("m=%d t=%d acceptance round=%v: answers %b leak the sums over %b", m, thr, needConfirm, ann, ls)
				found = true
				return false
			}
			return true
		})
		return found
	}
	if !leak(5, 3, false) {
		t.Error("m=5 t=3 without the acceptance round: no leak found; the model is too weak")
	}
	if !leak(4, 2, true) {
		t.Error("m=4 t=2 with the acceptance round: no leak found; the model is too weak")
	}
}
