package snn_test

import (
	"fmt"
	"log"

	"github.com/prismai/mec/engines/snn"
)

// Example builds a small seeded network — 20 LIF neurons with a bias just
// below threshold, sparse recurrent excitation and one 200 Hz Poisson input per
// neuron — runs it for 200 ms of biological time and prints a summary of its
// spikes. The seed fixes the connectivity, the initial voltages and the
// Poisson inputs, so the result is the same on every run and thread count.
func Example() {
	lif := snn.LIF{TauMMs: 20, VRestMV: -60, VThMV: -50, VResetMV: -60, TRefMs: 2, IBiasNA: 9}
	net := &snn.Network{DtMs: 0.1, Seed: 7}
	net.AddPopulation(snn.Population{Name: "E", Size: 20, Neuron: lif, TauSynMs: 5,
		VInit: snn.VInit{UniformMV: []float64{-60, -50}}}).
		AddPoisson(snn.PoissonGroup{Name: "in", Size: 20, RateHz: 200, TauSynMs: 5}).
		Connect(snn.Projection{From: "E", To: "E", Rule: snn.RuleFixedProbability, P: 0.2, WeightMV: 0.5, NoAutapses: true}).
		Connect(snn.Projection{From: "in", To: "E", Rule: snn.RuleOneToOne, WeightMV: 3})

	sim, err := net.Build(snn.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer sim.Close()
	mon := sim.MonitorSpikes()
	const ms = 200
	sim.RunFor(ms)

	st := mon.Stats(ms)
	fmt.Printf("neurons %d, synapses %d, t = %.1f ms\n", sim.N(), sim.Synapses(), sim.Time())
	fmt.Printf("spikes %d, mean rate %.4f Hz, active %.4f\n", st.Spikes, st.MeanRateHz, st.FracActive)
	if mon.Len() > 0 {
		fmt.Printf("first spike: neuron %d at %.1f ms\n", mon.Index[0], mon.Time(0))
	}
	// Output:
	// neurons 20, synapses 111, t = 200.0 ms
	// spikes 105, mean rate 26.2500 Hz, active 1.0000
	// first spike: neuron 4 at 9.4 ms
}
