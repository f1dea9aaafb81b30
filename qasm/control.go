package qasm

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/prismai/mec/circuit"
)

// Control flow. A condition known when the program is read picks its
// branch there and then (the other is skipped unread); one that depends on
// a measurement is computed into a scratch bit on each branch of the shot
// simulator, and the ops of the body carry the condition. Leaving a loop
// or a subroutine early (break, continue, return, end) is likewise settled
// by the parser when it happens on every path, and otherwise sets a
// scratch "exit" bit that every later op inside the frame is conditioned
// on (a frame is a loop, one of its iterations, a subroutine call or the
// program).

// frame is a loop, a loop iteration, a subroutine call or the program.
type frame struct {
	kind  string // "program", "loop", "iter", "def"
	conds int    // len(state.conds) when the frame began
	// dead is the scratch bit set on the paths that left the frame
	// early (-1: none has).
	dead int
	// result is a subroutine's return value.
	result *classVar
	name   string
}

// flowSignal is a break, continue, return or end taken on every path: the
// frame it leaves stops reading its body.
type flowSignal struct {
	kind string
	pos  Pos
}

func (f *flowSignal) Error() string {
	return fmt.Sprintf("%d:%d: %s outside a loop or subroutine", f.pos.Line, f.pos.Col, f.kind)
}

func (p *parser) pushFrame(kind string) *frame {
	f := &frame{kind: kind, conds: len(p.st.conds), dead: -1}
	p.st.frames = append(p.st.frames, f)
	return f
}

// popFrame ends the innermost frame (f) and frees its exit bit.
func (p *parser) popFrame(f *frame, pos Pos) error {
	if n := len(p.st.frames); n == 0 || p.st.frames[n-1] != f {
		return p.errf(pos, "internal error: frames out of order")
	}
	p.st.frames = p.st.frames[:len(p.st.frames)-1]
	if f.dead >= 0 {
		return p.release(pos, []int{f.dead})
	}
	return nil
}

// frameConds returns the conditions "no exit taken" of the active frames.
func (p *parser) frameConds() []circuit.Cond {
	var cs []circuit.Cond
	for _, f := range p.st.frames {
		if f.dead >= 0 {
			cs = append(cs, circuit.Cond{Clbits: []int{f.dead}, Value: 0})
		}
	}
	return cs
}

// exit leaves the frame a break, continue, return or end targets.
func (p *parser) exit(kind string, pos Pos) error {
	var target *frame
	at := -1
	for i := len(p.st.frames) - 1; i >= 0 && target == nil; i-- {
		f := p.st.frames[i]
		switch {
		case kind == "end" && f.kind == "program",
			kind == "return" && f.kind == "def",
			kind == "continue" && f.kind == "iter",
			kind == "break" && f.kind == "loop":
			target, at = f, i
		case f.kind == "def" && (kind == "break" || kind == "continue"):
			i = -1
		}
	}
	if target == nil {
		what := map[string]string{"break": "a loop", "continue": "a loop", "return": "a subroutine", "end": "the program"}[kind]
		return p.errf(pos, "%s outside %s", kind, what)
	}
	static := len(p.st.conds) == target.conds
	for _, f := range p.st.frames[at:] {
		if f.dead >= 0 {
			static = false
		}
	}
	if static {
		return &flowSignal{kind: kind, pos: pos}
	}
	conds := append(slices.Clone(p.st.conds), p.frameConds()...)
	if target.dead < 0 {
		target.dead = p.temp(1)[0]
	}
	return p.emitRaw(pos, circuit.Op{Kind: circuit.KindSet, Clbit: target.dead, Bit: true, Conds: conds})
}

// flowStmt handles break; continue; and end;.
func (p *parser) flowStmt() error {
	kw := p.next()
	if _, err := p.expect(";"); err != nil {
		return err
	}
	return p.exit(kw.text, kw.pos)
}

