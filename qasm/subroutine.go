package qasm

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/prismai/mec/circuit"
)

// Subroutines (def) are expanded where they are called, like gate
// definitions, but their bodies may hold any statement a program may
// (measurements, resets, ifs, loops, classical variables), and they may
// return a value (def f(…) -> TYPE). Arguments are qubits (qubit,
// qubit[n]: bound as aliases), classical values of the scalar types
// (passed by value) and arrays (readonly or mutable array[TYPE, n, …] or
// array[TYPE, #dim=k]: passed by reference). A call reads the body with
// its arguments bound; nothing else of the caller is hidden. A return
// taken on every path ends the body there; one that depends on a
// measurement sets the call's exit bit, which the body's later ops are
// conditioned on. Recursion ends when its condition is known as the
// program is read, within maxDefDepth nested calls.

// subroutine is a def: its parameters, its return type and its body's tokens.
type subroutine struct {
	name   token
	params []defParam
	ret    *circuit.ClassType
	body   []token
}

// defParam is one parameter: a qubit (size qubits, 1 for qubit), a
// classical value of typ, or an array of typ with ndim dimensions.
type defParam struct {
	name    token
	qubit   bool
	array   bool // qubit[n] (indexable), not qubit
	size    int
	typ     scalarType
	arr     bool  // a classical array
	dims    []int // its dimensions when given
	ndim    int
	mutable bool
}

// maxDefDepth bounds nested subroutine calls (recursion never ends: calls
// are expanded as the program is read).
const maxDefDepth = 64

// defStmt handles def name(params) [-> TYPE] { body }.
func (p *parser) defStmt() error {
	p.next()
	name, err := p.ident("a subroutine name")
	if err != nil {
		return err
	}
	if err := p.checkNewName(name); err != nil {
		return err
	}
	if p.st.defs[name.text] != nil {
		return p.errf(name.pos, "subroutine %q is already defined", name.text)
	}
	d := &subroutine{name: name}
	if _, err := p.expect("("); err != nil {
		return err
	}
	seen := map[string]bool{}
	for !p.is(")") {
		dp, err := p.defParam()
		if err != nil {
			return err
		}
		if seen[dp.name.text] {
			return p.errf(dp.name.pos, "parameter %q given twice", dp.name.text)
		}
		seen[dp.name.text] = true
		d.params = append(d.params, dp)
		if !p.is(",") {
			break
		}
		p.next()
	}
	if _, err := p.expect(")"); err != nil {
		return err
	}
	if d.ret, err = p.returnType(); err != nil {
		return err
	}
	if !p.is("{") {
		return p.errf(p.peek().pos, "subroutine %q needs a { body }", name.text)
	}
	if d.body, err = p.captureBody("subroutine " + strconv.Quote(name.text)); err != nil {
		return err
	}
	if p.st.defs == nil {
		p.st.defs = map[string]*subroutine{}
	}
	p.st.defs[name.text] = d
	return nil
}

// defParam reads one parameter: qubit[n] q, TYPE x, or
// readonly|mutable array[TYPE, n, …] a / array[TYPE, #dim=k] a.
func (p *parser) defParam() (defParam, error) {
	var dp defParam
	t := p.peek()
	switch {
	case t.kind == tIdent && t.text == "qubit":
		p.next()
		dp.qubit, dp.size = true, 1
		if p.is("[") {
			p.next()
			n, npos, err := p.intExpr("a qubit array size")
			if err != nil {
				return dp, err
			}
			if n < 1 || n > MaxQubits {
				return dp, p.errf(npos, "qubit[%d]: sizes are 1 to %d", n, MaxQubits)
			}
			dp.size, dp.array = n, true
			if _, err := p.expect("]"); err != nil {
				return dp, err
			}
		}
	case t.kind == tIdent && (t.text == "readonly" || t.text == "mutable"):
		p.next()
		dp.arr, dp.mutable = true, t.text == "mutable"
		if _, err := p.expect("array"); err != nil {
			return dp, err
		}
		if _, err := p.expect("["); err != nil {
			return dp, err
		}
		typ, err := p.scalarType()
		if err != nil {
			return dp, err
		}
		dp.typ = typ
		if _, err := p.expect(","); err != nil {
			return dp, err
		}
		if p.is("#") {
			// #dim=k: k dimensions of any size.
			p.next()
			if _, err := p.expect("dim"); err != nil {
				return dp, err
			}
			if _, err := p.expect("="); err != nil {
				return dp, err
			}
			k, kpos, err := p.intExpr("an array's number of dimensions")
			if err != nil {
				return dp, err
			}
			if k < 1 || k > 8 {
				return dp, p.errf(kpos, "#dim=%d: 1 to 8 dimensions", k)
			}
			dp.ndim = k
			if _, err := p.expect("]"); err != nil {
				return dp, err
			}
			break
		}
		for {
			d, dpos, err := p.intExpr("an array dimension")
			if err != nil {
				return dp, err
			}
			if d < 1 {
				return dp, p.errf(dpos, "array dimension %d: dimensions are positive", d)
			}
			dp.dims = append(dp.dims, d)
			if !p.is(",") {
				break
			}
			p.next()
		}
		dp.ndim = len(dp.dims)
		if _, err := p.expect("]"); err != nil {
			return dp, err
		}
	case t.kind == tIdent && t.text == "array":
		return dp, p.errf(t.pos, "an array parameter needs readonly or mutable")
	default:
		typ, err := p.scalarType()
		if err != nil {
			return dp, err
		}
		dp.typ = typ
	}
	name, err := p.ident("a parameter name")
	if err != nil {
		return dp, err
	}
	dp.name = name
	return dp, nil
}

