package circuit

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strings"
)

// Classical computation at run time: typed values kept in classical bits,
// and expressions over them that the shot simulator evaluates on each
// branch (KindCompute ops, run-time gate parameters). The rules here are
// OpenQASM 3's, and they are the only ones: the qasm reader folds
// constant expressions with the same functions, so a value computed while
// a program is read and one computed per shot agree bit for bit.

// ClassKind is the kind of a classical type.
type ClassKind uint8

// The classical kinds. ClassReal is the type of literal expressions (3/5
// is 0.6): exact real arithmetic in float64 until the value meets a typed
// operand or is stored.
const (
	ClassReal  ClassKind = iota // an untyped number (no storage)
	ClassBool                   // bool: 1 bit
	ClassBit                    // bit[n]: n bits, unsigned
	ClassInt                    // int[n]: two's complement
	ClassUint                   // uint[n]
	ClassFloat                  // float[32] or float[64]: IEEE 754
	ClassAngle                  // angle[n]: n-bit fixed point fraction of 2π
)

// ClassType is a classical type: a kind and its width in bits (1 to 64;
// float is 32 or 64, bool is 1, ClassReal has none).
type ClassType struct {
	Kind  ClassKind
	Width int
}

// Common types.
var (
	Real    = ClassType{Kind: ClassReal}
	Bool    = ClassType{Kind: ClassBool, Width: 1}
	Float64 = ClassType{Kind: ClassFloat, Width: 64}
)

// String spells the type as OpenQASM 3 does.
func (t ClassType) String() string {
	switch t.Kind {
	case ClassReal:
		return "real"
	case ClassBool:
		return "bool"
	case ClassBit:
		if t.Width == 1 {
			return "bit"
		}
		return fmt.Sprintf("bit[%d]", t.Width)
	case ClassInt:
		return fmt.Sprintf("int[%d]", t.Width)
	case ClassUint:
		return fmt.Sprintf("uint[%d]", t.Width)
	case ClassFloat:
		return fmt.Sprintf("float[%d]", t.Width)
	case ClassAngle:
		return fmt.Sprintf("angle[%d]", t.Width)
	}
	return fmt.Sprintf("ClassType(%d,%d)", t.Kind, t.Width)
}

// Validate checks the width against the kind.
func (t ClassType) Validate() error {
	switch t.Kind {
	case ClassReal:
		return nil
	case ClassBool:
		if t.Width == 1 {
			return nil
		}
	case ClassFloat:
		if t.Width == 32 || t.Width == 64 {
			return nil
		}
	case ClassBit, ClassInt, ClassUint, ClassAngle:
		if t.Width >= 1 && t.Width <= 64 {
			return nil
		}
	default:
		return fmt.Errorf("unknown classical kind %d", t.Kind)
	}
	return fmt.Errorf("type %s: width %d is not allowed", t, t.Width)
}

// integer reports whether values of t are integers in U (bit, int, uint, bool).
func (t ClassType) integer() bool {
	return t.Kind == ClassBit || t.Kind == ClassInt || t.Kind == ClassUint || t.Kind == ClassBool
}

// Value is a typed classical value. U holds the bits of every kind but
// float and real (two's complement for int, the fraction of 2π for angle,
// always reduced to the width); F holds a float's or real's value.
//
// A real that is a whole number in [−2^63, 2^64) is also held exactly:
// Exact is set and U is the number's low 64 bits (two's complement; F's
// sign tells a negative number from a large unsigned one), so integer
// literals keep every digit (2^53+1, 2^64−1, −2^63) through constant
// folding, casts and comparisons.
type Value struct {
	Type  ClassType
	U     uint64
	F     float64
	Exact bool
}

// mask returns the low w bits set.
func mask(w int) uint64 {
	if w >= 64 {
		return ^uint64(0)
	}
	return 1<<uint(w) - 1
}

// RealValue returns an untyped number (held exactly when it is a whole
// number in range; see Value).
func RealValue(f float64) Value {
	switch {
	case f != math.Trunc(f) || math.IsInf(f, 0):
	case f >= -(1<<63) && f < 0:
		return Value{Type: Real, F: f, U: uint64(int64(f)), Exact: true}
	case f >= 0 && f < 1<<64:
		return Value{Type: Real, F: f, U: uint64(f), Exact: true}
	}
	return Value{Type: Real, F: f}
}

// IntLiteral returns the untyped integer literal u, held exactly.
func IntLiteral(u uint64) Value {
	f, _ := new(big.Float).SetUint64(u).Float64()
	return Value{Type: Real, F: f, U: u, Exact: true}
}

var (
	minExact = new(big.Int).Lsh(big.NewInt(-1), 63) // −2^63
	maxExact = new(big.Int).Lsh(big.NewInt(1), 64)  // 2^64, excluded
)

// realInt returns the untyped integer n: exact when it is in
// [−2^63, 2^64), else the nearest float.
func realInt(n *big.Int) Value {
	f, _ := new(big.Float).SetInt(n).Float64()
	if n.Cmp(minExact) < 0 || n.Cmp(maxExact) >= 0 {
		return Value{Type: Real, F: f}
	}
	var u uint64
	if n.Sign() < 0 {
		u = uint64(n.Int64())
	} else {
		u = n.Uint64()
	}
	return Value{Type: Real, F: f, U: u, Exact: true}
}

