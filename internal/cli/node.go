package cli

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/prismai/mec/federation"
	"github.com/prismai/mec/fusion"
	"github.com/prismai/mec/ops"
	"github.com/prismai/mec/runtime/ledger"
	"github.com/prismai/mec/runtime/orchestrator"
)

func init() { subcommands = append(subcommands, newNodeCmd) }

func newNodeCmd() *cobra.Command {
	var configFile string
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run one federated MEC node (core, edge, relay or observer) until SIGTERM",
		Long: `Run one long-lived node of a federation (package federation): its own
modules and ledger (core and edge nodes run the eight-module runtime of
` + "`mec run`" + `), its own keys (made by ` + "`mec node init`" + ` on this machine), and the
protocols of its role over NATS:

  core      an embedded NATS server with JetStream, clustered with the other
            cores through NATS routes; learns directly; witnesses the other
            nodes' ledgers
  edge      joins through an embedded NATS leaf node; learns directly, or
            through its relay with secure aggregation
  relay     aggregates the updates of the edges behind it (it learns their
            sum only) and learns on the group's behalf
  observer  reads and verifies everything; publishes only its reports

Every link is mutual TLS 1.3 with the hybrid post-quantum key exchange
X25519MLKEM768, between the certificates of the roster only; every message
is signed (ML-DSA-65) and checked: forged, replayed, stale, out-of-order,
misrouted and other-version messages are rejected and counted.

--nats URL,... uses an external NATS cluster instead of the embedded server
(its accounts: ` + "`mec node nats-config`" + `). The node serves /healthz, /readyz
and /metrics (Prometheus) over HTTPS with its own certificate (--http,
default :8443); /readyz answers 200 only once the configuration check, the
federation join and the phase-lock calibration have passed, in that
order. The node runs until SIGTERM or SIGINT (or --ticks ticks): it stops
taking work, finishes the tick, flushes and signs its ledger, leaves the
federation cleanly and writes its report (--report).

Settings come from a YAML file (--config, or $MEC_NODE_CONFIG), the
environment (PRISM_NODE_ROLE, MEC_NODE_DATA, MEC_ROSTER, MEC_NODE_SCENARIO,
MEC_NATS_URL, MEC_NODE_JOIN, MEC_NODE_HTTP, ...: see package ops) and the
flags, flags winning over the environment over the file; unknown keys and
bad values are errors naming the key and where it came from (file:line,
variable or flag).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configFile == "" {
				configFile = os.Getenv(ops.ConfigEnv)
			}
			cfg, origins, err := ops.LoadNodeConfig(ops.Layers{File: configFile, LookupEnv: os.LookupEnv, Flags: ops.ChangedFlags(cmd.Flags())})
			if err != nil {
				return fmt.Errorf("node: %w", err)
			}
			return runNode(cmd, cfg, origins.Set("seed"))
		},
	}
	d := ops.DefaultNodeConfig()
	f := cmd.Flags()
	f.StringVar(&configFile, "config", "", "the node's settings (YAML; the keys of these flags); $"+ops.ConfigEnv)
	f.String("data", "", "the node's data directory (keys, ledger, JetStream store); $MEC_NODE_DATA")
	f.String("roster", "", "the federation's roster (federation.yaml); $MEC_ROSTER")
	f.String("role", "", "expected role: core, edge, relay or observer (checked against the node's keys); $PRISM_NODE_ROLE")
	f.String("scenario", "", "runtime scenario (YAML/JSON, as `mec run --config`); $MEC_NODE_SCENARIO")
	f.StringSlice("nats", nil, "external NATS cluster client URLs (tls://host:port,...) instead of the embedded server; $MEC_NATS_URL")
	f.StringSlice("join", nil, "route URLs of the other cores (tls://host:6222,...; default: the roster's); $MEC_NODE_JOIN")
	f.String("listen-host", "", "host the embedded listeners bind (default: the roster URL's IP, else all interfaces)")
	f.String("http", d.HTTP.Listen, "address of the HTTPS endpoints /healthz, /readyz and /metrics; $MEC_NODE_HTTP")
	f.Int("ticks", 0, "stop after this many meta-epochs (0: run until SIGTERM)")
	f.Duration("tick-interval", 0, "pause between meta-epochs (0: as fast as the federation allows)")
	f.Uint64("seed", 0, "seed of this node's randomness (default: the scenario's seed mixed with the node's name)")
	f.String("report", "", "write the node's JSON report to this file at exit (default: standard output)")
	f.Duration("wait-peers", d.WaitPeers, "before the first tick, wait up to this long for every other node of the roster (observers aside) to be live")
	f.String("status", "", "keep a small JSON progress file here (ticks done), replaced atomically")
	f.String("log-format", d.Log.Format, "log format: auto (JSON unless on a terminal), json or text")
	f.String("log-level", d.Log.Level, "log level: debug, info, warn or error")
	cmd.AddCommand(newNodeInitCmd(), newNodeRosterCmd(), newNodeNATSConfigCmd())
	return cmd
}

// RoundRecord is one learning round as a node's report lists it.
type RoundRecord struct {
	Round   uint64    `json:"round"`
	Tick    uint64    `json:"tick"`
	Members []string  `json:"members"`
	Drift   float64   `json:"drift"`
	Rate    float64   `json:"rate"`
	Gap     float64   `json:"gap"`
	Eta     float64   `json:"eta"`
	Epsilon float64   `json:"epsilon"`
	Hash    string    `json:"federated_hash"`
	Theta   []float64 `json:"theta"`
}

// NodeReport is what `mec node` writes when it stops.
type NodeReport struct {
	Node       string                `json:"node"`
	Role       string                `json:"role"`
	Federation string                `json:"federation"`
	Seed       uint64                `json:"seed"`
	Ticks      uint64                `json:"ticks"`
	Theta      []float64             `json:"theta,omitempty"`
	Rounds     []RoundRecord         `json:"rounds,omitempty"`
	MaxDrift   float64               `json:"max_drift"`
	Epsilon    float64               `json:"epsilon"`
	Stats      federation.Stats      `json:"stats"`
	Links      []federation.Link     `json:"links"`
	Summary    *orchestrator.Summary `json:"summary,omitempty"`
	LedgerDir  string                `json:"ledger_dir"`
	Ledger     *ledger.Report        `json:"ledger_verify,omitempty"`
	LedgerErr  string                `json:"ledger_verify_error,omitempty"`
	Error      string                `json:"error,omitempty"`
}

// nodeFed wraps the federation node for the runtime and records rounds.
type nodeFed struct {
	*federation.Node
	mu     sync.Mutex
	tick   uint64
	rounds []RoundRecord
	max    float64
	last   *federation.RoundResult
}

func (f *nodeFed) Round(ctx context.Context, r uint64, w []float64) (*federation.RoundResult, error) {
	res, err := f.Node.Round(ctx, r, w)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last = res
	f.max = max(f.max, res.Drift)
	if len(f.rounds) >= 5000 {
		f.rounds = slices.Delete(f.rounds, 0, 1)
	}
	f.rounds = append(f.rounds, RoundRecord{Round: res.Round, Tick: f.tick, Members: res.Members, Drift: res.Drift, Rate: res.Rate, Gap: res.Gap,
		Eta: res.Eta, Epsilon: res.Epsilon, Hash: res.Hash, Theta: slices.Clone(res.Theta)})
	return res, nil
}

func (f *nodeFed) Tick(t uint64) {
	f.mu.Lock()
	f.tick = t
	f.mu.Unlock()
	f.Node.Tick(t)
}

func (f *nodeFed) RolledBack(ctx context.Context, at, to, toRound uint64, reason string) error {
	return f.Node.RolledBack(ctx, at, to, toRound, reason)
}

func runNode(cmd *cobra.Command, o ops.NodeConfig, seedSet bool) error {
	log, err := ops.NewLogger(cmd.ErrOrStderr(), o.Log.Format, o.Log.Level)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	// §17: the configuration check, then the federation join, then the
	// phase-lock calibration; /readyz is 200 only after all three.
	ready, err := ops.NewReadiness(log, ops.NodeSteps()...)
	if err != nil {
		return err
	}
	metrics := ops.NewMetrics()
	id, err := federation.LoadIdentity(o.Data, federation.Member{})
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	if o.Role != "" && federation.Role(o.Role) != id.Member.Role {
		return fmt.Errorf("node: role %s, but the keys in %s are those of %s node %s", o.Role, o.Data, id.Member.Role, id.Name())
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(o.Data, federation.TLSCertFile), filepath.Join(o.Data, federation.TLSKeyFile))
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	httpSrv, err := ops.NewServer(ops.ServerConfig{Addr: o.HTTP.Listen, Certificate: &cert, Plain: !o.HTTP.TLS, Readiness: ready, Metrics: metrics,
		Logger: log, DrainDelay: 2 * time.Second})
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	if err := httpSrv.Start(); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = httpSrv.Shutdown(ctx)
	}()
	roster, err := federation.LoadRoster(o.Roster)
	if err != nil {
		_ = ready.Fail(ops.StepConfig, err)
		return fmt.Errorf("node: %w", err)
	}
	cfg, err := orchestrator.DefaultConfig()
	if o.Scenario != "" {
		cfg, err = orchestrator.LoadConfig(o.Scenario)
	}
	if err != nil {
		_ = ready.Fail(ops.StepConfig, err)
		return fmt.Errorf("node: %w", err)
	}
	seed := o.Seed
	if !seedSet {
		h := fnv.New64a()
		h.Write([]byte(id.Name()))
		seed = cfg.Seed ^ h.Sum64()
	}
	cfg.Seed = seed
	log = log.With("federation", roster.Federation)
	_ = ready.Pass(ops.StepConfig)

	// The ledger: signed by the node's own key, its checkpoints witnessed.
	var hook atomic.Pointer[federation.Node]
	ledDir := filepath.Join(o.Data, "ledger")
	origin := federation.LedgerOrigin(roster.Federation, id.Name())
	signer, err := id.LedgerSigner(origin)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	led, err := ledger.Open(ledDir, ledger.Options{Origin: origin, Signer: signer, CheckpointEvery: 256, CheckpointInterval: 200 * time.Millisecond,
		OnCheckpoint: func(note []byte, c *ledger.Checkpoint) {
			if n := hook.Load(); n != nil {
				n.OnCheckpoint(note, c)
			}
		}})
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	rep := &NodeReport{Node: id.Name(), Role: string(id.Member.Role), Federation: roster.Federation, Seed: seed, LedgerDir: ledDir}

	// Stop on SIGTERM or SIGINT: stop taking work (readiness and health go
	// 503), finish the tick; a second signal cancels the work in flight.
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sig)
	work, cancelWork := context.WithCancel(context.Background())
	defer cancelWork()
	var stopping atomic.Bool
	go func() {
		select {
		case s := <-sig:
			log.Info("stopping: finishing the tick, then leaving the federation", "signal", s.String())
			stopping.Store(true)
		case <-cmd.Context().Done():
			stopping.Store(true)
		case <-work.Done():
			return
		}
		select {
		case <-sig:
			log.Warn("second signal: cancelling the work in flight")
			cancelWork()
		case <-work.Done():
		}
	}()

	node, err := federation.Start(work, federation.Config{Dir: o.Data, Roster: roster, Identity: id, NATS: o.NATS, Join: o.Join,
		ListenHost: o.ListenHost, Ledger: led, InitialTheta: cfg.InitialW(), Logger: log})
	if err != nil {
		_ = ready.Fail(ops.StepFederationJoin, err)
		return errors.Join(fmt.Errorf("node: %w", err), led.Close())
	}
	hook.Store(node)
	fed := &nodeFed{Node: node}
	waitPeers(work, node, roster, o.WaitPeers, &stopping, log)
	_ = ready.Pass(ops.StepFederationJoin)
	obs := &nodeObserver{m: metrics, node: node, ready: ready}
	var o2 *orchestrator.Orchestrator
	var runErr error
	if id.Member.Role.Learns() {
		var engines fusion.Engines
		o2, engines, runErr = newNodeRuntime(work, cmd, cfg, led, seed)
		if runErr == nil {
			bn := backendNames(engines)
			metrics.SetBackend(bn["state_vector"], os.Getenv("MEC_OPENCL_DEVICE")+os.Getenv("MEC_CUDA_DEVICE"))
			o2.SetFederation(fed)
			obs.o = o2
			runErr = tickNode(work, o2, o, &stopping, log, obs)
		}
	} else {
		_ = ready.Pass(ops.StepPhaseLock) // no phase to lock
		for !stopping.Load() && work.Err() == nil {
			writeStatus(o.Status, 0, node.Ready())
			obs.observe(nil)
			time.Sleep(100 * time.Millisecond)
		}
	}
	// Not ready any more: the load balancer stops sending work first.
	_ = ready.Reset(ops.StepConfig, "shutting down")

	// Shut down: the summary, leave the federation (flushing what it
	// acknowledged), close and sign the ledger, verify it.
	if o2 != nil {
		st := o2.State()
		rep.Ticks, rep.Theta = st.Tick, st.Theta.W
		if sum, err := o2.Summary(); err == nil {
			rep.Summary = sum
		} else {
			runErr = errors.Join(runErr, err)
		}
		o2.Close()
	}
	fed.mu.Lock()
	rep.Rounds, rep.MaxDrift = fed.rounds, fed.max
	if fed.last != nil {
		rep.Epsilon = fed.last.Epsilon
	}
	fed.mu.Unlock()
	closeCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := node.Close(closeCtx); err != nil {
		runErr = errors.Join(runErr, err)
	}
	rep.Stats, rep.Links = node.Stats(), node.Links()
	if err := led.Close(); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("node: closing the ledger: %w", err))
	}
	if r, err := ledger.Verify(ledDir, ledger.VerifyOptions{Verifier: signer.Verifier()}); err != nil {
		rep.LedgerErr = err.Error()
		runErr = errors.Join(runErr, fmt.Errorf("node: the ledger does not verify: %w", err))
	} else {
		rep.Ledger = r
	}
	if runErr != nil {
		rep.Error = runErr.Error()
	}
	if err := writeReport(cmd, o.Report, rep); err != nil {
		runErr = errors.Join(runErr, err)
	}
	log.Info("stopped", "ticks", rep.Ticks, "rounds", len(rep.Rounds), "rejected", rep.Stats.Rejected(), "err", runErr)
	return runErr
}

// nodeObserver feeds a node's metrics and readiness from its runtime and
// its federation.
type nodeObserver struct {
	m     *ops.Metrics
	node  *federation.Node
	ready *ops.Readiness
	o     *orchestrator.Orchestrator
	lags  int
	phase bool
}

func (b *nodeObserver) observe(rep *orchestrator.TickReport) {
	if rep != nil {
		b.m.ObserveTick(rep.Rollback != nil, rep.Metrics)
		// The phase-lock calibration: the first committed tick whose phase
		// is within ε_φ of the federation's consensus.
		if !b.phase && rep.Rollback == nil && rep.Metrics["phase_outlier"] == 0 {
			if _, ok := rep.Metrics["phase_consensus"]; ok {
				b.phase = b.ready.Pass(ops.StepPhaseLock) == nil
			}
		}
	}
	if b.o != nil {
		lags := b.o.Recorder().Lags()
		if len(lags) < b.lags {
			b.lags = 0
		}
		b.m.ObserveLedgerAppends(lags[b.lags:]...)
		b.lags = len(lags)
		bs := b.o.Bus().Stats()
		b.m.ObserveRejections(ops.BusLocal, ops.Rejections{Forged: bs.Forged, Replayed: bs.Replayed, OutOfOrder: bs.OutOfOrder, Stale: bs.Stale,
			Malformed: bs.Malformed, UnknownOrigin: bs.UnknownOrigin, Misrouted: bs.Misrouted, NoTarget: bs.NoTarget})
	}
	st := b.node.Stats()
	fb := st.Bus
	b.m.ObserveRejections(ops.BusFederation, ops.Rejections{Forged: fb.Forged, Replayed: fb.Replayed, OutOfOrder: fb.OutOfOrder, Stale: fb.Stale,
		Malformed: fb.Malformed, UnknownOrigin: fb.UnknownOrigin, Misrouted: fb.Misrouted, NoTarget: fb.NoTarget, Version: st.Version, BadBody: st.BadBody})
	groups := map[string]int{}
	for _, l := range b.node.Links() {
		groups[l.Group]++
	}
	b.m.ObserveFederation(ops.FederationStats{Rounds: st.Rounds, Live: len(b.node.Live()), LinksByGroup: groups})
}

// waitPeers waits until every other member of the roster but the
// observers is live (or the wait ends), so that a federation starting
// together learns together.
func waitPeers(ctx context.Context, n *federation.Node, r *federation.Roster, wait time.Duration, stopping *atomic.Bool, log *slog.Logger) {
	deadline := time.Now().Add(wait)
	for !stopping.Load() && ctx.Err() == nil {
		live := n.Live()
		var missing []string
		for _, m := range r.Members {
			if m.Role != federation.Observer && !slices.Contains(live, m.Name) {
				missing = append(missing, m.Name)
			}
		}
		if len(missing) == 0 {
			log.Info("every node of the roster is live", "nodes", len(live))
			return
		}
		if time.Now().After(deadline) {
			log.Warn("starting without every node live", "missing", missing, "waited", wait)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// newNodeRuntime builds the eight-module runtime of a learning node.
func newNodeRuntime(ctx context.Context, cmd *cobra.Command, cfg orchestrator.Config, led *ledger.Ledger, seed uint64) (*orchestrator.Orchestrator, fusion.Engines, error) {
	engines, err := fusion.SelectEngines(backendFlag(cmd))
	if err != nil {
		return nil, engines, err
	}
	fc := cfg.FusionConfig()
	if fc.Network == nil {
		fc.Network = fusion.DefaultNetwork(64)
	}
	fc.Network.Seed = seed // each node its own network
	eng, err := orchestrator.NewFusionEngine(fc, engines)
	if err != nil {
		return nil, engines, err
	}
	o, err := orchestrator.New(ctx, cfg, eng, orchestrator.NewRecorder(led), 0)
	if err != nil {
		eng.Close()
		return nil, engines, err
	}
	return o, engines, nil
}

// tickNode runs meta-epochs until stopped or --ticks, then records the
// last bus messages (Orchestrator.FlushMessages).
func tickNode(ctx context.Context, o *orchestrator.Orchestrator, opts ops.NodeConfig, stopping *atomic.Bool, log *slog.Logger, obs *nodeObserver) error {
	for !stopping.Load() {
		t := o.State().Tick
		if opts.Ticks > 0 && t >= uint64(opts.Ticks) {
			return o.FlushMessages(ctx)
		}
		rep, err := o.Tick(ctx)
		if err != nil {
			return err
		}
		obs.observe(rep)
		if rb := rep.Rollback; rb != nil {
			log.Warn("rolled back", "at", rb.At, "to", rb.To, "escalation", rb.Escalation, "isolated", rb.Isolated,
				"reasons", strings.Join(rb.Reasons, "; "))
		}
		if t%10 == 0 {
			writeStatus(opts.Status, t, true)
		}
		if opts.TickInterval > 0 {
			time.Sleep(opts.TickInterval)
		}
	}
	return o.FlushMessages(ctx)
}

// writeStatus replaces a small progress file (for `mec run --federation`).
func writeStatus(path string, ticks uint64, ready bool) {
	if path == "" {
		return
	}
	b, _ := json.Marshal(map[string]any{"ticks": ticks, "ready": ready})
	tmp := path + ".tmp"
	if os.WriteFile(tmp, b, 0o644) == nil {
		_ = os.Rename(tmp, path)
	}
}

func writeReport(cmd *cobra.Command, path string, rep *NodeReport) error {
	if path == "" {
		return writeJSON(cmd.OutOrStdout(), rep)
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("node: writing the report: %w", err)
	}
	return os.Rename(tmp, path)
}

func newNodeInitCmd() *cobra.Command {
	var o federation.InitOptions
	var data, role string
	cmd := &cobra.Command{
		Use:   "init --data DIR --name NAME --role ROLE",
		Short: "Create a node's keys (kept in DIR, mode 0600) and print its public roster entry",
		Long: `init generates the node's keys on this machine — ML-DSA-65 (signing its
messages, ledger checkpoints and witness co-signatures), ML-KEM-768 (pair
secrets of secure aggregation), a NATS user NKEY and a self-signed TLS
certificate — into DIR with mode 0600, and writes DIR/member.yaml, the
node's public entry for the roster. Nothing secret leaves DIR. Cores give
--client, --route and --leaf (the URLs other nodes reach them at); relays
give --leaf; edges behind a relay give --relay.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := federation.ParseRole(role)
			if err != nil {
				return fmt.Errorf("node init: %w", err)
			}
			if data == "" {
				return errors.New("node init: --data is required")
			}
			o.Role = r
			id, err := federation.Init(data, o)
			if err != nil {
				return err
			}
			b, err := os.ReadFile(filepath.Join(data, federation.MemberFile))
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s", b)
			_ = id
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", "", "the node's data directory (created)")
	f.StringVar(&o.Name, "name", "", "node name (a–z, 0–9, '-')")
	f.StringVar(&role, "role", "", "core, edge, relay or observer")
	f.StringVar(&o.Relay, "relay", "", "edges: the relay that aggregates this edge's updates")
	f.StringVar(&o.Client, "client", "", "cores: NATS client URL others reach it at (tls://HOST:4222)")
	f.StringVar(&o.Route, "route", "", "cores: cluster (route) URL (tls://HOST:6222)")
	f.StringVar(&o.Leaf, "leaf", "", "cores and relays: leaf node URL (tls://HOST:7422)")
	f.StringSliceVar(&o.SANs, "san", nil, "extra certificate host names or addresses")
	return cmd
}

