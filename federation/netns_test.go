package federation

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/prismai/mec/federation/consensus"
	"github.com/prismai/mec/runtime/bus"
	"github.com/prismai/mec/runtime/ledger"
)

// netLab is a set of network namespaces on a bridge, made by the test
// and removed at its end, even when it fails.
type netLab struct {
	t      *testing.T
	tag    string // unique per run: names of namespaces, links, bridge
	bridge string
	subnet string // "10.X.Y"
	hosts  map[string]string
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

func newNetLab(t *testing.T) *netLab {
	pid := os.Getpid()
	lab := &netLab{t: t, tag: fmt.Sprintf("m%d", pid%100000), subnet: fmt.Sprintf("10.%d.%d", 200+pid%50, (pid/50)%250), hosts: map[string]string{}}
	lab.bridge = "br" + lab.tag
	run(t, "ip", "link", "add", lab.bridge, "type", "bridge")
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", lab.bridge).Run() })
	run(t, "ip", "addr", "add", lab.subnet+".254/24", "dev", lab.bridge)
	run(t, "ip", "link", "set", lab.bridge, "up")
	return lab
}

func (l *netLab) ns(name string) string { return l.tag + "-" + name }

// add makes a namespace with one veth on the bridge and returns its
// address.
func (l *netLab) add(name string, i int) string {
	t := l.t
	ns, host, peer := l.ns(name), fmt.Sprintf("v%s%d", l.tag, i), fmt.Sprintf("p%s%d", l.tag, i)
	run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	run(t, "ip", "link", "add", host, "type", "veth", "peer", "name", peer)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", host).Run() })
	run(t, "ip", "link", "set", peer, "netns", ns)
	run(t, "ip", "link", "set", host, "master", l.bridge, "up")
	ip := fmt.Sprintf("%s.%d", l.subnet, 10+i)
	run(t, "ip", "netns", "exec", ns, "ip", "addr", "add", ip+"/24", "dev", peer)
	run(t, "ip", "netns", "exec", ns, "ip", "link", "set", peer, "up")
	run(t, "ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
	l.hosts[name] = ip
	return ip
}

// partition drops every packet of the host's namespace on its veth
// (iptables inside the namespace); heal removes the rules.
func (l *netLab) partition(name string) {
	run(l.t, "ip", "netns", "exec", l.ns(name), "iptables", "-I", "INPUT", "!", "-i", "lo", "-j", "DROP")
	run(l.t, "ip", "netns", "exec", l.ns(name), "iptables", "-I", "OUTPUT", "!", "-o", "lo", "-j", "DROP")
}

func (l *netLab) heal(name string) {
	run(l.t, "ip", "netns", "exec", l.ns(name), "iptables", "-F")
}

type labNode struct {
	name, role, relay, data string
	cmd                     *exec.Cmd
	exited                  chan error
}

// TestFederationNetns is the acceptance test of the federation: ten
// `mec node` processes, each in its own network namespace on a bridge
// (three cores, two edges, a relay with three edges behind it, an
// observer), plus this test as a client injecting bad messages. The
// parameters converge to the mean at the rate the graph's spectral gap
// predicts; then one core is killed with SIGKILL and two edges are cut off
// (iptables); the others keep learning; the killed core restarts and the
// edges come back, and all catch up from JetStream; forged, replayed,
// unsigned and unknown-origin messages are counted on every node; SIGTERM
// stops every node cleanly with its ledger verified and witnessed, and
// the final drift is < 0.05.
func TestFederationNetns(t *testing.T) {
	require := os.Getenv("MEC_REQUIRE_NETNS") != ""
	skip := func(why string) {
		if require {
			t.Fatalf("MEC_REQUIRE_NETNS is set, but %s", why)
		}
		t.Skip(why)
	}
	if testing.Short() {
		// -short is an explicit request for the quick tests (make
		// test-race), not a missing prerequisite: it skips even where
		// MEC_REQUIRE_NETNS is set (make test runs this test on its own).
		t.Skip("-short: the multi-namespace federation test takes minutes")
	}
	if os.Geteuid() != 0 {
		skip("network namespaces need root (CI runs this test as root)")
	}
	for _, tool := range []string{"ip", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			skip(tool + " is not installed (Debian: iproute2, iptables)")
		}
	}
	if out, err := exec.Command("ip", "netns", "list").CombinedOutput(); err != nil {
		skip(fmt.Sprintf("ip netns does not work here: %v: %s", err, out))
	}
	work := t.TempDir()
	if keep := os.Getenv("MEC_NETNS_KEEP"); keep != "" { // keep the nodes' data and logs for a look
		work = keep
		if err := os.MkdirAll(work, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(work, "mec")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/mec").CombinedOutput(); err != nil {
		t.Fatalf("building mec: %v: %s", err, out)
	}
	lab := newNetLab(t)

	specs := []labNode{{name: "c1", role: "core"}, {name: "c2", role: "core"}, {name: "c3", role: "core"},
		{name: "e1", role: "edge"}, {name: "e2", role: "edge"}, {name: "r1", role: "relay"},
		{name: "e3", role: "edge", relay: "r1"}, {name: "e4", role: "edge", relay: "r1"}, {name: "e5", role: "edge", relay: "r1"},
		{name: "o1", role: "observer"}}
	nodes := map[string]*labNode{}
	var members []string
	for i := range specs {
		n := &specs[i]
		ip := lab.add(n.name, i)
		n.data = filepath.Join(work, n.name)
		args := []string{"node", "init", "--data", n.data, "--name", n.name, "--role", n.role}
		switch n.role {
		case "core":
			args = append(args, "--client", "tls://"+ip+":4222", "--route", "tls://"+ip+":6222", "--leaf", "tls://"+ip+":7422")
		case "relay":
			args = append(args, "--leaf", "tls://"+ip+":7422")
		}
		if n.relay != "" {
			args = append(args, "--relay", n.relay)
		}
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("node init %s: %v: %s", n.name, err, out)
		}
		members = append(members, filepath.Join(n.data, MemberFile))
		nodes[n.name] = n
	}
	// The test's own client: an observer's keys, connecting from the host
	// side of the bridge.
	injDir := filepath.Join(work, "inj")
	inj, err := Init(injDir, InitOptions{Name: "inj", Role: Observer, SANs: []string{lab.subnet + ".254"}})
	if err != nil {
		t.Fatal(err)
	}
	members = append(members, filepath.Join(injDir, MemberFile))
	rosterPath := filepath.Join(work, "roster.yaml")
	if out, err := exec.Command(bin, append([]string{"node", "roster", "--federation", "lab", "--topology", "ring", "--out", rosterPath}, members...)...).CombinedOutput(); err != nil {
		t.Fatalf("node roster: %v: %s", err, out)
	}
	roster, err := LoadRoster(rosterPath)
	if err != nil {
		t.Fatal(err)
	}
	roster.Learning.RoundTimeout = Duration(3 * time.Second)
	roster.Learning.Liveness = Duration(2 * time.Second)
	roster.Phase.Epsilon = math.Pi // phase consensus has its own test; here nothing decouples
	b, err := roster.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rosterPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// Each node starts from its own W (a different diagonal) and learns
	// slowly on its own, so the consensus dominates what W does. The
	// nodes start far apart on purpose, so the constitution here has no
	// federated-drift rule (its recorded violations would lower the
	// compliance while the federation converges).
	wInit := map[string]float64{"c1": 0.2, "c2": 0.9, "c3": 0.4, "e1": 1.2, "e2": 0.6, "r1": 0.5, "e3": 0.5, "e4": 0.5, "e5": 0.5, "o1": 0.5}
	rules := `governance:
  rules:
    - {name: coherence-entropy, metric: h_coh, op: "<", value: 0.2, module: QuantumFusion}
    - {name: compliance, metric: compliance, op: ">", value: 0.99, module: Governance, action: record}
    - {name: norm-drift, metric: norm_drift, abs: true, op: "<", value: 0.05, module: QuantumFusion}
    - {name: voltage-cap, metric: v_max_mv, op: "<", value: -40, module: QuantumFusion}
    - {name: resonance, metric: phase_diff, abs: true, op: "<", value: pi/4, module: QuantumFusion}
    - {name: reflexive-latency, metric: reflex_latency_s, op: "<", value: 1, module: ReflexiveFeedback}
`
	for name, n := range nodes {
		sc := fmt.Sprintf("faults: []\nmeta: {every: 0}\nplasticity: {eta: 0.02, w_init: %g}\nfederation: {round: 5}\n%s", wInit[name], rules)
		if err := os.WriteFile(filepath.Join(n.data, "scenario.yaml"), []byte(sc), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	start := func(n *labNode) {
		log, err := os.OpenFile(filepath.Join(n.data, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		n.cmd = exec.Command("ip", "netns", "exec", lab.ns(n.name), bin, "node", "--data", n.data, "--roster", rosterPath,
			"--scenario", filepath.Join(n.data, "scenario.yaml"), "--tick-interval", "40ms", "--wait-peers", "90s",
			"--report", filepath.Join(n.data, "report.json"), "--status", filepath.Join(n.data, "status.json"), "--log-format", "json")
		n.cmd.Stdout, n.cmd.Stderr = log, log
		if err := n.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		n.exited = make(chan error, 1)
		go func() { n.exited <- n.cmd.Wait(); log.Close() }()
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			if n.cmd != nil && n.cmd.ProcessState == nil {
				_ = n.cmd.Process.Kill()
			}
		}
		if t.Failed() {
			for _, n := range specs {
				if b, err := os.ReadFile(filepath.Join(n.data, "node.log")); err == nil {
					lines := strings.Split(strings.TrimSpace(string(b)), "\n")
					t.Logf("--- %s: last log lines\n%s", n.name, strings.Join(lines[max(0, len(lines)-15):], "\n"))
				}
			}
		}
	})
	for _, n := range nodes {
		start(n)
	}
	ticks := func(name string) uint64 {
		var st struct{ Ticks uint64 }
		b, err := os.ReadFile(filepath.Join(nodes[name].data, "status.json"))
		if err == nil {
			_ = json.Unmarshal(b, &st)
		}
		return st.Ticks
	}
	waitTicks := func(what string, limit time.Duration, names []string, at map[string]uint64, more uint64) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for _, name := range names {
			for ticks(name) < at[name]+more {
				if time.Now().After(deadline) {
					t.Fatalf("%s: %s at tick %d, want %d within %v", what, name, ticks(name), at[name]+more, limit)
				}
				select {
				case err := <-nodes[name].exited:
					t.Fatalf("%s: node %s exited: %v", what, name, err)
				case <-time.After(200 * time.Millisecond):
				}
			}
		}
	}
	learners := []string{"c1", "c2", "c3", "e1", "e2", "e3", "e4", "e5"}
	zero := map[string]uint64{}
	// Phase A: convergence, every node up (20 rounds of 5 ticks).
	waitTicks("convergence", 4*time.Minute, learners, zero, 100)

	// Phase B: kill -9 a core, cut off two edges; the rest go on.
	c3 := nodes["c3"]
	if err := c3.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c3.exited
	lab.partition("e1")
	lab.partition("e2")
	at := map[string]uint64{}
	for _, n := range learners {
		at[n] = ticks(n)
	}
	waitTicks("after the kill and the partition", 3*time.Minute, []string{"c1", "c2", "e3", "e4", "e5"}, at, 50)

	// Phase C: the core restarts, the edges come back; all catch up.
	start(c3)
	lab.heal("e1")
	lab.heal("e2")
	for _, n := range learners {
		at[n] = ticks(n)
	}
	at["c3"] = 0
	waitTicks("after the return", 4*time.Minute, learners, at, 100)

	// Phase D: bad messages from this test's client, on its own subject
	// (the only one its permissions allow).
	injected, history := injectBad(t, roster, inj, injDir, "tls://"+lab.hosts["c1"]+":4222")
	for _, n := range learners {
		at[n] = ticks(n)
	}
	waitTicks("after the injection", 2*time.Minute, learners, at, 25)

	// Phase E: SIGTERM, the cores last (they hold the streams): every
	// node finishes its tick, leaves cleanly and reports.
	stop := func(names ...string) {
		for _, name := range names {
			_ = nodes[name].cmd.Process.Signal(syscall.SIGTERM)
		}
		for _, name := range names {
			select {
			case err := <-nodes[name].exited:
				if err != nil {
					t.Errorf("%s exited: %v", name, err)
				}
			case <-time.After(90 * time.Second):
				t.Fatalf("%s did not stop within 90 s of SIGTERM", name)
			}
		}
	}
	stop("e1", "e2", "e3", "e4", "e5", "r1", "o1")
	stop("c3")
	stop("c2")
	stop("c1")
	reports := map[string]*nodeReport{}
	for _, n := range specs {
		b, err := os.ReadFile(filepath.Join(n.data, "report.json"))
		if err != nil {
			t.Fatalf("%s: %v", n.name, err)
		}
		var r nodeReport
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: report: %v", n.name, err)
		}
		reports[n.name] = &r
	}
	checkReports(t, roster, reports, learners, injected)
	checkRate(t, reports["c1"], history)
	// The same check from the command line: the ledger with its witnesses
	// named by the roster.
	out, err := exec.Command(bin, "ledger", "verify", reports["c2"].LedgerDir, "--roster", rosterPath, "--node", "c2").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "witnessed") {
		t.Errorf("mec ledger verify --roster --node: %v\n%s", err, out)
	}
}

