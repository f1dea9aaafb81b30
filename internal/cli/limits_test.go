package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/prismai/mec/runtime/orchestrator"
)

func heapAllocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// failsFast runs mec args and checks that it fails with an error that
// contains every one of want, allocating at most maxBytes in all and
// within deadline (generous: "fails fast", not a speed measurement).
func failsFast(t *testing.T, maxBytes uint64, deadline time.Duration, want []string, args ...string) {
	t.Helper()
	runtime.GC()
	before, start := heapAllocated(), time.Now()
	_, err := run(t, args...)
	took, used := time.Since(start), heapAllocated()-before
	if err == nil {
		t.Fatalf("mec %s: no error", strings.Join(args, " "))
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("mec %s: error %q does not contain %q", strings.Join(args, " "), err, w)
		}
	}
	if used > maxBytes {
		t.Errorf("mec %s: allocated %d MiB (bound %d MiB)", strings.Join(args, " "), used>>20, maxBytes>>20)
	}
	if took > deadline {
		t.Errorf("mec %s: took %v (bound %v)", strings.Join(args, " "), took, deadline)
	}
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestInputLimits is issue 17 item 9: every file the commands read is
// read with a bound, so /dev/zero fails at the limit (64 MiB, a few times
// that allocated, within 10 s), naming it and how to raise it; the
// nested-gate bomb fails at its line:col naming MaxOps.
func TestInputLimits(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("OPENQASM 3.0;\ninclude \"stdgates.inc\";\nqubit q;\ngate g0 a { x a; }\n")
	for n := 1; n <= 30; n++ {
		fmt.Fprintf(&b, "gate g%d a { g%d a; g%d a; }\n", n, n-1, n-1)
	}
	b.WriteString("g30 q;\n")
	bomb := writeFile(t, dir, "bomb.qasm", b.String())
	mib := uint64(1 << 20)
	failsFast(t, 16*mib, 5*time.Second, []string{bomb + ":35:1:", "MaxOps", "MEC_QASM_MAX_OPS"}, "circuit", "run", bomb)
	failsFast(t, 16*mib, 5*time.Second, []string{bomb + ":35:1:", "MaxOps"}, "circuit", "convert", bomb)
	failsFast(t, 300*mib, 10*time.Second, []string{"/dev/zero", "67108864 bytes", "MEC_QASM_MAX_FILE_BYTES"}, "circuit", "run", "/dev/zero")
	failsFast(t, 300*mib, 10*time.Second, []string{"/dev/zero", "67108864 bytes", EnvMaxInputBytes}, "fuse", "--config", "/dev/zero")
	failsFast(t, 300*mib, 10*time.Second, []string{"/dev/zero", "67108864 bytes", EnvMaxInputBytes}, "evolve", "/dev/zero")
	t.Setenv(EnvMaxInputBytes, "1000")
	failsFast(t, 1*mib, 5*time.Second, []string{"limit of 1000 bytes"}, "fuse", "--config", "/dev/zero")
}

