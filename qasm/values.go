package qasm

import (
	"fmt"
	"math"
	"slices"

	"github.com/prismai/mec/circuit"
)

// Typed classical expressions. The parser reads every expression into the
// nodes of expr.go and these; lower turns one into a circuit.Expr with
// OpenQASM 3's types, folding what is known while the program is read (a
// constant, a variable whose value is known, a literal) into a constant.
// What depends on measurements becomes an expression the simulator
// evaluates on each branch. Both use circuit's rules (circuit.Binary,
// circuit.Convert, …), so they agree.

// indexExpr is x[i], x[i, j] (idx) or x[selection] (sel).
type indexExpr struct {
	p   Pos
	x   expr
	idx []expr
	sel *selection
}

// castExpr is TYPE(x).
type castExpr struct {
	p   Pos
	typ scalarType
	x   expr
}

// strExpr is a bit-string literal "0101" (its first character is the
// most significant bit).
type strExpr struct {
	p Pos
	s string
}

// measureExpr is measure q used as a value (c = measure q; return measure q;).
type measureExpr struct {
	p Pos
	q argRef
}

func (e *indexExpr) pos() Pos   { return e.p }
func (e *castExpr) pos() Pos    { return e.p }
func (e *strExpr) pos() Pos     { return e.p }
func (e *measureExpr) pos() Pos { return e.p }

func (e *indexExpr) eval(map[string]float64) (float64, error) {
	return 0, &Error{Pos: e.p, Msg: "an indexed value is not a number here (gate parameters are numbers)"}
}

func (e *castExpr) eval(env map[string]float64) (float64, error) {
	x, err := e.x.eval(env)
	if err != nil {
		return 0, err
	}
	v, err := circuit.Convert(circuit.RealValue(x), e.typ.class())
	if err != nil {
		return 0, &Error{Pos: e.p, Msg: err.Error()}
	}
	return v.Float(), nil
}

func (e *strExpr) eval(map[string]float64) (float64, error) {
	v, err := bitString(e.s)
	if err != nil {
		return 0, &Error{Pos: e.p, Msg: err.Error()}
	}
	return float64(v.U), nil
}

func (e *measureExpr) eval(map[string]float64) (float64, error) {
	return 0, &Error{Pos: e.p, Msg: "measure is not a number here"}
}

// bitString reads a bit-string literal: "0101" is bit[4] with bit 0 = 1.
func bitString(s string) (circuit.Value, error) {
	s2 := ""
	for _, r := range s {
		if r != '_' {
			s2 += string(r)
		}
	}
	if len(s2) == 0 || len(s2) > 64 {
		return circuit.Value{}, fmt.Errorf("bit string %q: 1 to 64 bits of 0 and 1", s)
	}
	var u uint64
	for _, r := range s2 {
		if r != '0' && r != '1' {
			return circuit.Value{}, fmt.Errorf("bit string %q: only 0 and 1", s)
		}
		u = u<<1 | uint64(r-'0')
	}
	return circuit.Value{Type: circuit.ClassType{Kind: circuit.ClassBit, Width: len(s2)}, U: u}, nil
}

// classVar is a classical variable: its type, its value while the parser
// knows it, and the classical bits that hold it once it depends on a
// measurement (or on an if). An array has dims and one element each.
type classVar struct {
	name  string
	typ   circuit.ClassType
	konst bool // const or input: never assigned
	known bool
	val   circuit.Value
	bits  []int // storage (nil until the value is needed at run time)
	top   bool  // a top-level variable: one of the program's outputs
	dims  []int
	elems []*classVar
}

// constExpr returns a constant expression of v.
func constExpr(v circuit.Value) *circuit.Expr {
	return &circuit.Expr{Op: "const", Type: v.Type, Val: v}
}

// isConst reports whether e is a constant.
func isConst(e *circuit.Expr) bool { return e.Op == "const" }

// read returns an expression of the variable's current value.
func (v *classVar) read() *circuit.Expr {
	if v.known {
		return constExpr(v.val)
	}
	return &circuit.Expr{Op: "load", Type: v.typ, Bits: v.bits}
}

// callable reports whether name may be called in an expression: a
// built-in function, an extern, a subroutine or sizeof.
func (p *parser) callable(name string) bool {
	return circuit.IsBuiltin(name) || name == "sizeof" || p.st.externs[name] != nil || p.st.defs[name] != nil
}

