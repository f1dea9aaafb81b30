// Package qasm reads and writes OpenQASM.
//
// Import covers OpenQASM 3 — includes, qubit/bit (and qreg/creg)
// declarations, the stdgates.inc library plus the builtins U, gphase and
// CX, the ctrl @, negctrl @, inv @ and pow(r) @ modifiers, user gate
// definitions, measure, reset and barrier, classical variables of every
// scalar type and arrays, the whole expression language, if/else, while,
// for, switch, break/continue/end, def subroutines with return values and
// extern functions (values.go, vars.go, control.go, subroutine.go) — and
// OpenQASM 2.0 with qelib1.inc. Everything is elaborated into a flat
// circuit.Circuit: user gates and subroutines are expanded, loops
// unrolled, registers laid out in declaration order (the first declared
// register holds qubits 0..n-1), OpenQASM 2 gates get their qelib1.inc
// meaning, and classical code that depends on measurements becomes
// compute ops and conditions that the shot simulator runs per branch.
// Timing is read and has no effect; calibrations are skipped. Errors carry
// line and column.
//
// Layer: compute library (a reader and writer of circuits). It may import
// circuit and the standard library only.
//
// Input is untrusted: ParseContext and ParseFileContext work under a
// context and Limits (file and include bytes, operations after expansion,
// counted before anything is expanded, and wall time; each settable by an
// environment variable), and report input beyond a limit as a *LimitError
// that names the limit and how to raise it. pow(r) @ reduces r modulo the
// period of gates that have one (circuit.GateDef.Period) and refuses
// powers it cannot take accurately (circuit.PowerError) at the modifier.
//
// Export writes OpenQASM 3 (every circuit) and OpenQASM 2.0 (decomposing
// modifiers, extra controls and dense unitaries into qelib1.inc gates; global
// phase, which OpenQASM 2 cannot express, is dropped).
package qasm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/prismai/mec/circuit"
)

// Fixed limits that keep hostile input from exhausting memory or stack
// (the adjustable ones are in Limits).
const (
	MaxQubits       = 64      // qubits in all registers together
	MaxClbits       = 1 << 20 // classical bits in all registers together
	maxExprDepth    = 200
	maxIncludeDepth = 16
)

// Options control parsing.
type Options struct {
	// File names the source in error messages.
	File string
	// ReadFile resolves include "name"; nil rejects every include other
	// than stdgates.inc and qelib1.inc (ParseFile and ParseFileContext
	// resolve includes relative to the file and read them bounded by
	// Limits.MaxIncludeBytes). A custom ReadFile should bound its own
	// reads: what it returns counts against Limits.MaxIncludeBytes only
	// once it has been read.
	ReadFile func(name string) ([]byte, error)
	// Limits bound the input size, the expanded operations and the time
	// (zero fields: environment variable or default; see Limits).
	Limits Limits
	// Params binds the program's inputs (input float[64] theta;) by name.
	// An input without a value is an error, and so is a value for a name
	// the program does not declare as an input.
	Params map[string]float64
	// Notice, when set, receives a message for each construct that is
	// read and ignored (#pragma lines and annotations).
	Notice func(msg string)
	// Host, when set, calls the program's extern functions whose
	// arguments are known as it is read (the rest are called at run time
	// by the simulator's host).
	Host circuit.Host

	// open is ParseFile's include resolver: it reads at most max+1 bytes.
	open func(name string, max int64) ([]byte, error)
	// listInputs reads inputs without a value as 0 (InputNames).
	listInputs bool
}

// InputNames returns the names of the program's inputs (input float[64]
// theta; …) in declaration order — the order in which Qiskit's exporter
// writes a circuit's parameters — without needing their values.
func InputNames(ctx context.Context, src string, opts Options) ([]string, error) {
	opts.listInputs = true
	opts.Params = nil
	st, err := parseState(ctx, src, opts)
	if err != nil {
		return nil, err
	}
	return st.inputOrder, nil
}

// Parse reads an OpenQASM 2 or 3 program from src with the default limits.
// Includes other than the standard libraries are rejected; use ParseFile or
// ParseWith to resolve them.
func Parse(src string) (*circuit.Circuit, error) { return ParseWith(src, Options{}) }

// ParseFile reads an OpenQASM program from a file, resolving includes
// relative to the file's directory, with the default limits.
func ParseFile(path string) (*circuit.Circuit, error) {
	return ParseFileContext(context.Background(), path, Options{})
}

// ParseFileContext reads an OpenQASM program from a file under ctx and
// opts.Limits: it reads at most Limits.MaxFileBytes+1 bytes of the file
// (so an endless file such as /dev/zero fails at once), resolves includes
// relative to the file's directory unless opts.ReadFile is set, and names
// the file in errors unless opts.File is set.
func ParseFileContext(ctx context.Context, path string, opts Options) (*circuit.Circuit, error) {
	lim, err := opts.Limits.Effective()
	if err != nil {
		return nil, err
	}
	opts.Limits = lim
	b, err := readAtMost(path, lim.MaxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("qasm: %w", err)
	}
	if int64(len(b)) > lim.MaxFileBytes {
		return nil, fmt.Errorf("qasm: %w", fileLimitError(path, lim.MaxFileBytes))
	}
	if opts.File == "" {
		opts.File = path
	}
	if opts.ReadFile == nil {
		dir := filepath.Dir(path)
		opts.open = func(name string, max int64) ([]byte, error) {
			if !filepath.IsAbs(name) {
				name = filepath.Join(dir, name)
			}
			return readAtMost(name, max)
		}
	}
	return ParseContext(ctx, string(b), opts)
}