// bigInt returns the value as an exact integer: an integer kind's value
// (int sign-extended), an exact real, or a whole float or real; ok is
// false for anything else.
func (v Value) bigInt() (n *big.Int, ok bool) {
	switch {
	case v.Type.Kind == ClassInt:
		return big.NewInt(v.Int()), true
	case v.Type.integer():
		return new(big.Int).SetUint64(v.U), true
	case v.Type.Kind == ClassReal && v.Exact:
		if v.F < 0 {
			return big.NewInt(int64(v.U)), true
		}
		return new(big.Int).SetUint64(v.U), true
	case v.Type.Kind == ClassReal || v.Type.Kind == ClassFloat:
		if math.IsNaN(v.F) || math.IsInf(v.F, 0) || v.F != math.Trunc(v.F) {
			return nil, false
		}
		n, _ := new(big.Float).SetFloat64(v.F).Int(nil)
		return n, true
	}
	return nil, false
}

// BoolValue returns a bool.
func BoolValue(b bool) Value {
	if b {
		return Value{Type: Bool, U: 1}
	}
	return Value{Type: Bool}
}

// IntValue returns i as a value of the integer type t (bit, int, uint,
// bool), wrapped to its width.
func IntValue(t ClassType, i int64) Value { return Value{Type: t, U: uint64(i) & mask(t.Width)} }

// FloatValue returns f as a float of type t (rounded to float32 for width 32).
func FloatValue(t ClassType, f float64) Value {
	if t.Width == 32 {
		f = float64(float32(f))
	}
	return Value{Type: t, F: f}
}

// Int returns the value as a signed integer: int sign-extended, the other
// integer kinds and angle's raw bits as they are, float and real truncated.
func (v Value) Int() int64 {
	switch v.Type.Kind {
	case ClassInt:
		s := 64 - uint(v.Type.Width)
		return int64(v.U<<s) >> s
	case ClassReal:
		if v.Exact {
			return int64(v.U)
		}
		return int64(v.F)
	case ClassFloat:
		return int64(v.F)
	}
	return int64(v.U)
}

// Float returns the value as a real number (an angle in radians).
func (v Value) Float() float64 {
	switch v.Type.Kind {
	case ClassFloat, ClassReal:
		return v.F
	case ClassInt:
		return float64(v.Int())
	case ClassAngle:
		return math.Ldexp(float64(v.U), -v.Type.Width) * 2 * math.Pi
	}
	return float64(v.U)
}

// Truth returns the value as a bool (non-zero).
func (v Value) Truth() bool {
	if v.Type.Kind == ClassFloat || v.Type.Kind == ClassReal {
		return v.F != 0
	}
	return v.U != 0
}

// String prints the value in OpenQASM literal form.
func (v Value) String() string {
	switch v.Type.Kind {
	case ClassBool:
		if v.U != 0 {
			return "true"
		}
		return "false"
	case ClassBit:
		var b strings.Builder
		b.WriteByte('"')
		for j := v.Type.Width - 1; j >= 0; j-- {
			b.WriteByte('0' + byte(v.U>>uint(j)&1))
		}
		b.WriteByte('"')
		return b.String()
	case ClassInt:
		return fmt.Sprint(v.Int())
	case ClassUint:
		return fmt.Sprint(v.U)
	case ClassReal:
		if n, ok := v.bigInt(); ok && v.Exact {
			return n.String()
		}
	}
	return fmt.Sprint(v.Float())
}

// Convert casts v to t as OpenQASM 3 defines casts: to bool, non-zero;
// between integer kinds, the two's complement bits wrapped to the width;
// float to an integer, truncated toward zero (an error when it is not
// finite); to float, the value (rounded for float[32]); to angle, the
// value modulo 2π rounded to the nearest step 2π/2^n (an angle of another
// width is rescaled, and bit[n] or uint[n] reinterpreted); angle to
// bit[n] or uint[n], its bits.
func Convert(v Value, t ClassType) (Value, error) {
	if v.Type == t {
		return v, nil
	}
	src := v.Type
	switch t.Kind {
	case ClassReal:
		if src.integer() {
			n, _ := v.bigInt()
			return realInt(n), nil
		}
		return RealValue(v.Float()), nil
	case ClassBool:
		return BoolValue(v.Truth()), nil
	case ClassFloat:
		return FloatValue(t, v.Float()), nil
	case ClassBit, ClassInt, ClassUint:
		switch src.Kind {
		case ClassFloat, ClassReal:
			if v.Exact {
				return Value{Type: t, U: v.U & mask(t.Width)}, nil
			}
			// Truncated toward zero; any value of int[64] or uint[64]
			// may be cast, wrapped to t's width.
			f := math.Trunc(v.F)
			switch {
			case f >= -(1<<63) && f < 1<<63:
				return IntValue(t, int64(f)), nil
			case f >= 1<<63 && f < 1<<64:
				return Value{Type: t, U: uint64(f) & mask(t.Width)}, nil
			}
			return Value{}, fmt.Errorf("%v cannot be cast to %s", v.F, t)
		case ClassAngle:
			if t.Kind == ClassInt {
				return Value{}, fmt.Errorf("an angle cannot be cast to %s (only to bit[n] or uint[n])", t)
			}
		case ClassInt:
			return IntValue(t, v.Int()), nil
		}
		return Value{Type: t, U: v.U & mask(t.Width)}, nil
	case ClassAngle:
		switch src.Kind {
		case ClassFloat, ClassReal:
			f := v.Float()
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return Value{}, fmt.Errorf("%v cannot be cast to %s", f, t)
			}
			turns := math.Mod(f/(2*math.Pi), 1)
			if turns < 0 {
				turns++
			}
			steps := math.Ldexp(1, t.Width)
			u := math.Round(turns * steps)
			if u >= steps {
				u = 0
			}
			return Value{Type: t, U: uint64(u) & mask(t.Width)}, nil
		case ClassAngle:
			d := t.Width - src.Width
			if d >= 0 {
				return Value{Type: t, U: v.U << uint(d) & mask(t.Width)}, nil
			}
			// Round to the nearest coarser step.
			u := (v.U + 1<<uint(-d-1)) >> uint(-d)
			return Value{Type: t, U: u & mask(t.Width)}, nil
		case ClassBit, ClassUint:
			return Value{Type: t, U: v.U & mask(t.Width)}, nil
		}
		return Value{}, fmt.Errorf("%s cannot be cast to %s", src, t)
	}
	return Value{}, fmt.Errorf("cannot cast to %s", t)
}

