// Package witness lets mec nodes witness one another's ledgers, in the way
// C2SP tlog-witness witnesses watch transparency logs: a witness keeps,
// for each log it watches, the last checkpoint it co-signed, and co-signs
// a new checkpoint of that log only once a consistency proof shows that
// the new tree extends the old one. Two checkpoints of one size with
// different bodies, a consistency proof that fails, or a checkpoint older
// than the one co-signed make it refuse, with a *ForkError carrying the
// evidence; VerifyEvidence lets anyone (an observer) check what that
// evidence proves without trusting the witness.
//
// Layer: runtime. It may import runtime/ledger and internal/cbor.
//
// # Model
//
// A log is a ledger (package ledger) identified by its origin and its
// ML-DSA-65 checkpoint key; a witness watches the logs it is configured
// with (New) and nothing else. Its co-signature is an ordinary signed-note
// signature line over the checkpoint body, by the witness's own ML-DSA-65
// key (ledger.Cosign); a co-signed note is the log's note plus such lines,
// checked with ledger.OpenWitnessed. The node stores the newest checkpoint
// that reached its quorum with ledger.SaveWitnessed, and `mec ledger
// verify --witness` checks it.
//
// Add decides, for a checkpoint note of size N signed by the log, given
// the size M and root R the witness co-signed last for that log:
//
//   - no state for the log: trust on first use — the first checkpoint the
//     witness ever sees from a log is accepted without a proof, since
//     there is nothing to check it against. (A witness that loses its
//     state directory trusts the log afresh; keep the directory.)
//   - N = M: the same body is co-signed again (Add returns the note it
//     co-signed before, byte for byte); a different body is a split view.
//   - N > M: the submission must carry a consistency proof from M (else
//     *NeedProofError says which M); if it verifies the witness records
//     the new checkpoint durably and then co-signs it; if it does not, the
//     log is inconsistent.
//   - N < M: the witness never goes back. If the submission carries a
//     consistency proof from N to M (old size M) that verifies, the note
//     is merely stale (*StaleError, with the witness's newer note); if
//     the proof proves the two inconsistent (below), that is the fork;
//     otherwise the log is taken to have rolled back. Since an honest
//     node only ever submits its latest checkpoint, a transport that may
//     redeliver old submissions must drop them or attach that proof.
//
// The witness's state is durable before a co-signature leaves Add, so a
// restarted witness holds the log to what it co-signed; a fork leaves the
// state unchanged (the witness keeps refusing conflicting checkpoints).
//
// # What evidence proves
//
// Evidence is the note the witness had co-signed, the conflicting note,
// both signed by the log, and the proof the log supplied. VerifyEvidence
// needs only the log's public key and assumes only that ML-DSA-65 is
// unforgeable and SHA-256 collision resistant:
//
//   - split view (KindSplitView): two validly signed checkpoint bodies of
//     the same size that differ. An honest log signs one body per size, so
//     this is a proof.
//   - inconsistency (KindInconsistent): two validly signed checkpoints of
//     sizes s < l and an RFC 6962 consistency proof that reconstructs the
//     larger root but yields, for the first s records, a root other than
//     the smaller checkpoint's. Since the proof's hashes reproduce the
//     signed root of size l, they are (by collision resistance) that
//     tree's nodes, so its first s records do not have the signed root of
//     size s: a proof. This is what a genuine proof computed from a
//     rewritten ledger gives. A proof that does not reconstruct the larger
//     root — garbage, the wrong length, or a deliberately unhelpful log —
//     proves nothing: the witness still refuses (ForkError.Provable is
//     false) but VerifyEvidence reports ErrUnprovable. When s is a power
//     of two the RFC 6962 proof does not contain the size-s subtree root
//     at all, so a failed proof from such a size is never provable.
//   - rollback (KindRollback): a checkpoint smaller than one the witness
//     co-signed, not shown consistent with it. A log that honestly grew
//     from the smaller size to the larger signed exactly these two notes,
//     so this is the witness's word, not a proof (ErrUnprovable). A proof
//     computed from the rewritten tree does not help: it reconstructs the
//     smaller (rewritten) root, not the co-signed larger one. It becomes a
//     proof once the log signs a different body at a size someone holds
//     (a split view), or a genuine proof from a later size of the
//     rewritten tree reaches a witness (an inconsistency).
//
// Nothing here proves that a log withheld a checkpoint or truncated
// records after its last checkpoint that anyone saw; that needs the
// checkpoint to have been witnessed.
//
// # Encodings
//
// Submissions, evidence and the state files are deterministic CBOR (the
// subset of internal/cbor), versioned; see Submission, Evidence and the
// state file described at New.
package witness

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"golang.org/x/mod/sumdb/note"

	"github.com/prismai/mec/runtime/ledger"
)

