package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prismai/mec/engines/fft"
	"github.com/prismai/mec/federation"
	"github.com/prismai/mec/runtime/ledger"
	"github.com/prismai/mec/runtime/telemetry"
	"github.com/spf13/cobra"
)

// TestRun runs the integrated system for a short while with --json and a
// fault, and checks the verification table, the rollback and the ledger.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "scenario.yaml")
	if err := os.WriteFile(cfg, []byte("faults: [{tick: 25, kind: decohere}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	led := filepath.Join(dir, "ledger")
	out := mustRun(t, "run", "--config", cfg, "--ticks", "40", "--ledger", led, "--json")
	var got struct {
		Backend map[string]string `json:"backend"`
		Summary struct {
			Ticks     int  `json:"ticks"`
			Executed  int  `json:"executed"`
			Pass      bool `json:"pass"`
			LedgerDir string
			Learning  struct {
				Exchanges int     `json:"gradient_exchanges"`
				Mutations int     `json:"mutations"`
				Outcomes  float64 `json:"measurement_outcomes"`
			} `json:"learning"`
			Rollbacks []struct {
				At       int  `json:"failed_tick"`
				To       int  `json:"restored_tick"`
				BitExact bool `json:"bit_exact"`
			} `json:"rollbacks"`
			Checks []struct {
				Name  string  `json:"name"`
				Value float64 `json:"value"`
				Pass  bool    `json:"pass"`
			} `json:"verification"`
		} `json:"summary"`
		Verify struct {
			Records     int `json:"records"`
			Checkpoints int `json:"checkpoints"`
		} `json:"ledger_verify"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	s := got.Summary
	if s.Ticks != 40 || s.Executed != 45 || !s.Pass || len(s.Checks) != 6 || got.Backend["state_vector"] == "" {
		t.Errorf("summary: %+v", s)
	}
	if l := s.Learning; l.Exchanges < 6 || l.Mutations < 3 || l.Outcomes == 0 {
		t.Errorf("learning: %+v, want the fusion layer's gradient exchange and meta-evolution in every 5th and 10th step", l)
	}
	if len(s.Rollbacks) != 1 || s.Rollbacks[0].At != 25 || s.Rollbacks[0].To != 20 || !s.Rollbacks[0].BitExact {
		t.Errorf("rollbacks: %+v", s.Rollbacks)
	}
	if got.Verify.Records < 80 || got.Verify.Checkpoints < 1 {
		t.Errorf("ledger: %+v", got.Verify)
	}
	if v := mustRun(t, "ledger", "verify", led); !strings.HasPrefix(v, "OK ") {
		t.Errorf("ledger verify: %s", v)
	}
	// Every bus message is in a per-tick batch: prove one of them.
	var leaf string
	err := ledger.Scan(led, func(r ledger.Record) error {
		if e, ok := r.Event.(telemetry.SystemEvent); ok && e.Kind == "tick" && leaf == "" {
			leaf = e.Fields["msg.leaf.2"].Str
		}
		return nil
	})
	if err != nil || leaf == "" {
		t.Fatalf("no message batch in the ledger (%v)", err)
	}
	if p := mustRun(t, "ledger", "proof", led, "--message", leaf); !strings.Contains(p, "verified:  yes") || !strings.Contains(p, "from SemanticPlasticity") {
		t.Errorf("ledger proof --message:\n%s", p)
	}
	if _, err := run(t, "ledger", "proof", led, "--message", ledger.MessageLeaf([]byte("never sent")).String()); err == nil {
		t.Error("an unknown message was proven")
	}
	text := mustRun(t, "run", "--ticks", "12", "--ledger", filepath.Join(dir, "ledger2"))
	for _, want := range []string{"coherence entropy", "constitutional compliance", "federated drift", "reflexive latency", "reflexive loop latency", "ledger commit lag", "ledger: ", "PASS",
		"gradient exchange", "meta-evolution", "inject_meta_graph"} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q:\n%s", want, text)
		}
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("ticks: -3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"run", "--ticks", "0"},
		{"run", "--config", filepath.Join(dir, "missing.yaml")},
		{"run", "--config", bad},
		{"run", "--backend", "no-such-backend", "--ticks", "2"},
		{"run", "extra"},
	} {
		if _, err := run(t, args...); err == nil {
			t.Errorf("mec %s: no error", strings.Join(args, " "))
		}
	}
}

// TestRunSeedReproducible is issue 17 item 3: two `mec run --seed 7`
// write the same ledger root (the built-in scenario, its fault and
// rollback included). MEC_FFT_PLANNER=measure is set and must be ignored:
// the run removes it before any backend starts.
func TestRunSeedReproducible(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv(fft.PlannerEnv, "measure")
	roots := map[string]bool{}
	for i := 0; i < 2; i++ {
		led := filepath.Join(dir, fmt.Sprintf("l%d", i))
		mustRun(t, "run", "--seed", "7", "--ticks", "130", "--ledger", led, "--json")
		var v struct {
			Report struct {
				Root    string `json:"root"`
				Records int    `json:"records"`
			} `json:"report"`
		}
		if err := json.Unmarshal([]byte(mustRun(t, "ledger", "verify", led, "--json")), &v); err != nil {
			t.Fatal(err)
		}
		if v.Report.Root == "" || v.Report.Records < 260 {
			t.Fatalf("ledger %+v", v.Report)
		}
		roots[v.Report.Root] = true
	}
	if len(roots) != 1 {
		t.Errorf("two `mec run --seed 7` gave ledger roots %v", roots)
	}
	if v, ok := os.LookupEnv(fft.PlannerEnv); ok {
		t.Errorf("a reproducible run left %s=%q in the environment", fft.PlannerEnv, v)
	}
}

// TestRunTemporaryLedger: without --ledger the run's ledger goes to a new
// temporary directory, named in the output, verified, and removed when
// the run ends, so neither it nor its signing key is left behind.
func TestRunTemporaryLedger(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	text := mustRun(t, "run", "--ticks", "6")
	if !strings.Contains(text, "ledger: "+filepath.Join(tmp, "mec-run-")) || !strings.Contains(text, "verified") {
		t.Errorf("the output does not name the verified temporary ledger:\n%s", text)
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("the run left %s behind in the temporary folder", e.Name())
	}
}

// TestCleanTemporary: a temporary run folder is removed when the run
// passes, and kept without its private keys when it fails.
func TestCleanTemporary(t *testing.T) {
	cmd := &cobra.Command{}
	var stderr strings.Builder
	cmd.SetErr(&stderr)
	for _, keep := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "run")
		if err := os.MkdirAll(filepath.Join(dir, "n1"), 0o700); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"ledger.pub", ledger.PrivateKeyFile, filepath.Join("n1", federation.SigningKeyFile)} {
			if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		cleanTemporary(cmd, dir, keep)
		_, err := os.Stat(dir)
		if !keep {
			if !os.IsNotExist(err) {
				t.Errorf("a passed run's folder is still there: %v", err)
			}
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "ledger.pub")); err != nil {
			t.Errorf("a failed run's folder lost its public key: %v", err)
		}
		for _, f := range []string{ledger.PrivateKeyFile, filepath.Join("n1", federation.SigningKeyFile)} {
			if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
				t.Errorf("a failed run's folder keeps %s: %v", f, err)
			}
		}
	}
	if stderr.Len() > 0 {
		t.Errorf("stderr: %s", stderr.String())
	}
}
