// Package simtest holds the simulator helpers that only tests use: the
// reference state vector of a circuit on the CPU backend, a circuit's
// unitary on the host, exact outcome paths and χ² tests. It keeps the
// sim package free of any concrete backend (sim runs on whichever
// backend.StateVector it is given) and out of the mec binary.
//
// Layer: test tooling. It may import backend, backend/cpu, circuit and
// sim; nothing in the mec binary imports it.
package simtest

import (
	"context"
	"fmt"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/sim"
)

// StateVector runs c on the CPU backend in complex128 from |0…0⟩ without
// fusion and returns the amplitudes (measurements collapse with seed 0).
func StateVector(c *circuit.Circuit) ([]complex128, error) {
	s := sim.NewWith(cpu.New(cpu.Options{}), sim.Options{Precision: backend.Complex128})
	res, err := s.Run(context.Background(), c)
	if err != nil {
		return nil, err
	}
	defer res.State.Free()
	out := make([]complex128, 1<<uint(c.Qubits))
	return out, res.State.Read(out)
}

// Unitary returns the matrix of c's gates on the host (d×d row-major,
// d = 2^qubits, column j the image of |j⟩), applying each lowered gate to
// every basis vector; c must have gates only.
func Unitary(c *circuit.Circuit) ([]complex128, error) {
	gates := make([]circuit.Gate, len(c.Ops))
	for i := range c.Ops {
		if c.Ops[i].Kind != circuit.KindGate {
			return nil, fmt.Errorf("simtest: op %d is a %s, not a gate", i, c.Ops[i].Kind)
		}
		g, err := c.Ops[i].Lower()
		if err != nil {
			return nil, err
		}
		gates[i] = g
	}
	d := 1 << uint(c.Qubits)
	u := make([]complex128, d*d)
	v := make([]complex128, d)
	for col := 0; col < d; col++ {
		clear(v)
		v[col] = 1
		for i := range gates {
			circuit.ApplyToVector(v, &gates[i])
		}
		for r := range v {
			u[r*d+col] = v[r]
		}
	}
	return u, nil
}
