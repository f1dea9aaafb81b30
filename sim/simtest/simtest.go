// Package simtest holds the simulator helpers that only tests use: the
// reference state vector of a circuit on the CPU backend. It keeps the
// sim package free of any concrete backend (sim runs on whichever
// backend.StateVector it is given) and out of the mec binary.
package simtest

import (
	"context"

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
