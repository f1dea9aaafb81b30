package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prismai/mec/runtime/telemetry"
)

var testSeed = [32]byte{1, 2, 3}

func testSigner(t testing.TB) *Signer {
	s, err := NewSignerFromSeed("test.example/ledger", testSeed)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sysEvent(i int) telemetry.Event {
	return telemetry.SystemEvent{
		Timestamp: time.Unix(1700000000, int64(i)).UTC(),
		Source:    "test", Kind: "tick",
		Fields: map[string]telemetry.Value{"i": telemetry.Num(float64(i)), "s": telemetry.Str(fmt.Sprint("v", i))},
	}
}

func fusionEvent(i int) telemetry.Event {
	return telemetry.FusionEvent{Timestamp: time.Unix(1700000000, int64(i)).UTC(), CoherenceEntropy: float64(i) / 7, FusionEnergy: 1.5, ParentBlock: uint64(i) - 1}
}

// fill appends n events (alternating types) from a few goroutines.
func fill(t testing.TB, l *Ledger, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += 4 {
				ev := sysEvent(i)
				if i%2 == 1 {
					ev = fusionEvent(i)
				}
				if _, err := l.Append(context.Background(), ev); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestAppendReopenVerify(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{CheckpointEvery: 7, CheckpointInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, l, 100)
	if got := l.Size(); got != 100 {
		t.Fatalf("size %d", got)
	}
	if st := l.Stats(); st.Commits == 0 || st.P99CommitLag <= 0 || st.Err != "" {
		t.Fatalf("stats %+v", st)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(context.Background(), sysEvent(0)); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	rep, err := Verify(dir, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != 100 || rep.Unsigned != 0 || rep.Latest.Size != 100 || rep.Checkpoints < 2 {
		t.Fatalf("report %+v", rep)
	}
	if fi, err := os.Stat(filepath.Join(dir, PrivateKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}

	// Reopen (loads ledger.key) and append more; indices continue.
	l, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	idx, err := l.Append(context.Background(), fusionEvent(100))
	if err != nil || idx != 100 {
		t.Fatalf("append: %d %v", idx, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rep2, err := Verify(dir, VerifyOptions{Verifier: readPub(t, dir)})
	if err != nil || rep2.Records != 101 {
		t.Fatalf("verify: %+v %v", rep2, err)
	}

	recs, err := Tail(dir, 3)
	if err != nil || len(recs) != 3 || recs[0].Index != 98 || recs[2].Index != 100 {
		t.Fatalf("tail: %+v %v", recs, err)
	}
	if fe, ok := recs[2].Event.(telemetry.FusionEvent); !ok || fe.ParentBlock != 99 {
		t.Fatalf("tail event %#v", recs[2].Event)
	}

	// Wrong trusted key.
	other, _ := NewSignerFromSeed(rep.Origin, [32]byte{9})
	if _, err := Verify(dir, VerifyOptions{Verifier: other.Verifier()}); err == nil {
		t.Fatal("verify with a foreign key succeeded")
	}
	// Wrong origin on reopen.
	if _, err := Open(dir, Options{Origin: "other.example/x"}); err == nil {
		t.Fatal("open with another origin succeeded")
	}
}

// readPub reads and parses dir's ledger.pub.
func readPub(t testing.TB, dir string) *Verifier {
	b, err := os.ReadFile(filepath.Join(dir, PublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	v, err := ParseVerifier(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestExternalSignerSHA3(t *testing.T) {
	dir := t.TempDir()
	s := testSigner(t)
	l, err := Open(dir, Options{Signer: s, ChainHash: SHA3_256, CheckpointEvery: 10})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, l, 25)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, PrivateKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("private key written with an external signer: %v", err)
	}
	rep, err := Verify(dir, VerifyOptions{Verifier: s.Verifier()})
	if err != nil || rep.ChainHash != SHA3_256 || rep.Records != 25 {
		t.Fatalf("%+v %v", rep, err)
	}
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "no signing key") {
		t.Fatalf("open without key: %v", err)
	}
	if _, err := Open(dir, Options{Signer: s, ChainHash: SHA256}); err == nil {
		t.Fatal("open with another chain hash succeeded")
	}
}

func TestKeysRoundTrip(t *testing.T) {
	s := testSigner(t)
	s2, err := ParseSigner(s.PrivateKeyText())
	if err != nil || !s2.Verifier().Equal(s.Verifier()) {
		t.Fatal(err)
	}
	v, err := ParseVerifier(s.Verifier().String())
	if err != nil || !v.Equal(s.Verifier()) || v.KeyHash() != s.KeyHash() {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "x+1+2", strings.Replace(s.Verifier().String(), "+", "+0", 1), "a b+00000000+AAAA"} {
		if _, err := ParseVerifier(bad); err == nil {
			t.Errorf("ParseVerifier(%.20q) accepted", bad)
		}
	}
	c := &Checkpoint{Origin: s.Name(), Size: 3, ChainAlg: SHA256}
	msg, err := signCheckpoint(c, s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenCheckpoint(msg, s.Verifier())
	if err != nil || *got != *c {
		t.Fatalf("%+v %v", got, err)
	}
	if !bytes.HasPrefix(msg, []byte("test.example/ledger\n3\n")) {
		t.Fatalf("checkpoint text %q", msg)
	}
}

// TestTornTail appends a prefix of a frame (as a crash mid-write leaves)
// and checks that Open truncates it while Verify reports it.
func TestTornTail(t *testing.T) {
	for _, cut := range []int{1, 7, 8, 30, -1} {
		dir := t.TempDir()
		l, err := Open(dir, Options{Signer: testSigner(t)})
		if err != nil {
			t.Fatal(err)
		}
		fill(t, l, 10)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		log := filepath.Join(dir, LogFile)
		orig, _ := os.ReadFile(log)
		frame := appendFrame(nil, append(mustMarshal(t, sysEvent(99)), make([]byte, 32)...))
		tail := frame[:len(frame)-1]
		if cut >= 0 {
			tail = frame[:cut]
		} else {
			tail = frame // complete frame with a wrong chain hash and bad CRC
			tail[len(tail)-1] ^= 1
		}
		os.WriteFile(log, append(append([]byte(nil), orig...), tail...), 0o644)
		var ce *CorruptError
		if _, err := Verify(dir, VerifyOptions{}); !errors.As(err, &ce) || !ce.Torn || ce.Index != 10 {
			t.Fatalf("cut %d: verify: %v", cut, err)
		}
		l, err = Open(dir, Options{Signer: testSigner(t)})
		if err != nil {
			t.Fatalf("cut %d: open: %v", cut, err)
		}
		if l.Size() != 10 {
			t.Fatalf("size %d", l.Size())
		}
		l.Close()
		if got, _ := os.ReadFile(log); !bytes.Equal(got, orig) {
			t.Fatalf("cut %d: not truncated back", cut)
		}
		if _, err := Verify(dir, VerifyOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

func mustMarshal(t testing.TB, e telemetry.Event) []byte {
	b, err := telemetry.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMiddleCorruption: a bad frame followed by more data is a hard error
// naming the record and offset, on Open and on Verify; so is damage to a
// last record that a checkpoint covers.
func TestMiddleCorruption(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{Signer: testSigner(t)})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, l, 10)
	l.Close()
	log := filepath.Join(dir, LogFile)
	orig, _ := os.ReadFile(log)
	var offs []int64
	Scan(dir, func(r Record) error { offs = append(offs, r.Offset); return nil })
	for _, rec := range []int{3, 9} {
		for _, delta := range []int64{0, 2, 5, 20} { // len, len, crc, payload
			b := append([]byte(nil), orig...)
			b[offs[rec]+delta] ^= 0x40
			os.WriteFile(log, b, 0o644)
			_, err := Open(dir, Options{Signer: testSigner(t)})
			want := fmt.Sprintf("record %d at offset %d", rec, offs[rec])
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("record %d delta %d: open: %v", rec, delta, err)
			}
			_, err = Verify(dir, VerifyOptions{})
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("record %d delta %d: verify: %v", rec, delta, err)
			}
			if got, _ := os.ReadFile(log); !bytes.Equal(got, b) {
				t.Fatal("a failed open modified the log")
			}
		}
	}
}

func TestAppendErrors(t *testing.T) {
	l, err := Open(t.TempDir(), Options{Signer: testSigner(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Append(context.Background(), telemetry.FusionEvent{}); err == nil {
		t.Fatal("zero timestamp accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Append(ctx, sysEvent(1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "x"), Options{ChainHash: 9}); err == nil {
		t.Fatal("bad chain hash accepted")
	}
}

func TestTreeProofs(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{Signer: testSigner(t), CheckpointEvery: 16})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, l, 50)
	l.Close()
	tr, err := ReadTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ReadCheckpoint(dir, testSigner(t).Verifier())
	if err != nil {
		t.Fatal(err)
	}
	if root, _ := tr.Root(50); root != c.Root {
		t.Fatal("tree root differs from the signed checkpoint")
	}
	p, err := tr.ProveInclusion(17, 0)
	if err != nil {
		t.Fatal(err)
	}
	p.Leaf[0] ^= 1
	if p.Verify() == nil {
		t.Fatal("bad leaf verified")
	}
	cp, err := tr.ProveConsistency(13, 50)
	if err != nil {
		t.Fatal(err)
	}
	cp.Root1[0] ^= 1
	if cp.Verify() == nil {
		t.Fatal("bad root verified")
	}
	if _, err := tr.ProveInclusion(50, 50); err == nil {
		t.Fatal("out of range index accepted")
	}
	if _, err := tr.ProveConsistency(20, 10); err == nil {
		t.Fatal("from > to accepted")
	}
}

// TestCheckpointTimer: with a huge N, checkpoints still come every T.
func TestCheckpointTimer(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{Signer: testSigner(t), CheckpointEvery: 1 << 40, CheckpointInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fill(t, l, 5)
	deadline := time.Now().Add(5 * time.Second)
	for l.Stats().CheckpointSize != 5 {
		if time.Now().After(deadline) {
			t.Fatalf("no timed checkpoint: %+v", l.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func randomEvent(r *rand.Rand, i int) telemetry.Event {
	if r.IntN(2) == 0 {
		return fusionEvent(i)
	}
	return sysEvent(i)
}
