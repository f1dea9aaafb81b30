package secagg

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/prismai/mec/internal/cbor"
)

// Wire formats.
//
// Every message is: one version byte (Version), one kind byte, then one
// deterministic CBOR array (internal/cbor: shortest heads, definite
// lengths) of the kind's fields in a fixed order. Integers are CBOR
// unsigned, names are CBOR text, seeds/commitments/shares/tags/nonces are
// CBOR byte strings of their exact size, a float64 is CBOR binary64. Every
// message has exactly one accepted encoding: decoding and re-encoding gives
// the same bytes.

// Version is the version byte that starts every message.
const Version = 1

// Message kinds (the second byte).
const (
	KindPairCiphertext = 1
	KindShareSet       = 2
	KindDelivery       = 3
	KindMaskedVector   = 4
	KindAnnouncement   = 5
	KindAcceptance     = 6
	KindConfirmation   = 7
	KindReveal         = 8
)

// Encoded size limits; decoders reject longer input before parsing it.
const (
	MaxPairCiphertextSize = 2 << 10
	MaxShareSetSize       = 4 << 20
	MaxDeliverySize       = 4 << 20
	MaxMaskedVectorSize   = 8*MaxDim + 64<<10
	MaxAnnouncementSize   = 64 << 10
	MaxAcceptanceSize     = 8 << 10
	MaxConfirmationSize   = 2 << 20
	MaxRevealSize         = 1 << 20
)

// NonceSize is the AES-GCM nonce length of a share bundle.
const NonceSize = 12

// maxBundleCiphertext is the largest bundle ciphertext: one 32-byte share
// per member plus the 16-byte GCM tag.
const maxBundleCiphertext = SeedSize*MaxMembers + 16

// PairCiphertext carries the ML-KEM-768 ciphertext from the pair's
// initiator From to To.
//
//	0x01 0x01 [epoch, from, to, ciphertext(1088 bytes)]
type PairCiphertext struct {
	Epoch      uint64
	From, To   string
	Ciphertext []byte
}

// Bundle is one member's encrypted Shamir shares for one other member.
// The plaintext (SeedSize·m bytes) holds, for k in group order, the
// recipient's share of the sender's self-mask seed (k = sender) or of the
// sender's round seed with member k; it is sealed with AES-256-GCM under
// bundleKey(pair secret, epoch, round, sender, recipient) with a random
// nonce, and authenticated data binding the group digest, epoch, round,
// sender and recipient.
//
//	[sender, recipient, nonce(12 bytes), ciphertext]
type Bundle struct {
	Sender, Recipient string
	Nonce             [NonceSize]byte
	Ciphertext        []byte
}

// ShareSet is what an edge sends the relay in the share phase: the
// commitments to its secrets (which the relay uses to check
// reconstructions) and one Bundle for every other group member, in group
// order.
//
//	0x01 0x02 [epoch, round, sender, selfCommit(32), [pairCommit(32)…], [bundle…]]
//
// PairCommits lists, in group order skipping the sender, the commitment to
// the sender's round seed with each other member.
type ShareSet struct {
	Epoch, Round uint64
	Sender       string
	SelfCommit   [SeedSize]byte
	PairCommits  [][SeedSize]byte
	Bundles      []Bundle
}

// Delivery is what the relay sends each participant after the share phase:
// the participant set P (every member whose ShareSet the relay accepted, in
// group order) and the bundles addressed to the recipient from every other
// member of P, in group order.
//
//	0x01 0x03 [epoch, round, recipient, [participant…], [bundle…]]
type Delivery struct {
	Epoch, Round uint64
	Recipient    string
	Participants []string
	Bundles      []Bundle
}

// MaskedVector is an edge's masked input y: Data[i] is element i in
// Z_{2^64}. Participants is the set P the sender masked with.
//
//	0x01 0x04 [epoch, round, sender, clip(float64), [participant…], data(8·n bytes, little-endian uint64s)]
type MaskedVector struct {
	Epoch, Round uint64
	Sender       string
	Clip         float64
	Participants []string
	Data         []uint64
}