// nodeReport is the part of `mec node`'s report the test reads.
type nodeReport struct {
	Node   string    `json:"node"`
	Ticks  uint64    `json:"ticks"`
	Theta  []float64 `json:"theta"`
	Rounds []struct {
		Round   uint64    `json:"round"`
		Members []string  `json:"members"`
		Drift   float64   `json:"drift"`
		Rate    float64   `json:"rate"`
		Eta     float64   `json:"eta"`
		Theta   []float64 `json:"theta"`
	} `json:"rounds"`
	Stats   Stats `json:"stats"`
	Summary struct {
		Rollbacks []struct {
			FailedTick   uint64   `json:"failed_tick"`
			RestoredTick uint64   `json:"restored_tick"`
			Reasons      []string `json:"reasons"`
		} `json:"rollbacks"`
	} `json:"summary"`
	Links     []Link `json:"links"`
	LedgerDir string `json:"ledger_dir"`
	LedgerErr string `json:"ledger_verify_error"`
	Error     string `json:"error"`
}

// injectBad connects as the test's observer and publishes, on its own
// report subject: an unsigned message, a forged one, a valid report and
// its replay, and one from an origin nobody trusts. It returns how many
// of each kind every node must have counted at least, and the
// participants' public states of every round so far, read back from the
// MEC_FED stream.
func injectBad(t *testing.T, roster *Roster, id *Identity, dir, url string) (map[string]uint64, map[uint64]map[string][]float64) {
	t.Helper()
	n, err := Start(context.Background(), Config{Dir: dir, Roster: roster, Identity: id, NATS: []string{url}, JoinTimeout: 60 * time.Second,
		Logger: testLogger(t, "inj")})
	if err != nil {
		t.Fatalf("the test's client: %v", err)
	}
	defer n.Close(context.Background())
	for _, l := range n.Links() {
		if l.Group != tls.X25519MLKEM768.String() {
			t.Errorf("the test's link to %s negotiated %s", l.Peer, l.Group)
		}
	}
	subj := Subject("inj", KindReport)
	now := time.Now()
	body := (&Report{Verified: 1}).Marshal()
	_, stranger, _ := mldsa65.GenerateKey(rand.Reader)
	seal := func(sk *mldsa65.PrivateKey, origin string, seq uint64) []byte {
		env, err := bus.SealMessage(sk, bus.Message{Origin: origin, Target: subj, Timestamp: now, Sequence: seq, Body: body})
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	valid := seal(id.signSK, "inj", uint64(now.UnixMicro()))
	for _, env := range [][]byte{[]byte("unsigned garbage"), seal(stranger, "inj", 1), valid, valid, seal(stranger, "mallory", 1)} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := n.js.PublishMsg(ctx, &nats.Msg{Subject: subj, Data: env})
		cancel()
		if err != nil {
			t.Fatalf("injecting: %v", err)
		}
	}
	// The permissions hold: not on another node's subject.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := n.js.PublishMsg(ctx, &nats.Msg{Subject: Subject("c1", KindDelta), Data: valid}); err == nil {
		t.Error("the observer published on a core's subject")
	}
	return map[string]uint64{"malformed": 1, "forged": 1, "replayed": 1, "unknown origin": 1}, publicHistory(t, n)
}