// defCall handles a subroutine called as a statement: name(args); or,
// with qubit arguments only, name a, b; as a gate is called.
func (p *parser) defCall(d *subroutine, depth int) error {
	call := p.next()
	var args []expr
	if p.is("(") {
		p.next()
		for !p.is(")") {
			e, err := p.expr(0)
			if err != nil {
				return err
			}
			args = append(args, e)
			if !p.is(",") {
				break
			}
			p.next()
		}
		if _, err := p.expect(")"); err != nil {
			return err
		}
	}
	if !p.is(";") {
		// name a, b; or name(x) a, b; (an early call syntax): qubit
		// arguments after the parenthesised ones.
		refs, err := p.argList(";")
		if err != nil {
			return err
		}
		for _, a := range refs {
			if k := len(args); k < len(d.params) && !d.params[k].qubit {
				return p.errf(a.pos, "subroutine %q: argument %d is classical: call it as %s(…);", d.name.text, k+1, d.name.text)
			}
			args = append(args, refExpr(a))
		}
	}
	if _, err := p.expect(";"); err != nil {
		return err
	}
	_, err := p.callDef(d, call.pos, args, false)
	return err
}

// refExpr turns a register reference back into an expression.
func refExpr(a argRef) expr {
	id := &identExpr{p: a.pos, name: a.name}
	if a.index == nil && a.sel == nil {
		return id
	}
	ix := &indexExpr{p: a.pos, x: id, sel: a.sel}
	if a.index != nil {
		ix.idx = []expr{a.index}
	}
	return ix
}

// exprRef reads a qubit argument written as an expression (q, q[i],
// q[a:b], q[{…}], $n).
func exprRef(e expr) (argRef, bool) {
	switch e := e.(type) {
	case *identExpr:
		return argRef{name: e.name, pos: e.p}, true
	case *indexExpr:
		id, ok := e.x.(*identExpr)
		if !ok || (e.sel == nil && len(e.idx) != 1) {
			return argRef{}, false
		}
		a := argRef{name: id.name, sel: e.sel, pos: e.p}
		if e.sel == nil {
			a.index = e.idx[0]
		}
		return a, true
	}
	return argRef{}, false
}

