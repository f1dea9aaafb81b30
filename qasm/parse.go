// Package qasm reads and writes OpenQASM.
//
// Import covers the gate-level subset of OpenQASM 3 — includes, qubit/bit
// (and qreg/creg) declarations, the stdgates.inc library plus the builtins U
// and gphase, the ctrl @, negctrl @, inv @ and pow(r) @ modifiers, user gate
// definitions, parameter expressions with pi/τ/euler and the usual
// functions, measure, reset and barrier — and OpenQASM 2.0 with qelib1.inc.
// Everything is elaborated into a flat circuit.Circuit: user gates are
// expanded, registers are laid out in declaration order (the first declared
// register holds qubits 0..n-1) and OpenQASM 2 gates get their qelib1.inc
// meaning. Errors carry line and column. Classical control flow and timing
// are outside the subset and are rejected with a clear error.
//
// Export writes OpenQASM 3 (every circuit) and OpenQASM 2.0 (decomposing
// modifiers, extra controls and dense unitaries into qelib1.inc gates; global
// phase, which OpenQASM 2 cannot express, is dropped).
package qasm

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/prismai/mec/circuit"
)

// Limits that keep hostile input from exhausting memory or stack.
const (
	MaxQubits       = 64       // qubits in all registers together
	MaxClbits       = 1 << 20  // classical bits in all registers together
	MaxOps          = 10000000 // operations after expanding user gates
	maxExprDepth    = 200
	maxIncludeDepth = 16
)

// Options control parsing.
type Options struct {
	// File names the source in error messages.
	File string
	// ReadFile resolves include "name"; nil rejects every include other
	// than stdgates.inc and qelib1.inc.
	ReadFile func(name string) ([]byte, error)
}

// Parse reads an OpenQASM 2 or 3 program from src. Includes other than the
// standard libraries are rejected; use ParseFile or ParseWith to resolve them.
func Parse(src string) (*circuit.Circuit, error) { return ParseWith(src, Options{}) }

// ParseFile reads an OpenQASM program from a file, resolving includes
// relative to the file's directory.
func ParseFile(path string) (*circuit.Circuit, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("qasm: %w", err)
	}
	dir := filepath.Dir(path)
	return ParseWith(string(b), Options{File: path, ReadFile: func(name string) ([]byte, error) {
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		return os.ReadFile(name)
	}})
}

// ParseWith reads an OpenQASM program with options.
func ParseWith(src string, opts Options) (*circuit.Circuit, error) {
	st := &state{
		opts:    opts,
		version: 3,
		qregs:   map[string]*register{},
		cregs:   map[string]*register{},
		gates:   map[string]*gateDef{},
		c:       &circuit.Circuit{},
	}
	if err := st.parseSource(src, opts.File, 0); err != nil {
		return nil, err
	}
	if err := st.c.Validate(); err != nil {
		return nil, fmt.Errorf("qasm: %w", err)
	}
	return st.c, nil
}

type register struct {
	name   string
	start  int
	size   int
	single bool // declared without a size (qubit q; bit c;)
}

type gateDef struct {
	name   string
	pos    Pos
	params []string
	qargs  []string
	body   []*callStmt
}

type modifier struct {
	kind string // ctrl, negctrl, inv, pow
	arg  expr   // control count or exponent; nil for default
	pos  Pos
}

type argRef struct {
	name  string
	index expr // nil: the whole register
	pos   Pos
}

type callStmt struct {
	pos    Pos
	mods   []modifier
	name   string
	params []expr
	args   []argRef
}

type state struct {
	opts     Options
	version  int // 2 or 3
	sawStmt  bool
	stdlib   bool // stdgates.inc or qelib1.inc included
	qregs    map[string]*register
	cregs    map[string]*register
	qorder   []*register
	gates    map[string]*gateDef
	c        *circuit.Circuit
	included int
}

// parser walks the tokens of one source file.
type parser struct {
	st   *state
	file string
	toks []token
	i    int
}

