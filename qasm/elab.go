package qasm

import (
	"encoding/binary"
	"errors"
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
	// builtins3 are OpenQASM 3's built-in gates, and CX, which the
	// specification keeps built in for OpenQASM 2 programs.
	builtins3 = map[string]libGate{"U": std("U"), "gphase": std("gphase"), "CX": std("cx")}
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

type ctrlMod struct {
	neg bool
	n   int
}

type powMod struct {
	e   float64
	pos Pos // the modifier (inv or pow) in the source
}

// callInfo is a gate call with its parameters and modifiers evaluated.
type callInfo struct {
	params []float64
	ctrls  []ctrlMod
	nctrl  int
	pows   []powMod // in source order; applied right to left
	user   *gateDef // the user gate, or nil for a library gate
	lib    libGate
	nq     int // operands of the gate itself
}

// evalCall evaluates a call's parameters and modifiers in env and looks up
// its gate.
func (p *parser) evalCall(c *callStmt, env map[string]float64) (*callInfo, error) {
	ci := &callInfo{params: make([]float64, len(c.params))}
	for i, e := range c.params {
		v, err := e.eval(env)
		if err != nil {
			return nil, err
		}
		ci.params[i] = v
	}
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
			ci.ctrls = append(ci.ctrls, ctrlMod{neg: m.kind == "negctrl", n: n})
			ci.nctrl += n
		case "inv":
			ci.pows = append(ci.pows, powMod{e: -1, pos: m.pos})
		case "pow":
			v, err := m.arg.eval(env)
			if err != nil {
				return nil, err
			}
			ci.pows = append(ci.pows, powMod{e: v, pos: m.pos})
		}
	}
	var np int
	if g := p.st.gates[c.name]; g != nil {
		ci.user, ci.nq, np = g, len(g.qargs), len(g.params)
	} else if g, ok := p.lookupStd(c.name); ok {
		ci.lib, ci.nq, np = g, g.nqubits, g.nparams
	} else {
		return nil, p.errf(c.pos, "undefined gate %q%s", c.name, p.includeHint(c.name))
	}
	if len(ci.params) != np {
		return nil, p.errf(c.pos, "gate %q takes %d parameters, got %d", c.name, np, len(ci.params))
	}
	return ci, nil
}

// bodyEnv is the environment of a user gate's body.
func (p *parser) bodyEnv(g *gateDef, params []float64) map[string]float64 {
	benv := maps.Clone(p.constEnv())
	for i, name := range g.params {
		benv[name] = params[i]
	}
	return benv
}

// opCount is what expanding a call gives: final ops, and peak, the most
// ops held at once on the way (a power of a multi-op body holds the body
// and its copies, or expands the body before taking its matrix).
type opCount struct{ final, peak int64 }

const countCap = 1 << 62

func addSat(a, b int64) int64 {
	if a > countCap-b {
		return countCap
	}
	return a + b
}

// countString prints a count, saturated counts as "more than 2^62".
func countString(n int64) string {
	if n >= countCap {
		return "more than 2^62"
	}
	return fmt.Sprint(n)
}

// count returns the ops expanding c in env would give, without expanding
// it: it follows expand's rules (one op per library gate, bodies in
// sequence, integer powers of multi-op bodies unrolled up to maxPowRepeat
// ops, other powers one dense op), memoising the count of each user gate
// body (by its parameter values when a power in it depends on them), so
// the nested-definition bomb is counted in time linear in its depth.
// Errors that expand would also report may be returned first.
func (p *parser) count(c *callStmt, env map[string]float64, depth int) (opCount, error) {
	if depth > 64 {
		return opCount{}, p.errf(c.pos, "gate definitions nested deeper than 64")
	}
	p.st.visits++
	if p.st.visits > int64(p.st.lim.MaxOps) {
		return opCount{}, errTooManyCalls
	}
	if p.st.visits&1023 == 0 {
		if err := p.st.stopped(p.file, c.pos); err != nil {
			return opCount{}, err
		}
	}
	ci, err := p.evalCall(c, env)
	if err != nil {
		return opCount{}, err
	}
	cnt := opCount{final: 1, peak: 1}
	if g := ci.user; g != nil {
		key := append(p.st.key[:0], g.name...)
		if g.countByParams {
			for _, v := range ci.params {
				key = binary.LittleEndian.AppendUint64(append(key, 0), math.Float64bits(v))
			}
		}
		p.st.key = key
		var ok bool
		if cnt, ok = p.st.counts[string(key)]; !ok {
			k := string(key) // the scratch is reused below
			cnt = opCount{}
			// One environment per depth, reused: counting allocates
			// little even when it visits many calls.
			for len(p.st.countEnvs) <= depth {
				p.st.countEnvs = append(p.st.countEnvs, map[string]float64{})
			}
			benv := p.st.countEnvs[depth]
			clear(benv)
			maps.Copy(benv, p.constEnv())
			for i, name := range g.params {
				benv[name] = ci.params[i]
			}
			for _, b := range g.body {
				sub, err := p.count(b, benv, depth+1)
				if err != nil {
					return opCount{}, err
				}
				cnt.peak = max(cnt.peak, addSat(cnt.final, sub.peak))
				cnt.final = addSat(cnt.final, sub.final)
			}
			if len(p.st.counts) < maxCountMemo {
				p.st.counts[k] = cnt
			}
		}
	}
	for i := len(ci.pows) - 1; i >= 0; i-- {
		e, n := ci.pows[i].e, cnt.final
		switch {
		case math.IsNaN(e) || math.IsInf(e, 0), e == 1, n <= 1:
			// expand reports the non-finite power; one op stays one op
		case e == 0:
			cnt.final = 0
		case e == math.Trunc(e) && math.Abs(e)*float64(n) <= maxPowRepeat:
			// the body, its inverse when e < 0, and the copies
			m := int64(math.Abs(e)) * n
			if e < 0 {
				cnt.peak = max(cnt.peak, 2*n+m)
			} else {
				cnt.peak = max(cnt.peak, n+m)
			}
			cnt.final = m
		default:
			cnt.peak = max(cnt.peak, n+1)
			cnt.final = 1
		}
	}
	return cnt, nil
}

