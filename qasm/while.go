package qasm

import (
	"github.com/prismai/mec/circuit"
)

// fileName names the source in messages ("source" for a string).
func (p *parser) fileName() string {
	if p.file == "" {
		return "source"
	}
	return p.file
}

// scratchBit adds a classical bit for the parser's own use.
func (p *parser) scratchBit() int {
	b := p.st.c.Clbits
	p.st.c.Clbits++
	p.st.scratch = append(p.st.scratch, b)
	return b
}

// moveScratch renumbers the classical bits of c so that the scratch bits
// come after the program's own, in order, and records them as scratch.
func moveScratch(c *circuit.Circuit, scratch []int) {
	isScratch := make([]bool, c.Clbits)
	for _, b := range scratch {
		isScratch[b] = true
	}
	to := make([]int, c.Clbits)
	n := 0
	for b := range to {
		if !isScratch[b] {
			to[b] = n
			n++
		}
	}
	for _, b := range scratch {
		to[b] = n
		n++
	}
	seen := map[*circuit.Expr]bool{}
	var renumber func(e *circuit.Expr)
	renumber = func(e *circuit.Expr) {
		if e == nil || seen[e] {
			return
		}
		seen[e] = true
		if e.Bits != nil {
			// Expressions may share bit slices: renumber a copy.
			nb := make([]int, len(e.Bits))
			for k, b := range e.Bits {
				nb[k] = to[b]
			}
			e.Bits = nb
		}
		for _, a := range e.Args {
			renumber(a)
		}
	}
	for i := range c.Ops {
		op := &c.Ops[i]
		if op.Kind == circuit.KindMeasure || op.Kind == circuit.KindSet || op.Kind == circuit.KindReadout {
			op.Clbit = to[op.Clbit]
		}
		if op.Dest != nil {
			nd := make([]int, len(op.Dest))
			for k, b := range op.Dest {
				nd[k] = to[b]
			}
			op.Dest = nd
		}
		renumber(op.Expr)
		for _, e := range op.ParamExprs {
			renumber(e)
		}
		for j := range op.Conds {
			// Ops may share a condition's bit slice: renumber a copy.
			cb := make([]int, len(op.Conds[j].Clbits))
			for k, b := range op.Conds[j].Clbits {
				cb[k] = to[b]
			}
			op.Conds[j].Clbits = cb
		}
	}
	for i := range c.Cregs {
		for j, b := range c.Cregs[i].Bits {
			c.Cregs[i].Bits[j] = to[b]
		}
	}
	c.Scratch = len(scratch)
}
