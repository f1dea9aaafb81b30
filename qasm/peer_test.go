package qasm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/internal/peers"
	"github.com/prismai/mec/internal/peers/peertest"
	"github.com/prismai/mec/qasm"
)

// TestPeerQuantumCircuit simulates 240 random circuits (1–12 qubits, every
// standard gate, ctrl/negctrl/inv/pow modifiers, dense unitaries) with mec
// in complex128 and with the quantum-circuit package on mec's OpenQASM 2
// export, and requires the states to agree to 1e-9 up to one global phase
// (OpenQASM 2 cannot express it). It also checks that every circuit's
// OpenQASM 3 export is accepted by the qasm-ts parser.
func TestPeerQuantumCircuit(t *testing.T) {
	if testing.Short() {
		t.Skip("peer cross-check skipped in -short mode")
	}
	sim, err := peers.Script("qasm_sim.js")
	peertest.Require(t, err)
	peertest.Require(t, peers.NodeModule("quantum-circuit"))
	const circuits = 240
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(2026, 11))
	seen := map[string]bool{}
	type job struct {
		n      int
		c      *circuit.Circuit
		want   []complex128
		s2, f2 string
		got    []complex128
		err    error
	}
	jobs := make([]*job, circuits)
	var files3 []string
	for i := range jobs {
		n := 1 + i%12
		c := randomCircuit(rng, n, 8+rng.IntN(16))
		for _, op := range c.Ops {
			seen[op.Name] = true
			if len(op.Controls) > 0 {
				seen["ctrl @"] = true
			}
			if len(op.NegControls) > 0 {
				seen["negctrl @"] = true
			}
			switch e := op.Exponent(); {
			case e == -1:
				seen["inv @"] = true
			case e != 1 && e == float64(int(e)):
				seen["pow(int) @"] = true
			case e != 1:
				seen["pow(real) @"] = true
			}
		}
		j := &job{n: n, c: c, want: state(t, c)}
		if j.s2, err = qasm.Export2(c); err != nil {
			t.Fatal(err)
		}
		j.f2 = filepath.Join(dir, fmt.Sprintf("c%03d.qasm", i))
		if err := os.WriteFile(j.f2, []byte(j.s2), 0o644); err != nil {
			t.Fatal(err)
		}
		s3, err := qasm.Export3(c)
		if err != nil {
			t.Fatal(err)
		}
		f3 := filepath.Join(dir, fmt.Sprintf("c%03d.3.qasm", i))
		if err := os.WriteFile(f3, []byte(s3), 0o644); err != nil {
			t.Fatal(err)
		}
		files3 = append(files3, f3)
		jobs[i] = j
	}
	// Node's start-up dominates; run the peer on every core.
	var wg sync.WaitGroup
	next := make(chan *job)
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				j.got, j.err = runQuantumCircuit(sim, j.f2, j.n)
			}
		}()
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	worst := 0.0
	for i, j := range jobs {
		if j.err != nil {
			t.Fatalf("circuit %d: %v", i, j.err)
		}
		d := diff(j.want, j.got, true)
		worst = max(worst, d)
		if d > 1e-9 {
			s3, _ := qasm.Export3(j.c)
			t.Fatalf("circuit %d (%d qubits): mec and quantum-circuit differ by %.3g\nmec circuit as OpenQASM 3:\n%s\nas sent to the peer:\n%s", i, j.n, d, s3, j.s2)
		}
	}
	for _, name := range append(circuit.StdGateNames(), circuit.UnitaryName, "ctrl @", "negctrl @", "inv @", "pow(int) @", "pow(real) @") {
		if !seen[name] {
			t.Errorf("the random circuits never used %s", name)
		}
	}
	t.Logf("%d circuits agree with quantum-circuit; worst difference %.3g", circuits, worst)
	checkQASM3(t, files3)
}

func runQuantumCircuit(script, file string, n int) ([]complex128, error) {
	cmd := exec.Command("node", script, file, fmt.Sprint(n))
	cmd.Env = peers.NodeEnv()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("qasm_sim.js: %v: %s", err, stderr.String())
	}
	var got struct {
		Qubits     int          `json:"qubits"`
		Amplitudes [][2]float64 `json:"amplitudes"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		return nil, fmt.Errorf("peer output: %v", err)
	}
	if got.Qubits != n || len(got.Amplitudes) != 1<<n {
		return nil, fmt.Errorf("peer returned %d qubits, %d amplitudes; want %d qubits", got.Qubits, len(got.Amplitudes), n)
	}
	amps := make([]complex128, len(got.Amplitudes))
	for k, a := range got.Amplitudes {
		amps[k] = complex(a[0], a[1])
	}
	return amps, nil
}

// checkQASM3 runs qasm-ts on the files and fails on any rejection.
func checkQASM3(t *testing.T, files []string) {
	t.Helper()
	script, err := peers.Script("qasm3_check.mjs")
	peertest.Require(t, err)
	peertest.Require(t, peers.NodeModule("qasm-ts"))
	pdir := filepath.Dir(script)
	args := append([]string{"--import", "./register.mjs", "qasm3_check.mjs"}, files...)
	cmd := exec.Command("node", args...)
	cmd.Dir = pdir
	cmd.Env = peers.NodeEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		var bad []string
		for _, l := range strings.Split(string(out), "\n") {
			if !strings.HasPrefix(l, "ok ") && l != "" {
				bad = append(bad, l)
			}
		}
		if len(bad) > 5 {
			bad = bad[:5]
		}
		t.Fatalf("qasm-ts rejected mec's OpenQASM 3 export: %v\n%s", err, strings.Join(bad, "\n"))
	}
	if n := strings.Count(string(out), "\nok ") + boolInt(strings.HasPrefix(string(out), "ok ")); n != len(files) {
		t.Fatalf("qasm-ts reported %d ok lines for %d files:\n%s", n, len(files), out)
	}
	t.Logf("qasm-ts accepted all %d OpenQASM 3 exports", len(files))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestPeerQASM3Examples checks the shipped examples and the exports of
// hand-written programs using every construct of the subset with qasm-ts.
func TestPeerQASM3Examples(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.qasm")
	lang, _ := filepath.Glob("testdata/lang/*.qasm")
	files = append(files, lang...)
	dir := t.TempDir()
	var out []string
	inputs := map[string]map[string]float64{"teleport.qasm": {"theta": 1.1}, "syndrome.qasm": {"err": 1}, "vote.qasm": {"theta": 1}}
	for _, f := range files {
		c, err := qasm.ParseFileContext(context.Background(), f, qasm.Options{Params: inputs[filepath.Base(f)], Host: &majorityHost{}})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		s3, err := qasm.Export3(c)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, strings.ReplaceAll(strings.TrimPrefix(f, "../"), "/", "_"))
		if err := os.WriteFile(p, []byte(s3), 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
		// (qasm-ts 2.1.4 rejects some valid statements of the language
		// programs, such as bit[2] m = measure anc;, so they go through
		// their exports only.)
		if b, _ := os.ReadFile(f); strings.Contains(string(b), "OPENQASM 3") && !strings.HasPrefix(f, "testdata") {
			abs, err := filepath.Abs(f)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, abs)
		}
	}
	if len(out) == 0 {
		t.Fatal("no examples found")
	}
	checkQASM3(t, out)
}
