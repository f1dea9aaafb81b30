//go:build linux

package ledger

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestCheckpointENOSPC is issue 17 item 2 with the failure injected
// in-process: checkpoints.log is swapped for /dev/full, whose writes fail
// with ENOSPC. The failure must stop appends (Append errors, Stats.Err
// set, Close reports it) and the ledger must reopen and verify.
func TestCheckpointENOSPC(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	dir := t.TempDir()
	l, err := Open(dir, Options{Signer: testSigner(t), CheckpointEvery: 2, CheckpointInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, l, 6)
	l.ckWriteMu.Lock()
	orig := l.histF
	l.histF = full
	l.ckWriteMu.Unlock()
	defer orig.Close()
	acked, failedAt := 0, -1
	var appendErr error
	for i := 0; i < 1000; i++ {
		_, err := l.Append(context.Background(), sysEvent(100+i))
		if err != nil {
			appendErr, failedAt = err, i
			break
		}
		acked++
	}
	if appendErr == nil {
		t.Fatal("1000 appends acknowledged after checkpoints.log started failing with ENOSPC")
	}
	if !errors.Is(appendErr, syscall.ENOSPC) || !strings.Contains(appendErr.Error(), "checkpoint failed") || !strings.Contains(appendErr.Error(), HistoryFile) {
		t.Fatalf("append error %q: want the checkpoint failure, ENOSPC on %s", appendErr, HistoryFile)
	}
	t.Logf("append %d failed after %d acknowledged: %v", failedAt, acked, appendErr)
	for i := 0; i < 3; i++ {
		if _, err := l.Append(context.Background(), sysEvent(2000+i)); err == nil {
			t.Fatal("an append was acknowledged after the checkpoint failure")
		}
	}
	if st := l.Stats(); !strings.Contains(st.Err, "checkpoint failed") {
		t.Fatalf("Stats.Err = %q", st.Err)
	}
	if err := l.Close(); err == nil || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Close: %v, want the checkpoint failure", err)
	}
	l2, err := Open(dir, Options{Signer: testSigner(t)})
	if err != nil {
		t.Fatalf("reopen after the failure: %v", err)
	}
	if got := l2.Size(); got != uint64(6+acked) {
		t.Fatalf("reopened with %d records, want %d", got, 6+acked)
	}
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(dir, VerifyOptions{})
	if err != nil || rep.Unsigned != 0 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

const fsizeEnv = "MEC_LEDGER_FSIZE_DIR"

// TestHelperFsize is not a test: TestCheckpointTornWrite runs the test
// binary with fsizeEnv set, and this opens the ledger, lowers
// RLIMIT_FSIZE so that a checkpoint write is cut short (EFBIG after a
// partial write, as a full disk does), then appends sequentially, printing
// "ack I" or "err I MESSAGE" per append, "stats MESSAGE" and "close
// MESSAGE".
func TestHelperFsize(t *testing.T) {
	dir := os.Getenv(fsizeEnv)
	if dir == "" {
		t.Skip("helper process for TestCheckpointTornWrite")
	}
	limit, _ := strconv.ParseUint(os.Getenv(fsizeEnv+"_LIMIT"), 10, 64)
	l, err := Open(dir, Options{Signer: testSigner(t), CheckpointEvery: 2, CheckpointInterval: time.Hour})
	if err != nil {
		fmt.Println("open", err)
		os.Exit(3)
	}
	// Go ignores SIGXFSZ, so writes past the limit fail with EFBIG.
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: limit, Max: limit}); err != nil {
		fmt.Println("setrlimit", err)
		os.Exit(3)
	}
	w := bufio.NewWriter(os.Stdout)
	for i := 0; i < 200; i++ {
		if _, err := l.Append(context.Background(), sysEvent(i)); err != nil {
			fmt.Fprintf(w, "err %d %s\n", i, strings.ReplaceAll(err.Error(), "\n", " "))
		} else {
			fmt.Fprintf(w, "ack %d\n", i)
		}
	}
	fmt.Fprintf(w, "stats %s\n", l.Stats().Err)
	fmt.Fprintf(w, "close %v\n", l.Close())
	w.Flush()
	os.Exit(0)
}

// TestCheckpointTornWrite is issue 17 item 2 through the real write path:
// a child process whose file size limit cuts a checkpoints.log append
// short. Appends must stop at the failure (no acknowledgement after it),
// checkpoints.log must not be left torn, and the ledger must reopen with
// every acknowledged record and verify.
func TestCheckpointTornWrite(t *testing.T) {
	if os.Getenv(fsizeEnv) != "" {
		t.Skip("in helper")
	}
	// A checkpoints.log frame is 8 bytes of framing and the signed note.
	note, err := signCheckpoint(&Checkpoint{Origin: testSigner(t).Name(), Size: 8, ChainAlg: SHA256}, testSigner(t))
	if err != nil {
		t.Fatal(err)
	}
	frame := int64(8 + len(note))
	limit := headerSize + 3*frame + frame/2 // the 4th checkpoint is cut in half
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperFsize$", "-test.count=1")
	cmd.Env = append(os.Environ(), fsizeEnv+"="+dir, fmt.Sprintf("%s_LIMIT=%d", fsizeEnv, limit))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	var acked []int
	firstErr := ""
	var stats, closeMsg string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		kind, rest, _ := strings.Cut(line, " ")
		switch kind {
		case "ack":
			i, _ := strconv.Atoi(rest)
			if firstErr != "" {
				t.Fatalf("append %d acknowledged after an append failed with %q", i, firstErr)
			}
			acked = append(acked, i)
		case "err":
			if firstErr == "" {
				firstErr = rest
			}
		case "stats":
			stats = rest
		case "close":
			closeMsg = rest
		}
	}
	if firstErr == "" || !strings.Contains(firstErr, "checkpoint failed") || !strings.Contains(firstErr, HistoryFile) {
		t.Fatalf("first append error %q: want the checkpoint failure on %s\n%s", firstErr, HistoryFile, out)
	}
	if stats == "" || closeMsg == "<nil>" {
		t.Fatalf("Stats.Err %q, Close %q: both must report the failure", stats, closeMsg)
	}
	t.Logf("%d appends acknowledged, then: %s", len(acked), firstErr)
	// checkpoints.log holds whole frames only: Verify (read-only) accepts
	// it as it is.
	rep, err := Verify(dir, VerifyOptions{})
	if err != nil {
		t.Fatalf("verify before reopening: %v", err)
	}
	if rep.Checkpoints < 3 {
		t.Fatalf("before reopening: %d checkpoints", rep.Checkpoints)
	}
	t.Logf("before reopening: %d checkpoints, %d records, %d after the last checkpoint", rep.Checkpoints, rep.Records, rep.Unsigned)
	st, err := os.Stat(filepath.Join(dir, HistoryFile))
	if err != nil || st.Size() >= limit {
		t.Fatalf("checkpoints.log: %v, size %d (limit %d): the partial frame was not removed", err, st.Size(), limit)
	}
	l, err := Open(dir, Options{Signer: testSigner(t)})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	size := l.Size()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if size < uint64(len(acked)) {
		t.Fatalf("reopened with %d records, %d were acknowledged", size, len(acked))
	}
	for k, i := range acked {
		if k != i {
			t.Fatalf("acknowledged appends not a prefix: %v", acked)
		}
	}
	rep, err = Verify(dir, VerifyOptions{})
	if err != nil || rep.Unsigned != 0 || rep.Records != size {
		t.Fatalf("verify after reopening: %+v %v", rep, err)
	}
}
