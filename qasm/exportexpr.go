package qasm

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/prismai/mec/circuit"
)

// Export3's classical ops: a compute op writes its value into the flat bit
// registers (c and mec_scratch) through a block-local bit[n] temporary, and
// expressions read bits back with casts (uint[4](c[0:3])). A float held in
// bits cannot be written that way (OpenQASM casts no float to or from
// bits): each group of bits a float compute op writes becomes a float[64]
// variable mec_f<first bit>, and the sets that zero or fill the group are
// written as assignments to it. Extern functions the expressions call are
// declared from the types of their calls.

// exportClassical collects what the classical ops need declared: the
// externs and the float groups.
// ErrNotExpressible is returned (wrapped) by Export3 for a circuit that
// OpenQASM 3 cannot express as mec holds it: an array element picked at
// run time inside a larger expression, or a float value that shares bits
// with other values.
var ErrNotExpressible = errors.New("not expressible in OpenQASM 3")

type exportClassical struct {
	bn      bitNames
	externs map[string]string   // name → declaration
	floats  map[int]*floatGroup // first bit → group
	ofBit   map[int]*floatGroup // every bit of a group → group
}

type floatGroup struct {
	bits []int
	typ  circuit.ClassType
}

func (x *exportClassical) name(g *floatGroup) string { return fmt.Sprintf("mec_f%d", g.bits[0]) }

// scanClassical reads every op's expressions.
func scanClassical(c *circuit.Circuit, bn bitNames) (*exportClassical, error) {
	x := &exportClassical{bn: bn, externs: map[string]string{}, floats: map[int]*floatGroup{}, ofBit: map[int]*floatGroup{}}
	var walk func(e *circuit.Expr) error
	walk = func(e *circuit.Expr) error {
		if e.Op == "extern" {
			var ps []string
			for _, a := range e.Args {
				ps = append(ps, a.Type.String())
			}
			d := fmt.Sprintf("extern %s(%s)", e.Name, strings.Join(ps, ", "))
			if e.Type.Kind != circuit.ClassReal {
				d += " -> " + e.Type.String()
			}
			if old, ok := x.externs[e.Name]; ok && old != d {
				return fmt.Errorf("extern %s is called with two signatures (%s; %s)", e.Name, old, d)
			}
			x.externs[e.Name] = d
		}
		if e.Op == "load" && e.Type.Kind == circuit.ClassFloat {
			// A float only read here: its writers are sets (a
			// constant assigned under a run-time condition).
			if err := x.floatGroup(e.Bits, e.Type); err != nil {
				return err
			}
		}
		for _, a := range e.Args {
			if err := walk(a); err != nil {
				return err
			}
		}
		return nil
	}
	for i := range c.Ops {
		op := &c.Ops[i]
		if op.Expr != nil {
			if err := walk(op.Expr); err != nil {
				return nil, err
			}
			if op.Expr.Type.Kind == circuit.ClassFloat && len(op.Dest) > 0 {
				if err := x.floatGroup(op.Dest, op.Expr.Type); err != nil {
					return nil, fmt.Errorf("op %d: %w", i, err)
				}
			}
		}
		for _, e := range op.ParamExprs {
			if e != nil {
				if err := walk(e); err != nil {
					return nil, fmt.Errorf("op %d: %w", i, err)
				}
			}
		}
	}
	return x, nil
}

// floatGroup records bits as the storage of one float variable of type
// typ; bits that overlap another group's differently are an error.
func (x *exportClassical) floatGroup(bits []int, typ circuit.ClassType) error {
	if g := x.ofBit[bits[0]]; g != nil {
		if !slices.Equal(g.bits, bits) || g.typ != typ {
			return fmt.Errorf("a float written to bits that overlap another float's: %w", ErrNotExpressible)
		}
		return nil
	}
	for _, b := range bits {
		if x.ofBit[b] != nil {
			return fmt.Errorf("a float written to bits that overlap another float's: %w", ErrNotExpressible)
		}
	}
	g := &floatGroup{bits: bits, typ: typ}
	x.floats[bits[0]] = g
	for _, b := range bits {
		x.ofBit[b] = g
	}
	return nil
}