// returnStmt handles return; and return value; in a subroutine.
func (p *parser) returnStmt() error {
	kw := p.next()
	var f *frame
	for i := len(p.st.frames) - 1; i >= 0; i-- {
		if p.st.frames[i].kind == "def" {
			f = p.st.frames[i]
			break
		}
	}
	if f == nil {
		return p.errf(kw.pos, "return outside a subroutine")
	}
	if !p.is(";") {
		e, err := p.expr(0)
		if err != nil {
			return err
		}
		if f.result == nil {
			return p.errf(e.pos(), "subroutine %q returns no value (declare it with -> TYPE)", f.name)
		}
		x, err := p.lower(e)
		if err != nil {
			return err
		}
		if err := p.storeVar(e.pos(), f.result, x); err != nil {
			return err
		}
	} else if f.result != nil {
		return p.errf(kw.pos, "subroutine %q returns a %s: return a value", f.name, f.result.typ)
	}
	if _, err := p.expect(";"); err != nil {
		return err
	}
	return p.exit("return", kw.pos)
}

// condition reads ( expr ) and lowers it to a bool.
func (p *parser) condition() (*circuit.Expr, Pos, error) {
	if _, err := p.expect("("); err != nil {
		return nil, Pos{}, err
	}
	x, pos, err := p.conditionExpr()
	if err != nil {
		return nil, pos, err
	}
	if _, err := p.expect(")"); err != nil {
		return nil, Pos{}, err
	}
	return x, pos, nil
}

// conditionExpr reads an expression and lowers it to a bool. A bit
// register compared with a number that does not fit it is an error.
func (p *parser) conditionExpr() (*circuit.Expr, Pos, error) {
	e, err := p.expr(0)
	if err != nil {
		return nil, Pos{}, err
	}
	if b, ok := e.(*binaryExpr); ok && (b.op == "==" || b.op == "!=") {
		if ref, ok := p.bitRef(b.x); ok {
			if n, ok := b.y.(*numExpr); ok && n.integer {
				idx, err := p.resolve([]argRef{ref}, p.st.cregs, "bit")
				if err != nil {
					return nil, Pos{}, err
				}
				if w := len(idx[0]); w < 64 && (n.v < 0 || n.v >= math.Ldexp(1, w)) {
					return nil, Pos{}, p.errf(n.p, "condition value %v does not fit %d bits", n.v, w)
				}
			}
		}
	}
	x, err := p.lower(e)
	if err != nil {
		return nil, Pos{}, err
	}
	if x, err = p.cast(e.pos(), x, circuit.Bool); err != nil {
		return nil, Pos{}, err
	}
	return x, e.pos(), nil
}

// condOf returns x as a circuit.Cond when it is one: a bit, its
// negation, or bits compared with == or != to a number that fits them.
func condOf(x *circuit.Expr) (circuit.Cond, bool) {
	unwrap := func(e *circuit.Expr) *circuit.Expr {
		for e.Op == "cast" && e.Args[0].Op == "load" && e.Args[0].Type.Kind == circuit.ClassBit &&
			(e.Type.Kind == circuit.ClassBool || (e.Type.Kind == circuit.ClassInt || e.Type.Kind == circuit.ClassUint) && e.Type.Width >= e.Args[0].Type.Width) {
			e = e.Args[0]
		}
		return e
	}
	isBits := func(e *circuit.Expr) bool { return e.Op == "load" && e.Type.Kind == circuit.ClassBit }
	x = unwrap(x)
	switch {
	case isBits(x) && x.Type.Width == 1:
		return circuit.Cond{Clbits: x.Bits, Value: 1}, true
	case x.Op == "!" && isBits(unwrap(x.Args[0])) && unwrap(x.Args[0]).Type.Width == 1:
		return circuit.Cond{Clbits: unwrap(x.Args[0]).Bits, Value: 1, Not: true}, true
	case x.Op == "==" || x.Op == "!=":
		a, c := unwrap(x.Args[0]), x.Args[1]
		if !isBits(a) {
			a, c = unwrap(x.Args[1]), x.Args[0]
		}
		if !isBits(a) || !isConst(c) || c.Val.Type.Kind == circuit.ClassFloat || c.Val.Type.Kind == circuit.ClassAngle {
			return circuit.Cond{}, false
		}
		v := c.Val
		if v.Type.Kind == circuit.ClassReal {
			if !v.Exact || v.F < 0 {
				return circuit.Cond{}, false
			}
			v = circuit.Value{Type: circuit.ClassType{Kind: circuit.ClassUint, Width: 64}, U: v.U}
		}
		if v.Type.Kind == circuit.ClassInt && v.Int() < 0 {
			return circuit.Cond{}, false
		}
		if a.Type.Width < 64 && v.U>>uint(a.Type.Width) != 0 {
			return circuit.Cond{}, false
		}
		return circuit.Cond{Clbits: a.Bits, Value: v.U, Not: x.Op == "!="}, true
	}
	return circuit.Cond{}, false
}

