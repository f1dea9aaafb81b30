package federation

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/prismai/mec/federation/consensus"
	"github.com/prismai/mec/runtime/telemetry"
)

// RoundResult is what one learning round did at this node.
type RoundResult struct {
	// Round is the round number; Theta the node's parameters after it.
	Round uint64
	Theta []float64
	// Members are the participants averaged (this node included), sorted;
	// Alone is set when no peer was.
	Members []string
	Alone   bool
	// Eta is the consensus step used (clamped to the stability bound of
	// the round's graph when the configured one exceeds it: Clamped).
	Eta     float64
	Clamped bool
	// Rate is the predicted contraction of the disagreement per round,
	// max_{k≥2} |1 − η λ_k(L)|; Gap the spectral gap λ_2(L).
	Rate, Gap float64
	// Drift is max_j ‖P_j − P̄‖ over the public states of the members:
	// the federated drift measured across the real nodes.
	Drift float64
	// Epsilon is this node's running differential-privacy ε (0 without DP).
	Epsilon float64
	// Hash is the round's federated_hash: SHA-256 over the round number
	// and, for each member, its name, epoch, round and public state hash
	// — what this node averaged, recorded in its ledger.
	Hash string
	// Published is false when this round's update was not published (the
	// previous one is still waiting for the streams: a partition).
	Published bool
	// Decoupled is set when this node is a phase outlier and did not mix.
	Decoupled bool
}

// mirror is a participant's public state, rebuilt from its deltas. The
// state of its previous round is kept too: a peer may publish round r+1
// before this node mixes round r, and round r must average everyone's
// round-r states.
type mirror struct {
	epoch, round uint64
	state        []float64
	hash         [32]byte
	synced       bool
	members      uint64
	eps          float64
	asm          *assembly

	prevRound  uint64
	prevState  []float64
	prevHash   [32]byte
	prevSynced bool
}

// at returns the newest synced state of round ≤ r (nil when none).
func (m *mirror) at(r uint64) ([]float64, uint64, [32]byte) {
	switch {
	case m.synced && m.round <= r:
		return m.state, m.round, m.hash
	case m.prevSynced && m.prevRound <= r:
		return m.prevState, m.prevRound, m.prevHash
	}
	return nil, 0, [32]byte{}
}

// assembly collects the chunks of one update.
type assembly struct {
	kind, epoch, round, next uint64
	buf                      []float64
}

// mark is this node's public state at a checkpointed tick.
type mark struct {
	tick   uint64
	epoch  uint64
	public []float64
}

// learner runs the learning protocol of a node.
type learner struct {
	n *Node

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change
	peers   map[string]*mirror

	tick, round, epoch uint64
	public             []float64 // this node's public state P_i
	started            bool
	pending            <-chan error
	pendingSince       time.Time

	marks     []mark
	dp        *dpState
	resetOwed bool // a rollback's reset could not be queued: the next round sends it
}

func newLearner(n *Node) *learner {
	return &learner{n: n, changed: make(chan struct{}), peers: map[string]*mirror{}, dp: newDPState(n)}
}

// wake signals a change to waiting rounds.
func (l *learner) wake() {
	l.mu.Lock()
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

func (l *learner) position() (tick, round, epoch uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tick, l.round, l.epoch
}

func stateHash(v []float64) [32]byte {
	h := sha256.New()
	var b [8]byte
	for _, x := range v {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(x))
		h.Write(b[:])
	}
	return [32]byte(h.Sum(nil))
}

