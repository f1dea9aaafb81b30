package federation

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	p, err := FreeLoopbackPort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// spec is one node of a test federation.
type spec struct {
	name  string
	role  Role
	relay string
}

// testFederation creates identities for the nodes in t.TempDir() and the
// roster that lists them, with loopback listeners.
func testFederation(t testing.TB, nodes []spec, edit func(*Roster)) (*Roster, map[string]*Identity, map[string]string) {
	t.Helper()
	base := t.TempDir()
	ids := map[string]*Identity{}
	dirs := map[string]string{}
	r := &Roster{Version: ProtocolVersion, Federation: "test"}
	r.Learning.RoundTimeout = Duration(3 * time.Second)
	r.Learning.Liveness = Duration(time.Second)
	for _, s := range nodes {
		o := InitOptions{Name: s.name, Role: s.role, Relay: s.relay}
		switch s.role {
		case Core:
			o.Client = fmt.Sprintf("tls://127.0.0.1:%d", freePort(t))
			o.Route = fmt.Sprintf("tls://127.0.0.1:%d", freePort(t))
			o.Leaf = fmt.Sprintf("tls://127.0.0.1:%d", freePort(t))
		case Relay:
			o.Leaf = fmt.Sprintf("tls://127.0.0.1:%d", freePort(t))
		}
		dir := filepath.Join(base, s.name)
		id, err := Init(dir, o)
		if err != nil {
			t.Fatal(err)
		}
		ids[s.name], dirs[s.name] = id, dir
		r.Members = append(r.Members, id.Member)
	}
	if edit != nil {
		edit(r)
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	return r, ids, dirs
}

func testLogger(t testing.TB, name string) *slog.Logger {
	if os.Getenv("MEC_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startAll starts every node concurrently and stops them at the end of
// the test.
func startAll(t testing.TB, r *Roster, ids map[string]*Identity, dirs map[string]string, mod func(name string, c *Config)) map[string]*Node {
	t.Helper()
	type res struct {
		name string
		n    *Node
		err  error
	}
	ch := make(chan res)
	for name := range ids {
		go func() {
			c := Config{Dir: dirs[name], Roster: r, Identity: ids[name], Logger: testLogger(t, name), JoinTimeout: 60 * time.Second}
			if mod != nil {
				mod(name, &c)
			}
			n, err := Start(context.Background(), c)
			ch <- res{name, n, err}
		}()
	}
	nodes := map[string]*Node{}
	var errs []error
	for range ids {
		x := <-ch
		if x.err != nil {
			errs = append(errs, x.err)
			continue
		}
		nodes[x.name] = x.n
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, n := range nodes {
			_ = n.Close(ctx)
		}
	})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return nodes
}

// roundAll runs one round on each named node at once, each from its Θ,
// and returns the results; a node whose round fails is reported (labelled
// with what) and left out.
func roundAll(t testing.TB, ctx context.Context, what string, nodes map[string]*Node, thetas map[string][]float64) map[string]*RoundResult {
	t.Helper()
	var mu sync.Mutex
	got := map[string]*RoundResult{}
	var wg sync.WaitGroup
	for name, th := range thetas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := nodes[name].Round(ctx, 1, th)
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
	return got
}