// ifStmt handles if (cond) stmt-or-block [else stmt-or-block] (and
// OpenQASM 2's if (c == n) op;).
func (p *parser) ifStmt(depth int) error {
	kw := p.next()
	x, _, err := p.condition()
	if err != nil {
		return err
	}
	hasElse := func() bool {
		t := p.peek()
		return t.kind == tIdent && t.text == "else"
	}
	if isConst(x) {
		taken := x.Val.Truth()
		if err := p.branch(taken, depth); err != nil {
			return err
		}
		if hasElse() {
			if p.st.version == 2 {
				return p.errf(p.peek().pos, "else is OpenQASM 3 (OPENQASM 2 has if (c == n) op;only)")
			}
			p.next()
			return p.branch(!taken, depth)
		}
		return nil
	}
	cond, simple := condOf(x)
	var tb []int
	if !simple {
		tb = p.temp(1)
		if err := p.emit(kw.pos, circuit.Op{Kind: circuit.KindCompute, Expr: x, Dest: tb}); err != nil {
			return err
		}
		cond = circuit.Cond{Clbits: tb, Value: 1}
	}
	start, level := len(p.st.c.Ops), len(p.st.conds)
	if err := p.condBody(cond, depth); err != nil {
		return err
	}
	if hasElse() {
		t := p.next()
		if p.st.version == 2 {
			return p.errf(t.pos, "else is OpenQASM 3 (OPENQASM 2 has if (c == n) op; only)")
		}
		neg := cond
		neg.Not = !neg.Not
		if err := p.condBody(neg, depth); err != nil {
			return err
		}
	}
	if simple {
		return p.guardIf(cond, start, level)
	}
	return p.release(kw.pos, tb)
}

// branch reads the statement or block of an if whose condition is known:
// it runs when taken and is skipped unread otherwise.
func (p *parser) branch(taken bool, depth int) error {
	if !taken {
		return p.skipStatement()
	}
	if !p.is("{") {
		return p.statement(depth)
	}
	return p.block(depth, "an if")
}

// block reads a { block } in a scope of its own.
func (p *parser) block(depth int, what string) error {
	open := p.next()
	if p.st.version == 2 {
		return p.errf(open.pos, "OPENQASM 2 has no blocks: if (c == n) op;")
	}
	return p.scoped(func() error {
		for !p.is("}") {
			if p.peek().kind == tEOF {
				return p.errf(open.pos, "unclosed { of %s", what)
			}
			if err := p.statement(depth); err != nil {
				return err
			}
		}
		p.next()
		return nil
	})
}

