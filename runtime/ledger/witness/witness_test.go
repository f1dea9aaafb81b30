package witness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prismai/mec/runtime/ledger"
	"github.com/prismai/mec/runtime/telemetry"
)

func signer(t testing.TB, name string) *ledger.Signer {
	t.Helper()
	s, err := ledger.NewSignerFromSeed(name, sha256.Sum256([]byte(name)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// event i of a history; histories with different variants differ in every
// event.
func event(i, variant int) telemetry.Event {
	return telemetry.SystemEvent{
		Timestamp: time.Unix(1700000000, int64(i)).UTC(),
		Source:    "witness-test", Kind: "tick",
		Fields: map[string]telemetry.Value{"i": telemetry.Num(float64(i)), "variant": telemetry.Num(float64(variant))},
	}
}

// testLog is a ledger directory grown in steps, each closed with a final
// checkpoint, so that checkpoint sizes are exactly the steps.
type testLog struct {
	dir  string
	s    *ledger.Signer
	size int
}

func newTestLog(t testing.TB, s *ledger.Signer) *testLog {
	return &testLog{dir: t.TempDir(), s: s}
}

func (tl *testLog) open(t testing.TB) *ledger.Ledger {
	t.Helper()
	l, err := ledger.Open(tl.dir, ledger.Options{Signer: tl.s, CheckpointEvery: 1 << 30, CheckpointInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// grow appends events tl.size..to-1 (variant(i) chooses each event's
// history) and returns the checkpoint note of size to.
func (tl *testLog) grow(t testing.TB, to int, variant func(i int) int) []byte {
	t.Helper()
	l := tl.open(t)
	for i := tl.size; i < to; i++ {
		if _, err := l.Append(context.Background(), event(i, variant(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	tl.size = to
	msg, err := os.ReadFile(filepath.Join(tl.dir, ledger.CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func (tl *testLog) proof(t testing.TB, m, n uint64) [][]byte {
	t.Helper()
	l := tl.open(t)
	defer l.Close()
	p, err := l.ConsistencyProof(m, n)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func same(int) int { return 0 }

func divergeAt(k int) func(int) int {
	return func(i int) int {
		if i < k {
			return 0
		}
		return 1
	}
}

func newWitness(t testing.TB, dir string, w *ledger.Signer, logs ...*ledger.Verifier) *Witness {
	t.Helper()
	wt, err := New(dir, w, logs)
	if err != nil {
		t.Fatal(err)
	}
	return wt
}

func checkCosigned(t testing.TB, msg []byte, log *ledger.Verifier, w *ledger.Signer, size uint64) {
	t.Helper()
	c, names, err := ledger.OpenWitnessed(msg, log, []*ledger.Verifier{w.Verifier()}, 1)
	if err != nil || c.Size != size || !slices.Equal(names, []string{w.Name()}) {
		t.Fatalf("co-signed note of size %d: %v %v %v", size, c, names, err)
	}
	if n := strings.Count(string(msg), "\n— "); n != 2 {
		t.Fatalf("co-signed note has %d signature lines, want 2", n)
	}
}

func asFork(t testing.TB, err error, kind Kind, provable bool) *ForkError {
	t.Helper()
	var fe *ForkError
	if !errors.As(err, &fe) {
		t.Fatalf("want a %s fork, got %v", kind, err)
	}
	if fe.Kind != kind || fe.Evidence.Kind != kind || fe.Provable != provable {
		t.Fatalf("fork %s provable=%v, want %s provable=%v: %v", fe.Kind, fe.Provable, kind, provable, err)
	}
	if got := VerifyEvidence(signerOfOrigin(t, fe.Origin).Verifier(), fe.Evidence); (got == nil) != provable {
		t.Fatalf("VerifyEvidence %v, provable %v", got, provable)
	}
	// The evidence survives its encoding.
	b, err := fe.Evidence.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	ev, err := UnmarshalEvidence(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := VerifyEvidence(signerOfOrigin(t, fe.Origin).Verifier(), ev); (got == nil) != provable {
		t.Fatalf("decoded evidence: VerifyEvidence %v, provable %v", got, provable)
	}
	return fe
}

// signerOfOrigin: the tests name log keys "log-*.example".
func signerOfOrigin(t testing.TB, origin string) *ledger.Signer { return signer(t, origin) }

// TestWitnessFollowsLedger runs a witness over every checkpoint of a real
// ledger as OnCheckpoint delivers them, with consistency proofs from the
// open ledger, the submission encoding, answered need-proof errors,
// idempotent resubmission and restarts of the witness from its state.
func TestWitnessFollowsLedger(t *testing.T) {
	r := rand.New(rand.NewPCG(2024, 5))
	logS, wS := signer(t, "log-a.example"), signer(t, "w1.example")
	logV := logS.Verifier()
	stateDir := t.TempDir()
	notes := make(chan []byte, 1<<14)
	l, err := ledger.Open(t.TempDir(), ledger.Options{Signer: logS, CheckpointEvery: 3, CheckpointInterval: 2 * time.Millisecond,
		OnCheckpoint: func(n []byte, _ *ledger.Checkpoint) { notes <- n }})
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	go func() {
		pr := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < n; i++ {
			if _, err := l.Append(context.Background(), event(i, 0)); err != nil {
				t.Error(err)
				break
			}
			if pr.IntN(8) == 0 {
				time.Sleep(time.Duration(pr.IntN(3)) * time.Millisecond)
			}
		}
		if err := l.Close(); err != nil {
			t.Error(err)
		}
		close(notes)
	}()
	w := newWitness(t, stateDir, wS, logV)
	var last uint64
	var lastCosigned []byte
	accepted, needProof, restarts := 0, 0, 0
	for msg := range notes {
		c, err := ledger.OpenCheckpoint(msg, logV)
		if err != nil {
			t.Fatal(err)
		}
		if accepted > 0 && r.IntN(5) == 0 {
			_, err := w.Add(logV, msg, last+1+r.Uint64N(3), nil)
			var np *NeedProofError
			if !errors.As(err, &np) || np.Size != last || np.Origin != logV.Name() {
				t.Fatalf("size %d with a wrong old size: %v", c.Size, err)
			}
			needProof++
		}
		var sub Submission
		sub.Note = msg
		if accepted > 0 {
			sub.OldSize = last
			if sub.Proof, err = l.ConsistencyProof(last, c.Size); err != nil {
				t.Fatal(err)
			}
		}
		b, err := sub.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := UnmarshalSubmission(b)
		if err != nil {
			t.Fatal(err)
		}
		cosigned, err := w.Add(logV, got.Note, got.OldSize, got.Proof)
		if err != nil {
			t.Fatalf("checkpoint %d (after %d): %v", c.Size, last, err)
		}
		checkCosigned(t, cosigned, logV, wS, c.Size)
		if r.IntN(6) == 0 { // the same checkpoint again: the same bytes
			again, err := w.Add(logV, msg, 0, nil)
			if err != nil || !bytes.Equal(again, cosigned) {
				t.Fatalf("resubmission of %d: %v", c.Size, err)
			}
		}
		if r.IntN(10) == 0 {
			w = newWitness(t, stateDir, wS, logV)
			restarts++
		}
		if latest, err := w.Latest(logV); err != nil || !bytes.Equal(latest, cosigned) {
			t.Fatalf("Latest: %v", err)
		}
		last, lastCosigned = c.Size, cosigned
		accepted++
	}
	if t.Failed() {
		return
	}
	if last != n || accepted < 30 || needProof == 0 || restarts == 0 {
		t.Fatalf("last size %d, %d accepted, %d need-proof answers, %d restarts", last, accepted, needProof, restarts)
	}
	w = newWitness(t, stateDir, wS, logV)
	if latest, _ := w.Latest(logV); !bytes.Equal(latest, lastCosigned) {
		t.Fatal("restarted witness lost its state")
	}
}

// TestSplitView: two ledgers with one key, diverging at record 5, signed
// at the same size.
func TestSplitView(t *testing.T) {
	logS, wS := signer(t, "log-a.example"), signer(t, "w1.example")
	logV := logS.Verifier()
	a, b := newTestLog(t, logS), newTestLog(t, logS)
	a8 := a.grow(t, 8, same)
	a12 := a.grow(t, 12, same)
	b12 := b.grow(t, 12, divergeAt(5))
	w := newWitness(t, t.TempDir(), wS, logV)
	first, err := w.Add(logV, a12, 0, nil) // trust on first use
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Add(logV, b12, 12, nil)
	fe := asFork(t, err, KindSplitView, true)
	if fe.Previous.Size != 12 || fe.Offending.Size != 12 || fe.Previous.Root == fe.Offending.Root || !strings.Contains(err.Error(), "split-view") {
		t.Fatalf("%+v", fe)
	}
	// The witness keeps its state and still co-signs its view.
	if again, err := w.Add(logV, a12, 0, nil); err != nil || !bytes.Equal(again, first) {
		t.Fatalf("after the fork: %v", err)
	}
	// An observer that sees both notes, co-signed or not, can tell.
	if err := VerifyEvidence(logV, &Evidence{Kind: KindSplitView, Previous: b12, Offending: first}); err != nil {
		t.Fatal(err)
	}

	// Non-evidence.
	p := a.proof(t, 8, 12)
	notProof := []struct {
		name       string
		key        *ledger.Verifier
		ev         Evidence
		unprovable bool
	}{
		{"consistent pair", logV, Evidence{Kind: KindInconsistent, Previous: a8, Offending: a12, Proof: p}, false},
		{"consistent rollback", logV, Evidence{Kind: KindRollback, Previous: a12, Offending: a8, Proof: p}, false},
		{"rollback without proof", logV, Evidence{Kind: KindRollback, Previous: a12, Offending: a8}, true},
		{"rollback the wrong way", logV, Evidence{Kind: KindRollback, Previous: a8, Offending: a12}, false},
		{"same note twice", logV, Evidence{Kind: KindSplitView, Previous: a12, Offending: a12}, false},
		{"split view of two sizes", logV, Evidence{Kind: KindSplitView, Previous: a8, Offending: a12}, false},
		{"inconsistency of one size", logV, Evidence{Kind: KindInconsistent, Previous: a12, Offending: b12}, false},
		{"wrong key", signer(t, "log-b.example").Verifier(), Evidence{Kind: KindSplitView, Previous: a12, Offending: b12}, false},
		{"unknown kind", logV, Evidence{Kind: 9, Previous: a12, Offending: b12}, false},
		{"empty proof", logV, Evidence{Kind: KindInconsistent, Previous: a8, Offending: a12}, true},
		{"unsigned note", logV, Evidence{Kind: KindSplitView, Previous: a12, Offending: []byte("log-a.example\n12\n")}, false},
	}
	for _, c := range notProof {
		err := VerifyEvidence(c.key, &c.ev)
		if err == nil || errors.Is(err, ErrUnprovable) != c.unprovable {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if err := VerifyEvidence(logV, nil); err == nil {
		t.Fatal("nil evidence accepted")
	}
}

// TestInconsistent: the witness holds size 13 of one history; the other
// history (same key, diverging at record 5) proves its size 20 consistent
// with its own size 13, which shows the fork.
func TestInconsistent(t *testing.T) {
	logS, wS := signer(t, "log-a.example"), signer(t, "w1.example")
	logV := logS.Verifier()
	a, b := newTestLog(t, logS), newTestLog(t, logS)
	a13 := a.grow(t, 13, same)
	a16 := a.grow(t, 16, same)
	b.grow(t, 16, divergeAt(5))
	b20 := b.grow(t, 20, divergeAt(5))
	w := newWitness(t, t.TempDir(), wS, logV)
	if _, err := w.Add(logV, a13, 0, nil); err != nil {
		t.Fatal(err)
	}
	proof := b.proof(t, 13, 20)
	_, err := w.Add(logV, b20, 13, proof)
	fe := asFork(t, err, KindInconsistent, true)
	if fe.Previous.Size != 13 || fe.Offending.Size != 20 {
		t.Fatalf("%+v", fe)
	}
	// A damaged proof still stops the witness, but proves nothing.
	bad := cloneHashes(proof)
	bad[len(bad)-1][0] ^= 1
	_, err = w.Add(logV, b20, 13, bad)
	asFork(t, err, KindInconsistent, false)
	if err := VerifyEvidence(logV, &Evidence{Kind: KindInconsistent, Previous: a13, Offending: b20, Proof: bad}); !errors.Is(err, ErrUnprovable) {
		t.Fatalf("damaged proof: %v", err)
	}
	// A proof of the wrong length: a fork, unprovable.
	_, err = w.Add(logV, b20, 13, proof[1:])
	asFork(t, err, KindInconsistent, false)
	// The honest history continues to be co-signed.
	a20 := a.grow(t, 20, same)
	if c, err := w.Add(logV, a20, 13, a.proof(t, 13, 20)); err != nil {
		t.Fatal(err)
	} else {
		checkCosigned(t, c, logV, wS, 20)
	}
	// From a power-of-two size the RFC 6962 proof omits that subtree's
	// root, so a failed proof cannot prove the fork (documented).
	w16 := newWitness(t, t.TempDir(), wS, logV)
	if _, err := w16.Add(logV, a16, 0, nil); err != nil {
		t.Fatal(err)
	}
	_, err = w16.Add(logV, b20, 16, b.proof(t, 16, 20))
	asFork(t, err, KindInconsistent, false)
}

// TestRewriteAfterRestart: a ledger is truncated and re-appended after its
// witness co-signed it; a witness restarted from its state directory
// catches every form of the rewrite.
func TestRewriteAfterRestart(t *testing.T) {
	logS, wS := signer(t, "log-a.example"), signer(t, "w1.example")
	logV := logS.Verifier()
	stateDir := t.TempDir()
	a := newTestLog(t, logS)
	a20 := a.grow(t, 20, same)
	a33 := a.grow(t, 33, same)
	w := newWitness(t, stateDir, wS, logV)
	if _, err := w.Add(logV, a20, 0, nil); err != nil {
		t.Fatal(err)
	}
	c33, err := w.Add(logV, a33, 20, a.proof(t, 20, 33))
	if err != nil {
		t.Fatal(err)
	}
	// An old checkpoint shown consistent is stale, not a fork.
	_, err = w.Add(logV, a20, 33, a.proof(t, 20, 33))
	var se *StaleError
	if !errors.As(err, &se) || se.Size != 33 || !bytes.Equal(se.Cosigned, c33) {
		t.Fatalf("stale: %v", err)
	}
	// Without a proof it is a rollback, which the evidence cannot prove.
	_, err = w.Add(logV, a20, 0, nil)
	asFork(t, err, KindRollback, false)

	orig := &testLog{dir: t.TempDir(), s: logS, size: a.size}
	for _, f := range []string{ledger.LogFile, ledger.HistoryFile, ledger.CheckpointFile, ledger.PublicKeyFile} {
		b, err := os.ReadFile(filepath.Join(a.dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(orig.dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Rewrite: keep 15 records, drop the checkpoints, append others.
	var off int64
	if err := ledger.Scan(a.dir, func(r ledger.Record) error {
		if r.Index == 15 {
			off = r.Offset
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(a.dir, ledger.LogFile), off); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ledger.HistoryFile, ledger.CheckpointFile} {
		if err := os.Remove(filepath.Join(a.dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	a.size = 15
	r25 := a.grow(t, 25, divergeAt(15))
	if _, err := ledger.Verify(a.dir, ledger.VerifyOptions{}); err != nil {
		t.Fatalf("the rewritten ledger verifies on its own: %v", err)
	}

	w = newWitness(t, stateDir, wS, logV) // restart
	_, err = w.Add(logV, r25, 33, nil)
	asFork(t, err, KindRollback, false)
	r33 := a.grow(t, 33, divergeAt(15))
	_, err = w.Add(logV, r33, 33, nil)
	asFork(t, err, KindSplitView, true)
	r40 := a.grow(t, 40, divergeAt(15))
	_, err = w.Add(logV, r40, 33, a.proof(t, 33, 40))
	asFork(t, err, KindInconsistent, true)
	// A rolled-back submission with a proof from its size to the
	// witness's: from the rewritten tree, the proof reconstructs only the
	// rolled-back root, which proves nothing; from the original tree (a
	// copy kept elsewhere), it reconstructs the co-signed root and shows
	// the rolled-back one is not its prefix.
	_, err = w.Add(logV, r25, 33, a.proof(t, 25, 33))
	asFork(t, err, KindRollback, false)
	_, err = w.Add(logV, r25, 33, orig.proof(t, 25, 33))
	asFork(t, err, KindInconsistent, true)
	if latest, _ := w.Latest(logV); !bytes.Equal(latest, c33) {
		t.Fatal("witness state moved on a fork")
	}
}

func TestBadSubmissions(t *testing.T) {
	logS, wS := signer(t, "log-a.example"), signer(t, "w1.example")
	logV := logS.Verifier()
	a := newTestLog(t, logS)
	a10 := a.grow(t, 10, same)
	a14 := a.grow(t, 14, same)
	w := newWitness(t, t.TempDir(), wS, logV)
	if _, err := w.Add(logV, a10, 0, nil); err != nil {
		t.Fatal(err)
	}
	// Keys: unknown log, another key with the same origin, nil.
	other := signer(t, "log-b.example")
	impostor, err := ledger.NewSignerFromSeed(logV.Name(), [32]byte{99})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []*ledger.Verifier{other.Verifier(), impostor.Verifier(), nil} {
		if _, err := w.Add(k, a14, 10, a.proof(t, 10, 14)); !errors.Is(err, ErrUnknownLog) {
			t.Fatalf("key %v: %v", k, err)
		}
	}
	if _, err := w.Latest(other.Verifier()); !errors.Is(err, ErrUnknownLog) {
		t.Fatalf("Latest of an unknown log: %v", err)
	}
	// Notes: signed by the impostor key, body or signature damaged,
	// malformed, too large.
	imp := newTestLog(t, impostor)
	imp14 := imp.grow(t, 14, same)
	body := bytes.Replace(a14, []byte("\n14\n"), []byte("\n15\n"), 1)
	sig := slices.Clone(a14)
	i := bytes.LastIndexByte(sig[:len(sig)-1], ' ') + 30
	if sig[i] == 'A' {
		sig[i] = 'B'
	} else {
		sig[i] = 'A'
	}
	for name, msg := range map[string][]byte{
		"impostor": imp14, "body": body, "signature": sig, "truncated": a14[:len(a14)-2],
		"empty": nil, "huge": bytes.Repeat([]byte("x"), ledger.MaxNoteSize+1),
	} {
		if _, err := w.Add(logV, msg, 10, a.proof(t, 10, 14)); !errors.Is(err, ErrBadNote) {
			t.Errorf("%s note: %v", name, err)
		}
	}
	// Proofs: malformed hashes, too many, the wrong old size.
	p := a.proof(t, 10, 14)
	short := cloneHashes(p)
	short[0] = short[0][:31]
	if _, err := w.Add(logV, a14, 10, short); !errors.Is(err, ErrBadProof) {
		t.Fatalf("short hash: %v", err)
	}
	if _, err := w.Add(logV, a14, 10, make([][]byte, MaxProofHashes+1)); !errors.Is(err, ErrBadProof) {
		t.Fatalf("too many hashes: %v", err)
	}
	var np *NeedProofError
	if _, err := w.Add(logV, a14, 9, a.proof(t, 9, 14)); !errors.As(err, &np) || np.Size != 10 || !strings.Contains(err.Error(), "from size 10") {
		t.Fatalf("proof from the wrong size: %v", err)
	}
	// Other signatures on the submitted note are dropped from the answer.
	extra, err := ledger.Cosign(a14, signer(t, "w9.example"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := w.Add(logV, extra, 10, p)
	if err != nil {
		t.Fatal(err)
	}
	checkCosigned(t, c, logV, wS, 14)

	// New's checks.
	for name, f := range map[string]func() (*Witness, error){
		"nil signer":    func() (*Witness, error) { return New(t.TempDir(), nil, []*ledger.Verifier{logV}) },
		"no logs":       func() (*Witness, error) { return New(t.TempDir(), wS, nil) },
		"nil log":       func() (*Witness, error) { return New(t.TempDir(), wS, []*ledger.Verifier{nil}) },
		"named witness": func() (*Witness, error) { return New(t.TempDir(), wS, []*ledger.Verifier{wS.Verifier()}) },
		"two keys":      func() (*Witness, error) { return New(t.TempDir(), wS, []*ledger.Verifier{logV, impostor.Verifier()}) },
	} {
		if _, err := f(); err == nil {
			t.Errorf("New with %s accepted", name)
		}
	}
}

func TestStateFiles(t *testing.T) {
	logS, wS := signer(t, "log-a.example"), signer(t, "w1.example")
	logV := logS.Verifier()
	a := newTestLog(t, logS)
	a10 := a.grow(t, 10, same)
	dir := t.TempDir()
	w := newWitness(t, dir, wS, logV)
	if _, err := w.Add(logV, a10, 0, nil); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.state"))
	if len(files) != 1 {
		t.Fatalf("state files %v", files)
	}
	path := files[0]
	good, _ := os.ReadFile(path)
	st, err := unmarshalState(good)
	if err != nil || st.logKey != logV.String() || st.witnessKey != wS.Verifier().String() {
		t.Fatalf("%+v %v", st, err)
	}
	// A state file of another log is left alone.
	os.WriteFile(filepath.Join(dir, "0000.state"), []byte("junk"), 0o600)
	newWitness(t, dir, wS, logV)

	v2 := slices.Clone(good)
	v2[1] = 2 // the version
	forged := *st
	forged.cosigned = forgeLastLine(t, st.cosigned)
	other := *st
	other.logKey = signer(t, "log-b.example").Verifier().String()
	for name, b := range map[string][]byte{
		"empty": nil, "truncated": good[:len(good)-5], "trailing": append(slices.Clone(good), 0),
		"version 2": v2, "junk": []byte("{}"), "bad co-signature": forged.marshal(), "other log": other.marshal(),
	} {
		os.WriteFile(path, b, 0o600)
		_, err := New(dir, wS, []*ledger.Verifier{logV})
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v", name, err)
		}
		if name == "version 2" && !strings.Contains(err.Error(), "unsupported format version 2") {
			t.Errorf("version 2: %v", err)
		}
	}
	os.WriteFile(path, good, 0o600)
	// Another witness key cannot take this state over.
	if _, err := New(dir, signer(t, "w2.example"), []*ledger.Verifier{logV}); err == nil || !strings.Contains(err.Error(), "written by witness key") {
		t.Fatalf("other witness key: %v", err)
	}
	if _, err := New(dir, wS, []*ledger.Verifier{logV}); err != nil {
		t.Fatal(err)
	}
}

// forgeLastLine flips a bit of the last signature line's signature.
func forgeLastLine(t testing.TB, msg []byte) []byte {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(msg), "\n"), "\n")
	last := lines[len(lines)-1]
	i := strings.LastIndexByte(last, ' ')
	raw, err := base64.StdEncoding.DecodeString(last[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	raw[10] ^= 1
	lines[len(lines)-1] = last[:i+1] + base64.StdEncoding.EncodeToString(raw)
	return []byte(strings.Join(lines, "\n") + "\n")
}

// TestConcurrentLogs drives three logs through one witness at once, with
// readers of Latest alongside (go test -race).
func TestConcurrentLogs(t *testing.T) {
	wS := signer(t, "w1.example")
	type step struct {
		note  []byte
		old   uint64
		proof [][]byte
	}
	var keys []*ledger.Verifier
	var plans [][]step
	for _, name := range []string{"log-a.example", "log-b.example", "log-c.example"} {
		s := signer(t, name)
		tl := newTestLog(t, s)
		var plan []step
		prev := 0
		for _, size := range []int{3, 7, 8, 15, 21} {
			st := step{note: tl.grow(t, size, same)}
			if prev > 0 {
				st.old, st.proof = uint64(prev), tl.proof(t, uint64(prev), uint64(size))
			}
			plan = append(plan, st)
			prev = size
		}
		keys = append(keys, s.Verifier())
		plans = append(plans, plan)
	}
	w := newWitness(t, t.TempDir(), wS, keys...)
	var writers, readers sync.WaitGroup
	errs := make(chan error, 64)
	done := make(chan struct{})
	for i := range keys {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for _, st := range plans[i] {
				for k := 0; k < 2; k++ { // each step twice: idempotent
					if _, err := w.Add(keys[i], st.note, st.old, st.proof); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				msg, err := w.Latest(keys[i])
				if err == nil && msg != nil {
					_, _, err = ledger.OpenWitnessed(msg, keys[i], []*ledger.Verifier{wS.Verifier()}, 1)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	writers.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range keys {
		msg, _ := w.Latest(keys[i])
		if c, _, err := ledger.OpenWitnessed(msg, keys[i], nil, 0); err != nil || c.Size != 21 {
			t.Fatalf("log %d ends at %v (%v)", i, c, err)
		}
	}
}
