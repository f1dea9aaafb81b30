package circuit

import (
	"fmt"
	"math/cmplx"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"slices"
	"testing"
)

// fuseQuadratic is Fuse as it was before issue 17 item 10 (fusion in
// program order; each gate that joined a block copied and re-sorted the
// block's gate list, quadratic in the length of a block): the contrast
// for TestFuseLinear and TestFuseFewerPasses.
func fuseQuadratic(gates []Gate, maxQubits int) ([]Gate, error) {
	if maxQubits < 2 {
		return gates, nil
	}
	type block struct {
		qubits uint64
		gates  []int
	}
	var (
		pending []*block
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
	for i := range gates {
		q := gateQubits(&gates[i])
		if popcount(q) > maxQubits {
			keep := pending[:0]
			for _, b := range pending {
				if b.qubits&q != 0 {
					if err := emit(b); err != nil {
						return nil, err
					}
				} else {
					keep = append(keep, b)
				}
			}
			pending = keep
			out = append(out, gates[i])
			continue
		}
		union := q
		var hit []*block
		for _, b := range pending {
			if b.qubits&q != 0 {
				hit = append(hit, b)
				union |= b.qubits
			}
		}
		if popcount(union) <= maxQubits {
			nb := &block{qubits: union}
			for _, b := range hit {
				nb.gates = append(nb.gates, b.gates...)
			}
			slices.Sort(nb.gates)
			nb.gates = append(nb.gates, i)
			keep := pending[:0]
			for _, b := range pending {
				if b.qubits&q == 0 {
					keep = append(keep, b)
				}
			}
			pending = append(keep, nb)
			continue
		}
		keep := pending[:0]
		for _, b := range pending {
			if b.qubits&q != 0 {
				if err := emit(b); err != nil {
					return nil, err
				}
			} else {
				keep = append(keep, b)
			}
		}
		pending = append(keep, &block{qubits: q, gates: []int{i}})
	}
	for _, b := range pending {
		if err := emit(b); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// randomGates returns count lowered gates on n qubits: dense and diagonal
// one-qubit gates, cx/cz/swap/cp, ccx and cswap, some with extra positive
// and negative controls.
func randomGates(rng *rand.Rand, n, count int) []Gate {
	names := []string{"h", "rx", "rz", "t", "sx", "cx", "cz", "cp", "swap", "crx", "ccx", "cswap", "U"}
	out := make([]Gate, 0, count)
	for len(out) < count {
		name := names[rng.IntN(len(names))]
		def, _ := LookupGate(name)
		if def.NQubits > n {
			continue
		}
		perm := rng.Perm(n)
		op := Op{Kind: KindGate, Name: name, Qubits: perm[:def.NQubits]}
		for range def.NParams {
			op.Params = append(op.Params, rng.Float64()*6)
		}
		if extra := n - def.NQubits; extra > 0 && rng.IntN(8) == 0 {
			op.Controls = perm[def.NQubits : def.NQubits+1]
			if extra > 1 && rng.IntN(2) == 0 {
				op.NegControls = perm[def.NQubits+1 : def.NQubits+2]
			}
		}
		g, err := op.Lower()
		if err != nil {
			panic(err)
		}
		out = append(out, g)
	}
	return out
}

func sameGates(t *testing.T, what string, got, want []Gate) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d gates, reference %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := &got[i], &want[i]
		if !slices.Equal(g.Targets, w.Targets) || !slices.Equal(g.Controls, w.Controls) ||
			!slices.Equal(g.NegControls, w.NegControls) || g.Diagonal != w.Diagonal || !slices.Equal(g.Matrix, w.Matrix) {
			t.Fatalf("%s: gate %d differs from the reference:\n got %+v\nwant %+v", what, i, *g, *w)
		}
	}
}

// withPhases returns gates with a global phase (a gate on no qubit)
// inserted before every k-th gate and one-qubit diagonal gates (t, rz,
// p) on random qubits that have a gate of two or more qubits.
func withPhases(rng *rand.Rand, gates []Gate, k int) []Gate {
	var wide []int
	for i := range gates {
		if q := gateQubits(&gates[i]); popcount(q) > 1 {
			for m := q; m != 0; m &= m - 1 {
				wide = append(wide, trailingZeros(m))
			}
		}
	}
	var out []Gate
	for i := range gates {
		if i%k == 0 {
			out = append(out, Gate{Matrix: []complex128{expi(rng.Float64() * 6)}, Diagonal: true})
			if len(wide) > 0 {
				q := wide[rng.IntN(len(wide))]
				out = append(out, Gate{Targets: []int{q}, Matrix: []complex128{1, expi(rng.Float64() * 6)}, Diagonal: true})
			}
		}
		out = append(out, gates[i])
	}
	return out
}

// unfusedState applies gates one by one to a seeded random state of n qubits.
func applyAll(n int, gates []Gate) []complex128 {
	rng := rand.New(rand.NewPCG(uint64(n), 5))
	v := make([]complex128, 1<<n)
	for i := range v {
		v[i] = complex(rng.NormFloat64(), rng.NormFloat64())
	}
	for i := range gates {
		ApplyToVector(v, &gates[i])
	}
	return v
}

// TestFuseSameUnitary: on random circuits of 2–9 qubits (dense, diagonal
// and controlled gates, some wider than the block, global phases and
// one-qubit diagonals sprinkled in), the fused gates map a random state
// to the same state as the gates one by one, to 1e-10, at every block
// size, and no fused gate is wider than the block unless it was so
// before.
func TestFuseSameUnitary(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 17))
	for _, n := range []int{2, 3, 4, 5, 7, 9} {
		gates := withPhases(rng, randomGates(rng, n, 400), 7)
		want := applyAll(n, gates)
		for f := 0; f <= MaxDenseQubits; f++ {
			fused, err := Fuse(gates, f)
			if err != nil {
				t.Fatal(err)
			}
			got := applyAll(n, fused)
			worst := 0.0
			for i := range got {
				worst = max(worst, cmplx.Abs(got[i]-want[i]))
			}
			if worst > 1e-10 {
				t.Errorf("%d qubits, fuse %d: fused state differs by %.3g", n, f, worst)
			}
			if f < 2 {
				continue
			}
			for i := range fused {
				fg := &fused[i]
				if w := popcount(gateQubits(fg)); w > f && !slices.ContainsFunc(gates, func(g Gate) bool {
					return slices.Equal(g.Targets, fg.Targets) && slices.Equal(g.Controls, fg.Controls) &&
						slices.Equal(g.NegControls, fg.NegControls) && slices.Equal(g.Matrix, fg.Matrix)
				}) {
					t.Errorf("%d qubits, fuse %d: a fused block of %d qubits", n, f, w)
				}
			}
		}
	}
}

