package qasm

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/prismai/mec/circuit"
)

// Classical variables. A variable of a scalar type (int, uint, float,
// angle, bool) is known while every path through the program gives it the
// same value: the parser folds it into expressions like a constant. When
// it is assigned a value that depends on a measurement, or assigned inside
// an if or loop whose condition is decided at run time, it gets classical
// bits (scratch: results leave them out), its known value is written into
// them, and from then on it is read from them and written by compute ops.
// Bit registers are always classical bits.

// runtimeCtx reports whether ops emitted now run on only some paths: an
// if, a while or an exit (break, continue, return) decided at run time.
func (p *parser) runtimeCtx() bool {
	if len(p.st.conds) > 0 {
		return true
	}
	for _, f := range p.st.frames {
		if f.dead >= 0 {
			return true
		}
	}
	return false
}

// emitRaw appends ops that run on every path, ignoring the conditions of
// enclosing ifs and exits.
func (p *parser) emitRaw(pos Pos, ops ...circuit.Op) error {
	if len(p.st.c.Ops)+len(ops) > p.st.lim.MaxOps {
		return p.limitErr(pos, opsLimitError("the circuit", p.st.lim.MaxOps))
	}
	p.st.c.Ops = append(p.st.c.Ops, ops...)
	return nil
}

// setOps returns the ops that write the bits of v into dst.
func setOps(v circuit.Value, dst []int) []circuit.Op {
	u := v.Raw()
	ops := make([]circuit.Op, len(dst))
	for j, b := range dst {
		ops[j] = circuit.Op{Kind: circuit.KindSet, Clbit: b, Bit: u>>uint(j)&1 == 1}
	}
	return ops
}

// temp returns n scratch bits that are 0 on every path, reusing released
// ones.
func (p *parser) temp(n int) []int {
	out := make([]int, n)
	for i := range out {
		if k := len(p.st.free); k > 0 {
			out[i] = p.st.free[k-1]
			p.st.free = p.st.free[:k-1]
		} else {
			out[i] = p.scratchBit()
		}
	}
	return out
}

// release zeroes temporaries on every path and returns them to the pool.
func (p *parser) release(pos Pos, bits []int) error {
	if len(bits) == 0 {
		return nil
	}
	if err := p.emitRaw(pos, setOps(circuit.Value{Type: circuit.ClassType{Kind: circuit.ClassBit, Width: 64}}, bits)...); err != nil {
		return err
	}
	p.st.free = append(p.st.free, bits...)
	return nil
}

// storage returns the bits a variable is held in: a program output's are
// its own (never shared with temporaries, so that a result bit is nothing
// else); others come from the pool and go back to it when their block ends.
func (p *parser) storage(v *classVar) []int {
	n := v.typ.StorageWidth()
	if !v.top {
		return p.temp(n)
	}
	bits := make([]int, n)
	for i := range bits {
		bits[i] = p.scratchBit()
	}
	return bits
}

// later releases bits when the statement being read ends.
func (p *parser) later(bits []int) { p.st.pending = append(p.st.pending, bits...) }

// materialize gives a known variable its bits, holding its value.
func (p *parser) materialize(pos Pos, v *classVar) error {
	if !v.known {
		return nil
	}
	fresh := v.bits == nil
	if fresh {
		v.bits = p.storage(v)
	}
	// Fresh bits are 0 on every path: a zero needs no writing.
	if !fresh || v.val.Raw() != 0 {
		if err := p.emitRaw(pos, setOps(v.val, v.bits)...); err != nil {
			return err
		}
	}
	v.known = false
	p.st.env = nil
	return nil
}

// fitsInteger reports whether the exact literal v is a value of the
// integer type t: −2^(w−1) ≤ v < 2^(w−1) for int[w], 0 ≤ v < 2^w for the
// unsigned kinds.
func fitsInteger(v circuit.Value, t circuit.ClassType) bool {
	if v.F < 0 {
		i := int64(v.U)
		return t.Kind == circuit.ClassInt && (t.Width == 64 || i >= -1<<(t.Width-1))
	}
	if t.Kind == circuit.ClassInt {
		return v.U < 1<<(t.Width-1)
	}
	return t.Width == 64 || v.U < 1<<t.Width
}

