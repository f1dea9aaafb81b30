package federation

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prismai/mec/runtime/ledger"
	"github.com/prismai/mec/runtime/ledger/witness"
	"github.com/prismai/mec/runtime/telemetry"
)

// TestPhaseConsensus: a node whose phase leaves the consensus by more
// than ε_φ decouples (an alert, and no averaging with it), and rejoins
// once it is back within ε_φ.
func TestPhaseConsensus(t *testing.T) {
	r, ids, dirs := testFederation(t, []spec{{"c1", Core, ""}, {"e1", Edge, ""}, {"e2", Edge, ""}}, nil)
	nodes := startAll(t, r, ids, dirs, nil)
	for _, n := range nodes {
		waitFor(t, 30*time.Second, "liveness", func() bool { return len(n.Live()) == 3 })
	}
	// Every node reports before any commits tick 1: a report published
	// by an earlier node's Tick would otherwise make a later one an
	// outlier (decoupled and published at once) or not, by map order.
	phases := map[string]float64{"c1": 0.1, "e1": 0.2, "e2": 1.4}
	for name, p := range phases {
		res, err := nodes[name].Phase(1, p, true)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Queued || res.Published || res.Outlier || res.Nodes != 1 {
			t.Fatalf("%s: %+v, want the report queued until tick 1 commits", name, res)
		}
	}
	for name := range phases {
		nodes[name].Tick(1)
	}
	// Every node must hold both others' reports and see both as live:
	// Phase counts only live peers' reports, and under -race a count of
	// entries was met while one of them was not (φ̄ over two phases).
	for name, n := range nodes {
		waitFor(t, 20*time.Second, name+": the others' phase reports", func() bool {
			n.phase.mu.Lock()
			defer n.phase.mu.Unlock()
			for other := range phases {
				if _, ok := n.phase.reports[other]; other != name && (!ok || !n.isLive(other)) {
					return false
				}
			}
			return true
		})
	}
	res, err := nodes["e2"].Phase(2, 1.4, true)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Outlier || !res.Decoupled || math.Abs(res.Mean-0.15) > 1e-9 || math.Abs(res.Offset-1.25) > 1e-9 {
		t.Fatalf("e2: %+v, want an outlier decoupling from φ̄ = 0.15", res)
	}
	if res, _ := nodes["c1"].Phase(2, 0.1, true); res.Outlier {
		t.Fatalf("c1 is an outlier: %+v", res)
	}
	waitFor(t, 10*time.Second, "c1 to see e2 decoupled", func() bool { return nodes["c1"].phase.isDecoupled("e2") })
	// While decoupled, e2 is not averaged in, and does not average.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan *RoundResult, 3)
	for name, th := range map[string][]float64{"c1": {1}, "e1": {3}, "e2": {100}} {
		go func() {
			res, err := nodes[name].Round(ctx, 1, th)
			if err != nil {
				t.Error(err)
			}
			done <- res
		}()
	}
	for range 3 {
		res := <-done
		if res == nil {
			continue
		}
		if slices.Contains(res.Members, "e2") && len(res.Members) > 1 {
			t.Errorf("a round averaged the decoupled node: %v", res.Members)
		}
		if res.Decoupled && res.Theta[0] != 100 {
			t.Errorf("the decoupled node moved: %v", res.Theta)
		}
	}
	// Back within ε_φ: it rejoins.
	res, err = nodes["e2"].Phase(3, 0.18, true)
	if err != nil || res.Outlier || !res.Rejoined {
		t.Fatalf("e2 back at 0.18: %+v %v", res, err)
	}
	if s := nodes["e2"].Stats(); s.Decoupled != 1 || s.Rejoined != 1 {
		t.Errorf("e2 stats %+v", s)
	}
	// A phase of a tick the node rolls back is never published.
	e1 := nodes["e1"]
	if res, err := e1.Phase(4, 0.3, true); err != nil || !res.Queued {
		t.Fatalf("e1 at tick 4: %+v %v", res, err)
	}
	if err := e1.RolledBack(ctx, 4, 0, 0, "test"); err != nil {
		t.Fatal(err)
	}
	e1.phase.mu.Lock()
	pending := e1.phase.pending
	e1.phase.mu.Unlock()
	if pending != nil {
		t.Errorf("after the rollback the report of tick 4 is still queued: %+v", pending)
	}
}

