package qasm_test

import (
	"errors"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prismai/mec/backend/backendtest"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/qasm"
	"github.com/prismai/mec/sim/simtest"
)

func state(t *testing.T, c *circuit.Circuit) []complex128 {
	t.Helper()
	v, err := simtest.StateVector(c)
	if err != nil {
		t.Fatalf("simulate: %v", err)
	}
	return v
}

// diff returns max |a−b|, or with phase set, the same after removing one
// global phase from b.
func diff(a, b []complex128, phase bool) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	ph := complex128(1)
	if phase {
		k := 0
		for i := range a {
			if cmplx.Abs(a[i]) > cmplx.Abs(a[k]) {
				k = i
			}
		}
		if r := b[k] / a[k]; cmplx.Abs(r) > 0 {
			ph = r / complex(cmplx.Abs(r), 0)
		}
	}
	m := 0.0
	for i := range a {
		m = max(m, cmplx.Abs(a[i]*ph-b[i]))
	}
	return m
}

func build(n int, f func(c *circuit.Circuit)) *circuit.Circuit {
	c := circuit.New(n)
	f(c)
	return c
}

func gate(name string, params []float64, qs ...int) circuit.Op {
	return circuit.Op{Kind: circuit.KindGate, Name: name, Params: params, Qubits: qs}
}