// ParseReaderContext reads an OpenQASM program from r (standard input,
// say) as ParseFileContext reads a file: at most Limits.MaxFileBytes+1
// bytes, includes resolved relative to the working directory unless
// opts.ReadFile is set, and errors naming opts.File (default "<stdin>").
func ParseReaderContext(ctx context.Context, r io.Reader, opts Options) (*circuit.Circuit, error) {
	lim, err := opts.Limits.Effective()
	if err != nil {
		return nil, err
	}
	opts.Limits = lim
	if opts.File == "" {
		opts.File = "<stdin>"
	}
	b, err := io.ReadAll(io.LimitReader(r, lim.MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("qasm: %s: %w", opts.File, err)
	}
	if int64(len(b)) > lim.MaxFileBytes {
		return nil, fmt.Errorf("qasm: %w", fileLimitError(opts.File, lim.MaxFileBytes))
	}
	if opts.ReadFile == nil {
		opts.open = readAtMost
	}
	return ParseContext(ctx, string(b), opts)
}

// ParseWith reads an OpenQASM program with options.
func ParseWith(src string, opts Options) (*circuit.Circuit, error) {
	return ParseContext(context.Background(), src, opts)
}

// ParseContext reads an OpenQASM program with options under ctx: parsing
// and gate expansion stop, with an error that wraps the context's cause,
// when ctx is done or opts.Limits.MaxExpandDuration has passed, and input
// beyond opts.Limits fails with a *LimitError (errors.Is(err, ErrLimit))
// at the position of the statement that crossed it.
func ParseContext(ctx context.Context, src string, opts Options) (*circuit.Circuit, error) {
	st, err := parseState(ctx, src, opts)
	if err != nil {
		return nil, err
	}
	return st.c, nil
}

// parseState parses src and returns the parser's final state.
func parseState(ctx context.Context, src string, opts Options) (*state, error) {
	lim, err := opts.Limits.Effective()
	if err != nil {
		return nil, err
	}
	if int64(len(src)) > lim.MaxFileBytes {
		name := opts.File
		if name == "" {
			name = "source"
		}
		return nil, fmt.Errorf("qasm: %w", fileLimitError(name, lim.MaxFileBytes))
	}
	ctx, cancel := context.WithTimeoutCause(ctx, lim.MaxExpandDuration, durationLimitError(lim.MaxExpandDuration))
	defer cancel()
	opts.Limits = lim
	st := &state{
		ctx:     ctx,
		opts:    opts,
		lim:     lim,
		version: 3,
		qregs:   map[string]*register{},
		cregs:   map[string]*register{},
		gates:   map[string]*gateDef{},
		counts:  map[string]opCount{},
		c:       &circuit.Circuit{},
	}
	// The program is a frame: end leaves it (on every path: the rest is
	// not read; on some: their later ops are conditioned off).
	st.frames = []*frame{{kind: "program", dead: -1}}
	err = st.parseSource(strings.TrimPrefix(src, "\uFEFF"), opts.File, 0)
	if sig, ok := err.(*flowSignal); ok && sig.kind == "end" {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	st.frames = nil
	if err := st.finishOutputs(); err != nil {
		return nil, err
	}
	if len(st.scratch) > 0 {
		moveScratch(st.c, st.scratch)
	}
	for _, name := range slices.Sorted(maps.Keys(opts.Params)) {
		if !st.inputs[name] {
			return nil, fmt.Errorf("qasm: parameter %q is not an input of the program", name)
		}
	}
	if err := st.c.Validate(); err != nil {
		return nil, fmt.Errorf("qasm: %w", err)
	}
	return st, nil
}

type register struct {
	name   string
	start  int
	size   int
	single bool  // declared without a size (qubit q; bit c;)
	idx    []int // an alias (let): its indices; nil: start … start+size−1
}

// at returns the index of element k.
func (r *register) at(k int) int {
	if r.idx != nil {
		return r.idx[k]
	}
	return r.start + k
}

type gateDef struct {
	name   string
	pos    Pos
	params []string
	qargs  []string
	body   []*callStmt
	// countByParams is set when the number of ops the body expands to may
	// depend on the parameter values: a power in the body (or in a gate it
	// calls) uses a parameter. Otherwise count memoises it by name alone.
	countByParams bool
	// lib marks a gate of the qelib1.inc prelude, which a program's own
	// definition of the same name replaces.
	lib bool
}

type modifier struct {
	kind string // ctrl, negctrl, inv, pow
	arg  expr   // control count or exponent; nil for default
	pos  Pos
}

type argRef struct {
	name  string
	index expr // nil: the whole register (or a selection)
	sel   *selection
	pos   Pos
}

// selection is a register slice q[a:b], q[a:s:b] (both ends included, an
// omitted end is the register's) or an index set q[{i, j, …}].
type selection struct {
	lo, step, hi expr // range (each may be nil)
	set          []expr
}

type callStmt struct {
	pos    Pos
	mods   []modifier
	name   string
	params []expr
	args   []argRef
}

type state struct {
	ctx      context.Context
	opts     Options
	lim      Limits
	version  int // 2 or 3
	sawStmt  bool
	stdlib   bool // stdgates.inc or qelib1.inc included
	qregs    map[string]*register
	cregs    map[string]*register
	qorder   []*register
	gates    map[string]*gateDef
	c        *circuit.Circuit
	included int
	// includeBytes is the size of every included file so far.
	includeBytes int64
	// counts memoises the op counts of user gate bodies by gate and
	// parameter values (see count); visits counts count's calls.
	counts map[string]opCount
	key    []byte // scratch for count's memo keys
	// countEnvs are count's body environments, one per depth.
	countEnvs []map[string]float64
	visits    int64
	// leaves counts the ops one top-level statement has created so far
	// and calls its expand calls (the context is checked every 1024).
	leaves int64
	calls  int64
	stmts  int
	// conds are the conditions of the if statements being parsed, which
	// every op emitted meanwhile carries.
	conds []circuit.Cond
	// prelude is set while the qelib1.inc prelude is parsed.
	prelude bool
	// consts are the program's constants, inputs and loop variables;
	// env is constEnv's merged map (nil when consts changed).
	consts     map[string]float64
	env        map[string]float64
	inputs     map[string]bool
	inputOrder []string
	// physical is set once the program uses physical qubits ($n).
	physical bool
	// defs are the program's subroutines; defDepth counts the calls
	// being expanded.
	defs     map[string]*subroutine
	defDepth int
	// scratch are the classical bits made for while-loop guards (moved
	// after the program's own bits when parsing ends).
	scratch []int
	// calibrated are the gates a defcal calibrates.
	calibrated map[string]bool
	// scopes counts the blocks (loop bodies, if and box blocks,
	// subroutine bodies) being read: their declarations are local.
	scopes int
	// vars are the program's classical variables and externs its extern
	// functions.
	vars    map[string]*classVar
	externs map[string]*externDecl
	// frames are the loops, iterations and subroutine calls being read.
	frames []*frame
	// free are released scratch bits (0 on every path); pending are the
	// temporaries to release when the statement being read ends.
	free    []int
	pending []int
	// stretches are the stretch and duration names whose length is not
	// known (delays that use them are dropped).
	stretches map[string]bool
	// declared are the names the innermost block scope has declared: a
	// block may shadow any other variable, register or alias.
	declared map[string]bool
	// outputs are the program's top-level bit registers and variables in
	// declaration order; explicit says an output declaration chose them.
	outputs  []output
	explicit bool
}

// output is a top-level bit register or variable the program returns.
type output struct {
	name string
	v    *classVar // nil: a bit register
	out  bool      // declared with output
}

// maxBlockDepth bounds the nesting of blocks (loops, ifs, boxes,
// subroutine calls): each level re-reads the ones inside it.
const maxBlockDepth = 64

// tick counts one unit of work (a statement, a loop round, a call) and
// checks the time limit and the context every 256.
func (p *parser) tick(pos Pos) error {
	if p.st.stmts++; p.st.stmts&255 == 0 {
		return p.st.stopped(p.file, pos)
	}
	return nil
}

// scoped runs fn in a new block scope: names it declares (registers,
// aliases, constants, subroutines) are forgotten afterwards, and the bits
// of the bit registers it declares are scratch (temporaries that results
// leave out).
func (p *parser) scoped(fn func() error) error {
	if p.st.scopes >= maxBlockDepth {
		return p.errf(p.peek().pos, "blocks nested more than %d deep", maxBlockDepth)
	}
	qregs, cregs, consts, defs := maps.Clone(p.st.qregs), maps.Clone(p.st.cregs), maps.Clone(p.st.consts), maps.Clone(p.st.defs)
	vars, declared := maps.Clone(p.st.vars), p.st.declared
	p.st.scopes++
	p.st.declared = map[string]bool{}
	err := fn()
	p.st.declared = declared
	// The block's own variables are gone: their bits go back to the pool.
	var gone []int
	for name, v := range p.st.vars {
		if vars[name] == v {
			continue
		}
		for _, el := range append([]*classVar{v}, v.elems...) {
			if el.bits != nil {
				gone = append(gone, el.bits...)
				el.bits = nil
			}
		}
	}
	if len(gone) > 0 {
		slices.Sort(gone)
		if rerr := p.release(p.peek().pos, gone); err == nil {
			err = rerr
		}
	}
	p.st.qregs, p.st.cregs, p.st.consts, p.st.defs, p.st.vars, p.st.env = qregs, cregs, consts, defs, vars, nil
	p.st.scopes--
	return err
}

// stopped returns an error at pos when the context is done: the limit
// error when MaxExpandDuration passed, else the context's cause.
func (st *state) stopped(file string, pos Pos) error {
	if st.ctx.Err() == nil {
		return nil
	}
	cause := context.Cause(st.ctx)
	msg := "parsing stopped: " + cause.Error()
	var le *LimitError
	if errors.As(cause, &le) {
		msg = le.Error()
	}
	return &Error{File: file, Pos: pos, Msg: msg, Err: cause}
}

// parser walks the tokens of one source file, reading them from the lexer
// as it goes (at most three tokens of lookahead are held).
type parser struct {
	st   *state
	file string
	lx   *lexer
	buf  [3]token
	n    int
	// lexErr is the lexer's error; the tokens after it read as end of
	// file, and parseSource reports it in preference to what follows.
	lexErr error
	// toks are the tokens of a loop body being replayed (lx is nil then);
	// endPos is the position of the last one.
	toks   []token
	endPos Pos
}

func (st *state) parseSource(src, file string, depth int) error {
	p := &parser{st: st, file: file, lx: newLexer(src, file)}
	p.lx.notice = st.opts.Notice
	for p.peek().kind != tEOF {
		if err := p.statement(depth); err != nil {
			if p.lexErr != nil {
				return p.lexErr
			}
			return err
		}
	}
	return p.lexErr
}

// fill makes sure the lookahead holds at least k+1 tokens.
func (p *parser) fill(k int) {
	for p.n <= k {
		var t token
		switch {
		case p.n > 0 && p.buf[p.n-1].kind == tEOF:
			t = p.buf[p.n-1]
		case p.lx == nil: // replaying a loop body
			if len(p.toks) == 0 {
				t = token{kind: tEOF, pos: p.endPos}
				break
			}
			t, p.toks = p.toks[0], p.toks[1:]
			p.endPos = t.pos
		case p.lexErr != nil:
			t = token{kind: tEOF, pos: Pos{p.lx.line, p.lx.col}}
		default:
			var err error
			if t, err = p.lx.next(); err != nil {
				p.lexErr = err
				t = token{kind: tEOF, pos: Pos{p.lx.line, p.lx.col}}
			}
		}
		p.buf[p.n] = t
		p.n++
	}
}

func (p *parser) peek() token { p.fill(0); return p.buf[0] }
func (p *parser) peekAt(k int) token {
	p.fill(k)
	return p.buf[k]
}

func (p *parser) next() token {
	p.fill(0)
	t := p.buf[0]
	if t.kind != tEOF {
		copy(p.buf[:], p.buf[1:p.n])
		p.n--
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

// unsupported are keywords that cannot start a statement here: OpenQASM
// 3's in an OpenQASM 2 program, and the few that mec does not run.
var unsupported = map[string]string{
	"else": "classical control flow (else without if)", "for": "classical control flow",
	"switch": "classical control flow", "break": "classical control flow",
	"continue": "classical control flow", "end": "classical control flow",
	"extern": "extern functions", "return": "subroutine return values", "opaque": "opaque gates",
	"int":  "classical declarations",
	"uint": "classical declarations", "float": "classical declarations", "angle": "classical declarations",
	"bool": "classical declarations", "complex": "classical declarations", "duration": "timing",
	"durationof": "timing (outside a duration or delay)",
	"array":      "classical declarations", "pragma": "pragmas (a pragma must start its line)",
}

// statement reads one statement; the temporaries it made are released
// when it ends.
func (p *parser) statement(depth int) error {
	mark := len(p.st.pending)
	err := p.statement1(depth)
	if len(p.st.pending) > mark {
		bits := slices.Clone(p.st.pending[mark:])
		p.st.pending = p.st.pending[:mark]
		if rerr := p.release(p.peek().pos, bits); err == nil {
			err = rerr
		}
	}
	return err
}

func (p *parser) statement1(depth int) error {
	t := p.peek()
	// Loops and subroutines read statements many times: the time limit
	// and the context are checked every 256 of them, wherever they are.
	if err := p.tick(t.pos); err != nil {
		return err
	}
	first := !p.st.sawStmt
	p.st.sawStmt = true
	if t.kind != tIdent {
		if t.kind == tPunct && t.text == ";" {
			p.next()
			return nil
		}
		if t.kind == tPunct && t.text == "{" && p.st.version == 3 {
			return p.block(depth, "a block")
		}
		return p.errf(t.pos, "expected a statement, found %s", t.describe())
	}
	if len(p.st.conds) > 0 {
		switch t.text {
		case "OPENQASM", "include", "qubit", "qreg", "gate", "def", "extern":
			return p.errf(t.pos, "%q inside an if: declare it at the top level", t.text)
		case "bit", "creg":
			if p.st.scopes == 0 {
				return p.errf(t.pos, "%q inside an if: declare it at the top level", t.text)
			}
		}
	}
	if p.st.defDepth > 0 {
		switch t.text {
		case "OPENQASM", "include", "qubit", "qreg", "gate", "def":
			return p.errf(t.pos, "%q inside a subroutine: declare qubits, gates and subroutines at the top level", t.text)
		}
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
	case "if":
		return p.ifStmt(depth)
	case "const":
		if p.st.version == 2 {
			break
		}
		kw := p.next()
		if t := p.peek(); t.kind != tIdent || !slices.Contains(typeKinds, t.text) {
			return p.errf(t.pos, "expected a type after const, found %s", t.describe())
		}
		if p.is("bit") {
			return p.errf(kw.pos, "const bit registers are not supported: use const uint[n]")
		}
		return p.declareVar(p.next(), true)
	case "input":
		if p.st.version == 2 {
			break
		}
		return p.constDecl()
	case "int", "uint", "float", "angle", "bool":
		if p.st.version == 2 {
			break
		}
		return p.declareVar(p.next(), false)
	case "array":
		if p.st.version == 2 {
			break
		}
		return p.declareArray(p.next())
	case "complex":
		if p.st.version == 2 {
			break
		}
		return p.errf(t.pos, "complex variables are not supported (mec's classical types are bit, bool, int, uint, float and angle)")
	case "switch":
		if p.st.version == 2 {
			break
		}
		return p.switchStmt(depth)
	case "output":
		if p.st.version == 2 {
			break
		}
		kw := p.next()
		if p.st.scopes > 0 {
			return p.errf(kw.pos, "output declarations are made at the top level")
		}
		n := len(p.st.outputs)
		var err error
		switch t := p.peek(); {
		case t.kind == tIdent && t.text == "bit":
			err = p.declare3()
		case t.kind == tIdent && slices.Contains(typeKinds, t.text):
			err = p.declareVar(p.next(), false)
		default:
			return p.errf(t.pos, "expected a type after output, found %s", t.describe())
		}
		if err != nil {
			return err
		}
		if len(p.st.outputs) != n+1 {
			return p.errf(kw.pos, "internal error: output not recorded")
		}
		p.st.outputs[n].out, p.st.explicit = true, true
		return nil
	case "break", "continue", "end":
		if p.st.version == 2 {
			break
		}
		return p.flowStmt()
	case "return":
		if p.st.version == 2 {
			break
		}
		return p.returnStmt()
	case "extern":
		if p.st.version == 2 {
			break
		}
		return p.externStmt()
	case "let":
		if p.st.version == 2 {
			break
		}
		return p.letDecl()
	case "for":
		if p.st.version == 2 {
			break
		}
		return p.forLoop(depth)
	case "def":
		if p.st.version == 2 {
			break
		}
		return p.defStmt()
	case "while":
		if p.st.version == 2 {
			break
		}
		return p.whileLoop(depth)
	case "delay", "box", "stretch", "duration":
		if p.st.version == 2 {
			break
		}
		return p.timingStmt(depth)
	case "defcalgrammar", "defcal", "cal":
		if p.st.version == 2 {
			break
		}
		return p.calibrationStmt()
	}
	if d := p.st.defs[t.text]; d != nil {
		return p.defCall(d, depth)
	}
	if what, ok := unsupported[t.text]; ok {
		if p.st.version == 2 {
			return p.errf(t.pos, "%q: %s is OpenQASM 3, not OpenQASM 2", t.text, what)
		}
		return p.errf(t.pos, "%q: %s is not supported", t.text, what)
	}
	if n := p.peekAt(1); n.kind == tPunct && (assignOps[n.text] != "" || n.text == "=" || n.text == "[") {
		return p.assignStmt()
	}
	if n := p.peekAt(1); n.kind == tPunct && n.text == "(" && p.st.externs[t.text] != nil {
		return p.exprStmt()
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
		if p.st.stdlib {
			return nil
		}
		p.st.stdlib = true
		p.st.prelude = true
		err := p.st.parseSource(qelib1Prelude, "qelib1.inc", depth+1)
		p.st.prelude = false
		return err
	}
	if p.st.opts.ReadFile == nil && p.st.opts.open == nil {
		return p.errf(name.pos, "cannot include %q: no include resolver (parse a file instead of a string)", name.text)
	}
	if depth+1 > maxIncludeDepth {
		return p.errf(t.pos, "includes nested deeper than %d", maxIncludeDepth)
	}
	remaining := p.st.lim.MaxIncludeBytes - p.st.includeBytes
	var (
		b   []byte
		err error
	)
	if p.st.opts.open != nil {
		b, err = p.st.opts.open(name.text, remaining)
	} else {
		b, err = p.st.opts.ReadFile(name.text)
	}
	if err != nil {
		return p.errf(name.pos, "include %q: %v", name.text, err)
	}
	if int64(len(b)) > remaining {
		le := includeLimitError(fmt.Sprintf("include %q: the included files", name.text), p.st.lim.MaxIncludeBytes)
		return &Error{File: p.file, Pos: name.pos, Msg: le.Error(), Err: le}
	}
	p.st.includeBytes += int64(len(b))
	file := name.text
	if p.file != "" && !filepath.IsAbs(file) {
		file = filepath.Join(filepath.Dir(p.file), file)
	}
	return p.st.parseSource(string(b), file, depth+1)
}

func (p *parser) constEnv() map[string]float64 {
	base := constants3
	if p.st.version == 2 {
		base = constants2
	}
	if len(p.st.consts) == 0 && len(p.st.vars) == 0 {
		return base
	}
	if p.st.env == nil {
		p.st.env = maps.Clone(base)
		maps.Copy(p.st.env, p.st.consts)
		for name, v := range p.st.vars {
			if v.known && v.dims == nil {
				p.st.env[name] = v.val.Float()
			}
		}
	}
	return p.st.env
}

// setConst binds a program constant (or loop variable) to v.
func (p *parser) setConst(name string, v float64) {
	if p.st.consts == nil {
		p.st.consts = map[string]float64{}
	}
	p.st.consts[name] = v
	p.st.env = nil
}

// unsetConst removes a loop variable, restoring what it shadowed.
func (p *parser) unsetConst(name string, old float64, had bool) {
	if had {
		p.st.consts[name] = old
	} else {
		delete(p.st.consts, name)
	}
	p.st.env = nil
}

// shadow lets a block declare name again: inside a block scope, a
// variable, register or alias of an enclosing scope is hidden until the
// block ends (a second declaration in the same block is still an error).
func (p *parser) shadow(name string) {
	if p.st.scopes == 0 {
		return
	}
	if !p.st.declared[name] {
		delete(p.st.qregs, name)
		delete(p.st.cregs, name)
		delete(p.st.vars, name)
		if _, ok := p.st.consts[name]; ok {
			delete(p.st.consts, name)
			p.st.env = nil
		}
	}
	p.st.declared[name] = true
	p.st.env = nil
}

// checkNewName reports an error when name is already declared.
func (p *parser) checkNewName(name token) error {
	p.shadow(name.text)
	if p.st.qregs[name.text] != nil || p.st.cregs[name.text] != nil || p.st.gates[name.text] != nil {
		return p.errf(name.pos, "%q is already declared", name.text)
	}
	if _, ok := p.st.consts[name.text]; ok || p.st.defs[name.text] != nil || p.st.vars[name.text] != nil || p.st.externs[name.text] != nil {
		return p.errf(name.pos, "%q is already declared", name.text)
	}
	if _, ok := p.lookupStd(name.text); ok {
		return p.errf(name.pos, "%q is a gate name", name.text)
	}
	if _, ok := p.constEnv()[name.text]; ok {
		return p.errf(name.pos, "%q is a built-in constant", name.text)
	}
	return nil
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
	p.shadow(name.text)
	if p.st.qregs[name.text] != nil || p.st.cregs[name.text] != nil || p.st.gates[name.text] != nil {
		return p.errf(name.pos, "%q is already declared", name.text)
	}
	if _, ok := p.st.consts[name.text]; ok || p.st.vars[name.text] != nil || p.st.externs[name.text] != nil || p.st.defs[name.text] != nil {
		return p.errf(name.pos, "%q is already declared", name.text)
	}
	if quantum && p.st.physical {
		return p.errf(name.pos, "qubit register %q in a program that uses physical qubits ($n): the two cannot be mixed", name.text)
	}
	if quantum && p.st.scopes > 0 {
		return p.errf(name.pos, "qubit register %q declared inside a block: qubits are declared at the top level", name.text)
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
	if p.st.scopes > 0 {
		// A block's bits live for one pass through the block.
		for k := 0; k < size; k++ {
			p.st.scratch = append(p.st.scratch, p.st.c.Clbits+k)
		}
	} else if name.text != ScratchRegister {
		bits := make([]int, size)
		for j := range bits {
			bits[j] = p.st.c.Clbits + j
		}
		p.st.c.Cregs = append(p.st.c.Cregs, circuit.Register{Name: name.text, Bits: bits})
	}
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
	if kw.text == "bit" && p.st.scopes > 0 && size <= 64 {
		// A block's bits are a variable of type bit[n]: known while its
		// value is, and back in the pool when the block ends.
		if err := p.checkNewName(name); err != nil {
			return err
		}
		p.setVar(&classVar{name: name.text, typ: circuit.ClassType{Kind: circuit.ClassBit, Width: size}, known: true,
			val: zeroOf(circuit.ClassType{Kind: circuit.ClassBit, Width: size})})
		return p.bitInit(name)
	}
	if kw.text == "bit" && name.text == ScratchRegister {
		// Export3 writes a circuit's scratch bits (while-loop guards)
		// into this register: they stay scratch.
		for k := 0; k < size; k++ {
			p.st.scratch = append(p.st.scratch, p.st.c.Clbits+k)
		}
	}
	if err := p.addRegister(kw.text == "qubit", name, size, single, sizePos); err != nil {
		return err
	}
	if kw.text == "bit" {
		if p.st.scopes == 0 {
			p.st.outputs = append(p.st.outputs, output{name: name.text})
		}
		return p.bitInit(name)
	}
	_, err = p.expect(";")
	return err
}

// bitInit reads the end of a bit declaration: ; or = measure q; or = value;.
func (p *parser) bitInit(name token) error {
	if !p.is("=") {
		_, err := p.expect(";")
		return err
	}
	eq := p.next()
	if p.is("measure") {
		p.next()
		return p.finishMeasure([]argRef{{name: name.text, pos: name.pos}})
	}
	e, err := p.expr(0)
	if err != nil {
		return err
	}
	if _, err := p.expect(";"); err != nil {
		return err
	}
	return p.assign(&identExpr{p: name.pos, name: name.text}, e, eq.pos)
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
	if !p.is("[") {
		return a, nil
	}
	p.next()
	if p.is("{") {
		set, err := p.exprSet()
		if err != nil {
			return a, err
		}
		a.sel = &selection{set: set}
	} else {
		var lo expr
		if !p.is(":") {
			if lo, err = p.expr(0); err != nil {
				return a, err
			}
		}
		if !p.is(":") {
			a.index = lo
		} else {
			if a.sel, err = p.rangeRest(lo, "]"); err != nil {
				return a, err
			}
		}
	}
	if p.is(",") {
		return a, p.errf(p.peek().pos, "multi-dimensional indices: registers have one dimension")
	}
	if _, err := p.expect("]"); err != nil {
		return a, err
	}
	return a, nil
}

// exprSet parses { e, e, … }.
func (p *parser) exprSet() ([]expr, error) {
	if _, err := p.expect("{"); err != nil {
		return nil, err
	}
	var set []expr
	for {
		e, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		set = append(set, e)
		if !p.is(",") {
			break
		}
		p.next()
	}
	_, err := p.expect("}")
	return set, err
}

// rangeRest parses the rest of a range after its start (nil when
// omitted), at the first colon: :hi or :step:hi, an end omitted before
// end.
func (p *parser) rangeRest(lo expr, end string) (*selection, error) {
	sel := &selection{lo: lo}
	var parts []expr
	for p.is(":") {
		p.next()
		var e expr
		if !p.is(":") && !p.is(end) {
			var err error
			if e, err = p.expr(0); err != nil {
				return nil, err
			}
		}
		parts = append(parts, e)
	}
	switch len(parts) {
	case 1:
		sel.hi = parts[0]
	case 2:
		sel.step, sel.hi = parts[0], parts[1]
	default:
		return nil, p.errf(p.peek().pos, "a range has at most three parts: start:step:stop")
	}
	return sel, nil
}

// evalInt evaluates an integer expression.
func (p *parser) evalInt(e expr, what string) (int, error) {
	v, err := e.eval(p.constEnv())
	if err != nil {
		return 0, p.wrap(err)
	}
	if v != math.Trunc(v) || math.Abs(v) > 1<<40 {
		return 0, p.errf(e.pos(), "%s must be an integer, got %v", what, v)
	}
	return int(v), nil
}

// rangeValues expands a range (both ends included) over a sequence of
// size n when n ≥ 0 (omitted ends are its first and last index, negative
// values count from its end); with n < 0 both ends are required.
func (p *parser) rangeValues(sel *selection, n int, pos Pos) ([]int, error) {
	lo, step, hi := 0, 1, n-1
	var err error
	if sel.lo != nil {
		if lo, err = p.evalInt(sel.lo, "a range start"); err != nil {
			return nil, err
		}
	} else if n < 0 {
		return nil, p.errf(pos, "a range needs a start")
	}
	if sel.step != nil {
		if step, err = p.evalInt(sel.step, "a range step"); err != nil {
			return nil, err
		}
		if step == 0 {
			return nil, p.errf(sel.step.pos(), "a range step of 0")
		}
	}
	if sel.hi != nil {
		if hi, err = p.evalInt(sel.hi, "a range stop"); err != nil {
			return nil, err
		}
	} else if n < 0 {
		return nil, p.errf(pos, "a range needs a stop")
	}
	if n >= 0 && p.st.version == 3 {
		if lo < 0 {
			lo += n
		}
		if hi < 0 {
			hi += n
		}
	}
	count := 0
	if step > 0 && hi >= lo {
		count = (hi-lo)/step + 1
	} else if step < 0 && lo >= hi {
		count = (lo-hi)/(-step) + 1
	}
	if count > p.st.lim.MaxOps {
		return nil, p.limitErr(pos, opsLimitError(fmt.Sprintf("a range of %d values", count), p.st.lim.MaxOps))
	}
	out := make([]int, count)
	for k := range out {
		out[k] = lo + k*step
	}
	return out, nil
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
		if r == nil && kind == "qubit" && isPhysical(a.name) {
			q, err := p.physicalQubit(a)
			if err != nil {
				return nil, err
			}
			out[i] = []int{q}
			continue
		}
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
		if a.sel != nil {
			if r.single {
				return nil, p.errf(a.pos, "%q is a single %s and cannot be indexed", a.name, kind)
			}
			idx, err := p.selected(a, r)
			if err != nil {
				return nil, err
			}
			out[i] = idx
			continue
		}
		if a.index == nil {
			idx := make([]int, r.size)
			for j := range idx {
				idx[j] = r.at(j)
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
		out[i] = []int{r.at(k)}
	}
	return out, nil
}

// selected returns the indices a slice or index set of register r picks.
func (p *parser) selected(a argRef, r *register) ([]int, error) {
	var ks []int
	if a.sel.set != nil {
		for _, e := range a.sel.set {
			k, err := p.evalInt(e, "an index")
			if err != nil {
				return nil, err
			}
			ks = append(ks, k)
		}
	} else {
		var err error
		if ks, err = p.rangeValues(a.sel, r.size, a.pos); err != nil {
			return nil, err
		}
	}
	if len(ks) == 0 {
		return nil, p.errf(a.pos, "the selection of %q is empty", a.name)
	}
	idx := make([]int, len(ks))
	for j, k := range ks {
		if k < 0 && p.st.version == 3 && a.sel.set != nil {
			k += r.size
		}
		if k < 0 || k >= r.size {
			return nil, p.errf(a.pos, "index %d out of range for %s[%d]", k, a.name, r.size)
		}
		idx[j] = r.at(k)
	}
	return idx, nil
}

// isPhysical reports whether name is a physical qubit ($0, $1, …).
func isPhysical(name string) bool {
	if len(name) < 2 || name[0] != '$' {
		return false
	}
	for _, c := range name[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// physicalQubit returns physical qubit $n as qubit n, growing the circuit
// to n+1 qubits.
func (p *parser) physicalQubit(a argRef) (int, error) {
	if a.index != nil || a.sel != nil {
		return 0, p.errf(a.pos, "physical qubit %s cannot be indexed", a.name)
	}
	for _, r := range p.st.qregs {
		if r.idx == nil { // a declared register, not an alias
			return 0, p.errf(a.pos, "physical qubit %s in a program that declares qubit registers: the two cannot be mixed", a.name)
		}
	}
	n := 0
	for _, c := range a.name[1:] {
		n = n*10 + int(c-'0')
		if n >= MaxQubits {
			return 0, p.errf(a.pos, "physical qubit %s: at most %d qubits", a.name, MaxQubits)
		}
	}
	p.st.physical = true
	p.st.c.Qubits = max(p.st.c.Qubits, n+1)
	return n, nil
}

// broadcast checks that the whole-register arguments agree in size and
// returns the number of repetitions (1 when every argument is indexed).
func (p *parser) broadcast(args []argRef, idx [][]int) (int, error) {
	n := 1
	for i, a := range args {
		if len(idx[i]) == 1 && (a.index != nil || isPhysical(a.name)) {
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

// limitErr reports a limit error at pos.
func (p *parser) limitErr(pos Pos, le *LimitError) error {
	return &Error{File: p.file, Pos: pos, Msg: le.Error(), Err: le}
}

// emit appends ops to the circuit for the statement at pos.
func (p *parser) emit(pos Pos, ops ...circuit.Op) error {
	if len(p.st.c.Ops)+len(ops) > p.st.lim.MaxOps {
		return p.limitErr(pos, opsLimitError("the circuit", p.st.lim.MaxOps))
	}
	if len(p.st.conds) > 0 || len(p.st.frames) > 0 {
		fc := p.frameConds()
		for i := range ops {
			ops[i].Conds = append(append(ops[i].Conds, p.st.conds...), fc...)
		}
	}
	p.st.c.Ops = append(p.st.c.Ops, ops...)
	return nil
}

// guardIf makes the if whose ops are p.st.c.Ops[start:] (its condition at
// index level of their conditions) decide once: when one of those ops
// writes a bit the condition reads, the condition is copied into a
// scratch bit before them, and they (the else ops with its negation) test
// that bit instead — so a body that changes the condition's bits neither
// stops itself half way nor runs its else too.
func (p *parser) guardIf(cond circuit.Cond, start, level int) error {
	ops := p.st.c.Ops[start:]
	writes := false
	// A write by the last op affects no other op of the if.
	for i := 0; i < len(ops)-1; i++ {
		if k := ops[i].Kind; (k == circuit.KindMeasure || k == circuit.KindSet) && slices.Contains(cond.Clbits, ops[i].Clbit) {
			writes = true
			break
		}
	}
	if !writes {
		return nil
	}
	g := p.scratchBit()
	for i := range ops {
		c := ops[i].Conds[level]
		ops[i].Conds[level] = circuit.Cond{Clbits: []int{g}, Value: 1, Not: c.Not != cond.Not}
	}
	outer := slices.Clone(p.st.conds)
	set := []circuit.Op{
		{Kind: circuit.KindSet, Clbit: g, Conds: outer},
		{Kind: circuit.KindSet, Clbit: g, Bit: true, Conds: append(slices.Clone(outer), cond)},
	}
	if len(p.st.c.Ops)+len(set) > p.st.lim.MaxOps {
		return p.limitErr(p.peek().pos, opsLimitError("the circuit", p.st.lim.MaxOps))
	}
	p.st.c.Ops = slices.Insert(p.st.c.Ops, start, set...)
	return nil
}

// condBody parses the statement or { block } governed by cond.
func (p *parser) condBody(cond circuit.Cond, depth int) error {
	if len(p.st.conds) >= maxIfDepth {
		return p.errf(p.peek().pos, "if statements nested more than %d deep", maxIfDepth)
	}
	p.st.conds = append(p.st.conds, cond)
	defer func() { p.st.conds = p.st.conds[:len(p.st.conds)-1] }()
	if !p.is("{") {
		return p.statement(depth)
	}
	return p.block(depth, "an if")
}

// maxIfDepth bounds the nesting of if statements.
const maxIfDepth = 64

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
	var ci [][]int
	if v := p.st.vars[c.name]; v != nil && p.st.cregs[c.name] == nil {
		bits, err := p.varBits(c, v)
		if err != nil {
			return err
		}
		ci = [][]int{bits}
	} else if ci, err = p.resolve([]argRef{c}, p.st.cregs, "bit"); err != nil {
		return err
	}
	if len(qi[0]) != len(ci[0]) {
		return p.errf(q.pos, "measure of %d qubits into %d bits", len(qi[0]), len(ci[0]))
	}
	for k := range qi[0] {
		if err := p.emit(q.pos, circuit.Op{Kind: circuit.KindMeasure, Qubits: []int{qi[0][k]}, Clbit: ci[0][k]}); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) reset() error {
	kw := p.next()
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
			if err := p.emit(kw.pos, circuit.Op{Kind: circuit.KindReset, Qubits: []int{q}}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *parser) barrier() error {
	kw := p.next()
	qs, err := p.spanQubits()
	if err != nil {
		return err
	}
	return p.emit(kw.pos, circuit.Op{Kind: circuit.KindBarrier, Qubits: qs})
}

// spanQubits reads the qubit operands of a barrier or delay up to its ;:
// each qubit once, in order; none means every qubit declared so far.
func (p *parser) spanQubits() ([]int, error) {
	args, err := p.argList(";")
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(";"); err != nil {
		return nil, err
	}
	idx, err := p.resolve(args, p.st.qregs, "qubit")
	if err != nil {
		return nil, err
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
	return qs, nil
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
			if a.index != nil || a.sel != nil {
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
	keep := false // the program defined this library gate before the include
	if g := p.st.gates[name.text]; g != nil && !g.lib {
		if !p.st.prelude {
			return p.errf(name.pos, "gate %q is already defined", name.text)
		}
		keep = true
	}
	if _, ok := p.lookupStd(name.text); ok {
		return p.errf(name.pos, "gate %q is already defined by the standard library", name.text)
	}
	if p.st.qregs[name.text] != nil || p.st.cregs[name.text] != nil {
		return p.errf(name.pos, "%q is already declared as a register", name.text)
	}
	if p.st.defs[name.text] != nil {
		return p.errf(name.pos, "%q is already declared as a subroutine", name.text)
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
		var calls []*callStmt
		switch {
		case t.kind == tIdent && t.text == "for" && p.st.version == 3:
			// Loops over gate statements are unrolled where they stand.
			cs, err := p.gateFor(g)
			if err != nil {
				return err
			}
			calls = cs
		case t.kind == tIdent && slices.Contains([]string{"while", "if", "switch", "int", "uint", "float", "angle", "bool", "bit", "const", "let"}, t.text):
			return p.errf(t.pos, "%q in the body of gate %q: a gate body holds gate calls, barriers and for loops over them (a def subroutine may hold classical code)", t.text, g.name)
		default:
			c, err := p.call(true, g.qargs, g.params)
			if err != nil {
				return err
			}
			calls = []*callStmt{c}
		}
		for _, c := range calls {
			if err := p.addBodyCall(g, c); err != nil {
				return err
			}
		}
	}
	p.next()
	if len(g.qargs) == 0 {
		return p.errf(name.pos, "gate %q has no qubit arguments", g.name)
	}
	if !keep {
		g.lib = p.st.prelude
		p.st.gates[g.name] = g
	}
	return nil
}

// addBodyCall checks a call of a gate body and appends it.
func (p *parser) addBodyCall(g *gateDef, c *callStmt) error {
	{
		if c.name == g.name {
			return p.errf(c.pos, "gate %q calls itself", g.name)
		}
		if p.st.gates[c.name] == nil {
			if _, ok := p.lookupStd(c.name); !ok {
				return p.errf(c.pos, "undefined gate %q%s", c.name, p.includeHint(c.name))
			}
		}
		g.body = append(g.body, c)
		if callee := p.st.gates[c.name]; callee != nil && callee.countByParams {
			g.countByParams = true
		}
		for _, m := range c.mods {
			if m.kind == "pow" && usesAny(m.arg, g.params) {
				g.countByParams = true
			}
		}
	}
	return nil
}

// gateFor reads for NAME in [a:b] / {…} { statements } in a gate body and
// returns its calls for every value, the loop variable replaced by the
// value in their parameters.
func (p *parser) gateFor(g *gateDef) ([]*callStmt, error) {
	p.next()
	if t := p.peek(); t.kind == tIdent && slices.Contains(typeKinds, t.text) {
		if _, err := p.scalarType(); err != nil {
			return nil, err
		}
	}
	name, err := p.ident("a loop variable")
	if err != nil {
		return nil, err
	}
	if in := p.next(); in.kind != tIdent || in.text != "in" {
		return nil, p.errf(in.pos, "expected in after the loop variable, found %s", in.describe())
	}
	if slices.Contains(g.params, name.text) || slices.Contains(g.qargs, name.text) {
		return nil, p.errf(name.pos, "loop variable %q hides an argument of gate %q", name.text, g.name)
	}
	var values []float64
	switch {
	case p.is("{"):
		set, err := p.exprSet()
		if err != nil {
			return nil, err
		}
		for _, e := range set {
			v, err := e.eval(p.constEnv())
			if err != nil {
				return nil, p.wrap(err)
			}
			values = append(values, v)
		}
	case p.is("["):
		open := p.next()
		var lo expr
		if !p.is(":") {
			if lo, err = p.expr(0); err != nil {
				return nil, err
			}
		}
		sel, err := p.rangeRest(lo, "]")
		if err != nil {
			return nil, err
		}
		if _, err := p.expect("]"); err != nil {
			return nil, err
		}
		ks, err := p.rangeValues(sel, -1, open.pos)
		if err != nil {
			return nil, err
		}
		for _, k := range ks {
			values = append(values, float64(k))
		}
	default:
		return nil, p.errf(p.peek().pos, "a for loop in a gate body runs over a range [a:b] or a set {…} of constants")
	}
	body, err := p.captureBody("a for loop")
	if err != nil {
		return nil, err
	}
	old, had := p.st.consts[name.text]
	defer p.unsetConst(name.text, old, had)
	var out []*callStmt
	for _, v := range values {
		if err := p.tick(name.pos); err != nil {
			return nil, err
		}
		p.setConst(name.text, v)
		sub := &parser{st: p.st, file: p.file, toks: body}
		for sub.peek().kind != tEOF {
			t := sub.peek()
			var cs []*callStmt
			switch {
			case t.kind == tIdent && t.text == "for":
				if cs, err = sub.gateFor(g); err != nil {
					return nil, err
				}
			case t.kind == tIdent && t.text == "barrier":
				sub.next()
				if _, err := sub.argList(";"); err != nil {
					return nil, err
				}
				if _, err := sub.expect(";"); err != nil {
					return nil, err
				}
				continue
			default:
				c, err := sub.call(true, g.qargs, g.params)
				if err != nil {
					return nil, err
				}
				cs = []*callStmt{c}
			}
			for _, c := range cs {
				c2 := *c
				c2.params = make([]expr, len(c.params))
				for i, e := range c.params {
					c2.params[i] = substitute(e, name.text, v)
				}
				c2.mods = slices.Clone(c.mods)
				for i := range c2.mods {
					if c2.mods[i].arg != nil {
						c2.mods[i].arg = substitute(c2.mods[i].arg, name.text, v)
					}
				}
				out = append(out, &c2)
				if len(out) > p.st.lim.MaxOps {
					return nil, p.limitErr(name.pos, opsLimitError(fmt.Sprintf("the body of gate %q", g.name), p.st.lim.MaxOps))
				}
			}
		}
	}
	return out, nil
}

// substitute replaces the identifier name in e by the number v.
func substitute(e expr, name string, v float64) expr {
	switch x := e.(type) {
	case *identExpr:
		if x.name == name {
			return &numExpr{p: x.p, v: v, integer: v == math.Trunc(v)}
		}
	case *unaryExpr:
		return &unaryExpr{p: x.p, op: x.op, x: substitute(x.x, name, v)}
	case *binaryExpr:
		return &binaryExpr{p: x.p, op: x.op, x: substitute(x.x, name, v), y: substitute(x.y, name, v)}
	case *castExpr:
		return &castExpr{p: x.p, typ: x.typ, x: substitute(x.x, name, v)}
	case *callExpr:
		c := &callExpr{p: x.p, name: x.name}
		for _, a := range x.args {
			c.args = append(c.args, substitute(a, name, v))
		}
		return c
	}
	return e
}

// execCall runs a top-level gate call, broadcasting over registers. It
// counts the operations the call creates before expanding it, so that a
// call beyond Limits.MaxOps fails without being expanded.
// placeholder is the stand-in value of a run-time gate parameter while
// the call is expanded.
func placeholder(i int) float64 { return 1.2345678901234567 + float64(i) }

// runtimeParams lowers the parameters of a call that depend on values
// known only at run time, replacing them in a copy of the call by
// placeholders (nil when none does).
func (p *parser) runtimeParams(c *callStmt) (*callStmt, []*circuit.Expr, error) {
	if p.st.version != 3 || p.st.defDepth == 0 && len(p.st.vars) == 0 && len(p.st.cregs) == 0 {
		return c, nil, nil
	}
	var rt []*circuit.Expr
	copied := false
	for i, e := range c.params {
		if !p.usesVars(e) {
			continue
		}
		x, err := p.lower(e)
		if err != nil {
			return nil, nil, err
		}
		if !copied {
			c2 := *c
			c2.params = slices.Clone(c.params)
			c, copied = &c2, true
		}
		if isConst(x) {
			c.params[i] = &numExpr{p: e.pos(), v: x.Val.Float()}
			continue
		}
		if rt == nil {
			rt = make([]*circuit.Expr, len(c.params))
		}
		if rt[i], err = p.cast(e.pos(), x, circuit.Float64); err != nil {
			return nil, nil, err
		}
		c.params[i] = &numExpr{p: e.pos(), v: placeholder(i)}
	}
	return c, rt, nil
}

// bindRuntime gives the op a call expanded to its run-time parameters:
// only a standard gate that keeps its parameters as they are can take
// them.
func (p *parser) bindRuntime(c *callStmt, ops []circuit.Op, rt []*circuit.Expr) error {
	if len(ops) != 1 || ops[0].Kind != circuit.KindGate || len(ops[0].Params) != len(rt) {
		return p.errf(c.pos, "gate %q with a parameter known only at run time: only a standard gate called directly takes one (its matrix is built on each shot)", c.name)
	}
	op := &ops[0]
	for i, x := range rt {
		if x != nil && op.Params[i] != placeholder(i) {
			return p.errf(c.pos, "gate %q with a parameter known only at run time: only a standard gate called directly takes one (its matrix is built on each shot)", c.name)
		}
	}
	op.ParamExprs = rt
	return nil
}

func (p *parser) execCall(c *callStmt) error {
	c, rt, err := p.runtimeParams(c)
	if err != nil {
		return err
	}
	idx, err := p.resolve(c.args, p.st.qregs, "qubit")
	if err != nil {
		return err
	}
	n, err := p.broadcast(c.args, idx)
	if err != nil {
		return err
	}
	p.st.visits = 0
	cnt, err := p.count(c, p.constEnv(), 0)
	if errors.Is(err, errTooManyCalls) {
		return p.limitErr(c.pos, opsLimitError(fmt.Sprintf("gate %q expands through as many nested gate calls", c.name), p.st.lim.MaxOps))
	}
	if err != nil {
		return p.wrap(err)
	}
	lim := int64(p.st.lim.MaxOps)
	if cnt.final > lim {
		return p.limitErr(c.pos, opsLimitError(fmt.Sprintf("gate %q expands to %s operations", c.name, countString(cnt.final)), p.st.lim.MaxOps))
	}
	if cnt.peak > lim {
		return p.limitErr(c.pos, opsLimitError(fmt.Sprintf("expanding gate %q holds %s operations at once", c.name, countString(cnt.peak)), p.st.lim.MaxOps))
	}
	if total := int64(len(p.st.c.Ops)) + int64(n)*cnt.final; total > lim {
		return p.limitErr(c.pos, opsLimitError(fmt.Sprintf("this statement brings the circuit to %s operations", countString(total)), p.st.lim.MaxOps))
	}
	for k := 0; k < n; k++ {
		qs := make([]int, len(idx))
		for i := range idx {
			qs[i] = pick(idx[i], k)
		}
		p.st.leaves = 0
		ops, err := p.expand(c, p.constEnv(), qs, 0)
		if err != nil {
			return p.wrap(err)
		}
		if rt != nil {
			if err := p.bindRuntime(c, ops, rt); err != nil {
				return err
			}
		}
		if err := p.emit(c.pos, ops...); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) includeHint(name string) string {
	if p.st.calibrated[name] {
		return " (it has only a pulse-level calibration, defcal, which mec does not simulate: define it with gate)"
	}
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

// binaryLevels are OpenQASM 3's binary operators by precedence, loosest
// first (** binds tightest, right to left, in power).
var binaryLevels = [][]string{
	{"||"}, {"&&"}, {"|"}, {"^"}, {"&"}, {"==", "!="}, {"<", "<=", ">", ">="},
	{"<<", ">>"}, {"+", "-"}, {"*", "/", "%"},
}

// expr parses an expression with precedence climbing.
func (p *parser) expr(depth int) (expr, error) {
	if depth > maxExprDepth {
		return nil, p.errf(p.peek().pos, "expression nested too deeply")
	}
	return p.binary(0, depth)
}

// binary parses the operators of binaryLevels[level] and tighter ones.
// OpenQASM 2 has only + - * / and ^ (its power).
func (p *parser) binary(level, depth int) (expr, error) {
	if level == len(binaryLevels) {
		return p.unary(depth)
	}
	if p.st.version == 2 && level != 5 && level < 8 {
		// OpenQASM 2 has == (if (c == n)) and the arithmetic below it.
		if level < 5 {
			return p.binary(5, depth)
		}
		return p.binary(8, depth)
	}
	x, err := p.binary(level+1, depth)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tPunct || !slices.Contains(binaryLevels[level], t.text) {
			return x, nil
		}
		p.next()
		y, err := p.binary(level+1, depth)
		if err != nil {
			return nil, err
		}
		x = &binaryExpr{p: t.pos, op: t.text, x: x, y: y}
	}
}

func (p *parser) unary(depth int) (expr, error) {
	if p.is("-") || p.is("+") || p.st.version == 3 && (p.is("!") || p.is("~")) {
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
	x, err := p.postfix(depth)
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

// postfix parses a primary expression and its indices: a[i], a[i, j],
// a[lo:hi], a[{i, j}], a[i][j].
func (p *parser) postfix(depth int) (expr, error) {
	x, err := p.primary(depth)
	if err != nil {
		return nil, err
	}
	for p.st.version == 3 && p.is("[") {
		open := p.next()
		ix := &indexExpr{p: open.pos, x: x}
		if p.is("{") {
			set, err := p.exprSet()
			if err != nil {
				return nil, err
			}
			ix.sel = &selection{set: set}
		} else {
			var lo expr
			if !p.is(":") {
				if lo, err = p.expr(depth + 1); err != nil {
					return nil, err
				}
			}
			if p.is(":") {
				if ix.sel, err = p.rangeRest(lo, "]"); err != nil {
					return nil, err
				}
			} else {
				ix.idx = append(ix.idx, lo)
				for p.is(",") {
					p.next()
					e, err := p.expr(depth + 1)
					if err != nil {
						return nil, err
					}
					ix.idx = append(ix.idx, e)
				}
			}
		}
		if _, err := p.expect("]"); err != nil {
			return nil, err
		}
		x = ix
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
		n := &numExpr{p: t.pos, v: v, integer: t.kind == tInt}
		if t.kind == tInt {
			n.u, err = strconv.ParseUint(t.text, 10, 64)
			n.exact = err == nil
		}
		return n, nil
	case tString:
		if p.st.version == 3 {
			return &strExpr{p: t.pos, s: t.text}, nil
		}
	case tDuration:
		v, err := durationSeconds(t.text)
		if err != nil {
			return nil, p.errf(t.pos, "%v", err)
		}
		return &numExpr{p: t.pos, v: v}, nil
	case tIdent:
		if t.text == "measure" && p.st.version == 3 {
			q, err := p.argRef()
			if err != nil {
				return nil, err
			}
			return &measureExpr{p: t.pos, q: q}, nil
		}
		if slices.Contains(typeKinds, t.text) && p.st.version == 3 && (p.is("(") || p.is("[")) {
			// A cast: int[8](x), bool(x), angle[20](x).
			typ, err := p.scalarTypeAfter(t)
			if err != nil {
				return nil, err
			}
			if _, err := p.expect("("); err != nil {
				return nil, err
			}
			x, err := p.expr(depth + 1)
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(")"); err != nil {
				return nil, err
			}
			return &castExpr{p: t.pos, typ: typ, x: x}, nil
		}
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
			if !circuit.IsBuiltin(t.text) && (p.st.version == 2 || !p.callable(t.text)) {
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
