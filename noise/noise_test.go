package noise_test

import (
	"context"
	"encoding/json"
	"math"
	"math/cmplx"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/internal/peers"
	"github.com/prismai/mec/internal/peers/peertest"
	"github.com/prismai/mec/noise"
	"github.com/prismai/mec/sim"
	"github.com/prismai/mec/sim/simtest"
)

// TestParseErrors: bad models are errors naming the place.
func TestParseErrors(t *testing.T) {
	for src, want := range map[string]string{
		"gates:\n  - depolarizing: 1.5\n":                    "gates[0].depolarizing: probability 1.5",
		"gates:\n  - colour: red\n":                          "field colour not found",
		"gates:\n  - gates: [x]\n":                           "gates[0]: no channel",
		"gates:\n  - pauli: {x: 0.6, y: 0.5, z: 0}\n":        "sum to 1.1",
		"gates:\n  - kraus: [[[1,0],[0,0],[0,0],[0.5,0]]]\n": "Σ K†K is not the identity",
		"gates:\n  - kraus: [[[1,0],[0,0],[0,0]]]\n":         "4 entries",
		"gates:\n  - qubits: [-1]\n    depolarizing: 0.1\n":  "qubit -1",
		"readout:\n  - p01: -0.1\n    p10: 0\n":              "readout[0].p01",
		"gates:\n  - depolarizing: .nan\n":                   "probability NaN",
	} {
		_, err := noise.Parse([]byte(src), false)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", src, err, want)
		}
	}
	if _, err := noise.Parse([]byte(`{"gates": [{"depolarizing": 0.1, "extra": 1}]}`), true); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Errorf("JSON unknown key: %v", err)
	}
	c := circuit.New(4)
	c.Append("x", nil, 3)
	c.Ops[0].Controls = []int{0, 1, 2}
	m := &noise.Model{Gates: []noise.GateRule{{Depolarizing: 0.1}}}
	if _, err := m.Apply(c); err == nil || !strings.Contains(err.Error(), "more than 3 qubits") {
		t.Errorf("4-qubit depolarizing: %v", err)
	}
}

// TestDensityMatrixClosedForms checks channels against their closed
// forms: X then amplitude damping γ reads 1 with probability 1−γ; H,
// phase damping λ, H reads 0 with probability (1+√(1−λ))/2; the
// depolarizing channel p on |0⟩ reads 1 with p/2; a readout error p01 on
// |0⟩ reads 1 with p01.
func TestDensityMatrixClosedForms(t *testing.T) {
	const g, l, p, r = 0.3, 0.4, 0.2, 0.07
	for _, tc := range []struct {
		name  string
		build func(c *circuit.Circuit)
		model noise.Model
		key   string
		want  float64
	}{
		{"amplitude damping", func(c *circuit.Circuit) { c.Append("x", nil, 0) }, noise.Model{Gates: []noise.GateRule{{Gates: []string{"x"}, AmplitudeDamping: g}}}, "1", 1 - g},
		{"phase damping", func(c *circuit.Circuit) { c.Append("h", nil, 0).Append("id", nil, 0).Append("h", nil, 0) }, noise.Model{Gates: []noise.GateRule{{Gates: []string{"id"}, PhaseDamping: l}}}, "0", (1 + math.Sqrt(1-l)) / 2},
		{"depolarizing", func(c *circuit.Circuit) { c.Append("id", nil, 0) }, noise.Model{Gates: []noise.GateRule{{Depolarizing: p}}}, "1", p / 2},
		{"readout", func(c *circuit.Circuit) { c.Append("id", nil, 0) }, noise.Model{Readout: []noise.ReadoutRule{{P01: r, P10: 0.5}}}, "1", r},
	} {
		c := circuit.New(1)
		tc.build(c)
		c.Measure(0, 0)
		nc, err := tc.model.Apply(c)
		if err != nil {
			t.Fatal(err)
		}
		_, dist, err := noise.DensityMatrix(nc)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(dist[tc.key]-tc.want) > 1e-12 {
			t.Errorf("%s: P(%s) = %v, want %v", tc.name, tc.key, dist[tc.key], tc.want)
		}
	}
}

// rotated returns the Kraus operators K·R of amplitude damping γ after a
// rotation R by 0.4 about Y (real entries) or, with aboutX, about X
// (complex entries): K†K is not diagonal, so trajectories read the
// qubit's reduced density matrix (⟨X⟩, and with aboutX ⟨Y⟩) to weigh them.
func rotated(g float64, aboutX bool) [][][2]float64 {
	s, c := math.Sin(0.4), math.Cos(0.4)
	rot := []complex128{complex(c, 0), complex(-s, 0), complex(s, 0), complex(c, 0)}
	if aboutX {
		rot = []complex128{complex(c, 0), complex(0, -s), complex(0, -s), complex(c, 0)}
	}
	var out [][][2]float64
	for _, k := range noise.AmplitudeDamping(g) {
		m := make([][2]float64, 4)
		for r := 0; r < 2; r++ {
			for col := 0; col < 2; col++ {
				z := k[r*2]*rot[col] + k[r*2+1]*rot[2+col]
				m[r*2+col] = [2]float64{real(z), imag(z)}
			}
		}
		out = append(out, m)
	}
	return out
}

