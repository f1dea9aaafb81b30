//go:build linux

package lava

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) STATE ...: the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// readPID waits briefly for a PID file written by a fake sidecar.
func readPID(t *testing.T, path string) int {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				return pid
			}
		}
	}
	t.Fatalf("no PID in %s", path)
	return 0
}

// fakeInterpreter writes an executable shell script to stand in for
// python3 (MEC_LAVA_PYTHON) and returns its path.
func fakeInterpreter(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fake-python")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkNoLeftovers asserts that no sidecar directory is left in tmp.
func checkNoLeftovers(t *testing.T, tmp string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(tmp, "mec-lava-*"))
	if len(left) > 0 {
		t.Errorf("temporary directories left behind: %v", left)
	}
}

// TestSpawnNeverListens is issue 17 item 13: MEC_LAVA_SIDECAR=spawn with
// a sidecar that never says it is listening. The driver must give up
// after MEC_LAVA_TIMEOUT, kill the sidecar and what it started, reap it,
// remove its temporary directory, and say "lava:" once.
func TestSpawnNeverListens(t *testing.T) {
	tmp := t.TempDir()
	pids := t.TempDir()
	py := fakeInterpreter(t, fmt.Sprintf(`echo $$ > %[1]s/sidecar
sleep 600 &
echo $! > %[1]s/child
wait
`, pids))
	t.Setenv("TMPDIR", tmp)
	t.Setenv(EnvSidecar, "spawn")
	t.Setenv("MEC_LAVA_PYTHON", py)
	t.Setenv(EnvTimeout, "1s")
	start := time.Now()
	b, err := driver{}.Init()
	took := time.Since(start)
	if err == nil {
		b.Close()
		t.Fatal("a sidecar that never listens loaded")
	}
	t.Logf("after %v: %v", took.Round(time.Millisecond), err)
	msg := err.Error()
	if strings.Contains(msg, "lava: lava:") || !strings.Contains(msg, "did not say it was listening") || !strings.Contains(msg, EnvTimeout) {
		t.Errorf("error %q", msg)
	}
	// The bound: the 1 s timeout plus killing and reaping, with room for
	// a loaded machine (it was 35 s).
	if took > 6*time.Second {
		t.Errorf("Init took %v with a 1 s timeout", took)
	}
	for _, name := range []string{"sidecar", "child"} {
		if pid := readPID(t, filepath.Join(pids, name)); !gone(pid, 3*time.Second) {
			t.Errorf("%s (PID %d) still running 3 s after Init returned", name, pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	checkNoLeftovers(t, tmp)
}

// gone waits up to d for pid to die: SIGKILL to the group is delivered
// at once, but a grandchild's exit is the kernel's to finish (and its new
// parent's to reap), which a loaded machine can delay by a few
// milliseconds after Init returned.
func gone(pid int, d time.Duration) bool {
	for deadline := time.Now().Add(d); alive(pid); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

const silentEnv = "MEC_LAVA_SILENT_PIDFILE"

// TestHelperSilentSidecar is not a test: TestSpawnNeverAnswers runs the
// test binary as a fake sidecar that listens where told, says so, accepts
// connections and never answers, and ignores stdin closing.
func TestHelperSilentSidecar(t *testing.T) {
	pidFile := os.Getenv(silentEnv)
	if pidFile == "" {
		t.Skip("helper process for TestSpawnNeverAnswers")
	}
	args := flag.Args()
	listen := ""
	for i, a := range args {
		if a == "--listen" && i+1 < len(args) {
			listen = args[i+1]
		}
	}
	network, addr, err := ParseAddress(listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())), 0o644)
	fmt.Printf("LISTENING %s engine=fake\n", listen)
	var held []net.Conn
	for {
		c, err := ln.Accept()
		if err != nil {
			os.Exit(0)
		}
		held = append(held, c) // never answered
	}
}

// TestSpawnNeverAnswers: a spawned sidecar that listens but never answers
// HELLO, and does not exit when its stdin closes. Same requirements.
func TestSpawnNeverAnswers(t *testing.T) {
	if os.Getenv(silentEnv) != "" {
		t.Skip("in helper")
	}
	tmp := t.TempDir()
	pidFile := filepath.Join(t.TempDir(), "pid")
	py := fakeInterpreter(t, `exec "$MEC_LAVA_TEST_BIN" -test.run='^TestHelperSilentSidecar$' -test.count=1 -- "$@"`+"\n")
	t.Setenv("MEC_LAVA_TEST_BIN", os.Args[0])
	t.Setenv(silentEnv, pidFile)
	t.Setenv("TMPDIR", tmp)
	t.Setenv(EnvSidecar, "spawn")
	t.Setenv("MEC_LAVA_PYTHON", py)
	t.Setenv(EnvTimeout, "1500ms")
	start := time.Now()
	b, err := driver{}.Init()
	took := time.Since(start)
	if err == nil {
		b.Close()
		t.Fatal("a sidecar that never answers loaded")
	}
	t.Logf("after %v: %v", took.Round(time.Millisecond), err)
	msg := err.Error()
	if strings.Contains(msg, "lava: lava:") || !strings.Contains(msg, "did not answer HELLO within") {
		t.Errorf("error %q", msg)
	}
	if took > 6*time.Second {
		t.Errorf("Init took %v with a 1.5 s timeout", took)
	}
	if pid := readPID(t, pidFile); !gone(pid, 3*time.Second) {
		t.Errorf("sidecar (PID %d) still running 3 s after Init returned", pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}
	checkNoLeftovers(t, tmp)
}

// TestSpawnCleansUpWithoutClose: a sidecar whose spawner never calls
// Close (mec devices exits without closing backends) removes its own
// directory when its stdin closes.
func TestSpawnCleansUpWithoutClose(t *testing.T) {
	py := python(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	sc, err := Spawn(ctx, SpawnOptions{Python: py, Fake: true})
	if err != nil {
		t.Fatal(err)
	}
	// The embedded script is gone already; only the socket remains.
	if left, _ := filepath.Glob(filepath.Join(sc.dir, "*.py")); len(left) > 0 {
		t.Errorf("script left in the sidecar directory: %v", left)
	}
	// What the death of this process does: stdin reaches EOF.
	sc.stdin.Close()
	select {
	case <-sc.waited:
	case <-time.After(10 * time.Second):
		t.Fatal("the sidecar did not exit on stdin EOF")
	}
	sc.cmd = nil
	checkNoLeftovers(t, tmp)
}

// TestTimeoutSetting: MEC_LAVA_TIMEOUT must be a positive duration.
func TestTimeoutSetting(t *testing.T) {
	t.Setenv(EnvTimeout, "")
	if d, err := Timeout(); err != nil || d != DefaultTimeout {
		t.Fatalf("default: %v %v", d, err)
	}
	for _, bad := range []string{"0", "-1s", "soon"} {
		t.Setenv(EnvTimeout, bad)
		if _, err := Timeout(); err == nil || !strings.Contains(err.Error(), EnvTimeout) {
			t.Errorf("%s=%q: %v", EnvTimeout, bad, err)
		}
	}
	t.Setenv(EnvTimeout, "250ms")
	if d, err := Timeout(); err != nil || d != 250*time.Millisecond {
		t.Fatalf("250ms: %v %v", d, err)
	}
}