// publicHistory replays the MEC_FED stream from its start into fresh
// mirrors and returns every participant's public state after each of its
// rounds: what it published at round r, its Θ before that round's mixing.
func publicHistory(t *testing.T, n *Node) map[uint64]map[string][]float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := n.js.Stream(ctx, StreamFed)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// An ordered consumer from the start, reopened after the last
	// sequence read when the cluster hiccups (a leader moving after c3's
	// restart answers "no responders" for a moment): a timeout is the
	// end of the deltas, any other error a retry, within a bound.
	var last uint64
	open := func() jetstream.Consumer {
		cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{SubjectPrefix + ".*." + KindDelta}}
		if last > 0 {
			cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, last+1
		}
		c, err := n.js.OrderedConsumer(ctx, StreamFed, cfg)
		if err != nil {
			t.Logf("public history: opening a consumer: %v", err)
			return nil
		}
		return c
	}
	cons := open()
	l := newLearner(n)
	hist := map[uint64]map[string][]float64{}
	read, refused, retries, streak := 0, 0, 0, 0
	defer func() {
		t.Logf("public history: %d deltas read (%d refused, %d retries) of stream sequence %d", read, refused, retries, info.State.LastSeq)
	}()
	for ctx.Err() == nil {
		var msg jetstream.Msg
		err := errors.New("no consumer")
		if cons != nil {
			msg, err = cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		}
		if errors.Is(err, nats.ErrTimeout) {
			break // the end of the deltas
		}
		if err != nil {
			// Bounded by the retries in a row without a message read (and
			// by ctx): a long history may see many hiccups, each of them
			// followed by progress.
			retries++
			if streak++; streak > 20 {
				t.Fatalf("public history: %v (after %d retries in a row, %d in all)", err, streak-1, retries-1)
			}
			t.Logf("public history: %v; reopening after sequence %d", err, last)
			time.Sleep(time.Second)
			cons = open()
			continue
		}
		read++
		streak = 0
		md, _ := msg.Metadata()
		if md != nil {
			last = md.Sequence.Stream
		}
		m, _, _, err := bus.Parse(msg.Data())
		if err == nil {
			if d, err := UnmarshalDelta(m.Body); err == nil {
				if err := l.apply(m.Origin, d); err != nil {
					refused++
					if refused <= 5 {
						t.Logf("public history: %s round %d: %v", m.Origin, d.Round, err)
					}
				}
				if mr := l.peers[m.Origin]; d.Chunk == d.Chunks-1 && mr.synced {
					if hist[d.Round] == nil {
						hist[d.Round] = map[string][]float64{}
					}
					hist[d.Round][m.Origin] = slices.Clone(mr.state)
				}
			}
		}
		if md != nil && md.Sequence.Stream >= info.State.LastSeq {
			break
		}
	}
	return hist
}

