package qpu

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/prismai/mec/qasm"
	"github.com/prismai/mec/sim"
)

// plusRoundsQASM measures a |+⟩ qubit into bit r and resets it, for r
// below rounds: every measurement splits, 2^rounds paths.
func plusRoundsQASM(rounds int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "OPENQASM 3.0; include \"stdgates.inc\"; qubit[2] q; bit[%d] c; ry(0.3) q[1];", rounds)
	for r := range rounds {
		fmt.Fprintf(&b, " h q[0]; c[%d] = measure q[0]; reset q[0];", r)
	}
	return b.String()
}

// TestServerBranchBudget: a pub's shot run holds at most MaxBranches
// states, by default one (the shots of every other outcome replay their
// path): the server's samples are those of sim with that budget and the
// job's seed, and differ from those of a larger budget. A budget above
// sim.MaxBranchesCap is refused.
func TestServerBranchBudget(t *testing.T) {
	src := plusRoundsQASM(6)
	c, err := qasm.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	const shots, seed = 400, uint64(9)
	var got [2]map[string]int
	for i, tc := range []struct {
		opts   ServerOptions
		budget int
	}{
		{ServerOptions{}, 1},
		{ServerOptions{MaxBranches: 64}, 64},
	} {
		_, cl, _ := serverWith(t, tc.opts, "")
		sd := seed
		req := sampler(Pub{Circuit: src, Shots: shots})
		req.Params.Options = &JobOptions{Simulator: &SimulatorOptions{SeedSimulator: &sd}}
		id, err := cl.Submit(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		if st := waitJob(t, cl, id, 20*time.Second); st.Phase() != StatusCompleted {
			t.Fatalf("budget %d: %s %q", tc.budget, st.Phase(), st.State.Reason)
		}
		res, err := cl.Result(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if got[i], err = res.Pubs[0].Counts(); err != nil {
			t.Fatal(err)
		}
		sm, err := sim.New(sim.Options{Fuse: sim.DefaultFuse, Seed: seed, MaxBranches: tc.budget})
		if err != nil {
			t.Fatal(err)
		}
		r, err := sm.Shots(t.Context(), c, shots)
		if err != nil {
			t.Fatal(err)
		}
		if tc.budget == 1 && (r.Stats.Branches != 1 || r.Stats.Replays == 0) {
			t.Fatalf("budget 1: %+v; want one live state and replays", r.Stats)
		}
		if want := r.Counts(); !maps.Equal(got[i], want) {
			t.Fatalf("server options %+v: the samples are not those of sim with MaxBranches %d:\n%v\n%v", tc.opts, tc.budget, got[i], want)
		}
	}
	if maps.Equal(got[0], got[1]) {
		t.Fatal("budgets 1 and 64 gave the same samples: the test cannot tell them apart")
	}
	if _, err := NewServer(t.Context(), ServerOptions{MaxBranches: sim.MaxBranchesCap + 1}); err == nil || !strings.Contains(err.Error(), "--max-branches") {
		t.Fatalf("a budget above the cap: %v", err)
	}
}