func newNodeRosterCmd() *cobra.Command {
	var out, fedName, topology string
	var dpClip, dpNoise float64
	cmd := &cobra.Command{
		Use:   "roster --federation NAME MEMBER.yaml...",
		Short: "Merge nodes' public entries (member.yaml) into a federation roster",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := &federation.Roster{Version: federation.ProtocolVersion, Federation: fedName}
			r.Learning.Topology = topology
			if dpNoise > 0 {
				r.Learning.DP = federation.DPConfig{Enabled: true, Clip: dpClip, NoiseMultiplier: dpNoise}
			}
			for _, a := range args {
				m, err := readMember(a)
				if err != nil {
					return fmt.Errorf("node roster: %w", err)
				}
				r.Members = append(r.Members, m)
			}
			if err := r.Validate(); err != nil {
				return fmt.Errorf("node roster: %w", err)
			}
			b, err := r.Marshal()
			if err != nil {
				return err
			}
			if out == "" {
				_, err = cmd.OutOrStdout().Write(b)
				return err
			}
			return os.WriteFile(out, b, 0o644)
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "write the roster here (default: standard output)")
	f.StringVar(&fedName, "federation", "", "the federation's name")
	f.StringVar(&topology, "topology", "complete", "learning graph over the live participants: complete or ring")
	f.Float64Var(&dpClip, "dp-clip", 1, "differential privacy: L2 bound C of one round's update")
	f.Float64Var(&dpNoise, "dp-noise", 0, "differential privacy: noise multiplier σ (0: off)")
	return cmd
}

