package secagg

import (
	"fmt"
	"sync"
)

// Aggregator is the relay's state machine for one round:
//
//	NewAggregator → AddShareSet… → Deliveries → AddMasked… → Announce
//	  → AddAcceptance… → Confirm → AddReveal… → Result
//
// It never sees a pair secret, self-mask seed or unmasked input; it keeps
// only the running sum of the masked vectors (O(dim) memory whatever the
// group size). It keeps references to the share sets, acceptances and
// reveals passed to it (do not modify them afterwards) and returns cached
// messages on repeated calls (treat them as read-only). An Aggregator is
// safe for concurrent use.
type Aggregator struct {
	g     *Group
	round uint64
	clip  float64
	scale float64
	dim   int

	mu       sync.Mutex
	phase    int
	sets     []*ShareSet // by group index; nil if none arrived
	part     []int       // P
	inPart   []bool
	delivers map[string]*Delivery
	sum      []uint64
	arrived  []bool
	accepts  []*Acceptance // by group index
	conf     *Confirmation
	ann      *Announcement
	annDig   [32]byte
	survive  []int     // U
	dropped  []int     // D
	reveals  []*Reveal // by group index
	result   []float64
	failed   error // set once the sum was unmasked but failed its range check
}

const (
	aggShares = iota
	aggMasked
	aggAccepts
	aggReveals
	aggDone
)

// NewAggregator starts the relay's part in round r of group g, for vectors
// of dim elements clipped to clip (the same clip the edges use).
func NewAggregator(g *Group, round uint64, clip float64, dim int) (*Aggregator, error) {
	if g == nil {
		return nil, fmt.Errorf("%w: nil group", ErrInput)
	}
	scale, err := Scale(len(g.members), clip)
	if err != nil {
		return nil, err
	}
	if dim < 1 || dim > MaxDim {
		return nil, fmt.Errorf("%w: dimension %d, want 1..%d", ErrInput, dim, MaxDim)
	}
	m := len(g.members)
	return &Aggregator{
		g: g, round: round, clip: clip, scale: scale, dim: dim,
		sets: make([]*ShareSet, m), inPart: make([]bool, m), arrived: make([]bool, m),
		accepts: make([]*Acceptance, m), reveals: make([]*Reveal, m),
	}, nil
}

func (a *Aggregator) member(name, what string) (int, error) {
	k, ok := a.g.index[name]
	if !ok {
		return 0, fmt.Errorf("%w: %s from %q, not a group member", ErrMismatch, what, name)
	}
	return k, nil
}

func (a *Aggregator) checkRound(epoch, round uint64, what, from string) error {
	if epoch != a.g.epoch || round != a.round {
		return fmt.Errorf("%w: %s from %q for epoch %d round %d, this is epoch %d round %d",
			ErrMismatch, what, from, epoch, round, a.g.epoch, a.round)
	}
	return nil
}

// AddShareSet accepts an edge's ShareSet during the share phase. Its
// bundles must be addressed to every other member, in group order.
func (a *Aggregator) AddShareSet(s *ShareSet) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s == nil {
		return fmt.Errorf("%w: nil share set", ErrInput)
	}
	if a.phase != aggShares {
		return fmt.Errorf("%w: share set from %q after the share phase closed", ErrPhase, s.Sender)
	}
	if err := s.validate(); err != nil {
		return err
	}
	k, err := a.member(s.Sender, "share set")
	if err != nil {
		return err
	}
	if err := a.checkRound(s.Epoch, s.Round, "share set", s.Sender); err != nil {
		return err
	}
	if a.sets[k] != nil {
		return fmt.Errorf("%w: second share set from %q", ErrMismatch, s.Sender)
	}
	m := len(a.g.members)
	if len(s.PairCommits) != m-1 || len(s.Bundles) != m-1 {
		return fmt.Errorf("%w: share set from %q with %d commitments and %d bundles, want %d each",
			ErrMismatch, s.Sender, len(s.PairCommits), len(s.Bundles), m-1)
	}
	j := 0
	for i, peer := range a.g.members {
		if i == k {
			continue
		}
		b := &s.Bundles[j]
		j++
		if b.Recipient != peer {
			return fmt.Errorf("%w: share set from %q: bundle %d is for %q, want %q", ErrMismatch, s.Sender, j-1, b.Recipient, peer)
		}
		if len(b.Ciphertext) != SeedSize*m+16 {
			return fmt.Errorf("%w: share set from %q: bundle for %q of %d bytes, want %d", ErrMismatch, s.Sender, peer, len(b.Ciphertext), SeedSize*m+16)
		}
	}
	a.sets[k] = s
	return nil
}