func (st *state) parseSource(src, file string, depth int) error {
	lx := newLexer(src, file)
	var toks []token
	for {
		t, err := lx.next()
		if err != nil {
			return err
		}
		toks = append(toks, t)
		if t.kind == tEOF {
			break
		}
	}
	p := &parser{st: st, file: file, toks: toks}
	for p.peek().kind != tEOF {
		if err := p.statement(depth); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errf(pos Pos, format string, a ...any) error {
	return &Error{File: p.file, Pos: pos, Msg: fmt.Sprintf(format, a...)}
}

// wrap gives position errors raised without a file name this parser's file.
func (p *parser) wrap(err error) error {
	var e *Error
	if errors.As(err, &e) && e.File == "" {
		e.File = p.file
	}
	return err
}

func (p *parser) is(text string) bool {
	t := p.peek()
	return (t.kind == tPunct || t.kind == tIdent) && t.text == text
}

func (p *parser) expect(text string) (token, error) {
	t := p.next()
	if (t.kind != tPunct && t.kind != tIdent) || t.text != text {
		return t, p.errf(t.pos, "expected %q, found %s", text, t.describe())
	}
	return t, nil
}

func (p *parser) ident(what string) (token, error) {
	t := p.next()
	if t.kind != tIdent {
		return t, p.errf(t.pos, "expected %s, found %s", what, t.describe())
	}
	return t, nil
}

// unsupported are OpenQASM 3 keywords outside the gate-level subset.
var unsupported = map[string]string{
	"if": "classical control flow", "else": "classical control flow", "for": "classical control flow",
	"while": "classical control flow", "switch": "classical control flow", "break": "classical control flow",
	"continue": "classical control flow", "end": "classical control flow", "return": "subroutines",
	"def": "subroutines", "extern": "subroutines", "defcal": "pulse-level calibration", "cal": "pulse-level calibration",
	"defcalgrammar": "pulse-level calibration", "opaque": "opaque gates", "input": "program inputs",
	"output": "program outputs", "const": "classical declarations", "int": "classical declarations",
	"uint": "classical declarations", "float": "classical declarations", "angle": "classical declarations",
	"bool": "classical declarations", "complex": "classical declarations", "duration": "timing",
	"stretch": "timing", "delay": "timing", "box": "timing", "durationof": "timing", "let": "aliases",
	"array": "classical declarations", "pragma": "pragmas",
}

func (p *parser) statement(depth int) error {
	t := p.peek()
	first := !p.st.sawStmt
	p.st.sawStmt = true
	if t.kind != tIdent {
		if t.kind == tPunct && t.text == ";" {
			p.next()
			return nil
		}
		return p.errf(t.pos, "expected a statement, found %s", t.describe())
	}
	switch t.text {
	case "OPENQASM":
		if !first || depth > 0 {
			return p.errf(t.pos, "OPENQASM version must be the first statement")
		}
		p.next()
		v := p.next()
		if v.kind != tInt && v.kind != tFloat {
			return p.errf(v.pos, "expected a version number, found %s", v.describe())
		}
		switch {
		case v.text == "2" || strings.HasPrefix(v.text, "2."):
			p.st.version = 2
		case v.text == "3" || strings.HasPrefix(v.text, "3."):
			p.st.version = 3
		default:
			return p.errf(v.pos, "unsupported OpenQASM version %s (mec reads 2.x and 3.x)", v.text)
		}
		_, err := p.expect(";")
		return err
	case "include":
		return p.include(depth)
	case "qubit", "bit":
		return p.declare3()
	case "qreg", "creg":
		return p.declare2()
	case "gate":
		return p.gateDef()
	case "measure":
		return p.measureArrow()
	case "reset":
		return p.reset()
	case "barrier":
		return p.barrier()
	}
	if what, ok := unsupported[t.text]; ok {
		return p.errf(t.pos, "%q: %s is not supported (mec imports the gate-level subset of OpenQASM)", t.text, what)
	}
	if n := p.peekAt(1); n.kind == tPunct && (n.text == "=" || n.text == "[") {
		return p.measureAssign()
	}
	call, err := p.call(false, nil, nil)
	if err != nil {
		return err
	}
	return p.execCall(call)
}

func (p *parser) include(depth int) error {
	t := p.next()
	name := p.next()
	if name.kind != tString {
		return p.errf(name.pos, "expected a file name string after include, found %s", name.describe())
	}
	if _, err := p.expect(";"); err != nil {
		return err
	}
	switch name.text {
	case "stdgates.inc":
		if p.st.version == 2 {
			return p.errf(name.pos, "stdgates.inc is the OpenQASM 3 library; OpenQASM 2 programs include qelib1.inc")
		}
		p.st.stdlib = true
		return nil
	case "qelib1.inc":
		if p.st.version == 3 {
			return p.errf(name.pos, "qelib1.inc is the OpenQASM 2 library; declare OPENQASM 2.0 or include stdgates.inc")
		}
		p.st.stdlib = true
		return nil
	}
	if p.st.opts.ReadFile == nil {
		return p.errf(name.pos, "cannot include %q: no include resolver (parse a file instead of a string)", name.text)
	}
	if depth+1 > maxIncludeDepth {
		return p.errf(t.pos, "includes nested deeper than %d", maxIncludeDepth)
	}
	b, err := p.st.opts.ReadFile(name.text)
	if err != nil {
		return p.errf(name.pos, "include %q: %v", name.text, err)
	}
	file := name.text
	if p.file != "" && !filepath.IsAbs(file) {
		file = filepath.Join(filepath.Dir(p.file), file)
	}
	return p.st.parseSource(string(b), file, depth+1)
}

func (p *parser) constEnv() map[string]float64 {
	if p.st.version == 2 {
		return constants2
	}
	return constants3
}

// intExpr parses and evaluates a constant integer expression.
func (p *parser) intExpr(what string) (int, Pos, error) {
	e, err := p.expr(0)
	if err != nil {
		return 0, Pos{}, err
	}
	v, err := e.eval(p.constEnv())
	if err != nil {
		return 0, e.pos(), p.wrap(err)
	}
	if v != math.Trunc(v) || math.Abs(v) > 1<<40 {
		return 0, e.pos(), p.errf(e.pos(), "%s must be an integer, got %v", what, v)
	}
	return int(v), e.pos(), nil
}

func (p *parser) addRegister(quantum bool, name token, size int, single bool, sizePos Pos) error {
	if p.st.qregs[name.text] != nil || p.st.cregs[name.text] != nil || p.st.gates[name.text] != nil {
		return p.errf(name.pos, "%q is already declared", name.text)
	}
	if _, ok := p.lookupStd(name.text); ok {
		return p.errf(name.pos, "%q is a gate name", name.text)
	}
	if size <= 0 {
		return p.errf(sizePos, "register %q must have a positive size, got %d", name.text, size)
	}
	if quantum {
		if p.st.c.Qubits+size > MaxQubits {
			return p.errf(sizePos, "register %q brings the circuit to %d qubits: at most %d", name.text, p.st.c.Qubits+size, MaxQubits)
		}
		r := &register{name: name.text, start: p.st.c.Qubits, size: size, single: single}
		p.st.qregs[name.text] = r
		p.st.qorder = append(p.st.qorder, r)
		p.st.c.Qubits += size
		return nil
	}
	if p.st.c.Clbits+size > MaxClbits {
		return p.errf(sizePos, "register %q brings the circuit to %d bits: at most %d", name.text, p.st.c.Clbits+size, MaxClbits)
	}
	p.st.cregs[name.text] = &register{name: name.text, start: p.st.c.Clbits, size: size, single: single}
	p.st.c.Clbits += size
	return nil
}

// declare3 handles qubit[n] q; qubit q; bit[n] c; bit c; (and bit c = measure q;).
func (p *parser) declare3() error {
	kw := p.next()
	if p.st.version == 2 {
		return p.errf(kw.pos, "%q declarations are OpenQASM 3; OpenQASM 2 uses qreg/creg", kw.text)
	}
	size, single, sizePos := 1, true, kw.pos
	if p.is("[") {
		p.next()
		var err error
		if size, sizePos, err = p.intExpr("register size"); err != nil {
			return err
		}
		if _, err := p.expect("]"); err != nil {
			return err
		}
		single = false
	}
	name, err := p.ident("a register name")
	if err != nil {
		return err
	}
	if err := p.addRegister(kw.text == "qubit", name, size, single, sizePos); err != nil {
		return err
	}
	if kw.text == "bit" && p.is("=") {
		p.next()
		if _, err := p.expect("measure"); err != nil {
			return err
		}
		return p.finishMeasure([]argRef{{name: name.text, pos: name.pos}})
	}
	_, err = p.expect(";")
	return err
}

// declare2 handles qreg q[n]; creg c[n];.
func (p *parser) declare2() error {
	kw := p.next()
	name, err := p.ident("a register name")
	if err != nil {
		return err
	}
	if _, err := p.expect("["); err != nil {
		return err
	}
	size, sizePos, err := p.intExpr("register size")
	if err != nil {
		return err
	}
	if _, err := p.expect("]"); err != nil {
		return err
	}
	if _, err := p.expect(";"); err != nil {
		return err
	}
	return p.addRegister(kw.text == "qreg", name, size, false, sizePos)
}

func (p *parser) argRef() (argRef, error) {
	t, err := p.ident("a qubit or bit")
	if err != nil {
		return argRef{}, err
	}
	a := argRef{name: t.text, pos: t.pos}
	if p.is("[") {
		p.next()
		if a.index, err = p.expr(0); err != nil {
			return a, err
		}
		if p.is(":") || p.is(",") {
			return a, p.errf(p.peek().pos, "register slices and index sets are not supported; index one qubit or use the whole register")
		}
		if _, err := p.expect("]"); err != nil {
			return a, err
		}
	}
	return a, nil
}

func (p *parser) argList(end string) ([]argRef, error) {
	var args []argRef
	if p.is(end) {
		return nil, nil
	}
	for {
		a, err := p.argRef()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		if !p.is(",") {
			return args, nil
		}
		p.next()
	}
}

// resolve turns register references into qubit (or bit) index lists, one
// per argument; whole registers expand to all their indices.
func (p *parser) resolve(args []argRef, regs map[string]*register, kind string) ([][]int, error) {
	out := make([][]int, len(args))
	for i, a := range args {
		r := regs[a.name]
		if r == nil {
			other := "bit"
			oregs := p.st.cregs
			if kind == "bit" {
				other, oregs = "qubit", p.st.qregs
			}
			if oregs[a.name] != nil {
				return nil, p.errf(a.pos, "%q is a %s register, expected a %s", a.name, other, kind)
			}
			return nil, p.errf(a.pos, "undefined %s register %q", kind, a.name)
		}
		if a.index == nil {
			idx := make([]int, r.size)
			for j := range idx {
				idx[j] = r.start + j
			}
			out[i] = idx
			continue
		}
		if r.single {
			return nil, p.errf(a.pos, "%q is a single %s and cannot be indexed", a.name, kind)
		}
		v, err := a.index.eval(p.constEnv())
		if err != nil {
			return nil, p.wrap(err)
		}
		k := int(v)
		if v != math.Trunc(v) || math.Abs(v) > 1<<40 {
			return nil, p.errf(a.index.pos(), "index must be an integer, got %v", v)
		}
		if k < 0 && p.st.version == 3 {
			k += r.size
		}
		if k < 0 || k >= r.size {
			return nil, p.errf(a.index.pos(), "index %d out of range for %s[%d]", int(v), a.name, r.size)
		}
		out[i] = []int{r.start + k}
	}
	return out, nil
}

// broadcast checks that the whole-register arguments agree in size and
// returns the number of repetitions (1 when every argument is indexed).
func (p *parser) broadcast(args []argRef, idx [][]int) (int, error) {
	n := 1
	for i, a := range args {
		if len(idx[i]) == 1 && a.index != nil {
			continue
		}
		if n == 1 {
			n = len(idx[i])
		} else if len(idx[i]) != n && len(idx[i]) != 1 {
			return 0, p.errf(a.pos, "register %q has %d elements but another argument has %d", a.name, len(idx[i]), n)
		}
	}
	return n, nil
}

func pick(idx []int, k int) int {
	if len(idx) == 1 {
		return idx[0]
	}
	return idx[k]
}

func (p *parser) emit(ops ...circuit.Op) error {
	if len(p.st.c.Ops)+len(ops) > MaxOps {
		return fmt.Errorf("qasm: circuit expands to more than %d operations", MaxOps)
	}
	p.st.c.Ops = append(p.st.c.Ops, ops...)
	return nil
}

// measureArrow handles measure q -> c; (and measure q; which is rejected).
func (p *parser) measureArrow() error {
	kw := p.next()
	q, err := p.argRef()
	if err != nil {
		return err
	}
	if !p.is("->") {
		return p.errf(kw.pos, "measure needs a target bit: measure q -> c; or c = measure q;")
	}
	p.next()
	c, err := p.argRef()
	if err != nil {
		return err
	}
	if _, err := p.expect(";"); err != nil {
		return err
	}
	return p.doMeasure(q, c)
}

// measureAssign handles c = measure q; and c[i] = measure q[j];.
func (p *parser) measureAssign() error {
	c, err := p.argRef()
	if err != nil {
		return err
	}
	if _, err := p.expect("="); err != nil {
		return err
	}
	if t := p.peek(); t.kind != tIdent || t.text != "measure" {
		return p.errf(t.pos, "only measurements can be assigned (c = measure q;), found %s", t.describe())
	}
	p.next()
	return p.finishMeasure([]argRef{c})
}

func (p *parser) finishMeasure(c []argRef) error {
	q, err := p.argRef()
	if err != nil {
		return err
	}
	if _, err := p.expect(";"); err != nil {
		return err
	}
	return p.doMeasure(q, c[0])
}

func (p *parser) doMeasure(q, c argRef) error {
	qi, err := p.resolve([]argRef{q}, p.st.qregs, "qubit")
	if err != nil {
		return err
	}
	ci, err := p.resolve([]argRef{c}, p.st.cregs, "bit")
	if err != nil {
		return err
	}
	if len(qi[0]) != len(ci[0]) {
		return p.errf(q.pos, "measure of %d qubits into %d bits", len(qi[0]), len(ci[0]))
	}
	for k := range qi[0] {
		if err := p.emit(circuit.Op{Kind: circuit.KindMeasure, Qubits: []int{qi[0][k]}, Clbit: ci[0][k]}); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) reset() error {
	p.next()
	args, err := p.argList(";")
	if err != nil {
		return err
	}
	if _, err := p.expect(";"); err != nil {
		return err
	}
	idx, err := p.resolve(args, p.st.qregs, "qubit")
	if err != nil {
		return err
	}
	for _, l := range idx {
		for _, q := range l {
			if err := p.emit(circuit.Op{Kind: circuit.KindReset, Qubits: []int{q}}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *parser) barrier() error {
	p.next()
	args, err := p.argList(";")
	if err != nil {
		return err
	}
	if _, err := p.expect(";"); err != nil {
		return err
	}
	idx, err := p.resolve(args, p.st.qregs, "qubit")
	if err != nil {
		return err
	}
	var qs []int
	for _, l := range idx {
		for _, q := range l {
			if !slices.Contains(qs, q) {
				qs = append(qs, q)
			}
		}
	}
	if len(args) == 0 {
		for q := 0; q < p.st.c.Qubits; q++ {
			qs = append(qs, q)
		}
	}
	return p.emit(circuit.Op{Kind: circuit.KindBarrier, Qubits: qs})
}

// call parses [modifiers @]* name[(params)] args ;. Inside a gate body
// (inGate) arguments must be plain identifiers among qargs and parameter
// expressions may use params.
func (p *parser) call(inGate bool, qargs, params []string) (*callStmt, error) {
	c := &callStmt{pos: p.peek().pos}
	for {
		t := p.peek()
		if t.kind != tIdent || (t.text != "ctrl" && t.text != "negctrl" && t.text != "inv" && t.text != "pow") {
			break
		}
		if n := p.peekAt(1); !(n.kind == tPunct && (n.text == "@" || n.text == "(")) {
			break
		}
		p.next()
		m := modifier{kind: t.text, pos: t.pos}
		if p.st.version == 2 {
			return nil, p.errf(t.pos, "gate modifiers are OpenQASM 3")
		}
		if p.is("(") {
			if t.text == "inv" {
				return nil, p.errf(p.peek().pos, "inv takes no argument")
			}
			p.next()
			e, err := p.expr(0)
			if err != nil {
				return nil, err
			}
			m.arg = e
			if _, err := p.expect(")"); err != nil {
				return nil, err
			}
		} else if t.text == "pow" {
			return nil, p.errf(t.pos, "pow needs an exponent: pow(r) @")
		}
		if _, err := p.expect("@"); err != nil {
			return nil, err
		}
		c.mods = append(c.mods, m)
	}
	name, err := p.ident("a gate name")
	if err != nil {
		return nil, err
	}
	c.name, c.pos = name.text, name.pos
	if len(c.mods) > 0 {
		c.pos = c.mods[0].pos
	}
	if p.is("(") {
		p.next()
		if !p.is(")") {
			for {
				e, err := p.expr(0)
				if err != nil {
					return nil, err
				}
				c.params = append(c.params, e)
				if !p.is(",") {
					break
				}
				p.next()
			}
		}
		if _, err := p.expect(")"); err != nil {
			return nil, err
		}
	}
	if c.args, err = p.argList(";"); err != nil {
		return nil, err
	}
	if _, err := p.expect(";"); err != nil {
		return nil, err
	}
	if inGate {
		names := map[string]bool{}
		for k := range p.constEnv() {
			names[k] = true
		}
		for _, s := range params {
			names[s] = true
		}
		for _, e := range c.params {
			if err := checkIdents(e, names); err != nil {
				return nil, p.wrap(err)
			}
		}
		for _, m := range c.mods {
			if m.arg != nil {
				if err := checkIdents(m.arg, names); err != nil {
					return nil, p.wrap(err)
				}
			}
		}
		for _, a := range c.args {
			if a.index != nil {
				return nil, p.errf(a.pos, "qubit arguments inside a gate body cannot be indexed")
			}
			if !slices.Contains(qargs, a.name) {
				return nil, p.errf(a.pos, "%q is not a qubit argument of this gate", a.name)
			}
		}
	}
	return c, nil
}

func (p *parser) gateDef() error {
	kw := p.next()
	name, err := p.ident("a gate name")
	if err != nil {
		return err
	}
	if p.st.gates[name.text] != nil {
		return p.errf(name.pos, "gate %q is already defined", name.text)
	}
	if _, ok := p.lookupStd(name.text); ok {
		return p.errf(name.pos, "gate %q is already defined by the standard library", name.text)
	}
	if p.st.qregs[name.text] != nil || p.st.cregs[name.text] != nil {
		return p.errf(name.pos, "%q is already declared as a register", name.text)
	}
	g := &gateDef{name: name.text, pos: kw.pos}
	seen := map[string]bool{}
	if p.is("(") {
		p.next()
		for !p.is(")") {
			t, err := p.ident("a parameter name")
			if err != nil {
				return err
			}
			if seen[t.text] {
				return p.errf(t.pos, "parameter %q repeated", t.text)
			}
			seen[t.text] = true
			g.params = append(g.params, t.text)
			if !p.is(",") {
				break
			}
			p.next()
		}
		if _, err := p.expect(")"); err != nil {
			return err
		}
	}
	for !p.is("{") {
		t, err := p.ident("a qubit argument name")
		if err != nil {
			return err
		}
		if seen[t.text] {
			return p.errf(t.pos, "argument %q repeated", t.text)
		}
		seen[t.text] = true
		g.qargs = append(g.qargs, t.text)
		if !p.is(",") {
			break
		}
		p.next()
	}
	if _, err := p.expect("{"); err != nil {
		return err
	}
	for !p.is("}") {
		t := p.peek()
		if t.kind == tEOF {
			return p.errf(t.pos, "unterminated body of gate %q", g.name)
		}
		if t.kind == tIdent && t.text == "barrier" {
			p.next()
			if _, err := p.argList(";"); err != nil {
				return err
			}
			if _, err := p.expect(";"); err != nil {
				return err
			}
			continue
		}
		if t.kind == tIdent && (t.text == "measure" || t.text == "reset") {
			return p.errf(t.pos, "%s is not allowed in a gate body", t.text)
		}
		c, err := p.call(true, g.qargs, g.params)
		if err != nil {
			return err
		}
		if c.name == g.name {
			return p.errf(c.pos, "gate %q calls itself", g.name)
		}
		if p.st.gates[c.name] == nil {
			if _, ok := p.lookupStd(c.name); !ok {
				return p.errf(c.pos, "undefined gate %q%s", c.name, p.includeHint(c.name))
			}
		}
		g.body = append(g.body, c)
	}
	p.next()
	if len(g.qargs) == 0 {
		return p.errf(name.pos, "gate %q has no qubit arguments", g.name)
	}
	p.st.gates[g.name] = g
	return nil
}

// execCall runs a top-level gate call, broadcasting over registers.
func (p *parser) execCall(c *callStmt) error {
	idx, err := p.resolve(c.args, p.st.qregs, "qubit")
	if err != nil {
		return err
	}
	n, err := p.broadcast(c.args, idx)
	if err != nil {
		return err
	}
	for k := 0; k < n; k++ {
		qs := make([]int, len(idx))
		for i := range idx {
			qs[i] = pick(idx[i], k)
		}
		ops, err := p.expand(c, p.constEnv(), qs, 0)
		if err != nil {
			return p.wrap(err)
		}
		if err := p.emit(ops...); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) includeHint(name string) string {
	if p.st.stdlib {
		return ""
	}
	lib, std := "stdgates.inc", stdgates3
	if p.st.version == 2 {
		lib, std = "qelib1.inc", qelib1
	}
	if _, ok := std[name]; ok {
		return fmt.Sprintf(" (missing include %q?)", lib)
	}
	return ""
}

// expr parses an expression with precedence climbing.
func (p *parser) expr(depth int) (expr, error) {
	if depth > maxExprDepth {
		return nil, p.errf(p.peek().pos, "expression nested too deeply")
	}
	return p.additive(depth)
}

func (p *parser) additive(depth int) (expr, error) {
	x, err := p.multiplicative(depth)
	if err != nil {
		return nil, err
	}
	for p.is("+") || p.is("-") {
		op := p.next()
		y, err := p.multiplicative(depth)
		if err != nil {
			return nil, err
		}
		x = &binaryExpr{p: op.pos, op: op.text, x: x, y: y}
	}
	return x, nil
}

func (p *parser) multiplicative(depth int) (expr, error) {
	x, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for p.is("*") || p.is("/") || p.is("%") {
		op := p.next()
		y, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		x = &binaryExpr{p: op.pos, op: op.text, x: x, y: y}
	}
	return x, nil
}

func (p *parser) unary(depth int) (expr, error) {
	if p.is("-") || p.is("+") {
		op := p.next()
		if depth > maxExprDepth {
			return nil, p.errf(op.pos, "expression nested too deeply")
		}
		x, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &unaryExpr{p: op.pos, op: op.text, x: x}, nil
	}
	return p.power(depth)
}

// power is right-associative and binds tighter than unary minus on its
// left (-2**2 = -4). OpenQASM 2 spells it ^, OpenQASM 3 **.
func (p *parser) power(depth int) (expr, error) {
	x, err := p.primary(depth)
	if err != nil {
		return nil, err
	}
	if p.is("**") || (p.st.version == 2 && p.is("^")) {
		op := p.next()
		y, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &binaryExpr{p: op.pos, op: "**", x: x, y: y}, nil
	}
	return x, nil
}

func (p *parser) primary(depth int) (expr, error) {
	t := p.next()
	switch t.kind {
	case tInt, tFloat:
		v, err := parseNumber(t)
		if err != nil {
			return nil, p.wrap(err)
		}
		return &numExpr{p: t.pos, v: v}, nil
	case tIdent:
		if p.is("(") {
			p.next()
			c := &callExpr{p: t.pos, name: t.text}
			for !p.is(")") {
				a, err := p.expr(depth + 1)
				if err != nil {
					return nil, err
				}
				c.args = append(c.args, a)
				if !p.is(",") {
					break
				}
				p.next()
			}
			if _, err := p.expect(")"); err != nil {
				return nil, err
			}
			if _, ok := functions[t.text]; !ok {
				return nil, p.errf(t.pos, "unknown function %q", t.text)
			}
			return c, nil
		}
		return &identExpr{p: t.pos, name: t.text}, nil
	case tPunct:
		if t.text == "(" {
			e, err := p.expr(depth + 1)
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(")"); err != nil {
				return nil, err
			}
			return e, nil
		}
	}
	return nil, p.errf(t.pos, "expected an expression, found %s", t.describe())
}
