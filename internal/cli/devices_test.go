//go:build linux

package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// devicesHelperEnv marks the test binary run as `mec devices --json` by
// TestDevicesLavaSpawnTimeout (the backend registry initialises once per
// process, so the environment must be set before the process starts).
const devicesHelperEnv = "MEC_CLI_DEVICES_HELPER"

// TestHelperDevices is not a test: it is `mec devices --json` in a
// process of its own.
func TestHelperDevices(t *testing.T) {
	if os.Getenv(devicesHelperEnv) == "" {
		t.Skip("helper process for TestDevicesLavaSpawnTimeout")
	}
	if err := Execute(context.Background(), []string{"devices", "--json"}, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mec:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// TestDevicesLavaSpawnTimeout is issue 17 item 13 end to end:
// MEC_LAVA_SIDECAR=spawn with a sidecar that never answers blocked
// `mec devices` for 35 s, doubled "lava: lava:", orphaned the child and
// left its temporary directory. With MEC_LAVA_TIMEOUT=1s `mec devices`
// must finish in a few seconds, report lava as failed with one "lava:"
// prefix, and leave no process or directory behind. MEC_QPU_URL=file://
// must show the QPU as skipped, with the reason.
func TestDevicesLavaSpawnTimeout(t *testing.T) {
	if os.Getenv(devicesHelperEnv) != "" {
		t.Skip("in helper")
	}
	tmp, pids := t.TempDir(), t.TempDir()
	py := filepath.Join(t.TempDir(), "fake-python")
	script := fmt.Sprintf("#!/bin/sh\necho $$ > %[1]s/sidecar\nsleep 600 &\necho $! > %[1]s/child\nwait\n", pids)
	if err := os.WriteFile(py, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperDevices$", "-test.count=1")
	cmd.Env = append(os.Environ(), devicesHelperEnv+"=1", "TMPDIR="+tmp,
		"MEC_LAVA_SIDECAR=spawn", "MEC_LAVA_PYTHON="+py, "MEC_LAVA_TIMEOUT=1s",
		"MEC_QPU_URL=file:///etc/passwd")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	took := time.Since(start)
	if err != nil {
		t.Fatalf("mec devices: %v\n%s", err, stderr.String())
	}
	// The bound: the 1 s timeout, process start-up and the other drivers,
	// with room for a loaded machine; it was 35 s.
	if took > 15*time.Second {
		t.Errorf("mec devices took %v with MEC_LAVA_TIMEOUT=1s", took)
	}
	var res struct {
		Backends []struct {
			Name, Status, Reason string
		} `json:"backends"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	seen := map[string]bool{}
	for _, b := range res.Backends {
		switch b.Name {
		case "lava":
			seen[b.Name] = true
			t.Logf("lava: %s: %s", b.Status, b.Reason)
			if b.Status != "failed" || strings.Contains(b.Reason, "lava: lava:") || !strings.Contains(b.Reason, "MEC_LAVA_TIMEOUT") {
				t.Errorf("lava: %s: %q", b.Status, b.Reason)
			}
		case "qpu":
			seen[b.Name] = true
			t.Logf("qpu: %s: %s", b.Status, b.Reason)
			if b.Status != "skipped" || !strings.Contains(b.Reason, "MEC_QPU_URL=file:///etc/passwd") || !strings.Contains(b.Reason, "http") {
				t.Errorf("qpu: %s: %q", b.Status, b.Reason)
			}
		}
	}
	if !seen["lava"] || !seen["qpu"] {
		t.Fatalf("backends: %s", out)
	}
	for _, name := range []string{"sidecar", "child"} {
		b, err := os.ReadFile(filepath.Join(pids, name))
		if err != nil {
			t.Fatalf("%s PID: %v", name, err)
		}
		pid := strings.TrimSpace(string(b))
		if st, err := os.ReadFile("/proc/" + pid + "/stat"); err == nil {
			s := string(st)
			if i := strings.LastIndexByte(s, ')'); i > 0 && i+2 < len(s) && s[i+2] != 'Z' {
				t.Errorf("%s (PID %s) still running after mec devices exited", name, pid)
				exec.Command("kill", "-9", pid).Run()
			}
		}
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "mec-lava-*")); len(left) > 0 {
		t.Errorf("temporary directories left behind: %v", left)
	}
}
