package ledger

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// WitnessedFile is the name, in a ledger directory, of the newest
// checkpoint that reached a quorum of witness co-signatures (see
// SaveWitnessed). Open never reads it; Verify checks it when
// VerifyOptions.Witnesses is set.
const WitnessedFile = "checkpoint.witnessed"

// MaxNoteSize is the largest co-signed checkpoint note, in bytes, that
// Cosign, MergeCosignatures, OpenWitnessed and SaveWitnessed accept. An
// ML-DSA-65 signature line takes about 4.4 KiB, and a note holds at most
// 100 signatures (golang.org/x/mod/sumdb/note's limit).
const MaxNoteSize = 1 << 20

// maxNoteSigs is golang.org/x/mod/sumdb/note's limit on signature lines.
const maxNoteSigs = 100

// ErrTooFewCosignatures is matched (errors.Is) by the error of
// OpenWitnessed, SaveWitnessed and Verify when a checkpoint carries fewer
// valid co-signatures by the given witnesses than required.
var ErrTooFewCosignatures = errors.New("too few witness co-signatures")

// parseNote splits a signed note into its text and signature lines
// without verifying any signature (golang.org/x/mod/sumdb/note does the
// parsing). The text must be a canonical checkpoint body.
func parseNote(msg []byte) (*note.Note, *Checkpoint, error) {
	if len(msg) > MaxNoteSize {
		return nil, nil, fmt.Errorf("note of %d bytes exceeds %d", len(msg), MaxNoteSize)
	}
	_, err := note.Open(msg, note.VerifierList())
	var un *note.UnverifiedNoteError
	if !errors.As(err, &un) {
		if err == nil {
			err = errors.New("unexpected verified signature")
		}
		return nil, nil, fmt.Errorf("malformed signed note: %w", err)
	}
	c, err := parseCheckpointText(un.Note.Text)
	if err != nil {
		return nil, nil, err
	}
	return un.Note, c, nil
}

// sortSigs puts signature lines in the canonical order of co-signed
// notes: the log's lines (named after the origin) first, then by key name,
// key ID and signature text.
func sortSigs(origin string, sigs []note.Signature) {
	slices.SortFunc(sigs, func(a, b note.Signature) int {
		if (a.Name == origin) != (b.Name == origin) {
			if a.Name == origin {
				return -1
			}
			return 1
		}
		return cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.Hash, b.Hash), strings.Compare(a.Base64, b.Base64))
	})
}

// formatNote encodes text and sigs (in canonical order) as a signed note.
func formatNote(origin, text string, sigs []note.Signature) ([]byte, error) {
	if len(sigs) > maxNoteSigs {
		return nil, fmt.Errorf("%d signatures exceed the limit of %d", len(sigs), maxNoteSigs)
	}
	sortSigs(origin, sigs)
	msg, err := note.Sign(&note.Note{Text: text, UnverifiedSigs: sigs})
	if err != nil {
		return nil, fmt.Errorf("encoding note: %w", err)
	}
	if len(msg) > MaxNoteSize {
		return nil, fmt.Errorf("note of %d bytes exceeds %d", len(msg), MaxNoteSize)
	}
	return msg, nil
}

