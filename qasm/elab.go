package qasm

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/prismai/mec/circuit"
)

// libGate maps a library gate name onto circuit's standard gates.
type libGate struct {
	nparams int
	nqubits int // operands, including ctrls
	// op builds the circuit op for operands qs; ctrls leading operands
	// become Controls.
	op func(ps []float64, qs []int) circuit.Op
}

func std(name string) libGate {
	d, _ := circuit.LookupGate(name)
	return libGate{nparams: d.NParams, nqubits: d.NQubits, op: func(ps []float64, qs []int) circuit.Op {
		return circuit.Op{Kind: circuit.KindGate, Name: name, Params: ps, Qubits: qs}
	}}
}

func renamed(name string, nparams int, f func(ps []float64) []float64) libGate {
	d, _ := circuit.LookupGate(name)
	return libGate{nparams: nparams, nqubits: d.NQubits, op: func(ps []float64, qs []int) circuit.Op {
		return circuit.Op{Kind: circuit.KindGate, Name: name, Params: f(ps), Qubits: qs}
	}}
}

// controlledX is x with n controls: operands are the controls, then the target.
func controlled(name string, n int, pow float64) libGate {
	d, _ := circuit.LookupGate(name)
	return libGate{nparams: d.NParams, nqubits: d.NQubits + n, op: func(ps []float64, qs []int) circuit.Op {
		return circuit.Op{Kind: circuit.KindGate, Name: name, Params: ps, Qubits: qs[n:], Controls: slices.Clone(qs[:n]), Pow: pow}
	}}
}

var (
	builtins3 = map[string]libGate{"U": std("U"), "gphase": std("gphase")}
	builtins2 = map[string]libGate{"U": std("U"), "CX": std("cx")}
	stdgates3 = map[string]libGate{}
	// qelib1 gives each OpenQASM 2 library gate its qelib1.inc meaning:
	// u3 is exactly U, u1 is p, cu3 is the controlled U, and so on.
	qelib1 = map[string]libGate{
		"u3":  std("U"),
		"u2":  renamed("U", 2, func(p []float64) []float64 { return []float64{math.Pi / 2, p[0], p[1]} }),
		"u1":  std("p"),
		"u":   std("U"),
		"p":   std("p"),
		"cu1": std("cp"),
		"cu3": renamed("cu", 3, func(p []float64) []float64 { return []float64{p[0], p[1], p[2], 0} }),
		"sxdg": {nparams: 0, nqubits: 1, op: func(ps []float64, qs []int) circuit.Op {
			return circuit.Op{Kind: circuit.KindGate, Name: "sx", Qubits: qs, Pow: -1}
		}},
		"csx": controlled("sx", 1, 0),
		"c3x": controlled("x", 3, 0),
		"c4x": controlled("x", 4, 0),
	}
)

func init() {
	for _, n := range circuit.StdGateNames() {
		if n != "U" && n != "gphase" {
			stdgates3[n] = std(n)
		}
	}
	for _, n := range []string{"id", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "rx", "ry", "rz",
		"cx", "cy", "cz", "ch", "crx", "cry", "crz", "cp", "cu", "ccx", "swap", "cswap"} {
		qelib1[n] = std(n)
	}
}

// lookupStd finds a builtin or (when included) library gate.
func (p *parser) lookupStd(name string) (libGate, bool) {
	builtins, lib := builtins3, stdgates3
	if p.st.version == 2 {
		builtins, lib = builtins2, qelib1
	}
	if g, ok := builtins[name]; ok {
		return g, true
	}
	if p.st.stdlib {
		g, ok := lib[name]
		return g, ok
	}
	return libGate{}, false
}

// maxPowRepeat bounds how many copies of a multi-op gate body an integer
// power unrolls into before the power is taken of its matrix instead.
const maxPowRepeat = 4096