// Announcement is the relay's statement of the survivors U (masked vector
// arrived) and the dropped D = P \ U, both in group order.
//
//	0x01 0x05 [epoch, round, [survivor…], [dropped…]]
type Announcement struct {
	Epoch, Round uint64
	Survivors    []string
	Dropped      []string
}

// Acceptance is a survivor's statement that it accepts the announcement
// with digest Announcement and no other in this round. Tags[k] proves it to
// the k-th other survivor (group order, skipping the sender).
//
//	0x01 0x06 [epoch, round, sender, announcementDigest(32), [tag(16)…]]
type Acceptance struct {
	Epoch, Round uint64
	Sender       string
	Announcement [SeedSize]byte
	Tags         [][TagSize]byte
}

// Confirmation is what the relay forwards to the survivors once at least t
// of them accepted: the acceptors (group order) and each one's tags
// (Tags[i] from Acceptors[i], as in its Acceptance).
//
//	0x01 0x07 [epoch, round, announcementDigest(32), [acceptor…], [[tag(16)…]…]]
type Confirmation struct {
	Epoch, Round uint64
	Announcement [SeedSize]byte
	Acceptors    []string
	Tags         [][][TagSize]byte
}

// Reveal is a survivor's answer to a confirmed announcement: its share of
// the self-mask seed of each survivor (SelfShares[i] for Survivors[i]), and
// its share of each dropped member's round seed with each survivor
// (PairShares[i·|U|+j] for Dropped[i] and Survivors[j]). Announcement is the
// digest of the announcement it answers.
//
//	0x01 0x08 [epoch, round, sender, announcementDigest(32), [share(32)…], [share(32)…]]
type Reveal struct {
	Epoch, Round uint64
	Sender       string
	Announcement [SeedSize]byte
	SelfShares   [][SeedSize]byte
	PairShares   [][SeedSize]byte
}

// ---- encoding helpers ----

func header(kind byte, fields int) []byte {
	return cbor.AppendHead([]byte{Version, kind}, cbor.Array, uint64(fields))
}

func appendUint(b []byte, v uint64) []byte { return cbor.AppendHead(b, cbor.Uint, v) }

func appendNames(b []byte, names []string) []byte {
	b = cbor.AppendHead(b, cbor.Array, uint64(len(names)))
	for _, s := range names {
		b = cbor.AppendText(b, s)
	}
	return b
}

func appendSeeds(b []byte, s [][SeedSize]byte) []byte {
	b = cbor.AppendHead(b, cbor.Array, uint64(len(s)))
	for i := range s {
		b = cbor.AppendBytes(b, s[i][:])
	}
	return b
}

func appendTags(b []byte, s [][TagSize]byte) []byte {
	b = cbor.AppendHead(b, cbor.Array, uint64(len(s)))
	for i := range s {
		b = cbor.AppendBytes(b, s[i][:])
	}
	return b
}

func appendBundles(b []byte, bs []Bundle) []byte {
	b = cbor.AppendHead(b, cbor.Array, uint64(len(bs)))
	for _, x := range bs {
		b = cbor.AppendHead(b, cbor.Array, 4)
		b = cbor.AppendText(b, x.Sender)
		b = cbor.AppendText(b, x.Recipient)
		b = cbor.AppendBytes(b, x.Nonce[:])
		b = cbor.AppendBytes(b, x.Ciphertext)
	}
	return b
}

// reader decodes one message with a sticky error: after the first failure
// every read returns a zero value, so decoders read straight through and
// check the error once.
type reader struct {
	d    *cbor.Decoder
	what string
	err  error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s: %s", ErrMalformed, r.what, fmt.Sprintf(format, args...))
	}
}

func (r *reader) wrap(field string, err error) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s: %s: %w", ErrMalformed, r.what, field, err)
	}
}

