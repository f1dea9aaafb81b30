package cli

import (
	"encoding/json"
	"math"
	"math/cmplx"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prismai/mec/internal/peers"
	"github.com/prismai/mec/internal/peers/peertest"
)

// pauliMatrix is the dense matrix of a Pauli string (character k on
// qubit k, qubit k = bit k of the index), built by Kronecker products: an
// implementation independent of mec's Pauli masks.
func pauliMatrix(p string) [][]complex128 {
	one := map[byte][2][2]complex128{'I': {{1, 0}, {0, 1}}, 'X': {{0, 1}, {1, 0}}, 'Y': {{0, -1i}, {1i, 0}}, 'Z': {{1, 0}, {0, -1}}}
	d := 1 << len(p)
	m := make([][]complex128, d)
	for r := range m {
		m[r] = make([]complex128, d)
		for c := range m[r] {
			v := complex128(1)
			for k := 0; k < len(p); k++ {
				v *= one[p[k]][r>>k&1][c>>k&1]
			}
			m[r][c] = v
		}
	}
	return m
}

// TestSweepObservablesAgainstQuTiP runs a parameterised circuit — a
// product state evolved by exp(−itH) for H = 0.8·ZZ + 0.5·Z₀ + 0.3·Z₁,
// written with rz and cx gates and the input t — over a sweep of t with
// two observables, and compares every exact expectation value with the
// one computed (by dense matrices, in this test) from QuTiP's evolution
// of the same H (Qobj.expm) to 1e-9, and every 2000-shot estimate within
// 5 standard errors.
func TestSweepObservablesAgainstQuTiP(t *testing.T) {
	py, err := peers.Python()
	peertest.Require(t, err)
	script, err := peers.Script("qutip_evolve.py")
	peertest.Require(t, err)
	if out, err := exec.Command(py, "-c", "import qutip").CombinedOutput(); err != nil {
		peertest.Require(t, &qutipMissing{string(out)})
	}
	dir := t.TempDir()
	src := `OPENQASM 3.0;
include "stdgates.inc";
input float[64] t;
qubit[2] q;
ry(0.7) q[0];
ry(1.3) q[1];
rz(1.0 * t) q[0];
rz(0.6 * t) q[1];
cx q[0], q[1];
rz(1.6 * t) q[1];
cx q[0], q[1];
`
	// "t" is a gate name in stdgates.inc: the input is called tt.
	src = strings.NewReplacer("input float[64] t;", "input float[64] tt;", "* t)", "* tt)").Replace(src)
	file := filepath.Join(dir, "evolve.qasm")
	sweep := filepath.Join(dir, "sweep.json")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	ts := []float64{0.1, 0.5, 1.0}
	if err := os.WriteFile(sweep, []byte(`[{"tt": 0.1}, {"tt": 0.5}, {"tt": 1.0}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	obs := []string{"XX + 0.5*YZ", "XI - 0.25*ZY"}
	out := mustRun(t, "circuit", "run", file, "--sweep", sweep, "--observable", obs[0], "--observable", obs[1], "--shots", "2000", "--json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(ts) {
		t.Fatalf("%d result lines for %d bindings:\n%s", len(lines), len(ts), out)
	}
	// The initial product state.
	a0 := [2]float64{math.Cos(0.35), math.Sin(0.35)}
	a1 := [2]float64{math.Cos(0.65), math.Sin(0.65)}
	psi0 := make([][2]float64, 4)
	for i := range psi0 {
		psi0[i] = [2]float64{a0[i&1] * a1[i>>1], 0}
	}
	terms := []map[string]any{{"coeff": 0.8, "pauli": "ZZ"}, {"coeff": 0.5, "pauli": "ZI"}, {"coeff": 0.3, "pauli": "IZ"}}
	sums := [][]struct {
		c float64
		p string
	}{{{1, "XX"}, {0.5, "YZ"}}, {{1, "XI"}, {-0.25, "ZY"}}}
	for i, line := range lines {
		var got struct {
			Params      map[string]float64 `json:"params"`
			Observables []struct {
				Exact, Mean, StdErr float64
			} `json:"observables"`
		}
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatal(err)
		}
		if got.Params["tt"] != ts[i] || len(got.Observables) != 2 {
			t.Fatalf("line %d: %s", i, line)
		}
		spec, _ := json.Marshal(map[string]any{"qubits": 2, "terms": terms, "psi0": psi0, "t": ts[i]})
		sf := filepath.Join(dir, "spec.json")
		if err := os.WriteFile(sf, spec, 0o644); err != nil {
			t.Fatal(err)
		}
		peerOut, err := exec.Command(py, script, sf).Output()
		if err != nil {
			t.Fatalf("qutip: %v", err)
		}
		var peer struct {
			Amplitudes [][2]float64 `json:"amplitudes"`
		}
		if err := json.Unmarshal(peerOut, &peer); err != nil {
			t.Fatal(err)
		}
		psi := make([]complex128, 4)
		for k, a := range peer.Amplitudes {
			psi[k] = complex(a[0], a[1])
		}
		for j, sum := range sums {
			var want float64
			for _, term := range sum {
				m := pauliMatrix(term.p)
				var e complex128
				for r := range m {
					for c := range m[r] {
						e += cmplx.Conj(psi[r]) * m[r][c] * psi[c]
					}
				}
				want += term.c * real(e)
			}
			o := got.Observables[j]
			if math.Abs(o.Exact-want) > 1e-9 {
				t.Errorf("t=%v ⟨%s⟩: mec %v, QuTiP %v", ts[i], obs[j], o.Exact, want)
			}
			if o.StdErr <= 0 || math.Abs(o.Mean-want) > 5*o.StdErr {
				t.Errorf("t=%v ⟨%s⟩: estimate %v ± %v, QuTiP %v", ts[i], obs[j], o.Mean, o.StdErr, want)
			}
		}
	}
}

type qutipMissing struct{ out string }

func (e *qutipMissing) Error() string {
	return "python3 cannot import qutip: " + strings.TrimSpace(e.out)
}
