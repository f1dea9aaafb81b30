package ledger

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// TestTreeMatchesTlog cross-checks roots, inclusion proofs and consistency
// proofs of Tree (transparency-dev/merkle) against golang.org/x/mod/sumdb/tlog
// for random tree sizes and random leaves.
func TestTreeMatchesTlog(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	const maxN = 300
	var stored []tlog.Hash
	var leaves [][32]byte
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x < 0 || x >= int64(len(stored)) {
				return nil, fmt.Errorf("hash %d not stored", x)
			}
			out[i] = stored[x]
		}
		return out, nil
	})
	for n := int64(0); n < maxN; n++ {
		data := make([]byte, 1+r.IntN(64))
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		hs, err := tlog.StoredHashes(n, data, reader)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, hs...)
		leaves = append(leaves, leafHash(data))
		if got, want := Hash(tlog.RecordHash(data)), Hash(leafHash(data)); got != want {
			t.Fatalf("leaf hash differs")
		}
	}
	tree := NewTree(leaves)
	sizes := []int64{1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 32, 33, 100, 255, 256, 257, maxN}
	for i := 0; i < 40; i++ {
		sizes = append(sizes, 1+r.Int64N(maxN))
	}
	for _, n := range sizes {
		th, err := tlog.TreeHash(n, reader)
		if err != nil {
			t.Fatal(err)
		}
		root, err := tree.Root(uint64(n))
		if err != nil || root != Hash(th) {
			t.Fatalf("size %d: root %v, tlog %v (%v)", n, root, th, err)
		}
		for k := 0; k < 8; k++ {
			idx := r.Int64N(n)
			want, err := tlog.ProveRecord(n, idx, reader)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tree.InclusionProof(uint64(idx), uint64(n))
			if err != nil {
				t.Fatal(err)
			}
			if !sameHashes(got, want) {
				t.Fatalf("inclusion %d/%d: proofs differ", idx, n)
			}
			if err := tlog.CheckRecord(want, n, th, idx, tlog.Hash(leaves[idx])); err != nil {
				t.Fatal(err)
			}
			if err := VerifyInclusion(uint64(idx), uint64(n), leaves[idx], got, root); err != nil {
				t.Fatal(err)
			}
			// Consistency from a random smaller size.
			m := 1 + r.Int64N(n)
			wantC, err := tlog.ProveTree(n, m, reader)
			if err != nil {
				t.Fatal(err)
			}
			gotC, err := tree.ConsistencyProof(uint64(m), uint64(n))
			if err != nil {
				t.Fatal(err)
			}
			if !sameHashes(gotC, wantC) {
				t.Fatalf("consistency %d->%d: proofs differ", m, n)
			}
			mh, _ := tlog.TreeHash(m, reader)
			if err := tlog.CheckTree(toTlog(gotC), n, th, m, mh); err != nil {
				t.Fatalf("tlog rejects our consistency proof %d->%d: %v", m, n, err)
			}
			if err := VerifyConsistency(uint64(m), uint64(n), gotC, Hash(mh), root); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func sameHashes[T ~[]tlog.Hash](a [][]byte, b T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i][:]) {
			return false
		}
	}
	return true
}

func toTlog(a [][]byte) tlog.TreeProof {
	out := make(tlog.TreeProof, len(a))
	for i := range a {
		out[i] = tlog.Hash(a[i])
	}
	return out
}