// lower turns e into a typed expression, folding what is known.
func (p *parser) lower(e expr) (*circuit.Expr, error) {
	x, err := p.lowerAt(e)
	if err != nil {
		return nil, p.wrap(err)
	}
	return x, nil
}

func (p *parser) lowerAt(e expr) (*circuit.Expr, error) {
	switch e := e.(type) {
	case *numExpr:
		if e.exact {
			return constExpr(circuit.IntLiteral(e.u)), nil
		}
		return constExpr(circuit.RealValue(e.v)), nil
	case *strExpr:
		v, err := bitString(e.s)
		if err != nil {
			return nil, p.errf(e.p, "%v", err)
		}
		return constExpr(v), nil
	case *identExpr:
		return p.lowerIdent(e)
	case *unaryExpr:
		x, err := p.lowerAt(e.x)
		if err != nil {
			return nil, err
		}
		if e.op == "+" {
			return x, nil
		}
		t, err := circuit.UnaryType(e.op, x.Type)
		if err != nil {
			return nil, p.errf(e.p, "%v", err)
		}
		return p.fold(e.p, &circuit.Expr{Op: e.op, Type: t, Args: []*circuit.Expr{x}})
	case *binaryExpr:
		x, err := p.lowerAt(e.x)
		if err != nil {
			return nil, err
		}
		y, err := p.lowerAt(e.y)
		if err != nil {
			return nil, err
		}
		t, _, err := circuit.BinaryType(e.op, x.Type, y.Type)
		if err != nil {
			return nil, p.errf(e.p, "%v", err)
		}
		return p.fold(e.p, &circuit.Expr{Op: e.op, Type: t, Args: []*circuit.Expr{x, y}})
	case *castExpr:
		x, err := p.lowerAt(e.x)
		if err != nil {
			return nil, err
		}
		return p.cast(e.p, x, e.typ.class())
	case *indexExpr:
		return p.lowerIndex(e)
	case *measureExpr:
		return p.lowerMeasure(e)
	case *callExpr:
		return p.lowerCall(e)
	}
	return nil, p.errf(e.pos(), "unsupported expression")
}

// fold evaluates x now when its operands are constants.
func (p *parser) fold(pos Pos, x *circuit.Expr) (*circuit.Expr, error) {
	for _, a := range x.Args {
		if !isConst(a) {
			return x, nil
		}
	}
	v, err := x.Eval(nil, nil)
	if err != nil {
		return nil, p.errf(pos, "%v", err)
	}
	if v.Type.Kind == circuit.ClassReal && (math.IsNaN(v.F) || math.IsInf(v.F, 0)) {
		return nil, p.errf(pos, "expression evaluates to %v", v.F)
	}
	return constExpr(v), nil
}

// cast converts x to t (folded when x is constant).
func (p *parser) cast(pos Pos, x *circuit.Expr, t circuit.ClassType) (*circuit.Expr, error) {
	if x.Type == t {
		return x, nil
	}
	if isConst(x) {
		v, err := circuit.Convert(x.Val, t)
		if err != nil {
			return nil, p.errf(pos, "%v", err)
		}
		return constExpr(v), nil
	}
	if x.Type.Kind == circuit.ClassAngle && t.Kind == circuit.ClassInt {
		return nil, p.errf(pos, "an angle cannot be cast to %s (only to bit[n] or uint[n])", t)
	}
	return &circuit.Expr{Op: "cast", Type: t, Args: []*circuit.Expr{x}}, nil
}

// lowerIdent resolves a name: a variable, a bit register, a constant or
// loop variable, a built-in constant.
func (p *parser) lowerIdent(e *identExpr) (*circuit.Expr, error) {
	if p.st.version == 3 && (e.name == "true" || e.name == "false") {
		return constExpr(circuit.BoolValue(e.name == "true")), nil
	}
	if v := p.st.vars[e.name]; v != nil {
		if v.dims != nil {
			return nil, p.errf(e.p, "array %q needs an index here", e.name)
		}
		return v.read(), nil
	}
	if r := p.st.cregs[e.name]; r != nil {
		bits := make([]int, r.size)
		for k := range bits {
			bits[k] = r.at(k)
		}
		return p.loadBits(e.p, bits)
	}
	if v, ok := p.constEnv()[e.name]; ok {
		return constExpr(circuit.RealValue(v)), nil
	}
	if p.st.qregs[e.name] != nil {
		return nil, p.errf(e.p, "qubit register %q in a classical expression", e.name)
	}
	return nil, p.errf(e.p, "undefined identifier %q in expression", e.name)
}

