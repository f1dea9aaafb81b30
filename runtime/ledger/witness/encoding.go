package witness

import (
	"errors"
	"fmt"
	"slices"

	"github.com/prismai/mec/internal/cbor"
	"github.com/prismai/mec/runtime/ledger"
)

// Encodings are deterministic CBOR arrays whose first element is the
// format version; the decoders accept exactly the bytes the encoders
// write (shortest heads, definite lengths, no trailing bytes).
const formatVersion = 1

// Size limits of the encodings, in bytes.
const (
	// MaxSubmissionSize bounds an encoded Submission.
	MaxSubmissionSize = ledger.MaxNoteSize + 4096
	// MaxEvidenceSize bounds encoded Evidence.
	MaxEvidenceSize = 2*ledger.MaxNoteSize + 4096
	// maxStateSize bounds a state file.
	maxStateSize = ledger.MaxNoteSize + 64<<10
)

// ErrMalformed is matched by every decoding error.
var ErrMalformed = errors.New("witness: malformed encoding")

// Submission is what a log's node sends a witness: a checkpoint note and
// the consistency proof between the witness's last size and the note's
// (see Witness.Add). Encoded, it is the CBOR array
//
//	[1, note (bytes), old size (uint), [hash (32 bytes), ...]]
//
// with at most ledger.MaxNoteSize note bytes and MaxProofHashes hashes.
type Submission struct {
	// Note is the log's signed checkpoint note.
	Note []byte
	// OldSize is the size the proof starts (or, for a smaller note,
	// ends) at: the last size the witness co-signed.
	OldSize uint64
	// Proof is the RFC 6962 consistency proof.
	Proof [][]byte
}

// Marshal encodes s; it fails when s exceeds the limits.
func (s *Submission) Marshal() ([]byte, error) {
	if len(s.Note) > ledger.MaxNoteSize {
		return nil, fmt.Errorf("witness: submission: note of %d bytes exceeds %d", len(s.Note), ledger.MaxNoteSize)
	}
	if err := checkProofShape(s.Proof); err != nil {
		return nil, fmt.Errorf("witness: submission: %w", err)
	}
	b := cbor.AppendHead(nil, cbor.Array, 4)
	b = cbor.AppendHead(b, cbor.Uint, formatVersion)
	b = cbor.AppendBytes(b, s.Note)
	b = cbor.AppendHead(b, cbor.Uint, s.OldSize)
	return appendHashes(b, s.Proof), nil
}

