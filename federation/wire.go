package federation

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/prismai/mec/internal/cbor"
)

// SubjectPrefix starts every federation subject: mec.fed.<node>.<kind>.
const SubjectPrefix = "mec.fed"

// Message kinds: the last token of a subject. Heartbeats and phase
// reports are plain NATS messages (lossy: an envelope's sequence number
// need only increase); every other kind goes through a JetStream stream
// (acknowledged, replicated, replayed to a node that comes back).
const (
	KindHeartbeat = "hb"     // Heartbeat
	KindPhase     = "phase"  // PhaseReport
	KindDelta     = "delta"  // Delta: a learning update or a reset (stream MEC_FED)
	KindGroup     = "group"  // GroupMsg: secure-aggregation traffic of a relay round (stream MEC_FED)
	KindCkpt      = "ckpt"   // CheckpointMsg: a signed ledger checkpoint with its consistency proof (stream MEC_LEDGER)
	KindCosig     = "cosig"  // CosigMsg: a witness co-signature (stream MEC_LEDGER)
	KindAlert     = "alert"  // Alert: fork evidence, rollbacks, decoupling (stream MEC_LEDGER)
	KindReport    = "report" // Report: an observer's report (stream MEC_LEDGER)
)

// Streams.
const (
	StreamFed    = "MEC_FED"
	StreamLedger = "MEC_LEDGER"
)

// Subject returns mec.fed.<node>.<kind>.
func Subject(node, kind string) string { return SubjectPrefix + "." + node + "." + kind }

// streamOf names the stream a kind is stored in ("" for plain messages).
func streamOf(kind string) string {
	switch kind {
	case KindDelta, KindGroup:
		return StreamFed
	case KindCkpt, KindCosig, KindAlert, KindReport:
		return StreamLedger
	}
	return ""
}

// ErrVersion marks a message of another protocol version.
var ErrVersion = errors.New("federation: protocol version mismatch")

// ErrBadMessage marks a malformed message body.
var ErrBadMessage = errors.New("federation: malformed message")

// MaxBodyBytes bounds a message body (the NATS payload holds the body,
// a 3309-byte signature and the envelope; the servers' max_payload is
// 1 MiB by default).
const MaxBodyBytes = 900 << 10

// MaxChunkValues is the number of float64 values in one chunk of a
// parameter vector (256 KiB).
const MaxChunkValues = 32768

// MaxDim bounds the length of a parameter vector (2^24 values, 128 MiB).
const MaxDim = 1 << 24

// Body types, the second item of every body.
const (
	typeHeartbeat = 1
	typePhase     = 2
	typeDelta     = 3
	typeGroup     = 4
	typeCkpt      = 5
	typeCosig     = 6
	typeAlert     = 7
	typeReport    = 8
	// Payload types inside GroupMsg.
	typeGroupResult = 9
	typeGroupDim    = 10
)

// bodyWriter builds a body: [version, type, fields...].
type bodyWriter struct{ b []byte }

func newBody(typ uint64, fields int) *bodyWriter {
	w := &bodyWriter{b: cbor.AppendHead(nil, cbor.Array, uint64(fields+2))}
	w.b = cbor.AppendHead(w.b, cbor.Uint, ProtocolVersion)
	w.b = cbor.AppendHead(w.b, cbor.Uint, typ)
	return w
}

func (w *bodyWriter) uint(v uint64)  { w.b = cbor.AppendHead(w.b, cbor.Uint, v) }
func (w *bodyWriter) text(s string)  { w.b = cbor.AppendText(w.b, s) }
func (w *bodyWriter) bytes(p []byte) { w.b = cbor.AppendBytes(w.b, p) }
func (w *bodyWriter) f64(f float64)  { w.b = cbor.AppendFloat64(w.b, f) }
func (w *bodyWriter) flag(v bool)    { w.uint(map[bool]uint64{false: 0, true: 1}[v]) }
func (w *bodyWriter) floats(v []float64) {
	w.b = cbor.AppendHead(w.b, cbor.Bytes, uint64(8*len(v)))
	for _, x := range v {
		w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(x))
	}
}
func (w *bodyWriter) texts(s []string) {
	w.b = cbor.AppendHead(w.b, cbor.Array, uint64(len(s)))
	for _, x := range s {
		w.text(x)
	}
}

