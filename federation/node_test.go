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
// relay learns their sum only, averages the group model with a core, and
// every edge takes the result.
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
	init := map[string][]float64{"c1": {0, 0, 0, 3}, "e1": {1, 0, 0, 0}, "e2": {0, 1, 0, 0}, "e3": {0, 0, 1, 0}}
	var mu sync.Mutex
	got := map[string]*RoundResult{}
	var wg sync.WaitGroup
	for name, th := range init {
		n := nodes[name]
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := n.Round(ctx, 1, th)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				return
			}
			mu.Lock()
			got[name] = res
			mu.Unlock()
		}()
	}
	wg.Wait()
	want := []float64{1.0 / 6, 1.0 / 6, 1.0 / 6, 1.5}
	for name, res := range got {
		for i := range want {
			if math.Abs(res.Theta[i]-want[i]) > 1e-12 {
				t.Errorf("%s: Θ = %v, want %v", name, res.Theta, want)
				break
			}
		}
		t.Logf("%s: members %v drift %.3g alone %v", name, res.Members, res.Drift, res.Alone)
	}
	for name, n := range nodes {
		if st := n.Stats(); st.Rejected() != 0 {
			t.Errorf("%s: rejected %+v", name, st)
		}
	}
}