// UnmarshalSubmission decodes what Submission.Marshal wrote.
func UnmarshalSubmission(b []byte) (*Submission, error) {
	if len(b) > MaxSubmissionSize {
		return nil, fmt.Errorf("%w: submission of %d bytes exceeds %d", ErrMalformed, len(b), MaxSubmissionSize)
	}
	d := cbor.NewDecoder(b)
	s := &Submission{}
	err := decodeArray(d, 4, func() (err error) {
		if s.Note, err = readBytes(d, ledger.MaxNoteSize); err != nil {
			return err
		}
		if s.OldSize, err = d.Expect(cbor.Uint); err != nil {
			return err
		}
		s.Proof, err = readHashes(d)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%w: submission: %w", ErrMalformed, err)
	}
	return s, nil
}

// Marshal encodes ev as the CBOR array
//
//	[1, kind (uint), previous note (bytes), offending note (bytes), [hash (32 bytes), ...]]
//
// with notes of at most ledger.MaxNoteSize bytes and at most
// MaxProofHashes hashes; it fails when ev exceeds the limits.
func (ev *Evidence) Marshal() ([]byte, error) {
	if !ev.Kind.valid() {
		return nil, fmt.Errorf("witness: evidence: unknown kind %d", ev.Kind)
	}
	if len(ev.Previous) > ledger.MaxNoteSize || len(ev.Offending) > ledger.MaxNoteSize {
		return nil, fmt.Errorf("witness: evidence: note exceeds %d bytes", ledger.MaxNoteSize)
	}
	if err := checkProofShape(ev.Proof); err != nil {
		return nil, fmt.Errorf("witness: evidence: %w", err)
	}
	b := cbor.AppendHead(nil, cbor.Array, 5)
	b = cbor.AppendHead(b, cbor.Uint, formatVersion)
	b = cbor.AppendHead(b, cbor.Uint, uint64(ev.Kind))
	b = cbor.AppendBytes(b, ev.Previous)
	b = cbor.AppendBytes(b, ev.Offending)
	return appendHashes(b, ev.Proof), nil
}

// UnmarshalEvidence decodes what Evidence.Marshal wrote. It checks the
// form only; VerifyEvidence checks what the evidence proves.
func UnmarshalEvidence(b []byte) (*Evidence, error) {
	if len(b) > MaxEvidenceSize {
		return nil, fmt.Errorf("%w: evidence of %d bytes exceeds %d", ErrMalformed, len(b), MaxEvidenceSize)
	}
	d := cbor.NewDecoder(b)
	ev := &Evidence{}
	err := decodeArray(d, 5, func() error {
		k, err := d.Expect(cbor.Uint)
		if err != nil {
			return err
		}
		if ev.Kind = Kind(k); k > 255 || !ev.Kind.valid() {
			return fmt.Errorf("unknown kind %d", k)
		}
		if ev.Previous, err = readBytes(d, ledger.MaxNoteSize); err != nil {
			return err
		}
		if ev.Offending, err = readBytes(d, ledger.MaxNoteSize); err != nil {
			return err
		}
		ev.Proof, err = readHashes(d)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%w: evidence: %w", ErrMalformed, err)
	}
	return ev, nil
}

// state is the content of a state file (see New).
type state struct {
	witnessKey string
	logKey     string
	cosigned   []byte
}

func (s *state) marshal() []byte {
	b := cbor.AppendHead(nil, cbor.Array, 4)
	b = cbor.AppendHead(b, cbor.Uint, formatVersion)
	b = cbor.AppendText(b, s.witnessKey)
	b = cbor.AppendText(b, s.logKey)
	return cbor.AppendBytes(b, s.cosigned)
}

func unmarshalState(b []byte) (*state, error) {
	if len(b) > maxStateSize {
		return nil, fmt.Errorf("%w: state of %d bytes exceeds %d", ErrMalformed, len(b), maxStateSize)
	}
	d := cbor.NewDecoder(b)
	s := &state{}
	err := decodeArray(d, 4, func() (err error) {
		if s.witnessKey, err = d.Text(); err != nil {
			return err
		}
		if s.logKey, err = d.Text(); err != nil {
			return err
		}
		s.cosigned, err = readBytes(d, ledger.MaxNoteSize)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%w: state: %w", ErrMalformed, err)
	}
	return s, nil
}

// decodeArray reads an array of n items whose first is the format
// version, calls body for the rest, and requires the input to end there.
func decodeArray(d *cbor.Decoder, n uint64, body func() error) error {
	got, err := d.Expect(cbor.Array)
	if err != nil {
		return err
	}
	if got != n {
		return fmt.Errorf("array of %d items, want %d", got, n)
	}
	v, err := d.Expect(cbor.Uint)
	if err != nil {
		return err
	}
	if v != formatVersion {
		return fmt.Errorf("unsupported format version %d (want %d)", v, formatVersion)
	}
	if err := body(); err != nil {
		return err
	}
	if d.Remaining() != 0 {
		return fmt.Errorf("%d trailing bytes", d.Remaining())
	}
	return nil
}

func readBytes(d *cbor.Decoder, limit int) ([]byte, error) {
	p, err := d.Raw(cbor.Bytes)
	if err != nil {
		return nil, err
	}
	if len(p) > limit {
		return nil, fmt.Errorf("byte string of %d bytes exceeds %d", len(p), limit)
	}
	return slices.Clone(p), nil
}

func appendHashes(b []byte, hs [][]byte) []byte {
	b = cbor.AppendHead(b, cbor.Array, uint64(len(hs)))
	for _, h := range hs {
		b = cbor.AppendBytes(b, h)
	}
	return b
}

func readHashes(d *cbor.Decoder) ([][]byte, error) {
	n, err := d.Expect(cbor.Array)
	if err != nil {
		return nil, err
	}
	if n > MaxProofHashes {
		return nil, fmt.Errorf("%d proof hashes, at most %d", n, MaxProofHashes)
	}
	var hs [][]byte
	for i := uint64(0); i < n; i++ {
		h, err := d.Raw(cbor.Bytes)
		if err != nil {
			return nil, err
		}
		if len(h) != 32 {
			return nil, fmt.Errorf("proof hash %d is %d bytes, want 32", i, len(h))
		}
		hs = append(hs, slices.Clone(h))
	}
	return hs, nil
}