// Load reads a value of type t from bits: bit j of the value is
// bits[src[j]] (a float's IEEE bits).
func Load(t ClassType, bits []bool, src []int) Value {
	var u uint64
	for j, b := range src {
		if bits[b] {
			u |= 1 << uint(j)
		}
	}
	switch t.Kind {
	case ClassFloat:
		if t.Width == 32 {
			return Value{Type: t, F: float64(math.Float32frombits(uint32(u)))}
		}
		return Value{Type: t, F: math.Float64frombits(u)}
	case ClassReal:
		return Value{Type: t, F: math.Float64frombits(u)}
	}
	return Value{Type: t, U: u & mask(t.Width)}
}

// Raw returns the bits a value is stored as.
func (v Value) Raw() uint64 {
	switch v.Type.Kind {
	case ClassFloat:
		if v.Type.Width == 32 {
			return uint64(math.Float32bits(float32(v.F)))
		}
		return math.Float64bits(v.F)
	case ClassReal:
		return math.Float64bits(v.F)
	}
	return v.U
}

// Store writes v's bits into bits[dst[j]].
func (v Value) Store(bits []bool, dst []int) {
	u := v.Raw()
	for j, b := range dst {
		bits[b] = u>>uint(j)&1 == 1
	}
}

// StorageWidth returns the number of bits a value of t takes.
func (t ClassType) StorageWidth() int {
	if t.Kind == ClassReal {
		return 64
	}
	return t.Width
}

// Host calls the extern functions a program declares. The simulator calls
// it once per branch (every shot of a branch shares the call), so extern
// functions must be functions of their arguments; a host may still record
// the calls.
type Host interface {
	Call(name string, args []Value, ret *ClassType) (Value, error)
}

// ErrNoHost is returned (wrapped) when a program calls an extern function
// and no host is given.
var ErrNoHost = errors.New("extern functions need a host")

// Expr is a classical expression evaluated on a branch's bits.
type Expr struct {
	// Op is "const", "load", a unary operator ("-", "~", "!"), a binary
	// operator ("+", "-", "*", "/", "%", "**", "<<", ">>", "&", "|",
	// "^", "&&", "||", "==", "!=", "<", "<=", ">", ">="), "cast",
	// "call" (a built-in function: Name), "extern" (a host function:
	// Name) or "select" (Args[0] picks one of Args[1:], by its value as
	// an index).
	Op string
	// Type is the type of the result.
	Type ClassType
	// Val is a constant's value.
	Val Value
	// Bits are the classical bits a load reads (bit j of the value).
	Bits []int
	Name string
	Args []*Expr
}

