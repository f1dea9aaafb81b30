package federation

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prismai/mec/runtime/ledger"
	"github.com/prismai/mec/runtime/ledger/witness"
	"github.com/prismai/mec/runtime/telemetry"
)

// Witnessing (integration spec §12, §15): every node publishes its signed
// ledger checkpoints (at most one per witness interval, each with the
// consistency proof from the last one it published) to the replicated
// MEC_LEDGER stream. Every core is a witness of every other node's ledger
// (package ledger/witness): it verifies the consistency proof from the
// last checkpoint it co-signed, co-signs, and returns the co-signature;
// each node keeps, in its ledger directory, the newest checkpoint that a
// quorum of witnesses co-signed (ledger.SaveWitnessed), which `mec ledger
// verify --witness` checks. A split view, an inconsistency or a rollback
// is refused with evidence, raised as a fork alert by every witness and
// observer (an observer runs the same checks without co-signing), and
// recorded in their ledgers.

// LedgerOrigin is the origin (and checkpoint key name) of a node's
// ledger.
func LedgerOrigin(federation, node string) string { return "mec/" + federation + "/" + node }

// WitnessKeyName is the key name of a node's witness co-signatures.
func WitnessKeyName(federation, node string) string {
	return LedgerOrigin(federation, node) + "/witness"
}

// WitnessInterval is how often a node publishes a checkpoint at most.
const WitnessInterval = time.Second

// LedgerKey returns the checkpoint verifier of a member's ledger.
func (r *Roster) LedgerKey(name string) (*ledger.Verifier, error) {
	m := r.Member(name)
	if m == nil {
		return nil, fmt.Errorf("federation: no member %q", name)
	}
	return ledger.NewVerifier(LedgerOrigin(r.Federation, name), m.SigningPublicKey())
}

// WitnessKey returns the co-signature verifier of a core.
func (r *Roster) WitnessKey(name string) (*ledger.Verifier, error) {
	m := r.Member(name)
	if m == nil || m.Role != Core {
		return nil, fmt.Errorf("federation: %q is not a core (only cores witness)", name)
	}
	return ledger.NewVerifier(WitnessKeyName(r.Federation, name), m.SigningPublicKey())
}

// Witnesses returns the witness keys of a member's ledger (every core but
// itself) and the quorum its witnessed checkpoint needs: two, or one when
// only one core can witness it.
func (r *Roster) Witnesses(name string) ([]*ledger.Verifier, int, error) {
	var out []*ledger.Verifier
	for _, c := range r.ByRole(Core) {
		if c == name {
			continue
		}
		v, err := r.WitnessKey(c)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, v)
	}
	return out, min(2, len(out)), nil
}

type submission struct {
	from string
	msg  *witness.Submission
}

// witnessState is a node's side of witnessing.
type witnessState struct {
	n     *Node
	w     atomic.Pointer[witness.Witness] // cores and observers; set by start, read by the consumers
	queue chan submission

	mu        sync.Mutex
	latest    []byte // this node's newest signed checkpoint note
	latestSz  uint64
	published uint64 // size of the last submission of this node in the stream
	pending   <-chan error
	pendingSz uint64
	cosigs    map[uint64][]byte // own size → merged co-signed note
	saved     uint64
	wake      chan struct{}
	// cosignedBy is the size of this node's checkpoint each witness
	// co-signed last (from its co-signatures): a witness that missed
	// submissions (replay, a full queue, a partition) needs a proof from
	// there, which the next publication adds.
	cosignedBy map[string]uint64
	// asked rate-limits this witness's answers to a proof it lacks (its
	// last co-signature again, which tells the log where to prove from).
	asked map[string]time.Time
}

func newWitnessState(n *Node) *witnessState {
	return &witnessState{n: n, cosigs: map[uint64][]byte{}, queue: make(chan submission, 256), wake: make(chan struct{}, 1),
		cosignedBy: map[string]uint64{}, asked: map[string]time.Time{}}
}

