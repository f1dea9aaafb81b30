package snn

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"time"
)

// CUBA returns the CUBA benchmark network (Vogels & Abbott 2005, Brette et
// al. 2007) with exactly the parameters of the Brian2 peer brian2_cuba.py:
// 4000 LIF neurons (3200 excitatory "E", 800 inhibitory "I"; global
// indices as Brian2's: E first), τ_m = 20 ms, V_rest = −49 mV, V_th = −50 mV,
// V_reset = −60 mV, t_ref = 5 ms, V(0) uniform in [V_reset, V_th), exact
// integration at dt = 0.1 ms, connection probability 0.02 from each source to
// each neuron (autapses allowed), excitatory weight 1.62 mV with τ_e = 5 ms,
// inhibitory weight −9 mV with τ_i = 10 ms, no delay.
//
// Brian2's random connectivity cannot be reproduced, so spike trains match
// Brian2's only statistically.
func CUBA(seed uint64) *Network { return CUBAScaled(4000, 0.02, seed) }

// CUBAScaled is the CUBA network with neurons neurons (the first 80%
// excitatory, the rest inhibitory) and connection probability p, all else
// as CUBA: CUBA(seed) is CUBAScaled(4000, 0.02, seed). With p·neurons kept
// near 80 each neuron receives about as many inputs as in CUBA, so the
// activity stays in the same regime; 10^5 neurons with p = 0.001 make the
// 10^7-synapse network of BenchmarkScale (testdata/brian2_scale.py is its
// Brian2 twin).
func CUBAScaled(neurons int, p float64, seed uint64) *Network {
	lif := LIF{TauMMs: 20, VRestMV: -49, VThMV: -50, VResetMV: -60, TRefMs: 5}
	vi := VInit{UniformMV: []float64{-60, -50}}
	ne := neurons * 4 / 5
	n := &Network{DtMs: 0.1, Seed: seed}
	n.AddPopulation(Population{Name: "E", Size: ne, Neuron: lif, TauSynMs: 5, VInit: vi})
	n.AddPopulation(Population{Name: "I", Size: neurons - ne, Neuron: lif, TauSynMs: 10, VInit: vi})
	for _, src := range []string{"E", "I"} {
		w := 1.62
		if src == "I" {
			w = -9
		}
		for _, tgt := range []string{"E", "I"} {
			n.Connect(Projection{From: src, To: tgt, Rule: RuleFixedProbability, P: p, WeightMV: w})
		}
	}
	return n
}

// CUBAResult is the JSON of `mec snn cuba`: the keys of brian2_cuba.py
// (wall_s, sim_loop_s, spikes, mean_rate_hz, mean_cv_isi, frac_active, ...)
// with the same meaning.
type CUBAResult struct {
	// Engine names this implementation (Brian2's script prints "peer").
	Engine string `json:"engine"`
	// Target is "cpu".
	Target string `json:"target"`
	// Threads is the number of goroutines of the neuron update.
	Threads int `json:"threads"`
	// Neurons is the network size.
	Neurons int `json:"neurons"`
	// Synapses is the number of synapses drawn.
	Synapses int `json:"synapses"`
	// DurationS is the simulated biological time in seconds.
	DurationS float64 `json:"duration_s"`
	// Seed is the seed of the network.
	Seed uint64 `json:"seed"`
	// WallS is the wall time of building and running the network, s.
	WallS float64 `json:"wall_s"`
	// SimLoopS is the wall time of the simulation loop alone, s.
	SimLoopS float64 `json:"sim_loop_s"`
	// Spikes is the number of spikes.
	Spikes int `json:"spikes"`
	// MeanRateHz is spikes / neurons / duration.
	MeanRateHz float64 `json:"mean_rate_hz"`
	// MeanCVISI is the mean CV of the ISIs of neurons with ≥ 3 spikes (null
	// when none).
	MeanCVISI *float64 `json:"mean_cv_isi"`
	// FracActive is the fraction of neurons that spiked.
	FracActive float64 `json:"frac_active"`
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// RunCUBA builds CUBA(seed), simulates durationS biological seconds and
// returns the statistics; with spikes non-nil it also writes one
// "index time_ms" line per spike (as brian2_cuba.py --spikes, with this
// engine's end-of-step spike times).
func RunCUBA(durationS float64, seed uint64, opt Options, spikes io.Writer) (*CUBAResult, error) {
	if !finite(durationS) || durationS <= 0 {
		return nil, fmt.Errorf("snn: cuba: duration must be > 0 s, got %v", durationS)
	}
	t0 := time.Now()
	sim, err := CUBA(seed).Build(opt)
	if err != nil {
		return nil, err
	}
	defer sim.Close()
	mon := sim.MonitorSpikes()
	nsteps := int(math.Round(durationS * 1000 / sim.Dt()))
	t1 := time.Now()
	sim.Run(nsteps)
	loop := time.Since(t1).Seconds()
	wall := time.Since(t0).Seconds()
	durMs := float64(nsteps) * sim.Dt()
	st := mon.Stats(durMs)
	res := &CUBAResult{
		Engine: "mec snn", Target: "cpu", Threads: sim.Threads(), Neurons: sim.N(), Synapses: sim.Synapses(),
		DurationS: durationS, Seed: seed, WallS: round3(wall), SimLoopS: loop,
		Spikes: st.Spikes, MeanRateHz: round3(st.MeanRateHz), FracActive: round3(st.FracActive),
	}
	if !math.IsNaN(st.MeanCVISI) {
		cv := round3(st.MeanCVISI)
		res.MeanCVISI = &cv
	}
	if spikes != nil {
		w := bufio.NewWriter(spikes)
		for k := range mon.Index {
			fmt.Fprintf(w, "%d %.1f\n", mon.Index[k], mon.Time(k))
		}
		if err := w.Flush(); err != nil {
			return nil, fmt.Errorf("snn: cuba: writing spikes: %w", err)
		}
	}
	return res, nil
}
