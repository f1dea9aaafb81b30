package secagg

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"unicode/utf8"
)

// Limits. Every decoder enforces them, so a message that passes a decoder
// fits them.
const (
	// MaxMembers is the largest group: Shamir shares are evaluations of
	// GF(2^8) polynomials at the points 1..255.
	MaxMembers = 255
	// MaxNameLen is the longest member name in bytes (UTF-8).
	MaxNameLen = 128
	// MaxDim is the longest vector a round can aggregate.
	MaxDim = 1 << 21
	// TagSize is the length of a consistency tag (truncated HMAC-SHA256).
	TagSize = 16
	// SeedSize is the length of every seed, secret, share and commitment.
	SeedSize = 32
)

// Errors. Every error returned by the package starts with "secagg: " and
// wraps one of these where one applies; test with errors.Is.
var (
	// ErrMalformed marks a message that does not decode: truncated,
	// oversized, non-canonical or structurally invalid.
	ErrMalformed = errors.New("secagg: malformed message")
	// ErrVersion marks a message of a protocol version this package does
	// not speak.
	ErrVersion = errors.New("secagg: unsupported message version")
	// ErrMismatch marks a well-formed message that does not belong to this
	// group, epoch, round, member or phase.
	ErrMismatch = errors.New("secagg: message does not match the round")
	// ErrInput marks a bad argument: an input vector with NaN, Inf or a
	// value beyond the clip bound, a bad clip bound, a bad group, a bad key.
	ErrInput = errors.New("secagg: invalid input")
	// ErrPhase marks a call made out of the protocol's order.
	ErrPhase = errors.New("secagg: call out of order")
	// ErrTooFewParticipants: fewer than t members sent their shares.
	ErrTooFewParticipants = errors.New("secagg: not enough participants")
	// ErrTooFewSurvivors: fewer than t members' masked vectors arrived.
	ErrTooFewSurvivors = errors.New("secagg: not enough survivors")
	// ErrTooFewAccepts: fewer than t survivors accepted the announcement.
	ErrTooFewAccepts = errors.New("secagg: not enough acceptances")
	// ErrTooFewReveals: fewer than t survivors answered the confirmation.
	ErrTooFewReveals = errors.New("secagg: not enough reveals")
	// ErrRefused: an edge refuses to accept an announcement or to reveal
	// for a confirmation (a second announcement in the round, a member
	// both surviving and dropped, an announcement inconsistent with what
	// it masked, fewer than t survivors or acceptors, a forged acceptance
	// tag).
	ErrRefused = errors.New("secagg: refusing to reveal")
	// ErrCorruptShare: revealed shares are inconsistent with each other or
	// reconstruct a seed that does not match its commitment, or the
	// unmasked sum is out of range.
	ErrCorruptShare = errors.New("secagg: corrupt shares")
	// ErrPairMismatch: two members committed to different seeds for their
	// pair, i.e. they hold different pair secrets (a corrupted or swapped
	// KEM ciphertext: ML-KEM's implicit rejection gives no error there).
	ErrPairMismatch = errors.New("secagg: pair secrets disagree")
	// ErrAuth: a share bundle failed AEAD authentication.
	ErrAuth = errors.New("secagg: share bundle authentication failed")
	// ErrRoundReused: a Node was asked for a round at or below one it
	// already started.
	ErrRoundReused = errors.New("secagg: round already used")
)

// nameProblem says what is wrong with a member name, or "" if nothing.
func nameProblem(s string) string {
	if s == "" || len(s) > MaxNameLen || !utf8.ValidString(s) {
		return fmt.Sprintf("member name %.40q (%d bytes): want 1..%d bytes of UTF-8", s, len(s), MaxNameLen)
	}
	return ""
}

// checkName validates a member name.
func checkName(s string) error {
	if p := nameProblem(s); p != "" {
		return fmt.Errorf("%w: %s", ErrInput, p)
	}
	return nil
}

// Group is the immutable configuration of one aggregation group: the
// epoch its pair secrets belong to, its members in byte-wise sorted order
// (the "group order" of the package: member i holds Shamir point i+1, and
// "a < b" in the masking formula means a sorts first) and the threshold t.
type Group struct {
	epoch     uint64
	members   []string
	index     map[string]int
	threshold int
	digest    [32]byte
}

// MinThreshold is the smallest threshold NewGroup accepts for m members:
// floor(m/2)+1, and at least 2.
func MinThreshold(m int) int { return max(2, m/2+1) }

