package qasm

import (
	"fmt"
	"math"
	"math/cmplx"
	"slices"
	"strconv"
	"strings"

	"github.com/prismai/mec/circuit"
)

// Export3 writes c as OpenQASM 3 with stdgates.inc, one qubit register q and
// one bit register c. Standard gates keep their names and modifiers; dense
// unitaries are decomposed into controlled U gates (see circuit.Decompose1Q).
// Angles that are small rational multiples of π print as such (3*pi/4),
// others with the shortest decimal that reads back exactly.
func Export3(c *circuit.Circuit) (string, error) {
	if err := c.Validate(); err != nil {
		return "", fmt.Errorf("qasm: export: %w", err)
	}
	var b strings.Builder
	b.WriteString("OPENQASM 3.0;\ninclude \"stdgates.inc\";\n")
	if c.Qubits > 0 {
		fmt.Fprintf(&b, "qubit[%d] q;\n", c.Qubits)
	}
	bn := bitNames{r: c.Results()}
	if bn.r > 0 {
		fmt.Fprintf(&b, "bit[%d] c;\n", bn.r)
	}
	if c.Scratch > 0 {
		fmt.Fprintf(&b, "bit[%d] %s;\n", c.Scratch, ScratchRegister)
	}
	x, err := scanClassical(c, bn)
	if err != nil {
		return "", fmt.Errorf("qasm: export: %w", err)
	}
	x.header(&b)
	for i := 0; i < len(c.Ops); i++ {
		op := &c.Ops[i]
		var ob strings.Builder
		switch {
		case op.Kind == circuit.KindSet && x.ofBit[op.Clbit] != nil:
			s, n, ok := x.floatSets(c.Ops, i)
			if !ok {
				return "", fmt.Errorf("qasm: export: op %d: a set of one bit of a float: %w", i, ErrNotExpressible)
			}
			ob.WriteString(s)
			i += n - 1
		case op.Kind == circuit.KindCompute:
			if err := x.compute(&ob, op); err != nil {
				return "", fmt.Errorf("qasm: export: op %d: %w", i, err)
			}
		case op.Kind == circuit.KindGate && op.ParamExprs != nil:
			if err := x.runtimeCall(&ob, op); err != nil {
				return "", fmt.Errorf("qasm: export: op %d: %w", i, err)
			}
		default:
			if x.ofBit[op.Clbit] != nil && op.Kind == circuit.KindMeasure {
				return "", fmt.Errorf("qasm: export: op %d: a measurement into a float's bits: %w", i, ErrNotExpressible)
			}
			if err := writeOp3(&ob, i, op, c.Qubits, bn); err != nil {
				return "", err
			}
		}
		if err := writeConds(&b, op.Conds, bn, ob.String()); err != nil {
			return "", fmt.Errorf("qasm: export: op %d: %w", i, err)
		}
	}
	return b.String(), nil
}

// ScratchRegister is the bit register Export3 declares for a circuit's
// scratch bits (the guards of unrolled while loops), and which the parser
// reads back as scratch.
const ScratchRegister = "mec_scratch"

// bitNames names classical bits in Export3's output: the first r are
// c[k], the scratch bits after them mec_scratch[k−r].
type bitNames struct{ r int }

func (n bitNames) bit(k int) string {
	if k < n.r {
		return fmt.Sprintf("c[%d]", k)
	}
	return fmt.Sprintf("%s[%d]", ScratchRegister, k-n.r)
}

