package circuit_test

import (
	"fmt"
	"log"
	"math"

	"github.com/prismai/mec/circuit"
)

// Example builds a three-qubit GHZ circuit, lowers its gate ops to the
// matrices engines execute, fuses them into blocks of at most two qubits
// and applies the blocks to a host state vector.
func Example() {
	c := circuit.New(3)
	c.Append("h", nil, 0).
		Append("cx", nil, 0, 1).
		Append("cx", nil, 1, 2).
		Append("rz", []float64{math.Pi / 2}, 2)
	if err := c.Validate(); err != nil {
		log.Fatal(err)
	}

	// Lower every gate op: cx becomes an x matrix on the target with the
	// control kept as a native control.
	var gates []circuit.Gate
	for i := range c.Ops {
		g, err := c.Ops[i].Lower()
		if err != nil {
			log.Fatal(err)
		}
		gates = append(gates, g)
	}
	fmt.Printf("cx 0,1: targets %v, controls %v\n", gates[1].Targets, gates[1].Controls)

	fused, err := circuit.Fuse(gates, 2)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d gates fuse into %d blocks\n", len(gates), len(fused))
	for _, g := range fused {
		fmt.Printf("  block on targets %v, controls %v\n", g.Targets, g.Controls)
	}

	// The fused blocks apply the same unitary: |000⟩ becomes the GHZ state
	// (with a phase on |111⟩).
	v := make([]complex128, 1<<c.Qubits)
	v[0] = 1
	for i := range fused {
		circuit.ApplyToVector(v, &fused[i])
	}
	for i, a := range v {
		if p := real(a)*real(a) + imag(a)*imag(a); p > 1e-12 {
			fmt.Printf("|%03b⟩ p=%.4f\n", i, p)
		}
	}
	// Output:
	// cx 0,1: targets [1], controls [0]
	// 4 gates fuse into 2 blocks
	//   block on targets [0 1], controls []
	//   block on targets [1 2], controls []
	// |000⟩ p=0.5000
	// |111⟩ p=0.5000
}