// TestTrajectoriesMatchDensityMatrix: noisy shots (quantum trajectories,
// on the CPU backend) agree with the exact density-matrix distribution —
// depolarizing on cx, damping and a Pauli channel on every gate, a
// general one-qubit Kraus channel with non-diagonal K†K, a two-qubit
// non-mixture channel, readout errors — by Pearson's χ² (p > 0.001 for
// each of 10 seeds), and reproducibly for a seed.
func TestTrajectoriesMatchDensityMatrix(t *testing.T) {
	c := circuit.New(3)
	c.Append("h", nil, 0).Append("cx", nil, 0, 1).Append("ry", []float64{0.7}, 2).Append("cz", nil, 1, 2).Append("h", nil, 2)
	c.Measure(0, 0).Measure(1, 1).Measure(2, 2)
	ad := noise.AmplitudeDamping(0.2)
	var two [][]complex128 // amplitude damping on both qubits of cz, as one 2-qubit channel
	for _, a := range ad {
		for _, b := range ad {
			m := make([]complex128, 16)
			for r := 0; r < 4; r++ {
				for col := 0; col < 4; col++ {
					m[r*4+col] = a[(r&1)*2+col&1] * b[(r>>1)*2+col>>1]
				}
			}
			two = append(two, m)
		}
	}
	model := noise.Model{
		Gates: []noise.GateRule{
			{Gates: []string{"cx"}, Depolarizing: 0.15},
			{Gates: []string{"*"}, AmplitudeDamping: 0.05, PhaseDamping: 0.03, Pauli: &noise.PauliProbs{X: 0.01, Y: 0.02, Z: 0.03}},
			{Gates: []string{"ry"}, Kraus: rotated(0.3, false)},
		},
		Readout: []noise.ReadoutRule{{Qubits: []int{0}, P01: 0.03, P10: 0.08}},
	}
	nc, err := model.Apply(c)
	if err != nil {
		t.Fatal(err)
	}
	// The 2-qubit channel after cz (the clone path of trajectories).
	for i := range nc.Ops {
		if nc.Ops[i].Name == "cz" {
			nc.Ops = append(nc.Ops[:i+1], append([]circuit.Op{{Kind: circuit.KindChannel, Qubits: []int{1, 2}, Kraus: two}}, nc.Ops[i+1:]...)...)
			break
		}
	}
	if err := nc.Validate(); err != nil {
		t.Fatal(err)
	}
	_, dist, err := noise.DensityMatrix(nc)
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, p := range dist {
		total += p
	}
	if math.Abs(total-1) > 1e-12 {
		t.Fatalf("distribution sums to %v", total)
	}
	var first map[string]int
	for seed := uint64(1); seed <= 10; seed++ {
		s := sim.NewWith(cpu.New(cpu.Options{}), sim.Options{Precision: backend.Complex128, Fuse: 3, Seed: seed})
		r, err := s.Shots(context.Background(), nc, 3000)
		if err != nil {
			t.Fatal(err)
		}
		counts := r.Counts()
		if chi2, dof, p := simtest.ChiSquare(counts, dist); p <= 0.001 {
			t.Errorf("seed %d: χ² %.1f on %d dof, p = %.2g", seed, chi2, dof, p)
		}
		if seed == 1 {
			first = counts
		}
	}
	s := sim.NewWith(cpu.New(cpu.Options{Threads: 1}), sim.Options{Precision: backend.Complex128, Fuse: 3, Seed: 1})
	r, err := s.Shots(context.Background(), nc, 3000)
	if err != nil {
		t.Fatal(err)
	}
	for k, n := range r.Counts() {
		if first[k] != n {
			t.Fatalf("seed 1 on 1 thread: %s %d times, %d before", k, n, first[k])
		}
	}
	// Noise does not run outside Shots.
	if _, err := s.Run(context.Background(), nc); err == nil || !strings.Contains(err.Error(), "quantum trajectories") {
		t.Errorf("Run of a noisy circuit: %v", err)
	}
}