// TestCaps is issue 17 item 11: the sizes that made the commands run away
// are refused at once with the limit and how to raise it, and the
// nonsensical values the commands used to accept are errors.
func TestCaps(t *testing.T) {
	dir := t.TempDir()
	spec := writeFile(t, dir, "spec.json", `{"qubits": 2, "terms": [{"coeff": 1, "pauli": "XZ"}], "t": 1}`)
	mib := uint64(1 << 20)
	cases := []struct {
		want []string
		args []string
	}{
		{[]string{"--steps 2000000000", "limit of 1000000", "--max-steps"}, []string{"evolve", spec, "--method", "trotter", "--steps", "2000000000"}},
		{[]string{"--steps 0", "at least 1"}, []string{"evolve", spec, "--method", "trotter", "--steps", "0"}},
		{[]string{"--tol 0", "positive"}, []string{"evolve", spec, "--tol", "0"}},
		{[]string{"--tol -1", "positive"}, []string{"evolve", spec, "--tol", "-1"}},
		{[]string{"--order 3"}, []string{"evolve", spec, "--order", "3"}},
		{[]string{"--emit-qasm", "MEC_QASM_MAX_OPS"}, []string{"evolve", spec, "--steps", "1000000", "--emit-qasm", filepath.Join(dir, "big.qasm")}},
		{[]string{"spike_steps 1000000000", "limit of 100000", "limits.max_spike_steps"},
			[]string{"fuse", "--config", writeFile(t, dir, "spike.yaml", "spike_steps: 1000000000\n")}},
		{[]string{"dt -1", "positive"}, []string{"fuse", "--config", writeFile(t, dir, "dt.yaml", "dt: -1\n")}},
		{[]string{"dt -1"}, []string{"fuse", "--config", writeFile(t, dir, "dt.json", `{"dt": -1}`)}},
		{[]string{"field"}, []string{"fuse", "--config", writeFile(t, dir, "typo.yaml", "spike_stpes: 3\n")}},
		{[]string{"--steps 0"}, []string{"fuse", "--steps", "0"}},
		{[]string{"--steps 2000000", "--max-steps"}, []string{"fuse", "--steps", "2000000"}},
		{[]string{"meta.population 100000000", "limit of 1000", "MEC_META_MAX_POPULATION"},
			[]string{"run", "--config", writeFile(t, dir, "meta.yaml", "meta: {population: 100000000}\n")}},
		{[]string{"--duration 1e+09", "--max-duration"}, []string{"snn", "cuba", "--duration", "1e9"}},
		{[]string{"--duration -1"}, []string{"snn", "cuba", "--duration", "-1"}},
	}
	t.Setenv("MEC_QASM_MAX_OPS", "100000")
	for _, c := range cases {
		failsFast(t, 64*mib, 5*time.Second, c.want, c.args...)
	}
	// Limits are raised as the errors say.
	mustRun(t, "fuse", "--steps", "1", "--config", writeFile(t, dir, "spike2.yaml", "spike_steps: 200000\nlimits: {max_qubits: 28, v_cap_mv: -40, resonance: 0.8, max_spike_steps: 200000}\n"))
	mustRun(t, "evolve", spec, "--method", "trotter", "--steps", "3", "--max-steps", "3")
}

// TestMetaCaps: orchestrator.Config.Validate caps the CMA-ES population and
// iterations, and the environment raises the caps.
func TestMetaCaps(t *testing.T) {
	for _, doc := range []string{"meta: {population: 100000000}", "meta: {iterations: 1000000000}"} {
		if _, err := orchestrator.ParseConfig([]byte(doc)); err == nil || !strings.Contains(err.Error(), "MEC_META_MAX_") {
			t.Errorf("%s: got %v, want the meta limit", doc, err)
		}
	}
	t.Setenv("MEC_META_MAX_POPULATION", "2000")
	if _, err := orchestrator.ParseConfig([]byte("meta: {population: 1500}")); err != nil {
		t.Errorf("population 1500 with MEC_META_MAX_POPULATION=2000: %v", err)
	}
}

// TestCancelCommands is issue 17 item 11: cancelling the context (what
// Ctrl-C does) stops the long loops of the commands within a second.
func TestCancelCommands(t *testing.T) {
	dir := t.TempDir()
	spec := writeFile(t, dir, "spec.json", `{"qubits": 10, "terms": [{"coeff": 1, "pauli": "XZIIIIIIII"}, {"coeff": 0.5, "pauli": "IIYYIIIIZZ"}], "t": 1e6}`)
	var b strings.Builder
	b.WriteString("OPENQASM 3.0;\ninclude \"stdgates.inc\";\nqubit[18] q;\n")
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&b, "h q[%d]; cx q[%d], q[%d];\n", i%18, i%18, (i+5)%18)
	}
	long := writeFile(t, dir, "long.qasm", b.String())
	cases := []struct {
		name string
		args []string
	}{
		{"evolve trotter", []string{"evolve", spec, "--method", "trotter", "--steps", "1000000"}},
		{"evolve exact", []string{"evolve", spec}},
		{"snn cuba", []string{"snn", "cuba", "--duration", "100"}},
		{"fuse", []string{"fuse", "--steps", "1000000"}},
		{"circuit run", []string{"circuit", "run", long, "--state", "--fuse", "0"}},
	}
	for _, c := range cases {
		args := c.args
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				var out, errb strings.Builder
				done <- Execute(ctx, args, &out, &errb)
			}()
			time.Sleep(500 * time.Millisecond)
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("mec %s: got %v, want context.Canceled", strings.Join(args, " "), err)
				}
			case <-time.After(time.Second):
				t.Fatalf("mec %s: still running 1 s after cancel", strings.Join(args, " "))
			}
		})
	}
}
