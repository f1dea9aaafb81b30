package qasm

import (
	"fmt"
	"math"
	"slices"
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

// scalarType parses a type: int, uint[32], float[64], angle[20], bit, bool.
func (p *parser) scalarType() (scalarType, error) {
	t := p.next()
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
		if w < 1 || w > 64 || st.kind == "bool" || st.kind == "bit" {
			return st, p.errf(wpos, "type %s[%d]: widths are 1 to 64, and bit and bool take none here", st.kind, w)
		}
		st.width = w
		if _, err := p.expect("]"); err != nil {
			return st, err
		}
	}
	return st, nil
}

// convert checks v against the type and returns the value it stores: an
// integer in range for int and uint, 0 or 1 for bit and bool, an angle
// reduced modulo 2π (rounded to the width's 2π/2^w steps when a width is
// given).
func (t scalarType) convert(v float64) (float64, error) {
	switch t.kind {
	case "int", "uint":
		if v != math.Trunc(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("%s needs an integer, got %v", t.kind, v)
		}
		lo, hi := -math.Ldexp(1, 63), math.Ldexp(1, 63)
		if t.width > 0 {
			lo, hi = -math.Ldexp(1, t.width-1), math.Ldexp(1, t.width-1)
		}
		if t.kind == "uint" {
			lo, hi = 0, 2*hi
		}
		if v < lo || v >= hi {
			return 0, fmt.Errorf("%v does not fit %s", v, t)
		}
	case "bit", "bool":
		if v != 0 && v != 1 {
			return 0, fmt.Errorf("%s needs 0 or 1, got %v", t.kind, v)
		}
	case "angle":
		v = math.Mod(v, 2*math.Pi)
		if v < 0 {
			v += 2 * math.Pi
		}
		if t.width > 0 {
			steps := math.Ldexp(1, t.width)
			v = math.Mod(math.Round(v/(2*math.Pi)*steps), steps) * 2 * math.Pi / steps
		}
	}
	return v, nil
}

func (t scalarType) String() string {
	if t.width == 0 {
		return t.kind
	}
	return fmt.Sprintf("%s[%d]", t.kind, t.width)
}

// constDecl handles const TYPE name = expr; and input TYPE name; (the
// value of an input comes from Options.Params).
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
	var v float64
	if kw.text == "input" {
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
		v = val
	} else {
		if _, err := p.expect("="); err != nil {
			return err
		}
		e, err := p.expr(0)
		if err != nil {
			return err
		}
		if _, err := p.expect(";"); err != nil {
			return err
		}
		if v, err = e.eval(p.constEnv()); err != nil {
			return p.wrap(err)
		}
	}
	cv, err := typ.convert(v)
	if err != nil {
		return p.errf(name.pos, "%s %q: %v", kw.text, name.text, err)
	}
	p.setConst(name.text, cv)
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

// forLoop handles for [TYPE] name in [a:b] / [a:s:b] / {v, …} body: the
// body (a { block } or one statement ending in ;) is read once per value
// with name bound to it, so its statements may use it in parameters,
// indices and ranges. Both ends of a range are included.
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
	var values []float64
	switch {
	case p.is("{"):
		set, err := p.exprSet()
		if err != nil {
			return err
		}
		for _, e := range set {
			v, err := e.eval(p.constEnv())
			if err != nil {
				return p.wrap(err)
			}
			values = append(values, v)
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
			values = append(values, float64(k))
		}
	default:
		t := p.peek()
		return p.errf(t.pos, "for loops run over a range [a:b] or a set {…} of known values, found %s", t.describe())
	}
	body, err := p.captureBody("a for loop")
	if err != nil {
		return err
	}
	old, had := p.st.consts[name.text]
	defer p.unsetConst(name.text, old, had)
	for _, v := range values {
		if err := p.tick(kw.pos); err != nil {
			return err
		}
		cv, err := typ.convert(v)
		if err != nil {
			return p.errf(name.pos, "loop variable %q: %v", name.text, err)
		}
		p.setConst(name.text, cv)
		sub := &parser{st: p.st, file: p.file, toks: body}
		if err := p.scoped(func() error {
			for sub.peek().kind != tEOF {
				if err := sub.statement(depth); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
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