// NewGroup validates and returns a group. members must be 2..MaxMembers
// distinct valid names (any order; they are sorted). threshold must satisfy
// MinThreshold(m) <= t <= m: t >= 2 because a sum of one member is that
// member's value, and 2t > m because that is what stops a relay that sends
// different announcements to different edges from collecting a threshold of
// reveals for two of them (see the package documentation).
func NewGroup(epoch uint64, members []string, threshold int) (*Group, error) {
	m := len(members)
	if m < 2 || m > MaxMembers {
		return nil, fmt.Errorf("%w: group of %d members, want 2..%d", ErrInput, m, MaxMembers)
	}
	if threshold < MinThreshold(m) || threshold > m {
		return nil, fmt.Errorf("%w: threshold %d for %d members, want %d..%d", ErrInput, threshold, m, MinThreshold(m), m)
	}
	g := &Group{epoch: epoch, members: slices.Clone(members), index: make(map[string]int, m), threshold: threshold}
	slices.Sort(g.members)
	for i, s := range g.members {
		if err := checkName(s); err != nil {
			return nil, err
		}
		if i > 0 && g.members[i-1] == s {
			return nil, fmt.Errorf("%w: member %q listed twice", ErrInput, s)
		}
		g.index[s] = i
	}
	t := newTranscript("group").u64(epoch).u64(uint64(threshold)).u64(uint64(m))
	for _, s := range g.members {
		t = t.name(s)
	}
	g.digest = sha256.Sum256(t)
	return g, nil
}

// Epoch is the group's key epoch.
func (g *Group) Epoch() uint64 { return g.epoch }

// Members returns the members in group order (a copy).
func (g *Group) Members() []string { return slices.Clone(g.members) }

// Size is the number of members m.
func (g *Group) Size() int { return len(g.members) }

// Threshold is t.
func (g *Group) Threshold() int { return g.threshold }

// Index returns a member's position in group order.
func (g *Group) Index(name string) (int, bool) {
	i, ok := g.index[name]
	return i, ok
}

// Digest is SHA-256 over the epoch, threshold and members; it is bound
// into every share bundle and consistency tag, so members that disagree on
// the group fail loudly.
func (g *Group) Digest() [32]byte { return g.digest }

// indicesOf maps a list of names that must be group members in strictly
// increasing group order to their indices.
func (g *Group) indicesOf(names []string, what string) ([]int, error) {
	idx := make([]int, len(names))
	for k, s := range names {
		i, ok := g.index[s]
		if !ok {
			return nil, fmt.Errorf("%w: %s: %q is not a group member", ErrMismatch, what, s)
		}
		if k > 0 && i <= idx[k-1] {
			return nil, fmt.Errorf("%w: %s: not in strictly increasing group order at %q", ErrMismatch, what, s)
		}
		idx[k] = i
	}
	return idx, nil
}

func (g *Group) namesOf(idx []int) []string {
	out := make([]string, len(idx))
	for k, i := range idx {
		out[k] = g.members[i]
	}
	return out
}

// Node is one member's long-lived state in a group: its name, its pair
// secrets with every other member (from EncapsulatePair/DecapsulatePair),
// and the rounds it has started. A round number must never be used twice
// with the same pair secrets (the pair masks would repeat), so NewClient
// only accepts strictly increasing rounds. A Node is safe for concurrent
// use.
type Node struct {
	group   *Group
	self    string
	idx     int
	secrets [][32]byte // by group index; secrets[idx] unused

	mu    sync.Mutex
	next  uint64 // smallest round NewClient accepts
	spent bool   // round math.MaxUint64 was used
}

// NewNode returns the node self of group g. pairSecrets must hold the pair
// secret with every other member (keys are member names; extra entries are
// ignored); an all-zero secret counts as missing.
func NewNode(g *Group, self string, pairSecrets map[string][32]byte) (*Node, error) {
	if g == nil {
		return nil, fmt.Errorf("%w: nil group", ErrInput)
	}
	idx, ok := g.index[self]
	if !ok {
		return nil, fmt.Errorf("%w: %q is not a member of the group", ErrInput, self)
	}
	n := &Node{group: g, self: self, idx: idx, secrets: make([][32]byte, len(g.members))}
	for i, peer := range g.members {
		if i == idx {
			continue
		}
		s, ok := pairSecrets[peer]
		if !ok || s == ([32]byte{}) {
			return nil, fmt.Errorf("%w: no pair secret between %q and %q", ErrInput, self, peer)
		}
		n.secrets[i] = s
	}
	return n, nil
}

// Group returns the node's group.
func (n *Node) Group() *Group { return n.group }

// Name returns the node's member name.
func (n *Node) Name() string { return n.self }

// ResumeAfter records that rounds up to and including round were used
// before (by an earlier process with the same pair secrets), so NewClient
// refuses them. It never lowers the floor.
func (n *Node) ResumeAfter(round uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.advance(round)
}

func (n *Node) advance(round uint64) {
	if n.spent || round < n.next {
		return
	}
	if round == ^uint64(0) {
		n.spent = true
		return
	}
	n.next = round + 1
}

// NewClient starts the node's part in round r and draws its fresh self-mask
// seed from rand (crypto/rand.Reader if nil). Rounds must strictly increase
// over the node's life: a repeated or lower round fails with ErrRoundReused.
func (n *Node) NewClient(round uint64, rand io.Reader) (*Client, error) {
	rand = orDefault(rand)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.spent || round < n.next {
		return nil, fmt.Errorf("%w: round %d for %q (next allowed %d)", ErrRoundReused, round, n.self, n.next)
	}
	c, err := newClient(n, round, rand)
	if err != nil {
		return nil, err
	}
	n.advance(round)
	return c, nil
}