// convertFor converts x for storage in t: as a cast, except that a
// literal that is not a whole number does not silently become an integer
// and an integer literal must fit the type.
func (p *parser) convertFor(pos Pos, x *circuit.Expr, t circuit.ClassType, what string) (*circuit.Expr, error) {
	if isConst(x) && x.Val.Type.Kind == circuit.ClassReal {
		v := x.Val
		f := v.F
		switch t.Kind {
		case circuit.ClassInt, circuit.ClassUint, circuit.ClassBit:
			if f != math.Trunc(f) {
				return nil, p.errf(pos, "%s: %s needs an integer, got %v", what, t, f)
			}
			if !v.Exact || !fitsInteger(v, t) {
				return nil, p.errf(pos, "%s: %v does not fit %s", what, v, t)
			}
		case circuit.ClassBool:
			if f != 0 && f != 1 {
				return nil, p.errf(pos, "%s: bool needs true, false, 0 or 1, got %v", what, f)
			}
		}
	}
	return p.cast(pos, x, t)
}

// storeVar assigns x to a scalar variable.
func (p *parser) storeVar(pos Pos, v *classVar, x *circuit.Expr) error {
	if v.konst {
		return p.errf(pos, "%q is a constant and cannot be assigned", v.name)
	}
	x, err := p.convertFor(pos, x, v.typ, fmt.Sprintf("assignment to %q", v.name))
	if err != nil {
		return err
	}
	p.st.env = nil
	if isConst(x) && !p.runtimeCtx() {
		v.known, v.val = true, x.Val
		return nil
	}
	if err := p.materialize(pos, v); err != nil {
		return err
	}
	if v.bits == nil {
		v.bits = p.storage(v)
	}
	return p.storeBits(pos, v.bits, x)
}

// storeBits writes x (already of the bits' type) into classical bits.
func (p *parser) storeBits(pos Pos, bits []int, x *circuit.Expr) error {
	if isConst(x) {
		return p.emit(pos, setOps(x.Val, bits)...)
	}
	return p.emit(pos, circuit.Op{Kind: circuit.KindCompute, Expr: x, Dest: slices.Clone(bits)})
}

// declareVar handles TYPE name [= expr]; for int, uint, float, angle and
// bool (kw is the type keyword, already read), and const when konst.
func (p *parser) declareVar(kw token, konst bool) error {
	typ, err := p.scalarTypeAfter(kw)
	if err != nil {
		return err
	}
	name, err := p.ident("a variable name")
	if err != nil {
		return err
	}
	if err := p.checkNewName(name); err != nil {
		return err
	}
	v := &classVar{name: name.text, typ: typ.class(), konst: konst, known: true, val: zeroOf(typ.class())}
	if p.is("=") {
		p.next()
		e, err := p.expr(0)
		if err != nil {
			return err
		}
		x, err := p.lower(e)
		if err != nil {
			return err
		}
		if konst && !isConst(x) {
			return p.errf(e.pos(), "const %q: its value must be known when the program is read", name.text)
		}
		what := fmt.Sprintf("%s %q", map[bool]string{true: "const", false: "variable"}[konst], name.text)
		if x, err = p.convertFor(e.pos(), x, v.typ, what); err != nil {
			return err
		}
		if isConst(x) {
			v.val = x.Val
		} else {
			v.known, v.bits = false, p.storage(v)
			if err := p.storeBits(name.pos, v.bits, x); err != nil {
				return err
			}
		}
	} else if konst {
		return p.errf(name.pos, "const %q needs a value", name.text)
	}
	if _, err := p.expect(";"); err != nil {
		return err
	}
	p.setVar(v)
	return nil
}

