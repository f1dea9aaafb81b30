package secagg

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"fmt"
	"io"
	"slices"
	"sync"
)

// Client is one edge's state machine for one round:
//
//	NewClient → ShareSet → Mask → Accept → Reveal
//
// It holds the round's secrets: the self-mask seed b_a, the round seeds
// s_ab^r with every other member, its own shares and the shares it received.
// It accepts at most one announcement per round and reveals only for that
// one, once at least t survivors (itself included) provably accepted it.
// Repeating a step with the same message returns the same answer (the same
// pointer: treat returned messages as read-only). A Client is safe for
// concurrent use.
type Client struct {
	n     *Node
	g     *Group
	round uint64
	rand  io.Reader

	mu       sync.Mutex
	phase    int
	selfSeed [32]byte
	seeds    [][32]byte // seeds[k] = s_{self,k}^r; seeds[idx] unused
	shareSet *ShareSet
	own      [][32]byte   // own[k]: own share of secret k (k = idx: b_self)
	recv     [][][32]byte // recv[j][k]: share from j of j's secret k; nil if no bundle from j
	part     []int        // P, the participants masked with (group indices)
	ann      *Announcement
	annDig   [32]byte // digest of the one announcement accepted
	accept   *Acceptance
	reveal   *Reveal
}

const (
	phaseNew = iota
	phaseShared
	phaseMasked
	phaseAccepted
	phaseRevealed
)

func newClient(n *Node, round uint64, rand io.Reader) (*Client, error) {
	g := n.group
	c := &Client{n: n, g: g, round: round, rand: rand, seeds: make([][32]byte, len(g.members))}
	if _, err := io.ReadFull(rand, c.selfSeed[:]); err != nil {
		return nil, fmt.Errorf("secagg: reading self-mask seed: %w", err)
	}
	for k, peer := range g.members {
		if k != n.idx {
			c.seeds[k] = roundSeed(&n.secrets[k], g.epoch, round, n.self, peer)
		}
	}
	return c, nil
}

// Round is the client's round number.
func (c *Client) Round() uint64 { return c.round }

// secret returns the client's secret k: its self-mask seed for k = own
// index, else its round seed with member k.
func (c *Client) secret(k int) [32]byte {
	if k == c.n.idx {
		return c.selfSeed
	}
	return c.seeds[k]
}

// ShareSet returns the message for the share phase: commitments to the
// client's secrets and, for every other member, a Bundle with that member's
// Shamir shares (threshold t) of the self-mask seed and of every round seed,
// sealed under the pair's bundle key. The first call draws the share
// polynomials and nonces; later calls return the same message.
func (c *Client) ShareSet() (*ShareSet, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shareSet != nil {
		return c.shareSet, nil
	}
	g, self, idx := c.g, c.n.self, c.n.idx
	m := len(g.members)
	secrets := make([][32]byte, m)
	xs := make([]byte, m)
	for k := range m {
		secrets[k] = c.secret(k)
		xs[k] = byte(k + 1)
	}
	shares, err := shamirSplit(secrets, g.threshold, xs, c.rand)
	clear(secrets)
	if err != nil {
		return nil, err
	}
	ss := &ShareSet{
		Epoch: g.epoch, Round: c.round, Sender: self,
		SelfCommit: selfCommit(g.epoch, c.round, self, &c.selfSeed),
	}
	plain := make([]byte, SeedSize*m)
	for k, peer := range g.members {
		if k == idx {
			continue
		}
		ss.PairCommits = append(ss.PairCommits, pairCommit(g.epoch, c.round, self, peer, &c.seeds[k]))
		for j := range shares[k] {
			copy(plain[SeedSize*j:], shares[k][j][:])
		}
		b := Bundle{Sender: self, Recipient: peer}
		if _, err := io.ReadFull(c.rand, b.Nonce[:]); err != nil {
			return nil, fmt.Errorf("secagg: reading bundle nonce: %w", err)
		}
		aead, err := c.aead(k)
		if err != nil {
			return nil, err
		}
		b.Ciphertext = aead.Seal(nil, b.Nonce[:], plain, bundleAD(g, c.round, self, peer))
		ss.Bundles = append(ss.Bundles, b)
	}
	clear(plain)
	c.own = shares[idx]
	for k := range shares {
		if k != idx {
			clear(shares[k])
		}
	}
	c.shareSet = ss
	c.phase = phaseShared
	return ss, nil
}