// Cosign adds witness's co-signature to a signed checkpoint note: an
// ML-DSA-65 signed-note signature of the same checkpoint body by the
// witness key, in the same form as the log's own signature. Existing
// signature lines are kept, except an earlier one by the same witness key,
// which is replaced; the lines are returned in canonical order (the log's
// first, then by key name, key ID, signature). A witness key may not be
// named like the log's origin, so that a co-signature can never pass for
// the log's signature.
//
// Cosign checks only the note's form: it does not verify the log's
// signature, so a witness must verify the note and its consistency with
// what it co-signed before (package ledger/witness does) before calling it.
func Cosign(msg []byte, witness *Signer) ([]byte, error) {
	if witness == nil {
		return nil, errors.New("ledger: cosign: nil witness signer")
	}
	n, c, err := parseNote(msg)
	if err != nil {
		return nil, fmt.Errorf("ledger: cosign: %w", err)
	}
	if witness.Name() == c.Origin {
		return nil, fmt.Errorf("ledger: cosign: witness key name %q is the log's origin", witness.Name())
	}
	own, err := note.Sign(&note.Note{Text: n.Text}, witness)
	if err != nil {
		return nil, fmt.Errorf("ledger: cosign: %w", err)
	}
	ownNote, _, err := parseNote(own)
	if err != nil {
		return nil, fmt.Errorf("ledger: cosign: re-reading the co-signature: %w", err)
	}
	if len(ownNote.UnverifiedSigs) != 1 {
		return nil, fmt.Errorf("ledger: cosign: %d signatures on the co-signature note, want 1", len(ownNote.UnverifiedSigs))
	}
	sigs := []note.Signature{ownNote.UnverifiedSigs[0]}
	for _, s := range n.UnverifiedSigs {
		if s.Name != witness.Name() || s.Hash != witness.KeyHash() {
			sigs = append(sigs, s)
		}
	}
	out, err := formatNote(c.Origin, n.Text, sigs)
	if err != nil {
		return nil, fmt.Errorf("ledger: cosign: %w", err)
	}
	return out, nil
}

// MergeCosignatures combines notes of the same checkpoint body into one
// note carrying the union of their signature lines (identical lines once),
// in canonical order (see Cosign), so that the result does not depend on
// the order of the arguments. Notes that carry different signatures by
// the log's key (named after the origin, same key ID) are an error.
//
// It checks only the notes' form, not their signatures: verify each input
// with OpenWitnessed first, since one invalid signature by a witness key
// makes OpenWitnessed reject the merged note.
func MergeCosignatures(notes ...[]byte) ([]byte, error) {
	if len(notes) == 0 {
		return nil, errors.New("ledger: merge co-signatures: no notes")
	}
	var text string
	var origin string
	var sigs []note.Signature
	seen := map[note.Signature]bool{}
	logSig := map[uint32]string{}
	for i, msg := range notes {
		n, c, err := parseNote(msg)
		if err != nil {
			return nil, fmt.Errorf("ledger: merge co-signatures: note %d: %w", i, err)
		}
		if i == 0 {
			text, origin = n.Text, c.Origin
		} else if n.Text != text {
			return nil, fmt.Errorf("ledger: merge co-signatures: note %d is of a different checkpoint (size %d)", i, c.Size)
		}
		for _, s := range n.UnverifiedSigs {
			if s.Name == origin {
				if prev, ok := logSig[s.Hash]; ok && prev != s.Base64 {
					return nil, fmt.Errorf("ledger: merge co-signatures: note %d carries a different signature by the log key %s+%08x", i, s.Name, s.Hash)
				}
				logSig[s.Hash] = s.Base64
			}
			if !seen[s] {
				seen[s] = true
				sigs = append(sigs, s)
			}
		}
	}
	out, err := formatNote(origin, text, sigs)
	if err != nil {
		return nil, fmt.Errorf("ledger: merge co-signatures: %w", err)
	}
	return out, nil
}

// checkWitnessKeys rejects a witness list that could be ambiguous: nil
// keys, two keys with one name, or a key named like the log.
func checkWitnessKeys(log *Verifier, witnesses []*Verifier) error {
	names := map[string]bool{}
	for i, w := range witnesses {
		switch {
		case w == nil:
			return fmt.Errorf("witness key %d is nil", i)
		case w.Name() == log.Name():
			return fmt.Errorf("witness key %s is named like the log", w)
		case names[w.Name()]:
			return fmt.Errorf("two witness keys are named %q", w.Name())
		}
		names[w.Name()] = true
	}
	return nil
}