// zeroOf returns the zero value of a type.
func zeroOf(t circuit.ClassType) circuit.Value { return circuit.Value{Type: t} }

// setVar declares v in the current scope; a top-level variable that is
// not a constant is one of the program's outputs.
func (p *parser) setVar(v *classVar) {
	if p.st.vars == nil {
		p.st.vars = map[string]*classVar{}
	}
	p.st.vars[v.name] = v
	p.st.env = nil
	if p.st.scopes == 0 && !v.konst && v.dims == nil && !strings.HasPrefix(v.name, "mec_") {
		// (mec_ names are Export3's own variables, not the program's.)
		v.top = true
		p.st.outputs = append(p.st.outputs, output{name: v.name, v: v})
	}
}

// finishOutputs makes the program's outputs its result registers — bit
// registers first, then variables, each in declaration order: every
// top-level bit register and variable (but floats), or, when the program
// declares outputs, those alone. A variable's known value is
// written into its bits at the end; the bits of registers that are not
// outputs become scratch.
func (st *state) finishOutputs() error {
	p := &parser{st: st, file: st.opts.File}
	var regs []circuit.Register
	keep := map[string]bool{}
	for _, o := range st.outputs {
		if st.explicit && !o.out {
			continue
		}
		if o.v == nil {
			keep[o.name] = true
			continue
		}
		v := o.v
		if v.typ.Kind == circuit.ClassFloat {
			continue // counts of floats are not useful; their values are in the state's bits
		}
		if v.bits == nil {
			v.bits = p.storage(v)
		}
		if v.known {
			if err := p.emitRaw(Pos{}, setOps(v.val, v.bits)...); err != nil {
				return err
			}
		}
		regs = append(regs, circuit.Register{Name: v.name, Bits: v.bits, Type: v.typ})
	}
	var out []circuit.Register
	for _, r := range st.c.Cregs {
		if keep[r.Name] || !st.explicit {
			out = append(out, r)
		} else {
			st.scratch = append(st.scratch, r.Bits...)
		}
	}
	// The variables' bits leave the scratch area.
	isVar := map[int]bool{}
	for _, r := range regs {
		for _, b := range r.Bits {
			isVar[b] = true
		}
	}
	kept := st.scratch[:0]
	for _, b := range st.scratch {
		if !isVar[b] {
			kept = append(kept, b)
		}
	}
	st.scratch = kept
	st.c.Cregs = append(out, regs...)
	return nil
}

// declareArray handles array[TYPE, d1, d2, …] name [= {…} | = other];.
func (p *parser) declareArray(kw token) error {
	if _, err := p.expect("["); err != nil {
		return err
	}
	typ, err := p.scalarType()
	if err != nil {
		return err
	}
	var dims []int
	n := 1
	for p.is(",") {
		p.next()
		d, dpos, err := p.intExpr("an array dimension")
		if err != nil {
			return err
		}
		if d < 1 || n*d > 1<<16 {
			return p.errf(dpos, "array dimension %d: dimensions are positive and arrays hold at most %d elements", d, 1<<16)
		}
		n *= d
		dims = append(dims, d)
	}
	if len(dims) == 0 {
		return p.errf(kw.pos, "an array needs at least one dimension: array[TYPE, n]")
	}
	if _, err := p.expect("]"); err != nil {
		return err
	}
	name, err := p.ident("an array name")
	if err != nil {
		return err
	}
	if err := p.checkNewName(name); err != nil {
		return err
	}
	v := &classVar{name: name.text, typ: typ.class(), dims: dims, elems: make([]*classVar, n)}
	for i := range v.elems {
		v.elems[i] = &classVar{name: fmt.Sprintf("%s[%d]", name.text, i), typ: v.typ, known: true, val: zeroOf(v.typ)}
	}
	if p.is("=") {
		p.next()
		if p.is("{") {
			vals, err := p.arrayLiteral(dims, 0)
			if err != nil {
				return err
			}
			for i, e := range vals {
				x, err := p.lower(e)
				if err != nil {
					return err
				}
				if x, err = p.convertFor(e.pos(), x, v.typ, fmt.Sprintf("element %d of %q", i, name.text)); err != nil {
					return err
				}
				el := v.elems[i]
				if isConst(x) {
					el.val = x.Val
					continue
				}
				el.known, el.bits = false, p.storage(el)
				if err := p.storeBits(e.pos(), el.bits, x); err != nil {
					return err
				}
			}
		} else {
			e, err := p.expr(0)
			if err != nil {
				return err
			}
			src, err := p.arrayView(e)
			if err != nil {
				return err
			}
			if err := p.copyElems(e.pos(), v.elems, src); err != nil {
				return err
			}
		}
	}
	if _, err := p.expect(";"); err != nil {
		return err
	}
	p.setVar(v)
	return nil
}

