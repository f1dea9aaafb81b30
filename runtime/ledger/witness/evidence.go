package witness

import (
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/proof"

	"github.com/prismai/mec/runtime/ledger"
)

// Kind is the kind of conflict a ForkError and its Evidence report.
type Kind uint8

// Kinds of conflict.
const (
	// KindSplitView: two different checkpoint bodies of the same size.
	KindSplitView Kind = 1
	// KindInconsistent: the newer checkpoint's tree does not extend the
	// older one's (the consistency proof fails).
	KindInconsistent Kind = 2
	// KindRollback: a checkpoint smaller than one the witness co-signed,
	// not shown consistent with it.
	KindRollback Kind = 3
)

// String returns "split-view", "inconsistent" or "rollback".
func (k Kind) String() string {
	switch k {
	case KindSplitView:
		return "split-view"
	case KindInconsistent:
		return "inconsistent"
	case KindRollback:
		return "rollback"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

func (k Kind) valid() bool { return k >= KindSplitView && k <= KindRollback }

// Evidence is what a witness holds against a log: the checkpoint it had
// co-signed and a conflicting one, both signed notes of the log, and the
// consistency proof the log supplied, if any. Its encoding is Marshal's.
type Evidence struct {
	// Kind is the conflict claimed.
	Kind Kind
	// Previous is the note the witness had co-signed (with its
	// co-signature; other signature lines are ignored).
	Previous []byte
	// Offending is the conflicting note signed by the log.
	Offending []byte
	// Proof is the RFC 6962 consistency proof between the smaller and the
	// larger of the two sizes, as the log supplied it (empty if none).
	Proof [][]byte
}

// VerifyEvidence checks, with the log's key only, whether ev proves that
// the log misbehaved (see the package documentation). It returns nil when
// it does: both notes are validly signed by logKey and
//
//   - KindSplitView: they have the same size and different bodies;
//   - KindInconsistent or KindRollback: their sizes s < l differ, s > 0,
//     and Proof reconstructs the size-l root while giving the first s
//     records a root other than the signed size-s root.
//
// Otherwise it returns an error: one matching ErrUnprovable when the
// evidence is well formed and signed but does not prove the claim (a
// rollback without such a proof, or a proof that reconstructs neither
// root), any other error when it is malformed, badly signed, or shows the
// two checkpoints consistent.
func VerifyEvidence(logKey *ledger.Verifier, ev *Evidence) error {
	if logKey == nil || ev == nil {
		return errors.New("witness: verify evidence: nil key or evidence")
	}
	if !ev.Kind.valid() {
		return fmt.Errorf("witness: verify evidence: unknown kind %d", ev.Kind)
	}
	if err := checkProofShape(ev.Proof); err != nil {
		return fmt.Errorf("witness: verify evidence: %w", err)
	}
	prev, _, err := ledger.OpenWitnessed(ev.Previous, logKey, nil, 0)
	if err != nil {
		return fmt.Errorf("witness: verify evidence: previous note: %w", err)
	}
	off, _, err := ledger.OpenWitnessed(ev.Offending, logKey, nil, 0)
	if err != nil {
		return fmt.Errorf("witness: verify evidence: offending note: %w", err)
	}
	switch ev.Kind {
	case KindSplitView:
		if prev.Size != off.Size {
			return fmt.Errorf("witness: verify evidence: split view needs two checkpoints of one size, have %d and %d", prev.Size, off.Size)
		}
		if prev.Text() == off.Text() {
			return fmt.Errorf("witness: verify evidence: the two checkpoints of size %d are the same", prev.Size)
		}
		return nil
	case KindRollback:
		if off.Size >= prev.Size {
			return fmt.Errorf("witness: verify evidence: rollback needs the offending checkpoint (size %d) smaller than the previous one (size %d)", off.Size, prev.Size)
		}
		if len(ev.Proof) == 0 {
			return fmt.Errorf("%w: a checkpoint of size %d after one of size %d is also what an honest log signs, in the other order", ErrUnprovable, off.Size, prev.Size)
		}
	case KindInconsistent:
		if off.Size == prev.Size {
			return fmt.Errorf("witness: verify evidence: inconsistency needs two checkpoint sizes, both are %d", off.Size)
		}
	}
	small, large := prev, off
	if small.Size > large.Size {
		small, large = large, small
	}
	return proveInconsistent(small, large, ev.Proof)
}

// proveInconsistent returns nil when hashes, a consistency proof from
// small.Size to large.Size, reconstructs large.Root but gives the first
// small.Size records a root other than small.Root.
func proveInconsistent(small, large *ledger.Checkpoint, hashes [][]byte) error {
	err := ledger.VerifyConsistency(small.Size, large.Size, hashes, small.Root, large.Root)
	if err == nil {
		return fmt.Errorf("witness: verify evidence: the proof shows checkpoint %d consistent with checkpoint %d", small.Size, large.Size)
	}
	// proof.VerifyConsistency checks the smaller root first and reports
	// the root it computed; if the proof, taken with that root, verifies,
	// it reconstructs large.Root from the tree's own nodes.
	var rm proof.RootMismatchError
	if !errors.As(err, &rm) || len(rm.CalculatedRoot) != len(small.Root) {
		return fmt.Errorf("%w: the proof from size %d to %d does not verify (%v), which shows nothing about the log", ErrUnprovable, small.Size, large.Size, err)
	}
	alt := ledger.Hash(rm.CalculatedRoot)
	if alt == small.Root || ledger.VerifyConsistency(small.Size, large.Size, hashes, alt, large.Root) != nil {
		return fmt.Errorf("%w: the proof from size %d to %d does not reconstruct the root of size %d", ErrUnprovable, small.Size, large.Size, large.Size)
	}
	return nil
}