// Eval evaluates e on a branch's bits.
func (e *Expr) Eval(bits []bool, host Host) (Value, error) {
	switch e.Op {
	case "const":
		return e.Val, nil
	case "load":
		return Load(e.Type, bits, e.Bits), nil
	case "cast":
		x, err := e.Args[0].Eval(bits, host)
		if err != nil {
			return Value{}, err
		}
		return Convert(x, e.Type)
	case "select":
		i, err := e.Args[0].Eval(bits, host)
		if err != nil {
			return Value{}, err
		}
		k := i.Int()
		if k < 0 || k >= int64(len(e.Args)-1) {
			return Value{}, fmt.Errorf("index %d out of range [0,%d)", k, len(e.Args)-1)
		}
		return e.Args[1+k].Eval(bits, host)
	case "&&", "||":
		x, err := e.Args[0].Eval(bits, host)
		if err != nil {
			return Value{}, err
		}
		if x.Truth() == (e.Op == "||") {
			return BoolValue(x.Truth()), nil
		}
		y, err := e.Args[1].Eval(bits, host)
		if err != nil {
			return Value{}, err
		}
		return BoolValue(y.Truth()), nil
	}
	var buf [4]Value
	args := buf[:0]
	if len(e.Args) > len(buf) {
		args = make([]Value, 0, len(e.Args))
	}
	for _, a := range e.Args {
		v, err := a.Eval(bits, host)
		if err != nil {
			return Value{}, err
		}
		args = append(args, v)
	}
	switch e.Op {
	case "call":
		return Builtin(e.Name, args)
	case "extern":
		if host == nil {
			return Value{}, fmt.Errorf("extern %s: %w", e.Name, ErrNoHost)
		}
		var ret *ClassType // a function without a value has type Real
		if e.Type.Kind != ClassReal {
			t := e.Type
			ret = &t
		}
		v, err := host.Call(e.Name, args, ret)
		if err != nil {
			return Value{}, fmt.Errorf("extern %s: %w", e.Name, err)
		}
		if ret == nil {
			return v, nil
		}
		return Convert(v, *ret)
	}
	switch len(args) {
	case 1:
		return Unary(e.Op, args[0])
	case 2:
		return Binary(e.Op, args[0], args[1])
	}
	return Value{}, fmt.Errorf("classical expression: unknown operation %q with %d operands", e.Op, len(args))
}

// ReadBits appends the classical bits e reads to dst.
func (e *Expr) ReadBits(dst []int) []int {
	dst = append(dst, e.Bits...)
	for _, a := range e.Args {
		dst = a.ReadBits(dst)
	}
	return dst
}

// UsesHost reports whether e calls an extern function.
func (e *Expr) UsesHost() bool {
	if e.Op == "extern" {
		return true
	}
	for _, a := range e.Args {
		if a.UsesHost() {
			return true
		}
	}
	return false
}