// header writes the declarations of externs and float variables.
func (x *exportClassical) header(b *strings.Builder) {
	for _, n := range slices.Sorted(maps.Keys(x.externs)) {
		b.WriteString(x.externs[n] + ";\n")
	}
	for _, k := range slices.Sorted(maps.Keys(x.floats)) {
		g := x.floats[k]
		fmt.Fprintf(b, "%s %s;\n", g.typ, x.name(g))
	}
}

// floatSets recognises, at op i, a run of sets that writes a whole float
// group (in bit order, with the same conditions) and returns the
// statement and the number of ops it covers.
func (x *exportClassical) floatSets(ops []circuit.Op, i int) (string, int, bool) {
	g := x.ofBit[ops[i].Clbit]
	if g == nil || ops[i].Clbit != g.bits[0] || i+len(g.bits) > len(ops) {
		return "", 0, false
	}
	var u uint64
	for j, b := range g.bits {
		op := &ops[i+j]
		if op.Kind != circuit.KindSet || op.Clbit != b || !slices.EqualFunc(op.Conds, ops[i].Conds, condEqual) {
			return "", 0, false
		}
		if op.Bit {
			u |= 1 << uint(j)
		}
	}
	v := circuit.Load(g.typ, unpack(u, len(g.bits)), seq(len(g.bits)))
	return fmt.Sprintf("%s = %s;\n", x.name(g), floatLit(v.F)), len(g.bits), true
}

func condEqual(a, b circuit.Cond) bool {
	return a.Value == b.Value && a.Not == b.Not && slices.Equal(a.Clbits, b.Clbits)
}

func unpack(u uint64, n int) []bool {
	bits := make([]bool, n)
	for j := range bits {
		bits[j] = u>>uint(j)&1 == 1
	}
	return bits
}

func seq(n int) []int {
	s := make([]int, n)
	for j := range s {
		s[j] = j
	}
	return s
}