// pairCommitOf returns member j's commitment to its round seed with k.
func (a *Aggregator) pairCommitOf(j, k int) [32]byte {
	if k > j {
		k--
	}
	return a.sets[j].PairCommits[k]
}

// Deliveries closes the share phase: the participants P are the members
// whose ShareSet was accepted. It needs |P| >= t, checks that every two
// participants committed to the same round seed for their pair (else
// ErrPairMismatch: their pair secrets differ), and returns, for each
// participant, the Delivery of its bundles. Later calls return the same
// deliveries.
func (a *Aggregator) Deliveries() (map[string]*Delivery, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.phase > aggShares {
		return a.delivers, nil
	}
	var part []int
	for k, s := range a.sets {
		if s != nil {
			part = append(part, k)
		}
	}
	if len(part) < a.g.threshold {
		return nil, fmt.Errorf("%w: %d members sent shares, threshold %d", ErrTooFewParticipants, len(part), a.g.threshold)
	}
	for x, j := range part {
		for _, k := range part[x+1:] {
			if a.pairCommitOf(j, k) != a.pairCommitOf(k, j) {
				return nil, fmt.Errorf("%w: %q and %q committed to different seeds for their pair in round %d (re-run their key agreement)",
					ErrPairMismatch, a.g.members[j], a.g.members[k], a.round)
			}
		}
	}
	names := a.g.namesOf(part)
	out := make(map[string]*Delivery, len(part))
	for _, k := range part {
		d := &Delivery{Epoch: a.g.epoch, Round: a.round, Recipient: a.g.members[k], Participants: names}
		for _, j := range part {
			if j == k {
				continue
			}
			pos := k
			if k > j {
				pos--
			}
			d.Bundles = append(d.Bundles, a.sets[j].Bundles[pos])
		}
		out[a.g.members[k]] = d
	}
	a.part = part
	for _, k := range part {
		a.inPart[k] = true
	}
	a.delivers = out
	a.sum = make([]uint64, a.dim)
	a.phase = aggMasked
	return out, nil
}

// AddMasked accepts a participant's masked vector before the announcement.
// It must match the round, clip and dimension, and the sender must have
// masked with exactly the participant set the relay delivered.
func (a *Aggregator) AddMasked(v *MaskedVector) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if v == nil {
		return fmt.Errorf("%w: nil masked vector", ErrInput)
	}
	switch a.phase {
	case aggShares:
		return fmt.Errorf("%w: masked vector from %q before Deliveries", ErrPhase, v.Sender)
	case aggAccepts, aggReveals, aggDone:
		return fmt.Errorf("%w: masked vector from %q after the announcement", ErrPhase, v.Sender)
	}
	if err := v.validate(); err != nil {
		return err
	}
	k, err := a.member(v.Sender, "masked vector")
	if err != nil {
		return err
	}
	if err := a.checkRound(v.Epoch, v.Round, "masked vector", v.Sender); err != nil {
		return err
	}
	switch {
	case !a.inPart[k]:
		return fmt.Errorf("%w: masked vector from %q, which sent no shares", ErrMismatch, v.Sender)
	case a.arrived[k]:
		return fmt.Errorf("%w: second masked vector from %q", ErrMismatch, v.Sender)
	case !sameClip(v.Clip, a.clip):
		return fmt.Errorf("%w: masked vector from %q clipped to %v, the round uses %v", ErrMismatch, v.Sender, v.Clip, a.clip)
	case len(v.Data) != a.dim:
		return fmt.Errorf("%w: masked vector from %q of %d elements, the round has %d", ErrMismatch, v.Sender, len(v.Data), a.dim)
	}
	p, err := a.g.indicesOf(v.Participants, "masked vector participants")
	if err != nil {
		return err
	}
	if len(p) != len(a.part) {
		return fmt.Errorf("%w: %q masked with %d participants, the relay delivered %d", ErrMismatch, v.Sender, len(p), len(a.part))
	}
	for i := range p {
		if p[i] != a.part[i] {
			return fmt.Errorf("%w: %q masked with a different participant set", ErrMismatch, v.Sender)
		}
	}
	for i, y := range v.Data {
		a.sum[i] += y
	}
	a.arrived[k] = true
	return nil
}

