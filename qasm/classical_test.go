package qasm_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/qasm"
)

const head3 = "OPENQASM 3.0;\ninclude \"stdgates.inc\";\n"

// gateList renders a circuit's ops as "name q…" strings, parameters
// rounded to 1e-9, for comparisons.
func gateList(c *circuit.Circuit) []string {
	var out []string
	for _, op := range c.Ops {
		s := op.Kind.String()
		if op.Kind == circuit.KindGate {
			s = op.Name
		}
		for _, p := range op.Params {
			s += " " + strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.9f", p+0), "0"), ".")
		}
		for _, q := range op.Qubits {
			s += " " + itoa(q)
		}
		if op.Kind == circuit.KindMeasure {
			s += " ->" + itoa(op.Clbit)
		}
		if op.Kind == circuit.KindSet {
			s += " ->" + itoa(op.Clbit) + "=" + map[bool]string{false: "0", true: "1"}[op.Bit]
		}
		out = append(out, s)
	}
	return out
}

// TestClassicalDeclarations covers const, input, let, slices, index sets
// and for loops: the ops they produce, and their errors.
func TestClassicalDeclarations(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		params    map[string]float64
		want      []string
	}{
		{"const sizes and params", "const int[32] n = 3; const float[64] th = pi/2; qubit[n] q; rx(th / 2) q[n - 1];", nil,
			[]string{"rx 0.785398163 2"}},
		{"angle width", "const angle[2] a = 1; qubit q; rz(a) q;", nil, []string{"rz 1.570796327 0"}},
		{"input", "input float[64] theta; input angle phi; qubit q; rx(theta) q; rz(phi) q;", map[string]float64{"theta": 0.25, "phi": -math.Pi / 2},
			[]string{"rx 0.25 0", "rz 4.71238898 0"}},
		{"slice inclusive", "qubit[5] q; h q[1:3];", nil, []string{"h 1", "h 2", "h 3"}},
		{"slice step and negative", "qubit[6] q; x q[0:2:-1]; z q[-2:];", nil, []string{"x 0", "x 2", "x 4", "z 4", "z 5"}},
		{"reverse slice", "qubit[4] q; x q[3:-1:1];", nil, []string{"x 3", "x 2", "x 1"}},
		{"index set", "qubit[4] q; y q[{3, 0, -2}];", nil, []string{"y 3", "y 0", "y 2"}},
		{"slice broadcast", "qubit[4] q; cx q[0:1], q[2:3];", nil, []string{"cx 0 2", "cx 1 3"}},
		{"let alias", "qubit[2] a; qubit[2] b; let ab = a[1] ++ b; x ab[1:2]; h ab;", nil, []string{"x 2", "x 3", "h 1", "h 2", "h 3"}},
		{"let bits", "qubit[2] q; bit[3] c; let low = c[0:1]; low = measure q;", nil, []string{"measure 0 ->0", "measure 1 ->1"}},
		{"for range", "qubit[4] q; for int i in [0:2] { cx q[i], q[i + 1]; }", nil, []string{"cx 0 1", "cx 1 2", "cx 2 3"}},
		{"for step, set, nested, one statement", "qubit[4] q; for i in [3:-2:0] x q[i]; for float a in {0.5, 1.5} { for j in {0, 1} rz(a * j) q[j]; }", nil,
			[]string{"x 3", "x 1", "rz 0 0", "rz 0.5 1", "rz 0 0", "rz 1.5 1"}},
		{"loop variable scope", "const int i = 1; qubit[3] q; for i in [2:2] x q[i]; x q[i];", nil, []string{"x 2", "x 1"}},
		{"physical qubits", "h $0; cx $0, $2; bit[1] c; c[0] = measure $2;", nil, []string{"h 0", "cx 0 2", "measure 2 ->0"}},
		{"pragma and annotation", "#pragma braket verbatim\nqubit q;\n@bind x\npragma foo bar\nh q;", nil, []string{"h 0"}},
		{"def", "qubit[3] q; bit[3] c; def bell(qubit a, qubit b) { h a; cx a, b; } def rot(qubit[2] r, angle t, int n) { for i in [0:n-1] rz(t * (i + 1)) r[i]; } def m(qubit x, int k) { c[k] = measure x; } bell(q[2], q[0]); rot(q[0:1], 0.5, 2); m(q[1], 2);", nil,
			[]string{"h 2", "cx 2 0", "rz 0.5 0", "rz 1 1", "measure 1 ->2"}},
		{"def shadows and restores", "qubit[2] q; const int n = 1; def f(qubit q, int n) { x q; rz(n) q; } f(q[1], 3); rz(n) q[0];", nil, []string{"x 1", "rz 3 1", "rz 1 0"}},
		{"def with if", "qubit[2] q; bit[2] c; def fix(qubit t) { if (c[0]) x t; } c[0] = measure q[0]; fix(q[1]);", nil, []string{"measure 0 ->0", "x 1"}},
		{"def called as a gate", "qubit[2] q; def bell(qubit[2] r) { h r[0]; cx r[0], r[1]; } bell q;", nil, []string{"h 0", "cx 0 1"}},
		{"cast in a condition", "qubit q; bit[2] c; c[0] = measure q; if (int[2](c) == 1) x q;", nil, []string{"measure 0 ->0", "x 0"}},
		{"legacy CX", "qubit[2] q; CX q[0], q[1];", nil, []string{"cx 0 1"}},
		{"register set to a number", "bit[3] c; c = 5; c[1] = 1;", nil, []string{"set ->0=1", "set ->1=0", "set ->2=1", "set ->1=1"}},
		{"bool constants", "const bool b = true; qubit q; rx(b * pi) q;", nil, []string{"rx 3.141592654 0"}},
		{"alias of a physical qubit", "let a = $0; h a; x $1;", nil, []string{"h 0", "x 1"}},
		{"timing", "stretch g; duration d = 2 * durationof({x $0;}) + g; h $0; delay[d] $0, $1; box [100ns] { delay[g]; x $1; } delay[1.5us] $1;", nil, []string{"h 0", "x 1", "delay 0.0000015 1"}},
		{"calibrations", "defcalgrammar \"openpulse\"; cal { extern port d0; } defcal x $0 { play drive($0), gaussian(1, 2); } defcal measure $0 -> bit { return 1; } qubit q; x q;", nil, []string{"x 0"}},
		{"loop-local bits", "qubit[2] q; bit[2] c; for i in [0:1] { bit tmp; tmp = measure q[i]; if (tmp) x q[i]; c[i] = measure q[i]; }", nil,
			[]string{"measure 0 ->2", "x 0", "measure 0 ->0", "set ->2=0", "measure 1 ->2", "x 1", "measure 1 ->1", "set ->2=0"}},
	} {
		c, err := qasm.ParseWith("\uFEFF"+head3+tc.src, qasm.Options{Params: tc.params})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := gateList(c); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	if c, err := qasm.Parse(head3 + "h $0; x $4;"); err != nil || c.Qubits != 5 {
		t.Errorf("physical qubits $0, $4: %v qubits, %v", c, err)
	}
	var notes []string
	if _, err := qasm.ParseWith(head3+"#pragma a\nqubit q;\n  @ann b\nh q;", qasm.Options{Notice: func(m string) { notes = append(notes, m) }}); err != nil || len(notes) != 2 ||
		!strings.Contains(notes[0], "3: #pragma ignored: #pragma a") || !strings.Contains(notes[1], "5: annotation ignored: @ann b") {
		t.Errorf("notices: %q, %v", notes, err)
	}
	for _, tc := range []struct {
		name, src string
		params    map[string]float64
		want      string
	}{
		{"missing input", "input float theta; qubit q; rx(theta) q;", nil, `input "theta" needs a value`},
		{"unknown param", "qubit q;", map[string]float64{"theta": 1}, `parameter "theta" is not an input`},
		{"int not integer", "const int n = 1.5;", nil, "int[64] needs an integer, got 1.5"},
		{"uint negative", "const uint[8] n = -1;", nil, "does not fit uint[8]"},
		{"int overflow", "const int[4] n = 8;", nil, "8 does not fit int[4]"},
		{"redeclared", "const int n = 1; qubit[2] n;", nil, `"n" is already declared`},
		{"const shadows builtin", "const float pi = 3;", nil, `"pi" is a built-in constant`},
		{"mix physical and virtual", "qubit q; h $0;", nil, "cannot be mixed"},
		{"mix virtual after physical", "h $0; qubit q;", nil, "cannot be mixed"},
		{"index physical", "h $0[1];", nil, "cannot be indexed"},
		{"empty slice", "qubit[3] q; h q[2:1];", nil, "is empty"},
		{"slice out of range", "qubit[3] q; h q[1:3];", nil, "index 3 out of range"},
		{"step zero", "qubit[3] q; h q[0:0:2];", nil, "range step of 0"},
		{"alias twice", "qubit[3] q; let a = q[0] ++ q[0];", nil, "names qubit 0 twice"},
		{"for without values", "qubit q; for i in q { h q; }", nil, "range [a:b], a set {…} or an array"},
		{"for unclosed", "qubit q; for i in [0:1] { h q;", nil, "unclosed { of a for loop"},
		{"for no semicolon", "qubit q; for i in [0:1] h q", nil, "needs a closing ;"},
		{"while without a condition", "qubit q; bit c; while c == 0 { h q; }", nil, `expected "("`},
		{"while with junk", "qubit q; float w = 1.5; while (w 1) { h q; }", nil, "unexpected"},
		{"while unclosed", "qubit q; bit c; while (c) { h q;", nil, "unclosed { of a while loop"},
		{"bit assigned 2", "bit c; c = 2;", nil, "2 does not fit bit"},
		{"bit assigned a name", "bit c; c = pi;", nil, "bit needs an integer, got 3.14"},
		{"2D index", "qubit[3] q; h q[0, 1];", nil, "multi-dimensional"},
		{"pragma mid-line", "qubit q; h q; pragma x;", nil, "a pragma must start its line"},
		{"hash", "# x\nqubit q;", nil, "unexpected character '#'"},
		{"def arity", "qubit q; def f(qubit a, float t) { rx(t) a; } f(q);", nil, `takes 2 arguments, got 1`},
		{"def too many", "qubit q; def f(qubit a) { x a; } f(q, q);", nil, `takes 1 arguments`},
		{"def qubit size", "qubit[3] q; def f(qubit[2] r) { x r; } f(q);", nil, "3 qubits for qubit[2] r"},
		{"def single not indexable", "qubit[3] q; def f(qubit r) { x r[0]; } f(q[0]);", nil, "cannot be indexed"},
		{"def return without value", "qubit q; def f(qubit a) -> bit { return; } bit b = f(q);", nil, "returns a bit: return a value"},
		{"def recursion", "qubit q; def f(qubit a) { x a; f(a); } f(q);", nil, "nested more than 64 deep"},
		{"def declares qubit", "def f() { qubit r; } f();", nil, `"qubit" inside a subroutine`},
		{"def twice", "def f() { } def f() { }", nil, `"f" is already declared`},
		{"def type", "def f(int[8] n) { } f(300);", nil, "does not fit int[8]"},
		{"return", "qubit q; return;", nil, "return outside a subroutine"},
		{"calibration only", "defcal zz $0, $1 { } zz $0, $1;", nil, "has only a pulse-level calibration"},
		{"delay without duration", "qubit q; delay q;", nil, "delay needs a duration"},
		{"delay unknown qubit", "delay[10ns] r;", nil, `undefined qubit register "r"`},
		{"qubit in a loop", "for i in [0:1] { qubit r; }", nil, "declared inside a block"},
		{"loop-local bit after the loop", "qubit q; for i in [0:0] { bit tmp; tmp = measure q; } if (tmp) x q;", nil, `undefined identifier "tmp"`},
		{"malformed duration", "qubit q; delay[10xs] q;", nil, "malformed number"},
	} {
		_, err := qasm.ParseWith(head3+tc.src, qasm.Options{Params: tc.params})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	// A while loop: two scratch guard bits after the program's own, a
	// guarded body per round and a final check; bits can be set.
	w, err := qasm.ParseWith(head3+"qubit q; bit[2] c; c[1] = 1; c[0] = measure q; while (c[0] == 1) { x q; c[0] = measure q; } bit d;", qasm.Options{Limits: qasm.Limits{MaxWhile: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if w.Clbits != 5 || w.Scratch != 2 || w.Results() != 3 {
		t.Fatalf("while: %d bits, %d scratch", w.Clbits, w.Scratch)
	}
	sets, fails := 0, 0
	for _, op := range w.Ops {
		switch op.Kind {
		case circuit.KindSet:
			sets++
		case circuit.KindFail:
			fails++
			if !strings.Contains(op.Name, "the while loop at 3:") || len(op.Conds) != 1 || op.Conds[0].Clbits[0] < 3 {
				t.Errorf("fail op: %+v", op)
			}
		case circuit.KindMeasure:
			if op.Clbit > 2 {
				t.Errorf("a measurement writes scratch bit %d", op.Clbit)
			}
		}
	}
	if sets != 1+2*4+2 || fails != 1 { // c[1], two per round, the guards zeroed after the loop
		t.Errorf("%d sets and %d fails, want 11 and 1", sets, fails)
	}
	if _, err := qasm.Export2(w); err == nil || !strings.Contains(err.Error(), "no classical assignments") {
		t.Errorf("Export2 of a while loop: %v", err)
	}
	// A loop's ops count against the limit before they are all made.
	_, err = qasm.ParseWith(head3+"qubit q; for i in [0:100000] { h q; }", qasm.Options{Limits: qasm.Limits{MaxOps: 1000}})
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("a loop beyond MaxOps: %v", err)
	}
}

// TestEvalConst checks the command-line value parser.
func TestEvalConst(t *testing.T) {
	for src, want := range map[string]float64{"0.5": 0.5, "-pi/4": -math.Pi / 4, "2*tau/3": 4 * math.Pi / 3, "sqrt(4)": 2, "1e-3": 1e-3} {
		if v, err := qasm.EvalConst(src); err != nil || math.Abs(v-want) > 1e-15 {
			t.Errorf("EvalConst(%q) = %v, %v; want %v", src, v, err, want)
		}
	}
	for _, src := range []string{"", "theta", "1 2", "1/0", "pi)", "\"x\""} {
		if _, err := qasm.EvalConst(src); err == nil {
			t.Errorf("EvalConst(%q): no error", src)
		}
	}
}

func itoa(v int) string { return fmt.Sprint(v) }

// TestInputNamesAndRegisters: InputNames lists a program's inputs in
// declaration order without their values; Cregs names the declared bit
// registers (not the loop scratch) with their bits after scratch bits
// move last.
func TestInputNamesAndRegisters(t *testing.T) {
	src := head3 + "input float[64] theta; input angle alpha; qubit[2] q; bit[1] a; bit b; c0: ;"
	src = strings.Replace(src, "c0: ;", "while (a[0]) { a[0] = measure q[0]; } bit[2] late; rx(theta + alpha) q[1];", 1)
	names, err := qasm.InputNames(context.Background(), src, qasm.Options{})
	if err != nil || !slices.Equal(names, []string{"theta", "alpha"}) {
		t.Fatalf("InputNames: %v, %v", names, err)
	}
	c, err := qasm.ParseWith(src, qasm.Options{Params: map[string]float64{"theta": 1, "alpha": 2}})
	if err != nil {
		t.Fatal(err)
	}
	want := []circuit.Register{{Name: "a", Bits: []int{0}}, {Name: "b", Bits: []int{1}}, {Name: "late", Bits: []int{2, 3}}}
	if len(c.Cregs) != len(want) {
		t.Fatalf("Cregs %+v", c.Cregs)
	}
	for i, r := range c.Cregs {
		if r.Name != want[i].Name || !slices.Equal(r.Bits, want[i].Bits) {
			t.Errorf("register %d: %+v, want %+v", i, r, want[i])
		}
	}
	if c.Scratch != 2 || c.Clbits != 6 {
		t.Errorf("%d bits, %d scratch", c.Clbits, c.Scratch)
	}
}