// loadBits reads classical bits as bit[n] (bit for one).
func (p *parser) loadBits(pos Pos, bits []int) (*circuit.Expr, error) {
	if len(bits) > 64 {
		return nil, p.errf(pos, "a value of %d bits: at most 64", len(bits))
	}
	return &circuit.Expr{Op: "load", Type: circuit.ClassType{Kind: circuit.ClassBit, Width: len(bits)}, Bits: bits}, nil
}

// lowerIndex reads r[i], r[a:b], r[{…}] of a bit register, a[i, j] of an
// array and x[i] (bit i) of an integer or angle.
func (p *parser) lowerIndex(e *indexExpr) (*circuit.Expr, error) {
	id, ok := e.x.(*identExpr)
	if !ok {
		if inner, ok := e.x.(*indexExpr); ok {
			// a[i][j] is a[i, j].
			if inner.sel == nil && e.sel == nil {
				return p.lowerIndex(&indexExpr{p: e.p, x: inner.x, idx: append(slices.Clone(inner.idx), e.idx...)})
			}
		}
		x, err := p.lowerAt(e.x)
		if err != nil {
			return nil, err
		}
		return p.bitOf(e, x)
	}
	if r := p.st.cregs[id.name]; r != nil {
		a := argRef{name: id.name, sel: e.sel, pos: e.p}
		if e.sel == nil {
			if len(e.idx) != 1 {
				return nil, p.errf(e.p, "bit register %q takes one index", id.name)
			}
			ix, err := p.lower(e.idx[0])
			if err != nil {
				return nil, err
			}
			if !isConst(ix) {
				// r[i] with i known only at run time: pick the bit.
				args := []*circuit.Expr{ix}
				for k := 0; k < r.size; k++ {
					args = append(args, &circuit.Expr{Op: "load", Type: circuit.ClassType{Kind: circuit.ClassBit, Width: 1}, Bits: []int{r.at(k)}})
				}
				return &circuit.Expr{Op: "select", Type: circuit.ClassType{Kind: circuit.ClassBit, Width: 1}, Args: args}, nil
			}
			a.index = e.idx[0]
		}
		idx, err := p.resolve([]argRef{a}, p.st.cregs, "bit")
		if err != nil {
			return nil, err
		}
		return p.loadBits(e.p, idx[0])
	}
	if v := p.st.vars[id.name]; v != nil && v.dims != nil {
		return p.lowerElement(e, v)
	}
	x, err := p.lowerAt(id)
	if err != nil {
		return nil, err
	}
	return p.bitOf(e, x)
}

// bitOf reads bit i of an integer, bit or angle value x[i].
func (p *parser) bitOf(e *indexExpr, x *circuit.Expr) (*circuit.Expr, error) {
	if e.sel != nil || len(e.idx) != 1 {
		return nil, p.errf(e.p, "a %s value takes one index (its bit)", x.Type)
	}
	if x.Type.Kind == circuit.ClassFloat || x.Type.Kind == circuit.ClassReal || x.Type.Kind == circuit.ClassBool {
		return nil, p.errf(e.p, "a %s value has no bits to index", x.Type)
	}
	ix, err := p.lower(e.idx[0])
	if err != nil {
		return nil, err
	}
	if !isConst(ix) {
		return nil, p.errf(e.p, "the bit index of a %s value must be known when the program is read", x.Type)
	}
	k := ix.Val.Int()
	if k < 0 || int(k) >= x.Type.Width {
		return nil, p.errf(e.p, "bit %d of a %s value: out of range", k, x.Type)
	}
	bit := circuit.ClassType{Kind: circuit.ClassBit, Width: 1}
	if x.Op == "load" {
		return &circuit.Expr{Op: "load", Type: bit, Bits: []int{x.Bits[k]}}, nil
	}
	// (x >> k) cast to bit: the low bit.
	sh, err := p.fold(e.p, &circuit.Expr{Op: ">>", Type: x.Type, Args: []*circuit.Expr{x, constExpr(circuit.RealValue(float64(k)))}})
	if err != nil {
		return nil, err
	}
	return p.cast(e.p, sh, bit)
}

