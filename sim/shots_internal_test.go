package sim

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/circuit"
)

// branchesEngine is an engine on a 2-qubit circuit with one branch per
// angle: qubit 1 in ry(angle)|0⟩, qubit 0 in |0⟩, no clbit set and no
// qubit known, so every branch has the same key. Branch k follows shot k.
func branchesEngine(t *testing.T, ctx context.Context, angles []float64) *engine {
	t.Helper()
	s := NewWith(cpu.New(cpu.Options{Threads: 1}), Options{Precision: backend.Complex128})
	c := &circuit.Circuit{Qubits: 2, Clbits: 1}
	e := &engine{s: s, ctx: ctx, c: c, budget: len(angles), rng: newRNG(1)}
	for k, a := range angles {
		st, err := s.sv.NewState(2, backend.Complex128)
		if err != nil {
			t.Fatal(err)
		}
		cs, sn := complex(math.Cos(a/2), 0), complex(math.Sin(a/2), 0)
		if err := st.Load([]complex128{cs, 0, sn, 0}); err != nil {
			t.Fatal(err)
		}
		e.branches = append(e.branches, &branch{st: st, bits: make([]bool, 1), known: newBasis(2, false), shots: []int32{int32(k)}, dirty: true})
	}
	t.Cleanup(e.free)
	return e
}

// distinctAngles are n angles whose states are pairwise far from equal.
func distinctAngles(n int) []float64 {
	a := make([]float64, n)
	for k := range a {
		a[k] = 0.05 * float64(k)
	}
	return a
}

// TestMergeComparesDirtyPairs: once a merge has compared a bucket, the
// next one compares only the pairs with a branch projected (dirty) since:
// one dirty branch among 40 costs 39 comparisons, not 40·39/2. Equal
// states (up to a global phase and a norm off by rounding) merge, the
// earlier branch taking the later one's shots.
func TestMergeComparesDirtyPairs(t *testing.T) {
	e := branchesEngine(t, context.Background(), distinctAngles(40))
	for range 10 { // all 780 pairs, in pieces of at most 160
		if err := e.merge(); err != nil {
			t.Fatal(err)
		}
	}
	if e.stats.Merges != 0 || len(e.branches) != 40 || e.stats.Compares != 40*39/2 {
		t.Fatalf("%+v; want all 780 pairs compared once and no merge", e.stats)
	}
	for _, b := range e.branches {
		if b.dirty {
			t.Fatal("a branch compared with its whole bucket is still dirty")
		}
	}
	// Branch 30 becomes equal to branch 7 (with another phase and a norm
	// 1e-7 off, as complex64 rounding leaves it) and is dirty.
	cs, sn := math.Cos(0.05*7/2)*(1+1e-7), math.Sin(0.05*7/2)*(1+1e-7)
	ph := complex(math.Cos(0.4), math.Sin(0.4))
	if err := e.branches[30].st.Load([]complex128{ph * complex(cs, 0), 0, ph * complex(sn, 0), 0}); err != nil {
		t.Fatal(err)
	}
	e.branches[30].dirty = true
	e.stats = Stats{}
	if err := e.merge(); err != nil {
		t.Fatal(err)
	}
	if e.stats.Compares > 39 {
		t.Fatalf("one dirty branch among 40: %d comparisons, want at most 39", e.stats.Compares)
	}
	if e.stats.Merges != 1 || len(e.branches) != 39 {
		t.Fatalf("the equal pair did not merge: %+v, %d branches", e.stats, len(e.branches))
	}
	if got := e.branches[7].shots; len(got) != 2 || got[0] != 7 || got[1] != 30 {
		t.Fatalf("branch 7 follows shots %v, want [7 30]", got)
	}
	// Nothing changed: nothing to compare.
	e.stats = Stats{}
	if err := e.merge(); err != nil {
		t.Fatal(err)
	}
	if e.stats.Compares != 0 {
		t.Fatalf("a merge with no dirty branch made %d comparisons", e.stats.Compares)
	}
}