// expand elaborates one gate call on concrete qubits into circuit ops:
// library gates become one op, user gates their expanded bodies; power
// modifiers apply right to left, then control modifiers add controls.
func (p *parser) expand(c *callStmt, env map[string]float64, qubits []int, depth int) ([]circuit.Op, error) {
	if depth > 64 {
		return nil, p.errf(c.pos, "gate definitions nested deeper than 64")
	}
	params := make([]float64, len(c.params))
	for i, e := range c.params {
		v, err := e.eval(env)
		if err != nil {
			return nil, err
		}
		params[i] = v
	}
	// Modifiers: control counts and exponents.
	type ctrlMod struct {
		neg bool
		n   int
	}
	var (
		ctrls []ctrlMod
		nctrl int
		pows  []float64
	)
	for _, m := range c.mods {
		switch m.kind {
		case "ctrl", "negctrl":
			n := 1
			if m.arg != nil {
				v, err := m.arg.eval(env)
				if err != nil {
					return nil, err
				}
				if v != math.Trunc(v) || v < 1 || v > MaxQubits {
					return nil, p.errf(m.pos, "%s(%v): the number of controls must be a positive integer", m.kind, v)
				}
				n = int(v)
			}
			ctrls = append(ctrls, ctrlMod{neg: m.kind == "negctrl", n: n})
			nctrl += n
		case "inv":
			pows = append(pows, -1)
		case "pow":
			v, err := m.arg.eval(env)
			if err != nil {
				return nil, err
			}
			pows = append(pows, v)
		}
	}
	// The operand count of the gate itself.
	var (
		nq, np int
		lib    libGate
		user   *gateDef
	)
	if g := p.st.gates[c.name]; g != nil {
		user, nq, np = g, len(g.qargs), len(g.params)
	} else if g, ok := p.lookupStd(c.name); ok {
		lib, nq, np = g, g.nqubits, g.nparams
	} else {
		return nil, p.errf(c.pos, "undefined gate %q%s", c.name, p.includeHint(c.name))
	}
	if len(params) != np {
		return nil, p.errf(c.pos, "gate %q takes %d parameters, got %d", c.name, np, len(params))
	}
	if len(qubits) != nq+nctrl {
		if nctrl > 0 {
			return nil, p.errf(c.pos, "gate %q with %d controls takes %d qubits, got %d", c.name, nctrl, nq+nctrl, len(qubits))
		}
		return nil, p.errf(c.pos, "gate %q takes %d qubits, got %d", c.name, nq, len(qubits))
	}
	for i, q := range qubits {
		if slices.Contains(qubits[:i], q) {
			return nil, p.errf(c.pos, "gate %q uses qubit %d twice", c.name, q)
		}
	}
	targets := qubits[nctrl:]
	var ops []circuit.Op
	if user != nil {
		benv := maps.Clone(p.constEnv())
		for i, name := range user.params {
			benv[name] = params[i]
		}
		for _, b := range user.body {
			bq := make([]int, len(b.args))
			for i, a := range b.args {
				bq[i] = targets[slices.Index(user.qargs, a.name)]
			}
			sub, err := p.expand(b, benv, bq, depth+1)
			if err != nil {
				return nil, err
			}
			if len(ops)+len(sub) > MaxOps {
				return nil, p.errf(c.pos, "gate %q expands to more than %d operations", c.name, MaxOps)
			}
			ops = append(ops, sub...)
		}
	} else {
		ops = []circuit.Op{lib.op(params, slices.Clone(targets))}
	}
	for i := len(pows) - 1; i >= 0; i-- {
		var err error
		if ops, err = power(ops, pows[i], targets); err != nil {
			return nil, p.errf(c.pos, "%s: %v", c.name, err)
		}
	}
	var pos, neg []int
	k := 0
	for _, m := range ctrls {
		if m.neg {
			neg = append(neg, qubits[k:k+m.n]...)
		} else {
			pos = append(pos, qubits[k:k+m.n]...)
		}
		k += m.n
	}
	if len(pos)+len(neg) > 0 {
		for i := range ops {
			ops[i].Controls = append(slices.Clone(pos), ops[i].Controls...)
			ops[i].NegControls = append(slices.Clone(neg), ops[i].NegControls...)
		}
	}
	return ops, nil
}

