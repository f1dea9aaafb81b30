package qasm

import (
	"fmt"
	"slices"

	"github.com/prismai/mec/circuit"
)

// Classical statements that are settled while the program is read: typed
// constants and inputs, aliases and for loops over known values. Their
// values are numbers in the expression environment (constEnv), so any
// later expression (a gate parameter, an index, a range) may use them.

// scalarType is a classical type of const, input and for declarations.
type scalarType struct {
	kind  string // int, uint, float, angle, bit, bool
	width int    // 0: none given
}

// typeKinds are the scalar types mec reads in declarations.
var typeKinds = []string{"int", "uint", "float", "angle", "bit", "bool"}

// scalarType parses a type: int, uint[32], float[64], angle[20], bit,
// bit[4], bool.
func (p *parser) scalarType() (scalarType, error) { return p.scalarTypeAfter(p.next()) }

// scalarTypeAfter parses a type whose keyword t has been read.
func (p *parser) scalarTypeAfter(t token) (scalarType, error) {
	if t.kind == tIdent && t.text == "creg" && p.is("[") {
		t.text = "bit" // creg[n], an early spelling of bit[n]
	}
	if t.kind != tIdent || !slices.Contains(typeKinds, t.text) {
		return scalarType{}, p.errf(t.pos, "expected a type (%v), found %s", typeKinds, t.describe())
	}
	st := scalarType{kind: t.text}
	if p.is("[") {
		p.next()
		w, wpos, err := p.intExpr("a type width")
		if err != nil {
			return st, err
		}
		if w < 1 || w > 64 || st.kind == "bool" {
			return st, p.errf(wpos, "type %s[%d]: widths are 1 to 64, and bool takes none", st.kind, w)
		}
		st.width = w
		if _, err := p.expect("]"); err != nil {
			return st, err
		}
	}
	return st, nil
}

// class returns the type mec computes and stores values of t in: int and
// uint without a width are 64 bits, float is float[32] when declared so
// and float[64] otherwise (float[16] computes in float64), angle without a
// width is angle[64].
func (t scalarType) class() circuit.ClassType {
	w := t.width
	switch t.kind {
	case "bool":
		return circuit.Bool
	case "bit":
		return circuit.ClassType{Kind: circuit.ClassBit, Width: max(w, 1)}
	case "float":
		if w == 32 {
			return circuit.ClassType{Kind: circuit.ClassFloat, Width: 32}
		}
		return circuit.Float64
	}
	if w == 0 {
		w = 64
	}
	k := map[string]circuit.ClassKind{"int": circuit.ClassInt, "uint": circuit.ClassUint, "angle": circuit.ClassAngle}[t.kind]
	return circuit.ClassType{Kind: k, Width: w}
}

func (t scalarType) String() string {
	if t.width == 0 {
		return t.kind
	}
	return fmt.Sprintf("%s[%d]", t.kind, t.width)
}

// constDecl handles input TYPE name; (the value comes from
// Options.Params): a constant of the program.
func (p *parser) constDecl() error {
	kw := p.next()
	typ, err := p.scalarType()
	if err != nil {
		return err
	}
	name, err := p.ident("a name")
	if err != nil {
		return err
	}
	if err := p.checkNewName(name); err != nil {
		return err
	}
	if _, err := p.expect(";"); err != nil {
		return err
	}
	val, ok := p.st.opts.Params[name.text]
	if !ok && !p.st.opts.listInputs {
		return p.errf(name.pos, "input %q needs a value (mec circuit run --param %s=VALUE)", name.text, name.text)
	}
	if p.st.inputs == nil {
		p.st.inputs = map[string]bool{}
	}
	p.st.inputs[name.text] = true
	p.st.inputOrder = append(p.st.inputOrder, name.text)
	x, err := p.convertFor(name.pos, constExpr(circuit.RealValue(val)), typ.class(), fmt.Sprintf("%s %q", kw.text, name.text))
	if err != nil {
		return err
	}
	p.setVar(&classVar{name: name.text, typ: x.Type, konst: true, known: true, val: x.Val})
	return nil
}

// letDecl handles let name = ref (++ ref)*; an alias of qubits or bits
// (whole registers, indices, slices or index sets, concatenated).
func (p *parser) letDecl() error {
	p.next()
	name, err := p.ident("a name")
	if err != nil {
		return err
	}
	if err := p.checkNewName(name); err != nil {
		return err
	}
	if _, err := p.expect("="); err != nil {
		return err
	}
	var refs []argRef
	for {
		a, err := p.argRef()
		if err != nil {
			return err
		}
		refs = append(refs, a)
		if !p.is("++") {
			break
		}
		p.next()
	}
	if _, err := p.expect(";"); err != nil {
		return err
	}
	regs, kind := p.st.qregs, "qubit"
	if p.st.qregs[refs[0].name] == nil && p.st.cregs[refs[0].name] != nil {
		regs, kind = p.st.cregs, "bit"
	}
	idx, err := p.resolve(refs, regs, kind)
	if err != nil {
		return err
	}
	var all []int
	for _, l := range idx {
		for _, k := range l {
			if slices.Contains(all, k) {
				return p.errf(name.pos, "alias %q names %s %d twice", name.text, kind, k)
			}
			all = append(all, k)
		}
	}
	regs[name.text] = &register{name: name.text, size: len(all), idx: all}
	return nil
}