// skipStatement skips one statement unread: a block, an if with its else,
// a loop with its body, a definition, or tokens up to a ; outside
// brackets.
func (p *parser) skipStatement() error {
	t := p.peek()
	switch {
	case t.kind == tPunct && t.text == "{":
		return p.skipGroup("a block")
	case t.kind == tIdent && t.text == "if":
		p.next()
		if err := p.skipGroup("an if condition"); err != nil {
			return err
		}
		if err := p.skipStatement(); err != nil {
			return err
		}
		if n := p.peek(); n.kind == tIdent && n.text == "else" {
			p.next()
			return p.skipStatement()
		}
		return nil
	case t.kind == tIdent && t.text == "while":
		p.next()
		if err := p.skipGroup("a while condition"); err != nil {
			return err
		}
		return p.skipStatement()
	case t.kind == tIdent && t.text == "for":
		for {
			n := p.next()
			if n.kind == tEOF {
				return p.errf(t.pos, "unfinished for loop")
			}
			if n.kind == tIdent && n.text == "in" {
				break
			}
		}
		if p.is("{") || p.is("[") {
			if err := p.skipGroup("a for loop's values"); err != nil {
				return err
			}
		} else {
			p.next()
		}
		return p.skipStatement()
	}
	// Anything else: up to its ; or, for a definition or a box, its
	// { body }.
	level := 0
	for {
		n := p.peek()
		switch {
		case n.kind == tEOF:
			return p.errf(t.pos, "unfinished statement")
		case n.kind == tPunct && (n.text == "(" || n.text == "["):
			level++
		case n.kind == tPunct && (n.text == ")" || n.text == "]"):
			level--
		case n.kind == tPunct && n.text == "{" && level == 0:
			if err := p.skipGroup("a block"); err != nil {
				return err
			}
			if p.is(";") {
				p.next()
			}
			switch t.text {
			case "def", "gate", "box", "defcal", "cal", "switch":
				return nil
			}
			continue
		case n.kind == tPunct && n.text == ";" && level == 0:
			p.next()
			return nil
		}
		p.next()
	}
}

// whileLoop handles while (cond) body. While the condition is known as
// the program is read, the loop runs there (at most maxStaticRounds
// rounds); once it depends on a measurement the body is unrolled
// Limits.MaxWhile more times, round k guarded by a scratch bit g_k =
// g_{k−1} ∧ cond (evaluated when the round starts, on each shot's own
// bits), and a final check stops the run on a shot whose loop would go on
// past the limit. Two scratch bits serve every round (g_k overwrites
// g_{k−2}); results leave them out (circuit.Circuit.Scratch).
func (p *parser) whileLoop(depth int) error {
	kw := p.next()
	condToks, err := p.captureParens("a while condition")
	if err != nil {
		return err
	}
	body, err := p.captureBody("a while loop")
	if err != nil {
		return err
	}
	loop := p.pushFrame("loop")
	err = p.whileRounds(kw, condToks, body, depth)
	if perr := p.popFrame(loop, kw.pos); err == nil {
		err = perr
	}
	return err
}

// maxStaticRounds bounds a while loop whose condition stays known.
const maxStaticRounds = 1 << 20

