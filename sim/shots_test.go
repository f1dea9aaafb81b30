package sim_test

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/sim"
	"github.com/prismai/mec/sim/simtest"
)

func newSim(threads, maxBranches int, seed uint64) *sim.Simulator {
	return sim.NewWith(cpu.New(cpu.Options{Threads: threads}), sim.Options{Precision: backend.Complex128, Fuse: 3, Seed: seed, MaxBranches: maxBranches})
}

// TestShotsDistribution: branched runs and per-shot runs (MaxBranches 1:
// every split beyond the first branch runs shot by shot) of circuits with
// genuinely random mid-circuit outcomes match the exact distribution
// (simtest.Outcomes enumerates every path) and each other: Pearson's χ²,
// p > 0.001 for each of 20 seeds.
func TestShotsDistribution(t *testing.T) {
	cases := []struct {
		name  string
		c     *circuit.Circuit
		shots int
	}{
		{"plus10", simtest.PlusRounds(10, false), 1 << 14},
		{"plus10same", simtest.PlusRounds(10, true), 4000},
		{"feedback", simtest.FeedbackCircuit(), 8000},
	}
	if testing.Short() {
		cases[0].c, cases[0].shots = simtest.PlusRounds(6, false), 2000
	}
	for _, tc := range cases {
		dist, err := simtest.Distribution(tc.c)
		if err != nil {
			t.Fatal(err)
		}
		worst := 1.0
		for seed := uint64(1); seed <= 20; seed++ {
			var got [2]map[string]int
			for i, budget := range []int{0, 1} {
				r, err := newSim(2, budget, seed).Shots(context.Background(), tc.c, tc.shots)
				if err != nil {
					t.Fatal(err)
				}
				if budget == 1 && r.Stats.Replays == 0 {
					t.Fatalf("%s: MaxBranches 1 ran no shot on its own", tc.name)
				}
				got[i] = r.Counts()
				chi2, dof, p := simtest.ChiSquare(got[i], dist)
				worst = min(worst, p)
				if p <= 0.001 {
					t.Errorf("%s seed %d MaxBranches %d: χ² %.1f on %d dof, p = %.2g against the exact distribution", tc.name, seed, budget, chi2, dof, p)
				}
			}
			if chi2, dof, p := simtest.ChiSquare2(got[0], got[1]); p <= 0.001 {
				t.Errorf("%s seed %d: branched and per-shot counts differ: χ² %.1f on %d dof, p = %.2g", tc.name, seed, chi2, dof, p)
			}
		}
		t.Logf("%s: %d outcomes, smallest p over 20 seeds × 2 budgets %.3g", tc.name, len(dist), worst)
	}
}

// TestShotsWorkFollowsBranches: the work of a shot run grows with the
// distinct branches, not with the shots. Ten rounds of a |+⟩ ancilla into
// ten clbits make 1024 branches (1023 splits) for 2^14 and for 2^16 shots
// alike, with the same gates applied and passes made; into one clbit the
// branches merge after every measurement and at most four are ever live.
func TestShotsWorkFollowsBranches(t *testing.T) {
	ctx := context.Background()
	var first sim.Stats
	for _, shots := range []int{1 << 14, 1 << 16} {
		r, err := newSim(2, 0, 5).Shots(ctx, simtest.PlusRounds(10, false), shots)
		if err != nil {
			t.Fatal(err)
		}
		st := r.Stats
		if st.Splits != 1023 || st.Branches != 1024 || st.Replays != 0 || st.Merges != 0 {
			t.Fatalf("%d shots: %+v; want 1023 splits, 1024 branches", shots, st)
		}
		if shots == 1<<14 {
			first = st
		} else if st != first {
			t.Fatalf("2^16 shots did other work than 2^14: %+v vs %+v", st, first)
		}
	}
	r, err := newSim(2, 0, 5).Shots(ctx, simtest.PlusRounds(10, true), 1<<14)
	if err != nil {
		t.Fatal(err)
	}
	if st := r.Stats; st.Branches > 4 || st.Merges != 18 || st.Splits != 20-1 {
		t.Fatalf("one clbit: %+v; want ≤ 4 live branches, 18 merges, 19 splits", st)
	}
}