// TestParseSemantics parses programs and compares their states with
// circuits built directly (tolerance 1e-12, global phase included).
func TestParseSemantics(t *testing.T) {
	pi := math.Pi
	cases := []struct {
		name, src string
		want      *circuit.Circuit
	}{
		{"qasm2 qelib1 u-gates", `OPENQASM 2.0; include "qelib1.inc"; qreg q[2];
			u3(0.3,0.2,0.1) q[0]; u2(0.4,0.5) q[1]; u1(0.7) q[0]; cu1(0.9) q[0],q[1]; cu3(0.1,0.2,0.3) q[1],q[0]; sxdg q[1];`,
			build(2, func(c *circuit.Circuit) {
				c.Append("U", []float64{0.3, 0.2, 0.1}, 0).Append("U", []float64{pi / 2, 0.4, 0.5}, 1).Append("p", []float64{0.7}, 0)
				c.Append("cp", []float64{0.9}, 0, 1).Append("cu", []float64{0.1, 0.2, 0.3, 0}, 1, 0)
				c.Ops = append(c.Ops, circuit.Op{Kind: circuit.KindGate, Name: "sx", Qubits: []int{1}, Pow: -1})
			})},
		{"qasm2 builtins and user gate", `OPENQASM 2.0; qreg a[1]; qreg b[2];
			gate g(t) x, y { U(t, 0, 0) x; CX x, y; }
			g(pi/3) a[0], b[1]; U(0.1, 0.2, 0.3) b; // broadcast
			`,
			build(3, func(c *circuit.Circuit) {
				c.Append("U", []float64{pi / 3, 0, 0}, 0).Append("cx", nil, 0, 2)
				c.Append("U", []float64{0.1, 0.2, 0.3}, 1).Append("U", []float64{0.1, 0.2, 0.3}, 2)
			})},
		{"qasm2 power ^ and c3x", `OPENQASM 2.0; include "qelib1.inc"; qreg q[4]; x q[0]; x q[1]; x q[2]; rx(2^-1) q[3]; c3x q[0],q[1],q[2],q[3];`,
			build(4, func(c *circuit.Circuit) {
				c.Append("x", nil, 0).Append("x", nil, 1).Append("x", nil, 2).Append("rx", []float64{0.5}, 3)
				c.Ops = append(c.Ops, circuit.Op{Kind: circuit.KindGate, Name: "x", Qubits: []int{3}, Controls: []int{0, 1, 2}})
			})},
		{"qasm3 modifiers", `OPENQASM 3.0; include "stdgates.inc"; qubit[3] q;
			h q; ctrl @ rx(τ/8) q[0], q[1]; negctrl(2) @ y q[2], q[0], q[1]; inv @ t q[2];
			pow(0.5) @ x q[0]; pow(2) @ pow(0.5) @ sx q[1]; ctrl @ negctrl @ inv @ u3(0.1, 0.2, 0.3) q[1], q[2], q[0];
			ctrl @ gphase(0.4) q[1]; gphase(-0.2); U(1e-1, 2.5e0, -.5) q[2];`,
			build(3, func(c *circuit.Circuit) {
				c.Append("h", nil, 0).Append("h", nil, 1).Append("h", nil, 2)
				c.Ops = append(c.Ops,
					circuit.Op{Kind: circuit.KindGate, Name: "rx", Params: []float64{pi / 4}, Qubits: []int{1}, Controls: []int{0}},
					circuit.Op{Kind: circuit.KindGate, Name: "y", Qubits: []int{1}, NegControls: []int{2, 0}},
					circuit.Op{Kind: circuit.KindGate, Name: "t", Qubits: []int{2}, Pow: -1},
					circuit.Op{Kind: circuit.KindGate, Name: "x", Qubits: []int{0}, Pow: 0.5},
					circuit.Op{Kind: circuit.KindGate, Name: "sx", Qubits: []int{1}},
					circuit.Op{Kind: circuit.KindGate, Name: "u3", Params: []float64{0.1, 0.2, 0.3}, Qubits: []int{0}, Controls: []int{1}, NegControls: []int{2}, Pow: -1},
					circuit.Op{Kind: circuit.KindGate, Name: "p", Params: []float64{0.4}, Qubits: []int{1}},
				)
				c.Append("gphase", []float64{-0.2}).Append("U", []float64{0.1, 2.5, -0.5}, 2)
			})},
		{"qasm3 user gates with modifiers", `OPENQASM 3; include "stdgates.inc";
			gate rot(a, b) x { rz(a) x; ry(b) x; }
			gate ent(a) x, y { h x; ctrl @ rot(a, a/2) x, y; }
			qubit[2] q; qubit r;
			ent(0.5) q[0], r;
			inv @ ent(0.25) q[1], q[0];
			ctrl @ ent(1) r, q[1], q[0];
			pow(2) @ ent(0.3) q[0], q[1];
			pow(-1) @ rot(0.1, 0.2) r;`,
			build(3, func(c *circuit.Circuit) {
				ent := func(a float64, x, y int, ctrl []int, inv bool) {
					ops := []circuit.Op{gate("h", nil, x),
						{Kind: circuit.KindGate, Name: "rz", Params: []float64{a}, Qubits: []int{y}, Controls: []int{x}},
						{Kind: circuit.KindGate, Name: "ry", Params: []float64{a / 2}, Qubits: []int{y}, Controls: []int{x}}}
					if inv {
						ops[0], ops[2] = ops[2], ops[0]
						for i := range ops {
							ops[i].Pow = -1
						}
					}
					for i := range ops {
						ops[i].Controls = append(append([]int(nil), ctrl...), ops[i].Controls...)
					}
					c.Ops = append(c.Ops, ops...)
				}
				ent(0.5, 0, 2, nil, false)
				ent(0.25, 1, 0, nil, true)
				ent(1, 1, 0, []int{2}, false)
				ent(0.3, 0, 1, nil, false)
				ent(0.3, 0, 1, nil, false)
				c.Append("ry", []float64{-0.2}, 2).Append("rz", []float64{-0.1}, 2)
			})},
		{"expressions", `OPENQASM 3; include "stdgates.inc"; qubit q;
			rx(-2**2 + 3*pi/4 - sin(pi/6) / 2 + sqrt(4) * exp(0) + ln(euler) + arccos(1) + 7 % 4) q;`,
			build(1, func(c *circuit.Circuit) {
				c.Append("rx", []float64{-4 + 3*pi/4 - math.Sin(pi/6)/2 + 2 + 1 + 0 + 3}, 0)
			})},
		{"comments and layout", "OPENQASM 3.0;\n/* block\ncomment */ include \"stdgates.inc\";\n" +
			"bit[2] c; qubit[1] a; qubit[2] b; // a is qubit 0, b qubits 1-2\nx b[-1]; cx a[0], b[0];",
			build(3, func(c *circuit.Circuit) { c.Append("x", nil, 2).Append("cx", nil, 0, 1) })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := qasm.Parse(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if got.Qubits != tc.want.Qubits {
				t.Fatalf("qubits = %d, want %d", got.Qubits, tc.want.Qubits)
			}
			if d := diff(state(t, tc.want), state(t, got), false); d > 1e-12 {
				t.Errorf("state differs by %.3g", d)
			}
		})
	}
}