// arrayLiteral reads {…} nested as deep as dims, in row-major order.
func (p *parser) arrayLiteral(dims []int, depth int) ([]expr, error) {
	open, err := p.expect("{")
	if err != nil {
		return nil, err
	}
	var out []expr
	for k := 0; ; k++ {
		if p.is("}") {
			if k != dims[0] {
				return nil, p.errf(open.pos, "array literal has %d elements here, the array %d", k, dims[0])
			}
			p.next()
			return out, nil
		}
		if k > 0 {
			if _, err := p.expect(","); err != nil {
				return nil, err
			}
		}
		if len(dims) > 1 {
			sub, err := p.arrayLiteral(dims[1:], depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
			continue
		}
		e, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
}

// arrayView returns the elements an array expression names: a whole
// array, a row a[i], or rows a[lo:hi] of its first dimension.
func (p *parser) arrayView(e expr) ([]*classVar, error) {
	var (
		v  *classVar
		ix *indexExpr
	)
	switch e := e.(type) {
	case *identExpr:
		v = p.st.vars[e.name]
	case *indexExpr:
		if id, ok := e.x.(*identExpr); ok {
			v, ix = p.st.vars[id.name], e
		}
	}
	if v == nil || v.dims == nil {
		return nil, p.errf(e.pos(), "expected an array")
	}
	if ix == nil {
		return v.elems, nil
	}
	row := rowSize(v.dims, 1)
	if ix.sel != nil {
		if ix.sel.set != nil {
			return nil, p.errf(ix.p, "array rows are selected by a range a[lo:hi]")
		}
		ks, err := p.rangeValues(ix.sel, v.dims[0], ix.p)
		if err != nil {
			return nil, err
		}
		var out []*classVar
		for _, k := range ks {
			out = append(out, v.elems[k*row:(k+1)*row]...)
		}
		return out, nil
	}
	if len(ix.idx) >= len(v.dims) {
		return nil, p.errf(ix.p, "expected a row of array %q, found an element", v.name)
	}
	flat, ixs, err := p.elementIndex(ix, v)
	if err != nil {
		return nil, err
	}
	if ixs != nil {
		return nil, p.errf(ix.p, "the row of array %q must be known when the program is read", v.name)
	}
	span := rowSize(v.dims, len(ix.idx))
	start := flat * span
	return v.elems[start : start+span], nil
}

// copyElems assigns src's values to dst element by element (reading all
// first, so overlapping rows copy as values).
func (p *parser) copyElems(pos Pos, dst, src []*classVar) error {
	if len(dst) != len(src) {
		return p.errf(pos, "array assignment of %d elements to %d", len(src), len(dst))
	}
	vals := make([]*circuit.Expr, len(src))
	var tmp [][]int
	for i, s := range src {
		vals[i] = s.read()
		if !isConst(vals[i]) && slices.Contains(dst, s) {
			// Copy through temporaries when the two overlap.
			b := p.temp(s.typ.StorageWidth())
			if err := p.storeBits(pos, b, vals[i]); err != nil {
				return err
			}
			vals[i] = &circuit.Expr{Op: "load", Type: s.typ, Bits: b}
			tmp = append(tmp, b)
		}
	}
	for i, d := range dst {
		if err := p.storeVar(pos, d, vals[i]); err != nil {
			return err
		}
	}
	for _, b := range tmp {
		p.later(b)
	}
	return nil
}

// assignOps are the assignment operators and the binary operator of each
// compound one.
var assignOps = map[string]string{"=": "", "+=": "+", "-=": "-", "*=": "*", "/=": "/", "%=": "%", "**=": "**",
	"&=": "&", "|=": "|", "^=": "^", "<<=": "<<", ">>=": ">>"}

// assignStmt handles target op= value; for variables, array elements and
// rows, bit registers, their bits and slices (measure into bits included).
func (p *parser) assignStmt() error {
	lhs, err := p.postfix(0)
	if err != nil {
		return err
	}
	opTok := p.next()
	bin, ok := assignOps[opTok.text]
	if !ok || opTok.kind != tPunct {
		return p.errf(opTok.pos, "expected an assignment (=, +=, …), found %s", opTok.describe())
	}
	if bin == "" && p.is("measure") {
		ref, ok := p.bitRef(lhs)
		if !ok {
			// A bit variable (or an integer's bits) measured into.
			if r, isRef := exprRef(lhs); isRef {
				if v := p.st.vars[r.name]; v != nil && v.dims == nil && v.typ.Kind != circuit.ClassFloat && v.typ.Kind != circuit.ClassBool {
					ref, ok = r, true
				}
			}
		}
		if ok {
			// c = measure q; c[0] = measure q[1];: measured straight
			// into the bits.
			p.next()
			return p.finishMeasure([]argRef{ref})
		}
	}
	var rhs expr
	if bin == "" && p.is("{") {
		return p.errf(p.peek().pos, "array literals {…} initialise arrays in their declaration")
	}
	if rhs, err = p.expr(0); err != nil {
		return err
	}
	if _, err := p.expect(";"); err != nil {
		return err
	}
	if bin != "" {
		rhs = &binaryExpr{p: opTok.pos, op: bin, x: lhs, y: rhs}
	}
	return p.assign(lhs, rhs, opTok.pos)
}

// bitRef returns the argRef of a bit-register target (c, c[i], c[a:b]).
func (p *parser) bitRef(lhs expr) (argRef, bool) {
	switch e := lhs.(type) {
	case *identExpr:
		if p.st.cregs[e.name] != nil {
			return argRef{name: e.name, pos: e.p}, true
		}
	case *indexExpr:
		id, ok := e.x.(*identExpr)
		if ok && p.st.cregs[id.name] != nil && (e.sel != nil || len(e.idx) == 1) && !p.usesRuntime(e.idx0()) {
			a := argRef{name: id.name, sel: e.sel, pos: e.p}
			if e.sel == nil {
				a.index = e.idx[0]
			}
			return a, true
		}
	}
	return argRef{}, false
}

// idx0 returns the first index (nil for a selection).
func (e *indexExpr) idx0() expr {
	if len(e.idx) == 0 {
		return &numExpr{p: e.p}
	}
	return e.idx[0]
}

// assign stores the value of rhs into the target lhs.
func (p *parser) assign(lhs, rhs expr, pos Pos) error {
	if ref, ok := p.bitRef(lhs); ok {
		idx, err := p.resolve([]argRef{ref}, p.st.cregs, "bit")
		if err != nil {
			return err
		}
		x, err := p.lower(rhs)
		if err != nil {
			return err
		}
		bits := idx[0]
		t := circuit.ClassType{Kind: circuit.ClassBit, Width: len(bits)}
		if len(bits) > 64 {
			return p.errf(pos, "assignment to %d bits: at most 64", len(bits))
		}
		if x, err = p.convertFor(rhs.pos(), x, t, fmt.Sprintf("assignment to %q", ref.name)); err != nil {
			return err
		}
		return p.storeBits(pos, bits, x)
	}
	switch e := lhs.(type) {
	case *identExpr:
		v := p.st.vars[e.name]
		if v == nil {
			if p.st.qregs[e.name] != nil {
				return p.errf(e.p, "%q is a qubit register: only bits and variables are assigned", e.name)
			}
			if _, ok := p.st.consts[e.name]; ok {
				return p.errf(e.p, "%q is a constant or loop variable and cannot be assigned", e.name)
			}
			return p.errf(e.p, "assignment to undeclared %q", e.name)
		}
		if v.dims != nil {
			src, err := p.arrayView(rhs)
			if err != nil {
				return err
			}
			return p.copyElems(pos, v.elems, src)
		}
		x, err := p.lower(rhs)
		if err != nil {
			return err
		}
		return p.storeVar(pos, v, x)
	case *indexExpr:
		id, ok := e.x.(*identExpr)
		if !ok {
			return p.errf(e.p, "cannot assign to this expression")
		}
		v := p.st.vars[id.name]
		if v == nil {
			if r := p.st.cregs[id.name]; r != nil {
				return p.assignBitAt(e, r, rhs, pos)
			}
			return p.errf(e.p, "assignment to undeclared %q", id.name)
		}
		if v.dims == nil {
			ref, ok := exprRef(e)
			if !ok {
				return p.errf(e.p, "variable %q takes one index (a bit) or a slice", v.name)
			}
			x, err := p.lower(rhs)
			if err != nil {
				return err
			}
			bits, err := p.varBits(ref, v)
			if err != nil {
				return err
			}
			t := circuit.ClassType{Kind: circuit.ClassBit, Width: len(bits)}
			if x, err = p.convertFor(rhs.pos(), x, t, fmt.Sprintf("assignment to bits of %q", v.name)); err != nil {
				return err
			}
			return p.storeBits(pos, bits, x)
		}
		if e.sel != nil || len(e.idx) < len(v.dims) {
			dst, err := p.arrayView(e)
			if err != nil {
				return err
			}
			src, err := p.arrayView(rhs)
			if err != nil {
				return err
			}
			return p.copyElems(pos, dst, src)
		}
		flat, ixs, err := p.elementIndex(e, v)
		if err != nil {
			return err
		}
		x, err := p.lower(rhs)
		if err != nil {
			return err
		}
		if flat >= 0 {
			return p.storeVar(pos, v.elems[flat], x)
		}
		return p.storeAt(e, v, ixs, x, pos)
	}
	return p.errf(lhs.pos(), "cannot assign to this expression")
}

// storeAt writes x into the element of v whose indices are known only at
// run time: every element k takes (index == k ? x : its value).
func (p *parser) storeAt(e *indexExpr, v *classVar, ixs []*circuit.Expr, x *circuit.Expr, pos Pos) error {
	x, err := p.convertFor(pos, x, v.typ, fmt.Sprintf("assignment to %q", v.name))
	if err != nil {
		return err
	}
	it := circuit.ClassType{Kind: circuit.ClassInt, Width: 64}
	var fi *circuit.Expr
	for d, ix := range ixs {
		ixc, err := p.cast(e.p, ix, it)
		if err != nil {
			return err
		}
		term, err := p.fold(e.p, &circuit.Expr{Op: "*", Type: it, Args: []*circuit.Expr{ixc, constExpr(circuit.IntValue(it, int64(rowSize(v.dims, d+1))))}})
		if err != nil {
			return err
		}
		if fi == nil {
			fi = term
		} else if fi, err = p.fold(e.p, &circuit.Expr{Op: "+", Type: it, Args: []*circuit.Expr{fi, term}}); err != nil {
			return err
		}
	}
	// The index and the value are read once, before any element changes.
	ib := p.temp(64)
	p.later(ib)
	if err := p.storeBits(pos, ib, fi); err != nil {
		return err
	}
	idx := &circuit.Expr{Op: "load", Type: it, Bits: ib}
	if !isConst(x) {
		xb := p.temp(v.typ.StorageWidth())
		p.later(xb)
		if err := p.storeBits(pos, xb, x); err != nil {
			return err
		}
		x = &circuit.Expr{Op: "load", Type: v.typ, Bits: xb}
	}
	for k, el := range v.elems {
		if err := p.materialize(pos, el); err != nil {
			return err
		}
		if el.bits == nil {
			el.bits = p.storage(el)
		}
		hit := &circuit.Expr{Op: "==", Type: circuit.Bool, Args: []*circuit.Expr{idx, constExpr(circuit.IntValue(it, int64(k)))}}
		pick := &circuit.Expr{Op: "cast", Type: it, Args: []*circuit.Expr{hit}}
		sel := &circuit.Expr{Op: "select", Type: v.typ, Args: []*circuit.Expr{pick, el.read(), x}}
		if err := p.storeBits(pos, el.bits, sel); err != nil {
			return err
		}
	}
	return nil
}

// assignBitAt handles r[i] = value with i known only at run time.
func (p *parser) assignBitAt(e *indexExpr, r *register, rhs expr, pos Pos) error {
	if e.sel != nil || len(e.idx) != 1 {
		return p.errf(e.p, "bit register %q takes one index", r.name)
	}
	ix, err := p.lower(e.idx[0])
	if err != nil {
		return err
	}
	x, err := p.lower(rhs)
	if err != nil {
		return err
	}
	bit := circuit.ClassType{Kind: circuit.ClassBit, Width: 1}
	if x, err = p.convertFor(pos, x, bit, fmt.Sprintf("assignment to %q", r.name)); err != nil {
		return err
	}
	it := circuit.ClassType{Kind: circuit.ClassInt, Width: 64}
	if ix, err = p.cast(e.p, ix, it); err != nil {
		return err
	}
	for k := 0; k < r.size; k++ {
		old := &circuit.Expr{Op: "load", Type: bit, Bits: []int{r.at(k)}}
		hit := &circuit.Expr{Op: "==", Type: circuit.Bool, Args: []*circuit.Expr{ix, constExpr(circuit.IntValue(it, int64(k)))}}
		pick := &circuit.Expr{Op: "cast", Type: it, Args: []*circuit.Expr{hit}}
		sel := &circuit.Expr{Op: "select", Type: bit, Args: []*circuit.Expr{pick, old, x}}
		if err := p.storeBits(pos, []int{r.at(k)}, sel); err != nil {
			return err
		}
	}
	return nil
}

// varBits returns the classical bits of a scalar variable that a
// reference selects (all of them, x[i] or a slice), giving the variable
// its bits first: they are about to be written at run time.
func (p *parser) varBits(ref argRef, v *classVar) ([]int, error) {
	if v.dims != nil {
		return nil, p.errf(ref.pos, "array %q: write its elements", v.name)
	}
	if v.konst {
		return nil, p.errf(ref.pos, "%q is a constant and cannot be assigned", v.name)
	}
	if v.typ.Kind == circuit.ClassFloat || v.typ.Kind == circuit.ClassBool && (ref.index != nil || ref.sel != nil) {
		return nil, p.errf(ref.pos, "the bits of a %s variable cannot be written one by one", v.typ)
	}
	if err := p.materialize(ref.pos, v); err != nil {
		return nil, err
	}
	if v.bits == nil {
		v.bits = p.storage(v)
		v.known = false
		p.st.env = nil
	}
	if ref.index == nil && ref.sel == nil {
		return v.bits, nil
	}
	r := &register{name: v.name, size: len(v.bits), idx: v.bits}
	if ref.sel != nil {
		return p.selected(ref, r)
	}
	k, err := p.evalInt(ref.index, "a bit index")
	if err != nil {
		return nil, err
	}
	if k < 0 {
		k += r.size
	}
	if k < 0 || k >= r.size {
		return nil, p.errf(ref.index.pos(), "bit %d of the %s variable %q: out of range", k, v.typ, v.name)
	}
	return []int{v.bits[k]}, nil
}