// aead returns the AES-256-GCM instance for bundles between the client and
// member k in the direction given by the key derivation's name order: the
// key for sender→recipient is derived with (sender, recipient).
func (c *Client) aeadFor(k int, sender, recipient string) (cipher.AEAD, error) {
	key := bundleKey(&c.n.secrets[k], c.g.epoch, c.round, sender, recipient)
	blk, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("secagg: bundle key: %w", err)
	}
	a, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, fmt.Errorf("secagg: bundle cipher: %w", err)
	}
	return a, nil
}

func (c *Client) aead(k int) (cipher.AEAD, error) {
	return c.aeadFor(k, c.n.self, c.g.members[k])
}

// Mask quantizes x (which the caller has clipped to ||x||_2 <= clip; every
// node and the relay must use the same clip for the round) and returns the
// masked vector
//
//	y = q(x) + PRG(b_self) + Σ_{p∈P, p>self} PRG(s_{self,p}) − Σ_{p∈P, p<self} PRG(s_{self,p})  (mod 2^64)
//
// where P is the participant set of d, the relay's Delivery of the bundles
// addressed to this client. Every bundle must authenticate and come from a
// member of P, and P must contain this client and at least t members. Mask
// succeeds at most once per round (two masked vectors under the same masks
// would leak their difference); a failed call changes nothing.
func (c *Client) Mask(x []float64, clip float64, d *Delivery) (*MaskedVector, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.phase == phaseNew:
		return nil, fmt.Errorf("%w: Mask before ShareSet", ErrPhase)
	case c.phase > phaseShared:
		return nil, fmt.Errorf("%w: round %d is already masked", ErrPhase, c.round)
	}
	g, self, idx := c.g, c.n.self, c.n.idx
	scale, err := Scale(len(g.members), clip)
	if err != nil {
		return nil, err
	}
	if err := checkInput(x, clip); err != nil {
		return nil, err
	}
	part, recv, err := c.openDelivery(d)
	if err != nil {
		return nil, err
	}
	terms := []maskTerm{{seed: c.selfSeed}}
	for _, k := range part {
		if k != idx {
			terms = append(terms, maskTerm{seed: c.seeds[k], neg: k < idx})
		}
	}
	y := make([]uint64, len(x))
	if err := applyMasks(y, x, scale, terms); err != nil {
		return nil, err
	}
	clear(terms)
	mv := &MaskedVector{
		Epoch: g.epoch, Round: c.round, Sender: self, Clip: clip,
		Participants: g.namesOf(part), Data: y,
	}
	c.part, c.recv = part, recv
	c.phase = phaseMasked
	return mv, nil
}

// openDelivery checks a Delivery and decrypts its bundles.
func (c *Client) openDelivery(d *Delivery) ([]int, [][][32]byte, error) {
	g, self, idx := c.g, c.n.self, c.n.idx
	if d == nil {
		return nil, nil, fmt.Errorf("%w: nil delivery", ErrInput)
	}
	if d.Epoch != g.epoch || d.Round != c.round || d.Recipient != self {
		return nil, nil, fmt.Errorf("%w: delivery for %q epoch %d round %d, this is %q epoch %d round %d",
			ErrMismatch, d.Recipient, d.Epoch, d.Round, self, g.epoch, c.round)
	}
	part, err := g.indicesOf(d.Participants, "delivery participants")
	if err != nil {
		return nil, nil, err
	}
	in := false
	for _, k := range part {
		in = in || k == idx
	}
	if !in {
		return nil, nil, fmt.Errorf("%w: delivery participants omit the recipient %q", ErrMismatch, self)
	}
	if len(part) < g.threshold {
		return nil, nil, fmt.Errorf("%w: %d participants, threshold %d", ErrTooFewParticipants, len(part), g.threshold)
	}
	if len(d.Bundles) != len(part)-1 {
		return nil, nil, fmt.Errorf("%w: delivery holds %d bundles for %d other participants", ErrMismatch, len(d.Bundles), len(part)-1)
	}
	recv := make([][][32]byte, len(g.members))
	m := len(g.members)
	bi := 0
	for _, j := range part {
		if j == idx {
			continue
		}
		b := &d.Bundles[bi]
		bi++
		if b.Sender != g.members[j] || b.Recipient != self {
			return nil, nil, fmt.Errorf("%w: delivery bundle %d is from %q to %q, want from %q to %q in group order",
				ErrMismatch, bi-1, b.Sender, b.Recipient, g.members[j], self)
		}
		aead, err := c.aeadFor(j, b.Sender, self)
		if err != nil {
			return nil, nil, err
		}
		plain, err := aead.Open(nil, b.Nonce[:], b.Ciphertext, bundleAD(g, c.round, b.Sender, self))
		if err != nil {
			return nil, nil, fmt.Errorf("%w: bundle from %q to %q, round %d (different pair secrets, group or round?)", ErrAuth, b.Sender, self, c.round)
		}
		if len(plain) != SeedSize*m {
			return nil, nil, fmt.Errorf("%w: bundle from %q holds %d bytes, want %d", ErrMismatch, b.Sender, len(plain), SeedSize*m)
		}
		recv[j] = make([][32]byte, m)
		for k := range m {
			copy(recv[j][k][:], plain[SeedSize*k:])
		}
		clear(plain)
	}
	return part, recv, nil
}

