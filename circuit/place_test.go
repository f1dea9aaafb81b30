package circuit_test

import (
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"github.com/prismai/mec/backend/backendtest"
	"github.com/prismai/mec/circuit"
)

// TestAvoidLow checks that the relabelled sequence has the same effect as
// the original (1e-12) and that no dense multi-target gate touches a low
// qubit when a free high one exists.
func TestAvoidLow(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for trial := 0; trial < 40; trial++ {
		n := 3 + rng.IntN(7)
		low := 1 + rng.IntN(2)
		var gates []circuit.Gate
		for i := 0; i < 30; i++ {
			gates = append(gates, backendtest.RandomGate(rng, n))
		}
		if trial%2 == 0 {
			var err error
			if gates, err = circuit.Fuse(gates, 3); err != nil {
				t.Fatal(err)
			}
		}
		out := circuit.AvoidLow(gates, n, low)
		v := backendtest.RandomState(rng, n)
		w := append([]complex128(nil), v...)
		for i := range gates {
			circuit.ApplyToVector(v, &gates[i])
		}
		swaps := 0
		for i := range out {
			g := &out[i]
			if circuit.IsSwap(g) {
				swaps++
			} else if !g.Diagonal && len(g.Targets) >= 2 && n-low >= len(g.Targets)+len(g.Controls)+len(g.NegControls) {
				for _, q := range append(append(append([]int(nil), g.Targets...), g.Controls...), g.NegControls...) {
					if q < low {
						t.Fatalf("trial %d: dense gate %d touches low qubit %d: %+v", trial, i, q, g)
					}
				}
			}
			circuit.ApplyToVector(w, g)
		}
		for i := range v {
			if cmplx.Abs(v[i]-w[i]) > 1e-12 {
				t.Fatalf("trial %d (n=%d, low=%d, %d swaps): amplitude %d differs: %v vs %v", trial, n, low, swaps, i, v[i], w[i])
			}
		}
	}
	// Nothing to do: the input comes back unchanged.
	g := []circuit.Gate{{Targets: []int{0}, Matrix: []complex128{0, 1, 1, 0}}}
	if out := circuit.AvoidLow(g, 5, 2); len(out) != 1 {
		t.Errorf("1-qubit gate rewritten: %+v", out)
	}
}