func (p *parser) whileRounds(kw token, condToks, body []token, depth int) error {
	var g []int
	defer func() {
		if g != nil {
			_ = p.release(kw.pos, g)
		}
	}()
	prev, limit, runtime := -1, p.st.lim.MaxWhile, 0
	for k := 0; ; k++ {
		if err := p.tick(kw.pos); err != nil {
			return err
		}
		// From the second run-time round on, the condition is read only
		// for the shots still in the loop: ops it emits (a measuring
		// subroutine, an extern call) are guarded by the previous round.
		sub := &parser{st: p.st, file: p.file, toks: condToks}
		if prev >= 0 {
			p.st.conds = append(p.st.conds, circuit.Cond{Clbits: []int{prev}, Value: 1})
		}
		x, _, err := sub.conditionExpr()
		if prev >= 0 {
			p.st.conds = p.st.conds[:len(p.st.conds)-1]
		}
		if err != nil {
			return err
		}
		if t := sub.peek(); t.kind != tEOF {
			return sub.errf(t.pos, "unexpected %s in the while condition", t.describe())
		}
		if prev < 0 && isConst(x) {
			if !x.Val.Truth() {
				return nil
			}
			if k >= maxStaticRounds {
				return p.errf(kw.pos, "the while loop ran %d rounds as the program was read and would go on", k)
			}
			before, ops := p.knownState(), len(p.st.c.Ops)
			broke, err := p.iteration(body, depth, nil)
			if err != nil || broke {
				return err
			}
			if len(p.st.c.Ops) == ops && p.knownState() == before {
				return p.errf(kw.pos, "the while loop never ends: its condition stays true and a round changes nothing")
			}
			continue
		}
		if isConst(x) && !x.Val.Truth() {
			return nil // every shot has left the loop
		}
		if g == nil {
			g = p.temp(2)
		}
		cur := g[runtime%2]
		guard := []circuit.Cond(nil)
		if prev >= 0 {
			guard = append(guard, circuit.Cond{Clbits: []int{prev}, Value: 1})
		}
		set := circuit.Op{Kind: circuit.KindSet, Clbit: cur, Bit: true, Conds: guard}
		if c, ok := condOf(x); ok {
			set.Conds = append(set.Conds, c)
		} else if !isConst(x) {
			set = circuit.Op{Kind: circuit.KindCompute, Expr: x, Dest: []int{cur}, Conds: guard}
		}
		if err := p.emit(kw.pos, circuit.Op{Kind: circuit.KindSet, Clbit: cur}, set); err != nil {
			return err
		}
		on := circuit.Cond{Clbits: []int{cur}, Value: 1}
		if runtime == limit {
			msg := fmt.Sprintf("%s: the while loop at %s ran %d times and would go on: more than the limit of %d iterations (qasm Limits.MaxWhile; raise it with %s)",
				p.fileName(), kw.pos, limit, limit, EnvMaxWhile)
			return p.emit(kw.pos, circuit.Op{Kind: circuit.KindFail, Name: msg, Conds: []circuit.Cond{on}})
		}
		runtime++
		p.st.conds = append(p.st.conds, on)
		broke, err := p.iteration(body, depth, nil)
		p.st.conds = p.st.conds[:len(p.st.conds)-1]
		if err != nil || broke {
			return err
		}
		prev = cur
	}
}

// iteration reads one round of a loop body in a frame and scope of its
// own (bind declares the loop variable); broke reports a break taken on
// every path.
func (p *parser) iteration(body []token, depth int, bind func()) (broke bool, err error) {
	it := p.pushFrame("iter")
	err = p.scoped(func() error {
		if bind != nil {
			bind()
		}
		sub := &parser{st: p.st, file: p.file, toks: body}
		for sub.peek().kind != tEOF {
			if err := sub.statement(depth); err != nil {
				return err
			}
		}
		return nil
	})
	if perr := p.popFrame(it, p.peek().pos); err == nil {
		err = perr
	}
	if sig, ok := err.(*flowSignal); ok && (sig.kind == "break" || sig.kind == "continue") {
		return sig.kind == "break", nil
	}
	return false, err
}

// captureParens reads ( … ) and returns the tokens inside.
func (p *parser) captureParens(what string) ([]token, error) {
	open, err := p.expect("(")
	if err != nil {
		return nil, err
	}
	var toks []token
	level := 1
	for {
		t := p.next()
		switch {
		case t.kind == tEOF:
			return nil, p.errf(open.pos, "unclosed ( of %s", what)
		case t.kind == tPunct && t.text == "(":
			level++
		case t.kind == tPunct && t.text == ")":
			level--
		}
		if level == 0 {
			return toks, nil
		}
		toks = append(toks, t)
	}
}