// TestRollbackReset: a node that rolls back republishes the public state
// of the checkpoint it returned to, under a new epoch; its peers then
// average that, not the state it abandoned.
func TestRollbackReset(t *testing.T) {
	r, ids, dirs := testFederation(t, []spec{{"c1", Core, ""}, {"e1", Edge, ""}}, nil)
	nodes := startAll(t, r, ids, dirs, nil)
	c1, e1 := nodes["c1"], nodes["e1"]
	for _, n := range nodes {
		waitFor(t, 30*time.Second, "liveness", func() bool { return len(n.Live()) == 2 })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	round := func(r uint64, c, e []float64) (*RoundResult, *RoundResult) {
		ch := make(chan *RoundResult, 1)
		go func() {
			res, err := e1.Round(ctx, r, e)
			if err != nil {
				t.Error(err)
			}
			ch <- res
		}()
		rc, err := c1.Round(ctx, r, c)
		if err != nil {
			t.Fatal(err)
		}
		return rc, <-ch
	}
	round(1, []float64{0}, []float64{2}) // both at 1 afterwards
	e1.Mark(10)                          // e1's public state at tick 10: 2 (its round-1 update)
	round(2, []float64{1}, []float64{9}) // e1 publishes 9: abandoned below
	if err := e1.RolledBack(ctx, 15, 10, 1, "test"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "c1 to take e1's reset", func() bool {
		c1.learn.mu.Lock()
		defer c1.learn.mu.Unlock()
		m := c1.learn.peers["e1"]
		return m != nil && m.epoch == 2 && m.synced && m.state[0] == 2
	})
	if s := e1.Stats(); s.Rollbacks != 1 {
		t.Errorf("e1 stats %+v", s)
	}
}

// TestWitnessing: cores co-sign each other's ledger checkpoints (each
// node keeps the one a quorum signed); a node that shows the witnesses a
// second history (a split view) is caught by every witness and the
// observer, with evidence that proves it.
func TestWitnessing(t *testing.T) {
	r, ids, dirs := testFederation(t, []spec{{"c1", Core, ""}, {"c2", Core, ""}, {"c3", Core, ""}, {"o1", Observer, ""}}, nil)
	leds := map[string]*ledger.Ledger{}
	hooks := map[string]*Node{}
	for name, id := range ids {
		signer, err := id.LedgerSigner(LedgerOrigin(r.Federation, name))
		if err != nil {
			t.Fatal(err)
		}
		l, err := ledger.Open(filepath.Join(dirs[name], "ledger"), ledger.Options{Origin: LedgerOrigin(r.Federation, name), Signer: signer,
			CheckpointEvery: 8, CheckpointInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		leds[name] = l
		t.Cleanup(func() { l.Close() })
	}
	nodes := startAll(t, r, ids, dirs, func(name string, c *Config) { c.Ledger = leds[name] })
	for name, n := range nodes {
		hooks[name] = n
	}
	ctx := context.Background()
	for i := 0; i < 40; i++ {
		for name, l := range leds {
			ev := telemetry.SystemEvent{Timestamp: time.Now(), Source: "test", Kind: "tick", Fields: map[string]telemetry.Value{"i": telemetry.Num(float64(i))}}
			if _, err := l.Append(ctx, ev); err != nil {
				t.Fatal(err)
			}
			if i%8 == 7 {
				if note, c := l.LatestCheckpoint(); c != nil {
					hooks[name].OnCheckpoint(note, c)
				}
			}
		}
		time.Sleep(30 * time.Millisecond)
	}
	for name, n := range nodes {
		if name == "o1" {
			continue
		}
		waitFor(t, 30*time.Second, name+"'s checkpoint witnessed", func() bool { return n.Stats().Witnessed > 0 })
	}
	keys, quorum, err := r.Witnesses("c1")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ledger.Verify(leds["c1"].Dir(), ledger.VerifyOptions{Witnesses: keys, MinWitnesses: quorum})
	if err != nil || rep.Witnessed == nil {
		t.Fatalf("c1's ledger with its witnesses: %v %+v", err, rep)
	}
	t.Logf("c1 witnessed at size %d by %v", rep.Witnessed.Checkpoint.Size, rep.Witnessed.Cosigners)

	// c3 signs a second history of the same size as a checkpoint it
	// published: a split view.
	c3 := nodes["c3"]
	c3.witness.mu.Lock()
	published := c3.witness.published
	c3.witness.mu.Unlock()
	signer, _ := ids["c3"].LedgerSigner(LedgerOrigin(r.Federation, "c3"))
	fork, err := ledger.Open(t.TempDir(), ledger.Options{Origin: LedgerOrigin(r.Federation, "c3"), Signer: signer, CheckpointEvery: 1 << 20, CheckpointInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(0); i < published; i++ {
		ev := telemetry.SystemEvent{Timestamp: time.Now(), Source: "forger", Kind: "other", Fields: map[string]telemetry.Value{"i": telemetry.Num(float64(i))}}
		if _, err := fork.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := fork.Close(); err != nil { // signs a checkpoint of every record
		t.Fatal(err)
	}
	note, err := os.ReadFile(filepath.Join(fork.Dir(), "checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ledger.OpenCheckpoint(note, signer.Verifier())
	if err != nil || c.Size != published {
		t.Fatalf("fork checkpoint %+v (published %d): %v", c, published, err)
	}
	b, err := (&witness.Submission{Note: note, OldSize: published}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c3.publishJS(KindCkpt, (&CheckpointMsg{Submission: b}).Marshal()); err != nil {
		t.Fatal(err)
	}
	for name, n := range nodes {
		if name == "c3" {
			continue
		}
		waitFor(t, 20*time.Second, name+" to detect the fork", func() bool { return n.Stats().Forks >= 1 })
	}
}
