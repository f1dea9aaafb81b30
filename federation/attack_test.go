package federation

import (
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/prismai/mec/runtime/bus"
)

// waitFor polls cond until it holds or the time is up.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRejections: forged, replayed, unsigned, stale, misrouted,
// other-version and unknown-origin messages are rejected and counted on
// every node; NATS permissions stop a node publishing on another's
// subjects, and an observer publishing anything but its reports.
func TestRejections(t *testing.T) {
	r, ids, dirs := testFederation(t, []spec{{"c1", Core, ""}, {"e1", Edge, ""}, {"o1", Observer, ""}}, nil)
	nodes := startAll(t, r, ids, dirs, nil)
	e1, o1 := nodes["e1"], nodes["o1"]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pub := func(n *Node, subject string, data []byte) error {
		actx, acancel := context.WithTimeout(ctx, 3*time.Second)
		defer acancel()
		_, err := n.js.PublishMsg(actx, &nats.Msg{Subject: subject, Data: data})
		return err
	}
	now := time.Now()
	body := (&Alert{Kind: AlertRejoined, Node: "e1", Text: "test"}).Marshal()
	seal := func(sk *mldsa65.PrivateKey, origin, target string, seq uint64, ts time.Time, b []byte) []byte {
		env, err := bus.SealMessage(sk, bus.Message{Origin: origin, Target: target, Timestamp: ts, Sequence: seq, Body: b})
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	_, stranger, err := mldsa65.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	alert := Subject("e1", KindAlert)
	valid := seal(e1.id.signSK, "e1", alert, 10, now, body)
	newer := append([]byte(nil), body...)
	newer[1] = ProtocolVersion + 1
	cases := []struct {
		name string
		env  []byte
	}{
		{"unsigned", []byte("not a COSE_Sign1 envelope")},
		{"forged", seal(stranger, "e1", alert, 11, now, body)},
		{"valid", valid},
		{"replayed", valid},
		{"stale", seal(e1.id.signSK, "e1", alert, 12, now.Add(-time.Hour), body)},
		{"misrouted", seal(e1.id.signSK, "e1", Subject("e1", KindReport), 13, now, body)},
		{"unknown origin", seal(stranger, "mallory", alert, 1, now, body)},
		{"other version", seal(e1.id.signSK, "e1", alert, 14, now, newer)},
	}
	for _, c := range cases {
		if err := pub(e1, alert, c.env); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	}
	// Permissions: not on another node's subject, and an observer only
	// reports. Nothing is stored (no acknowledgement).
	if err := pub(e1, Subject("c1", KindAlert), valid); err == nil {
		t.Error("e1 published on c1's subject")
	}
	if err := pub(o1, Subject("o1", KindAlert), valid); err == nil {
		t.Error("the observer published an alert")
	}
	if err := pub(o1, Subject("o1", KindReport), []byte("junk report")); err != nil {
		t.Errorf("the observer may publish its reports: %v", err)
	}
	st, err := nodes["c1"].js.Stream(ctx, StreamLedger)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetLastMsgForSubject(ctx, Subject("c1", KindAlert)); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Errorf("a message reached c1's subject: %v", err)
	}
	for name, n := range nodes {
		waitFor(t, 20*time.Second, name+"'s counters", func() bool {
			s := n.Stats()
			return s.Bus.Malformed >= 2 && s.Bus.Forged >= 1 && s.Bus.Replayed >= 1 && s.Bus.Stale >= 1 && s.Bus.Misrouted >= 1 &&
				s.Bus.UnknownOrigin >= 1 && s.Version >= 1
		})
		s := n.Stats()
		t.Logf("%s: %+v version %d bad body %d", name, s.Bus, s.Version, s.BadBody)
	}
}

// TestUntrustedNode: a node whose keys the roster does not hold cannot
// join; a NATS URL that does not answer is a clear error.
func TestUntrustedNode(t *testing.T) {
	r, ids, dirs := testFederation(t, []spec{{"c1", Core, ""}}, nil)
	startAll(t, r, ids, dirs, nil)
	// An impostor: its own keys, but the roster's name and entry of e9 that
	// the federation does not have.
	r2, ids2, dirs2 := testFederation(t, []spec{{"c1", Core, ""}, {"e9", Edge, ""}}, nil)
	r2.Members[0] = *r.Member("c1") // the real core, so it dials the real one
	_, err := Start(context.Background(), Config{Dir: dirs2["e9"], Roster: r2, Identity: ids2["e9"], Logger: testLogger(t, "e9"), JoinTimeout: 3 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "roster") {
		t.Fatalf("a node unknown to the federation: %v", err)
	}
	t.Logf("untrusted: %v", err)
	// A node whose keys are not its roster entry's.
	if _, err := Start(context.Background(), Config{Dir: dirs["c1"], Roster: r, Identity: ids2["e9"]}); err == nil {
		t.Error("a node not in the roster started")
	}
	port := freePort(t)
	_, err = Start(context.Background(), Config{Dir: t.TempDir(), Roster: r, Identity: ids["c1"], NATS: []string{"tls://127.0.0.1:" + strconv.Itoa(port)},
		JoinTimeout: time.Second, Logger: testLogger(t, "c1")})
	if err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Errorf("dead NATS URL: %v", err)
	}
}
