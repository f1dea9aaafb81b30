package federation

import (
	"context"
	"crypto/tls"
	"fmt"
	"math"
	"slices"
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
// it averages that model with two cores in the federation's rounds, which
// it follows at the cores' pace; the edges take the model back. The steps
// run one after the other, so each figure is exact (the complete graph of
// three with η = 1 gives every member the mean):
//  1. the edges' aggregation alone (no core runs a round): the group
//     model becomes the mean of the edges' Θ, which each edge takes;
//  2. the cores' round 1: the relay follows it with the group model;
//  3. an aggregation of an update of +0.3 on the last parameter: it is
//     added to the round's mean (a relay that mixed once more after
//     aggregating, as before the pipeline, would give half of it);
//  4. an aggregation lands while the relay's federation round 2 waits for
//     the second core: the round's result keeps it on top;
//  5. an aggregation with nothing new hands the edges the model.
func TestRelayGroup(t *testing.T) {
	specs := []spec{{"c1", Core, ""}, {"c2", Core, ""}, {"r1", Relay, ""}, {"e1", Edge, "r1"}, {"e2", Edge, "r1"}, {"e3", Edge, "r1"}}
	// A generous round timeout: on a loaded machine the exact figures
	// need every edge in every step (the waits end as soon as all answer).
	r, ids, dirs := testFederation(t, specs, func(r *Roster) { r.Learning.RoundTimeout = Duration(60 * time.Second) })
	nodes := startAll(t, r, ids, dirs, func(_ string, c *Config) { c.InitialTheta = make([]float64, 4) })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, n := range nodes {
		for len(n.Live()) < len(specs) && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
	theta := map[string][]float64{"c1": {0, 0, 0, 3}, "c2": {0, 0, 0, 0}, "e1": {1, 0, 0, 0}, "e2": {0, 1, 0, 0}, "e3": {0, 0, 1, 0}}
	var tmu sync.Mutex // theta: step 4 runs c1's round beside the edges'
	add := func(names []string, i int, x float64) {
		tmu.Lock()
		defer tmu.Unlock()
		for _, name := range names {
			theta[name][i] += x
		}
	}
	rounds := func(what string, names []string, want []float64, members int) {
		t.Helper()
		from := map[string][]float64{}
		tmu.Lock()
		for _, name := range names {
			from[name] = slices.Clone(theta[name])
		}
		tmu.Unlock()
		got := roundAll(t, ctx, what, nodes, from)
		for _, name := range names {
			res := got[name]
			if res == nil {
				continue
			}
			tmu.Lock()
			theta[name] = slices.Clone(res.Theta)
			tmu.Unlock()
			for i := range want {
				if math.Abs(res.Theta[i]-want[i]) > 1e-12 {
					t.Errorf("%s: %s: Θ = %v, want %v", what, name, res.Theta, want)
					break
				}
			}
			if len(res.Members) != members || res.Alone {
				t.Errorf("%s: %s: members %v (alone %v), want %d", what, name, res.Members, res.Alone, members)
			}
			t.Logf("%s: %s: round %d members %v", what, name, res.Round, res.Members)
		}
	}
	relay := nodes["r1"]
	// relayAt waits until the relay's federation round is r (started:
	// its learner's round; done: its last result's round).
	relayAt := func(r uint64, done bool) {
		t.Helper()
		for ctx.Err() == nil {
			_, at, _ := relay.learn.position()
			relay.group.mu.Lock()
			if lr := relay.group.lastRes; done && lr != nil {
				at = lr.Round
			} else if done {
				at = 0
			}
			relay.group.mu.Unlock()
			if at >= r {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("the relay did not reach federation round %d", r)
	}
	edges := []string{"e1", "e2", "e3"}
	cores := []string{"c1", "c2"}
	const third, ninth = 1.0 / 3, 1.0 / 9
	rounds("1 aggregation alone", edges, []float64{third, third, third, 0}, 1)
	rounds("2 the cores' round", cores, []float64{ninth, ninth, ninth, 1}, 3)
	relayAt(1, true)
	add(edges, 3, 0.3)
	rounds("3 an update after the round", edges, []float64{ninth, ninth, ninth, 1.3}, 3)
	// Step 4: c1 opens round 2 and the relay follows; c2 holds back, so
	// the relay's round waits (it is keeping up) while the edges'
	// aggregation of +0.3 on the first parameter lands.
	c1 := make(chan struct{})
	go func() {
		defer close(c1)
		rounds("4 c1's round 2", []string{"c1"}, []float64{ninth, ninth, ninth, 1.1}, 3)
	}()
	relayAt(2, false)
	add(edges, 0, 0.3)
	rounds("4 an update while the relay's round is out", edges, []float64{ninth + 0.3, ninth, ninth, 1.3}, 3)
	rounds("4 c2's round 2", []string{"c2"}, []float64{ninth, ninth, ninth, 1.1}, 3)
	<-c1
	relayAt(2, true)
	rounds("5 nothing new", edges, []float64{ninth + 0.3, ninth, ninth, 1.1}, 3)
	for name, n := range nodes {
		if st := n.Stats(); st.Rejected() != 0 {
			t.Errorf("%s: rejected %+v", name, st)
		}
	}
}

// TestRelayKeepsPace: a relay takes part in every round of the cores
// while its group's secure aggregation is stuck: one edge (e1) runs a
// round, the other (e2) is live but silent, so the aggregation waits out
// its phase timeouts; the relay's federation rounds follow the cores',
// not its group's aggregation. (A relay that aggregated before each of
// its rounds would publish nothing here, and the cores would average
// without it.) The aggregation then fails (one edge of two cannot be
// summed privately) and e1 keeps its change on top of the group model.
func TestRelayKeepsPace(t *testing.T) {
	specs := []spec{{"c1", Core, ""}, {"c2", Core, ""}, {"r1", Relay, ""}, {"e1", Edge, "r1"}, {"e2", Edge, "r1"}}
	// Each aggregation phase waits a quarter of the round timeout for a
	// live edge: 10 s, far longer than the cores' four rounds.
	r, ids, dirs := testFederation(t, specs, func(r *Roster) { r.Learning.RoundTimeout = Duration(40 * time.Second) })
	nodes := startAll(t, r, ids, dirs, func(_ string, c *Config) { c.InitialTheta = []float64{0} })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, n := range nodes {
		for len(n.Live()) < len(specs) && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
	edge := make(chan *RoundResult, 1)
	go func() {
		res, err := nodes["e1"].Round(ctx, 1, []float64{1})
		if err != nil {
			t.Errorf("e1: %v", err)
		}
		edge <- res
	}()
	// Wait for the relay to open e1's aggregation.
	g := nodes["r1"].group
	for ctx.Err() == nil {
		g.mu.Lock()
		opened := g.lastOpen
		g.mu.Unlock()
		if opened > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	theta := map[string][]float64{"c1": {2}, "c2": {4}}
	for round := 1; round <= 4; round++ {
		got := roundAll(t, ctx, fmt.Sprintf("round %d", round), nodes, theta)
		for name, res := range got {
			// The mean of 2, 4 and the relay's 0 over the complete graph
			// of three (η = 1), from the first round on.
			if math.Abs(res.Theta[0]-2) > 1e-12 || len(res.Members) != 3 {
				t.Errorf("%s round %d: Θ %v, members %v; want 2 and [c1 c2 r1]", name, res.Round, res.Theta, res.Members)
			}
			theta[name] = res.Theta
		}
	}
	res := <-edge
	if res == nil {
		return
	}
	// Its update is not in the model: e1 takes the model (2) and keeps
	// its change (1).
	if res.Published || res.Alone || math.Abs(res.Theta[0]-3) > 1e-12 {
		t.Errorf("e1: Θ %v, published %v, alone %v; want 3 (the model 2 and its own change), not published", res.Theta, res.Published, res.Alone)
	}
}
