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
// a six-qubit transverse-field Ising register coupled to a 64-neuron
// spiking network) on the CPU backend, which provides all three engines,
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
	// step 1: H_coh 0.9990  E_coh 1.6275  |Δφ| 0.3465  r 0.9941  rate 562.5 Hz  α 44.0000  γ 0.0450
	// step 2: H_coh 0.9975  E_coh 1.9390  |Δφ| 0.2130  r 0.9773  rate 437.5 Hz  α 48.4000  γ 0.0405
	// step 3: H_coh 0.9956  E_coh 1.0000  |Δφ| 0.0000  r 0.9506  rate 0.0 Hz  α 53.2400  γ 0.0365
	// step 4: H_coh 0.9910  E_coh 1.0000  |Δφ| 0.0000  r 0.9180  rate 0.0 Hz  α 58.5640  γ 0.0328
	// step 5: H_coh 0.9821  E_coh 2.4747  |Δφ| 1.5321  r 0.8854  rate 421.9 Hz  α 64.4204  γ 0.0295
	//   |Δφ| over the resonance limit 0.7854
}
