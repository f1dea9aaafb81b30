package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/devices/qpu"
	"github.com/prismai/mec/sim"
	"github.com/prismai/mec/sim/simtest"
)

// syncBuffer is a bytes.Buffer safe to read while the command writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServeQPU runs `mec serve qpu` on a free loopback port until the test
// ends and returns its URL and token.
func startServeQPU(t *testing.T) (string, string) {
	t.Helper()
	const token = "serve-test-token-7f3a"
	tf := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tf, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- Execute(ctx, []string{"serve", "qpu", "--listen", "127.0.0.1:0", "--backend", "cpu", "--token-file", tf}, &out, &errb)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve qpu: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("serve qpu did not shut down")
		}
	})
	re := regexp.MustCompile(`listening on (http://\S+)`)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1], token
		}
		select {
		case err := <-done:
			t.Fatalf("serve qpu exited: %v\n%s", err, errb.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatalf("serve qpu did not start:\n%s\n%s", out.String(), errb.String())
	return "", ""
}

func TestServeQPU(t *testing.T) {
	url, token := startServeQPU(t)
	b, err := qpu.New(qpu.Config{URL: url, Kind: qpu.KindMec, Token: token, PollInterval: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c := circuit.New(4)
	c.Append("h", nil, 0).Append("cx", nil, 0, 1).Append("ry", []float64{0.9}, 2).Append("cx", nil, 1, 3)
	amps, err := simtest.StateVector(c)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]float64, len(amps))
	for i, a := range amps {
		p[i] = real(a)*real(a) + imag(a)*imag(a)
	}
	m := &circuit.Circuit{Qubits: 4, Clbits: 4, Ops: append([]circuit.Op(nil), c.Ops...)}
	for q := 0; q < 4; q++ {
		m.Measure(q, q)
	}
	seed := uint64(9)
	counts, err := b.SampleCircuit(t.Context(), m, 10000, &seed)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qpu.ChiSquareTest(counts, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("mec serve qpu: χ² = %.2f, df = %d, p = %.3f", res.Stat, res.DF, res.P)
	if res.P < 1e-3 {
		t.Fatalf("χ² test failed: %+v", res)
	}
	// Without the token: an authentication error that does not show it.
	nb, _ := qpu.New(qpu.Config{URL: url, Kind: qpu.KindMec, Token: "not-the-token"})
	_, err = nb.SampleCircuit(t.Context(), m, 10, nil)
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), token) {
		t.Fatalf("unauthenticated: %v", err)
	}
}

func TestServeQPURefusesOpenTokenFile(t *testing.T) {
	tf := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tf, []byte("x-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tf, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := run(t, "serve", "qpu", "--listen", "127.0.0.1:0", "--token-file", tf)
	if err == nil || !strings.Contains(err.Error(), "permissions") {
		t.Fatalf("0644 token file: %v", err)
	}
}

// TestServeQPUMaxBranches: the branch budget of mec serve qpu is 1 to
// sim.MaxBranchesCap; anything else is refused before the server starts.
func TestServeQPUMaxBranches(t *testing.T) {
	for _, v := range []string{"0", "-2", fmt.Sprint(sim.MaxBranchesCap + 1)} {
		_, err := run(t, "serve", "qpu", "--listen", "127.0.0.1:0", "--max-branches", v)
		if want := "--max-branches " + v + ": want 1 to"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--max-branches %s: %v, want %q", v, err, want)
		}
	}
}

// TestMaxBranchesHelp: the --max-branches help of mec circuit run and of
// mec serve qpu names the cap (sim.MaxBranchesCap), and circuit run's
// says what 0 means.
func TestMaxBranchesHelp(t *testing.T) {
	capText := fmt.Sprint(sim.MaxBranchesCap)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"circuit", "run", "--help"}, []string{"0: as many as fit in 2 GiB, at most " + capText}},
		{[]string{"serve", "qpu", "--help"}, []string{"1 to " + capText}},
	} {
		out := mustRun(t, tc.args...)
		i := strings.Index(out, "--max-branches int")
		if i < 0 {
			t.Fatalf("%v: no --max-branches flag in\n%s", tc.args, out)
		}
		line, _, _ := strings.Cut(out[i:], "\n")
		for _, w := range tc.want {
			if !strings.Contains(line, w) {
				t.Errorf("%v: %q does not say %q", tc.args, line, w)
			}
		}
	}
}

// TestFuseQuantumBackendQPU runs a fusion simulation whose ψ is checked on
// `mec serve qpu` over loopback (transpiled to {rz, sx, x, cx} on a line):
// every check must pass the χ² test at significance 0.001.
func TestFuseQuantumBackendQPU(t *testing.T) {
	url, token := startServeQPU(t)
	t.Setenv(qpu.EnvURL, url)
	t.Setenv(qpu.EnvKind, "mec")
	t.Setenv(qpu.EnvToken, token)
	t.Setenv(qpu.EnvTokenFile, "")
	t.Setenv(qpu.EnvBasis, "rz,sx,x,cx")
	t.Setenv(qpu.EnvCoupling, "0-1,1-2,2-3,3-4,4-5")
	out := mustRun(t, "fuse", "--steps", "4", "--qpu-every", "2", "--quantum-backend", "qpu", "--qpu-shots", "20000", "--json")
	var got struct {
		QPU []struct {
			Step  int     `json:"step"`
			Chi2  float64 `json:"chi2"`
			DF    int     `json:"df"`
			P     float64 `json:"p_value"`
			Shots int     `json:"shots"`
		} `json:"qpu"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.QPU) != 2 || got.QPU[0].Step != 2 || got.QPU[1].Step != 4 {
		t.Fatalf("qpu checks: %+v", got.QPU)
	}
	for _, c := range got.QPU {
		t.Logf("fuse, QPU check after step %d: χ² = %.2f, df = %d, p = %.3f (%d shots)", c.Step, c.Chi2, c.DF, c.P, c.Shots)
		if c.P < 1e-3 || c.Shots != 20000 {
			t.Errorf("check after step %d failed: %+v", c.Step, c)
		}
	}
	text := mustRun(t, "fuse", "--steps", "2", "--quantum-backend", "qpu", "--qpu-shots", "4000")
	if !strings.Contains(text, "QPU check after step 2") || !strings.Contains(text, "consistent with |ψ|²") {
		t.Fatalf("table:\n%s", text)
	}
	if _, err := run(t, "fuse", "--steps", "1", "--quantum-backend", "gpu"); err == nil {
		t.Fatal("--quantum-backend gpu accepted")
	}
}
