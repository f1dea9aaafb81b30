package ledger

import (
	"encoding/base64"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// hasher is the RFC 6962 SHA-256 Merkle hasher of the ledger tree.
var hasher = rfc6962.DefaultHasher

// rangeFactory builds compact ranges with RFC 6962 interior hashing.
var rangeFactory = &compact.RangeFactory{Hash: hasher.HashChildren}

// Hash is a 32-byte hash (a leaf, node, root or chain hash). Its text form
// is standard base64, as in checkpoints.
type Hash [32]byte

// String returns the standard base64 encoding of h.
func (h Hash) String() string { return base64.StdEncoding.EncodeToString(h[:]) }

// MarshalText encodes h as standard base64.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText decodes standard base64.
func (h *Hash) UnmarshalText(b []byte) error {
	var x [32]byte
	if err := decodeHash(string(b), &x); err != nil {
		return fmt.Errorf("ledger: hash: %w", err)
	}
	*h = x
	return nil
}

// leafHash is the RFC 6962 leaf hash SHA-256(0x00 ‖ payload) of a record
// whose frame payload is payload (event ‖ chain hash).
func leafHash(payload []byte) [32]byte {
	return [32]byte(hasher.HashLeaf(payload))
}

// Tree is an in-memory RFC 6962 Merkle tree over leaf hashes, storing every
// complete node so that roots of any prefix and inclusion and consistency
// proofs cost O(log n). It holds about 2n hashes.
type Tree struct {
	levels [][][32]byte // levels[0] are the leaves; levels[k][i] = node (k, i)
}

// NewTree builds the tree over leaves (RFC 6962 leaf hashes).
func NewTree(leaves [][32]byte) *Tree {
	t := &Tree{levels: [][][32]byte{leaves}}
	for cur := leaves; len(cur) > 1; {
		next := make([][32]byte, len(cur)/2)
		for i := range next {
			next[i] = [32]byte(hasher.HashChildren(cur[2*i][:], cur[2*i+1][:]))
		}
		t.levels = append(t.levels, next)
		cur = next
	}
	return t
}

// Size returns the number of leaves.
func (t *Tree) Size() uint64 { return uint64(len(t.levels[0])) }

// Leaf returns the hash of leaf i.
func (t *Tree) Leaf(i uint64) (Hash, error) {
	if i >= t.Size() {
		return Hash{}, fmt.Errorf("ledger: leaf %d out of range (tree size %d)", i, t.Size())
	}
	return t.levels[0][i], nil
}

func (t *Tree) node(id compact.NodeID) ([]byte, error) {
	if int(id.Level) >= len(t.levels) || id.Index >= uint64(len(t.levels[id.Level])) {
		return nil, fmt.Errorf("ledger: tree node (%d, %d) not available", id.Level, id.Index)
	}
	h := t.levels[id.Level][id.Index]
	return h[:], nil
}

// Root returns the RFC 6962 root hash of the first size leaves.
func (t *Tree) Root(size uint64) (Hash, error) {
	if size > t.Size() {
		return Hash{}, fmt.Errorf("ledger: tree size %d exceeds %d", size, t.Size())
	}
	if size == 0 {
		return Hash(hasher.EmptyRoot()), nil
	}
	ids := compact.RangeNodes(0, size, nil)
	var root []byte
	for i := len(ids) - 1; i >= 0; i-- {
		h, err := t.node(ids[i])
		if err != nil {
			return Hash{}, err
		}
		if root == nil {
			root = h
		} else {
			root = hasher.HashChildren(h, root)
		}
	}
	return Hash(root), nil
}

func (t *Tree) fetch(n proof.Nodes) ([][]byte, error) {
	hashes := make([][]byte, len(n.IDs))
	for i, id := range n.IDs {
		h, err := t.node(id)
		if err != nil {
			return nil, err
		}
		hashes[i] = append([]byte(nil), h...)
	}
	return n.Rehash(hashes, hasher.HashChildren)
}

// InclusionProof returns the RFC 6962 audit path of leaf index in the tree
// of the first size leaves.
func (t *Tree) InclusionProof(index, size uint64) ([][]byte, error) {
	if size > t.Size() {
		return nil, fmt.Errorf("ledger: tree size %d exceeds %d", size, t.Size())
	}
	n, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("ledger: inclusion proof: %w", err)
	}
	return t.fetch(n)
}

// ConsistencyProof returns the RFC 6962 consistency proof between the trees
// of the first size1 and size2 leaves.
func (t *Tree) ConsistencyProof(size1, size2 uint64) ([][]byte, error) {
	if size2 > t.Size() {
		return nil, fmt.Errorf("ledger: tree size %d exceeds %d", size2, t.Size())
	}
	n, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, fmt.Errorf("ledger: consistency proof: %w", err)
	}
	return t.fetch(n)
}

// VerifyInclusion checks an inclusion proof of leafHash at index in the
// tree of size with the given root.
func VerifyInclusion(index, size uint64, leafHash Hash, proofHashes [][]byte, root Hash) error {
	return proof.VerifyInclusion(hasher, index, size, leafHash[:], proofHashes, root[:])
}

// VerifyConsistency checks a consistency proof between two tree heads.
func VerifyConsistency(size1, size2 uint64, proofHashes [][]byte, root1, root2 Hash) error {
	return proof.VerifyConsistency(hasher, size1, size2, proofHashes, root1[:], root2[:])
}