// TestShotsCertainResets: resets of ancillas known to be in a basis state
// cost nothing (no probability pass, no barrier), a reset that is certain
// only numerically costs one probability pass and no branch, and a run
// whose measurements are all terminal samples every shot from one state:
// 1000 shots apply exactly the gates of one shot. The distribution is the
// exact one.
func TestShotsCertainResets(t *testing.T) {
	ctx := context.Background()
	c, known, certain := simtest.AncillaCircuit(5, 12)
	dist, err := simtest.Distribution(c)
	if err != nil {
		t.Fatal(err)
	}
	one, err := newSim(2, 0, 3).Shots(ctx, c, 1)
	if err != nil {
		t.Fatal(err)
	}
	r, err := newSim(2, 0, 3).Shots(ctx, c, 1000)
	if err != nil {
		t.Fatal(err)
	}
	st := r.Stats
	if st.Splits != 0 || st.Branches != 1 || st.Certain != known+certain || st.Reads != certain+1 || st.Copies != 0 {
		t.Fatalf("%+v; want no split, %d certain resets, %d reads (the uncomputed ancilla's resets and the final sample)", st, known+certain, certain+1)
	}
	if st.Applied != one.Stats.Applied || st.Reads != one.Stats.Reads {
		t.Fatalf("1000 shots applied %d gates and read %d times, one shot %d and %d", st.Applied, st.Reads, one.Stats.Applied, one.Stats.Reads)
	}
	if st.Skipped < 2*12 {
		t.Fatalf("%d gates skipped; want at least the 24 decided by a known control", st.Skipped)
	}
	if chi2, dof, p := simtest.ChiSquare(r.Counts(), dist); p <= 0.001 {
		t.Fatalf("χ² %.1f on %d dof, p = %.2g against the exact distribution", chi2, dof, p)
	}
}

// TestRunKnownQubitsExact: Run's final state, with resets, measurements
// of known qubits and gates skipped or simplified by known controls,
// equals the exact state (simtest.Outcomes: one path) to 1e-12 with and
// without fusion, on one and several threads.
func TestRunKnownQubitsExact(t *testing.T) {
	c, _, _ := simtest.AncillaCircuit(4, 6)
	c.Ops = slices.DeleteFunc(c.Ops, func(op circuit.Op) bool { return op.Kind == circuit.KindMeasure })
	c.Measure(4, 0).Measure(5, 1) // known ancillas: deterministic
	outs, err := simtest.Outcomes(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 1 {
		t.Fatalf("%d paths; the circuit should be deterministic", len(outs))
	}
	for _, threads := range []int{1, 3} {
		for _, fuse := range []int{0, 3} {
			s := sim.NewWith(cpu.New(cpu.Options{Threads: threads}), sim.Options{Precision: backend.Complex128, Fuse: fuse, Seed: 9})
			res, err := s.Run(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]complex128, len(outs[0].State))
			if err := res.State.Read(got); err != nil {
				t.Fatal(err)
			}
			res.State.Free()
			d := 0.0
			for i := range got {
				d = max(d, cmplxAbs(got[i]-outs[0].State[i]))
			}
			if d > 1e-12 {
				t.Fatalf("threads %d fuse %d: state differs from the exact one by %.3g", threads, fuse, d)
			}
			if !res.Bits[0] || res.Bits[1] {
				t.Fatalf("measured ancillas %v; want a = 1 (clbit 0), b = 0 (clbit 1)", res.Bits)
			}
		}
	}
}

func cmplxAbs(z complex128) float64 { return math.Hypot(real(z), imag(z)) }

// TestShotsMemoryReproducible: per-shot memory (in shot order) is the
// same on 1, 2 and 8 worker threads and on a repeat, for branched runs and
// for one whose budget of 3 states makes it replay groups (six rounds of
// a |+⟩ ancilla into six clbits: 64 paths); another seed differs.
func TestShotsMemoryReproducible(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		c      *circuit.Circuit
		budget int
	}{
		{"feedback", simtest.FeedbackCircuit(), 0},
		{"plus6", simtest.PlusRounds(6, false), 0},
		{"plus6-budget3", simtest.PlusRounds(6, false), 3},
	} {
		var ref []string
		for _, threads := range []int{1, 2, 8, 2} {
			r, err := newSim(threads, tc.budget, 42).Shots(ctx, tc.c, 3000)
			if err != nil {
				t.Fatal(err)
			}
			if tc.budget > 0 && (r.Stats.Replays == 0 || r.Stats.Branches > tc.budget) {
				t.Fatalf("%s: %+v; want replays and at most %d live branches", tc.name, r.Stats, tc.budget)
			}
			m := r.Memory()
			if ref == nil {
				ref = m
				continue
			}
			if !slices.Equal(m, ref) {
				t.Fatalf("%s, %d threads: per-shot memory differs from the first run", tc.name, threads)
			}
		}
		r, err := newSim(2, tc.budget, 43).Shots(ctx, tc.c, 3000)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Equal(r.Memory(), ref) {
			t.Fatalf("%s: seeds 42 and 43 gave the same memory", tc.name)
		}
	}
}

