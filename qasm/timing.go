package qasm

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/prismai/mec/circuit"
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

// durationTokens reads the tokens of a duration up to stop (";" or the
// "]" that closes a delay's bracket), leaving stop unread.
func (p *parser) durationTokens(what, stop string) ([]token, error) {
	var toks []token
	level := 0
	for {
		t := p.peek()
		switch {
		case t.kind == tEOF:
			return nil, p.errf(t.pos, "%s: end of file before %q", what, stop)
		case t.kind == tPunct && level == 0 && t.text == stop:
			return toks, nil
		case t.kind == tPunct && (t.text == "(" || t.text == "[" || t.text == "{"):
			level++
		case t.kind == tPunct && (t.text == ")" || t.text == "]" || t.text == "}"):
			level--
		}
		toks = append(toks, p.next())
	}
}

// durationValue evaluates a duration in seconds; ok is false when it is
// not known (a stretch, durationof, dt units).
func (p *parser) durationValue(toks []token) (float64, bool) {
	for _, t := range toks {
		if t.kind == tIdent && (t.text == "durationof" || p.st.stretches[t.text]) {
			return 0, false
		}
		if t.kind == tDuration && strings.HasSuffix(t.text, "dt") {
			return 0, false
		}
	}
	sub := &parser{st: p.st, file: p.file, toks: toks}
	e, err := sub.expr(0)
	if err != nil || sub.peek().kind != tEOF {
		return 0, false
	}
	v, err := e.eval(p.constEnv())
	if err != nil {
		return 0, false
	}
	return v, true
}

// durationSeconds reads a duration literal (100ns, 1.5us, 2µs, 3ms, 1s).
func durationSeconds(text string) (float64, error) {
	for _, u := range []struct {
		suffix string
		scale  float64
	}{{"ns", 1e-9}, {"us", 1e-6}, {"µs", 1e-6}, {"ms", 1e-3}, {"s", 1}} {
		if strings.HasSuffix(text, u.suffix) {
			v, err := strconv.ParseFloat(strings.TrimSuffix(text, u.suffix), 64)
			if err != nil {
				return 0, err
			}
			return v * u.scale, nil
		}
	}
	return 0, fmt.Errorf("duration %s: only ns, us, µs, ms and s have a length in seconds (dt is the device's)", text)
}

// timingStmt handles delay, box, stretch and duration statements.
// Durations known as the program is read are numbers of seconds; delays
// of known length become circuit.KindDelay ops (an identity on the state,
// idle decay under a noise model with T1/T2); others are dropped.
func (p *parser) timingStmt(depth int) error {
	kw := p.next()
	switch kw.text {
	case "stretch":
		name, err := p.ident("a stretch name")
		if err != nil {
			return err
		}
		if p.st.stretches == nil {
			p.st.stretches = map[string]bool{}
		}
		p.st.stretches[name.text] = true
		p.notice(kw.pos, "stretch %s: its length is not known to a simulator (delays that use it are dropped)", name.text)
		_, err = p.expect(";")
		return err
	case "duration":
		name, err := p.ident("a duration name")
		if err != nil {
			return err
		}
		if p.is(";") {
			p.next()
			p.setConst(name.text, 0)
			return nil
		}
		if _, err := p.expect("="); err != nil {
			return err
		}
		toks, err := p.durationTokens("duration "+name.text, ";")
		if err != nil {
			return err
		}
		p.next()
		if v, ok := p.durationValue(toks); ok {
			p.setConst(name.text, v)
			return nil
		}
		if p.st.stretches == nil {
			p.st.stretches = map[string]bool{}
		}
		p.st.stretches[name.text] = true
		p.notice(kw.pos, "duration %s is not known to a simulator (it uses a stretch, durationof or dt)", name.text)
		return nil
	case "delay":
		if !p.is("[") {
			return p.errf(p.peek().pos, "delay needs a duration: delay[100ns] q;")
		}
		open := p.next()
		toks, err := p.durationTokens("delay", "]")
		if err != nil {
			return err
		}
		p.next()
		qs, err := p.spanQubits()
		if err != nil {
			return err
		}
		v, ok := p.durationValue(toks)
		if !ok {
			p.notice(kw.pos, "delay of a length not known to a simulator dropped")
			return nil
		}
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return p.errf(open.pos, "delay of %v s: a duration is finite and not negative", v)
		}
		if v == 0 || len(qs) == 0 {
			return nil
		}
		return p.emit(kw.pos, circuit.Op{Kind: circuit.KindDelay, Qubits: qs, Params: []float64{v}})
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
