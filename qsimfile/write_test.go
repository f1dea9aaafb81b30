package qsimfile_test

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/qsimfile"
)

// TestWriteRoundTrip: every gate Write supports reads back as the same op
// (names, parameters bit for bit, operands, controls), each at the
// earliest time after its qubits' previous gates.
func TestWriteRoundTrip(t *testing.T) {
	c := circuit.New(3)
	for _, g := range []string{"id", "h", "t", "x", "y", "z", "s", "sx"} {
		c.Append(g, nil, 1)
	}
	c.Append("rx", []float64{0.1}, 0)
	c.Append("ry", []float64{math.Pi / 2}, 2)
	c.Append("rz", []float64{-1.0 / 3}, 1)
	c.Append("cz", nil, 0, 2)
	c.Append("cx", nil, 2, 1)
	c.Append("swap", nil, 1, 0)
	c.Ops = append(c.Ops, circuit.Op{Kind: circuit.KindGate, Name: "h", Qubits: []int{2}, Controls: []int{0, 1}})
	c.Ops = append(c.Ops, circuit.Op{Kind: circuit.KindMeasure, Qubits: []int{1}, Clbit: 1})
	var sb strings.Builder
	if err := qsimfile.Write(&sb, c); err != nil {
		t.Fatal(err)
	}
	// qubit 1: 8 one-qubit gates (times 0..7), rz 8, cx 9, swap 10, c-h 11, m 12.
	if !strings.HasSuffix(sb.String(), "\n12 m 1\n") {
		t.Errorf("want the measurement last at time 12:\n%s", sb.String())
	}
	back, err := qsimfile.Parse(context.Background(), strings.NewReader(sb.String()), "written", 0)
	if err != nil {
		t.Fatalf("%v\n%s", err, sb.String())
	}
	if back.Qubits != 3 || len(back.Ops) != len(c.Ops) {
		t.Fatalf("read back %d qubits, %d ops; want 3, %d", back.Qubits, len(back.Ops), len(c.Ops))
	}
	for i := range c.Ops {
		a, b := &c.Ops[i], &back.Ops[i]
		if a.Kind != b.Kind || a.Name != b.Name || !slices.Equal(a.Params, b.Params) ||
			!slices.Equal(a.Qubits, b.Qubits) || !slices.Equal(a.Controls, b.Controls) || a.Clbit != b.Clbit {
			t.Errorf("op %d: wrote %+v, read back %+v", i, *a, *b)
		}
	}
}

// TestWriteRefuses: what qsim's format cannot say is an error naming the op.
func TestWriteRefuses(t *testing.T) {
	for name, op := range map[string]circuit.Op{
		"has no qsim equivalent": {Kind: circuit.KindGate, Name: "u", Params: []float64{1, 2, 3}, Qubits: []int{0}},
		"modifiers":              {Kind: circuit.KindGate, Name: "h", Qubits: []int{0}, Pow: -1},
		"negctrl":                {Kind: circuit.KindGate, Name: "x", Qubits: []int{0}, NegControls: []int{1}},
		"into bit":               {Kind: circuit.KindMeasure, Qubits: []int{0}, Clbit: 1},
		"no reset":               {Kind: circuit.KindReset, Qubits: []int{0}},
		"conditions":             {Kind: circuit.KindGate, Name: "x", Qubits: []int{0}, Conds: []circuit.Cond{{}}},
	} {
		c := circuit.New(2)
		c.Ops = []circuit.Op{op}
		err := qsimfile.Write(&strings.Builder{}, c)
		if err == nil || !strings.Contains(err.Error(), "op 0") || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

// TestWriteMeasurementTimes: qsim refuses a measurement at a time below
// any earlier op's, and a gate at a time not after the last measurement:
// Write's times follow both rules. A gate on a qubit the circuit lacks is
// an error, not a panic.
func TestWriteMeasurementTimes(t *testing.T) {
	c := circuit.New(2)
	c.Append("h", nil, 0)
	c.Append("h", nil, 0)
	c.Append("h", nil, 0)
	c.Ops = append(c.Ops, circuit.Op{Kind: circuit.KindMeasure, Qubits: []int{1}, Clbit: 1})
	c.Append("h", nil, 1)
	c.Append("h", nil, 0)
	var sb strings.Builder
	if err := qsimfile.Write(&sb, c); err != nil {
		t.Fatal(err)
	}
	want := "2\n0 h 0\n1 h 0\n2 h 0\n2 m 1\n3 h 1\n3 h 0\n"
	if sb.String() != want {
		t.Errorf("Write:\n%s\nwant\n%s", sb.String(), want)
	}
	bad := circuit.New(1)
	bad.Ops = append(bad.Ops, circuit.Op{Kind: circuit.KindGate, Name: "h", Qubits: []int{3}})
	if err := qsimfile.Write(&sb, bad); err == nil {
		t.Error("Write of a gate on qubit 3 of a 1-qubit circuit: no error")
	}
}