// TestParseNonIntegerPowerOfUserGate checks pow(r) @ on a multi-gate
// definition against the matrix power computed independently.
func TestParseNonIntegerPowerOfUserGate(t *testing.T) {
	src := `OPENQASM 3; include "stdgates.inc"; gate g x, y { h x; cx x, y; rz(0.3) y; } qubit[2] q; x q[1]; pow(0.37) @ g q[0], q[1]; pow(1/0.37) @ pow(0.37) @ g q[1], q[0];`
	c, err := qasm.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	body := build(2, func(c *circuit.Circuit) {
		c.Append("h", nil, 0).Append("cx", nil, 0, 1).Append("rz", []float64{0.3}, 1)
	})
	m := make([]complex128, 16)
	for col := 0; col < 4; col++ {
		v := make([]complex128, 4)
		v[col] = 1
		for i := range body.Ops {
			g, _ := body.Ops[i].Lower()
			circuit.ApplyToVector(v, &g)
		}
		for r := 0; r < 4; r++ {
			m[r*4+col] = v[r]
		}
	}
	mp, err := circuit.MatPow(m, 0.37)
	if err != nil {
		t.Fatal(err)
	}
	want := build(2, func(c *circuit.Circuit) {
		c.Append("x", nil, 1)
		c.Ops = append(c.Ops, circuit.Op{Kind: circuit.KindGate, Name: circuit.UnitaryName, Qubits: []int{0, 1}, Matrix: mp})
		c.Append("h", nil, 1).Append("cx", nil, 1, 0).Append("rz", []float64{0.3}, 0)
	})
	if d := diff(state(t, want), state(t, c), false); d > 1e-9 {
		t.Errorf("state differs by %.3g", d)
	}
}