// writeOp3 writes op i (its conditions aside) as OpenQASM 3.
func writeOp3(b *strings.Builder, i int, op *circuit.Op, nq int, bn bitNames) error {
	switch op.Kind {
	case circuit.KindSet:
		fmt.Fprintf(b, "%s = %d;\n", bn.bit(op.Clbit), b2i(op.Bit))
	case circuit.KindFail:
		// OpenQASM has no statement that stops a shot: the check of an
		// unrolled while loop's bound is written as a comment.
		fmt.Fprintf(b, "// mec: a shot that reaches this point stops the run: %s\n", strings.ReplaceAll(op.Name, "\n", " "))
	case circuit.KindMeasure:
		fmt.Fprintf(b, "%s = measure q[%d];\n", bn.bit(op.Clbit), op.Qubits[0])
	case circuit.KindReset:
		fmt.Fprintf(b, "reset q[%d];\n", op.Qubits[0])
	case circuit.KindBarrier:
		writeBarrier(b, op.Qubits, nq)
	case circuit.KindDelay:
		qs := make([]string, len(op.Qubits))
		for k, q := range op.Qubits {
			qs[k] = fmt.Sprintf("q[%d]", q)
		}
		fmt.Fprintf(b, "delay[%sns] %s;\n", strconv.FormatFloat(op.Params[0]*1e9, 'g', -1, 64), strings.Join(qs, ", "))
	case circuit.KindGate:
		if op.Name != circuit.UnitaryName {
			writeCall3(b, op.Controls, op.NegControls, op.Pow, op.Name, op.Params, op.Qubits)
			return nil
		}
		g, err := op.Lower()
		if err != nil {
			return fmt.Errorf("qasm: export: op %d: %w", i, err)
		}
		parts, ph, err := circuit.Decompose1Q(&g)
		if err != nil {
			return fmt.Errorf("qasm: export: op %d: %w", i, err)
		}
		for _, u := range parts {
			write1Q3(b, u)
		}
		if ph != 0 {
			fmt.Fprintf(b, "gphase(%s);\n", Angle(ph))
		}
	}
	return nil
}

// writeConds writes the statements of one op under its conditions: a
// condition on the whole register as c == n, others bit by bit (== as
// nested ifs, != as an else chain, so the op runs at most once).
func writeConds(b *strings.Builder, conds []circuit.Cond, bn bitNames, stmts string) error {
	if len(conds) == 0 {
		b.WriteString(stmts)
		return nil
	}
	cd := conds[0]
	var inner strings.Builder
	if err := writeConds(&inner, conds[1:], bn, stmts); err != nil {
		return err
	}
	body := indent(inner.String())
	op := "=="
	if cd.Not {
		op = "!="
	}
	if whole(cd.Clbits, bn.r) || len(cd.Clbits) == 1 {
		ref := "c"
		if !whole(cd.Clbits, bn.r) {
			ref = bn.bit(cd.Clbits[0])
		}
		fmt.Fprintf(b, "if (%s %s %d) {\n%s}\n", ref, op, cd.Value, body)
		return nil
	}
	x := &exportClassical{bn: bn}
	if ref, err := x.bitsRef(cd.Clbits); err == nil {
		fmt.Fprintf(b, "if (uint[%d](%s) %s %d) {\n%s}\n", len(cd.Clbits), ref, op, cd.Value, body)
		return nil
	}
	if !cd.Not {
		for j, k := range cd.Clbits {
			fmt.Fprintf(b, "%sif (%s == %d) {\n", strings.Repeat("  ", j), bn.bit(k), cd.Value>>uint(j)&1)
		}
		b.WriteString(indentBy(inner.String(), len(cd.Clbits)))
		for j := len(cd.Clbits) - 1; j >= 0; j-- {
			fmt.Fprintf(b, "%s}\n", strings.Repeat("  ", j))
		}
		return nil
	}
	for j, k := range cd.Clbits {
		fmt.Fprintf(b, "%sif (%s != %d) {\n%s%s} else {\n", strings.Repeat("  ", j), bn.bit(k), cd.Value>>uint(j)&1, indentBy(inner.String(), j+1), strings.Repeat("  ", j))
	}
	for j := len(cd.Clbits) - 1; j >= 0; j-- {
		fmt.Fprintf(b, "%s}\n", strings.Repeat("  ", j))
	}
	return nil
}

// whole reports whether bits are clbits 0..nc−1 in order.
func whole(bits []int, nc int) bool {
	if len(bits) != nc {
		return false
	}
	for j, k := range bits {
		if j != k {
			return false
		}
	}
	return true
}

func indent(s string) string { return indentBy(s, 1) }

func indentBy(s string, n int) string {
	var b strings.Builder
	pad := strings.Repeat("  ", n)
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString(pad + l)
		}
	}
	return b.String()
}

func writeBarrier(b *strings.Builder, qs []int, n int) {
	if len(qs) == n {
		b.WriteString("barrier q;\n")
		return
	}
	b.WriteString("barrier")
	for i, q := range qs {
		sep := ","
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(b, "%s q[%d]", sep, q)
	}
	b.WriteString(";\n")
}