// Announce closes the masking phase: U = the participants whose masked
// vector arrived, D = the other participants. It fails with
// ErrTooFewSurvivors if |U| < t (more vectors may still be added and
// Announce retried). The announcement goes to every member of U, which
// answer with an Acceptance; later calls return the same announcement.
func (a *Aggregator) Announce() (*Announcement, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch a.phase {
	case aggShares:
		return nil, fmt.Errorf("%w: Announce before Deliveries", ErrPhase)
	case aggAccepts, aggReveals, aggDone:
		return a.ann, nil
	}
	var u, d []int
	for _, k := range a.part {
		if a.arrived[k] {
			u = append(u, k)
		} else {
			d = append(d, k)
		}
	}
	if len(u) < a.g.threshold {
		return nil, fmt.Errorf("%w: %d of %d participants' masked vectors arrived, threshold %d", ErrTooFewSurvivors, len(u), len(a.part), a.g.threshold)
	}
	ann := &Announcement{Epoch: a.g.epoch, Round: a.round, Survivors: a.g.namesOf(u), Dropped: a.g.namesOf(d)}
	dig, err := ann.Digest()
	if err != nil {
		return nil, err
	}
	a.ann, a.annDig, a.survive, a.dropped = ann, dig, u, d
	a.phase = aggAccepts
	return ann, nil
}

// AddAcceptance accepts a survivor's Acceptance of the announcement. The
// relay cannot check its tags (they are for the other survivors); it only
// forwards them.
func (a *Aggregator) AddAcceptance(x *Acceptance) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if x == nil {
		return fmt.Errorf("%w: nil acceptance", ErrInput)
	}
	if a.phase != aggAccepts {
		return fmt.Errorf("%w: acceptance from %q outside the acceptance phase", ErrPhase, x.Sender)
	}
	if err := x.validate(); err != nil {
		return err
	}
	k, err := a.member(x.Sender, "acceptance")
	if err != nil {
		return err
	}
	if err := a.checkRound(x.Epoch, x.Round, "acceptance", x.Sender); err != nil {
		return err
	}
	switch {
	case !a.arrived[k]:
		return fmt.Errorf("%w: acceptance from %q, which is not a survivor", ErrMismatch, x.Sender)
	case a.accepts[k] != nil:
		return fmt.Errorf("%w: second acceptance from %q", ErrMismatch, x.Sender)
	case x.Announcement != a.annDig:
		return fmt.Errorf("%w: acceptance from %q is for a different announcement", ErrMismatch, x.Sender)
	case len(x.Tags) != len(a.survive)-1:
		return fmt.Errorf("%w: acceptance from %q with %d tags, want %d", ErrMismatch, x.Sender, len(x.Tags), len(a.survive)-1)
	}
	a.accepts[k] = x
	return nil
}

// Confirm closes the acceptance phase. It needs at least t acceptances
// (else ErrTooFewAccepts; more may be added and Confirm retried) and
// returns the Confirmation to send to every acceptor, which answer with
// their Reveal. Later calls return the same confirmation.
func (a *Aggregator) Confirm() (*Confirmation, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch a.phase {
	case aggShares, aggMasked:
		return nil, fmt.Errorf("%w: Confirm before Announce", ErrPhase)
	case aggReveals, aggDone:
		return a.conf, nil
	}
	conf := &Confirmation{Epoch: a.g.epoch, Round: a.round, Announcement: a.annDig}
	for _, k := range a.survive {
		if x := a.accepts[k]; x != nil {
			conf.Acceptors = append(conf.Acceptors, a.g.members[k])
			conf.Tags = append(conf.Tags, x.Tags)
		}
	}
	if len(conf.Acceptors) < a.g.threshold {
		return nil, fmt.Errorf("%w: %d of %d survivors accepted, threshold %d", ErrTooFewAccepts, len(conf.Acceptors), len(a.survive), a.g.threshold)
	}
	a.conf = conf
	a.phase = aggReveals
	return conf, nil
}

// AddReveal accepts an acceptor's Reveal, its answer to the confirmation.
func (a *Aggregator) AddReveal(r *Reveal) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r == nil {
		return fmt.Errorf("%w: nil reveal", ErrInput)
	}
	if a.phase != aggReveals {
		return fmt.Errorf("%w: reveal from %q outside the reveal phase", ErrPhase, r.Sender)
	}
	if err := r.validate(); err != nil {
		return err
	}
	k, err := a.member(r.Sender, "reveal")
	if err != nil {
		return err
	}
	if err := a.checkRound(r.Epoch, r.Round, "reveal", r.Sender); err != nil {
		return err
	}
	switch {
	case a.accepts[k] == nil:
		return fmt.Errorf("%w: reveal from %q, which did not accept", ErrMismatch, r.Sender)
	case a.reveals[k] != nil:
		return fmt.Errorf("%w: second reveal from %q", ErrMismatch, r.Sender)
	case r.Announcement != a.annDig:
		return fmt.Errorf("%w: reveal from %q answers a different announcement", ErrMismatch, r.Sender)
	case len(r.SelfShares) != len(a.survive) || len(r.PairShares) != len(a.survive)*len(a.dropped):
		return fmt.Errorf("%w: reveal from %q with %d+%d shares, want %d+%d", ErrMismatch, r.Sender,
			len(r.SelfShares), len(r.PairShares), len(a.survive), len(a.survive)*len(a.dropped))
	}
	a.reveals[k] = r
	return nil
}

