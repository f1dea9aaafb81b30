package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prismai/mec/internal/cli"
	"github.com/prismai/mec/runtime/ledger"
)

// helperArgsEnv carries the arguments of a `mec` process run by
// TestHelperMec (a JSON array).
const helperArgsEnv = "MEC_CLITEST_ARGS"

// TestHelperMec is not a test: mecProcess runs the test binary with
// helperArgsEnv set, and then this is `mec ARGS...` as its own process
// (exit status 1 and "mec: ERROR" on stderr on failure, as cmd/mec).
func TestHelperMec(t *testing.T) {
	js := os.Getenv(helperArgsEnv)
	if js == "" {
		t.Skip("helper process for the tests that run mec as a process")
	}
	var args []string
	if err := json.Unmarshal([]byte(js), &args); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	if err := cli.Execute(context.Background(), args, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mec:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// mecProcess returns `mec args...` as a process of its own (the test
// binary running TestHelperMec).
func mecProcess(t *testing.T, args ...string) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	js, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMec$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperArgsEnv+"="+string(js))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	return cmd, &out
}

// TestConcurrentRunsOneLedger is issue 17 item 1: two `mec run --ledger L`
// at once. The second must exit at once with the lock error naming the
// first's PID; the first must complete, and the ledger verify.
func TestConcurrentRunsOneLedger(t *testing.T) {
	if os.Getenv(helperArgsEnv) != "" {
		t.Skip("in helper")
	}
	dir := filepath.Join(t.TempDir(), "L")
	first, out1 := mecProcess(t, "run", "--ledger", dir, "--ticks", "800", "--json")
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	done1 := make(chan error, 1)
	go func() { done1 <- first.Wait() }()
	// The first run holds the lock once its PID is in the lock file.
	pid1 := strconv.Itoa(first.Process.Pid)
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(dir, ledger.LockFile))
		if strings.TrimSpace(string(b)) == pid1 {
			break
		}
		select {
		case err := <-done1:
			t.Fatalf("first run ended before it was seen holding the lock: %v\n%s", err, out1)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("first run did not take the ledger lock in 60 s\n%s", out1)
		}
	}
	second, out2 := mecProcess(t, "run", "--ledger", dir, "--ticks", "10")
	start := time.Now()
	err := second.Run()
	took := time.Since(start)
	select {
	case err := <-done1:
		t.Fatalf("the first run ended (%v) before the second was refused: raise --ticks\n%s", err, out1)
	default:
	}
	want := "ledger " + dir + " is in use by PID " + pid1
	if err == nil || !strings.Contains(out2.String(), want) {
		t.Fatalf("second run: %v, want exit status 1 and %q\n%s", err, want, out2)
	}
	// "At once": it does not wait for the lock. The bound is generous
	// (process start-up on a loaded machine), far below the first run.
	if took > 20*time.Second {
		t.Fatalf("second run took %v to be refused", took)
	}
	t.Logf("second run refused after %v: %s", took.Round(time.Millisecond), strings.TrimSpace(out2.String()))
	// While the writer holds the lock, read-only commands still work.
	if _, err := ledger.ReadTree(dir); err != nil {
		t.Fatalf("reading the tree while a writer holds the lock: %v", err)
	}
	if out, err := run("ledger", "tail", dir, "-n", "1"); err != nil {
		t.Fatalf("ledger tail while a writer holds the lock: %v\n%s", err, out)
	}
	if err := <-done1; err != nil {
		t.Fatalf("first run: %v\n%s", err, out1)
	}
	var res struct {
		Verify ledger.Report `json:"ledger_verify"`
	}
	if err := json.Unmarshal([]byte(out1.String()), &res); err != nil || res.Verify.Records == 0 {
		t.Fatalf("first run's report: %v\n%s", err, out1)
	}
	out, err := run("ledger", "verify", dir)
	if err != nil {
		t.Fatalf("ledger verify after both runs: %v\n%s", err, out)
	}
	t.Logf("first run completed: %d records, verified", res.Verify.Records)
}
