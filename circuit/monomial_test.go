package circuit_test

import (
	"math/cmplx"
	"slices"
	"testing"

	"github.com/prismai/mec/circuit"
)

// TestMonomialColumns checks the detection of permutation-with-phase
// matrices and its rejections.
func TestMonomialColumns(t *testing.T) {
	x := []complex128{0, 1, 1, 0}
	cx := []complex128{1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0} // control operand 0
	phased := []complex128{0, 1i, -1, 0}
	for _, c := range []struct {
		name string
		m    []complex128
		d    int
		col  []int
		ok   bool
	}{
		{"X", x, 2, []int{1, 0}, true},
		{"CX", cx, 4, []int{0, 3, 2, 1}, true},
		{"phased", phased, 2, []int{1, 0}, true},
		{"identity", circuit.Identity(4), 4, []int{0, 1, 2, 3}, true},
		{"H", []complex128{1, 1, 1, -1}, 2, nil, false},
		{"zero row", []complex128{1, 0, 0, 0}, 2, nil, false},
		{"shared column", []complex128{1, 0, 1, 0}, 2, nil, false},
		{"wrong size", x, 4, nil, false},
	} {
		col, ok := circuit.MonomialColumns(c.m, c.d)
		if ok != c.ok || !slices.Equal(col, c.col) {
			t.Errorf("%s: got %v %v, want %v %v", c.name, col, ok, c.col, c.ok)
		}
	}
}

// TestFuseZeroesRounding checks that a fused block whose exact product is
// monomial or diagonal comes out as one (the rounding of cancelling terms
// zeroed), and still equals the product to 1e-15.
func TestFuseZeroesRounding(t *testing.T) {
	g := func(name string, qs ...int) circuit.Gate {
		c := circuit.New(4)
		c.Append(name, nil, qs...)
		lg, err := c.Ops[0].Lower()
		if err != nil {
			t.Fatal(err)
		}
		return lg
	}
	// H·CZ·H on the target is a CX; H·X·H is a Z.
	cx := []circuit.Gate{g("h", 1), g("cz", 0, 1), g("h", 1), g("t", 2), g("cx", 1, 2)}
	diag := []circuit.Gate{g("h", 0), g("x", 0), g("h", 0), g("cz", 0, 1)}
	for _, c := range []struct {
		name  string
		gates []circuit.Gate
		diag  bool
	}{{"monomial", cx, false}, {"diagonal", diag, true}} {
		out, err := circuit.Fuse(c.gates, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != 1 {
			t.Fatalf("%s: %d blocks, want 1", c.name, len(out))
		}
		f := &out[0]
		if f.Diagonal != c.diag {
			t.Errorf("%s: diagonal %v, want %v", c.name, f.Diagonal, c.diag)
		}
		if !f.Diagonal {
			if _, ok := circuit.MonomialColumns(f.Matrix, 1<<len(f.Targets)); !ok {
				t.Errorf("%s: fused matrix not monomial: %v", c.name, f.Matrix)
			}
		}
		// Same action on every basis state of 3 qubits as the gates.
		for b := 0; b < 8; b++ {
			v, w := make([]complex128, 8), make([]complex128, 8)
			v[b], w[b] = 1, 1
			for i := range c.gates {
				circuit.ApplyToVector(v, &c.gates[i])
			}
			circuit.ApplyToVector(w, f)
			for i := range v {
				if cmplx.Abs(v[i]-w[i]) > 1e-15 {
					t.Fatalf("%s: basis %d amplitude %d: %v vs %v", c.name, b, i, w[i], v[i])
				}
			}
		}
	}
}

// TestAvoidLowKeepsMonomial checks that monomial multi-target gates (run
// anywhere by moving amplitudes) cost no relabelling swaps.
func TestAvoidLowKeepsMonomial(t *testing.T) {
	c := circuit.New(6)
	c.Append("ccx", nil, 0, 1, 2).Append("swap", nil, 0, 3).Append("cx", nil, 1, 0)
	gates, err := circuit.Fuse(lowerAll(t, c), 3)
	if err != nil {
		t.Fatal(err)
	}
	out := circuit.AvoidLow(gates, 6, 2)
	for i := range out {
		if circuit.IsSwap(&out[i]) && !slices.ContainsFunc(gates, func(g circuit.Gate) bool { return circuit.IsSwap(&g) }) {
			t.Fatalf("AvoidLow added a swap for monomial gates: %+v", out)
		}
	}
	if len(out) != len(gates) {
		t.Fatalf("AvoidLow: %d gates from %d", len(out), len(gates))
	}
}

func lowerAll(t *testing.T, c *circuit.Circuit) []circuit.Gate {
	t.Helper()
	var gs []circuit.Gate
	for i := range c.Ops {
		g, err := c.Ops[i].Lower()
		if err != nil {
			t.Fatal(err)
		}
		gs = append(gs, g)
	}
	return gs
}

// TestParsePauliSum checks the Pauli sum syntax and its errors.
func TestParsePauliSum(t *testing.T) {
	h, err := circuit.ParsePauliSum(" 0.5*ZZI + XIX - 2 yyi-1e-1*III ")
	want := circuit.PauliSum{{Coeff: 0.5, Pauli: "ZZI"}, {Coeff: 1, Pauli: "XIX"}, {Coeff: -2, Pauli: "YYI"}, {Coeff: -0.1, Pauli: "III"}}
	if err != nil || !slices.Equal(h, want) {
		t.Fatalf("got %v, %v; want %v", h, err, want)
	}
	if s := h.String(); s != "0.5*ZZI + XIX - 2*YYI - 0.1*III" {
		t.Errorf("String: %q", s)
	}
	if back, err := circuit.ParsePauliSum(h.String()); err != nil || !slices.Equal(back, h) {
		t.Errorf("round trip: %v, %v", back, err)
	}
	for _, bad := range []string{"", "0.5*", "ZZ XX", "ZZ + XXX", "abc*ZZ", "NaN*Z", "Z + ", "2**Z"} {
		if _, err := circuit.ParsePauliSum(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