func writeCall3(b *strings.Builder, ctrls, negs []int, pow float64, name string, params []float64, qubits []int) {
	if n := len(ctrls); n == 1 {
		b.WriteString("ctrl @ ")
	} else if n > 1 {
		fmt.Fprintf(b, "ctrl(%d) @ ", n)
	}
	if n := len(negs); n == 1 {
		b.WriteString("negctrl @ ")
	} else if n > 1 {
		fmt.Fprintf(b, "negctrl(%d) @ ", n)
	}
	switch pow {
	case 0, 1:
	case -1:
		b.WriteString("inv @ ")
	default:
		fmt.Fprintf(b, "pow(%s) @ ", Angle(pow))
	}
	b.WriteString(name)
	writeParams(b, params)
	first := true
	for _, set := range [][]int{ctrls, negs, qubits} {
		for _, q := range set {
			if first {
				b.WriteString(" ")
				first = false
			} else {
				b.WriteString(", ")
			}
			fmt.Fprintf(b, "q[%d]", q)
		}
	}
	b.WriteString(";\n")
}

// runtimeCall writes a gate whose parameters are computed at run time.
func (x *exportClassical) runtimeCall(b *strings.Builder, op *circuit.Op) error {
	ps := make([]string, len(op.Params))
	for i, p := range op.Params {
		ps[i] = Angle(p)
		if e := op.ParamExprs[i]; e != nil {
			s, err := x.expr(e)
			if err != nil {
				return err
			}
			ps[i] = s
		}
	}
	var ob strings.Builder
	writeCall3(&ob, op.Controls, op.NegControls, op.Pow, op.Name, nil, op.Qubits)
	s := ob.String()
	// The parameters go right after the gate's name.
	at := strings.LastIndex(s, op.Name) + len(op.Name)
	b.WriteString(s[:at] + "(" + strings.Join(ps, ", ") + ")" + s[at:])
	return nil
}

func writeParams(b *strings.Builder, params []float64) {
	if len(params) == 0 {
		return
	}
	b.WriteString("(")
	for i, p := range params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(Angle(p))
	}
	b.WriteString(")")
}

// write1Q3 writes a controlled 1-qubit unitary e^{iγ}U(θ,φ,λ) as a
// controlled U followed by the controlled phase e^{iγ}, itself a p gate on
// one of the controls.
func write1Q3(b *strings.Builder, u circuit.Controlled1Q) {
	th, ph, la, ga := circuit.ZYZ(u.Matrix)
	writeCall3(b, u.Controls, u.NegControls, 0, "U", []float64{th, ph, la}, []int{u.Target})
	if math.Abs(ga) < 1e-15 {
		return
	}
	if len(u.Controls)+len(u.NegControls) == 0 {
		fmt.Fprintf(b, "gphase(%s);\n", Angle(ga))
		return
	}
	writeCtrlPhase(b, u.Controls, u.NegControls, ga, writeCall3)
}

// writeCtrlPhase writes the phase e^{iγ} on the subspace where ctrls are |1⟩
// and negs |0⟩, as p(γ) on one control (conjugated by x when every control
// is negative).
func writeCtrlPhase(b *strings.Builder, ctrls, negs []int, ga float64, call func(*strings.Builder, []int, []int, float64, string, []float64, []int)) {
	if n := len(ctrls); n > 0 {
		call(b, ctrls[:n-1], negs, 0, "p", []float64{ga}, []int{ctrls[n-1]})
		return
	}
	n := len(negs)
	t := []int{negs[n-1]}
	call(b, nil, nil, 0, "x", nil, t)
	call(b, nil, negs[:n-1], 0, "p", []float64{ga}, t)
	call(b, nil, nil, 0, "x", nil, t)
}

