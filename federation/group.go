package federation

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/prismai/mec/federation/privacy"
	"github.com/prismai/mec/federation/secagg"
	"github.com/prismai/mec/runtime/telemetry"
)

// A relay round (the edges of group G behind relay R; package secagg):
//
//	edge  → ready(learning r)            every edge at its learning round r
//	relay → open(s, r)                   on the first ready for a round past the last
//	edge  → shares(s)                    commitments and encrypted Shamir bundles
//	relay → delivery(s, to e)            per edge: the participants and its bundles
//	edge  → masked(s)                    y_e = q(Δ_e) + masks
//	relay → announce(s)                  survivors U and dropped D
//	edge  → accept(s)                    one announcement per round, MAC'd to the others
//	relay → confirm(s)                   t acceptances
//	edge  → reveal(s)                    shares of b_u (u ∈ U) and of D's pair seeds
//	relay → result(s)                    the group model after the round
//
// Δ_e = Θ_e − B_e, the edge's change since its last synchronisation B_e,
// clipped (and noised, with DP) before masking. The relay learns Σ_U Δ_e
// only, and adds Σ_U Δ_e / |U| to the group model M, giving M'. An edge
// in U takes Θ_e = M'; any other edge keeps its unsent change:
// Θ_e = M' + (Θ_e − B_e). Then B_e = M'.
//
// The relay's public state in the federation is the group model: it
// follows the federation's rounds like any participant, at their pace
// (relayFollow), averaging M with its neighbours, while the
// aggregations run at the edges' pace (relayLoop). The two form a
// pipeline: an aggregation's update reaches the federation in the
// relay's next round, and the federation's mixing reaches the edges with
// the next result. (A relay that aggregated before each of its federation
// rounds would be as slow as its slowest edge's exchanges, fall rounds
// behind the cores and be left out of their averages.)
// Secure-aggregation rounds s are numbered by the relay and strictly
// increase, so masks are never reused; an edge refuses a round it has
// used, across restarts (its own shares are replayed from the stream).
// Pair secrets are agreed once per secagg epoch: the initiator of each
// pair encapsulates with randomness derived from its private KEM key (so
// a restarted initiator derives the same secret), the responder
// decapsulates the ciphertext, which the stream keeps.

type gkey struct {
	from, step, to string
	round          uint64
}

type gparts struct {
	next uint64
	buf  []byte
}

// groupState holds the secure-aggregation traffic of this node's group.
type groupState struct {
	n       *Node
	relay   string
	members []string

	mu       sync.Mutex
	changed  chan struct{}
	parts    map[gkey]*gparts
	msgs     map[gkey][]byte
	kex      map[string][]byte // ciphertexts addressed to this node, by initiator
	opened   map[uint64]uint64 // secagg round → learning round
	lastOpen uint64
	ready    map[string]uint64 // edge → highest learning round it is ready for
	ownMax   uint64            // highest secagg round this node sent shares in
	joined   uint64            // highest secagg round this process joined
	recorded uint64            // edge: the last federation round recorded in the ledger

	sec           *secagg.Node
	kexSent       bool
	base          []float64
	model         []float64    // relay: the group model M (its public state in the federation)
	lastRes       *RoundResult // relay: its last federation round
	lastDone      uint64       // relay: last learning round served
	lastSurvivors []string     // relay: U of the last aggregation
}

func newGroupState(n *Node) *groupState {
	g := &groupState{n: n, changed: make(chan struct{}), parts: map[gkey]*gparts{}, msgs: map[gkey][]byte{}, kex: map[string][]byte{},
		opened: map[uint64]uint64{}, ready: map[string]uint64{}}
	switch {
	case n.self.Role == Relay:
		g.relay = n.self.Name
	case n.self.Role == Edge && n.self.Relay != "":
		g.relay = n.self.Relay
	}
	if g.relay != "" {
		g.members = n.roster.Group(g.relay)
	}
	return g
}