// switchStmt handles switch (x) { case a, b { … } … default { … } }.
func (p *parser) switchStmt(depth int) error {
	kw := p.next()
	if _, err := p.expect("("); err != nil {
		return err
	}
	e, err := p.expr(0)
	if err != nil {
		return err
	}
	if _, err := p.expect(")"); err != nil {
		return err
	}
	x, err := p.lower(e)
	if err != nil {
		return err
	}
	switch x.Type.Kind {
	case circuit.ClassInt, circuit.ClassUint, circuit.ClassBit, circuit.ClassReal:
	default:
		return p.errf(e.pos(), "switch needs an integer value, not %s", x.Type)
	}
	open, err := p.expect("{")
	if err != nil {
		return err
	}
	var (
		temps   []int
		hits    []circuit.Cond // runtime: each case's bit
		matched bool
		seen    = map[int64]bool{}
		dflt    bool
	)
	if !isConst(x) {
		b := p.temp(x.Type.StorageWidth())
		temps = append(temps, b...)
		if err := p.storeBits(kw.pos, b, x); err != nil {
			return err
		}
		x = &circuit.Expr{Op: "load", Type: x.Type, Bits: b}
	}
	for !p.is("}") {
		t := p.next()
		switch {
		case t.kind == tEOF:
			return p.errf(open.pos, "unclosed { of a switch")
		case dflt:
			return p.errf(t.pos, "default must be the last case of a switch")
		case t.kind == tIdent && t.text == "case":
			var vals []*circuit.Expr
			for {
				ve, err := p.expr(0)
				if err != nil {
					return err
				}
				v, err := p.constValue(ve, "a case value")
				if err != nil {
					return err
				}
				if v.Type.Kind == circuit.ClassReal && v.F != float64(int64(v.F)) || v.Type.Kind == circuit.ClassFloat || v.Type.Kind == circuit.ClassAngle {
					return p.errf(ve.pos(), "case values are integers, found %v", v)
				}
				if seen[v.Int()] {
					return p.errf(ve.pos(), "case %d appears twice in the switch", v.Int())
				}
				seen[v.Int()] = true
				vals = append(vals, constExpr(v))
				if !p.is(",") {
					break
				}
				p.next()
			}
			if !p.is("{") {
				return p.errf(p.peek().pos, "a case needs a { block }")
			}
			if isConst(x) {
				hit := false
				for _, v := range vals {
					eq, err := p.fold(t.pos, &circuit.Expr{Op: "==", Type: circuit.Bool, Args: []*circuit.Expr{x, v}})
					if err != nil {
						return err
					}
					hit = hit || eq.Val.Truth()
				}
				if err := p.branch(hit && !matched, depth); err != nil {
					return err
				}
				matched = matched || hit
				continue
			}
			var any *circuit.Expr
			for _, v := range vals {
				eq := &circuit.Expr{Op: "==", Type: circuit.Bool, Args: []*circuit.Expr{x, v}}
				if any == nil {
					any = eq
				} else {
					any = &circuit.Expr{Op: "||", Type: circuit.Bool, Args: []*circuit.Expr{any, eq}}
				}
			}
			hb := p.temp(1)
			temps = append(temps, hb...)
			if err := p.emit(t.pos, circuit.Op{Kind: circuit.KindCompute, Expr: any, Dest: hb}); err != nil {
				return err
			}
			c := circuit.Cond{Clbits: hb, Value: 1}
			hits = append(hits, circuit.Cond{Clbits: hb, Value: 0})
			if err := p.condBody(c, depth); err != nil {
				return err
			}
		case t.kind == tIdent && t.text == "default":
			dflt = true
			if !p.is("{") {
				return p.errf(p.peek().pos, "default needs a { block }")
			}
			if isConst(x) {
				if err := p.branch(!matched, depth); err != nil {
					return err
				}
				continue
			}
			n := len(p.st.conds)
			p.st.conds = append(p.st.conds, hits...)
			err := p.block(depth, "a switch default")
			p.st.conds = p.st.conds[:n]
			if err != nil {
				return err
			}
		default:
			return p.errf(t.pos, "expected case or default in a switch, found %s", t.describe())
		}
	}
	p.next()
	return p.release(kw.pos, temps)
}

