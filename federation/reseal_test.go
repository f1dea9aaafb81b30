package federation

import (
	"context"
	"testing"
	"time"

	"github.com/prismai/mec/runtime/bus"
)

// TestResealStaleRetry: a message that waited in the outbox longer than
// resealAfter (as behind a partition) is signed again, with the same
// number, before it is published, so the peers take it as fresh; without
// the re-signing its three-minute-old envelope would be refused as stale.
func TestResealStaleRetry(t *testing.T) {
	r, ids, dirs := testFederation(t, []spec{{"c1", Core, ""}, {"c2", Core, ""}}, nil)
	nodes := startAll(t, r, ids, dirs, nil)
	c1, c2 := nodes["c1"], nodes["c2"]
	for _, n := range nodes {
		waitFor(t, 30*time.Second, "liveness", func() bool { return len(n.Live()) == 2 })
	}
	stale0 := c2.Stats().Bus.Stale
	delivered0 := c2.Stats().Bus.Delivered

	// An alert queued three minutes ago, as the outbox would hold it.
	body := (&Alert{Kind: AlertRollback, Node: "c1", Tick: 7, To: 5, Text: "held back"}).Marshal()
	c1.pubMu.Lock()
	_, subject, seq, err := c1.seal(KindAlert, body)
	if err != nil {
		c1.pubMu.Unlock()
		t.Fatal(err)
	}
	old := time.Now().Add(-3 * time.Minute)
	env, err := c1.id.Seal(subject, seq, body, old)
	if err != nil {
		c1.pubMu.Unlock()
		t.Fatal(err)
	}
	it := newOutItem(subject, seq, env, body, old)
	err = c1.enqueueLocked(it)
	c1.pubMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-it.done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the held-back message was not acknowledged in 30 s")
	}

	// The stream holds it re-signed: the same number, a fresh time.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := c1.js.Stream(ctx, streamOf(KindAlert))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := st.GetLastMsgForSubject(ctx, subject)
	if err != nil {
		t.Fatal(err)
	}
	m, _, _, err := bus.Parse(raw.Data)
	if err != nil {
		t.Fatal(err)
	}
	if m.Sequence != seq || time.Since(m.Timestamp) > 20*time.Second {
		t.Fatalf("stored: number %d (want %d), signed %v ago (want re-signed now)", m.Sequence, seq, time.Since(m.Timestamp).Round(time.Second))
	}
	// And the peer took it.
	waitFor(t, 10*time.Second, "c2 to take the re-signed alert", func() bool { return c2.Stats().Bus.Delivered > delivered0 })
	if s := c2.Stats().Bus.Stale; s != stale0 {
		t.Errorf("c2 refused %d messages as stale", s-stale0)
	}
}
