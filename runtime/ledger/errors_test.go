package ledger

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStaleTmpOnlyWhenPresent: a stale checkpoint.tmp is still removed.
func TestStaleTmpOnlyWhenPresent(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{Signer: testSigner(t)})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, l, 3)
	l.Close()
	tmp := filepath.Join(dir, checkpointTmp)
	if err := os.WriteFile(tmp, []byte("half a checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err = Open(dir, Options{Signer: testSigner(t)})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale %s not removed: %v", checkpointTmp, err)
	}
}

// TestLogIsDirectory is issue 17 item 14: events.log being a directory
// gave "file header: 0 of 16 bytes". Open, Verify and Scan must say it is
// a directory.
func TestLogIsDirectory(t *testing.T) {
	for _, name := range []string{LogFile, HistoryFile} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			l, err := Open(dir, Options{Signer: testSigner(t)})
			if err != nil {
				t.Fatal(err)
			}
			fill(t, l, 3)
			l.Close()
			p := filepath.Join(dir, name)
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			want := p + " is not a regular file (a directory)"
			_, err = Open(dir, Options{Signer: testSigner(t)})
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Open: %v, want %q", err, want)
			}
			_, err = Verify(dir, VerifyOptions{})
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Verify: %v, want %q", err, want)
			}
			if name == LogFile {
				err = Scan(dir, func(Record) error { return nil })
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("Scan: %v, want %q", err, want)
				}
			}
		})
	}
}

// TestCheckpointFileRestored: a crash between appending a checkpoint to
// checkpoints.log and replacing the checkpoint file (here: the file is
// missing) is finished by Open even when no record follows it, so that
// the ledger verifies (TestKill9 hit this).
func TestCheckpointFileRestored(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{Signer: testSigner(t)})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, l, 5)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, CheckpointFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(dir, VerifyOptions{}); err == nil {
		t.Fatal("Verify accepted a missing checkpoint file")
	}
	l, err = Open(dir, Options{Signer: testSigner(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if rep, err := Verify(dir, VerifyOptions{}); err != nil || rep.Records != 5 || rep.Unsigned != 0 {
		t.Fatalf("after reopening: %+v %v", rep, err)
	}
}
