// Package circuit is mec's quantum-circuit representation: named gates of the
// OpenQASM 3 standard library with modifiers, measurements and resets; the
// lowered form engines execute (Gate: a matrix on target qubits with
// controls); gate fusion; Pauli strings and sums; and Trotter–Suzuki
// product formulas.
//
// Conventions, shared with every backend and with the peers:
//   - qubit k is bit k of an amplitude index (little-endian);
//   - a k-qubit matrix is row-major 2^k×2^k with its operand j as bit j of
//     the matrix index;
//   - gate matrices are exactly those of OpenQASM 3's stdgates.inc, global
//     phases included (so u3 differs from OpenQASM 2's u3 by e^{-i(φ+λ)/2}).
//
// It also owns classical values and expressions (classical.go): the
// OpenQASM 3 types, casts and operator rules that the reader folds with
// and the shot simulator computes with.
//
// Layer: compute library (the circuit representation every engine and
// reader shares). It may import the standard library only.
package circuit

import (
	"errors"
	"fmt"
	"math"
	"math/cmplx"
	"slices"
	"strings"
)

// Kind says what an Op does.
type Kind uint8

// The kinds of operation.
const (
	KindGate    Kind = iota // a unitary gate
	KindMeasure             // measure Qubits[0] into Clbit (collapses the state)
	KindReset               // reset Qubits[0] to |0⟩
	KindBarrier             // no effect on the state; blocks gate fusion across it
	KindSet                 // classical: write Bit into Clbit (where its Conds hold)
	KindFail                // classical: stop the run with the error Name (where its Conds hold)
	KindChannel             // noise: a quantum channel, Kraus operators on Qubits
	KindReadout             // noise: flip the bit Clbit after its measurement: Params {P(1|0), P(0|1)}
	KindCompute             // classical: evaluate Expr and store its bits in Dest (where its Conds hold)
	KindDelay               // timing: Qubits idle for Params[0] seconds (an identity; noise models add idle decay)
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindGate:
		return "gate"
	case KindMeasure:
		return "measure"
	case KindReset:
		return "reset"
	case KindBarrier:
		return "barrier"
	case KindSet:
		return "set"
	case KindFail:
		return "fail"
	case KindChannel:
		return "channel"
	case KindReadout:
		return "readout"
	case KindCompute:
		return "compute"
	case KindDelay:
		return "delay"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// UnitaryName is the Name of a gate given by an explicit matrix.
const UnitaryName = "unitary"

// Op is one operation of a circuit.
type Op struct {
	Kind Kind
	// Name is a standard gate or builtin (see LookupGate), or UnitaryName.
	Name   string
	Params []float64
	// Qubits are the gate's operands in order (cx: control, target); for
	// measure and reset the one qubit; for barrier the qubits it spans.
	Qubits []int
	// Controls and NegControls are extra controls added by ctrl @ and
	// negctrl @: the gate acts where Controls are |1⟩ and NegControls |0⟩.
	Controls    []int
	NegControls []int
	// Pow is the exponent from inv @ and pow(r) @ modifiers (inv is −1);
	// 0 means no modifier (exponent 1).
	Pow float64
	// Matrix is the 2^k×2^k matrix over Qubits when Name is UnitaryName.
	Matrix []complex128
	// Clbit is the classical bit a measurement or a set writes.
	Clbit int
	// Bit is the value a set writes.
	Bit bool
	// Kraus are a channel's operators, each 2^k×2^k row-major over
	// Qubits (Σ K†K = I); Mixture marks a channel whose operators are
	// scaled unitaries, so that each is chosen with the fixed
	// probability ‖K‖²/2^k whatever the state.
	Kraus   [][]complex128
	Mixture bool
	// Conds are classical conditions, all of which must hold for the op
	// to act (OpenQASM's if); none: it always acts. Only the simulator's
	// shot path (package sim) executes conditional ops; other consumers
	// reject them (see Circuit.Dynamic).
	Conds []Cond
	// Expr is a compute op's expression; Dest the bits it writes (bit j
	// of the value's storage into Dest[j]).
	Expr *Expr
	Dest []int
	// ParamExprs, when set, are a gate's parameters computed on each
	// branch at run time (one per parameter; a nil entry takes Params).
	ParamExprs []*Expr
}

// validateKraus checks a channel's operators on k qubits: the right
// sizes, finite entries and Σ K†K = I to 1e-9.
func validateKraus(ks [][]complex128, k int) error {
	if k < 1 || k > 6 {
		return fmt.Errorf("channel on %d qubits: 1 to 6", k)
	}
	if len(ks) == 0 {
		return fmt.Errorf("channel without Kraus operators")
	}
	d := 1 << k
	sum := make([]complex128, d*d)
	for i, m := range ks {
		if len(m) != d*d {
			return fmt.Errorf("channel: Kraus operator %d has %d entries, want %d", i, len(m), d*d)
		}
		for _, v := range m {
			if math.IsNaN(real(v)) || math.IsNaN(imag(v)) || math.IsInf(real(v), 0) || math.IsInf(imag(v), 0) {
				return fmt.Errorf("channel: Kraus operator %d is not finite", i)
			}
		}
		for r := 0; r < d; r++ {
			for c := 0; c < d; c++ {
				var z complex128
				for j := 0; j < d; j++ {
					a := m[j*d+r]
					z += complex(real(a), -imag(a)) * m[j*d+c]
				}
				sum[r*d+c] += z
			}
		}
	}
	for r := 0; r < d; r++ {
		for c := 0; c < d; c++ {
			want := complex128(0)
			if r == c {
				want = 1
			}
			if cmplx.Abs(sum[r*d+c]-want) > 1e-9 {
				return fmt.Errorf("channel: Σ K†K is not the identity (entry %d,%d is %v)", r, c, sum[r*d+c])
			}
		}
	}
	return nil
}

// Noisy reports whether the circuit has channels or readout errors.
func (c *Circuit) Noisy() bool {
	for i := range c.Ops {
		if k := c.Ops[i].Kind; k == KindChannel || k == KindReadout {
			return true
		}
	}
	return false
}

// Clone returns a deep copy of the op.
func (op *Op) Clone() Op {
	o := *op
	o.Params = slices.Clone(op.Params)
	o.Qubits = slices.Clone(op.Qubits)
	o.Controls = slices.Clone(op.Controls)
	o.NegControls = slices.Clone(op.NegControls)
	o.Matrix = slices.Clone(op.Matrix)
	o.Conds = slices.Clone(op.Conds)
	o.Kraus = slices.Clone(op.Kraus)
	for i := range o.Kraus {
		o.Kraus[i] = slices.Clone(o.Kraus[i])
	}
	for i := range o.Conds {
		o.Conds[i].Clbits = slices.Clone(o.Conds[i].Clbits)
	}
	o.Expr = op.Expr.clone()
	o.Dest = slices.Clone(op.Dest)
	if op.ParamExprs != nil {
		o.ParamExprs = make([]*Expr, len(op.ParamExprs))
		for i, e := range op.ParamExprs {
			o.ParamExprs[i] = e.clone()
		}
	}
	return o
}

// Cond is a condition on classical bits: the number whose bit j is the
// value of clbit Clbits[j] equals Value (or differs from it, with Not).
// if (c == 5) on a register c is its bits in order with Value 5; if
// (c[2]) is Clbits {2} with Value 1; if (!c[2]) has Value 0.
type Cond struct {
	Clbits []int
	Value  uint64
	Not    bool
}

// Holds reports whether the condition holds for the bits.
func (c *Cond) Holds(bits []bool) bool {
	var v uint64
	for j, b := range c.Clbits {
		if bits[b] {
			v |= 1 << uint(j)
		}
	}
	return (v == c.Value) != c.Not
}

// CondsHold reports whether every condition holds for the bits.
func CondsHold(conds []Cond, bits []bool) bool {
	for i := range conds {
		if !conds[i].Holds(bits) {
			return false
		}
	}
	return true
}

// Dynamic reports whether the circuit has conditional or classical ops,
// which only the shot simulator executes.
func (c *Circuit) Dynamic() bool {
	for i := range c.Ops {
		op := &c.Ops[i]
		if len(op.Conds) > 0 || op.Kind == KindSet || op.Kind == KindFail || op.Kind == KindCompute || op.ParamExprs != nil {
			return true
		}
	}
	return false
}

// ErrDynamic is returned (wrapped) by consumers of circuits that cannot
// execute conditional ops.
var ErrDynamic = errors.New("conditional (if) operations need the shot simulator (mec circuit run)")

// Period returns the period of the op's gate (GateDef.Period; 0 for
// unitaries, parametrised gates and non-gates).
func (op *Op) Period() float64 {
	if op.Kind != KindGate || op.Name == UnitaryName {
		return 0
	}
	if d, ok := LookupGate(op.Name); ok {
		return d.Period
	}
	return 0
}

// Exponent returns the power the gate is raised to (1 when Pow is 0).
func (op *Op) Exponent() float64 {
	if op.Pow == 0 {
		return 1
	}
	return op.Pow
}

// AllQubits returns every qubit the op touches: operands, then controls.
func (op *Op) AllQubits() []int {
	out := make([]int, 0, len(op.Qubits)+len(op.Controls)+len(op.NegControls))
	out = append(out, op.Qubits...)
	out = append(out, op.Controls...)
	return append(out, op.NegControls...)
}

// Circuit is a sequence of operations on Qubits qubits and Clbits classical bits.
type Circuit struct {
	Qubits int
	Clbits int
	// Scratch is how many of the classical bits, the last ones, are
	// internal (the guards of unrolled while loops): results leave them
	// out.
	Scratch int
	// Cregs are the program's classical registers, in declaration order,
	// when it declared any (OpenQASM bit/creg): each names its bits.
	Cregs []Register
	Ops   []Op
}

// Register is a named classical register: bit j of its value is clbit
// Bits[j]. Type is the type of a classical variable the register holds
// (int[8], angle[10], bool, …); the zero Type marks a bit register.
type Register struct {
	Name string
	Bits []int
	Type ClassType
}

// Values returns the registers' values in a result whose clbit j is
// bit(j), as "name=value" words: bit registers as bit strings, variables
// as their type prints them (an angle in radians).
func (c *Circuit) Values(bit func(j int) bool) []string {
	out := make([]string, len(c.Cregs))
	for i, r := range c.Cregs {
		var u uint64
		var b strings.Builder
		for j := len(r.Bits) - 1; j >= 0; j-- {
			v := bit(r.Bits[j])
			if j < 64 && v {
				u |= 1 << uint(j)
			}
			b.WriteByte('0' + byte(b2u(v)))
		}
		val := b.String()
		if r.Type.Width > 0 {
			val = Value{Type: r.Type, U: u}.String()
		}
		out[i] = r.Name + "=" + val
	}
	return out
}

func b2u(v bool) int {
	if v {
		return 1
	}
	return 0
}

// Results returns the number of classical bits results show: Clbits
// without the scratch bits.
func (c *Circuit) Results() int { return c.Clbits - c.Scratch }

// New returns an empty circuit on n qubits and n classical bits.
func New(n int) *Circuit { return &Circuit{Qubits: n, Clbits: n} }

// Append adds a standard gate by name. It does not validate; Validate does.
func (c *Circuit) Append(name string, params []float64, qubits ...int) *Circuit {
	c.Ops = append(c.Ops, Op{Kind: KindGate, Name: name, Params: params, Qubits: qubits})
	return c
}

// Measure adds a measurement of qubit q into classical bit b.
func (c *Circuit) Measure(q, b int) *Circuit {
	c.Ops = append(c.Ops, Op{Kind: KindMeasure, Qubits: []int{q}, Clbit: b})
	return c
}

// Reset adds a reset of qubit q.
func (c *Circuit) Reset(q int) *Circuit {
	c.Ops = append(c.Ops, Op{Kind: KindReset, Qubits: []int{q}})
	return c
}

// GateCount returns the number of gate ops.
func (c *Circuit) GateCount() int {
	n := 0
	for i := range c.Ops {
		if c.Ops[i].Kind == KindGate {
			n++
		}
	}
	return n
}

// Validate checks every op: known gate names, parameter and operand counts,
// qubit and bit indices in range, no qubit used twice in one op, finite
// parameters and matrices of the right size.
func (c *Circuit) Validate() error {
	if c.Qubits < 0 || c.Clbits < 0 {
		return fmt.Errorf("circuit: negative register size (%d qubits, %d bits)", c.Qubits, c.Clbits)
	}
	if c.Scratch < 0 || c.Scratch > c.Clbits {
		return fmt.Errorf("circuit: %d scratch bits of %d", c.Scratch, c.Clbits)
	}
	for i := range c.Ops {
		if err := c.Ops[i].validate(c.Qubits, c.Clbits); err != nil {
			return fmt.Errorf("circuit: op %d: %w", i, err)
		}
	}
	return nil
}

func (op *Op) validate(nq, nc int) error {
	for _, c := range op.Conds {
		if len(c.Clbits) == 0 || len(c.Clbits) > 64 {
			return fmt.Errorf("%s: a condition reads %d bits: 1 to 64", op.label(), len(c.Clbits))
		}
		for _, b := range c.Clbits {
			if b < 0 || b >= nc {
				return fmt.Errorf("%s: condition bit %d out of range [0,%d)", op.label(), b, nc)
			}
		}
		if len(c.Clbits) < 64 && c.Value>>uint(len(c.Clbits)) != 0 {
			return fmt.Errorf("%s: condition value %d does not fit %d bits", op.label(), c.Value, len(c.Clbits))
		}
	}
	seen := map[int]bool{}
	for _, q := range op.AllQubits() {
		if q < 0 || q >= nq {
			return fmt.Errorf("%s: qubit %d out of range [0,%d)", op.label(), q, nq)
		}
		if seen[q] && op.Kind != KindBarrier {
			return fmt.Errorf("%s: qubit %d used twice", op.label(), q)
		}
		seen[q] = true
	}
	switch op.Kind {
	case KindMeasure, KindReset:
		if len(op.Qubits) != 1 || len(op.Controls)+len(op.NegControls) != 0 {
			return fmt.Errorf("%s takes exactly one qubit and no controls", op.Kind)
		}
		if op.Kind == KindMeasure && (op.Clbit < 0 || op.Clbit >= nc) {
			return fmt.Errorf("measure: bit %d out of range [0,%d)", op.Clbit, nc)
		}
		return nil
	case KindBarrier:
		return nil
	case KindDelay:
		if len(op.Controls)+len(op.NegControls) != 0 || len(op.Params) != 1 || !(op.Params[0] >= 0) || math.IsInf(op.Params[0], 0) {
			return fmt.Errorf("delay: want qubits, no controls and one finite duration ≥ 0 in seconds, got %v", op.Params)
		}
		return nil
	case KindChannel:
		return validateKraus(op.Kraus, len(op.Qubits))
	case KindReadout:
		if len(op.Qubits) != 0 || op.Clbit < 0 || op.Clbit >= nc {
			return fmt.Errorf("readout: bit %d out of range [0,%d) (and no qubits)", op.Clbit, nc)
		}
		if len(op.Params) != 2 || !(op.Params[0] >= 0 && op.Params[0] <= 1 && op.Params[1] >= 0 && op.Params[1] <= 1) {
			return fmt.Errorf("readout: want two flip probabilities in [0,1], got %v", op.Params)
		}
		return nil
	case KindCompute:
		if len(op.Qubits)+len(op.Controls)+len(op.NegControls) != 0 || op.Expr == nil {
			return fmt.Errorf("compute acts on no qubits and needs an expression")
		}
		if err := op.Expr.validate(nc, 0); err != nil {
			return fmt.Errorf("compute: %w", err)
		}
		if len(op.Dest) != op.Expr.Type.StorageWidth() && (len(op.Dest) != 0 || op.Expr.Op != "extern") {
			return fmt.Errorf("compute: a %s value into %d bits", op.Expr.Type, len(op.Dest))
		}
		for _, b := range op.Dest {
			if b < 0 || b >= nc {
				return fmt.Errorf("compute: bit %d out of range [0,%d)", b, nc)
			}
		}
		return nil
	case KindSet, KindFail:
		if len(op.Qubits)+len(op.Controls)+len(op.NegControls) != 0 {
			return fmt.Errorf("%s acts on no qubits", op.Kind)
		}
		if op.Kind == KindSet && (op.Clbit < 0 || op.Clbit >= nc) {
			return fmt.Errorf("set: bit %d out of range [0,%d)", op.Clbit, nc)
		}
		return nil
	case KindGate:
	default:
		return fmt.Errorf("unknown op kind %d", op.Kind)
	}
	if math.IsNaN(op.Pow) || math.IsInf(op.Pow, 0) {
		return fmt.Errorf("%s: power %v is not finite", op.label(), op.Pow)
	}
	for _, p := range op.Params {
		if math.IsNaN(p) || math.IsInf(p, 0) {
			return fmt.Errorf("%s: parameter %v is not finite", op.label(), p)
		}
	}
	if op.ParamExprs != nil {
		if len(op.ParamExprs) != len(op.Params) {
			return fmt.Errorf("%s: %d run-time parameters for %d parameters", op.label(), len(op.ParamExprs), len(op.Params))
		}
		for _, e := range op.ParamExprs {
			if e == nil {
				continue
			}
			if err := e.validate(nc, 0); err != nil {
				return fmt.Errorf("%s: run-time parameter: %w", op.label(), err)
			}
		}
	}
	if op.Name == UnitaryName {
		k := len(op.Qubits)
		if k > MaxDenseQubits {
			return fmt.Errorf("unitary on %d qubits: at most %d", k, MaxDenseQubits)
		}
		if len(op.Matrix) != 1<<(2*k) {
			return fmt.Errorf("unitary on %d qubits needs %d matrix entries, has %d", k, 1<<(2*k), len(op.Matrix))
		}
		if err := checkUnitary(op.Matrix, 1e-8); err != nil {
			return fmt.Errorf("unitary: %w", err)
		}
		return nil
	}
	def, ok := LookupGate(op.Name)
	if !ok {
		return fmt.Errorf("unknown gate %q", op.Name)
	}
	if len(op.Params) != def.NParams {
		return fmt.Errorf("%s takes %d parameters, got %d", op.Name, def.NParams, len(op.Params))
	}
	if len(op.Qubits) != def.NQubits {
		return fmt.Errorf("%s takes %d qubits, got %d", op.Name, def.NQubits, len(op.Qubits))
	}
	return nil
}

func (op *Op) label() string {
	if op.Kind == KindGate {
		return op.Name
	}
	return op.Kind.String()
}

// MaxDenseQubits is the largest number of target qubits of a dense gate.
const MaxDenseQubits = 6

// Gate is a gate in the form engines execute: Matrix acts on Targets
// (operand j is bit j of the matrix index) on the amplitudes where every
// qubit of Controls is |1⟩ and every qubit of NegControls is |0⟩. When
// Diagonal is set, Matrix holds only the 2^k diagonal entries.
type Gate struct {
	Targets     []int
	Controls    []int
	NegControls []int
	Matrix      []complex128
	Diagonal    bool
}

// CtrlMasks returns (mask, value): an amplitude index i is acted on when
// i&mask == value.
func (g *Gate) CtrlMasks() (mask, value uint64) {
	for _, c := range g.Controls {
		mask |= 1 << uint(c)
		value |= 1 << uint(c)
	}
	for _, c := range g.NegControls {
		mask |= 1 << uint(c)
	}
	return mask, value
}

// Dense returns the full 2^k×2^k matrix of g's targets (expanding a diagonal).
func (g *Gate) Dense() []complex128 {
	if !g.Diagonal {
		return g.Matrix
	}
	d := len(g.Matrix)
	m := make([]complex128, d*d)
	for i, v := range g.Matrix {
		m[i*d+i] = v
	}
	return m
}

// Lower turns a gate op into the executable Gate: the standard gate's own
// controls join the modifier controls, and inv/pow modifiers are applied to
// the base matrix (C(U)^p = C(U^p), so powers commute with controls). The
// power of a gate with a period (GateDef.Period) is first reduced modulo
// it, exactly, so pow(1e9+0.5) @ x is x^0.5; other powers go to MatPow
// (a *PowerError above MaxPowExponent).
func (op *Op) Lower() (Gate, error) {
	if op.Kind != KindGate {
		return Gate{}, fmt.Errorf("circuit: %s is not a gate", op.Kind)
	}
	var (
		m       []complex128
		targets []int
		ctrls   = slices.Clone(op.Controls)
		diag    bool
		period  float64
	)
	if op.Name == UnitaryName {
		m, targets = op.Matrix, op.Qubits
		diag = isDiag(m, 1<<len(targets))
	} else {
		def, ok := LookupGate(op.Name)
		if !ok {
			return Gate{}, fmt.Errorf("circuit: unknown gate %q", op.Name)
		}
		if len(op.Params) != def.NParams || len(op.Qubits) != def.NQubits {
			return Gate{}, fmt.Errorf("circuit: %s needs %d params and %d qubits, got %d and %d",
				op.Name, def.NParams, def.NQubits, len(op.Params), len(op.Qubits))
		}
		m = def.Base(op.Params)
		ctrls = append(ctrls, op.Qubits[:def.NCtrl]...)
		targets = op.Qubits[def.NCtrl:]
		diag = def.Diagonal
		period = def.Period
	}
	e := op.Exponent()
	if period > 0 {
		e = math.Mod(e, period) // exact: g^e = g^(e mod P)
	}
	if e != 1 {
		var err error
		if m, err = MatPow(m, e); err != nil {
			return Gate{}, fmt.Errorf("circuit: %s: %w", op.Name, err)
		}
	}
	g := Gate{Targets: slices.Clone(targets), Controls: ctrls, NegControls: slices.Clone(op.NegControls), Matrix: m}
	if diag {
		d := 1 << len(targets)
		dm := make([]complex128, d)
		for i := 0; i < d; i++ {
			dm[i] = m[i*d+i]
		}
		g.Matrix, g.Diagonal = dm, true
	}
	return g, nil
}

func checkUnitary(m []complex128, tol float64) error {
	p := MatMul(m, Dagger(m))
	d := dimOf(len(m))
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			want := complex128(0)
			if i == j {
				want = 1
			}
			if v := p[i*d+j] - want; math.Hypot(real(v), imag(v)) > tol {
				return fmt.Errorf("matrix is not unitary: (M M†)[%d][%d] = %v", i, j, p[i*d+j])
			}
		}
	}
	return nil
}