// validate checks e's loads against nc classical bits and its depth.
func (e *Expr) validate(nc, depth int) error {
	if depth > 1000 {
		return fmt.Errorf("classical expression nested more than 1000 deep")
	}
	if e.Op != "extern" || e.Type.Kind != ClassReal {
		if err := e.Type.Validate(); err != nil {
			return err
		}
	}
	for _, b := range e.Bits {
		if b < 0 || b >= nc {
			return fmt.Errorf("classical expression reads bit %d out of range [0,%d)", b, nc)
		}
	}
	if e.Op == "load" && len(e.Bits) != e.Type.StorageWidth() {
		return fmt.Errorf("load of %s from %d bits", e.Type, len(e.Bits))
	}
	for _, a := range e.Args {
		if a == nil {
			return fmt.Errorf("classical expression %q with a missing operand", e.Op)
		}
		if err := a.validate(nc, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// clone returns a deep copy of e.
func (e *Expr) clone() *Expr {
	if e == nil {
		return nil
	}
	c := *e
	c.Bits = append([]int(nil), e.Bits...)
	c.Args = make([]*Expr, len(e.Args))
	for i, a := range e.Args {
		c.Args[i] = a.clone()
	}
	return &c
}

// UnaryType returns the type of op applied to x.
func UnaryType(op string, x ClassType) (ClassType, error) {
	switch op {
	case "!":
		return Bool, nil
	case "-":
		switch x.Kind {
		case ClassBool, ClassBit:
			return ClassType{Kind: ClassInt, Width: max(x.Width+1, 2)}, nil
		}
		return x, nil
	case "~":
		switch x.Kind {
		case ClassFloat, ClassReal:
			return ClassType{}, fmt.Errorf("~ needs an integer, bit or angle operand, not %s", x)
		case ClassBool:
			return ClassType{Kind: ClassBit, Width: 1}, nil
		}
		return x, nil
	}
	return ClassType{}, fmt.Errorf("unknown unary operator %q", op)
}

// Unary applies a unary operator.
func Unary(op string, x Value) (Value, error) {
	t, err := UnaryType(op, x.Type)
	if err != nil {
		return Value{}, err
	}
	switch op {
	case "!":
		return BoolValue(!x.Truth()), nil
	case "~":
		return Value{Type: t, U: ^x.U & mask(t.Width)}, nil
	}
	switch t.Kind {
	case ClassReal:
		if n, ok := x.bigInt(); ok && x.Exact {
			return realInt(n.Neg(n)), nil
		}
		return Value{Type: t, F: -x.F}, nil
	case ClassFloat:
		return Value{Type: t, F: -x.F}, nil
	case ClassInt:
		return IntValue(t, -x.Int()), nil
	}
	return Value{Type: t, U: -x.U & mask(t.Width)}, nil
}

var comparisons = map[string]bool{"==": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true}

// BinaryType returns the type of x op y and the type the operation
// computes in (In of an Expr).
//
//   - && and || are on bools; comparisons compute in the operands' common
//     type and give bool.
//   - Arithmetic: with a float (or an angle meeting a float or a real)
//     it is float[64]; angle ± angle, angle * integer, integer * angle and
//     angle / integer are angles (modulo 2π); angle / angle is uint; two
//     reals stay real; otherwise integers: int when either is int, else
//     uint, as wide as the wider.
//   - & | ^ keep bit[n] when both are bits, else compute as integers; <<
//     and >> keep the left operand's type.
func BinaryType(op string, x, y ClassType) (res, in ClassType, err error) {
	switch {
	case op == "&&" || op == "||":
		return Bool, Bool, nil
	case comparisons[op]:
		c, err := common("+", x, y)
		if err != nil {
			return ClassType{}, ClassType{}, fmt.Errorf("%s %s %s: %w", x, op, y, err)
		}
		return Bool, c, nil
	case op == "<<" || op == ">>":
		if x.Kind == ClassFloat || y.Kind == ClassFloat || y.Kind == ClassAngle {
			return ClassType{}, ClassType{}, fmt.Errorf("%s %s %s: shifts need integer operands", x, op, y)
		}
		if x.Kind == ClassReal {
			x = ClassType{Kind: ClassInt, Width: 64}
		}
		if x.Kind == ClassBool {
			x = ClassType{Kind: ClassUint, Width: 1}
		}
		return x, x, nil
	case op == "&" || op == "|" || op == "^":
		if x.Kind == ClassFloat || y.Kind == ClassFloat {
			return ClassType{}, ClassType{}, fmt.Errorf("%s %s %s: bitwise operators need integer, bit or angle operands", x, op, y)
		}
		if x.Kind == ClassBit && y.Kind == ClassBit || x.Kind == ClassBool && y.Kind == ClassBool {
			t := ClassType{Kind: x.Kind, Width: max(x.Width, y.Width)}
			return t, t, nil
		}
		if x.Kind == ClassAngle && y.Kind == ClassAngle {
			t := ClassType{Kind: ClassAngle, Width: max(x.Width, y.Width)}
			return t, t, nil
		}
		c, err := integers(x, y)
		if err != nil {
			return ClassType{}, ClassType{}, fmt.Errorf("%s %s %s: %w", x, op, y, err)
		}
		return c, c, nil
	case op == "+" || op == "-" || op == "*" || op == "/" || op == "%" || op == "**":
		c, err := common(op, x, y)
		if err != nil {
			return ClassType{}, ClassType{}, fmt.Errorf("%s %s %s: %w", x, op, y, err)
		}
		if op == "/" && x.Kind == ClassAngle && y.Kind == ClassAngle {
			return ClassType{Kind: ClassUint, Width: c.Width}, c, nil
		}
		return c, c, nil
	}
	return ClassType{}, ClassType{}, fmt.Errorf("unknown operator %q", op)
}

// integers returns the integer type two integer-like operands compute in.
func integers(x, y ClassType) (ClassType, error) {
	if x.Kind == ClassReal && y.Kind == ClassReal {
		return ClassType{Kind: ClassInt, Width: 64}, nil
	}
	if x.Kind == ClassReal {
		x = y
	}
	if y.Kind == ClassReal {
		y = x
	}
	if x.Kind == ClassAngle || y.Kind == ClassAngle {
		return ClassType{}, fmt.Errorf("an angle with an integer")
	}
	w := max(x.Width, y.Width)
	if x.Kind == ClassInt || y.Kind == ClassInt {
		return ClassType{Kind: ClassInt, Width: w}, nil
	}
	return ClassType{Kind: ClassUint, Width: w}, nil
}

// common returns the type arithmetic op computes in.
func common(op string, x, y ClassType) (ClassType, error) {
	switch {
	case x.Kind == ClassReal && y.Kind == ClassReal:
		return Real, nil
	case x.Kind == ClassAngle || y.Kind == ClassAngle:
		a, o := x, y
		if a.Kind != ClassAngle {
			a, o = y, x
		}
		w := ClassType{Kind: ClassAngle, Width: a.Width}
		if o.Kind == ClassAngle {
			w.Width = max(a.Width, o.Width)
		}
		switch {
		case comparisons[op]:
			if o.Kind == ClassAngle {
				return w, nil
			}
		case op == "+" || op == "-":
			if o.Kind == ClassAngle || o.Kind == ClassReal {
				return w, nil
			}
		case op == "/" && o.Kind == ClassAngle:
			return w, nil
		case op == "*" || op == "/" && x.Kind == ClassAngle:
			if o.integer() || o.Kind == ClassReal {
				return w, nil
			}
		}
		return Float64, nil
	case x.Kind == ClassFloat || y.Kind == ClassFloat:
		return ClassType{Kind: ClassFloat, Width: 64}, nil
	case x.Kind == ClassReal || y.Kind == ClassReal:
		// An integer with a literal: the integer's type; a literal
		// that is not whole makes it a float at run time (checked by
		// Binary, which sees the value).
		if x.Kind == ClassReal {
			return integers(y, y)
		}
		return integers(x, x)
	}
	return integers(x, y)
}

// Binary applies a binary operator, with the types of BinaryType.
func Binary(op string, x, y Value) (Value, error) {
	res, in, err := BinaryType(op, x.Type, y.Type)
	if err != nil {
		return Value{}, err
	}
	if in.integer() || in.Kind == ClassAngle && (op == "*" || op == "/") {
		// A literal that is not whole turns integer arithmetic into float.
		for _, v := range [2]Value{x, y} {
			if v.Type.Kind == ClassReal && v.F != math.Trunc(v.F) {
				in, res = Float64, Float64
			}
		}
	}
	if op == "&&" {
		return BoolValue(x.Truth() && y.Truth()), nil
	}
	if op == "||" {
		return BoolValue(x.Truth() || y.Truth()), nil
	}
	if op == "<<" || op == ">>" {
		for _, v := range [2]Value{x, y} {
			if v.Type.Kind == ClassReal && v.F != math.Trunc(v.F) {
				return Value{}, fmt.Errorf("%v %s %v: shifts need integer operands", x, op, y)
			}
		}
		xv, err := Convert(x, in)
		if err != nil {
			return Value{}, err
		}
		n := y.Int()
		if n < 0 {
			return Value{}, fmt.Errorf("shift by a negative count %d", n)
		}
		u := xv.U
		switch {
		case n >= int64(in.Width):
			if op == ">>" && in.Kind == ClassInt && xv.Int() < 0 {
				u = mask(in.Width)
			} else {
				u = 0
			}
		case op == "<<":
			u <<= uint(n)
		case in.Kind == ClassInt:
			u = uint64(xv.Int() >> uint(n))
		default:
			u >>= uint(n)
		}
		return Value{Type: in, U: u & mask(in.Width)}, nil
	}
	if in.Kind == ClassReal && x.Exact && y.Exact {
		if v, ok := exactReal(op, x, y); ok {
			return v, nil
		}
	}
	switch in.Kind {
	case ClassReal, ClassFloat:
		a, b := x.Float(), y.Float()
		if comparisons[op] {
			return BoolValue(compare(op, cmpFloat(a, b))), nil
		}
		var f float64
		switch op {
		case "+":
			f = a + b
		case "-":
			f = a - b
		case "*":
			f = a * b
		case "/":
			if b == 0 {
				return Value{}, errors.New("division by zero")
			}
			f = a / b
		case "%":
			if b == 0 {
				return Value{}, errors.New("modulo by zero")
			}
			f = math.Mod(a, b)
		case "**":
			f = math.Pow(a, b)
		default:
			return Value{}, fmt.Errorf("%s on %s", op, in)
		}
		if in.Kind == ClassReal {
			return RealValue(f), nil
		}
		return FloatValue(in, f), nil
	case ClassAngle:
		m := mask(in.Width)
		if op != "*" && (op != "/" || y.Type.Kind == ClassAngle) {
			xa, err := Convert(x, in)
			if err != nil {
				return Value{}, err
			}
			ya, err := Convert(y, in)
			if err != nil {
				return Value{}, err
			}
			switch op {
			case "+":
				return Value{Type: in, U: (xa.U + ya.U) & m}, nil
			case "-":
				return Value{Type: in, U: (xa.U - ya.U) & m}, nil
			case "/":
				if ya.U == 0 {
					return Value{}, errors.New("division by a zero angle")
				}
				return Value{Type: ClassType{Kind: ClassUint, Width: in.Width}, U: xa.U / ya.U}, nil
			case "&", "|", "^":
				return Value{Type: in, U: bitwise(op, xa.U, ya.U)}, nil
			}
			if comparisons[op] {
				return BoolValue(compare(op, cmp.Compare(xa.U, ya.U))), nil
			}
			return Value{}, fmt.Errorf("%s %s %s", x.Type, op, y.Type)
		}
		if x.Type.Kind != ClassAngle {
			x, y = y, x // integer * angle
		}
		xa, err := Convert(x, in)
		if err != nil {
			return Value{}, err
		}
		n := y.Int()
		if op == "*" {
			return Value{Type: in, U: xa.U * uint64(n) & m}, nil
		}
		if n <= 0 {
			return Value{}, fmt.Errorf("an angle divided by %d: the divisor must be a positive integer", n)
		}
		return Value{Type: in, U: xa.U / uint64(n)}, nil
	}
	// Integers (bit, bool, int, uint).
	if x.Type.Kind == ClassReal || y.Type.Kind == ClassReal {
		return literalInteger(op, res, x, y)
	}
	xa, err := Convert(x, in)
	if err != nil {
		return Value{}, err
	}
	ya, err := Convert(y, in)
	if err != nil {
		return Value{}, err
	}
	signed := in.Kind == ClassInt
	if comparisons[op] {
		if signed {
			return BoolValue(compare(op, cmp.Compare(xa.Int(), ya.Int()))), nil
		}
		return BoolValue(compare(op, cmp.Compare(xa.U, ya.U))), nil
	}
	// +, − and × give the same bits modulo 2^w signed or unsigned; /, %
	// and ** read the sign.
	var u uint64
	switch op {
	case "&", "|", "^":
		u = bitwise(op, xa.U, ya.U)
	case "+":
		u = xa.U + ya.U
	case "-":
		u = xa.U - ya.U
	case "*":
		u = xa.U * ya.U
	case "/", "%":
		if ya.U == 0 {
			return Value{}, divZero(op)
		}
		a, b := xa.Int(), ya.Int()
		switch {
		case signed && op == "/":
			u = uint64(a / b)
		case signed:
			u = uint64(a % b)
		case op == "/":
			u = xa.U / ya.U
		default:
			u = xa.U % ya.U
		}
	case "**":
		if signed && ya.Int() < 0 {
			return Value{}, fmt.Errorf("integer power with a negative exponent %d", ya.Int())
		}
		u = ipow(xa.U, ya.U)
	default:
		return Value{}, fmt.Errorf("%s on %s", op, in)
	}
	return Value{Type: res, U: u & mask(res.Width)}, nil
}

func divZero(op string) error {
	if op == "/" {
		return errors.New("integer division by zero")
	}
	return errors.New("integer modulo by zero")
}

// literalInteger applies op to an integer and an integer literal (or two
// literals meeting an integer operator) by their exact values: a literal
// is never wrapped to the other operand's width first, so uint[4] 3 == 19
// is false and int[8] 100 / 300 is 0. Comparisons compare the values;
// arithmetic gives the exact result wrapped to res.
func literalInteger(op string, res ClassType, x, y Value) (Value, error) {
	a, ok := x.bigInt()
	b, ok2 := y.bigInt()
	if !ok || !ok2 {
		return Value{}, fmt.Errorf("%v %s %v: integer operands needed", x, op, y)
	}
	if comparisons[op] {
		return BoolValue(compare(op, a.Cmp(b))), nil
	}
	r := new(big.Int)
	switch op {
	case "&":
		r.And(a, b)
	case "|":
		r.Or(a, b)
	case "^":
		r.Xor(a, b)
	case "+":
		r.Add(a, b)
	case "-":
		r.Sub(a, b)
	case "*":
		r.Mul(a, b)
	case "/", "%":
		if b.Sign() == 0 {
			return Value{}, divZero(op)
		}
		if op == "/" {
			r.Quo(a, b)
		} else {
			r.Rem(a, b)
		}
	case "**":
		if b.Sign() < 0 {
			return Value{}, fmt.Errorf("integer power with a negative exponent %v", b)
		}
		m := new(big.Int).Lsh(big.NewInt(1), 64)
		r.Exp(new(big.Int).Mod(a, m), b, m)
	default:
		return Value{}, fmt.Errorf("%s on %s", op, res)
	}
	w := new(big.Int).Lsh(big.NewInt(1), uint(res.Width))
	r.Mod(r, w) // the low bits, as two's complement
	return Value{Type: res, U: r.Uint64()}, nil
}

// exactReal applies op to two exact untyped integers when the result is
// an integer too (+, −, ×, %, a ** b with b ≥ 0 and at most 4096 bits, a
// quotient without remainder, comparisons); ok is false otherwise, and
// the caller computes in float64.
func exactReal(op string, x, y Value) (Value, bool) {
	a, _ := x.bigInt()
	b, _ := y.bigInt()
	if comparisons[op] {
		return BoolValue(compare(op, a.Cmp(b))), true
	}
	r := new(big.Int)
	switch op {
	case "+":
		r.Add(a, b)
	case "-":
		r.Sub(a, b)
	case "*":
		r.Mul(a, b)
	case "%":
		if b.Sign() == 0 {
			return Value{}, false
		}
		r.Rem(a, b)
	case "/":
		if b.Sign() == 0 {
			return Value{}, false
		}
		var m big.Int
		r.QuoRem(a, b, &m)
		if m.Sign() != 0 {
			return Value{}, false
		}
	case "**":
		if b.Sign() < 0 || !b.IsInt64() || int64(a.BitLen())*b.Int64() > 4096 {
			return Value{}, false
		}
		r.Exp(a, b, nil)
	default:
		return Value{}, false
	}
	return realInt(r), true
}

func bitwise(op string, a, b uint64) uint64 {
	switch op {
	case "&":
		return a & b
	case "|":
		return a | b
	}
	return a ^ b
}

// ipow is a**b modulo 2^64.
func ipow(a, b uint64) uint64 {
	r := uint64(1)
	for b > 0 {
		if b&1 == 1 {
			r *= a
		}
		a *= a
		b >>= 1
	}
	return r
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case a == b:
		return 0
	}
	return 2 // NaN: unordered
}

func compare(op string, c int) bool {
	switch op {
	case "==":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c == -1
	case "<=":
		return c == -1 || c == 0
	case ">":
		return c == 1
	}
	return c == 1 || c == 0
}

// builtinArity is the number of arguments of each built-in function.
var builtinArity = map[string]int{"sin": 1, "cos": 1, "tan": 1, "arcsin": 1, "arccos": 1, "arctan": 1,
	"asin": 1, "acos": 1, "atan": 1, "exp": 1, "ln": 1, "log": 1, "sqrt": 1,
	"floor": 1, "ceiling": 1, "abs": 1, "popcount": 1, "mod": 2, "pow": 2, "rotl": 2, "rotr": 2}

// IsBuiltin reports whether name is a built-in function (Builtin).
func IsBuiltin(name string) bool {
	_, ok := builtinArity[name]
	return ok
}

// BuiltinType returns the result type of a built-in function.
func BuiltinType(name string, args []ClassType) (ClassType, error) {
	n, ok := builtinArity[name]
	if !ok {
		return ClassType{}, fmt.Errorf("unknown function %q", name)
	}
	if len(args) != n {
		return ClassType{}, fmt.Errorf("%s takes %d argument(s), got %d", name, n, len(args))
	}
	switch name {
	case "popcount":
		if !args[0].integer() && args[0].Kind != ClassAngle {
			return ClassType{}, fmt.Errorf("popcount needs a bit or integer argument, not %s", args[0])
		}
		return ClassType{Kind: ClassUint, Width: 64}, nil
	case "rotl", "rotr":
		if args[0].Kind != ClassBit && args[0].Kind != ClassUint && args[0].Kind != ClassAngle {
			return ClassType{}, fmt.Errorf("%s needs a bit[n], uint or angle argument, not %s", name, args[0])
		}
		return args[0], nil
	case "mod", "pow":
		op := "%"
		if name == "pow" {
			op = "**"
		}
		r, _, err := BinaryType(op, args[0], args[1])
		return r, err
	case "abs":
		if args[0].Kind == ClassAngle || args[0].Kind == ClassBit {
			return ClassType{}, fmt.Errorf("abs needs a number, not %s", args[0])
		}
		return args[0], nil
	case "floor", "ceiling":
		if args[0].Kind == ClassReal {
			return Real, nil
		}
		return Float64, nil
	}
	if args[0].Kind == ClassReal {
		return Real, nil
	}
	return Float64, nil
}

var mathFuncs = map[string]func(float64) float64{
	"sin": math.Sin, "cos": math.Cos, "tan": math.Tan,
	"arcsin": math.Asin, "arccos": math.Acos, "arctan": math.Atan,
	"asin": math.Asin, "acos": math.Acos, "atan": math.Atan,
	"exp": math.Exp, "ln": math.Log, "log": math.Log, "sqrt": math.Sqrt,
	"floor": math.Floor, "ceiling": math.Ceil,
}

// Builtin calls one of OpenQASM 3's built-in functions.
func Builtin(name string, args []Value) (Value, error) {
	ts := make([]ClassType, len(args))
	for i, a := range args {
		ts[i] = a.Type
	}
	t, err := BuiltinType(name, ts)
	if err != nil {
		return Value{}, err
	}
	switch name {
	case "popcount":
		return Value{Type: t, U: uint64(bits.OnesCount64(args[0].U))}, nil
	case "rotl", "rotr":
		w := uint(t.Width)
		n := uint(((args[1].Int() % int64(w)) + int64(w)) % int64(w))
		if name == "rotr" {
			n = (w - n) % w
		}
		u := args[0].U
		return Value{Type: t, U: (u<<n | u>>(w-n)) & mask(t.Width)}, nil
	case "mod":
		return Binary("%", args[0], args[1])
	case "pow":
		return Binary("**", args[0], args[1])
	case "abs":
		switch t.Kind {
		case ClassFloat, ClassReal:
			return Value{Type: t, F: math.Abs(args[0].F)}, nil
		case ClassInt:
			if v := args[0].Int(); v < 0 {
				return IntValue(t, -v), nil
			}
		}
		return args[0], nil
	}
	f := mathFuncs[name](args[0].Float())
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Value{}, fmt.Errorf("%s(%v) is %v", name, args[0].Float(), f)
	}
	if t.Kind == ClassReal {
		return RealValue(f), nil
	}
	return FloatValue(t, f), nil
}

// Classical reports whether op is a classical op (set, fail, compute).
func (op *Op) Classical() bool {
	return op.Kind == KindSet || op.Kind == KindFail || op.Kind == KindCompute
}

// RunClassical executes a classical op on bits, where its conditions
// hold: a set writes its bit, a compute its value, and a fail returns
// its error.
func (op *Op) RunClassical(bits []bool, host Host) error {
	if !CondsHold(op.Conds, bits) {
		return nil
	}
	switch op.Kind {
	case KindSet:
		bits[op.Clbit] = op.Bit
	case KindFail:
		return errors.New(op.Name)
	case KindCompute:
		v, err := op.Expr.Eval(bits, host)
		if err != nil {
			return fmt.Errorf("compute: %w", err)
		}
		v.Store(bits, op.Dest)
	default:
		return fmt.Errorf("%s is not a classical op", op.Kind)
	}
	return nil
}

// Bind returns the gate with its run-time parameters (ParamExprs)
// computed from bits; a gate without them is returned as it is.
func (op *Op) Bind(bits []bool, host Host) (*Op, error) {
	if op.ParamExprs == nil {
		return op, nil
	}
	b := *op
	b.Params = append([]float64(nil), op.Params...)
	b.ParamExprs = nil
	for i, e := range op.ParamExprs {
		if e == nil {
			continue
		}
		v, err := e.Eval(bits, host)
		if err != nil {
			return nil, fmt.Errorf("%s: parameter %d: %w", op.label(), i, err)
		}
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%s: parameter %d is %v", op.label(), i, f)
		}
		b.Params[i] = f
	}
	return &b, nil
}

// ReadBits appends the classical bits op reads (its conditions, its
// expression and its run-time parameters) to dst.
func (op *Op) ReadBits(dst []int) []int {
	for _, c := range op.Conds {
		dst = append(dst, c.Clbits...)
	}
	if op.Expr != nil {
		dst = op.Expr.ReadBits(dst)
	}
	for _, e := range op.ParamExprs {
		if e != nil {
			dst = e.ReadBits(dst)
		}
	}
	return dst
}