// externDecl is an extern function's signature.
type externDecl struct {
	name   string
	params []circuit.ClassType
	ret    *circuit.ClassType
}

// externStmt handles extern name(TYPE, …) [-> TYPE];.
func (p *parser) externStmt() error {
	p.next()
	name, err := p.ident("an extern function name")
	if err != nil {
		return err
	}
	if err := p.checkNewName(name); err != nil {
		return err
	}
	d := &externDecl{name: name.text}
	if _, err := p.expect("("); err != nil {
		return err
	}
	for !p.is(")") {
		t, err := p.scalarType()
		if err != nil {
			return err
		}
		d.params = append(d.params, t.class())
		if p.peek().kind == tIdent {
			p.next() // an optional parameter name
		}
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
	if _, err := p.expect(";"); err != nil {
		return err
	}
	if p.st.externs == nil {
		p.st.externs = map[string]*externDecl{}
	}
	p.st.externs[name.text] = d
	return nil
}

// callExtern lowers a call of an extern function: called now, through
// Options.Host, when every argument is known; otherwise on each branch at
// run time (through the simulator's host).
func (p *parser) callExtern(e *callExpr, d *externDecl, args []*circuit.Expr) (*circuit.Expr, error) {
	if len(args) != len(d.params) {
		return nil, p.errf(e.p, "extern %q takes %d arguments, got %d", d.name, len(d.params), len(args))
	}
	known := true
	for i := range args {
		x, err := p.convertFor(e.args[i].pos(), args[i], d.params[i], fmt.Sprintf("argument %d of %q", i+1, d.name))
		if err != nil {
			return nil, err
		}
		args[i] = x
		known = known && isConst(x)
	}
	t := circuit.Real
	if d.ret != nil {
		t = *d.ret
	}
	call := &circuit.Expr{Op: "extern", Name: d.name, Type: t, Args: args}
	if !known || p.st.opts.Host == nil {
		return call, nil
	}
	v, err := call.Eval(nil, p.st.opts.Host)
	if err != nil {
		return nil, p.errf(e.p, "%v", err)
	}
	return constExpr(v), nil
}

// exprStmt handles a call used as a statement: an extern (its value, if
// any, is dropped) or a built-in function.
func (p *parser) exprStmt() error {
	e, err := p.expr(0)
	if err != nil {
		return err
	}
	if _, err := p.expect(";"); err != nil {
		return err
	}
	x, err := p.lower(e)
	if err != nil {
		return err
	}
	if isConst(x) {
		return nil
	}
	if x.Op != "extern" {
		return p.errf(e.pos(), "this expression has no effect")
	}
	return p.emit(e.pos(), circuit.Op{Kind: circuit.KindCompute, Expr: x})
}

// skipGroup skips a bracketed group — ( … ), [ … ] or { … } with what is
// nested in it — that the next token opens.
func (p *parser) skipGroup(what string) error {
	open := p.next()
	if open.kind != tPunct || (open.text != "(" && open.text != "[" && open.text != "{") {
		return p.errf(open.pos, "%s: expected a bracket, found %s", what, open.describe())
	}
	level := 1
	for level > 0 {
		t := p.next()
		switch {
		case t.kind == tEOF:
			return p.errf(open.pos, "%s: unclosed %q", what, open.text)
		case t.kind == tPunct && (t.text == "(" || t.text == "[" || t.text == "{"):
			level++
		case t.kind == tPunct && (t.text == ")" || t.text == "]" || t.text == "}"):
			level--
		}
	}
	return nil
}

// knownState fingerprints the variables' values as the parser knows them.
func (p *parser) knownState() string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(p.st.vars)) {
		v := p.st.vars[name]
		for _, el := range append([]*classVar{v}, v.elems...) {
			fmt.Fprintf(&b, "%s:%v:%v:%x:%v;", name, el.known, el.val.Type, el.val.Raw(), el.bits)
		}
	}
	return b.String()
}