func TestParseMeasureResetBarrier(t *testing.T) {
	src := `OPENQASM 3; include "stdgates.inc"; qubit[2] q; bit[2] c; bit d = measure q[1];
		barrier q; reset q[0]; c = measure q; c[1] = measure q[0]; measure q[1] -> c[0]; barrier q[1], q[0];`
	c, err := qasm.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	type op struct {
		k      circuit.Kind
		qs     string
		clbit  int
		nclbit int
	}
	want := []circuit.Op{
		{Kind: circuit.KindMeasure, Qubits: []int{1}, Clbit: 2},
		{Kind: circuit.KindBarrier, Qubits: []int{0, 1}},
		{Kind: circuit.KindReset, Qubits: []int{0}},
		{Kind: circuit.KindMeasure, Qubits: []int{0}, Clbit: 0},
		{Kind: circuit.KindMeasure, Qubits: []int{1}, Clbit: 1},
		{Kind: circuit.KindMeasure, Qubits: []int{0}, Clbit: 1},
		{Kind: circuit.KindMeasure, Qubits: []int{1}, Clbit: 0},
		{Kind: circuit.KindBarrier, Qubits: []int{1, 0}},
	}
	if c.Clbits != 3 || len(c.Ops) != len(want) {
		t.Fatalf("got %d bits, %d ops: %+v", c.Clbits, len(c.Ops), c.Ops)
	}
	for i, w := range want {
		g := c.Ops[i]
		if g.Kind != w.Kind || g.Clbit != w.Clbit || !equalInts(g.Qubits, w.Qubits) {
			t.Errorf("op %d = %+v, want %+v", i, g, w)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestParseErrors checks that bad programs fail with the position and the
// reason.
func TestParseErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"OPENQASM 3; qubit q; h q;", `1:22: undefined gate "h" (missing include "stdgates.inc"?)`},
		{"OPENQASM 2.0; include \"qelib1.inc\"; qreg q[2];\ncx q[0], q[2];", `2:12: index 2 out of range for q[2]`},
		{"OPENQASM 3; include \"stdgates.inc\";\nqubit[2] q;\n  rx(1/0) q[0];", `3:7: division by zero`},
		{"OPENQASM 3; include \"stdgates.inc\"; qubit[2] q; cx q[0], q[0];", `gate "cx" uses qubit 0 twice`},
		{"OPENQASM 3; include \"stdgates.inc\"; qubit[2] q; rx q[0];", `gate "rx" takes 1 parameters, got 0`},
		{"OPENQASM 3; include \"stdgates.inc\"; qubit[2] q; h q[0], q[1];", `gate "h" takes 1 qubits, got 2`},
		{"OPENQASM 3; include \"stdgates.inc\"; qubit[3] q; ctrl(2) @ x q[0], q[1];", `with 2 controls takes 3 qubits, got 2`},
		{"OPENQASM 3; include \"stdgates.inc\"; qubit[2] q; qubit[3] r; cx q, r;", `register "r" has 3 elements but another argument has 2`},
		{"OPENQASM 3; qubit[2] q; if (c == 1) x q[0];", `1:29: undefined identifier "c"`},
		{"OPENQASM 3; qubit[2] q; switch (x) { }", `1:33: undefined identifier "x"`},
		{"OPENQASM 3; include \"stdgates.inc\"; qubit[2] q; float c = 0.5; if (c) x q[0]; if (~c == 2) x q[0];", `~ needs an integer`},
		{"OPENQASM 3; include \"stdgates.inc\"; qubit[2] q; bit[2] c; if (c == 4) x q[0];", `condition value 4 does not fit 2 bits`},
		{"OPENQASM 3; include \"stdgates.inc\"; qubit[2] q; bit[2] c; if (c[0]) { qubit r; }", `"qubit" inside an if`},
		{"OPENQASM 3; include \"stdgates.inc\"; qubit[2] q; bit[2] c; if (c[0]) { x q[0];", `unclosed { of an if`},
		{"OPENQASM 3; include \"stdgates.inc\"; qubit[2] q; bit[2] c; else x q[0];", `"else": classical control flow (else without if)`},
		{"OPENQASM 2.0; include \"qelib1.inc\"; qreg q[2]; creg c[2]; if(c==1) { x q[0]; }", `OPENQASM 2 has no blocks`},
		{"OPENQASM 3; qubit[2] q; qubit[1] q;", `1:34: "q" is already declared`},
		{"OPENQASM 3; qubit[0] q;", `register "q" must have a positive size`},
		{"OPENQASM 3; qubit[65] q;", `at most 64`},
		{"OPENQASM 4.0;", `unsupported OpenQASM version 4.0`},
		{"qubit q; OPENQASM 3;", `1:10: OPENQASM version must be the first statement`},
		{"OPENQASM 3; include \"stdgates.inc\"; qubit q; rx(0.1 q;", `1:53: expected ")", found "q"`},
		{"OPENQASM 3; include \"stdgates.inc\"; qubit q; rx(foo) q;", `undefined identifier "foo"`},
		{"OPENQASM 3; include \"stdgates.inc\"; gate g(a) x { rx(b) x; }", `1:54: undefined identifier "b"`},
		{"OPENQASM 3; include \"stdgates.inc\"; gate g x { h y; }", `1:50: "y" is not a qubit argument of this gate`},
		{"OPENQASM 3; include \"stdgates.inc\"; gate g x { g x; }", `calls itself`},
		{"OPENQASM 3; include \"stdgates.inc\"; gate h x { }", `already defined by the standard library`},
		{"OPENQASM 3; include \"other.inc\";", `cannot include "other.inc"`},
		{"OPENQASM 2.0; include \"stdgates.inc\";", `stdgates.inc is the OpenQASM 3 library`},
		{"OPENQASM 2.0; include \"qelib1.inc\"; qreg q[2]; ctrl @ x q[0], q[1];", `gate modifiers are OpenQASM 3`},
		{"OPENQASM 3; qubit q; /* open", `1:22: unterminated block comment`},
		{"OPENQASM 3; qubit q; U(2pi, 0, 0) q;", `1:24: malformed number "2p"`},
		{"OPENQASM 3; qubit q; bit c; measure q;", `measure needs a target bit`},
		{"OPENQASM 3; qubit[2] q; bit[3] c; c = measure q;", `measure of 2 qubits into 3 bits`},
		{"OPENQASM 3; qubit q; U(0,0,0) q[1];", `"q" is a single qubit and cannot be indexed`},
		{"OPENQASM 3; include \"stdgates.inc\"; qubit[4] q; x q[0:5];", `index 4 out of range for q[4]`},
		{"OPENQASM 3; include \"stdgates.inc\"; qubit q; pow(1/0) @ x q;", `division by zero`},
		{"OPENQASM 3; qubit q; U(" + strings.Repeat("(", 500) + "1" + strings.Repeat(")", 500) + ",0,0) q;", `nested too deeply`},
		{"OPENQASM 3; include \"stdgates.inc\"; qubit q; bit c; x c;", `"c" is a bit register, expected a qubit`},
		{"OPENQASM 3; qubit q; @", `expected a statement, found "@"`},
		{"OPENQASM 3; qubit q; \xff", `invalid UTF-8`},
	}
	for _, tc := range cases {
		_, err := qasm.Parse(tc.src)
		if err == nil {
			t.Errorf("%q: no error, want %q", tc.src, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got  %v\n want %q", tc.src, err, tc.want)
		}
	}
}

func TestParseFileIncludes(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "lib.inc"), []byte("gate bell a, b { h a; cx a, b; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "main.qasm")
	src := "OPENQASM 3.0;\ninclude \"stdgates.inc\";\ninclude \"lib.inc\";\nqubit[2] q;\nbell q[0], q[1];\n"
	if err := os.WriteFile(main, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := qasm.ParseFile(main)
	if err != nil {
		t.Fatal(err)
	}
	v := state(t, c)
	if math.Abs(real(v[0])-1/math.Sqrt2) > 1e-15 || math.Abs(real(v[3])-1/math.Sqrt2) > 1e-15 {
		t.Errorf("bell state = %v", v)
	}
	bad := filepath.Join(dir, "bad.inc")
	if err := os.WriteFile(bad, []byte("gate oops a { h a }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(main, []byte("OPENQASM 3.0;\ninclude \"stdgates.inc\";\ninclude \"bad.inc\";\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = qasm.ParseFile(main)
	if err == nil || !strings.Contains(err.Error(), "bad.inc:1:19") {
		t.Errorf("error in include = %v, want it to name bad.inc:1:19", err)
	}
}

// randomCircuit is backendtest.RandomCircuit (every standard gate, controls,
// negative controls, inv and integer and real powers) plus dense unitaries
// on 1–3 qubits.
func randomCircuit(rng *rand.Rand, n, gates int) *circuit.Circuit {
	c := backendtest.RandomCircuit(rng, n, gates)
	for i := 0; i < gates/8; i++ {
		k := 1 + rng.IntN(min(n, 3))
		perm := rng.Perm(n)
		op := circuit.Op{Kind: circuit.KindGate, Name: circuit.UnitaryName, Qubits: perm[:k], Matrix: circuit.RandomUnitary(rng, 1<<k)}
		if n > k && rng.IntN(2) == 0 {
			op.Controls = perm[k : k+1]
		}
		at := rng.IntN(len(c.Ops) + 1)
		c.Ops = append(c.Ops[:at], append([]circuit.Op{op}, c.Ops[at:]...)...)
	}
	return c
}

// TestExportRoundTrip: Export3 then Parse reproduces the state exactly
// (global phase included, 1e-10); Export2 then Parse up to a global phase.
func TestExportRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 1))
	for i := 0; i < 60; i++ {
		n := 1 + i%7
		c := randomCircuit(rng, n, 12+rng.IntN(20))
		want := state(t, c)
		s3, err := qasm.Export3(c)
		if err != nil {
			t.Fatal(err)
		}
		c3, err := qasm.Parse(s3)
		if err != nil {
			t.Fatalf("re-parse of export3: %v\n%s", err, s3)
		}
		if d := diff(want, state(t, c3), false); d > 1e-10 {
			t.Fatalf("circuit %d: qasm3 round trip differs by %.3g\n%s", i, d, s3)
		}
		s2, err := qasm.Export2(c)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := qasm.Parse(s2)
		if err != nil {
			t.Fatalf("re-parse of export2: %v\n%s", err, s2)
		}
		if d := diff(want, state(t, c2), true); d > 1e-9 {
			t.Fatalf("circuit %d: qasm2 round trip differs by %.3g (up to global phase)\n%s", i, d, s2)
		}
	}
}

func TestExportNonGates(t *testing.T) {
	c := circuit.New(3)
	c.Append("h", nil, 0)
	c.Ops = append(c.Ops, circuit.Op{Kind: circuit.KindBarrier, Qubits: []int{0, 1, 2}}, circuit.Op{Kind: circuit.KindBarrier, Qubits: []int{2, 0}})
	c.Reset(1).Measure(0, 2)
	s3, err := qasm.Export3(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"barrier q;", "barrier q[2], q[0];", "reset q[1];", "c[2] = measure q[0];", "bit[3] c;"} {
		if !strings.Contains(s3, w) {
			t.Errorf("export3 lacks %q:\n%s", w, s3)
		}
	}
	s2, err := qasm.Export2(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"barrier q;", "reset q[1];", "measure q[0] -> c[2];", "creg c[3];"} {
		if !strings.Contains(s2, w) {
			t.Errorf("export2 lacks %q:\n%s", w, s2)
		}
	}
	c3, err := qasm.Parse(s3)
	if err != nil {
		t.Fatal(err)
	}
	if len(c3.Ops) != len(c.Ops) {
		t.Fatalf("round trip has %d ops, want %d", len(c3.Ops), len(c.Ops))
	}
	for i := range c.Ops {
		if c3.Ops[i].Kind != c.Ops[i].Kind || !equalInts(c3.Ops[i].Qubits, c.Ops[i].Qubits) || c3.Ops[i].Clbit != c.Ops[i].Clbit {
			t.Errorf("op %d = %+v, want %+v", i, c3.Ops[i], c.Ops[i])
		}
	}
	bad := circuit.New(1)
	bad.Append("nope", nil, 0)
	if _, err := qasm.Export3(bad); err == nil {
		t.Error("Export3 accepted an unknown gate")
	}
}

func TestAngle(t *testing.T) {
	for _, tc := range []struct {
		x    float64
		want string
	}{{math.Pi, "pi"}, {-math.Pi / 2, "-pi/2"}, {3 * math.Pi / 4, "3*pi/4"}, {0, "0"}, {0.1, "0.1"}, {2 * math.Pi, "2*pi"}} {
		if got := qasm.Angle(tc.x); got != tc.want {
			t.Errorf("Angle(%v) = %q, want %q", tc.x, got, tc.want)
		}
	}
	rng := rand.New(rand.NewPCG(3, 3))
	for i := 0; i < 2000; i++ {
		x := (rng.Float64()*2 - 1) * math.Pow(10, float64(rng.IntN(10)-5))
		if i%2 == 0 {
			x = float64(rng.IntN(65)-32) * math.Pi / float64([]int{1, 2, 3, 4, 6, 8, 12, 16}[rng.IntN(8)])
		}
		c, err := qasm.Parse("OPENQASM 3; qubit q; U(" + qasm.Angle(x) + ", 0, 0) q;")
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Ops[0].Params[0]; got != x {
			t.Fatalf("Angle(%v) = %q reads back as %v", x, qasm.Angle(x), got)
		}
	}
}

func FuzzParse(f *testing.F) {
	seeds := []string{
		`OPENQASM 3.0; include "stdgates.inc"; qubit[3] q; bit[3] c; gate g(a) x, y { ctrl @ rx(a) x, y; } g(pi/2) q[0], q[1]; pow(0.5) @ g(1) q[1], q[2]; c = measure q;`,
		`OPENQASM 2.0; include "qelib1.inc"; qreg q[2]; creg c[2]; u3(pi/2,0,pi) q[0]; cx q[0],q[1]; measure q -> c;`,
		`OPENQASM 3; include "stdgates.inc"; qubit q; negctrl @ inv @ x q; reset q; barrier;`,
		`OPENQASM 3; qubit[2] q; ctrl(1) @ gphase(-τ) q[0]; U(sin(1)**2, 2, 3) q[1];`,
		`OPENQASM 3; include "stdgates.inc"; qubit[2] q; bit[2] c; c[0] = measure q[0]; if (c[0]) { x q[1]; } else { if (c != 2) h q[0]; }`,
		`OPENQASM 2.0; include "qelib1.inc"; qreg q[2]; creg c[2]; measure q[0] -> c[0]; if(c==1) x q[1];`,
		"OPENQASM 3; include \"stdgates.inc\";\n#pragma x\nconst int n = 3; const angle[4] a = pi; qubit[n] q; let r = q[0:1] ++ q[{2}]; for int i in [0:n-1] { rx(a * i) r[i]; } h q[-1:];",
		`OPENQASM 2.0; include "qelib1.inc"; qreg q[4]; rzz(0.5) q[0],q[1]; rc3x q[0],q[1],q[2],q[3]; c3sqrtx q[3],q[2],q[1],q[0];`,
		`OPENQASM 3; include "stdgates.inc"; h $0; cx $0, $3;`,
		`OPENQASM 3; include "stdgates.inc"; qubit[2] q; def f(qubit a, angle t) { rx(t) a; } f(q[1], pi/3);`,
	}
	lang, _ := filepath.Glob("testdata/lang/*.qasm")
	if files, _ := filepath.Glob("../examples/*.qasm"); len(files)+len(lang) > 0 {
		files = append(files, lang...)
		for _, fn := range files {
			if b, err := os.ReadFile(fn); err == nil {
				seeds = append(seeds, string(b))
			}
		}
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		// Small limits: a loop may legitimately unroll for a long time.
		c, err := qasm.ParseWith(src, qasm.Options{Limits: qasm.Limits{MaxOps: 100_000, MaxExpandDuration: 2 * time.Second}})
		if err != nil {
			return
		}
		if c.Qubits > 10 || c.GateCount() > 200 {
			return
		}
		s3, err := qasm.Export3(c)
		if errors.Is(err, qasm.ErrNotExpressible) {
			return
		}
		if err != nil {
			t.Fatalf("parsed circuit does not export: %v", err)
		}
		c3, err := qasm.Parse(s3)
		if err != nil {
			t.Fatalf("exported circuit does not parse: %v\n%s", err, s3)
		}
		if c3.Qubits != c.Qubits || c3.Results() != c.Results() {
			t.Fatalf("round trip changed registers: %d/%d → %d/%d", c.Qubits, c.Results(), c3.Qubits, c3.Results())
		}
	})
}