// apply adds a verified delta chunk to the sender's mirror. Chunks of an
// update arrive in order (one publisher, one stream); an update of an
// older epoch than the mirror's is ignored (the sender abandoned it).
func (l *learner) apply(from string, d *Delta) error {
	defer l.wake()
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.peers[from]
	if m == nil {
		m = &mirror{}
		l.peers[from] = m
	}
	if d.Epoch < m.epoch {
		return nil
	}
	if len(l.public) > 0 && d.Dim != uint64(len(l.public)) {
		// Every participant learns the same parameters: a chunk of
		// another dimension is refused before its buffer is allocated.
		return fmt.Errorf("%w: %s sent a vector of dimension %d, the federation's is %d", ErrBadMessage, from, d.Dim, len(l.public))
	}
	if d.Chunk == 0 {
		m.asm = &assembly{kind: d.Kind, epoch: d.Epoch, round: d.Round, buf: make([]float64, d.Dim)}
	}
	a := m.asm
	if a == nil || a.kind != d.Kind || a.epoch != d.Epoch || a.round != d.Round || a.next != d.Chunk || uint64(len(a.buf)) != d.Dim {
		m.asm, m.synced = nil, false
		return fmt.Errorf("%w: chunk %d of round %d out of sequence (a chunk was lost): %s is out of sync until its next reset", ErrBadMessage, d.Chunk, d.Round, from)
	}
	if d.Offset > uint64(len(a.buf)) || uint64(len(d.Values)) > uint64(len(a.buf))-d.Offset {
		m.asm, m.synced = nil, false
		return fmt.Errorf("%w: chunk %d of %s overruns the vector", ErrBadMessage, d.Chunk, from)
	}
	copy(a.buf[d.Offset:], d.Values)
	a.next++
	if d.Chunk+1 < d.Chunks {
		return nil
	}
	m.asm = nil
	m.prevRound, m.prevState, m.prevHash, m.prevSynced = m.round, slices.Clone(m.state), m.hash, m.synced
	switch {
	case d.Kind == DeltaReset:
		m.state = a.buf
	case len(m.state) != len(a.buf) || !m.synced:
		m.synced, m.epoch, m.round = false, d.Epoch, d.Round
		return nil // an update to a state this node does not hold: wait for a reset
	default:
		for i, x := range a.buf {
			m.state[i] += x
		}
	}
	m.epoch, m.round, m.members, m.eps = d.Epoch, d.Round, d.Members, d.Epsilon
	m.hash = stateHash(m.state)
	m.synced = hex.EncodeToString(m.hash[:]) == hex.EncodeToString(d.StateHash)
	if !m.synced {
		return fmt.Errorf("%w: %s's public state after round %d does not match its hash: out of sync until its next reset", ErrBadMessage, from, d.Round)
	}
	return nil
}

// publish sends this node's update or reset of round r; it must be
// called with l.mu held.
func (l *learner) publishLocked(kind uint64, values []float64, reason string) error {
	h := stateHash(l.public)
	members := uint64(1)
	if l.n.self.Role == Relay {
		members = uint64(max(1, len(l.n.roster.Group(l.n.self.Name))))
	}
	var last <-chan error
	for _, c := range chunks(kind, l.epoch, l.round, values, h[:], members, l.dp.epsilon(), reason) {
		ch, err := l.n.publishJS(KindDelta, c.Marshal())
		if err != nil {
			return err
		}
		last = ch
	}
	l.pending, l.pendingSince = last, time.Now()
	return nil
}

// stuckLocked reports whether the last published update has waited for
// its acknowledgement longer than a round timeout: the node is cut off
// from the streams (a partition), and publishing more would only grow the
// backlog — the next update, Θ_i − P_i, carries everything once the link
// is back.
func (l *learner) stuckLocked() bool {
	if l.pending == nil {
		return false
	}
	select {
	case err := <-l.pending:
		l.pending = nil
		return err != nil
	default:
		return time.Since(l.pendingSince) > time.Duration(l.n.roster.Learning.RoundTimeout)
	}
}

// Tick tells the federation the node's committed tick (for heartbeats)
// and publishes the phase report queued at that tick.
func (n *Node) Tick(tick uint64) {
	n.learn.mu.Lock()
	n.learn.tick = tick
	n.learn.mu.Unlock()
	n.phase.commitPhase(tick)
}

// liveMeanLocked averages the synced public states of the live
// participants other than this node (nil when there is none).
func (l *learner) liveMeanLocked(dim int) []float64 {
	var sum []float64
	k := 0
	for _, p := range l.n.roster.Participants() {
		m := l.peers[p]
		if p == l.n.self.Name || m == nil || !m.synced || len(m.state) != dim || !l.n.isLive(p) {
			continue
		}
		if sum == nil {
			sum = make([]float64, dim)
		}
		for i, x := range m.state {
			sum[i] += x
		}
		k++
	}
	for i := range sum {
		sum[i] /= float64(k)
	}
	return sum
}

// maxPeerRoundLocked is the latest round of the live participants.
func (l *learner) maxPeerRoundLocked() uint64 {
	var r uint64
	for _, p := range l.n.roster.Participants() {
		if m := l.peers[p]; p != l.n.self.Name && m != nil && m.synced && l.n.isLive(p) {
			r = max(r, m.round)
		}
	}
	return r
}

// ResyncEvery is how many rounds apart a node publishes its public state
// whole (a reset) instead of an update.
const ResyncEvery = 32