// forLoop handles for [TYPE] name in [a:b] / [a:s:b] / {v, …} / array
// body: the body (a { block } or one statement ending in ;) is read once
// per value with name bound to it (a variable of TYPE, int by default),
// so its statements may use it in parameters, indices and ranges. Both
// ends of a range are included.
func (p *parser) forLoop(depth int) error {
	kw := p.next()
	typ := scalarType{kind: "int"}
	if t := p.peek(); t.kind == tIdent && slices.Contains(typeKinds, t.text) {
		var err error
		if typ, err = p.scalarType(); err != nil {
			return err
		}
	}
	name, err := p.ident("a loop variable")
	if err != nil {
		return err
	}
	if in := p.next(); in.kind != tIdent || in.text != "in" {
		return p.errf(in.pos, "expected in after the loop variable, found %s", in.describe())
	}
	var values []*circuit.Expr
	switch t := p.peek(); {
	case p.is("{"):
		set, err := p.exprSet()
		if err != nil {
			return err
		}
		for _, e := range set {
			x, err := p.lower(e)
			if err != nil {
				return err
			}
			values = append(values, x)
		}
	case p.is("["):
		open := p.next()
		var lo expr
		if !p.is(":") {
			if lo, err = p.expr(0); err != nil {
				return err
			}
		}
		sel, err := p.rangeRest(lo, "]")
		if err != nil {
			return err
		}
		if _, err := p.expect("]"); err != nil {
			return err
		}
		ks, err := p.rangeValues(sel, -1, open.pos)
		if err != nil {
			return err
		}
		for _, k := range ks {
			values = append(values, constExpr(circuit.RealValue(float64(k))))
		}
	case t.kind == tIdent && p.st.vars[t.text] != nil && p.st.vars[t.text].dims != nil:
		e, err := p.postfix(0)
		if err != nil {
			return err
		}
		elems, err := p.arrayView(e)
		if err != nil {
			return err
		}
		v := p.st.vars[t.text]
		if len(v.dims) > 1 {
			if ix, ok := e.(*indexExpr); !ok || len(ix.idx) != len(v.dims)-1 {
				return p.errf(t.pos, "a for loop runs over a one-dimensional array (or one row of %q)", t.text)
			}
		}
		for _, el := range elems {
			values = append(values, el.read())
		}
	default:
		return p.errf(t.pos, "for loops run over a range [a:b], a set {…} or an array, found %s", t.describe())
	}
	body, err := p.captureBody("a for loop")
	if err != nil {
		return err
	}
	ct := typ.class()
	loop := p.pushFrame("loop")
	err = func() error {
		for _, x := range values {
			if err := p.tick(kw.pos); err != nil {
				return err
			}
			x, err := p.convertFor(name.pos, x, ct, fmt.Sprintf("loop variable %q", name.text))
			if err != nil {
				return err
			}
			v := &classVar{name: name.text, typ: ct, known: true}
			if isConst(x) {
				v.val = x.Val
			} else {
				v.known, v.bits = false, p.temp(ct.StorageWidth())
				if err := p.storeBits(name.pos, v.bits, x); err != nil {
					return err
				}
			}
			broke, err := p.iteration(body, depth, func() { p.setVar(v) })
			if err != nil || broke {
				return err
			}
		}
		return nil
	}()
	if perr := p.popFrame(loop, kw.pos); err == nil {
		err = perr
	}
	return err
}

// captureBody reads the tokens of a body (of what: "a for loop", …)
// without running them: a { block } (its inside) or one statement up to
// its ;.
func (p *parser) captureBody(what string) ([]token, error) {
	var body []token
	if p.is("{") {
		open := p.next()
		level := 1
		for {
			t := p.next()
			switch {
			case t.kind == tEOF:
				return nil, p.errf(open.pos, "unclosed { of %s", what)
			case t.kind == tPunct && t.text == "{":
				level++
			case t.kind == tPunct && t.text == "}":
				level--
			}
			if level == 0 {
				return body, nil
			}
			body = append(body, t)
		}
	}
	for {
		t := p.next()
		switch {
		case t.kind == tEOF:
			return nil, p.errf(t.pos, "the statement of %s needs a closing ;", what)
		case t.kind == tPunct && (t.text == "{" || t.text == "}"):
			return nil, p.errf(t.pos, "a body of %s with blocks needs braces: { … }", what)
		}
		body = append(body, t)
		if t.kind == tPunct && t.text == ";" {
			return body, nil
		}
	}
}
