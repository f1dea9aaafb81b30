package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"sync"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
)

// storedLevel is the lowest tree level above the leaves whose nodes an
// open Ledger keeps; nodes of levels 1 to storedLevel-1 are recomputed from
// the leaves when a proof needs them (at most 2^storedLevel - 1 hashes
// each). Keeping every leaf and the nodes from this level up costs about
// 32 + 64/2^storedLevel bytes per record.
const storedLevel = 4

// nodeStore holds the Merkle tree of an open Ledger for proofs: every leaf
// hash and every complete node at level storedLevel and above, fed by the
// committer through compact.Range's visitor. Readers hold mu for reading;
// the committer holds it for writing while it appends a batch.
type nodeStore struct {
	mu     sync.RWMutex
	leaves [][32]byte
	upper  [][][32]byte // upper[k][i] is node (storedLevel+k, i)
	broken bool         // a node arrived out of order: serve no proofs
}

// add records a complete node reported by compact.Range.Append. The
// caller holds mu for writing. Nodes of each level arrive in index order;
// if one does not, the store marks itself broken rather than serve wrong
// proofs.
func (s *nodeStore) add(id compact.NodeID, hash []byte) {
	if len(hash) != 32 {
		s.broken = true
		return
	}
	switch {
	case id.Level == 0:
		if id.Index != uint64(len(s.leaves)) {
			s.broken = true
			return
		}
		s.leaves = append(s.leaves, [32]byte(hash))
	case id.Level >= storedLevel:
		k := int(id.Level - storedLevel)
		for len(s.upper) <= k {
			s.upper = append(s.upper, nil)
		}
		if id.Index != uint64(len(s.upper[k])) {
			s.broken = true
			return
		}
		s.upper[k] = append(s.upper[k], [32]byte(hash))
	}
}

// node returns the hash of the complete node (level, index). The caller
// holds mu.
func (s *nodeStore) node(level uint, index uint64) ([32]byte, error) {
	switch {
	case level == 0:
		if index < uint64(len(s.leaves)) {
			return s.leaves[index], nil
		}
	case level >= storedLevel:
		k := int(level - storedLevel)
		if k < len(s.upper) && index < uint64(len(s.upper[k])) {
			return s.upper[k][index], nil
		}
	case level < 64 && index < uint64(len(s.leaves))>>level:
		l, err := s.node(level-1, 2*index)
		if err != nil {
			return [32]byte{}, err
		}
		r, err := s.node(level-1, 2*index+1)
		if err != nil {
			return [32]byte{}, err
		}
		return [32]byte(hasher.HashChildren(l[:], r[:])), nil
	}
	return [32]byte{}, fmt.Errorf("ledger: tree node (%d, %d) not available", level, index)
}

// fetch returns the proof hashes of n. The caller holds mu.
func (s *nodeStore) fetch(n proof.Nodes) ([][]byte, error) {
	if s.broken {
		return nil, errors.New("ledger: in-memory tree is inconsistent; reopen the ledger")
	}
	hashes := make([][]byte, len(n.IDs))
	for i, id := range n.IDs {
		h, err := s.node(id.Level, id.Index)
		if err != nil {
			return nil, err
		}
		hashes[i] = h[:]
	}
	return n.Rehash(hashes, hasher.HashChildren)
}

// signedSize returns the size of the latest signed checkpoint (0 if none).
func (l *Ledger) signedSize() uint64 {
	l.noteMu.Lock()
	defer l.noteMu.Unlock()
	if l.latestCk == nil {
		return 0
	}
	return l.latestCk.Size
}

// ConsistencyProof returns the RFC 6962 consistency proof between the
// trees of the first size1 and size2 records, computed from the tree the
// open Ledger keeps in memory (O(log n) node look-ups). Proofs are served
// up to the latest signed checkpoint only: 0 <= size1 <= size2 <=
// LatestCheckpoint's size. (Records after it are durable but no signature
// vouches for them, so no one holds a tree head to check such a proof
// against.) It is safe to call concurrently with Append, and from
// Options.OnCheckpoint.
func (l *Ledger) ConsistencyProof(size1, size2 uint64) ([][]byte, error) {
	if size1 > size2 {
		return nil, fmt.Errorf("ledger: consistency proof: size %d is larger than size %d", size1, size2)
	}
	if signed := l.signedSize(); size2 > signed {
		return nil, fmt.Errorf("ledger: consistency proof: tree size %d is beyond the latest signed checkpoint (size %d)", size2, signed)
	}
	n, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, fmt.Errorf("ledger: consistency proof: %w", err)
	}
	l.nodes.mu.RLock()
	defer l.nodes.mu.RUnlock()
	return l.nodes.fetch(n)
}

