package qasm

import (
	"fmt"

	"github.com/prismai/mec/circuit"
)

// whileLoop handles while (cond) { body } by unrolling: the body is read
// Limits.MaxWhile times, iteration k guarded by a scratch bit g_k = g_{k−1}
// ∧ cond (cond evaluated when the iteration starts, on each shot's own
// bits), and a final check stops the run on a shot whose loop would go on
// past the limit. Two scratch bits per loop serve every iteration (g_k
// overwrites g_{k−2}); results leave them out (circuit.Circuit.Scratch).
// Shots that leave the loop early skip the remaining iterations' ops.
func (p *parser) whileLoop(depth int) error {
	kw := p.next()
	cond, err := p.parenCondition()
	if err != nil {
		return err
	}
	if !p.is("{") {
		return p.errf(p.peek().pos, "a while loop needs a { body }")
	}
	body, err := p.captureBody("a while loop")
	if err != nil {
		return err
	}
	g := [2]int{p.scratchBit(), p.scratchBit()}
	limit := p.st.lim.MaxWhile
	prev := -1
	for k := 0; ; k++ {
		if err := p.tick(kw.pos); err != nil {
			return err
		}
		cur := g[k%2]
		guard := []circuit.Cond{cond}
		if prev >= 0 {
			guard = append(guard, circuit.Cond{Clbits: []int{prev}, Value: 1})
		}
		if err := p.emit(kw.pos,
			circuit.Op{Kind: circuit.KindSet, Clbit: cur},
			circuit.Op{Kind: circuit.KindSet, Clbit: cur, Bit: true, Conds: guard}); err != nil {
			return err
		}
		on := circuit.Cond{Clbits: []int{cur}, Value: 1}
		if k == limit {
			msg := fmt.Sprintf("%s: the while loop at %s ran %d times and would go on: more than the limit of %d iterations (qasm Limits.MaxWhile; raise it with %s)",
				p.fileName(), kw.pos, limit, limit, EnvMaxWhile)
			return p.emit(kw.pos, circuit.Op{Kind: circuit.KindFail, Name: msg, Conds: []circuit.Cond{on}})
		}
		p.st.conds = append(p.st.conds, on)
		sub := &parser{st: p.st, file: p.file, toks: body}
		err := p.scoped(func() error {
			for sub.peek().kind != tEOF {
				if err := sub.statement(depth); err != nil {
					return err
				}
			}
			return nil
		})
		p.st.conds = p.st.conds[:len(p.st.conds)-1]
		if err != nil {
			return err
		}
		prev = cur
	}
}

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
	for i := range c.Ops {
		op := &c.Ops[i]
		if op.Kind == circuit.KindMeasure || op.Kind == circuit.KindSet {
			op.Clbit = to[op.Clbit]
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
