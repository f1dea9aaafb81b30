package ledger

import (
	"fmt"
	"path/filepath"

	"github.com/prismai/mec/runtime/telemetry"
)

// Record is one decoded ledger record.
type Record struct {
	// Index is the record's position (leaf index) in the ledger.
	Index uint64 `json:"index"`
	// Offset is the byte offset of the record's frame in events.log.
	Offset int64 `json:"offset"`
	// Event is the decoded event (telemetry.SystemEvent or FusionEvent).
	Event telemetry.Event `json:"event"`
	// Chain is the chain hash H_{Index+1} stored with the record.
	Chain Hash `json:"chain"`
	// Leaf is the record's RFC 6962 leaf hash.
	Leaf Hash `json:"leaf"`
}

// Scan reads every record of the ledger in dir in order, read-only,
// checking frames, encodings and the chain (not signatures: use Verify),
// and calls fn for each. A torn tail is reported as a *CorruptError after
// fn has seen every record before it.
func Scan(dir string, fn func(Record) error) error {
	_, err := scanLog(filepath.Join(dir, LogFile), func(r *record) error {
		ev, err := telemetry.Unmarshal(r.event)
		if err != nil {
			return err // unreachable: scanLog decoded it already
		}
		return fn(Record{Index: r.index, Offset: r.offset, Event: ev, Chain: r.chain, Leaf: r.leaf})
	})
	return err
}

// Tail returns the last n records of the ledger in dir (fewer if it holds
// fewer), read-only.
func Tail(dir string, n int) ([]Record, error) {
	if n <= 0 {
		return nil, nil
	}
	ring := make([]Record, 0, min(n, 1<<16))
	var total uint64
	err := Scan(dir, func(r Record) error {
		if len(ring) < n {
			ring = append(ring, r)
		} else {
			ring[total%uint64(n)] = r
		}
		total++
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(ring) == n {
		k := int(total % uint64(n))
		ring = append(ring[k:], ring[:k]...)
	}
	return ring, nil
}

// ReadTree reads the ledger in dir, read-only, and returns the Merkle tree
// over all its records.
func ReadTree(dir string) (*Tree, error) {
	var leaves [][32]byte
	_, err := scanLog(filepath.Join(dir, LogFile), func(r *record) error {
		leaves = append(leaves, r.leaf)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return NewTree(leaves), nil
}

// ReadCheckpoint returns the latest signed checkpoint in dir, verified
// with v.
func ReadCheckpoint(dir string, v *Verifier) (*Checkpoint, error) {
	msg, err := readSmallFile(filepath.Join(dir, CheckpointFile), maxNotePayload)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	c, err := OpenCheckpoint(msg, v)
	if err != nil {
		return nil, &CorruptError{File: CheckpointFile, Offset: -1, Index: -1, Err: err}
	}
	return c, nil
}

// InclusionProof proves that a record is in a tree head.
type InclusionProof struct {
	// Index is the record's leaf index.
	Index uint64 `json:"index"`
	// Size is the tree size the proof is for.
	Size uint64 `json:"tree_size"`
	// Leaf is the record's RFC 6962 leaf hash.
	Leaf Hash `json:"leaf_hash"`
	// Root is the root hash of the tree of Size records.
	Root Hash `json:"root"`
	// Hashes is the RFC 6962 audit path.
	Hashes []Hash `json:"proof"`
}

// Verify checks the proof.
func (p *InclusionProof) Verify() error {
	return VerifyInclusion(p.Index, p.Size, p.Leaf, rawHashes(p.Hashes), p.Root)
}

// ConsistencyProof proves that the tree of Size1 records is a prefix of the
// tree of Size2 records.
type ConsistencyProof struct {
	// Size1 and Size2 are the two tree sizes, Size1 <= Size2.
	Size1 uint64 `json:"from"`
	Size2 uint64 `json:"to"`
	// Root1 and Root2 are the two root hashes.
	Root1 Hash `json:"root_from"`
	Root2 Hash `json:"root_to"`
	// Hashes is the RFC 6962 consistency proof.
	Hashes []Hash `json:"proof"`
}

// Verify checks the proof.
func (p *ConsistencyProof) Verify() error {
	return VerifyConsistency(p.Size1, p.Size2, rawHashes(p.Hashes), p.Root1, p.Root2)
}

func rawHashes(hs []Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}

func toHashes(bs [][]byte) []Hash {
	out := make([]Hash, len(bs))
	for i, b := range bs {
		out[i] = Hash(b)
	}
	return out
}

// ProveInclusion builds and self-checks the inclusion proof of record index
// in the tree of size records (size 0 means all records).
func (t *Tree) ProveInclusion(index, size uint64) (*InclusionProof, error) {
	if size == 0 {
		size = t.Size()
	}
	if index >= size {
		return nil, fmt.Errorf("ledger: index %d out of range for tree size %d", index, size)
	}
	hs, err := t.InclusionProof(index, size)
	if err != nil {
		return nil, err
	}
	leaf, err := t.Leaf(index)
	if err != nil {
		return nil, err
	}
	root, err := t.Root(size)
	if err != nil {
		return nil, err
	}
	p := &InclusionProof{Index: index, Size: size, Leaf: leaf, Root: root, Hashes: toHashes(hs)}
	if err := p.Verify(); err != nil {
		return nil, fmt.Errorf("ledger: inclusion proof does not verify: %w", err)
	}
	return p, nil
}

// ProveConsistency builds and self-checks the consistency proof between
// the trees of size1 and size2 records.
func (t *Tree) ProveConsistency(size1, size2 uint64) (*ConsistencyProof, error) {
	if size1 > size2 {
		return nil, fmt.Errorf("ledger: --from %d is larger than --to %d", size1, size2)
	}
	if size2 > t.Size() {
		return nil, fmt.Errorf("ledger: tree size %d exceeds the %d records", size2, t.Size())
	}
	hs, err := t.ConsistencyProof(size1, size2)
	if err != nil {
		return nil, err
	}
	r1, err := t.Root(size1)
	if err != nil {
		return nil, err
	}
	r2, err := t.Root(size2)
	if err != nil {
		return nil, err
	}
	p := &ConsistencyProof{Size1: size1, Size2: size2, Root1: r1, Root2: r2, Hashes: toHashes(hs)}
	if err := p.Verify(); err != nil {
		return nil, fmt.Errorf("ledger: consistency proof does not verify: %w", err)
	}
	return p, nil
}
