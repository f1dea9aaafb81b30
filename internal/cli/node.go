package cli

import (
	"context"
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
	"golang.org/x/term"

	"github.com/prismai/mec/federation"
	"github.com/prismai/mec/fusion"
	"github.com/prismai/mec/ledger"
	"github.com/prismai/mec/orchestrator"
)

func init() { subcommands = append(subcommands, newNodeCmd) }

// nodeOptions are the settings of `mec node`.
type nodeOptions struct {
	data, roster, role, scenario string
	nats, join                   []string
	listenHost                   string
	ticks                        int
	tickInterval                 time.Duration
	seed                         uint64
	seedSet                      bool
	report                       string
	status                       string
	waitPeers                    time.Duration
	logFormat, logLevel          string
}

func newNodeCmd() *cobra.Command {
	var o nodeOptions
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
(its accounts: ` + "`mec node nats-config`" + `). The node runs until SIGTERM or
SIGINT (or --ticks ticks): it finishes the tick, flushes and signs its
ledger, leaves the federation cleanly and writes its report (--report).

Settings come from flags, else the environment (PRISM_NODE_ROLE,
MEC_NODE_DATA, MEC_ROSTER, MEC_NODE_SCENARIO, MEC_NATS_URL, MEC_NODE_JOIN).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.seedSet = cmd.Flags().Changed("seed")
			fromEnv(cmd, map[string]*string{"data": &o.data, "roster": &o.roster, "role": &o.role, "scenario": &o.scenario},
				map[string]string{"data": "MEC_NODE_DATA", "roster": "MEC_ROSTER", "role": "PRISM_NODE_ROLE", "scenario": "MEC_NODE_SCENARIO"})
			for flag, env := range map[string]string{"nats": "MEC_NATS_URL", "join": "MEC_NODE_JOIN"} {
				if !cmd.Flags().Changed(flag) {
					if v := os.Getenv(env); v != "" {
						if flag == "nats" {
							o.nats = strings.Split(v, ",")
						} else {
							o.join = strings.Split(v, ",")
						}
					}
				}
			}
			return runNode(cmd, &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.data, "data", "", "the node's data directory (keys, ledger, JetStream store); $MEC_NODE_DATA")
	f.StringVar(&o.roster, "roster", "", "the federation's roster (federation.yaml); $MEC_ROSTER")
	f.StringVar(&o.role, "role", "", "expected role: core, edge, relay or observer (checked against the node's keys); $PRISM_NODE_ROLE")
	f.StringVar(&o.scenario, "scenario", "", "runtime scenario (YAML/JSON, as `mec run --config`); $MEC_NODE_SCENARIO")
	f.StringSliceVar(&o.nats, "nats", nil, "external NATS cluster client URLs (tls://host:port,...) instead of the embedded server; $MEC_NATS_URL")
	f.StringSliceVar(&o.join, "join", nil, "route URLs of the other cores (tls://host:6222,...; default: the roster's); $MEC_NODE_JOIN")
	f.StringVar(&o.listenHost, "listen-host", "", "host the embedded listeners bind (default: the roster URL's IP, else all interfaces)")
	f.IntVar(&o.ticks, "ticks", 0, "stop after this many meta-epochs (0: run until SIGTERM)")
	f.DurationVar(&o.tickInterval, "tick-interval", 0, "pause between meta-epochs (0: as fast as the federation allows)")
	f.Uint64Var(&o.seed, "seed", 0, "seed of this node's randomness (default: the scenario's seed mixed with the node's name)")
	f.StringVar(&o.report, "report", "", "write the node's JSON report to this file at exit (default: standard output)")
	f.DurationVar(&o.waitPeers, "wait-peers", time.Minute, "before the first tick, wait up to this long for every other node of the roster to be live")
	f.StringVar(&o.status, "status", "", "keep a small JSON progress file here (ticks done), replaced atomically")
	f.StringVar(&o.logFormat, "log-format", "auto", "log format: auto (JSON unless on a terminal), json or text")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	cmd.AddCommand(newNodeInitCmd(), newNodeRosterCmd(), newNodeNATSConfigCmd())
	return cmd
}

// fromEnv fills unset flags from environment variables.
func fromEnv(cmd *cobra.Command, dst map[string]*string, env map[string]string) {
	for flag, p := range dst {
		if !cmd.Flags().Changed(flag) {
			if v := os.Getenv(env[flag]); v != "" {
				*p = v
			}
		}
	}
}

// newLogger returns the node's structured logger on stderr.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "auto":
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			return slog.New(slog.NewTextHandler(w, opts)), nil
		}
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want auto, json or text", format)
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