// callDef expands a call of d with args at pos and returns its value
// (nil when d returns none; an error when value is wanted then).
func (p *parser) callDef(d *subroutine, pos Pos, args []expr, value bool) (*circuit.Expr, error) {
	if err := p.tick(pos); err != nil {
		return nil, err
	}
	if p.st.defDepth >= maxDefDepth {
		return nil, p.errf(pos, "subroutine calls nested more than %d deep (recursion that does not end as the program is read)", maxDefDepth)
	}
	if value && d.ret == nil {
		return nil, p.errf(pos, "subroutine %q returns no value", d.name.text)
	}
	if len(args) != len(d.params) {
		return nil, p.errf(pos, "subroutine %q takes %d arguments, got %d", d.name.text, len(d.params), len(args))
	}
	var binds []func()
	for i, dp := range d.params {
		a := args[i]
		switch {
		case dp.qubit:
			ref, ok := exprRef(a)
			if !ok {
				return nil, p.errf(a.pos(), "argument %d of %q: expected qubits", i+1, d.name.text)
			}
			idx, err := p.resolve([]argRef{ref}, p.st.qregs, "qubit")
			if err != nil {
				return nil, err
			}
			if len(idx[0]) != dp.size {
				return nil, p.errf(a.pos(), "argument %d of %q: %d qubits for qubit[%d] %s", i+1, d.name.text, len(idx[0]), dp.size, dp.name.text)
			}
			name, qs, single := dp.name.text, idx[0], !dp.array
			binds = append(binds, func() {
				p.st.qregs[name] = &register{name: name, size: len(qs), idx: slices.Clone(qs), single: single}
			})
		case dp.arr:
			elems, err := p.arrayView(a)
			if err != nil {
				return nil, p.errf(a.pos(), "argument %d of %q: %v", i+1, d.name.text, err)
			}
			src, dims := p.arrayOf(a)
			if src.typ != dp.typ.class() {
				return nil, p.errf(a.pos(), "argument %d of %q: an array of %s for array[%s, …]", i+1, d.name.text, src.typ, dp.typ.class())
			}
			if dp.dims != nil && !slices.Equal(dp.dims, dims) || len(dims) != dp.ndim {
				return nil, p.errf(a.pos(), "argument %d of %q: an array of dimensions %v for %d dimensions %v", i+1, d.name.text, dims, dp.ndim, dp.dims)
			}
			name, konst := dp.name.text, !dp.mutable
			binds = append(binds, func() {
				p.setVar(&classVar{name: name, typ: src.typ, dims: dims, elems: elems, konst: konst})
			})
		default:
			x, err := p.lower(a)
			if err != nil {
				return nil, err
			}
			t := dp.typ.class()
			if x, err = p.convertFor(a.pos(), x, t, fmt.Sprintf("argument %d of %q", i+1, d.name.text)); err != nil {
				return nil, err
			}
			v := &classVar{name: dp.name.text, typ: t, known: true}
			if isConst(x) {
				v.val = x.Val
			} else {
				// Passed by value: a copy the body may change.
				v.known, v.bits = false, p.temp(t.StorageWidth())
				if err := p.storeBits(a.pos(), v.bits, x); err != nil {
					return nil, err
				}
			}
			binds = append(binds, func() { p.setVar(v) })
		}
	}
	f := p.pushFrame("def")
	f.name = d.name.text
	if d.ret != nil {
		f.result = &classVar{name: "the value of " + d.name.text, typ: *d.ret, known: true, val: zeroOf(*d.ret)}
	}
	p.st.defDepth++
	err := p.scoped(func() error {
		for _, b := range binds {
			b()
		}
		sub := &parser{st: p.st, file: p.file, toks: d.body}
		for sub.peek().kind != tEOF {
			if err := sub.statement(0); err != nil {
				return err
			}
		}
		return nil
	})
	p.st.defDepth--
	if sig, ok := err.(*flowSignal); ok && sig.kind == "return" {
		err = nil
	}
	if perr := p.popFrame(f, pos); err == nil {
		err = perr
	}
	if err != nil || f.result == nil {
		return nil, err
	}
	if !f.result.known {
		p.later(f.result.bits)
	}
	return f.result.read(), nil
}

// arrayOf returns the array variable an array expression names and the
// dimensions of the part it names (a row of a has a's other dimensions).
func (p *parser) arrayOf(e expr) (*classVar, []int) {
	switch e := e.(type) {
	case *identExpr:
		v := p.st.vars[e.name]
		return v, slices.Clone(v.dims)
	case *indexExpr:
		id, _ := e.x.(*identExpr)
		v := p.st.vars[id.name]
		if e.sel != nil {
			elems, _ := p.arrayView(e)
			return v, append([]int{len(elems) / rowSize(v.dims, 1)}, v.dims[1:]...)
		}
		return v, slices.Clone(v.dims[len(e.idx):])
	}
	return nil, nil
}

// returnType reads an optional "-> TYPE" of a subroutine or an extern;
// nil when there is none.
func (p *parser) returnType() (*circuit.ClassType, error) {
	if !p.is("->") {
		return nil, nil
	}
	p.next()
	t, err := p.scalarType()
	if err != nil {
		return nil, err
	}
	c := t.class()
	return &c, nil
}