// Errors matched with errors.Is.
var (
	// ErrUnknownLog: the log key is not one the witness was configured
	// with.
	ErrUnknownLog = errors.New("witness: unknown log key")
	// ErrBadNote: the checkpoint note is malformed or not validly signed
	// by the log key.
	ErrBadNote = errors.New("witness: bad checkpoint note")
	// ErrBadProof: the proof is malformed: more than MaxProofHashes
	// hashes, or one not 32 bytes long. (A well-formed proof that does not
	// verify is a *ForkError.)
	ErrBadProof = errors.New("witness: malformed consistency proof")
	// ErrUnprovable: well-formed evidence that does not prove misbehaviour
	// by itself (see VerifyEvidence).
	ErrUnprovable = errors.New("witness: evidence does not prove misbehaviour")
)

// NeedProofError is Add's answer to a checkpoint larger than the last one
// the witness co-signed when the submission's old size is not that size:
// the caller resubmits with a consistency proof from Size.
type NeedProofError struct {
	// Origin is the log.
	Origin string
	// Size is the size of the last checkpoint the witness co-signed.
	Size uint64
}

// Error says which proof is needed.
func (e *NeedProofError) Error() string {
	return fmt.Sprintf("witness: log %s: need a consistency proof from size %d", e.Origin, e.Size)
}

// StaleError is Add's answer to a checkpoint smaller than the last one the
// witness co-signed, submitted with a valid consistency proof to it: not
// misbehaviour, but the witness does not go back.
type StaleError struct {
	// Origin is the log.
	Origin string
	// Size is the size of the last checkpoint the witness co-signed.
	Size uint64
	// Cosigned is that checkpoint's note with the witness's co-signature.
	Cosigned []byte
}

// Error names the witness's newer size.
func (e *StaleError) Error() string {
	return fmt.Sprintf("witness: log %s: checkpoint is older than size %d, which the witness co-signed already", e.Origin, e.Size)
}

// ForkError reports a log that signed a checkpoint in conflict with the
// one the witness co-signed last. The witness does not co-sign it and
// keeps its state.
type ForkError struct {
	// Origin is the log.
	Origin string
	// Kind is what conflicts.
	Kind Kind
	// Previous is the checkpoint the witness had co-signed.
	Previous *ledger.Checkpoint
	// Offending is the conflicting checkpoint.
	Offending *ledger.Checkpoint
	// Evidence holds both signed notes and the log's proof, for anyone to
	// check with VerifyEvidence.
	Evidence *Evidence
	// Provable reports whether VerifyEvidence accepts Evidence, i.e.
	// whether it proves the misbehaviour without trusting the witness.
	Provable bool
}

// Error describes the conflict.
func (e *ForkError) Error() string {
	proof := "the evidence proves it"
	if !e.Provable {
		proof = "the evidence alone does not prove it"
	}
	return fmt.Sprintf("witness: log %s forked (%s): co-signed size %d root %s, offending size %d root %s; %s",
		e.Origin, e.Kind, e.Previous.Size, e.Previous.Root, e.Offending.Size, e.Offending.Root, proof)
}

// Witness co-signs checkpoints of the logs it watches. Its methods are
// safe for concurrent use; submissions for one log are serialised.
type Witness struct {
	dir    string
	signer *ledger.Signer
	logs   map[string]*logState // by origin; not modified after New
}

type logState struct {
	key  *ledger.Verifier
	file string // state file name in dir

	mu       sync.Mutex // guards ck, cosigned and the state file
	ck       *ledger.Checkpoint
	cosigned []byte // ck's note: the log's signature and the witness's
}

