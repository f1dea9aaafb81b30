package ledger

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prismai/mec/runtime/telemetry"
)

const killDirEnv = "MEC_LEDGER_KILL_DIR"

// TestHelperWriter is not a test: TestKill9 runs the test binary with
// killDirEnv set, and then this appends events from 8 goroutines forever,
// printing "index run goroutine seq" to stdout after each acknowledged
// Append, until it is killed.
func TestHelperWriter(t *testing.T) {
	dir := os.Getenv(killDirEnv)
	if dir == "" {
		t.Skip("helper process for TestKill9")
	}
	run, _ := strconv.Atoi(os.Getenv(killDirEnv + "_RUN"))
	l, err := Open(dir, Options{Signer: testSigner(t), CheckpointEvery: 64, CheckpointInterval: 3 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(3)
	}
	var mu sync.Mutex
	for g := 0; g < 8; g++ {
		go func() {
			r := rand.New(rand.NewPCG(uint64(run), uint64(g)))
			for seq := 0; ; seq++ {
				ev := telemetry.SystemEvent{
					Timestamp: time.Now(), Source: "killtest", Kind: "append",
					Fields: map[string]telemetry.Value{
						"run": telemetry.Num(float64(run)), "g": telemetry.Num(float64(g)), "seq": telemetry.Num(float64(seq)),
						"pad": telemetry.Str(strings.Repeat("x", r.IntN(300))),
					},
				}
				idx, err := l.Append(context.Background(), ev)
				if err != nil {
					fmt.Fprintln(os.Stderr, "append:", err)
					os.Exit(4)
				}
				mu.Lock()
				// One write system call per line: a kill never splits it.
				os.Stdout.WriteString(fmt.Sprintf("%d %d %d %d\n", idx, run, g, seq))
				mu.Unlock()
			}
		}()
	}
	select {}
}

type ack struct{ run, g, seq int }

// TestKill9 kills a writer process with SIGKILL at random moments, then
// checks that every acknowledged event is present and that the ledger
// recovers and verifies. 100 kills (10 ledgers x 10); 20 with -short.
func TestKill9(t *testing.T) {
	if os.Getenv(killDirEnv) != "" {
		t.Skip("in helper")
	}
	rounds, perRound := 10, 10
	if testing.Short() {
		rounds = 2
	}
	r := rand.New(rand.NewPCG(2026, 9))
	kills, totalAcked := 0, 0
	for round := 0; round < rounds; round++ {
		dir := t.TempDir()
		acked := map[uint64]ack{}
		for k := 0; k < perRound; k++ {
			run := round*perRound + k
			n := killOnce(t, dir, run, r, acked)
			totalAcked += n
			kills++
			checkRecovered(t, dir, acked)
		}
	}
	t.Logf("%d kills, %d acknowledged appends, all present and verified", kills, totalAcked)
}

// killOnce starts a writer, kills it at a random moment and records the
// acknowledged appends it printed.
func killOnce(t *testing.T, dir string, run int, r *rand.Rand, acked map[uint64]ack) int {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), killDirEnv+"="+dir, fmt.Sprintf("%s_RUN=%d", killDirEnv, run))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first := make(chan struct{})
	done := make(chan []string)
	go func() {
		var lines []string
		br := bufio.NewReader(out)
		for {
			s, err := br.ReadString('\n')
			if err != nil {
				break // a partial last line (no newline) is not an acknowledgement
			}
			if len(lines) == 0 {
				close(first)
			}
			lines = append(lines, s)
		}
		done <- lines
	}()
	if r.IntN(2) == 0 {
		// Kill at a random moment after the first acknowledgement.
		select {
		case <-first:
		case <-time.After(10 * time.Second):
			t.Fatalf("writer acknowledged nothing in 10s; stderr: %s", stderr.String())
		}
		time.Sleep(time.Duration(r.IntN(30_000)) * time.Microsecond)
	} else {
		// Kill at a random moment from process start (possibly during Open).
		time.Sleep(time.Duration(r.IntN(60_000)) * time.Microsecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	lines := <-done
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("writer exited on its own (%v); stderr: %s", err, stderr.String())
	}
	for _, s := range lines {
		var idx uint64
		var a ack
		if _, err := fmt.Sscanf(s, "%d %d %d %d\n", &idx, &a.run, &a.g, &a.seq); err != nil {
			t.Fatalf("bad line %q", s)
		}
		if prev, dup := acked[idx]; dup {
			t.Fatalf("index %d acknowledged twice: %v and %v", idx, prev, a)
		}
		acked[idx] = a
	}
	return len(lines)
}

// checkRecovered reopens the ledger (recovering it), checks every
// acknowledged record, closes it and verifies the whole ledger.
func checkRecovered(t *testing.T, dir string, acked map[uint64]ack) {
	if _, err := os.Stat(dir + "/" + LogFile); os.IsNotExist(err) {
		if len(acked) > 0 {
			t.Fatal("log missing but appends were acknowledged")
		}
		return
	}
	l, err := Open(dir, Options{Signer: testSigner(t)})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	size := l.Size()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	found := 0
	err = Scan(dir, func(rec Record) error {
		a, ok := acked[rec.Index]
		if !ok {
			return nil
		}
		se, ok := rec.Event.(telemetry.SystemEvent)
		if !ok || se.Fields["run"].Num != float64(a.run) || se.Fields["g"].Num != float64(a.g) || se.Fields["seq"].Num != float64(a.seq) {
			return fmt.Errorf("record %d is %+v, acknowledged as %+v", rec.Index, rec.Event, a)
		}
		found++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found != len(acked) {
		t.Fatalf("%d of %d acknowledged records present (ledger size %d)", found, len(acked), size)
	}
	rep, err := Verify(dir, VerifyOptions{})
	if err != nil {
		t.Fatalf("verify after recovery: %v", err)
	}
	if rep.Unsigned != 0 || rep.Records != size {
		t.Fatalf("report after recovery: %+v", rep)
	}
}