// maxCountMemo bounds the entries of count's memo (a few MiB).
const maxCountMemo = 1 << 16

// errTooManyCalls stops count after Limits.MaxOps calls; execCall reports
// it at the statement.
var errTooManyCalls = errors.New("too many gate calls")

// leaf records that expansion created k ops: the safety net behind count,
// which expansion never reaches unless count is wrong. One statement may
// create 4·Limits.MaxOps ops in all (ops it creates and drops, such as the
// bodies of powers, count too).
func (p *parser) leaf(pos Pos, k int) error {
	p.st.leaves += int64(k)
	if p.st.leaves > 4*int64(p.st.lim.MaxOps) {
		return p.limitErr(pos, opsLimitError("this statement's expansion", p.st.lim.MaxOps))
	}
	return nil
}

// expand elaborates one gate call on concrete qubits into circuit ops:
// library gates become one op, user gates their expanded bodies; power
// modifiers apply right to left, then control modifiers add controls.
func (p *parser) expand(c *callStmt, env map[string]float64, qubits []int, depth int) ([]circuit.Op, error) {
	if depth > 64 {
		return nil, p.errf(c.pos, "gate definitions nested deeper than 64")
	}
	if p.st.calls++; p.st.calls&1023 == 0 {
		if err := p.st.stopped(p.file, c.pos); err != nil {
			return nil, err
		}
	}
	ci, err := p.evalCall(c, env)
	if err != nil {
		return nil, err
	}
	nq, nctrl := ci.nq, ci.nctrl
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
	if user := ci.user; user != nil {
		benv := p.bodyEnv(user, ci.params)
		for _, b := range user.body {
			bq := make([]int, len(b.args))
			for i, a := range b.args {
				bq[i] = targets[slices.Index(user.qargs, a.name)]
			}
			sub, err := p.expand(b, benv, bq, depth+1)
			if err != nil {
				return nil, err
			}
			ops = append(ops, sub...)
		}
	} else {
		if err := p.leaf(c.pos, 1); err != nil {
			return nil, err
		}
		ops = []circuit.Op{ci.lib.op(ci.params, slices.Clone(targets))}
	}
	for i := len(ci.pows) - 1; i >= 0; i-- {
		pm := ci.pows[i]
		if ops, err = p.powerOps(ops, pm.e, targets, pm.pos); err != nil {
			return nil, p.errf(pm.pos, "%s: %v", c.name, err)
		}
	}
	var pos, neg []int
	k := 0
	for _, m := range ci.ctrls {
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

// powerOps raises the sequence ops (acting on qubits) to the power e; pos is
// the modifier's position, for the limit error of an unrolled power.
func (p *parser) powerOps(ops []circuit.Op, e float64, qubits []int, pos Pos) ([]circuit.Op, error) {
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
		// A gate with a period gets a·e reduced modulo it exactly
		// (pow(1e9+0.5) @ x is x^0.5); the power is taken here, so that
		// one that cannot be (circuit.PowerError) is reported at the
		// modifier.
		if x := ops[0].Exponent(); integer || x == 1 {
			op := ops[0]
			op.Pow = circuit.MulExponent(x, e, op.Period())
			if op.Pow == 1 {
				op.Pow = 0
			}
			if op.Pow != 0 && op.Kind == circuit.KindGate {
				if _, err := op.Lower(); err != nil {
					var pe *circuit.PowerError
					if errors.As(err, &pe) {
						return nil, pe
					}
					return nil, err
				}
			}
			return []circuit.Op{op}, nil
		}
	} else if integer && math.Abs(e)*float64(len(ops)) <= maxPowRepeat {
		n := int(e)
		body := ops
		if n < 0 {
			body, n = invert(ops), -n
		}
		if err := p.leaf(pos, n*len(body)); err != nil {
			return nil, err
		}
		out := make([]circuit.Op, 0, n*len(body))
		for range n {
			for _, op := range body {
				out = append(out, op.Clone())
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
	if err := p.leaf(pos, 1); err != nil {
		return nil, err
	}
	return []circuit.Op{{Kind: circuit.KindGate, Name: circuit.UnitaryName, Qubits: slices.Clone(qubits), Matrix: m}}, nil
}

// invert returns the inverse sequence: reversed, each gate inverted.
func invert(ops []circuit.Op) []circuit.Op {
	out := make([]circuit.Op, 0, len(ops))
	for i := len(ops) - 1; i >= 0; i-- {
		op := ops[i].Clone()
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
