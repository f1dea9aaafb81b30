package evolve_test

import (
	"context"
	"fmt"
	"log"
	"math"

	_ "github.com/prismai/mec/backend/cpu" // the CPU backend runs the Trotter circuit
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/evolve"
)

// round4 rounds to 4 decimals, without a negative zero, for stable output.
func round4(x float64) float64 {
	r := math.Round(x*1e4) / 1e4
	if r == 0 {
		return 0
	}
	return r
}

// Example evolves |00⟩ under the two-qubit Hamiltonian H = XX + 0.5·ZI for
// t = π/4 (ħ = 1), exactly (Chebyshev) and with a second-order Trotter
// circuit on the CPU backend, and prints the amplitudes and probabilities.
func Example() {
	h, err := circuit.ParsePauliSum("XX + 0.5*ZI")
	if err != nil {
		log.Fatal(err)
	}
	spec := &evolve.Spec{Qubits: 2, Terms: h, T: math.Pi / 4}
	ctx := context.Background()

	exact, err := evolve.Run(ctx, spec, evolve.Options{})
	if err != nil {
		log.Fatal(err)
	}
	trot, err := evolve.Run(ctx, spec, evolve.Options{Method: "trotter", Steps: 200, Order: 2, Backend: "cpu"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(exact.Method, "vs", trot.Method)
	for i := range exact.Amplitudes {
		a, b := exact.Amplitudes[i], trot.Amplitudes[i]
		fmt.Printf("|%02b⟩ exact %+.4f%+.4fi p=%.4f  trotter p=%.4f\n", i,
			round4(a[0]), round4(a[1]), round4(a[0]*a[0]+a[1]*a[1]), round4(b[0]*b[0]+b[1]*b[1]))
	}
	// Output:
	// exact-chebyshev vs trotter
	// |00⟩ exact +0.6386-0.3441i p=0.5263  trotter p=0.5263
	// |01⟩ exact +0.0000+0.0000i p=0.0000  trotter p=0.0000
	// |10⟩ exact +0.0000+0.0000i p=0.0000  trotter p=0.0000
	// |11⟩ exact +0.0000-0.6883i p=0.4737  trotter p=0.4737
}