// open checks the size limit, version and kind, and the field count.
func open(b []byte, kind byte, fields, limit int, what string) *reader {
	r := &reader{d: cbor.NewDecoder(nil), what: what}
	switch {
	case len(b) > limit:
		r.fail("%d bytes, over the limit of %d", len(b), limit)
	case len(b) < 2:
		r.fail("truncated: %d bytes", len(b))
	case b[0] != Version:
		r.err = fmt.Errorf("%w: %s: version %d, this package speaks %d", ErrVersion, what, b[0], Version)
	case b[1] != kind:
		r.fail("message kind %d, want %d", b[1], kind)
	default:
		r.d = cbor.NewDecoder(b[2:])
		n, err := r.d.Expect(cbor.Array)
		if err != nil {
			r.wrap("header", err)
		} else if n != uint64(fields) {
			r.fail("%d fields, want %d", n, fields)
		}
	}
	return r
}

// done checks that the whole input was consumed and returns the error.
func (r *reader) done() error {
	if r.err == nil && r.d.Remaining() != 0 {
		r.fail("%d trailing bytes", r.d.Remaining())
	}
	return r.err
}

func (r *reader) uint(field string) uint64 {
	if r.err != nil {
		return 0
	}
	v, err := r.d.Expect(cbor.Uint)
	if err != nil {
		r.wrap(field, err)
	}
	return v
}

// array reads an array head whose length must be at most limit.
func (r *reader) array(field string, limit int) int {
	if r.err != nil {
		return 0
	}
	n, err := r.d.Expect(cbor.Array)
	if err != nil {
		r.wrap(field, err)
		return 0
	}
	if n > uint64(limit) {
		r.fail("%s: %d entries, over the limit of %d", field, n, limit)
		return 0
	}
	return int(n)
}

func (r *reader) name(field string) string {
	if r.err != nil {
		return ""
	}
	s, err := r.d.Text()
	if err != nil {
		r.wrap(field, err)
		return ""
	}
	if s == "" || len(s) > MaxNameLen {
		r.fail("%s: name of %d bytes, want 1..%d", field, len(s), MaxNameLen)
		return ""
	}
	return s
}

func (r *reader) names(field string) []string {
	n := r.array(field, MaxMembers)
	out := make([]string, 0, n)
	for range n {
		out = append(out, r.name(field))
	}
	return out
}

// bytes reads a byte string of min..max bytes (a copy).
func (r *reader) bytes(field string, lo, hi int) []byte {
	if r.err != nil {
		return nil
	}
	p, err := r.d.Raw(cbor.Bytes)
	if err != nil {
		r.wrap(field, err)
		return nil
	}
	if len(p) < lo || len(p) > hi {
		if lo == hi {
			r.fail("%s: %d bytes, want %d", field, len(p), lo)
		} else {
			r.fail("%s: %d bytes, want %d..%d", field, len(p), lo, hi)
		}
		return nil
	}
	return append([]byte(nil), p...)
}

func (r *reader) seed(field string) (s [SeedSize]byte) {
	copy(s[:], r.bytes(field, SeedSize, SeedSize))
	return s
}

func (r *reader) seeds(field string, limit int) [][SeedSize]byte {
	n := r.array(field, limit)
	out := make([][SeedSize]byte, 0, n)
	for range n {
		out = append(out, r.seed(field))
	}
	return out
}

func (r *reader) tags(field string, limit int) [][TagSize]byte {
	n := r.array(field, limit)
	out := make([][TagSize]byte, 0, n)
	for range n {
		var t [TagSize]byte
		copy(t[:], r.bytes(field, TagSize, TagSize))
		out = append(out, t)
	}
	return out
}

func (r *reader) bundles(field string) []Bundle {
	n := r.array(field, MaxMembers-1)
	out := make([]Bundle, 0, n)
	for range n {
		if k := r.array(field, 4); k != 4 && r.err == nil {
			r.fail("%s: bundle of %d fields, want 4", field, k)
		}
		var b Bundle
		b.Sender = r.name("bundle sender")
		b.Recipient = r.name("bundle recipient")
		copy(b.Nonce[:], r.bytes("bundle nonce", NonceSize, NonceSize))
		b.Ciphertext = r.bytes("bundle ciphertext", 16, maxBundleCiphertext)
		out = append(out, b)
	}
	return out
}

