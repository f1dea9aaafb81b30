package qasm

import (
	"fmt"
)

// Timing and pulse-level constructs in a gate-level simulator. Delays,
// boxes, stretches and durations have no effect on the state: a delay's
// qubits are checked and the delay is dropped, a box's statements run as
// if unboxed, and duration and stretch declarations (whose values only
// delays and boxes use) are read and set aside. Calibration blocks
// (defcalgrammar, defcal, cal) describe pulses for hardware: they are
// skipped, and a gate that has a calibration but no definition is an error
// where it is used. Each is reported through Options.Notice.

// notice reports a construct read and set aside.
func (p *parser) notice(pos Pos, format string, a ...any) {
	if p.st.opts.Notice != nil {
		p.st.opts.Notice(fmt.Sprintf("%s:%s: %s", p.fileName(), pos, fmt.Sprintf(format, a...)))
	}
}

// skipBalanced skips tokens up to and including the first stop at depth 0
// of (), [] and {}; it returns an error at the end of the source.
func (p *parser) skipBalanced(what string, stop string) error {
	depth := 0
	for {
		t := p.next()
		switch {
		case t.kind == tEOF:
			return p.errf(t.pos, "%s: end of file before %q", what, stop)
		case t.kind == tPunct && (t.text == "(" || t.text == "[" || t.text == "{"):
			depth++
			if depth == 1 && t.text == stop {
				continue
			}
		case t.kind == tPunct && (t.text == ")" || t.text == "]" || t.text == "}"):
			depth--
			if depth < 0 {
				return p.errf(t.pos, "%s: unbalanced %q", what, t.text)
			}
		}
		if depth == 0 && t.kind == tPunct && t.text == stop {
			return nil
		}
	}
}

// skipBlock skips a { … } block (the next token must open it).
func (p *parser) skipBlock(what string) error {
	t := p.peek()
	if !p.is("{") {
		return p.errf(t.pos, "%s: expected {, found %s", what, t.describe())
	}
	p.next()
	depth := 1
	for depth > 0 {
		t := p.next()
		switch {
		case t.kind == tEOF:
			return p.errf(t.pos, "%s: unclosed {", what)
		case t.kind == tPunct && t.text == "{":
			depth++
		case t.kind == tPunct && t.text == "}":
			depth--
		}
	}
	return nil
}

// timingStmt handles delay, box, stretch and duration statements.
func (p *parser) timingStmt(depth int) error {
	kw := p.next()
	switch kw.text {
	case "stretch":
		name, err := p.ident("a stretch name")
		if err != nil {
			return err
		}
		p.notice(kw.pos, "stretch %s ignored (timing has no effect on the simulated state)", name.text)
		_, err = p.expect(";")
		return err
	case "duration":
		name, err := p.ident("a duration name")
		if err != nil {
			return err
		}
		p.notice(kw.pos, "duration %s ignored (timing has no effect on the simulated state)", name.text)
		if p.is(";") {
			p.next()
			return nil
		}
		if _, err := p.expect("="); err != nil {
			return err
		}
		return p.skipBalanced("duration "+name.text, ";")
	case "delay":
		if !p.is("[") {
			return p.errf(p.peek().pos, "delay needs a duration: delay[100ns] q;")
		}
		if err := p.skipBalanced("delay", "]"); err != nil {
			return err
		}
		args, err := p.argList(";")
		if err != nil {
			return err
		}
		if _, err := p.expect(";"); err != nil {
			return err
		}
		if _, err := p.resolve(args, p.st.qregs, "qubit"); err != nil {
			return err
		}
		p.notice(kw.pos, "delay ignored (an identity on the simulated state)")
		return nil
	case "box":
		if p.is("[") {
			if err := p.skipBalanced("box", "]"); err != nil {
				return err
			}
		}
		open, err := p.expect("{")
		if err != nil {
			return err
		}
		p.notice(kw.pos, "box: its statements run as if unboxed")
		return p.scoped(func() error {
			for !p.is("}") {
				if p.peek().kind == tEOF {
					return p.errf(open.pos, "unclosed { of a box")
				}
				if err := p.statement(depth); err != nil {
					return err
				}
			}
			p.next()
			return nil
		})
	}
	return p.errf(kw.pos, "timing statement %q", kw.text)
}

// calibrationStmt skips defcalgrammar, defcal and cal, recording the
// gates that defcal calibrates.
func (p *parser) calibrationStmt() error {
	kw := p.next()
	switch kw.text {
	case "defcalgrammar":
		g := p.next()
		if g.kind != tString {
			return p.errf(g.pos, "defcalgrammar needs a grammar name string, found %s", g.describe())
		}
		p.notice(kw.pos, "defcalgrammar %q ignored (pulse-level calibrations are not simulated)", g.text)
		_, err := p.expect(";")
		return err
	case "cal":
		p.notice(kw.pos, "cal block skipped (pulse-level calibrations are not simulated)")
		return p.skipBlock("cal")
	case "defcal":
		name := p.next()
		if name.kind != tIdent {
			return p.errf(name.pos, "defcal needs a gate name, found %s", name.describe())
		}
		if p.st.calibrated == nil {
			p.st.calibrated = map[string]bool{}
		}
		p.st.calibrated[name.text] = true
		p.notice(kw.pos, "defcal %s skipped (pulse-level calibrations are not simulated)", name.text)
		// Everything up to the body: parameters, qubits, -> return type.
		for !p.is("{") {
			if t := p.peek(); t.kind == tEOF || t.kind == tPunct && t.text == ";" {
				return p.errf(t.pos, "defcal %s needs a { body }", name.text)
			}
			if p.is("(") {
				if err := p.skipBalanced("defcal "+name.text, ")"); err != nil {
					return err
				}
				continue
			}
			p.next()
		}
		return p.skipBlock("defcal " + name.text)
	}
	return p.errf(kw.pos, "calibration statement %q", kw.text)
}