// TestMergeBounded: with every branch of a bucket dirty, one merge makes
// at most max(mergeComparesPerBranch·n, minMergeCompares) comparisons;
// the branches it had no room for stay dirty and the following merges
// take them, so every pair is compared in the end, and only once.
func TestMergeBounded(t *testing.T) {
	const n = 100
	e := branchesEngine(t, context.Background(), distinctAngles(n))
	limit := max(mergeComparesPerBranch*n, minMergeCompares)
	total := 0
	for round := 0; ; round++ {
		e.stats = Stats{}
		if err := e.merge(); err != nil {
			t.Fatal(err)
		}
		if e.stats.Compares > limit {
			t.Fatalf("round %d: %d comparisons, the bound is %d", round, e.stats.Compares, limit)
		}
		total += e.stats.Compares
		dirty := 0
		for _, b := range e.branches {
			if b.dirty {
				dirty++
			}
		}
		if dirty == 0 {
			break
		}
		if round > n {
			t.Fatalf("still %d dirty branches after %d merges", dirty, round)
		}
	}
	if total != n*(n-1)/2 {
		t.Fatalf("%d comparisons in all, want each of the %d pairs once", total, n*(n-1)/2)
	}
}

// TestMergeBucketsByKey: branches whose classical registers or known
// qubits differ are never compared, even with equal states.
func TestMergeBucketsByKey(t *testing.T) {
	e := branchesEngine(t, context.Background(), []float64{0.3, 0.3, 0.3})
	e.branches[1].bits[0] = true
	e.branches[2].known[0] = 0
	if err := e.merge(); err != nil {
		t.Fatal(err)
	}
	if e.stats.Compares != 0 || e.stats.Merges != 0 {
		t.Fatalf("branches with different keys compared: %+v", e.stats)
	}
}

// TestMergeContext: a merge checks its context between comparisons and
// returns its error.
func TestMergeContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e := branchesEngine(t, ctx, distinctAngles(20))
	err := e.merge()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("merge under a cancelled context: %v", err)
	}
	if e.stats.Compares != 0 {
		t.Fatalf("%d comparisons under a cancelled context", e.stats.Compares)
	}
}

// TestReplayPathMismatch: a replayed group whose recorded outcomes the
// run does not meet is an error: a step at an op that is not a collapse
// (skipped), a step past the last op (left over), a recorded outcome
// other than the one a known qubit has.
func TestReplayPathMismatch(t *testing.T) {
	c := &circuit.Circuit{Qubits: 2, Clbits: 2}
	c.Append("h", nil, 0).Measure(0, 0).Reset(0) // ops 0, 1, 2
	c.Append("x", nil, 1).Measure(1, 1)          // ops 3, 4: qubit 1 known 1
	c.Append("x", nil, 1)                        // op 5: the measurement is mid-circuit
	s := NewWith(cpu.New(cpu.Options{Threads: 1}), Options{Precision: backend.Complex128, Seed: 1})
	term := terminalMeasurements(c)
	for _, tc := range []struct {
		name string
		path []step
		want string
	}{
		{"skipped", []step{{op: 0, bit: 1}}, "skipped"},
		{"left over", []step{{op: 1, bit: 1}, {op: 9, bit: 0}}, "left over"},
		{"known", []step{{op: 1, bit: 0}, {op: 4, bit: 0}}, "known to be 1"},
	} {
		r := &ShotResult{Shots: 2, Clbits: 2, words: 1, mem: make([]uint64, 2)}
		_, _, err := s.replay(context.Background(), c, term, 1, group{shots: []int32{0, 1}, path: tc.path}, r)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
	// The recorded path itself replays.
	r := &ShotResult{Shots: 2, Clbits: 2, words: 1, mem: make([]uint64, 2)}
	if _, _, err := s.replay(context.Background(), c, term, 1, group{shots: []int32{0, 1}, path: []step{{op: 1, bit: 1}}}, r); err != nil {
		t.Fatal(err)
	}
	if r.mem[0] != 3 || r.mem[1] != 3 {
		t.Fatalf("replayed registers %v, want 0b11 twice", r.mem)
	}
}
