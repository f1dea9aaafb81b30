package federation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/prismai/mec/federation/consensus"
	"github.com/prismai/mec/runtime/bus"
	"github.com/prismai/mec/runtime/ledger"
	"github.com/prismai/mec/runtime/telemetry"
)

// Config configures a Node.
type Config struct {
	// Dir is the node's data directory (its keys; the JetStream store of
	// a core; witness state).
	Dir string
	// Roster is the federation; Identity this node's keys (its name must
	// be in the roster, with the same keys).
	Roster   *Roster
	Identity *Identity
	// NATS lists client URLs of an external NATS cluster to use instead
	// of the embedded server (tls://host:port; the cluster must carry the
	// accounts of Roster.NATSConfig).
	NATS []string
	// Join lists route URLs of other cores (default: the roster's cores).
	Join []string
	// ListenHost overrides the host the embedded listeners bind.
	ListenHost string
	// JoinTimeout bounds how long Start waits for the federation's
	// streams (default 60 s).
	JoinTimeout time.Duration
	// JetStreamMaxStore bounds a core's JetStream file store (bytes; 0:
	// the server's default).
	JetStreamMaxStore int64
	// InitialTheta is the learning state every node starts from (public:
	// the same on every node). Relays need it; learners may also set it.
	InitialTheta []float64
	// Ledger is this node's ledger: federation events are appended to it
	// and its checkpoints are published to the witnesses. Optional.
	Ledger *ledger.Ledger
	// Logger receives structured logs (default: slog.Default()).
	Logger *slog.Logger
}

// Stats counts what a node did. Rejections by reason: the envelope
// checks in Bus (forged, replayed, out of order, stale, malformed,
// unknown origin, misrouted), plus the federation's own: Version
// (another protocol version) and BadBody (a verified envelope whose body
// does not decode or breaks the protocol).
type Stats struct {
	Bus                 bus.Stats `json:"bus"`
	Version             uint64    `json:"version"`
	BadBody             uint64    `json:"bad_body"`
	Published           uint64    `json:"published"`
	PublishRetries      uint64    `json:"publish_retries"`
	Rounds              uint64    `json:"rounds"`
	RoundsAlone         uint64    `json:"rounds_alone"`
	StreamMessages      uint64    `json:"stream_messages"`
	Forks               uint64    `json:"forks"`
	Cosigned            uint64    `json:"cosigned"`
	CheckpointsVerified uint64    `json:"checkpoints_verified"`
	Witnessed           uint64    `json:"witnessed"`
	Rollbacks           uint64    `json:"rollbacks"`
	Decoupled           uint64    `json:"decoupled"`
	Rejoined            uint64    `json:"rejoined"`
	// UnackedAtExit counts the messages still waiting for the streams'
	// acknowledgement when the node left.
	UnackedAtExit uint64 `json:"unacked_at_exit"`
}

// Rejected is the number of messages refused for any reason.
func (s Stats) Rejected() uint64 { return s.Bus.Rejected() + s.Version + s.BadBody }

// Node is one member of a federation: its NATS connection (through its
// embedded server or an external cluster), the verification of every
// message it receives, and the protocols of its role.
type Node struct {
	cfg    Config
	roster *Roster
	id     *Identity
	self   *Member
	log    *slog.Logger
	links  linkLog

	srv      *server.Server
	natsLog  *natsLog
	localKey nkeys.KeyPair
	nc       *nats.Conn
	js       jetstream.JetStream
	ver      *bus.Verifier

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	seqMu sync.Mutex
	pubMu sync.Mutex // publishJS: numbering and queueing in one step
	seq   map[string]uint64

	outbox chan *outItem

	liveMu sync.Mutex
	live   map[string]liveness

	statMu sync.Mutex
	st     Stats

	caughtUp atomic.Bool
	closed   atomic.Bool
	unacked  atomic.Int64 // queued or in flight, not yet acknowledged

	learn   *learner
	group   *groupState
	phase   *phaseState
	witness *witnessState
	events  chan telemetry.SystemEvent
}

type liveness struct {
	at time.Time
	hb Heartbeat
}

type outItem struct {
	subject string
	env     []byte
	id      string
	done    chan error
	// body, seq and sealed let a retry re-sign the message with a fresh
	// time (the same number, so the same deduplication ID) once it is
	// older than resealAfter: a message held back by a partition must
	// not reach the stream too stale for its readers to accept.
	body   []byte
	seq    uint64
	sealed time.Time
}

