package fusion_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/prismai/mec/backend/cpu"
	"github.com/prismai/mec/fusion"
)

// Example runs a few steps of the built-in fusion scenario (DefaultConfig:
// a six-qubit Ising register from |0…0⟩ coupled to a 64-neuron spiking
// network whose membrane deviations feed back into it) on the CPU backend, which provides all three engines,
// and prints the coherence metrics of each step. The network's seed and the
// CPU backend's deterministic reductions make the run reproducible.
func Example() {
	b := cpu.New(cpu.Options{})
	sys, err := fusion.New(fusion.DefaultConfig(), fusion.Engines{State: b, Spiking: b, Spectral: b})
	if err != nil {
		log.Fatal(err)
	}
	defer sys.Close()

	for range 5 {
		m, _, err := sys.Step(context.Background())
		if err != nil {
			log.Fatal(err) // a failure: the step did not complete
		}
		fmt.Printf("step %d: H_coh %.4f  E_coh %.4f  |Δφ| %.4f  r %.4f  rate %.1f Hz  α %.4f  γ %.4f\n",
			m.Step, m.HCoh, m.ECoh, m.PhaseDiff, m.R, m.RateHz, m.Alpha, m.Gamma)
		// A step that breaks a safety limit still completes; it reports
		// the violation as data in its metrics.
		for _, v := range m.Violations {
			var re *fusion.ResonanceError
			if v.Kind == fusion.Resonance && errors.As(v.Err, &re) {
				fmt.Printf("  |Δφ| over the resonance limit %.4f\n", re.Limit)
			}
		}
	}
	// Output:
	// step 1: H_coh 0.0011  E_coh 0.2518  |Δφ| 0.0005  r 0.9996  rate 15.6 Hz  α 40.0000  γ 0.0300
	// step 2: H_coh 0.0034  E_coh 0.2099  |Δφ| 0.0047  r 0.9987  rate 0.0 Hz  α 40.0000  γ 0.0300
	// step 3: H_coh 0.0060  E_coh 0.1944  |Δφ| 0.0105  r 0.9977  rate 15.6 Hz  α 40.0000  γ 0.0300
	// step 4: H_coh 0.0085  E_coh 0.1936  |Δφ| 0.0137  r 0.9971  rate 31.2 Hz  α 40.0000  γ 0.0300
	// step 5: H_coh 0.0107  E_coh 0.2096  |Δφ| 0.0160  r 0.9966  rate 31.2 Hz  α 40.0000  γ 0.0300
}