// elementIndex returns the flat index of an array element a[i, j, …]
// (constant indices), or -1 and the index expressions when one is known
// only at run time.
func (p *parser) elementIndex(e *indexExpr, v *classVar) (int, []*circuit.Expr, error) {
	if e.sel != nil {
		return 0, nil, p.errf(e.p, "array slices are read as whole rows here: index every dimension")
	}
	if len(e.idx) > len(v.dims) {
		return 0, nil, p.errf(e.p, "array %q has %d dimensions, indexed with %d", v.name, len(v.dims), len(e.idx))
	}
	flat, runtime := 0, false
	var ixs []*circuit.Expr
	for d, ie := range e.idx {
		ix, err := p.lower(ie)
		if err != nil {
			return 0, nil, err
		}
		ixs = append(ixs, ix)
		if !isConst(ix) {
			runtime = true
			continue
		}
		k := ix.Val.Int()
		if k < 0 {
			k += int64(v.dims[d]) // negative indices count from the end
		}
		if k < 0 || k >= int64(v.dims[d]) {
			return 0, nil, p.errf(ie.pos(), "index %d out of range [0,%d) of array %q", ix.Val.Int(), v.dims[d], v.name)
		}
		flat = flat*v.dims[d] + int(k)
	}
	if runtime {
		return -1, ixs, nil
	}
	return flat, nil, nil
}

// rowSize returns how many elements a partial index of n dimensions spans.
func rowSize(dims []int, n int) int {
	s := 1
	for _, d := range dims[n:] {
		s *= d
	}
	return s
}

// lowerElement reads an element of an array.
func (p *parser) lowerElement(e *indexExpr, v *classVar) (*circuit.Expr, error) {
	if len(e.idx) < len(v.dims) {
		return nil, p.errf(e.p, "array %q: a row of an array is not a value here; index all %d dimensions", v.name, len(v.dims))
	}
	flat, ixs, err := p.elementIndex(e, v)
	if err != nil {
		return nil, err
	}
	if flat >= 0 {
		return v.elems[flat].read(), nil
	}
	// An index known only at run time: select among the elements by the
	// flat index Σ i_d · stride_d.
	var fi *circuit.Expr
	it := circuit.ClassType{Kind: circuit.ClassInt, Width: 64}
	for d, ix := range ixs {
		ixc, err := p.cast(e.p, ix, it)
		if err != nil {
			return nil, err
		}
		term, err := p.fold(e.p, &circuit.Expr{Op: "*", Type: it, Args: []*circuit.Expr{ixc, constExpr(circuit.IntValue(it, int64(rowSize(v.dims, d+1))))}})
		if err != nil {
			return nil, err
		}
		if fi == nil {
			fi = term
		} else if fi, err = p.fold(e.p, &circuit.Expr{Op: "+", Type: it, Args: []*circuit.Expr{fi, term}}); err != nil {
			return nil, err
		}
	}
	args := []*circuit.Expr{fi}
	for _, el := range v.elems {
		args = append(args, el.read())
	}
	return &circuit.Expr{Op: "select", Type: v.typ, Args: args}, nil
}

// lowerMeasure measures qubits into fresh scratch bits and reads them.
func (p *parser) lowerMeasure(e *measureExpr) (*circuit.Expr, error) {
	qi, err := p.resolve([]argRef{e.q}, p.st.qregs, "qubit")
	if err != nil {
		return nil, err
	}
	if len(qi[0]) > 64 {
		return nil, p.errf(e.p, "measure of %d qubits as a value: at most 64", len(qi[0]))
	}
	bits := p.temp(len(qi[0]))
	p.later(bits)
	for k, q := range qi[0] {
		if err := p.emit(e.p, circuit.Op{Kind: circuit.KindMeasure, Qubits: []int{q}, Clbit: bits[k]}); err != nil {
			return nil, err
		}
	}
	return p.loadBits(e.p, bits)
}

// lowerCall lowers a call of a built-in function, sizeof, an extern or a
// subroutine with a return value.
func (p *parser) lowerCall(e *callExpr) (*circuit.Expr, error) {
	if e.name == "sizeof" {
		return p.sizeof(e)
	}
	if d := p.st.defs[e.name]; d != nil {
		return p.callDef(d, e.p, e.args, true)
	}
	var args []*circuit.Expr
	var types []circuit.ClassType
	for _, a := range e.args {
		x, err := p.lowerAt(a)
		if err != nil {
			return nil, err
		}
		args = append(args, x)
		types = append(types, x.Type)
	}
	if ext := p.st.externs[e.name]; ext != nil {
		return p.callExtern(e, ext, args)
	}
	t, err := circuit.BuiltinType(e.name, types)
	if err != nil {
		return nil, p.errf(e.p, "%v", err)
	}
	return p.fold(e.p, &circuit.Expr{Op: "call", Name: e.name, Type: t, Args: args})
}