// power raises the sequence ops (acting on qubits) to the power e.
func power(ops []circuit.Op, e float64, qubits []int) ([]circuit.Op, error) {
	if math.IsNaN(e) || math.IsInf(e, 0) {
		return nil, fmt.Errorf("power %v is not finite", e)
	}
	if e == 1 || len(ops) == 0 {
		return ops, nil
	}
	integer := e == math.Trunc(e)
	if e == 0 {
		return nil, nil
	}
	if len(ops) == 1 {
		// (g^a)^e = g^(a·e) for integer e; for a = 1 it is the definition.
		if x := ops[0].Exponent(); integer || x == 1 {
			op := ops[0]
			op.Pow = x * e
			if op.Pow == 1 {
				op.Pow = 0
			}
			return []circuit.Op{op}, nil
		}
	} else if integer && math.Abs(e)*float64(len(ops)) <= maxPowRepeat {
		n := int(e)
		body := ops
		if n < 0 {
			body, n = invert(ops), -n
		}
		out := make([]circuit.Op, 0, n*len(body))
		for range n {
			for _, op := range body {
				out = append(out, cloneOp(op))
			}
		}
		return out, nil
	}
	m, err := denseOf(ops, qubits)
	if err != nil {
		return nil, err
	}
	if m, err = circuit.MatPow(m, e); err != nil {
		return nil, err
	}
	return []circuit.Op{{Kind: circuit.KindGate, Name: circuit.UnitaryName, Qubits: slices.Clone(qubits), Matrix: m}}, nil
}

func cloneOp(op circuit.Op) circuit.Op {
	op.Params = slices.Clone(op.Params)
	op.Qubits = slices.Clone(op.Qubits)
	op.Controls = slices.Clone(op.Controls)
	op.NegControls = slices.Clone(op.NegControls)
	return op
}

// invert returns the inverse sequence: reversed, each gate inverted.
func invert(ops []circuit.Op) []circuit.Op {
	out := make([]circuit.Op, 0, len(ops))
	for i := len(ops) - 1; i >= 0; i-- {
		op := cloneOp(ops[i])
		op.Pow = -op.Exponent()
		out = append(out, op)
	}
	return out
}

// denseOf returns the unitary of a gate sequence that acts only on qubits,
// as a matrix over qubits (qubits[j] is bit j of the matrix index).
func denseOf(ops []circuit.Op, qubits []int) ([]complex128, error) {
	k := len(qubits)
	if k > circuit.MaxDenseQubits {
		return nil, fmt.Errorf("a non-integer power of a gate on %d qubits is not supported (at most %d)", k, circuit.MaxDenseQubits)
	}
	local := map[int]int{}
	for j, q := range qubits {
		local[q] = j
	}
	remap := func(qs []int) []int {
		out := make([]int, len(qs))
		for i, q := range qs {
			out[i] = local[q]
		}
		return out
	}
	gates := make([]circuit.Gate, 0, len(ops))
	for i := range ops {
		if ops[i].Kind != circuit.KindGate {
			continue
		}
		g, err := ops[i].Lower()
		if err != nil {
			return nil, err
		}
		g.Targets, g.Controls, g.NegControls = remap(g.Targets), remap(g.Controls), remap(g.NegControls)
		gates = append(gates, g)
	}
	d := 1 << k
	m := make([]complex128, d*d)
	v := make([]complex128, d)
	for col := 0; col < d; col++ {
		clear(v)
		v[col] = 1
		for i := range gates {
			circuit.ApplyToVector(v, &gates[i])
		}
		for row := 0; row < d; row++ {
			m[row*d+col] = v[row]
		}
	}
	return m, nil
}