// checkReports asserts the acceptance criteria on the nodes' reports.
func checkReports(t *testing.T, roster *Roster, reports map[string]*nodeReport, learners []string, injected map[string]uint64) {
	t.Helper()
	for name, r := range reports {
		if r.Error != "" || r.LedgerErr != "" {
			t.Errorf("%s: error %q, ledger %q", name, r.Error, r.LedgerErr)
		}
		if name[0] != 'c' && r.Stats.UnackedAtExit != 0 {
			t.Errorf("%s left with %d messages unacknowledged while the cores were up", name, r.Stats.UnackedAtExit)
		}
		s := r.Stats
		got := map[string]uint64{"malformed": s.Bus.Malformed, "forged": s.Bus.Forged, "replayed": s.Bus.Replayed, "unknown origin": s.Bus.UnknownOrigin}
		for k, want := range injected {
			if got[k] < want {
				t.Errorf("%s counted %d %s messages, want ≥ %d (stats %+v)", name, got[k], k, want, s.Bus)
			}
		}
		for _, l := range r.Links {
			if l.Group != tls.X25519MLKEM768.String() {
				t.Errorf("%s: %s link to %s negotiated %s", name, l.Kind, l.Peer, l.Group)
			}
		}
		if len(r.Links) == 0 {
			t.Errorf("%s: no TLS link recorded", name)
		}
	}
	// Every core's ledger is witnessed by the other cores.
	for _, c := range []string{"c1", "c2"} {
		keys, quorum, err := roster.Witnesses(c)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := ledger.Verify(reports[c].LedgerDir, ledger.VerifyOptions{Witnesses: keys, MinWitnesses: quorum})
		if err != nil || rep.Witnessed == nil {
			t.Errorf("%s's ledger with its witnesses: %v", c, err)
		} else {
			t.Logf("%s: %d records, witnessed at size %d by %v", c, rep.Records, rep.Witnessed.Checkpoint.Size, rep.Witnessed.Cosigners)
			// Witnessing goes on after c3's restart (a witness that
			// missed submissions gets a proof from where it co-signed
			// last): the quorum of two needs c3, so a witnessed size
			// from before the kill would be a third of the ledger.
			if 2*rep.Witnessed.Checkpoint.Size < uint64(rep.Records) {
				t.Errorf("%s: witnessed only up to size %d of %d records", c, rep.Witnessed.Checkpoint.Size, rep.Records)
			}
		}
	}
	if reports["c3"].Stats.Cosigned == 0 {
		t.Error("c3 co-signed nothing after its restart")
	}
	if reports["o1"].Stats.CheckpointsVerified == 0 || reports["o1"].Stats.Forks != 0 {
		t.Errorf("observer: %+v", reports["o1"].Stats)
	}
	// The final drift across every learner, the cut-off and restarted ones
	// included.
	var finals [][]float64
	for _, n := range learners {
		finals = append(finals, reports[n].Theta)
	}
	drift, err := consensus.Drift(finals)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("final drift across %d nodes: %.3g", len(finals), drift)
	if !(drift < 0.05) {
		var rows []string
		for _, n := range learners {
			r := reports[n]
			row := fmt.Sprintf("%s: %d ticks, %d rounds, Θ %.4g, %d rollbacks", n, r.Ticks, len(r.Rounds), r.Theta, len(r.Summary.Rollbacks))
			if k := len(r.Summary.Rollbacks); k > 0 {
				rb := r.Summary.Rollbacks[k-1]
				row += fmt.Sprintf(" (the last at tick %d to %d: %s)", rb.FailedTick, rb.RestoredTick, strings.Join(rb.Reasons, "; "))
			}
			if k := len(r.Rounds); k > 0 {
				rr := r.Rounds[k-1]
				row += fmt.Sprintf("; last round %d with %v", rr.Round, rr.Members)
			}
			rows = append(rows, row)
		}
		t.Errorf("final drift %.3g, want < 0.05\n%s", drift, strings.Join(rows, "\n"))
	}
}