// Accept is the client's answer to the relay's announcement (U =
// Survivors, D = Dropped). It refuses (ErrRefused) unless U and D are
// disjoint (a member in both would have its self mask and its pair masks
// revealed), the client itself is in U, |U| >= t, and U ∪ D is exactly the
// participant set this client masked with. The client accepts at most one
// announcement per round (the same one again gets the same Acceptance): the
// double-reveal attack needs two. The Acceptance carries, for every other
// survivor, a tag only this client and that survivor can compute.
func (c *Client) Accept(a *Announcement) (*Acceptance, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a == nil {
		return nil, fmt.Errorf("%w: nil announcement", ErrInput)
	}
	if c.phase < phaseMasked {
		return nil, fmt.Errorf("%w: Accept before Mask", ErrPhase)
	}
	// Work on a copy: what is checked, digested and later revealed for
	// must not change if the caller reuses its struct.
	a = &Announcement{Epoch: a.Epoch, Round: a.Round, Survivors: slices.Clone(a.Survivors), Dropped: slices.Clone(a.Dropped)}
	dig, err := a.Digest()
	if err != nil {
		return nil, err
	}
	if c.phase >= phaseAccepted {
		if dig == c.annDig {
			return c.accept, nil
		}
		return nil, fmt.Errorf("%w: %q already accepted another announcement in round %d", ErrRefused, c.n.self, c.round)
	}
	if err := c.checkAnnouncement(a); err != nil {
		return nil, err
	}
	g, self, idx := c.g, c.n.self, c.n.idx
	u, _ := g.indicesOf(a.Survivors, "survivors") // checked
	acc := &Acceptance{Epoch: g.epoch, Round: c.round, Sender: self, Announcement: dig}
	for _, k := range u {
		if k != idx {
			acc.Tags = append(acc.Tags, acceptTag(g, &c.n.secrets[k], c.round, self, g.members[k], &dig))
		}
	}
	c.ann, c.annDig, c.accept, c.phase = a, dig, acc, phaseAccepted
	return acc, nil
}