// sizeof(a) and sizeof(a, d): an array's size in a dimension.
func (p *parser) sizeof(e *callExpr) (*circuit.Expr, error) {
	if len(e.args) < 1 || len(e.args) > 2 {
		return nil, p.errf(e.p, "sizeof takes an array and an optional dimension")
	}
	id, ok := e.args[0].(*identExpr)
	v := (*classVar)(nil)
	if ok {
		v = p.st.vars[id.name]
	}
	d := int64(0)
	if len(e.args) == 2 {
		x, err := p.lower(e.args[1])
		if err != nil {
			return nil, err
		}
		if !isConst(x) {
			return nil, p.errf(e.p, "sizeof's dimension must be known when the program is read")
		}
		d = x.Val.Int()
	}
	if v == nil || v.dims == nil {
		if ok {
			if r := p.st.cregs[id.name]; r != nil && d == 0 {
				return constExpr(circuit.IntValue(circuit.ClassType{Kind: circuit.ClassUint, Width: 32}, int64(r.size))), nil
			}
			if r := p.st.qregs[id.name]; r != nil && d == 0 {
				return constExpr(circuit.IntValue(circuit.ClassType{Kind: circuit.ClassUint, Width: 32}, int64(r.size))), nil
			}
		}
		return nil, p.errf(e.p, "sizeof needs an array (or a register)")
	}
	if d < 0 || d >= int64(len(v.dims)) {
		return nil, p.errf(e.p, "sizeof: array %q has %d dimensions, not %d", v.name, len(v.dims), d+1)
	}
	return constExpr(circuit.IntValue(circuit.ClassType{Kind: circuit.ClassUint, Width: 32}, int64(v.dims[d]))), nil
}

// constValue lowers e and requires a value known when the program is read.
func (p *parser) constValue(e expr, what string) (circuit.Value, error) {
	x, err := p.lower(e)
	if err != nil {
		return circuit.Value{}, err
	}
	if !isConst(x) {
		return circuit.Value{}, p.errf(e.pos(), "%s must be known when the program is read (it depends on a measurement)", what)
	}
	return x.Val, nil
}

// usesVars reports whether e reads a classical variable or bits (known
// or not), a measurement or a call of a subroutine or extern: such an
// expression is evaluated with its types (lower), not as real numbers.
func (p *parser) usesVars(e expr) bool {
	switch e := e.(type) {
	case *identExpr:
		return p.st.vars[e.name] != nil || p.st.cregs[e.name] != nil
	case *unaryExpr:
		return p.usesVars(e.x)
	case *binaryExpr:
		return p.usesVars(e.x) || p.usesVars(e.y)
	case *castExpr:
		return p.usesVars(e.x)
	case *indexExpr, *measureExpr, *strExpr:
		return true
	case *callExpr:
		if p.st.externs[e.name] != nil || p.st.defs[e.name] != nil || e.name == "sizeof" {
			return true
		}
		for _, a := range e.args {
			if p.usesVars(a) {
				return true
			}
		}
	}
	return false
}

// usesRuntime reports whether e reads a value known only at run time
// (a variable held in bits, a bit register, a measurement).
func (p *parser) usesRuntime(e expr) bool {
	switch e := e.(type) {
	case *identExpr:
		if v := p.st.vars[e.name]; v != nil {
			return !v.known || v.dims != nil
		}
		if _, ok := p.constEnv()[e.name]; ok {
			return false
		}
		return p.st.cregs[e.name] != nil
	case *unaryExpr:
		return p.usesRuntime(e.x)
	case *binaryExpr:
		return p.usesRuntime(e.x) || p.usesRuntime(e.y)
	case *castExpr:
		return p.usesRuntime(e.x)
	case *indexExpr:
		if p.usesRuntime(e.x) {
			return true
		}
		for _, i := range e.idx {
			if p.usesRuntime(i) {
				return true
			}
		}
		return false
	case *measureExpr:
		return true
	case *callExpr:
		if p.st.externs[e.name] != nil || p.st.defs[e.name] != nil || e.name == "sizeof" {
			return true
		}
		for _, a := range e.args {
			if p.usesRuntime(a) {
				return true
			}
		}
	}
	return false
}