// New returns a witness that signs with signer and keeps its state in dir
// (created, mode 0700, if missing), watching the logs whose checkpoint
// keys are given (at most one key per origin; no log may be named like
// the witness key). Only one Witness may use a state directory at a time.
//
// The state of each log is one file, named by the SHA-256 of the log's
// verifier key text (hex) plus ".state" and atomically replaced on every
// change. It is deterministic CBOR, the array
//
//	[1, witness key text, log key text, co-signed note]
//
// (1 is the format version; the key texts are ledger.Verifier.String).
// New reads and checks every state file of the given logs: a file that
// does not decode, has another version, belongs to another witness key or
// log, or whose note does not verify with both keys is an error naming the
// file. Files of other logs are left alone.
func New(dir string, signer *ledger.Signer, logs []*ledger.Verifier) (*Witness, error) {
	if signer == nil {
		return nil, errors.New("witness: nil signer")
	}
	if len(logs) == 0 {
		return nil, errors.New("witness: no logs to watch")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("witness: state directory: %w", err)
	}
	w := &Witness{dir: dir, signer: signer, logs: map[string]*logState{}}
	self := signer.Verifier()
	for i, v := range logs {
		switch {
		case v == nil:
			return nil, fmt.Errorf("witness: log key %d is nil", i)
		case v.Name() == signer.Name():
			return nil, fmt.Errorf("witness: log %s is named like the witness key", v)
		case w.logs[v.Name()] != nil:
			return nil, fmt.Errorf("witness: two keys for log %s", v.Name())
		}
		sum := sha256.Sum256([]byte(v.String()))
		ls := &logState{key: v, file: hex.EncodeToString(sum[:]) + ".state"}
		if err := w.load(ls, self); err != nil {
			return nil, err
		}
		w.logs[v.Name()] = ls
	}
	return w, nil
}

// load reads ls's state file, if any.
func (w *Witness) load(ls *logState, self *ledger.Verifier) error {
	path := filepath.Join(w.dir, ls.file)
	b, err := readLimited(path, maxStateSize)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	fail := func(err error) error {
		return fmt.Errorf("witness: state file %s (log %s): %w", path, ls.key.Name(), err)
	}
	if err != nil {
		return fail(err)
	}
	st, err := unmarshalState(b)
	if err != nil {
		return fail(err)
	}
	if st.witnessKey != self.String() {
		return fail(fmt.Errorf("written by witness key %s, not %s", st.witnessKey, self))
	}
	if st.logKey != ls.key.String() {
		return fail(fmt.Errorf("is for log key %s, not %s", st.logKey, ls.key))
	}
	c, _, err := ledger.OpenWitnessed(st.cosigned, ls.key, []*ledger.Verifier{self}, 1)
	if err != nil {
		return fail(err)
	}
	ls.ck, ls.cosigned = c, st.cosigned
	return nil
}

