package qpu

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prismai/mec/internal/peers"
	"github.com/prismai/mec/internal/peers/peertest"
)

// TestPeerQASM3Transpiled has the independent OpenQASM 3 parser qasm-ts
// (../shared/peers/qasm3_check.mjs) read what Transpile and ExportBasis send
// to a device, in both bases. It skips, saying why, when node or the peer is
// absent (fails under MEC_REQUIRE_PEERS=1).
func TestPeerQASM3Transpiled(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		peertest.Require(t, fmt.Errorf("node is not on PATH: %w", err))
	}
	script, err := peers.Script("qasm3_check.mjs")
	peertest.Require(t, err)
	peertest.Require(t, peers.NodeModule("qasm-ts"))
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 5))
	var files []string
	for i := 0; i < 20; i++ {
		tg := Target{TwoQubit: BasisCX, Coupling: [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 4}}}
		if i%2 == 1 {
			tg.TwoQubit = BasisECR
		}
		c := randomCircuit(rng, 2+rng.IntN(4), 12, true)
		tr, _, err := Transpile(c, tg)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ExportBasis(tr)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, fmt.Sprintf("t%02d.qasm", i))
		if err := os.WriteFile(f, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	cmd := exec.Command("node", append([]string{"--import", "./register.mjs", "qasm3_check.mjs"}, files...)...)
	cmd.Dir = filepath.Dir(script)
	cmd.Env = peers.NodeEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("qasm-ts rejected a transpiled export: %v\n%s", err, out)
	}
	if n := strings.Count("\n"+string(out), "\nok "); n != len(files) {
		t.Fatalf("qasm-ts: %d ok lines for %d files:\n%s", n, len(files), out)
	}
	t.Logf("qasm-ts accepted all %d transpiled exports", len(files))
}