func (g *groupState) wakeLocked() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// receive files one verified group message.
func (g *groupState) receive(from string, m *GroupMsg) error {
	if g.relay == "" || m.Relay != g.relay {
		return nil // another group's traffic
	}
	fromEdge := groupFromEdge[m.Step]
	switch {
	case fromEdge && !slices.Contains(g.members, from):
		return fmt.Errorf("%w: %s step from %s, not an edge of relay %s", ErrBadMessage, m.Step, from, g.relay)
	case !fromEdge && from != g.relay:
		return fmt.Errorf("%w: %s step from %s, not relay %s", ErrBadMessage, m.Step, from, g.relay)
	case m.To != "" && !slices.Contains(g.members, m.To):
		return fmt.Errorf("%w: %s step from %s addressed to %q, not an edge of relay %s", ErrBadMessage, m.Step, from, m.To, g.relay)
	}
	self := g.n.self.Name
	if self != g.relay && (m.Step == GroupReady || (m.To != "" && m.To != self)) {
		return nil // the relay's business (readiness) or another edge's (its delivery, its key exchange)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	round := m.Round
	if m.Step == GroupReady {
		round = m.Learning
	} else if fromEdge && m.Step != GroupKEX && g.lastOpen > 0 && round > g.lastOpen+8 {
		// An edge answers rounds the relay opened: nothing to hold for
		// a round far ahead of the last one opened.
		return fmt.Errorf("%w: %s step from %s for round %d, the last opened is %d", ErrBadMessage, m.Step, from, round, g.lastOpen)
	}
	k := gkey{from: from, step: m.Step, to: m.To, round: round}
	p := g.parts[k]
	if m.Chunk == 0 {
		// One reassembly per sender and step at a time: parts of a
		// message a sender abandoned (or never finishes) do not pile up.
		for old := range g.parts {
			if old.from == from && old.step == m.Step {
				delete(g.parts, old)
			}
		}
		p = &gparts{}
		g.parts[k] = p
	}
	if p == nil || p.next != m.Chunk {
		delete(g.parts, k)
		return fmt.Errorf("%w: %s part %d of round %d from %s out of sequence", ErrBadMessage, m.Step, m.Chunk, m.Round, from)
	}
	if len(p.buf)+len(m.Payload) > MaxGroupPayload {
		delete(g.parts, k)
		return fmt.Errorf("%w: %s payload from %s exceeds %d bytes", ErrBadMessage, m.Step, from, MaxGroupPayload)
	}
	p.buf = append(p.buf, m.Payload...)
	p.next++
	if p.next < m.Chunks {
		return nil
	}
	delete(g.parts, k)
	switch m.Step {
	case GroupKEX:
		if m.To == g.n.self.Name {
			g.kex[from] = p.buf
		}
	case GroupReady:
		g.ready[from] = max(g.ready[from], m.Learning)
	case GroupOpen:
		g.opened[m.Round] = m.Learning
		g.lastOpen = max(g.lastOpen, m.Round)
		g.pruneLocked()
	case GroupShares:
		if from == g.n.self.Name {
			g.ownMax = max(g.ownMax, m.Round)
		}
	}
	g.msgs[k] = p.buf
	g.wakeLocked()
	return nil
}

// pruneLocked forgets rounds long past, once per opened round: the
// steps of secure-aggregation rounds 8 behind the last opened, the
// readiness of learning rounds 8 behind the last served (the relay's),
// and the openings themselves.
func (g *groupState) pruneLocked() {
	for key := range g.msgs {
		switch {
		case key.step == GroupKEX:
		case key.step == GroupReady:
			if key.round+8 < g.lastDone {
				delete(g.msgs, key)
			}
		case key.round+8 < g.lastOpen:
			delete(g.msgs, key)
		}
	}
	for s := range g.opened {
		if s+8 < g.lastOpen {
			delete(g.opened, s)
		}
	}
}

// await waits for the payload of (from, step, to, round) until deadline,
// or until the relay's result of that round is in (a relay that gave up
// on a step sends no more of them).
func (g *groupState) await(ctx context.Context, deadline time.Time, k gkey) ([]byte, bool) {
	for {
		g.mu.Lock()
		b, ok := g.msgs[k]
		_, over := g.msgs[gkey{from: g.relay, step: GroupResult, round: k.round}]
		ch := g.changed
		g.mu.Unlock()
		if ok {
			return b, true
		}
		if over && k.step != GroupResult {
			return nil, false
		}
		select {
		case <-ctx.Done():
			return nil, false
		case <-ch:
		case <-time.After(time.Until(deadline)):
			return nil, false
		}
	}
}

// send publishes one group step (chunked) and returns the last ack.
func (g *groupState) send(base GroupMsg, payload []byte) error {
	base.Relay = g.relay
	for _, m := range groupChunks(base, payload) {
		if _, err := g.n.publishJS(KindGroup, m.Marshal()); err != nil {
			return err
		}
	}
	return nil
}

// kexReader is the deterministic encapsulation randomness of a pair:
// HKDF of this node's private KEM key, so a restarted initiator derives
// the same ciphertext and secret. The peer's public key is the salt: a
// peer re-keyed under the same epoch (its old private key compromised)
// gets fresh randomness, not the message its old key can open.
func (g *groupState) kexReader(peer string, epoch uint64) (io.Reader, error) {
	sk, err := g.n.id.kemSK.MarshalBinary()
	if err != nil {
		return nil, err
	}
	pk, err := g.n.roster.Member(peer).KEMPublicKey().MarshalBinary()
	if err != nil {
		clear(sk)
		return nil, err
	}
	salt := sha256.Sum256(pk)
	seed, err := hkdf.Key(sha256.New, sk, salt[:], fmt.Sprintf("mec/federation/v1 kex %s %s %d", g.n.self.Name, peer, epoch), 64)
	clear(sk)
	if err != nil {
		return nil, err
	}
	return &fixedReader{b: seed}, nil
}

type fixedReader struct{ b []byte }

func (r *fixedReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// setup agrees the pair secrets of an edge: it publishes the ciphertexts
// it initiates and builds the secagg node once every peer's ciphertext is
// in. It returns the name of a peer still missing.
func (g *groupState) setup() (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sec != nil {
		return "", nil
	}
	n := g.n
	epoch := n.roster.Learning.SecAgg.Epoch
	secrets := map[string][32]byte{}
	var pending []*GroupMsg
	missing := ""
	for _, p := range g.members {
		if p == n.self.Name {
			continue
		}
		if secagg.PairInitiator(n.self.Name, p) == n.self.Name {
			rd, err := g.kexReader(p, epoch)
			if err != nil {
				return "", err
			}
			ct, s, err := secagg.EncapsulatePair(n.self.Name, p, epoch, n.roster.Member(p).KEMPublicKey(), rd)
			if err != nil {
				return "", fmt.Errorf("federation: key exchange with %s: %w", p, err)
			}
			secrets[p] = s
			pc := &secagg.PairCiphertext{Epoch: epoch, From: n.self.Name, To: p, Ciphertext: ct}
			b, err := pc.Marshal()
			if err != nil {
				return "", err
			}
			pending = append(pending, groupChunks(GroupMsg{Relay: g.relay, Step: GroupKEX, To: p}, b)...)
			continue
		}
		raw, ok := g.kex[p]
		if !ok {
			missing = p
			continue
		}
		// A malformed ciphertext (a faulty or hostile sibling) is
		// dropped and counted, and the pair waits for a good one: it must
		// not stop this edge from starting or from taking part in rounds
		// without that sibling.
		pc, err := secagg.UnmarshalPairCiphertext(raw)
		if err != nil {
			n.badKEX(g, p, err)
			missing = p
			continue
		}
		if pc.Epoch != epoch || pc.From != p || pc.To != n.self.Name {
			missing = p // a ciphertext of another epoch: wait for this one
			continue
		}
		s, err := secagg.DecapsulatePair(n.self.Name, p, epoch, n.id.kemSK, pc.Ciphertext)
		if err != nil {
			n.badKEX(g, p, err)
			missing = p
			continue
		}
		secrets[p] = s
	}
	if !g.kexSent {
		for _, m := range pending {
			if _, err := n.publishJS(KindGroup, m.Marshal()); err != nil {
				return "", err
			}
		}
		g.kexSent = true
	}
	if missing != "" {
		return missing, nil
	}
	t := n.roster.Learning.SecAgg.Threshold
	if t == 0 {
		t = secagg.MinThreshold(len(g.members))
	}
	grp, err := secagg.NewGroup(epoch, g.members, t)
	if err != nil {
		return "", fmt.Errorf("federation: group of relay %s: %w", g.relay, err)
	}
	sn, err := secagg.NewNode(grp, n.self.Name, secrets)
	if err != nil {
		return "", fmt.Errorf("federation: group of relay %s: %w", g.relay, err)
	}
	sn.ResumeAfter(g.ownMax)
	g.sec = sn
	return "", nil
}

// saClip is the secure-aggregation clip bound.
//
// With differential privacy on, an edge's update is clipped to dp.clip C
// and then noised (σC per coordinate), so the range must hold the noisy
// vector: C·(1 + σ(√d + 4)) bounds its norm but with probability below
// e⁻⁸ (Gaussian concentration), and a vector beyond is clipped again
// (post-processing: the privacy holds). Every member computes the same
// bound from the roster and the dimension.
func (n *Node) saClip(dim int) float64 {
	l := n.roster.Learning
	if !l.DP.Enabled {
		return l.SecAgg.Clip
	}
	return l.DP.Clip * (1 + l.DP.NoiseMultiplier*(math.Sqrt(float64(dim))+4))
}

// groupRound is an edge's learning round through its relay (see the
// comment at the top of this file).
func (n *Node) groupRound(ctx context.Context, r uint64, theta []float64) (*RoundResult, error) {
	g := n.group
	res := &RoundResult{Round: r, Theta: theta, Alone: true, Members: []string{n.self.Name}, Eta: n.roster.Learning.Eta}
	deadline := time.Now().Add(2 * time.Duration(n.roster.Learning.RoundTimeout))
	for {
		g.mu.Lock()
		ch := g.changed
		g.mu.Unlock()
		missing, err := g.setup()
		if err != nil {
			return nil, err
		}
		if missing == "" {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-ch:
			continue
		case <-time.After(time.Until(deadline)):
		}
		n.log.Info("secure aggregation waits for a key exchange (has that edge ever started?)", "peer", missing, "round", r)
		res.Epsilon = n.learn.dp.epsilon()
		return res, nil
	}
	g.mu.Lock()
	if g.base == nil || len(g.base) != len(theta) {
		g.base = slices.Clone(theta)
		if len(n.cfg.InitialTheta) == len(theta) {
			g.base = slices.Clone(n.cfg.InitialTheta)
		}
	}
	base := slices.Clone(g.base)
	g.mu.Unlock()
	g.mu.Lock()
	var opened uint64
	for _, lr := range g.opened {
		opened = max(opened, lr)
	}
	g.mu.Unlock()
	n.learn.mu.Lock()
	// Numbered by the federation (see participantRound): the next round,
	// and never behind the relay's (a restarted edge catches up).
	r = max(n.learn.round+1, opened)
	n.learn.round = r
	n.learn.mu.Unlock()
	if err := g.send(GroupMsg{Step: GroupReady, Learning: r}, groupDimBody(len(theta))); err != nil {
		return nil, err
	}
	// The relay's round for learning round r (or a later one, when this
	// edge is behind).
	var s uint64
	for s == 0 {
		g.mu.Lock()
		for round, lr := range g.opened {
			if lr >= r && round > g.joined && round > g.ownMax && (s == 0 || round < s) {
				s = round
			}
		}
		ch := g.changed
		g.mu.Unlock()
		if s != 0 {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-ch:
		case <-time.After(time.Until(deadline)):
			n.log.Debug("no relay round opened in time", "relay", g.relay, "round", r)
			res.Epsilon = n.learn.dp.epsilon()
			return res, nil
		}
	}
	g.mu.Lock()
	g.joined = s
	g.mu.Unlock()
	alone := func(why string) (*RoundResult, error) {
		n.log.Info("relay round without this edge", "relay", g.relay, "secagg_round", s, "why", why)
		res.Epsilon = n.learn.dp.epsilon()
		return res, nil
	}
	// takeResult waits for the relay's result of round s and applies it
	// (every path ends here once this edge's shares are out: a relay that
	// gives up on a step still sends its result, without this edge's
	// update, which the edge then keeps).
	takeResult := func() (*RoundResult, error) {
		raw, ok := g.await(ctx, deadline, gkey{from: g.relay, step: GroupResult, round: s})
		if !ok {
			return alone("no result from the relay")
		}
		gr, err := UnmarshalGroupResult(raw)
		if err != nil || len(gr.Model) != len(theta) {
			return alone(fmt.Sprintf("bad result: %v", err))
		}
		out := slices.Clone(gr.Model)
		if !(gr.Aggregated && slices.Contains(gr.Survivors, n.self.Name)) {
			for i := range out {
				out[i] += theta[i] - base[i]
			}
		}
		g.mu.Lock()
		g.base = slices.Clone(gr.Model)
		g.mu.Unlock()
		res.Round, res.Theta, res.Alone, res.Members, res.Drift, res.Hash, res.Eta = gr.Round, out, false, gr.Members, gr.Drift, gr.Hash, gr.Eta
		n.learn.mu.Lock()
		n.learn.round = max(n.learn.round, gr.Round)
		n.learn.mu.Unlock()
		res.Published = gr.Aggregated && slices.Contains(gr.Survivors, n.self.Name)
		res.Epsilon = n.learn.dp.epsilon()
		n.count(func(s *Stats) { s.Rounds++ })
		// The result names the relay's last federation round, which edges
		// that run faster than the federation see more than once: the ledger
		// records each federation round once.
		g.mu.Lock()
		record := gr.Round > g.recorded && gr.Hash != ""
		if record {
			g.recorded = gr.Round
		}
		g.mu.Unlock()
		if record {
			n.recordRound(res)
		}
		return res, nil
	}
	if err := g.saveFloor(s); err != nil {
		return nil, err
	}
	client, err := g.sec.NewClient(s, nil)
	if err != nil {
		return alone(err.Error())
	}
	delta := make([]float64, len(theta))
	for i := range delta {
		delta[i] = theta[i] - base[i]
	}
	if err := n.learn.dp.privatize(delta); err != nil {
		return nil, err
	}
	if _, err := privacy.Clip(delta, n.saClip(len(delta))); err != nil {
		return nil, fmt.Errorf("federation: %w", err)
	}
	ss, err := client.ShareSet()
	if err != nil {
		return nil, fmt.Errorf("federation: %w", err)
	}
	b, err := ss.Marshal()
	if err != nil {
		return nil, err
	}
	if err := g.send(GroupMsg{Step: GroupShares, Round: s}, b); err != nil {
		return nil, err
	}
	raw, ok := g.await(ctx, deadline, gkey{from: g.relay, step: GroupDelivery, to: n.self.Name, round: s})
	if !ok {
		n.log.Info("no delivery from the relay", "relay", g.relay, "secagg_round", s)
		return takeResult()
	}
	dl, err := secagg.UnmarshalDelivery(raw)
	if err != nil {
		n.log.Warn("unusable delivery from the relay", "relay", g.relay, "secagg_round", s, "err", err)
		return takeResult()
	}
	y, err := client.Mask(delta, n.saClip(len(delta)), dl)
	if err != nil {
		n.log.Warn("masking refused", "relay", g.relay, "secagg_round", s, "err", err)
		return takeResult()
	}
	if b, err = y.Marshal(); err != nil {
		return nil, err
	}
	if err := g.send(GroupMsg{Step: GroupMasked, Round: s}, b); err != nil {
		return nil, err
	}
	raw, ok = g.await(ctx, deadline, gkey{from: g.relay, step: GroupAnnounce, round: s})
	if ok {
		ann, err := secagg.UnmarshalAnnouncement(raw)
		if err == nil && slices.Contains(ann.Survivors, n.self.Name) {
			if acc, err := client.Accept(ann); err == nil {
				if b, err = acc.Marshal(); err != nil {
					return nil, err
				}
				if err := g.send(GroupMsg{Step: GroupAccept, Round: s}, b); err != nil {
					return nil, err
				}
				if raw, ok := g.await(ctx, deadline, gkey{from: g.relay, step: GroupConfirm, round: s}); ok {
					if conf, err := secagg.UnmarshalConfirmation(raw); err == nil {
						if rev, err := client.Reveal(conf); err == nil {
							if b, err = rev.Marshal(); err != nil {
								return nil, err
							}
							if err := g.send(GroupMsg{Step: GroupReveal, Round: s}, b); err != nil {
								return nil, err
							}
						} else {
							n.log.Warn("refused to reveal", "secagg_round", s, "err", err)
						}
					}
				}
			} else {
				n.log.Warn("refused the relay's announcement", "secagg_round", s, "err", err)
			}
		}
	}
	return takeResult()
}

// relayLoop runs a relay's secure-aggregation rounds until the node
// closes: one per learning round that an edge is ready for, past the last
// one served.
func (n *Node) relayLoop() {
	defer n.wg.Done()
	g := n.group
	for n.ctx.Err() == nil {
		// Wait for an edge ready for a round past the last one served.
		var r uint64
		dim := 0
		for r == 0 && n.ctx.Err() == nil {
			g.mu.Lock()
			for e, lr := range g.ready {
				if lr > g.lastDone && lr > r {
					r = lr
					if raw, ok := g.msgs[gkey{from: e, step: GroupReady, round: lr}]; ok {
						dim, _ = unmarshalGroupDim(raw)
					}
				}
			}
			ch := g.changed
			g.mu.Unlock()
			if r != 0 {
				break
			}
			select {
			case <-n.ctx.Done():
				return
			case <-ch:
			}
		}
		if n.ctx.Err() != nil {
			return
		}
		if err := n.relayRound(n.ctx, r, dim); err != nil && n.ctx.Err() == nil {
			n.log.Warn("relay round failed", "round", r, "err", err)
		}
		g.mu.Lock()
		g.lastDone = r
		g.mu.Unlock()
	}
}

// relayFollow runs a relay's federation rounds until the node closes: a
// round each time a live participant is at a round past the relay's (the
// relay joins the latest one; it follows the rounds, it never starts
// one), with the group model as the relay's parameters. It is the relay's
// half of a pipeline whose other half is relayLoop: the federation's
// rounds go at the participants' pace, not at the pace of the group's
// secure aggregation (several exchanges with every edge), and an
// aggregation that completes adds the edges' mean update to the group
// model, which the next federation round publishes.
func (n *Node) relayFollow() {
	defer n.wg.Done()
	l, g := n.learn, n.group
	warned := false
	for n.ctx.Err() == nil {
		l.mu.Lock()
		behind := l.maxPeerRoundLocked() > l.round
		ch := l.changed
		l.mu.Unlock()
		var model []float64
		if behind {
			model = n.relayModel(0)
			if model == nil && !warned {
				warned = true
				n.log.Warn("the relay has no group model to take part in the federation's rounds (give it the scenario's initial state)")
			}
		}
		if model == nil {
			select {
			case <-n.ctx.Done():
				return
			case <-ch:
			case <-time.After(100 * time.Millisecond): // liveness changes are not signalled
			}
			continue
		}
		res, err := n.participantRound(n.ctx, 0, model)
		if err != nil {
			if n.ctx.Err() != nil {
				return
			}
			n.log.Warn("relay: federation round failed", "err", err)
			select {
			case <-n.ctx.Done():
				return
			case <-time.After(time.Duration(n.roster.Learning.RoundTimeout)):
			}
			continue
		}
		g.mu.Lock()
		// What an aggregation added while the round was out is kept on
		// top of the round's result.
		for i := range g.model {
			g.model[i] = res.Theta[i] + (g.model[i] - model[i])
		}
		g.lastRes = res
		g.mu.Unlock()
	}
}

// relayModel returns a copy of the group model, set up on first use from
// the relay's own public state in the stream or the initial state; nil
// when there is neither, or when it is not of dimension dim (0: any). (A
// relay restarted into a running federation takes the live
// participants' mean in its first federation round, like any node that
// catches up; what aggregations added meanwhile is kept on top.)
func (n *Node) relayModel(dim int) []float64 {
	g := n.group
	// The relay's own mirror is read under the learner's lock (the
	// consumers write it); group.mu and learner.mu are never nested.
	var ownState []float64
	n.learn.mu.Lock()
	if own := n.learn.peers[n.self.Name]; own != nil && own.synced {
		ownState = slices.Clone(own.state)
	}
	n.learn.mu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.model == nil {
		switch {
		case ownState != nil:
			g.model = ownState
		case len(n.cfg.InitialTheta) > 0:
			g.model = slices.Clone(n.cfg.InitialTheta)
		}
	}
	if g.model == nil || (dim != 0 && len(g.model) != dim) {
		return nil
	}
	return slices.Clone(g.model)
}

// relayRound runs the secure aggregation for learning round r of the
// group: the edges' mean update joins the group model, and the edges get
// the model back with the relay's last federation round.
func (n *Node) relayRound(ctx context.Context, r uint64, dim int) error {
	g := n.group
	model := n.relayModel(dim)
	if model == nil {
		return fmt.Errorf("federation: relay %s has no group model of dimension %d (give it the scenario's initial state)", n.self.Name, dim)
	}
	g.mu.Lock()
	s := g.lastOpen + 1
	g.lastOpen = s // this process never opens s twice, whatever the stream echoes
	g.mu.Unlock()
	if err := g.saveFloor(s); err != nil {
		return err
	}
	phase := time.Duration(n.roster.Learning.RoundTimeout) / 4
	if err := g.send(GroupMsg{Step: GroupOpen, Round: s, Learning: r}, groupDimBody(len(model))); err != nil {
		return err
	}
	gr := &GroupResultBody{}
	sum, k, err := n.aggregate(ctx, s, len(model), phase)
	if err != nil {
		gr.Why = err.Error()
		n.log.Info("secure aggregation did not complete; the group model only follows the federation this round", "secagg_round", s, "why", err)
	} else {
		h := stateHash(sum)
		n.record("group_aggregate", map[string]telemetry.Value{"round": telemetry.Num(float64(r)), "secagg_round": telemetry.Num(float64(s)),
			"edges": telemetry.Num(float64(k)), "sum_sha256": telemetry.Str(hex.EncodeToString(h[:]))})
	}
	g.mu.Lock()
	if err == nil {
		for i := range g.model {
			g.model[i] += sum[i] / float64(k)
		}
		gr.Aggregated = true
		gr.Survivors = slices.Clone(g.lastSurvivors)
	}
	gr.Model = slices.Clone(g.model)
	if lr := g.lastRes; lr != nil {
		gr.Round, gr.Members, gr.Drift, gr.Hash, gr.Eta = lr.Round, lr.Members, lr.Drift, lr.Hash, lr.Eta
	} else {
		// No federation round yet (the relay is alone so far).
		gr.Round, gr.Members, gr.Eta = r, []string{n.self.Name}, n.roster.Learning.Eta
	}
	g.mu.Unlock()
	return g.send(GroupMsg{Step: GroupResult, Round: s, Learning: r}, gr.Marshal())
}

// aggregate runs the secure aggregation of secagg round s: each phase
// waits for the live edges (or the phase timeout).
func (n *Node) aggregate(ctx context.Context, s uint64, dim int, phase time.Duration) ([]float64, int, error) {
	g := n.group
	t := n.roster.Learning.SecAgg.Threshold
	if t == 0 {
		t = secagg.MinThreshold(len(g.members))
	}
	grp, err := secagg.NewGroup(n.roster.Learning.SecAgg.Epoch, g.members, t)
	if err != nil {
		return nil, 0, err
	}
	agg, err := secagg.NewAggregator(grp, s, n.saClip(dim), dim)
	if err != nil {
		return nil, 0, err
	}
	// collect waits for step messages of round s from the edges in want
	// that are live, until the phase deadline, and hands each to add.
	collect := func(step string, want []string, add func(from string, b []byte) error) []string {
		deadline := time.Now().Add(phase)
		got := map[string]bool{}
		for {
			g.mu.Lock()
			for _, e := range want {
				if got[e] {
					continue
				}
				if b, ok := g.msgs[gkey{from: e, step: step, round: s}]; ok {
					got[e] = true
					if err := add(e, b); err != nil {
						n.log.Warn("secure aggregation: message refused", "step", step, "from", e, "err", err)
					}
				}
			}
			ch := g.changed
			g.mu.Unlock()
			done := true
			for _, e := range want {
				if !got[e] && n.isLive(e) {
					done = false
				}
			}
			if done || time.Now().After(deadline) || ctx.Err() != nil {
				var out []string
				for _, e := range want {
					if got[e] {
						out = append(out, e)
					}
				}
				return out
			}
			select {
			case <-ctx.Done():
			case <-ch:
			case <-time.After(time.Until(deadline)):
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	collect(GroupShares, g.members, func(_ string, b []byte) error {
		ss, err := secagg.UnmarshalShareSet(b)
		if err != nil {
			return err
		}
		return agg.AddShareSet(ss)
	})
	dels, err := agg.Deliveries()
	if err != nil {
		return nil, 0, err
	}
	var part []string
	for e, d := range dels {
		b, err := d.Marshal()
		if err != nil {
			return nil, 0, err
		}
		if err := g.send(GroupMsg{Step: GroupDelivery, Round: s, To: e}, b); err != nil {
			return nil, 0, err
		}
		part = append(part, e)
	}
	slices.Sort(part)
	collect(GroupMasked, part, func(_ string, b []byte) error {
		y, err := secagg.UnmarshalMaskedVector(b)
		if err != nil {
			return err
		}
		return agg.AddMasked(y)
	})
	ann, err := agg.Announce()
	if err != nil {
		return nil, 0, err
	}
	b, err := ann.Marshal()
	if err != nil {
		return nil, 0, err
	}
	if err := g.send(GroupMsg{Step: GroupAnnounce, Round: s}, b); err != nil {
		return nil, 0, err
	}
	collect(GroupAccept, ann.Survivors, func(_ string, b []byte) error {
		a, err := secagg.UnmarshalAcceptance(b)
		if err != nil {
			return err
		}
		return agg.AddAcceptance(a)
	})
	conf, err := agg.Confirm()
	if err != nil {
		return nil, 0, err
	}
	if b, err = conf.Marshal(); err != nil {
		return nil, 0, err
	}
	if err := g.send(GroupMsg{Step: GroupConfirm, Round: s}, b); err != nil {
		return nil, 0, err
	}
	collect(GroupReveal, conf.Acceptors, func(_ string, b []byte) error {
		rv, err := secagg.UnmarshalReveal(b)
		if err != nil {
			return err
		}
		return agg.AddReveal(rv)
	})
	sum, k, err := agg.Result()
	if err != nil {
		return nil, 0, err
	}
	for _, x := range sum {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, 0, errors.New("federation: the aggregated sum is not finite")
		}
	}
	g.mu.Lock()
	g.lastSurvivors = slices.Clone(ann.Survivors)
	g.mu.Unlock()
	return sum, k, nil
}

// badKEX drops a sibling's unusable key-exchange ciphertext (the caller
// holds g.mu) and counts it as a bad body.
func (n *Node) badKEX(g *groupState, from string, err error) {
	delete(g.kex, from)
	n.count(func(st *Stats) { st.BadBody++ })
	n.log.Warn("secure aggregation: unusable key exchange from a sibling edge; waiting for another", "from", from, "err", err)
}
