//go:build unix

package ledger

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLockExcludesSecondWriter: while one Ledger is open on a directory a
// second Open fails with a *LockedError naming this process; read-only
// access keeps working; Close releases the lock.
func TestLockExcludesSecondWriter(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{Signer: testSigner(t), CheckpointEvery: 4})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, l, 9)
	_, err = Open(dir, Options{Signer: testSigner(t)})
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) || le.PID != os.Getpid() {
		t.Fatalf("second Open: %v, want a LockedError with PID %d", err, os.Getpid())
	}
	want := "ledger " + dir + " is in use by PID " + strconv.Itoa(os.Getpid())
	if err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	// Readers never take the lock.
	if _, err := Verify(dir, VerifyOptions{}); err != nil {
		t.Fatalf("Verify while locked: %v", err)
	}
	n := 0
	if err := Scan(dir, func(Record) error { n++; return nil }); err != nil || n != 9 {
		t.Fatalf("Scan while locked: %d records, %v", n, err)
	}
	tr, err := ReadTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.ProveInclusion(3, 0); err != nil {
		t.Fatalf("proof while locked: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2, err := Open(dir, Options{Signer: testSigner(t)})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
	// A failed Open must not keep the lock either.
	if err := os.WriteFile(filepath.Join(dir, CheckpointFile), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{Signer: testSigner(t)}); err == nil {
		t.Fatal("Open of a damaged checkpoint succeeded")
	}
	f, err := lockDir(dir)
	if err != nil {
		t.Fatalf("lock still held after a failed Open: %v", err)
	}
	f.Close()
}

const lockHolderEnv = "MEC_LEDGER_LOCK_DIR"

// TestHelperLockHolder is not a test: TestLockReleasedOnDeath runs the
// test binary with lockHolderEnv set, and this opens the ledger, says
// "open" and waits to be killed.
func TestHelperLockHolder(t *testing.T) {
	dir := os.Getenv(lockHolderEnv)
	if dir == "" {
		t.Skip("helper process for TestLockReleasedOnDeath")
	}
	if _, err := Open(dir, Options{Signer: testSigner(t)}); err != nil {
		os.Stdout.WriteString("error: " + err.Error() + "\n")
		os.Exit(3)
	}
	os.Stdout.WriteString("open\n")
	select {}
}

// TestLockReleasedOnDeath: a writer killed with SIGKILL leaves no lock
// behind, and while it lives the error names its PID.
func TestLockReleasedOnDeath(t *testing.T) {
	if os.Getenv(lockHolderEnv) != "" {
		t.Skip("in helper")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperLockHolder$", "-test.count=1")
	cmd.Env = append(os.Environ(), lockHolderEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make([]byte, 5)
	if _, err := out.Read(line); err != nil || string(line) != "open\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper: %q %v", line, err)
	}
	_, err = Open(dir, Options{Signer: testSigner(t)})
	if want := "in use by PID " + strconv.Itoa(cmd.Process.Pid); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Open while the helper holds the lock: %v, want %q", err, want)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	l, err := Open(dir, Options{Signer: testSigner(t)})
	if err != nil {
		t.Fatalf("Open after the holder was killed: %v", err)
	}
	l.Close()
}

// TestLockNoWaiting: Open never blocks on a held lock (LOCK_NB).
func TestLockNoWaiting(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{Signer: testSigner(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	done := make(chan error, 1)
	go func() {
		_, err := Open(dir, Options{Signer: testSigner(t)})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("second Open: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second Open waited for the lock")
	}
}

// TestReadersDuringAppends: Verify, Scan and ReadTree keep succeeding
// while a writer appends and checkpoints as fast as it can (in-flight
// tails are not damage while the lock is held).
func TestReadersDuringAppends(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{Signer: testSigner(t), CheckpointEvery: 3, CheckpointInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		// A bounded writer: each pass of the readers stays short.
		for i := 0; i < 600; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if _, err := l.Append(context.Background(), sysEvent(i)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := 0; i < 20 && len(done) == 0; i++ {
		if _, err := Verify(dir, VerifyOptions{}); err != nil {
			t.Errorf("Verify %d during appends: %v", i, err)
		}
		if err := Scan(dir, func(Record) error { return nil }); err != nil {
			t.Errorf("Scan %d during appends: %v", i, err)
		}
		if _, err := ReadTree(dir); err != nil {
			t.Errorf("ReadTree %d during appends: %v", i, err)
		}
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d records appended while reading", l.Size())
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if rep, err := Verify(dir, VerifyOptions{}); err != nil || rep.Unsigned != 0 {
		t.Fatalf("after Close: %+v %v", rep, err)
	}
}