// floatLit writes a float literal that reads back exactly.
func floatLit(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

// compute writes a compute op.
func (x *exportClassical) compute(b *strings.Builder, op *circuit.Op) error {
	e := op.Expr
	if len(op.Dest) == 0 {
		s, err := x.expr(e)
		if err != nil {
			return err
		}
		b.WriteString(s + ";\n")
		return nil
	}
	if g := x.ofBit[op.Dest[0]]; g != nil {
		s, err := x.expr(e)
		if err != nil {
			return err
		}
		fmt.Fprintf(b, "%s = %s;\n", x.name(g), s)
		return nil
	}
	n := len(op.Dest)
	if e.Op == "select" {
		// An element picked by an index known at run time: an if chain.
		idx, err := x.expr(e.Args[0])
		if err != nil {
			return err
		}
		for k, a := range e.Args[1:] {
			var inner strings.Builder
			if err := x.compute(&inner, &circuit.Op{Kind: circuit.KindCompute, Expr: a, Dest: op.Dest}); err != nil {
				return err
			}
			if k > 0 {
				b.WriteString("else ")
			}
			fmt.Fprintf(b, "if (%s == %d) {\n%s}\n", idx, k, indent(inner.String()))
		}
		return nil
	}
	s, err := x.expr(e)
	if err != nil {
		return err
	}
	if e.Type.Kind != circuit.ClassBit || e.Type.Width != n {
		s = fmt.Sprintf("bit[%d](%s)", n, s)
	}
	// Declared, then assigned: the qasm-ts peer reads no call in an
	// initialiser.
	fmt.Fprintf(b, "{\n  bit[%d] mec_t;\n  mec_t = %s;\n", n, s)
	for j, d := range op.Dest {
		fmt.Fprintf(b, "  %s = mec_t[%d];\n", x.bn.bit(d), j)
	}
	b.WriteString("}\n")
	return nil
}

// expr writes an expression.
func (x *exportClassical) expr(e *circuit.Expr) (string, error) {
	switch e.Op {
	case "const":
		return constLit(e.Val), nil
	case "load":
		if g := x.ofBit[e.Bits[0]]; g != nil {
			if !slices.Equal(g.bits, e.Bits) {
				return "", fmt.Errorf("a read of part of a float's bits: %w", ErrNotExpressible)
			}
			return x.name(g), nil
		}
		ref, err := x.bitsRef(e.Bits)
		if err != nil {
			return "", err
		}
		if e.Type.Kind == circuit.ClassBit {
			return ref, nil
		}
		if e.Type.Kind == circuit.ClassFloat {
			return "", fmt.Errorf("a float read from bits no float op wrote: %w", ErrNotExpressible)
		}
		return fmt.Sprintf("%s(%s)", e.Type, ref), nil
	case "cast":
		a, err := x.expr(e.Args[0])
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s(%s)", e.Type, a), nil
	case "call", "extern":
		var as []string
		for _, a := range e.Args {
			s, err := x.expr(a)
			if err != nil {
				return "", err
			}
			as = append(as, s)
		}
		return fmt.Sprintf("%s(%s)", e.Name, strings.Join(as, ", ")), nil
	case "select":
		return "", fmt.Errorf("an array element picked at run time inside a larger expression (OpenQASM 3 has no conditional expression): %w", ErrNotExpressible)
	}
	switch len(e.Args) {
	case 1:
		a, err := x.expr(e.Args[0])
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s(%s)", e.Op, a), nil
	case 2:
		a, err := x.expr(e.Args[0])
		if err != nil {
			return "", err
		}
		c, err := x.expr(e.Args[1])
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("(%s %s %s)", a, e.Op, c), nil
	}
	return "", fmt.Errorf("classical expression %q: %w", e.Op, ErrNotExpressible)
}

// bitsRef names bits of one register: c[k], c[a:b] or c[{i, j}].
func (x *exportClassical) bitsRef(bits []int) (string, error) {
	scratch := bits[0] >= x.bn.r
	for _, b := range bits {
		if (b >= x.bn.r) != scratch {
			return "", fmt.Errorf("a value held in both result and scratch bits: %w", ErrNotExpressible)
		}
	}
	reg, off := "c", 0
	if scratch {
		reg, off = ScratchRegister, x.bn.r
	}
	if len(bits) == 1 {
		return fmt.Sprintf("%s[%d]", reg, bits[0]-off), nil
	}
	run := true
	for j := 1; j < len(bits); j++ {
		run = run && bits[j] == bits[0]+j
	}
	if run {
		return fmt.Sprintf("%s[%d:%d]", reg, bits[0]-off, bits[len(bits)-1]-off), nil
	}
	ks := make([]string, len(bits))
	for j, b := range bits {
		ks[j] = strconv.Itoa(b - off)
	}
	return fmt.Sprintf("%s[{%s}]", reg, strings.Join(ks, ", ")), nil
}

// constLit writes a constant with its type.
func constLit(v circuit.Value) string {
	switch v.Type.Kind {
	case circuit.ClassReal:
		if v.Exact {
			return v.String()
		}
		return floatLit(v.F)
	case circuit.ClassBool, circuit.ClassBit:
		return v.String()
	case circuit.ClassInt, circuit.ClassUint:
		return fmt.Sprintf("%s(%s)", v.Type, v.String())
	case circuit.ClassAngle:
		bits := circuit.Value{Type: circuit.ClassType{Kind: circuit.ClassBit, Width: v.Type.Width}, U: v.U}
		return fmt.Sprintf("%s(%s)", v.Type, bits.String())
	}
	return fmt.Sprintf("%s(%s)", v.Type, floatLit(v.F))
}