// OnCheckpoint is to be called with every signed checkpoint of this
// node's ledger (ledger.Options.OnCheckpoint); the node publishes the
// newest at most once per WitnessInterval.
func (n *Node) OnCheckpoint(note []byte, c *ledger.Checkpoint) {
	w := n.witness
	w.mu.Lock()
	if c.Size > w.latestSz {
		w.latest, w.latestSz = slices.Clone(note), c.Size
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// start opens the witness (cores, observers) and starts the loops.
func (w *witnessState) start() error {
	n := w.n
	if n.self.Role == Core || n.self.Role == Observer {
		var logs []*ledger.Verifier
		for _, m := range n.roster.Members {
			if m.Name == n.self.Name {
				continue
			}
			v, err := n.roster.LedgerKey(m.Name)
			if err != nil {
				return err
			}
			logs = append(logs, v)
		}
		if len(logs) > 0 {
			signer, err := n.id.LedgerSigner(WitnessKeyName(n.roster.Federation, n.self.Name))
			if err != nil {
				return err
			}
			ww, err := witness.New(filepath.Join(n.cfg.Dir, "witness"), signer, logs)
			if err != nil {
				return fmt.Errorf("federation: %w", err)
			}
			w.w.Store(ww)
			n.wg.Add(1)
			go w.witnessLoop()
		}
	}
	if n.cfg.Ledger != nil && n.self.Role != Observer { // an observer publishes nothing but its reports
		if note, c := n.cfg.Ledger.LatestCheckpoint(); c != nil {
			n.OnCheckpoint(note, c)
		}
		n.wg.Add(1)
		go w.publishLoop()
	}
	return nil
}

// publishLoop publishes this node's newest checkpoint, one at a time.
func (w *witnessState) publishLoop() {
	n := w.n
	defer n.wg.Done()
	t := time.NewTicker(WitnessInterval)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
		w.mu.Lock()
		if w.pending != nil {
			select {
			case err := <-w.pending:
				if err == nil {
					w.published = max(w.published, w.pendingSz)
				}
				w.pending = nil
			default:
				w.mu.Unlock()
				continue
			}
		}
		note, size, old := w.latest, w.latestSz, w.published
		w.mu.Unlock()
		if size == 0 || size <= old {
			continue
		}
		var proof [][]byte
		if old > 0 {
			var err error
			if proof, err = n.cfg.Ledger.ConsistencyProof(old, size); err != nil {
				n.log.Warn("no consistency proof for the checkpoint to publish", "from", old, "to", size, "err", err)
				continue
			}
		}
		sub := &witness.Submission{Note: note, OldSize: old, Proof: proof}
		b, err := sub.Marshal()
		if err != nil {
			n.log.Warn("checkpoint submission", "err", err)
			continue
		}
		done, err := n.publishJS(KindCkpt, (&CheckpointMsg{Submission: b}).Marshal())
		if err != nil {
			n.log.Warn("checkpoint not queued", "err", err)
			continue
		}
		w.mu.Lock()
		w.pending, w.pendingSz = done, size
		last := maps.Clone(w.cosignedBy)
		w.mu.Unlock()
		var behind []uint64 // the last sizes of the live witnesses that did not co-sign old
		for wit, c := range last {
			if c > 0 && c < old && !slices.Contains(behind, c) && n.isLive(wit) {
				behind = append(behind, c)
			}
		}
		// The same checkpoint again for each witness left behind, with a
		// proof from the size it co-signed last.
		for _, from := range behind {
			proof, err := n.cfg.Ledger.ConsistencyProof(from, size)
			if err != nil {
				n.log.Warn("no consistency proof for a witness left behind", "from", from, "to", size, "err", err)
				continue
			}
			b, err := (&witness.Submission{Note: note, OldSize: from, Proof: proof}).Marshal()
			if err == nil {
				_, err = n.publishJS(KindCkpt, (&CheckpointMsg{Submission: b}).Marshal())
			}
			if err != nil {
				n.log.Warn("checkpoint for a witness left behind not queued", "from", from, "err", err)
			}
		}
	}
}

// checkpoint handles a checkpoint submission from the stream.
func (w *witnessState) checkpoint(from string, c *CheckpointMsg) error {
	sub, err := witness.UnmarshalSubmission(c.Submission)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if from == w.n.self.Name {
		// This node's own submissions (replayed after a restart) say where
		// its next proof starts.
		ck, err := ledger.OpenCheckpoint(sub.Note, w.ownKey())
		if err != nil {
			return fmt.Errorf("%w: own checkpoint: %v", ErrBadMessage, err)
		}
		w.mu.Lock()
		w.published = max(w.published, ck.Size)
		w.mu.Unlock()
		return nil
	}
	if w.w.Load() == nil {
		return nil
	}
	select {
	case w.queue <- submission{from: from, msg: sub}:
		return nil
	default:
		return fmt.Errorf("federation: witness queue full; checkpoint of %s dropped", from)
	}
}

func (w *witnessState) ownKey() *ledger.Verifier {
	v, _ := w.n.roster.LedgerKey(w.n.self.Name)
	return v
}

// witnessLoop checks submissions in stream order (the witness writes its
// state durably, which must not hold up the stream consumer).
func (w *witnessState) witnessLoop() {
	n := w.n
	defer n.wg.Done()
	for {
		var s submission
		select {
		case <-n.ctx.Done():
			return
		case s = <-w.queue:
		}
		key, err := n.roster.LedgerKey(s.from)
		if err != nil {
			continue
		}
		ww := w.w.Load()
		cosigned, err := ww.Add(key, s.msg.Note, s.msg.OldSize, s.msg.Proof)
		var fe *witness.ForkError
		var need *witness.NeedProofError
		var stale *witness.StaleError
		switch {
		case err == nil:
			n.count(func(st *Stats) { st.CheckpointsVerified++ })
			if n.self.Role != Core {
				continue
			}
			if _, err := n.publishJS(KindCosig, (&CosigMsg{Log: s.from, Note: cosigned}).Marshal()); err != nil {
				n.log.Warn("co-signature not queued", "log", s.from, "err", err)
				continue
			}
			n.count(func(st *Stats) { st.Cosigned++ })
		case errors.As(err, &fe):
			n.raiseFork(s.from, fe)
		case errors.As(err, &need):
			// It missed the submission its proof starts from. Its last
			// co-signature, sent again, tells the log where to prove
			// from; the log's next publication adds that proof.
			n.log.Debug("witness: no consistency proof from the size last co-signed yet", "log", s.from, "need_from", need.Size)
			if n.self.Role != Core || time.Since(w.asked[s.from]) < 5*WitnessInterval {
				continue
			}
			w.asked[s.from] = time.Now()
			if last, err := ww.Latest(key); err == nil && last != nil {
				if _, err := n.publishJS(KindCosig, (&CosigMsg{Log: s.from, Note: last}).Marshal()); err != nil {
					n.log.Warn("co-signature not queued", "log", s.from, "err", err)
				}
			}
		case errors.As(err, &stale):
			n.log.Debug("witness: stale checkpoint", "log", s.from, "err", err)
		default:
			n.count(func(st *Stats) { st.BadBody++ })
			n.log.Warn("witness: checkpoint refused", "log", s.from, "err", err)
		}
	}
}

// raiseFork records a fork this node detected and alerts the federation.
func (n *Node) raiseFork(log string, fe *witness.ForkError) {
	n.count(func(st *Stats) { st.Forks++ })
	n.log.Error("LEDGER FORK: a node's ledger conflicts with the checkpoint this node verified before", "log", log, "kind", fe.Kind.String(),
		"provable", fe.Provable, "err", fe)
	ev, err := fe.Evidence.Marshal()
	if err != nil {
		n.log.Error("encoding fork evidence", "err", err)
	}
	n.record("ledger_fork", map[string]telemetry.Value{"log": telemetry.Str(log), "kind": telemetry.Str(fe.Kind.String()),
		"provable": telemetry.Num(float64(boolNum(fe.Provable))), "text": telemetry.Str(fe.Error())})
	a := &Alert{Kind: AlertFork, Node: log, Text: fe.Error(), Evidence: ev}
	if n.self.Role == Observer {
		return // observers publish nothing but reports; the fork goes into their next report
	}
	if _, err := n.publishJS(KindAlert, a.Marshal()); err != nil {
		n.log.Warn("fork alert not queued", "err", err)
	}
}

func boolNum(b bool) int {
	if b {
		return 1
	}
	return 0
}

// forkAlert checks another node's fork alert against the evidence.
func (w *witnessState) forkAlert(from string, a *Alert) {
	n := w.n
	key, err := n.roster.LedgerKey(a.Node)
	if err != nil {
		n.log.Warn("fork alert about an unknown node", "from", from, "node", a.Node)
		return
	}
	ev, err := witness.UnmarshalEvidence(a.Evidence)
	if err != nil {
		n.log.Warn("fork alert with malformed evidence", "from", from, "err", err)
		return
	}
	switch err := witness.VerifyEvidence(key, ev); {
	case err == nil:
		n.log.Error("LEDGER FORK proven by the evidence of "+from, "log", a.Node, "kind", ev.Kind.String())
	case errors.Is(err, witness.ErrUnprovable):
		n.log.Error("LEDGER FORK reported by "+from+" (its word: the evidence alone does not prove it)", "log", a.Node, "kind", ev.Kind.String())
	default:
		n.log.Warn("fork alert whose evidence does not hold", "from", from, "log", a.Node, "err", err)
	}
}

// cosig collects witness co-signatures of this node's checkpoints and
// saves the newest one a quorum signed.
func (w *witnessState) cosig(from string, c *CosigMsg) error {
	n := w.n
	if c.Log != n.self.Name || n.cfg.Ledger == nil {
		return nil
	}
	wk, err := n.roster.WitnessKey(from)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	ck, _, err := ledger.OpenWitnessed(c.Note, w.ownKey(), []*ledger.Verifier{wk}, 1)
	if err != nil {
		return fmt.Errorf("%w: co-signature by %s: %v", ErrBadMessage, from, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cosignedBy[from] = max(w.cosignedBy[from], ck.Size)
	merged := c.Note
	if prev, ok := w.cosigs[ck.Size]; ok {
		if merged, err = ledger.MergeCosignatures(prev, c.Note); err != nil {
			return fmt.Errorf("%w: %v", ErrBadMessage, err)
		}
	}
	w.cosigs[ck.Size] = merged
	for s := range w.cosigs {
		if s+64 < ck.Size {
			delete(w.cosigs, s)
		}
	}
	keys, quorum, err := n.roster.Witnesses(n.self.Name)
	if err != nil || quorum == 0 || ck.Size <= w.saved {
		return err
	}
	if _, signers, err := ledger.OpenWitnessed(merged, w.ownKey(), keys, quorum); err != nil || len(signers) < quorum {
		return nil // not yet a quorum
	}
	saved, err := ledger.SaveWitnessed(n.cfg.Ledger.Dir(), merged, w.ownKey(), keys, quorum)
	if err != nil {
		return fmt.Errorf("federation: %w", err)
	}
	if saved {
		w.saved = ck.Size
		n.count(func(st *Stats) { st.Witnessed = ck.Size })
	}
	return nil
}