// readMember reads a member.yaml (strictly).
func readMember(path string) (federation.Member, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return federation.Member{}, err
	}
	m, err := federation.ParseMember(b)
	if err != nil {
		return federation.Member{}, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func newNodeNATSConfigCmd() *cobra.Command {
	var rosterPath, caOut string
	cmd := &cobra.Command{
		Use:   "nats-config --roster FILE",
		Short: "Print the NATS accounts, per-node users (NKEYs) and per-role permissions for an external NATS cluster",
		Long: `nats-config prints the part of a nats-server configuration an external
cluster needs for this federation: the account MEC (with JetStream), one
user per node authenticated by its NKEY with the subject permissions of its
role, and the system account. Add it to the servers' configuration, with
TLS 1.3 and verify (--ca-out writes the roster's node certificates, the
servers' ca_file), put the servers' certificates (or their CA) into the
roster's external_ca, and run the nodes with --nats tls://HOST:4222,...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := federation.LoadRoster(rosterPath)
			if err != nil {
				return err
			}
			if caOut != "" {
				if err := os.WriteFile(caOut, []byte(r.CertBundle()), 0o644); err != nil {
					return fmt.Errorf("node nats-config: %w", err)
				}
			}
			_, err = io.WriteString(cmd.OutOrStdout(), r.NATSConfig(nil, true, ""))
			return err
		},
	}
	cmd.Flags().StringVar(&rosterPath, "roster", "", "the federation's roster")
	cmd.Flags().StringVar(&caOut, "ca-out", "", "also write the nodes' certificates (the servers' tls ca_file) to this file")
	return cmd
}