func runNode(cmd *cobra.Command, o *nodeOptions) error {
	log, err := newLogger(cmd.ErrOrStderr(), o.logFormat, o.logLevel)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	switch {
	case o.data == "":
		return errors.New("node: --data (or $MEC_NODE_DATA) names the node's data directory; create it with `mec node init`")
	case o.roster == "":
		return errors.New("node: --roster (or $MEC_ROSTER) names the federation's roster; build it with `mec node roster`")
	case o.ticks < 0:
		return fmt.Errorf("node: --ticks %d: want ≥ 0", o.ticks)
	}
	if o.role != "" {
		if _, err := federation.ParseRole(o.role); err != nil {
			return fmt.Errorf("node: --role: %w", err)
		}
	}
	id, err := federation.LoadIdentity(o.data, federation.Member{})
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	if o.role != "" && federation.Role(o.role) != id.Member.Role {
		return fmt.Errorf("node: --role %s, but the keys in %s are those of %s node %s", o.role, o.data, id.Member.Role, id.Name())
	}
	roster, err := federation.LoadRoster(o.roster)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	cfg, err := orchestrator.DefaultConfig()
	if o.scenario != "" {
		cfg, err = orchestrator.LoadConfig(o.scenario)
	}
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	seed := o.seed
	if !o.seedSet {
		h := fnv.New64a()
		h.Write([]byte(id.Name()))
		seed = cfg.Seed ^ h.Sum64()
	}
	cfg.Seed = seed
	log = log.With("federation", roster.Federation)

	// The ledger: signed by the node's own key, its checkpoints witnessed.
	var hook atomic.Pointer[federation.Node]
	ledDir := filepath.Join(o.data, "ledger")
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

	// Stop on SIGTERM or SIGINT (finish the tick first); a second signal
	// cancels the work in flight.
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

	node, err := federation.Start(work, federation.Config{Dir: o.data, Roster: roster, Identity: id, NATS: o.nats, Join: o.join,
		ListenHost: o.listenHost, Ledger: led, InitialTheta: cfg.InitialW(), Logger: log})
	if err != nil {
		return errors.Join(fmt.Errorf("node: %w", err), led.Close())
	}
	hook.Store(node)
	fed := &nodeFed{Node: node}
	waitPeers(work, node, roster, o.waitPeers, &stopping, log)
	var o2 *orchestrator.Orchestrator
	var runErr error
	if id.Member.Role.Learns() {
		o2, runErr = newNodeRuntime(work, cmd, cfg, led, seed)
		if runErr == nil {
			o2.SetFederation(fed)
			runErr = tickNode(work, o2, o, &stopping, log)
		}
	} else {
		for !stopping.Load() && work.Err() == nil {
			writeStatus(o.status, 0, node.Ready())
			time.Sleep(100 * time.Millisecond)
		}
	}

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
	if err := writeReport(cmd, o.report, rep); err != nil {
		runErr = errors.Join(runErr, err)
	}
	log.Info("stopped", "ticks", rep.Ticks, "rounds", len(rep.Rounds), "rejected", rep.Stats.Rejected(), "err", runErr)
	return runErr
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
func newNodeRuntime(ctx context.Context, cmd *cobra.Command, cfg orchestrator.Config, led *ledger.Ledger, seed uint64) (*orchestrator.Orchestrator, error) {
	engines, err := orchestrator.Engines(backendFlag(cmd))
	if err != nil {
		return nil, err
	}
	fc := cfg.FusionConfig()
	if fc.Network == nil {
		fc.Network = fusion.DefaultNetwork(64)
	}
	fc.Network.Seed = seed // each node its own network
	eng, err := orchestrator.NewFusionEngine(fc, engines)
	if err != nil {
		return nil, err
	}
	o, err := orchestrator.New(ctx, cfg, eng, orchestrator.NewRecorder(led), 0)
	if err != nil {
		eng.Close()
		return nil, err
	}
	return o, nil
}

// tickNode runs meta-epochs until stopped or --ticks.
func tickNode(ctx context.Context, o *orchestrator.Orchestrator, opts *nodeOptions, stopping *atomic.Bool, log *slog.Logger) error {
	for !stopping.Load() {
		t := o.State().Tick
		if opts.ticks > 0 && t >= uint64(opts.ticks) {
			return nil
		}
		rep, err := o.Tick(ctx)
		if err != nil {
			return err
		}
		if rb := rep.Rollback; rb != nil {
			log.Warn("rolled back", "at", rb.At, "to", rb.To, "escalation", rb.Escalation, "isolated", rb.Isolated,
				"reasons", strings.Join(rb.Reasons, "; "))
		}
		if t%10 == 0 {
			writeStatus(opts.status, t, true)
		}
		if opts.tickInterval > 0 {
			time.Sleep(opts.tickInterval)
		}
	}
	return nil
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
	var rosterPath string
	cmd := &cobra.Command{
		Use:   "nats-config --roster FILE",
		Short: "Print the NATS accounts, per-node users (NKEYs) and per-role permissions for an external NATS cluster",
		Long: `nats-config prints the part of a nats-server configuration an external
cluster needs for this federation: the account MEC (with JetStream), one
user per node authenticated by its NKEY with the subject permissions of its
role, and the system account. Add it to the servers' configuration, with
TLS 1.3 (the node certificates of the roster as the CA bundle), and run the
nodes with --nats tls://HOST:4222,...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := federation.LoadRoster(rosterPath)
			if err != nil {
				return err
			}
			_, err = io.WriteString(cmd.OutOrStdout(), r.NATSConfig(nil, true, ""))
			return err
		},
	}
	cmd.Flags().StringVar(&rosterPath, "roster", "", "the federation's roster")
	return cmd
}