// Angle formats a parameter for OpenQASM: multiples m·π/d for small m and d
// as "m*pi/d" (which evaluates back to the identical float64), otherwise the
// shortest decimal that round-trips.
func Angle(x float64) string {
	if x == 0 {
		return "0"
	}
	for _, d := range []int{1, 2, 3, 4, 6, 8, 12, 16} {
		for m := -32; m <= 32; m++ {
			if m == 0 || float64(m)*math.Pi/float64(d) != x {
				continue
			}
			var s string
			switch m {
			case 1:
				s = "pi"
			case -1:
				s = "-pi"
			default:
				s = strconv.Itoa(m) + "*pi"
			}
			if d != 1 {
				s += "/" + strconv.Itoa(d)
			}
			return s
		}
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// direct2 names the standard gates OpenQASM 2's qelib1.inc has with the
// same meaning (up to a global phase when uncontrolled).
var direct2 = map[string]string{
	"id": "id", "x": "x", "y": "y", "z": "z", "h": "h", "s": "s", "sdg": "sdg", "t": "t", "tdg": "tdg",
	"rx": "rx", "ry": "ry", "rz": "rz", "U": "u3", "u3": "u3", "u2": "u2", "u1": "u1", "p": "u1", "phase": "u1",
	"cx": "cx", "CX": "cx", "cy": "cy", "cz": "cz", "ch": "ch", "crz": "crz", "cp": "cu1", "cphase": "cu1",
	"ccx": "ccx", "swap": "swap", "cswap": "cswap",
}

// Export2 writes c as OpenQASM 2.0 with qelib1.inc. Gates qelib1.inc has
// keep their names; modifiers, extra controls, cu's phase, gates missing
// from qelib1.inc and dense unitaries are decomposed into u3, u1, cx and
// ccx (Barenco et al. for many controls). OpenQASM 2 has no global phase,
// so uncontrolled phases are dropped: the state matches up to one global
// phase.
func Export2(c *circuit.Circuit) (string, error) {
	if err := c.Validate(); err != nil {
		return "", fmt.Errorf("qasm: export: %w", err)
	}
	var b strings.Builder
	b.WriteString("OPENQASM 2.0;\ninclude \"qelib1.inc\";\n")
	if c.Qubits > 0 {
		fmt.Fprintf(&b, "qreg q[%d];\n", c.Qubits)
	}
	if c.Clbits > 0 {
		fmt.Fprintf(&b, "creg c[%d];\n", c.Clbits)
	}
	for i := range c.Ops {
		op := &c.Ops[i]
		var ob strings.Builder
		if err := writeOp2(&ob, i, op, c.Qubits); err != nil {
			return "", err
		}
		if len(op.Conds) == 0 {
			b.WriteString(ob.String())
			continue
		}
		cd := op.Conds[0]
		if len(op.Conds) > 1 || cd.Not || !whole(cd.Clbits, c.Clbits) {
			return "", fmt.Errorf("qasm: export: op %d: OpenQASM 2 conditions compare the whole register with ==: if (c == n)", i)
		}
		for _, l := range strings.SplitAfter(ob.String(), "\n") {
			if l != "" {
				fmt.Fprintf(&b, "if(c==%d) %s", cd.Value, l)
			}
		}
	}
	return b.String(), nil
}

// writeOp2 writes op i (its condition aside) as OpenQASM 2.
func writeOp2(b *strings.Builder, i int, op *circuit.Op, nq int) error {
	e := &emitter2{b: b}
	switch op.Kind {
	case circuit.KindSet, circuit.KindFail:
		return fmt.Errorf("qasm: export: op %d: OpenQASM 2 has no classical assignments (a while loop needs OpenQASM 3)", i)
	case circuit.KindMeasure:
		fmt.Fprintf(b, "measure q[%d] -> c[%d];\n", op.Qubits[0], op.Clbit)
		return nil
	case circuit.KindReset:
		fmt.Fprintf(b, "reset q[%d];\n", op.Qubits[0])
		return nil
	case circuit.KindBarrier:
		if len(op.Qubits) > 0 {
			writeBarrier(b, op.Qubits, nq)
		}
		return nil
	case circuit.KindDelay:
		return nil // OpenQASM 2 has no timing: an identity
	}
	plain := op.Exponent() == 1 && len(op.Controls)+len(op.NegControls) == 0
	if name, ok := direct2[op.Name]; ok && plain {
		e.gate(name, op.Params, op.Qubits...)
		return nil
	}
	if name, ok := controlled2(op); ok {
		e.gate(name, op.Params, append(append([]int(nil), op.Controls...), op.Qubits...)...)
		return nil
	}
	if plain && op.Name == "gphase" {
		return nil
	}
	if plain && op.Name == "cu" {
		e.gate("cu3", op.Params[:3], op.Qubits...)
		if op.Params[3] != 0 {
			e.gate("u1", op.Params[3:], op.Qubits[0])
		}
		return nil
	}
	g, err := op.Lower()
	if err != nil {
		return fmt.Errorf("qasm: export: op %d: %w", i, err)
	}
	parts, _, err := circuit.Decompose1Q(&g)
	if err != nil {
		return fmt.Errorf("qasm: export: op %d: %w", i, err)
	}
	for _, u := range parts {
		if err := e.controlled(u); err != nil {
			return fmt.Errorf("qasm: export: op %d: %w", i, err)
		}
	}
	return nil
}

// controlled2 names the qelib1.inc gate that is exactly op when op is a
// standard gate with one or two ctrl @ controls that qelib1.inc has.
func controlled2(op *circuit.Op) (string, bool) {
	if op.Exponent() != 1 || len(op.NegControls) > 0 {
		return "", false
	}
	type key struct {
		name string
		n    int
	}
	names := map[key]string{
		{"x", 1}: "cx", {"y", 1}: "cy", {"z", 1}: "cz", {"h", 1}: "ch", {"rz", 1}: "crz",
		{"p", 1}: "cu1", {"phase", 1}: "cu1", {"u1", 1}: "cu1", {"U", 1}: "cu3", {"swap", 1}: "cswap",
		{"x", 2}: "ccx", {"cx", 1}: "ccx", {"CX", 1}: "ccx",
	}
	name, ok := names[key{op.Name, len(op.Controls)}]
	return name, ok
}

type emitter2 struct{ b *strings.Builder }

func (e *emitter2) gate(name string, params []float64, qs ...int) {
	if name == "u3" || name == "u1" {
		zero := true
		for _, p := range params {
			zero = zero && p == 0
		}
		if zero {
			return
		}
	}
	e.b.WriteString(name)
	writeParams(e.b, params)
	for i, q := range qs {
		sep := ","
		if i == 0 {
			sep = " "
		}
		fmt.Fprintf(e.b, "%sq[%d]", sep, q)
	}
	e.b.WriteString(";\n")
}

func (e *emitter2) controlled(u circuit.Controlled1Q) error {
	for _, q := range u.NegControls {
		e.gate("x", nil, q)
	}
	if err := e.mcu(u.Matrix, u.Target, append(slices.Clone(u.Controls), u.NegControls...)); err != nil {
		return err
	}
	for _, q := range u.NegControls {
		e.gate("x", nil, q)
	}
	return nil
}

var matX = [4]complex128{0, 1, 1, 0}

// mcu writes w on target t controlled by every qubit of ctrls, exactly
// (including the phase of w relative to the uncontrolled subspace).
func (e *emitter2) mcu(w [4]complex128, t int, ctrls []int) error {
	th, ph, la, ga := circuit.ZYZ(w)
	switch n := len(ctrls); {
	case n == 0:
		if math.Abs(th) < 1e-15 {
			if s := circuit.WrapAngle(ph + la); math.Abs(s) > 1e-15 {
				e.gate("u1", []float64{s}, t)
			}
			return nil
		}
		e.gate("u3", []float64{th, ph, la}, t)
	case n == 1:
		c := ctrls[0]
		if w == matX {
			e.gate("cx", nil, c, t)
			return nil
		}
		// qelib1.inc's cu3: the controlled U(θ,φ,λ) from u1, u3 and cx.
		e.gate("u1", []float64{(la + ph) / 2}, c)
		e.gate("u1", []float64{(la - ph) / 2}, t)
		e.gate("cx", nil, c, t)
		e.gate("u3", []float64{-th / 2, 0, -(ph + la) / 2}, t)
		e.gate("cx", nil, c, t)
		e.gate("u3", []float64{th / 2, ph, 0}, t)
		if math.Abs(ga) > 1e-15 {
			e.gate("u1", []float64{ga}, c)
		}
	case n == 2 && w == matX:
		e.gate("ccx", nil, ctrls[0], ctrls[1], t)
	default:
		// Barenco et al. (1995), lemma 7.5: C^n(W) from V = √W.
		vm, err := circuit.MatPow(w[:], 0.5)
		if err != nil {
			return err
		}
		v := [4]complex128(vm)
		vd := [4]complex128{cmplx.Conj(v[0]), cmplx.Conj(v[2]), cmplx.Conj(v[1]), cmplx.Conj(v[3])}
		last, rest := ctrls[n-1], ctrls[:n-1]
		steps := []func() error{
			func() error { return e.mcu(v, t, []int{last}) },
			func() error { return e.mcu(matX, last, rest) },
			func() error { return e.mcu(vd, t, []int{last}) },
			func() error { return e.mcu(matX, last, rest) },
			func() error { return e.mcu(v, t, rest) },
		}
		for _, s := range steps {
			if err := s(); err != nil {
				return err
			}
		}
	}
	return nil
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}