// checkRate compares the measured decay of the disagreement over the
// rounds in which every participant took part (from the public states in
// the stream: each participant's Θ before the round's mixing) with what
// the ring's Metropolis–Hastings spectrum predicts: the states of round
// r + 1 ≈ (I − ηL) × those of round r, up to the nodes' own (slow)
// learning in between; and asymptotically the contraction per round is
// the reported rate max_{k≥2} |1 − ηλ_k|.
func checkRate(t *testing.T, c1 *nodeReport, hist map[uint64]map[string][]float64) {
	t.Helper()
	parts := []string{"c1", "c2", "c3", "e1", "e2", "r1"}
	full := map[uint64]bool{}
	var rate, eta float64
	for _, rr := range c1.Rounds {
		if len(rr.Members) == len(parts) {
			full[rr.Round] = true
			rate, eta = rr.Rate, rr.Eta
		}
	}
	states := func(r uint64) [][]float64 {
		var s [][]float64
		for _, p := range parts {
			x, ok := hist[r][p]
			if !ok {
				return nil
			}
			s = append(s, x)
		}
		return s
	}
	// dis is the disagreement of round r's states (NaN when the stream
	// lacks one of them).
	dis := func(r uint64) float64 {
		d, err := consensus.Disagreement(states(r))
		if err != nil {
			return math.NaN()
		}
		return d
	}
	// Of the runs of at least 5 consecutive rounds in which every
	// participant took part (a round's timeout under load can leave one
	// out), the one that starts from the largest disagreement: the
	// consensus shows there, before the nodes' own learning sets the
	// floor (the nodes start far apart on purpose).
	var run, cur []uint64
	best := -1.0
	consider := func() {
		if len(cur) < 5 {
			return
		}
		if d := dis(cur[0]); d > best {
			best, run = d, slices.Clone(cur)
		}
	}
	for r := uint64(1); r < 400; r++ {
		if full[r] && states(r) != nil && states(r+1) != nil {
			cur = append(cur, r)
			continue
		}
		consider()
		cur = nil
	}
	consider()
	if len(run) < 5 || rate == 0 {
		var rows []string
		for r := uint64(1); r <= 30; r++ {
			var have []string
			for _, p := range parts {
				if _, ok := hist[r][p]; ok {
					have = append(have, p)
				}
			}
			rows = append(rows, fmt.Sprintf("round %d: c1 averaged %v; the stream holds the states of %v", r, full[r], have))
		}
		t.Fatalf("only %d consecutive rounds with all %d participants (rate %v)\n%s", len(run), len(parts), rate, strings.Join(rows, "\n"))
	}
	g, _ := consensus.Ring(len(parts))
	w, _ := consensus.MetropolisHastings(g)
	predicted, _ := consensus.Rate(w, eta)
	if math.Abs(predicted-rate) > 1e-12 {
		t.Errorf("the nodes reported rate %v, the ring of %d predicts %v", rate, len(parts), predicted)
	}
	d0 := dis(run[0])
	var lines []string
	worst, checked := 0.0, 0
	for _, r := range run {
		x := states(r)
		next := make([][]float64, len(x))
		for i := range next {
			next[i] = make([]float64, len(x[i]))
		}
		if err := consensus.Step(w, eta, x, next); err != nil {
			t.Fatal(err)
		}
		dp, _ := consensus.Disagreement(next)
		dm := dis(r + 1)
		lines = append(lines, fmt.Sprintf("round %d → %d: measured %.4g, predicted %.4g", r, r+1, dm, dp))
		if dp > 0.05*d0 { // above the floor where the nodes' own learning shows
			worst = math.Max(worst, math.Abs(dm-dp)/dp)
			checked++
		}
	}
	t.Logf("disagreement from %.3g (ring of %d, η %g, contraction %.3f per round predicted by the spectrum):\n%s", d0, len(parts), eta, rate,
		strings.Join(lines, "\n"))
	if checked < 3 || worst > 0.25 {
		t.Errorf("measured disagreement departs from the spectral prediction by up to %.0f%% over %d rounds", 100*worst, checked)
	}
	// Once the slower modes dominate, each round contracts by the rate:
	// checked over the last (up to) 5 rounds of the run's first
	// uninterrupted decay that still ends well above the floor the nodes'
	// own learning sets (30 × the least disagreement of any round in the
	// stream, and 10⁻³ of the start), as the geometric mean of their
	// contractions: near the floor, what the nodes learn between rounds
	// (and a relay's aggregation landing in its group model) is as large
	// as what a round removes, and one round alone can be kicked. A rise
	// ends the decay too: right after one, the fast modes are back and one
	// round contracts by more than the rate.
	floor := math.Inf(1)
	for x := range hist {
		if d := dis(x); d < floor {
			floor = d
		}
	}
	var decay []uint64
	for _, x := range run {
		d, dn := dis(x), dis(x+1)
		if dn < math.Max(1e-3*d0, 30*floor) || dn > d {
			break
		}
		decay = append(decay, x)
	}
	if len(decay) < 3 {
		// Too short to leave the fast modes behind: the per-round
		// comparison with the spectrum above is the check.
		t.Logf("the first decay lasts %d rounds above 30 × the floor (%.3g): no asymptotic contraction to check", len(decay), floor)
	} else {
		from, to := decay[max(0, len(decay)-5)], decay[len(decay)-1]+1
		df, dt := dis(from), dis(to)
		c := math.Pow(dt/df, 1/float64(to-from))
		t.Logf("contraction %.3f per round over rounds %d–%d (the floor: %.3g), the spectrum predicts %.3f", c, from, to, floor, rate)
		if math.Abs(c-rate) > 0.15*rate {
			t.Errorf("contraction %.3f per round over rounds %d–%d, the spectrum predicts %.3f", c, from, to, rate)
		}
	}
	last := run[len(run)-1] + 1
	dl := dis(last)
	fit := math.Pow(dl/d0, 1/float64(last-run[0]))
	t.Logf("mean contraction per round over rounds %d–%d: %.3f (predicted %.3f)", run[0], last, fit, rate)
	if !(dl < d0/10) {
		t.Errorf("disagreement %.3g after rounds %d–%d, from %.3g: not converging to the mean", dl, run[0], last, d0)
	}
}
