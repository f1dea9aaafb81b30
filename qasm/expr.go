package qasm

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/prismai/mec/circuit"
)

// expr is a parsed classical expression (gate parameters, indices, sizes).
type expr interface {
	pos() Pos
	eval(env map[string]float64) (float64, error)
}

type numExpr struct {
	p       Pos
	v       float64
	integer bool   // written without a point or exponent
	exact   bool   // an integer literal that fits 64 bits: u is its value
	u       uint64 // the exact value of an integer literal
}

type identExpr struct {
	p    Pos
	name string
}

type unaryExpr struct {
	p  Pos
	op string
	x  expr
}

type binaryExpr struct {
	p    Pos
	op   string
	x, y expr
}

type callExpr struct {
	p    Pos
	name string
	args []expr
}

func (e *numExpr) pos() Pos    { return e.p }
func (e *identExpr) pos() Pos  { return e.p }
func (e *unaryExpr) pos() Pos  { return e.p }
func (e *binaryExpr) pos() Pos { return e.p }
func (e *callExpr) pos() Pos   { return e.p }

func (e *numExpr) eval(map[string]float64) (float64, error) { return e.v, nil }

func (e *identExpr) eval(env map[string]float64) (float64, error) {
	if v, ok := env[e.name]; ok {
		return v, nil
	}
	return 0, &Error{Pos: e.p, Msg: fmt.Sprintf("undefined identifier %q in expression", e.name)}
}

func (e *unaryExpr) eval(env map[string]float64) (float64, error) {
	x, err := e.x.eval(env)
	if err != nil {
		return 0, err
	}
	switch e.op {
	case "-":
		return -x, nil
	case "!", "~":
		r, err := circuit.Unary(e.op, circuit.RealValue(x))
		if err != nil {
			return 0, &Error{Pos: e.p, Msg: err.Error()}
		}
		return r.Float(), nil
	}
	return x, nil
}

func (e *binaryExpr) eval(env map[string]float64) (float64, error) {
	x, err := e.x.eval(env)
	if err != nil {
		return 0, err
	}
	y, err := e.y.eval(env)
	if err != nil {
		return 0, err
	}
	var v float64
	switch e.op {
	case "+":
		v = x + y
	case "-":
		v = x - y
	case "*":
		v = x * y
	case "/":
		if y == 0 {
			return 0, &Error{Pos: e.p, Msg: "division by zero"}
		}
		v = x / y
	case "%":
		if y == 0 {
			return 0, &Error{Pos: e.p, Msg: "modulo by zero"}
		}
		v = math.Mod(x, y)
	case "**", "^":
		v = math.Pow(x, y)
	default:
		// Comparisons, shifts, bitwise and logical operators, on the
		// numbers as OpenQASM's untyped literals.
		r, err := circuit.Binary(e.op, circuit.RealValue(x), circuit.RealValue(y))
		if err != nil {
			return 0, &Error{Pos: e.p, Msg: err.Error()}
		}
		v = r.Float()
	}
	return finite(e.p, v)
}

func finite(p Pos, v float64) (float64, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, &Error{Pos: p, Msg: fmt.Sprintf("expression evaluates to %v", v)}
	}
	return v, nil
}

func (e *callExpr) eval(env map[string]float64) (float64, error) {
	args := make([]circuit.Value, len(e.args))
	for i, a := range e.args {
		x, err := a.eval(env)
		if err != nil {
			return 0, err
		}
		args[i] = circuit.RealValue(x)
	}
	v, err := circuit.Builtin(e.name, args)
	if err != nil {
		return 0, &Error{Pos: e.p, Msg: err.Error()}
	}
	return v.Float(), nil
}

// constants3 are the built-in constants of OpenQASM 3; OpenQASM 2 has only pi.
var constants3 = map[string]float64{
	"pi": math.Pi, "π": math.Pi, "tau": 2 * math.Pi, "τ": 2 * math.Pi, "euler": math.E, "ℇ": math.E,
	"true": 1, "false": 0, // bool values, as numbers
}

var constants2 = map[string]float64{"pi": math.Pi}

// checkIdents reports the first identifier in e that is not in names.
func checkIdents(e expr, names map[string]bool) error {
	switch e := e.(type) {
	case *identExpr:
		if !names[e.name] {
			return &Error{Pos: e.p, Msg: fmt.Sprintf("undefined identifier %q in expression", e.name)}
		}
	case *unaryExpr:
		return checkIdents(e.x, names)
	case *binaryExpr:
		if err := checkIdents(e.x, names); err != nil {
			return err
		}
		return checkIdents(e.y, names)
	case *callExpr:
		if !circuit.IsBuiltin(e.name) {
			return &Error{Pos: e.p, Msg: fmt.Sprintf("unknown function %q", e.name)}
		}
		for _, a := range e.args {
			if err := checkIdents(a, names); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseNumber converts a number token.
func parseNumber(t token) (float64, error) {
	v, err := strconv.ParseFloat(t.text, 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, &Error{Pos: t.pos, Msg: fmt.Sprintf("number %s out of range", t.text)}
	}
	return v, nil
}

// usesAny reports whether e refers to one of names.
func usesAny(e expr, names []string) bool {
	switch e := e.(type) {
	case *identExpr:
		return slices.Contains(names, e.name)
	case *unaryExpr:
		return usesAny(e.x, names)
	case *binaryExpr:
		return usesAny(e.x, names) || usesAny(e.y, names)
	case *callExpr:
		for _, a := range e.args {
			if usesAny(a, names) {
				return true
			}
		}
	}
	return false
}

// EvalConst evaluates an OpenQASM 3 constant expression such as 0.5,
// -pi/4 or 2*tau/3 (numbers, the built-in constants, arithmetic and the
// built-in functions): the values of inputs given on a command line.
func EvalConst(src string) (float64, error) {
	p := &parser{st: &state{version: 3}, lx: newLexer(src, "")}
	e, err := p.expr(0)
	if err == nil && p.peek().kind != tEOF {
		err = p.errf(p.peek().pos, "unexpected %s after the value", p.peek().describe())
	}
	if p.lexErr != nil {
		err = p.lexErr
	}
	if err != nil {
		return 0, err
	}
	v, err := e.eval(constants3)
	if err != nil {
		return 0, p.wrap(err)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("qasm: value %v is not finite", v)
	}
	return v, nil
}