// startLocked publishes this node's first state (a reset, under an epoch
// above any of its own found in the stream): a node that joins — or, after
// a crash, rejoins — a running federation (catchUp) takes the mean of the
// live participants' public states; otherwise it starts from theta.
func (l *learner) startLocked(theta []float64, catchUp bool) ([]float64, error) {
	own := l.peers[l.n.self.Name]
	reason := "start"
	if own != nil {
		l.epoch = own.epoch + 1
	} else {
		l.epoch = 1
	}
	public := theta
	if mean := l.liveMeanLocked(len(theta)); catchUp && mean != nil {
		theta, public = mean, mean
		reason = "caught up with the federation's live mean"
		l.n.log.Info("caught up from the stream", "epoch", l.epoch, "round", l.round, "participants", len(l.n.Live()))
	} else if l.n.roster.Learning.DP.Enabled && l.n.self.Role != Relay {
		// Θ holds local learning by now: with differential privacy its
		// first release is not Θ itself but the public initial state
		// (the scenario's, known to every node), or else Θ clipped and
		// noised like any update (and accounted); what Θ learned on top
		// goes out in the following rounds' private updates.
		if init := l.n.cfg.InitialTheta; len(init) == len(theta) {
			public, reason = init, "start from the public initial state (differential privacy)"
		} else {
			noisy := slices.Clone(theta)
			if err := l.dp.privatize(noisy); err != nil {
				return nil, err
			}
			public, reason = noisy, "start from a private release of the state (differential privacy)"
		}
	}
	l.public = slices.Clone(public)
	l.started = true
	return theta, l.publishLocked(DeltaReset, l.public, reason)
}

// Round runs this node's next learning round (r, the caller's count, is
// a hint only: see participantRound): publish this node's update (Θ_i − P_i,
// clipped and noised with differential privacy when configured), wait up
// to the round timeout for the live participants' round-r states, and
// move Θ_i toward its neighbours: Θ_i + η Σ_j w_ij (P_j − P_i) with
// Metropolis–Hastings weights on the live graph. Only learners that
// learn directly (cores, edges without a relay) call it; edges behind a
// relay call GroupRound.
func (n *Node) Round(ctx context.Context, r uint64, theta []float64) (*RoundResult, error) {
	if err := checkTheta(r, theta); err != nil {
		return nil, err
	}
	switch {
	case !n.self.Role.Learns():
		return nil, fmt.Errorf("federation: a %s node does not learn", n.self.Role)
	case n.self.Relay != "":
		return n.groupRound(ctx, r, theta)
	}
	return n.participantRound(ctx, r, theta)
}

func checkTheta(r uint64, theta []float64) error {
	if len(theta) == 0 || len(theta) > MaxDim {
		return fmt.Errorf("federation: round %d: %d parameters (want 1..%d)", r, len(theta), MaxDim)
	}
	for i, x := range theta {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("federation: round %d: parameter %d is not finite", r, i)
		}
	}
	return nil
}

// participantRound is the round of a node that learns directly (a core,
// an edge without a relay, or a relay for its group).
func (n *Node) participantRound(ctx context.Context, r uint64, theta []float64) (*RoundResult, error) {
	l := n.learn
	l.mu.Lock()
	if l.started && len(l.public) != len(theta) {
		l.mu.Unlock()
		return nil, fmt.Errorf("federation: round %d: %d parameters, the federation state has %d", r, len(theta), len(l.public))
	}
	// Rounds are numbered by the federation, not by the caller: the next
	// is this node's last plus one, or the latest round of a live peer if
	// that is ahead — so nodes that run at different speeds meet at every
	// round, and one that fell behind (a stall, a partition) or joins a
	// running federation (a restart included) takes up the current round.
	r = max(l.round+1, l.maxPeerRoundLocked())
	catchUp := !l.started && r > 1
	l.round = r
	res := &RoundResult{Round: r, Decoupled: n.phase.decoupled()}
	theta = slices.Clone(theta)
	if !l.started {
		var err error
		if theta, err = l.startLocked(theta, catchUp); err != nil {
			l.mu.Unlock()
			return nil, err
		}
		res.Published = true
	} else if !l.stuckLocked() {
		delta := make([]float64, len(theta))
		for i := range delta {
			delta[i] = theta[i] - l.public[i]
		}
		// A relay's update is its group's sum of updates that each edge
		// already privatized: post-processing, noised no further.
		if l.n.self.Role != Relay {
			if err := l.dp.privatize(delta); err != nil {
				l.mu.Unlock()
				return nil, err
			}
		}
		for i := range delta {
			l.public[i] += delta[i]
		}
		kind, values, reason := uint64(DeltaUpdate), delta, ""
		if l.resetOwed {
			kind, values, reason = DeltaReset, l.public, "the reset of a rollback, owed"
		} else if r%ResyncEvery == 0 {
			// Every ResyncEvery rounds the update goes out whole, as a
			// reset of the same size: a peer whose mirror fell out of
			// sync (a chunk it missed, a stream it joined late) is in
			// sync again. The public state is public already: the
			// privacy is spent on delta alone.
			kind, values, reason = DeltaReset, l.public, "periodic resynchronisation"
		}
		err := l.publishLocked(kind, values, reason)
		if err == nil && kind == DeltaReset {
			l.resetOwed = false
		}
		if err != nil {
			l.mu.Unlock()
			return nil, err
		}
		res.Published = true
	}
	l.mu.Unlock()
	if res.Decoupled {
		res.Theta, res.Alone, res.Members = theta, true, []string{n.self.Name}
		res.Epsilon = l.dp.epsilon()
		return res, nil
	}
	members, states, err := l.collect(ctx, r, len(theta))
	if err != nil {
		return nil, err
	}
	return l.mix(r, theta, members, states, res)
}

