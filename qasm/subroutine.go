package qasm

import (
	"slices"
	"strconv"
)

// Subroutines (def) are expanded where they are called, like gate
// definitions, but their bodies may hold any statement a program may
// (measurements, resets, ifs, loops), and their arguments are qubits
// (qubit, qubit[n]) and classical values of the scalar types. A call binds
// each qubit argument as an alias and each classical one as a constant,
// and reads the body with them; nothing else of the caller is hidden.
// Return values need classical variables and are rejected.

// subroutine is a def: its parameters and its body's tokens.
type subroutine struct {
	name   token
	params []defParam
	body   []token
}

// binding is a subroutine argument bound to its parameter.
type binding struct {
	name   string
	qubits []int
	single bool
	value  float64
}

// defParam is one parameter: a qubit (size qubits, 1 for qubit) or a
// classical value of typ.
type defParam struct {
	name  token
	qubit bool
	array bool // qubit[n] (indexable), not qubit
	size  int
	typ   scalarType
}

// maxDefDepth bounds nested subroutine calls (recursion never ends: calls
// are expanded as the program is read).
const maxDefDepth = 64

// defStmt handles def name(params) { body }.
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
		var dp defParam
		if t := p.peek(); t.kind == tIdent && t.text == "qubit" {
			p.next()
			dp.qubit, dp.size = true, 1
			if p.is("[") {
				p.next()
				n, npos, err := p.intExpr("a qubit array size")
				if err != nil {
					return err
				}
				if n < 1 || n > MaxQubits {
					return p.errf(npos, "qubit[%d]: sizes are 1 to %d", n, MaxQubits)
				}
				dp.size, dp.array = n, true
				if _, err := p.expect("]"); err != nil {
					return err
				}
			}
		} else if dp.typ, err = p.scalarType(); err != nil {
			return err
		}
		if dp.name, err = p.ident("a parameter name"); err != nil {
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
	if p.is("->") {
		return p.errf(p.peek().pos, "subroutine %q: return values are not supported (they need classical variables)", name.text)
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

// defCall handles name(args); for a subroutine: it reads the body with
// the arguments bound.
func (p *parser) defCall(d *subroutine, depth int) error {
	call := p.next()
	if err := p.tick(call.pos); err != nil {
		return err
	}
	if p.st.defDepth >= maxDefDepth {
		return p.errf(call.pos, "subroutine calls nested more than %d deep (recursion does not end: calls are expanded as they are read)", maxDefDepth)
	}
	// name(args); — or name a, b; with qubit arguments only, as a gate
	// is called.
	paren := p.is("(")
	if paren {
		p.next()
	}
	var binds []binding
	end := ")"
	if !paren {
		end = ";"
	}
	for i := 0; !p.is(end); i++ {
		if i >= len(d.params) {
			return p.errf(p.peek().pos, "subroutine %q takes %d arguments", d.name.text, len(d.params))
		}
		dp := d.params[i]
		if !paren && !dp.qubit {
			return p.errf(p.peek().pos, "subroutine %q has classical parameters: call it as %s(…);", d.name.text, d.name.text)
		}
		if dp.qubit {
			a, err := p.argRef()
			if err != nil {
				return err
			}
			idx, err := p.resolve([]argRef{a}, p.st.qregs, "qubit")
			if err != nil {
				return err
			}
			if len(idx[0]) != dp.size {
				return p.errf(a.pos, "argument %d of %q: %d qubits for qubit[%d] %s", i+1, d.name.text, len(idx[0]), dp.size, dp.name.text)
			}
			binds = append(binds, binding{name: dp.name.text, qubits: idx[0], single: !dp.array})
		} else {
			e, err := p.expr(0)
			if err != nil {
				return err
			}
			v, err := e.eval(p.constEnv())
			if err != nil {
				return p.wrap(err)
			}
			if v, err = dp.typ.convert(v); err != nil {
				return p.errf(e.pos(), "argument %d of %q (%s %s): %v", i+1, d.name.text, dp.typ, dp.name.text, err)
			}
			binds = append(binds, binding{name: dp.name.text, value: v})
		}
		if !p.is(",") {
			break
		}
		p.next()
	}
	if paren {
		if _, err := p.expect(")"); err != nil {
			return err
		}
	}
	if _, err := p.expect(";"); err != nil {
		return err
	}
	if len(binds) != len(d.params) {
		return p.errf(call.pos, "subroutine %q takes %d arguments, got %d", d.name.text, len(d.params), len(binds))
	}
	// Bind, in a scope of its own: qubit arguments as aliases, classical
	// ones as constants.
	p.st.defDepth++
	defer func() { p.st.defDepth-- }()
	return p.scoped(func() error { return p.defBody(d, depth, binds) })
}

// defBody binds a subroutine's arguments and reads its body.
func (p *parser) defBody(d *subroutine, depth int, binds []binding) error {
	for _, b := range binds {
		if b.qubits != nil {
			p.st.qregs[b.name] = &register{name: b.name, size: len(b.qubits), idx: slices.Clone(b.qubits), single: b.single}
			if _, ok := p.st.consts[b.name]; ok {
				p.unsetConst(b.name, 0, false)
			}
			continue
		}
		p.setConst(b.name, b.value)
	}
	sub := &parser{st: p.st, file: p.file, toks: d.body}
	for sub.peek().kind != tEOF {
		if err := sub.statement(depth); err != nil {
			return err
		}
	}
	return nil
}
