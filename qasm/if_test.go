package qasm_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/qasm"
	"github.com/prismai/mec/sim/simtest"
)

// TestParseIf checks the conditions that if statements attach to ops in
// OpenQASM 2 and 3 (register and bit conditions, else, blocks, nesting),
// and that exporting them and parsing the export gives the same ops.
func TestParseIf(t *testing.T) {
	src3 := `OPENQASM 3.0;
include "stdgates.inc";
qubit[3] q;
bit[2] c;
bit b;
c[0] = measure q[0];
if (c[0]) x q[1];
if (!c[0]) { h q[1]; reset q[2]; }
if (c == 2) z q[0]; else { y q[0]; }
if (c[1] == 0) { if (b) b = measure q[2]; }
if (c != 1) ctrl @ rx(0.5) q[0], q[1];
`
	c, err := qasm.Parse(src3)
	if err != nil {
		t.Fatal(err)
	}
	bit := func(k int, v uint64, not bool) circuit.Cond {
		return circuit.Cond{Clbits: []int{k}, Value: v, Not: not}
	}
	reg := circuit.Cond{Clbits: []int{0, 1}, Value: 2}
	want := [][]circuit.Cond{
		nil,                // measure
		{bit(0, 1, false)}, // x
		{bit(0, 1, true)},  // h
		{bit(0, 1, true)},  // reset
		{reg},              // z
		{{Clbits: []int{0, 1}, Value: 2, Not: true}}, // y (else)
		{bit(1, 0, false), bit(2, 1, false)},         // nested measure
		{{Clbits: []int{0, 1}, Value: 1, Not: true}}, // ctrl @ rx
	}
	if len(c.Ops) != len(want) {
		t.Fatalf("%d ops, want %d", len(c.Ops), len(want))
	}
	for i, w := range want {
		if !condsEqual(c.Ops[i].Conds, w) {
			t.Errorf("op %d (%s): conditions %+v, want %+v", i, c.Ops[i].Name, c.Ops[i].Conds, w)
		}
	}
	// Export and parse back: the same conditions on the same ops.
	if back := roundTrip(t, c); !sameActs(c, back) {
		t.Errorf("round trip: the ops that act differ for some register")
	}
	// OpenQASM 2: if (creg == n) on the whole register.
	src2 := "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[2];\ncreg c[2];\nmeasure q[0] -> c[0];\nif(c==1) x q[1];\n"
	c2, err := qasm.Parse(src2)
	if err != nil {
		t.Fatal(err)
	}
	if !condsEqual(c2.Ops[1].Conds, []circuit.Cond{{Clbits: []int{0, 1}, Value: 1}}) {
		t.Errorf("OpenQASM 2 if: %+v", c2.Ops[1].Conds)
	}
	out2, err := qasm.Export2(c2)
	if err != nil {
		t.Fatal(err)
	}
	if back2, err := qasm.Parse(out2); err != nil || !condsEqual(back2.Ops[1].Conds, c2.Ops[1].Conds) {
		t.Errorf("OpenQASM 2 round trip: %v\n%s", err, out2)
	}
	if _, err := qasm.Export2(c); err == nil {
		t.Error("Export2 of bit conditions: no error")
	}
}

func condsEqual(a, b []circuit.Cond) bool {
	return slices.EqualFunc(a, b, func(x, y circuit.Cond) bool {
		return slices.Equal(x.Clbits, y.Clbits) && x.Value == y.Value && x.Not == y.Not
	})
}

// sameActs reports whether, for every value of the classical register,
// the two circuits have the same sequence of acting ops (kind, name,
// qubits): an export may write a condition as several ifs.
func sameActs(a, b *circuit.Circuit) bool {
	acts := func(c *circuit.Circuit, bits []bool) []string {
		var out []string
		for i := range c.Ops {
			op := &c.Ops[i]
			if circuit.CondsHold(op.Conds, bits) {
				out = append(out, fmt.Sprint(op.Kind, op.Name, op.Qubits, op.Controls, op.Clbit))
			}
		}
		return out
	}
	bits := make([]bool, a.Clbits)
	for v := 0; v < 1<<a.Clbits; v++ {
		for j := range bits {
			bits[j] = v>>j&1 == 1
		}
		if !slices.Equal(acts(a, bits), acts(b, bits)) {
			return false
		}
	}
	return true
}

// TestIfDecidesOnce: a body that changes the bits of its own condition
// neither stops half way nor runs its else too (OpenQASM 3 decides an if
// once): x; measure → c[0] = 1; if (c[0]) { c[0] = 0; x q[1]; } else { x
// q[0]; } reads 10 on every path, and exports and reads back the same.
func TestIfDecidesOnce(t *testing.T) {
	src := `OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
bit[2] c;
x q[0];
c[0] = measure q[0];
if (c[0]) { c[0] = 0; x q[1]; } else { x q[0]; }
c[1] = measure q[1];
`
	c, err := qasm.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, cc := range []*circuit.Circuit{c, roundTrip(t, c)} {
		dist, err := simtest.Distribution(cc)
		if err != nil {
			t.Fatal(err)
		}
		if len(dist) != 1 || dist["10"] != 1 {
			t.Errorf("distribution %v, want 10 always", dist)
		}
		if cc.Results() != 2 {
			t.Errorf("%d result bits", cc.Results())
		}
	}
}

func roundTrip(t *testing.T, c *circuit.Circuit) *circuit.Circuit {
	t.Helper()
	out, err := qasm.Export3(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := qasm.Parse(out)
	if err != nil {
		t.Fatalf("export does not parse: %v\n%s", err, out)
	}
	return back
}