// OpenWitnessed verifies a co-signed checkpoint note: the log's signature
// by log (exactly as OpenCheckpoint, except that other signature lines may
// follow and the note need not be in canonical form), and the
// co-signatures of the given witness keys. It returns the checkpoint and
// the names of the witnesses whose co-signature is valid, sorted. Fewer
// than min of them is an error matching ErrTooFewCosignatures; an invalid
// co-signature by one of the witness keys is an error too (it is forged or
// damaged), while lines by other keys are ignored. Witness keys must have
// distinct names, none of them the log's.
func OpenWitnessed(msg []byte, log *Verifier, witnesses []*Verifier, min int) (*Checkpoint, []string, error) {
	if log == nil {
		return nil, nil, errors.New("ledger: open witnessed checkpoint: nil log key")
	}
	if err := checkWitnessKeys(log, witnesses); err != nil {
		return nil, nil, fmt.Errorf("ledger: open witnessed checkpoint: %w", err)
	}
	if len(msg) > MaxNoteSize {
		return nil, nil, fmt.Errorf("ledger: open witnessed checkpoint: note of %d bytes exceeds %d", len(msg), MaxNoteSize)
	}
	n, err := note.Open(msg, note.VerifierList(log))
	if err != nil {
		var un *note.UnverifiedNoteError
		if errors.As(err, &un) {
			return nil, nil, fmt.Errorf("ledger: open witnessed checkpoint: no signature by the log key %s", log)
		}
		return nil, nil, fmt.Errorf("ledger: open witnessed checkpoint: log signature: %w", err)
	}
	c, err := parseCheckpointText(n.Text)
	if err != nil {
		return nil, nil, fmt.Errorf("ledger: open witnessed checkpoint: %w", err)
	}
	if c.Origin != log.Name() {
		return nil, nil, fmt.Errorf("ledger: open witnessed checkpoint: origin %q does not match key name %q", c.Origin, log.Name())
	}
	var signed []string
	for _, w := range witnesses {
		ok := false
		for _, s := range n.UnverifiedSigs {
			if s.Name != w.Name() || s.Hash != w.KeyHash() {
				continue
			}
			raw, err := base64.StdEncoding.DecodeString(s.Base64)
			if err != nil || len(raw) < 4 || binary.BigEndian.Uint32(raw) != s.Hash || !w.Verify([]byte(n.Text), raw[4:]) {
				return nil, nil, fmt.Errorf("ledger: open witnessed checkpoint: invalid co-signature by witness %s+%08x", w.Name(), w.KeyHash())
			}
			ok = true
		}
		if ok {
			signed = append(signed, w.Name())
		}
	}
	slices.Sort(signed)
	if len(signed) < min {
		have := "none"
		if len(signed) > 0 {
			have = strings.Join(signed, ", ")
		}
		return nil, nil, fmt.Errorf("ledger: checkpoint of size %d has %d of the %d required witness co-signatures (valid: %s): %w",
			c.Size, len(signed), min, have, ErrTooFewCosignatures)
	}
	return c, signed, nil
}

// witnessedSigs returns the log's signature line and the valid witness
// co-signature lines (one per witness) of a note that OpenWitnessed
// accepted with the same keys.
func witnessedSigs(msg []byte, log *Verifier, witnesses []*Verifier) (text string, logLine note.Signature, cosigs map[string]note.Signature, err error) {
	n, err := note.Open(msg, note.VerifierList(log))
	if err != nil {
		return "", note.Signature{}, nil, err
	}
	cosigs = map[string]note.Signature{}
	for _, w := range witnesses {
		for _, s := range n.UnverifiedSigs {
			if s.Name == w.Name() && s.Hash == w.KeyHash() {
				cosigs[w.Name()] = s
				break
			}
		}
	}
	return n.Text, n.Sigs[0], cosigs, nil
}