// TestShotsBadInput: negative shots and budgets, more than 2^31-1 shots
// and a per-shot memory whose size overflows are errors; zero shots is an
// empty result; a register wider than 64 bits has no Value.
func TestShotsBadInput(t *testing.T) {
	ctx := context.Background()
	c := simtest.PlusRounds(2, false)
	if _, err := newSim(1, 0, 1).Shots(ctx, c, -1); err == nil {
		t.Fatal("-1 shots accepted")
	}
	if _, err := newSim(1, -3, 1).Shots(ctx, c, 10); err == nil {
		t.Fatal("MaxBranches -3 accepted")
	}
	// Shots are numbered in 32 bits, and a register so wide that shots ×
	// words overflows is refused before anything is allocated.
	if _, err := newSim(1, 0, 1).Shots(ctx, c, math.MaxInt32+1); err == nil || !strings.Contains(err.Error(), "32 bits") {
		t.Fatalf("2^31 shots: %v", err)
	}
	huge := &circuit.Circuit{Qubits: 1, Clbits: 1 << 40}
	if _, err := newSim(1, 0, 1).Shots(ctx, huge, 1<<30); err == nil || !strings.Contains(err.Error(), "overflow") {
		t.Fatalf("2^30 shots of 2^40 bits: %v", err)
	}
	r, err := newSim(1, 0, 1).Shots(ctx, c, 0)
	if err != nil || r.Shots != 0 || len(r.Counts()) != 0 {
		t.Fatalf("0 shots: %+v, %v", r, err)
	}
	wide := &circuit.Circuit{Qubits: 1, Clbits: 70}
	wide.Append("x", nil, 0).Measure(0, 69)
	r, err = newSim(1, 0, 1).Shots(ctx, wide, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Bit(2, 69) || r.Bit(2, 0) {
		t.Fatal("clbit 69 of a 70-bit register not set")
	}
	if _, err := r.Value(0); err == nil {
		t.Fatal("Value of a 70-bit register")
	}
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := newSim(1, 0, 1).Shots(ctx2, c, 10); err == nil {
		t.Fatal("a cancelled context ran")
	}
}

// resetHistory resets a |+⟩ ancilla rounds times after a controlled
// rotation of a spectator by 0.001·2^r in round r: every reset splits,
// and no two of the 2^rounds paths leave the same state (their rotations
// differ by at least 0.001), yet every branch has the same key (no clbit
// until the final measurement, the ancilla known |0⟩). It is the worst
// case for merging: one bucket in which nothing merges.
func resetHistory(rounds int) *circuit.Circuit {
	c := &circuit.Circuit{Qubits: 2, Clbits: 1}
	for r := range rounds {
		c.Append("h", nil, 0).Append("cry", []float64{0.001 * float64(int(1)<<r)}, 0, 1).Reset(0)
	}
	return c.Measure(1, 0)
}

// TestShotsMergeBounded: the merges of a run whose branches all share one
// key, all distinct, compare a number of pairs linear in the branches
// (at most four per live branch and merge), not quadratic: 1024 branches
// would be half a million comparisons at the last reset alone. Nothing
// merges and the distribution is the exact one.
func TestShotsMergeBounded(t *testing.T) {
	c := resetHistory(10)
	r, err := newSim(2, 0, 7).Shots(context.Background(), c, 1<<14)
	if err != nil {
		t.Fatal(err)
	}
	st := r.Stats
	if st.Merges != 0 || st.Branches < 900 {
		t.Fatalf("%+v; want no merge and about 1024 branches", st)
	}
	// Σ over the ten resets of max(4 × live branches, 64), live ≤ 2^(r+1).
	if bound := 4*(1<<11) + 64*10; st.Compares > bound {
		t.Fatalf("%d comparisons; want at most %d", st.Compares, bound)
	}
	dist, err := simtest.Distribution(c)
	if err != nil {
		t.Fatal(err)
	}
	if chi2, dof, p := simtest.ChiSquare(r.Counts(), dist); p <= 0.001 {
		t.Fatalf("χ² %.1f on %d dof, p = %.2g against the exact distribution", chi2, dof, p)
	}
}

// TestShotsMergeComplex64: in complex64, branches that differ only by
// rounding merge as in complex128: the fidelity is normalised. Ten rounds
// of measuring a |+⟩ qubit into one clbit and resetting it leave two
// branches after each measurement that are both |00⟩ up to rounding (the
// H's 1/√2, rounded to complex64, leaves norms below 1 by about 1e-7,
// more than the merge tolerance): they merge 18 times with at most four
// branches live, in both precisions, and keep the exact distribution.
func TestShotsMergeComplex64(t *testing.T) {
	c := &circuit.Circuit{Qubits: 2, Clbits: 1}
	for range 10 {
		c.Append("h", nil, 0).Measure(0, 0).Reset(0)
	}
	dist, err := simtest.Distribution(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []backend.Precision{backend.Complex128, backend.Complex64} {
		s := sim.NewWith(cpu.New(cpu.Options{Threads: 2}), sim.Options{Precision: p, Fuse: 3, Seed: 5})
		r, err := s.Shots(context.Background(), c, 1<<14)
		if err != nil {
			t.Fatal(err)
		}
		if st := r.Stats; st.Branches > 4 || st.Merges != 18 || st.Splits != 19 {
			t.Fatalf("%s: %+v; want ≤ 4 live branches, 18 merges, 19 splits", p, st)
		}
		if chi2, dof, pv := simtest.ChiSquare(r.Counts(), dist); pv <= 0.001 {
			t.Fatalf("%s: χ² %.1f on %d dof, p = %.2g against the exact distribution", p, chi2, dof, pv)
		}
	}
}