// collect waits until every live participant that is keeping up (it
// published round r − 1 or later, or nothing yet) has published round r
// (or the round timeout passes) and returns the
// members to average: this node first, then the live, synced, not
// decoupled participants whose state is at most MaxStaleness rounds old.
func (l *learner) collect(ctx context.Context, r uint64, dim int) ([]string, [][]float64, error) {
	n := l.n
	deadline := time.Now().Add(time.Duration(n.roster.Learning.RoundTimeout))
	for {
		l.mu.Lock()
		waiting := ""
		for _, p := range n.roster.Participants() {
			if p == n.self.Name || !n.isLive(p) || n.phase.isDecoupled(p) {
				continue
			}
			m := l.peers[p]
			if m != nil && m.round+1 < r {
				continue // not keeping up (restarted and behind): averaged in once it is
			}
			if m == nil || !m.synced || m.round < r {
				if m == nil || m.prevRound < r || !m.prevSynced {
					waiting = p
					break
				}
			}
		}
		ch := l.changed
		if waiting == "" || time.Now().After(deadline) {
			members := []string{n.self.Name}
			states := [][]float64{slices.Clone(l.public)}
			for _, p := range n.roster.Participants() {
				m := l.peers[p]
				if p == n.self.Name || m == nil || !n.isLive(p) || n.phase.isDecoupled(p) {
					continue
				}
				st, rd, _ := m.at(r)
				if len(st) != dim || rd+uint64(n.roster.Learning.MaxStaleness) < r {
					continue
				}
				members = append(members, p)
				states = append(states, slices.Clone(st))
			}
			l.mu.Unlock()
			if waiting != "" {
				n.log.Debug("round timeout: going on without", "round", r, "waiting_for", waiting)
			}
			return members, states, nil
		}
		l.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-ch:
		case <-time.After(time.Until(deadline)):
		case <-time.After(50 * time.Millisecond): // liveness changes are not signalled
		}
	}
}

// mix averages over the members (index 0 is this node) and records the round.
func (l *learner) mix(r uint64, theta []float64, members []string, states [][]float64, res *RoundResult) (*RoundResult, error) {
	n := l.n
	// Sort the members by name for the graph (everyone builds the same
	// graph from the same live set); this node's index follows.
	idx := make([]int, len(members))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		if members[a] < members[b] {
			return -1
		}
		return 1
	})
	sm := make([]string, len(members))
	ss := make([][]float64, len(members))
	self := 0
	for k, i := range idx {
		sm[k], ss[k] = members[i], states[i]
		if i == 0 {
			self = k
		}
	}
	res.Members = sm
	res.Alone = len(sm) == 1
	res.Epsilon = l.dp.epsilon()
	h := sha256.New()
	fmt.Fprintf(h, "mec federated round %d\n", r)
	l.mu.Lock()
	for _, name := range sm {
		var ep, rd uint64
		var sh [32]byte
		if name == n.self.Name {
			ep, rd, sh = l.epoch, r, stateHash(l.public)
		} else if m := l.peers[name]; m != nil {
			_, rd, sh = m.at(r)
			ep = m.epoch
		}
		fmt.Fprintf(h, "%s %d %d %x\n", name, ep, rd, sh)
	}
	l.mu.Unlock()
	res.Hash = hex.EncodeToString(h.Sum(nil))
	if res.Alone {
		res.Theta, res.Eta = theta, n.roster.Learning.Eta
		n.count(func(s *Stats) { s.Rounds++; s.RoundsAlone++ })
		n.recordRound(res)
		return res, nil
	}
	var g *consensus.Graph
	var err error
	if n.roster.Learning.Topology == "ring" {
		g, err = consensus.Ring(len(sm))
	} else {
		g, err = consensus.Complete(len(sm))
	}
	if err != nil {
		return nil, fmt.Errorf("federation: round %d: %w", r, err)
	}
	w, err := consensus.MetropolisHastings(g)
	if err != nil {
		return nil, fmt.Errorf("federation: round %d: %w", r, err)
	}
	eta, clamped, err := consensus.ClampEta(w, n.roster.Learning.Eta, 0.95)
	if err != nil {
		return nil, fmt.Errorf("federation: round %d: %w", r, err)
	}
	if clamped {
		n.log.Warn("η exceeds the stability bound of this round's graph; clamped", "eta", n.roster.Learning.Eta, "clamped_to", eta, "members", len(sm))
	}
	res.Eta, res.Clamped = eta, clamped
	if res.Rate, err = consensus.Rate(w, eta); err != nil {
		return nil, err
	}
	if res.Gap, err = consensus.SpectralGap(w); err != nil {
		return nil, err
	}
	if res.Drift, err = consensus.Drift(ss); err != nil {
		return nil, err
	}
	// Θ_i ← Θ_i + η Σ_j w_ij (P_j − P_i): Mix computes P_i + η Σ_j w_ij
	// (P_j − P_i); add this node's own deviation Θ_i − P_i (zero without
	// DP; the clipped-away and noise parts otherwise).
	out := make([]float64, len(theta))
	if err := consensus.Mix(self, w, eta, ss, out); err != nil {
		return nil, err
	}
	for i := range out {
		out[i] += theta[i] - ss[self][i]
	}
	res.Theta = out
	n.count(func(s *Stats) { s.Rounds++ })
	n.recordRound(res)
	return res, nil
}

