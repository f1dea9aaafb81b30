// Package qsimfile reads circuits in qsim's input format (the text format
// of quantumlib/qsim's qsim_base and its sample circuits), so that qsim
// and Cirq users can run their circuit files unchanged and a comparison
// with qsim can use the very same file.
//
// Layer: compute library (a circuit reader). It may import circuit only.
//
// The format: lines that are empty or start with # are skipped; the first
// other line is the number of qubits; every further line is
//
//	time gate qubits… parameters…
//
// with nothing after the last field. Gates with the same time act on
// different qubits; a qubit's gates must come in increasing time. The
// gates, with qsim's matrices (global phases included): id1, h, t, x, y,
// z, x_1_2 (√X), y_1_2 (√Y = e^{iπ/4}·ry(π/2)), rx, ry, rz (e^{−iφP/2}),
// rxy θ φ (e^{−iφ(cos θ X + sin θ Y)/2}), hz_1_2, s, id2, cz, cnot (or cx:
// control first), sw (swap), is (iSWAP), fs θ φ (fSim), cp φ
// (diag(1,1,1,e^{−iφ})), m q… (measures each listed qubit into the bit of
// the same index), and "c q… gate …": the gate controlled by the listed
// qubits. Qubit q is bit q of an amplitude index, as everywhere in mec; a
// two-qubit gate "g a b" has operand 0 = a.
package qsimfile

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"math/cmplx"
	"strconv"
	"strings"

	"github.com/prismai/mec/circuit"
)

// MaxQubits bounds the qubits a file may declare.
const MaxQubits = 64

