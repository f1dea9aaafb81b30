package qasm_test

import (
	"fmt"
	"math"
	"math/cmplx"
	"testing"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/qasm"
	"github.com/prismai/mec/sim/simtest"
)

// unitaryOf parses an OpenQASM 2 program on n qubits and returns its
// unitary (column c is the image of |c⟩).
func unitaryOf(t *testing.T, n int, body string) []complex128 {
	t.Helper()
	c, err := qasm.Parse(fmt.Sprintf("OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[%d];\n%s", n, body))
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	u, err := simtest.Unitary(c)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// equalUpToPhase reports whether a = e^{iφ}·b for one φ, to tol.
func equalUpToPhase(a, b []complex128, tol float64) bool {
	var ph complex128
	for i := range b {
		if cmplx.Abs(b[i]) > 0.1 {
			ph = a[i] / b[i]
			break
		}
	}
	for i := range a {
		if cmplx.Abs(a[i]-ph*b[i]) > tol {
			return false
		}
	}
	return math.Abs(cmplx.Abs(ph)-1) < tol
}

// TestQelib1Extras checks the qelib1.inc gates mec defines from their
// qelib1 decompositions against their known matrices: u0 is the identity,
// rzz(θ) is diag(1, e^{iθ}, e^{iθ}, 1), rxx(θ) is exp(−iθ/2·X⊗X) up to a
// global phase, rccx and rc3x are Toffoli and the 3-controlled X up to
// relative phases (same magnitudes, unit-modulus entries), and c3sqrtx is
// the 3-controlled √X up to a global phase. A program may define its own
// gate of one of these names, which replaces qelib1's.
func TestQelib1Extras(t *testing.T) {
	const th = 0.7
	if u := unitaryOf(t, 1, "u0(0.3) q[0];"); !equalUpToPhase(u, circuit.Identity(2), 1e-15) || u[0] != 1 {
		t.Errorf("u0: %v", u)
	}
	e := cmplx.Exp(complex(0, th))
	if u := unitaryOf(t, 2, fmt.Sprintf("rzz(%v) q[0], q[1];", th)); !equalUpToPhase(u, []complex128{1, 0, 0, 0, 0, e, 0, 0, 0, 0, e, 0, 0, 0, 0, 1}, 1e-12) || cmplx.Abs(u[0]-1) > 1e-12 {
		t.Errorf("rzz: %v", u)
	}
	c, s := complex(math.Cos(th/2), 0), complex(0, -math.Sin(th/2))
	rxx := []complex128{c, 0, 0, s, 0, c, s, 0, 0, s, c, 0, s, 0, 0, c}
	if u := unitaryOf(t, 2, fmt.Sprintf("rxx(%v) q[0], q[1];", th)); !equalUpToPhase(u, rxx, 1e-12) {
		t.Errorf("rxx: %v", u)
	}
	for _, tc := range []struct {
		name string
		n    int
	}{{"rccx q[0], q[1], q[2];", 3}, {"rc3x q[0], q[1], q[2], q[3];", 4}} {
		u := unitaryOf(t, tc.n, tc.name)
		d := 1 << tc.n
		all := d/2 - 1 // every control set (target is the highest qubit)
		for r := 0; r < d; r++ {
			for col := 0; col < d; col++ {
				img := col // the Toffoli image of |col⟩
				if col&all == all {
					img = col ^ d/2
				}
				want := 0.0
				if r == img {
					want = 1
				}
				if got := cmplx.Abs(u[r*d+col]); math.Abs(got-want) > 1e-12 {
					t.Fatalf("%s: |U[%d][%d]| = %v, want %v", tc.name, r, col, got, want)
				}
			}
		}
	}
	sx := []complex128{complex(0.5, 0.5), complex(0.5, -0.5), complex(0.5, -0.5), complex(0.5, 0.5)}
	c3sx := circuit.Identity(16)
	for _, r := range []int{7, 15} {
		for _, col := range []int{7, 15} {
			c3sx[r*16+col] = sx[(r>>3)*2+col>>3]
		}
	}
	if u := unitaryOf(t, 4, "c3sqrtx q[0], q[1], q[2], q[3];"); !equalUpToPhase(u, c3sx, 1e-12) {
		t.Errorf("c3sqrtx is not the 3-controlled √X: %v", u)
	}
	// A program's own rzz replaces qelib1's.
	if u := unitaryOf(t, 2, "gate rzz(a) x, y { cx x, y; }\nrzz(1) q[0], q[1];"); cmplx.Abs(u[3*4+1]-1) > 1e-12 {
		t.Errorf("own rzz not used: %v", u)
	}
}
