package qsimfile

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/prismai/mec/circuit"
)

// qsimNames maps mec's standard gates whose matrices equal qsim's (global
// phases included) to qsim's names.
var qsimNames = map[string]string{
	"id": "id1", "h": "h", "t": "t", "x": "x", "y": "y", "z": "z", "s": "s", "sx": "x_1_2",
	"rx": "rx", "ry": "ry", "rz": "rz", "cz": "cz", "cx": "cnot", "swap": "sw",
}

// Write writes c in qsim's format, so that qsim can run the very circuit
// mec runs: its gates must be among those with a qsim equivalent (id, h,
// t, x, y, z, s, sx, rx, ry, rz, cz, cx, swap, with extra positive controls
// as qsim's "c"), without pow or inv modifiers, negative controls or
// conditions; measurements of qubit q must write bit q. Each gate gets the
// earliest time after the previous gates on its qubits (times start at 0),
// within qsim's ordering rules: a measurement is at no earlier time than
// any op before it, and a gate after a measurement at a later time than
// it; barriers are dropped.
func Write(w io.Writer, c *circuit.Circuit) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%d\n", c.Qubits)
	next := make([]int, c.Qubits) // a qubit's earliest free time
	latest, lastM := 0, -1        // the largest time so far; the last measurement's
	for i := range c.Ops {
		op := &c.Ops[i]
		var line string
		switch {
		case len(op.Conds) > 0 || op.ParamExprs != nil:
			return fmt.Errorf("qsimfile: op %d (%s): qsim's format has no conditions or run-time parameters", i, op.Name)
		case op.Kind == circuit.KindMeasure:
			if op.Clbit != op.Qubits[0] {
				return fmt.Errorf("qsimfile: op %d: measure of qubit %d into bit %d (qsim writes bit q for qubit q)", i, op.Qubits[0], op.Clbit)
			}
			line = "m " + strconv.Itoa(op.Qubits[0])
		case op.Kind == circuit.KindBarrier:
			continue
		case op.Kind != circuit.KindGate:
			return fmt.Errorf("qsimfile: op %d: qsim's format has no %s", i, op.Kind)
		default:
			name, ok := qsimNames[op.Name]
			if !ok {
				return fmt.Errorf("qsimfile: op %d: gate %q has no qsim equivalent", i, op.Name)
			}
			if op.Exponent() != 1 || len(op.NegControls) > 0 {
				return fmt.Errorf("qsimfile: op %d (%s): qsim's format has no pow, inv or negctrl modifiers", i, op.Name)
			}
			if len(op.Controls) > 0 {
				line = "c"
				for _, q := range op.Controls {
					line += " " + strconv.Itoa(q)
				}
				line += " "
			}
			line += name
			for _, q := range op.Qubits {
				line += " " + strconv.Itoa(q)
			}
			for _, p := range op.Params {
				line += " " + strconv.FormatFloat(p, 'g', -1, 64)
			}
		}
		qs := op.AllQubits()
		for _, q := range qs {
			if q < 0 || q >= c.Qubits {
				return fmt.Errorf("qsimfile: op %d (%s): qubit %d of a %d-qubit circuit", i, op.Name, q, c.Qubits)
			}
		}
		t := lastM + 1
		if op.Kind == circuit.KindMeasure {
			t = latest
		}
		for _, q := range qs {
			t = max(t, next[q])
		}
		if op.Kind == circuit.KindMeasure {
			lastM = t
		}
		latest = max(latest, t)
		for _, q := range qs {
			next[q] = t + 1
		}
		fmt.Fprintf(bw, "%d %s\n", t, line)
	}
	return bw.Flush()
}