// recordRound appends the round's federated_hash to the ledger.
func (n *Node) recordRound(res *RoundResult) {
	n.record("federated_round", map[string]telemetry.Value{
		"round": telemetry.Num(float64(res.Round)), "federated_hash": telemetry.Str(res.Hash),
		"members": telemetry.Str(joinComma(res.Members)), "drift": telemetry.Num(res.Drift), "eta": telemetry.Num(res.Eta),
		"rate": telemetry.Num(res.Rate), "epsilon": telemetry.Num(res.Epsilon)})
}

// Mark remembers this node's public state at a checkpointed tick, so a
// rollback to that tick can restore it.
func (n *Node) Mark(tick uint64) {
	l := n.learn
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.started {
		return
	}
	l.marks = append(l.marks, mark{tick: tick, epoch: l.epoch, public: slices.Clone(l.public)})
	if len(l.marks) > 16 {
		l.marks = slices.Delete(l.marks, 0, 1)
	}
}

// RolledBack tells the federation that this node rolled back from tick
// at to the checkpoint of tick to: its public state returns to what it
// was at that checkpoint, under a new epoch (a reset), so that its peers
// stop averaging in the state it abandoned; and an alert says so. Round
// numbers go on (toRound, the runtime's round of that tick, is only
// recorded): the federation's rounds do not go back.
func (n *Node) RolledBack(ctx context.Context, at, to, toRound uint64, reason string) error {
	n.phase.dropPhase()
	l := n.learn
	l.mu.Lock()
	if !l.started {
		l.mu.Unlock()
		return nil
	}
	i := slices.IndexFunc(l.marks, func(m mark) bool { return m.tick == to })
	if i >= 0 {
		l.public = slices.Clone(l.marks[i].public)
		l.marks = l.marks[:i+1]
	}
	l.epoch++
	if l.pending != nil {
		// The abandoned update may or may not reach the stream: the reset
		// (a newer epoch) supersedes it either way.
		l.pending = nil
	}
	// The rollback itself is done (the runtime restored its state): a
	// reset or alert that cannot be queued now (the outbox full) is
	// owed, not an error that would stop the node — the next round
	// publishes the reset instead of its update.
	if err := l.publishLocked(DeltaReset, l.public, fmt.Sprintf("rollback from tick %d to tick %d", at, to)); err != nil {
		l.resetOwed = true
		n.log.Warn("rollback: the reset is not queued; the next round publishes it", "err", err)
	}
	l.mu.Unlock()
	n.count(func(s *Stats) { s.Rollbacks++ })
	a := &Alert{Kind: AlertRollback, Node: n.self.Name, Tick: at, To: to, Text: fmt.Sprintf("%s (the runtime's round %d)", reason, toRound)}
	if _, err := n.publishJS(KindAlert, a.Marshal()); err != nil {
		n.log.Warn("rollback alert not queued", "err", err)
	}
	if i < 0 {
		n.log.Warn("rollback to a tick with no marked public state: the current public state is republished under a new epoch", "to", to)
	}
	return ctx.Err()
}