// TestFusePhasesAndDiagonalsFree is issue 12 item 2: global phases and
// one-qubit diagonal gates (on qubits that have wider gates) never add a
// pass: the fused circuit has exactly as many gates with them as without,
// when no gate is wider than the block.
func TestFusePhasesAndDiagonalsFree(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 2))
	for _, n := range []int{3, 5, 8, 12} {
		var gates []Gate
		for _, g := range randomGates(rng, n, 600) {
			if popcount(gateQubits(&g)) <= 3 {
				gates = append(gates, g)
			}
		}
		for _, k := range []int{1, 3} {
			more := withPhases(rng, gates, k)
			for f := 3; f <= MaxDenseQubits; f++ {
				a, err := Fuse(gates, f)
				if err != nil {
					t.Fatal(err)
				}
				b, err := Fuse(more, f)
				if err != nil {
					t.Fatal(err)
				}
				if len(b) != len(a) {
					t.Errorf("%d qubits, fuse %d: %d gates fuse into %d passes; with %d phases and diagonals, %d",
						n, f, len(gates), len(a), len(more)-len(gates), len(b))
				}
			}
		}
	}
	// Only phases: one gate on no qubit, their product.
	ph, err := Fuse([]Gate{{Matrix: []complex128{1i}, Diagonal: true}, {Matrix: []complex128{1i}, Diagonal: true}}, 3)
	if err != nil || len(ph) != 1 || len(ph[0].Targets) != 0 || cmplx.Abs(ph[0].Matrix[0]+1) > 1e-15 {
		t.Errorf("two phases i fuse into %+v (%v), want one phase −1", ph, err)
	}
}

// TestFuseFewerPasses: fusing in dependency order (with diagonal gates
// commuting on their qubits) takes fewer passes than fusing in program
// order did (the quadratic reference, the fuser before issue 12) on
// random circuits.
func TestFuseFewerPasses(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	for _, n := range []int{6, 12, 20} {
		gates := randomGates(rng, n, 2000)
		for f := 3; f <= 5; f++ {
			a, err := Fuse(gates, f)
			if err != nil {
				t.Fatal(err)
			}
			b, err := fuseQuadratic(gates, f)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d qubits, fuse %d: %d passes (program order: %d)", n, f, len(a), len(b))
			if len(a) >= len(b) {
				t.Errorf("%d qubits, fuse %d: %d passes, program-order fusion %d", n, f, len(a), len(b))
			}
		}
	}
}

func heapAllocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// fuseWork returns the bytes allocated by fuse on gates: fusion's work
// (copies of block lists, block matrices, the output) without timing it.
func fuseWork(t *testing.T, fuse func([]Gate, int) ([]Gate, error), gates []Gate, f int) uint64 {
	t.Helper()
	runtime.GC()
	before := heapAllocated()
	if _, err := fuse(gates, f); err != nil {
		t.Fatal(err)
	}
	return heapAllocated() - before
}

// TestFuseLinear is issue 17 item 10: fusing 4n gates does about 4 times
// the work of fusing n (measured as bytes allocated, not as time), on 4
// qubits, where one block can absorb the whole circuit (fuse 4), and on
// random circuits at fuse 3 and 5. The quadratic reference does 10–16
// times the work at 4n, which the test checks it can tell apart.
func TestFuseLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	const n = 5000
	for _, c := range []struct{ qubits, fuse int }{{4, 4}, {4, 3}, {8, 5}, {12, 3}} {
		long := randomGates(rng, c.qubits, 4*n)
		short := long[:n]
		ratio := float64(fuseWork(t, Fuse, long, c.fuse)) / float64(fuseWork(t, Fuse, short, c.fuse))
		if ratio > 5 {
			t.Errorf("%d qubits, fuse %d: %d gates take %.1f× the work of %d (linear: 4×)", c.qubits, c.fuse, 4*n, ratio, n)
		}
		if c.fuse == 4 && c.qubits == 4 {
			old := float64(fuseWork(t, fuseQuadratic, long, c.fuse)) / float64(fuseWork(t, fuseQuadratic, short, c.fuse))
			if old < 8 {
				t.Errorf("the quadratic reference takes only %.1f× the work at 4n: the test cannot tell", old)
			}
			t.Logf("%d qubits, fuse %d: work ratio 4n/n = %.2f (quadratic reference %.2f)", c.qubits, c.fuse, ratio, old)
		}
	}
}