func (r *reader) float(field string) float64 {
	if r.err != nil {
		return 0
	}
	f, err := r.d.Float64()
	if err != nil {
		r.wrap(field, err)
	}
	return f
}

// ---- per-message Marshal / Unmarshal ----

// Marshal encodes the message.
func (m *PairCiphertext) Marshal() ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	b := header(KindPairCiphertext, 4)
	b = appendUint(b, m.Epoch)
	b = cbor.AppendText(b, m.From)
	b = cbor.AppendText(b, m.To)
	return cbor.AppendBytes(b, m.Ciphertext), nil
}

func (m *PairCiphertext) validate() error {
	if p := pairProblem(m.From, m.To); p != "" {
		return fmt.Errorf("%w: pair ciphertext: %s", ErrMalformed, p)
	}
	if PairInitiator(m.From, m.To) != m.From {
		return fmt.Errorf("%w: pair ciphertext from %q to %q: the sender must sort first", ErrMalformed, m.From, m.To)
	}
	if len(m.Ciphertext) != CiphertextSize {
		return fmt.Errorf("%w: pair ciphertext of %d bytes, want %d", ErrMalformed, len(m.Ciphertext), CiphertextSize)
	}
	return nil
}

// UnmarshalPairCiphertext decodes a PairCiphertext (at most
// MaxPairCiphertextSize bytes).
func UnmarshalPairCiphertext(b []byte) (*PairCiphertext, error) {
	r := open(b, KindPairCiphertext, 4, MaxPairCiphertextSize, "pair ciphertext")
	m := &PairCiphertext{}
	m.Epoch = r.uint("epoch")
	m.From = r.name("from")
	m.To = r.name("to")
	m.Ciphertext = r.bytes("ciphertext", CiphertextSize, CiphertextSize)
	if err := r.done(); err != nil {
		return nil, err
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// Marshal encodes the message.
func (m *ShareSet) Marshal() ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	b := header(KindShareSet, 6)
	b = appendUint(b, m.Epoch)
	b = appendUint(b, m.Round)
	b = cbor.AppendText(b, m.Sender)
	b = cbor.AppendBytes(b, m.SelfCommit[:])
	b = appendSeeds(b, m.PairCommits)
	return appendBundles(b, m.Bundles), nil
}

func validBundles(bs []Bundle, what string) error {
	if len(bs) > MaxMembers-1 {
		return fmt.Errorf("%w: %s: %d bundles, over %d", ErrMalformed, what, len(bs), MaxMembers-1)
	}
	for _, x := range bs {
		if p := pairProblem(x.Sender, x.Recipient); p != "" {
			return fmt.Errorf("%w: %s: bundle: %s", ErrMalformed, what, p)
		}
		if n := len(x.Ciphertext); n < 16 || n > maxBundleCiphertext {
			return fmt.Errorf("%w: %s: bundle ciphertext of %d bytes", ErrMalformed, what, n)
		}
	}
	return nil
}

func validNames(names []string, what string) error {
	if len(names) > MaxMembers {
		return fmt.Errorf("%w: %s: %d names, over %d", ErrMalformed, what, len(names), MaxMembers)
	}
	for _, s := range names {
		if p := nameProblem(s); p != "" {
			return fmt.Errorf("%w: %s: %s", ErrMalformed, what, p)
		}
	}
	return nil
}

func (m *ShareSet) validate() error {
	if p := nameProblem(m.Sender); p != "" {
		return fmt.Errorf("%w: share set: %s", ErrMalformed, p)
	}
	if len(m.PairCommits) > MaxMembers-1 {
		return fmt.Errorf("%w: share set: %d pair commitments", ErrMalformed, len(m.PairCommits))
	}
	if err := validBundles(m.Bundles, "share set"); err != nil {
		return err
	}
	for _, x := range m.Bundles {
		if x.Sender != m.Sender {
			return fmt.Errorf("%w: share set from %q holds a bundle from %q", ErrMalformed, m.Sender, x.Sender)
		}
	}
	return nil
}

// UnmarshalShareSet decodes a ShareSet (at most MaxShareSetSize bytes).
func UnmarshalShareSet(b []byte) (*ShareSet, error) {
	r := open(b, KindShareSet, 6, MaxShareSetSize, "share set")
	m := &ShareSet{}
	m.Epoch = r.uint("epoch")
	m.Round = r.uint("round")
	m.Sender = r.name("sender")
	m.SelfCommit = r.seed("self commitment")
	m.PairCommits = r.seeds("pair commitments", MaxMembers-1)
	m.Bundles = r.bundles("bundles")
	if err := r.done(); err != nil {
		return nil, err
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// Marshal encodes the message.
func (m *Delivery) Marshal() ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	b := header(KindDelivery, 5)
	b = appendUint(b, m.Epoch)
	b = appendUint(b, m.Round)
	b = cbor.AppendText(b, m.Recipient)
	b = appendNames(b, m.Participants)
	return appendBundles(b, m.Bundles), nil
}

func (m *Delivery) validate() error {
	if p := nameProblem(m.Recipient); p != "" {
		return fmt.Errorf("%w: delivery: %s", ErrMalformed, p)
	}
	if err := validNames(m.Participants, "delivery participants"); err != nil {
		return err
	}
	if err := validBundles(m.Bundles, "delivery"); err != nil {
		return err
	}
	for _, x := range m.Bundles {
		if x.Recipient != m.Recipient {
			return fmt.Errorf("%w: delivery to %q holds a bundle for %q", ErrMalformed, m.Recipient, x.Recipient)
		}
	}
	return nil
}

// UnmarshalDelivery decodes a Delivery (at most MaxDeliverySize bytes).
func UnmarshalDelivery(b []byte) (*Delivery, error) {
	r := open(b, KindDelivery, 5, MaxDeliverySize, "delivery")
	m := &Delivery{}
	m.Epoch = r.uint("epoch")
	m.Round = r.uint("round")
	m.Recipient = r.name("recipient")
	m.Participants = r.names("participants")
	m.Bundles = r.bundles("bundles")
	if err := r.done(); err != nil {
		return nil, err
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// Marshal encodes the message.
func (m *MaskedVector) Marshal() ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, 64+len(m.Participants)*(MaxNameLen+2)+8*len(m.Data)+9)
	b = append(b, header(KindMaskedVector, 6)...)
	b = appendUint(b, m.Epoch)
	b = appendUint(b, m.Round)
	b = cbor.AppendText(b, m.Sender)
	b = cbor.AppendFloat64(b, m.Clip)
	b = appendNames(b, m.Participants)
	b = cbor.AppendHead(b, cbor.Bytes, uint64(8*len(m.Data)))
	for _, v := range m.Data {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b, nil
}

func (m *MaskedVector) validate() error {
	if p := nameProblem(m.Sender); p != "" {
		return fmt.Errorf("%w: masked vector: %s", ErrMalformed, p)
	}
	if err := validNames(m.Participants, "masked vector participants"); err != nil {
		return err
	}
	if len(m.Data) < 1 || len(m.Data) > MaxDim {
		return fmt.Errorf("%w: masked vector of %d elements, want 1..%d", ErrMalformed, len(m.Data), MaxDim)
	}
	return nil
}

// UnmarshalMaskedVector decodes a MaskedVector (at most
// MaxMaskedVectorSize bytes: MaxDim elements).
func UnmarshalMaskedVector(b []byte) (*MaskedVector, error) {
	r := open(b, KindMaskedVector, 6, MaxMaskedVectorSize, "masked vector")
	m := &MaskedVector{}
	m.Epoch = r.uint("epoch")
	m.Round = r.uint("round")
	m.Sender = r.name("sender")
	m.Clip = r.float("clip")
	m.Participants = r.names("participants")
	if r.err == nil {
		p, err := r.d.Raw(cbor.Bytes)
		switch {
		case err != nil:
			r.wrap("data", err)
		case len(p)%8 != 0 || len(p) == 0 || len(p) > 8*MaxDim:
			r.fail("data of %d bytes, want a positive multiple of 8 up to %d", len(p), 8*MaxDim)
		default:
			m.Data = make([]uint64, len(p)/8)
			for i := range m.Data {
				m.Data[i] = binary.LittleEndian.Uint64(p[8*i:])
			}
		}
	}
	if err := r.done(); err != nil {
		return nil, err
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// Marshal encodes the message.
func (m *Announcement) Marshal() ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	b := header(KindAnnouncement, 4)
	b = appendUint(b, m.Epoch)
	b = appendUint(b, m.Round)
	b = appendNames(b, m.Survivors)
	return appendNames(b, m.Dropped), nil
}

func (m *Announcement) validate() error {
	if err := validNames(m.Survivors, "announcement survivors"); err != nil {
		return err
	}
	if err := validNames(m.Dropped, "announcement dropped"); err != nil {
		return err
	}
	if n := len(m.Survivors) + len(m.Dropped); n > MaxMembers {
		return fmt.Errorf("%w: announcement of %d members, over %d", ErrMalformed, n, MaxMembers)
	}
	return nil
}

// UnmarshalAnnouncement decodes an Announcement (at most
// MaxAnnouncementSize bytes).
func UnmarshalAnnouncement(b []byte) (*Announcement, error) {
	r := open(b, KindAnnouncement, 4, MaxAnnouncementSize, "announcement")
	m := &Announcement{}
	m.Epoch = r.uint("epoch")
	m.Round = r.uint("round")
	m.Survivors = r.names("survivors")
	m.Dropped = r.names("dropped")
	if err := r.done(); err != nil {
		return nil, err
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// Digest is the value Acceptance, Confirmation and Reveal messages carry to
// bind themselves to this announcement: SHA-256 over a label and the
// encoding.
func (m *Announcement) Digest() ([32]byte, error) {
	b, err := m.Marshal()
	if err != nil {
		return [32]byte{}, err
	}
	return announcementDigest(b), nil
}

// Marshal encodes the message.
func (m *Acceptance) Marshal() ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	b := header(KindAcceptance, 5)
	b = appendUint(b, m.Epoch)
	b = appendUint(b, m.Round)
	b = cbor.AppendText(b, m.Sender)
	b = cbor.AppendBytes(b, m.Announcement[:])
	return appendTags(b, m.Tags), nil
}

func (m *Acceptance) validate() error {
	if p := nameProblem(m.Sender); p != "" {
		return fmt.Errorf("%w: acceptance: %s", ErrMalformed, p)
	}
	if len(m.Tags) < 1 || len(m.Tags) > MaxMembers-1 {
		return fmt.Errorf("%w: acceptance with %d tags, want 1..%d", ErrMalformed, len(m.Tags), MaxMembers-1)
	}
	return nil
}

// UnmarshalAcceptance decodes an Acceptance (at most MaxAcceptanceSize
// bytes).
func UnmarshalAcceptance(b []byte) (*Acceptance, error) {
	r := open(b, KindAcceptance, 5, MaxAcceptanceSize, "acceptance")
	m := &Acceptance{}
	m.Epoch = r.uint("epoch")
	m.Round = r.uint("round")
	m.Sender = r.name("sender")
	m.Announcement = r.seed("announcement digest")
	m.Tags = r.tags("tags", MaxMembers-1)
	if err := r.done(); err != nil {
		return nil, err
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// Marshal encodes the message.
func (m *Confirmation) Marshal() ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	b := header(KindConfirmation, 5)
	b = appendUint(b, m.Epoch)
	b = appendUint(b, m.Round)
	b = cbor.AppendBytes(b, m.Announcement[:])
	b = appendNames(b, m.Acceptors)
	b = cbor.AppendHead(b, cbor.Array, uint64(len(m.Tags)))
	for _, row := range m.Tags {
		b = appendTags(b, row)
	}
	return b, nil
}

func (m *Confirmation) validate() error {
	if err := validNames(m.Acceptors, "confirmation acceptors"); err != nil {
		return err
	}
	if len(m.Acceptors) < 1 {
		return fmt.Errorf("%w: confirmation without acceptors", ErrMalformed)
	}
	if len(m.Tags) != len(m.Acceptors) {
		return fmt.Errorf("%w: confirmation: %d tag rows for %d acceptors", ErrMalformed, len(m.Tags), len(m.Acceptors))
	}
	for i, row := range m.Tags {
		if len(row) != len(m.Tags[0]) || len(row) < 1 || len(row) > MaxMembers-1 {
			return fmt.Errorf("%w: confirmation: tag row %d of %d tags, want %d in every row", ErrMalformed, i, len(row), len(m.Tags[0]))
		}
	}
	return nil
}

// UnmarshalConfirmation decodes a Confirmation (at most
// MaxConfirmationSize bytes).
func UnmarshalConfirmation(b []byte) (*Confirmation, error) {
	r := open(b, KindConfirmation, 5, MaxConfirmationSize, "confirmation")
	m := &Confirmation{}
	m.Epoch = r.uint("epoch")
	m.Round = r.uint("round")
	m.Announcement = r.seed("announcement digest")
	m.Acceptors = r.names("acceptors")
	rows := r.array("tags", MaxMembers)
	m.Tags = make([][][TagSize]byte, 0, rows)
	for range rows {
		m.Tags = append(m.Tags, r.tags("tags", MaxMembers-1))
	}
	if err := r.done(); err != nil {
		return nil, err
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// maxPairShares is the most pair shares a reveal can need: |D|·|U| with
// |U|+|D| <= MaxMembers.
const maxPairShares = (MaxMembers / 2) * (MaxMembers - MaxMembers/2)

// Marshal encodes the message.
func (m *Reveal) Marshal() ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	b := header(KindReveal, 6)
	b = appendUint(b, m.Epoch)
	b = appendUint(b, m.Round)
	b = cbor.AppendText(b, m.Sender)
	b = cbor.AppendBytes(b, m.Announcement[:])
	b = appendSeeds(b, m.SelfShares)
	return appendSeeds(b, m.PairShares), nil
}

func (m *Reveal) validate() error {
	if p := nameProblem(m.Sender); p != "" {
		return fmt.Errorf("%w: reveal: %s", ErrMalformed, p)
	}
	u := len(m.SelfShares)
	if u < 1 || u > MaxMembers {
		return fmt.Errorf("%w: reveal with %d self-mask shares, want 1..%d", ErrMalformed, u, MaxMembers)
	}
	if len(m.PairShares)%u != 0 || u+len(m.PairShares)/u > MaxMembers {
		return fmt.Errorf("%w: reveal: %d pair shares do not form a |D|×|U| table with |U| = %d", ErrMalformed, len(m.PairShares), u)
	}
	return nil
}

// UnmarshalReveal decodes a Reveal (at most MaxRevealSize bytes).
func UnmarshalReveal(b []byte) (*Reveal, error) {
	r := open(b, KindReveal, 6, MaxRevealSize, "reveal")
	m := &Reveal{}
	m.Epoch = r.uint("epoch")
	m.Round = r.uint("round")
	m.Sender = r.name("sender")
	m.Announcement = r.seed("announcement digest")
	m.SelfShares = r.seeds("self-mask shares", MaxMembers)
	m.PairShares = r.seeds("pair shares", maxPairShares)
	if err := r.done(); err != nil {
		return nil, err
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// float64 bits compare, so a NaN clip never equals anything.
func sameClip(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) && !math.IsNaN(a) }