// InclusionProof returns the RFC 6962 audit path of record index in the
// tree of the first size records, with index < size <= LatestCheckpoint's
// size (see ConsistencyProof).
func (l *Ledger) InclusionProof(index, size uint64) ([][]byte, error) {
	if index >= size {
		return nil, fmt.Errorf("ledger: inclusion proof: index %d out of range for tree size %d", index, size)
	}
	if signed := l.signedSize(); size > signed {
		return nil, fmt.Errorf("ledger: inclusion proof: tree size %d is beyond the latest signed checkpoint (size %d)", size, signed)
	}
	n, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("ledger: inclusion proof: %w", err)
	}
	l.nodes.mu.RLock()
	defer l.nodes.mu.RUnlock()
	return l.nodes.fetch(n)
}

// LatestCheckpoint returns the latest signed checkpoint of the ledger (the
// one in the checkpoint file) as its signed note and parsed, or nil, nil
// when the ledger has none yet (a new, empty ledger). The results are
// copies.
func (l *Ledger) LatestCheckpoint() (note []byte, c *Checkpoint) {
	l.noteMu.Lock()
	defer l.noteMu.Unlock()
	if l.latestCk == nil {
		return nil, nil
	}
	ck := *l.latestCk
	return slices.Clone(l.latestNote), &ck
}

// published records msg, the signed note of c, as the latest checkpoint
// and calls Options.OnCheckpoint. writeCheckpoint calls it, holding
// ckWriteMu, once the checkpoint is durable, so calls are serialised and
// in increasing size order.
func (l *Ledger) published(msg []byte, c *Checkpoint) {
	ck := *c
	l.noteMu.Lock()
	l.latestNote, l.latestCk = slices.Clone(msg), &ck
	l.noteMu.Unlock()
	if l.onCheckpoint != nil {
		cc := *c
		l.onCheckpoint(slices.Clone(msg), &cc)
	}
}

// loadLatestNote sets the latest checkpoint, when Open signed none, to
// the one Open recovered (size l.ckSize): from the checkpoint file, or
// else from checkpoints.log (Open took l.ckSize from one of the two, so
// one holds it). It never fails Open: should neither hold it,
// LatestCheckpoint reports none and proofs wait for the next checkpoint.
func (l *Ledger) loadLatestNote() {
	if l.latestCk != nil || l.ckSize == 0 {
		return // an empty ledger has no checkpoint
	}
	v := l.signer.Verifier()
	msg, err := readSmallFile(filepath.Join(l.dir, CheckpointFile), maxNotePayload)
	var c *Checkpoint
	if err == nil {
		c, err = OpenCheckpoint(msg, v)
	}
	if err != nil || c.Size != l.ckSize {
		if msg, err = findHistoryNote(l.histF, l.histOff, l.ckSize); err != nil {
			return
		}
		if c, err = OpenCheckpoint(msg, v); err != nil {
			return
		}
	}
	l.noteMu.Lock()
	l.latestNote, l.latestCk = msg, c
	l.noteMu.Unlock()
}

// errFound stops a history scan early.
var errFound = errors.New("found")

// findHistoryNote returns the signed note of tree size size from the first
// fileSize bytes of checkpoints.log (not verified: callers verify it). A
// torn or damaged tail after that entry does not matter.
func findHistoryNote(f io.ReaderAt, fileSize int64, size uint64) ([]byte, error) {
	var found []byte
	_, _, err := scanHistory(f, fileSize, func(_, _ int64, msg []byte) error {
		if s, ok := noteSize(msg); ok && s == size {
			found = slices.Clone(msg)
			return errFound
		}
		return nil
	})
	if found != nil {
		return found, nil
	}
	if err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("ledger: %s has no checkpoint of size %d", HistoryFile, size)
}

// noteSize returns the tree size line of a checkpoint note, unverified.
func noteSize(msg []byte) (uint64, bool) {
	lines := bytes.SplitN(msg, []byte("\n"), 3)
	if len(lines) < 3 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(lines[1]), 10, 64)
	return n, err == nil
}