// Latest returns the last checkpoint the witness co-signed for the log,
// as the co-signed note, or nil when it has co-signed none.
func (w *Witness) Latest(logKey *ledger.Verifier) ([]byte, error) {
	ls, err := w.log(logKey)
	if err != nil {
		return nil, err
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return slices.Clone(ls.cosigned), nil
}

func (w *Witness) log(logKey *ledger.Verifier) (*logState, error) {
	if logKey == nil {
		return nil, fmt.Errorf("%w: nil key", ErrUnknownLog)
	}
	ls := w.logs[logKey.Name()]
	if ls == nil || !ls.key.Equal(logKey) {
		return nil, fmt.Errorf("%w: %s", ErrUnknownLog, logKey)
	}
	return ls, nil
}

// Add submits a checkpoint note signed by the log logKey, with the
// consistency proof between oldSize, which must be the size of the last
// checkpoint the witness co-signed for that log, and the note's size (from
// the smaller to the larger size, as ledger.(*Ledger).ConsistencyProof
// computes). On success it returns the note co-signed by the witness (the
// log's signature and the witness's; other signature lines are dropped).
// See the package documentation for the rules. Errors: ErrUnknownLog,
// ErrBadNote, ErrBadProof, *NeedProofError, *StaleError, *ForkError, or
// a failure to write the state (then nothing is co-signed).
func (w *Witness) Add(logKey *ledger.Verifier, msg []byte, oldSize uint64, hashes [][]byte) ([]byte, error) {
	ls, err := w.log(logKey)
	if err != nil {
		return nil, err
	}
	if err := checkProofShape(hashes); err != nil {
		return nil, err
	}
	logOnly, c, err := openLogNote(msg, logKey)
	if err != nil {
		return nil, err
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	prev := ls.ck
	if prev == nil {
		return w.accept(ls, logOnly, c)
	}
	switch {
	case c.Size == prev.Size:
		if c.Text() == prev.Text() {
			return slices.Clone(ls.cosigned), nil
		}
		return nil, w.fork(ls, KindSplitView, logOnly, c, nil)
	case c.Size > prev.Size:
		if oldSize != prev.Size {
			return nil, &NeedProofError{Origin: c.Origin, Size: prev.Size}
		}
		if ledger.VerifyConsistency(prev.Size, c.Size, hashes, prev.Root, c.Root) == nil {
			return w.accept(ls, logOnly, c)
		}
		return nil, w.fork(ls, KindInconsistent, logOnly, c, hashes)
	default:
		if oldSize != prev.Size {
			return nil, w.fork(ls, KindRollback, logOnly, c, nil)
		}
		if ledger.VerifyConsistency(c.Size, prev.Size, hashes, c.Root, prev.Root) == nil {
			return nil, &StaleError{Origin: c.Origin, Size: prev.Size, Cosigned: slices.Clone(ls.cosigned)}
		}
		if fe := w.fork(ls, KindInconsistent, logOnly, c, hashes); fe.Provable {
			return nil, fe
		}
		return nil, w.fork(ls, KindRollback, logOnly, c, hashes)
	}
}

// accept co-signs c, records it durably and returns the co-signed note.
// The caller holds ls.mu.
func (w *Witness) accept(ls *logState, logOnly []byte, c *ledger.Checkpoint) ([]byte, error) {
	cosigned, err := ledger.Cosign(logOnly, w.signer)
	if err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	st := state{witnessKey: w.signer.Verifier().String(), logKey: ls.key.String(), cosigned: cosigned}
	if err := writeFileAtomic(w.dir, ls.file, st.marshal()); err != nil {
		return nil, fmt.Errorf("witness: recording the state of log %s (not co-signed): %w", ls.key.Name(), err)
	}
	ls.ck, ls.cosigned = c, cosigned
	return slices.Clone(cosigned), nil
}

// fork builds the *ForkError of a conflicting checkpoint. The caller holds
// ls.mu.
func (w *Witness) fork(ls *logState, kind Kind, offending []byte, c *ledger.Checkpoint, hashes [][]byte) *ForkError {
	ev := &Evidence{Kind: kind, Previous: slices.Clone(ls.cosigned), Offending: slices.Clone(offending), Proof: cloneHashes(hashes)}
	prev := *ls.ck
	return &ForkError{
		Origin: ls.key.Name(), Kind: kind, Previous: &prev, Offending: c,
		Evidence: ev, Provable: VerifyEvidence(ls.key, ev) == nil,
	}
}

// openLogNote verifies the log's signature on msg and returns the note
// with only that signature, in the ledger's canonical form, and the
// checkpoint.
func openLogNote(msg []byte, key *ledger.Verifier) ([]byte, *ledger.Checkpoint, error) {
	if len(msg) > ledger.MaxNoteSize {
		return nil, nil, fmt.Errorf("%w: %d bytes exceed %d", ErrBadNote, len(msg), ledger.MaxNoteSize)
	}
	n, err := note.Open(msg, note.VerifierList(key))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: log %s: %w", ErrBadNote, key.Name(), err)
	}
	logOnly, err := note.Sign(&note.Note{Text: n.Text, Sigs: n.Sigs})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrBadNote, err)
	}
	c, err := ledger.OpenCheckpoint(logOnly, key)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: log %s: %w", ErrBadNote, key.Name(), err)
	}
	return logOnly, c, nil
}

// MaxProofHashes is the most hashes a consistency proof between two tree
// sizes below 2^64 can have (64 path hashes plus the subtree root).
const MaxProofHashes = 65

func checkProofShape(hashes [][]byte) error {
	if len(hashes) > MaxProofHashes {
		return fmt.Errorf("%w: %d hashes, at most %d", ErrBadProof, len(hashes), MaxProofHashes)
	}
	for i, h := range hashes {
		if len(h) != 32 {
			return fmt.Errorf("%w: hash %d is %d bytes, want 32", ErrBadProof, i, len(h))
		}
	}
	return nil
}

func cloneHashes(hs [][]byte) [][]byte {
	if len(hs) == 0 {
		return nil
	}
	out := make([][]byte, len(hs))
	for i, h := range hs {
		out[i] = slices.Clone(h)
	}
	return out
}

// writeFileAtomic writes data to dir/name: a temporary file, fsync,
// rename over the target, fsync of the directory.
func writeFileAtomic(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, name+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// readLimited reads a regular file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%d bytes, more than %d", st.Size(), limit)
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil {
		return nil, err
	}
	return b, nil
}