// bodyReader reads a body written by bodyWriter; the first error sticks.
type bodyReader struct {
	d   *cbor.Decoder
	err error
	max int
}

// openBody checks the version, type and field count.
func openBody(b []byte, typ uint64, fields int) *bodyReader {
	r := &bodyReader{d: cbor.NewDecoder(b), max: MaxBodyBytes}
	if len(b) > MaxBodyBytes && typ != typeGroupResult {
		r.err = fmt.Errorf("%w: body of %d bytes exceeds %d", ErrBadMessage, len(b), MaxBodyBytes)
		return r
	}
	n, err := r.d.Expect(cbor.Array)
	if err != nil {
		r.err = fmt.Errorf("%w: %v", ErrBadMessage, err)
		return r
	}
	if n < 2 {
		r.err = fmt.Errorf("%w: body is not [version, type, ...]", ErrBadMessage)
		return r
	}
	v, err := r.d.Expect(cbor.Uint)
	if err != nil {
		r.err = fmt.Errorf("%w: version: %v", ErrBadMessage, err)
		return r
	}
	if v != ProtocolVersion {
		r.err = fmt.Errorf("%w: message of protocol version %d, this node speaks %d", ErrVersion, v, ProtocolVersion)
		return r
	}
	t, err := r.d.Expect(cbor.Uint)
	if err != nil || t != typ {
		r.err = fmt.Errorf("%w: body type %d, want %d", ErrBadMessage, t, typ)
		return r
	}
	if n != uint64(fields+2) {
		r.err = fmt.Errorf("%w: %d fields, want %d", ErrBadMessage, n-2, fields)
	}
	return r
}

func (r *bodyReader) fail(what string, err error) {
	if r.err == nil && err != nil {
		r.err = fmt.Errorf("%w: %s: %v", ErrBadMessage, what, err)
	}
}

func (r *bodyReader) uint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, err := r.d.Expect(cbor.Uint)
	r.fail(what, err)
	return v
}

func (r *bodyReader) flag(what string) bool {
	v := r.uint(what)
	if v > 1 {
		r.fail(what, fmt.Errorf("flag %d", v))
	}
	return v == 1
}

func (r *bodyReader) text(what string, max int) string {
	if r.err != nil {
		return ""
	}
	s, err := r.d.Text()
	r.fail(what, err)
	if len(s) > max {
		r.fail(what, fmt.Errorf("%d bytes exceed %d", len(s), max))
	}
	return s
}

func (r *bodyReader) bytes(what string, max int) []byte {
	if r.err != nil {
		return nil
	}
	p, err := r.d.Raw(cbor.Bytes)
	r.fail(what, err)
	if len(p) > max {
		r.fail(what, fmt.Errorf("%d bytes exceed %d", len(p), max))
	}
	return append([]byte(nil), p...)
}

func (r *bodyReader) f64(what string) float64 {
	if r.err != nil {
		return 0
	}
	f, err := r.d.Float64()
	r.fail(what, err)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		r.fail(what, errors.New("not finite"))
	}
	return f
}

func (r *bodyReader) floats(what string, max int) []float64 {
	p := r.bytes(what, 8*max)
	if r.err != nil {
		return nil
	}
	if len(p)%8 != 0 {
		r.fail(what, fmt.Errorf("%d bytes is not a whole number of float64", len(p)))
		return nil
	}
	v := make([]float64, len(p)/8)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(p[8*i:]))
		if math.IsNaN(v[i]) || math.IsInf(v[i], 0) {
			r.fail(what, fmt.Errorf("value %d is not finite", i))
			return nil
		}
	}
	return v
}

func (r *bodyReader) texts(what string, maxN, maxLen int) []string {
	if r.err != nil {
		return nil
	}
	n, err := r.d.Expect(cbor.Array)
	r.fail(what, err)
	if n > uint64(maxN) {
		r.fail(what, fmt.Errorf("%d items exceed %d", n, maxN))
	}
	var out []string
	for i := uint64(0); i < n && r.err == nil; i++ {
		out = append(out, r.text(what, maxLen))
	}
	return out
}