// BenchmarkFuse fuses the shapes of BenchmarkRandomCircuit (24 qubits,
// 1257 gates) and a long 4-qubit circuit (100000 gates, one block can take
// it all), with the linear Fuse and, as impl=quadratic, the reference.
func BenchmarkFuse(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name   string
		gates  []Gate
		fuses  []int
		refToo bool
	}{
		{"random24", randomGates(rng, 24, 1257), []int{3, 4}, true},
		{"long4", randomGates(rng, 4, 100000), []int{3, 4}, false},
	}
	for _, c := range cases {
		for _, f := range c.fuses {
			impls := []struct {
				name string
				fuse func([]Gate, int) ([]Gate, error)
			}{{"linear", Fuse}}
			if c.refToo {
				impls = append(impls, struct {
					name string
					fuse func([]Gate, int) ([]Gate, error)
				}{"quadratic", fuseQuadratic})
			}
			for _, im := range impls {
				b.Run(fmt.Sprintf("%s/fuse=%d/impl=%s", c.name, f, im.name), func(b *testing.B) {
					for b.Loop() {
						if _, err := im.fuse(c.gates, f); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// TestGroupBelow: the schedule keeps the unitary (a random state maps to
// the same state, 1e-10) and lengthens the runs of gates below c.
func TestGroupBelow(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 1))
	runs := func(gs []Gate, c int) int {
		k := 0
		for i := range gs {
			if gateQubits(&gs[i])>>uint(c) != 0 || i == 0 || gateQubits(&gs[i-1])>>uint(c) != 0 {
				k++
			}
		}
		return k
	}
	for _, n := range []int{6, 9} {
		gates := withPhases(rng, randomGates(rng, n, 500), 11)
		for _, c := range []int{2, 4, n - 1} {
			got := GroupBelow(gates, c)
			if len(got) != len(gates) {
				t.Fatalf("%d gates in, %d out", len(gates), len(got))
			}
			want, have := applyAll(n, gates), applyAll(n, got)
			for i := range want {
				if cmplx.Abs(want[i]-have[i]) > 1e-10 {
					t.Fatalf("%d qubits, c %d: state differs at %d", n, c, i)
				}
			}
			if r0, r1 := runs(gates, c), runs(got, c); r1 >= r0 {
				t.Errorf("%d qubits, c %d: %d passes after grouping, %d before", n, c, r1, r0)
			} else {
				t.Logf("%d qubits, c %d: %d passes after grouping, %d before", n, c, r1, r0)
			}
		}
	}
}

// TestRelabelBelow: relabelling keeps the unitary (a random state maps to
// the same state as without it, 1e-10; from |0…0⟩ when the start swaps
// are left out), never adds passes (PassesBelow, the swaps counted), and
// on a circuit whose busiest qubit lies above c while one below is idle
// it saves passes by moving that qubit below.
func TestRelabelBelow(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 3))
	zeroState := func(n int, gates []Gate) []complex128 {
		v := make([]complex128, 1<<n)
		v[0] = 1
		for i := range gates {
			ApplyToVector(v, &gates[i])
		}
		return v
	}
	same := func(what string, want, have []complex128) {
		t.Helper()
		for i := range want {
			if cmplx.Abs(want[i]-have[i]) > 1e-10 {
				t.Fatalf("%s: state differs at %d: %v, want %v", what, i, have[i], want[i])
			}
		}
	}
	// skewed: gates on qubits 0..c-2 and on n-1, qubit c-1 nearly idle.
	skewed := func(n, c, count int) []Gate {
		var out []Gate
		busy := append(seqInts(0, c-1), n-1)
		for len(out) < count {
			p := rng.Perm(len(busy))
			a, b := busy[p[0]], busy[p[1]]
			if rng.IntN(3) == 0 {
				out = append(out, Gate{Targets: []int{a}, Matrix: RandomUnitary(rng, 2)})
			} else {
				out = append(out, Gate{Targets: []int{a, b}, Matrix: RandomUnitary(rng, 4)})
			}
			if rng.IntN(40) == 0 {
				out = append(out, Gate{Targets: []int{c - 1, rng.IntN(c - 1)}, Matrix: RandomUnitary(rng, 4)})
			}
		}
		return out
	}
	for _, n := range []int{6, 9} {
		for trial, gates := range [][]Gate{withPhases(rng, randomGates(rng, n, 300), 11), skewed(n, n-2, 300)} {
			for _, c := range []int{2, 4, n - 2, n - 1} {
				for _, zero := range []bool{false, true} {
					got, open, closing := RelabelBelow(gates, n, c, 0, 0, zero)
					what := fmt.Sprintf("%d qubits, circuit %d, c %d, zero %v", n, trial, c, zero)
					if zero && open != 0 || open > maxRelabelSwaps || closing > n || open+closing > len(got) {
						t.Errorf("%s: %d open and %d close swaps of %d gates", what, open, closing, len(got))
					}
					if zero {
						same(what, zeroState(n, gates), zeroState(n, got))
					} else {
						same(what, applyAll(n, gates), applyAll(n, got))
					}
					// Stopping after the open swaps and a prefix of the
					// relabelled gates, then applying the close swaps,
					// leaves the state of the same prefix unrelabelled.
					if k := (len(got) - open - closing) / 2; len(got) > len(gates) {
						cut := append(slices.Clone(got[:open+k]), got[len(got)-closing:]...)
						if zero {
							same(what+", stopped halfway", zeroState(n, gates[:k]), zeroState(n, cut))
						} else {
							same(what+", stopped halfway", applyAll(n, gates[:k]), applyAll(n, cut))
						}
					}
					// With low 2, nothing moves onto or off qubits 0 and 1.
					if low := 2; low < c {
						lg, lo, lc := RelabelBelow(gates, n, c, low, 0, zero)
						for i := range lg {
							var want uint64
							if i >= lo && i < len(lg)-lc {
								want = gateQubits(&gates[i-lo]) & 3
							}
							if gateQubits(&lg[i])&3 != want {
								t.Fatalf("%s, low 2: gate %d on qubits %b, want %b below 2", what, i, gateQubits(&lg[i]), want)
							}
						}
						if trial == 1 && c == n-2 && len(lg) == len(gates) {
							t.Errorf("%s, low 2: the busy qubit was not moved below c", what)
						}
					}
					p0, p1 := PassesBelow(gates, c, 0), PassesBelow(got, c, 0)
					if p1 > p0 {
						t.Errorf("%s: %d passes relabelled, %d before", what, p1, p0)
					}
					if trial == 1 && c == n-2 && p1 >= p0 {
						t.Errorf("%s: busy qubit above c: %d passes relabelled, %d before", what, p1, p0)
					}
					t.Logf("%s: %d passes relabelled (%d gates), %d before", what, p1, len(got), p0)
				}
			}
		}
	}
}

func seqInts(lo, hi int) []int {
	var s []int
	for i := lo; i < hi; i++ {
		s = append(s, i)
	}
	return s
}