// resealAfter is the age of an unacknowledged message after which a
// retry re-signs it (well inside the readers' two-minute staleness
// window).
const resealAfter = 30 * time.Second

// Start connects the node and runs its protocols until Close: it starts
// the embedded NATS server of its role (or dials the external cluster),
// creates the streams (cores), waits for them, replays them to catch up,
// and starts its heartbeat.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if cfg.Roster == nil || cfg.Identity == nil {
		return nil, errors.New("federation: a roster and an identity are required")
	}
	self := cfg.Roster.Member(cfg.Identity.Name())
	if self == nil {
		return nil, fmt.Errorf("federation: node %q is not in the roster of federation %q", cfg.Identity.Name(), cfg.Roster.Federation)
	}
	if self.SigningKey != cfg.Identity.Member.SigningKey || self.NKey != cfg.Identity.Member.NKey || self.Cert != cfg.Identity.Member.Cert ||
		self.KEMKey != cfg.Identity.Member.KEMKey {
		return nil, fmt.Errorf("federation: the roster's keys for %q are not this node's keys (stale roster, or another node's name)", self.Name)
	}
	if cfg.JoinTimeout <= 0 {
		cfg.JoinTimeout = 60 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	n := &Node{cfg: cfg, roster: cfg.Roster, id: cfg.Identity, self: self, log: cfg.Logger.With("node", self.Name, "role", string(self.Role)),
		ver: bus.NewVerifier(2 * time.Minute), seq: map[string]uint64{}, outbox: make(chan *outItem, 4096), live: map[string]liveness{},
		events: make(chan telemetry.SystemEvent, 1024)}
	for i := range cfg.Roster.Members {
		m := &cfg.Roster.Members[i]
		if err := n.ver.Trust(m.Name, m.SigningPublicKey()); err != nil {
			return nil, err
		}
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.learn = newLearner(n)
	n.group = newGroupState(n)
	if err := n.group.loadFloor(); err != nil {
		return nil, err
	}
	n.phase = newPhaseState(n)
	n.witness = newWitnessState(n)
	if err := n.connect(ctx); err != nil {
		n.shutdown()
		return nil, err
	}
	if err := n.join(ctx); err != nil {
		n.shutdown()
		return nil, err
	}
	n.log.Info("joined the federation", "federation", n.roster.Federation, "embedded", n.srv != nil, "members", len(n.roster.Members))
	return n, nil
}

// connect starts the embedded server (or not) and the client connection.
func (n *Node) connect(ctx context.Context) error {
	opts := []nats.Option{nats.Name("mec-" + n.self.Name), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond),
		nats.PingInterval(2 * time.Second), nats.MaxPingsOutstanding(3), nats.ReconnectBufSize(32 << 20),
		nats.ErrorHandler(func(_ *nats.Conn, s *nats.Subscription, err error) {
			subj := ""
			if s != nil {
				subj = s.Subject
			}
			n.log.Warn("NATS error", "subject", subj, "err", err)
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if !n.closed.Load() {
				n.log.Warn("disconnected from NATS", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { n.log.Info("reconnected to NATS", "url", c.ConnectedUrlRedacted()) }),
	}
	if len(n.cfg.NATS) == 0 {
		s, err := n.startServer()
		if err != nil {
			return err
		}
		n.srv = s
		opts = append(opts, nats.InProcessServer(s))
		if n.self.Role == Core {
			opts = append(opts, nats.Nkey(n.self.NKey, n.id.nkey.Sign))
		} else {
			pub, err := n.localKey.PublicKey()
			if err != nil {
				return err
			}
			opts = append(opts, nats.Nkey(pub, n.localKey.Sign))
		}
		nc, err := nats.Connect("", opts...)
		if err != nil {
			return fmt.Errorf("federation: connecting to the embedded server: %w", err)
		}
		n.nc = nc
	} else {
		pool := n.pool()
		if n.roster.ExternalCA != "" {
			pool.AppendCertsFromPEM([]byte(n.roster.ExternalCA))
		}
		opts = append(opts, nats.Secure(n.tlsConfig("client-dial", pool)), nats.Nkey(n.self.NKey, n.id.nkey.Sign),
			nats.Timeout(5*time.Second), nats.RetryOnFailedConnect(false))
		var urls []string
		for _, u := range n.cfg.NATS {
			if err := checkURL(u); err != nil {
				return fmt.Errorf("federation: --nats %w", err)
			}
			urls = append(urls, u)
		}
		var nc *nats.Conn
		var err error
		deadline := time.Now().Add(n.cfg.JoinTimeout)
		for {
			nc, err = nats.Connect(joinComma(urls), opts...)
			if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
				break
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
		if err != nil {
			return fmt.Errorf("federation: the NATS cluster at %s does not answer within %v: %w", joinComma(urls), n.cfg.JoinTimeout, err)
		}
		n.nc = nc
	}
	// Nodes behind a leaf node reach the cores' JetStream through its
	// domain; cores and clients of a cluster reach it directly.
	var js jetstream.JetStream
	var err error
	if n.srv != nil && n.self.Role != Core {
		js, err = jetstream.NewWithDomain(n.nc, n.roster.Domain)
	} else {
		js, err = jetstream.New(n.nc)
	}
	if err != nil {
		return fmt.Errorf("federation: JetStream: %w", err)
	}
	n.js = js
	return nil
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

// streamConfigs are the federation's streams.
func (n *Node) streamConfigs() []jetstream.StreamConfig {
	sc := n.roster.Streams
	mk := func(name string, kinds ...string) jetstream.StreamConfig {
		c := jetstream.StreamConfig{Name: name, Storage: jetstream.FileStorage, Replicas: sc.Replicas, MaxAge: time.Duration(sc.MaxAge),
			MaxBytes: sc.MaxBytes, Discard: jetstream.DiscardOld, Duplicates: 2 * time.Minute, MaxMsgSize: 1 << 20,
			Description: "MEC federation " + n.roster.Federation}
		for _, k := range kinds {
			c.Subjects = append(c.Subjects, SubjectPrefix+".*."+k)
		}
		return c
	}
	return []jetstream.StreamConfig{mk(StreamFed, KindDelta, KindGroup), mk(StreamLedger, KindCkpt, KindCosig, KindAlert, KindReport)}
}

// join creates (cores) or waits for the streams, subscribes, replays the
// streams and starts the background loops.
func (n *Node) join(ctx context.Context) error {
	jctx, cancel := context.WithTimeout(ctx, n.cfg.JoinTimeout)
	defer cancel()
	if n.srv != nil && n.self.Role != Core {
		// A leaf node: its link to the cores (or its relay) comes first.
		for n.srv.NumLeafNodes() == 0 {
			select {
			case <-jctx.Done():
				return fmt.Errorf("federation: no leaf node link to the cores within %v: are they up, and is this node's entry in their roster? (last NATS event: %s)",
					n.cfg.JoinTimeout, n.natsLog.lastProblem())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	// Every JetStream request is retried with a short timeout until the
	// join timeout: a leaf link may flap while the cores form their
	// cluster, and a request lost then must not hold the node for good.
	var targets []uint64
	for _, sc := range n.streamConfigs() {
		var info *jetstream.StreamInfo
		err := retry(jctx, func(ctx context.Context) error {
			var st jetstream.Stream
			var err error
			if n.self.Role == Core {
				st, err = n.js.CreateOrUpdateStream(ctx, sc)
			} else {
				st, err = n.js.Stream(ctx, sc.Name)
			}
			if err != nil {
				return err
			}
			info, err = st.Info(ctx)
			return err
		})
		if err != nil {
			return fmt.Errorf("federation: stream %s not available within %v (cores up? JetStream quorum?): %w", sc.Name, n.cfg.JoinTimeout, err)
		}
		targets = append(targets, info.State.LastSeq)
	}
	for _, k := range []string{KindHeartbeat, KindPhase} {
		kind := k
		if _, err := n.nc.Subscribe(SubjectPrefix+".*."+kind, func(m *nats.Msg) { n.handle(m.Subject, m.Data, time.Now()) }); err != nil {
			return fmt.Errorf("federation: subscribing to %s: %w", kind, err)
		}
	}
	if err := n.nc.Flush(); err != nil {
		return fmt.Errorf("federation: %w", err)
	}
	var replayed [2]atomic.Uint64
	for i, s := range []string{StreamFed, StreamLedger} {
		i := i
		var cons jetstream.Consumer
		err := retry(jctx, func(ctx context.Context) (err error) {
			cons, err = n.js.OrderedConsumer(ctx, s, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
			return err
		})
		if err != nil {
			return fmt.Errorf("federation: consumer on %s: %w", s, err)
		}
		cc, err := cons.Consume(func(msg jetstream.Msg) {
			ref := time.Now()
			if md, err := msg.Metadata(); err == nil {
				ref = md.Timestamp
				replayed[i].Store(md.Sequence.Stream)
			}
			n.count(func(s *Stats) { s.StreamMessages++ })
			n.handle(msg.Subject(), msg.Data(), ref)
		}, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if !n.closed.Load() {
				n.log.Debug("stream consumer", "stream", s, "err", err)
			}
		}))
		if err != nil {
			return fmt.Errorf("federation: consuming %s: %w", s, err)
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			<-n.ctx.Done()
			cc.Stop()
		}()
	}
	for replayed[0].Load() < targets[0] || replayed[1].Load() < targets[1] {
		select {
		case <-jctx.Done():
			return fmt.Errorf("federation: replaying the streams: %d/%d and %d/%d messages within %v", replayed[0].Load(), targets[0],
				replayed[1].Load(), targets[1], n.cfg.JoinTimeout)
		case <-time.After(20 * time.Millisecond):
		}
	}
	n.caughtUp.Store(true)
	n.wg.Add(3)
	go n.publisher()
	go n.heartbeats()
	go n.recorder()
	switch n.self.Role {
	case Relay:
		n.wg.Add(2)
		go n.relayLoop()
		go n.relayFollow()
	case Observer:
		n.wg.Add(1)
		go n.observerLoop()
	}
	if n.self.Relay != "" {
		// Publish this edge's key exchange now, so the group's first round
		// does not wait for it.
		if _, err := n.group.setup(); err != nil {
			return err
		}
	}
	return n.witness.start()
}

// retry runs f with a 5 s timeout until it succeeds or ctx ends, and
// returns its last error.
func retry(ctx context.Context, f func(context.Context) error) error {
	for {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := f(actx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// count updates the statistics.
func (n *Node) count(f func(*Stats)) {
	n.statMu.Lock()
	f(&n.st)
	n.statMu.Unlock()
}

// Stats returns the counters.
func (n *Node) Stats() Stats {
	n.statMu.Lock()
	s := n.st
	n.statMu.Unlock()
	s.Bus = n.ver.Stats()
	return s
}

// Links returns the TLS links this node negotiated (newest last).
func (n *Node) Links() []Link { return n.links.all() }

// Name returns the node's name.
func (n *Node) Name() string { return n.self.Name }

// Role returns the node's role.
func (n *Node) Role() Role { return n.self.Role }

// Conn returns the node's NATS connection.
func (n *Node) Conn() *nats.Conn { return n.nc }

// Server returns the embedded NATS server, or nil.
func (n *Node) Server() *server.Server { return n.srv }

// Ready reports whether the node is connected and has replayed the streams.
func (n *Node) Ready() bool { return n.caughtUp.Load() && n.nc != nil && n.nc.IsConnected() }

// seal signs a body for this node's subject of kind, numbering it by
// the clock in microseconds (strictly increasing per subject, also
// across restarts).
func (n *Node) seal(kind string, body []byte) ([]byte, string, uint64, error) {
	subject := Subject(n.self.Name, kind)
	now := time.Now()
	n.seqMu.Lock()
	seq := max(n.seq[kind]+1, uint64(now.UnixMicro()))
	n.seq[kind] = seq
	n.seqMu.Unlock()
	env, err := n.id.Seal(subject, seq, body, now)
	return env, subject, seq, err
}

// publishPlain publishes a heartbeat or phase report (lossy).
func (n *Node) publishPlain(kind string, body []byte) error {
	env, subject, _, err := n.seal(kind, body)
	if err != nil {
		return err
	}
	return n.nc.Publish(subject, env)
}

// publishJS queues a message for its stream; the returned channel
// receives nil once the stream acknowledged it (or an error when the node
// closes first). Messages are published in order, each retried until
// acknowledged, with the envelope's number as the deduplication ID.
func (n *Node) publishJS(kind string, body []byte) (<-chan error, error) {
	// Numbering and queueing under one lock: the stream receives each
	// subject's messages in the order of their numbers (a reader takes
	// a lower number after a higher one for a replay).
	n.pubMu.Lock()
	defer n.pubMu.Unlock()
	env, subject, seq, err := n.seal(kind, body)
	if err != nil {
		return nil, err
	}
	it := newOutItem(subject, seq, env, body, time.Now())
	if err := n.enqueueLocked(it); err != nil {
		return nil, err
	}
	return it.done, nil
}

// newOutItem is a sealed message for the outbox; its number is its
// deduplication ID.
func newOutItem(subject string, seq uint64, env, body []byte, sealed time.Time) *outItem {
	return &outItem{subject: subject, env: env, id: fmt.Sprintf("%s.%d", subject, seq), done: make(chan error, 1),
		body: body, seq: seq, sealed: sealed}
}

// enqueueLocked hands a message to the publisher, counted as
// unacknowledged before it is queued (n.pubMu held).
func (n *Node) enqueueLocked(it *outItem) error {
	n.unacked.Add(1)
	select {
	case n.outbox <- it:
		return nil
	default:
		n.unacked.Add(-1)
		return fmt.Errorf("federation: outbox full (%d messages waiting for the streams)", cap(n.outbox))
	}
}

// publisher drains the outbox in order.
func (n *Node) publisher() {
	defer n.wg.Done()
	for {
		var it *outItem
		select {
		case <-n.ctx.Done():
			return
		case it = <-n.outbox:
		}
		wait := 100 * time.Millisecond
		for {
			if time.Since(it.sealed) > resealAfter {
				if env, err := n.id.Seal(it.subject, it.seq, it.body, time.Now()); err == nil {
					it.env, it.sealed = env, time.Now()
				}
			}
			ctx, cancel := context.WithTimeout(n.ctx, 5*time.Second)
			_, err := n.js.PublishMsg(ctx, &nats.Msg{Subject: it.subject, Data: it.env, Header: nats.Header{jetstream.MsgIDHeader: []string{it.id}}},
				jetstream.WithExpectStream(streamOf(lastToken(it.subject))))
			cancel()
			if err == nil {
				n.count(func(s *Stats) { s.Published++ })
				n.unacked.Add(-1)
				it.done <- nil
				break
			}
			if n.ctx.Err() != nil {
				it.done <- fmt.Errorf("federation: node closing before %s was acknowledged: %w", it.subject, err)
				return
			}
			n.count(func(s *Stats) { s.PublishRetries++ })
			n.log.Debug("publish not acknowledged yet; retrying", "subject", it.subject, "err", err, "retry_in", wait)
			select {
			case <-n.ctx.Done():
				it.done <- fmt.Errorf("federation: node closing before %s was acknowledged", it.subject)
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, 2*time.Second)
		}
	}
}

func lastToken(s string) string {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			return s[i+1:]
		}
	}
	return s
}

// permitted reports whether a member of role may send kind.
func permitted(m *Member, kind string) bool {
	switch kind {
	case KindHeartbeat, KindAlert, KindCkpt:
		return true
	case KindPhase:
		return m.Role.Learns()
	case KindDelta:
		return m.Role == Core || m.Role == Relay || (m.Role == Edge && m.Relay == "")
	case KindGroup:
		return m.Role == Relay || (m.Role == Edge && m.Relay != "")
	case KindCosig:
		return m.Role == Core
	case KindReport:
		return m.Role == Observer
	}
	return false
}

// handle verifies and dispatches one message. ref is the reference time
// of the staleness check: the stream's storage time for stream messages
// (so a node catching up accepts what was fresh when stored, and a
// replayed old envelope stored now is stale), the arrival time otherwise.
func (n *Node) handle(subject string, data []byte, ref time.Time) {
	m, err := n.ver.Open(data, ref, bus.Monotonic, func(m bus.Message) error {
		node, kind, ok := subjectNode(subject)
		if !ok || m.Origin != node || m.Target != subject {
			return fmt.Errorf("%w: %q signed for %q arrived on %q", bus.ErrMisrouted, m.Origin, m.Target, subject)
		}
		if !permitted(n.roster.Member(node), kind) {
			return fmt.Errorf("%w: a %s node may not send %s messages", bus.ErrMisrouted, n.roster.Member(node).Role, kind)
		}
		return nil
	})
	if err != nil {
		n.log.Debug("message rejected", "subject", subject, "err", err)
		return
	}
	_, kind, _ := subjectNode(subject)
	if err := n.dispatchSafely(m, kind); err != nil {
		n.count(func(s *Stats) {
			if errors.Is(err, ErrVersion) {
				s.Version++
			} else {
				s.BadBody++
			}
		})
		n.log.Warn("message refused", "subject", subject, "from", m.Origin, "err", err)
	}
}

// dispatchSafely is dispatch that turns a panic into an error: a
// message that reaches a bug must not stop the node (and, kept in the
// stream, stop it again at every restart). The stack goes to the log.
func (n *Node) dispatchSafely(m bus.Message, kind string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			n.log.Error("BUG: a message made its handler panic; the message is refused", "from", m.Origin, "kind", kind,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("%w: its handler panicked: %v", ErrBadMessage, p)
		}
	}()
	return n.dispatch(m, kind)
}

func (n *Node) dispatch(m bus.Message, kind string) error {
	from := n.roster.Member(m.Origin)
	switch kind {
	case KindHeartbeat:
		hb, err := UnmarshalHeartbeat(m.Body)
		if err != nil {
			return err
		}
		if hb.Role != from.Role {
			return fmt.Errorf("%w: heartbeat claims role %s, the roster says %s", ErrBadMessage, hb.Role, from.Role)
		}
		n.liveMu.Lock()
		n.live[m.Origin] = liveness{at: time.Now(), hb: *hb}
		n.liveMu.Unlock()
		n.learn.wake()
		return nil
	case KindPhase:
		p, err := UnmarshalPhaseReport(m.Body)
		if err != nil {
			return err
		}
		n.phase.observe(m.Origin, p)
		return nil
	case KindDelta:
		d, err := UnmarshalDelta(m.Body)
		if err != nil {
			return err
		}
		return n.learn.apply(m.Origin, d)
	case KindGroup:
		g, err := UnmarshalGroupMsg(m.Body)
		if err != nil {
			return err
		}
		return n.group.receive(m.Origin, g)
	case KindCkpt:
		c, err := UnmarshalCheckpointMsg(m.Body)
		if err != nil {
			return err
		}
		return n.witness.checkpoint(m.Origin, c)
	case KindCosig:
		c, err := UnmarshalCosigMsg(m.Body)
		if err != nil {
			return err
		}
		return n.witness.cosig(m.Origin, c)
	case KindAlert:
		a, err := UnmarshalAlert(m.Body)
		if err != nil {
			return err
		}
		return n.alert(m.Origin, a)
	case KindReport:
		_, err := UnmarshalReport(m.Body)
		return err
	}
	return fmt.Errorf("%w: unknown kind %q", ErrBadMessage, kind)
}

// ReportInterval is how often an observer publishes its report.
const ReportInterval = 5 * time.Second

// observerLoop publishes the observer's report every ReportInterval.
func (n *Node) observerLoop() {
	defer n.wg.Done()
	t := time.NewTicker(ReportInterval)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
		rep := n.Observe()
		if _, err := n.publishJS(KindReport, rep.Marshal()); err != nil {
			n.log.Warn("report not queued", "err", err)
		}
	}
}

// Observe summarises what this node verified: messages, rejections,
// forks and checkpoints, and the federated drift over the public states
// of the live participants it holds.
func (n *Node) Observe() *Report {
	st := n.Stats()
	rep := &Report{Verified: st.Bus.Delivered, Rejected: st.Rejected(), Forks: st.Forks, Checkpoints: st.CheckpointsVerified}
	var states [][]float64
	n.learn.mu.Lock()
	for name, m := range n.learn.peers {
		if m.synced && n.isLive(name) && (len(states) == 0 || len(m.state) == len(states[0])) {
			states = append(states, slices.Clone(m.state))
		}
	}
	n.learn.mu.Unlock()
	rep.Nodes = uint64(len(states))
	if len(states) > 1 {
		if d, err := consensus.Drift(states); err == nil {
			rep.Drift = d
		}
	}
	return rep
}

// Live returns the members heard from within the liveness window (this
// node included), sorted.
func (n *Node) Live() []string {
	cut := time.Now().Add(-time.Duration(n.roster.Learning.Liveness))
	out := []string{n.self.Name}
	n.liveMu.Lock()
	for name, l := range n.live {
		if name != n.self.Name && l.at.After(cut) && !l.hb.Leaving {
			out = append(out, name)
		}
	}
	n.liveMu.Unlock()
	slices.Sort(out)
	return out
}

func (n *Node) isLive(name string) bool {
	if name == n.self.Name {
		return true
	}
	cut := time.Now().Add(-time.Duration(n.roster.Learning.Liveness))
	n.liveMu.Lock()
	defer n.liveMu.Unlock()
	l, ok := n.live[name]
	return ok && l.at.After(cut) && !l.hb.Leaving
}

// heartbeats publishes this node's heartbeat three times per liveness window.
func (n *Node) heartbeats() {
	defer n.wg.Done()
	if n.self.Role == Observer {
		return // an observer publishes nothing but its reports
	}
	every := time.Duration(n.roster.Learning.Liveness) / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n.sendHeartbeat(false)
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (n *Node) sendHeartbeat(leaving bool) {
	tick, round, epoch := n.learn.position()
	hb := Heartbeat{Role: n.self.Role, Tick: tick, Round: round, Epoch: epoch, Decoupled: n.phase.decoupled(), Leaving: leaving}
	if err := n.publishPlain(KindHeartbeat, hb.Marshal()); err != nil && !n.closed.Load() {
		n.log.Debug("heartbeat not sent", "err", err)
	}
}

// record queues a federation event for this node's ledger.
func (n *Node) record(kind string, fields map[string]telemetry.Value) {
	if n.cfg.Ledger == nil {
		return
	}
	ev := telemetry.SystemEvent{Timestamp: time.Now(), Source: "federation", Kind: kind, Fields: fields}
	select {
	case n.events <- ev:
	default:
		n.log.Warn("ledger event queue full; event not recorded", "kind", kind)
	}
}

// recorder appends queued events to the ledger.
func (n *Node) recorder() {
	defer n.wg.Done()
	for {
		select {
		case <-n.ctx.Done():
			for {
				select {
				case ev := <-n.events:
					n.appendEvent(ev)
				default:
					return
				}
			}
		case ev := <-n.events:
			n.appendEvent(ev)
		}
	}
}

func (n *Node) appendEvent(ev telemetry.SystemEvent) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := n.cfg.Ledger.Append(ctx, ev); err != nil {
		n.log.Error("recording a federation event in the ledger", "kind", ev.Kind, "err", err)
	}
}

// alert handles an alert from another node (or this one).
func (n *Node) alert(from string, a *Alert) error {
	switch a.Kind {
	case AlertRollback:
		n.log.Info("a node rolled back; its abandoned state is not averaged in", "from", from, "tick", a.Tick, "to", a.To)
	case AlertFork:
		if from != n.self.Name {
			n.witness.forkAlert(from, a)
		}
	case AlertDecoupled, AlertRejoined:
		n.log.Info("phase consensus", "event", a.Kind, "node", a.Node, "tick", a.Tick)
	}
	if from != n.self.Name {
		n.record("federation_alert", map[string]telemetry.Value{"kind": telemetry.Str(a.Kind), "from": telemetry.Str(from),
			"node": telemetry.Str(a.Node), "tick": telemetry.Num(float64(a.Tick)), "text": telemetry.Str(a.Text)})
	}
	return nil
}

// Close leaves the federation cleanly: a last heartbeat saying so, the
// messages waiting in the outbox flushed (bounded by ctx), the
// connection drained, the embedded server stopped.
func (n *Node) Close(ctx context.Context) error {
	if n.closed.Swap(true) {
		return nil
	}
	if n.nc != nil && n.nc.IsConnected() {
		for n.unacked.Load() > 0 && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		if k := n.unacked.Load(); k > 0 {
			// Never acknowledged, so nothing acknowledged is lost; when the
			// whole federation stops at once the last cores lose their
			// streams' quorum.
			n.count(func(s *Stats) { s.UnackedAtExit = uint64(k) })
			n.log.Warn("leaving with messages the streams never acknowledged", "messages", k)
		}
		if n.self.Role != Observer {
			n.sendHeartbeat(true)
		}
		_ = n.nc.Flush()
	}
	n.shutdown()
	n.log.Info("left the federation")
	return nil
}

func (n *Node) shutdown() {
	n.closed.Store(true)
	if n.cancel != nil {
		n.cancel()
	}
	n.wg.Wait()
	if n.nc != nil {
		n.nc.Close()
	}
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
	}
}