// TestQuTiP checks the channels' definitions against QuTiP's Lindblad
// evolution (mesolve) and Kraus maps: a qubit through X, relaxation (rate
// Γ for time t: amplitude damping γ = 1 − e^{−Γt}), ry, dephasing (rate
// Γφ with collapse √Γφ·σz: phase damping λ = 1 − e^{−4Γφt}) and
// depolarizing p gives the same density matrix to 1e-6.
func TestQuTiP(t *testing.T) {
	py, err := peers.Python()
	peertest.Require(t, err)
	if out, err := exec.Command(py, "-c", "import qutip").CombinedOutput(); err != nil {
		peertest.Require(t, &peerError{string(out)})
	}
	const relax, t1, deph, t2, p, th = 0.3, 1.0, 0.2, 0.5, 0.1, 1.2
	spec := map[string]any{"steps": []map[string]any{
		{"unitary": [][2]float64{{0, 0}, {1, 0}, {1, 0}, {0, 0}}},
		{"relax": relax, "t": t1},
		{"unitary": [][2]float64{{math.Cos(th / 2), 0}, {-math.Sin(th / 2), 0}, {math.Sin(th / 2), 0}, {math.Cos(th / 2), 0}}},
		{"dephase": deph, "t": t2},
		{"depolarize": p},
	}}
	dir := t.TempDir()
	f := filepath.Join(dir, "spec.json")
	b, _ := json.Marshal(spec)
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "testdata/qutip_lindblad.py", f).Output()
	if err != nil {
		t.Fatalf("qutip: %v", err)
	}
	var got struct {
		Rho [][2]float64 `json:"rho"`
	}
	if err := json.Unmarshal([]byte(lastLine(string(out))), &got); err != nil || len(got.Rho) != 4 {
		t.Fatalf("qutip output %q: %v", out, err)
	}
	c := circuit.New(1)
	c.Append("x", nil, 0).Append("id", nil, 0).Append("ry", []float64{th}, 0).Append("p", []float64{0}, 0)
	model := noise.Model{Gates: []noise.GateRule{
		{Gates: []string{"id"}, AmplitudeDamping: 1 - math.Exp(-relax*t1)},
		{Gates: []string{"p"}, PhaseDamping: 1 - math.Exp(-4*deph*t2)},
		{Gates: []string{"p"}, Depolarizing: p},
	}}
	nc, err := model.Apply(c)
	if err != nil {
		t.Fatal(err)
	}
	rho, _, err := noise.DensityMatrix(nc)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got.Rho {
		if d := cmplx.Abs(rho[i] - complex(v[0], v[1])); d > 1e-6 {
			t.Errorf("ρ[%d] = %v, QuTiP %v", i, rho[i], v)
		}
	}
	t.Logf("density matrix agrees with QuTiP (mesolve, kraus_to_super): %v", rho)
}

type peerError struct{ msg string }

func (e *peerError) Error() string { return "python3 cannot import qutip: " + strings.TrimSpace(e.msg) }

func lastLine(s string) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	return ls[len(ls)-1]
}

// TestTrajectoriesGeneralKraus: one qubit in ry(1.1)|0⟩ through a Kraus
// channel whose K†K are not diagonal (amplitude damping then a rotation):
// trajectories weigh each K by ‖Kψ‖², read from the qubit's ⟨X⟩, ⟨Y⟩,
// ⟨Z⟩, and match the density matrix (χ², 20 000 shots, 5 seeds).
func TestTrajectoriesGeneralKraus(t *testing.T) {
	for _, phase := range []bool{false, true} {
		c := circuit.New(1)
		c.Append("ry", []float64{1.1}, 0)
		if phase {
			c.Append("s", nil, 0) // complex amplitudes: ⟨Y⟩ ≠ 0
		}
		// Read in the X basis (Y with the phase): K1ψ ∝ |0⟩ reads 1 half
		// the time, K0ψ does not, so the outcome depends on the weights.
		c.Append("id", nil, 0)
		if phase {
			c.Append("sdg", nil, 0)
		}
		c.Append("h", nil, 0)
		c.Measure(0, 0)
		// With the phase, a rotation about X: the weights depend on ⟨Y⟩.
		model := noise.Model{Gates: []noise.GateRule{{Gates: []string{"id"}, Kraus: rotated(0.6, phase)}}}
		nc, err := model.Apply(c)
		if err != nil {
			t.Fatal(err)
		}
		_, dist, err := noise.DensityMatrix(nc)
		if err != nil {
			t.Fatal(err)
		}
		for seed := uint64(1); seed <= 5; seed++ {
			s := sim.NewWith(cpu.New(cpu.Options{}), sim.Options{Precision: backend.Complex128, Seed: seed})
			r, err := s.Shots(context.Background(), nc, 20000)
			if err != nil {
				t.Fatal(err)
			}
			if chi2, dof, p := simtest.ChiSquare(r.Counts(), dist); p <= 0.001 {
				t.Errorf("phase %v seed %d: χ² %.1f on %d dof, p = %.2g (exact %v, got %v)", phase, seed, chi2, dof, p, dist, r.Counts())
			}
		}
	}
}
