package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// noteLog collects the notes OnCheckpoint delivers.
type noteLog struct {
	mu    sync.Mutex
	notes [][]byte
	cks   []*Checkpoint
}

func (n *noteLog) add(note []byte, c *Checkpoint) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.notes = append(n.notes, note)
	n.cks = append(n.cks, c)
}

func (n *noteLog) snapshot() ([][]byte, []*Checkpoint) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.notes), slices.Clone(n.cks)
}

// bySize returns the collected note of tree size size.
func (n *noteLog) bySize(t testing.TB, size uint64) []byte {
	t.Helper()
	notes, cks := n.snapshot()
	for i, c := range cks {
		if c.Size == size {
			return notes[i]
		}
	}
	t.Fatalf("no checkpoint of size %d delivered", size)
	return nil
}

func appendN(t testing.TB, l *Ledger, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if _, err := l.Append(context.Background(), sysEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
}

func witnessSigner(t testing.TB, name string) *Signer {
	t.Helper()
	s, err := NewSignerFromSeed(name, sha256.Sum256([]byte(name)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLedgerProofsMatch checks Ledger.ConsistencyProof and InclusionProof,
// computed from the open ledger's in-memory nodes, against ReadTree's
// proofs, golang.org/x/mod/sumdb/tlog's, and the signed roots.
func TestLedgerProofsMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	dir := t.TempDir()
	var nl noteLog
	l, err := Open(dir, Options{CheckpointEvery: 3, CheckpointInterval: time.Hour, OnCheckpoint: nl.add})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if note, c := l.LatestCheckpoint(); note != nil || c != nil {
		t.Fatalf("new ledger has a latest checkpoint %v", c)
	}
	if _, err := l.ConsistencyProof(0, 1); err == nil {
		t.Fatal("proof beyond the (absent) signed checkpoint accepted")
	}
	n := 150 + r.IntN(150)
	// Half the records from concurrent writers, the rest in batches, each
	// waited for until a checkpoint covers it: a loaded machine signs
	// fewer, larger checkpoints (the checkpointer signs the latest size),
	// and the proofs below need many sizes to compare.
	waitSigned := func(size int) uint64 {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			// The timer is an hour: CheckpointEvery triggers them, so the
			// last few records may wait.
			if _, c := l.LatestCheckpoint(); c != nil && c.Size+3 > uint64(size) {
				return c.Size
			}
			if time.Now().After(deadline) {
				t.Fatalf("no checkpoint near size %d", size)
			}
			time.Sleep(time.Millisecond)
		}
	}
	fill(t, l, n/2)
	for at, step := n/2, max(3, n/60); at < n; at += step {
		appendN(t, l, at, min(n, at+step))
		waitSigned(min(n, at+step))
	}
	appendN(t, l, n, n+3)
	n += 3
	signed := waitSigned(n)
	tree, err := ReadTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, cks := nl.snapshot(); len(cks) < 20 || signed < 100 {
		t.Fatalf("only %d checkpoints, signed size %d", len(cks), signed)
	}
	// tlog's view of the same leaves.
	var stored []tlog.Hash
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
	for i := uint64(0); i < signed; i++ {
		leaf, _ := tree.Leaf(i)
		hs, err := tlog.StoredHashesForRecordHash(int64(i), tlog.Hash(leaf), reader)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, hs...)
	}
	_, cks := nl.snapshot()
	for k := 0; k < 200; k++ {
		s2 := 1 + r.Uint64N(signed)
		s1 := r.Uint64N(s2 + 1)
		if k < len(cks) && cks[k].Size <= signed {
			s2 = cks[k].Size // every signed size at least once
			s1 = r.Uint64N(s2 + 1)
		}
		got, err := l.ConsistencyProof(s1, s2)
		if err != nil {
			t.Fatal(err)
		}
		want, err := tree.ConsistencyProof(s1, s2)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(got, want, bytes.Equal) {
			t.Fatalf("consistency %d->%d differs from ReadTree's", s1, s2)
		}
		r1, _ := tree.Root(s1)
		r2, _ := tree.Root(s2)
		if err := VerifyConsistency(s1, s2, got, r1, r2); err != nil {
			t.Fatalf("consistency %d->%d: %v", s1, s2, err)
		}
		if s1 > 0 && s1 < s2 {
			tp, err := tlog.ProveTree(int64(s2), int64(s1), reader)
			if err != nil {
				t.Fatal(err)
			}
			if !sameHashes(got, tp) {
				t.Fatalf("consistency %d->%d differs from tlog's", s1, s2)
			}
		}
		idx := r.Uint64N(s2)
		ip, err := l.InclusionProof(idx, s2)
		if err != nil {
			t.Fatal(err)
		}
		rp, err := tlog.ProveRecord(int64(s2), int64(idx), reader)
		if err != nil {
			t.Fatal(err)
		}
		if !sameHashes(ip, rp) {
			t.Fatalf("inclusion %d/%d differs from tlog's", idx, s2)
		}
		leaf, _ := tree.Leaf(idx)
		if err := VerifyInclusion(idx, s2, leaf, ip, r2); err != nil {
			t.Fatal(err)
		}
	}
	// Each delivered checkpoint's root is the tree's at its size.
	for _, c := range cks {
		if root, _ := tree.Root(c.Size); c.Size <= tree.Size() && root != c.Root {
			t.Fatalf("checkpoint %d root differs from the tree's", c.Size)
		}
	}
	for _, bad := range [][2]uint64{{5, 4}, {0, signed + 1}, {signed, signed + 1}} {
		if _, err := l.ConsistencyProof(bad[0], bad[1]); err == nil {
			t.Fatalf("consistency %v accepted", bad)
		}
	}
	if _, err := l.InclusionProof(3, 3); err == nil {
		t.Fatal("inclusion of index == size accepted")
	}
	if _, err := l.InclusionProof(0, signed+1); err == nil {
		t.Fatal("inclusion beyond the signed size accepted")
	}
}

// TestOnCheckpoint checks that OnCheckpoint delivers every checkpoint, in
// order, exactly as checkpoints.log holds it, and LatestCheckpoint across
// reopening.
func TestOnCheckpoint(t *testing.T) {
	dir := t.TempDir()
	var nl noteLog
	var inCallback []error
	var l *Ledger
	var lmu sync.Mutex
	opts := Options{CheckpointEvery: 4, CheckpointInterval: time.Millisecond, OnCheckpoint: func(note []byte, c *Checkpoint) {
		nl.add(note, c)
		lmu.Lock()
		ll := l
		lmu.Unlock()
		if ll == nil {
			return
		}
		// The callback may ask for proofs up to the checkpoint it got.
		if _, err := ll.ConsistencyProof(c.Size/2, c.Size); err != nil {
			inCallback = append(inCallback, err)
		}
		if got, gc := ll.LatestCheckpoint(); !bytes.Equal(got, note) || *gc != *c {
			inCallback = append(inCallback, fmt.Errorf("LatestCheckpoint in the callback is not the delivered one (size %d)", c.Size))
		}
	}}
	ll, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	lmu.Lock()
	l = ll
	lmu.Unlock()
	fill(t, l, 57)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, err := range inCallback {
		t.Error(err)
	}
	notes, cks := nl.snapshot()
	var hist [][]byte
	f, _ := os.Open(filepath.Join(dir, HistoryFile))
	st, _ := f.Stat()
	if _, _, err := scanHistory(f, st.Size(), func(_, _ int64, n []byte) error {
		hist = append(hist, slices.Clone(n))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if len(notes) == 0 || !slices.EqualFunc(notes, hist, bytes.Equal) {
		t.Fatalf("delivered %d notes, checkpoints.log has %d (or they differ)", len(notes), len(hist))
	}
	v := readPub(t, dir)
	for i, n := range notes {
		c, err := OpenCheckpoint(n, v)
		if err != nil || *c != *cks[i] {
			t.Fatalf("note %d: %v", i, err)
		}
		if i > 0 && cks[i].Size <= cks[i-1].Size {
			t.Fatalf("sizes not increasing: %d then %d", cks[i-1].Size, cks[i].Size)
		}
	}
	if cks[len(cks)-1].Size != 57 {
		t.Fatalf("last delivered size %d, want 57", cks[len(cks)-1].Size)
	}
	// Reopened with nothing new to sign: LatestCheckpoint comes from disk.
	opts.OnCheckpoint = func([]byte, *Checkpoint) { t.Error("checkpoint delivered on a reopen with nothing to sign") }
	l2, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	got, c := l2.LatestCheckpoint()
	if !bytes.Equal(got, notes[len(notes)-1]) || c.Size != 57 {
		t.Fatalf("LatestCheckpoint after reopen: size %v", c)
	}
	if _, err := l2.ConsistencyProof(10, 57); err != nil {
		t.Fatal(err)
	}
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
	// checkpoints.log recreated by hand, the checkpoint file kept: Open
	// still works, and finds the latest note in the file.
	if err := os.Remove(filepath.Join(dir, HistoryFile)); err != nil {
		t.Fatal(err)
	}
	l3, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, c := l3.LatestCheckpoint(); !bytes.Equal(got, notes[len(notes)-1]) || c.Size != 57 {
		t.Fatalf("LatestCheckpoint without history: size %v", c)
	}
	if err := l3.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestProofsConcurrent asks for proofs while appends run (go test -race).
func TestProofsConcurrent(t *testing.T) {
	l, err := Open(t.TempDir(), Options{CheckpointEvery: 5, CheckpointInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	var checked atomic.Int64
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var prev *Checkpoint
			for {
				select {
				case <-done:
					return
				default:
				}
				_, c := l.LatestCheckpoint()
				if c == nil {
					continue
				}
				if prev != nil && prev.Size < c.Size {
					p, err := l.ConsistencyProof(prev.Size, c.Size)
					if err == nil {
						err = VerifyConsistency(prev.Size, c.Size, p, prev.Root, c.Root)
					}
					if err != nil {
						errs <- err
						return
					}
					checked.Add(1)
				}
				prev = c
			}
		}()
	}
	fill(t, l, 400)
	close(done)
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if checked.Load() == 0 {
		t.Fatal("no proof was checked while appending")
	}
}

// testNote signs a checkpoint of size size with the test key.
func testNote(t testing.TB, size uint64, rootByte byte) []byte {
	t.Helper()
	c := &Checkpoint{Origin: testSigner(t).Name(), Size: size, Root: Hash{rootByte}, ChainAlg: SHA256, Chain: Hash{rootByte, 1}}
	msg, err := signCheckpoint(c, testSigner(t))
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func TestCosignMergeOpenWitnessed(t *testing.T) {
	log := testSigner(t).Verifier()
	w1, w2, w3 := witnessSigner(t, "w1.example"), witnessSigner(t, "w2.example"), witnessSigner(t, "w3.example")
	ws := []*Verifier{w1.Verifier(), w2.Verifier(), w3.Verifier()}
	msg := testNote(t, 42, 7)
	var cos [][]byte
	for _, w := range []*Signer{w1, w2, w3} {
		c, err := Cosign(msg, w)
		if err != nil {
			t.Fatal(err)
		}
		if _, names, err := OpenWitnessed(c, log, ws, 1); err != nil || !slices.Equal(names, []string{w.Name()}) {
			t.Fatalf("%s: %v %v", w.Name(), names, err)
		}
		cos = append(cos, c)
	}
	// A co-signed note is not a plain checkpoint note.
	if _, err := OpenCheckpoint(cos[0], log); err == nil {
		t.Fatal("OpenCheckpoint accepted a co-signed note")
	}
	m1, err := MergeCosignatures(cos[0], cos[1], cos[2])
	if err != nil {
		t.Fatal(err)
	}
	m2, err := MergeCosignatures(cos[2], msg, cos[0], cos[1], cos[1])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m1, m2) {
		t.Fatal("merge depends on the order of its arguments")
	}
	if !bytes.HasPrefix(m1, msg[:bytes.LastIndex(msg, []byte("\n—"))]) || strings.Count(string(m1), "\n— ") != 4 {
		t.Fatalf("merged note:\n%s", m1)
	}
	// The log's line comes first.
	if i := bytes.Index(m1, []byte("— ")); !bytes.HasPrefix(m1[i+len("— "):], []byte(log.Name()+" ")) {
		t.Fatal("log signature is not first")
	}
	c, names, err := OpenWitnessed(m1, log, ws, 3)
	if err != nil || c.Size != 42 || !slices.Equal(names, []string{"w1.example", "w2.example", "w3.example"}) {
		t.Fatalf("%v %v %v", c, names, err)
	}
	// Cosign again by w1: its line is replaced, not duplicated.
	again, err := Cosign(m1, w1)
	if err != nil || strings.Count(string(again), "\n— ") != 4 {
		t.Fatalf("re-cosign: %v\n%s", err, again)
	}
	if _, _, err := OpenWitnessed(m1, log, ws, 4); !errors.Is(err, ErrTooFewCosignatures) {
		t.Fatalf("min 4 of 3: %v", err)
	}
	// Lines by keys not asked about are ignored.
	if _, names, err := OpenWitnessed(m1, log, ws[:1], 1); err != nil || len(names) != 1 {
		t.Fatalf("%v %v", names, err)
	}
	if _, names, err := OpenWitnessed(msg, log, ws, 0); err != nil || len(names) != 0 {
		t.Fatalf("no witnesses, min 0: %v %v", names, err)
	}
	// A forged co-signature by a given witness key is an error.
	if _, _, err := OpenWitnessed(forgeLine(t, cos[1], "w2.example"), log, ws, 1); err == nil || !strings.Contains(err.Error(), "w2.example") {
		t.Fatalf("forged co-signature: %v", err)
	}
	// Misuse.
	if _, err := Cosign(msg, testSigner(t)); err == nil {
		t.Fatal("co-signing with a key named like the log accepted")
	}
	if _, _, err := OpenWitnessed(m1, log, []*Verifier{w1.Verifier(), w1.Verifier()}, 1); err == nil {
		t.Fatal("duplicate witness names accepted")
	}
	if _, _, err := OpenWitnessed(m1, log, []*Verifier{log}, 1); err == nil {
		t.Fatal("witness named like the log accepted")
	}
	if _, err := MergeCosignatures(cos[0], testNote(t, 43, 7)); err == nil {
		t.Fatal("merged notes of different checkpoints")
	}
	other := testNote(t, 42, 7) // same body, another (hedged) log signature
	if _, err := MergeCosignatures(cos[0], other); err == nil {
		t.Fatal("merged notes with different log signatures")
	}
	if _, _, err := OpenWitnessed(m1, w1.Verifier(), nil, 0); err == nil {
		t.Fatal("opened with the wrong log key")
	}
	for _, bad := range [][]byte{nil, []byte("x\n"), msg[:len(msg)-1], bytes.Repeat([]byte("a"), MaxNoteSize+1)} {
		if _, err := Cosign(bad, w1); err == nil {
			t.Fatalf("Cosign accepted %q", bad[:min(len(bad), 20)])
		}
		if _, err := MergeCosignatures(bad); err == nil {
			t.Fatal("Merge accepted a bad note")
		}
		if _, _, err := OpenWitnessed(bad, log, ws, 0); err == nil {
			t.Fatal("OpenWitnessed accepted a bad note")
		}
	}
}

// witnessedLedger builds a closed ledger of n records signed by the test
// key, with checkpoints every 5 records, and returns the delivered notes.
func witnessedLedger(t *testing.T, dir string, n int, events func(i int) int) *noteLog {
	t.Helper()
	var nl noteLog
	l, err := Open(dir, Options{Signer: testSigner(t), CheckpointEvery: 5, CheckpointInterval: time.Hour, OnCheckpoint: nl.add})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if _, err := l.Append(context.Background(), sysEvent(events(i))); err != nil {
			t.Fatal(err)
		}
		if (i+1)%5 == 0 { // wait for the checkpoint, so every multiple of 5 has one
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
				if _, c := l.LatestCheckpoint(); c != nil && c.Size == uint64(i+1) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no checkpoint at %d", i+1)
				}
			}
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return &nl
}

func TestSaveWitnessedAndVerify(t *testing.T) {
	dir := t.TempDir()
	nl := witnessedLedger(t, dir, 23, func(i int) int { return i })
	log := testSigner(t).Verifier()
	w1, w2 := witnessSigner(t, "w1.example"), witnessSigner(t, "w2.example")
	ws := []*Verifier{w1.Verifier(), w2.Verifier()}
	cosign := func(size uint64, by ...*Signer) []byte {
		t.Helper()
		msg := nl.bySize(t, size)
		for _, w := range by {
			var err error
			if msg, err = Cosign(msg, w); err != nil {
				t.Fatal(err)
			}
		}
		return msg
	}
	// Verify with witnesses but no file: error naming it.
	if _, err := Verify(dir, VerifyOptions{Witnesses: ws}); err == nil || !strings.Contains(err.Error(), WitnessedFile) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := SaveWitnessed(dir, cosign(10, w1), log, ws, 2); !errors.Is(err, ErrTooFewCosignatures) {
		t.Fatalf("1 of 2 saved with min 2: %v", err)
	}
	if saved, err := SaveWitnessed(dir, cosign(10, w1), log, ws, 1); err != nil || !saved {
		t.Fatalf("save: %v %v", saved, err)
	}
	if _, err := Verify(dir, VerifyOptions{Witnesses: ws}); !errors.Is(err, ErrTooFewCosignatures) {
		t.Fatalf("verify, all of 2 required, 1 present: %v", err)
	}
	rep, err := Verify(dir, VerifyOptions{Witnesses: ws, MinWitnesses: 1})
	if err != nil || rep.Witnessed == nil || rep.Witnessed.Checkpoint.Size != 10 || !slices.Equal(rep.Witnessed.Cosigners, []string{"w1.example"}) {
		t.Fatalf("verify 1 of 2: %+v %v", rep, err)
	}
	// w2's co-signature of the same checkpoint is merged in.
	if saved, err := SaveWitnessed(dir, cosign(10, w2), log, ws, 1); err != nil || !saved {
		t.Fatalf("merge save: %v %v", saved, err)
	}
	rep, err = Verify(dir, VerifyOptions{Witnesses: ws})
	if err != nil || !slices.Equal(rep.Witnessed.Cosigners, []string{"w1.example", "w2.example"}) || rep.Witnessed.Required != 2 {
		t.Fatalf("verify 2 of 2: %+v %v", rep, err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, WitnessedFile))
	// Nothing new, older, or under the quorum: the file stays.
	if saved, err := SaveWitnessed(dir, cosign(10, w2), log, ws, 1); err != nil || saved {
		t.Fatalf("same again: %v %v", saved, err)
	}
	if saved, err := SaveWitnessed(dir, cosign(5, w1, w2), log, ws, 2); err != nil || saved {
		t.Fatalf("older: %v %v", saved, err)
	}
	if _, err := SaveWitnessed(dir, cosign(20, w1), log, ws, 2); err == nil {
		t.Fatal("newer below the quorum saved")
	}
	if after, _ := os.ReadFile(filepath.Join(dir, WitnessedFile)); !bytes.Equal(before, after) {
		t.Fatal("file changed")
	}
	// A validly signed note the ledger never wrote is refused.
	fake, _ := Cosign(testNote(t, 15, 3), w1)
	if _, err := SaveWitnessed(dir, fake, log, ws, 1); err == nil || !strings.Contains(err.Error(), "differs") {
		t.Fatalf("foreign checkpoint: %v", err)
	}
	fake, _ = Cosign(testNote(t, 17, 3), w1)
	if _, err := SaveWitnessed(dir, fake, log, ws, 1); err == nil || !strings.Contains(err.Error(), "no checkpoint of size 17") {
		t.Fatalf("size not in history: %v", err)
	}
	if _, err := SaveWitnessed(dir, cosign(20, w1), w1.Verifier(), []*Verifier{w2.Verifier()}, 1); err == nil {
		t.Fatal("wrong log key accepted")
	}
	// Newer with a quorum replaces it.
	if saved, err := SaveWitnessed(dir, cosign(20, w1), log, ws, 1); err != nil || !saved {
		t.Fatalf("newer: %v %v", saved, err)
	}
	rep, err = Verify(dir, VerifyOptions{Witnesses: ws, MinWitnesses: 1})
	if err != nil || rep.Witnessed.Checkpoint.Size != 20 {
		t.Fatalf("%+v %v", rep, err)
	}
	// Without witnesses, Verify ignores the file and unknown files.
	os.WriteFile(filepath.Join(dir, "unrelated.txt"), []byte("hello"), 0o644)
	os.WriteFile(filepath.Join(dir, WitnessedFile+".tmp"), []byte("junk"), 0o644)
	rep, err = Verify(dir, VerifyOptions{})
	if err != nil || rep.Witnessed != nil || rep.Records != 23 {
		t.Fatalf("verify without witnesses: %+v %v", rep, err)
	}
	for _, o := range []VerifyOptions{{MinWitnesses: 1}, {Witnesses: ws, MinWitnesses: 3}, {Witnesses: ws, MinWitnesses: -1}, {Witnesses: []*Verifier{w1.Verifier(), w1.Verifier()}}} {
		if _, err := Verify(dir, o); err == nil {
			t.Fatalf("options %+v accepted", o)
		}
	}
	// A damaged co-signature fails.
	good, _ := os.ReadFile(filepath.Join(dir, WitnessedFile))
	bad := forgeLine(t, good, "w1.example")
	os.WriteFile(filepath.Join(dir, WitnessedFile), bad, 0o644)
	if _, err := Verify(dir, VerifyOptions{Witnesses: ws, MinWitnesses: 1}); err == nil {
		t.Fatal("damaged co-signature verified")
	}
	if _, err := SaveWitnessed(dir, cosign(20, w2), log, ws, 1); err == nil {
		t.Fatal("damaged existing file overwritten")
	}
	os.WriteFile(filepath.Join(dir, WitnessedFile), good, 0o644)

	// The ledger rewritten after it was witnessed: same key, records 0-6
	// kept, then different ones, signed afresh. Its checkpoint.witnessed
	// (copied over) no longer matches.
	dir2 := t.TempDir()
	witnessedLedger(t, dir2, 23, func(i int) int {
		if i < 7 {
			return i
		}
		return 1000 + i
	})
	if _, err := Verify(dir2, VerifyOptions{}); err != nil {
		t.Fatalf("rewritten ledger is self-consistent: %v", err)
	}
	os.WriteFile(filepath.Join(dir2, WitnessedFile), good, 0o644)
	_, err = Verify(dir2, VerifyOptions{Witnesses: ws, MinWitnesses: 1})
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.File != WitnessedFile || !strings.Contains(err.Error(), "size 20") {
		t.Fatalf("rewritten ledger: %v", err)
	}
	if _, err := SaveWitnessed(dir2, cosign(10, w1, w2), log, ws, 1); err == nil {
		t.Fatal("the original's checkpoint saved into the rewritten ledger")
	}
}

// FuzzOpenWitnessed feeds arbitrary notes to the co-signature functions:
// no panics, and what OpenWitnessed accepts survives Merge unchanged in
// meaning.
func FuzzOpenWitnessed(f *testing.F) {
	log := testSigner(f).Verifier()
	w1 := witnessSigner(f, "w1.example")
	msg := testNote(f, 3, 1)
	co, err := Cosign(msg, w1)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(msg)
	f.Add(co)
	f.Add([]byte("a\n3\nAAAA\n\n— a AAAA\n"))
	ws := []*Verifier{w1.Verifier()}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, names, err := OpenWitnessed(b, log, ws, 0)
		if err != nil {
			return
		}
		m, err := MergeCosignatures(b)
		if err != nil {
			return // e.g. two different log lines: Merge refuses
		}
		c2, names2, err := OpenWitnessed(m, log, ws, 0)
		if err != nil || *c2 != *c || !slices.Equal(names, names2) {
			t.Fatalf("merge changed the note's meaning: %v", err)
		}
	})
}

// forgeLine flips a bit of the signature (not the key ID) on the line by
// name.
func forgeLine(t testing.TB, msg []byte, name string) []byte {
	t.Helper()
	lines := strings.Split(string(msg), "\n")
	for i, ln := range lines {
		rest, ok := strings.CutPrefix(ln, "— "+name+" ")
		if !ok {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			t.Fatal(err)
		}
		raw[10] ^= 1
		lines[i] = "— " + name + " " + base64.StdEncoding.EncodeToString(raw)
		return []byte(strings.Join(lines, "\n"))
	}
	t.Fatalf("no line by %s", name)
	return nil
}