// Detect reports whether src looks like a qsim circuit file: its first
// line that is neither empty nor a # comment is a bare number.
func Detect(src string) bool {
	for _, line := range strings.SplitN(src, "\n", 64) {
		line = strings.TrimRight(line, "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		_, err := strconv.Atoi(strings.TrimSpace(line))
		return err == nil
	}
	return false
}

// Error is a parse error at a line of the file.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Parse reads a qsim circuit from r (name is used in errors), at most
// maxOps gates (0: no limit), checking ctx every 1024 lines.
func Parse(ctx context.Context, r io.Reader, name string, maxOps int) (*circuit.Circuit, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	var c *circuit.Circuit
	var last []int // a qubit's last gate time, −1 before its first
	k := 0
	errf := func(format string, a ...any) error {
		return &Error{File: name, Line: k, Msg: fmt.Sprintf(format, a...)}
	}
	for sc.Scan() {
		k++
		if k&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if c == nil {
			n, err := strconv.Atoi(line)
			if err != nil || n < 1 || n > MaxQubits {
				return nil, errf("the first line is the number of qubits, 1 to %d, got %q", MaxQubits, line)
			}
			c = &circuit.Circuit{Qubits: n, Clbits: n}
			last = make([]int, n)
			for q := range last {
				last[q] = -1
			}
			continue
		}
		if strings.TrimRight(line, " \t") != line {
			return nil, errf("trailing spaces after the gate (qsim's format allows none)")
		}
		if len(f) < 2 {
			return nil, errf("want: time gate qubits… parameters…")
		}
		t, err := strconv.Atoi(f[0])
		if err != nil || t < 0 {
			return nil, errf("time %q is not a non-negative integer", f[0])
		}
		var ctrls []int
		rest := f[1:]
		if rest[0] == "c" {
			rest = rest[1:]
			for len(rest) > 0 {
				q, err := strconv.Atoi(rest[0])
				if err != nil {
					break
				}
				ctrls = append(ctrls, q)
				rest = rest[1:]
			}
			if len(ctrls) == 0 || len(rest) == 0 {
				return nil, errf("a controlled gate is: time c control… gate qubits…")
			}
		}
		ops, err := gate(rest[0], rest[1:], c.Qubits)
		if err != nil {
			return nil, errf("%s: %v", rest[0], err)
		}
		for i := range ops {
			if len(ctrls) > 0 {
				if ops[i].Kind != circuit.KindGate {
					return nil, errf("a measurement cannot be controlled")
				}
				ops[i].Controls = ctrls
			}
			for _, q := range ops[i].AllQubits() {
				if q < 0 || q >= c.Qubits {
					return nil, errf("qubit %d out of range [0,%d)", q, c.Qubits)
				}
				if t <= last[q] {
					return nil, errf("qubit %d: time %d after time %d (a qubit's gates come in increasing time)", q, t, last[q])
				}
			}
		}
		for i := range ops {
			for _, q := range ops[i].AllQubits() {
				last[q] = t
			}
		}
		if maxOps > 0 && len(c.Ops)+len(ops) > maxOps {
			return nil, errf("more than the limit of %d operations", maxOps)
		}
		c.Ops = append(c.Ops, ops...)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("qsimfile: %s: %w", name, err)
	}
	if c == nil {
		return nil, &Error{File: name, Line: k, Msg: "no number of qubits"}
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("qsimfile: %s: %w", name, err)
	}
	return c, nil
}

// gate returns the ops of one gate from its name and fields.
func gate(name string, args []string, n int) ([]circuit.Op, error) {
	nq, np := 1, 0
	switch name {
	case "id2", "cz", "cnot", "cx", "sw", "is":
		nq = 2
	case "fs":
		nq, np = 2, 2
	case "cp":
		nq, np = 2, 1
	case "rx", "ry", "rz":
		np = 1
	case "rxy":
		np = 2
	case "m":
		if len(args) == 0 {
			return nil, fmt.Errorf("measures at least one qubit")
		}
		var ops []circuit.Op
		for _, a := range args {
			q, err := strconv.Atoi(a)
			if err != nil {
				return nil, fmt.Errorf("qubit %q", a)
			}
			if q < 0 || q >= n {
				return nil, fmt.Errorf("qubit %d out of range [0,%d)", q, n)
			}
			ops = append(ops, circuit.Op{Kind: circuit.KindMeasure, Qubits: []int{q}, Clbit: q})
		}
		return ops, nil
	}
	if len(args) != nq+np {
		return nil, fmt.Errorf("takes %d qubits and %d parameters, got %d fields", nq, np, len(args))
	}
	qs := make([]int, nq)
	for i := range qs {
		q, err := strconv.Atoi(args[i])
		if err != nil {
			return nil, fmt.Errorf("qubit %q", args[i])
		}
		qs[i] = q
	}
	if nq == 2 && qs[0] == qs[1] {
		return nil, fmt.Errorf("qubit %d used twice", qs[0])
	}
	ps := make([]float64, np)
	for i := range ps {
		v, err := strconv.ParseFloat(args[nq+i], 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("parameter %q is not a finite number", args[nq+i])
		}
		ps[i] = v
	}
	std := func(g string, p ...float64) []circuit.Op {
		return []circuit.Op{{Kind: circuit.KindGate, Name: g, Params: p, Qubits: qs}}
	}
	unitary := func(m []complex128) []circuit.Op {
		return []circuit.Op{{Kind: circuit.KindGate, Name: circuit.UnitaryName, Qubits: qs, Matrix: m}}
	}
	h, is2 := complex(0.5, 0), complex(math.Sqrt2/2, 0)
	switch name {
	case "id1":
		return std("id"), nil
	case "h", "t", "x", "y", "z", "s", "rx", "ry", "rz":
		return std(name, ps...), nil
	case "x_1_2":
		return std("sx"), nil
	case "y_1_2":
		return unitary([]complex128{h + h*1i, -h - h*1i, h + h*1i, h + h*1i}), nil
	case "rxy":
		th, phi := ps[0], ps[1]
		c, s := math.Cos(-phi/2), math.Sin(-phi/2)
		ct, st := math.Cos(th)*s, math.Sin(th)*s
		return unitary([]complex128{complex(c, 0), complex(st, ct), complex(-st, ct), complex(c, 0)}), nil
	case "hz_1_2":
		return unitary([]complex128{h + h*1i, -is2 * 1i, is2, h + h*1i}), nil
	case "id2":
		return unitary(circuit.Identity(4)), nil
	case "cz":
		return std("cz"), nil
	case "cnot", "cx":
		return std("cx"), nil
	case "sw":
		return std("swap"), nil
	case "is":
		return unitary([]complex128{1, 0, 0, 0, 0, 0, 1i, 0, 0, 1i, 0, 0, 0, 0, 0, 1}), nil
	case "fs":
		th, phi := ps[0], ps[1]
		ct, st := complex(math.Cos(th), 0), complex(0, -math.Sin(th))
		return unitary([]complex128{1, 0, 0, 0, 0, ct, st, 0, 0, st, ct, 0, 0, 0, 0, cmplx.Exp(complex(0, -phi))}), nil
	case "cp":
		return unitary([]complex128{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, cmplx.Exp(complex(0, -ps[0]))}), nil
	}
	return nil, fmt.Errorf("unknown gate (qsim's gates: id1 h t x y z x_1_2 y_1_2 rx ry rz rxy hz_1_2 s id2 cz cnot cx sw is fs cp m, and c for controls)")
}