// SaveWitnessed records a co-signed checkpoint of the ledger in dir in
// its checkpoint.witnessed file, which always holds the newest checkpoint
// that had at least min valid co-signatures by the given witnesses. The
// node calls it as co-signatures arrive (merge them first, see
// MergeCosignatures).
//
// The note must verify with OpenWitnessed(note, log, witnesses, min), log
// must be the ledger's key (ledger.pub), and its checkpoint must be one the
// ledger signed: the entry of that size in checkpoints.log must have the
// same body. The file is then replaced (atomically: temporary file, fsync,
// rename, directory fsync) when it is missing, holds a smaller checkpoint,
// or holds the same checkpoint with fewer co-signatures (the two sets are
// merged). It never goes back to a smaller size: an older note leaves it
// unchanged and saved is false. Only the log's signature and one valid
// co-signature per given witness are written. An existing file that does
// not verify with these keys is an error, not overwritten.
//
// Calls for one directory must not run concurrently (the node serialises
// them); it is safe to call while the ledger is open.
func SaveWitnessed(dir string, msg []byte, log *Verifier, witnesses []*Verifier, min int) (saved bool, err error) {
	fail := func(err error) (bool, error) {
		return false, fmt.Errorf("ledger: saving %s: %w", WitnessedFile, err)
	}
	if len(witnesses) == 0 || min < 1 || min > len(witnesses) {
		return fail(fmt.Errorf("need 1 <= min (%d) <= number of witnesses (%d)", min, len(witnesses)))
	}
	c, _, err := OpenWitnessed(msg, log, witnesses, min)
	if err != nil {
		return fail(err)
	}
	if _, err := verifyKeys(dir, log); err != nil {
		return fail(err)
	}
	hist, err := readHistoryNote(dir, c.Size)
	if err != nil {
		return fail(fmt.Errorf("checkpoint of size %d: %w", c.Size, err))
	}
	if hn, _, err := parseNote(hist); err != nil || hn.Text != c.Text() {
		return fail(fmt.Errorf("checkpoint of size %d differs from the one in %s", c.Size, HistoryFile))
	}
	text, logLine, cosigs, err := witnessedSigs(msg, log, witnesses)
	if err != nil {
		return fail(err)
	}
	old, err := readSmallFile(filepath.Join(dir, WitnessedFile), MaxNoteSize)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fail(err)
	default:
		oc, _, err := OpenWitnessed(old, log, witnesses, 0)
		if err != nil {
			return fail(fmt.Errorf("existing file: %w", err))
		}
		if oc.Size > c.Size {
			return false, nil
		}
		if oc.Size == c.Size {
			if oc.Text() != c.Text() {
				return fail(fmt.Errorf("existing file holds a different checkpoint of size %d", c.Size))
			}
			_, oldLog, oldCosigs, err := witnessedSigs(old, log, witnesses)
			if err != nil {
				return fail(fmt.Errorf("existing file: %w", err))
			}
			grew := false
			for name, s := range cosigs {
				if _, ok := oldCosigs[name]; !ok {
					oldCosigs[name] = s
					grew = true
				}
			}
			if !grew {
				return false, nil
			}
			logLine, cosigs = oldLog, oldCosigs
		}
	}
	sigs := []note.Signature{logLine}
	for _, s := range cosigs {
		sigs = append(sigs, s)
	}
	out, err := formatNote(c.Origin, text, sigs)
	if err != nil {
		return fail(err)
	}
	if _, _, err := OpenWitnessed(out, log, witnesses, min); err != nil {
		return fail(fmt.Errorf("re-reading the merged note: %w", err))
	}
	if bytes.Equal(out, old) {
		return false, nil
	}
	if err := writeFileAtomic(dir, WitnessedFile, out, 0o644); err != nil {
		return fail(err)
	}
	return true, nil
}

// readHistoryNote returns the entry of tree size size in dir's
// checkpoints.log, unverified.
func readHistoryNote(dir string, size uint64) ([]byte, error) {
	f, err := os.Open(filepath.Join(dir, HistoryFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", HistoryFile)
	}
	return findHistoryNote(f, st.Size(), size)
}