// Reveal answers the relay's confirmation of the accepted announcement with
// this client's share of b_u for every u in U and of s_{d,u} for every d in
// D and u in U. It refuses (ErrRefused) unless the confirmation is for the
// announcement this client accepted, lists at least t acceptors (this
// client included) and carries a valid acceptance tag from every other
// acceptor to this client. Since no honest edge accepts two announcements
// in a round and 2t > m, at most one announcement of a round can ever be
// confirmed to an honest edge, so the relay never holds shares for two
// different (U, D).
func (c *Client) Reveal(conf *Confirmation) (*Reveal, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if conf == nil {
		return nil, fmt.Errorf("%w: nil confirmation", ErrInput)
	}
	if c.phase < phaseAccepted {
		return nil, fmt.Errorf("%w: Reveal before Accept", ErrPhase)
	}
	g, self, idx := c.g, c.n.self, c.n.idx
	if conf.Epoch != g.epoch || conf.Round != c.round {
		return nil, fmt.Errorf("%w: confirmation for epoch %d round %d, this is epoch %d round %d", ErrRefused, conf.Epoch, conf.Round, g.epoch, c.round)
	}
	if conf.Announcement != c.annDig {
		return nil, fmt.Errorf("%w: the confirmation is for an announcement %q did not accept", ErrRefused, self)
	}
	if c.phase == phaseRevealed {
		return c.reveal, nil
	}
	if err := conf.validate(); err != nil {
		return nil, err
	}
	u, _ := g.indicesOf(c.ann.Survivors, "survivors")
	inU := make(map[int]bool, len(u))
	for _, k := range u {
		inU[k] = true
	}
	acc, err := g.indicesOf(conf.Acceptors, "acceptors")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	count := 0
	for i, k := range acc {
		if !inU[k] {
			return nil, fmt.Errorf("%w: acceptor %q is not a survivor", ErrRefused, g.members[k])
		}
		count++
		if k == idx {
			continue
		}
		if len(conf.Tags[i]) != len(u)-1 {
			return nil, fmt.Errorf("%w: %d acceptance tags from %q, want %d", ErrRefused, len(conf.Tags[i]), g.members[k], len(u)-1)
		}
		want := acceptTag(g, &c.n.secrets[k], c.round, g.members[k], self, &c.annDig)
		if !hmac.Equal(want[:], conf.Tags[i][positionIn(u, idx, k)][:]) {
			return nil, fmt.Errorf("%w: the acceptance tag of %q is not valid (the relay forged it, or %q accepted another announcement)", ErrRefused, g.members[k], g.members[k])
		}
	}
	if !slices.Contains(acc, idx) {
		count++ // this client accepted, even if the relay did not list it
	}
	if count < g.threshold {
		return nil, fmt.Errorf("%w: %d survivors accepted the announcement, threshold %d", ErrRefused, count, g.threshold)
	}
	r := c.shares(c.ann)
	r.Announcement = c.annDig
	c.reveal, c.phase = r, phaseRevealed
	return r, nil
}

// shares builds the Reveal for an announcement that passed the checks
// (without its digest).
func (c *Client) shares(a *Announcement) *Reveal {
	g, idx := c.g, c.n.idx
	u, _ := g.indicesOf(a.Survivors, "survivors") // checked by checkAnnouncement
	dr, _ := g.indicesOf(a.Dropped, "dropped")
	r := &Reveal{Epoch: g.epoch, Round: c.round, Sender: c.n.self}
	for _, k := range u {
		if k == idx {
			r.SelfShares = append(r.SelfShares, c.own[idx])
		} else {
			r.SelfShares = append(r.SelfShares, c.recv[k][k])
		}
	}
	for _, d := range dr {
		for _, k := range u {
			r.PairShares = append(r.PairShares, c.recv[d][k])
		}
	}
	return r
}

// checkAnnouncement checks an announcement's structure against what the
// client masked with: round, U ∩ D = ∅, self ∈ U, |U| >= t, U ∪ D = P.
func (c *Client) checkAnnouncement(a *Announcement) error {
	g, self, idx := c.g, c.n.self, c.n.idx
	if a.Epoch != g.epoch || a.Round != c.round {
		return fmt.Errorf("%w: announcement for epoch %d round %d, this is epoch %d round %d", ErrRefused, a.Epoch, a.Round, g.epoch, c.round)
	}
	u, err := g.indicesOf(a.Survivors, "survivors")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	dr, err := g.indicesOf(a.Dropped, "dropped")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	role := make(map[int]byte, len(u)+len(dr))
	for _, k := range u {
		role[k] = 'U'
	}
	for _, k := range dr {
		if role[k] == 'U' {
			return fmt.Errorf("%w: %q is announced both surviving and dropped (its self mask and pair masks would both be revealed)", ErrRefused, g.members[k])
		}
		role[k] = 'D'
	}
	if role[idx] != 'U' {
		return fmt.Errorf("%w: the announcement does not list %q among the survivors", ErrRefused, self)
	}
	if len(u) < g.threshold {
		return fmt.Errorf("%w: %d survivors, threshold %d", ErrRefused, len(u), g.threshold)
	}
	if len(role) != len(c.part) {
		return fmt.Errorf("%w: the announcement covers %d members, %q masked with %d", ErrRefused, len(role), self, len(c.part))
	}
	for _, k := range c.part {
		if role[k] == 0 {
			return fmt.Errorf("%w: participant %q is neither surviving nor dropped in the announcement", ErrRefused, g.members[k])
		}
	}
	return nil
}

// positionIn returns the position of member target in the sorted index list
// part with member skip removed.
func positionIn(part []int, target, skip int) int {
	p := 0
	for _, k := range part {
		if k == target {
			return p
		}
		if k != skip {
			p++
		}
	}
	return -1
}
