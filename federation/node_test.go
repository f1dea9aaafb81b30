package federation

import (
	"context"
	"crypto/tls"
	"math"
	"sync"
	"testing"
	"time"
)

// TestCoresAverage: three cores on loopback (an embedded JetStream
// cluster over TLS 1.3 routes) average their parameters over the
// complete graph: with η = 1, one round gives every node the mean.
func TestCoresAverage(t *testing.T) {
	r, ids, dirs := testFederation(t, []spec{{"c1", Core, ""}, {"c2", Core, ""}, {"c3", Core, ""}}, nil)
	nodes := startAll(t, r, ids, dirs, nil)
	init := map[string][]float64{"c1": {1, 0, 3}, "c2": {2, 2, 3}, "c3": {3, 4, 3}}
	var mu sync.Mutex
	got := map[string]*RoundResult{}
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// Wait until everyone hears everyone.
	for _, n := range nodes {
		for len(n.Live()) < 3 && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
	for name, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			th := init[name]
			for round := uint64(1); round <= 3; round++ {
				res, err := n.Round(ctx, round, th)
				if err != nil {
					t.Errorf("%s round %d: %v", name, round, err)
					return
				}
				th = res.Theta
				mu.Lock()
				got[name] = res
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for name, res := range got {
		want := []float64{2, 2, 3}
		for i := range want {
			if math.Abs(res.Theta[i]-want[i]) > 1e-12 {
				t.Errorf("%s: Θ = %v, want the mean %v", name, res.Theta, want)
				break
			}
		}
		if len(res.Members) != 3 || res.Alone {
			t.Errorf("%s: members %v", name, res.Members)
		}
		t.Logf("%s: round %d members %v drift %.3g rate %.3g hash %s", name, res.Round, res.Members, res.Drift, res.Rate, res.Hash[:12])
	}
	for name, n := range nodes {
		for _, l := range n.Links() {
			if l.Group != tls.X25519MLKEM768.String() {
				t.Errorf("%s: %s link to %s negotiated %s", name, l.Kind, l.Peer, l.Group)
			}
		}
		st := n.Stats()
		if st.Rejected() != 0 {
			t.Errorf("%s: rejected %+v", name, st)
		}
	}
}

// TestRelayGroup: three edges behind a relay send masked updates; the
// relay learns their sum only and adds their mean to the group model;
// it averages that model with a core in the federation's rounds, which it
// follows at the core's pace; the edges take the model back. The steps
// are run one after the other, so each figure is exact:
//  1. the edges' aggregation alone (the core runs no round): the group
//     model becomes the mean of the edges' Θ, which each edge takes;
//  2. one round of the core: the relay follows it with the group model,
//     and both take the average of the two;
//  3. one more aggregation (the edges learned nothing since): the edges
//     take the group model, now the federation's mean.
func TestRelayGroup(t *testing.T) {
	r, ids, dirs := testFederation(t, []spec{{"c1", Core, ""}, {"r1", Relay, ""}, {"e1", Edge, "r1"}, {"e2", Edge, "r1"}, {"e3", Edge, "r1"}}, nil)
	nodes := startAll(t, r, ids, dirs, func(_ string, c *Config) { c.InitialTheta = make([]float64, 4) })
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for _, n := range nodes {
		for len(n.Live()) < 5 && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
	theta := map[string][]float64{"c1": {0, 0, 0, 3}, "e1": {1, 0, 0, 0}, "e2": {0, 1, 0, 0}, "e3": {0, 0, 1, 0}}
	step := func(what string, names []string, want []float64, members int) {
		t.Helper()
		var mu sync.Mutex
		got := map[string]*RoundResult{}
		var wg sync.WaitGroup
		for _, name := range names {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := nodes[name].Round(ctx, 1, theta[name])
				if err != nil {
					t.Errorf("%s: %s: %v", what, name, err)
					return
				}
				mu.Lock()
				got[name] = res
				mu.Unlock()
			}()
		}
		wg.Wait()
		for _, name := range names {
			res := got[name]
			if res == nil {
				continue
			}
			theta[name] = res.Theta
			for i := range want {
				if math.Abs(res.Theta[i]-want[i]) > 1e-12 {
					t.Errorf("%s: %s: Θ = %v, want %v", what, name, res.Theta, want)
					break
				}
			}
			if len(res.Members) != members || res.Alone {
				t.Errorf("%s: %s: members %v (alone %v), want %d", what, name, res.Members, res.Alone, members)
			}
			t.Logf("%s: %s: round %d members %v drift %.3g", what, name, res.Round, res.Members, res.Drift)
		}
	}
	edges := []string{"e1", "e2", "e3"}
	step("aggregation alone", edges, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3, 0}, 1)
	step("the core's round", []string{"c1"}, []float64{1.0 / 6, 1.0 / 6, 1.0 / 6, 1.5}, 2)
	// The relay's half of that round ends on its own: wait for it.
	g := nodes["r1"].group
	for ctx.Err() == nil {
		g.mu.Lock()
		done := g.lastRes != nil
		g.mu.Unlock()
		if done {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	step("aggregation after the round", edges, []float64{1.0 / 6, 1.0 / 6, 1.0 / 6, 1.5}, 2)
	for name, n := range nodes {
		if st := n.Stats(); st.Rejected() != 0 {
			t.Errorf("%s: rejected %+v", name, st)
		}
	}
}

// TestRelayKeepsPace: a relay takes part in every round of the cores
// even when none of its two edges runs a round (an edge that is live but
// slow, or silent): its federation rounds follow the participants', not
// its group's secure aggregation. (A relay that aggregated before each of
// its rounds would publish nothing here, and the cores would average
// without it.)
func TestRelayKeepsPace(t *testing.T) {
	r, ids, dirs := testFederation(t, []spec{{"c1", Core, ""}, {"c2", Core, ""}, {"r1", Relay, ""}, {"e1", Edge, "r1"}, {"e2", Edge, "r1"}}, nil)
	nodes := startAll(t, r, ids, dirs, func(_ string, c *Config) { c.InitialTheta = []float64{0} })
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for _, n := range nodes {
		for len(n.Live()) < 5 && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
	theta := map[string][]float64{"c1": {2}, "c2": {4}}
	for round := 1; round <= 4; round++ {
		var mu sync.Mutex
		next := map[string][]float64{}
		var wg sync.WaitGroup
		for name, th := range theta {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := nodes[name].Round(ctx, uint64(round), th)
				if err != nil {
					t.Errorf("%s round %d: %v", name, round, err)
					return
				}
				// The mean of 2, 4 and the relay's 0 over the complete
				// graph of three (η = 1), from the first round on.
				if math.Abs(res.Theta[0]-2) > 1e-12 || len(res.Members) != 3 {
					t.Errorf("%s round %d: Θ %v, members %v; want 2 and [c1 c2 r1]", name, res.Round, res.Theta, res.Members)
				}
				mu.Lock()
				next[name] = res.Theta
				mu.Unlock()
			}()
		}
		wg.Wait()
		theta = next
	}
	for _, e := range []string{"e1", "e2"} {
		if st := nodes[e].Stats(); st.Rounds != 0 {
			t.Errorf("%s ran %d rounds, want none", e, st.Rounds)
		}
	}
}