func (r *bodyReader) done() error {
	if r.err == nil && r.d.Remaining() != 0 {
		r.err = fmt.Errorf("%w: %d trailing bytes", ErrBadMessage, r.d.Remaining())
	}
	return r.err
}

// Heartbeat announces that a node is alive, and where it is.
type Heartbeat struct {
	// Role of the sender (checked against the roster).
	Role Role
	// Tick is the sender's committed tick, Round its latest learning
	// round, Epoch its state epoch (incremented by every reset).
	Tick, Round, Epoch uint64
	// Decoupled is set while the sender is a phase outlier.
	Decoupled bool
	// Leaving is set by the last heartbeat of a node that shuts down.
	Leaving bool
}

// Marshal encodes the heartbeat.
func (h *Heartbeat) Marshal() []byte {
	w := newBody(typeHeartbeat, 6)
	w.text(string(h.Role))
	w.uint(h.Tick)
	w.uint(h.Round)
	w.uint(h.Epoch)
	w.flag(h.Decoupled)
	w.flag(h.Leaving)
	return w.b
}

// UnmarshalHeartbeat decodes a heartbeat.
func UnmarshalHeartbeat(b []byte) (*Heartbeat, error) {
	r := openBody(b, typeHeartbeat, 6)
	h := &Heartbeat{Role: Role(r.text("role", 16)), Tick: r.uint("tick"), Round: r.uint("round"), Epoch: r.uint("epoch"),
		Decoupled: r.flag("decoupled"), Leaving: r.flag("leaving")}
	if err := r.done(); err != nil {
		return nil, err
	}
	if _, err := ParseRole(string(h.Role)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	return h, nil
}

// PhaseReport is a node's fusion phase φ_i = arg⟨F[S], ψ⟩ at a tick.
type PhaseReport struct {
	Tick      uint64
	Phase     float64
	Decoupled bool
}

// Marshal encodes the report.
func (p *PhaseReport) Marshal() []byte {
	w := newBody(typePhase, 3)
	w.uint(p.Tick)
	w.f64(p.Phase)
	w.flag(p.Decoupled)
	return w.b
}

// UnmarshalPhaseReport decodes a phase report.
func UnmarshalPhaseReport(b []byte) (*PhaseReport, error) {
	r := openBody(b, typePhase, 3)
	p := &PhaseReport{Tick: r.uint("tick"), Phase: r.f64("phase"), Decoupled: r.flag("decoupled")}
	if err := r.done(); err != nil {
		return nil, err
	}
	if math.Abs(p.Phase) > math.Pi+1e-9 {
		return nil, fmt.Errorf("%w: phase %v outside [−π, π]", ErrBadMessage, p.Phase)
	}
	return p, nil
}

// Delta kinds.
const (
	// DeltaUpdate adds Values to the sender's public state.
	DeltaUpdate = 0
	// DeltaReset replaces the sender's public state by Values (after a
	// restart, a rollback or a resynchronisation; Epoch grows).
	DeltaReset = 1
)

// Delta is one chunk of a node's public learning state change: receivers
// keep every participant's public state P_j and apply its deltas in
// order.
type Delta struct {
	// Kind is DeltaUpdate or DeltaReset.
	Kind uint64
	// Epoch is the sender's state epoch; Round the learning round.
	Epoch, Round uint64
	// Dim is the length of the parameter vector; Offset the index of
	// Values[0]; Chunk and Chunks number the chunks of this update
	// (0-based, all of one update published in order).
	Dim, Offset uint64
	Chunk       uint64
	Chunks      uint64
	// Values are this chunk's coordinates.
	Values []float64
	// StateHash is SHA-256 of the sender's public state after the whole
	// update (the last chunk only; zero otherwise).
	StateHash []byte
	// Members is, on the last chunk, how many nodes the state stands
	// for (1, or a relay's group size).
	Members uint64
	// Epsilon is the sender's running differential-privacy ε (0: none).
	Epsilon float64
	// Reason says why a reset happened ("start", "rollback to tick N",
	// "resync").
	Reason string
}

// Marshal encodes the chunk.
func (d *Delta) Marshal() []byte {
	w := newBody(typeDelta, 12)
	w.uint(d.Kind)
	w.uint(d.Epoch)
	w.uint(d.Round)
	w.uint(d.Dim)
	w.uint(d.Offset)
	w.uint(d.Chunk)
	w.uint(d.Chunks)
	w.floats(d.Values)
	w.bytes(d.StateHash)
	w.uint(d.Members)
	w.f64(d.Epsilon)
	w.text(d.Reason)
	return w.b
}

// UnmarshalDelta decodes and checks a chunk.
func UnmarshalDelta(b []byte) (*Delta, error) {
	r := openBody(b, typeDelta, 12)
	d := &Delta{Kind: r.uint("kind"), Epoch: r.uint("epoch"), Round: r.uint("round"), Dim: r.uint("dim"), Offset: r.uint("offset"),
		Chunk: r.uint("chunk"), Chunks: r.uint("chunks"), Values: r.floats("values", MaxChunkValues), StateHash: r.bytes("state_hash", 32),
		Members: r.uint("members"), Epsilon: r.f64("epsilon"), Reason: r.text("reason", 256)}
	if err := r.done(); err != nil {
		return nil, err
	}
	switch {
	case d.Kind > DeltaReset:
		return nil, fmt.Errorf("%w: delta kind %d", ErrBadMessage, d.Kind)
	case d.Dim == 0 || d.Dim > MaxDim:
		return nil, fmt.Errorf("%w: dimension %d outside 1..%d", ErrBadMessage, d.Dim, MaxDim)
	case d.Chunks == 0 || d.Chunk >= d.Chunks || d.Chunks > (d.Dim+MaxChunkValues-1)/MaxChunkValues:
		return nil, fmt.Errorf("%w: chunk %d of %d for dimension %d", ErrBadMessage, d.Chunk, d.Chunks, d.Dim)
	case d.Offset != d.Chunk*MaxChunkValues:
		// The layout has one encoding (chunks): the offset follows from
		// the chunk, and checking that also rules out an offset near
		// 2⁶⁴ that would wrap the sum below.
		return nil, fmt.Errorf("%w: chunk %d at offset %d, want %d", ErrBadMessage, d.Chunk, d.Offset, d.Chunk*MaxChunkValues)
	case len(d.Values) == 0 || uint64(len(d.Values)) > d.Dim-d.Offset ||
		(d.Chunk != d.Chunks-1 && len(d.Values) != MaxChunkValues):
		return nil, fmt.Errorf("%w: %d values at offset %d of dimension %d (chunks hold %d values, the last the rest)",
			ErrBadMessage, len(d.Values), d.Offset, d.Dim, MaxChunkValues)
	case d.Chunk == d.Chunks-1 && (len(d.StateHash) != 32 || d.Offset+uint64(len(d.Values)) != d.Dim):
		return nil, fmt.Errorf("%w: the last chunk must end the vector and carry a 32-byte state hash", ErrBadMessage)
	case d.Chunk != d.Chunks-1 && len(d.StateHash) != 0:
		return nil, fmt.Errorf("%w: only the last chunk carries the state hash", ErrBadMessage)
	case d.Epsilon < 0:
		return nil, fmt.Errorf("%w: negative ε", ErrBadMessage)
	}
	return d, nil
}

// chunks splits v into delta chunks.
func chunks(kind, epoch, round uint64, v []float64, hash []byte, members uint64, eps float64, reason string) []*Delta {
	n := (len(v) + MaxChunkValues - 1) / MaxChunkValues
	out := make([]*Delta, 0, n)
	for c := 0; c < n; c++ {
		lo, hi := c*MaxChunkValues, min(len(v), (c+1)*MaxChunkValues)
		d := &Delta{Kind: kind, Epoch: epoch, Round: round, Dim: uint64(len(v)), Offset: uint64(lo), Chunk: uint64(c), Chunks: uint64(n),
			Values: v[lo:hi], Epsilon: eps, Reason: reason}
		if c == n-1 {
			d.StateHash, d.Members = hash, members
		}
		out = append(out, d)
	}
	return out
}

// GroupMsg carries one step of a relay round's secure aggregation (see
// group.go): Step says which, Payload is package secagg's encoding of it
// (or, for GroupReady, GroupOpen and GroupResult, this package's). A
// payload larger than MaxGroupChunk is split into Chunks messages
// published in order.
type GroupMsg struct {
	// Relay names the group's relay.
	Relay string
	// Round is the secure-aggregation round (numbered by the relay,
	// strictly increasing), Learning the learning round it serves.
	Round, Learning uint64
	// Step is one of the Group* steps; To names the recipient of an
	// addressed step (GroupKEX, GroupDelivery), empty otherwise.
	Step, To string
	// Chunk and Chunks number this message's part of the payload.
	Chunk, Chunks uint64
	Payload       []byte
}

// MaxGroupChunk is the largest payload part of one GroupMsg.
const MaxGroupChunk = 768 << 10

// MaxGroupPayload bounds a reassembled group payload (a masked vector of
// 2^21 values and its header).
const MaxGroupPayload = 17 << 20

// Group steps, in the order of a round.
const (
	GroupKEX      = "kex"      // edge → edge (once): the ML-KEM pair ciphertext
	GroupReady    = "ready"    // edge → relay: ready for a learning round
	GroupOpen     = "open"     // relay → edges: secure-aggregation round Round serves learning round Learning
	GroupShares   = "shares"   // edge → relay: commitments and encrypted share bundles
	GroupDelivery = "delivery" // relay → edge: the participants and the bundles for it
	GroupMasked   = "masked"   // edge → relay: the masked update
	GroupAnnounce = "announce" // relay → edges: survivors and dropped
	GroupAccept   = "accept"   // edge → relay: acceptance of the announcement
	GroupConfirm  = "confirm"  // relay → edges: t acceptances
	GroupReveal   = "reveal"   // edge → relay: the shares that unmask the sum
	GroupResult   = "result"   // relay → edges: the group model after the round
)

var groupFromEdge = map[string]bool{GroupKEX: true, GroupReady: true, GroupShares: true, GroupMasked: true, GroupAccept: true, GroupReveal: true}

// Marshal encodes the message.
func (g *GroupMsg) Marshal() []byte {
	w := newBody(typeGroup, 8)
	w.text(g.Relay)
	w.uint(g.Round)
	w.uint(g.Learning)
	w.text(g.Step)
	w.text(g.To)
	w.uint(g.Chunk)
	w.uint(g.Chunks)
	w.bytes(g.Payload)
	return w.b
}

// UnmarshalGroupMsg decodes a group message.
func UnmarshalGroupMsg(b []byte) (*GroupMsg, error) {
	r := openBody(b, typeGroup, 8)
	g := &GroupMsg{Relay: r.text("relay", 63), Round: r.uint("round"), Learning: r.uint("learning"), Step: r.text("step", 16),
		To: r.text("to", 63), Chunk: r.uint("chunk"), Chunks: r.uint("chunks"), Payload: r.bytes("payload", MaxGroupChunk)}
	if err := r.done(); err != nil {
		return nil, err
	}
	switch g.Step {
	case GroupKEX, GroupReady, GroupOpen, GroupShares, GroupDelivery, GroupMasked, GroupAnnounce, GroupAccept, GroupConfirm, GroupReveal, GroupResult:
	default:
		return nil, fmt.Errorf("%w: group step %q", ErrBadMessage, g.Step)
	}
	switch {
	case !ValidName(g.Relay):
		return nil, fmt.Errorf("%w: relay %q", ErrBadMessage, g.Relay)
	case g.To != "" && !ValidName(g.To):
		return nil, fmt.Errorf("%w: recipient %q", ErrBadMessage, g.To)
	case g.Chunks == 0 || g.Chunk >= g.Chunks || g.Chunks > (MaxGroupPayload+MaxGroupChunk-1)/MaxGroupChunk:
		return nil, fmt.Errorf("%w: group chunk %d of %d", ErrBadMessage, g.Chunk, g.Chunks)
	}
	return g, nil
}

// groupChunks splits a payload into messages.
func groupChunks(base GroupMsg, payload []byte) []*GroupMsg {
	n := max(1, (len(payload)+MaxGroupChunk-1)/MaxGroupChunk)
	out := make([]*GroupMsg, n)
	for c := range out {
		m := base
		m.Chunk, m.Chunks = uint64(c), uint64(n)
		m.Payload = payload[min(len(payload), c*MaxGroupChunk):min(len(payload), (c+1)*MaxGroupChunk)]
		out[c] = &m
	}
	return out
}

// GroupResultBody is the relay's result of a round, for its edges.
type GroupResultBody struct {
	// Aggregated is set when the secure aggregation succeeded; Survivors
	// are then the edges whose updates the sum holds.
	Aggregated bool
	Survivors  []string
	// Why says why not, when it failed.
	Why string
	// Round, Members, Drift, Hash and Eta are those of the relay's last
	// federation round (see RoundResult), which the model builds on: the
	// same round in consecutive results when the edges run faster than
	// the federation. Before the relay's first federation round, Round is
	// the edges' learning round, Members the relay alone and Hash empty.
	Round   uint64
	Members []string
	Drift   float64
	Hash    string
	Eta     float64
	// Model is the group model with this aggregation's mean update added
	// (when Aggregated): the model every edge in Survivors takes.
	Model []float64
}

// Marshal encodes the result.
func (g *GroupResultBody) Marshal() []byte {
	w := newBody(typeGroupResult, 9)
	w.flag(g.Aggregated)
	w.texts(g.Survivors)
	w.text(g.Why)
	w.uint(g.Round)
	w.texts(g.Members)
	w.f64(g.Drift)
	w.text(g.Hash)
	w.f64(g.Eta)
	w.floats(g.Model)
	return w.b
}

// UnmarshalGroupResult decodes a result.
func UnmarshalGroupResult(b []byte) (*GroupResultBody, error) {
	if len(b) > MaxGroupPayload {
		return nil, fmt.Errorf("%w: group result of %d bytes", ErrBadMessage, len(b))
	}
	r := openBody(b, typeGroupResult, 9)
	r.max = MaxGroupPayload
	g := &GroupResultBody{Aggregated: r.flag("aggregated"), Survivors: r.texts("survivors", 256, 63), Why: r.text("why", 4096),
		Round: r.uint("round"), Members: r.texts("members", 4096, 63), Drift: r.f64("drift"), Hash: r.text("hash", 64), Eta: r.f64("eta"),
		Model: r.floats("model", MaxDim)}
	if err := r.done(); err != nil {
		return nil, err
	}
	if len(g.Model) == 0 {
		return nil, fmt.Errorf("%w: group result without a model", ErrBadMessage)
	}
	return g, nil
}

// groupOpenBody is GroupReady's and GroupOpen's payload: the dimension
// of the learning state.
func groupDimBody(dim int) []byte {
	w := newBody(typeGroupDim, 1)
	w.uint(uint64(dim))
	return w.b
}

func unmarshalGroupDim(b []byte) (int, error) {
	r := openBody(b, typeGroupDim, 1)
	d := r.uint("dim")
	if err := r.done(); err != nil {
		return 0, err
	}
	if d == 0 || d > MaxDim {
		return 0, fmt.Errorf("%w: dimension %d", ErrBadMessage, d)
	}
	return int(d), nil
}

// CheckpointMsg publishes a signed ledger checkpoint for witnessing:
// Submission is a ledger/witness Submission (the note and the consistency
// proof from the previous checkpoint this node published).
type CheckpointMsg struct {
	Submission []byte
}

// Marshal encodes the message.
func (c *CheckpointMsg) Marshal() []byte {
	w := newBody(typeCkpt, 1)
	w.bytes(c.Submission)
	return w.b
}

// UnmarshalCheckpointMsg decodes the message.
func UnmarshalCheckpointMsg(b []byte) (*CheckpointMsg, error) {
	r := openBody(b, typeCkpt, 1)
	c := &CheckpointMsg{Submission: r.bytes("submission", MaxBodyBytes)}
	if err := r.done(); err != nil {
		return nil, err
	}
	return c, nil
}

// CosigMsg returns a witness's co-signed checkpoint to the log's node.
type CosigMsg struct {
	// Log names the node whose checkpoint was co-signed.
	Log string
	// Note is the checkpoint note with the witness's signature added.
	Note []byte
}

// Marshal encodes the message.
func (c *CosigMsg) Marshal() []byte {
	w := newBody(typeCosig, 2)
	w.text(c.Log)
	w.bytes(c.Note)
	return w.b
}

// UnmarshalCosigMsg decodes the message.
func UnmarshalCosigMsg(b []byte) (*CosigMsg, error) {
	r := openBody(b, typeCosig, 2)
	c := &CosigMsg{Log: r.text("log", 63), Note: r.bytes("note", 64<<10)}
	if err := r.done(); err != nil {
		return nil, err
	}
	return c, nil
}

// Alert kinds.
const (
	AlertFork      = "fork"      // a ledger was forked or rewritten; Evidence proves it
	AlertRollback  = "rollback"  // the sender rolled back (its abandoned state is not to be averaged in)
	AlertDecoupled = "decoupled" // the sender is a phase outlier and left the consensus
	AlertRejoined  = "rejoined"  // the sender is back within ε_φ
)

// Alert tells the federation about an event every node should know of.
type Alert struct {
	Kind string
	// Node is the node the alert is about (the sender, or the forked log).
	Node string
	// Tick and To qualify the event (a rollback from Tick to To).
	Tick, To uint64
	// Text explains it.
	Text string
	// Evidence is fork evidence (package ledger/witness encoding).
	Evidence []byte
}

// Marshal encodes the alert.
func (a *Alert) Marshal() []byte {
	w := newBody(typeAlert, 6)
	w.text(a.Kind)
	w.text(a.Node)
	w.uint(a.Tick)
	w.uint(a.To)
	w.text(a.Text)
	w.bytes(a.Evidence)
	return w.b
}

// UnmarshalAlert decodes an alert.
func UnmarshalAlert(b []byte) (*Alert, error) {
	r := openBody(b, typeAlert, 6)
	a := &Alert{Kind: r.text("kind", 16), Node: r.text("node", 63), Tick: r.uint("tick"), To: r.uint("to"), Text: r.text("text", 4096),
		Evidence: r.bytes("evidence", 512<<10)}
	if err := r.done(); err != nil {
		return nil, err
	}
	switch a.Kind {
	case AlertFork, AlertRollback, AlertDecoupled, AlertRejoined:
	default:
		return nil, fmt.Errorf("%w: alert kind %q", ErrBadMessage, a.Kind)
	}
	return a, nil
}

// Report is an observer's periodic report.
type Report struct {
	// Verified counts the messages it verified, Rejected those it refused.
	Verified, Rejected uint64
	// Forks counts the fork alerts it raised.
	Forks uint64
	// Drift is the federated drift max_j ‖P_j − P̄‖ over the public states
	// it holds, and Nodes how many it compared.
	Drift float64
	Nodes uint64
	// Checkpoints counts the ledger checkpoints it verified.
	Checkpoints uint64
}

// Marshal encodes the report.
func (p *Report) Marshal() []byte {
	w := newBody(typeReport, 6)
	w.uint(p.Verified)
	w.uint(p.Rejected)
	w.uint(p.Forks)
	w.f64(p.Drift)
	w.uint(p.Nodes)
	w.uint(p.Checkpoints)
	return w.b
}

// UnmarshalReport decodes a report.
func UnmarshalReport(b []byte) (*Report, error) {
	r := openBody(b, typeReport, 6)
	p := &Report{Verified: r.uint("verified"), Rejected: r.uint("rejected"), Forks: r.uint("forks"), Drift: r.f64("drift"),
		Nodes: r.uint("nodes"), Checkpoints: r.uint("checkpoints")}
	if err := r.done(); err != nil {
		return nil, err
	}
	return p, nil
}
