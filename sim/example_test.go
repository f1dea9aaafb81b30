package sim_test

import (
	"context"
	"fmt"
	"log"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/circuit"
	"github.com/prismai/mec/sim"
)

// Example runs a Bell-pair circuit on the CPU backend: 1000 shots with a
// fixed seed (the same counts on every run and thread count), then one run
// without the measurements to read the exact outcome probabilities.
func Example() {
	ctx := context.Background()
	s := sim.NewWith(cpu.New(cpu.Options{}), sim.Options{
		Precision: backend.Complex128,
		Fuse:      sim.DefaultFuse,
		Seed:      42,
	})

	bell := circuit.New(2)
	bell.Append("h", nil, 0).Append("cx", nil, 0, 1)

	measured := circuit.New(2)
	measured.Ops = append(measured.Ops, bell.Ops...)
	measured.Measure(0, 0).Measure(1, 1)

	r, err := s.Shots(ctx, measured, 1000)
	if err != nil {
		log.Fatal(err)
	}
	counts := r.Counts()
	for _, k := range sim.SortedKeys(counts) {
		fmt.Printf("%s: %d\n", k, counts[k])
	}

	res, err := s.Run(ctx, bell)
	if err != nil {
		log.Fatal(err)
	}
	defer res.State.Free()
	probs, err := backend.Probabilities(res.State, []int{0, 1})
	if err != nil {
		log.Fatal(err)
	}
	for i, p := range probs {
		fmt.Printf("P(%02b) = %.4f\n", i, p)
	}
	// Output:
	// 00: 509
	// 11: 491
	// P(00) = 0.5000
	// P(01) = 0.0000
	// P(10) = 0.0000
	// P(11) = 0.5000
}