// Result reconstructs, from the reveals received (at least t), every
// survivor's self-mask seed and every dropped member's round seed with
// every survivor; checks each against its commitment (and, with more than
// t reveals, that all shares agree); removes those masks from the sum of
// the masked vectors and returns Σ_{u∈U} x_u dequantized, and |U|. Corrupt
// or inconsistent shares give ErrCorruptShare, and so does an unmasked sum
// outside the range the clip bound allows. Later calls return the same
// result.
func (a *Aggregator) Result() ([]float64, int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch a.phase {
	case aggDone:
		return a.result, len(a.survive), nil
	case aggShares, aggMasked, aggAccepts:
		return nil, 0, fmt.Errorf("%w: Result before Confirm", ErrPhase)
	}
	if a.failed != nil {
		return nil, 0, a.failed
	}
	var resp []int
	var xs []byte
	for k, r := range a.reveals {
		if r != nil {
			resp = append(resp, k)
			xs = append(xs, byte(k+1))
		}
	}
	if len(resp) < a.g.threshold {
		return nil, 0, fmt.Errorf("%w: %d of %d survivors revealed, threshold %d", ErrTooFewReveals, len(resp), len(a.survive), a.g.threshold)
	}
	ip, err := newInterpolator(xs, a.g.threshold)
	if err != nil {
		return nil, 0, err
	}
	shares := make([][32]byte, len(resp))
	var terms []maskTerm
	for i, u := range a.survive {
		for x, k := range resp {
			shares[x] = a.reveals[k].SelfShares[i]
		}
		b, err := ip.combine(shares)
		if err != nil {
			return nil, 0, fmt.Errorf("%w: self-mask seed of %q", err, a.g.members[u])
		}
		if selfCommit(a.g.epoch, a.round, a.g.members[u], &b) != a.sets[u].SelfCommit {
			return nil, 0, fmt.Errorf("%w: the self-mask seed of %q reconstructed from the reveals does not match its commitment", ErrCorruptShare, a.g.members[u])
		}
		terms = append(terms, maskTerm{seed: b, neg: true})
	}
	for i, d := range a.dropped {
		for j, u := range a.survive {
			for x, k := range resp {
				shares[x] = a.reveals[k].PairShares[i*len(a.survive)+j]
			}
			s, err := ip.combine(shares)
			if err != nil {
				return nil, 0, fmt.Errorf("%w: round seed of dropped %q with %q", err, a.g.members[d], a.g.members[u])
			}
			if pairCommit(a.g.epoch, a.round, a.g.members[d], a.g.members[u], &s) != a.pairCommitOf(d, u) {
				return nil, 0, fmt.Errorf("%w: the round seed of dropped %q with %q reconstructed from the reveals does not match its commitment",
					ErrCorruptShare, a.g.members[d], a.g.members[u])
			}
			// y_u carries +PRG(s) if d > u and −PRG(s) if d < u; undo it.
			terms = append(terms, maskTerm{seed: s, neg: d > u})
		}
	}
	if err := applyMasks(a.sum, nil, 0, terms); err != nil {
		return nil, 0, err
	}
	clear(terms)
	n := len(a.survive)
	limit := uint64(n) * (uint64(a.clip*a.scale) + 1)
	out := make([]float64, a.dim)
	for i, v := range a.sum {
		s := int64(v)
		mag := uint64(s)
		if s < 0 {
			mag = -mag
		}
		if mag > limit {
			a.sum = nil
			a.failed = fmt.Errorf("%w: unmasked sum element %d is out of range (|%d| > %d): a masked vector or a reconstructed seed is wrong",
				ErrCorruptShare, i, s, limit)
			return nil, 0, a.failed
		}
		out[i] = float64(s) / a.scale
	}
	a.sum = nil
	a.result = out
	a.phase = aggDone
	return out, n, nil
}
