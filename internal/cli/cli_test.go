package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"math/cmplx"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prismai/mec/internal/peers"
	"github.com/prismai/mec/internal/peers/peertest"
	"github.com/prismai/mec/qasm"
	"github.com/prismai/mec/sim/simtest"
)

// run executes the command line and returns stdout.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := Execute(context.Background(), args, &out, &errb)
	return out.String(), err
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := run(t, args...)
	if err != nil {
		t.Fatalf("mec %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func TestDevices(t *testing.T) {
	var got struct {
		Backends []struct {
			Name   string `json:"Name"`
			Status string `json:"Status"`
		} `json:"backends"`
		Default string `json:"default"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "devices", "--json")), &got); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, b := range got.Backends {
		if b.Name == "cpu" {
			found = b.Status == "loaded"
		}
	}
	if !found || got.Default == "" {
		t.Errorf("devices --json: cpu not loaded or no default: %+v", got)
	}
	text := mustRun(t, "devices")
	if !strings.Contains(text, "cpu") || !strings.Contains(text, "loaded") || !strings.Contains(text, "default:") {
		t.Errorf("devices output lacks the cpu line:\n%s", text)
	}
}

func readState(t *testing.T, s string) []complex128 {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		t.Fatalf("state JSON: %v\n%s", err, s)
	}
	if len(raw) != 2 || raw["qubits"] == nil || raw["amplitudes"] == nil {
		t.Fatalf("state JSON must have exactly the keys qubits and amplitudes: %s", s)
	}
	var st StateJSON
	if err := json.Unmarshal([]byte(s), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Amplitudes) != 1<<st.Qubits {
		t.Fatalf("%d amplitudes for %d qubits", len(st.Amplitudes), st.Qubits)
	}
	v := make([]complex128, len(st.Amplitudes))
	for i, a := range st.Amplitudes {
		v[i] = complex(a[0], a[1])
	}
	return v
}

// TestCircuitRunState checks the QFT example against the analytic
// QFT|5⟩ = Σ_k e^{2πi·5k/8}|k⟩/√8 (tolerance 1e-12).
func TestCircuitRunState(t *testing.T) {
	for _, prec := range []string{"c128", "c64"} {
		v := readState(t, mustRun(t, "circuit", "run", "../../examples/qft3.qasm", "--state", "--json", "--precision", prec))
		tol := 1e-12
		if prec == "c64" {
			tol = 1e-6
		}
		for k, a := range v {
			want := cmplx.Exp(complex(0, 2*math.Pi*5*float64(k)/8)) / complex(math.Sqrt(8), 0)
			if cmplx.Abs(a-want) > tol {
				t.Errorf("%s: amplitude %d = %v, want %v", prec, k, a, want)
			}
		}
	}
	text := mustRun(t, "circuit", "run", "../../examples/qft3.qasm", "--state")
	if !strings.Contains(text, "backend cpu") || strings.Count(text, "⟩") != 8 {
		t.Errorf("text state output:\n%s", text)
	}
}

func TestCircuitRunShots(t *testing.T) {
	args := []string{"circuit", "run", "../../examples/ghz.qasm", "--shots", "2000", "--seed", "7", "--json"}
	a, b := mustRun(t, args...), mustRun(t, args...)
	if a != b {
		t.Fatalf("same seed gave different output:\n%s\n%s", a, b)
	}
	var got struct {
		Shots  int            `json:"shots"`
		Counts map[string]int `json:"counts"`
	}
	if err := json.Unmarshal([]byte(a), &got); err != nil {
		t.Fatal(err)
	}
	n0, n1 := got.Counts["00000"], got.Counts["11111"]
	if len(got.Counts) != 2 || n0+n1 != 2000 || math.Abs(float64(n0)-1000) > 5*math.Sqrt(500) {
		t.Errorf("GHZ counts %v (want only 00000/11111, each 1000 ± 5σ)", got.Counts)
	}
	other := mustRun(t, "circuit", "run", "../../examples/ghz.qasm", "--shots", "2000", "--seed", "8", "--json")
	if other == a {
		t.Error("different seeds gave identical counts")
	}
}

func TestCircuitConvert(t *testing.T) {
	src, err := qasm.ParseFile("../../examples/qft3.qasm")
	if err != nil {
		t.Fatal(err)
	}
	want, err := simtest.StateVector(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"qasm3", "qasm2"} {
		out := mustRun(t, "circuit", "convert", "../../examples/qft3.qasm", "--to", to)
		c, err := qasm.Parse(out)
		if err != nil {
			t.Fatalf("--to %s output does not parse: %v\n%s", to, err, out)
		}
		got, err := simtest.StateVector(c)
		if err != nil {
			t.Fatal(err)
		}
		// The QFT example has no global phase, so both exports are exact.
		for i := range want {
			if cmplx.Abs(want[i]-got[i]) > 1e-12 {
				t.Fatalf("--to %s: amplitude %d = %v, want %v", to, i, got[i], want[i])
			}
		}
	}
	if _, err := run(t, "circuit", "convert", "../../examples/qft3.qasm", "--to", "qasm4"); err == nil {
		t.Error("--to qasm4 accepted")
	}
}

func TestCircuitErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.qasm")
	if err := os.WriteFile(bad, []byte("OPENQASM 3.0;\ninclude \"stdgates.inc\";\nqubit[2] q;\ncx q[0], q[5];\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := [][]string{
		{"circuit", "run", bad},
		{"circuit", "run", filepath.Join(dir, "missing.qasm")},
		{"circuit", "run", "../../examples/ghz.qasm", "--precision", "c32"},
		{"circuit", "run", "../../examples/ghz.qasm", "--backend", "nosuch"},
		{"circuit", "convert", bad},
	}
	wants := []string{"bad.qasm:4:12: index 5 out of range", "missing.qasm", "c32", "nosuch", "index 5 out of range"}
	for i, args := range cases {
		_, err := run(t, args...)
		if err == nil || !strings.Contains(err.Error(), wants[i]) {
			t.Errorf("mec %s: error %v, want it to contain %q", strings.Join(args, " "), err, wants[i])
		}
	}
}

// TestEvolveCommand runs a two-qubit spec through the command: H = X⊗I
// rotates qubit 0 so that amplitude |01⟩ is −i·sin t.
func TestEvolveCommand(t *testing.T) {
	spec := filepath.Join(t.TempDir(), "spec.json")
	if err := os.WriteFile(spec, []byte(`{"qubits":2,"terms":[{"coeff":1,"pauli":"XI"}],"t":0.7,"keep":[0]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"exact", "trotter"} {
		out := mustRun(t, "evolve", spec, "--method", method, "--steps", "10")
		var got struct {
			Amplitudes [][2]float64   `json:"amplitudes"`
			Rho        [][][2]float64 `json:"rho"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Amplitudes) != 4 || math.Abs(got.Amplitudes[0][0]-math.Cos(0.7)) > 1e-12 || math.Abs(got.Amplitudes[1][1]+math.Sin(0.7)) > 1e-12 {
			t.Errorf("%s: amplitudes %v", method, got.Amplitudes)
		}
		if len(got.Rho) != 2 || math.Abs(got.Rho[1][1][0]-math.Pow(math.Sin(0.7), 2)) > 1e-12 {
			t.Errorf("%s: rho %v", method, got.Rho)
		}
	}
	// The emitted Trotter circuit, run as a circuit, gives the trotter state.
	qf := filepath.Join(t.TempDir(), "trotter.qasm")
	mustRun(t, "evolve", spec, "--method", "trotter", "--steps", "3", "--emit-qasm", qf)
	v := readState(t, mustRun(t, "circuit", "run", qf, "--state", "--json"))
	if math.Abs(real(v[0])-math.Cos(0.7)) > 1e-12 || math.Abs(imag(v[1])+math.Sin(0.7)) > 1e-12 {
		t.Errorf("emitted Trotter circuit gives %v", v)
	}
	if _, err := run(t, "evolve", spec, "--method", "magic"); err == nil {
		t.Error("--method magic accepted")
	}
}

// TestCircuitRunMatchesPeer runs the Bell example (OpenQASM 2) through
// `mec circuit run --state --json` and qasm_sim.js and compares the two
// state JSONs amplitude by amplitude (1e-9).
func TestCircuitRunMatchesPeer(t *testing.T) {
	script, err := peers.Script("qasm_sim.js")
	peertest.Require(t, err)
	peertest.Require(t, peers.NodeModule("quantum-circuit"))
	dir := t.TempDir()
	file := filepath.Join(dir, "circ.qasm")
	src := "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[3];\nh q[0];\ncx q[0],q[1];\nu3(0.3,0.2,0.1) q[2];\ncu1(0.7) q[2],q[0];\nry(1.1) q[1];\nccx q[0],q[1],q[2];\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	mine := readState(t, mustRun(t, "circuit", "run", file, "--state", "--json"))
	cmd := exec.Command("node", script, file)
	cmd.Env = peers.NodeEnv()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("qasm_sim.js: %v", err)
	}
	var peer StateJSON
	if err := json.Unmarshal(out, &peer); err != nil {
		t.Fatal(err)
	}
	if peer.Qubits != 3 || len(peer.Amplitudes) != len(mine) {
		t.Fatalf("peer state has %d qubits, %d amplitudes", peer.Qubits, len(peer.Amplitudes))
	}
	for i, a := range peer.Amplitudes {
		if cmplx.Abs(complex(a[0], a[1])-mine[i]) > 1e-9 {
			t.Errorf("amplitude %d: mec %v, quantum-circuit %v", i, mine[i], a)
		}
	}
}

// TestBenchCommand runs the quick CUBA workload through `mec bench` and
// checks the table, the JSON report and the Go benchmark file.
func TestBenchCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("measures memory bandwidth and runs CUBA (seconds)")
	}
	dir := t.TempDir()
	jf, gf := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.txt")
	out := mustRun(t, "bench", "--backend", "cpu", "--suite", "snn", "--quick", "--json", jf, "--go-bench", gf)
	if !strings.Contains(out, "memory bandwidth:") || !strings.Contains(out, "cuba/duration=0.25s") {
		t.Errorf("table:\n%s", out)
	}
	var rep struct {
		Figures []struct {
			Suite string  `json:"suite"`
			Value float64 `json:"value"`
		} `json:"figures"`
	}
	b, err := os.ReadFile(jf)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil || len(rep.Figures) != 1 || rep.Figures[0].Suite != "snn" || !(rep.Figures[0].Value > 0) {
		t.Errorf("JSON report %s (%v)", b, err)
	}
	g, err := os.ReadFile(gf)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(g), "BenchmarkSnn/cuba/duration=0.25s/backend=cpu\t1\t") || !strings.Contains(string(g), "Unit s/loop better=lower") {
		t.Errorf("Go benchmark file:\n%s", g)
	}
	if _, err := run(t, "bench", "--backend", "cpu", "--suite", "snn", "--quick", "--svg", filepath.Join(dir, "x.svg")); err == nil || !strings.Contains(err.Error(), "no gate sweep") {
		t.Errorf("--svg without a sweep: %v", err)
	}
	if _, err := run(t, "bench", "--suite", "nope"); err == nil {
		t.Error("unknown suite accepted")
	}
}

// TestFuseCommand runs a short fusion simulation: JSON has a metrics row
// and an event per step, the SVG is written, a YAML config is honoured
// and a bad one is rejected.
func TestFuseCommand(t *testing.T) {
	dir := t.TempDir()
	svgFile := filepath.Join(dir, "f.svg")
	out := mustRun(t, "fuse", "--steps", "10", "--json", "--svg", svgFile)
	var got struct {
		Learning struct {
			Exchanges int       `json:"gradient_exchanges"`
			Mutations int       `json:"mutations"`
			Shots     int       `json:"measurement_outcomes"`
			Theta0    []float64 `json:"theta_initial"`
			Theta     []float64 `json:"theta"`
		} `json:"learning"`
		Memory struct {
			Patterns []uint64 `json:"patterns"`
			Recall   float64  `json:"recall_accuracy"`
		} `json:"memory"`
		Interfaces struct {
			Semantic []float64 `json:"phase_to_semantic"`
			Entropy  float64   `json:"monitor_entropy"`
		} `json:"interfaces"`
		Steps []struct {
			Step int     `json:"step"`
			HCoh float64 `json:"h_coh"`
		} `json:"steps"`
		Events []struct {
			CoherenceEntropy float64 `json:"coherence_entropy"`
		} `json:"events"`
		Costs struct {
			Steps  int `json:"steps"`
			Phases []struct {
				Phase  string  `json:"phase"`
				Ms     float64 `json:"ms_per_step"`
				Passes int     `json:"passes"`
			} `json:"phases"`
		} `json:"costs"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Steps) != 10 || len(got.Events) != 10 || got.Steps[5].Step != 6 || got.Events[2].CoherenceEntropy != got.Steps[2].HCoh {
		t.Errorf("fuse JSON: %s", out)
	}
	// The default scenario learns: two gradient exchanges (steps 5, 10)
	// and one mutation (step 10) from measurement outcomes move Θ; the
	// interfaces report on the final state.
	l := got.Learning
	if l.Exchanges != 2 || l.Mutations != 1 || l.Shots == 0 || slices.Equal(l.Theta0, l.Theta) {
		t.Errorf("fuse learning: %+v", l)
	}
	if len(got.Memory.Patterns) < 2 || got.Memory.Recall != 1 {
		t.Errorf("fuse memory: %+v", got.Memory)
	}
	if len(got.Interfaces.Semantic) != 8 || math.Abs(got.Interfaces.Entropy-got.Steps[9].HCoh) > 1e-12 {
		t.Errorf("fuse interfaces: %+v (last H_coh %v)", got.Interfaces, got.Steps[9].HCoh)
	}
	if c := got.Costs; c.Steps != 10 || len(c.Phases) != 6 || c.Phases[0].Phase != "trotter" || c.Phases[0].Passes < 1 || !(c.Phases[0].Ms > 0) {
		t.Errorf("fuse JSON costs: %+v", c)
	}
	if b, err := os.ReadFile(svgFile); err != nil || !strings.Contains(string(b), "<svg") || !strings.Contains(string(b), "coherence entropy") {
		t.Errorf("SVG not written (%v)", err)
	}
	cfg := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfg, []byte("qubits: 3\ndt: 0.1\nspike_steps: 5\nalpha: 10\ngamma: 0.01\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	text := mustRun(t, "fuse", "--config", cfg, "--steps", "3")
	if !strings.Contains(text, "H_coh") || !strings.Contains(text, "det(J)") || !strings.Contains(text, "meta-evolution") ||
		!strings.Contains(text, "inject_meta_graph") || !strings.Contains(text, "stability criteria") || !strings.Contains(text, "cost per step: trotter") ||
		!strings.Contains(text, "memory (P_S") || strings.Count(text, "\n") != 14 || !strings.Contains(text, "H_φ") {
		t.Errorf("table:\n%s", text)
	}
	// --bounds: the bandwidth bound of the step's passes (the stream peer's,
	// or the Go loop's without it) and each pass-making phase's time over
	// its own bound.
	var bounded struct {
		Costs struct {
			BoundMs       float64 `json:"bound_ms"`
			TimeOverBound float64 `json:"time_over_bound"`
			Phases        []struct {
				Phase         string  `json:"phase"`
				Bound         string  `json:"bound"`
				TimeOverBound float64 `json:"time_over_bound"`
			} `json:"phases"`
		} `json:"costs"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "fuse", "--config", cfg, "--steps", "3", "--bounds", "--json")), &bounded); err != nil {
		t.Fatal(err)
	}
	if c := bounded.Costs; !(c.BoundMs > 0) || !(c.TimeOverBound > 0) || len(c.Phases) != 6 || !(c.Phases[0].TimeOverBound > 0) ||
		!strings.Contains(c.Phases[0].Bound, "pass") || c.Phases[2].Bound != "" {
		t.Errorf("fuse --bounds costs: %+v", c)
	}
	if text := mustRun(t, "fuse", "--config", cfg, "--steps", "3", "--bounds"); !strings.Contains(text, "of its bound") || !strings.Contains(text, "bandwidth bound of its passes") {
		t.Errorf("fuse --bounds table:\n%s", text)
	}
	if err := os.WriteFile(cfg, []byte("qubits: 40\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "fuse", "--config", cfg); err == nil || !strings.Contains(err.Error(), "cap") {
		t.Errorf("40 qubits: %v", err)
	}
}

// TestCircuitRunParamsAndIf runs examples/teleport.qasm (an input bound
// with --param, if corrections on measured bits): c[2] is 1 with
// probability sin²(θ/2), within 5 standard errors over 4000 shots; a
// missing or malformed --param is a clear error.
func TestCircuitRunParamsAndIf(t *testing.T) {
	const theta, shots = 1.1, 4000
	var got struct {
		Counts map[string]int `json:"counts"`
	}
	out := mustRun(t, "circuit", "run", "../../examples/teleport.qasm", "--param", "theta=1.1", "--shots", "4000", "--seed", "3", "--json")
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	ones := 0
	for k, n := range got.Counts {
		if k[0] == '1' {
			ones += n
		}
	}
	p := math.Pow(math.Sin(theta/2), 2)
	if se := math.Sqrt(p * (1 - p) / shots); math.Abs(float64(ones)/shots-p) > 5*se {
		t.Errorf("P(c[2]=1) = %v, want %v ± %v", float64(ones)/shots, p, 5*se)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, `input "theta" needs a value`},
		{[]string{"--param", "theta"}, "want NAME=VALUE"},
		{[]string{"--param", "theta=abc"}, "--param theta"},
		{[]string{"--param", "theta=1", "--param", "theta=2"}, "given twice"},
		{[]string{"--param", "theta=1", "--param", "phi=2"}, `"phi" is not an input`},
	} {
		_, err := run(t, append([]string{"circuit", "run", "../../examples/teleport.qasm"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestCircuitInputHygiene: contradictory or impossible shot flags and a
// circuit with nothing to sample are clear errors; - reads standard input;
// --version prints the binary's version.
func TestCircuitInputHygiene(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--shots", "0"}, "--shots 0: want at least 1"},
		{[]string{"--shots", "-5"}, "--shots -5: want at least 1"},
		{[]string{"--state", "--shots", "5"}, "give one of them"},
		{[]string{"--state", "--memory"}, "do not go with --state"},
		{[]string{"--state", "--max-branches", "4"}, "do not go with --state"},
		{[]string{"--max-branches", "-1"}, "--max-branches -1"},
	} {
		_, err := run(t, append([]string{"circuit", "run", "../../examples/ghz.qasm"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
	stdin := func(src string, args ...string) (string, error) {
		root := NewRoot()
		var out bytes.Buffer
		root.SetArgs(args)
		root.SetIn(strings.NewReader(src))
		root.SetOut(&out)
		root.SetErr(io.Discard)
		err := root.ExecuteContext(context.Background())
		return out.String(), err
	}
	src := "OPENQASM 3.0;\ninclude \"stdgates.inc\";\nqubit[2] q;\nbit[2] c;\nx q[1];\nc = measure q;\n"
	if out, err := stdin(src, "circuit", "run", "-", "--shots", "7"); err != nil || !strings.Contains(out, "10  7") {
		t.Errorf("circuit run - : %q, %v", out, err)
	}
	if out, err := stdin(src, "circuit", "convert", "-", "--to", "qasm2"); err != nil || !strings.Contains(out, "x q[1];") {
		t.Errorf("circuit convert - : %q, %v", out, err)
	}
	if _, err := stdin("OPENQASM 3; qubit q;", "circuit", "run", "-"); err == nil || !strings.Contains(err.Error(), "no classical bits") {
		t.Errorf("no classical bits: %v", err)
	}
	if _, err := stdin("OPENQASM 3; qubit q; h q;", "circuit", "run", "-"); err == nil || !strings.Contains(err.Error(), "<stdin>:1:22") {
		t.Errorf("error position on standard input: %v", err)
	}
	if out := mustRun(t, "--version"); !strings.HasPrefix(out, "mec ") || !strings.Contains(out, "go1.") {
		t.Errorf("--version: %q", out)
	}
}

// TestCircuitObservables: --observable and --observables print exact
// expectation values of the final state (GHZ: ⟨ZZIII⟩ = 1, ⟨XXXXX⟩ = 1,
// ⟨ZIIII⟩ = 0) and, with --shots, estimates; bad observables are errors.
func TestCircuitObservables(t *testing.T) {
	file := filepath.Join(t.TempDir(), "obs.txt")
	if err := os.WriteFile(file, []byte("# GHZ parities\nZZIII\n\n0.5*XXXXX - ZIIII  # half the X parity\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Observables []struct {
			Observable string  `json:"observable"`
			Exact      float64 `json:"exact"`
			Mean       float64 `json:"mean"`
			StdErr     float64 `json:"stderr"`
			Shots      int     `json:"shots_per_term"`
		} `json:"observables"`
	}
	out := mustRun(t, "circuit", "run", "../../examples/ghz.qasm", "--observables", file, "--observable", "ZIIII", "--shots", "2000", "--json")
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := []float64{0, 1, 0.5}
	if len(got.Observables) != 3 {
		t.Fatalf("%d observables: %s", len(got.Observables), out)
	}
	for i, o := range got.Observables {
		if math.Abs(o.Exact-want[i]) > 1e-12 || o.Shots != 2000 {
			t.Errorf("%s: exact %v (want %v), %d shots per term", o.Observable, o.Exact, want[i], o.Shots)
		}
		if se := max(o.StdErr, 1e-9); math.Abs(o.Mean-want[i]) > 5*se+1e-12 && o.StdErr > 0 || o.StdErr == 0 && math.Abs(o.Mean-want[i]) > 1e-12 {
			t.Errorf("%s: estimate %v ± %v, want %v", o.Observable, o.Mean, o.StdErr, want[i])
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--observable", "ZZ"}, `has 2 characters, want 5`},
		{[]string{"--observable", "2**ZZIII"}, "coefficient"},
		{[]string{"--observable", "ZZIII", "--state"}, "does not go with --state"},
		{[]string{"--observables", filepath.Join(t.TempDir(), "missing")}, "observables"},
	} {
		_, err := run(t, append([]string{"circuit", "run", "../../examples/ghz.qasm"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestCircuitBatchAndSweep: several files, a directory and a sweep of
// input bindings run in one call; --json prints one object a line with
// the file and binding; a binding also given by --param is an error.
func TestCircuitBatchAndSweep(t *testing.T) {
	dir := t.TempDir()
	sweepJSON := filepath.Join(dir, "sweep.json")
	sweepCSV := filepath.Join(dir, "sweep.csv")
	if err := os.WriteFile(sweepJSON, []byte(`[{"theta": 0}, {"theta": 3.141592653589793}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sweepCSV, []byte("theta\n0\npi\npi/2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	type line struct {
		File   string             `json:"file"`
		Params map[string]float64 `json:"params"`
		Counts map[string]int     `json:"counts"`
	}
	lines := func(out string) []line {
		var ls []line
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var v line
			if err := json.Unmarshal([]byte(l), &v); err != nil {
				t.Fatalf("not JSON Lines: %v\n%s", err, out)
			}
			ls = append(ls, v)
		}
		return ls
	}
	// θ = 0: teleported |0⟩, c[2] always 0; θ = π: always 1.
	ls := lines(mustRun(t, "circuit", "run", "../../examples/teleport.qasm", "--sweep", sweepJSON, "--shots", "200", "--json"))
	if len(ls) != 2 || ls[0].Params["theta"] != 0 || ls[1].Params["theta"] != math.Pi {
		t.Fatalf("sweep lines: %+v", ls)
	}
	for i, l := range ls {
		for k, n := range l.Counts {
			if want := byte('0' + i); k[0] != want && n > 0 {
				t.Errorf("θ=%v: outcome %s (%d shots), want c[2]=%c", l.Params["theta"], k, n, want)
			}
		}
	}
	if ls := lines(mustRun(t, "circuit", "run", "../../examples/teleport.qasm", "--sweep", sweepCSV, "--shots", "10", "--json")); len(ls) != 3 || math.Abs(ls[2].Params["theta"]-math.Pi/2) > 1e-15 {
		t.Errorf("CSV sweep: %+v", ls)
	}
	// Several files and a directory (with the teleport example left out,
	// which needs an input).
	sub := filepath.Join(dir, "circuits")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"bell.qasm", "ghz.qasm"} {
		b, err := os.ReadFile(filepath.Join("../../examples", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ls = lines(mustRun(t, "circuit", "run", sub, "../../examples/bell.qasm", "--shots", "50", "--json"))
	if len(ls) != 3 || !strings.HasSuffix(ls[0].File, "circuits/bell.qasm") || !strings.HasSuffix(ls[1].File, "ghz.qasm") || !strings.HasSuffix(ls[2].File, "examples/bell.qasm") || ls[0].Params != nil {
		t.Errorf("batch lines: %+v", ls)
	}
	text := mustRun(t, "circuit", "run", sub, "--shots", "10")
	if strings.Count(text, "== ") != 2 {
		t.Errorf("text batch headers:\n%s", text)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"../../examples/teleport.qasm", "--sweep", sweepJSON, "--param", "theta=1"}, "given by --param and by the sweep"},
		{[]string{"../../examples/ghz.qasm", "--sweep", sweepJSON}, `"theta" is not an input`},
		{[]string{dir, "--shots", "1"}, "no .qasm files"},
		{[]string{"-", "../../examples/ghz.qasm"}, "cannot be combined"},
		{[]string{"../../examples/teleport.qasm", "--sweep", sweepCSV + "x"}, "sweep"},
	} {
		_, err := run(t, append([]string{"circuit", "run"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestCircuitNoise: --noise runs shots as trajectories and
// --density-matrix prints the exact distribution they converge to (each
// count within 5 standard errors over 4000 shots); a bad model file and
// contradictory flags are errors.
func TestCircuitNoise(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "noise.yaml")
	if err := os.WriteFile(model, []byte("gates:\n  - gates: [cx]\n    depolarizing: 0.2\n  - amplitude_damping: 0.05\nreadout:\n  - p01: 0.02\n    p10: 0.05\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var exact struct {
		Probabilities map[string]float64 `json:"probabilities"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "circuit", "run", "../../examples/bell.qasm", "--noise", model, "--density-matrix", "--json")), &exact); err != nil {
		t.Fatal(err)
	}
	if len(exact.Probabilities) != 4 || exact.Probabilities["01"] < 0.01 {
		t.Fatalf("noisy Bell distribution %v: want all four outcomes", exact.Probabilities)
	}
	var got struct {
		Counts map[string]int `json:"counts"`
	}
	const shots = 4000
	if err := json.Unmarshal([]byte(mustRun(t, "circuit", "run", "../../examples/bell.qasm", "--noise", model, "--shots", "4000", "--json")), &got); err != nil {
		t.Fatal(err)
	}
	for k, p := range exact.Probabilities {
		if se := math.Sqrt(p * (1 - p) / shots); math.Abs(float64(got.Counts[k])/shots-p) > 5*se {
			t.Errorf("%s: %d of %d shots, exact %v", k, got.Counts[k], shots, p)
		}
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("gates:\n  - depolarizing: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--noise", bad}, "probability 2"},
		{[]string{"--noise", model, "--state"}, "does not go with --state"},
		{[]string{"--density-matrix", "--shots", "5"}, "does not go with"},
	} {
		_, err := run(t, append([]string{"circuit", "run", "../../examples/bell.qasm"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestCircuitStdinSweep: a program on standard input runs once per sweep
// binding (standard input is read once).
func TestCircuitStdinSweep(t *testing.T) {
	sweep := filepath.Join(t.TempDir(), "s.json")
	if err := os.WriteFile(sweep, []byte(`[{"a": 0}, {"a": 3.141592653589793}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	root := NewRoot()
	var out bytes.Buffer
	root.SetArgs([]string{"circuit", "run", "-", "--sweep", sweep, "--shots", "20", "--json"})
	root.SetIn(strings.NewReader("OPENQASM 3.0;\ninclude \"stdgates.inc\";\ninput float[64] a;\nqubit q;\nbit c;\nrx(a) q;\nc = measure q;\n"))
	root.SetOut(&out)
	root.SetErr(io.Discard)
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"0":20`) || !strings.Contains(lines[1], `"1":20`) {
		t.Errorf("stdin sweep:\n%s", out.String())
	}
}

// TestCircuitQsimFormat: qsim circuit files run and convert (detected from
// their first line, or with --format qsim), the same GHZ state as the
// OpenQASM example; --format qasm on a qsim file and a bad format are
// errors.
func TestCircuitQsimFormat(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ghz.txt")
	if err := os.WriteFile(file, []byte("# qsim's format\n3\n0 h 0\n1 cnot 0 1\n2 c 1 x 2\n3 m 0 1 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{file}, {file, "--format", "qsim"}} {
		var got struct {
			Counts map[string]int `json:"counts"`
		}
		if err := json.Unmarshal([]byte(mustRun(t, append([]string{"circuit", "run", "--shots", "400", "--json"}, args...)...)), &got); err != nil {
			t.Fatal(err)
		}
		if got.Counts["000"]+got.Counts["111"] != 400 || got.Counts["000"] < 100 || got.Counts["111"] < 100 {
			t.Errorf("%v: counts %v, want a GHZ state", args, got.Counts)
		}
	}
	if out := mustRun(t, "circuit", "convert", file); !strings.Contains(out, "ctrl @ x q[1], q[2];") {
		t.Errorf("convert:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{file, "--format", "qasm"}, "1:1"},
		{[]string{file, "--format", "quil"}, `--format "quil"`},
		{[]string{file, "--param", "a=1"}, "no inputs"},
	} {
		_, err := run(t, append([]string{"circuit", "run"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}
